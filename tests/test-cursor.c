/*
 * test-cursor.c - cursors (rgn_cursor_open, _alloc, _both, _ref, _close)
 * and the allocations that give references (rgn_alloc_both,
 * rgn_alloc_ref), on every backend: what they hand out, the hand-back at
 * close, errors.  The debug checks of a region used while its cursor is
 * out are in the "cursor-debug" case, each in a forked child that must
 * abort.
 */
#define _GNU_SOURCE
#include "suites.h"

#include <signal.h>

static const rgn_backend backends[] = {
	RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, RGN_BACKEND_HEAP
};
#define NBACKENDS (sizeof backends / sizeof *backends)

static rgn_region *region_of(rgn_backend b)
{
	rgn_options o = { .backend = b, .reserve = 256 * MiB };
	rgn_region *r = rgn_new_with(NULL, &o);

	ck_assert_ptr_nonnull(r);
	return r;
}

/* Object i's size: small ones of every granule count, and now and then
 * one larger than a block backend's chunk (a span of its own). */
static size_t size_of(size_t i)
{
	return i % 97 == 0 ? 100 * KiB + i : 1 + (i * 37) % 300;
}

/* Thousands of objects through a cursor, then more through rgn_alloc
 * after the close: every object keeps its bytes (nothing handed out
 * twice, the region's own cursor picks up where the cursor left it), every
 * reference is the region's for the pointer, and used counts them all. */
START_TEST(test_cursor_fill)
{
	enum { N = 4000, M = 500 };
	static unsigned char *ptr[N + M];

	tst_init(1 * GiB, 0);
	for (size_t k = 0; k < NBACKENDS; k++) {
		rgn_region *r = region_of(backends[k]);
		rgn_cursor c = rgn_cursor_open(r);
		size_t total = 0;

		for (size_t i = 0; i < N + M; i++) {
			size_t n = size_of(i);
			rgn_ref ref = RGN_NULL_REF;

			if (i == N)
				rgn_cursor_close(&c);
			if (i < N && i % 2)
				ptr[i] = rgn_cursor_both(&c, n, &ref);
			else if (i < N)
				ptr[i] = rgn_cursor_alloc(&c, n);
			else
				ptr[i] = rgn_alloc_both(r, n, &ref);
			ck_assert_ptr_nonnull(ptr[i]);
			ck_assert_uint_eq((uintptr_t)ptr[i] % 8, 0);
			if (ref != RGN_NULL_REF) {
				ck_assert_uint_eq(ref, rgn_ref_in(r, ptr[i]));
				ck_assert_ptr_eq(rgn_ptr_in(r, ref), ptr[i]);
			}
			memset(ptr[i], (int)(i & 0xff), n);
			total += n;
		}
		for (size_t i = 0; i < N + M; i++) {
			size_t n = size_of(i);

			for (size_t j = 0; j < n; j += 61)
				ck_assert_msg(ptr[i][j] == (unsigned char)(i & 0xff),
				              "backend %d object %zu byte %zu overwritten",
				              backends[k], i, j);
		}
		ck_assert_uint_ge(tst_region(r).used, total);
		rgn_destroy(r);
	}
}
END_TEST

/* Sizes known at compile time take the inline path's other test (an add
 * and a compare): objects of 24 and 40 bytes, through a cursor and
 * through rgn_alloc, over many chunks, each keep their bytes (an object
 * that overran its chunk's end would meet the next chunk's first one, or
 * fault). */
START_TEST(test_cursor_constant_sizes)
{
	enum { N = 20000 };
	static unsigned char *p[N];

	tst_init(256 * MiB, 0);
	for (size_t k = 0; k < 2; k++) {
		rgn_region *r = region_of(backends[k]);
		rgn_cursor c = rgn_cursor_open(r);

		for (size_t i = 0; i < N; i++) {
			if (i == N / 2)
				rgn_cursor_close(&c);
			p[i] = i < N / 2 ? rgn_cursor_alloc(&c, 24) : rgn_alloc(r, 40);
			ck_assert_ptr_nonnull(p[i]);
			memset(p[i], (int)(i & 0xff), i < N / 2 ? 24 : 40);
		}
		for (size_t i = 0; i < N; i++) {
			size_t n = i < N / 2 ? 24 : 40;

			ck_assert_msg(p[i][0] == (unsigned char)(i & 0xff) &&
			              p[i][n - 1] == (unsigned char)(i & 0xff),
			              "object %zu overwritten", i);
		}
		rgn_destroy(r);
	}
}
END_TEST

/* Close hands the bump pointer back: in a bump region the next rgn_alloc
 * starts right after the cursor's last object. */
