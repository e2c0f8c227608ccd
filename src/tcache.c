/*
 * tcache.c - the per-thread caches: the front of the block layer.
 *
 * A region's first chunk and most small chunks are a single block, and
 * create/destroy churn moves single blocks only.  Each thread keeps up to
 * RGN_TCACHE_MAX single blocks of its own, refilled and drained in
 * batches from the shared structure (blocks.c) under one lock
 * acquisition.  A refill takes RGN_TCACHE_BATCH_MIN blocks at first and
 * twice as many each time up to RGN_TCACHE_BATCH, so a thread churning
 * regions soon takes the lock once per 32 blocks, while a thread that
 * needs few does not hold 32; an idle period that gives blocks back
 * halves it again.  It also keeps a few spans of 2, 4, 8 and 16 blocks (the
 * first chunk sizes, and a 64 KiB buffer) that regions give back, and one
 * whole block whose contents the blocks backend keeps (its spare region).
 *
 * Everything the library takes from or gives to the block layer goes
 * through the functions here, which serve what they can from the calling
 * thread's cache.  Cached blocks are USED as far as blocks.c knows; they
 * do not coalesce until drained (rgn_space_trim, thread exit, or a span
 * allocation that would otherwise fail).
 *
 * In the checking mode (quarantine.c) a cache keeps no block that a region
 * gave back: its limit stays 0, so the inline put and the spare region
 * fall through to the slow paths here, which send every such block to
 * the quarantine; blocks are still handed out from the cache.
 *
 * Idle blocks go back.  A cache counts its operations (a block or span
 * taken or given, inline ones included); every RGN_TCACHE_IDLE_OPS of
 * them ends an idle period, and what the cache held all period long (the
 * low-water mark of its single blocks and of each span class) was not
 * needed: three quarters of it, rounded up, go back to the shared
 * structure, oldest first, under one lock acquisition, where the retain
 * limit applies to them.  A thread that keeps using what it caches keeps
 * it; one whose use fell gives the surplus back within a few periods.
 * Counting operations rather than time keeps this deterministic and
 * needs no clock on any path.
 *
 * Caches are registered (a list under a lock of their own) so that the
 * statistics can count what they hold and thread exit can drain them.
 * Only the owning thread changes a cache; the statistics read its counts
 * with relaxed atomics.
 */
#include "tcache.h"
#include "blocks.h"
#include "quarantine.h"
#include "decode.h"
#include "lock.h"

#include <string.h>

rgn_thread struct rgn_tcache rgn_tc;

static void fork_child(void);

static struct rgn_lock reg_lock = RGN_LOCK_INIT(RGN_RANK_THREADS, NULL, fork_child);
static struct rgn_tcache *caches;    /* registered caches, under reg_lock */
/* Spare regions given back by flushes: region.c still counts them live. */
static _Atomic size_t spares_dropped;
static pthread_key_t tcache_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* ---- registry ------------------------------------------------------------------- */

static void tcache_exit(void *tc)
{
	rgn_tcache_flush(tc);
}

static void key_create(void)
{
	pthread_key_create(&tcache_key, tcache_exit);
}

#if RGN_TLS_KEYS_FIRST /* (os/port.h) */
rgn_tls_keys_first static void tcache_keys_first(void)
{
	pthread_once(&key_once, key_create);
}
#endif

/* In a forked child only the forking thread is real: the blocks other
 * threads had cached stay USED for the child's lifetime. */
static void fork_child(void)
{
	struct rgn_tcache *tc = &rgn_tc;

	caches = tc->registered ? tc : NULL;
	tc->next = tc->prev = NULL;
}

static rgn_noinline void tcache_register(struct rgn_tcache *tc)
{
	pthread_once(&key_once, key_create);
	rgn_lock(&reg_lock);
	tc->prev = NULL;
	tc->next = caches;
	if (caches)
		caches->prev = tc;
	caches = tc;
	rgn_unlock(&reg_lock);
	pthread_setspecific(tcache_key, tc);
	tc->registered = true;
	tc->limit = rgn_check_on() ? 0 : RGN_TCACHE_MAX;
	tc->ops = RGN_TCACHE_IDLE_OPS;
	tc->low = 0;
	tc->batch = RGN_TCACHE_BATCH_MIN;
	rgn_decode_thread_start();
}

static void tcache_unregister(struct rgn_tcache *tc)
{
	rgn_lock(&reg_lock);
	if (tc->prev)
		tc->prev->next = tc->next;
	else
		caches = tc->next;
	if (tc->next)
		tc->next->prev = tc->prev;
	rgn_unlock(&reg_lock);
	tc->limit = 0;
	tc->registered = false;
}

