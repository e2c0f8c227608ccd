#!/usr/bin/env bash
# check-lua.sh RGN_LUA - run the Lua programs in tests/lua under rgn-lua
# (allocator rgn, a heap region, and libc) and under Debian's lua5.4, and
# fail unless their standard output and exit status are the same; then
# the same for command lines (-e, -l, -v, -E, -W, -, --, script
# arguments, errors), standard error included, with each interpreter's
# name replaced.  Exit 77 (skip) without RGN_LUA or lua5.4.
#
# memory.lua runs out of memory on purpose: rgn-lua's heap region in a
# 16 MiB space (RGN_SPACE), lua5.4 and the libc allocator under a
# `ulimit -v` (left out in sanitizer builds, RGN_SANITIZE not none: the
# sanitizers' shadow memory needs the address space, and their malloc
# aborts rather than failing).  With RGN_LUA_STATS=1, the heap region must
# report used_after_close=0: lua_close freed everything it allocated.
#
# In a library built with rgn_debug >= 1 every free of a heap region is
# checked (a bad free aborts, so a Lua program that frees wrongly fails).
#
# Env: LUA (default lua5.4), RGN_SANITIZE, LUA_VMEM_KB
# (the ulimit -v, default 65536).
set -u
rgn_lua=${1:-}
lua=${LUA:-lua5.4}
if [ -z "$rgn_lua" ] || [ ! -x "$rgn_lua" ]; then
	echo "rgn-lua not built (no liblua5.4-dev); skipping" >&2
	exit 77
fi
if ! command -v "$lua" >/dev/null 2>&1; then
	echo "$lua not found; skipping" >&2
	exit 77
fi
rgn_lua=$(cd "$(dirname "$rgn_lua")" && pwd)/$(basename "$rgn_lua")
cd "$(dirname "$0")/lua" || exit 1
vmem=${LUA_VMEM_KB:-65536}
sanitized=0
case "${RGN_SANITIZE:-none}" in none|'') ;; *) sanitized=1 ;; esac
# the interpreters' own messages go to the test's standard error
unset LUA_INIT LUA_INIT_5_4 RGN_LUA_STATS RGN_LUA_ALLOC
export LUA_PATH="./?.lua" LUA_CPATH=""

fails=0 runs=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# run VAR ALLOC VMEM ARGS...: VAR_out, VAR_err, VAR_rc from one run of
# lua5.4 (ALLOC "lua") or rgn-lua with RGN_LUA_ALLOC=ALLOC (VMEM: a
# ulimit -v in KiB, or "-"); standard input is the caller's.
run() {
	local var=$1 alloc=$2 lim=$3 out err rc
	shift 3
	local cmd=("$rgn_lua")
	[ "$alloc" = lua ] && cmd=("$lua")
	[ "${1:-}" = env ] && cmd=()  # run env VAR=VALUE... PROGRAM ARGS
	out=$(mktemp) err=$(mktemp)
	(
		[ "$lim" != - ] && ulimit -v "$lim"
		if [ "$alloc" = lua ]; then
			exec "${cmd[@]}" "$@"
		else
			RGN_LUA_ALLOC=$alloc exec "${cmd[@]}" "$@"
		fi
	) >"$out" 2>"$err"
	rc=$?
	# (the x keeps trailing newlines: outputs compare byte for byte)
	printf -v "${var}_out" '%s' "$(cat "$out"; echo x)"
	printf -v "${var}_err" '%s' "$(cat "$err"; echo x)"
	printf -v "${var}_rc" '%s' "$rc"
	rm -f "$out" "$err"
	runs=$((runs + 1))
}

# ---- the programs: the same output under each allocator -------------------
for prog in *.lua; do
	[ "$prog" = args.lua ] && continue
	args=() space=() lim=- rgnlim=-
	if [ "$prog" = memory.lua ]; then
		[ "$sanitized" = 1 ] && echo "memory.lua: lua5.4 and libc runs left out (sanitizer)" >&2
		lim=$vmem
		space=(RGN_SPACE=16M)
	fi
	if [ "$prog" = memory.lua ] && [ "$sanitized" = 1 ]; then
		# no reference run: the expected lines are the program's own
		want_out=$(printf '%s\n' \
			"doubling	false	not enough memory	allocated a lot:	yes" \
			"strings	false	not enough memory	allocated a lot:	yes" \
			"tables	false	not enough memory	allocated a lot:	yes" \
			"strings	false	not enough memory	allocated a lot:	yes" \
			"tables	false	not enough memory	allocated a lot:	yes" \
			"after	3892" "done"; echo x)
		want_rc=0
	else
		run want lua "$lim" "$prog" "${args[@]}"
		want_out=$want_out want_rc=$want_rc
		[ "$want_rc" = 0 ] || fail "$prog: lua5.4 exited $want_rc: $want_err"
	fi
	for alloc in rgn libc; do
		[ "$alloc" = libc ] && [ "$prog" = memory.lua ] && [ "$sanitized" = 1 ] && continue
		if [ "$alloc" = rgn ]; then
			RGN_LUA_STATS=1 run got rgn - env "${space[@]}" "$rgn_lua" "$prog" "${args[@]}"
			stats=$(printf '%s\n' "$got_err" | grep '^rgn-lua: allocator=')
			case "$stats" in
			*" used_after_close=0") ;;
			*) fail "$prog (rgn): no statistics line, or the region not empty after lua_close: $stats" ;;
			esac
		else
			run got libc "$lim" "$prog" "${args[@]}"
		fi
		if [ "$got_out" != "$want_out" ]; then
			fail "$prog ($alloc): output differs from lua5.4's"
			diff <(printf '%s\n' "$want_out") <(printf '%s\n' "$got_out") | head -20 >&2
		fi
		[ "$got_rc" = "$want_rc" ] || fail "$prog ($alloc): exit status $got_rc, lua5.4 $want_rc: $got_err"
	done
