-- tables.lua SCALE: table-heavy work in Lua: arrays grown by appending
-- and shrunk by a rehash, hash tables with string and integer keys filled
-- and emptied, small records (objects) made and dropped, a queue moving
-- through an array, and table.sort/insert/remove.
-- SCALE 1 takes about 1 s under rgn-lua; the work grows linearly.
-- Output: one checksum line, the same under every allocator.

local scale = tonumber(arg[1]) or 1
local rounds = math.max(1, math.floor(6 * scale + 0.5))

local h = 0
local function mix(x) h = (h * 31 + x) % 4294967296 end

for r = 1, rounds do
  -- an array appended to, then most of it removed and the rest rehashed
  local a = {}
  for i = 1, 50000 do a[#a + 1] = i * r end
  for i = #a, 101, -1 do a[i] = nil end
  a.tag = r
  mix(#a + a[100])

  -- records: many small tables with a hash part, most dropped
  local keep = {}
  for i = 1, 40000 do
    local rec = { id = i, name = "n" .. (i % 1000), x = i * 0.5, y = r, tags = { i % 7, i % 11 } }
    if i % 8 == 0 then keep[#keep + 1] = rec end
  end
  local s = 0
  for _, rec in ipairs(keep) do s = s + rec.id + rec.tags[1] + #rec.name end
  mix(s % 1000000007)

  -- a hash table with string keys: filled, half emptied, refilled
  local map = {}
  for i = 1, 20000 do map["key" .. (i * 7 % 20011)] = i end
  for i = 1, 20000, 2 do map["key" .. (i * 7 % 20011)] = nil end
  for i = 1, 5000 do map[i] = i end
  local n = 0
  for _ in pairs(map) do n = n + 1 end
  mix(n)

  -- a queue through an array: push at the end, pop at the front
  local q, head = {}, 1
  for i = 1, 30000 do
    q[#q + 1] = { i }
    if i % 3 ~= 0 then q[head] = nil; head = head + 1 end
  end
  mix(#q - head)

  -- sort, insert and remove in the middle
  local v = {}
  for i = 1, 5000 do v[i] = (i * 7919 + r) % 10007 end
  table.sort(v)
  for i = 1, 500 do table.insert(v, 1 + i * 3, i) end
  for i = 1, 500 do table.remove(v, 1 + i * 2) end
  mix(v[1] + v[#v] + #v)
end
print(("tables rounds=%d checksum=%d"):format(rounds, h))
