/*
 * backend/heap.h - the heap backend (backend/heap.c): regions whose objects
 * can be freed one by one, and the inline paths region.c's rgn_free,
 * rgn_realloc and rgn_alloc take for them.
 *
 * Size classes.  Up to 64 bytes every multiple of 8 is a class; above,
 * each doubling [2^k, 2^(k+1)) is cut into eight classes 2^(k-3) apart,
 * up to 32 KiB: 80 classes.  A request above 64 bytes so gets at most
 * 12.5 % more than it asked for (just above 2^k: one step of 2^(k-3)).
 * Above 32 KiB an object is a span of blocks of its own (at most a block
 * of rounding, under 12.5 % there too), which goes back to the space
 * when freed.
 *
 * No object has a header.  A class object lives in a page, a run of
 * blocks cut from one of the region's chunks that holds objects of one
 * class only; every block of a page says its class in its descriptor
 * (tag), so rgn_usable_size and rgn_free find an object's size with one
 * load from the side table.  A freed object goes on its class's free list
 * in the region header, linked through its first word; allocation takes
 * the list's head, else bumps in the class's current page, else cuts a new
 * page.  Pages are never given back one by one: their blocks go back
 * when the region is reset or destroyed, with its chunks, so destroy costs
 * one step per chunk and per large span, none per object.
 *
 * Descriptors of a heap region's blocks (fields the block layer leaves to
 * a USED span's owner):
 *   page block:  tag = RGN_TAG_HEAP_PAGE | class << 8, prev = region id,
 *                dnext = blocks from the page's first block
 *   large span:  tag = RGN_TAG_HEAP_LARGE (first block), prev = region
 *                id, next / dprev = the region's list of large spans
 *   chunk:       next = the chain of chunks (first block; also a page)
 * The id is unique per life of a heap region (create and reset take a
 * new one), so a debug build tells a pointer of another region, or of an
 * earlier life, apart.
 */
#ifndef RGN_BACKEND_HEAP_H
#define RGN_BACKEND_HEAP_H

#include "backend.h"
#include "../space.h"

#define RGN_TAG_HEAP_PAGE  3u
#define RGN_TAG_HEAP_LARGE 4u
#define RGN_HEAP_CLASSES   80u
#define RGN_HEAP_SMALL_MAX ((size_t)32 << 10)
#define RGN_CHUNK_MAX_DEFAULT_HEAP 256u /* blocks: 1 MiB */

/* One class of one region: its free list and its current page. */
struct rgn_heap_class {
	void *free;          /* freed objects, linked through their first word */
	char *cur, *end;     /* what is not yet handed out of the current page */
};

/*
 * A heap region's header, at the start of its own block (which holds
 * nothing else).  Invariants:
 *   h.bump.cur == h.bump.end: rgn_alloc's inline path always comes here
 *   h.blocks == 0 (the common count is the blocks backend's), so rgn_destroy
 *   never takes the one-block path; blocks counts what the region holds
 *   cls[c].cur <= cls[c].end, both in one page of class c (or both NULL)
 *   every object on cls[c].free is a freed object of class c of r
 *   carve <= chunk_end: [carve, chunk_end) of the current chunk is uncut
 *   used == the sizes of the live objects (class sizes, span bytes)
 */
struct rgn_heap_region {
	struct rgn_region     h;
	uint32_t              id;          /* this life's id, in descriptors */
	uint32_t              head;        /* newest chunk; chain ends with 0 */
	uint32_t              carve;       /* next block to cut a page from */
	uint32_t              chunk_end;   /* one past the current chunk */
	uint32_t              nchunks;
	uint32_t              next_chunk;  /* blocks of the next chunk */
	uint32_t              chunk_max;   /* blocks */
	uint32_t              large;       /* newest large span, 0: none */
	uint32_t              nlarge;
	size_t                blocks;      /* own block, chunks, large spans */
	size_t                used;
	struct rgn_heap_class cls[RGN_HEAP_CLASSES];
};

/* The size of each class, and the class of a size (1 .. 32 KiB). */
rgn_hidden extern const uint32_t rgn_heap_size[RGN_HEAP_CLASSES];

static inline unsigned rgn_heap_class_of(size_t n)
{
	unsigned k;

	if (n <= 64)
		return (unsigned)((n + 7) >> 3) - 1;
	k = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
	return (k - 6) * 8 + (unsigned)((n - 1) >> (k - 3));
}

/* Out of line: a new page, a large span, a bad pointer (debug), the rest
 * of realloc. */
rgn_hidden void *rgn_heap_alloc_slow(rgn_region *r, size_t n);
rgn_hidden void rgn_heap_free_large(rgn_region *r, void *p);
rgn_hidden void *rgn_heap_realloc_slow(rgn_region *r, void *p, size_t old, size_t n);
rgn_hidden rgn_noreturn void rgn_heap_bad_free(const char *fn, rgn_region *r,
                                               const void *p, const char *why);