START_TEST(test_cursor_hand_back)
{
	tst_init(64 * MiB, 0);
	for (size_t k = 0; k < 2; k++) {
		rgn_region *r = region_of(backends[k]);
		rgn_cursor c = rgn_cursor_open(r);
		char *a = rgn_cursor_alloc(&c, 24);
		char *b = rgn_cursor_alloc(&c, 8);
		char *d;

		ck_assert_ptr_eq(b, a + 24);
		rgn_cursor_close(&c);
		d = rgn_alloc(r, 8);
		ck_assert_ptr_eq(d, b + 8);
		/* and a second cursor starts from there */
		c = rgn_cursor_open(r);
		ck_assert_ptr_eq(rgn_cursor_alloc(&c, 1), d + 8);
		rgn_cursor_close(&c);
		rgn_destroy(r);
	}
}
END_TEST

/* A heap region's cursor allocates from the size classes: its objects are
 * freed one by one after the close, and reused. */
START_TEST(test_cursor_heap)
{
	rgn_region *r;
	rgn_cursor c;
	void *p[64];

	tst_init(64 * MiB, 0);
	r = region_of(RGN_BACKEND_HEAP);
	c = rgn_cursor_open(r);
	for (int i = 0; i < 64; i++) {
		p[i] = rgn_cursor_alloc(&c, 48);
		ck_assert_ptr_nonnull(p[i]);
	}
	rgn_cursor_close(&c);
	ck_assert_uint_eq(rgn_usable_size(r, p[0]), 48);
	rgn_free(r, p[63], 48);
	ck_assert_ptr_eq(rgn_alloc(r, 48), p[63]);
	rgn_destroy(r);
}
END_TEST

/* n == 0 gives distinct objects, as rgn_alloc does. */
START_TEST(test_cursor_zero)
{
	tst_init(64 * MiB, 0);
	for (size_t k = 0; k < NBACKENDS; k++) {
		rgn_region *r = region_of(backends[k]);
		rgn_cursor c = rgn_cursor_open(r);
		char *a = rgn_cursor_alloc(&c, 0), *b = rgn_cursor_alloc(&c, 0);

		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ck_assert_ptr_ne(a, b);
		rgn_cursor_close(&c);
		rgn_destroy(r);
	}
}
END_TEST

/* Errors: a NULL region's cursor fails every allocation with EINVAL; a
 * request the region cannot hold is ENOMEM, with RGN_NULL_REF, and the
 * cursor goes on working. */
START_TEST(test_cursor_errors)
{
	rgn_cursor c = rgn_cursor_open(NULL);
	rgn_region *r;
	rgn_ref ref = 1;

	tst_init(64 * MiB, 0);
	tst_null_with(rgn_cursor_alloc(&c, 8), EINVAL);
	tst_null_with(rgn_cursor_both(&c, 8, &ref), EINVAL);
	ck_assert_uint_eq(ref, RGN_NULL_REF);
	tst_zero_with(rgn_cursor_ref(&c, 8), EINVAL);
	rgn_cursor_close(&c);

	for (size_t k = 0; k < NBACKENDS; k++) {
		r = region_of(backends[k]);
		c = rgn_cursor_open(r);
		ref = 1;
		tst_null_with(rgn_cursor_both(&c, 512 * MiB, &ref), ENOMEM);
		ck_assert_uint_eq(ref, RGN_NULL_REF);
		tst_zero_with(rgn_cursor_ref(&c, SIZE_MAX - 64), ENOMEM);
		ck_assert_uint_ne(rgn_cursor_ref(&c, 16), RGN_NULL_REF);
		rgn_cursor_close(&c);
		rgn_destroy(r);
	}
}
END_TEST

/* rgn_alloc_both and rgn_alloc_ref: the reference is rgn_ref_in's (the
 * shared space's, rgn_ref_of, for a block region); failures give
 * RGN_NULL_REF and errno. */
START_TEST(test_alloc_ref)
{
	rgn_ref ref = 1;

	tst_init(64 * MiB, 0);
	tst_null_with(rgn_alloc_both(NULL, 8, &ref), EINVAL);
	ck_assert_uint_eq(ref, RGN_NULL_REF);
	tst_zero_with(rgn_alloc_ref(NULL, 8), EINVAL);
	for (size_t k = 0; k < NBACKENDS; k++) {
		rgn_region *r = region_of(backends[k]);
		char *p = rgn_alloc_both(r, 40, &ref);
		rgn_ref only = rgn_alloc_ref(r, 8);

		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(ref, rgn_ref_in(r, p));
		if (backends[k] != RGN_BACKEND_CONTIG)
			ck_assert_uint_eq(ref, rgn_ref_of(p));
		ck_assert_uint_ne(only, RGN_NULL_REF);
		ck_assert_uint_ne(only, ref);
		*(uint64_t *)rgn_ptr_in(r, only) = 7;
		ck_assert_uint_eq(*(uint64_t *)rgn_ptr_in(r, only), 7);
		ref = 1;
		tst_null_with(rgn_alloc_both(r, 512 * MiB, &ref), ENOMEM);
		ck_assert_uint_eq(ref, RGN_NULL_REF);
		rgn_destroy(r);
	}
}
END_TEST

