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

#ifndef ba_stats
static void ba_stats(FILE *out)
{
	(void)out;
}
#endif

#endif /* BENCH_DEFAULTS_H */