rgn_hidden void rgn_heap_check_(const char *fn, rgn_region *r, const void *p);
/* r's chunk_max in bytes, for a region made like it (compaction). */
rgn_hidden size_t rgn_heap_chunk_max_of(const rgn_region *r);

/* Debug builds mark a freed object of 16 bytes or more in its second
 * word, so that the check walks its class's free list (the only exact
 * test of a double free) only for an object that carries the mark, not
 * on every free; an allocation clears it.  8-byte objects are always
 * walked. */
#define RGN_HEAP_FREED 0x7267e5f4ee0bad1dull
#if RGN_DEBUG >= 1
#define rgn_heap_check(fn, r, p) rgn_heap_check_((fn), (r), (p))
#define rgn_heap_mark(p, size, v) \
	((size) >= 16 ? (void)(((uint64_t *)(void *)(p))[1] = (v)) : (void)0)
/* clear the mark of an object just given out, whose contents the memory
 * checkers must see as undefined again */
#define rgn_heap_unmark(p, size) \
	((size) >= 16 ? (void)(((uint64_t *)(void *)(p))[1] = 0, \
	                       rgn_track_undefined((char *)(p) + 8, 8)) : (void)0)
#else
#define rgn_heap_check(fn, r, p) ((void)0)
#define rgn_heap_mark(p, size, v) ((void)0)
#define rgn_heap_unmark(p, size) ((void)0)
#endif

/* n >= 1 bytes from r, a live heap region: NULL with errno. */
static inline void *rgn_heap_alloc(rgn_region *r, size_t n)
{
	struct rgn_heap_region *h = (struct rgn_heap_region *)r;
	struct rgn_heap_class *k;
	unsigned c;
	size_t size;
	char *p;

	if (rgn_unlikely(n > RGN_HEAP_SMALL_MAX))
		return rgn_heap_alloc_slow(r, n);
	c = rgn_heap_class_of(n);
	size = rgn_heap_size[c];
	k = &h->cls[c];
	p = k->free;
	if (p) {
		k->free = *(void **)p;
		rgn_track_given(p, size);
	} else if (rgn_likely(size <= (size_t)(k->end - k->cur))) {
		p = k->cur;
		k->cur = p + size;
		rgn_track_given(p, size);
	} else {
		return rgn_heap_alloc_slow(r, n);
	}
	rgn_heap_unmark(p, size);
	h->used += size;
	return p;
}

/* Give back p, an object of r (not NULL). */
static inline void rgn_heap_free(rgn_region *r, void *p)
{
	struct rgn_heap_region *h = (struct rgn_heap_region *)r;
	uint32_t tag;
	unsigned c;

	rgn_heap_check("rgn_free", r, p);
	tag = rgn_desc_of(rgn_blk_index(p))->tag;
	if (rgn_unlikely((tag & 0xffu) != RGN_TAG_HEAP_PAGE)) {
		rgn_heap_free_large(r, p);
		return;
	}
	c = tag >> 8;
	rgn_heap_mark(p, rgn_heap_size[c], RGN_HEAP_FREED);
	*(void **)p = h->cls[c].free;
	h->cls[c].free = p;
	h->used -= rgn_heap_size[c];
	rgn_track_taken((char *)p + sizeof(void *), rgn_heap_size[c] - sizeof(void *));
}

/* The bytes usable at p, an object of r. */
static inline size_t rgn_heap_usable(const rgn_region *r, const void *p)
{
	const struct rgn_desc *d = rgn_desc_of(rgn_blk_index(p));

	(void)r;
	if ((d->tag & 0xffu) == RGN_TAG_HEAP_PAGE)
		return rgn_heap_size[d->tag >> 8];
	return (size_t)d->len << RGN_BLOCK_SHIFT;
}

/* Resize p (not NULL), an object of r, to n >= 1 bytes: in place while n
 * fits its class and is more than half of it. */
static inline void *rgn_heap_realloc(rgn_region *r, void *p, size_t old, size_t n)
{
	uint32_t tag;
	size_t size;

	rgn_heap_check("rgn_realloc", r, p);
	tag = rgn_desc_of(rgn_blk_index(p))->tag;
	if (rgn_likely((tag & 0xffu) == RGN_TAG_HEAP_PAGE)) {
		size = rgn_heap_size[tag >> 8];
		if (n <= size && n > size / 2)
			return p;
	}
	return rgn_heap_realloc_slow(r, p, old, n);
}

rgn_hidden extern const struct rgn_backend_ops rgn_heap_backend;

#endif /* RGN_BACKEND_HEAP_H */
