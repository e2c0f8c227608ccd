/*
 * harness.h - what every workload shares: the workload table entry,
 * timing, a seeded random generator, and the output lines that
 * scripts/bench and report.py read.  Included once, by driver.c, after
 * the adapter.
 *
 * Output, one fact a line:
 *   info <text>                      for people: allocator, settings
 *   label <metric> <text>            what a metric measures, for the report
 *   raw <metric> <run> <value>       one timed run; metric names end in
 *                                    their unit (_ns, _us, _ms, _s, _mib)
 *   sum <metric> <median> <min> <max>  the same, summed up (for people)
 *   check <value>                    the workload's answer; the same for
 *                                    every allocator at the same size
 *   ops <count>                      operations done by the whole process
 *                                    (cachegrind figures are per operation)
 *   faults <metric> <minor> <major> <ops>
 *                                    page faults and operations in the
 *                                    metric's window (below)
 * Any other line is the workload's own output (binary-trees' text).
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common.h"

/* Sizes: the default run, --full, the smoke test, and the two sizes run
 * under cachegrind (per-operation figures are the difference of the two,
 * so that start-up costs cancel out). */
enum bench_mode {
	MODE_DEFAULT, MODE_FULL, MODE_SMOKE, MODE_GRIND, MODE_GRIND2, MODE_COUNT
};

/* One workload: a wl-<name>.c defines one and driver.c lists it. */
struct bench_workload {
	const char *name;         /* on the command line */
	const char *what;         /* one line for --list */
	const char *size_means;   /* what the size parameter counts */
	uint64_t size[MODE_COUNT];  /* by mode */
	int runs[MODE_COUNT];     /* timed runs in one process */
	/* most bytes held at one time at this size (a hint for ba_setup) */
	size_t (*live_bytes)(uint64_t size);
	void (*run)(uint64_t size, int runs);
};

#define BENCH_MAX_RUNS 100

static uint64_t bench_ops_done;   /* summed by the workloads */
static volatile uint64_t bench_sink;  /* results nobody reads, kept */

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-%s: ", BA_NAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline void *need(void *p)
{
	if (!p)
		die("allocation failed");
	return p;
}

/* Page faults by window.  A metric's window runs from the previous
 * bench_report (the first: from bench_faults_start, just before the
 * workload) to its own: the metric's warm-up and its timed runs, which is
 * where bench_ops_done grows too, so that faults / ops in one window is
 * faults per operation of that part of the workload.  The windows tile
 * the workload (printing the report lines is left out), so their sum is
 * the whole workload's.  getrusage counts every thread of the process. */
static struct {
	uint64_t minor, major, ops;
	int on;
} bench_fault_mark;

static void bench_faults_read(uint64_t *minor, uint64_t *major)
{
	struct rusage ru;

	*minor = *major = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		*minor = (uint64_t)ru.ru_minflt;
		*major = (uint64_t)ru.ru_majflt;
	}
}

static void bench_faults_start(void)
{
	bench_faults_read(&bench_fault_mark.minor, &bench_fault_mark.major);
	bench_fault_mark.ops = bench_ops_done;
	bench_fault_mark.on = 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Print a metric's label, its raw values and their median, min and max. */
__attribute__((format(printf, 4, 5)))
static void bench_report(const char *metric, const double *v, int n,
                         const char *label, ...)
{
	double s[BENCH_MAX_RUNS];
	uint64_t minor, major;
	va_list ap;

	bench_faults_read(&minor, &major);
	printf("label %s ", metric);
	va_start(ap, label);
	vprintf(label, ap);
	va_end(ap);
	putchar('\n');
	for (int i = 0; i < n; i++)
		printf("raw %s %d %.6g\n", metric, i + 1, v[i]);
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	printf("sum %s %.6g %.6g %.6g\n", metric,
	       n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, s[0], s[n - 1]);
	if (bench_fault_mark.on) {
		printf("faults %s %llu %llu %llu\n", metric,
		       (unsigned long long)(minor - bench_fault_mark.minor),
		       (unsigned long long)(major - bench_fault_mark.major),
		       (unsigned long long)(bench_ops_done - bench_fault_mark.ops));
		bench_faults_start();   /* the next window opens after this one's lines */
	}
}

static void bench_check(uint64_t value)
{
	printf("check %llu\n", (unsigned long long)value);
}

#endif /* BENCH_HARNESS_H */
