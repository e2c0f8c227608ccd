/*
 * region.c - what every region shares, whatever its backend: the tree of
 * regions, cleanups, marks, the per-thread region stack, strings, tails,
 * statistics, and the dispatch to the backend's methods.
 *
 * A region is a header that starts with struct rgn_region (internal.h);
 * where the header lives and where its memory comes from is the
 * backend's business (src/backend/: blocks.c, the shared space's blocks;
 * contig.c, a reservation of its own).  Backends are a table of methods,
 * as PostgreSQL's memory contexts are, indexed by rgn_backend: a new
 * backend is one file and one entry below.
 *
 * The fast path (rgn_alloc in rgn.h) sees only bump.cur and bump.end and
 * never dispatches.  Every slow path lands here, makes every error, and
 * calls the backend through the table; the one-block region of the
 * blocks backend, the common case of rgn_new and rgn_destroy, is handled
 * inline (internal.h) so that region churn pays no call at all.
 *
 * Ownership between regions: children hang off their parent in a doubly
 * linked sibling list, so creating and destroying a child are O(1).
 * Destruction is iterative (no recursion on deep trees): leaves first,
 * each one's cleanups last-registered first, then its memory.
 *
 * A region belongs to one thread at a time: nothing here takes a lock
 * but the registry of per-thread region counts.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "region.h"
#include "quarantine.h"
#include "lock.h"
#include "space.h"
#include "backend/backend.h"
#include "backend/blocks.h"
#include "backend/contig.h"
#include "backend/heap.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The checking mode (quarantine.c): what a backend gives back between these
 * is charged to region r for reason why.  One untaken branch otherwise. */
#define CHECK_BEGIN(r, why)                                                   \
	do {                                                                  \
		if (rgn_check_on())                                           \
			rgn_check_begin((r), (why));                          \
	} while (0)
#define CHECK_END()                                                           \
	do {                                                                  \
		if (rgn_check_on())                                           \
			rgn_check_end();                                      \
	} while (0)

