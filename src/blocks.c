/*
 * blocks.c - blocks and spans: the shared free structure, the per-thread
 * caches in front of it, and the policy that gives memory back to the OS.
 *
 * The space below its frontier (`top`) is tiled by spans of contiguous
 * blocks, each USED or FREE; the invariants are stated with struct
 * rgn_desc in internal.h.  Free spans sit in size bins: bins 1..63 hold
 * spans of exactly that many blocks, the bins above hold spans in
 * [2^k, 2^(k+1)).  Allocation takes the smallest bin that can serve the
 * request (first fit inside the one inexact bin it may have to walk),
 * splits off what it does not need, and only carves fresh blocks at the
 * frontier when no free span fits: freed memory is always reused before
 * new address space is touched.  Freeing coalesces with both neighbours
 * at once, found in O(1) through the boundary descriptors, so free spans
 * are never adjacent.
 *
 * Per-thread caches.  A region's first chunk and most small chunks are a
 * single block, and create/destroy churn moves single blocks only.  Each
 * thread keeps up to RGN_TCACHE_MAX single blocks of its own, refilled
 * and drained RGN_TCACHE_BATCH at a time under the lock, so a thread
 * churning regions takes the lock once per 32 blocks.  Cached blocks are
 * USED as far as the shared structure knows; they do not coalesce until
 * drained (rgn_trim, thread exit, or a span allocation that would
 * otherwise fail).
 *
 * Giving memory back.  A free span carries `dirty`, an upper bound on how
 * many of its blocks may still be resident; the space's `retained` is
 * their sum, and the spans with dirty > 0 form a list, oldest first.  When
 * a free pushes `retained` over the retain limit, the freeing thread
 * purges the oldest dirty spans (madvise, outside the lock) until
 * `retained` is at most half the limit.  The hysteresis keeps a program
 * that oscillates around the limit from paying a syscall per free.
 * Merging adds dirty counts; splitting gives each part min(dirty, len),
 * so the bound stays an upper bound, and a span with dirty == 0 is known
 * to read as zero (rgn_calloc uses that).
 *
 * Locking: one mutex (space.lock) guards the bins, the frontier and the
 * counters.  No syscall is made under it except the mprotect that moves
 * the frontier, which must be serialised with carving anyway.
 */
#include "internal.h"
#include "os/os.h"

#include <stdio.h>
#include <string.h>

rgn_thread struct rgn_tcache rgn_tc;

static pthread_key_t tcache_key;

#define S (&rgn_space_g)
#define D(b) (&rgn_space_g.desc[(b)])

/* ---- bins ------------------------------------------------------------------ */

static inline unsigned bin_of(uint32_t n)
{
	if (n < RGN_BINS_EXACT)
		return n;
	return RGN_BINS_EXACT + (unsigned)(31 - __builtin_clz(n)) - 6;
}

static inline void binmap_set(unsigned i)   { S->binmap[i >> 6] |= 1ull << (i & 63); }
static inline void binmap_clear(unsigned i) { S->binmap[i >> 6] &= ~(1ull << (i & 63)); }

/* Lowest non-empty bin >= i, or 0 when there is none (bin 0 is unused). */
static unsigned binmap_next(unsigned i)
{
	for (unsigned w = i >> 6; w < 2; w++) {
		uint64_t m = S->binmap[w];
		if (w == i >> 6)
			m &= ~0ull << (i & 63);
		if (m)
			return w * 64 + (unsigned)__builtin_ctzll(m);
	}
	return 0;
}

/* Write the boundary descriptors of span [h, h+len). */
static inline void span_mark(uint32_t h, uint32_t len, uint32_t state)
{
	D(h)->len = len;
	D(h)->state = state;
	D(h + len - 1)->len = len;
	D(h + len - 1)->state = state;
}

/* Insert the FREE span at h (boundaries, len and dirty already written)
 * into its bin and, if dirty, at the new end of the dirty list.  A dirty
 * span goes to the front of its bin, a clean one second, so the span
 * freed last (the warmest) is the next one used. */
