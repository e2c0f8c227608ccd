/*
 * adapt-obstack.h - glibc obstacks (see adapter.h): a region is a
 * malloc'd struct obstack (obstack_init), objects come from
 * obstack_alloc, and obstack_free(o, NULL) drops them all.  ba_reset
 * frees back to an empty object made right after obstack_init, which
 * keeps the first chunk, as obstack programs do between passes.  Chunks
 * come from malloc (glibc's), its trim threshold raised (glibc-tune.h).
 */
#ifndef BENCH_ADAPT_OBSTACK_H
#define BENCH_ADAPT_OBSTACK_H

#include "adapter.h"
#include "glibc-tune.h"

#include <stdlib.h>

#include <gnu/libc-version.h>
#include <obstack.h>

#define obstack_chunk_alloc malloc
#define obstack_chunk_free  free

#define BA_NAME "obstack"
#define BA_FREES_EACH 0

/* obstack.h's alignment macro rounds a pointer by adding to a null base
 * (its __BPTR_ALIGN), which clang's UBSan reports as an offset applied to
 * a null pointer: glibc's idiom, not this adapter's, so the functions that
 * expand it are left out of that one check. */
#if defined(__clang__)
#define BA_OBSTACK_MACROS __attribute__((no_sanitize("pointer-overflow")))
#else
#define BA_OBSTACK_MACROS
#endif

struct ba_obstack {
	struct obstack ob;
	void *base;          /* an empty object at the very start */
};

static int ba_setup(size_t live_bytes, FILE *out)
{
	char what[80];

	snprintf(what, sizeof what, "obstack (glibc %s, default chunk size, "
	         "chunks from malloc)", gnu_get_libc_version());
	return ba_glibc_tune(live_bytes, out, what);
}

BA_OBSTACK_MACROS static inline ba_region *ba_new(void)
{
	struct ba_obstack *o = malloc(sizeof *o);

	if (!o)
		return NULL;
	if (!obstack_init(&o->ob)) {
		free(o);
		return NULL;
	}
	o->base = obstack_alloc(&o->ob, 0);
	return (ba_region *)(void *)o;
}

BA_OBSTACK_MACROS static inline void *ba_alloc(ba_region *r, size_t n)
{
	return obstack_alloc(&((struct ba_obstack *)(void *)r)->ob, n);
}

static inline void ba_destroy(ba_region *r)
{
	struct ba_obstack *o = (struct ba_obstack *)(void *)r;

	obstack_free(&o->ob, NULL);
	free(o);
}

#define ba_reset ba_reset
BA_OBSTACK_MACROS static inline ba_region *ba_reset(ba_region *r)
{
	struct ba_obstack *o = (struct ba_obstack *)(void *)r;

	obstack_free(&o->ob, o->base);
	o->base = obstack_alloc(&o->ob, 0);
	return r;
}

#endif /* BENCH_ADAPT_OBSTACK_H */
