/*
 * rgn/decode.h (mode `zero`, any 64-bit CPU) - the space lies below
 * 32 GiB, and a reference is simply the address divided by 8: decoding
 * is one shift folded into the load's scaled index, with no base to
 * load.  Ref 0 is address 0, which never maps.  See the `global` header
 * for what every mode header defines.
 *
 * The price: the space must get an aligned range below 32 GiB
 * (rgn_init fails with ENOMEM naming the mode when it cannot: under
 * AddressSanitizer, whose shadow memory sits there, for one), and there
 * is no base to switch, so rgn_enter of a contiguous region fails with
 * ENOTSUP.
 */
#ifndef RGN_DECODE_H
#define RGN_DECODE_H

#ifndef RGN_H
#error "<rgn/decode.h> is part of <rgn.h>: include <rgn.h> instead"
#endif

#include <stdint.h>

#define RGN_DECODE_MODE "zero"
#define RGN_DECODE_ZERO 1

/* A program must be compiled for the decode mode librgn was built with:
 * pkg-config (and the meson dependency) define RGN_BUILT_DECODE to that
 * mode's number, and the out-of-line allocation path carries the mode in
 * its name (rgn_alloc_slow_zero), so a mismatch fails to compile or to
 * link instead of misdecoding. */
#define RGN_DECODE_ID_  4
#define RGN_DECODE_TAG_ zero
#if defined(RGN_BUILT_DECODE) && RGN_BUILT_DECODE != RGN_DECODE_ID_
#error "librgn was built with another decode mode than these headers (mode zero): use the headers installed with the library"
#endif


static inline void *rgn_decode_(uint32_t ref)
{
	return (void *)((uintptr_t)RGN_CHECK_REF_(ref, 0) << 3);
}

static inline uint32_t rgn_encode_(const void *p)
{
	return (uint32_t)((uintptr_t)p >> 3);
}

#define RGN_AT(T, ref) ((T *)(void *)((uintptr_t)RGN_CHECK_REF_(ref, 1) << 3))
#define RGN_REENTER() ((void)0)
#define RGN_FLAT_BARRIER() ((void)0)

#endif /* RGN_DECODE_H */
