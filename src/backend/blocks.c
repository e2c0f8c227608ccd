/*
 * backend/blocks.c - the blocks backend (RGN_BACKEND_BLOCKS, the
 * default): regions bump-allocate in a chain of spans of the shared space.
 *
 * A region lives in the first block it owns: creating one takes one block
 * (normally from the thread's cache), writes the header below at its
 * start and bumps after it.  When the current chunk is full the region
 * takes a new chunk whose size doubles, from 2 blocks up to chunk_max
 * (256 KiB by default), so a tiny region holds one block and a region
 * with millions of objects refills rarely.  Objects larger than an eighth
 * of chunk_max, and objects aligned beyond a block, get a span of their
 * own ("large" spans) so that they waste no chunk space.
 *
 * Every span a region holds, chunks and large spans alike, is on one
 * chain linked through the descriptors' next field, newest first; the
 * region's own block is always the oldest, last on the chain.  LIFO order
 * is what makes rewinding cheap (pop spans down to the mark) and merging
 * O(1) (splice src's chain on top of dst's).  Releasing walks the chain
 * through the side table and never reads the freed memory.
 *
 * The one-block region is the common case: rgn_new and rgn_destroy use
 * the inline fast paths in internal.h (rgn_blocks_take_spare,
 * rgn_blocks_keep_spare): the last region a thread destroyed stays in its
 * cache as a spare, header ready, for the next rgn_new.
 */
#include "blocks.h"
#include "../decode.h"
#include "../space.h"

#include <string.h>

#define CHUNK_MAX_DEFAULT RGN_CHUNK_MAX_DEFAULT
#define CHUNK_FIRST_GROW  RGN_CHUNK_FIRST_GROW

/* The header (struct rgn_blk_region, whose invariants internal.h states
 * with it, since the one-block fast paths there read it). */
#define blk_region rgn_blk_region

#define HDR ((sizeof(struct blk_region) + 7) & ~(size_t)7)
_Static_assert(HDR <= RGN_BLOCK_SIZE / 16, "header fits a block with room");

static inline struct blk_region *B(rgn_region *r)
{
	return (struct blk_region *)r;
}

static inline const struct blk_region *CB(const rgn_region *r)
{
	return (const struct blk_region *)r;
}

static inline uint32_t blocks_for(size_t n)
{
	return (uint32_t)((n + RGN_BLOCK_SIZE - 1) >> RGN_BLOCK_SHIFT);
}

static inline uint32_t own_block(const rgn_region *r)
{
	return rgn_blk_index(r);
}

/* Bytes above which an object gets a span of its own. */
static inline size_t large_threshold(const struct blk_region *b)
{
	return ((size_t)b->chunk_max << RGN_BLOCK_SHIFT) / 8;
}

/* ---- create and release ----------------------------------------------------------- */

/* Write a new region's header at the start of block b.  Field by field:
 * a compound literal became `rep stos`, which cost more than the whole
 * create (14.8 ns a cycle against 7.5).  The own block's descriptor is
 * not written: the chain is walked down to the own block, never through
 * it.  stack_prev and stack_nulls are written by rgn_push, their only
 * reader. */
static inline __attribute__((always_inline))
rgn_region *region_init(uint32_t blk, uint32_t chunk_max)
{
	char *mem = rgn_blk_addr(blk);
	struct blk_region *b = (struct blk_region *)mem;
	rgn_region *r = &b->h;

	r->bump.cur = mem + HDR;
	r->bump.end = mem + RGN_BLOCK_SIZE;
	r->bump.base = rgn_blocks_ref_base();
	r->magic = RGN_MAGIC_LIVE;
	r->backend = RGN_BACKEND_BLOCKS;
	r->flags = 0;
	r->gen = 0;
	r->nhist = 0;
	r->hist_out = NULL;
	r->chunk_start = mem + HDR;
	r->tail_floor = NULL;
	r->tail_at = NULL;
	r->parent = r->child = r->next = r->prev = NULL;
	r->cleanups = NULL;
	r->name = NULL;
	b->chunk = blk;
	b->head = blk;
	b->nspans = 1;
	b->next_chunk = chunk_max < CHUNK_FIRST_GROW ? chunk_max : CHUNK_FIRST_GROW;
	b->chunk_max = chunk_max;
	b->used_done = 0;
	b->h.blocks = 1;
	return r;
}

