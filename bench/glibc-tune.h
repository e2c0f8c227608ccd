/*
 * glibc-tune.h - the set-up a user would give glibc malloc under an
 * allocator that takes its chunks from it (the textbook region, obstack).
 *
 * By default glibc gives the top of its heap back to the kernel whenever
 * more than 128 KiB of it is free, so a region that is destroyed and made
 * again faults every page in anew, run after run.  Raising the trim
 * threshold to what the workload holds at its peak, plus the margin rgn's
 * retain limit gets (adapt-rgn.h), keeps those pages, as rgn keeps its
 * blocks.  The mmap threshold (128 KiB) and the top pad are left alone:
 * chunks of both allocators are far below the one, and raising the other
 * changed nothing measurable (DESIGN.md, the benchmark's fairness).
 */
#ifndef BENCH_GLIBC_TUNE_H
#define BENCH_GLIBC_TUNE_H

#include <limits.h>
#include <malloc.h>
#include <stdio.h>

/* Tunes glibc malloc for a workload that holds live_bytes at its peak and
 * prints "info allocator <what>; <the set-up>" on out.  Returns 0. */
static int ba_glibc_tune(size_t live_bytes, FILE *out, const char *what)
{
	size_t trim = live_bytes + live_bytes / 4 + ((size_t)64 << 20);

	if (trim > INT_MAX)
		trim = INT_MAX;
	if (!mallopt(M_TRIM_THRESHOLD, (int)trim)) {
		/* a malloc that is not glibc's (a sanitizer's) has no such
		 * setting: run untuned, and say so */
		fprintf(out, "info allocator %s; mallopt(M_TRIM_THRESHOLD) "
		        "refused by this malloc: untuned\n", what);
		return 0;
	}
	fprintf(out, "info allocator %s; glibc malloc tuned: mallopt("
	        "M_TRIM_THRESHOLD, %zu MiB = peak live + 1/4 + 64 MiB), "
	        "other settings default\n", what, trim >> 20);
	return 0;
}

#endif /* BENCH_GLIBC_TUNE_H */