static const struct rgn_backend_ops *const backends[] = {
	[RGN_BACKEND_BLOCKS] = &rgn_blocks_backend,
	[RGN_BACKEND_CONTIG] = &rgn_contig_backend,
	[RGN_BACKEND_HEAP] = &rgn_heap_backend,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

static inline const struct rgn_backend_ops *ops(const rgn_region *r)
{
	rgn_assert_internal(r->backend < NBACKENDS);
	return backends[r->backend];
}

static rgn_thread rgn_region *stack_top;
static rgn_thread size_t stack_nulls;

/* ---- the live-region count ---------------------------------------------------------
 * Each thread counts the regions it created minus those it destroyed in a
 * record of its own (no atomic read-modify-write); the records are
 * registered so the statistics can add them up, and a thread that exits
 * leaves its count to `orphans`.  A spare region (internal.h) stays
 * counted: the statistics subtract the spares the thread caches report. */

struct counter {
	_Atomic int64_t  live;
	bool             listed;
	struct counter  *next, *prev;
};

static void counters_fork_child(void);

static struct rgn_lock counters_lock =
	RGN_LOCK_INIT(RGN_RANK_REGIONS, NULL, counters_fork_child);
static struct counter *counters;      /* under counters_lock */
static int64_t orphans;               /* under counters_lock */
static pthread_key_t counter_key;
static pthread_once_t counter_once = PTHREAD_ONCE_INIT;
static rgn_thread struct counter my_count;

static void counter_exit(void *p)
{
	struct counter *c = p;

	rgn_lock(&counters_lock);
	orphans += atomic_load_explicit(&c->live, memory_order_relaxed);
	if (c->prev)
		c->prev->next = c->next;
	else
		counters = c->next;
	if (c->next)
		c->next->prev = c->prev;
	rgn_unlock(&counters_lock);
	c->listed = false;
	atomic_store_explicit(&c->live, 0, memory_order_relaxed);
}

static void counter_key_create(void)
{
	pthread_key_create(&counter_key, counter_exit);
}

#if RGN_TLS_KEYS_FIRST /* (os/port.h) */
rgn_tls_keys_first static void counter_keys_first(void)
{
	pthread_once(&counter_once, counter_key_create);
}
#endif

/* In a forked child only the forking thread is real. */
static void counters_fork_child(void)
{
	for (struct counter *c = counters; c; c = c->next)
		if (c != &my_count)
			orphans += atomic_load_explicit(&c->live, memory_order_relaxed);
	counters = my_count.listed ? &my_count : NULL;
	my_count.next = my_count.prev = NULL;
}

static rgn_noinline void counter_list(void)
{
	struct counter *c = &my_count;

	pthread_once(&counter_once, counter_key_create);
	rgn_lock(&counters_lock);
	c->prev = NULL;
	c->next = counters;
	if (counters)
		counters->prev = c;
	counters = c;
	rgn_unlock(&counters_lock);
	c->listed = true;
	pthread_setspecific(counter_key, c);
}

static inline void count_region(int64_t delta)
{
	struct counter *c = &my_count;

	if (rgn_unlikely(!c->listed))
		counter_list();
	atomic_store_explicit(&c->live,
	    atomic_load_explicit(&c->live, memory_order_relaxed) + delta,
	    memory_order_relaxed);
}

size_t rgn_region_count(void)
{
	int64_t n;

	rgn_lock(&counters_lock);
	n = orphans;
	for (struct counter *c = counters; c; c = c->next)
		n += atomic_load_explicit(&c->live, memory_order_relaxed);
	rgn_unlock(&counters_lock);
	return n > 0 ? (size_t)n : 0;
}

/* ---- small helpers ------------------------------------------------------------------ */

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

/* A backend method failed with errno set: report it. */
static void *alloc_failed(size_t size)
{
	return errno == ENOMEM ? rgn_oom(size) : NULL;
}

/* Is a tail pending?  Only if nothing moved the bump pointer since
 * rgn_tail (or rgn_tail_grow) returned it. */
static inline bool tail_pending(const rgn_region *r)
{
	return r->tail_floor && r->bump.cur == r->tail_at;
}

static inline void *bump(rgn_region *r, size_t n)
{
	char *p = r->bump.cur;
	r->bump.cur = p + rgn_round8(n);
	return p;
}

/* ---- tree links --------------------------------------------------------------------- */

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

/* Is a equal to b or one of b's descendants? */
static bool within(const rgn_region *a, const rgn_region *b)
{
	for (; a; a = a->parent)
		if (a == b)
			return true;
	return false;
}

/* ---- create and destroy ------------------------------------------------------------- */

static rgn_noinline rgn_region *new_slow(rgn_region *parent, const rgn_options *o)
{
	rgn_region *r;

	if (parent && !rgn_live_(parent, "rgn_new"))
		return einval();
	if (o && (unsigned)o->backend >= NBACKENDS)
		return einval();
	if (!o && (r = rgn_blocks_take_spare()) != NULL) {
		/* counted live all along */
	} else {
		r = o ? backends[o->backend]->create(o) : rgn_blocks_create();
		if (!r)
			return NULL; /* the backend called the OOM handler */
		count_region(1);
	}
	rgn_assert_internal(r->magic == RGN_MAGIC_LIVE);
	if (o)
		r->name = o->name;
	if (parent)
		link_child(parent, r);
	return r;
}

/* The common case, a root from the thread's spare region, is inline;
 * everything else is a tail call. */
RGN_API rgn_region *rgn_new(rgn_region *parent)
{
	rgn_region *r;

	if (rgn_unlikely(parent != NULL))
		return new_slow(parent, NULL);
	r = rgn_blocks_take_spare();
	if (rgn_unlikely(r == NULL))
		return new_slow(NULL, NULL);
	return r;
}

RGN_API rgn_region *rgn_new_with(rgn_region *parent, const rgn_options *opts)
{
	return new_slow(parent, opts);
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

static void stack_forget(rgn_region *r, const char *fn);
static void hist_clear(rgn_region *r);
static inline void hist_cut(rgn_region *r, uint64_t pos);

/* Give back all memory of a region whose children and cleanups are gone. */
static void region_free(rgn_region *r)
{
	if (r->flags) {
		if (r->flags & RGN_F_STACKED)
			stack_forget(r, "rgn_destroy");
		hist_clear(r);
	}
	rgn_region_die(r);
	count_region(-1);
	CHECK_BEGIN(r, RGN_WHY_DESTROY);
	ops(r)->release(r);
	CHECK_END();
}

/* Destroy r, already unlinked from its parent, and its subtree: leaves
 * first, without recursion. */
static rgn_noinline void destroy_tree(rgn_region *r)
{
	rgn_region *x = r, *up;

	/* A grown blocks region with nothing else to undo becomes the
	 * thread's spare when the slot is empty: reset gives its chunks to
	 * the thread's cache and keeps its first block, header and all, for
	 * the next rgn_new (which then neither writes a header nor counts).
	 * Not in the checking mode, whose cache keeps no spare. */
	if (!r->child && !r->cleanups && !r->flags && r->backend == RGN_BACKEND_BLOCKS &&
	    !atomic_load_explicit(&rgn_tc.spare, memory_order_relaxed) && rgn_tc.limit) {
		ops(r)->reset(r);
		if (rgn_blocks_keep_spare(r))
			return;
	}

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
 * one block of the blocks backend, not on the region stack, no mark
 * history out of line), which the backend takes back itself. */
RGN_API void rgn_destroy(rgn_region *r)
{
	if (!r || !rgn_live(r))
		return;
	if (r->parent)
		unlink_child(r);
	if (rgn_likely(!r->child && !r->cleanups && r->blocks == 1 && !r->flags) &&
	    rgn_blocks_keep_spare(r))
		return; /* stays counted live while it is the spare */
	destroy_tree(r);
}

RGN_API void rgn_reset(rgn_region *r)
{
	if (!rgn_live(r))
		return;
	while (r->child || r->cleanups) {
		while (r->child)
			rgn_destroy(r->child);
		run_cleanups(r, NULL);
	}
	r->tail_floor = r->tail_at = NULL;
	hist_clear(r);
	CHECK_BEGIN(r, RGN_WHY_RESET);
	ops(r)->reset(r);
	CHECK_END();
	/* what the region keeps holds nothing any more */
	rgn_track_undefined(r->bump.cur, (size_t)(r->bump.end - r->bump.cur));
}

/* ---- allocation ------------------------------------------------------------------------ */

/* What the current chunk cannot give.  Every allocation cancels a pending
 * tail; those that bump the chunk do it by moving the bump pointer, and
 * this one may leave it where it was (a large span), so it says so. */
static void *backend_alloc(rgn_region *r, size_t n, size_t align, bool *zeroed)
{
	void *p = ops(r)->alloc(r, n, align, zeroed);

	if (p)
		r->tail_floor = r->tail_at = NULL;
	return p;
}

RGN_API void *rgn_alloc_slow_(rgn_region *r, size_t n)
{
	if (!rgn_live_(r, "rgn_alloc"))
		return einval();
	if (n == 0)
		n = 1;
	if (r->backend == RGN_BACKEND_HEAP)
		return rgn_heap_alloc(r, n);
	if (n <= (size_t)(r->bump.end - r->bump.cur))
		return bump(r, n);
	return backend_alloc(r, n, RGN_GRANULE, NULL);
}

/*
 * Cursors.  While a cursor is out, r->bump.cur lags behind the cursor's
 * position (the cursor owns the chunk's free end) and r->bump.end stays
 * the chunk's end, which the cursor reads back after every slow path.
 * With the debug checks the region is also marked: RGN_MAGIC_CURSOR, and
 * bump.cur at bump.end (an empty chunk, so that rgn_alloc's inline path
 * comes out of line), which makes every other call on it abort in
 * rgn_live; the slow path and close take the mark off and put it back.
 * Without the checks nothing marks r, and the slow path tells the two
 * cases apart by the magic.  A closed cursor (debug checks) has no
 * position left: cur_ and end_ NULL, which no open cursor has.
 */
/* A cursor opened on NULL has cur_ == end_ == NULL: its every allocation
 * comes here and fails, and its close stores nothing. */
RGN_API const struct rgn_bump_ rgn_cursor_none_;

RGN_API void rgn_cursor_open_check_(rgn_cursor *c)
{
	rgn_region *r = c->r_;

	if ((const void *)r == (const void *)&rgn_cursor_none_)
		return;                         /* every allocation fails */
	rgn_live_(r, "rgn_cursor_open");
	c->cur_ = r->bump.cur;
	c->end_ = r->bump.end;
	c->base_ = r->bump.base;
	r->magic = RGN_MAGIC_CURSOR;
	r->bump.cur = r->bump.end;
}

/* The cursor's region at cur, unmarked if it was marked (*marked says
 * so); NULL if the cursor has none. */
static rgn_region *cursor_take(rgn_region *r, char *cur, const char *fn,
                               bool *marked)
{
	*marked = false;
	if (r == NULL || (const void *)r == (const void *)&rgn_cursor_none_)
		return NULL;
	if (cur == NULL)
		rgn_misuse(fn, r, "a cursor used after rgn_cursor_close");
	if (rgn_magic_of(r) == RGN_MAGIC_CURSOR) {
		*marked = true;
		r->magic = RGN_MAGIC_LIVE;
	} else if (rgn_live_(r, fn) && (cur < r->chunk_start || cur > r->bump.end)) {
		rgn_misuse(fn, r, "a cursor outside the region's chunk (used "
		           "after rgn_cursor_close, or the region used meanwhile?)");
	}
	r->bump.cur = cur;
	return r;
}

RGN_API void rgn_cursor_close_check_(rgn_cursor *c)
{
	bool marked;
	rgn_region *r = cursor_take(c->r_, c->cur_, "rgn_cursor_close", &marked);

	if (r == NULL)
		return;
	if (!marked)
		rgn_misuse("rgn_cursor_close", r, "not a cursor's region "
		           "(closed twice, or opened without the debug checks?)");
	c->cur_ = c->end_ = NULL;   /* spent: its next use aborts */
}

RGN_API struct rgn_cursor_step_ rgn_cursor_slow_(rgn_region *r, char *cur,
                                                size_t n)
{
	bool marked;
	struct rgn_cursor_step_ s = { NULL, cur };

	if (cursor_take(r, cur, "rgn_cursor_alloc", &marked) == NULL) {
		errno = EINVAL;
		return s;
	}
	s.p = rgn_alloc(r, n);
	s.cur = r->bump.cur;
	if (marked) {
		r->magic = RGN_MAGIC_CURSOR;
		r->bump.cur = r->bump.end;
	}
	return s;
}

RGN_API void *rgn_alloc_aligned(rgn_region *r, size_t n, size_t align)
{
	size_t pad, avail;

	if (!rgn_live(r) || align == 0 || (align & (align - 1)))
		return einval();
	if (align <= RGN_GRANULE)
		return rgn_alloc(r, n);
	if (n == 0)
		n = 1;
	pad = (size_t)(-(uintptr_t)r->bump.cur) & (align - 1);
	avail = (size_t)(r->bump.end - r->bump.cur);
	if (n <= avail && pad <= avail - n) {
		r->bump.cur += pad;
		return bump(r, n);
	}
	return backend_alloc(r, n, align, NULL);
}

RGN_API void *rgn_alloc_array(rgn_region *r, size_t count, size_t size)
{
	size_t n;

	if (!rgn_live(r))
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

	if (!rgn_live(r))
		return einval();
	if (__builtin_mul_overflow(count, size, &n)) {
		errno = EOVERFLOW;
		return NULL;
	}
	if (n > (size_t)(r->bump.end - r->bump.cur))
		p = backend_alloc(r, n ? n : 1, RGN_GRANULE, &zeroed);
	else
		p = rgn_alloc(r, n);
	if (p && !zeroed)
		memset(p, 0, n);
	else if (p)
		rgn_track_defined(p, n); /* a fresh or purged span: zero, unwritten */
	return p;
}

/* ---- strings --------------------------------------------------------------------------- */

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

	if (!rgn_live(r) || !s)
		return einval();
	len = strnlen(s, n);
	p = rgn_alloc(r, len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

RGN_API char *rgn_vformat(rgn_region *r, const char *fmt, va_list ap)
{
	size_t avail;
	va_list ap2;
	char *p;
	int k;

	if (!rgn_live(r) || !fmt)
		return einval();
	/* format straight into the free end of the chunk; only when it does
	 * not fit, allocate the exact size and format again.  Not while a
	 * tail is pending: its bytes are there, and if the allocation then
	 * failed the tail would still be pending with its bytes overwritten
	 * (vsnprintf with no room only measures). */
	avail = tail_pending(r) ? 0 : (size_t)(r->bump.end - r->bump.cur);
	if (avail > INT_MAX)
		avail = INT_MAX; /* a size above INT_MAX is an error for some libcs */
	va_copy(ap2, ap);
	k = vsnprintf(avail ? r->bump.cur : NULL, avail, fmt, ap2);
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

RGN_API char *rgn_format(rgn_region *r, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = rgn_vformat(r, fmt, ap);
	va_end(ap);
	return p;
}

/* ---- resize ---------------------------------------------------------------------------- */

/* Is q, of n bytes as asked for, the last allocation of r's chunk? */
static inline bool last_alloc(const rgn_region *r, const char *q, size_t n)
{
	return n <= SIZE_MAX - 7 && q >= r->chunk_start && q < r->bump.end &&
	       (uintptr_t)q + rgn_round8(n) == (uintptr_t)r->bump.cur;
}

/* A bump region's resize (rgn_realloc), out of line: heap regions, which
 * free and resize all the time, take the short path. */
static rgn_noinline void *realloc_bump(rgn_region *r, void *p, size_t old, size_t new_size)
{
	char *q = p;
	void *n;

	if (last_alloc(r, q, old)) {
		/* the last allocation: move the bump pointer */
		size_t room = (size_t)(r->bump.end - q);
		if (new_size <= room ||
		    (new_size <= ops(r)->max_size(r) &&
		     ops(r)->extend(r, new_size - room) == 0)) {
			char *old_cur = r->bump.cur;
			r->bump.cur = q + rgn_round8(new_size);
			if (r->bump.cur < old_cur)
				hist_cut(r, ops(r)->used(r)); /* marks above: stale */
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

RGN_API void *rgn_realloc(rgn_region *r, void *p, size_t old, size_t new_size)
{
	if (!rgn_live(r))
		return einval();
	if (new_size == 0)
		new_size = 1;
	if (r->backend == RGN_BACKEND_HEAP)
		return p ? rgn_heap_realloc(r, p, old, new_size) : rgn_heap_alloc(r, new_size);
	if (!p)
		return rgn_alloc(r, new_size);
	return realloc_bump(r, p, old, new_size);
}

/* A heap region puts p on its class's free list (backend/heap.h).  A bump
 * region records no sizes: memory goes back only when p is the last
 * allocation and its size is known.  That moves the bump pointer down, as
 * a shrink would: marks above become stale, and a pending tail is
 * cancelled (it could otherwise look pending again). */
static rgn_noinline void free_bump(rgn_region *r, char *q, size_t size)
{
	if (size && last_alloc(r, q, size)) {
		r->bump.cur = q;
		r->tail_floor = r->tail_at = NULL;
		hist_cut(r, ops(r)->used(r));
		rgn_track_undefined(q, rgn_round8(size));
	}
}

RGN_API void rgn_free(rgn_region *r, void *p, size_t size)
{
	if (!p || !rgn_live(r))
		return;
	if (r->backend == RGN_BACKEND_HEAP)
		rgn_heap_free(r, p);
	else
		free_bump(r, p, size);
}

RGN_API size_t rgn_usable_size(const rgn_region *r, const void *p)
{
	if (!p || !rgn_live(r))
		return 0;
	if (r->backend == RGN_BACKEND_HEAP) {
		rgn_heap_check("rgn_usable_size", (rgn_region *)r, p);
		return rgn_heap_usable(r, p);
	}
	return 0;
}

/* ---- marks ------------------------------------------------------------------------------
 * A mark is a point of the region's history: its generation (r->gen when
 * saved, unique in the process) and its position (bytes used then).  The
 * position only goes down by a rewind (or a shrink of the last
 * allocation), and each time it goes down to p, every mark above p
 * becomes stale and every mark at or below p stays valid.  So the
 * history is a short list of generation ranges, each with the highest
 * position its marks may have (struct rgn_hist): going down to p merges
 * the ranges whose bound is p or more into one bounded by p, and the
 * current generation joins it.  A mark is valid when its generation is
 * the current one, or falls in a range whose bound its position keeps.
 * The list grows only when the region goes down to ever higher points
 * while older marks stay valid (a loop that saves and rewinds keeps one
 * range); past RGN_HIST_INLINE ranges it moves to a block of the space,
 * and past that block's room the two oldest merge with the lower bound,
 * which can refuse a valid old mark but never accepts a stale one.
 * Reset and merge forget the list: a mark from before is stale. */

#define HIST_OUT_CAP ((uint32_t)(RGN_BLOCK_SIZE / sizeof(struct rgn_hist)))

/* Generations: a range per thread from one process-wide counter. */
static _Atomic uint64_t gen_pool = 1; /* 0 means none */
static rgn_thread uint64_t gen_next, gen_end;

static uint64_t fresh_gen(void)
{
	enum { GEN_BATCH = 4096 };

	if (rgn_unlikely(gen_next == gen_end)) {
		gen_next = atomic_fetch_add_explicit(&gen_pool, GEN_BATCH,
		                                     memory_order_relaxed);
		gen_end = gen_next + GEN_BATCH;
	}
	return gen_next++;
}

static inline struct rgn_hist *hist_of(rgn_region *r)
{
	return r->hist_out ? r->hist_out : r->hist_in;
}

static void hist_clear(rgn_region *r)
{
	if (r->hist_out) {
		rgn_blk_put1(rgn_blk_index(r->hist_out));
		r->hist_out = NULL;
		r->flags &= (uint16_t)~RGN_F_HISTOUT;
	}
	r->nhist = 0;
	r->gen = 0;
}

/* One more range, at the end. */
static void hist_push(rgn_region *r, uint64_t first, uint64_t last, uint64_t pos)
{
	struct rgn_hist *h = hist_of(r);
	uint32_t cap = r->hist_out ? HIST_OUT_CAP : RGN_HIST_INLINE;
	uint32_t b;

	if (r->nhist == cap && !r->hist_out && (b = rgn_blk_get1()) != 0) {
		r->hist_out = (struct rgn_hist *)(void *)rgn_blk_addr(b);
		memcpy(r->hist_out, h, sizeof(r->hist_in));
		r->flags |= RGN_F_HISTOUT;
		h = r->hist_out;
		cap = HIST_OUT_CAP;
	}
	if (r->nhist == cap) {
		/* no room: the two oldest become one, with the lower bound */
		h[0].last = h[1].last;
		memmove(&h[1], &h[2], (cap - 2) * sizeof(*h));
		r->nhist--;
	}
	h[r->nhist++] = (struct rgn_hist){ first, last, pos };
}

/* The region's position went down to pos. */
static inline void hist_cut(rgn_region *r, uint64_t pos)
{
	struct rgn_hist *h = hist_of(r);
	uint32_t i = r->nhist;

	while (i > 0 && h[i - 1].pos >= pos)
		i--;
	if (i < r->nhist) {
		/* ranges i.. merge, bounded by pos; the current joins them */
		h[i].last = r->gen ? r->gen : h[r->nhist - 1].last;
		h[i].pos = pos;
		r->nhist = i + 1;
	} else if (r->gen) {
		hist_push(r, r->gen, r->gen, pos);
	}
	r->gen = 0;
}

static bool hist_valid(rgn_region *r, uint64_t gen, uint64_t pos)
{
	const struct rgn_hist *h = hist_of(r);

	if (gen == 0)
		return false;
	if (gen == r->gen)
		return true;
	for (uint32_t i = 0; i < r->nhist; i++)
		if (gen >= h[i].first && gen <= h[i].last)
			return pos <= h[i].pos;
	return false;
}

RGN_API rgn_mark rgn_save(const rgn_region *r)
{
	rgn_mark m;
	struct rgn_mark_priv *mp = (struct rgn_mark_priv *)(void *)&m;
	rgn_region *w = (rgn_region *)(uintptr_t)r; /* only its generation */

	if (!rgn_live(r)) {
		memset(&m, 0, sizeof(m));
		errno = EINVAL;
		return m;
	}
	if (!w->gen)
		w->gen = fresh_gen();
	mp->gen = w->gen;
	mp->cur = r->bump.cur;
	mp->cleanups = r->cleanups;
	ops(r)->save(r, mp); /* sets pos and b[] */
	return m;
}

/* Is the mark still a point of r's history?  Its generation and position
 * say so; its cleanup must be on the list, and the backend must find its
 * memory as it left it (both hold for every valid mark: checked too, as
 * cheap guards). */
static bool mark_valid(rgn_region *r, const struct rgn_mark_priv *mp)
{
	const struct rgn_cleanup *c;

	if (!hist_valid(r, mp->gen, mp->pos))
		return false;
	for (c = r->cleanups; c && c != mp->cleanups; c = c->next)
		;
	return c == mp->cleanups && ops(r)->mark_valid(r, mp);
}

RGN_API int rgn_rewind(rgn_region *r, rgn_mark m)
{
	const struct rgn_mark_priv *mp = (const struct rgn_mark_priv *)(const void *)&m;

	if (!rgn_live(r))
		return einval_int();
	if (!ops(r)->rewind) { /* a heap region frees objects, not history */
		errno = ENOTSUP;
		return -1;
	}
	if (mp->cur == NULL || !mark_valid(r, mp))
		return einval_int();
	/* cleanups first: they may still use the memory, or even allocate
	 * (what they allocate is popped below with the rest) */
	run_cleanups(r, mp->cleanups);
	CHECK_BEGIN(r, RGN_WHY_REWIND);
	ops(r)->rewind(r, mp);
	CHECK_END();
	r->bump.cur = mp->cur;
	r->tail_floor = r->tail_at = NULL;
	hist_cut(r, mp->pos);
	/* what was allocated since in the mark's chunk is gone */
	rgn_track_undefined(r->bump.cur, (size_t)(r->bump.end - r->bump.cur));
	return 0;
}

/* ---- cleanups and ownership ---------------------------------------------------------------- */

RGN_API int rgn_on_destroy(rgn_region *r, rgn_cleanup_fn fn, void *arg)
{
	struct rgn_cleanup *c;

	if (!rgn_live(r) || !fn)
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

RGN_API int rgn_on_destroy_cancel(rgn_region *r, rgn_cleanup_fn fn, void *arg)
{
	if (!rgn_live(r) || !fn)
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

RGN_API int rgn_adopt(rgn_region *parent, rgn_region *child)
{
	if (!rgn_live(child) || (parent && !rgn_live(parent)) || within(parent, child))
		return einval_int();
	unlink_child(child);
	link_child(parent, child);
	return 0;
}

RGN_API int rgn_merge(rgn_region *dst, rgn_region *src)
{
	struct rgn_cleanup *c;
	rgn_region *k, *last = NULL;

	if (!rgn_live(dst) || !rgn_live(src) || within(dst, src))
		return einval_int();
	if (dst->backend != src->backend || !ops(dst)->merge) {
		/* a reservation cannot join another region's memory, and its
		 * references would change meaning */
		errno = ENOTSUP;
		return -1;
	}
	if (ops(dst)->merge(dst, src) != 0)
		return -1;
	/* marks of either are stale now: dst's would pop src's memory */
	hist_clear(dst);
	if (src->flags & RGN_F_STACKED)
		stack_forget(src, "rgn_merge");
	hist_clear(src);
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
	rgn_region_die(src);
	count_region(-1);
	return 0;
}

/* ---- compaction's swap (copy.c) ----------------------------------------------------- */

void rgn_region_spans(const rgn_region *r, rgn_span_fn *fn, void *arg)
{
	rgn_assert(ops(r)->spans != NULL);
	ops(r)->spans(r, fn, arg);
}

/* t: a root with no child and no cleanup, of r's backend, made by the
 * caller for this.  r keeps its place in the tree, its children, name
 * and stack entry; the cleanup records are the caller's to move. */
void rgn_region_replace(rgn_region *r, rgn_region *t)
{
	bool given;

	rgn_assert(t->backend == r->backend && !t->child && !t->cleanups && !t->parent);
	r->tail_floor = r->tail_at = NULL;
	hist_clear(r);
	CHECK_BEGIN(r, RGN_WHY_RESET);
	given = ops(r)->replace(r, t);
	CHECK_END();
	if (given) {
		/* t's memory is r's: t's header dies in place */
		if (t->flags & RGN_F_STACKED)
			stack_forget(t, "rgn_compact");
		hist_clear(t);
		rgn_region_die(t);
		count_region(-1);
		return;
	}
	rgn_destroy(t);
}

/* ---- tail reservation ---------------------------------------------------------------------- */

RGN_API void *rgn_tail(rgn_region *r, size_t min, size_t *avail)
{
	size_t have;
	char *old_end;

	if (!rgn_live(r) || !avail)
		return einval();
	if (!ops(r)->chunk) { /* a heap region has no chunk to bump in */
		errno = ENOTSUP;
		return NULL;
	}
	if (min == 0)
		min = 1;
	if (min > ops(r)->max_size(r))
		return rgn_oom(min);
	have = (size_t)(r->bump.end - r->bump.cur);
	old_end = r->bump.end;
	if (have >= min || ops(r)->extend(r, min - have) == 0) {
		r->tail_floor = old_end; /* what extend added may go back */
	} else {
		if (ops(r)->chunk(r, min) != 0)
			return alloc_failed(min);
		r->tail_floor = r->chunk_start;
	}
	r->tail_at = r->bump.cur;
	*avail = (size_t)(r->bump.end - r->bump.cur);
	return r->bump.cur;
}

RGN_API void *rgn_tail_grow(rgn_region *r, size_t used, size_t min, size_t *avail)
{
	size_t have;
	char *old, *floor;
	void *old_chunk;

	if (!rgn_live(r) || !avail || !tail_pending(r))
		return einval();
	have = (size_t)(r->bump.end - r->bump.cur);
	if (used > have)
		return einval();
	if (min < used)
		min = used;
	if (min > ops(r)->max_size(r)) {
		errno = ENOMEM; /* a try: no handler (rgn.h) */
		return NULL;
	}
	/* in place: the floor stays where rgn_tail put it, so the blocks
	 * added here may go back at the commit too */
	if (min > have && ops(r)->extend(r, min - have) != 0) {
		/* moved: a chunk of its own, the used bytes copied over, and
		 * the old chunk trimmed back to what it held before the tail */
		old = r->bump.cur;
		floor = r->tail_floor;
		old_chunk = r->chunk_start;
		if (ops(r)->chunk(r, min) != 0)
			return NULL; /* errno set; the old tail is still pending */
		memcpy(r->bump.cur, old, used);
		CHECK_BEGIN(r, RGN_WHY_TRIM);
		ops(r)->trim(r, old_chunk, old > floor ? old : floor);
		CHECK_END();
		r->tail_floor = r->chunk_start;
		r->tail_at = r->bump.cur;
	}
	*avail = (size_t)(r->bump.end - r->bump.cur);
	return r->bump.cur;
}

RGN_API int rgn_tail_commit(rgn_region *r, size_t used)
{
	char *floor;

	if (!rgn_live(r) || !tail_pending(r) ||
	    used > (size_t)(r->bump.end - r->bump.cur))
		return einval_int();
	r->bump.cur += rgn_round8(used);
	floor = r->tail_floor;
	r->tail_floor = r->tail_at = NULL;
	CHECK_BEGIN(r, RGN_WHY_TRIM);
	ops(r)->trim(r, NULL, r->bump.cur > floor ? r->bump.cur : floor);
	CHECK_END();
	/* the tail past what was used is free again */
	rgn_track_undefined(r->bump.cur, (size_t)(r->bump.end - r->bump.cur));
	return 0;
}

/* ---- the per-thread stack ------------------------------------------------------------------ */

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
	r->flags |= RGN_F_STACKED;
	stack_nulls = 0;
	stack_top = r;
	return r;
}

/* r, on the region stack, goes away without rgn_pop: its entry stays as
 * a failed push would (rgn_pop then pops nothing), so pushes and pops
 * still pair, and a new region at r's address is never popped for it. */
static void stack_forget(rgn_region *r, const char *fn)
{
	rgn_region *x, *above = NULL;

	for (x = stack_top; x && x != r; x = x->stack_prev)
		above = x;
	if (!x)
		rgn_misuse(fn, r, "the region is on another thread's region stack");
	if (above) {
		above->stack_prev = r->stack_prev;
		above->stack_nulls += r->stack_nulls + 1;
	} else {
		stack_top = r->stack_prev;
		stack_nulls += r->stack_nulls + 1;
	}
	r->stack_prev = NULL;
	r->flags &= (uint16_t)~RGN_F_STACKED;
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
	r->stack_prev = NULL;
	r->flags &= (uint16_t)~RGN_F_STACKED;
	rgn_destroy(r);
}

/* ---- statistics (report.c adds the subtree and the report) -------------------------------- */

bool rgn_region_live(const rgn_region *r, const char *fn)
{
	return rgn_live_(r, fn);
}

const char *rgn_region_backend_name(const rgn_region *r)
{
	return ops(r)->name;
}

void rgn_region_own_stats(const rgn_region *r, struct rgn_region_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->backend = (rgn_backend)r->backend;
	ops(r)->stats(r, st);
	for (rgn_region *k = r->child; k; k = k->next)
		st->children++;
	for (struct rgn_cleanup *c = r->cleanups; c; c = c->next)
		st->cleanups += c->fn != NULL;
}
