-- Coroutines: many alive at once (a stack each), wrapped, finished
-- (dead) and dropped, errors inside, coroutine.close, deep yields.
-- Deterministic output.

-- many coroutines alive, resumed round-robin
local cos = {}
for i = 1, 5000 do
  cos[i] = coroutine.create(function(a)
    local s = a
    for k = 1, 5 do s = s + coroutine.yield(s) + k end
    return s
  end)
end
local total = 0
for round = 1, 7 do
  for i = 1, #cos do
    local ok, v = coroutine.resume(cos[i], round == 1 and i or round)
    if ok and v then total = total + v end
  end
end
local dead = 0
for i = 1, #cos do if coroutine.status(cos[i]) == "dead" then dead = dead + 1 end end
print("round robin", total, dead)
cos = nil
collectgarbage()

-- wrapped generators
local function range(n)
  return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
end
local s = 0
for i in range(100000) do s = s + i end
print("generator", s)

-- producer / filter / consumer pipeline
local function producer(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(string.rep("x", i % 50) .. i) end
  end)
end
local function filter(src)
  return coroutine.wrap(function()
    for v in src do if #v % 3 == 0 then coroutine.yield(v:upper()) end end
  end)
end
local cnt, len = 0, 0
for v in filter(producer(50000)) do cnt = cnt + 1; len = len + #v end
print("pipeline", cnt, len)

-- short-lived coroutines, left suspended or dead, as garbage
local made = 0
for i = 1, 100000 do
  local co = coroutine.create(function(x) coroutine.yield(x * 2); return x end)
  local _, v = coroutine.resume(co, i)
  if i % 2 == 0 then coroutine.resume(co) end
  made = made + v
end
print("short-lived", made)

-- errors inside coroutines, and close
local errs = 0
for i = 1, 1000 do
  local co = coroutine.create(function() coroutine.yield(); error("e" .. i) end)
  coroutine.resume(co)
  local ok, msg = coroutine.resume(co)
  if not ok and msg:match("e" .. i .. "$") then errs = errs + 1 end
end
print("errors", errs)
local co = coroutine.create(function() local t <close> = setmetatable({}, { __close = function() print("closed var") end }) coroutine.yield(1) end)
coroutine.resume(co)
print("close", coroutine.close(co), coroutine.status(co))

-- deep recursion inside a coroutine (its stack grows and is reallocated)
local deep = coroutine.wrap(function()
  local function r(n) if n == 0 then coroutine.yield("bottom") return 0 end return 1 + r(n - 1) end
  return r(100000)
end)
print("deep", deep(), deep())

-- yield across pcall
local pc = coroutine.wrap(function()
  local ok, e = pcall(function() coroutine.yield("in pcall"); error("after") end)
  return tostring(ok) .. " " .. e:match("after")
end)
print("pcall", pc(), pc())
print("running", coroutine.isyieldable(), select(2, coroutine.running()))
collectgarbage()
print("done")