static void free_insert(uint32_t h)
{
	struct rgn_desc *d = D(h);
	unsigned b = bin_of(d->len);

	d->prev = 0;
	if (d->dirty || !S->bin[b]) {
		d->next = S->bin[b];
		if (d->next)
			D(d->next)->prev = h;
		S->bin[b] = h;
	} else {
		/* clean: after the head (cheap, keeps dirty ones first) */
		uint32_t first = S->bin[b];
		d->next = D(first)->next;
		d->prev = first;
		if (d->next)
			D(d->next)->prev = h;
		D(first)->next = h;
	}
	binmap_set(b);
	S->free_blocks += d->len;
	if (d->dirty) {
		S->retained += d->dirty;
		d->dnext = 0;
		d->dprev = S->dirty_new;
		if (S->dirty_new)
			D(S->dirty_new)->dnext = h;
		else
			S->dirty_old = h;
		S->dirty_new = h;
	}
}

static void free_remove(uint32_t h)
{
	struct rgn_desc *d = D(h);
	unsigned b = bin_of(d->len);

	if (d->prev)
		D(d->prev)->next = d->next;
	else
		S->bin[b] = d->next;
	if (d->next)
		D(d->next)->prev = d->prev;
	if (!S->bin[b])
		binmap_clear(b);
	S->free_blocks -= d->len;
	if (d->dirty) {
		S->retained -= d->dirty;
		if (d->dprev)
			D(d->dprev)->dnext = d->dnext;
		else
			S->dirty_old = d->dnext;
		if (d->dnext)
			D(d->dnext)->dprev = d->dprev;
		else
			S->dirty_new = d->dprev;
	}
}

/* A free span that fits n blocks, or 0. */
static uint32_t find_fit_locked(uint32_t n)
{
	unsigned b = bin_of(n);

	if (b >= RGN_BINS_EXACT) {
		for (uint32_t h = S->bin[b]; h; h = D(h)->next)
			if (D(h)->len >= n)
				return h;
		b++;
	}
	b = binmap_next(b);
	return b ? S->bin[b] : 0;
}

/* ---- allocate and free, lock held ------------------------------------------- */

/* Take a span of n blocks.  *dirty receives an upper bound on its resident
 * blocks (0: it reads as zero).  Returns 0 when the space is exhausted or
 * the frontier cannot be committed. */
static uint32_t alloc_locked(uint32_t n, uint32_t *dirty)
{
	uint32_t h = find_fit_locked(n);

	if (h) {
		uint32_t len = D(h)->len, d = D(h)->dirty;
		free_remove(h);
		if (len > n) {
			uint32_t rest = h + n;
			span_mark(rest, len - n, RGN_SPAN_FREE);
			D(rest)->dirty = d < len - n ? d : len - n;
			free_insert(rest);
		}
		*dirty = d < n ? d : n;
	} else {
		/* carve at the frontier, starting inside a free span that ends
		 * there, if any: otherwise that span could never grow */
		uint32_t tail = 0, tail_dirty = 0;
		if (S->top > 1 && D(S->top - 1)->state == RGN_SPAN_FREE)
			tail = D(S->top - 1)->len;
		if (n - tail > S->nblocks - S->top)
			return 0;
		if (rgn_space_commit_to_locked(S->top - tail + n) != 0)
			return 0;
		if (tail) {
			tail_dirty = D(S->top - tail)->dirty;
			free_remove(S->top - tail);
			D(S->top - 1)->state = 0;
		}
		h = S->top - tail;
		S->top = h + n;
		*dirty = tail_dirty;
	}
	span_mark(h, n, RGN_SPAN_USED);
	D(h)->next = 0;
	D(h)->tag = 0;
	S->used_blocks += n;
	return h;
}

/* Free the USED span [b, b+n), of which at most `dirty` blocks may be
 * resident, coalescing with free neighbours. */
