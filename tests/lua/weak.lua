-- Weak tables: weak keys (ephemerons), weak values, both; entries go
-- after a full collection when their objects are unreachable, and stay
-- while reachable.  Deterministic output (entries counted, not listed).

local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end

for _, mode in ipairs({ "incremental", "generational" }) do
  collectgarbage(mode)
  local wk = setmetatable({}, { __mode = "k" })
  local wv = setmetatable({}, { __mode = "v" })
  local wkv = setmetatable({}, { __mode = "kv" })
  local strong = {}
  for i = 1, 10000 do
    local k, v = {}, { i }
    wk[k] = i
    wv[i] = v
    wkv[k] = v
    if i % 4 == 0 then strong[#strong + 1] = k; strong[#strong + 1] = v end
  end
  -- values that are strings or numbers never go
  for i = 1, 100 do wv["s" .. i] = "str" .. i; wk["key" .. i] = i end
  collectgarbage()
  collectgarbage()
  print(mode, "k", count(wk), "v", count(wv), "kv", count(wkv))
  strong = nil
  collectgarbage()
  collectgarbage()
  print(mode, "after dropping", count(wk), count(wv), count(wkv))
end
collectgarbage("incremental")

-- ephemerons: a value that refers back to its own key does not keep it
local eph = setmetatable({}, { __mode = "k" })
local chain = {}
for i = 1, 1000 do
  local k = {}
  eph[k] = { k, i }
  if i % 10 == 0 then chain[#chain + 1] = k end
end
collectgarbage()
print("ephemerons", count(eph))
chain = nil
collectgarbage()
print("ephemerons dropped", count(eph))

-- a cache with weak values refilled while collections run
local cache = setmetatable({}, { __mode = "v" })
local hits, misses = 0, 0
local pinned = {}
for round = 1, 5 do
  for i = 1, 2000 do
    local v = cache[i]
    if v then hits = hits + 1 else misses = misses + 1; v = { i }; cache[i] = v end
    if i <= 500 then pinned[i] = v end
  end
  collectgarbage()
end
print("cache", hits, misses, count(cache))
print("done")
