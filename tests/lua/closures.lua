-- Closures and upvalues: counters, shared and closed upvalues, closures
-- made in loops and dropped, deep recursion through closures, varargs.
-- Deterministic output.

local function counter(start)
  local n = start
  return function(k) n = n + (k or 1); return n end, function() return n end
end

local incs, gets = {}, {}
for i = 1, 10000 do incs[i], gets[i] = counter(i) end
local total = 0
for i = 1, 10000 do incs[i](i); total = total + gets[i]() end
print("counters", total)

-- one upvalue shared by closures made in the same scope
local function pair()
  local shared = 0
  return function() shared = shared + 1 end, function() return shared end
end
local bump, read = pair()
for _ = 1, 1000 do bump() end
print("shared", read())

-- each loop iteration has its own upvalue
local fs = {}
for i = 1, 1000 do fs[i] = function() return i * i end end
local s = 0
for i = 1, 1000 do s = s + fs[i]() end
print("per-iteration", s)

-- many short-lived closures (garbage)
local acc = 0
for i = 1, 300000 do
  local f = function(x) return x + i end
  acc = (acc + f(i)) % 1000000007
end
print("short-lived", acc)

-- closures capturing closures, composed deeply
local function compose(f, g) return function(x) return f(g(x)) end end
local h = function(x) return x end
for i = 1, 200 do
  local k = i
  h = compose(function(x) return (x + k) % 1000003 end, h)
end
print("composed", h(1), h(2))

-- recursion and varargs
local function sum(...)
  local n = select("#", ...)
  if n == 0 then return 0 end
  local first = ...
  return first + sum(select(2, ...))
end
print("varargs", sum(table.unpack((function() local t = {} for i = 1, 150 do t[i] = i end return t end)())))

local function fib_memo()
  local memo = {}
  local function fib(n)
    if n < 2 then return n end
    local v = memo[n]
    if v then return v end
    v = fib(n - 1) + fib(n - 2)
    memo[n] = v
    return v
  end
  return fib
end
print("memo", fib_memo()(90))

-- upvalues closed while coroutine stacks are alive
local gens = {}
for i = 1, 100 do
  local x = i
  gens[i] = coroutine.wrap(function() while true do x = x + 1; coroutine.yield(x) end end)
end
local g = 0
for _ = 1, 10 do for i = 1, 100 do g = g + gens[i]() end end
print("closed in coroutines", g)
collectgarbage()
print("done")
