/*
 * test-region.c - regions through the public API: lifetime and children,
 * cleanups, allocation (sizes, alignment, zeroing, strings, growth),
 * marks, adoption and merging, tail reservations, the region stack,
 * statistics, options, and span coalescing seen from regions.
 *
 * The suite runs once per backend: suite_region(backend) gives every test
 * case a fixture that sets `backend` in the test's process, and every
 * test makes its regions with make() (new_root, new_child), which builds
 * a region of that backend.  A contiguous region reserves as much as the
 * test's space (tst_init's size), so the limits the tests reach are the
 * same.  Assertions about blocks, chunks and large spans branch on the
 * backend where the two differ by design.
 */
#define _GNU_SOURCE
#include "suites.h"

#include <stdarg.h>

#define ID(x) ((void *)(intptr_t)(x))

/* ---- cleanup recorder ----------------------------------------------------- */

static int clog_v[256];
static int clog_n;

static void log_cb(void *arg)
{
	if (clog_n < 256)
		clog_v[clog_n] = (int)(intptr_t)arg;
	clog_n++;
}

static void other_cb(void *arg)
{
	log_cb(ID(1000 + (int)(intptr_t)arg));
}

static int clog_index(int v)
{
	for (int i = 0; i < clog_n && i < 256; i++)
		if (clog_v[i] == v)
			return i;
	return -1;
}

static int clog_count(int v)
{
	int n = 0;

	for (int i = 0; i < clog_n && i < 256; i++)
		n += clog_v[i] == v;
	return n;
}

static void assert_log(const int *want, int n)
{
	ck_assert_int_eq(clog_n, n);
	for (int i = 0; i < n; i++)
		ck_assert_msg(clog_v[i] == want[i], "cleanup %d: got %d, want %d",
		              i, clog_v[i], want[i]);
}
#define ASSERT_LOG(...) do {                                              \
		static const int want_[] = { __VA_ARGS__ };               \
		assert_log(want_, (int)(sizeof want_ / sizeof want_[0])); \
	} while (0)

/* ---- the backend under test ------------------------------------------------ */

static rgn_backend backend;

static void setup_blocks(void) { backend = RGN_BACKEND_BLOCKS; }
static void setup_contig(void) { backend = RGN_BACKEND_CONTIG; }

static int contig(void)
{
	return backend == RGN_BACKEND_CONTIG;
}

/* A region of the backend under test (suites.h): a contiguous one
 * reserves `reserve` bytes. */
rgn_region *tst_backend_region(rgn_region *parent, size_t reserve)
{
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = reserve };

	return contig() ? rgn_new_with(parent, &o) : rgn_new(parent);
}

/* ... reserving as much as the test's space: NULL only if creation
 * failed. */
static rgn_region *make(rgn_region *parent)
{
	return tst_backend_region(parent, tst_space_size);
}

static rgn_region *new_root(void)
{
	rgn_region *r = make(NULL);

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tst_region(r).backend, backend);
	return r;
}

static rgn_region *new_child(rgn_region *p)
{
	rgn_region *r = make(p);

	ck_assert_ptr_nonnull(r);
	return r;
}

/* After a rewind, the memory a region holds is what it held at the mark:
 * the same blocks, or (one range) a read-write part that never shrinks. */
static void assert_blocks_back(size_t now, size_t at_mark)
{
	if (contig())
		ck_assert_uint_ge(now, at_mark);
	else
		ck_assert_uint_eq(now, at_mark);
}

static void on_destroy(rgn_region *r, int id)
{
	ck_assert_int_eq(rgn_on_destroy(r, log_cb, ID(id)), 0);
}

