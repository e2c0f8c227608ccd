/*
 * test-space.c - the space: rgn_init, configuration from the environment,
 * rgn_space_stats, rgn_space_trim, retention, exhaustion and the OOM handler.
 * Public API only.
 */
#define _GNU_SOURCE
#include "suites.h"
#include "internal.h"   /* rgn_space_base_h_, in every decode mode */
#include "os/os.h"      /* fault injection: the OS refusing a commit */

#include <signal.h>
#if TST_POSIX
#include <sys/resource.h>
#endif

/* ---- init ----------------------------------------------------------------- */

START_TEST(test_space_init_defaults)
{
	struct rgn_space_stats st;
	rgn_region *r;
	char *p;

	unsetenv("RGN_SPACE");
	unsetenv("RGN_RETAIN");
	ck_assert_int_eq(rgn_init(NULL), 0);

	st = tst_space();
	/* valgrind refuses the 64 GiB mapping that aligns 32 GiB: the
	 * default falls back to a smaller power of two */
	if (tst_vg())
		ck_assert_uint_ge(st.size, GiB);
	else
		ck_assert_uint_eq(st.size, TST_SPACE_MAX);
	ck_assert_ptr_nonnull(st.base);
	ck_assert_uint_eq((uintptr_t)st.base % st.size, 0);
	ck_assert_ptr_eq(st.base, rgn_space_base_h_);
	ck_assert_uint_eq(st.block_size, RGN_BLOCK_SIZE);
	/* none asked for: the adaptive limit, at its floor in a fresh space */
	ck_assert_uint_eq(st.retain_limit, 256 * KiB);
	ck_assert_uint_eq(st.live_regions, 0);
	tst_space_consistent(&st);

	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	p = rgn_alloc(r, 100);
	ck_assert_ptr_nonnull(p);
	ck_assert(p >= (char *)st.base + st.block_size);
	ck_assert(p < (char *)st.base + st.size);
	memset(p, 0x5a, 100);
	/* the largest space is exactly what 32-bit references reach (a
	 * checking build refuses to decode or encode what no object can be
	 * at: test-debug.c) */
#ifndef RGN_CHECKS_
	ck_assert_uint_eq(rgn_ref_of(rgn_ptr(UINT32_MAX)), UINT32_MAX);
	ck_assert_ptr_eq(rgn_ptr(tst_ref0() + (rgn_ref)(st.size / 8 - 1)),
	                 (char *)st.base + st.size - 8);
#endif
#ifndef RGN_CHECKS_
	ck_assert_uint_eq(rgn_ref_of((char *)st.base + st.size - 8),
	                  tst_ref0() + (rgn_ref)(st.size / 8 - 1));
#endif
#ifndef RGN_DECODE_ZERO
	if (st.size == TST_SPACE_MAX)
		ck_assert_uint_eq(tst_ref0() + st.size / 8 - 1, UINT32_MAX);
#endif
	rgn_destroy(r);
}
END_TEST

static const size_t init_sizes[] = { 16 * MiB, 64 * MiB, 2 * GiB, TST_SPACE_MAX };

START_TEST(test_space_init_sizes)
{
	size_t size = init_sizes[_i];
	struct rgn_space_stats st;
	rgn_region *r;
	char *p;

	if (tst_vg() && size > 16 * GiB) {
		printf("test_space_init_sizes: %zu skipped: valgrind cannot "
		       "map twice that to align it\n", size);
		return;
	}
	tst_init(size, 0);
	st = tst_space();
	ck_assert_uint_eq(st.size, size);
	ck_assert_uint_eq((uintptr_t)st.base % size, 0);
	ck_assert_ptr_eq(st.base, rgn_space_base_h_);

	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	p = rgn_alloc(r, 64 * KiB);
	ck_assert_ptr_nonnull(p);
	ck_assert(p >= (char *)st.base + st.block_size);
	ck_assert(p + 64 * KiB <= (char *)st.base + size);
	memset(p, 1, 64 * KiB);
	/* the last granule of the space round-trips through a reference */
#ifndef RGN_CHECKS_
	ck_assert_uint_eq(rgn_ref_of(rgn_ptr(tst_ref0() + (rgn_ref)(size / 8 - 1))),
	                  tst_ref0() + size / 8 - 1);
#endif
#ifndef RGN_CHECKS_
	ck_assert_uint_eq(rgn_ref_of((char *)st.base + size - 8),
	                  tst_ref0() + size / 8 - 1);
#endif
	rgn_destroy(r);
}
END_TEST