static void free_locked(uint32_t b, uint32_t n, uint32_t dirty)
{
	uint32_t h = b, len = n;

	rgn_assert_internal(D(b)->state == RGN_SPAN_USED && D(b)->len == n);
	rgn_track_taken(rgn_blk_addr(b), (size_t)n << RGN_BLOCK_SHIFT);
	S->used_blocks -= n;
	if (b > 1 && D(b - 1)->state == RGN_SPAN_FREE) {
		uint32_t lh = b - D(b - 1)->len;
		free_remove(lh);
		dirty += D(lh)->dirty;
		len += D(lh)->len;
		h = lh;
	}
	if (b + n < S->top && D(b + n)->state == RGN_SPAN_FREE) {
		uint32_t rh = b + n;
		free_remove(rh);
		dirty += D(rh)->dirty;
		len += D(rh)->len;
	}
	/* clear the boundaries that are now interior, so no stale FREE
	 * descriptor can be mistaken for a neighbour later */
	if (h != b)
		D(b)->state = 0;
	if (h + len != b + n)
		D(b + n - 1)->state = 0;
	span_mark(h, len, RGN_SPAN_FREE);
	D(h)->dirty = dirty < len ? dirty : len;
	free_insert(h);
}

static inline bool over_retain_locked(void)
{
	return S->retained > S->retain_blocks && !S->purging;
}

static void purge(uint32_t target, bool wait);

/* After a free made `retained` exceed the limit: purge, unless another
 * thread already is (it will bring `retained` down for both). */
static void after_free(bool over)
{
	if (rgn_unlikely(over))
		purge(S->retain_blocks / 2, false);
}

/* ---- public to the library ----------------------------------------------------- */

static void tcache_exit(void *tc)
{
	rgn_tcache_flush(tc);
}

/* fork(): hold the lock across it, so the child never inherits it held
 * by a thread that does not exist there.  In the child only the forking
 * thread's cache is still real; the blocks other threads had cached stay
 * USED for the child's lifetime. */
static void fork_prepare(void)
{
	rgn_space_fork_lock();
	pthread_mutex_lock(&S->lock);
	while (S->purging) /* its spans are out of the lists until it ends */
		pthread_cond_wait(&S->purge_done, &S->lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&S->lock);
	rgn_space_fork_unlock();
}

static void fork_child(void)
{
	struct rgn_tcache *tc = &rgn_tc;

	for (struct rgn_tcache *o = S->caches; o; o = o->next)
		if (o != tc)
			S->orphan_regions += atomic_load_explicit(&o->regions,
			                                          memory_order_relaxed) -
			    (atomic_load_explicit(&o->spare, memory_order_relaxed) != NULL);
	S->caches = tc->limit ? tc : NULL;
	tc->next = tc->prev = NULL;
	pthread_mutex_unlock(&S->lock);
	rgn_space_fork_unlock();
}

/* Registered when the library is loaded, before any program code can
 * register handlers of its own or fork in the middle of rgn's set-up. */
