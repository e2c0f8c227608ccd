/*
 * test-ref.c - 32-bit references: encoding and decoding, RGN_AT on
 * structures linked by references, and the null reference faulting.
 * Public API only.
 */
#define _GNU_SOURCE
#include "suites.h"
#include "internal.h"   /* rgn_space_base_h_, in every decode mode */

#include <signal.h>

START_TEST(test_ref_null)
{
	ck_assert_uint_eq(rgn_ref_of(NULL), 0);
	ck_assert_uint_eq(RGN_NULL_REF, 0);
	ck_assert_uint_eq(sizeof(rgn_ref), 4);
	tst_init(16 * MiB, 0);
	ck_assert_uint_eq(rgn_ref_of(NULL), RGN_NULL_REF);
}
END_TEST

START_TEST(test_ref_base)
{
	struct rgn_space_stats st;
	rgn_ref rb;

	tst_init(64 * MiB, 0);
	st = tst_space();
	rb = tst_ref0();
	ck_assert_ptr_eq(rgn_space_base_h_, st.base);
#ifdef RGN_DECODE_ZERO
	ck_assert_uint_eq(rb, (uintptr_t)st.base / 8);
#else
	ck_assert_uint_eq(rb, 0);
#endif
	ck_assert_ptr_eq(rgn_ptr(rb), st.base);
	ck_assert_ptr_eq(rgn_ptr(rb + 1), (char *)st.base + 8);
	/* block 1 exists once something was allocated (a checking build
	 * refuses references beyond the high-water mark: test-debug.c) */
	ck_assert_ptr_nonnull(rgn_new(NULL));
	ck_assert_ptr_eq(rgn_ptr(rb + 512), (char *)st.base + RGN_BLOCK_SIZE);
	ck_assert_uint_eq(rgn_ref_of((char *)st.base + RGN_BLOCK_SIZE), rb + 512);
}
END_TEST

START_TEST(test_ref_roundtrip)
{
	enum { N = 20000 };
	const size_t size = 256 * MiB;
	uint64_t seed = 3;
	rgn_region *r;

	rgn_ref rb;

	tst_init(size, 0);
	rb = tst_ref0();
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < N; i++) {
		unsigned kind = (unsigned)(tst_rand(&seed) % 100);
		size_t n = kind == 0 ? tst_range(&seed, 33 * KiB, 200 * KiB)
		                     : tst_range(&seed, 0, 300);
		char *p = kind == 1 ? rgn_alloc_aligned(r, n, (size_t)1 << tst_range(&seed, 3, 16))
		                    : rgn_alloc(r, n);
		rgn_ref ref;

		ck_assert_ptr_nonnull(p);
		ref = rgn_ref_of(p);
		ck_assert_uint_ne(ref, RGN_NULL_REF);
		ck_assert_uint_ge(ref - rb, RGN_BLOCK_SIZE / RGN_GRANULE); /* not block 0 */
		ck_assert_uint_lt(ref - rb, size / RGN_GRANULE);
		ck_assert_ptr_eq(rgn_ptr(ref), p);
		*p = (char)i;
		ck_assert_int_eq(*RGN_AT(char, ref), (char)i);
	}
	/* and the other way round, for any granule of the space (below its
	 * high-water mark in a checking build, which refuses the others) */
	for (int i = 0; i < N; i++) {
#ifdef RGN_CHECKS_
		size_t top = tst_space().high_water_blocks * (RGN_BLOCK_SIZE / RGN_GRANULE);
#else
		size_t top = size / RGN_GRANULE;
#endif
		rgn_ref x = rb + (rgn_ref)tst_range(&seed, 1, top - 1);
		ck_assert_uint_eq(rgn_ref_of(rgn_ptr(x)), x);
	}
	rgn_destroy(r);
}
END_TEST

START_TEST(test_ref_granules)
{
	rgn_region *r;
	char *p, *q, *w;

	tst_init(16 * MiB, 0);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	p = rgn_alloc(r, 8);
	q = rgn_alloc(r, 8);
	w = rgn_alloc(r, 24);
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(rgn_ref_of(q), rgn_ref_of(p) + 1);
	ck_assert_uint_eq(rgn_ref_of(w), rgn_ref_of(q) + 1);
	ck_assert_ptr_eq(rgn_ptr(rgn_ref_of(w) + 2), w + 16);
	rgn_destroy(r);
}
END_TEST

/* A list cell and a tree node, linked by references only. */
struct cell {
	rgn_ref next;
	rgn_ref value;      /* -> int64_t */
};

struct tnode {
	rgn_ref left, right;
	int64_t key;
};

static rgn_ref tree_insert(rgn_region *r, rgn_ref root, int64_t key)
{
	struct tnode *n;
	rgn_ref at = root, *link = NULL;

	while (at) {
		struct tnode *t = rgn_ptr(at);
		link = key < t->key ? &t->left : &t->right;
		at = *link;
	}
	n = rgn_alloc(r, sizeof *n);
	ck_assert_ptr_nonnull(n);
	n->left = n->right = RGN_NULL_REF;
	n->key = key;
	if (link)
		*link = rgn_ref_of(n);
	return root ? root : rgn_ref_of(n);
}

static void tree_walk(rgn_ref at, int64_t *out, size_t *n)
{
	if (!at)
		return;
	tree_walk(RGN_AT(struct tnode, at)->left, out, n);
	out[(*n)++] = RGN_AT(struct tnode, at)->key;
	tree_walk(RGN_AT(struct tnode, at)->right, out, n);
}

