#!/bin/sh
# check-valgrind.sh PROGRAM - run each case of tests/valgrind-check.c under
# valgrind's memcheck and check its verdict: every misuse case reported
# (valgrind exits with the error code, the report names the error, and the
# program reached the misuse), the clean case without a report and with
# memcheck's view of each kind of memory as rgn promises it.  Each case is
# also run natively first, where it must exit 0: without the library's
# annotations memcheck would see no more than that.
# Exit 77 (skip) when valgrind is not installed.
prog=$1
if [ -z "$prog" ] || [ ! -x "$prog" ]; then
	echo "usage: $0 valgrind-check" >&2
	exit 1
fi
VALGRIND=${VALGRIND:-valgrind}
if ! command -v "$VALGRIND" >/dev/null 2>&1; then
	echo "valgrind not found; skipping" >&2
	exit 77
fi

code=99
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# case, what memcheck must say ("" for nothing)
run() {
	case_=$1 want=$2
	if ! out=$("$prog" "$case_" 2>&1); then
		echo "FAIL $case_: natively: $out"
		fail=1
		return
	fi
	"$VALGRIND" -q --error-exitcode=$code --log-file="$log" "$prog" "$case_" \
		>"$log.out" 2>&1
	rc=$?
	if [ -z "$want" ]; then
		if [ $rc -ne 0 ] || [ -s "$log" ]; then
			echo "FAIL $case_: exit $rc under valgrind, want 0 and no report:"
			cat "$log" "$log.out"
			fail=1
		else
			echo "ok   $case_: no report"
		fi
	elif [ $rc -ne $code ] || ! grep -q "$want" "$log" ||
	     ! grep -q reached "$log.out"; then
		echo "FAIL $case_: exit $rc under valgrind, want $code and \"$want\":"
		cat "$log" "$log.out"
		fail=1
	else
		echo "ok   $case_: $want"
	fi
	rm -f "$log.out"
}

run destroyed-blocks "Invalid read"
run destroyed-large  "Invalid read"
run destroyed-contig "Invalid read"
run unwritten-blocks "Conditional jump or move depends on uninitialised"
run unwritten-contig "Conditional jump or move depends on uninitialised"
run freed-heap       "Invalid read"
run destroyed-heap   "Invalid read"
run unwritten-heap   "Conditional jump or move depends on uninitialised"
run clean ""
exit $fail
