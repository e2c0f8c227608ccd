/*
 * test-heap.c - heap regions (RGN_BACKEND_HEAP): size classes, free and
 * realloc inside a region, large spans, what every region does (children,
 * cleanups, reset, destroy, statistics, references), what a heap region
 * refuses, exhaustion; and rgn_free / rgn_usable_size on the bump
 * backends.  The debug checks of a bad free are in the "heap-debug" case,
 * each in a forked child that must abort.
 */
#define _GNU_SOURCE
#include "suites.h"

#include <signal.h>

#define MiB ((size_t)1 << 20)
#define KiB ((size_t)1 << 10)

static rgn_region *heap_new(rgn_region *parent)
{
	rgn_region *r = rgn_new_with(parent, &(rgn_options){ .backend = RGN_BACKEND_HEAP });

	ck_assert_ptr_nonnull(r);
	return r;
}

/* Every size up to 32 KiB: at least what was asked, at most 12.5 % more
 * above 64 bytes (8 more at most below), 8-byte aligned, and the size is
 * what rgn_usable_size says. */
START_TEST(test_heap_size_classes)
{
	rgn_region *r;

	tst_init(256 * MiB, 0);
	r = heap_new(NULL);
	for (size_t n = 1; n <= 32 * KiB; n++) {
		char *p = rgn_alloc(r, n);
		size_t u;

		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % 8, 0);
		u = rgn_usable_size(r, p);
		ck_assert_uint_ge(u, n);
		if (n > 64)
			ck_assert_msg(u * 8 <= n * 9, "%zu bytes got %zu", n, u);
		else
			ck_assert_uint_lt(u, n + 8);
		p[0] = 1;
		p[u - 1] = 2; /* the whole class is the caller's */
		rgn_free(r, p, n);
	}
	ck_assert_uint_eq(tst_region(r).used, 0);
	rgn_destroy(r);
}
END_TEST

/* A freed object is the next one of its class; other classes do not
 * take it. */
START_TEST(test_heap_free_reuses)
{
	rgn_region *r;
	void *a, *b, *c;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	a = rgn_alloc(r, 100);
	b = rgn_alloc(r, 100);
	ck_assert_ptr_ne(a, b);
	rgn_free(r, a, 100);
	c = rgn_alloc(r, 300);
	ck_assert_ptr_ne(c, a);
	ck_assert_ptr_eq(rgn_alloc(r, 99), a); /* same class as 100 */
	rgn_free(r, b, 0);                     /* size unknown: fine */
	ck_assert_ptr_eq(rgn_alloc(r, 100), b);
	rgn_destroy(r);
}
END_TEST

/* Objects stay intact while others of their class come and go. */
START_TEST(test_heap_churn_keeps_contents)
{
	enum { N = 4000 };
	static void *p[N];
	static size_t n[N];
	uint64_t seed = 7;
	rgn_region *r;

	tst_init(256 * MiB, 0);
	r = heap_new(NULL);
	for (int step = 0, steps = tst_vg() ? 10000 : 60000; step < steps; step++) {
		size_t i = tst_range(&seed, 0, N - 1);
		if (p[i]) {
			ck_assert(tst_verify(p[i], n[i], (unsigned)i));
			rgn_free(r, p[i], n[i]);
			p[i] = NULL;
		} else {
			n[i] = tst_range(&seed, 1, tst_range(&seed, 0, 20) ? 600 : 70000);
			p[i] = rgn_alloc(r, n[i]);
			ck_assert_ptr_nonnull(p[i]);
			tst_fill(p[i], n[i], (unsigned)i);
		}
	}
	for (size_t i = 0; i < N; i++)
		if (p[i])
			ck_assert(tst_verify(p[i], n[i], (unsigned)i));
	rgn_destroy(r);
}
END_TEST