START_TEST(test_space_init_bad_size)
{
	static const size_t bad[] = {
		48 * MiB,               /* not a power of two */
		16 * MiB + 4096,
		8 * MiB,                /* too small */
		4096,
		1,
		64 * GiB,               /* too large */
		SIZE_MAX,
	};
	rgn_config cfg = { 0 };

	unsetenv("RGN_SPACE");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cfg.space_size = bad[i];
		tst_fails_with(rgn_init(&cfg), EINVAL);
	}
	/* the failures reserved nothing */
	cfg.space_size = 64 * MiB;
	ck_assert_int_eq(rgn_init(&cfg), 0);
	ck_assert_uint_eq(tst_space().size, 64 * MiB);
}
END_TEST

START_TEST(test_space_init_twice_busy)
{
	rgn_config cfg = { .space_size = 64 * MiB };

	tst_init(16 * MiB, 0);
	tst_fails_with(rgn_init(&cfg), EBUSY);
	tst_fails_with(rgn_init(NULL), EBUSY);
	ck_assert_uint_eq(tst_space().size, 16 * MiB);
}
END_TEST

/* Under an address-space limit the 64 GiB needed to align the default
 * space cannot be had: the default falls back to a smaller power of two,
 * a size that was asked for fails.  (Not under sanitizers: their shadow
 * memory does not fit such a limit; not under user-mode emulation
 * (TST_EMULATED, set by the cross build), which does not apply the
 * guest's limit to the mappings it makes.) */
/* (no address-space limit to set on Windows either) */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(TST_EMULATED) || !TST_POSIX
#define TST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TST_SANITIZED 1
#endif
#endif

#ifndef TST_SANITIZED
static void limit_address_space(rlim_t bytes)
{
	struct rlimit rl = { bytes, bytes };

	ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
}

START_TEST(test_space_default_falls_back)
{
	struct rgn_space_stats st;
	rgn_region *r;

	unsetenv("RGN_SPACE");
	limit_address_space(20 * GiB);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	st = tst_space();
	ck_assert_uint_lt(st.size, 32 * GiB);
	ck_assert_uint_ge(st.size, 1 * GiB);
	ck_assert_uint_eq(st.size & (st.size - 1), 0);
	ck_assert_uint_eq((uintptr_t)st.base % st.size, 0);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_space_chosen_size_never_falls_back)
{
	rgn_config cfg = { .space_size = 32 * GiB };

	limit_address_space(20 * GiB);
	tst_fails_with(rgn_init(&cfg), ENOMEM);
	setenv("RGN_SPACE", "32G", 1);
	tst_null_with(rgn_new(NULL), ENOMEM);
}
END_TEST
/* With 1.5 GB of address space (a shell's ulimit -v 1500000), where
 * aligning 1 GiB by over-reserving would take 2: the fallback goes on
 * down (to 512 MiB; mode zero places its space by address and gets
 * 1 GiB). */
START_TEST(test_space_falls_back_below_1g)
{
	struct rgn_space_stats st;
	rgn_region *r;

	unsetenv("RGN_SPACE");
	limit_address_space((rlim_t)1500000 * 1024);
	r = rgn_new(NULL);
	ck_assert_msg(r != NULL, "rgn_new: %s", strerror(errno));
	st = tst_space();
	ck_assert_uint_le(st.size, 1 * GiB);
	ck_assert_uint_ge(st.size, 16 * MiB);
	ck_assert_uint_eq((uintptr_t)st.base % st.size, 0);
	ck_assert_ptr_nonnull(rgn_alloc(r, 4 * MiB));
	rgn_destroy(r);
}
END_TEST

/* A set-up on first use that failed is not tried again by later first
 * uses (same errno, at once); rgn_init tries again. */
