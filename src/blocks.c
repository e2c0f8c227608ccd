/*
 * blocks.c - blocks and spans: the shared free structure and the policy
 * that gives memory back to the OS.
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
 * The per-thread caches in front of this structure are tcache.c's: to
 * this file, a block a cache holds is a USED single-block span like any
 * other, and the caches refill and drain through rgn_blocks_take_singles
 * and rgn_blocks_free_many.
 *
 * Giving memory back.  A free span carries `dirty`, an upper bound on how
 * many of its blocks may still be resident; the space's `retained` is
 * their sum, and the spans with dirty > 0 form a list, oldest first.  When
 * a free pushes `retained` over the retain limit, the freeing thread
 * purges the oldest dirty spans (madvise, outside the lock) until
 * `retained` is at most half the limit (three quarters of an adaptive
 * one, below).  The hysteresis keeps a program that oscillates around
 * the limit from paying a syscall per free.  Merging adds dirty counts;
 * splitting gives each part min(dirty, len), so the bound stays an upper
 * bound, and a span with dirty == 0 is known to read as zero
 * (rgn_calloc uses that).
 *
 * The retain limit is fixed when the program asked for one (rgn_config,
 * RGN_RETAIN).  Otherwise it adapts to the process: a quarter of the
 * recent peak of used blocks (RGN_RETAIN_SHIFT), never below
 * RGN_RETAIN_FLOOR blocks nor above the default limit.  "Recent" is
 * counted in blocks freed, not in time: a window ends once as many blocks
 * were freed in it as the recent peak (at least the floor); the recent
 * peak is the larger of this window's and the last one's.  So a process
 * whose use fell keeps a limit sized for its old peak for at most two
 * such windows.  Blocks a purge holds while it runs are not counted as
 * use, nor are its frees.
 *
 * Locking: one lock (rgn_blocks_g.lock) guards the bins, the frontier top
 * and the counters; every function named _locked asserts that it is held.
 * No syscall is made under it except the mprotect that moves the frontier
 * (space.c, under its own lock of a higher rank), which must be
 * serialised with carving anyway.  With RGN_DEBUG >= 3 the whole
 * structure is checked (rgn_blk_check) after every operation on spans.
 */
#include "blocks.h"
#include "decode.h"
#include "space.h"
#include "os/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fork_prepare(void);

struct rgn_blocks rgn_blocks_g = {
	.lock = RGN_LOCK_INIT(RGN_RANK_BLOCKS, fork_prepare, NULL),
	.top = 1, /* block 0 is never a span: ref 0 must fault */
	.purge_done = PTHREAD_COND_INITIALIZER,
};

#define S (&rgn_blocks_g)
#define G (&rgn_space_g)
#define D(b) (&rgn_space_g.desc[(b)])

/* fork(): the lock is held across it; a purge running outside the lock
 * has spans out of the lists until it ends, so wait for it. */
static void fork_prepare(void)
{
	while (S->purging)
		rgn_lock_wait(&S->purge_done, &S->lock);
}

/* After each operation on spans, at RGN_DEBUG >= 3 (lock not held). */
#define check_spans() rgn_assert_expensive(rgn_blk_check() == 0)

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

	rgn_assert_locked(&S->lock);
	if (b >= RGN_BINS_EXACT) {
		for (uint32_t h = S->bin[b]; h; h = D(h)->next)
			if (D(h)->len >= n)
				return h;
		b++;
	}
	b = binmap_next(b);
	return b ? S->bin[b] : 0;
}

/* ---- the adaptive retain limit ------------------------------------------------ */

static inline void note_used_locked(void)
{
	if (S->used_blocks > S->peak)
		S->peak = S->used_blocks;
}

static inline uint32_t recent_peak_locked(void)
{
	return S->peak > S->peak_prev ? S->peak : S->peak_prev;
}

/* n blocks came back from their users (not from a purge): the window
 * ends when as many were freed in it as the recent peak. */
static inline void note_freed_locked(uint32_t n)
{
	uint32_t w = recent_peak_locked();

	S->freed += n;
	if (S->freed >= (w > RGN_RETAIN_FLOOR ? w : RGN_RETAIN_FLOOR)) {
		S->peak_prev = S->peak;
		S->peak = S->used_blocks;
		S->freed = 0;
	}
}

