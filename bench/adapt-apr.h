/*
 * adapt-apr.h - APR pools (see adapter.h).  Two set-ups, two executables:
 *
 * apr-default (-DBENCH_APR_DEFAULT): apr_pool_create(&p, NULL), the call
 * most programs make.  Such pools are children of APR's global pool,
 * whose allocator is shared by the whole process and guarded by a mutex.
 *
 * apr: every region is a child pool of one parent per thread, made with
 * apr_pool_create_unmanaged: the parent owns an allocator of its own
 * without a mutex, so creating and destroying children takes no lock.
 * That is APR at its fastest, as the quick binary-trees programs use it.
 * The allocator keeps every freed node (no max_free), so memory stays
 * warm between runs, as rgn's retained blocks do.
 *
 * In both, pool memory comes from the C library's malloc; ba_reset is
 * apr_pool_clear, ba_destroy apr_pool_destroy.
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

#ifndef BENCH_APR_DEFAULT
static _Thread_local apr_pool_t *ba_apr_parent;
#endif

static int ba_setup(size_t live_bytes, FILE *out)
{
	(void)live_bytes;
	if (apr_initialize() != APR_SUCCESS) {
		fprintf(stderr, "apr: apr_initialize failed\n");
		return -1;
	}
#ifdef BENCH_APR_DEFAULT
	fprintf(out, "info allocator apr-default: APR pools %s, "
	        "apr_pool_create(&p, NULL) (children of the global pool, "
	        "whose allocator takes a mutex); allocator max_free left "
	        "unlimited (the default: freed blocks are all kept)\n",
	        apr_version_string());
#else
	fprintf(out, "info allocator apr: APR pools %s, children of an "
	        "unmanaged parent per thread (own allocator, no mutex); "
	        "allocator max_free left unlimited (the default: freed "
	        "blocks are all kept)\n",
	        apr_version_string());
#endif
	return 0;
}

#ifndef BENCH_APR_DEFAULT
#define ba_thread_start ba_thread_start
static inline void ba_thread_start(void)
{
	if (apr_pool_create_unmanaged(&ba_apr_parent) != APR_SUCCESS)
		ba_apr_parent = NULL;   /* ba_new fails from now on */
}

#define ba_thread_stop ba_thread_stop
static inline void ba_thread_stop(void)
{
	if (ba_apr_parent)
		apr_pool_destroy(ba_apr_parent);
	ba_apr_parent = NULL;
}
#endif

static inline ba_region *ba_new(void)
{
	apr_pool_t *p;

#ifdef BENCH_APR_DEFAULT
	if (apr_pool_create(&p, NULL) != APR_SUCCESS)
		return NULL;
#else
	if (!ba_apr_parent || apr_pool_create(&p, ba_apr_parent) != APR_SUCCESS)
		return NULL;
#endif
	return (ba_region *)(void *)p;
}

static inline void *ba_alloc(ba_region *r, size_t n)
{
	return apr_palloc((apr_pool_t *)(void *)r, n);
}

static inline void ba_destroy(ba_region *r)
{
	apr_pool_destroy((apr_pool_t *)(void *)r);
}

#define ba_reset ba_reset
static inline ba_region *ba_reset(ba_region *r)
{
	apr_pool_clear((apr_pool_t *)(void *)r);
	return r;
}

#endif /* BENCH_ADAPT_APR_H */
