/*
 * heap-churn.c - allocators that free object by object: a free-heavy
 * churn, and the destruction of a heap full of live objects.  Built once
 * per allocator (meson.build: heap-churn-<name>, -DHC_<NAME>), so that
 * each is a process of its own and jemalloc or mimalloc, when linked,
 * are the whole process's malloc.  bench/heap.py runs it.
 *
 *   heap-churn-<name> churn [--slots N] [--steps N] [--seed N]
 *   heap-churn-<name> destroy [--objects N]
 *
 * churn: a table of N slots (a power of two), half of them filled first;
 * then every step draws a random slot: an occupied one is freed, an empty
 * one gets a new object.  The table stays about half full (the walk
 * drifts back to N/2), and the allocator sees frees and allocations in
 * random interleaving, of objects of every age.  Sizes, drawn per object:
 * 60 % 16-64 B, 25 % 65-256 B, 10 % 257-1024 B, 5 % 1025-4096 B, uniform
 * within each band (mean about 250 B), as programs allocate mostly small
 * objects.  Each object's first and last words are written when it is
 * made, and the first read back when it is freed (the check sums those).
 * One untimed pass of steps/4 warms the allocator first.  The generator
 * is seeded, so every allocator sees the same sequence.
 *
 * destroy: N live objects (16, 32, 48, 64 B in turn, mean 40 B), then the
 * whole heap dropped at once, timed alone: rgn_destroy of a heap region,
 * mi_heap_destroy, jemalloc's arena.<i>.reset, talloc_free of the parent
 * context.  glibc has no such call: it frees the objects one by one,
 * which is the time shown for it.
 *
 * Output: one "metric,value" line each (the unit ends the name), and
 * "info,<text>" lines about the set-up.
 *
 * The allocators:
 *   rgn       a heap region (RGN_BACKEND_HEAP): rgn_alloc, rgn_free with
 *             the size
 *   glibc     malloc, free
 *   jemalloc  malloc, free (linked: it is the process's malloc);
 *             destroy in an arena of its own (arenas.create, mallocx
 *             with MALLOCX_ARENA and no thread cache, arena.<i>.reset)
 *   mimalloc  a heap of its own: mi_heap_new, mi_heap_malloc, mi_free;
 *             destroy with mi_heap_destroy
 *   talloc    one context: talloc_size under it, talloc_free per object
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "common.h"

#if defined(HC_RGN)
#include "rgn.h"
#define HC_NAME "rgn"
typedef rgn_region hc_heap;
#elif defined(HC_GLIBC)
#include <gnu/libc-version.h>
#define HC_NAME "glibc"
typedef char hc_heap;
#elif defined(HC_JEMALLOC)
#include <jemalloc/jemalloc.h>
#define HC_NAME "jemalloc"
typedef struct hc_je {
	int flags;                /* 0 for churn: plain malloc and free */
	unsigned arena;
} hc_heap;
#elif defined(HC_MIMALLOC)
#include <mimalloc.h>
#define HC_NAME "mimalloc"
typedef mi_heap_t hc_heap;
#elif defined(HC_TALLOC)
#include <talloc.h>
#define HC_NAME "talloc"
typedef void hc_heap;
#else
#error "build with one of -DHC_RGN, -DHC_GLIBC, -DHC_JEMALLOC, -DHC_MIMALLOC, -DHC_TALLOC"
#endif

static void die(const char *what)
{
	fprintf(stderr, "heap-churn-%s: %s: %s\n", HC_NAME, what, strerror(errno));
	exit(1);
}

static void info(void)
{
#if defined(HC_RGN)
	struct rgn_space_stats st;

	rgn_space_stats(&st);
	printf("info,rgn %s heap region (RGN_BACKEND_HEAP) rgn_alloc/rgn_free "
	       "with size; retain_limit %zu MiB\n", RGN_VERSION_STRING,
	       st.retain_limit >> 20);
#elif defined(HC_GLIBC)
	printf("info,glibc %s malloc/free\n", gnu_get_libc_version());
#elif defined(HC_JEMALLOC)
	const char *v = "?";
	size_t len = sizeof v;

	mallctl("version", &v, &len, NULL, 0);
	printf("info,jemalloc %s linked (the process's malloc): malloc/free; "
	       "destroy: an arena of its own, mallocx(MALLOCX_ARENA|"
	       "MALLOCX_TCACHE_NONE), arena.<i>.reset\n", v);
#elif defined(HC_MIMALLOC)
	int v = mi_version();

	printf("info,mimalloc %d.%d.%d linked: mi_heap_new, mi_heap_malloc, "
	       "mi_free; destroy: mi_heap_destroy\n", v / 100, v / 10 % 10, v % 10);
#elif defined(HC_TALLOC)
	printf("info,talloc %d.%d: talloc_size under one context, talloc_free "
	       "per object; destroy: talloc_free of the context\n",
	       talloc_version_major(), talloc_version_minor());
#endif
}

/* ---- the allocator: a heap, its objects, its end ----------------------- */

