/*
 * test-threads.c - regions used from several threads at once: each
 * thread churns its own regions (small and large objects, children,
 * cleanups, resets), regions are handed from one thread to another, and
 * afterwards the space's accounting adds up and rgn_blk_check() passes.
 *
 * Run alone (e.g. under TSan) with CK_RUN_SUITE=threads.  Workers never
 * call ck_assert: they count what went wrong and the main thread checks
 * the counts after joining them.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "suites.h"

#include <pthread.h>

#define ITERS 20000

struct rec {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};

struct worker {
	pthread_t tid;
	pthread_barrier_t *start;
	uint64_t seed;
	long iters;
	int trimmer;            /* also calls rgn_space_trim and reads stats */
	/* results, read by the main thread after the join */
	long failures;
	long corrupt;
	long cleanups_set;
	long cleanups_run;
	long allocs;
	long large;
};

static void count_cleanup(void *arg)
{
	((struct worker *)arg)->cleanups_run++;
}

static void mark(unsigned char *p, size_t n, unsigned char tag)
{
	if (n <= 256) {
		memset(p, tag, n);
	} else {
		memset(p, tag, 64);
		memset(p + n - 64, tag, 64);
	}
}

static int check(const unsigned char *p, size_t n, unsigned char tag)
{
	size_t head = n <= 256 ? n : 64;

	for (size_t i = 0; i < head; i++)
		if (p[i] != tag)
			return 0;
	if (n > 256)
		for (size_t i = n - 64; i < n; i++)
			if (p[i] != tag)
				return 0;
	return 1;
}

/* Fill a region (and perhaps its child) with n objects, recorded in v. */
static size_t fill(struct worker *w, rgn_region *r, rgn_region *c,
                   struct rec *v, size_t n)
{
	size_t m = 0;

	for (size_t j = 0; j < n; j++) {
		unsigned k = (unsigned)(tst_rand(&w->seed) % 128);
		size_t size = k == 0 ? tst_range(&w->seed, 33 * KiB, 120 * KiB)
		                     : tst_range(&w->seed, 1, 256);
		rgn_region *t = c && (j & 1) ? c : r;
		unsigned char *p;

		if (k == 1) {
			p = rgn_calloc(t, 1, size);
			if (p && !check(p, size, 0))
				w->corrupt++;
		} else {
			p = rgn_alloc(t, size);
		}
		if (!p) {
			w->failures++;
			continue;
		}
		w->allocs++;
		w->large += k == 0;
		v[m].p = p;
		v[m].n = size;
		v[m].tag = (unsigned char)(tst_rand(&w->seed) | 1);
		mark(p, size, v[m].tag);
		m++;
	}
	return m;
}

static void *churn(void *arg)
{
	struct worker *w = arg;
	struct rec *v = malloc(300 * sizeof *v);

	if (!v) {
		w->failures++;
		return NULL;
	}
	pthread_barrier_wait(w->start);
	for (long it = 0; it < w->iters; it++) {
		rgn_region *r = rgn_new(NULL), *c = NULL;
		size_t m;

		if (!r) {
			w->failures++;
			continue;
		}
		if (it % 8 == 0) {
			c = rgn_new(r);
			if (!c || rgn_on_destroy(c, count_cleanup, w) != 0)
				w->failures++;
			else
				w->cleanups_set++;
		}
		if (it % 4 == 0) {
			if (rgn_on_destroy(r, count_cleanup, w) != 0)
				w->failures++;
			else
				w->cleanups_set++;
		}
		m = fill(w, r, c, v, tst_range(&w->seed, 100, 300));
		for (size_t i = 0; i < m; i++)
			if (!check(v[i].p, v[i].n, v[i].tag))
				w->corrupt++;
		if (it % 16 == 5) {
			/* reset runs the cleanups and kills the child */
			rgn_reset(r);
			m = fill(w, r, NULL, v, 50);
			for (size_t i = 0; i < m; i++)
				if (!check(v[i].p, v[i].n, v[i].tag))
					w->corrupt++;
		}
		rgn_destroy(r);

		if (w->trimmer && it % 1000 == 999) {
			struct rgn_space_stats st;

			rgn_space_trim();
			if (rgn_space_stats(&st) != 0 || st.used_blocks > st.high_water_blocks)
				w->failures++;
		}
	}
	free(v);
	return NULL;
}

