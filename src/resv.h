/*
 * resv.h - reservations (resv.c).
 */
#ifndef RGN_RESV_H
#define RGN_RESV_H

#include "common.h"

/*
 * A reservation: address space reserved inaccessible, made read-write from
 * the bottom up in steps.  The shared space is one; every contiguous
 * region lives in another.  Invariants:
 *   base is aligned as reserved; size and step are multiples of the page
 *   [base, base + guard) is never accessible (reference 0 decodes there)
 *   guard <= committed <= size, and committed is guard, size, or a
 *   multiple of step: [base + guard, base + committed) is read-write, the
 *   rest inaccessible
 * The owner serialises calls on one reservation.
 */
struct rgn_resv {
	char  *base;
	size_t size;
	size_t guard;
	size_t committed;
	size_t step;
};

/* Reserve size bytes aligned to align (nothing read-write yet). */
rgn_hidden int rgn_resv_reserve(struct rgn_resv *v, size_t size, size_t align,
                                size_t guard, size_t step);
/* Take over [base, base + size), reserved already (the space's placement
 * is the decode mode's). */
rgn_hidden void rgn_resv_adopt(struct rgn_resv *v, void *base, size_t size,
                               size_t guard, size_t step);
/* Make [base + guard, base + upto) read-write, rounded up to a step.
 * 0, or ENOMEM (past the end, or the OS refused: the mapping limit). */
rgn_hidden int rgn_resv_commit(struct rgn_resv *v, size_t upto);
/* Give back the pages of [base + off, base + off + n): at once (lazy
 * false: they read zero afterwards) or when the OS needs them (lazy:
 * MADV_FREE).  The range stays read-write.  0 or an errno value. */
rgn_hidden int rgn_resv_purge(struct rgn_resv *v, size_t off, size_t n, bool lazy);
/* Make the steps wholly above offset keep inaccessible again. */
rgn_hidden void rgn_resv_uncommit(struct rgn_resv *v, size_t keep);
rgn_hidden void rgn_resv_release(struct rgn_resv *v);

#endif /* RGN_RESV_H */