/* arena: for destroy, a heap that can be dropped whole (jemalloc: an arena
 * of its own; the others make no difference) */
static hc_heap *hc_new(int arena)
{
#if defined(HC_RGN)
	static const rgn_options heap = { .backend = RGN_BACKEND_HEAP };

	(void)arena;
	return rgn_new_with(NULL, &heap);
#elif defined(HC_GLIBC)
	static char token;

	(void)arena;
	return &token;
#elif defined(HC_JEMALLOC)
	static hc_heap h;
	size_t len = sizeof h.arena;

	h.flags = 0;
	if (arena) {
		if (mallctl("arenas.create", &h.arena, &len, NULL, 0) != 0)
			return NULL;
		h.flags = (int)(MALLOCX_ARENA(h.arena) | MALLOCX_TCACHE_NONE);
	}
	return &h;
#elif defined(HC_MIMALLOC)
	(void)arena;
	return mi_heap_new();
#elif defined(HC_TALLOC)
	(void)arena;
	return talloc_new(NULL);
#endif
}

static inline void *hc_alloc(hc_heap *h, size_t n)
{
#if defined(HC_RGN)
	return rgn_alloc(h, n);
#elif defined(HC_GLIBC)
	(void)h;
	return malloc(n);
#elif defined(HC_JEMALLOC)
	return h->flags ? mallocx(n, h->flags) : malloc(n);
#elif defined(HC_MIMALLOC)
	return mi_heap_malloc(h, n);
#elif defined(HC_TALLOC)
	return talloc_size(h, n);
#endif
}

static inline void hc_free(hc_heap *h, void *p, size_t n)
{
	(void)h;
	(void)n;
#if defined(HC_RGN)
	rgn_free(h, p, n);
#elif defined(HC_GLIBC)
	free(p);
#elif defined(HC_JEMALLOC)
	if (h->flags)
		dallocx(p, h->flags);
	else
		free(p);
#elif defined(HC_MIMALLOC)
	mi_free(p);
#elif defined(HC_TALLOC)
	talloc_free(p);
#endif
}

/* Drop the heap and every object still in it.  glibc: objs[0..n) are
 * freed one by one (NULL elsewhere). */
static void hc_drop(hc_heap *h, void **objs, size_t n)
{
	(void)objs;
	(void)n;
#if defined(HC_RGN)
	rgn_destroy(h);
#elif defined(HC_GLIBC)
	(void)h;
	for (size_t i = 0; i < n; i++)
		free(objs[i]);
#elif defined(HC_JEMALLOC)
	char name[64];

	if (!h->flags)
		return; /* the churn's: plain malloc, no arena of its own */
	snprintf(name, sizeof name, "arena.%u.reset", h->arena);
	if (mallctl(name, NULL, NULL, NULL, 0) != 0)
		die("arena reset failed");
#elif defined(HC_MIMALLOC)
	mi_heap_destroy(h);
#elif defined(HC_TALLOC)
	talloc_free(h);
#endif
}

/* ---- measurements ---------------------------------------------------------- */

static double peak_rss_mib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %lf", &kib) == 1)
			break;
	fclose(f);
	return kib / 1024;
}

static double rss_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (!f)
		return -1;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (double)res * 4096 / (1 << 20);
}

/* 60 % 16-64, 25 % 65-256, 10 % 257-1024, 5 % 1025-4096 bytes */
static inline size_t churn_size(uint64_t v)
{
	uint32_t band = (uint32_t)((v >> 32) % 100), u = (uint32_t)(v >> 8);

	if (band < 60)
		return 16 + u % 49;
	if (band < 85)
		return 65 + u % 192;
	if (band < 95)
		return 257 + u % 768;
	return 1025 + u % 3072;
}

struct slot {
	uint64_t *p;
	size_t n;
};

struct churn_count {
	uint64_t allocs, frees, check;
};

static inline void churn_step(hc_heap *h, struct slot *s, size_t mask,
                              struct bench_rng *g, struct churn_count *c)
{
	uint64_t v = rng_next(g);
	struct slot *t = &s[v & mask];

	if (t->p) {
		c->check += t->p[0];
		hc_free(h, t->p, t->n);
		t->p = NULL;
		c->frees++;
	} else {
		size_t n = churn_size(v);
		uint64_t *p = hc_alloc(h, n);

		if (!p)
			die("allocation failed");
		p[0] = v;
		p[n / 8 - 1] = n;
		t->p = p;
		t->n = n;
		c->allocs++;
	}
}

