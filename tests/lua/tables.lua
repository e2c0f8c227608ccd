-- Tables growing and shrinking: array and hash parts, removal, rehash,
-- table.insert/remove/move/sort/concat, and big arrays (blocks of their
-- own in the allocator) resized many times.  Deterministic output.

local function checksum(t, n)
  local s = 0
  for i = 1, n do s = (s * 31 + (t[i] or 0)) % 1000000007 end
  return s
end

-- an array part growing by doubling up to 2^20 slots, then shrunk by a rehash
local t = {}
for i = 1, 1 << 20 do t[i] = i end
print("array", #t, checksum(t, #t))
for i = #t, 17, -1 do t[i] = nil end
t.x = 1                       -- a hash insertion: the rehash sizes the array for 16
for i = 17, 40 do t[i] = i * 2 end
print("after shrink", #t, checksum(t, #t), t.x)

-- a hash part growing, emptied, refilled with other keys
local h = {}
for i = 1, 100000 do h["k" .. i] = i end
local n, sum = 0, 0
for k, v in pairs(h) do n = n + 1; sum = sum + v end
print("hash", n, sum)
for i = 1, 100000, 2 do h["k" .. i] = nil end
n, sum = 0, 0
for _, v in pairs(h) do n = n + 1; sum = sum + v end
print("hash half", n, sum)
for i = 1, 1000 do h[i + 0.5] = i end          -- float keys force rehashes
for i = 2, 100000, 2 do h["k" .. i] = nil end
n, sum = 0, 0
for _, v in pairs(h) do n = n + 1; sum = sum + v end
print("hash refilled", n, sum)

-- many small tables of every shape, most dropped at once
local keep = {}
for i = 1, 100000 do
  local s = { i, i + 1, name = "n" .. (i % 97), [i % 13 + 100] = i }
  if i % 10 == 0 then keep[#keep + 1] = s end
end
collectgarbage()
local acc = 0
for _, s in ipairs(keep) do acc = acc + s[1] + s[2] + #s.name end
print("small tables", #keep, acc)

-- insert and remove at the front and in the middle
local q = {}
for i = 1, 3000 do table.insert(q, 1, i) end
for i = 1, 1000 do table.remove(q, 1 + (i * 7) % #q) end
print("insert/remove", #q, checksum(q, #q))
for i = 1, #q do q[#q] = nil end
print("drained", #q, next(q))

-- move, sort, concat, unpack on a big table
local a = {}
for i = 1, 100000 do a[i] = (i * 7919) % 100003 end
table.sort(a)
local b = table.move(a, 1, #a, 5, {})
print("sorted", a[1], a[#a], #b, b[5], b[#b])
local parts = {}
for i = 1, 1000 do parts[i] = tostring(a[i * 100]) end
local joined = table.concat(parts, ",")
print("concat", #joined, joined:sub(1, 30))
print("unpack", select("#", table.unpack(a, 1, 200)))

-- nested tables (a tree) built and freed level by level
local function build(d)
  if d == 0 then return { 0 } end
  return { build(d - 1), build(d - 1), d }
end
local function count(node)
  if node[3] == nil then return 1 end
  return 1 + count(node[1]) + count(node[2])
end
for d = 10, 15, 5 do print("tree", d, count(build(d))) end
collectgarbage()
print("done")
