/*
 * backend/contig.h - the contiguous backend (backend/contig.c).
 */
#ifndef RGN_BACKEND_CONTIG_H
#define RGN_BACKEND_CONTIG_H

#include "backend.h"

#define RGN_CONTIG_MIN     ((size_t)1 << 20)   /* smallest reservation */
#define RGN_CONTIG_MAX     ((size_t)32 << 30)  /* refs reach no further */
#define RGN_CONTIG_DEFAULT RGN_CONTIG_MAX
/* The first page of every reservation is never accessible (ref 0). */
#define RGN_CONTIG_GUARD   ((size_t)RGN_BLOCK_SIZE)
/* The read-write part grows in steps of this many bytes (DESIGN.md 11). */
#define RGN_CONTIG_COMMIT  ((size_t)64 << 10)
#define RGN_CONTIG_RETAIN  ((size_t)1 << 20)   /* default retained size */
#define RGN_CONTIG_CACHE_DEFAULT 8
#define RGN_CONTIG_CACHE_LIMIT   256

/* A live contiguous region's used range, for rgn_image_write: [base,
 * base + *used) is everything from the guard page to the bump pointer,
 * and its objects start at base + *objects (after the header).  0, EINVAL
 * (not a live region) or ENOTSUP (another backend). */
rgn_hidden int rgn_contig_used_range(const rgn_region *r, const char **base,
                                     size_t *objects, size_t *used);

/* A live contiguous region's reservation size. */
rgn_hidden size_t rgn_contig_reserve_of(const rgn_region *r);

/* r's read-write part made to hold t's used bytes (t: r's compacted copy,
 * at the same offsets): 0 or an errno, r unchanged on an error. */
rgn_hidden int rgn_contig_room_for(rgn_region *r, const rgn_region *t);

rgn_hidden extern const struct rgn_backend_ops rgn_contig_backend;

#endif /* RGN_BACKEND_CONTIG_H */
