/*
 * rgn/decode.h (mode `global`, any CPU) - how a 32-bit reference becomes
 * an address.  Installed as rgn/decode.h and included by rgn.h only.
 *
 * Every mode header defines the same things:
 *   RGN_DECODE_MODE       the mode's name, a string
 *   RGN_DECODE_<MODE>     1
 *   rgn_decode_(ref)      granule index -> address in the shared space
 *   rgn_encode_(p)        address in the shared space -> granule index
 *   RGN_AT(T, ref)        a T * (or T-typed lvalue pointer) for ref,
 *                         decoded against the *active* base: the shared
 *                         space, or the contiguous region last entered
 *                         with rgn_enter
 *   RGN_REENTER()         a statement for the top of a callback or
 *                         signal handler; a no-op where nothing can be
 *                         lost on the way in
 *   RGN_FLAT_BARRIER()    a statement between an access through RGN_AT
 *                         and one through a plain pointer to the same
 *                         bytes; needed in mode gs with gcc only
 * Ref 0 decodes to an address that faults, in every mode.
 *
 * Here the active base is one process-wide variable, so rgn_enter
 * switches it for every thread.  A decode is a RIP-relative load of the
 * base and one indexed load.
 */
#ifndef RGN_DECODE_H
#define RGN_DECODE_H

#ifndef RGN_H
#error "<rgn/decode.h> is part of <rgn.h>: include <rgn.h> instead"
#endif

#include "rgn/base.h"

#define RGN_DECODE_MODE   "global"
#define RGN_DECODE_GLOBAL 1

/* A program must be compiled for the decode mode librgn was built with:
 * pkg-config (and the meson dependency) define RGN_BUILT_DECODE to that
 * mode's number, and the out-of-line allocation path carries the mode in
 * its name (rgn_alloc_slow_global), so a mismatch fails to compile or to
 * link instead of misdecoding. */
#define RGN_DECODE_ID_  1
#define RGN_DECODE_TAG_ global
#if defined(RGN_BUILT_DECODE) && RGN_BUILT_DECODE != RGN_DECODE_ID_
#error "librgn was built with another decode mode than these headers (mode global): use the headers installed with the library"
#endif

#if defined(RGN_BUILDING_) || defined(RGN_STATIC)
extern RGN_HIDDEN_ char *rgn_active_base_h_;
#define RGN_ACTIVE_BASE_ rgn_active_base_h_
#else
RGN_API extern char *const *const rgn_active_base_p_;
#define RGN_ACTIVE_BASE_ (*rgn_active_base_p_)
#endif

#define RGN_AT(T, ref) \
	((T *)(void *)(RGN_ACTIVE_BASE_ + ((uintptr_t)RGN_CHECK_REF_(ref, 1) << 3)))
#define RGN_REENTER() ((void)0)
#define RGN_FLAT_BARRIER() ((void)0)

#endif /* RGN_DECODE_H */
