/*
 * region.c - regions: bump allocation over a chain of spans.
 *
 * A region lives in the first block it owns: rgn_new takes one block
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
 * is what makes rgn_rewind cheap (pop spans down to the mark) and
 * rgn_merge O(1) (splice src's chain on top of dst's).  Destroying walks
 * the chain through the side table and never reads the freed memory.
 *
 * The fast path (rgn_alloc in rgn.h) sees only bump.cur and bump.end.
 * Everything else lands here: rgn_alloc_slow_ must tail-call into helpers
 * that return the new memory directly, and every error is made here.
 *
 * Ownership between regions: children hang off their parent in a doubly
 * linked sibling list, so creating and destroying a child are O(1).
 * Destruction is iterative (no recursion on deep trees): leaves first,
 * each one's cleanups last-registered first, then its spans.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_LIVE RGN_MAGIC_LIVE
#define MAGIC_DEAD RGN_MAGIC_DEAD

#define CHUNK_MAX_DEFAULT 64u  /* blocks: 256 KiB */
#define CHUNK_FIRST_GROW  2u   /* blocks of the second chunk */

struct rgn_cleanup {
	struct rgn_cleanup *next;
	rgn_cleanup_fn      fn;     /* NULL: cancelled (kept so marks stay valid) */
	void               *arg;
};

/*
 * The region header, at the start of the region's own block.
 * Invariants:
 *   chunk_start <= bump.cur <= bump.end == end of the span at `chunk`
 *   the chain head ... own block holds nspans spans, blocks blocks in all
 *   used == used_done + (bump.cur - chunk_start)
 *   bump.base == rgn_blocks_ref_base()
 * A contiguous region (backend RGN_BACKEND_CONTIG) has its header one
 * guard page into its reservation instead, and one range in place of the
 * chain:
 *   bump.base == resv.base; (char *)r == resv.base + RGN_CONTIG_GUARD
 *   chunk_start == (char *)r + HDR <= bump.cur <= bump.end
 *                == resv.base + resv.committed
 *   used_done == 0; chunk == head == 0; nspans == 1
 *   blocks == (resv.committed - RGN_CONTIG_GUARD) / RGN_BLOCK_SIZE, which
 *   is never 1 (a commit step is 16 blocks), so rgn_destroy's one-block
 *   fast path never sees a contiguous region
 */
struct rgn_region {
	struct rgn_bump_    bump;        /* first: read by rgn_alloc inline */
	uint32_t            magic;       /* second: struct rgn_handle_ */
	uint32_t            backend;     /* rgn_backend */
	char               *chunk_start; /* where bumping began in this chunk */
	char               *tail_floor;  /* rgn_tail: keep blocks below this */
	char               *tail_at;     /* rgn_tail: bump.cur it returned */
	uint32_t            chunk;       /* first block of the current chunk */
	uint32_t            head;        /* newest span of the chain */
	uint32_t            nspans;      /* spans on the chain, own block too */
	uint32_t            next_chunk;  /* blocks for the next chunk */
	uint32_t            chunk_max;   /* blocks */
	size_t              used_done;   /* bytes used outside the current chunk */
	size_t              blocks;      /* blocks held */
	struct rgn_region  *parent;
	struct rgn_region  *child;       /* first child */
	struct rgn_region  *next, *prev; /* siblings */
	struct rgn_cleanup *cleanups;    /* newest first */
	struct rgn_region  *stack_prev;  /* rgn_push stack, below this one */
	size_t              stack_nulls; /* failed pushes below this one */
	/* RGN_BACKEND_CONTIG only */
	struct rgn_resv     resv;        /* the reservation the region lives in */
	size_t              retain;      /* bytes reset and the cache keep */
	uint32_t            generation;  /* resets so far: older marks are stale */
	uint32_t            release;     /* rgn_release, for destroy */
};

#define HDR ((sizeof(struct rgn_region) + 7) & ~(size_t)7)

_Static_assert(offsetof(struct rgn_region, bump) == 0, "bump must be first");
_Static_assert(offsetof(struct rgn_region, magic) ==
               offsetof(struct rgn_handle_, magic), "magic after bump");
_Static_assert(HDR <= RGN_BLOCK_SIZE / 16, "header fits a block with room");

struct mark_priv {
	char               *cur;
	uintptr_t           chunk;
	uintptr_t           head;
	size_t              used_done;
	struct rgn_cleanup *cleanups;
	uintptr_t           nspans;
};
_Static_assert(sizeof(struct mark_priv) <= sizeof(rgn_mark), "mark size");

static pthread_mutex_t oom_lock = PTHREAD_MUTEX_INITIALIZER;
static rgn_oom_handler oom_fn;   /* with oom_arg, under oom_lock */
static void *oom_arg;

static rgn_thread rgn_region *stack_top;
static rgn_thread size_t stack_nulls;

/* ---- small helpers ---------------------------------------------------------- */

static inline size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static inline uint32_t blocks_for(size_t n)
{
	return (uint32_t)((n + RGN_BLOCK_SIZE - 1) >> RGN_BLOCK_SHIFT);
}

static inline uint32_t own_block(const rgn_region *r)
{
	return rgn_blk_index(r);
}

static inline bool is_contig(const rgn_region *r)
{
	return r->backend == RGN_BACKEND_CONTIG;
}