static rgn_noinline rgn_region *region_create(uint32_t chunk_max)
{
	uint32_t blk = rgn_blk_get1();

	if (!blk)
		return errno == ENOMEM ? rgn_oom(RGN_BLOCK_SIZE) : NULL;
	return region_init(blk, chunk_max);
}

rgn_region *rgn_blocks_create(void)
{
	return region_create(CHUNK_MAX_DEFAULT);
}

static rgn_region *blocks_create(const rgn_options *o)
{
	uint32_t chunk_max = CHUNK_MAX_DEFAULT;

	if (o->chunk_max) {
		size_t n = o->chunk_max >> RGN_BLOCK_SHIFT;
		chunk_max = n < 1 ? 1 : n > (1u << 18) ? (1u << 18) : (uint32_t)n;
	}
	return region_create(chunk_max);
}

/* The chain down to the own block, then the own block (whose descriptor
 * may be stale: only its length is read, and only if it grew). */
static void blocks_release(rgn_region *r)
{
	struct blk_region *b = B(r);
	uint32_t own = own_block(r);
	uint32_t own_len = b->h.blocks == 1 ? 1 : rgn_desc_of(own)->len;

	if (b->nspans > 1)
		rgn_blk_free_chain(b->head, own);
	rgn_blk_release(own, own_len);
}

static void blocks_reset(rgn_region *r)
{
	struct blk_region *b = B(r);
	uint32_t own = own_block(r);

	rgn_blk_free_chain(b->head, own);
	if (b->h.blocks > 1 && rgn_desc_of(own)->len > 1) /* grown in place */
		rgn_blk_shrink(own, rgn_desc_of(own)->len, 1);
	b->head = own;
	b->chunk = own;
	b->nspans = 1;
	b->h.blocks = 1;
	r->bump.cur = r->chunk_start = (char *)r + HDR;
	r->bump.end = rgn_blk_addr(own) + RGN_BLOCK_SIZE;
	b->used_done = 0;
	b->next_chunk = b->chunk_max < CHUNK_FIRST_GROW ? b->chunk_max : CHUNK_FIRST_GROW;
}

/* ---- chunks and large spans ------------------------------------------------------- */

/* Put span s (n blocks, already USED) on top of r's chain. */
static inline void chain_push(struct blk_region *b, uint32_t s, uint32_t n, uint32_t tag)
{
	rgn_desc_of(s)->next = b->head;
	rgn_desc_of(s)->tag = tag;
	b->head = s;
	b->nspans++;
	b->h.blocks += n;
}

/* Make a new chunk of n blocks current.  0 or -1 with errno. */
static int chunk_add(struct blk_region *b, uint32_t n)
{
	rgn_region *r = &b->h;
	uint32_t s = n == 1 ? rgn_blk_get1() : rgn_blk_alloc(n, NULL);

	if (!s)
		return -1;
	chain_push(b, s, n, RGN_TAG_CHUNK);
	b->used_done += (size_t)(r->bump.cur - r->chunk_start);
	b->chunk = s;
	r->chunk_start = r->bump.cur = rgn_blk_addr(s);
	r->bump.end = r->bump.cur + ((size_t)n << RGN_BLOCK_SHIFT);
	r->tail_floor = NULL;
	return 0;
}

static int blocks_chunk(rgn_region *r, size_t n)
{
	if (n > rgn_space_g.size) {
		errno = ENOMEM;
		return -1;
	}
	return chunk_add(B(r), blocks_for(n));
}

/* A new chunk for an object of n bytes (n <= large threshold): the next
 * size in the geometric series, or less if the space is short of it. */
static int chunk_grow(struct blk_region *b, size_t n)
{
	uint32_t need = blocks_for(n), want = b->next_chunk;

	if (want < need)
		want = need;
	if (chunk_add(b, want) != 0 && (want == need || chunk_add(b, need) != 0))
		return -1;
	if (b->next_chunk < b->chunk_max)
		b->next_chunk = b->next_chunk * 2 > b->chunk_max
		                ? b->chunk_max : b->next_chunk * 2;
	return 0;
}

