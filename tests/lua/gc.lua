-- collectgarbage in every mode: collect, step, incremental and
-- generational (switching back and forth, with parameters), count,
-- stop/restart, isrunning; garbage made in each.  Deterministic output:
-- counts are compared, not printed.

local function garbage(n)
  local t
  for i = 1, n do t = { i, tostring(i), { i } } end
  return t
end

print("isrunning", collectgarbage("isrunning"))
-- the interpreter starts in generational mode
print("to incremental from", collectgarbage("incremental"))
print("to incremental again from", collectgarbage("incremental", 150, 300, 12))
garbage(100000)

local before = collectgarbage("count")
local big = {}
for i = 1, 100000 do big[i] = { i } end
local grown = collectgarbage("count")
big = nil
print("collect returns", collectgarbage("collect"))
local after = collectgarbage("count")
print("count", type(before), grown > before + 1000, after < grown - 1000)

-- stop: nothing is collected while stopped, even with garbage made
collectgarbage("stop")
print("isrunning after stop", collectgarbage("isrunning"))
local c0 = collectgarbage("count")
garbage(50000)
local c1 = collectgarbage("count")
print("stopped grows", c1 > c0 + 1000)
collectgarbage("restart")
print("isrunning after restart", collectgarbage("isrunning"))

-- steps until a cycle ends (a step of 0 is one basic step)
collectgarbage("collect")
garbage(20000)
local steps = 0
repeat steps = steps + 1 until collectgarbage("step", 0) or steps > 1000000
print("steps end a cycle", steps <= 1000000)
print("big step", collectgarbage("step", 100000))

-- generational, with parameters, garbage, then back
print("to generational from", collectgarbage("generational", 20, 100))
print("to generational again from", collectgarbage("generational"))
for _ = 1, 10 do garbage(20000) end
local keep = {}
for i = 1, 20000 do keep[i] = { i } end       -- survives into the old generation
for _ = 1, 5 do garbage(20000); collectgarbage("step", 0) end
local s = 0
for i = 1, #keep do s = s + keep[i][1] end
print("old survivors", s)
print("collect in generational", collectgarbage())
print("to incremental from", collectgarbage("incremental"))
for _ = 1, 10 do garbage(20000) end

-- the old options still answer (setpause, setstepmul)
print("setpause", type(collectgarbage("setpause", 150)))
print("setstepmul", type(collectgarbage("setstepmul", 200)))
collectgarbage("setpause", 200)
collectgarbage("setstepmul", 100)

-- a collection per iteration while building
local t = {}
for i = 1, 200 do t[i] = string.rep("x", i); collectgarbage("step", 10) end
print("built under steps", #t, #t[200])
print("back to generational from", collectgarbage("generational"))
print("isrunning at end", collectgarbage("isrunning"))
print("done")
