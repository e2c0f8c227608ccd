/*
 * adapt-malloc.h - the benchmark adapter for plain malloc/free (see
 * adapter.h): glibc's, or jemalloc's when built with -DBENCH_JEMALLOC.
 *
 * malloc has no regions, so a region is a token and releasing it frees
 * every pointer the driver recorded.  With BENCH_JEMALLOC the executable
 * links libjemalloc, whose malloc then replaces glibc's in the whole
 * process; ba_setup checks that by watching jemalloc's own count of the
 * bytes this thread allocated move across one malloc.
 */
#ifndef BENCH_ADAPT_MALLOC_H
#define BENCH_ADAPT_MALLOC_H

#include "adapter.h"

#include <stdint.h>
#include <stdlib.h>

#ifdef BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#define BA_NAME "jemalloc"
#else
#include <gnu/libc-version.h>
#define BA_NAME "glibc"
#endif
#define BA_FREES_EACH 1

static char ba_malloc_token;    /* what ba_new hands out: any non-NULL */

#ifdef BENCH_JEMALLOC
static uint64_t ba_jemalloc_allocated(void)
{
	uint64_t v = 0;
	size_t len = sizeof v;

	if (mallctl("thread.allocated", &v, &len, NULL, 0) != 0)
		return 0;
	return v;
}
#endif

static int ba_setup(size_t live_bytes, FILE *out)
{
	(void)live_bytes;
#ifdef BENCH_JEMALLOC
	const char *version = NULL;
	size_t len = sizeof version;
	uint64_t before;
	void *p;

	if (mallctl("version", &version, &len, NULL, 0) != 0) {
		fprintf(stderr, "jemalloc: mallctl(\"version\") failed\n");
		return -1;
	}
	before = ba_jemalloc_allocated();
	p = malloc(1000);
	bench_escape(p);
	if (ba_jemalloc_allocated() == before) {
		fprintf(stderr, "jemalloc: malloc() is not jemalloc's here\n");
		free(p);
		return -1;
	}
	free(p);
	fprintf(out, "info allocator jemalloc %s (malloc() checked to be "
	        "jemalloc's)\n", version);
#else
	fprintf(out, "info allocator glibc malloc %s\n", gnu_get_libc_version());
#endif
	return 0;
}

static inline ba_region *ba_new(void)
{
	return (ba_region *)(void *)&ba_malloc_token;
}

static inline void *ba_alloc(ba_region *r, size_t n)
{
	(void)r;
	return malloc(n);
}

static inline void ba_release(ba_region *r, void *const *ptrs, size_t count)
{
	(void)r;
	for (size_t i = 0; i < count; i++)
		free(ptrs[i]);
}

static void ba_stats(FILE *out)
{
	(void)out;
}

#endif /* BENCH_ADAPT_MALLOC_H */
