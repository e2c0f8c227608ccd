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
#include "args.h"

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

static const char usage[] =
	"usage: bench-" BA_NAME " WORKLOAD [--mode default|full|smoke|grind|grind2] "
	"[--size N] [--runs N]\n"
	"       bench-" BA_NAME " --list\n";

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

int main(int argc, char **argv)
{
	const struct bench_workload *w = NULL;
	enum bench_mode mode = MODE_DEFAULT;
	uint64_t size = 0;
	int runs = 0;
	struct bench_args a;
	const char *name, *v;

	args_init(&a, argc, argv, usage);
	if (args_flag(&a, "--list")) {
		args_done(&a);
		list();
		return 0;
	}
	name = args_next(&a);
	for (size_t i = 0; i < NWORKLOADS; i++)
		if (strcmp(name, workloads[i]->name) == 0)
			w = workloads[i];
	if (!w) {
		fprintf(stderr, "bench-%s: no workload \"%s\" (--list names them)\n",
		        BA_NAME, name);
		return 2;
	}
	while (args_more(&a)) {
		if ((v = args_value(&a, "--mode")))
			mode = (enum bench_mode)args_choice(&a, v, mode_names, MODE_COUNT);
		else if ((v = args_value(&a, "--size")))
			size = args_uint(&a, v, 0, UINT64_MAX);
		else if ((v = args_value(&a, "--runs")))
			runs = (int)args_uint(&a, v, 1, BENCH_MAX_RUNS);
		else
			args_usage(&a);
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
	bench_faults_start();
	w->run(size, runs);
	ba_thread_stop();
	ba_stats(stdout);

	printf("ops %llu\n", (unsigned long long)bench_ops_done);
	double rss = peak_rss_mib();
	bench_report("peak_rss_mib", &rss, 1,
	             "peak RSS of the process (MiB)");
	return fflush(stdout) == 0 ? 0 : 1;
}
