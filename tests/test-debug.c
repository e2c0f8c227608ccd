/*
 * test-debug.c - the debug checks fire where the misuse happens: each
 * test runs in a forked child (libcheck's fork mode) and must die of
 * SIGABRT.  Which tests exist depends on the build's rgn_debug level:
 *   any      rgn_ref_check_ itself (what the inline decoders call)
 *   >= 1     a _locked function called without its lock; a destroyed
 *            region handle; rgn_ptr and RGN_AT of a reference beyond the
 *            space's high-water mark; rgn_ref_of of a pointer outside the
 *            space's blocks (the stack, malloc, a contiguous region)
 *   >= 3     the block layer's consistency check after a span operation
 */
#define _GNU_SOURCE
#include "suites.h"
#include "internal.h"

#include <signal.h>

/* A reference past every block the space ever carved. */
static rgn_ref wild_ref(void)
{
	struct rgn_space_stats st = tst_space();

	/* computed, not encoded: rgn_ref_of refuses such a pointer itself */
	return tst_ref0() + (rgn_ref)((st.high_water_blocks + 16) * (RGN_BLOCK_SIZE / 8));
}

START_TEST(test_debug_ref_check_function)
{
	rgn_region *r;
	void *p;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	p = rgn_alloc(r, 64);
	ck_assert_ptr_nonnull(p);
	/* a real object passes, ref 0 passes (it faults when used) */
	ck_assert_uint_eq(rgn_ref_check_(rgn_ref_of(p), 0), rgn_ref_of(p));
	ck_assert_uint_eq(rgn_ref_check_(RGN_NULL_REF, 0), RGN_NULL_REF);
	(void)rgn_ref_check_(wild_ref(), 0);
	ck_abort_msg("a wild reference passed the check");
}
END_TEST

#if RGN_DEBUG >= 1
START_TEST(test_debug_locked_without_lock)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	rgn_lock(&rgn_blocks_g.lock);
	ck_assert_int_eq(rgn_blk_check_locked(), 0); /* held: fine */
	rgn_unlock(&rgn_blocks_g.lock);
	(void)rgn_blk_check_locked();
	ck_abort_msg("a _locked function ran without its lock");
}
END_TEST

START_TEST(test_debug_dead_handle)
{
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(rgn_strdup(r, "alive"));
	rgn_destroy(r);
	ck_assert_ptr_null(rgn_strdup(r, "dead"));
	ck_abort_msg("a destroyed region was used");
}
END_TEST

START_TEST(test_debug_ptr_beyond_high_water)
{
	tst_init(64 * MiB, 0);
	ck_assert_ptr_nonnull(rgn_new(NULL));
	(void)rgn_ptr(wild_ref());
	ck_abort_msg("rgn_ptr decoded a reference beyond the high-water mark");
}
END_TEST

static void ref_of_outside(const void *p)
{
	volatile rgn_ref ref;

	ck_assert_ptr_nonnull(rgn_new(NULL));
	ref = rgn_ref_of(p);
	(void)ref;
	ck_abort_msg("rgn_ref_of encoded a pointer outside the space");
}

START_TEST(test_debug_ref_of_stack)
{
	uint64_t local = 0;

	tst_init(64 * MiB, 0);
	ref_of_outside(&local);
}
END_TEST

START_TEST(test_debug_ref_of_malloc)
{
	tst_init(64 * MiB, 0);
	ref_of_outside(calloc(1, 64));
}
END_TEST

START_TEST(test_debug_ref_of_contig)
{
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = 4 * MiB };
	rgn_region *c;

	tst_init(64 * MiB, 0);
	c = rgn_new_with(NULL, &o);
	ck_assert_ptr_nonnull(c);
	ref_of_outside(rgn_alloc(c, 64));
}
END_TEST

START_TEST(test_debug_at_beyond_high_water)
{
	volatile char c;

	tst_init(64 * MiB, 0);
	ck_assert_int_eq(rgn_thread_init(), 0);
	ck_assert_ptr_nonnull(rgn_new(NULL));
	c = *RGN_AT(char, wild_ref());
	(void)c;
	ck_abort_msg("RGN_AT decoded a reference beyond the high-water mark");
}
END_TEST
#endif

#if RGN_DEBUG >= 3
START_TEST(test_debug_span_check_after_operation)
{
	uint32_t b;

	tst_init(64 * MiB, 0);
	b = rgn_blk_alloc(5, NULL);
	ck_assert_uint_ne(b, 0);
	rgn_blk_free(b, 5);
	/* a count that no longer matches the spans */
	rgn_lock(&rgn_blocks_g.lock);
	rgn_blocks_g.free_blocks++;
	rgn_unlock(&rgn_blocks_g.lock);
	(void)rgn_blk_alloc(5, NULL);
	ck_abort_msg("a span operation left a broken structure unnoticed");
}
END_TEST
#endif

Suite *suite_debug(void)
{
	Suite *s = suite_create("debug");
	TCase *tc = tcase_create("checks");

	tcase_add_test_raise_signal(tc, test_debug_ref_check_function, SIGABRT);
#if RGN_DEBUG >= 1
	tcase_add_test_raise_signal(tc, test_debug_locked_without_lock, SIGABRT);
	tcase_add_test_raise_signal(tc, test_debug_dead_handle, SIGABRT);
	tcase_add_test_raise_signal(tc, test_debug_ptr_beyond_high_water, SIGABRT);
	tcase_add_test_raise_signal(tc, test_debug_at_beyond_high_water, SIGABRT);
	tcase_add_test_raise_signal(tc, test_debug_ref_of_stack, SIGABRT);
	tcase_add_test_raise_signal(tc, test_debug_ref_of_malloc, SIGABRT);
	tcase_add_test_raise_signal(tc, test_debug_ref_of_contig, SIGABRT);
#endif
#if RGN_DEBUG >= 3
	tcase_add_test_raise_signal(tc, test_debug_span_check_after_operation, SIGABRT);
#endif
	suite_add_tcase(s, tc);
	return s;
}
