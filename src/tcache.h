/*
 * tcache.h - the per-thread caches, front of the block layer (tcache.c).
 */
#ifndef RGN_TCACHE_H
#define RGN_TCACHE_H

#include "space.h"

/*
 * The rest of the library takes and gives blocks through these functions,
 * which serve what they can from the calling thread's cache and go to
 * blocks.c for the rest. */

#ifndef RGN_TCACHE_MAX
#define RGN_TCACHE_MAX   64   /* blocks a thread keeps */
#endif
#ifndef RGN_TCACHE_BATCH
#define RGN_TCACHE_BATCH 32   /* blocks moved per refill or drain */
#endif
/* Small spans kept per thread: lengths 2, 4, 8 and 16 blocks (the first
 * chunk sizes, and a 64 KiB buffer), up to RGN_SPAN_CACHE of each. */
#define RGN_SPAN_CLASSES 4
#define RGN_SPAN_CACHE   4

/* Invariant: every block in blk[], span[][] and spare is USED as far as
 * blocks.c knows, and held by this thread alone. */
struct rgn_tcache {
	_Atomic uint32_t   n;            /* blocks in blk[0..n) (read by stats) */
	/* RGN_TCACHE_MAX once registered, else 0; 0 in the checking mode
	 * too, so that no freed block and no spare region stays here */
	uint32_t           limit;
	bool               registered;
	/* one block kept whole: the last destroyed one-block region, its
	 * header kept ready by the blocks backend for the next rgn_new */
	_Atomic(void *)    spare;
	_Atomic uint32_t   span_blocks;  /* blocks in span[][] (read by stats) */
	uint8_t            nspan[RGN_SPAN_CLASSES];
	uint32_t           span[RGN_SPAN_CLASSES][RGN_SPAN_CACHE];
	struct rgn_tcache *next, *prev;  /* registry, under its lock */
	uint32_t           blk[RGN_TCACHE_MAX];
};

rgn_hidden extern rgn_thread struct rgn_tcache rgn_tc;

/* Spans of n >= 1 blocks.  Return the first block, or 0 with errno ENOMEM.
 * *zeroed (may be NULL) tells whether the span is known to read as zero
 * (then memory checkers see it defined; else undefined). */
rgn_hidden uint32_t rgn_blk_alloc(uint32_t n, bool *zeroed);
rgn_hidden uint32_t rgn_blk_alloc_aligned(uint32_t n, uint32_t align);
/* Give back a USED span of n blocks (n == its len) to the shared free
 * structure (a single block goes to the thread cache). */
rgn_hidden void rgn_blk_free(uint32_t b, uint32_t n);
/* The same, but a span of a cached length may stay with the thread. */
rgn_hidden void rgn_blk_release(uint32_t b, uint32_t n);
/* Release the spans of a chain linked through desc.next, from head up to
 * (not including) stop or the end (0). */
rgn_hidden void rgn_blk_free_chain(uint32_t head, uint32_t stop);
/* Grow the USED span at b (len n) by extra blocks in place, from the
 * thread's cache first (a run of them), then free or fresh blocks:
 * 0, or ENOMEM if they are not there. */
rgn_hidden int rgn_blk_extend(uint32_t b, uint32_t n, uint32_t extra);
/* Shrink the USED span at b (len n) to keep blocks (1 <= keep <= n). */
rgn_hidden void rgn_blk_shrink(uint32_t b, uint32_t n, uint32_t keep);
rgn_hidden uint32_t rgn_blk_get1_slow(void);
rgn_hidden void rgn_blk_put1_slow(uint32_t b);
/* Give the calling thread's cache back to the shared structure (tc is
 * always the caller's own; also the thread-exit destructor). */
rgn_hidden void rgn_tcache_flush(struct rgn_tcache *tc);
/* Blocks held by all threads' caches; *spares (may be NULL) receives
 * how many regions those caches hold as spares, and how many spares were
 * given back since (both still counted live by region.c). */
rgn_hidden size_t rgn_tcache_cached(size_t *spares);

/* One block, from the calling thread's cache when it has one. */
static inline uint32_t rgn_blk_get1(void)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t n = atomic_load_explicit(&tc->n, memory_order_relaxed);

	if (rgn_likely(n > 0)) {
		atomic_store_explicit(&tc->n, n - 1, memory_order_relaxed);
		rgn_track_given(rgn_blk_addr(tc->blk[n - 1]), RGN_BLOCK_SIZE);
		return tc->blk[n - 1];
	}
	return rgn_blk_get1_slow();
}

static inline void rgn_blk_put1(uint32_t b)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t n = atomic_load_explicit(&tc->n, memory_order_relaxed);

	rgn_track_taken(rgn_blk_addr(b), RGN_BLOCK_SIZE);
	if (rgn_likely(n < tc->limit)) {
		tc->blk[n] = b;
		atomic_store_explicit(&tc->n, n + 1, memory_order_relaxed);
		return;
	}
	rgn_blk_put1_slow(b);
}

#endif /* RGN_TCACHE_H */
