/*
 * test-blocks.c - the block layer (internal): spans, coalescing, extend
 * and shrink, aligned spans, the thread cache, retained accounting and
 * purging, size parsing.  rgn_blk_check() is asserted after every
 * sequence of operations.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "quarantine.h"
#include "suites.h"

#include <pthread.h>
#include <unistd.h>
#if TST_POSIX
#include <sys/wait.h>
#endif

#define G (rgn_blocks_g)

static void blk_init(size_t space, size_t retain)
{
	tst_init(space, retain);
	ck_assert_int_eq(rgn_space_ensure(), 0);
	ck_assert_int_eq(rgn_blk_check(), 0);
}

static void assert_span_used(uint32_t b, uint32_t n)
{
	ck_assert_uint_ge(b, 1);
	ck_assert_uint_le((size_t)b + n, G.top);
	ck_assert_uint_eq(rgn_desc_of(b)->len, n);
	ck_assert_uint_eq(rgn_desc_of(b + n - 1)->len, n);
	ck_assert_uint_eq(rgn_desc_of(b)->state, RGN_SPAN_USED);
	ck_assert_uint_eq(rgn_desc_of(b + n - 1)->state, RGN_SPAN_USED);
}

static int is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

/* Length of the longest FREE span (the spans tile [1, top)). */
static uint32_t longest_free(void)
{
	uint32_t best = 0;

	for (uint32_t b = 1; b < G.top; b += rgn_desc_of(b)->len) {
		ck_assert_uint_gt(rgn_desc_of(b)->len, 0);
		if (rgn_desc_of(b)->state == RGN_SPAN_FREE && rgn_desc_of(b)->len > best)
			best = rgn_desc_of(b)->len;
	}
	return best;
}

/* ---- alloc and free ------------------------------------------------------ */

START_TEST(test_blocks_alloc_free)
{
	static uint32_t at[80], len[80];
	static unsigned char owner[65536];
	uint32_t used0, n = 0;
	bool zeroed;

	blk_init(256 * MiB, 0);
	used0 = G.used_blocks;
	for (uint32_t k = 1; k <= 72; k++) {
		uint32_t b;

		zeroed = false;
		b = rgn_blk_alloc(k, &zeroed);
		ck_assert_uint_ne(b, 0);
		assert_span_used(b, k);
		if (zeroed)
			ck_assert(is_zero(rgn_blk_addr(b), (size_t)k << RGN_BLOCK_SHIFT));
		memset(rgn_blk_addr(b), (int)k, (size_t)k << RGN_BLOCK_SHIFT);
		ck_assert_uint_lt((size_t)b + k, sizeof owner);
		for (uint32_t i = b; i < b + k; i++) {
			ck_assert_msg(owner[i] == 0, "block %u handed out twice", i);
			owner[i] = (unsigned char)k;
		}
		at[n] = b;
		len[n++] = k;
	}
	ck_assert_uint_eq(G.used_blocks, used0 + 72 * 73 / 2);
	ck_assert_int_eq(rgn_blk_check(), 0);
	/* every span kept its own contents */
	for (uint32_t i = 0; i < n; i++) {
		unsigned char *p = (unsigned char *)rgn_blk_addr(at[i]);
		ck_assert_uint_eq(p[0], len[i]);
		ck_assert_uint_eq(p[((size_t)len[i] << RGN_BLOCK_SHIFT) - 1], len[i]);
	}
	for (uint32_t i = 0; i < n; i += 2)
		rgn_blk_free(at[i], len[i]);
	ck_assert_int_eq(rgn_blk_check(), 0);
	for (uint32_t i = 1; i < n; i += 2)
		rgn_blk_free(at[i], len[i]);
	rgn_tcache_flush(&rgn_tc);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.used_blocks, used0);
}
END_TEST

START_TEST(test_blocks_alloc_too_big)
{
	uint32_t b;

	blk_init(16 * MiB, 0);
	tst_zero_with(rgn_blk_alloc(rgn_space_g.nblocks, NULL), ENOMEM);
	tst_zero_with(rgn_blk_alloc(UINT32_MAX, NULL), ENOMEM);
	ck_assert_int_eq(rgn_blk_check(), 0);
	b = rgn_blk_alloc(16, NULL);
	ck_assert_uint_ne(b, 0);
	assert_span_used(b, 16);
	rgn_blk_free(b, 16);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

START_TEST(test_blocks_reuse_before_frontier)
{
	uint32_t s[6], top, x, y, z;

	blk_init(64 * MiB, 0);
	for (int i = 0; i < 6; i++) {
		s[i] = rgn_blk_alloc(8, NULL);
		ck_assert_uint_ne(s[i], 0);
	}
	ck_assert_int_eq(rgn_blk_check(), 0);
	top = G.top;

	rgn_blk_free(s[1], 8);
	rgn_blk_free(s[4], 8);
	ck_assert_int_eq(rgn_blk_check(), 0);
	x = rgn_blk_alloc(8, NULL);
	y = rgn_blk_alloc(8, NULL);
	ck_assert_uint_eq(G.top, top);
	ck_assert((x == s[1] && y == s[4]) || (x == s[4] && y == s[1]));
	ck_assert_int_eq(rgn_blk_check(), 0);

	/* a smaller request is cut from a freed span */
	rgn_blk_free(s[2], 8);
	z = rgn_blk_alloc(3, NULL);
	ck_assert_uint_eq(G.top, top);
	ck_assert_uint_ge(z, s[2]);
	ck_assert_uint_le(z + 3, s[2] + 8);
	ck_assert_int_eq(rgn_blk_check(), 0);
	rgn_blk_free(z, 3);

	/* two neighbours freed make one span of their total length */
	rgn_blk_free(s[3], 8);
	ck_assert_int_eq(rgn_blk_check(), 0);
	if (s[3] == s[2] + 8) {
		z = rgn_blk_alloc(16, NULL);
		ck_assert_uint_eq(z, s[2]);
		ck_assert_uint_eq(G.top, top);
		rgn_blk_free(z, 16);
	}
	rgn_blk_free(x, 8);
	rgn_blk_free(y, 8);
	rgn_blk_free(s[0], 8);
	rgn_blk_free(s[5], 8);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.top, top);
}
END_TEST

