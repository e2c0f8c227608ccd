/*
 * core.c - the core benchmark: what one small allocation costs, and what
 * one short-lived region costs, for one allocator.
 *
 * Built once per allocator (bench/meson.build), each build including one
 * adapt-<name>.h, so that every competitor runs in a process of its own.
 * scripts/bench runs the executables in turn and bench/report.py sets the
 * results side by side.
 *
 *   alloc32   count allocations of 32 bytes into one region, all kept
 *             alive; ns per allocation.  The loop stores each pointer in
 *             a small batch buffer (128 KiB, cache-resident), the same for
 *             every allocator, and only the batches are timed.  Between
 *             batches, untimed, each object gets its first 8 bytes
 *             written (as a program would use it: without that, a bump
 *             allocator's pages would never be faulted in and its peak
 *             RSS would mean nothing), and malloc's pointers are copied to
 *             the list that free() needs later.  Releasing everything
 *             (destroy, or one free per pointer) is timed apart, in ms.
 *   cycle64   create a region, allocate 64 bytes, destroy it; ns per
 *             cycle.  For malloc the nearest thing: malloc(64) + free.
 *
 * Each benchmark does one untimed warm-up run, so that the memory the
 * timed runs use is already faulted in and held by the allocator, then
 * --runs timed runs.
 *
 * Output, one fact a line (lines starting "info" are for people):
 *   raw <allocator> <benchmark> <run> <value>
 *   sum <allocator> <benchmark> <median> <min> <max>
 * benchmark names end in their unit: alloc32_ns, alloc32_release_ms,
 * cycle64_ns, peak_rss_mib.
 */
#define _POSIX_C_SOURCE 200809L

#if defined(BENCH_WITH_RGN)
#include "adapt-rgn.h"
#elif defined(BENCH_WITH_MALLOC)
#include "adapt-malloc.h"
#elif defined(BENCH_WITH_APR)
#include "adapt-apr.h"
#else
#error "define BENCH_WITH_RGN, BENCH_WITH_MALLOC or BENCH_WITH_APR"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BATCH 16384             /* pointers per timed batch: 128 KiB */
#define MAX_RUNS 1000

static void *batch[BATCH];

static void die(const char *what)
{
	fprintf(stderr, "bench-core-%s: %s\n", BA_NAME, what);
	exit(1);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Print the raw values of one benchmark and their median, min and max. */
static void report(const char *bench, const double *v, int n)
{
	double s[MAX_RUNS];

	for (int i = 0; i < n; i++)
		printf("raw %s %s %d %.3f\n", BA_NAME, bench, i + 1, v[i]);
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	double median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	printf("sum %s %s %.3f %.3f %.3f\n", BA_NAME, bench, median, s[0],
	       s[n - 1]);
}

/* ---- alloc32 ------------------------------------------------------------ */

/* One run: count allocations of size bytes into a fresh region.  Returns
 * ns per allocation; *release_ms receives the time to free them all.
 * list (count entries) is used only when the adapter frees one by one. */
static double run_alloc(size_t count, size_t size, void **list,
                        double *release_ms)
{
	ba_region *r = ba_new();
	uint64_t timed = 0, t0, t1;

	if (!r)
		die("cannot create a region");
	for (size_t done = 0; done < count; ) {
		size_t n = count - done < BATCH ? count - done : BATCH;

		t0 = now_ns();
		for (size_t i = 0; i < n; i++)
			batch[i] = ba_alloc(r, size);
		bench_escape(batch);    /* every store above happens, in here */
		t1 = now_ns();
		timed += t1 - t0;

		for (size_t i = 0; i < n; i++) {
			if (!batch[i])
				die("allocation failed");
			memset(batch[i], 0xA5, 8);      /* use it (untimed) */
		}
		if (BA_FREES_EACH)
			memcpy(list + done, batch, n * sizeof *batch);
		done += n;
	}
	t0 = now_ns();
	ba_release(r, BA_FREES_EACH ? list : NULL, count);
	t1 = now_ns();
	*release_ms = (double)(t1 - t0) / 1e6;
	return (double)timed / (double)count;
}

static void bench_alloc(size_t count, size_t size, int runs)
{
	double ns[MAX_RUNS], ms[MAX_RUNS], warm_ms;
	void **list = NULL;
	char name[2][32];

	if (BA_FREES_EACH) {
		list = malloc(count * sizeof *list);
		if (!list)
			die("no memory for the pointer list");
		memset(list, 0, count * sizeof *list);  /* fault it in */
		printf("info %s harness: pointer list of %zu MiB, counted in "
		       "peak RSS\n", BA_NAME,
		       (count * sizeof *list) >> 20);
	}
	(void)run_alloc(count, size, list, &warm_ms);   /* warm-up */
	for (int i = 0; i < runs; i++)
		ns[i] = run_alloc(count, size, list, &ms[i]);
	free(list);

	snprintf(name[0], sizeof name[0], "alloc%zu_ns", size);
	snprintf(name[1], sizeof name[1], "alloc%zu_release_ms", size);
	report(name[0], ns, runs);
	report(name[1], ms, runs);
}

/* ---- cycle64 ------------------------------------------------------------ */

/* One run: count create + alloc(size) + destroy cycles; ns per cycle. */
static double run_cycle(size_t count, size_t size)
{
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < count; i++) {
		ba_region *r = ba_new();
		void *p = ba_alloc(r, size);

		if (!p)
			die("allocation failed");
		bench_escape(p);
		ba_release(r, &p, 1);
	}
	return (double)(now_ns() - t0) / (double)count;
}

static void bench_cycle(size_t count, size_t size, int runs)
{
	double ns[MAX_RUNS];
	char name[32];

	(void)run_cycle(count < 1000000 ? count : 1000000, size);  /* warm-up */
	for (int i = 0; i < runs; i++)
		ns[i] = run_cycle(count, size);
	snprintf(name, sizeof name, "cycle%zu_ns", size);
	report(name, ns, runs);
}

/* ---- main --------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
	        "usage: bench-core-%s [--allocs N] [--cycles N] [--runs N]\n"
	        "  --allocs N  32-byte allocations per alloc32 run "
	        "(default 10000000; 0 skips)\n"
	        "  --cycles N  cycles per cycle64 run (default 10000000; "
	        "0 skips)\n"
	        "  --runs N    timed runs of each, after one warm-up "
	        "(default 7)\n", BA_NAME);
	exit(2);
}

static size_t parse_count(const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		usage();
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > SIZE_MAX / 64)
		usage();
	return (size_t)v;
}

int main(int argc, char **argv)
{
	size_t allocs = 10000000, cycles = 10000000, runs = 7;
	struct rusage ru;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--allocs") == 0 && i + 1 < argc)
			allocs = parse_count(argv[++i]);
		else if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc)
			cycles = parse_count(argv[++i]);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = parse_count(argv[++i]);
		else
			usage();
	}
	if (runs < 1 || runs > MAX_RUNS)
		usage();

	if (ba_setup(allocs * 32, stdout) != 0)
		return 1;
	printf("info counts allocs %zu cycles %zu runs %zu\n", allocs, cycles,
	       runs);
	if (allocs)
		bench_alloc(allocs, 32, (int)runs);
	if (cycles)
		bench_cycle(cycles, 64, (int)runs);
	ba_stats(stdout);

	getrusage(RUSAGE_SELF, &ru);
	double rss = (double)ru.ru_maxrss / 1024;
	report("peak_rss_mib", &rss, 1);
	return 0;
}
