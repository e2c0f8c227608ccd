/*
 * driver.c - one benchmark executable: every workload, one allocator.
 *
 * meson.build compiles this file once per allocator with
 * -DBENCH_ADAPTER="adapt-<name>.h", giving bench-<name>.  One invocation
 * runs one workload, so that each (workload, allocator) cell is a process
 * of its own and its peak RSS belongs to that cell alone.
 *
 *   bench-<name> WORKLOAD [--mode default|full|smoke|grind|grind2]
 *                         [--size N] [--runs N]
 *   bench-<name> --list
 *
 * The workloads are wl-<name>.c files, included below and listed in
 * `workloads`: adding one is a new file plus two lines here.  They are
 * included rather than linked so that the adapter's inline functions are
 * inlined into their loops.  Output lines are described in harness.h.
 */
#ifndef _GNU_SOURCE             /* APR's pkg-config flags define it too */
#define _GNU_SOURCE
#endif

#ifndef BENCH_ADAPTER
#error "build with -DBENCH_ADAPTER=\"adapt-<name>.h\" (see meson.build)"
#endif
#include BENCH_ADAPTER
#include "defaults.h"
#include "harness.h"

#include <sys/resource.h>

#include "wl-alloc.c"
#include "wl-churn.c"
#include "wl-binary-trees.c"
#include "wl-request.c"
#include "wl-compiler.c"
#include "wl-threads.c"

static const struct bench_workload *const workloads[] = {
	&wl_alloc,
	&wl_churn,
	&wl_bintree,
	&wl_request,
	&wl_compiler,
	&wl_threads,
};

#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static const char *const mode_names[MODE_COUNT] = {
	"default", "full", "smoke", "grind", "grind2",
};

static void usage(void)
{
	fprintf(stderr,
	        "usage: bench-%s WORKLOAD [--mode default|full|smoke|grind|grind2] "
	        "[--size N] [--runs N]\n"
	        "       bench-%s --list\n", BA_NAME, BA_NAME);
	exit(2);
}

static void list(void)
{
	for (size_t i = 0; i < NWORKLOADS; i++) {
		const struct bench_workload *w = workloads[i];

		printf("%-13s %s\n%-13s size: %s; default %llu, --full %llu\n",
		       w->name, w->what, "", w->size_means,
		       (unsigned long long)w->size[MODE_DEFAULT],
		       (unsigned long long)w->size[MODE_FULL]);
	}
}

/* The process's peak resident set, in MiB.  VmHWM belongs to this
 * program's memory map, which exec made new; ru_maxrss would also carry
 * the high-water mark of the shell that forked it, which is larger than
 * the small cells themselves. */
static double peak_rss_mib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kib = -1;
	struct rusage ru;

	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtod(line + 6, NULL);
	if (f)
		fclose(f);
	if (kib < 0 && getrusage(RUSAGE_SELF, &ru) == 0)
		kib = (double)ru.ru_maxrss;
	return kib / 1024;
}

static uint64_t number(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s < '0' || *s > '9' || *end)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const struct bench_workload *w = NULL;
	enum bench_mode mode = MODE_DEFAULT;
	uint64_t size = 0;
	int runs = 0;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		list();
		return 0;
	}
	if (argc < 2)
		usage();
	for (size_t i = 0; i < NWORKLOADS; i++)
		if (strcmp(argv[1], workloads[i]->name) == 0)
			w = workloads[i];
	if (!w) {
		fprintf(stderr, "bench-%s: no workload \"%s\" (--list names them)\n",
		        BA_NAME, argv[1]);
		return 2;
	}
	for (int i = 2; i < argc; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1];

		if (!val)
			usage();
		if (strcmp(opt, "--mode") == 0) {
			int m = 0;

			while (m < MODE_COUNT && strcmp(val, mode_names[m]))
				m++;
			if (m == MODE_COUNT)
				usage();
			mode = (enum bench_mode)m;
		} else if (strcmp(opt, "--size") == 0) {
			size = number(val);
		} else if (strcmp(opt, "--runs") == 0) {
			runs = (int)number(val);
			if (runs < 1 || runs > BENCH_MAX_RUNS)
				usage();
		} else {
			usage();
		}
	}
	if (!size)
		size = w->size[mode];
	if (!runs)
		runs = w->runs[mode];

	if (ba_setup(w->live_bytes(size), stdout) != 0)
		return 1;
	printf("info workload %s, mode %s, size %llu (%s), %d timed run%s\n",
	       w->name, mode_names[mode], (unsigned long long)size,
	       w->size_means, runs, runs == 1 ? "" : "s");
	ba_thread_start();
	w->run(size, runs);
	ba_thread_stop();
	ba_stats(stdout);

	printf("ops %llu\n", (unsigned long long)bench_ops_done);
	double rss = peak_rss_mib();
	bench_report("peak_rss_mib", &rss, 1,
	             "peak RSS of the process (MiB)");
	return fflush(stdout) == 0 ? 0 : 1;
}