START_TEST(test_blocks_zeroed_flag)
{
	uint32_t b;
	bool zeroed;

	blk_init(64 * MiB, 0);
	b = rgn_blk_alloc(4, &zeroed);
	ck_assert_uint_ne(b, 0);
	/* fresh from the frontier: never written, so it reads as zero */
	ck_assert(is_zero(rgn_blk_addr(b), 4 * RGN_BLOCK_SIZE));
	memset(rgn_blk_addr(b), 0xab, 4 * RGN_BLOCK_SIZE);
	rgn_blk_free(b, 4);

	/* dirty and reused: it must not claim to be zero */
	b = rgn_blk_alloc(4, &zeroed);
	ck_assert_uint_ne(b, 0);
	if (zeroed)
		ck_assert(is_zero(rgn_blk_addr(b), 4 * RGN_BLOCK_SIZE));
	memset(rgn_blk_addr(b), 0xcd, 4 * RGN_BLOCK_SIZE);
	rgn_blk_free(b, 4);
	ck_assert_uint_ge(G.retained, 4);

	/* purged: the memory went back to the OS and reads as zero */
	rgn_blk_purge(0);
	ck_assert_uint_eq(G.retained, 0);
	b = rgn_blk_alloc(4, &zeroed);
	ck_assert_uint_ne(b, 0);
	ck_assert(is_zero(rgn_blk_addr(b), 4 * RGN_BLOCK_SIZE));
	rgn_blk_free(b, 4);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* ---- extend, shrink, aligned --------------------------------------------- */

/* What rgn_blk_extend must answer, from the descriptors. */
/* Blocks from b on that the calling thread's cache holds, as a run. */
static uint32_t cached_run(uint32_t b, uint32_t max)
{
	uint32_t k = 0;

	for (bool found = true; found && k < max && k < 64; k += found) {
		found = false;
		for (uint32_t i = 0; i < rgn_tc.n; i++)
			found |= rgn_tc.blk[i] == b + k;
	}
	return k;
}

/* Can the span at b (n blocks) grow by extra blocks in place?  1 yes,
 * 0 no, -1 it depends on the frontier's commit. */
/* Does a FREE span hold n blocks? */
static bool free_span_holds(uint32_t n)
{
	for (uint32_t h = 1; h < G.top; h += rgn_desc_of(h)->len)
		if (rgn_desc_of(h)->state == RGN_SPAN_FREE && rgn_desc_of(h)->len >= n)
			return true;
	return false;
}

static int extend_possible(uint32_t b, uint32_t n, uint32_t extra)
{
	uint32_t next = b + n, cached = cached_run(next, extra), whole = n + extra;

	/* the thread's own cached blocks come first, then the shared ones */
	next += cached;
	extra -= cached;
	if (extra == 0)
		return 1;
	if ((uint64_t)next + extra > rgn_space_g.nblocks)
		return 0;
	/* fresh blocks are carved only when no free span holds it all */
	if ((next >= G.top ||
	     (rgn_desc_of(next)->state == RGN_SPAN_FREE &&
	      next + rgn_desc_of(next)->len >= G.top && rgn_desc_of(next)->len < extra)) &&
	    free_span_holds(whole))
		return 0;
	if (next >= G.top)
		return 1;
	if (rgn_desc_of(next)->state != RGN_SPAN_FREE)
		return 0;
	if (rgn_desc_of(next)->len >= extra)
		return 1;
	/* free blocks, then never-carved ones: see test_blocks_extend_free_then_top */
	return next + rgn_desc_of(next)->len >= G.top ? -1 : 0;
}

START_TEST(test_blocks_extend)
{
	uint32_t s[4], used0;
	int blocked = -1;

	blk_init(64 * MiB, 0);
	used0 = G.used_blocks;
	for (int i = 0; i < 4; i++) {
		s[i] = rgn_blk_alloc(4, NULL);
		ck_assert_uint_ne(s[i], 0);
	}
	/* a span whose neighbour is held cannot grow */
	for (int i = 0; i < 4; i++)
		if (!extend_possible(s[i], 4, 1)) {
			blocked = i;
			break;
		}
	ck_assert_msg(blocked >= 0, "four fresh spans, none next to another");
	ck_assert_int_eq(rgn_blk_extend(s[blocked], 4, 1), ENOMEM);
	assert_span_used(s[blocked], 4);
	ck_assert_int_eq(rgn_blk_check(), 0);

	/* once the neighbour is free it can: here by the neighbour's length */
	for (int i = 0; i < 4; i++)
		if (i != blocked && s[i] == s[blocked] + 4) {
			rgn_blk_free(s[i], 4);
			s[i] = 0;
		}
	ck_assert_int_eq(extend_possible(s[blocked], 4, 4), 1);
	ck_assert_int_eq(rgn_blk_extend(s[blocked], 4, 4), 0);
	assert_span_used(s[blocked], 8);
	ck_assert_int_eq(rgn_blk_check(), 0);
	memset(rgn_blk_addr(s[blocked]), 1, 8 * RGN_BLOCK_SIZE);

	/* the last span grows into never-carved blocks */
	{
		uint32_t last = rgn_blk_alloc(2, NULL), top = G.top;
		ck_assert_uint_ne(last, 0);
		if (last + 2 == top) {
			ck_assert_int_eq(rgn_blk_extend(last, 2, 30), 0);
			assert_span_used(last, 32);
			ck_assert_uint_ge(G.top, last + 32);
			memset(rgn_blk_addr(last), 2, 32 * RGN_BLOCK_SIZE);
			rgn_blk_free(last, 32);
		} else {
			int want = extend_possible(last, 2, 30);
			int got = rgn_blk_extend(last, 2, 30);

			if (want >= 0)
				ck_assert_int_eq(got, want ? 0 : ENOMEM);
			rgn_blk_free(last, rgn_desc_of(last)->len);
		}
		ck_assert_int_eq(rgn_blk_check(), 0);
	}
	/* not past the end of the space */
	ck_assert_int_eq(rgn_blk_extend(s[blocked], 8, rgn_space_g.nblocks), ENOMEM);
	assert_span_used(s[blocked], 8);

	rgn_blk_free(s[blocked], 8);
	for (int i = 0; i < 4; i++)
		if (i != blocked && s[i])
			rgn_blk_free(s[i], 4);
	rgn_tcache_flush(&rgn_tc);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.used_blocks, used0);
}
END_TEST

