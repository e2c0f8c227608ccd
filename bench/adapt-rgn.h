/*
 * adapt-rgn.h - rgn (see adapter.h): the block backend, or, built with
 * -DBENCH_RGN_CONTIG (bench-rgn-contig), the contiguous backend.
 *
 * One root region per benchmark region; rgn_reset to reuse one, rgn_format
 * for strings, 32-bit references (rgn_ref, decoded with RGN_AT) in the
 * workloads whose nodes point at each other, and a cursor where a
 * workload allocates in a tight loop or recursion.
 *
 * The retained free memory is raised to hold what the workload keeps
 * alive at its peak, so that after a warm-up the timed runs reuse resident
 * blocks instead of faulting in fresh pages: the run measures allocation,
 * not the kernel (the other allocators keep their freed memory too:
 * glibc in its heaps, APR in its allocator's free lists).  RGN_RETAIN in
 * the environment, when set, wins.
 *
 * The contiguous backend gives every benchmark region a reservation of
 * its own (the default 32 GiB, and the default reuse cache); references
 * are then region-relative (rgn_ref_in / rgn_ptr_in), which the workloads
 * allow: each one links nodes within one region only.  The strategy
 * report (bench/strategy.c, strategy.md) compares the two backends
 * further.
 */
#ifndef BENCH_ADAPT_RGN_H
#define BENCH_ADAPT_RGN_H

#include "adapter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rgn.h"

#ifdef BENCH_RGN_CONTIG
#define BA_NAME "rgn-contig"
#define BA_BACKEND_NAME "contiguous backend"
#else
#define BA_NAME "rgn"
#define BA_BACKEND_NAME "block backend"
#endif
#define BA_FREES_EACH 0

static int ba_setup(size_t live_bytes, FILE *out)
{
	rgn_config cfg = { 0 };
	struct rgn_space_stats st;
	const char *env = getenv("RGN_RETAIN");

	/* chunk headers and the last, partly used chunk: a quarter is ample */
	if (!env || !*env)
		cfg.retain_limit = live_bytes + live_bytes / 4 + ((size_t)64 << 20);
	if (rgn_init(&cfg) != 0 || rgn_space_stats(&st) != 0) {
		fprintf(stderr, "rgn_init: %s\n", strerror(errno));
		return -1;
	}
	fprintf(out, "info allocator rgn %s (%s, decode %s)\n",
	        RGN_VERSION_STRING, BA_BACKEND_NAME, RGN_DECODE_MODE);
	fprintf(out, "info allocator rgn set-up: space %zu MiB, retain_limit "
	        "%zu MiB (%s)\n", st.size >> 20, st.retain_limit >> 20,
	        env && *env ? "from RGN_RETAIN" :
	        "raised to peak live + 1/4 + 64 MiB");
	return 0;
}

static inline ba_region *ba_new(void)
{
#ifdef BENCH_RGN_CONTIG
	static const rgn_options contig = { .backend = RGN_BACKEND_CONTIG };

	return (ba_region *)rgn_new_with(NULL, &contig);
#else
	return (ba_region *)rgn_new(NULL);
#endif
}

static inline void *ba_alloc(ba_region *r, size_t n)
{
	return rgn_alloc((rgn_region *)r, n);
}

static inline void ba_destroy(ba_region *r)
{
	rgn_destroy((rgn_region *)r);
}

#define ba_reset ba_reset
static inline ba_region *ba_reset(ba_region *r)
{
	rgn_reset((rgn_region *)r);
	return r;
}

#define ba_printf(r, ...) rgn_format((rgn_region *)(r), __VA_ARGS__)

#define BA_REF           rgn_ref
#if defined(BENCH_RGN_CONTIG)
#define BA_REF_OF(r, p)  rgn_ref_in((rgn_region *)(r), (p))
#define BA_AT(T, r, ref) ((T *)rgn_ptr_in((rgn_region *)(r), (ref)))
#elif defined(RGN_DECODE_GS)
/* RGN_AT is a segment pointer there; the workloads want a plain one */
#define BA_REF_OF(r, p)  ((void)(r), rgn_ref_of(p))
#define BA_AT(T, r, ref) ((void)(r), (T *)rgn_ptr(ref))
#else
#define BA_REF_OF(r, p)  ((void)(r), rgn_ref_of(p))
#define BA_AT(T, r, ref) ((void)(r), RGN_AT(T, ref))
#endif

/* The cursor (rgn_cursor_open): the workloads that build structures in a
 * loop or a recursion (alloc, binary-trees, compiler) allocate through it,
 * as a user of rgn would there; everything else goes through rgn_alloc.
 * -DBENCH_NO_CURSOR leaves it out (to build this harness against a
 * library that has none, and compare). */
#ifndef BENCH_NO_CURSOR
#define BA_CURSOR 1
typedef rgn_cursor ba_cursor;

static inline void ba_cursor_open(ba_region *r, ba_cursor *c)
{
	*c = rgn_cursor_open((rgn_region *)r);
}

static inline void *ba_cursor_alloc(ba_cursor *c, size_t n)
{
	return rgn_cursor_alloc(c, n);
}

static inline void *ba_cursor_both(ba_cursor *c, size_t n, BA_REF *ref)
{
	return rgn_cursor_both(c, n, ref);
}

static inline void ba_cursor_close(ba_region *r, ba_cursor *c)
{
	(void)r;
	rgn_cursor_close(c);
}
#endif

#define ba_stats ba_stats
static void ba_stats(FILE *out)
{
	struct rgn_space_stats st;

	if (rgn_space_stats(&st) != 0)
		return;
	fprintf(out, "info rgn high_water %zu MiB, retained %zu MiB, "
	        "purged %zu MiB in %zu madvise calls\n",
	        (st.high_water_blocks * st.block_size) >> 20,
	        (st.retained_blocks * st.block_size) >> 20,
	        st.purged_bytes >> 20, st.purges);
}

#endif /* BENCH_ADAPT_RGN_H */