/* A span of its own for n bytes, aligned to align blocks. */
static void *alloc_large(struct blk_region *b, size_t n, uint32_t align, bool *zeroed)
{
	uint32_t nb, s;
	bool z = false;

	if (n > rgn_space_g.size)
		return rgn_oom(n);
	nb = blocks_for(n);
	/* ask about zero only for rgn_calloc: a span known to be zero is
	 * defined to memory checkers, which must see rgn_alloc's undefined */
	s = align > 1 ? rgn_blk_alloc_aligned(nb, align)
	              : rgn_blk_alloc(nb, zeroed ? &z : NULL);
	if (!s)
		return errno == ENOMEM ? rgn_oom(n) : NULL;
	chain_push(b, s, nb, RGN_TAG_LARGE);
	b->used_done += rgn_round8(n);
	if (zeroed)
		*zeroed = z;
	return rgn_blk_addr(s);
}

/* A fresh chunk or span starts on a block boundary: no padding. */
static void *blocks_alloc(rgn_region *r, size_t n, size_t align, bool *zeroed)
{
	struct blk_region *b = B(r);
	char *p;

	if (align > RGN_BLOCK_SIZE) {
		if (align > rgn_space_g.size)
			return rgn_oom(n);
		return alloc_large(b, n, (uint32_t)(align >> RGN_BLOCK_SHIFT), zeroed);
	}
	if (n > large_threshold(b))
		return alloc_large(b, n, 1, zeroed); /* fresh or purged: zeroed */
	if (chunk_grow(b, n) != 0)
		return errno == ENOMEM ? rgn_oom(n) : NULL;
	p = r->bump.cur;
	r->bump.cur = p + rgn_round8(n);
	return p;
}

/* ---- growing and trimming in place ----------------------------------------------------- */

static int blocks_extend(rgn_region *r, size_t extra_bytes)
{
	struct blk_region *b = B(r);
	uint32_t extra = blocks_for(extra_bytes);

	if (extra_bytes > rgn_space_g.size ||
	    rgn_blk_extend(b->chunk, rgn_desc_of(b->chunk)->len, extra) != 0)
		return -1;
	r->bump.end += (size_t)extra << RGN_BLOCK_SHIFT;
	b->h.blocks += extra;
	return 0;
}

/* Give back the whole blocks of the chunk at (or holding) chunk_ptr that
 * lie at or above keep_end, keeping at least its first block. */
static void blocks_trim(rgn_region *r, void *chunk_ptr, char *keep_end)
{
	struct blk_region *b = B(r);
	uint32_t c = chunk_ptr ? rgn_blk_index(chunk_ptr) : b->chunk;
	char *base = rgn_blk_addr(c);
	uint32_t len = rgn_desc_of(c)->len;
	uint32_t keep = blocks_for((size_t)(keep_end - base));

	if (keep < 1)
		keep = 1;
	if (keep < len) {
		rgn_blk_shrink(c, len, keep);
		b->h.blocks -= len - keep;
		if (c == b->chunk)
			r->bump.end = base + ((size_t)keep << RGN_BLOCK_SHIFT);
	}
}

static size_t blocks_max_size(const rgn_region *r)
{
	(void)r;
	return rgn_space_g.size;
}

/* ---- marks -------------------------------------------------------------------------- */

enum { M_CHUNK, M_HEAD, M_USED_DONE, M_NSPANS };

static void blocks_save(const rgn_region *r, struct rgn_mark_priv *mp)
{
	const struct blk_region *b = CB(r);

	mp->b[M_CHUNK] = b->chunk;
	mp->b[M_HEAD] = b->head;
	mp->b[M_USED_DONE] = b->used_done;
	mp->b[M_NSPANS] = b->nspans;
	mp->pos = b->used_done + (size_t)(r->bump.cur - r->chunk_start);
}

/* The mark's span must be on the chain, and its bump pointer inside its
 * chunk as the chunk is now (a tail commit may have shortened it). */
static bool blocks_mark_valid(const rgn_region *r, const struct rgn_mark_priv *mp)
{
	const struct blk_region *b = CB(r);
	uint32_t own = own_block(r), chunk = (uint32_t)mp->b[M_CHUNK], x;
	char *base;

	for (x = b->head; x != mp->b[M_HEAD]; x = rgn_desc_of(x)->next)
		if (x == own)
			return false;
	/* the mark's chunk is at or below the mark's head on the chain */
	for (x = (uint32_t)mp->b[M_HEAD]; x != chunk && x != own; x = rgn_desc_of(x)->next)
		;
	if (x != chunk)
		return false;
	base = rgn_blk_addr(chunk);
	return mp->cur >= (chunk == own ? (char *)r + HDR : base) &&
	       mp->cur <= base + ((size_t)rgn_desc_of(chunk)->len << RGN_BLOCK_SHIFT);
}

