/*
 * backend/blocks.h - the blocks backend (backend/blocks.c) and its inline
 * one-block fast paths.
 */
#ifndef RGN_BACKEND_BLOCKS_H
#define RGN_BACKEND_BLOCKS_H

#include "backend.h"
#include "../tcache.h"

#define RGN_TAG_CHUNK 1u
#define RGN_TAG_LARGE 2u
#define RGN_CHUNK_MAX_DEFAULT 64u  /* blocks: 256 KiB */
#define RGN_CHUNK_FIRST_GROW  2u   /* blocks of the second chunk */

/*
 * A blocks-backend region's header, at the start of its own block.
 * Invariants:
 *   h.chunk_start <= h.bump.cur <= h.bump.end == end of the span at chunk
 *   the chain head ... own block holds nspans spans, h.blocks blocks in all
 *   used == used_done + (h.bump.cur - h.chunk_start)
 *   h.bump.base == rgn_blocks_ref_base()
 *   h.blocks == 1 exactly when the region holds its own block alone,
 *   never grown
 */
struct rgn_blk_region {
	struct rgn_region h;
	uint32_t          chunk;       /* first block of the current chunk */
	uint32_t          head;        /* newest span of the chain */
	uint32_t          nspans;      /* spans on the chain, own block too */
	uint32_t          next_chunk;  /* blocks for the next chunk */
	uint32_t          chunk_max;   /* blocks */
	size_t            used_done;   /* bytes used outside the current chunk */
};

/* A new root region of the default shape, from a block of the thread's
 * cache; NULL with errno. */
rgn_hidden rgn_region *rgn_blocks_create(void);

/* The one-block region's fast paths, which rgn_new and rgn_destroy call
 * inline (never through the method table): the last one-block region a
 * thread destroyed stays in its cache as a spare, header ready, and
 * counted live, so that creating and destroying it again costs no
 * counting either.  Take it (NULL: none)... */
static inline rgn_region *rgn_blocks_take_spare(void)
{
	struct rgn_tcache *tc = &rgn_tc;
	rgn_region *r = atomic_load_explicit(&tc->spare, memory_order_relaxed);

	if (rgn_likely(r != NULL)) {
		atomic_store_explicit(&tc->spare, NULL, memory_order_relaxed);
		/* the header is as keep_spare left it; the rest is free */
		rgn_track_given(r, RGN_BLOCK_SIZE);
		rgn_track_defined(r, sizeof(struct rgn_blk_region));
		r->magic = RGN_MAGIC_LIVE;
		r->bump.end = (char *)r + RGN_BLOCK_SIZE;
	}
	return r;
}

/* ...and keep r, a region of one block (r->blocks == 1) with no child and
 * no cleanup, as the spare (false: the slot is taken; nothing done).
 * chunk, head, nspans, end and chunk_start are already a new region's. */
static inline bool rgn_blocks_keep_spare(rgn_region *r)
{
	struct rgn_blk_region *b = (struct rgn_blk_region *)r;
	struct rgn_tcache *tc = &rgn_tc;

	rgn_assert_internal(r->blocks == 1 && r->backend == RGN_BACKEND_BLOCKS && !r->flags);
	if (atomic_load_explicit(&tc->spare, memory_order_relaxed) || !tc->limit)
		return false;
	rgn_assert_internal(b->used_done == 0 && b->nspans == 1);
	r->bump.cur = r->chunk_start;
	rgn_region_die(r);
	r->gen = 0; /* its marks: stale in its next life */
	r->nhist = 0;
	r->tail_floor = r->tail_at = NULL;
	r->name = NULL;
	b->next_chunk = RGN_CHUNK_FIRST_GROW;
	b->chunk_max = RGN_CHUNK_MAX_DEFAULT;
	rgn_track_taken(r, RGN_BLOCK_SIZE);
	atomic_store_explicit(&tc->spare, r, memory_order_relaxed);
	return true;
}

rgn_hidden extern const struct rgn_backend_ops rgn_blocks_backend;

#endif /* RGN_BACKEND_BLOCKS_H */