START_TEST(test_space_failed_setup_remembered)
{
	rgn_config cfg = { .space_size = 64 * MiB };

	limit_address_space(20 * GiB);
	setenv("RGN_SPACE", "32G", 1);
	tst_null_with(rgn_new(NULL), ENOMEM);
	setenv("RGN_SPACE", "64M", 1); /* would fit now, but is not tried */
	tst_null_with(rgn_new(NULL), ENOMEM);
	ck_assert_int_eq(rgn_init(&cfg), 0);
	ck_assert_uint_eq(tst_space().size, 64 * MiB);
	rgn_destroy(rgn_new(NULL));
}
END_TEST
#endif /* TST_SANITIZED: registered only where they can run */

START_TEST(test_space_init_after_implicit_busy)
{
	rgn_region *r;

	setenv("RGN_SPACE", "16M", 1);
	r = rgn_new(NULL);       /* reserves the space with defaults */
	ck_assert_ptr_nonnull(r);
	tst_fails_with(rgn_init(NULL), EBUSY);
	ck_assert_uint_eq(tst_space().size, 16 * MiB);
	rgn_destroy(r);
}
END_TEST

static const struct { const char *env; size_t size; } env_sizes[] = {
	{ "64M", 64 * MiB },
	{ "2G", 2 * GiB },
	{ "16777216", 16 * MiB },
};

START_TEST(test_space_env_size)
{
	struct rgn_space_stats st;
	rgn_region *r;

	unsetenv("RGN_RETAIN");
	setenv("RGN_SPACE", env_sizes[_i].env, 1);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	st = tst_space();
	ck_assert_uint_eq(st.size, env_sizes[_i].size);
	ck_assert_uint_eq((uintptr_t)st.base % st.size, 0);
	ck_assert_uint_eq(st.live_regions, 1);
	rgn_destroy(r);
}
END_TEST

static const char *const env_bad[] = { "banana", "48M", "8M", "64G", "-1" };

START_TEST(test_space_env_invalid)
{
	setenv("RGN_SPACE", env_bad[_i], 1);
	tst_null_with(rgn_new(NULL), EINVAL);
	tst_fails_with(rgn_init(NULL), EINVAL);
}
END_TEST

START_TEST(test_space_env_overridden_by_config)
{
	rgn_config cfg = { .space_size = 32 * MiB };
	rgn_region *r;

	setenv("RGN_SPACE", "banana", 1);
	ck_assert_int_eq(rgn_init(&cfg), 0);
	ck_assert_uint_eq(tst_space().size, 32 * MiB);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	rgn_destroy(r);
}
END_TEST

START_TEST(test_space_env_retain)
{
	setenv("RGN_SPACE", "64M", 1);
	setenv("RGN_RETAIN", "1M", 1);
	ck_assert_int_eq(rgn_init(NULL), 0);
	ck_assert_uint_eq(tst_space().size, 64 * MiB);
	ck_assert_uint_eq(tst_space().retain_limit, 1 * MiB);
}
END_TEST

START_TEST(test_space_config_retain)
{
	tst_init(64 * MiB, 3 * MiB);
	ck_assert_uint_eq(tst_space().retain_limit, 3 * MiB);
}
END_TEST

/* ---- stats and trim -------------------------------------------------------- */

START_TEST(test_space_stats_null)
{
	tst_init(16 * MiB, 0);
	tst_fails_with(rgn_space_stats(NULL), EINVAL);
}
END_TEST