static int aligned(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

/* ---- lifecycle ------------------------------------------------------------- */

START_TEST(test_region_new_root)
{
	struct rgn_region_stats st;
	rgn_region *r, *q;

	tst_init(64 * MiB, 0);
	r = new_root();
	q = new_root();
	ck_assert_ptr_ne(r, q);
	st = tst_region(r);
	ck_assert_uint_ge(st.blocks, 1);
	ck_assert_uint_ge(st.chunks, 1);
	ck_assert_uint_eq(st.large, 0);
	ck_assert_uint_eq(st.children, 0);
	ck_assert_uint_eq(st.cleanups, 0);
	ck_assert_uint_le(st.used, 256);
	ck_assert_uint_eq(tst_space().live_regions, 2);
	rgn_destroy(r);
	ck_assert_uint_eq(tst_space().live_regions, 1);
	rgn_destroy(q);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

START_TEST(test_region_destroy_null)
{
	struct rgn_space_stats s0, s1;
	rgn_region *r;

	tst_init(16 * MiB, 0);
	r = new_root();
	s0 = tst_space();
	rgn_destroy(NULL);
	s1 = tst_space();
	ck_assert_uint_eq(s1.live_regions, s0.live_regions);
	ck_assert_uint_eq(s1.used_blocks, s0.used_blocks);
	ck_assert_ptr_nonnull(rgn_alloc(r, 8));
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_children_die_with_parent)
{
	struct rgn_space_stats s0;
	rgn_region *p, *c1, *c2, *g;

	tst_init(64 * MiB, 0);
	s0 = tst_space();
	clog_n = 0;
	p = new_root();
	c1 = new_child(p);
	c2 = new_child(p);
	g = new_child(c1);
	on_destroy(p, 1);
	on_destroy(c1, 2);
	on_destroy(c2, 3);
	on_destroy(g, 4);
	ck_assert_uint_eq(tst_region(p).children, 2);
	ck_assert_uint_eq(tst_region(c1).children, 1);
	ck_assert_uint_eq(tst_region(g).children, 0);
	ck_assert_uint_eq(tst_space().live_regions, s0.live_regions + 4);
	ck_assert_ptr_nonnull(rgn_alloc(g, 100000));

	rgn_destroy(p);
	ck_assert_int_eq(clog_n, 4);
	for (int id = 1; id <= 4; id++)
		ck_assert_int_eq(clog_count(id), 1);
	/* children first (grandchild before child), the parent's own last */
	ck_assert_int_lt(clog_index(4), clog_index(2));
	ck_assert_int_eq(clog_index(1), 3);
	ck_assert_uint_eq(tst_space().live_regions, s0.live_regions);
	ck_assert_uint_eq(tst_space().used_blocks, s0.used_blocks);
}
END_TEST

START_TEST(test_region_destroy_child_alone)
{
	rgn_region *p, *c;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	p = new_root();
	c = new_child(p);
	on_destroy(c, 7);
	rgn_destroy(c);
	ASSERT_LOG(7);
	ck_assert_uint_eq(tst_region(p).children, 0);
	on_destroy(p, 8);
	rgn_destroy(p);
	ASSERT_LOG(7, 8);
}
END_TEST

START_TEST(test_region_cleanup_lifo_once)
{
	rgn_region *r;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	r = new_root();
	for (int i = 1; i <= 5; i++)
		on_destroy(r, i);
	ck_assert_uint_eq(tst_region(r).cleanups, 5);
	ck_assert_int_eq(clog_n, 0);
	rgn_destroy(r);
	ASSERT_LOG(5, 4, 3, 2, 1);
}
END_TEST

START_TEST(test_region_cleanup_many)
{
	rgn_region *r;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	r = new_root();
	for (int i = 0; i < 200; i++) {
		on_destroy(r, i);
		ck_assert_ptr_nonnull(rgn_alloc(r, 50));
	}
	ck_assert_uint_eq(tst_region(r).cleanups, 200);
	rgn_destroy(r);
	ck_assert_int_eq(clog_n, 200);
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(clog_v[i], 199 - i);
}
END_TEST

START_TEST(test_region_cleanup_on_reset)
{
	rgn_region *r;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	r = new_root();
	on_destroy(r, 1);
	on_destroy(r, 2);
	on_destroy(r, 3);
	rgn_reset(r);
	ASSERT_LOG(3, 2, 1);
	ck_assert_uint_eq(tst_region(r).cleanups, 0);
	on_destroy(r, 4);
	rgn_destroy(r);
	ASSERT_LOG(3, 2, 1, 4);
}
END_TEST

START_TEST(test_region_cancel_cleanup)
{
	rgn_region *r;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	r = new_root();
	ck_assert_int_eq(rgn_on_destroy(r, log_cb, ID(1)), 0);
	ck_assert_int_eq(rgn_on_destroy(r, log_cb, ID(2)), 0);
	ck_assert_int_eq(rgn_on_destroy(r, other_cb, ID(1)), 0);
	ck_assert_int_eq(rgn_on_destroy(r, log_cb, ID(1)), 0);
	ck_assert_int_eq(rgn_on_destroy(r, log_cb, ID(3)), 0);

	/* drops the latest (log_cb, 1) only */
	ck_assert_int_eq(rgn_on_destroy_cancel(r, log_cb, ID(1)), 0);
	ck_assert_uint_eq(tst_region(r).cleanups, 4);
	tst_fails_with(rgn_on_destroy_cancel(r, log_cb, ID(4)), ENOENT);
	tst_fails_with(rgn_on_destroy_cancel(r, other_cb, ID(2)), ENOENT);
	ck_assert_uint_eq(tst_region(r).cleanups, 4);
	ck_assert_int_eq(clog_n, 0);
	rgn_destroy(r);
	ASSERT_LOG(3, 1001, 2, 1);

	/* none at all */
	r = new_root();
	tst_fails_with(rgn_on_destroy_cancel(r, log_cb, ID(1)), ENOENT);
	/* cancelling twice removes both registrations */
	on_destroy(r, 5);
	on_destroy(r, 5);
	ck_assert_int_eq(rgn_on_destroy_cancel(r, log_cb, ID(5)), 0);
	ck_assert_int_eq(rgn_on_destroy_cancel(r, log_cb, ID(5)), 0);
	ck_assert_int_eq(rgn_on_destroy_cancel(r, log_cb, ID(5)), -1);
	rgn_destroy(r);
	ck_assert_int_eq(clog_n, 4);
}
END_TEST

START_TEST(test_region_reset)
{
	struct rgn_space_stats s_new, st;
	struct rgn_region_stats rs;
	rgn_region *r, *c;
	char *p;

	tst_init(64 * MiB, 0);
	clog_n = 0;
	r = new_root();
	s_new = tst_space();
	for (int round = 0; round < 3; round++) {
		size_t purged = tst_contig().purged_bytes;

		for (int i = 0; i < 2000; i++)
			ck_assert_ptr_nonnull(rgn_alloc(r, 300));
		ck_assert_ptr_nonnull(rgn_alloc(r, 200 * KiB));
		ck_assert_ptr_nonnull(rgn_alloc_aligned(r, 100, 64 * KiB));
		c = new_child(r);
		on_destroy(c, 10 + round);
		on_destroy(r, 20 + round);
		rs = tst_region(r);
		ck_assert_uint_gt(rs.blocks, 100);

		rgn_reset(r);
		ck_assert_int_eq(clog_n, 2 * (round + 1));
		ck_assert_int_eq(clog_v[2 * round], 10 + round);
		ck_assert_int_eq(clog_v[2 * round + 1], 20 + round);
		rs = tst_region(r);
		ck_assert_uint_le(rs.used, 256);
		if (contig()) {
			/* the range stays read-write; from the second round on
			 * the region held more than its 1 MiB retained size,
			 * and the pages above it went back */
			ck_assert_uint_ge(rs.committed, 800 * KiB);
			if (round > 0)
				ck_assert_uint_gt(tst_contig().purged_bytes, purged);
		} else {
			ck_assert_uint_eq(rs.blocks, 1);
		}
		ck_assert_uint_eq(rs.chunks, 1);
		ck_assert_uint_eq(rs.large, 0);
		ck_assert_uint_eq(rs.children, 0);
		ck_assert_uint_eq(rs.cleanups, 0);
		st = tst_space();
		ck_assert_uint_eq(st.live_regions, 1);
		ck_assert_uint_le(st.used_blocks, s_new.used_blocks);
		tst_space_consistent(&st);

		/* usable again */
		p = rgn_alloc(r, 1000);
		ck_assert_ptr_nonnull(p);
		memset(p, 1, 1000);
		p = rgn_alloc(r, 1 * MiB);
		ck_assert_ptr_nonnull(p);
		memset(p, 2, 1 * MiB);
	}
	rgn_destroy(r);
	ck_assert_int_eq(clog_n, 6);
}
END_TEST

START_TEST(test_region_reset_no_growth)
{
	size_t hw = 0, committed = 0;
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = new_root();
	for (int i = 0; i < 2000; i++) {
		for (int j = 0; j < 40; j++)
			ck_assert_ptr_nonnull(rgn_alloc(r, 1000));
		ck_assert_ptr_nonnull(rgn_alloc(r, 50 * KiB));
		rgn_reset(r);
		if (i == 0) {
			hw = tst_space().high_water_blocks;
			committed = tst_region(r).committed;
		}
	}
	ck_assert_uint_eq(tst_space().high_water_blocks, hw);
	ck_assert_uint_eq(tst_region(r).committed, committed);
	rgn_destroy(r);
}
END_TEST

/* ---- allocation ------------------------------------------------------------ */

struct piece {
	char *p;
	size_t n;
};

static int piece_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

static void assert_disjoint(struct piece *v, size_t n)
{
	qsort(v, n, sizeof *v, piece_cmp);
	for (size_t i = 0; i + 1 < n; i++) {
		size_t len = v[i].n ? (v[i].n + 7) & ~(size_t)7 : 8;
		ck_assert_msg(v[i].p + len <= v[i + 1].p,
		              "%p+%zu overlaps %p", (void *)v[i].p, v[i].n,
		              (void *)v[i + 1].p);
	}
}

START_TEST(test_region_alloc_distinct)
{
	enum { N = 6000 };
	static struct piece v[N];
	uint64_t seed = 1;
	rgn_region *r;

	tst_init(256 * MiB, 0);
	r = new_root();
	for (size_t i = 0; i < N; i++) {
		size_t n = tst_rand(&seed) % 64 == 0 ? tst_range(&seed, 33 * KiB, 100 * KiB)
		                                      : tst_range(&seed, 0, 400);
		v[i].p = rgn_alloc(r, n);
		v[i].n = n;
		ck_assert_ptr_nonnull(v[i].p);
		ck_assert(aligned(v[i].p, 8));
		tst_fill(v[i].p, n, (unsigned)i);
	}
	for (size_t i = 0; i < N; i++)
		ck_assert_msg(tst_verify(v[i].p, v[i].n, (unsigned)i),
		              "allocation %zu (%zu bytes) overwritten", i, v[i].n);
	assert_disjoint(v, N);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_alloc_zero)
{
	struct piece v[200];
	rgn_region *r;

	tst_init(16 * MiB, 0);
	r = new_root();
	for (int i = 0; i < 200; i++) {
		v[i].p = i % 2 ? rgn_alloc(r, 0) : rgn_alloc(r, 8);
		v[i].n = 8;
		ck_assert_ptr_nonnull(v[i].p);
		ck_assert(aligned(v[i].p, 8));
		memset(v[i].p, i, 8);
	}
	for (int i = 0; i < 200; i++)
		for (int k = 0; k < 8; k++)
			ck_assert_int_eq(v[i].p[k], (char)i);
	assert_disjoint(v, 200);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_used_exact)
{
	struct rgn_region_stats a, b;
	rgn_region *r;
	char *p, *q, *x;

	tst_init(16 * MiB, 0);
	r = new_root();
	ck_assert_ptr_nonnull(rgn_alloc(r, 8));  /* the region has a chunk now */
	a = tst_region(r);
	p = rgn_alloc(r, 13);
	b = tst_region(r);
	ck_assert_uint_eq(b.used, a.used + 16);
	q = rgn_alloc(r, 0);
	ck_assert_uint_eq(tst_region(r).used, b.used + 8);
	ck_assert_ptr_eq(q, p + 16);
	ck_assert_ptr_nonnull(rgn_alloc(r, 1));
	ck_assert_uint_eq(tst_region(r).used, b.used + 16);

	/* alignment padding counts as used */
	a = tst_region(r);
	x = rgn_alloc_aligned(r, 8, 256);
	ck_assert_ptr_nonnull(x);
	ck_assert(aligned(x, 256));
	b = tst_region(r);
	if (b.chunks == a.chunks && x > q && x - q < 4096)
		ck_assert_uint_eq(b.used - a.used, (size_t)(x - (q + 16)) + 8);
	rgn_destroy(r);
}
END_TEST

static int oom_calls;

static void count_oom(size_t size, void *arg)
{
	(void)size;
	(void)arg;
	oom_calls++;
}

static volatile size_t huge_align = (size_t)1 << 40;

START_TEST(test_region_alloc_huge)
{
	volatile size_t huge[] = {
		SIZE_MAX, SIZE_MAX - 3, SIZE_MAX - 4095, SIZE_MAX / 2 + 1,
		(size_t)1 << 40, 64 * MiB + 1, 64 * MiB,
	};
	const int nh = (int)(sizeof huge / sizeof huge[0]);
	rgn_region *r;
	char *p, *keep;

	tst_init(64 * MiB, 0);
	rgn_set_oom_handler(count_oom, NULL);
	r = new_root();
	keep = rgn_alloc(r, 100);
	ck_assert_ptr_nonnull(keep);
	memset(keep, 0x42, 100);
	for (int i = 0; i < nh; i++) {
		tst_null_with(rgn_alloc(r, huge[i]), ENOMEM);
		tst_null_with(rgn_alloc_aligned(r, huge[i], 64), ENOMEM);
		tst_null_with(rgn_calloc(r, 1, huge[i]), ENOMEM);
		tst_null_with(rgn_realloc(r, keep, 100, huge[i]), ENOMEM);
	}
	ck_assert_int_eq(oom_calls, 4 * nh);
	/* a huge alignment cannot be had either (through a volatile, so
	 * that clang does not reject the constant alignment at compile time) */
	tst_null_with(rgn_alloc_aligned(r, 8, huge_align), ENOMEM);

	/* the region is still usable and lost nothing */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(keep[i], 0x42);
	p = rgn_alloc(r, 1000);
	ck_assert_ptr_nonnull(p);
	memset(p, 1, 1000);
	p = rgn_alloc(r, 32 * MiB);
	ck_assert_ptr_nonnull(p);
	p[0] = p[32 * MiB - 1] = 1;
	rgn_destroy(r);
	{
		struct rgn_space_stats st = tst_space();
		tst_space_consistent(&st);
		ck_assert_uint_eq(st.live_regions, 0);
	}
}
END_TEST

START_TEST(test_region_alloc_aligned)
{
	static const size_t aligns[] = {
		1, 2, 8, 16, 64, 4096, 65536, 1 * MiB,
	};
	static const size_t sizes[] = { 1, 100, 5000, 70000 };
	struct piece v[32];
	size_t n = 0;
	rgn_region *r;

	tst_init(256 * MiB, 0);
	r = new_root();
	for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++)
		for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
			char *p;

			ck_assert_ptr_nonnull(rgn_alloc(r, 3));   /* misalign */
			p = rgn_alloc_aligned(r, sizes[j], aligns[i]);
			ck_assert_ptr_nonnull(p);
			ck_assert_msg(aligned(p, aligns[i] < 8 ? 8 : aligns[i]),
			              "%p not aligned to %zu", (void *)p, aligns[i]);
			tst_fill(p, sizes[j], (unsigned)n);
			v[n].p = p;
			v[n++].n = sizes[j];
		}
	for (size_t i = 0; i < n; i++)
		ck_assert(tst_verify(v[i].p, v[i].n, (unsigned)i));
	assert_disjoint(v, n);
	if (contig())
		ck_assert_uint_eq(tst_region(r).large, 0);   /* one range */
	else
		ck_assert_uint_ge(tst_region(r).large, 1);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_alloc_aligned_bad)
{
	static const size_t bad[] = { 0, 3, 24, 4097, 3 * 4096, SIZE_MAX };
	rgn_region *r;

	tst_init(16 * MiB, 0);
	r = new_root();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		volatile size_t a = bad[i];
		tst_null_with(rgn_alloc_aligned(r, 16, a), EINVAL);
	}
	ck_assert_ptr_nonnull(rgn_alloc_aligned(r, 16, 16));
	rgn_destroy(r);
}
END_TEST