static inline bool live(const rgn_region *r)
{
	if (rgn_likely(r && r->magic == MAGIC_LIVE))
		return true;
	rgn_assert(r == NULL); /* a destroyed or foreign region pointer */
	return false;
}

static inline void *einval(void)
{
	errno = EINVAL;
	return NULL;
}

static inline int einval_int(void)
{
	errno = EINVAL;
	return -1;
}

/* live_regions: each thread counts in its own cache.  The fast paths
 * run only on threads whose cache is registered (they just used it); the
 * others register first, so no count is lost when the thread exits. */
static inline void count_region(int64_t delta)
{
	struct rgn_tcache *tc = &rgn_tc;
	atomic_store_explicit(&tc->regions,
	    atomic_load_explicit(&tc->regions, memory_order_relaxed) + delta,
	    memory_order_relaxed);
}

static void count_region_slow(int64_t delta)
{
	if (!rgn_tc.limit)
		rgn_tcache_register(&rgn_tc);
	count_region(delta);
}

/* The most any one allocation of r could have. */
static inline size_t max_size(const rgn_region *r)
{
	return is_contig(r) ? r->resv.size : rgn_space_g.size;
}

/* Bytes above which an object gets a span of its own. */
static inline size_t large_threshold(const rgn_region *r)
{
	return ((size_t)r->chunk_max << RGN_BLOCK_SHIFT) / 8;
}

void *rgn_oom(size_t size)
{
	rgn_oom_handler fn;
	void *arg;

	pthread_mutex_lock(&oom_lock);
	fn = oom_fn;
	arg = oom_arg;
	pthread_mutex_unlock(&oom_lock);
	if (fn)
		fn(size, arg);
	errno = ENOMEM;
	return NULL;
}

/* A block or span allocation failed with errno set: report it. */
static void *alloc_failed(size_t size)
{
	return errno == ENOMEM ? rgn_oom(size) : NULL;
}

RGN_API rgn_oom_handler rgn_set_oom_handler(rgn_oom_handler fn, void *arg)
{
	rgn_oom_handler old;

	pthread_mutex_lock(&oom_lock);
	old = oom_fn;
	oom_fn = fn;
	oom_arg = arg;
	pthread_mutex_unlock(&oom_lock);
	return old;
}

/* ---- tree links --------------------------------------------------------------- */

static void link_child(rgn_region *parent, rgn_region *c)
{
	c->parent = parent;
	c->prev = NULL;
	c->next = parent ? parent->child : NULL;
	if (parent) {
		if (parent->child)
			parent->child->prev = c;
		parent->child = c;
	}
}

static void unlink_child(rgn_region *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (c->parent)
		c->parent->child = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->parent = c->next = c->prev = NULL;
}

/* ---- the contiguous backend ------------------------------------------------------ *
 * A contiguous region is one range: its header a guard page into its
 * reservation, then objects bumped up to the read-write frontier, which
 * grows in commit steps until the reservation ends.  No chunks, no large
 * spans, no chain: a slow-path allocation only moves the frontier, and
 * destroy hands the whole reservation to contig.c at once. */

/* Move the read-write frontier to at least offset off.  0 or -1/errno. */
static int contig_commit(rgn_region *r, size_t off)
{
	int err = rgn_resv_commit(&r->resv, off);

	if (err) {
		errno = err;
		return -1;
	}
	r->bump.end = r->resv.base + r->resv.committed;
	r->blocks = (r->resv.committed - RGN_CONTIG_GUARD) >> RGN_BLOCK_SHIFT;
	return 0;
}

/* n >= 1 bytes at align (a power of two) when the committed part is
 * short of them: what the reservation has left, or ENOMEM.  room is a
 * multiple of 8 (limit is page-aligned, cur and pad are 8-aligned), so
 * n <= room - pad bounds round8(n) too. */
static rgn_noinline void *contig_alloc(rgn_region *r, size_t n, size_t align)
{
	char *limit = r->resv.base + r->resv.size;
	size_t room = (size_t)(limit - r->bump.cur);
	size_t pad = (size_t)(-(uintptr_t)r->bump.cur) & (align - 1);
	size_t off;
	char *p;

	if (pad > room || n > room - pad)
		return rgn_oom(n);
	p = r->bump.cur + pad;
	off = (size_t)(p - r->resv.base) + round8(n);
	if (off > r->resv.committed && contig_commit(r, off) != 0)
		return alloc_failed(n);
	r->bump.cur = p + round8(n);
	return p;
}

/* rgn_grow and rgn_tail: extra_bytes more after bump.end, in place. */
static int contig_extend(rgn_region *r, size_t extra_bytes)
{
	size_t off = (size_t)(r->bump.end - r->resv.base);

	if (extra_bytes > r->resv.size - off) {
		errno = ENOMEM;
		return -1;
	}
	return contig_commit(r, off + extra_bytes);
}

/* Offset below which reset and the cache keep pages resident. */
static size_t contig_keep(const rgn_region *r)
{
	size_t floor = RGN_CONTIG_GUARD + HDR;

	return r->retain > SIZE_MAX - floor ? SIZE_MAX : floor + r->retain;
}

