-- Strings: concatenation in loops, table.concat, string.rep, gsub,
-- format, byte/char, long strings (blocks of their own) built by doubling.
-- Deterministic output.

local function hash(s)
  local h = 0
  for i = 1, #s, 97 do h = (h * 31 + s:byte(i)) % 1000000007 end
  return h
end

-- concatenation: each step makes a new, longer string
local s = ""
for i = 1, 20000 do s = s .. (i % 10) end
print("concat loop", #s, hash(s))

-- doubling up to 32 MiB
local d = "ab"
for _ = 1, 24 do d = d .. d end
print("doubling", #d, hash(d))
d = nil
collectgarbage()

-- table.concat of many pieces, with and without a separator
local parts = {}
for i = 1, 200000 do parts[i] = tostring(i) end
local joined = table.concat(parts)
local csv = table.concat(parts, ",")
print("table.concat", #joined, hash(joined), #csv, hash(csv))

-- string.rep, with a separator, large and small
print("rep", #string.rep("xyz", 1000000), #string.rep("a", 100000, "--"),
      string.rep("ab", 3, "|"), string.rep("x", 0) == "")

-- gsub with strings, tables, functions and patterns
local text = string.rep("the quick brown fox jumps over the lazy dog ", 8000)
local upper, n1 = text:gsub("%w+", string.upper)
local swapped, n2 = text:gsub("(%w+) (%w+)", "%2 %1")
local mapped, n3 = text:gsub("o", { o = "0" })
print("gsub", n1, hash(upper), n2, hash(swapped), n3, hash(mapped))
local words = 0
for _ in text:gmatch("%a+") do words = words + 1 end
print("gmatch", words)

-- format: numbers, strings, %q, long results
local fmt = {}
for i = 1, 20000 do
  fmt[#fmt + 1] = string.format("%5d|%-8s|%08.3f|%x|%q", i, "k" .. i, i / 7, i * 3, "a\n" .. i)
end
local f = table.concat(fmt, "\n")
print("format", #f, hash(f), fmt[12345])
print(string.format("%s %10.4f %-5s| %g %i %c", "x", math.pi, "ab", 1e20, -42, 65))

-- byte, char, reverse, sub, upper/lower, find on many short strings
local acc = 0
for i = 1, 100000 do
  local w = string.char(97 + i % 26, 97 + (i // 26) % 26, 48 + i % 10)
  local r = w:reverse():upper()
  acc = (acc + r:byte(1) * 7 + #w:sub(2) + (w:find("%d") or 0)) % 1000000007
end
print("short strings", acc)

-- many distinct short strings (the string table grows, then shrinks in a GC)
local keep = {}
for i = 1, 150000 do keep[i] = "s" .. i end
print("interned", #keep, keep[150000])
keep = nil
collectgarbage()
collectgarbage()

-- utf8 and string.pack
local u = {}
for i = 1, 5000 do u[i] = utf8.char(0x400 + i % 1000, 0x4e00 + i) end
local us = table.concat(u)
print("utf8", #us, utf8.len(us), hash(us))
local packed = {}
for i = 1, 10000 do packed[i] = string.pack("<i4d s2", i, i / 2, "v" .. i) end
local p = table.concat(packed)
local a, b, c = string.unpack("<i4d s2", packed[777])
print("pack", #p, hash(p), a, b, c)
print("done")
