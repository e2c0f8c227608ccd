#!/bin/sh
# check-man.sh LIBRARY PAGE... - fail unless every symbol LIBRARY exports
# is named in one of the man pages, and every page renders without a
# warning.  Exit 77 (skip) when nm is missing, or both man and groff are.
#
# The symbols are the library's exported definitions (nm -D
# --defined-only), version-node symbols (type A, e.g. RGN_0) left out.  A
# symbol counts as named when it appears as a whole word in a page as
# rendered (hyphenation off), not merely in its roff comments.
# Warnings: `man --warnings -l` at 80 columns and `groff -man -ww -z`,
# whichever are installed; anything either prints is a failure.
lib=$1
if [ -z "$lib" ] || [ ! -f "$lib" ] || [ $# -lt 2 ]; then
	echo "usage: $0 librgn.so PAGE..." >&2
	exit 1
fi
shift
for page; do
	if [ ! -f "$page" ]; then
		echo "$page: no such man page" >&2
		exit 1
	fi
done

NM=${NM:-nm}
if ! command -v "$NM" >/dev/null 2>&1; then
	echo "nm not found; skipping" >&2
	exit 77
fi
# man-db's man (the one with --warnings); mandoc's would reject the option
have_man=false
if command -v man >/dev/null 2>&1 && man --help 2>&1 | grep -q -- '--warnings'; then
	have_man=true
fi
have_groff=false
command -v groff >/dev/null 2>&1 && have_groff=true
if ! $have_man && ! $have_groff; then
	echo "neither man (man-db) nor groff found; skipping" >&2
	exit 77
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
bs=$(printf '\b')

# A page as plain text: long lines, no hyphenation, no overstriking.
render() {
	if $have_man; then
		MANWIDTH=250 man --nh --nj -E UTF-8 -l "$1"
	else
		groff -man -Tutf8 -rLL=250n -P-cbou "$1"
	fi
}

status=0

# ---- (a) every exported symbol is named in a page -----------------------
"$NM" -D --defined-only "$lib" >"$tmp/nm" || {
	echo "$NM -D failed on $lib" >&2
	exit 1
}
awk 'NF >= 3 && !($2 == "A" && $3 ~ /^[A-Z][A-Z0-9_]*$/) {
	sub(/@.*/, "", $3); print $3
}' "$tmp/nm" | LC_ALL=C sort -u >"$tmp/symbols"
if [ ! -s "$tmp/symbols" ]; then
	echo "$lib exports no symbols" >&2
	exit 1
fi
: >"$tmp/text"
for page; do
	if ! render "$page" >"$tmp/one" 2>"$tmp/err"; then
		echo "$page: rendering failed:" >&2
		cat "$tmp/err" >&2
		status=1
	fi
	sed "s/.$bs//g" "$tmp/one" >>"$tmp/text"
done
tr -c 'A-Za-z0-9_' '\n' <"$tmp/text" | grep . | LC_ALL=C sort -u >"$tmp/words"
LC_ALL=C comm -23 "$tmp/symbols" "$tmp/words" >"$tmp/missing"
if [ -s "$tmp/missing" ]; then
	echo "exported by $lib but named in no man page ($*):" >&2
	sed 's/^/  /' "$tmp/missing" >&2
	status=1
else
	echo "$(grep -c . "$tmp/symbols") exported symbols, each named in a man page"
fi

# ---- (b) the pages render without warnings ------------------------------
warned=0
for page; do
	if $have_man; then
		MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>"$tmp/warn" >/dev/null
		if [ -s "$tmp/warn" ]; then
			echo "$page: man --warnings:" >&2
			cat "$tmp/warn" >&2
			warned=1
		fi
	fi
	if $have_groff; then
		groff -man -ww -z "$page" 2>"$tmp/warn"
		if [ -s "$tmp/warn" ]; then
			echo "$page: groff -ww:" >&2
			cat "$tmp/warn" >&2
			warned=1
		fi
	fi
done
if [ $warned -eq 0 ]; then
	echo "$# man pages render without warnings"
else
	status=1
fi
exit $status
