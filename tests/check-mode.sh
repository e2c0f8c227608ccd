#!/bin/sh
# check-mode.sh CC SRCDIR BUILDDIR LIBRGN_A MODE [LDFLAGS] - a program cannot be
# built against headers of another decode mode than the library's:
#   1. rgn/decode.h included directly stops with an #error naming rgn.h;
#   2. compiled with the library's RGN_BUILT_DECODE, another mode's header
#      stops with an #error;
#   3. compiled without it, the program does not link: the allocation
#      path carries the mode in its name.
# Each must fail, with the message that says why; exit 77 without a
# compiler.
cc=$1 src=$2 build=$3 lib=$4 mode=$5 ldflags=${6:-}  # ldflags: the build's sanitizers
command -v "$cc" >/dev/null 2>&1 || { echo "$cc not found; skipping"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# another mode than the library's, with its number
case $mode in
global) other=zero other_n=4 other_h=$src/arch/generic/rgn_decode_zero.h ;;
*)      other=global other_n=1 other_h=$src/arch/generic/rgn_decode_global.h ;;
esac
case $mode in global) n=1 ;; gs) n=2 ;; reg) n=3 ;; zero) n=4 ;; esac
mkdir -p "$tmp/inc/rgn"
cp "$other_h" "$tmp/inc/rgn/decode.h"
cp "$build/include/rgn/version.h" "$tmp/inc/rgn/version.h"
cat > "$tmp/p.c" <<'C'
#include <rgn.h>
int main(void)
{
	rgn_region *r = rgn_new(0);
	void *p = rgn_alloc(r, 64);
	rgn_destroy(r);
	return p == 0;
}
C
printf '#include <rgn/decode.h>\nint main(void) { return 0; }\n' > "$tmp/direct.c"

# 1: direct inclusion
"$cc" -c -I"$src/include" -I"$build/include" "$tmp/direct.c" -o "$tmp/direct.o" \
	2>"$tmp/1.err" && fail "<rgn/decode.h> compiled on its own"
grep -q 'include <rgn.h> instead' "$tmp/1.err" || fail "no message naming rgn.h: $(cat "$tmp/1.err")"

# 2: the library's mode named, another mode's header
"$cc" -c -DRGN_STATIC -DRGN_BUILT_DECODE=$n -I"$tmp/inc" -I"$src/include" "$tmp/p.c" \
	-o "$tmp/p2.o" 2>"$tmp/2.err" && fail "mode $other headers compiled for a mode $mode library"
grep -q 'another decode mode' "$tmp/2.err" || fail "no mode message: $(cat "$tmp/2.err")"

# 3: nothing named, the link fails on the mode's own allocation path
"$cc" -c -DRGN_STATIC -I"$tmp/inc" -I"$src/include" "$tmp/p.c" -o "$tmp/p3.o" ||
	fail "mode $other headers did not compile on their own"
# shellcheck disable=SC2086
"$cc" "$tmp/p3.o" "$lib" -lpthread $ldflags -o "$tmp/p3" 2>"$tmp/3.err" &&
	fail "a mode $other program linked against a mode $mode library"
grep -q "rgn_alloc_slow_$other" "$tmp/3.err" || fail "the link error does not name rgn_alloc_slow_$other: $(cat "$tmp/3.err")"

# and the matching headers build and link
# shellcheck disable=SC2086
"$cc" -DRGN_STATIC -DRGN_BUILT_DECODE=$n -I"$src/include" -I"$build/include" \
	"$tmp/p.c" "$lib" -lpthread $ldflags -o "$tmp/ok" || fail "the library's own headers did not build"
echo "mode $mode: direct inclusion, a mode $other header and a mode $other link all refused"