/* Above 32 KiB: a span of its own, whose blocks go back when freed. */
START_TEST(test_heap_large_spans)
{
	struct rgn_region_stats st;
	rgn_region *r;
	size_t blocks;
	char *p;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	ck_assert_ptr_nonnull(rgn_alloc(r, 16));
	blocks = tst_region(r).blocks;
	p = rgn_alloc(r, 100 * KiB);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % RGN_BLOCK_SIZE, 0);
	ck_assert_uint_eq(rgn_usable_size(r, p), 100 * KiB);
	st = tst_region(r);
	ck_assert_uint_eq(st.large, 1);
	ck_assert_uint_eq(st.blocks, blocks + 25);
	p[100 * KiB - 1] = 1;
	rgn_free(r, p, 100 * KiB);
	st = tst_region(r);
	ck_assert_uint_eq(st.large, 0);
	ck_assert_uint_eq(st.blocks, blocks);
	ck_assert_uint_eq(st.used, 16);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_heap_realloc)
{
	rgn_region *r;
	char *p, *q;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	/* NULL: an allocation */
	p = rgn_realloc(r, NULL, 0, 100);
	ck_assert_ptr_nonnull(p);
	tst_fill(p, 100, 1);
	/* within the class (100 -> 104): in place */
	ck_assert_ptr_eq(rgn_realloc(r, p, 100, 104), p);
	/* larger: moved, contents kept, old object freed */
	q = rgn_realloc(r, p, 100, 1000);
	ck_assert_ptr_ne(q, p);
	ck_assert(tst_verify(q, 100, 1));
	ck_assert_ptr_eq(rgn_alloc(r, 100), p);
	/* shrink to under half the class: moved to a smaller class */
	p = rgn_realloc(r, q, 1000, 40);
	ck_assert_ptr_ne(p, q);
	ck_assert(tst_verify(p, 40, 1));
	ck_assert_uint_eq(rgn_usable_size(r, p), 40);
	/* old size unknown: the class's bytes are copied */
	q = rgn_realloc(r, p, 0, 5000);
	ck_assert(tst_verify(q, 40, 1));
	/* into a span and back */
	tst_fill(q, 5000, 2);
	p = rgn_realloc(r, q, 5000, 200 * KiB);
	ck_assert(tst_verify(p, 5000, 2));
	q = rgn_realloc(r, p, 200 * KiB, 100 * KiB); /* a span shrinks in place */
	ck_assert_uint_eq(tst_addr(q), tst_addr(p));
	ck_assert_uint_eq(rgn_usable_size(r, q), 100 * KiB);
	p = rgn_realloc(r, q, 100 * KiB, 3000);
	ck_assert_ptr_ne(p, q);
	ck_assert(tst_verify(p, 3000, 2));
	ck_assert_uint_eq(tst_region(r).large, 0);
	/* 0 keeps an object */
	q = rgn_realloc(r, p, 3000, 0);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_ge(rgn_usable_size(r, q), 1);
	rgn_destroy(r);
}
END_TEST

/* A span grows into the free blocks after it without moving. */
START_TEST(test_heap_realloc_span_in_place)
{
	rgn_region *r;
	char *p, *q;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	p = rgn_alloc(r, 64 * KiB);
	tst_fill(p, 64 * KiB, 3);
	q = rgn_realloc(r, p, 64 * KiB, 256 * KiB);
	ck_assert_uint_eq(tst_addr(q), tst_addr(p)); /* the blocks after it were never carved */
	ck_assert_uint_eq(rgn_usable_size(r, q), 256 * KiB);
	ck_assert(tst_verify(q, 64 * KiB, 3));
	q[256 * KiB - 1] = 1;
	rgn_destroy(r);
}
END_TEST

/* Failure leaves the object as it was. */
START_TEST(test_heap_realloc_failure_keeps_object)
{
	volatile size_t huge = SIZE_MAX; /* no compile-time size warning */
	rgn_region *r;
	char *p;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	p = rgn_alloc(r, 300);
	tst_fill(p, 300, 4);
	tst_null_with(rgn_realloc(r, p, 300, (size_t)1 << 40), ENOMEM);
	tst_null_with(rgn_realloc(r, p, 300, huge), ENOMEM);
	ck_assert(tst_verify(p, 300, 4));
	ck_assert_uint_eq(rgn_usable_size(r, p), 320);
	tst_null_with(rgn_alloc(r, huge), ENOMEM);
	rgn_free(r, p, 300);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_heap_bad_input)
{
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	rgn_free(r, NULL, 0);
	rgn_free(r, NULL, 100);
	rgn_free(NULL, NULL, 0);
	ck_assert_uint_eq(rgn_usable_size(r, NULL), 0);
	ck_assert_uint_eq(rgn_usable_size(NULL, r), 0);
	tst_null_with(rgn_realloc(NULL, NULL, 0, 8), EINVAL);
	ck_assert_uint_eq(tst_region(r).used, 0);
	rgn_destroy(r);
}
END_TEST

static void count_cleanup(void *arg)
{
	++*(int *)arg;
}