static inline uint32_t retain_limit_locked(void)
{
	uint32_t ceil = G->retain_blocks, l;

	if (G->retain_fixed)
		return ceil;
	l = recent_peak_locked() >> RGN_RETAIN_SHIFT;
	if (l < RGN_RETAIN_FLOOR)
		l = RGN_RETAIN_FLOOR;
	return l < ceil ? l : ceil;
}

uint32_t rgn_blocks_retain_limit(void)
{
	uint32_t l;

	rgn_lock(&S->lock);
	l = retain_limit_locked();
	rgn_unlock(&S->lock);
	return l;
}

/* ---- allocate and free, lock held ------------------------------------------- */

/* Take the FREE span h (len >= n) out of the bins and give its blocks
 * past the first n back as a free span of their own.  Returns the bound
 * on the first n blocks' resident pages (each part keeps min(dirty, len)). */
static uint32_t split_free_locked(uint32_t h, uint32_t n)
{
	uint32_t len = D(h)->len, d = D(h)->dirty;

	rgn_assert_internal(D(h)->state == RGN_SPAN_FREE && len >= n);
	free_remove(h);
	if (len > n) {
		uint32_t rest = h + n;
		span_mark(rest, len - n, RGN_SPAN_FREE);
		D(rest)->dirty = d < len - n ? d : len - n;
		free_insert(rest);
	}
	return d < n ? d : n;
}

/* [h, h+n) becomes a USED span, counted in use. */
static uint32_t mark_used_locked(uint32_t h, uint32_t n)
{
	span_mark(h, n, RGN_SPAN_USED);
	D(h)->next = 0;
	D(h)->tag = 0;
	S->used_blocks += n;
	note_used_locked();
	return h;
}

/* The first n blocks of the FREE span h (len >= n) become a USED span;
 * the rest stays free.  *dirty as for alloc_locked. */
static uint32_t take_locked(uint32_t h, uint32_t n, uint32_t *dirty)
{
	*dirty = split_free_locked(h, n);
	return mark_used_locked(h, n);
}

/* How many of the newest dirty spans an allocation looks at when the
 * best-fitting span is clean. */
#define DIRTY_LOOK 8

/* Take a span of n blocks.  *dirty receives an upper bound on its resident
 * blocks (0: it reads as zero).  Returns 0 when the space is exhausted or
 * the frontier cannot be committed. */
static uint32_t alloc_locked(uint32_t n, uint32_t *dirty)
{
	uint32_t h = find_fit_locked(n);

	rgn_assert_locked(&S->lock);
	if (h) {
		/* a clean fit means touching pages again: a resident span that
		 * fits, among the newest dirty ones, is better */
		if (!D(h)->dirty) {
			uint32_t x = S->dirty_new;
			for (int i = 0; x && i < DIRTY_LOOK; i++, x = D(x)->dprev)
				if (D(x)->len >= n) {
					h = x;
					break;
				}
		}
		return take_locked(h, n, dirty);
	}
	/* carve at the frontier, starting inside a free span that ends
	 * there, if any: otherwise that span could never grow */
	uint32_t tail = 0, tail_dirty = 0;

	if (S->top > 1 && D(S->top - 1)->state == RGN_SPAN_FREE)
		tail = D(S->top - 1)->len;
	if (n - tail > G->nblocks - S->top)
		return 0;
	if (rgn_space_commit(S->top - tail + n) != 0)
		return 0;
	if (tail) {
		tail_dirty = D(S->top - tail)->dirty;
		free_remove(S->top - tail);
		D(S->top - 1)->state = 0;
	}
	h = S->top - tail;
	S->top = h + n;
	*dirty = tail_dirty;
	return mark_used_locked(h, n);
}

/* Free the USED span [b, b+n), of which at most `dirty` blocks may be
 * resident, coalescing with free neighbours. */
