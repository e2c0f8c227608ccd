#!/bin/sh
# tests/check-sqlite.sh LIB - CPython's own SQLite tests (test.test_sqlite3)
# with SQLite's memory on an rgn heap region: LIB (librgn-sqlite.so) is
# preloaded, and the line it prints at exit must show that every
# allocation SQLite asked for was served by rgn, none failed, and the
# suite passed.
#
# The Python: $PYTHON if set, else the first of python3, /usr/bin/python3
# that has the test package's test_sqlite3 and whose _sqlite3 module
# links libsqlite3 as a shared library (a copy built into the module
# would never see LIB).  A Python whose test package lacks test_sqlite3
# (Debian's libpython3.11-testsuite leaves it out) may be given the
# suite's directory from the same Python release's source in
# RGN_TEST_SQLITE3 (.ci/run takes it from Debian's python3.11 source).
# Exit 77 (skipped) when no Python fits.
#
# RGN_SQLITE_ALLOWED_FAILS: how many failed allocations to accept (the
# suite provokes none: 0).
set -u
lib=${1:?usage: check-sqlite.sh LIBRGN-SQLITE.SO}
[ -f "$lib" ] || { echo "check-sqlite: no $lib" >&2; exit 1; }
case $lib in /*) ;; *) lib=$PWD/$lib ;; esac
allowed=${RGN_SQLITE_ALLOWED_FAILS:-0}
extra=${RGN_TEST_SQLITE3:-}

# A Python has the suite, or is given it in a copy of its test package
# made of links (so that unittest's discovery stays inside one tree)
has_suite() { PYTHONPATH=$2 "$1" -c 'import test.test_sqlite3' >/dev/null 2>&1; }
shared_sqlite() {
	mod=$("$1" -c 'import _sqlite3; print(_sqlite3.__file__)' 2>/dev/null) || return 1
	ldd "$mod" 2>/dev/null | grep -q 'libsqlite3\.so'
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py= pypath=
for c in ${PYTHON:-python3 /usr/bin/python3}; do
	command -v "$c" >/dev/null 2>&1 || continue
	shared_sqlite "$c" || continue
	if has_suite "$c" ""; then py=$c; break; fi
	[ -n "$extra" ] && [ -f "$extra/__init__.py" ] || continue
	std=$("$c" -c 'import os, test; print(os.path.dirname(test.__file__))' 2>/dev/null) || continue
	rm -rf "$work/lib"
	mkdir -p "$work/lib/test"
	for e in "$std"/* "$std"/.[!.]*; do
		[ -e "$e" ] && ln -s "$e" "$work/lib/test/"
	done
	rm -f "$work/lib/test/test_sqlite3"
	ln -s "$(cd "$extra" && pwd)" "$work/lib/test/test_sqlite3"
	if has_suite "$c" "$work/lib"; then py=$c; pypath=$work/lib; break; fi
done
if [ -z "$py" ]; then
	echo "check-sqlite: skipped: no python3 with test.test_sqlite3 and a shared libsqlite3" \
		"(set PYTHON, or RGN_TEST_SQLITE3 to Lib/test/test_sqlite3 of its source)" >&2
	exit 77
fi

# the interpreter itself, not a wrapper script that would start it
py=$("$py" -c 'import sys; print(sys.executable)')
echo "check-sqlite: $py $("$py" -c 'import sys, sqlite3; print(sys.version.split()[0], "sqlite", sqlite3.sqlite_version)')" \
	"${pypath:+(test_sqlite3 from $extra)}"
# python -m test runs the suite in its own process; it prints to stdout, the
# library's line goes to stderr (one per process: the suite's own
# subprocesses inherit the preload and print theirs)
(cd "$work" && PYTHONPATH=$pypath RGN_SQLITE_STATS=1 LD_PRELOAD=$lib \
	"$py" -m test test_sqlite3) >"$work/out" 2>"$work/err"
rc=$?
grep -v '^rgn-sqlite: mallocs=' "$work/err" >&2
tail -n 5 "$work/out"
# "Result: X" (3.11.7 and later) or "Tests result: X" (3.11.2)
result=$(sed -n 's/^\(Tests \)\{0,1\}[Rr]esult: //p' "$work/out" | tail -n 1)
tests=$(grep '^Total tests: ' "$work/out" | tail -n 1)
echo "check-sqlite: exit $rc; result $result${tests:+; $tests}"
grep '^rgn-sqlite: mallocs=' "$work/err"

# every process's line: served == asked, failed within what is allowed;
# the suite's own process (the most allocations) asked for memory at all
grep '^rgn-sqlite: mallocs=' "$work/err" | awk -v rc="$rc" -v allowed="$allowed" -v result="$result" '
	{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		split(v["served_by_rgn"], st, "/")
		if (st[1] != st[2]) { print "check-sqlite: FAIL: not every allocation served by rgn: " $0; bad = 1 }
		if (v["failed"] + 0 > allowed + 0) { print "check-sqlite: FAIL: failed allocations: " $0; bad = 1 }
		if (st[2] + 0 > most) most = st[2] + 0
		n++
	}
	END {
		if (n == 0) { print "check-sqlite: FAIL: no line from the library (not preloaded?)"; bad = 1 }
		else if (most == 0) { print "check-sqlite: FAIL: SQLite never called the library (methods not installed)"; bad = 1 }
		if (rc != 0 || result != "SUCCESS") { print "check-sqlite: FAIL: the suite did not pass"; bad = 1 }
		if (!bad) printf "check-sqlite: ok: %d process(es), every allocation served by rgn\n", n
		exit bad
	}'
