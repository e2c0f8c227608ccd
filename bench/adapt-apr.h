/*
 * adapt-apr.h - the benchmark adapter for APR pools (see adapter.h).
 *
 * Two set-ups, two executables:
 *
 * apr-default (BENCH_APR_DEFAULT): apr_pool_create(&p, NULL), the call
 * sequence most programs use.  Such pools are children of APR's global
 * pool, whose allocator is shared by the process and guarded by a mutex.
 *
 * apr (tuned): every benchmark region is a child pool of one parent created with
 * apr_pool_create_unmanaged: the parent owns an allocator of its own
 * without a mutex, so creating and destroying children takes no lock.
 * That is APR at its fastest, as the quick binary-trees programs use it.
 * The allocator keeps every freed node (no max_free), so memory stays warm
 * between runs, as rgn's retained blocks do.  Pool nodes come from the C
 * library's malloc (glibc in this executable).
 */
#ifndef BENCH_ADAPT_APR_H
#define BENCH_ADAPT_APR_H

#include "adapter.h"

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_version.h>

#ifdef BENCH_APR_DEFAULT
#define BA_NAME "apr-default"
#else
#define BA_NAME "apr"
#endif
#define BA_FREES_EACH 0

static apr_pool_t *ba_apr_parent;

static int ba_setup(size_t live_bytes, FILE *out)
{
	(void)live_bytes;
	if (apr_initialize() != APR_SUCCESS ||
	    apr_pool_create_unmanaged(&ba_apr_parent) != APR_SUCCESS) {
		fprintf(stderr, "apr: cannot create the parent pool\n");
		return -1;
	}
#ifdef BENCH_APR_DEFAULT
	fprintf(out, "info allocator apr-default pools %s (parent NULL: the global pool)\n",
	        apr_version_string());
#else
	fprintf(out, "info allocator apr pools %s (parent unmanaged, no mutex)\n",
	        apr_version_string());
#endif
	return 0;
}

static inline ba_region *ba_new(void)
{
	apr_pool_t *p;

#ifdef BENCH_APR_DEFAULT
	if (apr_pool_create(&p, NULL) != APR_SUCCESS)
#else
	if (apr_pool_create(&p, ba_apr_parent) != APR_SUCCESS)
#endif
		return NULL;
	return (ba_region *)(void *)p;
}

static inline void *ba_alloc(ba_region *r, size_t n)
{
	return apr_palloc((apr_pool_t *)(void *)r, n);
}

static inline void ba_release(ba_region *r, void *const *ptrs, size_t count)
{
	(void)ptrs;
	(void)count;
	apr_pool_destroy((apr_pool_t *)(void *)r);
}

static void ba_stats(FILE *out)
{
	(void)out;
}

#endif /* BENCH_ADAPT_APR_H */
