#!/bin/sh
# check-symbols.sh LIBRARY MODE - fail unless every symbol LIBRARY exports starts
# with rgn_ and carries the version node RGN_0, and the ones every user
# needs are there.  Exit 77 (skip) when nm is missing.
lib=$1
mode=${2:-global}
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
	echo "usage: $0 librgn.so [decode-mode]" >&2
	exit 1
fi
NM=${NM:-nm}
if ! command -v "$NM" >/dev/null 2>&1; then
	echo "nm not found; skipping" >&2
	exit 77
fi

# "value type name[@version]"; version-node symbols (type A, e.g. RGN_0)
# are the version script's own, not exports.
syms=$("$NM" -D --defined-only "$lib" | awk '
	NF >= 3 && !($2 == "A" && $3 ~ /^[A-Z][A-Z0-9_]*$/) {
		sub(/@.*/, "", $3); print $3
	}') || { echo "$NM -D failed on $lib" >&2; exit 1; }

status=0
# every export carries the version node of src/rgn.map
unversioned=$("$NM" -D --defined-only "$lib" | awk '
	NF >= 3 && $3 ~ /^rgn_/ && $3 !~ /@@RGN_0$/ { print $3 }')
if [ -n "$unversioned" ]; then
	echo "symbols outside the version node RGN_0:" >&2
	printf '  %s\n' $unversioned >&2
	status=1
fi
bad=$(printf '%s\n' "$syms" | grep -v '^rgn_' | grep -v '^$')
if [ -n "$bad" ]; then
	echo "symbols leaked from $lib:" >&2
	printf '  %s\n' $bad >&2
	status=1
fi
for want in rgn_new "rgn_alloc_slow_$mode" rgn_destroy rgn_version; do
	if ! printf '%s\n' "$syms" | grep -qx "$want"; then
		echo "$want is not exported by $lib" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "$(printf '%s\n' "$syms" | grep -c .) symbols, all rgn_*, all in RGN_0"
exit $status
