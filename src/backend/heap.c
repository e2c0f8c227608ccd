/*
 * backend/heap.c - the heap backend (RGN_BACKEND_HEAP): a region of the
 * shared space whose objects come in size classes and can be freed one by
 * one (backend/heap.h says how; the inline paths are there).  This file
 * has what is not inline: making and releasing the region, cutting pages
 * from chunks, large spans, the rest of realloc, statistics and the debug
 * check of a freed pointer.
 *
 * Chunks grow as the blocks backend's do (4 blocks, then doubling up to
 * chunk_max, 1 MiB by default) and are linked through their first
 * descriptor's next.  A page of class c is cut from the current chunk's
 * uncut end; when the chunk cannot hold the next page, the blocks it did
 * not use go back to the space and a new chunk starts.
 */
#include "heap.h"
#include "../decode.h"
#include "../tcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_CHUNK_FIRST 4u

/* 8, 16 .. 64, then eight steps per doubling up to 32 KiB. */
#define CS(c) ((c) < 8u ? ((c) + 1u) * 8u : (8u + ((c) & 7u) + 1u) << ((c) < 8u ? 0u : ((c) - 8u) / 8u + 3u))
#define CS8(c) CS(c), CS(c + 1), CS(c + 2), CS(c + 3), CS(c + 4), CS(c + 5), CS(c + 6), CS(c + 7)
const uint32_t rgn_heap_size[RGN_HEAP_CLASSES] = {
	CS8(0u), CS8(8u), CS8(16u), CS8(24u), CS8(32u),
	CS8(40u), CS8(48u), CS8(56u), CS8(64u), CS8(72u),
};
#undef CS8
#undef CS
_Static_assert(RGN_HEAP_CLASSES == 80 && RGN_HEAP_SMALL_MAX == 32768, "class table");

static inline struct rgn_heap_region *H(rgn_region *r)
{
	return (struct rgn_heap_region *)r;
}

static inline const struct rgn_heap_region *CH(const rgn_region *r)
{
	return (const struct rgn_heap_region *)r;
}

static inline uint32_t blocks_for(size_t n)
{
	return (uint32_t)((n + RGN_BLOCK_SIZE - 1) >> RGN_BLOCK_SHIFT);
}

/* Blocks of a page of class c: the fewest (at least one object) whose
 * unused end is at most an eighth of the page.  One block up to 512 bytes;
 * never more than 8 (the 32 KiB class). */
static uint32_t page_blocks(unsigned c)
{
	size_t size = rgn_heap_size[c];

	for (uint32_t n = 1;; n++) {
		size_t bytes = (size_t)n << RGN_BLOCK_SHIFT;
		if (bytes >= size && bytes % size <= bytes / 8)
			return n;
	}
}

/* Ids of heap region lives: never 0 (a block no heap region wrote). */
static _Atomic uint32_t next_id = 1;

static uint32_t fresh_id(void)
{
	uint32_t id;

	do
		id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
	while (id == 0);
	return id;
}

/* ---- create, release, reset ---------------------------------------------------------- */

static void heap_init(struct rgn_heap_region *h, uint32_t chunk_max)
{
	memset(h->cls, 0, sizeof(h->cls));
	h->id = fresh_id();
	h->head = h->carve = h->chunk_end = 0;
	h->nchunks = 0;
	h->next_chunk = chunk_max < HEAP_CHUNK_FIRST ? chunk_max : HEAP_CHUNK_FIRST;
	h->chunk_max = chunk_max;
	h->large = 0;
	h->nlarge = 0;
	h->used = 0;
	h->blocks = 1;
	/* never room: rgn_alloc's inline path always goes out of line */
	h->h.bump.cur = h->h.bump.end = h->h.chunk_start = (char *)(h + 1);
}

static rgn_region *heap_create(const rgn_options *o)
{
	uint32_t chunk_max = RGN_CHUNK_MAX_DEFAULT_HEAP, blk = rgn_blk_get1();
	struct rgn_heap_region *h;
	rgn_region *r;

	if (!blk)
		return errno == ENOMEM ? rgn_oom(RGN_BLOCK_SIZE) : NULL;
	if (o->chunk_max) {
		size_t n = o->chunk_max >> RGN_BLOCK_SHIFT;
		/* a chunk holds the largest page (8 blocks) */
		chunk_max = n < 8 ? 8 : n > (1u << 18) ? (1u << 18) : (uint32_t)n;
	}
	h = (struct rgn_heap_region *)rgn_blk_addr(blk);
	rgn_track_defined(h, sizeof(*h));
	r = &h->h;
	memset(r, 0, sizeof(*r));
	r->bump.base = rgn_blocks_ref_base();
	r->magic = RGN_MAGIC_LIVE;
	r->backend = RGN_BACKEND_HEAP;
	heap_init(h, chunk_max);
	return r;
}

