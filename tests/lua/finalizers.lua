-- Finalizers (__gc): order within a collection (reverse order of being
-- marked for finalization), resurrection, errors inside a finalizer
-- (a warning, not an error), finalizers that allocate, and those left
-- for lua_close.  Deterministic output: the collector is stopped while
-- objects are made, so that each full collection below finds them all
-- (when an automatic cycle runs depends on the interpreter's own
-- allocations, its path in `arg` included).

collectgarbage("incremental")
collectgarbage("stop")

local log = {}
local function obj(name)
  return setmetatable({ name = name }, { __gc = function(o) log[#log + 1] = o.name end })
end

for i = 1, 5 do obj("a" .. i) end
collectgarbage()
print("first cycle", table.concat(log, " "))

-- many finalized objects, all run
log = {}
for i = 1, 10000 do obj(i) end
collectgarbage()
collectgarbage()
local lsum = 0
for _, v in ipairs(log) do lsum = lsum + v end
print("many", #log, lsum)

-- resurrection: the finalizer stores the object; it lives on, and is
-- not finalized a second time
local saved
do
  setmetatable({ v = 42 }, { __gc = function(o) saved = o end })
end
collectgarbage()
print("resurrected", saved and saved.v)
saved = nil
collectgarbage()
print("second collection", saved)

-- finalizers that allocate (tables, strings, closures)
local made = {}
for i = 1, 1000 do
  setmetatable({}, { __gc = function()
    made[#made + 1] = string.rep("z", i % 10) .. tostring(i)
    local t = {}
    for k = 1, 10 do t[k] = function() return k end end
  end })
end
collectgarbage()
collectgarbage()
print("allocating finalizers", #made)

-- an error in a finalizer is a warning (off here), not an error
setmetatable({}, { __gc = function() error("in gc") end })
collectgarbage()
print("survived error in __gc")

-- __gc set after creation does not count; a field set before does
local late = setmetatable({}, {})
getmetatable(late).__gc = function() print("never") end
late = nil
local mt = { __gc = true }
local early = setmetatable({}, mt)
mt.__gc = function() print("early finalized") end
early = nil
collectgarbage()

-- left for lua_close: run in reverse order of marking when the state closes
obj_at_close = setmetatable({}, { __gc = function() print("finalized at close 1") end })
obj_at_close2 = setmetatable({}, { __gc = function() print("finalized at close 2") end })
collectgarbage("restart")
print("done")