__attribute__((constructor)) static void blocks_load(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void rgn_blk_init_locked(void)
{
	S->top = 1; /* block 0 is never a span: ref 0 must fault */
	pthread_key_create(&tcache_key, tcache_exit);
}

/* ---- the per-thread span cache -----------------------------------------------
 * Regions grow through chunks of 2, 4, 8, 16 blocks and programs keep
 * asking for the same buffer sizes, so a thread keeps a few spans of each
 * of those lengths: a region that outgrows its first block no longer
 * takes the space lock on every request (measured: two threads running
 * the request benchmark took the lock about three times per request). */

/* The class of a span of n blocks, or -1 when it is not cached. */
static inline int span_class(uint32_t n)
{
	if (n < 2 || n > (2u << (RGN_SPAN_CLASSES - 1)) || (n & (n - 1)))
		return -1;
	return __builtin_ctz(n) - 1;
}

static inline void span_blocks_add(struct rgn_tcache *tc, int64_t d)
{
	atomic_store_explicit(&tc->span_blocks,
	    (uint32_t)(atomic_load_explicit(&tc->span_blocks, memory_order_relaxed) + d),
	    memory_order_relaxed);
}

static bool span_put(uint32_t b, uint32_t n)
{
	struct rgn_tcache *tc = &rgn_tc;
	int c = span_class(n);

	if (c < 0 || tc->nspan[c] == RGN_SPAN_CACHE)
		return false;
	if (!tc->limit)
		rgn_tcache_register(tc);
	rgn_track_taken(rgn_blk_addr(b), (size_t)n << RGN_BLOCK_SHIFT);
	tc->span[c][tc->nspan[c]++] = b;
	span_blocks_add(tc, n);
	return true;
}

static uint32_t span_get(uint32_t n)
{
	struct rgn_tcache *tc = &rgn_tc;
	int c = span_class(n);
	uint32_t b;

	if (c < 0 || tc->nspan[c] == 0)
		return 0;
	b = tc->span[c][--tc->nspan[c]];
	span_blocks_add(tc, -(int64_t)n);
	rgn_track_given(rgn_blk_addr(b), (size_t)n << RGN_BLOCK_SHIFT);
	return b;
}

/* Does the thread's cache hold anything a failed allocation could use? */
static inline bool tcache_holds(const struct rgn_tcache *tc)
{
	return atomic_load_explicit(&tc->n, memory_order_relaxed) ||
	       atomic_load_explicit(&tc->spare, memory_order_relaxed) ||
	       atomic_load_explicit(&tc->span_blocks, memory_order_relaxed);
}

/* alloc_locked, and when the space is short, once more after giving the
 * thread's cached blocks back: they may be what is missing.  Called and
 * returns with the lock held; drops it in between. */
static uint32_t alloc_or_flush_locked(uint32_t n, uint32_t *dirty)
{
	uint32_t h = alloc_locked(n, dirty);

	if (!h && tcache_holds(&rgn_tc)) {
		pthread_mutex_unlock(&S->lock);
		rgn_tcache_flush(&rgn_tc);
		pthread_mutex_lock(&S->lock);
		h = alloc_locked(n, dirty);
	}
	return h;
}

uint32_t rgn_blk_alloc(uint32_t n, bool *zeroed)
{
	uint32_t h, dirty = 0;
	int err = rgn_space_ensure();

	if (err) {
		errno = err;
		return 0;
	}
	if (n == 0 || n >= S->nblocks) {
		errno = ENOMEM;
		return 0;
	}
	if ((h = span_get(n)) != 0) {
		if (zeroed)
			*zeroed = false;
		return h;
	}
	pthread_mutex_lock(&S->lock);
	h = alloc_or_flush_locked(n, &dirty);
	pthread_mutex_unlock(&S->lock);
	if (!h) {
		errno = ENOMEM;
		return 0;
	}
	if (zeroed)
		*zeroed = dirty == 0 && S->decommit_zeroes;
	rgn_track_given(rgn_blk_addr(h), (size_t)n << RGN_BLOCK_SHIFT);
	return h;
}

uint32_t rgn_blk_alloc_aligned(uint32_t n, uint32_t align)
{
	uint32_t h, a, total, front, back, dirty = 0;
	bool over;

	if (align <= 1)
		return rgn_blk_alloc(n, NULL);
	if (rgn_space_ensure() != 0 || n == 0 || align > S->nblocks ||
	    n > S->nblocks - align) {
		errno = ENOMEM;
		return 0;
	}
	total = n + align - 1;
	pthread_mutex_lock(&S->lock);
	h = alloc_or_flush_locked(total, &dirty);
	if (!h) {
		pthread_mutex_unlock(&S->lock);
		errno = ENOMEM;
		return 0;
	}
	a = (h + align - 1) & ~(align - 1);
	front = a - h;
	back = total - front - n;
	/* cut [h, a) and [a+n, h+total) off and give them back */
	span_mark(a, n, RGN_SPAN_USED);
	D(a)->next = 0;
	D(a)->tag = 0;
	if (front) {
		span_mark(h, front, RGN_SPAN_USED);
		free_locked(h, front, dirty < front ? dirty : front);
	}
	if (back) {
		span_mark(a + n, back, RGN_SPAN_USED);
		free_locked(a + n, back, dirty < back ? dirty : back);
	}
	over = over_retain_locked();
	pthread_mutex_unlock(&S->lock);
	after_free(over);
	rgn_track_given(rgn_blk_addr(a), (size_t)n << RGN_BLOCK_SHIFT);
	return a;
}

void rgn_blk_free(uint32_t b, uint32_t n)
{
	bool over;

	if (n == 1) {
		rgn_blk_put1(b);
		return;
	}
	pthread_mutex_lock(&S->lock);
	free_locked(b, n, n);
	over = over_retain_locked();
	pthread_mutex_unlock(&S->lock);
	after_free(over);
}

void rgn_blk_release(uint32_t b, uint32_t n)
{
	if (!span_put(b, n))
		rgn_blk_free(b, n);
}

void rgn_blk_free_chain(uint32_t b, uint32_t stop)
{
	bool locked = false, over = false;

	while (b && b != stop) {
		uint32_t next = D(b)->next, n = D(b)->len;
		if (n == 1 || span_class(n) >= 0) {
			/* to the thread cache, which may drain and take the
			 * lock itself */
			if (locked) {
				over |= over_retain_locked();
				pthread_mutex_unlock(&S->lock);
				locked = false;
			}
			rgn_blk_release(b, n);
		} else {
			if (!locked) {
				pthread_mutex_lock(&S->lock);
				locked = true;
			}
			free_locked(b, n, n);
		}
		b = next;
	}
	if (locked) {
		over |= over_retain_locked();
		pthread_mutex_unlock(&S->lock);
	}
	after_free(over);
}

/* ---- growing a span in place ------------------------------------------------
 * A region's first block comes from the thread's cache, which was filled
 * from one span of RGN_TCACHE_BATCH blocks: the blocks right after it are
 * usually still in that cache, USED as far as the shared structure knows.
 * rgn_blk_extend takes such a run first, so a fresh region can grow its
 * own block in place (a tail reservation, rgn_grow) instead of starting a
 * chunk beside it, and takes the rest from a free span or the frontier. */

/* How many blocks from nb on (at most max, at most 64) the calling
 * thread's single-block cache holds as an unbroken run. */
static uint32_t cache_run(const struct rgn_tcache *tc, uint32_t nb, uint32_t max)
{
	uint32_t n = atomic_load_explicit(&tc->n, memory_order_relaxed);
	uint64_t seen = 0;

	if (max > 64)
		max = 64;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t d = tc->blk[i] - nb; /* wraps for blocks below nb */
		if (d < max)
			seen |= 1ull << d;
	}
	return seen == ~0ull ? 64 : (uint32_t)__builtin_ctzll(~seen);
}

