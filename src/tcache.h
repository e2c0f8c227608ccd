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
#define RGN_TCACHE_BATCH 32   /* blocks moved per drain, and most per refill */
#endif
#define RGN_TCACHE_BATCH_MIN 8 /* a refill's first size (see tcache.c) */
/* Small spans kept per thread: lengths 2, 4, 8 and 16 blocks (the first
 * chunk sizes, and a 64 KiB buffer), up to RGN_SPAN_CACHE of each. */
#define RGN_SPAN_CLASSES 4
#define RGN_SPAN_CACHE   2
/* The cache's idle period, in its own operations (a block or span taken
 * or given).  At the end of each, what stayed unused all period long (the
 * low-water mark of each list) goes back, three quarters of it, rounded
 * up, oldest first: rgn_tcache_age. */
#ifndef RGN_TCACHE_IDLE_OPS
#define RGN_TCACHE_IDLE_OPS 64
#endif

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
	/* idle tracking: operations left in this period, and the fewest
	 * blocks (spans of each class) the cache held during it; low <= n
	 * and span_low[c] <= nspan[c] hold at every period's end */
	uint32_t           ops;
	uint32_t           low;
	uint32_t           batch;        /* blocks the next refill takes */
	uint8_t            span_low[RGN_SPAN_CLASSES];
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
/* End of an idle period: give back what stayed unused in it (tc is the
 * caller's own). */
rgn_hidden void rgn_tcache_age(struct rgn_tcache *tc);

/* What rgn_space_trim gives back besides the blocks, registered by the
 * layer above that keeps it (the tracing copy's forwarding table), so
 * that this layer calls up without knowing it; NULL until then. */
typedef void rgn_trim_fn(void);
rgn_hidden extern _Atomic(rgn_trim_fn *) rgn_trim_more;

/* The cache holds n single blocks now: keep its period's low-water mark. */
static inline void rgn_tcache_note_low(struct rgn_tcache *tc, uint32_t n)
{
	if (n < tc->low)
		tc->low = n;
}

/* One operation of the cache; ends the idle period after the last. */
static inline void rgn_tcache_tick(struct rgn_tcache *tc)
{
	if (rgn_unlikely(--tc->ops == 0))
		rgn_tcache_age(tc);
}

/* One block, from the calling thread's cache when it has one. */
static inline uint32_t rgn_blk_get1(void)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t n = atomic_load_explicit(&tc->n, memory_order_relaxed);

	if (rgn_likely(n > 0)) {
		uint32_t b = tc->blk[--n];
		atomic_store_explicit(&tc->n, n, memory_order_relaxed);
		rgn_track_given(rgn_blk_addr(b), RGN_BLOCK_SIZE);
		rgn_tcache_note_low(tc, n);
		rgn_tcache_tick(tc);
		return b;
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
		rgn_tcache_tick(tc);
		return;
	}
	rgn_blk_put1_slow(b);
}

#endif /* RGN_TCACHE_H */
