/*
 * adapt-rgn.h - the benchmark adapter for rgn (see adapter.h).
 *
 * One rgn region per benchmark region, created as a root.  The retained
 * free memory is raised to hold the largest region the driver builds, so
 * that after the untimed warm-up run the timed runs reuse resident blocks
 * instead of faulting fresh pages: the run measures allocation, not the
 * kernel.  RGN_RETAIN in the environment, when set, wins.
 */
#ifndef BENCH_ADAPT_RGN_H
#define BENCH_ADAPT_RGN_H

#include "adapter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rgn.h"

#define BA_NAME "rgn"
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
	fprintf(out, "info allocator rgn %s (decode %s)\n",
	        RGN_VERSION_STRING, RGN_DECODE_MODE);
	fprintf(out, "info rgn space %zu MiB, retain_limit %zu MiB\n",
	        st.size >> 20, st.retain_limit >> 20);
	return 0;
}

static inline ba_region *ba_new(void)
{
	return (ba_region *)rgn_new(NULL);
}

static inline void *ba_alloc(ba_region *r, size_t n)
{
	return rgn_alloc((rgn_region *)r, n);
}

static inline void ba_release(ba_region *r, void *const *ptrs, size_t count)
{
	(void)ptrs;
	(void)count;
	rgn_destroy((rgn_region *)r);
}

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