/* Take the blocks [nb, nb+k) out of the thread's cache (they are there:
 * cache_run said so), keeping the others in their order. */
static void cache_take_run(struct rgn_tcache *tc, uint32_t nb, uint32_t k)
{
	uint32_t n = atomic_load_explicit(&tc->n, memory_order_relaxed), j = 0;

	for (uint32_t i = 0; i < n; i++)
		if (tc->blk[i] - nb >= k)
			tc->blk[j++] = tc->blk[i];
	rgn_assert_internal(j + k == n);
	atomic_store_explicit(&tc->n, j, memory_order_relaxed);
}

/* The part of an extension past the cached run: extra blocks at nb, from
 * a free span there, the frontier, or a free span up to the frontier and
 * fresh blocks after it.  0 or ENOMEM.  Caller holds the lock. */
static int extend_shared_locked(uint32_t nb, uint32_t extra)
{
	if (extra == 0)
		return 0;
	if (nb == S->top) {
		if (extra > S->nblocks - S->top ||
		    rgn_space_commit_to_locked(S->top + extra) != 0)
			return ENOMEM;
		S->top += extra;
	} else if (nb < S->top && D(nb)->state == RGN_SPAN_FREE &&
	           D(nb)->len >= extra) {
		uint32_t len = D(nb)->len, d = D(nb)->dirty;
		free_remove(nb);
		if (len > extra) {
			uint32_t rest = nb + extra;
			span_mark(rest, len - extra, RGN_SPAN_FREE);
			D(rest)->dirty = d < len - extra ? d : len - extra;
			free_insert(rest);
		}
		D(nb)->state = 0;
	} else if (nb < S->top && D(nb)->state == RGN_SPAN_FREE &&
	           nb + D(nb)->len == S->top &&
	           extra - D(nb)->len <= S->nblocks - S->top &&
	           rgn_space_commit_to_locked(nb + extra) == 0) {
		/* a free span up to the frontier, then fresh blocks */
		free_remove(nb);
		D(nb)->state = 0;
		S->top = nb + extra;
	} else {
		return ENOMEM;
	}
	S->used_blocks += extra;
	return 0;
}

