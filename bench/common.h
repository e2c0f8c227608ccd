/*
 * common.h - what every benchmark program shares, whether it is built
 * from driver.c (through harness.h) or stands alone (chase.c,
 * strategy.c, sys-walk.c): a monotonic clock and one seeded generator.
 * Their command lines go through args.h.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the whole process, every thread (CLOCK_PROCESS_CPUTIME_ID) */
static inline uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, fast, and the same sequence everywhere */
struct bench_rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct bench_rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi], by multiply and shift rather than a division */
static inline uint32_t rng_range(struct bench_rng *g, uint32_t lo, uint32_t hi)
{
	uint64_t span = (uint64_t)hi - lo + 1;

	return lo + (uint32_t)(((rng_next(g) >> 32) * span) >> 32);
}

#endif /* BENCH_COMMON_H */