static int all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

START_TEST(test_region_calloc)
{
	volatile size_t big = SIZE_MAX / 2 + 1, max = SIZE_MAX;
	rgn_region *r;
	char *p;

	tst_init(16 * MiB, 0);
	r = new_root();
	p = rgn_calloc(r, 100, 7);
	ck_assert_ptr_nonnull(p);
	ck_assert(aligned(p, 8));
	ck_assert(all_zero(p, 700));
	p = rgn_calloc(r, 3, 70 * KiB);
	ck_assert_ptr_nonnull(p);
	ck_assert(all_zero(p, 210 * KiB));

	tst_null_with(rgn_calloc(r, big, 2), EOVERFLOW);
	tst_null_with(rgn_calloc(r, max, max), EOVERFLOW);
	tst_null_with(rgn_calloc(r, 3, max / 2), EOVERFLOW);
	ck_assert_ptr_nonnull(rgn_calloc(r, 1, 8));
	rgn_destroy(r);
}
END_TEST

/* Sizes used to dirty memory and then ask for it zeroed. */
static size_t dirty_size(size_t i)
{
	static const size_t big[] = { 40 * KiB, 100 * KiB, 200 * KiB, 1 * MiB };

	return i % 50 == 49 ? big[(i / 50) % 4] : 1 + (i * 37) % 3000;
}

START_TEST(test_region_calloc_dirty_reuse)
{
	enum { N = 1000 };
	rgn_region *r, *q;
	size_t hw, reuses;
	rgn_mark m;

	tst_init(64 * MiB, 0);
	r = new_root();
	for (size_t i = 0; i < N; i++) {
		char *p = rgn_alloc(r, dirty_size(i));
		ck_assert_ptr_nonnull(p);
		memset(p, 0xff, dirty_size(i));
	}
	rgn_destroy(r);
	hw = tst_space().high_water_blocks;
	reuses = tst_contig().reuses;

	q = new_root();
	/* the contiguous backend took the dirty reservation from its cache */
	ck_assert_uint_eq(tst_contig().reuses, reuses + contig());
	for (size_t i = 0; i < N; i++) {
		char *p = rgn_calloc(q, 1, dirty_size(i));
		ck_assert_ptr_nonnull(p);
		ck_assert_msg(all_zero(p, dirty_size(i)),
		              "calloc %zu (%zu bytes) not zeroed", i, dirty_size(i));
	}
	/* the dirty blocks were the ones reused */
	ck_assert_uint_eq(tst_space().high_water_blocks, hw);

	/* the same after a rewind and after a reset */
	m = rgn_save(q);
	for (size_t i = 0; i < 300; i++) {
		char *p = rgn_alloc(q, dirty_size(i));
		ck_assert_ptr_nonnull(p);
		memset(p, 0xff, dirty_size(i));
	}
	ck_assert_int_eq(rgn_rewind(q, m), 0);
	for (size_t i = 0; i < 300; i++) {
		char *p = rgn_calloc(q, dirty_size(i), 1);
		ck_assert_ptr_nonnull(p);
		ck_assert(all_zero(p, dirty_size(i)));
	}
	rgn_reset(q);
	for (size_t i = 0; i < 300; i++) {
		char *p = rgn_alloc(q, dirty_size(i));
		ck_assert_ptr_nonnull(p);
		memset(p, 0xff, dirty_size(i));
	}
	rgn_reset(q);
	for (size_t i = 0; i < 300; i++) {
		char *p = rgn_calloc(q, 1, dirty_size(i));
		ck_assert_ptr_nonnull(p);
		ck_assert(all_zero(p, dirty_size(i)));
	}
	rgn_destroy(q);
}
END_TEST

START_TEST(test_region_alloc_array)
{
	volatile size_t big = SIZE_MAX / 8 + 1, max = SIZE_MAX;
	rgn_region *r;
	uint32_t *a;

	tst_init(16 * MiB, 0);
	r = new_root();
	a = rgn_alloc_array(r, 1000, sizeof *a);
	ck_assert_ptr_nonnull(a);
	ck_assert(aligned(a, 8));
	for (uint32_t i = 0; i < 1000; i++)
		a[i] = i * 3;
	for (uint32_t i = 0; i < 1000; i++)
		ck_assert_uint_eq(a[i], i * 3);
	tst_null_with(rgn_alloc_array(r, big, 8), EOVERFLOW);
	tst_null_with(rgn_alloc_array(r, 2, max), EOVERFLOW);
	tst_null_with(rgn_alloc_array(r, max, max), EOVERFLOW);
	ck_assert_ptr_nonnull(rgn_alloc_array(r, 3, 3));
	rgn_destroy(r);
}
END_TEST

/* ---- strings --------------------------------------------------------------- */

START_TEST(test_region_strdup)
{
	static char long_s[20001];
	const char unterminated[4] = { 'a', 'b', 'c', 'd' };
	rgn_region *r;
	char *s;

	tst_init(16 * MiB, 0);
	r = new_root();
	s = rgn_strdup(r, "hello");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "hello");
	s[0] = 'j';
	ck_assert_str_eq(s, "jello");
	s = rgn_strdup(r, "");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	memset(long_s, 'x', 20000);
	long_s[7777] = 'y';
	s = rgn_strdup(r, long_s);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_ne(s, long_s);
	ck_assert_int_eq(strcmp(s, long_s), 0);

	s = rgn_strndup(r, "hello", 3);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "hel");
	s = rgn_strndup(r, "hi", 100);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "hi");
	s = rgn_strndup(r, "hello", 5);
	ck_assert_str_eq(s, "hello");
	s = rgn_strndup(r, "hello", 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	/* n bounds the read: the source needs no terminator within n */
	s = rgn_strndup(r, unterminated, 4);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "abcd");
	s = rgn_strndup(r, unterminated, 2);
	ck_assert_str_eq(s, "ab");

	tst_null_with(rgn_strdup(r, NULL), EINVAL);
	tst_null_with(rgn_strndup(r, NULL, 5), EINVAL);
	rgn_destroy(r);
}
END_TEST

static char *call_vprintf(rgn_region *r, const char *fmt, ...) RGN_PRINTF(2, 3);
static char *call_vprintf(rgn_region *r, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = rgn_vformat(r, fmt, ap);
	va_end(ap);
	return s;
}

START_TEST(test_region_printf)
{
	static char big[12001], want[12100];
	char *s, *v[300];
	rgn_region *r;

	tst_init(16 * MiB, 0);
	r = new_root();
	s = rgn_format(r, "x=%d %s", 42, "abc");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "x=42 abc");
	s = rgn_format(r, "%s", "");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	s = call_vprintf(r, "%05u|%c", 7u, 'z');
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "00007|z");

	memset(big, 'q', 12000);
	snprintf(want, sizeof want, "<%s>%d", big, 123456);
	s = rgn_format(r, "<%s>%d", big, 123456);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), 12000 + 2 + 6);
	ck_assert_str_eq(s, want);
	s = call_vprintf(r, "<%s>%d", big, 123456);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, want);

	/* many, across chunk boundaries, none overwriting another */
	for (int i = 0; i < 300; i++) {
		v[i] = rgn_format(r, "%d:%.*s", i, i * 37 % 5000, big);
		ck_assert_ptr_nonnull(v[i]);
	}
	for (int i = 0; i < 300; i++) {
		snprintf(want, sizeof want, "%d:%.*s", i, i * 37 % 5000, big);
		ck_assert_str_eq(v[i], want);
	}
	rgn_destroy(r);
}
END_TEST

/* ---- grow ------------------------------------------------------------------ */

