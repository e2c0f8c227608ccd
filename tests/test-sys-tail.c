/*
 * test-sys-tail.c - the tail growth the system-call wrappers are built
 * on (rgn_tail, rgn_tail_grow, rgn_tail_commit), with nothing of the
 * OS's: the "tail" case of the sys suite on every system (test-sys.c on
 * POSIX, test-sys-win.c on Windows add the wrappers' cases).
 */
#define _GNU_SOURCE
#include "internal.h"
#include "suites.h"

/* The region's chunk nearly full and the blocks after it held: the first
 * reservation is small, so the result needs a growth that moves. */
rgn_region *tst_cramped_region(rgn_region **other)
{
	rgn_region *r = rgn_new(NULL);
	size_t avail;

	*other = rgn_new(NULL);
	ck_assert_ptr_eq((char *)*other, (char *)r + RGN_BLOCK_SIZE);
	ck_assert_ptr_nonnull(rgn_tail(r, 1, &avail));
	ck_assert_int_eq(rgn_tail_commit(r, avail - 300), 0);
	return r;
}

/* A 10,000-byte read with a 64 KiB reservation into a fresh region leaves
 * it holding at most 3 blocks: the tail grows the region's own block in
 * place and the commit gives the rest back. */
START_TEST(test_sys_tail_fresh_region_three_blocks)
{
	struct rgn_space_stats s0, s1;
	rgn_region *r;
	size_t avail;
	char *p;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	s0 = tst_space();
	p = rgn_tail(r, 64 * KiB, &avail);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(avail, 64 * KiB);
	tst_fill(p, 10000, 1);
	ck_assert_int_eq(rgn_tail_commit(r, 10000), 0);
	ck_assert_uint_le(tst_region(r).blocks, 3);
	s1 = tst_space();
	ck_assert_uint_eq(s1.used_blocks, s0.used_blocks + tst_region(r).blocks - 1);
	ck_assert(tst_verify(p, 10000, 1));
	tst_space_consistent(&s1);
	rgn_destroy(r);
	ck_assert_uint_eq(tst_space().used_blocks, 0);
}
END_TEST

/* Growth in place keeps the pointer; the commit gives back what the
 * growth added beyond the used bytes. */
START_TEST(test_sys_tail_grow_in_place)
{
	rgn_region *r;
	size_t avail, a0;
	char *p, *q;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	p = rgn_tail(r, 2000, &a0);
	ck_assert_ptr_nonnull(p);
	tst_fill(p, a0, 2);
	q = rgn_tail_grow(r, a0, 40 * KiB, &avail);
	ck_assert_uint_eq(tst_addr(q), tst_addr(p));
	ck_assert_uint_ge(avail, 40 * KiB);
	ck_assert(tst_verify(p, a0, 2));
	memset(p + a0, 0x33, avail - a0);
	ck_assert_int_eq(rgn_tail_commit(r, 5000), 0);
	ck_assert_uint_le(tst_region(r).blocks, 2);
	ck_assert_uint_eq(tst_region(r).chunks, 1);
	rgn_destroy(r);
}
END_TEST

/* With the blocks after the chunk held by another region the tail moves:
 * the used bytes are copied and the old chunk keeps only what it had. */
START_TEST(test_sys_tail_grow_moves)
{
	struct rgn_region_stats before;
	rgn_region *r, *other;
	size_t avail, a0;
	char *p, *q, *x;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	other = rgn_new(NULL);                       /* holds the next block */
	ck_assert_ptr_eq((char *)other, (char *)r + RGN_BLOCK_SIZE);
	x = rgn_alloc(r, 64);
	memset(x, 0x77, 64);
	before = tst_region(r);
	p = rgn_tail(r, 1000, &a0);
	ck_assert_ptr_nonnull(p);
	tst_fill(p, 1000, 4);
	q = rgn_tail_grow(r, 1000, 100 * KiB, &avail);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_ne(q, p);
	ck_assert_uint_ge(avail, 100 * KiB);
	ck_assert(tst_verify(q, 1000, 4));
	tst_fill(q, 30000, 6);
	/* growing again, now in place, keeps the pointer */
	ck_assert_ptr_eq(rgn_tail_grow(r, 30000, 50 * KiB, &avail), q);
	ck_assert_int_eq(rgn_tail_commit(r, 30000), 0);
	ck_assert(tst_verify(q, 30000, 6));
	ck_assert_uint_eq(tst_region(r).blocks, before.blocks + 8);
	ck_assert_uint_eq(tst_region(r).used, before.used + 30000);
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(x[i], 0x77);
	rgn_destroy(other);
	rgn_destroy(r);
	ck_assert_uint_eq(tst_space().used_blocks, 0);
}
END_TEST

/* A failed growth leaves the old tail pending and whole. */
START_TEST(test_sys_tail_grow_fails_cleanly)
{
	struct rgn_region_stats before;
	rgn_region *r;
	size_t avail, a0;
	char *p;

	tst_init(16 * MiB, 0);
	r = rgn_new(NULL);
	before = tst_region(r);
	p = rgn_tail(r, 3000, &a0);
	tst_fill(p, 3000, 8);
	tst_null_with(rgn_tail_grow(r, 3000, 32 * MiB, &avail), ENOMEM);
	/* more blocks than the space has below its end (block 0 is never
	 * handed out) */
	tst_null_with(rgn_tail_grow(r, 3000, 16 * MiB - 1024, &avail), ENOMEM);
	ck_assert_uint_eq(tst_region(r).blocks, before.blocks);
	ck_assert_int_eq(rgn_tail_commit(r, 3000), 0);
	ck_assert(tst_verify(p, 3000, 8));
	/* no tail pending, used beyond the tail */
	tst_null_with(rgn_tail_grow(r, 0, 100, &avail), EINVAL);
	p = rgn_tail(r, 100, &a0);
	tst_null_with(rgn_tail_grow(r, a0 + 1, a0 + 100, &avail), EINVAL);
	ck_assert_ptr_null(rgn_tail_grow(NULL, 0, 100, &avail));
	ck_assert_int_eq(rgn_tail_commit(r, 0), 0);
	rgn_destroy(r);
}
END_TEST

TCase *tst_sys_tail_tcase(void)
{
	TCase *tc = tcase_create("tail");

	tcase_add_test(tc, test_sys_tail_fresh_region_three_blocks);
	tcase_add_test(tc, test_sys_tail_grow_in_place);
	tcase_add_test(tc, test_sys_tail_grow_moves);
	tcase_add_test(tc, test_sys_tail_grow_fails_cleanly);
	return tc;
}