/* Every chunk and large span back to the space; the own block stays. */
static void heap_free_all(struct rgn_heap_region *h)
{
	uint32_t x, next;

	if (h->head)
		rgn_blk_free_chain(h->head, 0);
	for (x = h->large; x; x = next) {
		next = rgn_desc_of(x)->next;
		rgn_blk_release(x, rgn_desc_of(x)->len);
	}
}

static void heap_release(rgn_region *r)
{
	heap_free_all(H(r));
	rgn_blk_release(rgn_blk_index(r), 1);
}

static void heap_reset(rgn_region *r)
{
	struct rgn_heap_region *h = H(r);

	heap_free_all(h);
	heap_init(h, h->chunk_max);
}

/* ---- pages and chunks ------------------------------------------------------------------ */

/* The blocks the current chunk left uncut go back to the space. */
static void chunk_trim(struct rgn_heap_region *h)
{
	if (h->head && h->carve < h->chunk_end) {
		uint32_t len = rgn_desc_of(h->head)->len;
		rgn_blk_shrink(h->head, len, h->carve - h->head);
		h->blocks -= h->chunk_end - h->carve;
		h->chunk_end = h->carve;
	}
}

/* A new chunk of at least need blocks; what the current one left uncut
 * goes back first.  0, or -1 with errno. */
static int chunk_new(struct rgn_heap_region *h, uint32_t need)
{
	uint32_t want = h->next_chunk > need ? h->next_chunk : need, s;

	chunk_trim(h);
	s = rgn_blk_alloc(want, NULL);
	if (!s && want > need)
		s = rgn_blk_alloc(want = need, NULL);
	if (!s)
		return -1;
	rgn_desc_of(s)->next = h->head;
	h->head = s;
	h->carve = s;
	h->chunk_end = s + want;
	h->nchunks++;
	h->blocks += want;
	if (h->next_chunk < h->chunk_max)
		h->next_chunk = h->next_chunk * 2 > h->chunk_max ? h->chunk_max : h->next_chunk * 2;
	return 0;
}

/* A new current page for class c; 0, or -1 with errno. */
static int page_new(struct rgn_heap_region *h, unsigned c)
{
	uint32_t n = page_blocks(c), pg, i;
	size_t size = rgn_heap_size[c], bytes = (size_t)n << RGN_BLOCK_SHIFT;
	char *mem;

	if (h->chunk_end - h->carve < n && chunk_new(h, n) != 0)
		return -1;
	pg = h->carve;
	h->carve += n;
	for (i = 0; i < n; i++) {
		struct rgn_desc *d = rgn_desc_of(pg + i);
		d->tag = RGN_TAG_HEAP_PAGE | (uint32_t)c << 8;
		d->prev = h->id;
		d->dnext = i;
	}
	mem = rgn_blk_addr(pg);
	/* objects are given one by one as they are handed out */
	rgn_track_taken(mem, bytes);
	h->cls[c].cur = mem;
	h->cls[c].end = mem + bytes / size * size;
	return 0;
}

/* A span of its own for n bytes (n > 32 KiB, or aligned beyond a block). */
static void *large_alloc(struct rgn_heap_region *h, size_t n, uint32_t align, bool *zeroed)
{
	uint32_t nb, s;
	bool z = false;
	struct rgn_desc *d;

	if (n > rgn_space_g.size)
		return rgn_oom(n);
	nb = blocks_for(n);
	s = align > 1 ? rgn_blk_alloc_aligned(nb, align) : rgn_blk_alloc(nb, zeroed ? &z : NULL);
	if (!s)
		return errno == ENOMEM ? rgn_oom(n) : NULL;
	d = rgn_desc_of(s);
	d->tag = RGN_TAG_HEAP_LARGE;
	d->prev = h->id;
	d->next = h->large;
	d->dprev = 0;
	if (h->large)
		rgn_desc_of(h->large)->dprev = s;
	h->large = s;
	h->nlarge++;
	h->blocks += nb;
	h->used += (size_t)nb << RGN_BLOCK_SHIFT;
	if (zeroed)
		*zeroed = z;
	return rgn_blk_addr(s);
}