size_t rgn_tcache_cached(size_t *spares)
{
	size_t cached = 0, ns = atomic_load_explicit(&spares_dropped, memory_order_relaxed);

	rgn_lock(&reg_lock);
	for (struct rgn_tcache *tc = caches; tc; tc = tc->next) {
		bool spare = atomic_load_explicit(&tc->spare, memory_order_relaxed) != NULL;
		cached += atomic_load_explicit(&tc->n, memory_order_relaxed) + spare;
		cached += atomic_load_explicit(&tc->span_blocks, memory_order_relaxed);
		ns += spare;
	}
	rgn_unlock(&reg_lock);
	if (spares)
		*spares = ns;
	return cached;
}

/* Drain the whole cache.  Also the thread-exit destructor, after which
 * the cache is unregistered. */
void rgn_tcache_flush(struct rgn_tcache *tc)
{
	uint32_t b[RGN_TCACHE_MAX + 1 + RGN_SPAN_CLASSES * RGN_SPAN_CACHE];
	uint32_t n[sizeof b / sizeof b[0]], k = 0;
	uint32_t cn = atomic_load_explicit(&tc->n, memory_order_relaxed);
	void *spare = atomic_load_explicit(&tc->spare, memory_order_relaxed);

	rgn_assert(tc == &rgn_tc); /* only ever the calling thread's own */
	if (!tc->registered)
		return;
	for (uint32_t i = 0; i < cn; i++, k++) {
		b[k] = tc->blk[i];
		n[k] = 1;
	}
	atomic_store_explicit(&tc->n, 0, memory_order_relaxed);
	if (spare) {
		b[k] = rgn_blk_index(spare);
		n[k++] = 1;
		atomic_store_explicit(&tc->spare, NULL, memory_order_relaxed);
		atomic_fetch_add_explicit(&spares_dropped, 1, memory_order_relaxed);
	}
	for (int c = 0; c < RGN_SPAN_CLASSES; c++) {
		while (tc->nspan[c]) {
			b[k] = tc->span[c][--tc->nspan[c]];
			n[k++] = 2u << c;
		}
	}
	atomic_store_explicit(&tc->span_blocks, 0, memory_order_relaxed);
	tc->low = 0;
	memset(tc->span_low, 0, sizeof tc->span_low);
	rgn_blocks_free_many(b, n, k);
	if (pthread_getspecific(tcache_key) == NULL)
		tcache_unregister(tc); /* thread exit: the key was cleared */
}

static inline void span_blocks_add(struct rgn_tcache *tc, int64_t d)
{
	atomic_store_explicit(&tc->span_blocks,
	    (uint32_t)(atomic_load_explicit(&tc->span_blocks, memory_order_relaxed) + d),
	    memory_order_relaxed);
}

/* Blocks the cache held all period long: (3 * low + 3) / 4 of them go
 * back, from the bottom of each list (the blocks cached longest ago). */
static inline uint32_t idle_give(uint32_t low)
{
	return (3 * low + 3) / 4;
}

void rgn_tcache_age(struct rgn_tcache *tc)
{
	uint32_t b[RGN_TCACHE_MAX + RGN_SPAN_CLASSES * RGN_SPAN_CACHE];
	uint32_t len[sizeof b / sizeof b[0]], k = 0, give, n;

	rgn_assert(tc == &rgn_tc);
	tc->ops = RGN_TCACHE_IDLE_OPS;
	if (!tc->registered)
		return;
	n = atomic_load_explicit(&tc->n, memory_order_relaxed);
	give = idle_give(tc->low < n ? tc->low : n);
	for (uint32_t i = 0; i < give; i++, k++) {
		b[k] = tc->blk[i];
		len[k] = 1;
	}
	if (give) {
		memmove(tc->blk, tc->blk + give, (n - give) * sizeof(tc->blk[0]));
		atomic_store_explicit(&tc->n, n - give, memory_order_relaxed);
		if (tc->batch > RGN_TCACHE_BATCH_MIN)
			tc->batch /= 2;
	}
	tc->low = n - give;
	for (int c = 0; c < RGN_SPAN_CLASSES; c++) {
		uint32_t ns = tc->nspan[c];
		uint32_t g = idle_give(tc->span_low[c] < ns ? tc->span_low[c] : ns);
		for (uint32_t i = 0; i < g; i++, k++) {
			b[k] = tc->span[c][i];
			len[k] = 2u << c;
		}
		if (g) {
			memmove(tc->span[c], tc->span[c] + g, (ns - g) * sizeof(tc->span[c][0]));
			tc->nspan[c] = (uint8_t)(ns - g);
			span_blocks_add(tc, -(int64_t)(g * (2u << c)));
		}
		tc->span_low[c] = tc->nspan[c];
	}
	rgn_blocks_free_many(b, len, k);
}

