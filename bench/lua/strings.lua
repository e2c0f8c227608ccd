-- strings.lua SCALE: string-heavy work in Lua: building strings by
-- concatenation and table.concat, string.format, gsub with captures and
-- functions, string.rep, splitting with gmatch, and a word-count table
-- keyed by strings; short strings are interned, long ones are blocks of
-- their own, and nearly all become garbage at once.
-- SCALE 1 takes about 1 s under rgn-lua; the work grows linearly.
-- Output: one checksum line, the same under every allocator.

local scale = tonumber(arg[1]) or 1
local rounds = math.max(1, math.floor(120 * scale + 0.5))

local function mix(h, s)
  for i = 1, #s, 61 do h = (h * 33 + s:byte(i)) % 4294967296 end
  return (h + #s) % 4294967296
end

local words = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
                "iota", "kappa", "lambda", "mu" }
local h = 5381
for r = 1, rounds do
  -- a document of lines, built from formatted pieces
  local lines = {}
  for i = 1, 1000 do
    local w1, w2 = words[(i + r) % #words + 1], words[(i * 7 + r) % #words + 1]
    lines[i] = ("%05d %s %s %d.%02d %s"):format(i, w1, w2:upper(), i * r % 1000, i % 100,
                                              w1:rep(1 + i % 3, "-"))
  end
  local doc = table.concat(lines, "\n")
  -- rewrite it: swap words, number arithmetic in a function, escapes
  local swapped = doc:gsub("(%a+) (%u+)", "%2 %1")
  local bumped = swapped:gsub("(%d+)%.(%d+)", function(a, b) return tostring(a + b) end)
  local quoted = ("%q"):format(bumped:sub(1, 4000))
  -- count words into a table keyed by string
  local counts = {}
  for w in bumped:gmatch("%a+") do counts[w] = (counts[w] or 0) + 1 end
  local keys = {}
  for k in pairs(counts) do keys[#keys + 1] = k end
  table.sort(keys)
  local summary = {}
  for i, k in ipairs(keys) do summary[i] = k .. "=" .. counts[k] end
  -- a string grown piece by piece (each step a new string)
  local acc = ""
  for i = 1, 300 do acc = acc .. words[i % #words + 1] .. i end
  h = mix(h, doc)
  h = mix(h, bumped)
  h = mix(h, quoted)
  h = mix(h, table.concat(summary, ","))
  h = mix(h, acc)
end
print(("strings rounds=%d checksum=%d"):format(rounds, h))