START_TEST(test_space_stats_track)
{
	struct rgn_space_stats s0, s1, s2, s3;
	rgn_region *r, *c;
	char *big;

	tst_init(64 * MiB, 0);
	s0 = tst_space();
	tst_space_consistent(&s0);
	ck_assert_uint_eq(s0.live_regions, 0);

	r = rgn_new(NULL);
	c = rgn_new(r);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(c);
	s1 = tst_space();
	tst_space_consistent(&s1);
	ck_assert_uint_eq(s1.live_regions, 2);
	ck_assert_uint_ge(s1.used_blocks, s0.used_blocks + 2);
	ck_assert_uint_ge(s1.high_water_blocks, s0.high_water_blocks);
	ck_assert_uint_ge(s1.committed, (s1.high_water_blocks - 1) * s1.block_size);
	ck_assert_uint_le(s1.committed, s1.size);

	big = rgn_alloc(r, 4 * MiB);
	ck_assert_ptr_nonnull(big);
	memset(big, 0x11, 4 * MiB);
	s2 = tst_space();
	tst_space_consistent(&s2);
	ck_assert_uint_ge(s2.used_blocks, s1.used_blocks + 4 * MiB / s2.block_size);
	ck_assert_uint_ge(s2.high_water_blocks + s1.free_blocks + s1.cached_blocks,
	                  s1.high_water_blocks + 4 * MiB / s2.block_size);
	ck_assert_uint_ge(s2.committed, s1.committed);
	ck_assert_uint_ge(s2.committed, (s2.high_water_blocks - 1) * s2.block_size);
	ck_assert_ptr_eq(s2.base, s0.base);

	rgn_destroy(r);
	s3 = tst_space();
	tst_space_consistent(&s3);
	ck_assert_uint_eq(s3.live_regions, 0);
	ck_assert_uint_eq(s3.used_blocks, s0.used_blocks);
	ck_assert_uint_eq(s3.high_water_blocks, s2.high_water_blocks);
	ck_assert_uint_ge(s3.committed, s2.committed);
	ck_assert_uint_ge(s3.free_blocks + s3.cached_blocks,
	                  s2.free_blocks + s2.cached_blocks + 4 * MiB / s3.block_size);
}
END_TEST

/* Fill r with about n bytes: small objects and a 1 MiB one, all touched. */
static void fill_region(rgn_region *r, size_t n)
{
	char *big = rgn_alloc(r, 1 * MiB);
	size_t done = 1 * MiB;

	ck_assert_ptr_nonnull(big);
	memset(big, 0xee, 1 * MiB);
	while (done < n) {
		char *p = rgn_alloc(r, 1000);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xee, 1000);
		done += 1000;
	}
}

START_TEST(test_space_trim)
{
	struct rgn_space_stats s1, s2;
	rgn_region *r;
	size_t rss1, rss2;

	tst_init(64 * MiB, 64 * MiB);   /* a fixed 64 MiB: nothing purged */
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	fill_region(r, 8 * MiB);
	rgn_destroy(r);

	s1 = tst_space();
	tst_space_consistent(&s1);
	ck_assert_uint_ge(s1.retained_blocks, 1 * MiB / s1.block_size);
	rss1 = tst_rss();

	rgn_space_trim();
	s2 = tst_space();
	tst_space_consistent(&s2);
	rss2 = tst_rss();
	ck_assert_uint_eq(s2.cached_blocks, 0);
	ck_assert_uint_eq(s2.retained_blocks, 0);
	ck_assert_uint_eq(s2.free_blocks, s1.free_blocks + s1.cached_blocks);
	ck_assert_uint_eq(s2.used_blocks, s1.used_blocks);
	ck_assert_uint_ge(s2.purged_bytes,
	                  s1.purged_bytes + s1.retained_blocks * s1.block_size);
	ck_assert_uint_gt(s2.purges, s1.purges);
	/* the 8 MiB went back to the OS */
	ck_assert_msg(rss2 + 6 * MiB <= rss1, "rss %zu -> %zu", rss1, rss2);

	/* trimming again has nothing to do */
	rgn_space_trim();
	ck_assert_uint_eq(tst_space().purged_bytes, s2.purged_bytes);
}
END_TEST

START_TEST(test_space_retain_none)
{
	struct rgn_space_stats s0, s1;
	rgn_region *r;

	tst_init(64 * MiB, 1);   /* below one block: keep nothing */
	s0 = tst_space();
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	fill_region(r, 4 * MiB);
	rgn_destroy(r);
	s1 = tst_space();
	tst_space_consistent(&s1);
	ck_assert_uint_eq(s1.retained_blocks, 0);
	ck_assert_uint_ge(s1.purged_bytes, s0.purged_bytes + 1 * MiB);
}
END_TEST