static void run_workers(int nthreads, long iters)
{
	struct rgn_space_stats s0, s1;
	struct worker w[8];
	pthread_barrier_t start;

	ck_assert_int_le(nthreads, 8);
	tst_init(256 * MiB, 8 * MiB);
	s0 = tst_space();
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, (unsigned)nthreads), 0);
	memset(w, 0, sizeof w);
	for (int i = 0; i < nthreads; i++) {
		w[i].start = &start;
		w[i].seed = 0x1234567ULL * (uint64_t)(i + 1);
		w[i].iters = iters;
		w[i].trimmer = i == 0;
		ck_assert_int_eq(pthread_create(&w[i].tid, NULL, churn, &w[i]), 0);
	}
	for (int i = 0; i < nthreads; i++)
		ck_assert_int_eq(pthread_join(w[i].tid, NULL), 0);
	pthread_barrier_destroy(&start);

	for (int i = 0; i < nthreads; i++) {
		ck_assert_msg(w[i].failures == 0, "thread %d: %ld failures", i, w[i].failures);
		ck_assert_msg(w[i].corrupt == 0, "thread %d: %ld corrupted objects", i, w[i].corrupt);
		ck_assert_int_eq(w[i].cleanups_run, w[i].cleanups_set);
		ck_assert_int_gt(w[i].allocs, iters * 100);
		ck_assert_int_gt(w[i].large, 0);
	}

	s1 = tst_space();
	tst_space_consistent(&s1);
	ck_assert_uint_eq(s1.live_regions, s0.live_regions);
	ck_assert_uint_eq(s1.used_blocks, s0.used_blocks);
	ck_assert_uint_eq(s1.cached_blocks, 0);       /* exits flushed the caches */
	ck_assert_uint_le(s1.retained_blocks * s1.block_size, s1.retain_limit);
	ck_assert_int_eq(rgn_blk_check(), 0);
	/* the main thread can go on using the space */
	{
		rgn_region *r = rgn_new(NULL);
		ck_assert_ptr_nonnull(r);
		ck_assert_ptr_nonnull(rgn_alloc(r, 200 * KiB));
		rgn_destroy(r);
	}
	ck_assert_int_eq(rgn_blk_check(), 0);
}

START_TEST(test_threads_churn)
{
	run_workers(_i == 0 ? 2 : 4, ITERS);
}
END_TEST

/* ---- regions handed from one thread to another ----------------------------- */

#define HANDOFF_N     4000
#define HANDOFF_SLOTS 8

struct handoff {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct { rgn_region *r; rgn_ref hdr; } slot[HANDOFF_SLOTS];
	unsigned head, tail;        /* under lock */
	long failures;              /* producer's */
	long corrupt, cleanups;     /* consumer's (cleanups run there) */
};

static void handoff_cleanup(void *arg)
{
	((struct handoff *)arg)->cleanups++;
}

/* Fill a region for the consumer: a header {count, index, ref of the first
 * object} and count objects; NULL if anything failed. */
static rgn_region *produce(struct handoff *h, long i, uint64_t *seed, rgn_ref *hdr_ref)
{
	rgn_region *r = rgn_new(NULL);
	uint64_t *hdr;

	if (!r)
		return NULL;
	hdr = rgn_alloc(r, 3 * sizeof *hdr);
	if (!hdr)
		goto fail;
	hdr[0] = tst_range(seed, 1, 64);
	hdr[1] = (uint64_t)i;
	for (uint64_t k = 0; k < hdr[0]; k++) {
		size_t n = k % 16 == 15 ? 40 * KiB : 128;
		unsigned char *p = rgn_alloc(r, n);

		if (!p)
			goto fail;
		memset(p, (int)((i + (long)k) & 0xff), n);
		if (k == 0)
			hdr[2] = rgn_ref_of(p);
	}
	if (rgn_on_destroy(r, handoff_cleanup, h) != 0)
		goto fail;
	*hdr_ref = rgn_ref_of(hdr);
	return r;
fail:
	rgn_destroy(r);
	return NULL;
}

