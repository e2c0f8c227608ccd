-- binary-trees.lua DEPTH: the binary-trees workload in Lua (a stretch tree
-- of DEPTH+1, a long-lived tree of DEPTH, then 2^(DEPTH-d+4) trees of each
-- depth d from 4 to DEPTH, step 2, built and walked).  Each node is a
-- table of two children; every tree is garbage once walked.
-- DEPTH 14 takes about 1 s under rgn-lua (x86-64, 2023-era core).
-- Output: one line per depth and a last checksum line, the same under
-- every allocator.

local depth = math.max(6, math.tointeger(tonumber(arg[1]) or 14) or 14)
local mindepth = 4

local function make(d)
  if d == 0 then return {} end
  d = d - 1
  return { make(d), make(d) }
end

local function check(t)
  local l = t[1]
  if l then return 1 + check(l) + check(t[2]) end
  return 1
end

local sum = 0
local stretch = check(make(depth + 1))
print(("stretch tree of depth %d\t check: %d"):format(depth + 1, stretch))
sum = sum + stretch

local long = make(depth)
for d = mindepth, depth, 2 do
  local iters = 1 << (depth - d + mindepth)
  local c = 0
  for _ = 1, iters do c = c + check(make(d)) end
  print(("%d\t trees of depth %d\t check: %d"):format(iters, d, c))
  sum = sum + c
end
local lc = check(long)
print(("long lived tree of depth %d\t check: %d"):format(depth, lc))
sum = sum + lc
print(("checksum %d"):format(sum))