/* Children, cleanups, reset, statistics, references: as every region. */
START_TEST(test_heap_region_functions)
{
	struct rgn_region_stats st;
	rgn_region *r, *c;
	int ran = 0;
	void *p, *q;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	c = heap_new(r);
	ck_assert_int_eq(rgn_on_destroy(r, count_cleanup, &ran), 0);
	p = rgn_alloc(r, 48);
	q = rgn_calloc(r, 10, 100);
	ck_assert_ptr_nonnull(q);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(((char *)q)[i], 0);
	ck_assert_ptr_eq(rgn_ptr(rgn_ref_of(p)), p);
	ck_assert_str_eq(rgn_format(r, "%d-%s", 42, "x"), "42-x");
	ck_assert_str_eq(rgn_strdup(c, "child"), "child");
	st = tst_region(r);
	ck_assert_int_eq(st.backend, RGN_BACKEND_HEAP);
	ck_assert_uint_eq(st.children, 1);
	ck_assert_uint_eq(st.subtree_regions, 2);
	ck_assert_uint_ge(st.used, 48 + 1008 + 8);
	rgn_reset(r); /* destroys c, runs the cleanup, frees everything */
	ck_assert_int_eq(ran, 1);
	st = tst_region(r);
	ck_assert_uint_eq(st.used, 0);
	ck_assert_uint_eq(st.children, 0);
	ck_assert_uint_eq(st.blocks, 1);
	/* usable again; a freed object after the reset is not remembered */
	q = rgn_calloc(r, 1, 48);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(((char *)q)[47], 0);
	rgn_destroy(r);
}
END_TEST

/* A region of a million objects goes back whole, in a few spans. */
START_TEST(test_heap_destroy_gives_back)
{
	struct rgn_space_stats before, after;
	rgn_region *r;

	tst_init(256 * MiB, 0);
	rgn_space_trim();
	before = tst_space();
	r = heap_new(NULL);
	for (int i = 0, n = tst_vg() ? 100000 : 1000000; i < n; i++)
		ck_assert_ptr_nonnull(rgn_alloc(r, 16 + (size_t)(i % 7) * 8));
	ck_assert_uint_le(tst_region(r).chunks, 60); /* chunks grow to 1 MiB */
	rgn_destroy(r);
	rgn_space_trim();
	after = tst_space();
	ck_assert_uint_eq(after.used_blocks, before.used_blocks);
	tst_space_consistent(&after);
}
END_TEST

/* Alignment up to a block from size classes, beyond from spans. */
START_TEST(test_heap_aligned)
{
	static const size_t aligns[] = { 16, 32, 64, 256, 4096, 8192, 65536 };
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
		for (size_t n = 1; n < 5000; n += 1237) {
			char *p = rgn_alloc_aligned(r, n, aligns[i]);
			ck_assert_ptr_nonnull(p);
			ck_assert_uint_eq((uintptr_t)p % aligns[i], 0);
			ck_assert_uint_ge(rgn_usable_size(r, p), n);
			p[n - 1] = 1;
			rgn_free(r, p, n);
		}
	}
	ck_assert_uint_eq(tst_region(r).used, 0);
	rgn_destroy(r);
}
END_TEST

/* What a heap region cannot do, it refuses. */
START_TEST(test_heap_refuses)
{
	rgn_region *r, *b;
	size_t avail;
	rgn_mark m;

	tst_init(64 * MiB, 0);
	r = heap_new(NULL);
	b = heap_new(NULL);
	m = rgn_save(r);
	ck_assert_ptr_nonnull(rgn_alloc(r, 10));
	tst_fails_with(rgn_rewind(r, m), ENOTSUP);
	tst_null_with(rgn_tail(r, 100, &avail), ENOTSUP);
	tst_fails_with(rgn_tail_commit(r, 0), EINVAL);
	tst_fails_with(rgn_merge(r, b), ENOTSUP);
	ck_assert_int_eq(rgn_adopt(r, b), 0);
	rgn_destroy(r);
}
END_TEST

/* Exhaustion is ENOMEM; freeing makes room again; destroy still works. */
START_TEST(test_heap_exhaustion)
{
	enum { MAXP = 1 << 16 };
	static void *p[MAXP];
	size_t n = 0;
	rgn_region *r;

	tst_init(16 * MiB, 0);
	r = heap_new(NULL);
	for (;;) {
		ck_assert_uint_lt(n, MAXP);
		errno = 0;
		p[n] = rgn_alloc(r, 1000);
		if (!p[n])
			break;
		n++;
	}
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_gt(n, 10000);
	rgn_free(r, p[n / 2], 1000);
	ck_assert_ptr_eq(rgn_alloc(r, 1000), p[n / 2]);
	rgn_destroy(r);
	r = heap_new(NULL);
	ck_assert_ptr_nonnull(rgn_alloc(r, 1 * MiB));
	rgn_destroy(r);
}
END_TEST

/* Bump regions: rgn_free gives back only the last allocation of a known
 * size; rgn_usable_size does not know sizes. */