static void *producer(void *arg)
{
	struct handoff *h = arg;
	uint64_t seed = 99;

	for (long i = 0; i < HANDOFF_N; i++) {
		rgn_ref hdr = RGN_NULL_REF;
		rgn_region *r = produce(h, i, &seed, &hdr);

		if (!r)
			h->failures++;
		/* every slot is passed on, failed ones as NULL */
		pthread_mutex_lock(&h->lock);
		while (h->tail - h->head == HANDOFF_SLOTS)
			pthread_cond_wait(&h->cond, &h->lock);
		h->slot[h->tail % HANDOFF_SLOTS].r = r;
		h->slot[h->tail % HANDOFF_SLOTS].hdr = hdr;
		h->tail++;
		pthread_cond_broadcast(&h->cond);
		pthread_mutex_unlock(&h->lock);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct handoff *h = arg;

	for (long i = 0; i < HANDOFF_N; i++) {
		struct rgn_region_stats st;
		const unsigned char *first;
		const uint64_t *hdr;
		rgn_region *r;
		rgn_ref ref;

		pthread_mutex_lock(&h->lock);
		while (h->tail == h->head)
			pthread_cond_wait(&h->cond, &h->lock);
		r = h->slot[h->head % HANDOFF_SLOTS].r;
		ref = h->slot[h->head % HANDOFF_SLOTS].hdr;
		h->head++;
		pthread_cond_broadcast(&h->cond);
		pthread_mutex_unlock(&h->lock);
		if (!r)
			continue;

		hdr = rgn_ptr(ref);
		first = rgn_ptr((rgn_ref)hdr[2]);
		if (hdr[1] != (uint64_t)i || !check(first, 128, (unsigned char)(i & 0xff)))
			h->corrupt++;
		if (rgn_region_stats(r, &st) != 0 || st.cleanups != 1)
			h->corrupt++;
		/* the region is this thread's now: allocate, then destroy */
		if (!rgn_alloc(r, 1000))
			h->corrupt++;
		rgn_destroy(r);
	}
	return NULL;
}

START_TEST(test_threads_handoff)
{
	struct rgn_space_stats s0, s1;
	struct handoff *h = calloc(1, sizeof *h);
	pthread_t p, c;

	ck_assert_ptr_nonnull(h);
	tst_init(256 * MiB, 4 * MiB);
	s0 = tst_space();
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	ck_assert_int_eq(pthread_create(&c, NULL, consumer, h), 0);
	ck_assert_int_eq(pthread_create(&p, NULL, producer, h), 0);
	ck_assert_int_eq(pthread_join(p, NULL), 0);
	ck_assert_int_eq(pthread_join(c, NULL), 0);
	ck_assert_int_eq(h->failures, 0);
	ck_assert_int_eq(h->corrupt, 0);
	ck_assert_int_eq(h->cleanups, HANDOFF_N);

	s1 = tst_space();
	tst_space_consistent(&s1);
	ck_assert_uint_eq(s1.live_regions, s0.live_regions);
	ck_assert_uint_eq(s1.used_blocks, s0.used_blocks);
	ck_assert_uint_eq(s1.cached_blocks, 0);
	ck_assert_int_eq(rgn_blk_check(), 0);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
END_TEST

/* ---- a thread that exits holding regions ---------------------------------- */

static void *leave_region(void *arg)
{
	rgn_region **out = arg;

	*out = rgn_new(NULL);
	if (*out && !rgn_alloc(*out, 100 * KiB))
		*out = NULL;
	/* exits with blocks in its cache and a live region */
	return NULL;
}

START_TEST(test_threads_region_outlives_thread)
{
	struct rgn_space_stats s0, s1;
	rgn_region *r = NULL;
	pthread_t t;

	tst_init(64 * MiB, 0);
	s0 = tst_space();
	ck_assert_int_eq(pthread_create(&t, NULL, leave_region, &r), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ptr_nonnull(r);
	s1 = tst_space();
	tst_space_consistent(&s1);
	ck_assert_uint_eq(s1.live_regions, s0.live_regions + 1);
	ck_assert_uint_eq(s1.cached_blocks, 0);
	ck_assert_int_eq(rgn_blk_check(), 0);
	/* the main thread adopts and destroys it */
	ck_assert_ptr_nonnull(rgn_alloc(r, 1000));
	rgn_destroy(r);
	s1 = tst_space();
	ck_assert_uint_eq(s1.live_regions, s0.live_regions);
	ck_assert_uint_eq(s1.used_blocks, s0.used_blocks);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

/* live_regions stays right when the last act on a region happens on a
 * thread that never took a block of its own (a merge, a destroy of a
 * region whose spans are all multi-block). */
static rgn_region *merge_dst, *merge_src;

static void *merge_elsewhere(void *arg)
{
	(void)arg;
	ck_assert_int_eq(rgn_merge(merge_dst, merge_src), 0);
	return NULL;
}

static void *destroy_elsewhere(void *arg)
{
	rgn_destroy(arg);
	return NULL;
}

START_TEST(test_threads_live_count_foreign_thread)
{
	rgn_region *b;
	pthread_t t;
	void *p;

	tst_init(64 * MiB, 0);
	merge_dst = rgn_new(NULL);
	merge_src = rgn_new(NULL);
	ck_assert_uint_eq(tst_space().live_regions, 2);
	ck_assert_int_eq(pthread_create(&t, NULL, merge_elsewhere, NULL), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(tst_space().live_regions, 1);
	rgn_destroy(merge_dst);
	ck_assert_uint_eq(tst_space().live_regions, 0);

	b = rgn_new(NULL);
	p = rgn_alloc(b, 100);
	p = rgn_realloc(b, p, 100, 3 * 4096);      /* own block grows in place */
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(rgn_alloc(b, 100 * 1000));
	ck_assert_int_eq(pthread_create(&t, NULL, destroy_elsewhere, b), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(tst_space().live_regions, 0);
	ck_assert_int_eq(rgn_blk_check(), 0);
}
END_TEST

Suite *suite_threads(void)
{
	Suite *s = suite_create("threads");
	TCase *tc;

	tc = tcase_create("churn");
	tcase_add_loop_test(tc, test_threads_churn, 0, 2);
	tcase_set_timeout(tc, 240);
	suite_add_tcase(s, tc);

	tc = tcase_create("handoff");
	tcase_add_test(tc, test_threads_handoff);
	tcase_add_test(tc, test_threads_region_outlives_thread);
	tcase_add_test(tc, test_threads_live_count_foreign_thread);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	return s;
}
