/*
 * adapt-talloc.h - talloc (see adapter.h): a region is a context made
 * with talloc_new(NULL); objects are its children (talloc_size), freed
 * together by talloc_free on the context.  ba_reset is
 * talloc_free_children.  Every talloc object carries a header of its own
 * and the free walks the children one by one, so talloc is the costliest
 * of the region-like allocators here; it is in the comparison because
 * many C programs use it for exactly this.
 */
#ifndef BENCH_ADAPT_TALLOC_H
#define BENCH_ADAPT_TALLOC_H

#include "adapter.h"

#include <talloc.h>

#define BA_NAME "talloc"
#define BA_FREES_EACH 0

static int ba_setup(size_t live_bytes, FILE *out)
{
	(void)live_bytes;
	fprintf(out, "info allocator talloc %d.%d (talloc_new(NULL) per "
	        "region, talloc_size, talloc_free; default settings)\n",
	        talloc_version_major(), talloc_version_minor());
	return 0;
}

static inline ba_region *ba_new(void)
{
	return (ba_region *)talloc_new(NULL);
}

static inline void *ba_alloc(ba_region *r, size_t n)
{
	return talloc_size(r, n);
}

static inline void ba_destroy(ba_region *r)
{
	talloc_free(r);
}

#define ba_reset ba_reset
static inline ba_region *ba_reset(ba_region *r)
{
	talloc_free_children(r);
	return r;
}

#endif /* BENCH_ADAPT_TALLOC_H */
