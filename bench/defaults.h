/*
 * defaults.h - the optional parts of the adapter contract (adapter.h) that
 * the included adapter did not provide.  Included by driver.c right after
 * the adapter.
 */
#ifndef BENCH_DEFAULTS_H
#define BENCH_DEFAULTS_H

#include <stdlib.h>
#include <string.h>

#if !defined(BA_NAME) || !defined(BA_FREES_EACH)
#error "the adapter must define BA_NAME and BA_FREES_EACH"
#endif

#ifndef ba_free
#if BA_FREES_EACH
#error "an adapter with BA_FREES_EACH must provide ba_free"
#endif
static inline void ba_free(ba_region *r, void *p, size_t n)
{
	(void)r;
	(void)p;
	(void)n;
}
#endif

#ifndef ba_reset
static inline ba_region *ba_reset(ba_region *r)
{
	ba_destroy(r);
	return ba_new();
}
#endif

#ifndef ba_printf
/* Format once into a stack buffer, then allocate the exact size and copy,
 * as a careful program on top of malloc would.  Only strings longer than
 * the buffer are formatted twice. */
__attribute__((format(printf, 2, 3)))
static char *ba_printf(ba_region *r, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	char *s;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (k < 0 || !(s = ba_alloc(r, (size_t)k + 1)))
		return NULL;
	if ((size_t)k < sizeof buf) {
		memcpy(s, buf, (size_t)k + 1);
	} else {
		va_start(ap, fmt);
		vsnprintf(s, (size_t)k + 1, fmt, ap);
		va_end(ap);
	}
	return s;
}
#endif

#ifndef ba_thread_start
static inline void ba_thread_start(void)
{
}
#endif

#ifndef ba_thread_stop
static inline void ba_thread_stop(void)
{
}
#endif

/* The maker: what a workload that builds in a loop or a recursion
 * allocates through, the adapter's cursor when it has one (as a user of
 * that allocator would there), else the region itself.  ba_make_open
 * before the building, ba_make_close after it and before any other call
 * on the region; ba_make gives an object, ba_make_ref (adapters with
 * references) an object and its reference. */
#ifdef BA_CURSOR
typedef ba_cursor ba_maker;

static inline void ba_make_open(ba_maker *m, ba_region *r)
{
	ba_cursor_open(r, m);
}

static inline void ba_make_close(ba_maker *m, ba_region *r)
{
	ba_cursor_close(r, m);
}

static inline void *ba_make(ba_maker *m, size_t n)
{
	return ba_cursor_alloc(m, n);
}

#ifdef BA_REF
static inline void *ba_make_ref(ba_maker *m, size_t n, BA_REF *ref)
{
	return ba_cursor_both(m, n, ref);
}
#endif
#else
typedef ba_region *ba_maker;

static inline void ba_make_open(ba_maker *m, ba_region *r)
{
	*m = r;
}

static inline void ba_make_close(ba_maker *m, ba_region *r)
{
	(void)m;
	(void)r;
}

static inline void *ba_make(ba_maker *m, size_t n)
{
	return ba_alloc(*m, n);
}

#ifdef BA_REF
static inline void *ba_make_ref(ba_maker *m, size_t n, BA_REF *ref)
{
	void *p = ba_alloc(*m, n);

	if (p)
		*ref = BA_REF_OF(*m, p);
	return p;
}
#endif
#endif

#ifndef ba_stats
static void ba_stats(FILE *out)
{
	(void)out;
}
#endif

#endif /* BENCH_DEFAULTS_H */