/* ---- single blocks --------------------------------------------------------------- */

uint32_t rgn_blk_get1_slow(void)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t got;
	int err = rgn_space_ensure();

	if (err) {
		errno = err;
		return 0;
	}
	if (!tc->registered)
		tcache_register(tc);
	got = rgn_blocks_take_singles(tc->blk, tc->batch);
	if (!got && rgn_check_drain())
		got = rgn_blocks_take_singles(tc->blk, tc->batch);
	if (tc->batch < RGN_TCACHE_BATCH)
		tc->batch *= 2;
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

	if (!tc->registered)
		tcache_register(tc);
	if (rgn_check_on()) {
		rgn_check_quarantine(b, 1);
		return;
	}
	n = atomic_load_explicit(&tc->n, memory_order_relaxed);
	if (n == RGN_TCACHE_MAX) {
		/* drain the older half; the newer (warmer) blocks stay */
		rgn_blocks_free_many(tc->blk, NULL, RGN_TCACHE_BATCH);
		memmove(tc->blk, tc->blk + RGN_TCACHE_BATCH,
		        (n - RGN_TCACHE_BATCH) * sizeof(tc->blk[0]));
		n -= RGN_TCACHE_BATCH;
		rgn_tcache_note_low(tc, n);
	}
	tc->blk[n] = b;
	atomic_store_explicit(&tc->n, n + 1, memory_order_relaxed);
}

/* ---- small spans ------------------------------------------------------------------
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

static bool span_put(uint32_t b, uint32_t n)
{
	struct rgn_tcache *tc = &rgn_tc;
	int c = span_class(n);

	if (c < 0 || tc->nspan[c] == RGN_SPAN_CACHE)
		return false;
	if (!tc->limit) {
		if (!tc->registered)
			tcache_register(tc);
		if (!tc->limit)
			return false; /* the checking mode */
	}
	rgn_track_taken(rgn_blk_addr(b), (size_t)n << RGN_BLOCK_SHIFT);
	tc->span[c][tc->nspan[c]++] = b;
	span_blocks_add(tc, n);
	rgn_tcache_tick(tc);
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
	if (tc->nspan[c] < tc->span_low[c])
		tc->span_low[c] = tc->nspan[c];
	span_blocks_add(tc, -(int64_t)n);
	rgn_track_given(rgn_blk_addr(b), (size_t)n << RGN_BLOCK_SHIFT);
	rgn_tcache_tick(tc);
	return b;
}

/* Does the thread's cache (or the quarantine) hold anything a failed
 * allocation could use? */
static inline bool tcache_holds(const struct rgn_tcache *tc)
{
	return atomic_load_explicit(&tc->n, memory_order_relaxed) ||
	       atomic_load_explicit(&tc->spare, memory_order_relaxed) ||
	       atomic_load_explicit(&tc->span_blocks, memory_order_relaxed) ||
	       rgn_check_held();
}

/* Give what the thread's cache and the quarantine hold back to the
 * shared structure, before an allocation fails. */
static void tcache_give_back(void)
{
	rgn_tcache_flush(&rgn_tc);
	rgn_check_drain();
}

/* ---- spans ---------------------------------------------------------------------- */

uint32_t rgn_blk_alloc(uint32_t n, bool *zeroed)
{
	uint32_t h, dirty = 0;
	int err = rgn_space_ensure();

	if (err) {
		errno = err;
		return 0;
	}
	if (n == 0 || n >= rgn_space_g.nblocks) {
		errno = ENOMEM;
		return 0;
	}
	if ((h = span_get(n)) != 0) {
		if (zeroed)
			*zeroed = false;
		return h;
	}
	h = rgn_blocks_alloc(n, &dirty);
	if (!h && tcache_holds(&rgn_tc)) {
		/* the space is short: the thread's cached blocks may be what
		 * is missing */
		tcache_give_back();
		h = rgn_blocks_alloc(n, &dirty);
	}
	if (!h) {
		errno = ENOMEM;
		return 0;
	}
	rgn_track_given(rgn_blk_addr(h), (size_t)n << RGN_BLOCK_SHIFT);
	if (zeroed) {
		*zeroed = dirty == 0 && rgn_space_g.decommit_zeroes;
		/* promised zero to a caller who asked: defined */
		if (*zeroed)
			rgn_track_defined(rgn_blk_addr(h), (size_t)n << RGN_BLOCK_SHIFT);
	}
	return h;
}