START_TEST(test_space_retain_limit)
{
	struct rgn_space_stats st;
	rgn_region *r;

	tst_init(64 * MiB, 1 * MiB);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < 8; i++) {
		char *p = rgn_alloc(r, 1 * MiB);
		ck_assert_ptr_nonnull(p);
		memset(p, i, 1 * MiB);
	}
	fill_region(r, 2 * MiB);
	rgn_destroy(r);
	st = tst_space();
	tst_space_consistent(&st);
	ck_assert_uint_le(st.retained_blocks * st.block_size, 1 * MiB);
	ck_assert_uint_ge(st.purged_bytes, 8 * MiB);
	ck_assert_uint_gt(st.purges, 0);
}
END_TEST

/* ---- exhaustion and the OOM handler ----------------------------------------- */

struct oom_record {
	int calls;
	size_t last;
	void *arg;
};
static struct oom_record oom_rec;

static void count_oom(size_t size, void *arg)
{
	oom_rec.calls++;
	oom_rec.last = size;
	oom_rec.arg = arg;
}

START_TEST(test_space_oom_handler_previous)
{
	int tag;

	tst_init(16 * MiB, 0);
	ck_assert_ptr_null((void *)rgn_set_oom_handler(count_oom, &tag));
	ck_assert_ptr_eq((void *)rgn_set_oom_handler(NULL, NULL), (void *)count_oom);
	ck_assert_ptr_null((void *)rgn_set_oom_handler(count_oom, &tag));
}
END_TEST

/* The OS refusing to commit (Windows: the commit limit reached; Linux:
 * the mapping limit) is ENOMEM from the allocation that needed it, and
 * the same allocation works once the OS agrees again.  In-process, so it
 * runs on every platform (the fault suite's sweep forks). */
START_TEST(test_space_commit_refused)
{
	const size_t big = 8 * MiB;
	struct rgn_space_stats st;
	rgn_region *r;
	char *p;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(rgn_alloc(r, 100));
	/* beyond the committed frontier: this needs the OS */
	rgn_os_fault_arm(-1);
	tst_null_with(rgn_alloc(r, big), ENOMEM);
	rgn_os_fault_disarm();
	ck_assert_int_ge(atomic_load(&rgn_os_faults_g.failed), 1);
	st = tst_space();
	tst_space_consistent(&st);
	p = rgn_alloc(r, big);
	ck_assert_ptr_nonnull(p);
	memset(p, 7, big);
	ck_assert_int_eq(p[big - 1], 7);
	rgn_destroy(r);
	st = tst_space();
	tst_space_consistent(&st);
	ck_assert_uint_eq(st.live_regions, 0);
}
END_TEST

