-- The command line as a script sees it: `arg` (script name at 0, its
-- arguments above, the interpreter and its options below) and `...`.
-- The interpreter's own path (the lowest index) differs between
-- interpreters: tests/check-lua.sh replaces it before comparing.
local lo, hi = 0, #arg
while arg[lo - 1] ~= nil do lo = lo - 1 end
for i = lo, hi do print("arg[" .. i .. "]", arg[i]) end
print("n...", select("#", ...), ...)
