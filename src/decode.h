/*
 * decode.h - the decode base (decode.c).
 */
#ifndef RGN_DECODE_INTERNAL_H
#define RGN_DECODE_INTERNAL_H

#include "common.h"

/*
 * decode.c owns the decode base: where the space may be placed (each
 * mode's limit), publishing its base, which base is active (rgn_enter),
 * and switching back when an entered region goes away.  The arch files
 * hold only what differs per mode.
 */

/* The space's first byte, once reserved (every mode has it). */
rgn_hidden extern char *rgn_space_base_h_;

/* The base of block references: the space's, or 0 in mode zero, where a
 * reference is the address / 8.  Every block region's bump.base. */
#ifdef RGN_DECODE_ZERO
#define rgn_blocks_ref_base() ((char *)0)
#else
#define rgn_blocks_ref_base() (rgn_space_base_h_)
#endif

/* Reserve the space as the mode needs it: size bytes aligned to size (zero:
 * below 32 GiB).  0 or an errno value. */
rgn_hidden int rgn_decode_reserve(size_t size, void **base);
/* The space now exists at base. */
rgn_hidden void rgn_decode_publish(char *base);
/* Make base (NULL: the shared space) the active decode base of the
 * calling thread (global: of the process).  0 or an errno value. */
rgn_hidden int rgn_decode_enter(char *base);
/* base is going away: where it is active, the shared space is again. */
rgn_hidden void rgn_decode_forget(char *base);
/* A thread's first use of the block layer. */
rgn_hidden void rgn_decode_thread_start(void);
/* The offset from the space base that ref decodes to (through the active
 * base if active): false when that base is not the space's. */
rgn_hidden bool rgn_decode_space_offset(uint32_t ref, int active, size_t *off);

#endif /* RGN_DECODE_INTERNAL_H */