START_TEST(test_region_grow_in_place)
{
	rgn_region *r;
	char *p, *q, *n;

	tst_init(16 * MiB, 0);
	r = new_root();
	ck_assert_ptr_nonnull(rgn_alloc(r, 8));
	p = rgn_alloc(r, 100);
	ck_assert_ptr_nonnull(p);
	tst_fill(p, 100, 1);
	q = rgn_realloc(r, p, 100, 200);
	ck_assert_uint_eq(tst_addr(q), tst_addr(p));
	ck_assert(tst_verify(q, 100, 1));
	memset(q + 100, 0x33, 100);
	n = rgn_alloc(r, 8);
	ck_assert_ptr_nonnull(n);
	ck_assert(n >= q + 200 || n + 8 <= q);
	memset(n, 0x44, 8);
	ck_assert(tst_verify(q, 100, 1));
	ck_assert_int_eq(q[199], 0x33);

	/* shrinking the last allocation stays in place */
	p = rgn_alloc(r, 200);
	tst_fill(p, 200, 2);
	q = rgn_realloc(r, p, 200, 40);
	ck_assert_uint_eq(tst_addr(q), tst_addr(p));
	ck_assert(tst_verify(q, 40, 2));
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_grow_copy)
{
	rgn_region *r;
	char *p, *x, *q;

	tst_init(16 * MiB, 0);
	r = new_root();
	p = rgn_alloc(r, 100);
	tst_fill(p, 100, 3);
	x = rgn_alloc(r, 16);
	tst_fill(x, 16, 4);
	q = rgn_realloc(r, p, 100, 300);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_ne(q, p);
	ck_assert(tst_verify(q, 100, 3));
	memset(q + 100, 0x55, 200);
	ck_assert(tst_verify(x, 16, 4));

	/* shrinking something that is not last keeps the prefix */
	p = rgn_alloc(r, 200);
	tst_fill(p, 200, 5);
	x = rgn_alloc(r, 8);
	q = rgn_realloc(r, p, 200, 40);
	ck_assert_ptr_nonnull(q);
	ck_assert(tst_verify(q, 40, 5));

	/* p NULL is rgn_alloc */
	q = rgn_realloc(r, NULL, 0, 50);
	ck_assert_ptr_nonnull(q);
	ck_assert(aligned(q, 8));
	memset(q, 0x66, 50);
	ck_assert(q >= x + 8 || q + 50 <= x);

	/* large objects keep their contents too */
	p = rgn_alloc(r, 40 * KiB);
	tst_fill(p, 40 * KiB, 6);
	q = rgn_realloc(r, p, 40 * KiB, 200 * KiB);
	ck_assert_ptr_nonnull(q);
	ck_assert(tst_verify(q, 40 * KiB, 6));
	memset(q + 40 * KiB, 0x77, 160 * KiB);
	p = rgn_realloc(r, q, 200 * KiB, 1 * MiB);
	ck_assert_ptr_nonnull(p);
	ck_assert(tst_verify(p, 40 * KiB, 6));
	ck_assert_int_eq(p[200 * KiB - 1], 0x77);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_grow_vector)
{
	rgn_region *r;
	size_t cap = 16;
	char *v;

	tst_init(16 * MiB, 0);
	r = new_root();
	v = rgn_alloc(r, cap);
	tst_fill(v, cap, 9);
	while (cap < 256 * KiB) {
		size_t ncap = cap + 64 + cap / 16;

		v = rgn_realloc(r, v, cap, ncap);
		ck_assert_ptr_nonnull(v);
		ck_assert_msg(tst_verify(v, cap, 9), "lost data growing to %zu", ncap);
		cap = ncap;
		tst_fill(v, cap, 9);
	}
	rgn_destroy(r);
}
END_TEST

/* ---- marks ----------------------------------------------------------------- */

START_TEST(test_region_rewind)
{
	struct rgn_region_stats at_mark, after;
	struct rgn_space_stats sp_mark;
	rgn_region *r, *c;
	char *before[50], *p;
	rgn_mark m;

	tst_init(64 * MiB, 0);
	clog_n = 0;
	r = new_root();
	for (int i = 0; i < 50; i++) {
		before[i] = rgn_alloc(r, 200);
		tst_fill(before[i], 200, (unsigned)i);
	}
	on_destroy(r, 1);
	m = rgn_save(r);
	at_mark = tst_region(r);
	sp_mark = tst_space();

	for (int i = 0; i < 2000; i++) {
		p = rgn_alloc(r, 500);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xee, 500);
	}
	ck_assert_ptr_nonnull(rgn_alloc(r, 100 * KiB));
	ck_assert_ptr_nonnull(rgn_alloc(r, 1 * MiB));
	ck_assert_ptr_nonnull(rgn_alloc_aligned(r, 64, 64 * KiB));
	on_destroy(r, 2);
	on_destroy(r, 3);
	c = new_child(r);
	on_destroy(c, 9);
	ck_assert_ptr_nonnull(rgn_alloc(c, 10000));
	after = tst_region(r);
	ck_assert_uint_gt(after.blocks, at_mark.blocks + 256);

	ck_assert_int_eq(rgn_rewind(r, m), 0);
	ASSERT_LOG(3, 2);
	after = tst_region(r);
	ck_assert_uint_eq(after.used, at_mark.used);
	assert_blocks_back(after.blocks, at_mark.blocks);
	ck_assert_uint_eq(after.chunks, at_mark.chunks);
	ck_assert_uint_eq(after.large, at_mark.large);
	ck_assert_uint_eq(after.cleanups, at_mark.cleanups);
	ck_assert_uint_eq(after.children, 1);     /* children are left alone */
	ck_assert_uint_eq(tst_space().used_blocks,
	                  sp_mark.used_blocks + (contig() ? 0 : tst_region(c).blocks));
	for (int i = 0; i < 50; i++)
		ck_assert(tst_verify(before[i], 200, (unsigned)i));

	/* allocation continues after the mark, without touching what came before */
	for (int i = 0; i < 1000; i++)
		memset(rgn_alloc(r, 300), 0x11, 300);
	for (int i = 0; i < 50; i++)
		ck_assert(tst_verify(before[i], 200, (unsigned)i));
	ck_assert_ptr_nonnull(rgn_alloc(c, 100));

	rgn_destroy(r);
	ASSERT_LOG(3, 2, 9, 1);
}
END_TEST

START_TEST(test_region_rewind_nested)
{
	struct rgn_region_stats s1, s2, s3;
	rgn_mark m1, m2, m3;
	rgn_region *r;
	char *x, *y;

	tst_init(64 * MiB, 0);
	clog_n = 0;
	r = new_root();
	m1 = rgn_save(r);
	s1 = tst_region(r);
	x = rgn_alloc(r, 3000);
	tst_fill(x, 3000, 1);
	on_destroy(r, 1);
	ck_assert_ptr_nonnull(rgn_alloc(r, 50 * KiB));

	m2 = rgn_save(r);
	s2 = tst_region(r);
	for (int i = 0; i < 300; i++)
		ck_assert_ptr_nonnull(rgn_alloc(r, 1000));
	on_destroy(r, 2);
	ck_assert_int_eq(rgn_rewind(r, m2), 0);
	ASSERT_LOG(2);
	ck_assert_uint_eq(tst_region(r).used, s2.used);
	assert_blocks_back(tst_region(r).blocks, s2.blocks);
	ck_assert(tst_verify(x, 3000, 1));

	/* rewinding to the same mark twice, and to a mark with nothing after */
	y = rgn_alloc(r, 5000);
	tst_fill(y, 5000, 2);
	m3 = rgn_save(r);
	s3 = tst_region(r);
	ck_assert_int_eq(rgn_rewind(r, m3), 0);
	ck_assert_uint_eq(tst_region(r).used, s3.used);
	ck_assert(tst_verify(y, 5000, 2));
	ck_assert_int_eq(rgn_rewind(r, m2), 0);
	ck_assert_uint_eq(tst_region(r).used, s2.used);
	assert_blocks_back(tst_region(r).blocks, s2.blocks);

	/* skipping an inner mark on the way out */
	m2 = rgn_save(r);
	for (int i = 0; i < 100; i++)
		ck_assert_ptr_nonnull(rgn_alloc(r, 2000));
	on_destroy(r, 3);
	ck_assert_int_eq(rgn_rewind(r, m1), 0);
	ASSERT_LOG(2, 3, 1);
	ck_assert_uint_eq(tst_region(r).used, s1.used);
	assert_blocks_back(tst_region(r).blocks, s1.blocks);
	ck_assert_uint_eq(tst_region(r).large, s1.large);
	ck_assert_uint_eq(tst_region(r).cleanups, 0);
	rgn_destroy(r);
	ck_assert_int_eq(clog_n, 3);
}
END_TEST

START_TEST(test_region_rewind_loop)
{
	size_t hw = 0, blocks = 0;
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = new_root();
	ck_assert_ptr_nonnull(rgn_alloc(r, 64));
	for (int i = 0; i < 10000; i++) {
		rgn_mark m = rgn_save(r);
		for (int j = 0; j < 10; j++)
			ck_assert_ptr_nonnull(rgn_alloc(r, 1000));
		if (i % 10 == 0)
			ck_assert_ptr_nonnull(rgn_alloc(r, 40 * KiB));
		ck_assert_int_eq(rgn_rewind(r, m), 0);
		if (i == 0)
			blocks = tst_region(r).blocks;
		/* chunk sizes double up to chunk_max: then nothing grows */
		if (i == 100)
			hw = tst_space().high_water_blocks;
	}
	ck_assert_uint_eq(tst_space().high_water_blocks, hw);
	ck_assert_uint_eq(tst_region(r).blocks, blocks);
	rgn_destroy(r);
}
END_TEST

/* ---- adopt and merge --------------------------------------------------------- */