static rgn_noinline rgn_region *contig_create(rgn_region *parent,
                                              const rgn_options *o)
{
	size_t size = o->reserve ? o->reserve : RGN_CONTIG_DEFAULT;
	struct rgn_resv v;
	rgn_region *r;
	int err;

	if (size < RGN_CONTIG_MIN || size > RGN_CONTIG_MAX ||
	    o->release < RGN_RELEASE_DEFAULT || o->release > RGN_RELEASE_UNMAP)
		return einval();
	size = (size + RGN_CONTIG_COMMIT - 1) & ~(RGN_CONTIG_COMMIT - 1);
	/* the shared space first: it sets the decode base, which must not
	 * change under a region already entered */
	err = rgn_space_ensure();
	if (!err)
		err = rgn_resv_get(size, &v);
	if (err) {
		errno = err;
		return err == ENOMEM ? rgn_oom(size) : NULL;
	}
	r = (rgn_region *)(void *)(v.base + RGN_CONTIG_GUARD);
	memset(r, 0, sizeof(*r)); /* a cached reservation holds a dead header */
	r->resv = v;
	r->bump.base = v.base;
	r->bump.cur = r->chunk_start = (char *)r + HDR;
	r->bump.end = v.base + v.committed;
	r->magic = MAGIC_LIVE;
	r->backend = RGN_BACKEND_CONTIG;
	r->nspans = 1;
	r->blocks = (v.committed - RGN_CONTIG_GUARD) >> RGN_BLOCK_SHIFT;
	r->retain = o->retain ? o->retain : RGN_CONTIG_RETAIN;
	r->release = o->release;
	if (parent)
		link_child(parent, r);
	count_region_slow(1);
	return r;
}

/* The region's children and cleanups are gone: give its reservation back
 * (copied out first: the header lives in it). */
static void contig_free(rgn_region *r)
{
	struct rgn_resv v = r->resv;
	rgn_release rel = (rgn_release)r->release;
	size_t keep = contig_keep(r);

	r->magic = MAGIC_DEAD;
	count_region_slow(-1);
	rgn_decode_forget_(v.base);
	rgn_resv_put(&v, rel, keep);
}

static void contig_reset(rgn_region *r)
{
	r->bump.cur = r->chunk_start;
	r->tail_floor = r->tail_at = NULL;
	r->generation++;
	rgn_resv_trim(&r->resv, contig_keep(r));
	r->bump.end = r->resv.base + r->resv.committed;
	r->blocks = (r->resv.committed - RGN_CONTIG_GUARD) >> RGN_BLOCK_SHIFT;
}

/* A mark of this region (its base), saved since the last reset (its
 * generation), whose bump pointer lies in the committed range. */
static bool contig_mark_valid(const rgn_region *r, const struct mark_priv *mp)
{
	const struct rgn_cleanup *c;

	for (c = r->cleanups; c && c != mp->cleanups; c = c->next)
		;
	return c == mp->cleanups && mp->head == (uintptr_t)r->bump.base &&
	       mp->chunk == r->generation &&
	       mp->cur >= r->chunk_start && mp->cur <= r->bump.end;
}

int rgn_region_used_range(rgn_region *r, char **base, size_t *objects,
                          size_t *used)
{
	if (!live(r))
		return EINVAL;
	if (!is_contig(r))
		return ENOTSUP;
	*base = r->resv.base;
	*objects = (size_t)(r->chunk_start - r->resv.base);
	*used = (size_t)(r->bump.cur - r->resv.base);
	return 0;
}

/* ---- create and destroy ---------------------------------------------------------- */

/* Write a new region's header at the start of block b.  Field by field:
 * a compound literal became `rep stos`, which cost more than the whole
 * create (14.8 ns a cycle against 7.5).  The own block's descriptor is
 * not written: the chain is walked down to the own block, never through
 * it.  stack_prev and stack_nulls are written by rgn_push, their only
 * reader. */
static inline __attribute__((always_inline))
rgn_region *region_init(uint32_t b, rgn_region *parent, uint32_t chunk_max)
{
	char *mem = rgn_blk_addr(b);
	rgn_region *r = (rgn_region *)mem;

	r->bump.cur = mem + HDR;
	r->bump.end = mem + RGN_BLOCK_SIZE;
	r->bump.base = rgn_blocks_ref_base();
	r->backend = RGN_BACKEND_BLOCKS;
	r->chunk_start = mem + HDR;
	r->tail_floor = NULL;
	r->tail_at = NULL;
	r->magic = MAGIC_LIVE;
	r->chunk = b;
	r->head = b;
	r->nspans = 1;
	r->next_chunk = chunk_max < CHUNK_FIRST_GROW ? chunk_max : CHUNK_FIRST_GROW;
	r->chunk_max = chunk_max;
	r->used_done = 0;
	r->blocks = 1;
	r->parent = r->child = r->next = r->prev = NULL;
	r->cleanups = NULL;
	if (parent)
		link_child(parent, r);
	count_region(1);
	return r;
}

/* A region in a block of its own: from the thread cache when it has one
 * (rgn_blk_get1).  Out of line so that rgn_new's spare path, the common
 * one, saves no registers. */
static rgn_noinline rgn_region *region_create(rgn_region *parent,
                                              uint32_t chunk_max)
{
	uint32_t b = rgn_blk_get1();

	if (!b)
		return alloc_failed(RGN_BLOCK_SIZE);
	return region_init(b, parent, chunk_max);
}