static void blocks_rewind(rgn_region *r, const struct rgn_mark_priv *mp)
{
	struct blk_region *b = B(r);
	uint32_t own = own_block(r), x, popped = 0, head = (uint32_t)mp->b[M_HEAD];
	size_t freed = 0;
	char *base;

	if (b->head != head) { /* spans to pop (a loop in one chunk has none) */
		for (x = b->head; x != head; x = rgn_desc_of(x)->next) {
			freed += rgn_desc_of(x)->len;
			popped++;
		}
		rgn_blk_free_chain(b->head, head);
	}
	b->head = head;
	b->nspans -= popped;
	b->h.blocks -= freed;
	b->chunk = (uint32_t)mp->b[M_CHUNK];
	base = rgn_blk_addr(b->chunk);
	r->chunk_start = b->chunk == own ? (char *)r + HDR : base;
	r->bump.end = base + ((size_t)rgn_desc_of(b->chunk)->len << RGN_BLOCK_SHIFT);
	b->used_done = mp->b[M_USED_DONE];
}

/* ---- merge and statistics ---------------------------------------------------------------- */

/* src's chain goes on top of dst's, its own block as a chunk. */
static int blocks_merge(rgn_region *dst, rgn_region *src)
{
	struct blk_region *d = B(dst), *s = B(src);

	rgn_desc_of(own_block(src))->next = d->head;
	rgn_desc_of(own_block(src))->tag = RGN_TAG_CHUNK;
	d->head = s->head;
	d->nspans += s->nspans;
	d->h.blocks += s->h.blocks;
	d->used_done += s->used_done + (size_t)(src->bump.cur - src->chunk_start);
	return 0;
}

static size_t blocks_used(const rgn_region *r)
{
	return CB(r)->used_done + (size_t)(r->bump.cur - r->chunk_start);
}

static void blocks_stats(const rgn_region *r, struct rgn_region_stats *st)
{
	const struct blk_region *b = CB(r);
	uint32_t own = own_block(r);

	st->used = blocks_used(r);
	st->blocks = b->h.blocks;
	for (uint32_t x = b->head; x != own; x = rgn_desc_of(x)->next) {
		if (rgn_desc_of(x)->tag == RGN_TAG_LARGE)
			st->large++;
		else
			st->chunks++;
	}
	st->chunks++; /* the own block */
}

static void blocks_spans(const rgn_region *r, void (*fn)(void *, uint32_t, uint32_t),
                         void *arg)
{
	const struct blk_region *b = CB(r);
	uint32_t own = own_block(r);

	for (uint32_t x = b->head; x != own; x = rgn_desc_of(x)->next)
		fn(arg, x, rgn_desc_of(x)->len);
	fn(arg, own, b->h.blocks == 1 ? 1 : rgn_desc_of(own)->len);
}

/* Compaction: r's chain goes back but for its own block, t's chain (its
 * last chunk trimmed to what it holds) goes on top of it, and r keeps
 * bumping in what its own block has left. */
static bool blocks_replace(rgn_region *r, rgn_region *t)
{
	/* the copy's last chunk keeps only what it filled */
	if (B(t)->chunk != own_block(t))
		blocks_trim(t, NULL, t->bump.cur);
	blocks_reset(r);
	blocks_merge(r, t);
	return true;
}

const struct rgn_backend_ops rgn_blocks_backend = {
	.name = "blocks",
	.create = blocks_create,
	.release = blocks_release,
	.reset = blocks_reset,
	.alloc = blocks_alloc,
	.extend = blocks_extend,
	.chunk = blocks_chunk,
	.trim = blocks_trim,
	.max_size = blocks_max_size,
	.save = blocks_save,
	.mark_valid = blocks_mark_valid,
	.rewind = blocks_rewind,
	.merge = blocks_merge,
	.used = blocks_used,
	.stats = blocks_stats,
	.spans = blocks_spans,
	.replace = blocks_replace,
};