static void churn(size_t slots, uint64_t steps, uint64_t seed)
{
	struct bench_rng g = { seed };
	struct slot *s = calloc(slots, sizeof *s);
	struct churn_count c = { 0 }, warm;
	hc_heap *h = hc_new(0);
	size_t mask = slots - 1, live = 0, bytes = 0;
	uint64_t t0, t;

	if (!s || !h)
		die("set-up failed");
	info();
	/* half the slots filled, the same ones for everyone */
	for (size_t i = 0; i < slots; i += 2) {
		uint64_t v = rng_next(&g);

		s[i].n = churn_size(v);
		s[i].p = hc_alloc(h, s[i].n);
		if (!s[i].p)
			die("allocation failed");
		s[i].p[0] = v;
		s[i].p[s[i].n / 8 - 1] = 0;
	}
	for (uint64_t i = 0; i < steps / 4; i++)
		churn_step(h, s, mask, &g, &c);
	warm = c;
	t0 = now_ns();
	for (uint64_t i = 0; i < steps; i++)
		churn_step(h, s, mask, &g, &c);
	t = now_ns() - t0;
	for (size_t i = 0; i < slots; i++)
		if (s[i].p) {
			live++;
			bytes += s[i].n;
		}
	printf("info,%zu slots, %llu timed steps (%llu warm-up), seed %llu; "
	       "%zu objects (%.1f MiB asked for) live at the end\n", slots,
	       (unsigned long long)steps, (unsigned long long)(steps / 4),
	       (unsigned long long)seed, live, (double)bytes / (1 << 20));
	printf("ns_per_pair,%.4g\n", (double)t /
	       ((double)(c.allocs - warm.allocs + c.frees - warm.frees) / 2));
	printf("live_end_mib,%.4g\n", (double)bytes / (1 << 20));
	printf("peak_rss_mib,%.4g\n", peak_rss_mib());
	printf("check,%llu\n", (unsigned long long)c.check);
	for (size_t i = 0; i < slots; i++)
		if (s[i].p)
			hc_free(h, s[i].p, s[i].n);
	hc_drop(h, NULL, 0); /* the empty heap itself (a leak checker looks) */
	free(s);
}

static void destroy(size_t objects)
{
	static const size_t sizes[4] = { 16, 32, 48, 64 };
	hc_heap *h = hc_new(1);
	void **objs = NULL;
	uint64_t t0, t;
	double before;
#if defined(HC_RGN)
	struct rgn_space_stats st0, st1;
#endif

	if (!h)
		die("set-up failed");
	info();
#if defined(HC_GLIBC)
	objs = malloc(objects * sizeof *objs);
	if (!objs)
		die("no memory for the object list");
#endif
	t0 = now_ns();
	for (size_t i = 0; i < objects; i++) {
		uint64_t *p = hc_alloc(h, sizes[i & 3]);

		if (!p)
			die("allocation failed");
		p[0] = i;
		if (objs)
			objs[i] = p;
	}
	t = now_ns() - t0;
	printf("info,%zu live objects of 16, 32, 48, 64 B in turn\n", objects);
	printf("fill_ns_per_object,%.4g\n", (double)t / (double)objects);
	before = rss_mib();
	printf("rss_before_mib,%.4g\n", before);
#if defined(HC_RGN)
	rgn_space_stats(&st0);
#endif
	t0 = now_ns();
	hc_drop(h, objs, objects);
	t = now_ns() - t0;
	printf("destroy_ms,%.4g\n", (double)t / 1e6);
	printf("rss_after_mib,%.4g\n", rss_mib());
#if defined(HC_RGN)
	rgn_space_stats(&st1);
	/* what the destroy gave back to the OS inside the timed call */
	printf("purged_in_destroy_mib,%.4g\n",
	       (double)(st1.purged_bytes - st0.purged_bytes) / (1 << 20));
	printf("purges_in_destroy,%zu\n", st1.purges - st0.purges);
	printf("retained_after_mib,%.4g\n",
	       (double)(st1.retained_blocks * st1.block_size) / (1 << 20));
#endif
	printf("peak_rss_mib,%.4g\n", peak_rss_mib());
	free(objs);
}

int main(int argc, char **argv)
{
	struct bench_args a;
	const char *v, *what = NULL;
	size_t slots = (size_t)1 << 16, objects = 10000000;
	uint64_t steps = 4000000, seed = 42;

	args_init(&a, argc, argv,
	          "usage: heap-churn-" HC_NAME " churn [--slots N] [--steps N] [--seed N]\n"
	          "       heap-churn-" HC_NAME " destroy [--objects N]\n");
	while (args_more(&a)) {
		if ((v = args_value(&a, "--slots")))
			slots = (size_t)args_uint(&a, v, 2, (uint64_t)1 << 30);
		else if ((v = args_value(&a, "--steps")))
			steps = args_uint(&a, v, 1, UINT64_MAX / 2);
		else if ((v = args_value(&a, "--seed")))
			seed = args_uint(&a, v, 0, UINT64_MAX);
		else if ((v = args_value(&a, "--objects")))
			objects = (size_t)args_uint(&a, v, 1, (uint64_t)1 << 32);
		else if (!what && (v = args_word(&a)))
			what = v;
		else
			args_usage(&a);
	}
	if (!what || (slots & (slots - 1)))
		args_usage(&a);
	if (!strcmp(what, "churn"))
		churn(slots, steps, seed);
	else if (!strcmp(what, "destroy"))
		destroy(objects);
	else
		args_usage(&a);
	return 0;
}