uint32_t rgn_blk_alloc_aligned(uint32_t n, uint32_t align)
{
	uint32_t h;

	if (align <= 1)
		return rgn_blk_alloc(n, NULL);
	if (rgn_space_ensure() != 0 || n == 0 || align > rgn_space_g.nblocks ||
	    n > rgn_space_g.nblocks - align) {
		errno = ENOMEM;
		return 0;
	}
	h = rgn_blocks_alloc_aligned(n, align);
	if (!h && tcache_holds(&rgn_tc)) {
		tcache_give_back();
		h = rgn_blocks_alloc_aligned(n, align);
	}
	if (!h) {
		errno = ENOMEM;
		return 0;
	}
	rgn_track_given(rgn_blk_addr(h), (size_t)n << RGN_BLOCK_SHIFT);
	return h;
}

void rgn_blk_free(uint32_t b, uint32_t n)
{
	if (n == 1) {
		rgn_blk_put1(b);
		return;
	}
	if (rgn_check_on()) {
		rgn_check_quarantine(b, n);
		return;
	}
	rgn_blocks_free_many(&b, &n, 1);
}

void rgn_blk_release(uint32_t b, uint32_t n)
{
	if (!span_put(b, n))
		rgn_blk_free(b, n);
}

#define CHAIN_BATCH 32

void rgn_blk_free_chain(uint32_t b, uint32_t stop)
{
	uint32_t hb[CHAIN_BATCH], hn[CHAIN_BATCH], k = 0;

	while (b && b != stop) {
		uint32_t next = rgn_desc_of(b)->next, n = rgn_desc_of(b)->len;
		if (n == 1 || span_class(n) >= 0) {
			rgn_blk_release(b, n); /* to the thread cache */
		} else if (rgn_check_on()) {
			rgn_check_quarantine(b, n);
		} else {
			/* the others under one lock acquisition per batch */
			hb[k] = b;
			hn[k++] = n;
			if (k == CHAIN_BATCH) {
				rgn_blocks_free_many(hb, hn, k);
				k = 0;
			}
		}
		b = next;
	}
	rgn_blocks_free_many(hb, hn, k);
}

/* ---- growing and shrinking a span in place -----------------------------------------
 * A region's first block comes from the thread's cache, which was filled
 * from one span of RGN_TCACHE_BATCH blocks: the blocks right after it are
 * usually still in that cache, USED as far as the shared structure knows.
 * rgn_blk_extend takes such a run first, so a fresh region can grow its
 * own block in place (a tail reservation, rgn_realloc) instead of starting
 * a chunk beside it, and takes the rest from a free span or the frontier. */

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
	rgn_tcache_note_low(tc, j);
}

int rgn_blk_extend(uint32_t b, uint32_t n, uint32_t extra)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t cached = cache_run(tc, b + n, extra);
	int err = rgn_blocks_extend(b, n, cached, extra);

	if (err)
		return err;
	cache_take_run(tc, b + n, cached);
	rgn_track_given(rgn_blk_addr(b + n), (size_t)extra << RGN_BLOCK_SHIFT);
	return 0;
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

	rgn_assert(keep >= 1 && keep <= n);
	if (keep == n)
		return;
	cn = atomic_load_explicit(&tc->n, memory_order_relaxed);
	if (tc->limit && give <= tc->limit - cn) {
		rgn_blocks_shrink(b, n, keep, tc->blk + cn);
		atomic_store_explicit(&tc->n, cn + give, memory_order_relaxed);
	} else if (rgn_check_on()) {
		rgn_blocks_split(b, n, keep);
		rgn_check_quarantine(b + keep, give);
		return;
	} else {
		rgn_blocks_shrink(b, n, keep, NULL);
	}
	rgn_track_taken(rgn_blk_addr(b + keep), (size_t)give << RGN_BLOCK_SHIFT);
}

_Atomic(rgn_trim_fn *) rgn_trim_more;

RGN_API void rgn_space_trim(void)
{
	if (!atomic_load_explicit(&rgn_space_ready, memory_order_acquire))
		return;
	void (*more)(void) = atomic_load_explicit(&rgn_trim_more, memory_order_acquire);

	rgn_tcache_flush(&rgn_tc);
	rgn_blk_purge(0);
	if (more)
		more();
}