START_TEST(test_region_adopt)
{
	rgn_region *a, *b, *c, *g;

	tst_init(64 * MiB, 0);
	clog_n = 0;
	a = new_root();
	b = new_root();
	c = new_child(a);
	g = new_child(c);
	on_destroy(c, 3);
	on_destroy(g, 4);
	ck_assert_int_eq(rgn_adopt(b, c), 0);
	ck_assert_uint_eq(tst_region(a).children, 0);
	ck_assert_uint_eq(tst_region(b).children, 1);
	ck_assert_uint_eq(tst_region(c).children, 1);
	rgn_destroy(a);
	ck_assert_int_eq(clog_n, 0);
	ck_assert_ptr_nonnull(rgn_alloc(c, 100));
	ck_assert_ptr_nonnull(rgn_alloc(g, 100));
	ck_assert_uint_eq(tst_space().live_regions, 3);
	rgn_destroy(b);
	ASSERT_LOG(4, 3);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

START_TEST(test_region_adopt_to_root)
{
	rgn_region *a, *c;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	a = new_root();
	c = new_child(a);
	on_destroy(c, 5);
	ck_assert_int_eq(rgn_adopt(NULL, c), 0);
	ck_assert_uint_eq(tst_region(a).children, 0);
	rgn_destroy(a);
	ck_assert_int_eq(clog_n, 0);
	ck_assert_ptr_nonnull(rgn_alloc(c, 100));
	/* a root adopted by a root */
	a = new_root();
	ck_assert_int_eq(rgn_adopt(a, c), 0);
	ck_assert_uint_eq(tst_region(a).children, 1);
	ck_assert_int_eq(rgn_adopt(NULL, c), 0);
	ck_assert_int_eq(rgn_adopt(NULL, c), 0);    /* already a root */
	ck_assert_uint_eq(tst_region(a).children, 0);
	rgn_destroy(a);
	ck_assert_int_eq(clog_n, 0);
	rgn_destroy(c);
	ASSERT_LOG(5);
}
END_TEST

START_TEST(test_region_adopt_cycle)
{
	rgn_region *a, *c, *g, *o;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	a = new_root();
	c = new_child(a);
	g = new_child(c);
	o = new_root();
	on_destroy(g, 1);
	tst_fails_with(rgn_adopt(c, a), EINVAL);
	tst_fails_with(rgn_adopt(g, a), EINVAL);
	tst_fails_with(rgn_adopt(g, c), EINVAL);
	tst_fails_with(rgn_adopt(a, a), EINVAL);
	tst_fails_with(rgn_adopt(o, NULL), EINVAL);
	/* nothing moved */
	ck_assert_uint_eq(tst_region(a).children, 1);
	ck_assert_uint_eq(tst_region(c).children, 1);
	ck_assert_uint_eq(tst_region(o).children, 0);
	/* moving a grandchild up is fine */
	ck_assert_int_eq(rgn_adopt(a, g), 0);
	ck_assert_uint_eq(tst_region(a).children, 2);
	ck_assert_uint_eq(tst_region(c).children, 0);
	rgn_destroy(c);
	ck_assert_int_eq(clog_n, 0);
	rgn_destroy(a);
	ASSERT_LOG(1);
	rgn_destroy(o);
}
END_TEST

START_TEST(test_region_merge)
{
	struct rgn_region_stats ds, ss, ms;
	struct rgn_space_stats sp, start;
	rgn_region *x, *src, *dst, *k;
	char *small[100], *big, *p;

	tst_init(64 * MiB, 0);
	clog_n = 0;
	start = tst_space();
	x = new_root();
	src = new_child(x);
	dst = new_root();
	k = new_child(src);
	for (int i = 0; i < 100; i++) {
		small[i] = rgn_alloc(src, 700);
		tst_fill(small[i], 700, (unsigned)i);
	}
	big = rgn_alloc(src, 300 * KiB);
	tst_fill(big, 300 * KiB, 77);
	on_destroy(src, 1);
	on_destroy(src, 2);
	on_destroy(k, 7);
	on_destroy(dst, 10);
	ck_assert_ptr_nonnull(rgn_alloc(dst, 5000));
	ds = tst_region(dst);
	ss = tst_region(src);
	sp = tst_space();

	if (contig()) {
		/* a reservation cannot join another region: refused, and
		 * nothing moved */
		tst_fails_with(rgn_merge(dst, src), ENOTSUP);
		ck_assert_uint_eq(tst_region(x).children, 1);
		ck_assert_uint_eq(tst_region(src).children, 1);
		ck_assert_uint_eq(tst_region(src).cleanups, 2);
		ck_assert_uint_eq(tst_region(dst).children, ds.children);
		ck_assert_uint_eq(tst_space().live_regions, sp.live_regions);
		ck_assert(tst_verify(big, 300 * KiB, 77));
		rgn_destroy(x);
		ASSERT_LOG(7, 2, 1);
		rgn_destroy(dst);
		ASSERT_LOG(7, 2, 1, 10);
		ck_assert_uint_eq(tst_space().live_regions, 0);
		ck_assert_uint_eq(tst_contig().live, 0);
		return;
	}
	ck_assert_int_eq(rgn_merge(dst, src), 0);
	ck_assert_int_eq(clog_n, 0);
	ms = tst_region(dst);
	ck_assert_uint_eq(ms.children, ds.children + 1);
	ck_assert_uint_eq(ms.cleanups, ds.cleanups + 2);
	ck_assert_uint_eq(ms.large, ds.large + ss.large);
	ck_assert_uint_ge(ms.used, ds.used + ss.used);
	ck_assert_uint_ge(ms.blocks, ds.blocks + ss.blocks - 1);
	ck_assert_uint_eq(tst_region(x).children, 0);
	ck_assert_uint_eq(tst_space().live_regions, sp.live_regions - 1);

	/* the old parent no longer owns any of it */
	rgn_destroy(x);
	ck_assert_int_eq(clog_n, 0);
	for (int i = 0; i < 100; i++)
		ck_assert(tst_verify(small[i], 700, (unsigned)i));
	ck_assert(tst_verify(big, 300 * KiB, 77));
	for (int i = 0; i < 200; i++) {
		p = rgn_alloc(dst, 900);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xcc, 900);
	}
	ck_assert_ptr_nonnull(rgn_alloc(k, 100));
	for (int i = 0; i < 100; i++)
		ck_assert(tst_verify(small[i], 700, (unsigned)i));
	ck_assert(tst_verify(big, 300 * KiB, 77));

	rgn_destroy(dst);
	ck_assert_int_eq(clog_n, 4);
	ck_assert_int_eq(clog_v[0], 7);               /* children first */
	ck_assert_int_eq(clog_count(1), 1);
	ck_assert_int_eq(clog_count(2), 1);
	ck_assert_int_eq(clog_count(10), 1);
	ck_assert_int_lt(clog_index(2), clog_index(1));
	ck_assert_uint_eq(tst_space().live_regions, 0);
	ck_assert_uint_eq(tst_space().used_blocks, start.used_blocks);
}
END_TEST