/* The fast path takes the thread's spare region (see rgn_destroy), whose
 * header already reads as a fresh region's and which never left the live
 * count; everything else is a tail call. */
RGN_API rgn_region *rgn_new(rgn_region *parent)
{
	struct rgn_tcache *tc = &rgn_tc;
	rgn_region *r = atomic_load_explicit(&tc->spare, memory_order_relaxed);

	if (rgn_unlikely(parent != NULL) && !live(parent))
		return einval();
	if (rgn_unlikely(r == NULL))
		return region_create(parent, CHUNK_MAX_DEFAULT);
	atomic_store_explicit(&tc->spare, NULL, memory_order_relaxed);
	rgn_track_given(r, RGN_BLOCK_SIZE);
	r->magic = MAGIC_LIVE;
	if (rgn_unlikely(parent != NULL))
		link_child(parent, r);
	return r;
}

RGN_API rgn_region *rgn_new_with(rgn_region *parent, const rgn_options *opts)
{
	uint32_t chunk_max = CHUNK_MAX_DEFAULT;

	if (parent && !live(parent))
		return einval();
	if (opts) {
		if (opts->backend == RGN_BACKEND_CONTIG)
			return contig_create(parent, opts);
		if (opts->backend != RGN_BACKEND_BLOCKS)
			return einval();
		if (opts->chunk_max) {
			size_t b = opts->chunk_max >> RGN_BLOCK_SHIFT;
			chunk_max = b < 1 ? 1 : b > (1u << 18) ? (1u << 18) : (uint32_t)b;
		}
	}
	return region_create(parent, chunk_max);
}

static void run_cleanups(rgn_region *r, struct rgn_cleanup *stop)
{
	struct rgn_cleanup *c;

	while ((c = r->cleanups) != stop && c) {
		r->cleanups = c->next;
		if (c->fn) {
			/* the caller may have x28 as foreign code left it (mode
			 * reg): the callback gets the thread's base, the caller
			 * its value back; nothing in the other modes */
			RGN_REENTER();
			c->fn(c->arg);
		}
	}
}

/* Give back all memory of a region whose children and cleanups are gone:
 * the chain down to the own block, then the own block (whose descriptor
 * may be stale: only its length is read, and only if it grew). */
static void region_free(rgn_region *r)
{
	uint32_t own, own_len;

	if (is_contig(r)) {
		contig_free(r);
		return;
	}
	own = own_block(r);
	own_len = r->blocks == 1 ? 1 : rgn_desc_of(own)->len;
	r->magic = MAGIC_DEAD;
	count_region_slow(-1);
	if (r->nspans > 1)
		rgn_blk_free_chain(r->head, own);
	rgn_blk_release(own, own_len);
}

/* Destroy r, already unlinked from its parent, and its subtree: leaves
 * first, without recursion. */
static rgn_noinline void destroy_tree(rgn_region *r)
{
	rgn_region *x = r, *up;

	for (;;) {
		while (x->child)
			x = x->child;
		run_cleanups(x, NULL);
		if (x->child)
			continue; /* a cleanup made a child: it goes first */
		up = x->parent;
		if (x != r)
			unlink_child(x);
		region_free(x);
		if (x == r)
			break;
		x = up;
	}
}

/* The fast path is the common small region (no children, no cleanups,
 * one block): its block goes back to the thread cache.  Everything else
 * is a tail call, so this path saves no registers. */
RGN_API void rgn_destroy(rgn_region *r)
{
	if (!r || !live(r))
		return;
	if (r->parent)
		unlink_child(r);
	if (rgn_likely(!r->child && !r->cleanups && r->blocks == 1)) {
		struct rgn_tcache *tc = &rgn_tc;
		/* one block, no chunk ever added: chunk, head, nspans, end and
		 * chunk_start are already a new region's; reset the rest and
		 * keep it as the thread's spare */
		rgn_assert_internal(r->used_done == 0 && r->nspans == 1 && !is_contig(r));
		r->magic = MAGIC_DEAD;
		r->bump.cur = r->chunk_start;
		r->tail_floor = r->tail_at = NULL;
		r->next_chunk = CHUNK_FIRST_GROW;
		r->chunk_max = CHUNK_MAX_DEFAULT;
		if (!atomic_load_explicit(&tc->spare, memory_order_relaxed) && tc->limit) {
			/* stays in the live count until it leaves the spare slot
			 * (the space statistics subtract spares) */
			rgn_track_taken(r, RGN_BLOCK_SIZE);
			atomic_store_explicit(&tc->spare, r, memory_order_relaxed);
			return;
		}
		count_region(-1);
		rgn_blk_put1(own_block(r));
		return;
	}
	destroy_tree(r);
}

