/*
 * alloc-loop.c - an allocation loop alone (32-byte objects into a batch
 * of pointers, the objects written outside the timing, as the `alloc`
 * workload once timed it; it now times the writes too), for comparing two
 * builds of the library with one program.
 *
 * In bench-rgn the loop's speed follows where the linker puts it and its
 * pointer array (DESIGN.md, section 12): the same instructions ran at
 * 0.7-1.3 ns in some processes and 1.8-2.8 ns in others.  Compiled once
 * against each build's headers and linked to its librgn.so, this program
 * has the same layout for both, so what differs is the library:
 *
 *   cc -O2 $(pkg-config --cflags rgn) alloc-loop.c $(pkg-config --libs rgn)
 *   LD_LIBRARY_PATH=... ./a.out        (prints ns per allocation, 3 runs)
 *
 * It uses only calls every version of the library has had.
 */
#define _POSIX_C_SOURCE 200809L
#include <rgn.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define BATCH   16384
#define OBJECTS 2000000
#define RUNS    6

static void *batch[BATCH];

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(void)
{
	for (int run = 0; run < RUNS; run++) {
		rgn_region *r = rgn_new(NULL);
		double timed = 0;

		if (!r)
			return 1;
		for (int done = 0; done < OBJECTS; done += BATCH) {
			double t0 = now_ns();
			for (int i = 0; i < BATCH; i++)
				batch[i] = rgn_alloc(r, 32);
			__asm__ volatile("" : : "r"(batch) : "memory");
			timed += now_ns() - t0;
			for (int i = 0; i < BATCH; i++) {
				if (!batch[i])
					return 1;
				*(uint64_t *)batch[i] = (uint64_t)i;
			}
		}
		rgn_destroy(r);
		/* the first runs are cold: print the warm ones */
		if (run >= RUNS - 3)
			printf("%.3f%c", timed / OBJECTS, run == RUNS - 1 ? '\n' : ' ');
	}
	return 0;
}
