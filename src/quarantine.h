/*
 * quarantine.h - the run-time checking mode (quarantine.c): a quarantine between
 * the thread caches and the shared free structure.
 */
#ifndef RGN_QUARANTINE_H
#define RGN_QUARANTINE_H

#include "space.h"

/* The bound of the quarantine in records (each record one run of blocks;
 * an mprotect'd run costs up to two kernel mappings, hence the lower
 * bound there).  The modes and the bound in bytes are the space's
 * settings (space.h). */
#define RGN_CHECK_RECORDS       16384u
#define RGN_CHECK_RECORDS_PROT  1024u
/* Return addresses kept per record. */
#define RGN_CHECK_FRAMES        6

/* Why a region gives blocks back, for the report of a fault. */
enum rgn_check_why {
	RGN_WHY_NONE,
	RGN_WHY_DESTROY,
	RGN_WHY_RESET,
	RGN_WHY_REWIND,
	RGN_WHY_TRIM,    /* a tail committed or moved: the unused end */
};

/* Is the checking mode on?  Written once at the space's set-up. */
static inline bool rgn_check_on(void)
{
	return rgn_unlikely(rgn_space_g.check != RGN_CHECK_OFF);
}

/* region.c brackets each backend call that may give blocks back: the
 * blocks quarantined meanwhile are charged to region r, for reason why,
 * with the caller's stack.  Only in the checking mode. */
rgn_hidden void rgn_check_begin(const void *r, enum rgn_check_why why);
rgn_hidden void rgn_check_end(void);

/* Take the USED run [b, b+n) (whole spans of blocks.c) out of use:
 * inaccessible until it leaves the quarantine, oldest first, and goes
 * back to the shared free structure.  Checking mode only. */
rgn_hidden void rgn_check_quarantine(uint32_t b, uint32_t n);
/* Blocks in quarantine now (0 outside the checking mode). */
rgn_hidden size_t rgn_check_held(void);
/* Give every quarantined block back (an allocation found the space
 * short): true if there were any. */
rgn_hidden bool rgn_check_drain(void);

#endif /* RGN_QUARANTINE_H */
