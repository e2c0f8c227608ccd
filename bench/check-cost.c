/*
 * check-cost.c - what the checking mode (RGN_CHECK) costs.
 *
 *   check-cost [--trim] [--cycles N] [--kib K] [--churn N]
 *
 * The mode is the environment's (RGN_CHECK unset: off; RGN_CHECK=1: guard
 * pages; RGN_CHECK=64M,mprotect: the mprotect fallback).  Three figures:
 *
 *   destroy  a region is created, K KiB (default 64) allocated in 1 KiB
 *            objects and written (five spans: the own block and chunks of
 *            2, 4, 8 and 16 blocks), then destroyed.  Median over batches
 *            of ns per destroy alone (a clock read on each side) and per
 *            whole cycle.  --trim calls rgn_space_trim() after each
 *            destroy: the memory goes back to the OS every time, which is
 *            what the checking mode does to every block it quarantines
 *            (guard pages discard their contents), so it is the fair
 *            baseline for it.
 *   churn    create, three small allocations, destroy: ns per cycle.
 *   maps     /proc/self/maps lines before and after N churn cycles
 *            (default 1,000,000).
 *
 * One line of key=value pairs on stdout.  Build it with the release
 * build (scripts/bench's tree, or meson -Dbuildtype=release).
 */
#define _GNU_SOURCE
#include <rgn.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof v[0], cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static size_t maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

#define BATCHES 31

int main(int argc, char **argv)
{
	long cycles = 2000, churn = 1000000;
	int kib = 64, trim = 0;
	double destroy[BATCHES], cycle[BATCHES], t0, t1, td;
	size_t maps0, maps1;
	const char *mode = getenv("RGN_CHECK");

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--trim") == 0)
			trim = 1;
		else if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc)
			cycles = atol(argv[++i]);
		else if (strcmp(argv[i], "--kib") == 0 && i + 1 < argc)
			kib = atoi(argv[++i]);
		else if (strcmp(argv[i], "--churn") == 0 && i + 1 < argc)
			churn = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--trim] [--cycles N] [--kib K] [--churn N]\n",
			        argv[0]);
			return 2;
		}
	}
	if (rgn_init(NULL) != 0) {
		perror("rgn_init");
		return 1;
	}
	/* warm-up: the space's frontier, the caches, the unwinder */
	for (long i = 0; i < cycles; i++) {
		rgn_region *r = rgn_new(NULL);
		for (int k = 0; k < kib; k++)
			memset(rgn_alloc(r, 1000), 1, 1000);
		rgn_destroy(r);
	}
	for (int b = 0; b < BATCHES; b++) {
		td = 0;
		t0 = now_ns();
		for (long i = 0; i < cycles; i++) {
			rgn_region *r = rgn_new(NULL);
			double d0;
			for (int k = 0; k < kib; k++)
				memset(rgn_alloc(r, 1000), 1, 1000);
			d0 = now_ns();
			rgn_destroy(r);
			if (trim)
				rgn_space_trim();
			td += now_ns() - d0;
		}
		t1 = now_ns();
		destroy[b] = td / (double)cycles;
		cycle[b] = (t1 - t0) / (double)cycles;
	}

	maps0 = maps_lines();
	t0 = now_ns();
	for (long i = 0; i < churn; i++) {
		rgn_region *r = rgn_new(NULL);
		memset(rgn_alloc(r, 24), 1, 24);
		memset(rgn_alloc(r, 100), 1, 100);
		memset(rgn_alloc(r, 40), 1, 40);
		rgn_destroy(r);
		if (trim)
			rgn_space_trim();
	}
	t1 = now_ns();
	maps1 = maps_lines();

	printf("mode=%s trim=%d kib=%d destroy_ns=%.0f cycle_ns=%.0f churn_ns=%.1f "
	       "churn_cycles=%ld maps_before=%zu maps_after=%zu\n",
	       mode && *mode ? mode : "off", trim, kib, median(destroy, BATCHES),
	       median(cycle, BATCHES), (t1 - t0) / (double)churn, churn, maps0, maps1);
	return 0;
}