/* The blocks after the span are partly free (a free span ending at the
 * frontier) and partly never carved: all of them are there to be had. */
START_TEST(test_blocks_extend_free_then_top)
{
	uint32_t a, b, top;

	blk_init(64 * MiB, 0);
	a = rgn_blk_alloc(4, NULL);
	b = rgn_blk_alloc(4, NULL);
	ck_assert(a && b);
	top = G.top;
	ck_assert_uint_eq(b + 4, top);      /* b is the last span carved */
	ck_assert_uint_eq(a + 4, b);
	rgn_blk_free(b, 4);                 /* free, up to the frontier */
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_int_eq(extend_possible(a, 4, 10), -1);
	ck_assert_int_eq(rgn_blk_extend(a, 4, 10), 0);
	assert_span_used(a, 14);
	ck_assert_uint_ge(G.top, a + 14);
	ck_assert_int_eq(rgn_blk_check(), 0);
	memset(rgn_blk_addr(a), 1, 14 * RGN_BLOCK_SIZE);
	rgn_blk_free(a, 14);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

START_TEST(test_blocks_shrink)
{
	uint32_t a, b, top, used0, used1;

	blk_init(64 * MiB, 0);
	used0 = G.used_blocks;
	a = rgn_blk_alloc(10, NULL);
	ck_assert_uint_ne(a, 0);
	memset(rgn_blk_addr(a), 7, 10 * RGN_BLOCK_SIZE);
	used1 = G.used_blocks;

	rgn_blk_shrink(a, 10, 10);             /* no change */
	assert_span_used(a, 10);
	ck_assert_uint_eq(G.used_blocks, used1);

	rgn_blk_shrink(a, 10, 3);
	assert_span_used(a, 3);
	ck_assert_uint_eq(G.used_blocks, used1 - 7);
	ck_assert_uint_eq(rgn_desc_of(a + 3)->state, RGN_SPAN_FREE);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(((unsigned char *)rgn_blk_addr(a))[3 * RGN_BLOCK_SIZE - 1], 7);

	/* the tail is reused before the frontier moves */
	top = G.top;
	b = rgn_blk_alloc(7, NULL);
	ck_assert_uint_eq(b, a + 3);
	ck_assert_uint_eq(G.top, top);
	ck_assert_int_eq(rgn_blk_check(), 0);

	rgn_blk_shrink(a, 3, 1);
	assert_span_used(a, 1);
	ck_assert_int_eq(rgn_blk_check(), 0);
	rgn_blk_free(a, 1);
	rgn_blk_free(b, 7);
	rgn_tcache_flush(&rgn_tc);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.used_blocks, used0);
}
END_TEST

START_TEST(test_blocks_alloc_aligned)
{
	static const uint32_t aligns[] = { 1, 2, 4, 16, 64, 256, 1024 };
	static const uint32_t sizes[] = { 1, 3, 17 };
	uint32_t got[21][2], n = 0, used0, stray;

	blk_init(64 * MiB, 0);
	used0 = G.used_blocks;
	stray = rgn_blk_alloc(3, NULL);       /* move the frontier off alignment */
	ck_assert_uint_ne(stray, 0);
	for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++)
		for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
			uint32_t b = rgn_blk_alloc_aligned(sizes[j], aligns[i]);

			ck_assert_uint_ne(b, 0);
			ck_assert_msg(b % aligns[i] == 0, "block %u, align %u",
			              b, aligns[i]);
			assert_span_used(b, sizes[j]);
			memset(rgn_blk_addr(b), 3, (size_t)sizes[j] << RGN_BLOCK_SHIFT);
			ck_assert_int_eq(rgn_blk_check(), 0);
			got[n][0] = b;
			got[n++][1] = sizes[j];
		}
	tst_zero_with(rgn_blk_alloc_aligned(1, rgn_space_g.nblocks * 2u), ENOMEM);
	for (uint32_t i = 0; i < n; i++)
		rgn_blk_free(got[i][0], got[i][1]);
	rgn_blk_free(stray, 3);
	rgn_tcache_flush(&rgn_tc);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.used_blocks, used0);
}
END_TEST

/* ---- the thread cache and chains -------------------------------------- */

START_TEST(test_blocks_tcache)
{
	static uint32_t got[200];
	static unsigned char seen[65536];
	uint32_t used0;

	blk_init(64 * MiB, 0);
	used0 = G.used_blocks;
	for (int i = 0; i < 200; i++) {
		got[i] = rgn_blk_get1();
		ck_assert_uint_ne(got[i], 0);
		ck_assert_uint_lt(got[i], sizeof seen);
		ck_assert_msg(!seen[got[i]], "block %u twice", got[i]);
		seen[got[i]] = 1;
		assert_span_used(got[i], 1);
		memset(rgn_blk_addr(got[i]), i, RGN_BLOCK_SIZE);
	}
	ck_assert_int_eq(rgn_blk_check(), 0);
	for (int i = 0; i < 200; i++)
		rgn_blk_put1(got[i]);
	ck_assert_uint_le(atomic_load(&rgn_tc.n), RGN_TCACHE_MAX);
	ck_assert_int_eq(rgn_blk_check(), 0);
	/* cached blocks are still USED */
	ck_assert_uint_eq(G.used_blocks, used0 + atomic_load(&rgn_tc.n));

	rgn_tcache_flush(&rgn_tc);
	ck_assert_uint_eq(atomic_load(&rgn_tc.n), 0);
	ck_assert_uint_eq(G.used_blocks, used0);
	ck_assert_int_eq(rgn_blk_check(), 0);
	/* the space's free blocks coalesced back into one run */
	ck_assert_uint_ge(longest_free(), 200);
}
END_TEST

