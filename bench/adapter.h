/*
 * adapter.h - the contract between the benchmark driver and one allocator.
 *
 * Every allocator lives in one adapt-<name>.h.  driver.c includes exactly
 * one of them, named at build time (-DBENCH_ADAPTER="adapt-<name>.h", see
 * meson.build), so every competitor gets an executable of its own and no
 * process mixes two mallocs.  Adapters are headers of static inline
 * functions, not object files: rgn_alloc's fast path is inline in rgn.h,
 * and an out-of-line wrapper would put a call around every allocation and
 * measure the harness instead of the allocator.
 *
 * The contract speaks of regions; malloc pretends to have them (a region
 * is then a token, and the workloads free every object themselves).
 *
 * Required
 *   BA_NAME            short name, as in the executable's name
 *   BA_FREES_EACH      1: objects must be freed one by one with ba_free
 *                      (malloc and friends); 0: ba_destroy frees them all
 *   int ba_setup(size_t live_bytes, FILE *out)
 *                      once, first.  live_bytes is the most the workload
 *                      will hold at one time.  Prints "info ..." lines
 *                      (allocator, version, settings) to out.  0, or -1
 *                      after saying why on stderr.
 *   ba_region *ba_new(void)            a fresh, empty region; NULL on failure
 *   void *ba_alloc(ba_region *r, size_t n)
 *                      n bytes, 8-byte aligned at least; NULL on failure
 *   void ba_destroy(ba_region *r)      r and whatever is still in it
 *
 * Optional: an adapter that provides one says so with "#define ba_x ba_x"
 * (the way musl's arch headers mark what they override); defaults.h fills
 * in the rest after the adapter is included.
 *   void ba_free(ba_region *r, void *p, size_t n)
 *                      give back one object of n bytes; required when
 *                      BA_FREES_EACH, never called otherwise
 *   ba_region *ba_reset(ba_region *r)
 *                      empty r; returns the region to use from now on.
 *                      Default: destroy r and make a new one.
 *   char *ba_printf(ba_region *r, const char *fmt, ...)
 *                      a formatted string allocated in r.  Default: format
 *                      into a stack buffer, then ba_alloc and copy.
 *   void ba_thread_start(void), ba_thread_stop(void)
 *                      around the work of every thread, the main one too
 *   void ba_stats(FILE *out)           "info ..." lines after the run
 *
 * 32-bit references (optional, together): an adapter whose objects can be
 * named by 32-bit references defines
 *   BA_REF             the reference type, 0 meaning null
 *   BA_REF_OF(r, p)    the reference to p, an object of region r
 *   BA_AT(T, r, ref)   the object ref names, as a T *
 * Workloads whose nodes point at each other (binary-trees, compiler)
 * then store references instead of pointers.
 *
 * A bump cursor held by the caller (optional, together; rgn's
 * rgn_cursor): an adapter whose regions can lend their bump pointer out
 * defines
 *   BA_CURSOR          1
 *   ba_cursor          the cursor type, a small value
 *   void ba_cursor_open(ba_region *r, ba_cursor *c)   take r's cursor out
 *   void *ba_cursor_alloc(ba_cursor *c, size_t n)     ba_alloc through it
 *   void *ba_cursor_both(ba_cursor *c, size_t n, BA_REF *ref)
 *                      ... also giving the reference (with BA_REF)
 *   void ba_cursor_close(ba_region *r, ba_cursor *c)  hand it back
 * Between open and close nothing else may use r.  The workloads that
 * build in a tight loop or a recursion allocate through it when it is
 * there, as a user of such an allocator would (through defaults.h's
 * maker, which is the region itself for the other adapters).
 *
 * Adding an allocator: write adapt-<name>.h, add one line to the table in
 * meson.build.  The driver and the workloads do not change.
 */
#ifndef BENCH_ADAPTER_H
#define BENCH_ADAPTER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Opaque to the driver; each adapter casts it to its own type. */
typedef struct ba_region ba_region;

/* Make the compiler believe p is used, so that no allocation can be
 * removed or merged with its free, without costing an instruction. */
static inline void bench_escape(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

#endif /* BENCH_ADAPTER_H */
