/*
 * rgn_decode.h - reference decoding, `global` mode (any CPU).
 *
 * A reference is the index of an 8-byte granule counted from the base of
 * the space.  Decoding is base + index * 8; encoding is the inverse.  In
 * this mode the base lives in one process-wide variable that the library
 * writes once, when the space is reserved, and never again.
 *
 * Other decode modes (x86-64 GS base, an AArch64 reserved register, a
 * zero-based space) provide a header of the same name in arch/<cpu>/,
 * found first on the include path.  Each defines the same three things:
 *   RGN_DECODE_MODE      a string naming the mode
 *   rgn_decode_(ref)     granule index -> address (no null check: ref 0
 *                        decodes to the space's first block, which is
 *                        never mapped readable, so it faults)
 *   rgn_encode_(p)       address inside the space -> granule index
 *
 * Included by rgn.h only; not meant to be included on its own.
 */
#ifndef RGN_DECODE_H
#define RGN_DECODE_H

#include <stdint.h>

#define RGN_DECODE_MODE "global"

/* The active decode base: the space's, or NULL before it is reserved.
 * Written by the library only: when the space is reserved, and by
 * rgn_enter (a contiguous region's base; process-wide in this mode). */
RGN_API extern char *rgn_space_base;

static inline void *rgn_decode_(uint32_t ref)
{
	return rgn_space_base + ((uintptr_t)ref << 3);
}

static inline uint32_t rgn_encode_(const void *p)
{
	return (uint32_t)((uintptr_t)((const char *)p - rgn_space_base) >> 3);
}

#endif /* RGN_DECODE_H */