START_TEST(test_space_exhaustion)
{
	const size_t size = 64 * MiB;
	struct rgn_space_stats s0, st;
	rgn_region *big_r, *small_r, *outer, *extra[256];
	size_t nbig = 0, nsmall = 0, nextra = 0;
	int tag, calls;
	char *p;

	tst_init(size, 0);
	memset(&oom_rec, 0, sizeof oom_rec);
	ck_assert_ptr_null((void *)rgn_set_oom_handler(count_oom, &tag));
	s0 = tst_space();

	outer = rgn_push();
	ck_assert_ptr_nonnull(outer);
	big_r = rgn_new(NULL);
	small_r = rgn_new(NULL);
	ck_assert_ptr_nonnull(big_r);
	ck_assert_ptr_nonnull(small_r);

	/* 1 MiB objects until the space says no */
	for (;;) {
		errno = 0;
		p = rgn_alloc(big_r, 1 * MiB);
		if (!p)
			break;
		p[0] = p[1 * MiB - 1] = 1;
		ck_assert_uint_lt(++nbig, 64);
	}
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_int_eq(oom_rec.calls, 1);
	ck_assert_uint_ge(oom_rec.last, 1 * MiB);
	ck_assert_ptr_eq(oom_rec.arg, &tag);
	ck_assert_uint_ge(nbig, 56);

	/* then small ones into what is left */
	for (;;) {
		errno = 0;
		p = rgn_alloc(small_r, 1000);
		if (!p)
			break;
		p[0] = 2;
		ck_assert_uint_lt(++nsmall, 64 * MiB / 1000);
	}
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_int_eq(oom_rec.calls, 2);
	ck_assert_uint_ge(oom_rec.last, 1000);
	/* and regions, until not even one block is left */
	for (;;) {
		errno = 0;
		extra[nextra] = rgn_new(NULL);
		if (!extra[nextra])
			break;
		ck_assert_uint_lt(++nextra, 256);
	}
	ck_assert_int_eq(errno, ENOMEM);

	st = tst_space();
	tst_space_consistent(&st);
	/* ENOMEM came only once the frontier reached the end of the space */
	ck_assert_uint_ge(st.high_water_blocks * st.block_size, size - 2 * MiB);

	/* a failed push still pushes (a NULL region) and is popped once */
	tst_null_with(rgn_push(), ENOMEM);
	ck_assert_ptr_null(rgn_current());
	rgn_pop();
	ck_assert_ptr_eq(rgn_current(), outer);

	/* the regions still work as far as their memory goes */
	calls = oom_rec.calls;
	tst_null_with(rgn_alloc(big_r, 2 * MiB), ENOMEM);
	ck_assert_int_gt(oom_rec.calls, calls);

	/* giving the memory back makes allocation work again */
	rgn_destroy(big_r);
	rgn_destroy(small_r);
	for (size_t i = 0; i < nextra; i++)
		rgn_destroy(extra[i]);
	rgn_pop();
	ck_assert_ptr_null(rgn_current());
	st = tst_space();
	tst_space_consistent(&st);
	ck_assert_uint_eq(st.used_blocks, s0.used_blocks);
	ck_assert_uint_eq(st.live_regions, 0);

	calls = oom_rec.calls;
	big_r = rgn_new(NULL);
	ck_assert_ptr_nonnull(big_r);
	for (size_t i = 0; i < 48; i++) {
		p = rgn_alloc(big_r, 1 * MiB);
		ck_assert_ptr_nonnull(p);
		p[0] = 3;
	}
	for (size_t i = 0; i < 1000; i++)
		ck_assert_ptr_nonnull(rgn_alloc(big_r, 1000));
	ck_assert_int_eq(oom_rec.calls, calls);
	rgn_destroy(big_r);
	rgn_set_oom_handler(NULL, NULL);
}
END_TEST

START_TEST(test_space_alloc_larger_than_space)
{
	volatile size_t n = 64 * MiB + 1;
	struct rgn_space_stats st;
	rgn_region *r;
	char *p;

	tst_init(64 * MiB, 0);
	memset(&oom_rec, 0, sizeof oom_rec);
	rgn_set_oom_handler(count_oom, NULL);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	tst_null_with(rgn_alloc(r, n), ENOMEM);
	ck_assert_int_eq(oom_rec.calls, 1);
	ck_assert_uint_ge(oom_rec.last, n);
	/* nothing was lost: the region and the space still work */
	p = rgn_alloc(r, 32 * MiB);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 4096);
	ck_assert_int_eq(oom_rec.calls, 1);
	rgn_destroy(r);
	st = tst_space();
	tst_space_consistent(&st);
	ck_assert_uint_eq(st.live_regions, 0);
}
END_TEST

/* ---- churn: no growth over many cycles -------------------------------------- */

START_TEST(test_space_churn_million)
{
	struct rgn_space_stats s1, s2;
	size_t maps1, maps2;

	tst_init(64 * MiB, 0);
	{
		rgn_region *r = rgn_new(NULL);
		ck_assert_ptr_nonnull(r);
		ck_assert_ptr_nonnull(rgn_alloc(r, 64));
		rgn_destroy(r);
	}
	s1 = tst_space();
	maps1 = tst_maps_lines();
	for (long i = 1; i < 1000000; i++) {
		rgn_region *r = rgn_new(NULL);
		char *p;

		if (!r)
			ck_abort_msg("rgn_new failed at cycle %ld", i);
		p = rgn_alloc(r, 64);
		if (!p)
			ck_abort_msg("rgn_alloc failed at cycle %ld", i);
		p[0] = p[63] = (char)i;
		rgn_destroy(r);
	}
	s2 = tst_space();
	maps2 = tst_maps_lines();
	tst_space_consistent(&s2);
	ck_assert_uint_eq(s2.high_water_blocks, s1.high_water_blocks);
	ck_assert_uint_eq(s2.used_blocks, s1.used_blocks);
	ck_assert_uint_eq(s2.live_regions, 0);
	ck_assert_msg(maps2 <= maps1 + 16, "/proc/self/maps: %zu -> %zu lines",
	              maps1, maps2);
}
END_TEST

