-- Running out of memory: each round allocates until the allocator fails
-- (rgn-lua in a small space, RGN_SPACE=16M; lua5.4 and RGN_LUA_ALLOC=libc
-- under a `ulimit -v`), pcall catches "not enough memory", the garbage
-- goes, and the next round must find the memory again.  Rounds differ in
-- shape: one string doubling (large blocks), small strings, small tables.
-- Deterministic output.
-- arg[1]: the most bytes a round may take before it counts as a failure
-- (default 1 GiB).

local limit = tonumber(arg and arg[1]) or 2 ^ 30

local function round(shape)
  local t = {}
  local bytes = 0
  local ok, err = pcall(function()
    local i = 0
    while bytes < limit do
      i = i + 1
      if shape == "strings" then
        t[i] = string.rep("s", 100) .. i
        bytes = bytes + 120
      elseif shape == "tables" then
        t[i] = { i, i + 1, i + 2, x = i }
        bytes = bytes + 100
      else
        t[1] = (t[1] or "d") .. (t[1] or "d")
        bytes = #t[1]
      end
    end
  end)
  local many = (#t > 1000 or (t[1] and #t[1] > 1000000)) and "yes" or "no"
  return ok, err, many
end

-- (the doubling round first: a heap region keeps the pages of its small
-- classes once they are cut, so after a round of small objects a 16 MiB
-- space has no room left for a span of several MiB)
for _, shape in ipairs({ "doubling", "strings", "tables", "strings", "tables" }) do
  local ok, err, many = round(shape)
  print(shape, ok, err, "allocated a lot:", many)
  collectgarbage()
  collectgarbage()
end

-- the memory is back: ordinary work goes on (objects of the sizes above)
local parts = {}
for i = 1, 1000 do parts[i] = ("%d"):format(i) end
print("after", #table.concat(parts, ","))
print("done")
