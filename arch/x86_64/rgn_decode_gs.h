/*
 * rgn/decode.h (mode `gs`, x86-64 Linux) - the GS segment base holds the
 * active base of the calling thread, so RGN_AT is one load or store with
 * a %gs: operand and the reference as an index scaled by 8: no base is
 * loaded at all.  See the `global` header for what every mode defines.
 *
 * GS is per thread.  rgn_thread_init() sets it (wrgsbase where the kernel
 * allows it, arch_prctl otherwise), rgn_init does it for the calling
 * thread, and so does a thread's first allocation.  A thread that
 * decodes before any of these reads through whatever GS its creator left
 * it: build with RGN_DEBUG >= 1 and RGN_AT checks, and aborts with a
 * message naming the cause.  rgn_enter switches the calling thread only.
 *
 * RGN_AT yields a `T __seg_gs *`: dereference it (->, *, []) where it
 * is made.  It does not convert to a plain `T *`; rgn_ptr gives the flat
 * address of a shared-space reference.  __seg_gs is GNU C: gcc offers it
 * only in the gnu dialects (-std=gnu17, not -std=c17), and g++ not at
 * all.  There, RGN_AT decodes through the thread's base in TLS instead
 * (two loads instead of one, same result); clang and clang++ always have
 * the segment path.
 * Do not combine with gcc's AddressSanitizer, which instruments %gs:
 * accesses as if they were flat addresses.
 */
#ifndef RGN_DECODE_H
#define RGN_DECODE_H

#ifndef RGN_H
#error "<rgn/decode.h> is part of <rgn.h>: include <rgn.h> instead"
#endif

#if !defined(__x86_64__) || !defined(__linux__)
#error "rgn decode mode gs needs x86-64 Linux"
#endif

#define RGN_DECODE_MODE "gs"
#define RGN_DECODE_GS   1

/* A program must be compiled for the decode mode librgn was built with:
 * pkg-config (and the meson dependency) define RGN_BUILT_DECODE to that
 * mode's number, and the out-of-line allocation path carries the mode in
 * its name (rgn_alloc_slow_gs), so a mismatch fails to compile or to
 * link instead of misdecoding. */
#define RGN_DECODE_ID_  2
#define RGN_DECODE_TAG_ gs
#if defined(RGN_BUILT_DECODE) && RGN_BUILT_DECODE != RGN_DECODE_ID_
#error "librgn was built with another decode mode than these headers (mode gs): use the headers installed with the library"
#endif

#include "rgn/base.h"   /* and the per-thread base, rgn_thread_base_() */

#ifdef RGN_CHECKS_
#define RGN_GS_INDEX_(ref) \
	(rgn_thread_base_() ? (uintptr_t)RGN_CHECK_REF_(ref, 1) << 3 \
	                    : (rgn_decode_unset_(), 0))
#else
#define RGN_GS_INDEX_(ref) ((uintptr_t)(ref) << 3)
#endif

#if defined(__SEG_GS) && \
    (defined(__clang__) || (!defined(__cplusplus) && !defined(__STRICT_ANSI__)))
#define RGN_AT(T, ref) ((T __seg_gs *)RGN_GS_INDEX_(ref))
#else
#define RGN_AT(T, ref) ((T *)(void *)(rgn_thread_base_() + RGN_GS_INDEX_(ref)))
#endif
#define RGN_REENTER() ((void)0)

/* gcc takes %gs: memory and plain memory for disjoint address spaces:
 * a store through RGN_AT and a load of the same bytes through a plain
 * pointer (or the reverse) in one function may be reordered, or the load
 * answered from an earlier plain store.  Put RGN_FLAT_BARRIER() between
 * the two where a function reaches one object both ways.  (clang treats
 * them as possibly aliasing and needs none.) */
#if defined(__GNUC__) && !defined(__clang__)
#define RGN_FLAT_BARRIER() __asm__ volatile("" : : : "memory")
#else
#define RGN_FLAT_BARRIER() ((void)0)
#endif

#endif /* RGN_DECODE_H */
