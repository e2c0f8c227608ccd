/*
 * adapt-malloc.h - plain malloc/free (see adapter.h): glibc's, or, built
 * with -DBENCH_JEMALLOC or -DBENCH_TCMALLOC, jemalloc's or tcmalloc's,
 * which then replace glibc's malloc in the whole process; on Windows, the
 * C runtime's (bench-crt, scripts/bench --cross win64).
 *
 * malloc has no regions: a region is a token, and the workloads free every
 * object with ba_free, as a program written for malloc would (binary-
 * trees recursively, the request handler from its list of objects).
 * ba_setup checks that malloc really is the allocator named, by watching
 * the allocator's own count of allocated bytes move across one malloc.
 */
#ifndef BENCH_ADAPT_MALLOC_H
#define BENCH_ADAPT_MALLOC_H

#include "adapter.h"

#include <stdint.h>
#include <stdlib.h>

#if defined(BENCH_JEMALLOC)
#include <jemalloc/jemalloc.h>
#define BA_NAME "jemalloc"
#elif defined(BENCH_TCMALLOC)
#include <gperftools/malloc_extension_c.h>
#include <gperftools/tcmalloc.h>
#define BA_NAME "tcmalloc"
#elif defined(_WIN32)
#define BA_NAME "crt"
#else
#include <gnu/libc-version.h>
#define BA_NAME "glibc"
#endif
#define BA_FREES_EACH 1

static char ba_malloc_token;    /* what ba_new hands out: any non-NULL */

#if defined(BENCH_JEMALLOC) || defined(BENCH_TCMALLOC)
/* Bytes the replacement allocator says are allocated now. */
static size_t ba_malloc_allocated(void)
{
#if defined(BENCH_JEMALLOC)
	uint64_t v = 0;
	size_t len = sizeof v;

	return mallctl("thread.allocated", &v, &len, NULL, 0) == 0 ? (size_t)v : 0;
#elif defined(BENCH_TCMALLOC)
	size_t v = 0;

	MallocExtension_GetNumericProperty("generic.current_allocated_bytes", &v);
	return v;
#endif
}
#endif

static int ba_setup(size_t live_bytes, FILE *out)
{
	(void)live_bytes;
#if defined(BENCH_JEMALLOC) || defined(BENCH_TCMALLOC)
	size_t before = ba_malloc_allocated();
	void *p = malloc(100000);

	bench_escape(p);
	if (ba_malloc_allocated() == before) {
		fprintf(stderr, BA_NAME ": malloc() is not " BA_NAME "'s here\n");
		free(p);
		return -1;
	}
	free(p);
#endif
#if defined(BENCH_JEMALLOC)
	const char *version = NULL;
	size_t len = sizeof version;

	if (mallctl("version", &version, &len, NULL, 0) != 0)
		version = "(unknown version)";
	fprintf(out, "info allocator jemalloc %s (malloc checked to be "
	        "jemalloc's; default settings)\n", version);
#elif defined(BENCH_TCMALLOC)
	int major, minor;
	const char *patch;

	tc_version(&major, &minor, &patch);
	fprintf(out, "info allocator tcmalloc %d.%d%s (gperftools; malloc "
	        "checked to be tcmalloc's; default settings)\n", major, minor, patch);
#elif defined(_WIN32)
	fprintf(out, "info allocator the C runtime's malloc (mingw-w64's "
	        "msvcrt.dll: the process heap, HeapAlloc; default settings)\n");
#else
	fprintf(out, "info allocator glibc malloc %s (default settings: "
	        "the baseline every C program starts from)\n", gnu_get_libc_version());
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

static inline void ba_destroy(ba_region *r)
{
	(void)r;
}

#define ba_free ba_free
static inline void ba_free(ba_region *r, void *p, size_t n)
{
	(void)r;
	(void)n;
	free(p);
}

#endif /* BENCH_ADAPT_MALLOC_H */