static void free_locked(uint32_t b, uint32_t n, uint32_t dirty)
{
	uint32_t h = b, len = n;

	rgn_assert_locked(&S->lock);
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

/* The purge target after a free, lock held: UINT32_MAX (none) unless
 * `retained` exceeds the limit and no purge runs; then half a fixed limit,
 * three quarters of the adaptive one.  The adaptive limit is small (its
 * floor is 256 KiB), and the memory between target and limit is what the
 * next cycle of a small program reuses without faulting it in again:
 * measured on bench/sys-walk.c (15 rounds, side by side), purging to 3/4
 * instead of 1/2 gave a peak RSS of 1988 KiB against 2040 and 268 ms
 * against 275. */
static inline uint32_t over_retain_locked(void)
{
	uint32_t l;

	rgn_assert_locked(&S->lock);
	l = retain_limit_locked();
	if (S->retained <= l || S->purging)
		return UINT32_MAX;
	return G->retain_fixed ? l / 2 : l - l / 4;
}

static void purge(uint32_t target, bool wait);

/* After a free made `retained` exceed the limit: purge, unless another
 * thread already is (it will bring `retained` down for both). */
static void after_free(uint32_t target)
{
	if (rgn_unlikely(target != UINT32_MAX))
		purge(target, false);
	check_spans();
}

/* ---- the layer's operations ------------------------------------------------------ */

uint32_t rgn_blocks_alloc(uint32_t n, uint32_t *dirty)
{
	uint32_t h;

	rgn_lock(&S->lock);
	h = alloc_locked(n, dirty);
	rgn_unlock(&S->lock);
	check_spans();
	if (!h)
		errno = ENOMEM;
	return h;
}

uint32_t rgn_blocks_alloc_aligned(uint32_t n, uint32_t align)
{
	uint32_t h, a, total = n + align - 1, front, back, dirty = 0, over;

	rgn_lock(&S->lock);
	h = alloc_locked(total, &dirty);
	if (!h) {
		rgn_unlock(&S->lock);
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
	rgn_unlock(&S->lock);
	after_free(over);
	return a;
}

/* The span to take k single blocks from, lock held: the newest dirty
 * span (its pages are the likeliest to be resident), else one that holds
 * all k, else the longest free span, else 0 (carve). */
static uint32_t singles_source_locked(uint32_t k)
{
	uint32_t h;

	if (S->dirty_new)
		return S->dirty_new;
	if ((h = find_fit_locked(k)) != 0)
		return h;
	for (int w = 1; w >= 0; w--)
		if (S->binmap[w])
			return S->bin[w * 64 + 63 - __builtin_clzll(S->binmap[w])];
	return 0;
}

uint32_t rgn_blocks_take_singles(uint32_t *out, uint32_t max)
{
	uint32_t dirty, h, got = 0;

	rgn_lock(&S->lock);
	/* Single blocks need no neighbours: they come from free spans before
	 * fresh blocks are carved (resident ones first), each piece split
	 * into single-block spans, highest first within it.  Measured on
	 * bench/sys-walk.c: insisting on one span of max blocks left free
	 * fragments of 24 to 30 blocks unused while fresh ones were carved. */
	while (got < max) {
		uint32_t want = max - got, src = singles_source_locked(want), n;

		if (src) {
			n = D(src)->len < want ? D(src)->len : want;
			h = take_locked(src, n, &dirty);
		} else {
			n = want;
			if (!(h = alloc_locked(n, &dirty)))
				break;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint32_t b = h + n - 1 - i;
			span_mark(b, 1, RGN_SPAN_USED);
			D(b)->next = 0;
			D(b)->tag = 0;
			out[got++] = b;
		}
	}
	rgn_unlock(&S->lock);
	check_spans();
	return got;
}

void rgn_blocks_free_many(const uint32_t *b, const uint32_t *n, uint32_t k)
{
	uint32_t over, total = 0;

	if (k == 0)
		return;
	rgn_lock(&S->lock);
	for (uint32_t i = 0; i < k; i++) {
		free_locked(b[i], n ? n[i] : 1, n ? n[i] : 1);
		total += n ? n[i] : 1;
	}
	note_freed_locked(total);
	over = over_retain_locked();
	rgn_unlock(&S->lock);
	after_free(over);
}

void rgn_blocks_free_clean(const uint32_t *b, const uint32_t *n, uint32_t k)
{
	uint32_t total = 0;

	if (k == 0)
		return;
	rgn_lock(&S->lock);
	for (uint32_t i = 0; i < k; i++) {
		free_locked(b[i], n[i], 0);
		total += n[i];
	}
	note_freed_locked(total);
	rgn_unlock(&S->lock);
	check_spans();
}

/* The part of an extension past the caller's own blocks: extra blocks at
 * nb, from a free span there, the frontier, or a free span up to the
 * frontier and fresh blocks after it.  0 or ENOMEM. */
static int extend_locked(uint32_t nb, uint32_t extra, uint32_t whole)
{
	rgn_assert_locked(&S->lock);
	if (extra == 0)
		return 0;
	if ((nb == S->top ||
	     (nb < S->top && D(nb)->state == RGN_SPAN_FREE &&
	      nb + D(nb)->len == S->top && D(nb)->len < extra)) &&
	    find_fit_locked(whole) != 0) {
		/* growing would carve fresh blocks at the frontier while a free
		 * span could hold the whole grown span: refuse, so the caller
		 * moves into reused memory (a tail starts a chunk there).
		 * Measured on bench/sys-walk.c: a directory's chunk at the
		 * frontier grew a block per file read while free spans of 20
		 * to 40 blocks stayed behind it (high water 254 blocks against
		 * 201 with this rule, caches and purges alike). */
		return ENOMEM;
	}
	if (nb == S->top) {
		if (extra > G->nblocks - S->top || rgn_space_commit(S->top + extra) != 0)
			return ENOMEM;
		S->top += extra;
	} else if (nb < S->top && D(nb)->state == RGN_SPAN_FREE &&
	           D(nb)->len >= extra) {
		split_free_locked(nb, extra);
		D(nb)->state = 0;
	} else if (nb < S->top && D(nb)->state == RGN_SPAN_FREE &&
	           nb + D(nb)->len == S->top &&
	           extra - D(nb)->len <= G->nblocks - S->top &&
	           rgn_space_commit(nb + extra) == 0) {
		/* a free span up to the frontier, then fresh blocks */
		free_remove(nb);
		D(nb)->state = 0;
		S->top = nb + extra;
	} else {
		return ENOMEM;
	}
	S->used_blocks += extra;
	note_used_locked();
	return 0;
}

int rgn_blocks_extend(uint32_t b, uint32_t n, uint32_t own, uint32_t extra)
{
	uint32_t last = b + n + extra - 1;
	int err;

	rgn_lock(&S->lock);
	err = extend_locked(b + n + own, extra - own, n + extra);
	if (!err) {
		/* the caller's own blocks were USED single spans: their
		 * boundary descriptors are interior now, and say USED, which
		 * no neighbour test looks for */
		if (n > 1)
			D(b + n - 1)->state = 0; /* old last block is interior now */
		D(b)->len = n + extra;
		D(last)->len = n + extra;
		D(last)->state = RGN_SPAN_USED;
	}
	rgn_unlock(&S->lock);
	check_spans();
	return err;
}

void rgn_blocks_shrink(uint32_t b, uint32_t n, uint32_t keep, uint32_t *singles)
{
	uint32_t give = n - keep, k = 0, over = UINT32_MAX;

	rgn_assert(keep >= 1 && keep < n);
	rgn_lock(&S->lock);
	D(b)->len = keep;
	D(b + keep - 1)->len = keep;
	D(b + keep - 1)->state = RGN_SPAN_USED;
	if (singles) {
		/* highest first, so the lowest is the next one handed out */
		for (uint32_t x = b + n; x-- > b + keep;) {
			span_mark(x, 1, RGN_SPAN_USED);
			D(x)->next = 0;
			D(x)->tag = 0;
			singles[k++] = x;
		}
	} else {
		span_mark(b + keep, give, RGN_SPAN_USED);
		free_locked(b + keep, give, give);
		note_freed_locked(give);
		over = over_retain_locked();
	}
	rgn_unlock(&S->lock);
	after_free(over);
}

void rgn_blocks_split(uint32_t b, uint32_t n, uint32_t keep)
{
	rgn_assert(keep >= 1 && keep < n);
	rgn_lock(&S->lock);
	span_mark(b, keep, RGN_SPAN_USED);
	span_mark(b + keep, n - keep, RGN_SPAN_USED);
	D(b + keep)->next = 0;
	D(b + keep)->tag = 0;
	rgn_unlock(&S->lock);
	check_spans();
}

void rgn_blocks_stats(struct rgn_space_stats *st)
{
	rgn_lock(&S->lock);
	st->high_water_blocks = S->top;
	st->used_blocks = S->used_blocks;
	st->free_blocks = S->free_blocks;
	st->retained_blocks = S->retained;
	st->purged_bytes = S->purged_bytes;
	st->purges = S->purges;
	/* the limit in force: the one asked for, or the adaptive one */
	st->retain_limit = G->retain_fixed ? G->retain_limit
	                   : (size_t)retain_limit_locked() << RGN_BLOCK_SHIFT;
	rgn_unlock(&S->lock);
}

/* The debug check of the inline decoders (rgn/base.h): a reference that
 * points past every block ever carved cannot be an object's.  References
 * decoded through an entered contiguous region are not checked here. */
RGN_API uint32_t rgn_ref_check_(uint32_t ref, int active)
{
	uint32_t top;
	size_t off;

	if (ref == 0 || !atomic_load_explicit(&rgn_space_ready, memory_order_acquire) ||
	    !rgn_decode_space_offset(ref, active, &off))
		return ref;
	top = __atomic_load_n(&S->top, __ATOMIC_RELAXED);
	if (off >= (size_t)top << RGN_BLOCK_SHIFT) {
		fprintf(stderr, "rgn: reference %#x decodes beyond the space's high-water "
		        "mark (%u blocks): not a reference to any object\n", ref, top);
		abort();
	}
	return ref;
}

/* The debug check of rgn_ref_of: the pointer must lie in a block the
 * space has carved (block 0, the guard, included: its first byte is
 * where reference 0 points), 8-byte aligned. */
RGN_API const void *rgn_ptr_check_(const void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)rgn_space_g.base;
	uint32_t top;

	if (!atomic_load_explicit(&rgn_space_ready, memory_order_acquire)) {
		fprintf(stderr, "rgn: rgn_ref_of(%p): no space reserved yet: not an "
		        "object of a block region\n", p);
		abort();
	}
	top = __atomic_load_n(&S->top, __ATOMIC_RELAXED);
	if (off >= (uintptr_t)top << RGN_BLOCK_SHIFT ||
	    ((uintptr_t)p & (RGN_GRANULE - 1))) {
		fprintf(stderr, "rgn: rgn_ref_of(%p): %s\n", p,
		        ((uintptr_t)p & (RGN_GRANULE - 1)) ? "not 8-byte aligned"
		        : "outside the space's blocks: not an object of a block region");
		abort();
	}
	return p;
}

/* ---- purge ---------------------------------------------------------------------- */

#define PURGE_BATCH 16

static void purge(uint32_t target, bool wait)
{
	uint32_t h[PURGE_BATCH], len[PURGE_BATCH], dirty[PURGE_BATCH];

	rgn_lock(&S->lock);
	while (S->purging) {
		if (!wait) {
			rgn_unlock(&S->lock);
			return;
		}
		rgn_lock_wait(&S->purge_done, &S->lock);
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
		rgn_unlock(&S->lock);
		for (unsigned i = 0; i < k; i++)
			if (rgn_os_decommit(rgn_blk_addr(h[i]),
			                    (size_t)len[i] << RGN_BLOCK_SHIFT) != 0)
				dirty[i] = len[i] + 1; /* failed: still resident */
		rgn_lock(&S->lock);
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
	rgn_unlock(&S->lock);
}

void rgn_blk_purge(uint32_t target)
{
	purge(target, true);
}

/* ---- consistency check --------------------------------------------------------------- */

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "rgn_blk_check: %s (line %d)\n",     \
			        #cond, __LINE__);                            \
			return __LINE__;                                     \
		}                                                            \
	} while (0)

int rgn_blk_check_locked(void)
{
	uint32_t h, free_n = 0, used_n = 0, retained = 0, nfree = 0, nbinned = 0;
	uint32_t ndirty = 0, prev_state = 0;

	rgn_assert_locked(&S->lock);
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
	return 0;
}

int rgn_blk_check(void)
{
	int rc;

	if (!atomic_load_explicit(&rgn_space_ready, memory_order_acquire))
		return 0;
	rgn_lock(&S->lock);
	rc = rgn_blk_check_locked();
	rgn_unlock(&S->lock);
	return rc;
}