done

# ---- the command line: stdout, stderr (first line only with FIRST) and
#      exit status as lua5.4's, each interpreter's name replaced --------------
# cmdline [FIRST] STDIN-TEXT ARGS...
cmdline() {
	local first=0
	if [ "$1" = FIRST ]; then first=1; shift; fi
	local input=$1
	shift
	for alloc in rgn libc; do
		run want lua - "$@" <<<"$input"
		run got "$alloc" - "$@" <<<"$input"
		want_out=${want_out//"$lua"/LUA} want_err=${want_err//"$lua"/LUA}
		got_out=${got_out//"$rgn_lua"/LUA} got_err=${got_err//"$rgn_lua"/LUA}
		if [ "$first" = 1 ]; then
			want_err=${want_err%%$'\n'*} got_err=${got_err%%$'\n'*}
		fi
		if [ "$got_out" != "$want_out" ] || [ "$got_err" != "$want_err" ] ||
			[ "$got_rc" != "$want_rc" ]; then
			fail "command line ($alloc): $*"
			printf 'lua5.4 (%s):\n%s\n%s\nrgn-lua (%s):\n%s\n%s\n' \
				"$want_rc" "$want_out" "$want_err" "$got_rc" "$got_out" "$got_err" >&2
		fi
	done
}

script='print("stdin script", ...) print(arg[0], arg[1], arg[-1] ~= nil)'
cmdline "" -e 'print(1)' -e 'print(2)'
cmdline "" -e'print(3)'
cmdline "" args.lua
cmdline "" args.lua a 'b c' -e --
cmdline "" -e 'x = 5' args.lua a b
cmdline "" -E -W -e 'print(1)' args.lua -v
cmdline "" -- args.lua -x
cmdline "$script" - a b
cmdline "$script" -e 'print(0)' - a
cmdline "$script"
cmdline "$script" --
cmdline "" -- - a
cmdline "" -v
cmdline "" -v -e 'print(2)'
cmdline "" -v args.lua
cmdline "" -l s=string -e 'print(s.rep("ab", 3))'
cmdline "" -lstring -e 'print(string.upper("x"))'
cmdline "" -l args a
cmdline "" -l nosuchmodule
cmdline "" -e 'error("boom")'
cmdline "" -e 'error({})'
cmdline "" -e 'error(setmetatable({}, {__tostring = function() return "custom" end}))'
cmdline "" -e 'error()'
cmdline "" -e 'local function f() error("deep") end local function g() f() end g()'
cmdline "" -e 'x ='
cmdline "" nosuchfile.lua
cmdline "" -e 'os.exit(3)'
cmdline "" -e 'os.exit(false)'
cmdline "" -e 'os.exit(true, true)'
cmdline "" -e 'io.write("no newline")'
cmdline "" -W -e 'warn("hello ", "world")' -e 'warn("@off")' -e 'warn("hidden")'
cmdline "" -e 'warn("not shown")'
cmdline "" -e 'setmetatable({}, {__gc = function() error("in gc") end}) collectgarbage()' -W -e 'print(1)'
cmdline "" -W -e 'setmetatable({}, {__gc = function() error("in gc") end}) collectgarbage()'
cmdline FIRST "" -e
cmdline FIRST "" -l
cmdline FIRST "" -x
cmdline FIRST "" --x
cmdline FIRST "" -vx
cmdline FIRST "" -e -v
LUA_INIT='print("from LUA_INIT")' cmdline "" -e 'print(1)'
LUA_INIT='print("from LUA_INIT")' cmdline "" -E -e 'print(1)'
LUA_INIT_5_4='print("5.4 init")' LUA_INIT='print("plain")' cmdline "" -e ''
LUA_INIT='@args.lua' cmdline "" -e ''
LUA_INIT='error("init failed")' cmdline "" -e 'print(1)'

echo "$runs runs, $fails failed"
[ "$fails" = 0 ]