int rgn_blk_extend(uint32_t b, uint32_t n, uint32_t extra)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t nb = b + n, last, cached;
	int err;

	/* cached blocks are USED already: they change hands, not state */
	cached = cache_run(tc, nb, extra);
	pthread_mutex_lock(&S->lock);
	err = extend_shared_locked(nb + cached, extra - cached);
	if (!err) {
		cache_take_run(tc, nb, cached);
		/* the cached blocks' own boundary descriptors are interior now;
		 * they say USED, which no neighbour test looks for */
		last = b + n + extra - 1;
		if (n > 1)
			D(b + n - 1)->state = 0; /* old last block is interior now */
		D(b)->len = n + extra;
		D(last)->len = n + extra;
		D(last)->state = RGN_SPAN_USED;
	}
	pthread_mutex_unlock(&S->lock);
	if (!err)
		rgn_track_given(rgn_blk_addr(b + n), (size_t)extra << RGN_BLOCK_SHIFT);
	return err;
}

/* Shrinking gives the blocks cut off to the thread's single-block cache
 * while it has room for all of them, the shared lists otherwise.  A tail
 * that grew into cached blocks and was trimmed back returns them where
 * it found them, and the region's next tail finds them there again.
 * Measured on a walk reading 20,000 small files (bench/sys-walk.c): the
 * space's high water went from 370 blocks to 244 and peak RSS from 2.9 to
 * 2.3 MB; the difference was free fragments between cached blocks, each
 * too short for a cache refill of RGN_TCACHE_BATCH. */
void rgn_blk_shrink(uint32_t b, uint32_t n, uint32_t keep)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t give = n - keep, cn;
	bool over = false;

	rgn_assert(keep >= 1 && keep <= n);
	if (keep == n)
		return;
	cn = atomic_load_explicit(&tc->n, memory_order_relaxed);
	pthread_mutex_lock(&S->lock);
	D(b)->len = keep;
	D(b + keep - 1)->len = keep;
	D(b + keep - 1)->state = RGN_SPAN_USED;
	if (give <= tc->limit - cn && tc->limit) {
		/* highest first, so the lowest is the next one handed out */
		for (uint32_t x = b + n; x-- > b + keep;) {
			span_mark(x, 1, RGN_SPAN_USED);
			D(x)->next = 0;
			D(x)->tag = 0;
			tc->blk[cn++] = x;
		}
		atomic_store_explicit(&tc->n, cn, memory_order_relaxed);
		rgn_track_taken(rgn_blk_addr(b + keep), (size_t)give << RGN_BLOCK_SHIFT);
	} else {
		span_mark(b + keep, give, RGN_SPAN_USED);
		free_locked(b + keep, give, give);
		over = over_retain_locked();
	}
	pthread_mutex_unlock(&S->lock);
	after_free(over);
}

/* ---- purge ---------------------------------------------------------------------- */

#define PURGE_BATCH 16

static void purge(uint32_t target, bool wait)
{
	uint32_t h[PURGE_BATCH], len[PURGE_BATCH], dirty[PURGE_BATCH];

	pthread_mutex_lock(&S->lock);
	while (S->purging) {
		if (!wait) {
			pthread_mutex_unlock(&S->lock);
			return;
		}
		pthread_cond_wait(&S->purge_done, &S->lock);
	}
	S->purging = true;
	while (S->retained > target) {
		unsigned k = 0;
		uint32_t want = S->retained - target;

		/* take the oldest dirty spans out of the free structure; marking
		 * them USED keeps neighbours from merging into them meanwhile */
		while (k < PURGE_BATCH && S->dirty_old && want) {
			uint32_t x = S->dirty_old;
			h[k] = x;
			len[k] = D(x)->len;
			dirty[k] = D(x)->dirty;
			want -= dirty[k] < want ? dirty[k] : want;
			free_remove(x);
			span_mark(x, len[k], RGN_SPAN_USED);
			S->used_blocks += len[k];
			k++;
		}
		if (k == 0)
			break;
		pthread_mutex_unlock(&S->lock);
		for (unsigned i = 0; i < k; i++)
			if (rgn_os_decommit(rgn_blk_addr(h[i]),
			                    (size_t)len[i] << RGN_BLOCK_SHIFT) != 0)
				dirty[i] = len[i] + 1; /* failed: still resident */
		pthread_mutex_lock(&S->lock);
		for (unsigned i = 0; i < k; i++) {
			bool failed = dirty[i] > len[i];
			free_locked(h[i], len[i], failed ? len[i] : 0);
			if (!failed) {
				S->purged_bytes += (size_t)dirty[i] << RGN_BLOCK_SHIFT;
				S->purges++;
			}
		}
		if (dirty[0] > len[0])
			break; /* the OS refuses: do not spin */
	}
	S->purging = false;
	pthread_cond_broadcast(&S->purge_done);
	pthread_mutex_unlock(&S->lock);
}

