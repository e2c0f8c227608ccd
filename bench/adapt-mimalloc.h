/*
 * adapt-mimalloc.h - mimalloc heaps (see adapter.h): a region is a heap
 * made with mi_heap_new, allocated from with mi_heap_malloc and dropped,
 * objects and all, with mi_heap_destroy.  A heap belongs to the thread
 * that made it, which is how the workloads use regions anyway.
 *
 * Linking libmimalloc also makes it the process's malloc (Debian builds
 * it that way), so this executable never mixes it with glibc's.
 */
#ifndef BENCH_ADAPT_MIMALLOC_H
#define BENCH_ADAPT_MIMALLOC_H

#include "adapter.h"

#include <stdlib.h>

#include <mimalloc.h>

#define BA_NAME "mimalloc-heap"
#define BA_FREES_EACH 0

static int ba_setup(size_t live_bytes, FILE *out)
{
	void *p = malloc(64);
	int v = mi_version();

	(void)live_bytes;
	fprintf(out, "info allocator mimalloc %d.%d.%d heaps (mi_heap_new per "
	        "region, mi_heap_destroy; default options; malloc is %s)\n",
	        v / 100, v / 10 % 10, v % 10,
	        mi_is_in_heap_region(p) ? "mimalloc's too" : "glibc's");
	free(p);
	return 0;
}

static inline ba_region *ba_new(void)
{
	return (ba_region *)(void *)mi_heap_new();
}

static inline void *ba_alloc(ba_region *r, size_t n)
{
	return mi_heap_malloc((mi_heap_t *)(void *)r, n);
}

static inline void ba_destroy(ba_region *r)
{
	mi_heap_destroy((mi_heap_t *)(void *)r);
}

#endif /* BENCH_ADAPT_MIMALLOC_H */