void *rgn_heap_alloc_slow(rgn_region *r, size_t n)
{
	struct rgn_heap_region *h = H(r);
	unsigned c;

	if (n > RGN_HEAP_SMALL_MAX)
		return large_alloc(h, n, 1, NULL);
	c = rgn_heap_class_of(n);
	if (page_new(h, c) != 0)
		return errno == ENOMEM ? rgn_oom(n) : NULL;
	return rgn_heap_alloc(r, n);
}

/* The method: any size and alignment.  A class whose size is a power of
 * two at least align has aligned objects (pages start on a block). */
static void *heap_alloc(rgn_region *r, size_t n, size_t align, bool *zeroed)
{
	if (zeroed)
		*zeroed = false;
	if (align > RGN_GRANULE) {
		if (align > RGN_BLOCK_SIZE) {
			if (align > rgn_space_g.size)
				return rgn_oom(n);
			return large_alloc(H(r), n, (uint32_t)(align >> RGN_BLOCK_SHIFT), zeroed);
		}
		if (n < align)
			n = align;
		if (n <= RGN_HEAP_SMALL_MAX)
			n = (size_t)1 << (64 - __builtin_clzll((unsigned long long)n - 1));
	}
	if (n > RGN_HEAP_SMALL_MAX)
		return large_alloc(H(r), n, 1, zeroed);
	return rgn_heap_alloc(r, n);
}

/* ---- free and realloc ---------------------------------------------------------------------- */

void rgn_heap_free_large(rgn_region *r, void *p)
{
	struct rgn_heap_region *h = H(r);
	uint32_t s = rgn_blk_index(p);
	struct rgn_desc *d = rgn_desc_of(s);
	uint32_t len = d->len;

	if (d->dprev)
		rgn_desc_of(d->dprev)->next = d->next;
	else
		h->large = d->next;
	if (d->next)
		rgn_desc_of(d->next)->dprev = d->dprev;
	h->nlarge--;
	h->blocks -= len;
	h->used -= (size_t)len << RGN_BLOCK_SHIFT;
	rgn_blk_release(s, len);
}

void *rgn_heap_realloc_slow(rgn_region *r, void *p, size_t old, size_t n)
{
	struct rgn_heap_region *h = H(r);
	uint32_t s = rgn_blk_index(p);
	struct rgn_desc *d = rgn_desc_of(s);
	size_t have = rgn_heap_usable(r, p), keep;
	void *q;

	if (d->tag == RGN_TAG_HEAP_LARGE && n > RGN_HEAP_SMALL_MAX) {
		/* a span: shrink or grow it where it is if it can */
		uint32_t len = d->len, need = blocks_for(n);
		if (n > rgn_space_g.size)
			return rgn_oom(n);
		if (need <= len) {
			if (need < len) {
				rgn_blk_shrink(s, len, need);
				h->blocks -= len - need;
				h->used -= (size_t)(len - need) << RGN_BLOCK_SHIFT;
			}
			return p;
		}
		if (rgn_blk_extend(s, len, need - len) == 0) {
			h->blocks += need - len;
			h->used += (size_t)(need - len) << RGN_BLOCK_SHIFT;
			return p;
		}
	}
	q = rgn_heap_alloc(r, n);
	if (!q) /* a shrink that could not move: p still holds n bytes */
		return n <= have ? p : NULL;
	keep = old && old < have ? old : have;
	memcpy(q, p, keep < n ? keep : n);
	rgn_heap_free(r, p);
	return q;
}

/* ---- debug: is p a live object of r? ------------------------------------------------------ */

void rgn_heap_bad_free(const char *fn, rgn_region *r, const void *p, const char *why)
{
	fprintf(stderr, "rgn: %s(%p, %p): %s\n", fn, (void *)r, p, why);
	abort();
}

