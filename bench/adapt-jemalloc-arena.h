/*
 * adapt-jemalloc-arena.h - jemalloc arenas as regions (see adapter.h).
 *
 * A region is an arena made with mallctl("arenas.create"); objects come
 * from mallocx(n, MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE) (no thread
 * cache, so nothing of the arena lingers elsewhere), and dropping the
 * region discards every object at once with mallctl("arena.<i>.reset").
 * Reset arenas go on a per-thread free list and serve the next ba_new:
 * creating an arena is far dearer than resetting one, and the number of
 * arenas is limited.  A thread's arenas are destroyed
 * ("arena.<i>.destroy") when it stops.
 */
#ifndef BENCH_ADAPT_JEMALLOC_ARENA_H
#define BENCH_ADAPT_JEMALLOC_ARENA_H

#include "adapter.h"

#include <stdlib.h>

#include <jemalloc/jemalloc.h>

#define BA_NAME "jemalloc-arena"
#define BA_FREES_EACH 0

struct ba_je_arena {
	int flags;                    /* for mallocx */
	size_t reset_mib[3];          /* "arena.<i>.reset" */
	size_t destroy_mib[3];        /* "arena.<i>.destroy" */
	struct ba_je_arena *next;     /* on the thread's free list */
};

static size_t ba_je_reset_mib[3], ba_je_destroy_mib[3];
static _Thread_local struct ba_je_arena *ba_je_free;

static int ba_setup(size_t live_bytes, FILE *out)
{
	const char *version = NULL;
	size_t len = sizeof version, n = 3, m = 3;

	(void)live_bytes;
	if (mallctl("version", &version, &len, NULL, 0) != 0 ||
	    mallctlnametomib("arena.0.reset", ba_je_reset_mib, &n) != 0 ||
	    mallctlnametomib("arena.0.destroy", ba_je_destroy_mib, &m) != 0) {
		fprintf(stderr, "jemalloc-arena: mallctl set-up failed\n");
		return -1;
	}
	fprintf(out, "info allocator jemalloc %s, an arena per region "
	        "(arenas.create, each arena reused by later regions; mallocx with "
	        "MALLOCX_TCACHE_NONE; arena.<i>.reset drops it; default "
	        "settings otherwise)\n",
	        version);
	return 0;
}

static ba_region *ba_je_create(void)
{
	struct ba_je_arena *a = malloc(sizeof *a);
	unsigned index;
	size_t len = sizeof index;

	if (!a || mallctl("arenas.create", &index, &len, NULL, 0) != 0) {
		free(a);
		return NULL;
	}
	a->flags = (int)(MALLOCX_ARENA(index) | MALLOCX_TCACHE_NONE);
	for (int i = 0; i < 3; i++) {
		a->reset_mib[i] = ba_je_reset_mib[i];
		a->destroy_mib[i] = ba_je_destroy_mib[i];
	}
	a->reset_mib[1] = a->destroy_mib[1] = index;
	return (ba_region *)(void *)a;
}

static inline ba_region *ba_new(void)
{
	struct ba_je_arena *a = ba_je_free;

	if (!a)
		return ba_je_create();
	ba_je_free = a->next;
	return (ba_region *)(void *)a;
}

static inline void *ba_alloc(ba_region *r, size_t n)
{
	return mallocx(n, ((struct ba_je_arena *)(void *)r)->flags);
}

#define ba_reset ba_reset
static inline ba_region *ba_reset(ba_region *r)
{
	struct ba_je_arena *a = (struct ba_je_arena *)(void *)r;

	mallctlbymib(a->reset_mib, 3, NULL, NULL, NULL, 0);
	return r;
}

static inline void ba_destroy(ba_region *r)
{
	struct ba_je_arena *a = (struct ba_je_arena *)(void *)ba_reset(r);

	a->next = ba_je_free;
	ba_je_free = a;
}

#define ba_thread_stop ba_thread_stop
static inline void ba_thread_stop(void)
{
	while (ba_je_free) {
		struct ba_je_arena *a = ba_je_free;

		ba_je_free = a->next;
		mallctlbymib(a->destroy_mib, 3, NULL, NULL, NULL, 0);
		free(a);
	}
}

#endif /* BENCH_ADAPT_JEMALLOC_ARENA_H */
