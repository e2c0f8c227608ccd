/*
 * rgn_decode.h (mode `zero`, any 64-bit CPU) - the space lies below
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

#include <stdint.h>

#define RGN_DECODE_MODE "zero"
#define RGN_DECODE_ZERO 1

/* The space's first byte (not needed to decode; for inspection). */
RGN_API extern char *rgn_space_base;

static inline void *rgn_decode_(uint32_t ref)
{
	return (void *)((uintptr_t)ref << 3);
}

static inline uint32_t rgn_encode_(const void *p)
{
	return (uint32_t)((uintptr_t)p >> 3);
}

#define RGN_AT(T, ref) ((T *)(void *)((uintptr_t)(ref) << 3))
#define RGN_REENTER() ((void)0)
#define RGN_FLAT_BARRIER() ((void)0)

#endif /* RGN_DECODE_H */