void rgn_blk_purge(uint32_t target)
{
	purge(target, true);
}

/* ---- per-thread caches ------------------------------------------------------------ */

void rgn_tcache_register(struct rgn_tcache *tc)
{
	pthread_mutex_lock(&S->lock);
	tc->prev = NULL;
	tc->next = S->caches;
	if (S->caches)
		S->caches->prev = tc;
	S->caches = tc;
	pthread_mutex_unlock(&S->lock);
	pthread_setspecific(tcache_key, tc);
	tc->limit = RGN_TCACHE_MAX;
	rgn_arch_thread_start();
}

/* Drain the whole cache.  Also the thread-exit destructor: afterwards the
 * cache is unregistered and its region count goes to the orphan count. */
void rgn_tcache_flush(struct rgn_tcache *tc)
{
	uint32_t n = atomic_load_explicit(&tc->n, memory_order_relaxed);
	void *spare = atomic_load_explicit(&tc->spare, memory_order_relaxed);
	bool over;

	if (!tc->limit)
		return;
	pthread_mutex_lock(&S->lock);
	for (uint32_t i = 0; i < n; i++)
		free_locked(tc->blk[i], 1, 1);
	atomic_store_explicit(&tc->n, 0, memory_order_relaxed);
	if (spare) {
		/* a spare region is still counted live: it stops being so now */
		free_locked(rgn_blk_index(spare), 1, 1);
		atomic_store_explicit(&tc->spare, NULL, memory_order_relaxed);
		atomic_store_explicit(&tc->regions,
		    atomic_load_explicit(&tc->regions, memory_order_relaxed) - 1,
		    memory_order_relaxed);
	}
	for (int c = 0; c < RGN_SPAN_CLASSES; c++) {
		while (tc->nspan[c])
			free_locked(tc->span[c][--tc->nspan[c]], 2u << c, 2u << c);
	}
	atomic_store_explicit(&tc->span_blocks, 0, memory_order_relaxed);
	rgn_assert(tc == &rgn_tc); /* only ever the calling thread's own */
	if (pthread_getspecific(tcache_key) == NULL) {
		/* thread exit: the key's value was cleared before this call */
		S->orphan_regions += atomic_load_explicit(&tc->regions,
		                                          memory_order_relaxed);
		atomic_store_explicit(&tc->regions, 0, memory_order_relaxed);
		if (tc->prev)
			tc->prev->next = tc->next;
		else
			S->caches = tc->next;
		if (tc->next)
			tc->next->prev = tc->prev;
		tc->limit = 0;
	}
	over = over_retain_locked();
	pthread_mutex_unlock(&S->lock);
	after_free(over);
}

uint32_t rgn_blk_get1_slow(void)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t dirty, h, got = 0;
	int err = rgn_space_ensure();

	if (err) {
		errno = err;
		return 0;
	}
	if (!tc->limit)
		rgn_tcache_register(tc);
	pthread_mutex_lock(&S->lock);
	/* one span of a batch split into single-block spans; when the space
	 * is too fragmented or full for that, single blocks one by one */
	h = alloc_locked(RGN_TCACHE_BATCH, &dirty);
	if (h) {
		for (uint32_t i = 0; i < RGN_TCACHE_BATCH; i++) {
			uint32_t b = h + RGN_TCACHE_BATCH - 1 - i;
			span_mark(b, 1, RGN_SPAN_USED);
			D(b)->next = 0;
			D(b)->tag = 0;
			tc->blk[got++] = b;
		}
	} else {
		while (got < RGN_TCACHE_BATCH && (h = alloc_locked(1, &dirty)))
			tc->blk[got++] = h;
	}
	pthread_mutex_unlock(&S->lock);
	if (!got) {
		errno = ENOMEM;
		return 0;
	}
	for (uint32_t i = 0; i < got; i++)
		rgn_track_taken(rgn_blk_addr(tc->blk[i]), RGN_BLOCK_SIZE);
	atomic_store_explicit(&tc->n, got - 1, memory_order_relaxed);
	rgn_track_given(rgn_blk_addr(tc->blk[got - 1]), RGN_BLOCK_SIZE);
	return tc->blk[got - 1];
}