START_TEST(test_region_merge_child_into_parent)
{
	rgn_region *p, *c, *g;
	char *data;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	p = new_root();
	c = new_child(p);
	g = new_child(c);
	data = rgn_strdup(c, "moved");
	on_destroy(c, 1);
	on_destroy(g, 2);
	if (contig()) {
		tst_fails_with(rgn_merge(p, c), ENOTSUP);
		ck_assert_uint_eq(tst_region(p).children, 1);   /* still c */
		ck_assert_uint_eq(tst_region(c).children, 1);
		ck_assert_str_eq(data, "moved");
		rgn_destroy(p);
		ASSERT_LOG(2, 1);
		ck_assert_uint_eq(tst_space().live_regions, 0);
		return;
	}
	ck_assert_int_eq(rgn_merge(p, c), 0);
	ck_assert_uint_eq(tst_region(p).children, 1);   /* g, no longer c */
	ck_assert_uint_eq(tst_region(p).cleanups, 1);
	ck_assert_str_eq(data, "moved");
	rgn_destroy(p);
	ASSERT_LOG(2, 1);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

START_TEST(test_region_merge_invalid)
{
	rgn_region *a, *c, *g;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	a = new_root();
	c = new_child(a);
	g = new_child(c);
	on_destroy(a, 1);
	on_destroy(c, 2);
	on_destroy(g, 3);
	tst_fails_with(rgn_merge(a, a), EINVAL);
	tst_fails_with(rgn_merge(c, a), EINVAL);
	tst_fails_with(rgn_merge(g, a), EINVAL);
	tst_fails_with(rgn_merge(g, c), EINVAL);
	tst_fails_with(rgn_merge(NULL, c), EINVAL);
	tst_fails_with(rgn_merge(a, NULL), EINVAL);
	ck_assert_int_eq(clog_n, 0);
	ck_assert_uint_eq(tst_region(a).children, 1);
	ck_assert_uint_eq(tst_space().live_regions, 3);
	rgn_destroy(a);
	ASSERT_LOG(3, 2, 1);
}
END_TEST

/* ---- tail ------------------------------------------------------------------ */

START_TEST(test_region_tail_commit)
{
	rgn_region *r;
	size_t avail = 0, used0;
	char *p, *q;

	tst_init(16 * MiB, 0);
	r = new_root();
	ck_assert_ptr_nonnull(rgn_alloc(r, 24));
	p = rgn_tail(r, 100, &avail);
	ck_assert_ptr_nonnull(p);
	ck_assert(aligned(p, 8));
	ck_assert_uint_ge(avail, 100);
	memset(p, 0x5a, avail);                      /* all of it is writable */
	used0 = tst_region(r).used;
	ck_assert_int_eq(rgn_tail_commit(r, 50), 0);
	ck_assert_uint_ge(tst_region(r).used, used0 + 50);
	q = rgn_alloc(r, 8);
	ck_assert_ptr_nonnull(q);
	ck_assert(q >= p + 50 || q + 8 <= p);
	memset(q, 0, 8);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(p[i], 0x5a);

	/* a tail bigger than any chunk */
	p = rgn_tail(r, 1 * MiB, &avail);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(avail, 1 * MiB);
	tst_fill(p, 1 * MiB, 8);
	ck_assert_int_eq(rgn_tail_commit(r, 1 * MiB), 0);
	q = rgn_alloc(r, 1000);
	ck_assert(q >= p + 1 * MiB || q + 1000 <= p);
	memset(q, 0, 1000);
	ck_assert(tst_verify(p, 1 * MiB, 8));
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_tail_returns_blocks)
{
	struct rgn_space_stats s0, s1, s2;
	struct rgn_region_stats r0, r1, r2;
	rgn_region *r;
	size_t avail;
	char *p;

	tst_init(64 * MiB, 0);
	r = new_root();
	ck_assert_ptr_nonnull(rgn_alloc(r, 100));
	s0 = tst_space();
	r0 = tst_region(r);
	p = rgn_tail(r, 64 * KiB, &avail);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(avail, 64 * KiB);
	s1 = tst_space();
	r1 = tst_region(r);
	ck_assert_uint_ge(r1.blocks, 16);
	tst_fill(p, 10000, 3);
	if (contig()) {
		char *q;

		/* one range: the bytes not used stay the region's, and the
		 * next allocation starts right after the used ones */
		ck_assert_uint_eq(s1.used_blocks, s0.used_blocks);
		ck_assert_uint_ge(r1.committed, r0.committed + 64 * KiB - 8 * KiB);
		ck_assert_int_eq(rgn_tail_commit(r, 10000), 0);
		r2 = tst_region(r);
		ck_assert_uint_eq(r2.blocks, r1.blocks);
		ck_assert_uint_ge(r2.used, r0.used + 10000);
		q = rgn_alloc(r, 8);
		ck_assert_ptr_eq(q, p + 10000);
		ck_assert(tst_verify(p, 10000, 3));
		rgn_destroy(r);
		return;
	}
	ck_assert_uint_eq(s1.used_blocks - s0.used_blocks, r1.blocks - r0.blocks);

	ck_assert_int_eq(rgn_tail_commit(r, 10000), 0);
	s2 = tst_space();
	r2 = tst_region(r);
	ck_assert_uint_le(r2.blocks, 4);
	ck_assert_uint_ge(r2.used, r0.used + 10000);
	ck_assert_uint_eq(s2.used_blocks + r1.blocks, s1.used_blocks + r2.blocks);
	ck_assert(tst_verify(p, 10000, 3));
	tst_space_consistent(&s2);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_tail_many)
{
	enum { N = 300 };
	struct piece v[N];
	uint64_t seed = 9;
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = new_root();
	for (int i = 0; i < N; i++) {
		size_t avail, min = tst_range(&seed, 1, 20000), used;
		char *p = rgn_tail(r, min, &avail);

		ck_assert_ptr_nonnull(p);
		ck_assert_uint_ge(avail, min);
		used = tst_range(&seed, 0, avail);
		tst_fill(p, used, (unsigned)i);
		ck_assert_int_eq(rgn_tail_commit(r, used), 0);
		v[i].p = p;
		v[i].n = used;
		if (i % 3 == 0) {       /* ordinary allocations in between */
			char *q = rgn_alloc(r, 100);
			ck_assert_ptr_nonnull(q);
			memset(q, 0xfe, 100);
		}
	}
	for (int i = 0; i < N; i++)
		ck_assert_msg(tst_verify(v[i].p, v[i].n, (unsigned)i), "tail %d", i);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_tail_bad)
{
	volatile size_t huge = 1 * GiB;
	rgn_region *r;
	size_t avail;
	char *p;

	tst_init(64 * MiB, 0);
	r = new_root();
	p = rgn_tail(r, 10, &avail);
	ck_assert_ptr_nonnull(p);
	tst_fails_with(rgn_tail_commit(r, avail + 8), EINVAL);
	tst_null_with(rgn_tail(NULL, 10, &avail), EINVAL);
	tst_fails_with(rgn_tail_commit(NULL, 0), EINVAL);
	tst_null_with(rgn_tail(r, huge, &avail), ENOMEM);
	/* still usable */
	p = rgn_tail(r, 10, &avail);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(rgn_tail_commit(r, 10), 0);
	ck_assert_ptr_nonnull(rgn_alloc(r, 10));
	rgn_destroy(r);
}
END_TEST

/* ---- the region stack ------------------------------------------------------ */

START_TEST(test_region_push_pop)
{
	rgn_region *a, *b, *c;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	ck_assert_ptr_null(rgn_current());
	a = rgn_push();
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(rgn_current(), a);
	on_destroy(a, 1);
	b = rgn_push();
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(rgn_current(), b);
	ck_assert_uint_eq(tst_region(a).children, 1);   /* b is a's child */
	on_destroy(b, 2);
	c = rgn_push();
	ck_assert_ptr_eq(rgn_current(), c);
	on_destroy(c, 3);
	on_destroy(new_child(c), 4);   /* of the backend under test */
	ck_assert_ptr_nonnull(rgn_alloc(rgn_current(), 100));
	rgn_pop();
	ASSERT_LOG(4, 3);
	ck_assert_ptr_eq(rgn_current(), b);
	rgn_pop();
	ASSERT_LOG(4, 3, 2);
	ck_assert_ptr_eq(rgn_current(), a);
	ck_assert_uint_eq(tst_region(a).children, 0);
	rgn_pop();
	ASSERT_LOG(4, 3, 2, 1);
	ck_assert_ptr_null(rgn_current());
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

START_TEST(test_region_push_deep)
{
	static rgn_region *seen[1000];

	tst_init(64 * MiB, 0);
	for (int i = 0; i < 1000; i++) {
		seen[i] = rgn_push();
		ck_assert_ptr_nonnull(seen[i]);
	}
	ck_assert_uint_eq(tst_space().live_regions, 1000);
	for (int i = 999; i >= 0; i--) {
		ck_assert_ptr_eq(rgn_current(), seen[i]);
		rgn_pop();
	}
	ck_assert_ptr_null(rgn_current());
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

START_TEST(test_region_scope_normal_exit)
{
	rgn_region *outer, *in = NULL;
	int runs = 0;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	outer = rgn_push();
	RGN_SCOPE {
		in = rgn_current();
		ck_assert_ptr_nonnull(in);
		ck_assert_ptr_ne(in, outer);
		ck_assert_uint_eq(tst_region(outer).children, 1);
		on_destroy(in, 1);
		on_destroy(new_child(in), 2);
		ck_assert_ptr_nonnull(rgn_alloc(in, 1000));
		runs++;
	}
	ck_assert_int_eq(runs, 1);
	ASSERT_LOG(2, 1);
	ck_assert_ptr_eq(rgn_current(), outer);
	ck_assert_uint_eq(tst_region(outer).children, 0);
	rgn_pop();
	ck_assert_ptr_null(rgn_current());
}
END_TEST

START_TEST(test_region_scope_break)
{
	int runs = 0;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	for (int i = 0; i < 3; i++) {
		RGN_SCOPE {
			on_destroy(rgn_current(), i);
			runs++;
			if (i == 1)
				break;      /* leaves the scope, not the outer loop */
			ck_assert_ptr_nonnull(rgn_alloc(rgn_current(), 8));
		}
		ck_assert_ptr_null(rgn_current());
	}
	ck_assert_int_eq(runs, 3);
	ASSERT_LOG(0, 1, 2);

	/* break out of a loop inside the scope, then out of the scope */
	clog_n = 0;
	RGN_SCOPE {
		on_destroy(rgn_current(), 5);
		RGN_SCOPE {
			on_destroy(rgn_current(), 6);
			break;
		}
		ASSERT_LOG(6);
		break;
	}
	ASSERT_LOG(6, 5);
	ck_assert_ptr_null(rgn_current());
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

static int scope_return(rgn_region **seen)
{
	RGN_SCOPE {
		*seen = rgn_current();
		on_destroy(rgn_current(), 42);
		return 1;
	}
	return 0;
}

START_TEST(test_region_scope_return)
{
	rgn_region *outer, *seen = NULL;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	outer = rgn_push();
	ck_assert_int_eq(scope_return(&seen), 1);
	ck_assert_ptr_nonnull(seen);
	ck_assert_ptr_ne(seen, outer);
	ASSERT_LOG(42);
	ck_assert_ptr_eq(rgn_current(), outer);
	ck_assert_uint_eq(tst_region(outer).children, 0);
	rgn_pop();
	ck_assert_ptr_null(rgn_current());
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

/* ---- statistics and bad arguments -------------------------------------- */

START_TEST(test_region_stats_fields)
{
	struct rgn_region_stats s0, s;
	rgn_region *r, *c1, *c2;

	tst_init(64 * MiB, 0);
	r = new_root();
	s0 = tst_region(r);

	ck_assert_ptr_nonnull(rgn_alloc(r, 100 * KiB));
	s = tst_region(r);
	ck_assert_uint_ge(s.used, s0.used + 100 * KiB);
	ck_assert_uint_eq(s.chunks, s0.chunks);
	if (contig()) {
		/* one range, read-write as far as it is used */
		ck_assert_uint_eq(s.large, 0);
		ck_assert_uint_eq(s.reserved, tst_space_size);
		ck_assert_uint_ge(s.committed, s.used + 4096);
		ck_assert_uint_eq(s.blocks, s.committed / RGN_BLOCK_SIZE - 1);
	} else {
		ck_assert_uint_eq(s.large, s0.large + 1);
		ck_assert_uint_ge(s.blocks, s0.blocks + 25);
		ck_assert_uint_eq(s.reserved, 0);
	}

	for (int i = 0; i < 1000; i++)
		ck_assert_ptr_nonnull(rgn_alloc(r, 1000));
	s = tst_region(r);
	if (contig())
		ck_assert_uint_eq(s.chunks, 1);
	else
		ck_assert_uint_gt(s.chunks, s0.chunks);
	ck_assert_uint_ge(s.used, s0.used + 100 * KiB + 1000 * 1000);
	ck_assert_uint_ge(s.blocks, s.chunks + 25);
	ck_assert_uint_ge(s.blocks * RGN_BLOCK_SIZE, s.used);

	c1 = new_child(r);
	c2 = new_child(r);
	(void)new_child(c1);
	ck_assert_uint_eq(tst_region(r).children, 2);
	rgn_destroy(c2);
	ck_assert_uint_eq(tst_region(r).children, 1);

	ck_assert_int_eq(rgn_on_destroy(r, log_cb, ID(1)), 0);
	ck_assert_int_eq(rgn_on_destroy(r, log_cb, ID(2)), 0);
	ck_assert_uint_eq(tst_region(r).cleanups, 2);
	ck_assert_int_eq(rgn_on_destroy_cancel(r, log_cb, ID(1)), 0);
	ck_assert_uint_eq(tst_region(r).cleanups, 1);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_region_null_arguments)
{
	struct rgn_region_stats st;
	rgn_mark m;
	rgn_region *r;
	size_t avail;

	tst_init(16 * MiB, 0);
	r = new_root();
	m = rgn_save(r);

	tst_null_with(rgn_alloc(NULL, 8), EINVAL);
	tst_null_with(rgn_alloc(NULL, 0), EINVAL);
	tst_null_with(rgn_alloc_aligned(NULL, 8, 16), EINVAL);
	tst_null_with(rgn_calloc(NULL, 1, 8), EINVAL);
	tst_null_with(rgn_alloc_array(NULL, 1, 8), EINVAL);
	tst_null_with(rgn_strdup(NULL, "x"), EINVAL);
	tst_null_with(rgn_strndup(NULL, "x", 1), EINVAL);
	tst_null_with(rgn_format(NULL, "%d", 1), EINVAL);
	tst_null_with(rgn_realloc(NULL, NULL, 0, 8), EINVAL);
	tst_null_with(rgn_tail(NULL, 8, &avail), EINVAL);
	tst_fails_with(rgn_on_destroy(NULL, log_cb, NULL), EINVAL);
	tst_fails_with(rgn_on_destroy_cancel(NULL, log_cb, NULL), EINVAL);
	tst_fails_with(rgn_region_stats(NULL, &st), EINVAL);
	tst_fails_with(rgn_region_stats(r, NULL), EINVAL);
	tst_fails_with(rgn_rewind(NULL, m), EINVAL);
	tst_fails_with(rgn_adopt(r, NULL), EINVAL);
	tst_fails_with(rgn_merge(NULL, r), EINVAL);
	tst_fails_with(rgn_tail_commit(NULL, 0), EINVAL);

	/* none of it hurt the region */
	ck_assert_ptr_nonnull(rgn_alloc(r, 8));
	ck_assert_uint_eq(tst_space().live_regions, 1);
	rgn_destroy(r);
}
END_TEST

/* ---- options --------------------------------------------------------------- */

START_TEST(test_region_new_with_null_opts)
{
	rgn_options zero = { 0 };
	rgn_region *p, *c, *z, *n;

	tst_init(16 * MiB, 0);
	clog_n = 0;
	n = rgn_new_with(NULL, NULL);          /* a root of the block backend */
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(tst_region(n).backend, RGN_BACKEND_BLOCKS);
	rgn_destroy(n);
	p = new_root();                        /* the backend under test */
	c = rgn_new_with(p, NULL);
	ck_assert_ptr_nonnull(c);
	z = rgn_new_with(p, &zero);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(tst_region(c).backend, RGN_BACKEND_BLOCKS);
	ck_assert_int_eq(tst_region(z).backend, RGN_BACKEND_BLOCKS);
	ck_assert_uint_eq(tst_region(p).children, 2);
	on_destroy(c, 1);
	on_destroy(z, 2);
	ck_assert_ptr_nonnull(rgn_alloc(c, 100 * KiB));
	ck_assert_ptr_nonnull(rgn_alloc(z, 1000));
	rgn_destroy(p);
	ck_assert_int_eq(clog_n, 2);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

static size_t chunks_for(rgn_region *r)
{
	for (int i = 0; i < 20000; i++)
		ck_assert_ptr_nonnull(rgn_alloc(r, 100));
	return tst_region(r).chunks;
}

START_TEST(test_region_chunk_max)
{
	static const size_t caps[] = { 8 * KiB, 16 * KiB };
	rgn_region *def;
	size_t def_chunks;

	tst_init(64 * MiB, 0);
	def = new_root();
	def_chunks = chunks_for(def);
	ck_assert_uint_eq(tst_region(def).large, 0);
	for (size_t i = 0; i < 2; i++) {
		rgn_options o = { .backend = backend, .chunk_max = caps[i],
		                  .reserve = contig() ? 64 * MiB : 0 };
		struct rgn_region_stats st;
		rgn_region *r = rgn_new_with(NULL, &o);

		ck_assert_ptr_nonnull(r);
		chunks_for(r);
		st = tst_region(r);
		ck_assert_uint_eq(st.large, 0);
		if (contig()) {
			/* no chunks to cap: one range, whatever chunk_max says */
			ck_assert_uint_eq(st.chunks, 1);
			ck_assert_uint_eq(def_chunks, 1);
			ck_assert_uint_ge(st.blocks * RGN_BLOCK_SIZE, st.used);
			rgn_destroy(r);
			continue;
		}
		/* no chunk is over the cap: blocks <= chunks * cap / block */
		ck_assert_msg(st.blocks <= st.chunks * (caps[i] / RGN_BLOCK_SIZE),
		              "cap %zu: %zu blocks in %zu chunks", caps[i],
		              st.blocks, st.chunks);
		ck_assert_uint_ge(st.chunks, 20000 * 104 / caps[i]);
		ck_assert_uint_lt(def_chunks * 2, st.chunks);
		rgn_destroy(r);
	}
	rgn_destroy(def);
}
END_TEST

/* Contiguous options: a reservation from 1 MiB to 32 GiB, a known release
 * policy; the smallest one holds what fits and refuses the rest.  The
 * parent is of the backend under test. */
START_TEST(test_region_contig_options)
{
	static const size_t bad_reserve[] = {
		1, 4096, 1 * MiB - 1, ((size_t)32 << 30) + 1, SIZE_MAX,
	};
	rgn_options o = { .backend = RGN_BACKEND_CONTIG };
	rgn_region *p, *r;
	char *x;

	tst_init(16 * MiB, 0);
	p = new_root();
	for (size_t i = 0; i < sizeof bad_reserve / sizeof bad_reserve[0]; i++) {
		o.reserve = bad_reserve[i];
		tst_null_with(rgn_new_with(p, &o), EINVAL);
	}
	o.reserve = 1 * MiB;
	o.release = (rgn_release)7;
	tst_null_with(rgn_new_with(p, &o), EINVAL);
	o.release = RGN_RELEASE_DEFAULT;
	o.backend = (rgn_backend)5;
	tst_null_with(rgn_new_with(p, &o), EINVAL);
	ck_assert_uint_eq(tst_region(p).children, 0);
	ck_assert_uint_eq(tst_space().live_regions, 1);

	o.backend = RGN_BACKEND_CONTIG;
	r = rgn_new_with(p, &o);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(tst_region(r).reserved, 1 * MiB);
	ck_assert_uint_eq(tst_region(p).children, 1);
	tst_null_with(rgn_alloc(r, 1 * MiB), ENOMEM);
	x = rgn_alloc(r, 900 * KiB);
	ck_assert_ptr_nonnull(x);
	memset(x, 7, 900 * KiB);
	tst_null_with(rgn_alloc(r, 200 * KiB), ENOMEM);
	ck_assert_ptr_nonnull(rgn_alloc(r, 1000));
	rgn_destroy(p);
	ck_assert_uint_eq(tst_space().live_regions, 0);
	ck_assert_uint_eq(tst_contig().live, 0);
}
END_TEST

/* ---- spans: large objects coalesce when their regions go ------------------- */

#ifdef TST_EMULATED
#define NREGIONS 500    /* qemu-user: each contiguous reservation costs ms */
#else
#define NREGIONS 10000
#endif
#define RGN_CONTIG_CACHE_DEFAULT_TST 8   /* rgn_contig_config.cache_max */

START_TEST(test_region_spans_coalesce)
{
	static rgn_region *rs[NREGIONS];
	static size_t order[NREGIONS];
	struct rgn_space_stats s0, s1, s2;
	uint64_t seed = 4242;
	size_t total = 0;
	rgn_region *big;
	char *p;
	/* valgrind's address space holds a few dozen 2 GiB reservations */
	size_t nregions = contig() && tst_vg() ? 24 : NREGIONS;

	tst_init(2 * GiB, 0);
	s0 = tst_space();
	for (size_t i = 0; i < nregions; i++) {
		size_t n = tst_range(&seed, 32 * KiB + 1, 160 * KiB);

		rs[i] = make(NULL);
		ck_assert_ptr_nonnull(rs[i]);
		p = rgn_alloc(rs[i], n);
		ck_assert_ptr_nonnull(p);
		p[0] = p[n - 1] = 1;
		total += n;
		order[i] = i;
	}
	ck_assert_uint_eq(tst_space().live_regions, nregions);
	tst_shuffle(&seed, order, nregions);
	for (size_t i = 0; i < nregions; i++)
		rgn_destroy(rs[order[i]]);
	rgn_space_trim();
	s1 = tst_space();
	tst_space_consistent(&s1);
	ck_assert_uint_eq(s1.used_blocks, s0.used_blocks);
	ck_assert_uint_eq(s1.cached_blocks, 0);
	ck_assert_uint_eq(s1.live_regions, 0);
	ck_assert_uint_eq(tst_contig().live, 0);
	ck_assert_uint_le(tst_contig().cached, RGN_CONTIG_CACHE_DEFAULT_TST);

	big = make(NULL);
	ck_assert_ptr_nonnull(big);
	p = rgn_alloc(big, total);
	ck_assert_ptr_nonnull(p);
	p[0] = p[total - 1] = 2;
	s2 = tst_space();
	ck_assert_uint_eq(s2.high_water_blocks, s1.high_water_blocks);
	rgn_destroy(big);
}
END_TEST

/* ---- regressions ------------------------------------------------------------- */

/* A free span that ends at the frontier joins fresh blocks: a 64 MiB
 * space whose first 40 MiB were used and given back still has room for
 * one 50 MiB object. */
START_TEST(test_region_reuse_free_span_at_frontier)
{
	rgn_region *r;
	char *p;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	ck_assert_ptr_nonnull(rgn_alloc(r, 40 * MiB));
	rgn_destroy(r);
	rgn_space_trim();
	r = make(NULL);
	errno = 0;
	p = rgn_alloc(r, 50 * MiB);
	ck_assert_msg(p != NULL, "errno %d", errno);
	p[0] = p[50 * MiB - 1] = 1;
	rgn_destroy(r);
}
END_TEST

/* An allocation between rgn_tail and rgn_tail_commit cancels the tail; a
 * commit then must not shrink the chunk under memory now in use. */
START_TEST(test_region_tail_cancelled_by_alloc)
{
	rgn_region *r;
	size_t avail;
	rgn_mark m;
	char *t, *p;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	t = rgn_tail(r, 12288, &avail);
	ck_assert_ptr_nonnull(t);
	p = rgn_alloc(r, 8192);
	ck_assert_ptr_nonnull(p);
	m = rgn_save(r);
	p = rgn_realloc(r, p, 8192, 8);
	tst_fails_with(rgn_tail_commit(r, 0), EINVAL);
	/* the shrink took the region below m: m is stale */
	tst_fails_with(rgn_rewind(r, m), EINVAL);
	/* the region's bump pointer is inside its chunk: a huge request must
	 * take the slow path and fail, not return memory */
	tst_null_with(rgn_alloc(r, (size_t)1 << 40), ENOMEM);
	memset(p, 0x5a, 8);
	rgn_destroy(r);
}
END_TEST

static rgn_region *alloc_in_cleanup_region;

static void alloc_in_cleanup(void *arg)
{
	(void)arg;
	ck_assert_ptr_nonnull(rgn_alloc(alloc_in_cleanup_region, 100 * 1000));
}

/* A cleanup run by rewind that allocates from the region: what it
 * allocates is freed with the rest and the counts stay right. */
START_TEST(test_region_rewind_cleanup_allocates)
{
	struct rgn_region_stats st, st0;
	rgn_region *r;
	rgn_mark m;

	tst_init(64 * MiB, 0);
	r = alloc_in_cleanup_region = new_root();
	st0 = tst_region(r);
	m = rgn_save(r);
	ck_assert_int_eq(rgn_on_destroy(r, alloc_in_cleanup, NULL), 0);
	ck_assert_int_eq(rgn_rewind(r, m), 0);
	st = tst_region(r);
	assert_blocks_back(st.blocks, st0.blocks);
	ck_assert_uint_eq(st.used, st0.used);
	ck_assert_uint_eq(st.large, 0);
	ck_assert_uint_eq(st.chunks, 1);
	rgn_destroy(r);
	ck_assert_uint_eq(tst_space().used_blocks, 0);
}
END_TEST

/* A mark whose bump pointer lies beyond the chunk as it is now is refused
 * before anything is freed. */
START_TEST(test_region_rewind_refuses_stale_mark)
{
	struct rgn_region_stats before, after;
	rgn_region *r;
	rgn_mark m;
	size_t avail;
	char *t;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	t = rgn_tail(r, 10 * 4096, &avail);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(rgn_tail_commit(r, 9 * 4096), 0);
	m = rgn_save(r);
	ck_assert_int_eq(rgn_rewind(r, m), 0);
	/* forge nothing: reset gives the chunk back, the mark is stale */
	rgn_reset(r);
	before = tst_region(r);
	tst_fails_with(rgn_rewind(r, m), EINVAL);
	after = tst_region(r);
	ck_assert_uint_eq(after.blocks, before.blocks);
	ck_assert_uint_eq(after.used, before.used);
	rgn_destroy(r);
}
END_TEST

/* Every test case gets the fixture that picks the backend (suites.h:
 * the misuse suite runs its cases the same way). */
TCase *tst_backend_tcase(const char *name, rgn_backend b)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, b == RGN_BACKEND_CONTIG ? setup_contig
	                                                       : setup_blocks, NULL);
	return tc;
}

Suite *suite_region(rgn_backend b)
{
	Suite *s = suite_create(b == RGN_BACKEND_CONTIG ? "region-contig" : "region");
	TCase *tc;

	tc = tst_backend_tcase("lifecycle", b);
	tcase_add_test(tc, test_region_new_root);
	tcase_add_test(tc, test_region_destroy_null);
	tcase_add_test(tc, test_region_children_die_with_parent);
	tcase_add_test(tc, test_region_destroy_child_alone);
	tcase_add_test(tc, test_region_reset);
	tcase_add_test(tc, test_region_reset_no_growth);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("cleanups", b);
	tcase_add_test(tc, test_region_cleanup_lifo_once);
	tcase_add_test(tc, test_region_cleanup_many);
	tcase_add_test(tc, test_region_cleanup_on_reset);
	tcase_add_test(tc, test_region_cancel_cleanup);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("alloc", b);
	tcase_add_test(tc, test_region_alloc_distinct);
	tcase_add_test(tc, test_region_alloc_zero);
	tcase_add_test(tc, test_region_used_exact);
	tcase_add_test(tc, test_region_alloc_huge);
	tcase_add_test(tc, test_region_alloc_aligned);
	tcase_add_test(tc, test_region_alloc_aligned_bad);
	tcase_add_test(tc, test_region_calloc);
	tcase_add_test(tc, test_region_calloc_dirty_reuse);
	tcase_add_test(tc, test_region_alloc_array);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("strings", b);
	tcase_add_test(tc, test_region_strdup);
	tcase_add_test(tc, test_region_printf);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("grow", b);
	tcase_add_test(tc, test_region_grow_in_place);
	tcase_add_test(tc, test_region_grow_copy);
	tcase_add_test(tc, test_region_grow_vector);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("marks", b);
	tcase_add_test(tc, test_region_rewind);
	tcase_add_test(tc, test_region_rewind_nested);
	tcase_add_test(tc, test_region_rewind_loop);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("ownership", b);
	tcase_add_test(tc, test_region_adopt);
	tcase_add_test(tc, test_region_adopt_to_root);
	tcase_add_test(tc, test_region_adopt_cycle);
	tcase_add_test(tc, test_region_merge);
	tcase_add_test(tc, test_region_merge_child_into_parent);
	tcase_add_test(tc, test_region_merge_invalid);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("tail", b);
	tcase_add_test(tc, test_region_tail_commit);
	tcase_add_test(tc, test_region_tail_returns_blocks);
	tcase_add_test(tc, test_region_tail_many);
	tcase_add_test(tc, test_region_tail_bad);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("stack", b);
	tcase_add_test(tc, test_region_push_pop);
	tcase_add_test(tc, test_region_push_deep);
	tcase_add_test(tc, test_region_scope_normal_exit);
	tcase_add_test(tc, test_region_scope_break);
	tcase_add_test(tc, test_region_scope_return);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("regressions", b);
	tcase_add_test(tc, test_region_reuse_free_span_at_frontier);
	tcase_add_test(tc, test_region_tail_cancelled_by_alloc);
	tcase_add_test(tc, test_region_rewind_cleanup_allocates);
	tcase_add_test(tc, test_region_rewind_refuses_stale_mark);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("stats", b);
	tcase_add_test(tc, test_region_stats_fields);
	tcase_add_test(tc, test_region_null_arguments);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("options", b);
	tcase_add_test(tc, test_region_new_with_null_opts);
	tcase_add_test(tc, test_region_chunk_max);
	tcase_add_test(tc, test_region_contig_options);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("spans", b);
	tcase_add_test(tc, test_region_spans_coalesce);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	return s;
}
