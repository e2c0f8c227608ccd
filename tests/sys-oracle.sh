#!/usr/bin/env bash
# sys-oracle.sh RGN_DU SYS_TOOL - the system-call wrappers against programs
# rgn did not write, on a tree built here and on /usr/include:
#   rgn-du            du -s -B1 --apparent-size
#   sys-tool ls       ls -A
#   sys-tool cat      cmp
#   sys-tool readlink readlink
#   sys-tool lines    awk 'END { print NR }'
# Prints one line per comparison; exits non-zero at the first mismatch.
set -euo pipefail
export LC_ALL=C
du_bin=$1
tool=$2

t=$(mktemp -d /tmp/rgn-oracle-XXXXXX)
trap 'rm -rf "$t"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# ---- the tree: thousands of files, nested directories, long names,
#      symbolic links (to files, directories, nowhere), hard links, a FIFO,
#      empty files and directories ------------------------------------------
long=$(printf 'L%.0s' $(seq 1 250))
files=0
mkdir -p "$t/tree"
for a in $(seq 1 12); do
	for b in $(seq 1 6); do
		d="$t/tree/dir$a/sub$b"
		[ $((b % 3)) -eq 0 ] && d="$d/deeper/still-deeper/${long:0:100}-$a$b"
		mkdir -p "$d"
		for c in $(seq 1 40); do
			# sizes 0 .. ~9000, some a whole block, all from shell builtins
			size=$(( (a * 977 + b * 131 + c * 37) % 9000 ))
			[ $((c % 13)) -eq 0 ] && size=4096
			printf '%*s' "$size" '' >"$d/file-$c.txt"
			files=$((files + 1))
		done
		printf 'x' >"$d/${long}-$c"                  # a 255-byte name
		: >"$d/empty"
		files=$((files + 2))
	done
	ln -s "dir$a/sub1/file-1.txt" "$t/tree/link-to-file-$a"
	ln -s "dir$a" "$t/tree/link-to-dir-$a"
	ln -s "/nonexistent/$long" "$t/tree/dangling-$a"
	ln "$t/tree/dir$a/sub2/file-2.txt" "$t/tree/hard-$a"      # counted once
	ln "$t/tree/dir$a/sub2/file-2.txt" "$t/tree/dir$a/hard-again"
done
mkdir -p "$t/tree/empty-dir" "$t/tree/many"
for c in $(seq 1 1500); do
	printf '%d\n' "$c" >"$t/tree/many/n$c"
done
files=$((files + 1500))
mkfifo "$t/tree/fifo"
[ $files -ge 2000 ] || fail "the tree has only $files files"

# ---- rgn-du against du -------------------------------------------------------
compare_du() {
	local want got
	want=$(du -s -B1 --apparent-size "$1")
	got=$("$du_bin" "$1")
	[ "$got" = "$want" ] || fail "rgn-du $1: '$got', du: '$want'"
	ok "rgn-du $1: ${got%%$'\t'*} bytes, as du says"
}
compare_du "$t/tree"
compare_du "$t/tree/dir3"
compare_du "$t/tree/link-to-dir-1"          # a symlink argument is not followed
compare_du "$t/tree/many/n7"
compare_du /usr/include

# ---- ls -A -------------------------------------------------------------------
# every directory in one run of each (ls sorts its operands and each
# listing in the C locale's order, as sys-tool does)
mapfile -t dirs < <(find "$t/tree" /usr/include -maxdepth 2 -type d | sort)
diff <("$tool" ls "${dirs[@]}") <(ls -A "${dirs[@]}") >"$t/ls.diff" ||
	fail "sys-tool ls differs from ls -A: $(head -5 "$t/ls.diff")"
ok "sys-tool ls: ${#dirs[@]} directories list as ls -A lists them"

# ---- cmp ---------------------------------------------------------------------
head -c 300000 /dev/urandom >"$t/random"
: >"$t/zero-length"
n=0
for f in "$t/random" "$t/zero-length" "$t/tree/many/n1" \
	$(find /usr/include -maxdepth 1 -type f | head -40); do
	"$tool" cat "$f" | cmp -s - "$f" || fail "sys-tool cat $f differs (cmp)"
	n=$((n + 1))
done
"$tool" cat /proc/self/status | grep -q '^Pid:' || fail "sys-tool cat /proc/self/status"
ok "sys-tool cat: $n files byte for byte as cmp sees them, /proc read to its end"

# ---- readlink ----------------------------------------------------------------
target=$(printf 'abcdefghij%.0s' $(seq 1 400))     # 4000 bytes
ln -s "$target" "$t/long-link"
n=0
for l in "$t/long-link" "$t"/tree/link-to-* "$t"/tree/dangling-1 /proc/self/cwd; do
	[ "$("$tool" readlink "$l")" = "$(readlink "$l")" ] ||
		fail "sys-tool readlink $l differs from readlink"
	n=$((n + 1))
done
ok "sys-tool readlink: $n links as readlink reads them"

# ---- lines -------------------------------------------------------------------
printf 'a\nb\n\nlast without newline' >"$t/lines"
for f in "$t/lines" "$t/zero-length" /usr/include/stdio.h; do
	[ "$("$tool" lines "$f")" = "$(awk 'END { print NR }' "$f")" ] ||
		fail "sys-tool lines $f differs from awk"
done
ok "sys-tool lines: line counts as awk counts them"
