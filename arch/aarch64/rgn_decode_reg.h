/*
 * rgn/decode.h (mode `reg`, AArch64 Linux) - the active base lives in
 * register x28, which every translation unit of the program must leave
 * alone: compile everything that includes rgn.h with -ffixed-x28
 * (`pkg-config --cflags rgn` says so).  RGN_AT is then one
 * `ldr/str ..., [x28, wN, uxtw #3]`.  See the `global` header for what
 * every mode defines.
 *
 * x28 is callee-saved in the AArch64 procedure call standard, so code
 * not built with -ffixed-x28 (the C library, any other library) may use
 * it, and restores it only when it returns.  Where such code calls back
 * into the program, x28 holds its value, not the base:
 *   - callbacks called by foreign code (a qsort comparator, a thread's
 *     start function, main itself): begin them with RGN_REENTER(),
 *     which loads x28 for the rest of the enclosing block and puts the
 *     caller's value back when the block is left;
 *   - signal handlers: the same (the kernel restores the interrupted
 *     x28 on return);
 *   - cleanups that rgn_destroy runs are called with x28 loaded.
 * With RGN_DEBUG >= 1, RGN_AT checks x28 against the thread's base and
 * aborts with a message when a callback forgot RGN_REENTER.
 * rgn_enter switches the calling thread only.
 */
#ifndef RGN_DECODE_H
#define RGN_DECODE_H

#ifndef RGN_H
#error "<rgn/decode.h> is part of <rgn.h>: include <rgn.h> instead"
#endif

#if !defined(__aarch64__) || !defined(__linux__)
#error "rgn decode mode reg needs AArch64 Linux"
#endif

#define RGN_DECODE_MODE "reg"
#define RGN_DECODE_REG  1

/* A program must be compiled for the decode mode librgn was built with:
 * pkg-config (and the meson dependency) define RGN_BUILT_DECODE to that
 * mode's number, and the out-of-line allocation path carries the mode in
 * its name (rgn_alloc_slow_reg), so a mismatch fails to compile or to
 * link instead of misdecoding. */
#define RGN_DECODE_ID_  3
#define RGN_DECODE_TAG_ reg
#if defined(RGN_BUILT_DECODE) && RGN_BUILT_DECODE != RGN_DECODE_ID_
#error "librgn was built with another decode mode than these headers (mode reg): use the headers installed with the library"
#endif

#include "rgn/base.h"   /* and the per-thread base, rgn_thread_base_() */

/* The calling thread's base, setting the thread up if it is not. */
RGN_API char *rgn_reenter_base_(void);

#if defined(__GNUC__) && !defined(__clang__)
__extension__ register char *rgn_x28_ __asm__("x28");
#define RGN_X28_()       rgn_x28_
#define RGN_X28_SET_(v)  (rgn_x28_ = (v))
#else
/* clang has no global register variables: read and write x28 with asm. */
static inline char *rgn_x28_read_(void)
{
	char *b;
	__asm__ volatile("mov %0, x28" : "=r"(b));
	return b;
}
#define RGN_X28_()       rgn_x28_read_()
#define RGN_X28_SET_(v)  __asm__ volatile("mov x28, %0" : : "r"(v) : "x28")
#endif

/* What RGN_REENTER keeps: the caller's x28, and the base it loaded. */
struct rgn_reenter_ {
	char *x28;
	char *base;
};

/* Leaving the block: the caller's x28 back, unless the caller held this
 * thread's base and the block moved it (rgn_enter, or destroying the
 * entered region): then the new base, never a stale one. */
static inline void rgn_reenter_end_(struct rgn_reenter_ *s)
{
	RGN_X28_SET_(s->x28 == s->base ? rgn_thread_base_() : s->x28);
}

/* Put back an x28 saved with RGN_X28_(), whatever happened since. */
static inline void rgn_x28_restore_(char **saved)
{
	RGN_X28_SET_(*saved);
}

#ifdef RGN_CHECKS_
#define RGN_X28_BASE_() \
	(RGN_X28_() == rgn_thread_base_() && RGN_X28_() ? RGN_X28_() \
	                                                : (rgn_decode_unset_(), (char *)0))
#else
#define RGN_X28_BASE_() RGN_X28_()
#endif

#define RGN_AT(T, ref) ((T *)(void *)(RGN_X28_BASE_() + ((uintptr_t)RGN_CHECK_REF_(ref, 1) << 3)))

#define RGN_FLAT_BARRIER() ((void)0)

#define RGN_REENTER_CAT2_(a, b) a##b
#define RGN_REENTER_CAT_(a, b)  RGN_REENTER_CAT2_(a, b)
/* A declaration: put it first in the block it covers. */
#define RGN_REENTER()                                                     \
	struct rgn_reenter_ RGN_REENTER_CAT_(rgn_x28_saved_, __LINE__)    \
		__attribute__((cleanup(rgn_reenter_end_))) =              \
		{ RGN_X28_(), rgn_reenter_base_() };                      \
	RGN_X28_SET_(RGN_REENTER_CAT_(rgn_x28_saved_, __LINE__).base)

#endif /* RGN_DECODE_H */