START_TEST(test_ref_linked_structures)
{
	enum { N = 2000 };
	static int64_t keys[N];
	uint64_t seed = 11;
	rgn_ref head = RGN_NULL_REF, root = RGN_NULL_REF;
	int64_t sum = 0, want = 0;
	size_t count = 0;
	rgn_region *r;

	ck_assert_uint_eq(sizeof(struct cell), 8);
	tst_init(16 * MiB, 0);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);

	/* a list, pushed at the front, values in their own allocations */
	for (int64_t i = 1; i <= N; i++) {
		struct cell *c = rgn_alloc(r, sizeof *c);
		int64_t *v = rgn_alloc(r, sizeof *v);

		ck_assert_ptr_nonnull(c);
		ck_assert_ptr_nonnull(v);
		*v = i * i;
		want += i * i;
		c->value = rgn_ref_of(v);
		c->next = head;
		head = rgn_ref_of(c);
	}
	for (rgn_ref at = head; at; at = RGN_AT(struct cell, at)->next) {
		sum += *RGN_AT(int64_t, RGN_AT(struct cell, at)->value);
		count++;
	}
	ck_assert_uint_eq(count, N);
	ck_assert_int_eq(sum, want);
	ck_assert_int_eq(*RGN_AT(int64_t, RGN_AT(struct cell, head)->value),
	                 (int64_t)N * N);

	/* a binary search tree: an in-order walk gives the keys sorted */
	for (int i = 0; i < N; i++)
		root = tree_insert(r, root, (int64_t)(tst_rand(&seed) % 100000) - 50000);
	count = 0;
	tree_walk(root, keys, &count);
	ck_assert_uint_eq(count, N);
	for (int i = 1; i < N; i++)
		ck_assert_int_le(keys[i - 1], keys[i]);
	rgn_destroy(r);
}
END_TEST

/* Memory written through the pointer reads back through its reference,
 * in the same function: the stores must not be dropped as dead (they are
 * if the compiler may assume nothing else reaches the allocation). */
START_TEST(test_ref_alias)
{
	rgn_region *r;
	struct cell *c;
	int64_t *v;
	rgn_ref cref, vref;

	tst_init(16 * MiB, 0);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	c = rgn_alloc(r, sizeof *c);
	v = rgn_alloc(r, sizeof *v);
	/* no ck_assert_ptr_*: passing c or v to a function would hide the
	 * problem this test is about */
	if (!c || !v)
		ck_abort_msg("rgn_alloc failed");
	c->next = 5;
	c->value = 77;
	*v = -3;
	cref = rgn_ref_of(c);
	vref = rgn_ref_of(v);
	RGN_FLAT_BARRIER(); /* see rgn/decode.h: a no-op but in mode gs */
	ck_assert_uint_eq(RGN_AT(struct cell, cref)->next, 5);
	ck_assert_uint_eq(RGN_AT(struct cell, cref)->value, 77);
	ck_assert_int_eq(*RGN_AT(int64_t, vref), -3);

	/* and written through the reference, read through the pointer */
	RGN_AT(struct cell, cref)->next = 6;
	RGN_FLAT_BARRIER();
	ck_assert_uint_eq(c->next, 6);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_ref_survive_merge)
{
	rgn_region *a, *b;
	struct cell *c;
	int64_t *v;
	rgn_ref ref;

	tst_init(16 * MiB, 0);
	a = rgn_new(NULL);
	b = rgn_new(NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	v = rgn_alloc(b, sizeof *v);
	*v = 1234;
	c = rgn_alloc(a, sizeof *c);
	c->value = rgn_ref_of(v);
	c->next = RGN_NULL_REF;
	ref = rgn_ref_of(c);
	ck_assert_int_eq(rgn_merge(a, b), 0);    /* memory moves, addresses stay */
	ck_assert_int_eq(*RGN_AT(int64_t, RGN_AT(struct cell, ref)->value), 1234);
	rgn_destroy(a);
}
END_TEST

/* Decoding the null reference gives an address that faults, through
 * rgn_ptr (_i 0 read, 1 write) and through RGN_AT, the decode mode's own
 * path (_i 2 read, 3 write). */
START_TEST(test_ref_null_faults)
{
	volatile char *p;

	tst_init(16 * MiB, 0);
	/* sanitizers catch SIGSEGV themselves; let it kill the test */
	signal(SIGSEGV, SIG_DFL);
	p = rgn_ptr(RGN_NULL_REF);
	switch (_i) {
	case 0: (void)*p; break;
	case 1: *p = 1; break;
	case 2: (void)*RGN_AT(volatile char, RGN_NULL_REF); break;
	default: *RGN_AT(volatile char, RGN_NULL_REF) = 1; break;
	}
	ck_abort_msg("reference 0 was %s without a fault",
	             _i % 2 == 0 ? "read" : "written");
}
END_TEST

Suite *suite_ref(void)
{
	Suite *s = suite_create("ref");
	TCase *tc;

	tc = tcase_create("encode");
	tcase_add_test(tc, test_ref_null);
	tcase_add_test(tc, test_ref_base);
	tcase_add_test(tc, test_ref_roundtrip);
	tcase_add_test(tc, test_ref_granules);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("structures");
	tcase_add_test(tc, test_ref_alias);
	tcase_add_test(tc, test_ref_linked_structures);
	tcase_add_test(tc, test_ref_survive_merge);
	suite_add_tcase(s, tc);

	tc = tcase_create("fault");
	/* (not under valgrind: there the read cases end the child without
	 * the signal) */
	if (!tst_vg())
		tcase_add_loop_test_raise_signal(tc, test_ref_null_faults, SIGSEGV, 0, 4);
	suite_add_tcase(s, tc);

	return s;
}