#if RGN_DEBUG >= 1
/* With the debug checks, only the cursor may use its region, and only
 * between open and close: each of these aborts with a message. */
START_TEST(test_cursor_debug_alloc_while_out)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = rgn_new(NULL);
	rgn_cursor c = rgn_cursor_open(r);
	void *p = rgn_cursor_alloc(&c, 8);
	void *q = rgn_alloc(r, 8);

	ck_abort_msg("allocated %p and %p", p, q);
}
END_TEST

START_TEST(test_cursor_debug_second)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = rgn_new(NULL);
	rgn_cursor a = rgn_cursor_open(r);
	rgn_cursor b = rgn_cursor_open(r);

	ck_abort_msg("two cursors %p %p", (void *)a.r_, (void *)b.r_);
}
END_TEST

START_TEST(test_cursor_debug_destroy_while_out)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = rgn_new(NULL);
	rgn_cursor c = rgn_cursor_open(r);

	rgn_destroy(r);
	ck_abort_msg("destroyed under cursor %p", (void *)c.r_);
}
END_TEST

START_TEST(test_cursor_debug_child_while_out)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = rgn_new(NULL);
	rgn_cursor c = rgn_cursor_open(r);
	rgn_region *child = rgn_new(r);

	ck_abort_msg("child %p under cursor %p", (void *)child, (void *)c.r_);
}
END_TEST

START_TEST(test_cursor_debug_after_close)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = rgn_new(NULL);
	rgn_cursor c = rgn_cursor_open(r);
	void *p;

	rgn_cursor_close(&c);
	ck_assert_ptr_nonnull(rgn_alloc(r, 8));
	p = rgn_cursor_alloc(&c, 8);
	ck_abort_msg("spent cursor gave %p", p);
}
END_TEST

START_TEST(test_cursor_debug_close_twice)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = rgn_new(NULL);
	rgn_cursor c = rgn_cursor_open(r), copy = c;

	rgn_cursor_close(&c);
	rgn_cursor_close(&copy);
	ck_abort_msg("closed twice");
}
END_TEST

/* ... and what stays allowed: the reference functions while out, and a
 * region used normally again after the close. */
START_TEST(test_cursor_debug_allowed)
{
	rgn_region *r;
	rgn_cursor c;
	char *p;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	c = rgn_cursor_open(r);
	p = rgn_cursor_alloc(&c, 16);
	ck_assert_ptr_eq(rgn_ptr_in(r, rgn_ref_in(r, p)), p);
	for (int i = 0; i < 10000; i++)   /* across chunks, marked throughout */
		ck_assert_ptr_nonnull(rgn_cursor_alloc(&c, 64));
	rgn_cursor_close(&c);
	ck_assert_ptr_nonnull(rgn_alloc(r, 8));
	/* statistics work again, and count what the cursor handed out */
	ck_assert_uint_ge(tst_region(r).used, 16 + 10000 * 64 + 8);
	rgn_destroy(r);
}
END_TEST
#endif

Suite *suite_cursor(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc = tcase_create("cursor");

	tcase_add_test(tc, test_cursor_fill);
	tcase_add_test(tc, test_cursor_hand_back);
	tcase_add_test(tc, test_cursor_constant_sizes);
	tcase_add_test(tc, test_cursor_heap);
	tcase_add_test(tc, test_cursor_zero);
	tcase_add_test(tc, test_cursor_errors);
	tcase_add_test(tc, test_alloc_ref);
	suite_add_tcase(s, tc);
#if RGN_DEBUG >= 1
	tc = tcase_create("cursor-debug");
	tcase_add_test_raise_signal(tc, test_cursor_debug_alloc_while_out, SIGABRT);
	tcase_add_test_raise_signal(tc, test_cursor_debug_second, SIGABRT);
	tcase_add_test_raise_signal(tc, test_cursor_debug_destroy_while_out, SIGABRT);
	tcase_add_test_raise_signal(tc, test_cursor_debug_child_while_out, SIGABRT);
	tcase_add_test_raise_signal(tc, test_cursor_debug_after_close, SIGABRT);
	tcase_add_test_raise_signal(tc, test_cursor_debug_close_twice, SIGABRT);
	tcase_add_test(tc, test_cursor_debug_allowed);
	suite_add_tcase(s, tc);
#endif
	return s;
}