RGN_API void rgn_reset(rgn_region *r)
{
	uint32_t own;

	if (!live(r))
		return;
	while (r->child || r->cleanups) {
		while (r->child)
			rgn_destroy(r->child);
		run_cleanups(r, NULL);
	}
	if (is_contig(r)) {
		contig_reset(r);
		return;
	}
	own = own_block(r);
	rgn_blk_free_chain(r->head, own);
	if (r->blocks > 1 && rgn_desc_of(own)->len > 1) /* grown in place */
		rgn_blk_shrink(own, rgn_desc_of(own)->len, 1);
	r->head = own;
	r->chunk = own;
	r->nspans = 1;
	r->blocks = 1;
	r->bump.cur = r->chunk_start = (char *)r + HDR;
	r->bump.end = rgn_blk_addr(own) + ((size_t)r->blocks << RGN_BLOCK_SHIFT);
	r->used_done = 0;
	r->tail_floor = NULL;
	r->next_chunk = r->chunk_max < CHUNK_FIRST_GROW ? r->chunk_max : CHUNK_FIRST_GROW;
}

/* ---- chunks and large spans ------------------------------------------------------- */

/* Put span b (n blocks, already USED) on top of r's chain. */
static inline void chain_push(rgn_region *r, uint32_t b, uint32_t n, uint32_t tag)
{
	rgn_desc_of(b)->next = r->head;
	rgn_desc_of(b)->tag = tag;
	r->head = b;
	r->nspans++;
	r->blocks += n;
}

/* Make a new chunk of n blocks current.  0 or -1 with errno. */
static int chunk_add(rgn_region *r, uint32_t n)
{
	uint32_t b;

	/* a contiguous region is one range: it can take no chunk of the
	 * shared space, whatever its tail or growth path asks */
	if (is_contig(r)) {
		errno = ENOMEM;
		return -1;
	}
	b = n == 1 ? rgn_blk_get1() : rgn_blk_alloc(n, NULL);
	if (!b)
		return -1;
	chain_push(r, b, n, RGN_TAG_CHUNK);
	r->used_done += (size_t)(r->bump.cur - r->chunk_start);
	r->chunk = b;
	r->chunk_start = r->bump.cur = rgn_blk_addr(b);
	r->bump.end = r->bump.cur + ((size_t)n << RGN_BLOCK_SHIFT);
	r->tail_floor = NULL;
	return 0;
}

/* A new chunk for an object of n bytes (n <= large threshold): the next
 * size in the geometric series, or less if the space is short of it. */
static int chunk_grow(rgn_region *r, size_t n)
{
	uint32_t need = blocks_for(n), want = r->next_chunk;

	if (want < need)
		want = need;
	if (chunk_add(r, want) != 0 && (want == need || chunk_add(r, need) != 0))
		return -1;
	if (r->next_chunk < r->chunk_max)
		r->next_chunk = r->next_chunk * 2 > r->chunk_max
		                ? r->chunk_max : r->next_chunk * 2;
	return 0;
}

/* A span of its own for n bytes, aligned to align blocks. */
static void *alloc_large(rgn_region *r, size_t n, uint32_t align, bool *zeroed)
{
	uint32_t nb, b;
	bool z = false;

	if (n > rgn_space_g.size)
		return rgn_oom(n);
	nb = blocks_for(n);
	b = align > 1 ? rgn_blk_alloc_aligned(nb, align) : rgn_blk_alloc(nb, &z);
	if (!b)
		return alloc_failed(n);
	chain_push(r, b, nb, RGN_TAG_LARGE);
	r->used_done += round8(n);
	if (zeroed)
		*zeroed = z;
	return rgn_blk_addr(b);
}

static inline void *bump(rgn_region *r, size_t n)
{
	char *p = r->bump.cur;
	r->bump.cur = p + round8(n);
	return p;
}

RGN_API void *rgn_alloc_slow_(rgn_region *r, size_t n)
{
	if (!live(r))
		return einval();
	if (n == 0)
		n = 1;
	if (n <= (size_t)(r->bump.end - r->bump.cur))
		return bump(r, n);
	if (is_contig(r))
		return contig_alloc(r, n, RGN_GRANULE);
	if (n > large_threshold(r))
		return alloc_large(r, n, 1, NULL);
	if (chunk_grow(r, n) != 0)
		return alloc_failed(n);
	return bump(r, n);
}

RGN_API void *rgn_alloc_aligned(rgn_region *r, size_t n, size_t align)
{
	size_t pad, avail;

	if (!live(r) || align == 0 || (align & (align - 1)))
		return einval();
	if (align <= RGN_GRANULE)
		return rgn_alloc(r, n);
	if (n == 0)
		n = 1;
	if (is_contig(r))
		return contig_alloc(r, n, align);
	if (align > RGN_BLOCK_SIZE) {
		if (align > rgn_space_g.size)
			return rgn_oom(n);
		return alloc_large(r, n, (uint32_t)(align >> RGN_BLOCK_SHIFT), NULL);
	}
	pad = (size_t)(-(uintptr_t)r->bump.cur) & (align - 1);
	avail = (size_t)(r->bump.end - r->bump.cur);
	if (n <= avail && pad <= avail - n) {
		r->bump.cur += pad;
		return bump(r, n);
	}
	/* a fresh chunk or span starts on a block boundary: no padding */
	if (n > large_threshold(r))
		return alloc_large(r, n, 1, NULL);
	if (chunk_grow(r, n) != 0)
		return alloc_failed(n);
	return bump(r, n);
}

