/*
 * adapter.h - the small contract between the benchmark driver (core.c)
 * and one allocator.
 *
 * Each allocator lives in its own adapt-<name>.h, and core.c includes
 * exactly one of them, chosen at build time, so that every competitor
 * gets an executable of its own and no process mixes two mallocs.  The
 * adapters are headers of static inline functions rather than separate
 * object files on purpose: rgn_alloc's fast path is inline in rgn.h, and
 * an out-of-line wrapper would put a call around every allocation and
 * measure the harness instead of the allocator.
 *
 * The contract, in the words of regions (malloc pretends to have one):
 *
 *   BA_NAME          a short name printed in every result line
 *   BA_FREES_EACH    1 if ba_release needs the list of pointers (malloc),
 *                    0 if dropping the region frees everything at once
 *   ba_setup(live, out)
 *                    once, before anything else; live is the most bytes
 *                    the driver will hold at one time.  Prints "info ..."
 *                    lines (allocator name and version) to out.  Returns 0,
 *                    or -1 after printing why to stderr.
 *   ba_new()         a fresh, empty region (NULL on failure)
 *   ba_alloc(r, n)   n bytes from r (NULL on failure)
 *   ba_release(r, ptrs, count)
 *                    free every allocation of r and r itself.  ptrs holds
 *                    the count allocations made in r when BA_FREES_EACH,
 *                    and is NULL otherwise.
 *   ba_stats(out)    optional "info ..." lines after the runs
 */
#ifndef BENCH_ADAPTER_H
#define BENCH_ADAPTER_H

#include <stddef.h>
#include <stdio.h>

/* Opaque to the driver; each adapter casts it to its own type. */
typedef struct ba_region ba_region;

static int ba_setup(size_t live_bytes, FILE *out);
static inline ba_region *ba_new(void);
static inline void *ba_alloc(ba_region *r, size_t n);
static inline void ba_release(ba_region *r, void *const *ptrs, size_t count);
static void ba_stats(FILE *out);

/* Make the compiler believe p is used, so that no allocation can be
 * removed or merged with its free, without costing an instruction. */
static inline void bench_escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

#endif /* BENCH_ADAPTER_H */