/* Fill r with n bytes of touched memory: objects of about 1 MiB and small
 * ones (about a sixteenth of the bytes). */
static void fill_touched(rgn_region *r, size_t n, uint64_t *seed)
{
	size_t done = 0;

	while (done < n) {
		size_t sz;
		char *p;

		if (tst_rand(seed) % 32 == 0)
			sz = tst_range(seed, 1 * MiB - 8 * KiB, 1 * MiB + 8 * KiB);
		else
			sz = tst_range(seed, 16, 4000);
		if (sz > n - done)
			sz = n - done;
		p = rgn_alloc(r, sz);
		ck_assert_ptr_nonnull(p);
		memset(p, 0xa5, sz);
		done += sz;
	}
}

START_TEST(test_space_rss_after_destroy)
{
	const size_t retain = 16 * MiB, fill = 256 * MiB;
	struct rgn_space_stats st;
	uint64_t seed = 42;
	size_t base_rss, peak_rss, end_rss;
	rgn_region *r;

	tst_init(512 * MiB, retain);

	/* once to carve the blocks (their descriptors stay resident) */
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	fill_touched(r, fill, &seed);
	rgn_destroy(r);
	rgn_space_trim();
	ck_assert_uint_eq(tst_space().retained_blocks, 0);
	base_rss = tst_rss();

	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	fill_touched(r, fill, &seed);
	peak_rss = tst_rss();
	ck_assert_msg(peak_rss >= base_rss + fill - 16 * MiB,
	              "filled region not resident: %zu -> %zu", base_rss, peak_rss);
	rgn_destroy(r);
	end_rss = tst_rss();

	st = tst_space();
	tst_space_consistent(&st);
	ck_assert_uint_le(st.retained_blocks * st.block_size, retain);
	ck_assert_msg(end_rss <= base_rss + retain + 1 * MiB,
	              "rss before %zu KiB, filled %zu KiB, after destroy %zu KiB "
	              "(retain limit %zu KiB)", base_rss >> 10, peak_rss >> 10,
	              end_rss >> 10, retain >> 10);
}
END_TEST

Suite *suite_space(void)
{
	Suite *s = suite_create("space");
	TCase *tc;

	tc = tcase_create("init");
	tcase_add_test(tc, test_space_init_defaults);
	tcase_add_loop_test(tc, test_space_init_sizes, 0,
	                    (int)(sizeof init_sizes / sizeof init_sizes[0]));
	tcase_add_test(tc, test_space_init_bad_size);
	tcase_add_test(tc, test_space_init_twice_busy);
	tcase_add_test(tc, test_space_init_after_implicit_busy);
#ifndef TST_SANITIZED
	tcase_add_test(tc, test_space_default_falls_back);
	tcase_add_test(tc, test_space_chosen_size_never_falls_back);
	tcase_add_test(tc, test_space_falls_back_below_1g);
	tcase_add_test(tc, test_space_failed_setup_remembered);
#endif
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("environment");
	tcase_add_loop_test(tc, test_space_env_size, 0,
	                    (int)(sizeof env_sizes / sizeof env_sizes[0]));
	tcase_add_loop_test(tc, test_space_env_invalid, 0,
	                    (int)(sizeof env_bad / sizeof env_bad[0]));
	tcase_add_test(tc, test_space_env_overridden_by_config);
	tcase_add_test(tc, test_space_env_retain);
	tcase_add_test(tc, test_space_config_retain);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("stats");
	tcase_add_test(tc, test_space_stats_null);
	tcase_add_test(tc, test_space_stats_track);
	tcase_add_test(tc, test_space_trim);
	tcase_add_test(tc, test_space_retain_none);
	tcase_add_test(tc, test_space_retain_limit);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("exhaustion");
	tcase_add_test(tc, test_space_oom_handler_previous);
	tcase_add_test(tc, test_space_exhaustion);
	tcase_add_test(tc, test_space_commit_refused);
	tcase_add_test(tc, test_space_alloc_larger_than_space);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("churn");
	tcase_add_test(tc, test_space_churn_million);
	tcase_add_test(tc, test_space_rss_after_destroy);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	return s;
}
