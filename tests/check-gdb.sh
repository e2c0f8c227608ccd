#!/bin/sh
# check-gdb.sh SCRIPT PROG... - read a core of each PROG (gdb-prog.c)
# back with the gdb commands of SCRIPT (rgn-gdb.py): rgn-ref must decode
# the references to the addresses the program printed, and rgn-region
# must print the program's root region with the tree that rgn_report
# printed, line for line.  Exit 77 (skip) without gdb, without its
# Python, where the system forbids tracing, and under AddressSanitizer
# (RGN_SANITIZE, from meson: gdb 13 writes ASan's 14 TiB shadow mapping
# into the core, VM_DONTDUMP or not: 13 GB in the first minute).
#
# The core is written by gdb itself (generate-core-file) from the
# process it runs, stopped at the program's abort(): neither
# /proc/sys/kernel/core_pattern nor ulimit -c matters.  The commands then
# run on the core alone, where no function of the program can be called.
script=$1
shift
if [ -z "$script" ] || [ ! -f "$script" ] || [ $# -lt 1 ]; then
	echo "usage: $0 rgn-gdb.py PROG..." >&2
	exit 1
fi
case "${RGN_SANITIZE:-}" in
*address*)
	echo "AddressSanitizer build: its shadow memory makes the core too large; skipping" >&2
	exit 77 ;;
esac
if ! command -v gdb >/dev/null 2>&1; then
	echo "gdb not found; skipping" >&2
	exit 77
fi
if ! gdb -nx -batch -ex 'python print("py" + "thon")' 2>/dev/null | grep -qx python; then
	echo "gdb has no Python; skipping" >&2
	exit 77
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0

fail() {
	echo "$prog: $*" >&2
	status=1
}

for prog; do
	rm -f "$tmp/core" "$tmp/values"
	gdb -nx -batch -iex 'set debuginfod enabled off' -ex run \
		-ex "generate-core-file $tmp/core" -ex kill \
		--args "$prog" "$tmp/values" >"$tmp/run.log" 2>&1
	if [ ! -s "$tmp/core" ] || [ ! -s "$tmp/values" ]; then
		if grep -q 'ptrace: Operation not permitted' "$tmp/run.log"; then
			echo "gdb may not trace here; skipping" >&2
			exit 77
		fi
		fail "no core written:"
		cat "$tmp/run.log" >&2
		continue
	fi
	# ref REF ADDR / cref REF ADDR REGION / root REGION / rgn_report's lines
	set -- $(sed -n 1p "$tmp/values"); ref=$2 addr=$3
	set -- $(sed -n 2p "$tmp/values"); cref=$2 caddr=$3 contig=$4
	set -- $(sed -n 3p "$tmp/values"); root=$2
	sed -n '4,$p' "$tmp/values" >"$tmp/report"

	gdb -nx -batch -iex 'set debuginfod enabled off' -x "$script" \
		-ex "rgn-ref $ref" \
		-ex "rgn-ref $cref $contig" \
		-ex "rgn-ref -active $ref" \
		-ex "rgn-region $root" \
		-ex 'print $rgn_addr' \
		"$prog" "$tmp/core" >"$tmp/out" 2>&1
	hexref=$(printf '0x%x' "$ref")
	grep -q "^ref $hexref -> $addr (shared space, mode " "$tmp/out" ||
		fail "rgn-ref $ref does not give $addr"
	grep -q "^ref $(printf '0x%x' "$cref") -> $caddr (region $contig gdb-contig, " "$tmp/out" ||
		fail "rgn-ref $cref $contig does not give $caddr"
	grep -q "^ref $hexref -> $addr (active base, mode " "$tmp/out" ||
		fail "rgn-ref -active $ref does not give $addr"
	grep -q "^region $root \"gdb-root\": live$" "$tmp/out" ||
		fail "rgn-region $root: no live gdb-root header"
	grep -q '^    block [0-9]* at 0x[0-9a-f]*: 1 block, own block, header' "$tmp/out" ||
		fail "rgn-region: no own block among the spans"
	grep -q '<close_nothing>' "$tmp/out" ||
		fail "rgn-region: the cleanup is not named"
	sed -n '/^  tree:$/,$s/^    //p' "$tmp/out" >"$tmp/tree"
	if ! grep -q 'gdb-child' "$tmp/tree" || ! cmp -s "$tmp/report" "$tmp/tree"; then
		fail "rgn-region's tree differs from rgn_report's:"
		diff "$tmp/report" "$tmp/tree" >&2
	fi
	if [ $status -ne 0 ]; then
		echo "---- gdb said:" >&2
		cat "$tmp/out" >&2
	else
		echo "$prog: rgn-ref and rgn-region agree with the program"
	fi
done
exit $status