RGN_API void *rgn_alloc_array(rgn_region *r, size_t count, size_t size)
{
	size_t n;

	if (!live(r))
		return einval();
	if (__builtin_mul_overflow(count, size, &n)) {
		errno = EOVERFLOW;
		return NULL;
	}
	return rgn_alloc(r, n);
}

RGN_API void *rgn_calloc(rgn_region *r, size_t count, size_t size)
{
	size_t n;
	bool zeroed = false;
	void *p;

	if (!live(r))
		return einval();
	if (__builtin_mul_overflow(count, size, &n)) {
		errno = EOVERFLOW;
		return NULL;
	}
	if (!is_contig(r) && n > large_threshold(r) &&
	    n > (size_t)(r->bump.end - r->bump.cur))
		p = alloc_large(r, n, 1, &zeroed); /* fresh or purged: skip memset */
	else
		p = rgn_alloc(r, n);
	if (p && !zeroed)
		memset(p, 0, n);
	return p;
}

/* ---- strings ------------------------------------------------------------------- */

RGN_API char *rgn_strdup(rgn_region *r, const char *s)
{
	if (!s)
		return einval();
	return rgn_strndup(r, s, SIZE_MAX);
}

RGN_API char *rgn_strndup(rgn_region *r, const char *s, size_t n)
{
	size_t len;
	char *p;

	if (!live(r) || !s)
		return einval();
	len = strnlen(s, n);
	p = rgn_alloc(r, len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

RGN_API char *rgn_vprintf(rgn_region *r, const char *fmt, va_list ap)
{
	size_t avail;
	va_list ap2;
	char *p;
	int k;

	if (!live(r) || !fmt)
		return einval();
	/* format straight into the free end of the chunk; only when it does
	 * not fit, allocate the exact size and format again */
	avail = (size_t)(r->bump.end - r->bump.cur);
	if (avail > INT_MAX)
		avail = INT_MAX; /* a size above INT_MAX is an error for some libcs */
	va_copy(ap2, ap);
	k = vsnprintf(r->bump.cur, avail, fmt, ap2);
	va_end(ap2);
	if (k < 0)
		return NULL; /* errno from vsnprintf (EILSEQ, EOVERFLOW) */
	if ((size_t)k < avail)
		return bump(r, (size_t)k + 1);
	p = rgn_alloc(r, (size_t)k + 1);
	if (p)
		vsnprintf(p, (size_t)k + 1, fmt, ap);
	return p;
}

RGN_API char *rgn_printf(rgn_region *r, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = rgn_vprintf(r, fmt, ap);
	va_end(ap);
	return p;
}

/* ---- grow --------------------------------------------------------------------- */

/* Make the current chunk extra blocks longer, in place.  0 or -1. */
static int chunk_extend(rgn_region *r, size_t extra_bytes)
{
	uint32_t extra = blocks_for(extra_bytes);

	if (is_contig(r))
		return contig_extend(r, extra_bytes);
	if (extra_bytes > rgn_space_g.size ||
	    rgn_blk_extend(r->chunk, rgn_desc_of(r->chunk)->len, extra) != 0)
		return -1;
	r->bump.end += (size_t)extra << RGN_BLOCK_SHIFT;
	r->blocks += extra;
	return 0;
}

RGN_API void *rgn_grow(rgn_region *r, void *p, size_t old, size_t new_size)
{
	char *q = p;
	void *n;

	if (!live(r))
		return einval();
	if (!p)
		return rgn_alloc(r, new_size);
	if (new_size == 0)
		new_size = 1;
	if (old <= SIZE_MAX - 7 && q >= r->chunk_start && q < r->bump.end &&
	    (uintptr_t)q + round8(old) == (uintptr_t)r->bump.cur) {
		/* the last allocation: move the bump pointer */
		size_t room = (size_t)(r->bump.end - q);
		if (new_size <= room ||
		    (new_size <= max_size(r) && chunk_extend(r, new_size - room) == 0)) {
			r->bump.cur = q + round8(new_size);
			return p;
		}
	}
	if (new_size <= old)
		return p;
	n = rgn_alloc(r, new_size);
	if (n)
		memcpy(n, p, old);
	return n;
}

/* ---- marks --------------------------------------------------------------------- */

RGN_API rgn_mark rgn_save(rgn_region *r)
{
	rgn_mark m;
	struct mark_priv *mp = (struct mark_priv *)(void *)&m;

	memset(&m, 0, sizeof(m));
	if (!live(r)) {
		errno = EINVAL;
		return m;
	}
	mp->cur = r->bump.cur;
	mp->chunk = is_contig(r) ? r->generation : r->chunk;
	mp->head = is_contig(r) ? (uintptr_t)r->bump.base : r->head;
	mp->used_done = r->used_done;
	mp->cleanups = r->cleanups;
	mp->nspans = r->nspans;
	return m;
}

/* Is the mark still a point of r's history?  Its span must be on the
 * chain and its cleanup on the list, and its bump pointer inside its
 * chunk as the chunk is now (a tail commit may have shortened it). */
static bool mark_valid(rgn_region *r, const struct mark_priv *mp)
{
	uint32_t own = own_block(r), chunk = (uint32_t)mp->chunk;
	struct rgn_cleanup *c;
	char *base;
	uint32_t x;

	if (is_contig(r))
		return contig_mark_valid(r, mp);
	for (x = r->head; x != mp->head; x = rgn_desc_of(x)->next)
		if (x == own)
			return false;
	for (c = r->cleanups; c && c != mp->cleanups; c = c->next)
		;
	if (c != mp->cleanups)
		return false;
	/* the mark's chunk is at or below the mark's head on the chain */
	for (x = (uint32_t)mp->head; x != chunk && x != own; x = rgn_desc_of(x)->next)
		;
	if (x != chunk)
		return false;
	base = rgn_blk_addr(chunk);
	return mp->cur >= (chunk == own ? (char *)r + HDR : base) &&
	       mp->cur <= base + ((size_t)rgn_desc_of(chunk)->len << RGN_BLOCK_SHIFT);
}

RGN_API int rgn_rewind(rgn_region *r, rgn_mark m)
{
	const struct mark_priv *mp = (const struct mark_priv *)(const void *)&m;
	uint32_t own, x, popped = 0;
	size_t freed = 0;
	char *base;

	if (!live(r) || mp->cur == NULL || !mark_valid(r, mp))
		return einval_int();
	/* cleanups first: they may still use the memory, or even allocate
	 * (what they allocate is popped below with the rest) */
	run_cleanups(r, mp->cleanups);
	if (is_contig(r)) {
		r->bump.cur = mp->cur;
		r->tail_floor = r->tail_at = NULL;
		return 0;
	}
	own = own_block(r);
	for (x = r->head; x != mp->head; x = rgn_desc_of(x)->next) {
		freed += rgn_desc_of(x)->len;
		popped++;
	}
	rgn_blk_free_chain(r->head, (uint32_t)mp->head);
	r->head = (uint32_t)mp->head;
	r->nspans -= popped;
	r->blocks -= freed;
	r->chunk = (uint32_t)mp->chunk;
	base = rgn_blk_addr(r->chunk);
	r->chunk_start = r->chunk == own ? (char *)r + HDR : base;
	r->bump.cur = mp->cur;
	r->bump.end = base + ((size_t)rgn_desc_of(r->chunk)->len << RGN_BLOCK_SHIFT);
	r->used_done = mp->used_done;
	r->tail_floor = r->tail_at = NULL;
	return 0;
}

/* ---- cleanups and ownership ------------------------------------------------------- */

RGN_API int rgn_on_destroy(rgn_region *r, rgn_cleanup_fn fn, void *arg)
{
	struct rgn_cleanup *c;

	if (!live(r) || !fn)
		return einval_int();
	c = rgn_alloc(r, sizeof(*c));
	if (!c)
		return -1;
	c->fn = fn;
	c->arg = arg;
	c->next = r->cleanups;
	r->cleanups = c;
	return 0;
}

RGN_API int rgn_cancel_cleanup(rgn_region *r, rgn_cleanup_fn fn, void *arg)
{
	if (!live(r) || !fn)
		return einval_int();
	for (struct rgn_cleanup *c = r->cleanups; c; c = c->next) {
		if (c->fn == fn && c->arg == arg) {
			c->fn = NULL;
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

/* Is a equal to b or one of b's descendants? */
static bool within(const rgn_region *a, const rgn_region *b)
{
	for (; a; a = a->parent)
		if (a == b)
			return true;
	return false;
}

RGN_API int rgn_adopt(rgn_region *parent, rgn_region *child)
{
	if (!live(child) || (parent && !live(parent)) || within(parent, child))
		return einval_int();
	unlink_child(child);
	link_child(parent, child);
	return 0;
}

RGN_API int rgn_merge(rgn_region *dst, rgn_region *src)
{
	struct rgn_cleanup *c;
	rgn_region *k, *last = NULL;

	if (!live(dst) || !live(src) || within(dst, src))
		return einval_int();
	if (is_contig(dst) || is_contig(src)) {
		/* a reservation cannot join another region's memory, and its
		 * references would change meaning */
		errno = ENOTSUP;
		return -1;
	}
	/* memory: src's chain goes on top of dst's */
	rgn_desc_of(own_block(src))->next = dst->head;
	rgn_desc_of(own_block(src))->tag = RGN_TAG_CHUNK;
	dst->head = src->head;
	dst->nspans += src->nspans;
	dst->blocks += src->blocks;
	dst->used_done += src->used_done + (size_t)(src->bump.cur - src->chunk_start);
	/* cleanups: src's are newer than dst's */
	if (src->cleanups) {
		for (c = src->cleanups; c->next; c = c->next)
			;
		c->next = dst->cleanups;
		dst->cleanups = src->cleanups;
	}
	/* children */
	for (k = src->child; k; k = k->next) {
		k->parent = dst;
		last = k;
	}
	if (last) {
		last->next = dst->child;
		if (dst->child)
			dst->child->prev = last;
		dst->child = src->child;
	}
	unlink_child(src);
	src->magic = MAGIC_DEAD;
	count_region_slow(-1);
	return 0;
}

/* ---- tail reservation -------------------------------------------------------------- */

RGN_API void *rgn_tail(rgn_region *r, size_t min, size_t *avail)
{
	size_t have;
	char *old_end;

	if (!live(r) || !avail)
		return einval();
	if (min == 0)
		min = 1;
	if (min > max_size(r))
		return rgn_oom(min);
	have = (size_t)(r->bump.end - r->bump.cur);
	old_end = r->bump.end;
	if (have >= min) {
		r->tail_floor = old_end;
	} else if (chunk_extend(r, min - have) == 0) {
		r->tail_floor = old_end; /* the blocks added may go back */
	} else {
		if (chunk_add(r, blocks_for(min)) != 0)
			return alloc_failed(min);
		r->tail_floor = r->chunk_start;
	}
	r->tail_at = r->bump.cur;
	*avail = (size_t)(r->bump.end - r->bump.cur);
	return r->bump.cur;
}

/* Give back the whole blocks of chunk c that lie at or above keep_end,
 * keeping at least its first block.  keep_end is inside c or at its end. */
static void chunk_trim(rgn_region *r, uint32_t c, const char *keep_end)
{
	char *base = rgn_blk_addr(c);
	uint32_t len = rgn_desc_of(c)->len;
	uint32_t keep = blocks_for((size_t)(keep_end - base));

	if (keep < 1)
		keep = 1;
	if (keep < len) {
		rgn_blk_shrink(c, len, keep);
		r->blocks -= len - keep;
		if (c == r->chunk)
			r->bump.end = base + ((size_t)keep << RGN_BLOCK_SHIFT);
	}
}

/* Is a tail pending?  Only if nothing moved the bump pointer since
 * rgn_tail (or rgn_tail_grow) returned it. */
static inline bool tail_pending(const rgn_region *r)
{
	return r->tail_floor && r->bump.cur == r->tail_at;
}

RGN_API void *rgn_tail_grow(rgn_region *r, size_t used, size_t min, size_t *avail)
{
	size_t have;
	char *old, *floor;
	uint32_t old_chunk;

	if (!live(r) || !avail || !tail_pending(r))
		return einval();
	have = (size_t)(r->bump.end - r->bump.cur);
	if (used > have)
		return einval();
	if (min < used)
		min = used;
	if (min > max_size(r))
		return rgn_oom(min);
	/* in place: the floor stays where rgn_tail put it, so the blocks
	 * added here may go back at the commit too */
	if (min > have && chunk_extend(r, min - have) != 0) {
		/* moved: a chunk of its own, the used bytes copied over, and
		 * the old chunk trimmed back to what it held before the tail */
		old = r->bump.cur;
		floor = r->tail_floor;
		old_chunk = r->chunk;
		if (chunk_add(r, blocks_for(min)) != 0)
			return alloc_failed(min); /* the old tail is still pending */
		memcpy(r->bump.cur, old, used);
		chunk_trim(r, old_chunk, old > floor ? old : floor);
		r->tail_floor = r->chunk_start;
		r->tail_at = r->bump.cur;
	}
	*avail = (size_t)(r->bump.end - r->bump.cur);
	return r->bump.cur;
}

RGN_API int rgn_tail_commit(rgn_region *r, size_t used)
{
	char *floor;

	if (!live(r) || !tail_pending(r) ||
	    used > (size_t)(r->bump.end - r->bump.cur))
		return einval_int();
	r->bump.cur += round8(used);
	floor = r->tail_floor;
	r->tail_floor = r->tail_at = NULL;
	if (is_contig(r))
		return 0; /* one range: the bytes left over stay the region's */
	chunk_trim(r, r->chunk, r->bump.cur > floor ? r->bump.cur : floor);
	return 0;
}

/* ---- the per-thread stack ----------------------------------------------------------- */

RGN_API rgn_region *rgn_current(void)
{
	return stack_nulls ? NULL : stack_top;
}

RGN_API rgn_region *rgn_push(void)
{
	rgn_region *r = rgn_new(rgn_current());

	if (!r) {
		stack_nulls++;
		return NULL;
	}
	r->stack_prev = stack_top;
	r->stack_nulls = stack_nulls;
	stack_nulls = 0;
	stack_top = r;
	return r;
}

RGN_API void rgn_pop(void)
{
	rgn_region *r;

	if (stack_nulls) {
		stack_nulls--;
		return;
	}
	r = stack_top;
	if (!r)
		return;
	stack_top = r->stack_prev;
	stack_nulls = r->stack_nulls;
	rgn_destroy(r);
}

/* ---- statistics ---------------------------------------------------------------------- */

RGN_API int rgn_region_stats(rgn_region *r, struct rgn_region_stats *st)
{
	uint32_t own;

	if (!live(r) || !st)
		return einval_int();
	memset(st, 0, sizeof(*st));
	st->used = r->used_done + (size_t)(r->bump.cur - r->chunk_start);
	st->blocks = r->blocks;
	st->backend = (rgn_backend)r->backend;
	if (is_contig(r)) {
		st->reserved = r->resv.size;
		st->committed = r->resv.committed;
	}
	own = is_contig(r) ? 0 : own_block(r);
	for (uint32_t x = r->head; x != own; x = rgn_desc_of(x)->next) {
		if (rgn_desc_of(x)->tag == RGN_TAG_LARGE)
			st->large++;
		else
			st->chunks++;
	}
	st->chunks++; /* the own block */
	for (rgn_region *k = r->child; k; k = k->next)
		st->children++;
	for (struct rgn_cleanup *c = r->cleanups; c; c = c->next)
		st->cleanups += c->fn != NULL;
	return 0;
}