void rgn_heap_check_(const char *fn, rgn_region *r, const void *p)
{
	struct rgn_heap_region *h = H(r);
	const char *base = rgn_space_g.base;
	const struct rgn_desc *d;
	uint32_t b;

	if ((const char *)p < base + RGN_BLOCK_SIZE || (const char *)p >= base + rgn_space_g.size)
		rgn_heap_bad_free(fn, r, p, "not in the space");
	b = rgn_blk_index(p);
	d = rgn_desc_of(b);
	if ((d->tag & 0xffu) == RGN_TAG_HEAP_PAGE && d->prev == h->id) {
		unsigned c = d->tag >> 8;
		size_t size = rgn_heap_size[c];
		const char *page = rgn_blk_addr(b - d->dnext);
		size_t off = (size_t)((const char *)p - page);
		const void *x;

		if (off % size != 0 || off / size >= ((size_t)page_blocks(c) << RGN_BLOCK_SHIFT) / size)
			rgn_heap_bad_free(fn, r, p, "not the start of an object");
		if ((const char *)p >= h->cls[c].cur && (const char *)p < h->cls[c].end)
			rgn_heap_bad_free(fn, r, p, "not an object yet");
		if (size >= 16 && rgn_peek_word((const char *)p + 8) != RGN_HEAP_FREED)
			return; /* not marked: not on the free list */
		for (x = h->cls[c].free; x; x = *(void *const *)x)
			if (x == p)
				rgn_heap_bad_free(fn, r, p, "freed already (freed twice?)");
		return;
	}
	if (d->tag == RGN_TAG_HEAP_LARGE && d->prev == h->id && d->state == RGN_SPAN_USED &&
	    ((uintptr_t)p & (RGN_BLOCK_SIZE - 1)) == 0) {
		for (uint32_t x = h->large; x; x = rgn_desc_of(x)->next)
			if (x == b)
				return;
	}
	rgn_heap_bad_free(fn, r, p, "not a live object of this region (another region's, or freed?)");
}

/* ---- marks, statistics -------------------------------------------------------------------- */

static size_t heap_max_size(const rgn_region *r)
{
	(void)r;
	return rgn_space_g.size;
}

/* Marks of a heap region are refused by rgn_rewind (no rewind method,
 * checked before any mark is looked at); a mark still needs its fields. */
static void heap_save(const rgn_region *r, struct rgn_mark_priv *mp)
{
	mp->pos = CH(r)->used;
	memset(mp->b, 0, sizeof(mp->b));
}

static size_t heap_used(const rgn_region *r)
{
	return CH(r)->used;
}

static void heap_stats(const rgn_region *r, struct rgn_region_stats *st)
{
	const struct rgn_heap_region *h = CH(r);

	st->used = h->used;
	st->blocks = h->blocks;
	st->chunks = h->nchunks + 1; /* the own block */
	st->large = h->nlarge;
}

static void heap_spans(const rgn_region *r, void (*fn)(void *, uint32_t, uint32_t), void *arg)
{
	const struct rgn_heap_region *h = (const struct rgn_heap_region *)r;

	fn(arg, rgn_blk_index(r), 1);
	for (uint32_t x = h->head; x; x = rgn_desc_of(x)->next)
		fn(arg, x, rgn_desc_of(x)->len);
	for (uint32_t x = h->large; x; x = rgn_desc_of(x)->next)
		fn(arg, x, rgn_desc_of(x)->len);
}

/* Compaction: r's chunks and spans go back, and t's become r's, with
 * t's id (their descriptors name it), free lists and current pages; the
 * copy's last chunk keeps only what it cut.  t is left as a new heap
 * region holding its own block alone, to be destroyed. */
static bool heap_replace(rgn_region *r, rgn_region *t)
{
	struct rgn_heap_region *h = H(r), *c = H(t);

	rgn_assert(c->chunk_max == h->chunk_max); /* made like r */
	chunk_trim(c);
	heap_free_all(h);
	h->id = c->id;
	h->head = c->head;
	h->carve = c->carve;
	h->chunk_end = c->chunk_end;
	h->nchunks = c->nchunks;
	h->next_chunk = c->next_chunk;
	h->large = c->large;
	h->nlarge = c->nlarge;
	h->blocks = c->blocks; /* the own block counted in both */
	h->used = c->used;
	memcpy(h->cls, c->cls, sizeof(h->cls));
	heap_init(c, c->chunk_max);
	return false;
}

size_t rgn_heap_chunk_max_of(const rgn_region *r)
{
	return (size_t)CH(r)->chunk_max << RGN_BLOCK_SHIFT;
}

const struct rgn_backend_ops rgn_heap_backend = {
	.name = "heap",
	.create = heap_create,
	.release = heap_release,
	.reset = heap_reset,
	.alloc = heap_alloc,
	.max_size = heap_max_size,
	.save = heap_save,
	.used = heap_used,
	.stats = heap_stats,
	.spans = heap_spans,
	.replace = heap_replace,
};