START_TEST(test_heap_bump_free)
{
	rgn_region *r;
	char *a, *b, *c;

	tst_init(64 * MiB, 0);
	r = tst_backend_region(NULL, 16 * MiB);
	ck_assert_ptr_nonnull(r);
	a = rgn_alloc(r, 40);
	b = rgn_alloc(r, 24);
	rgn_free(r, a, 40); /* not the last: nothing */
	rgn_free(r, b, 0);  /* size unknown: nothing */
	c = rgn_alloc(r, 8);
	ck_assert_ptr_eq(c, b + 24);
	rgn_free(r, c, 8);
	ck_assert_ptr_eq(rgn_alloc(r, 16), c);
	ck_assert_uint_eq(rgn_usable_size(r, a), 0);
	rgn_destroy(r);
}
END_TEST

#if RGN_DEBUG >= 1
/* Each frees something that is not a live object of the region. */
START_TEST(test_heap_debug_double_free)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = heap_new(NULL);
	void *p = rgn_alloc(r, 100);
	rgn_free(r, p, 100);
	rgn_free(r, p, 100);
}
END_TEST

START_TEST(test_heap_debug_interior)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = heap_new(NULL);
	char *p = rgn_alloc(r, 100);
	rgn_free(r, p + 8, 0);
}
END_TEST

START_TEST(test_heap_debug_other_region)
{
	tst_init(64 * MiB, 0);
	rgn_region *a = heap_new(NULL), *b = heap_new(NULL);
	void *p = rgn_alloc(a, 100);
	rgn_free(b, p, 100);
}
END_TEST

START_TEST(test_heap_debug_bump_pointer)
{
	tst_init(64 * MiB, 0);
	rgn_region *a = rgn_new(NULL), *b = heap_new(NULL);
	void *p = rgn_alloc(a, 100);
	void *q = rgn_realloc(b, p, 100, 200);

	ck_abort_msg("resized %p", q);
}
END_TEST

START_TEST(test_heap_debug_stack_pointer)
{
	char buf[64];

	tst_init(64 * MiB, 0);
	rgn_region *r = heap_new(NULL);
	(void)rgn_usable_size(r, buf);
}
END_TEST

START_TEST(test_heap_debug_large_twice)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = heap_new(NULL);
	void *p = rgn_alloc(r, 100 * KiB);
	rgn_free(r, p, 0);
	rgn_free(r, p, 0);
}
END_TEST

START_TEST(test_heap_debug_after_reset)
{
	tst_init(64 * MiB, 0);
	rgn_region *r = heap_new(NULL);
	void *p = rgn_alloc(r, 100);
	rgn_reset(r);
	rgn_free(r, p, 100);
}
END_TEST
#endif

Suite *suite_heap(void)
{
	Suite *s = suite_create("heap");
	TCase *tc = tcase_create("heap");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_heap_size_classes);
	tcase_add_test(tc, test_heap_free_reuses);
	tcase_add_test(tc, test_heap_churn_keeps_contents);
	tcase_add_test(tc, test_heap_large_spans);
	tcase_add_test(tc, test_heap_realloc);
	tcase_add_test(tc, test_heap_realloc_span_in_place);
	tcase_add_test(tc, test_heap_realloc_failure_keeps_object);
	tcase_add_test(tc, test_heap_bad_input);
	tcase_add_test(tc, test_heap_region_functions);
	tcase_add_test(tc, test_heap_destroy_gives_back);
	tcase_add_test(tc, test_heap_aligned);
	tcase_add_test(tc, test_heap_refuses);
	tcase_add_test(tc, test_heap_exhaustion);
	suite_add_tcase(s, tc);

	suite_add_tcase(s, tc = tst_backend_tcase("heap-bump-blocks", RGN_BACKEND_BLOCKS));
	tcase_add_test(tc, test_heap_bump_free);
	suite_add_tcase(s, tc = tst_backend_tcase("heap-bump-contig", RGN_BACKEND_CONTIG));
	tcase_add_test(tc, test_heap_bump_free);

#if RGN_DEBUG >= 1
	tc = tcase_create("heap-debug");
	tcase_add_test_raise_signal(tc, test_heap_debug_double_free, SIGABRT);
	tcase_add_test_raise_signal(tc, test_heap_debug_interior, SIGABRT);
	tcase_add_test_raise_signal(tc, test_heap_debug_other_region, SIGABRT);
	tcase_add_test_raise_signal(tc, test_heap_debug_bump_pointer, SIGABRT);
	tcase_add_test_raise_signal(tc, test_heap_debug_stack_pointer, SIGABRT);
	tcase_add_test_raise_signal(tc, test_heap_debug_large_twice, SIGABRT);
	tcase_add_test_raise_signal(tc, test_heap_debug_after_reset, SIGABRT);
	suite_add_tcase(s, tc);
#endif
	return s;
}