START_TEST(test_blocks_free_chain)
{
	uint32_t a, b, c, used0;

	blk_init(64 * MiB, 0);
	used0 = G.used_blocks;
	a = rgn_blk_alloc(3, NULL);
	b = rgn_blk_alloc(1, NULL);
	c = rgn_blk_alloc(20, NULL);
	ck_assert(a && b && c);
	rgn_desc_of(a)->next = c;
	rgn_desc_of(c)->next = b;
	rgn_desc_of(b)->next = 0;

	/* up to, not including, stop */
	rgn_blk_free_chain(a, b);
	ck_assert_uint_eq(G.used_blocks, used0 + 1 + atomic_load(&rgn_tc.n));
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(rgn_desc_of(a)->state, RGN_SPAN_FREE);
	ck_assert_uint_eq(rgn_desc_of(c)->state, RGN_SPAN_FREE);
	assert_span_used(b, 1);

	/* to the end */
	rgn_blk_free_chain(b, 0);
	rgn_tcache_flush(&rgn_tc);
	ck_assert_uint_eq(G.used_blocks, used0);
	ck_assert_int_eq(rgn_blk_check(), 0);

	/* a chain of one, and an empty one */
	a = rgn_blk_alloc(5, NULL);
	ck_assert_uint_ne(a, 0);
	rgn_desc_of(a)->next = 0;
	rgn_blk_free_chain(a, 0);
	rgn_blk_free_chain(0, 0);
	rgn_tcache_flush(&rgn_tc);
	ck_assert_uint_eq(G.used_blocks, used0);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* ---- retained accounting and purge -------------------------------------- */

START_TEST(test_blocks_retained_accounting)
{
	uint32_t s[10], r0;
	size_t purged0, purges0;

	blk_init(256 * MiB, RGN_RETAIN_DEFAULT); /* a fixed 64 MiB */
	ck_assert_uint_eq(rgn_space_g.retain_blocks, RGN_RETAIN_DEFAULT >> RGN_BLOCK_SHIFT);
	r0 = G.retained;
	for (int i = 0; i < 10; i++) {
		s[i] = rgn_blk_alloc(10, NULL);
		ck_assert_uint_ne(s[i], 0);
		memset(rgn_blk_addr(s[i]), 9, 10 * RGN_BLOCK_SIZE);
	}
	for (int i = 0; i < 10; i += 3)
		rgn_blk_free(s[i], 10);
	ck_assert_uint_eq(G.retained, r0 + 40);
	for (int i = 0; i < 10; i++)
		if (i % 3)
			rgn_blk_free(s[i], 10);
	ck_assert_uint_eq(G.retained, r0 + 100);
	ck_assert_int_eq(rgn_blk_check(), 0);

	purged0 = G.purged_bytes;
	purges0 = G.purges;
	rgn_blk_purge(0);
	ck_assert_uint_eq(G.retained, 0);
	ck_assert_uint_ge(G.purged_bytes, purged0 + (size_t)(r0 + 100) * RGN_BLOCK_SIZE);
	ck_assert_uint_gt(G.purges, purges0);
	ck_assert_int_eq(rgn_blk_check(), 0);

	/* reusing purged blocks and freeing them again makes them retained */
	s[0] = rgn_blk_alloc(50, NULL);
	ck_assert_uint_ne(s[0], 0);
	rgn_blk_free(s[0], 50);
	ck_assert_uint_eq(G.retained, 50);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

START_TEST(test_blocks_purge_target)
{
	uint32_t s[30];

	blk_init(256 * MiB, RGN_RETAIN_DEFAULT);
	for (int i = 0; i < 30; i++) {
		s[i] = rgn_blk_alloc(10, NULL);
		ck_assert_uint_ne(s[i], 0);
	}
	for (int i = 0; i < 30; i++)
		rgn_blk_free(s[i], 10);
	ck_assert_uint_ge(G.retained, 300);
	rgn_blk_purge(100);
	ck_assert_uint_le(G.retained, 100);
	ck_assert_int_eq(rgn_blk_check(), 0);
	rgn_blk_purge(0);
	ck_assert_uint_eq(G.retained, 0);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

START_TEST(test_blocks_retain_limit)
{
	uint32_t s[20];

	blk_init(256 * MiB, 1 * MiB);
	ck_assert_uint_eq(rgn_space_g.retain_limit, 1 * MiB);
	ck_assert_uint_eq(rgn_space_g.retain_blocks, 256);
	for (int i = 0; i < 20; i++) {
		s[i] = rgn_blk_alloc(50, NULL);
		ck_assert_uint_ne(s[i], 0);
	}
	for (int i = 0; i < 20; i++) {
		rgn_blk_free(s[i], 50);
		ck_assert_uint_le(G.retained, 256);
	}
	ck_assert_uint_ge(G.purged_bytes, (size_t)(1000 - 256) * RGN_BLOCK_SIZE);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* Purging takes the oldest dirty spans and stops once `retained` is at
 * most the target: no span more, none purged twice, and the dirty count
 * of a span that merges with a purged neighbour stays exact. */
START_TEST(test_blocks_purge_exact)
{
	uint32_t s[6], x;
	size_t purges0;

	blk_init(256 * MiB, RGN_RETAIN_DEFAULT);
	for (int i = 0; i < 6; i++) {
		s[i] = rgn_blk_alloc(10, NULL);
		ck_assert_uint_ne(s[i], 0);
	}
	x = rgn_blk_alloc(1, NULL);           /* keeps s[5] off the frontier */
	ck_assert_uint_ne(x, 0);
	rgn_blk_purge(0);
	ck_assert_uint_eq(G.retained, 0);
	/* s[0], s[2], s[4] freed in that order: three dirty spans, apart */
	for (int i = 0; i < 6; i += 2)
		rgn_blk_free(s[i], 10);
	ck_assert_uint_eq(G.retained, 30);
	purges0 = G.purges;
	rgn_blk_purge(15);                     /* the two oldest are needed */
	ck_assert_uint_eq(G.purges, purges0 + 2);
	ck_assert_uint_eq(G.retained, 10);
	ck_assert_uint_eq(rgn_desc_of(s[4])->dirty, 10); /* the newest stays */
	ck_assert_uint_eq(rgn_desc_of(s[0])->dirty, 0);
	/* s[1] merges with the purged s[0] and s[2]: 30 blocks, 10 dirty */
	rgn_blk_free(s[1], 10);
	ck_assert_uint_eq(rgn_desc_of(s[0])->len, 30);
	ck_assert_uint_eq(rgn_desc_of(s[0])->dirty, 10);
	ck_assert_uint_eq(G.retained, 20);
	/* nothing over the target: no call at all */
	purges0 = G.purges;
	rgn_blk_purge(20);
	ck_assert_uint_eq(G.purges, purges0);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* No limit asked for: it adapts.  At the floor in a small process, a
 * quarter of the recent peak of used blocks once that is larger, back
 * at the floor two windows of frees after use fell, never above the
 * default limit; and `retained` stays within it. */
START_TEST(test_blocks_retain_adaptive)
{
	static uint32_t s[100];
	uint32_t floor = RGN_RETAIN_FLOOR, big;

	blk_init(2 * GiB, 0);
	ck_assert(!rgn_space_g.retain_fixed);
	ck_assert_uint_eq(rgn_blocks_retain_limit(), floor);
	ck_assert_uint_eq(tst_space().retain_limit, (size_t)floor * RGN_BLOCK_SIZE);

	/* a thousand blocks in use: the limit rises to 250 */
	for (int i = 0; i < 100; i++) {
		s[i] = rgn_blk_alloc(10, NULL);
		ck_assert_uint_ne(s[i], 0);
	}
	ck_assert_uint_ge(G.peak, 1000);
	ck_assert_uint_eq(rgn_blocks_retain_limit(), G.peak >> RGN_RETAIN_SHIFT);
	ck_assert_uint_ge(rgn_blocks_retain_limit(), 250);
	ck_assert_uint_eq(tst_space().retain_limit,
	                  (size_t)rgn_blocks_retain_limit() * RGN_BLOCK_SIZE);
	for (int i = 0; i < 100; i++) {
		rgn_blk_free(s[i], 10);
		ck_assert_uint_le(G.retained, rgn_blocks_retain_limit());
	}
	ck_assert_uint_gt(G.purges, 0);

	/* a small process again: ten blocks in use at a time; after two
	 * windows of frees the thousand is forgotten */
	for (int i = 0; i < 400; i++) {
		uint32_t b = rgn_blk_alloc(10, NULL);
		ck_assert_uint_ne(b, 0);
		rgn_blk_free(b, 10);
	}
	ck_assert_uint_lt(G.peak, 1000);
	ck_assert_uint_lt(G.peak_prev, 1000);
	ck_assert_uint_eq(rgn_blocks_retain_limit(), floor);
	ck_assert_uint_le(G.retained, floor);

	/* the default limit is the ceiling: 1.2 GiB in use (never touched) */
	big = rgn_blk_alloc(300000, NULL);
	ck_assert_uint_ne(big, 0);
	ck_assert_uint_eq(rgn_blocks_retain_limit(), RGN_RETAIN_DEFAULT >> RGN_BLOCK_SHIFT);
	rgn_blk_free(big, 300000);
	ck_assert_uint_le(G.retained, RGN_RETAIN_DEFAULT >> RGN_BLOCK_SHIFT);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* A limit asked for is fixed, whatever the process uses. */
START_TEST(test_blocks_retain_fixed)
{
	static uint32_t s[100];

	blk_init(256 * MiB, 1 * MiB);
	ck_assert(rgn_space_g.retain_fixed);
	ck_assert_uint_eq(rgn_blocks_retain_limit(), 256);
	for (int i = 0; i < 100; i++) {
		s[i] = rgn_blk_alloc(40, NULL);
		ck_assert_uint_ne(s[i], 0);
	}
	ck_assert_uint_eq(rgn_blocks_retain_limit(), 256);
	ck_assert_uint_eq(tst_space().retain_limit, 1 * MiB);
	for (int i = 0; i < 100; i++) {
		rgn_blk_free(s[i], 40);
		ck_assert_uint_le(G.retained, 256);
	}
	/* half the limit after the last purge, at least */
	ck_assert_uint_ge(G.retained, 40);
	ck_assert_uint_eq(rgn_blocks_retain_limit(), 256);
}
END_TEST

/* ---- the thread cache gives back what it did not use -------------------- */

/* One cache operation that leaves the count as it was: take, give back. */
static void cache_ops(int k)
{
	for (int i = 0; i < k; i++) {
		uint32_t b = rgn_blk_get1();
		ck_assert_uint_ne(b, 0);
		rgn_blk_put1(b);
	}
}

START_TEST(test_blocks_tcache_idle)
{
	static uint32_t got[40];
	uint32_t n1, ns1, used1, sp[2], b, give, gives;

	blk_init(64 * MiB, RGN_RETAIN_DEFAULT);
	for (int i = 0; i < 40; i++)
		ck_assert_uint_ne(got[i] = rgn_blk_get1(), 0);
	for (int i = 0; i < 40; i++)
		rgn_blk_put1(got[i]);
	/* two spans of 4 blocks in the span cache */
	for (int i = 0; i < 2; i++) {
		sp[i] = rgn_blk_alloc(4, NULL);
		ck_assert_uint_ne(sp[i], 0);
	}
	for (int i = 0; i < 2; i++)
		rgn_blk_release(sp[i], 4);
	ck_assert_uint_ge(rgn_tc.nspan[1], 1);

	/* a period starts: what the cache holds now is its low water */
	rgn_tcache_age(&rgn_tc);
	n1 = atomic_load(&rgn_tc.n);
	ns1 = rgn_tc.nspan[1];
	ck_assert_uint_ge(n1, 8);
	ck_assert_uint_ge(ns1, 1);
	used1 = G.used_blocks;

	/* a period in which the cache never held fewer than n1 - 1 blocks
	 * and no span was taken: nothing goes back before its last
	 * operation... */
	cache_ops((RGN_TCACHE_IDLE_OPS - 2) / 2);
	ck_assert_uint_eq(atomic_load(&rgn_tc.n), n1);
	ck_assert_uint_eq(G.used_blocks, used1);
	b = rgn_blk_get1();
	ck_assert_uint_ne(b, 0);
	ck_assert_uint_eq(G.used_blocks, used1);
	ck_assert_uint_eq(rgn_tc.ops, 1);
	/* ...and at it, three quarters of each low water, rounded up, go
	 * back to the shared structure: blocks and spans */
	rgn_blk_put1(b);
	give = (3 * (n1 - 1) + 3) / 4;
	gives = (3 * ns1 + 3) / 4;
	ck_assert_uint_eq(atomic_load(&rgn_tc.n), n1 - give);
	ck_assert_uint_eq(rgn_tc.nspan[1], ns1 - gives);
	ck_assert_uint_eq(G.used_blocks, used1 - give - 4 * gives);
	ck_assert_uint_eq(rgn_tc.ops, RGN_TCACHE_IDLE_OPS);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* A cache drawn down to nothing in a period keeps what it holds at the
 * period's end: it was all in use. */
START_TEST(test_blocks_tcache_busy_keeps)
{
	static uint32_t got[RGN_TCACHE_MAX];
	uint32_t n1, ops = 0;

	blk_init(64 * MiB, RGN_RETAIN_DEFAULT);
	cache_ops(1);
	rgn_tcache_age(&rgn_tc);
	n1 = atomic_load(&rgn_tc.n);
	ck_assert_uint_gt(n1, 0);
	for (uint32_t i = 0; i < n1; i++, ops++)
		got[i] = rgn_blk_get1();
	ck_assert_uint_eq(atomic_load(&rgn_tc.n), 0);
	for (uint32_t i = 0; i < n1; i++, ops++)
		rgn_blk_put1(got[i]);
	ck_assert_uint_lt(ops, RGN_TCACHE_IDLE_OPS);
	cache_ops((RGN_TCACHE_IDLE_OPS - ops) / 2);
	if ((RGN_TCACHE_IDLE_OPS - ops) % 2)
		rgn_blk_put1(rgn_blk_get1());
	ck_assert_uint_eq(rgn_tc.ops, RGN_TCACHE_IDLE_OPS); /* a period ended */
	ck_assert_uint_eq(atomic_load(&rgn_tc.n), n1);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* A destroyed region that grew leaves its first block, header ready, as
 * the thread's spare: the next rgn_new returns it. */
START_TEST(test_blocks_grown_region_spare)
{
	rgn_region *r, *r2;
	struct rgn_space_stats st;

	blk_init(64 * MiB, RGN_RETAIN_DEFAULT);
	if (rgn_check_on())
		return; /* the checking mode keeps no spare */
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < 8; i++)
		ck_assert_ptr_nonnull(rgn_alloc(r, 3000));
	ck_assert_uint_gt(r->blocks, 1);
	ck_assert_ptr_null(atomic_load(&rgn_tc.spare));
	rgn_destroy(r);
	ck_assert_ptr_eq(atomic_load(&rgn_tc.spare), r);
	st = tst_space();
	ck_assert_uint_eq(st.live_regions, 0);
	r2 = rgn_new(NULL);
	ck_assert_ptr_eq(r2, r);
	ck_assert_uint_eq(r2->blocks, 1);
	ck_assert_ptr_eq(r2->bump.cur, r2->chunk_start);
	memset(rgn_alloc(r2, 2000), 1, 2000);
	ck_assert_uint_eq(tst_space().live_regions, 1);
	rgn_destroy(r2);
	ck_assert_uint_eq(tst_space().live_regions, 0);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* ---- coalescing under random orders ------------------------------------- */

#define NSPANS 10000

START_TEST(test_blocks_coalesce_random_order)
{
	static uint32_t at[NSPANS], len[NSPANS];
	static size_t order[NSPANS];
	uint64_t seed = 0x5eed;
	uint32_t used0, top, big;
	size_t total = 0;

	blk_init(2 * GiB, 0);
	used0 = G.used_blocks;
	for (size_t i = 0; i < NSPANS; i++) {
		len[i] = (uint32_t)tst_range(&seed, 2, 40);
		at[i] = rgn_blk_alloc(len[i], NULL);
		ck_assert_uint_ne(at[i], 0);
		total += len[i];
		order[i] = i;
	}
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.used_blocks, used0 + total);

	tst_shuffle(&seed, order, NSPANS);
	for (size_t i = 0; i < NSPANS; i++) {
		rgn_blk_free(at[order[i]], len[order[i]]);
		if (i % 2500 == 2499)
			ck_assert_int_eq(rgn_blk_check(), 0);
	}
	rgn_tcache_flush(&rgn_tc);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.used_blocks, used0);

	/* one span of the total fits where they were */
	top = G.top;
	ck_assert_uint_ge(longest_free(), total);
	big = rgn_blk_alloc((uint32_t)total, NULL);
	ck_assert_uint_ne(big, 0);
	ck_assert_uint_eq(G.top, top);
	assert_span_used(big, (uint32_t)total);
	ck_assert_int_eq(rgn_blk_check(), 0);
	rgn_blk_free(big, (uint32_t)total);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.top, top);
}
END_TEST

START_TEST(test_blocks_mixed_churn)
{
	enum { SLOTS = 512, OPS = 60000 };
	static uint32_t at[SLOTS], len[SLOTS];
	uint64_t seed = 77;
	uint32_t used0, live = 0, peak = 0;

	blk_init(256 * MiB, 4 * MiB);
	used0 = G.used_blocks;
	memset(at, 0, sizeof at);
	for (int op = 0; op < OPS; op++) {
		size_t i = tst_range(&seed, 0, SLOTS - 1);
		unsigned kind = (unsigned)(tst_rand(&seed) % 16);

		if (!at[i]) {
			uint32_t n = (uint32_t)(kind < 8 ? 1 : tst_range(&seed, 2, kind < 15 ? 64 : 300));
			if (kind == 7) {
				uint32_t al = 1u << tst_range(&seed, 0, 6);
				at[i] = rgn_blk_alloc_aligned(n, al);
				ck_assert_uint_ne(at[i], 0);
				ck_assert_uint_eq(at[i] % al, 0);
			} else {
				at[i] = rgn_blk_alloc(n, NULL);
				ck_assert_uint_ne(at[i], 0);
			}
			len[i] = n;
			*(uint32_t *)rgn_blk_addr(at[i]) = at[i];
			live += n;
		} else if (kind < 2) {
			uint32_t extra = (uint32_t)tst_range(&seed, 1, 8);
			int want = extend_possible(at[i], len[i], extra);
			int got = rgn_blk_extend(at[i], len[i], extra);

			if (want >= 0)
				ck_assert_int_eq(got, want ? 0 : ENOMEM);
			else
				ck_assert(got == 0 || got == ENOMEM);
			if (got == 0) {
				len[i] += extra;
				live += extra;
			}
		} else if (kind < 4 && len[i] > 1) {
			uint32_t keep = (uint32_t)tst_range(&seed, 1, len[i] - 1);
			rgn_blk_shrink(at[i], len[i], keep);
			live -= len[i] - keep;
			len[i] = keep;
		} else {
			ck_assert_uint_eq(*(uint32_t *)rgn_blk_addr(at[i]), at[i]);
			rgn_blk_free(at[i], len[i]);
			live -= len[i];
			at[i] = 0;
		}
		if (at[i])
			assert_span_used(at[i], len[i]);
		if (live > peak)
			peak = live;
		if (op % 5000 == 4999) {
			ck_assert_int_eq(rgn_blk_check(), 0);
			ck_assert_uint_le(G.retained, rgn_space_g.retain_blocks);
		}
	}
	ck_assert_int_eq(rgn_blk_check(), 0);
	for (size_t i = 0; i < SLOTS; i++)
		if (at[i])
			rgn_blk_free(at[i], len[i]);
	rgn_tcache_flush(&rgn_tc);
	ck_assert_int_eq(rgn_blk_check(), 0);
	ck_assert_uint_eq(G.used_blocks, used0);
	/* freed blocks were reused: the frontier stayed near the peak */
	ck_assert_msg(G.top <= 2 * peak + 4096, "top %u, peak live %u", G.top, peak);
}
END_TEST

/* ---- size parsing ------------------------------------------------------- */

START_TEST(test_blocks_parse_size)
{
	static const struct { const char *s; size_t v; } good[] = {
		{ "64M", 64 * MiB }, { "2G", 2 * GiB }, { "32G", 32 * GiB },
		{ "4096", 4096 }, { "1GiB", 1 * GiB }, { "16777216", 16 * MiB },
	};
	static const char *const bad[] = {
		"", "banana", "M", "12Q", "-1", "99999999999999999999999G",
	};
	size_t v;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = 0;
		ck_assert_msg(rgn_parse_size(good[i].s, &v) == 0, "%s", good[i].s);
		ck_assert_uint_eq(v, good[i].v);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(rgn_parse_size(bad[i], &v) == EINVAL,
		              "\"%s\" accepted", bad[i]);
}
END_TEST

/* ---- AddressSanitizer ---------------------------------------------------------- */

#ifdef RGN_ASAN
/* Memory no region holds is poisoned: a use after destroy or rewind is
 * reported at the access.  Registered in sanitizer builds only. */
START_TEST(test_blocks_asan_poisons_free_memory)
{
	rgn_region *r, *r2;
	rgn_mark m;
	char *small, *big, *after, *q;

	blk_init(64 * MiB, 0);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	small = rgn_alloc(r, 64);
	big = rgn_alloc(r, 100 * 1000);
	m = rgn_save(r);
	after = rgn_alloc(r, 200 * 1000);
	ck_assert(small && big && after);
	ck_assert(!__asan_address_is_poisoned(small));
	ck_assert(!__asan_address_is_poisoned(big + 100 * 1000 - 1));
	ck_assert(!__asan_address_is_poisoned(after));

	ck_assert_int_eq(rgn_rewind(r, m), 0);
	ck_assert(__asan_address_is_poisoned(after));
	ck_assert(!__asan_address_is_poisoned(big));

	rgn_destroy(r);
	ck_assert(__asan_address_is_poisoned(small));
	ck_assert(__asan_address_is_poisoned(big));

	/* a block handed out again is usable again */
	r2 = rgn_new(NULL);
	ck_assert_ptr_nonnull(r2);
	q = rgn_alloc(r2, 64);
	ck_assert(!__asan_address_is_poisoned(q));
	rgn_destroy(r2);
}
END_TEST
#endif

/* An aligned span, like any span, takes back the thread's cached blocks
 * before it fails for lack of them. */
START_TEST(test_blocks_aligned_uses_cache)
{
	uint32_t b, big;

	blk_init(16 * MiB, 0);
	b = rgn_blk_get1();                  /* a first refill: 7 more */
	ck_assert_uint_ne(b, 0);
	/* everything else up to the end of the space */
	big = rgn_blk_alloc(rgn_space_g.nblocks - G.top, NULL);
	ck_assert_uint_ne(big, 0);
	ck_assert_uint_eq(atomic_load(&rgn_tc.n), RGN_TCACHE_BATCH_MIN - 1);
	ck_assert_uint_ne(rgn_blk_alloc_aligned(1, 2), 0);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* Spans of 2, 4, 8 or 16 blocks a region gives back stay with the
 * thread and serve the next region without the shared structure; they
 * count as cached and go back to the shared lists on rgn_space_trim. */
START_TEST(test_blocks_span_cache)
{
	struct rgn_space_stats st;
	uint32_t free0, top0, b;
	rgn_region *r;
	char *p;

	blk_init(64 * MiB, 0);
	r = rgn_new(NULL);
	p = rgn_alloc(r, 16 * RGN_BLOCK_SIZE);         /* a 16-block span */
	ck_assert_ptr_nonnull(p);
	b = rgn_blk_index(p);
	ck_assert_uint_eq(rgn_desc_of(b)->len, 16);
	rgn_destroy(r);
	free0 = G.free_blocks;
	top0 = G.top;
	ck_assert_int_eq(rgn_space_stats(&st), 0);
	ck_assert_uint_ge(st.cached_blocks, 16);
	ck_assert_int_eq(rgn_blk_check(), 0);

	r = rgn_new(NULL);
	p = rgn_alloc(r, 16 * RGN_BLOCK_SIZE);
	ck_assert_uint_eq(rgn_blk_index(p), b);         /* the same span */
	ck_assert_uint_eq(G.free_blocks, free0);        /* not from the lists */
	ck_assert_uint_eq(G.top, top0);
	memset(p, 7, 16 * RGN_BLOCK_SIZE);
	rgn_destroy(r);

	rgn_space_trim();
	ck_assert_int_eq(rgn_space_stats(&st), 0);
	ck_assert_uint_eq(st.cached_blocks, 0);
	ck_assert_uint_eq(st.used_blocks, 0);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* ---- fork (not on Windows, which has none) ------------------------------------ */
#if TST_POSIX

struct lock_holder {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int held;
};

/* Take the space lock, say so, keep it 100 ms, let go. */
static void *hold_space_lock(void *arg)
{
	struct lock_holder *h = arg;

	rgn_lock(&rgn_blocks_g.lock);
	pthread_mutex_lock(&h->m);
	h->held = 1;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->m);
	usleep(100 * 1000);
	rgn_unlock(&rgn_blocks_g.lock);
	return NULL;
}

/* A fork while another thread holds the space lock must leave the child
 * able to allocate: without fork handlers the child inherits the lock
 * held by a thread it does not have, and its first span allocation
 * hangs (the alarm then kills it). */
START_TEST(test_blocks_fork_while_locked)
{
	struct lock_holder h = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
	pthread_t t;
	pid_t pid;
	int status;

	tst_init(64 * MiB, 0);
	ck_assert_uint_ne(rgn_blk_alloc(4, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, hold_space_lock, &h), 0);
	pthread_mutex_lock(&h.m);
	while (!h.held)
		pthread_cond_wait(&h.cv, &h.m);
	pthread_mutex_unlock(&h.m);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rgn_space_stats st;
		alarm(2);
		if (rgn_blk_alloc(8, NULL) == 0 || rgn_space_stats(&st) != 0 ||
		    rgn_blk_check() != 0)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "child status %#x", status);
	pthread_join(t, NULL);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST
#endif

Suite *suite_blocks(void)
{
	Suite *s = suite_create("blocks");
	TCase *tc;

	tc = tcase_create("alloc");
	tcase_add_test(tc, test_blocks_alloc_free);
	tcase_add_test(tc, test_blocks_alloc_too_big);
	tcase_add_test(tc, test_blocks_reuse_before_frontier);
	tcase_add_test(tc, test_blocks_zeroed_flag);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("resize");
	tcase_add_test(tc, test_blocks_extend);
	tcase_add_test(tc, test_blocks_extend_free_then_top);
	tcase_add_test(tc, test_blocks_shrink);
	tcase_add_test(tc, test_blocks_alloc_aligned);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcache");
	tcase_add_test(tc, test_blocks_tcache);
	tcase_add_test(tc, test_blocks_free_chain);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("retain");
	tcase_add_test(tc, test_blocks_retained_accounting);
	tcase_add_test(tc, test_blocks_purge_target);
	tcase_add_test(tc, test_blocks_retain_limit);
	tcase_add_test(tc, test_blocks_purge_exact);
	tcase_add_test(tc, test_blocks_retain_adaptive);
	tcase_add_test(tc, test_blocks_retain_fixed);
	tcase_add_test(tc, test_blocks_tcache_idle);
	tcase_add_test(tc, test_blocks_tcache_busy_keeps);
	tcase_add_test(tc, test_blocks_grown_region_spare);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("coalesce");
	tcase_add_test(tc, test_blocks_coalesce_random_order);
	tcase_add_test(tc, test_blocks_mixed_churn);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

#ifdef RGN_ASAN
	tc = tcase_create("asan");
	tcase_add_test(tc, test_blocks_asan_poisons_free_memory);
	suite_add_tcase(s, tc);
#endif

	tc = tcase_create("span-cache");
	tcase_add_test(tc, test_blocks_span_cache);
	suite_add_tcase(s, tc);

	tc = tcase_create("aligned-cache");
	tcase_add_test(tc, test_blocks_aligned_uses_cache);
	suite_add_tcase(s, tc);

#if TST_POSIX
	tc = tcase_create("fork");
	tcase_add_test(tc, test_blocks_fork_while_locked);
	suite_add_tcase(s, tc);
#endif

	tc = tcase_create("parse");
	tcase_add_test(tc, test_blocks_parse_size);
	suite_add_tcase(s, tc);

	return s;
}