void rgn_blk_put1_slow(uint32_t b)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t n;
	bool over;

	if (!tc->limit)
		rgn_tcache_register(tc);
	n = atomic_load_explicit(&tc->n, memory_order_relaxed);
	if (n == RGN_TCACHE_MAX) {
		/* drain the older half; the newer (warmer) blocks stay */
		pthread_mutex_lock(&S->lock);
		for (uint32_t i = 0; i < RGN_TCACHE_BATCH; i++)
			free_locked(tc->blk[i], 1, 1);
		over = over_retain_locked();
		pthread_mutex_unlock(&S->lock);
		memmove(tc->blk, tc->blk + RGN_TCACHE_BATCH,
		        (n - RGN_TCACHE_BATCH) * sizeof(tc->blk[0]));
		n -= RGN_TCACHE_BATCH;
		atomic_store_explicit(&tc->n, n, memory_order_relaxed);
		after_free(over);
	}
	tc->blk[n] = b;
	atomic_store_explicit(&tc->n, n + 1, memory_order_relaxed);
}

RGN_API void rgn_trim(void)
{
	if (rgn_space_ensure() != 0)
		return;
	rgn_tcache_flush(&rgn_tc);
	rgn_blk_purge(0);
}

/* ---- consistency check --------------------------------------------------------------- */

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "rgn_blk_check: %s (line %d)\n",     \
			        #cond, __LINE__);                            \
			rc = __LINE__;                                       \
			goto out;                                            \
		}                                                            \
	} while (0)

int rgn_blk_check(void)
{
	uint32_t h, free_n = 0, used_n = 0, retained = 0, nfree = 0, nbinned = 0;
	uint32_t ndirty = 0, prev_state = 0;
	int rc = 0;

	if (!atomic_load_explicit(&rgn_space_ready, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&S->lock);
	for (h = 1; h < S->top; h += D(h)->len) {
		struct rgn_desc *d = D(h);
		CHECK(d->len >= 1 && d->len <= S->top - h);
		CHECK(D(h + d->len - 1)->len == d->len);
		CHECK(D(h + d->len - 1)->state == d->state);
		CHECK(d->state == RGN_SPAN_USED || d->state == RGN_SPAN_FREE);
		if (d->state == RGN_SPAN_FREE) {
			CHECK(prev_state != RGN_SPAN_FREE);
			CHECK(d->dirty <= d->len);
			free_n += d->len;
			retained += d->dirty;
			nfree++;
			ndirty += d->dirty > 0;
		} else {
			used_n += d->len;
		}
		prev_state = d->state;
	}
	CHECK(h == S->top);
	CHECK(free_n == S->free_blocks);
	CHECK(used_n == S->used_blocks);
	CHECK(retained == S->retained);
	for (unsigned b = 1; b < RGN_BINS; b++) {
		bool bit = (S->binmap[b >> 6] >> (b & 63)) & 1;
		uint32_t prev = 0;
		CHECK(bit == (S->bin[b] != 0));
		for (h = S->bin[b]; h; prev = h, h = D(h)->next) {
			CHECK(D(h)->state == RGN_SPAN_FREE);
			CHECK(bin_of(D(h)->len) == b);
			CHECK(D(h)->prev == prev);
			CHECK(++nbinned <= nfree);
		}
	}
	CHECK(nbinned == nfree);
	{
		uint32_t prev = 0, n = 0;
		for (h = S->dirty_old; h; prev = h, h = D(h)->dnext) {
			CHECK(D(h)->state == RGN_SPAN_FREE && D(h)->dirty > 0);
			CHECK(D(h)->dprev == prev);
			CHECK(++n <= ndirty);
		}
		CHECK(n == ndirty);
		CHECK(prev == S->dirty_new);
	}
out:
	pthread_mutex_unlock(&S->lock);
	return rc;
}
