/*
 * wl-alloc.c - allocate and initialise objects by size (8, 32, 128 B,
 * 1, 8 KiB), then free them all.
 *
 * What is timed: allocating each object AND writing all of it, as a
 * program initialising it would (every 8-byte word gets the object's
 * index), plus storing its pointer in a 128 KiB batch buffer, the same for
 * every allocator.  A null result ends the run with an error (the one
 * branch a careful caller adds).  Between batches, untimed, every object's
 * first and last word are read back and compared with its index, and the
 * first object of every batch once more after the last batch: objects that
 * overlap would have lost a value.  malloc's pointers are then saved in
 * the list free() needs (counted in its peak RSS).  Page faults of memory
 * the allocator has not held before are inside the timing; one untimed
 * warm-up run per variant comes first, so what the timed runs measure is
 * memory the allocator kept from it ("warm"), or faulted in again if it
 * gave it back.
 *
 * Variants, N the size parameter:
 *   alloc<S>_ns   8 and 32 B, cache-resident: a region of 1 MiB of objects
 *                 (fewer at small N), made, filled and destroyed over and
 *                 over until about N/2 objects were made; making and
 *                 destroying the region is not timed.
 *   alloc<S>d_ns  8 and 32 B, one big region of N objects (N x 32 B live at
 *                 32 B: 64 MiB by default, 320 MiB at --full, beyond a
 *                 last-level cache; the labels give the bytes live).
 *   alloc<S>_ns   128 B, 1 KiB, 8 KiB: one region of the bytes 32 B takes
 *                 (N * 32 / S objects).
 *   allocc<S>_ns, allocc<S>d_ns  8 and 32 B through rgn's cursor API
 *                 (BA_CURSOR, only the adapters that have it): the same
 *                 loops, the cursor opened before the first batch and
 *                 closed after the last, both timed.
 *   floor<S>_ns, floor<S>d_ns  8 and 32 B, the memset floor: the same loop
 *                 with the allocation replaced by the next address of a
 *                 buffer (an anonymous mapping written once before, so
 *                 faulted in), the same count, size, batch stores and
 *                 working set.  It does not depend on the allocator, but
 *                 every process measures its own.  The cache-resident floor
 *                 (a 1 MiB buffer, written over and over) runs interleaved
 *                 with the allocator's runs; the big one runs first, and
 *                 its buffer is unmapped before the allocator starts, so
 *                 that it adds nothing to the peak RSS.
 *   free<S>_ms    releasing a big region (one destroy, or one free per
 *                 object), ms for the whole region: free32_ms at --full is
 *                 the destroy of 10 M objects of 32 B.
 * The ways of one variant (ba_alloc, cursor, floor) take turns run by run,
 * so that the machine's noise falls on them alike.
 * Check: the sum of the indices read back in the warm-up runs of ba_alloc.
 */

#include <sys/mman.h>

#define ALLOC_BATCH 16384       /* pointers per timed batch: 128 KiB */
#define ALLOC_CACHE_LIVE ((size_t)1 << 20)   /* a cache-resident region */

enum alloc_way { WAY_FLOOR, WAY_ALLOC, WAY_CURSOR };

/* One variant of one size: `count` objects per region, `cycles` regions
 * one after the other per run. */
struct alloc_plan {
	size_t size, count, cycles;
	int cache;              /* the cache-resident variant */
	char name[8];           /* 8, 8d, 1k ... as in the metric names */
	char unit[16];          /* "8 B", "1 KiB" */
	char text[96];          /* for the labels */
};

static void *alloc_batch[ALLOC_BATCH];

__attribute__((noreturn, cold, noinline))
static void alloc_failed(void)
{
	die("alloc: allocation failed");
}

/* One region of one variant, filled: returns the timed ns.  The size and
 * the way are constants in every copy (alloc_fill_any), so that the write
 * of an object is a few stores, as in a program that knows its types. */
static inline __attribute__((always_inline)) uint64_t
alloc_fill(ba_region *r, char *floor, size_t count, size_t size,
           enum alloc_way way, void **list, uint64_t *sum)
{
	void **batch = alloc_batch;
	uint64_t timed = 0, t0;
	size_t last = size / 8 - 1;
	void **firsts = need(malloc((count / ALLOC_BATCH + 1) * sizeof *firsts));
#ifdef BA_CURSOR
	ba_cursor cur;

	if (way == WAY_CURSOR) {
		t0 = now_ns();
		ba_cursor_open(r, &cur);
		timed += now_ns() - t0;
	}
#endif
	(void)r;
	(void)floor;
	for (size_t done = 0; done < count; ) {
		size_t n = count - done < ALLOC_BATCH ? count - done : ALLOC_BATCH;

		t0 = now_ns();
		for (size_t i = 0; i < n; i++) {
			uint64_t v = done + i, *p;

			if (way == WAY_FLOOR) {
				p = (uint64_t *)(void *)(floor + (done + i) * size);
#ifdef BA_CURSOR
			} else if (way == WAY_CURSOR) {
				p = ba_cursor_alloc(&cur, size);
				if (__builtin_expect(!p, 0))
					alloc_failed();
#endif
			} else {
				p = ba_alloc(r, size);
				if (__builtin_expect(!p, 0))
					alloc_failed();
			}
			for (size_t k = 0; k < size / 8; k++)
				p[k] = v;
			batch[i] = p;
		}
		bench_escape(batch);    /* every store above happens, in here */
		timed += now_ns() - t0;

		for (size_t i = 0; i < n; i++) {
			const uint64_t *p = batch[i];

			if (p[0] != done + i || p[last] != done + i)
				die("alloc: objects overlap");
			*sum += p[0];
		}
		firsts[done / ALLOC_BATCH] = batch[0];
		if (list)
			memcpy(list + done, batch, n * sizeof *batch);
		done += n;
	}
#ifdef BA_CURSOR
	if (way == WAY_CURSOR) {
		t0 = now_ns();
		ba_cursor_close(r, &cur);
		timed += now_ns() - t0;
	}
#endif
	for (size_t j = 0; j * ALLOC_BATCH < count; j++)
		if (*(const uint64_t *)firsts[j] != j * ALLOC_BATCH)
			die("alloc: objects overlap");
	free(firsts);
	return timed;
}

#define ALLOC_WAYS(S)                                                       \
	case S:                                                             \
		return way == WAY_FLOOR                                     \
		       ? alloc_fill(r, floor, count, S, WAY_FLOOR, list, sum) \
		       : way == WAY_ALLOC                                   \
		       ? alloc_fill(r, floor, count, S, WAY_ALLOC, list, sum) \
		       : alloc_fill(r, floor, count, S, WAY_CURSOR, list, sum)

static uint64_t alloc_fill_any(ba_region *r, char *floor, size_t count,
                               size_t size, enum alloc_way way, void **list,
                               uint64_t *sum)
{
	switch (size) {
	ALLOC_WAYS(8);
	ALLOC_WAYS(32);
	ALLOC_WAYS(128);
	ALLOC_WAYS(1024);
	ALLOC_WAYS(8192);
	default:
		die("alloc: no loop for %zu bytes", size);
	}
}

/* One run of a plan: ns per object.  *free_ms gets the release time of
 * the last region (ignored for the cache-resident plans), *sum what was
 * read back. */
static double alloc_once(const struct alloc_plan *pl, enum alloc_way way,
                         char *floor, void **list, double *free_ms,
                         uint64_t *sum)
{
	uint64_t timed = 0, t0;

	for (size_t c = 0; c < pl->cycles; c++) {
		ba_region *r = way == WAY_FLOOR ? NULL : need(ba_new());

		timed += alloc_fill_any(r, floor, pl->count, pl->size, way,
		                        BA_FREES_EACH && r ? list : NULL, sum);
		if (!r)
			continue;
		t0 = now_ns();
		if (BA_FREES_EACH)
			for (size_t i = 0; i < pl->count; i++)
				ba_free(r, list[i], pl->size);
		ba_destroy(r);
		*free_ms = (double)(now_ns() - t0) / 1e6;
	}
	bench_ops_done += pl->count * pl->cycles;
	return (double)timed / (double)(pl->count * pl->cycles);
}

/* The ways a plan is measured in this process: ba_alloc, the cursor if
 * the adapter has one (8 and 32 B), and the cache-resident floor. */
static int alloc_ways(const struct alloc_plan *pl, enum alloc_way *ways)
{
	int n = 0;

	ways[n++] = WAY_ALLOC;
#ifdef BA_CURSOR
	if (pl->size <= 32)
		ways[n++] = WAY_CURSOR;
#endif
	if (pl->cache)
		ways[n++] = WAY_FLOOR;
	return n;
}

/* A warm-up run of every way, then `runs` rounds of one timed run of
 * each, interleaved so that the machine's noise falls on all of them
 * alike.  floor_ns: the big plans' floor, measured before. */
static void alloc_measure(const struct alloc_plan *pl, char *cache_floor,
                          const double *floor_ns, void **list, int runs,
                          uint64_t *sum)
{
	static const char *const prefix[] = {
		[WAY_FLOOR] = "floor", [WAY_ALLOC] = "alloc",
		[WAY_CURSOR] = "allocc",
	};
	static const char *const what[] = {
		[WAY_FLOOR] = "memset floor: write ",
		[WAY_ALLOC] = "alloc+write ",
		[WAY_CURSOR] = "cursor API: alloc+write ",
	};
	double ns[3][BENCH_MAX_RUNS], ms[BENCH_MAX_RUNS], unused_ms;
	enum alloc_way ways[3];
	int nw = alloc_ways(pl, ways);
	uint64_t ignored = 0;
	char metric[48];

	for (int w = 0; w < nw; w++)
		alloc_once(pl, ways[w], cache_floor, ways[w] == WAY_ALLOC ? list
		           : NULL, &unused_ms, ways[w] == WAY_ALLOC ? sum
		           : &ignored);
	for (int i = 0; i < runs; i++)
		for (int w = 0; w < nw; w++)
			ns[w][i] = alloc_once(pl, ways[w], cache_floor,
			                      ways[w] == WAY_ALLOC ? list : NULL,
			                      ways[w] == WAY_ALLOC ? &ms[i]
			                      : &unused_ms, &ignored);
	for (int w = 0; w < nw; w++) {
		snprintf(metric, sizeof metric, "%s%s_ns", prefix[ways[w]],
		         pl->name);
		bench_report(metric, ns[w], runs, "%s%s (ns)", what[ways[w]],
		             pl->text);
	}
	if (!pl->cache) {
		/* free8_ms, not free8d_ms: there is one free figure a size */
		snprintf(metric, sizeof metric, "free%.*s_ms",
		         (int)strcspn(pl->name, "d"), pl->name);
		bench_report(metric, ms, runs, "free all %zu x %s (ms)",
		             pl->count, pl->unit);
	}
	if (!pl->cache && pl->size <= 32) {
		snprintf(metric, sizeof metric, "floor%s_ns", pl->name);
		bench_report(metric, floor_ns, runs, "memset floor: write %s (ns)",
		             pl->text);
	}
}

static const size_t alloc_sizes[] = { 8, 32, 128, 1024, 8192 };
#define ALLOC_NSIZES (sizeof alloc_sizes / sizeof *alloc_sizes)

/* The plans for size parameter n: cache-resident 8 and 32, then one big
 * region of every size. */
static size_t alloc_plans(uint64_t n, struct alloc_plan *pl)
{
	size_t k = 0;

	for (size_t s = 0; s < ALLOC_NSIZES; s++) {
		size_t size = alloc_sizes[s];
		struct alloc_plan *p;

		if (size <= 32) {
			size_t count = ALLOC_CACHE_LIVE / size;
			size_t total = (size_t)n / 2;

			p = &pl[k++];
			if (count > (size_t)n)
				count = (size_t)n;
			*p = (struct alloc_plan){ .size = size, .count = count,
				.cycles = total / count ? total / count : 1,
				.cache = 1 };
			snprintf(p->name, sizeof p->name, "%u", (unsigned)size);
			snprintf(p->unit, sizeof p->unit, "%u B", (unsigned)size);
			snprintf(p->text, sizeof p->text, "%s, cache-resident "
			         "(%zu KiB regions, %zu made per run)", p->unit,
			         count * size >> 10, p->cycles);
		}
		p = &pl[k++];
		*p = (struct alloc_plan){ .size = size, .cycles = 1,
			.count = size <= 32 ? (size_t)n : (size_t)(n * 32 / size) };
		if (!p->count)
			p->count = 1;
		if (size >= 1024) {
			snprintf(p->name, sizeof p->name, "%uk",
			         (unsigned)(size >> 10));
			snprintf(p->unit, sizeof p->unit, "%u KiB",
			         (unsigned)(size >> 10));
		} else {
			snprintf(p->name, sizeof p->name, "%u%s",
			         (unsigned)size, size <= 32 ? "d" : "");
			snprintf(p->unit, sizeof p->unit, "%u B", (unsigned)size);
		}
		snprintf(p->text, sizeof p->text, "%s, one region of %zu objects "
		         "(%.1f MiB live)", p->unit, p->count,
		         (double)(p->count * size) / (1 << 20));
	}
	return k;
}

static size_t alloc_live(uint64_t n)
{
	return (size_t)n * 32;
}

static char *alloc_map(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("alloc: mmap of %zu bytes failed", bytes);
	memset(p, 1, bytes);            /* faulted in before any timing */
	return p;
}

static void alloc_run(uint64_t n, int runs)
{
	struct alloc_plan pl[2 * ALLOC_NSIZES];
	size_t np = alloc_plans(n, pl), most = 0, bytes = 0;
	double floor_ns[2 * ALLOC_NSIZES][BENCH_MAX_RUNS], unused_ms;
	uint64_t sum = 0, ignored = 0;
	char *floor, *cache_floor = alloc_map(ALLOC_CACHE_LIVE);
	void **list;

	for (size_t k = 0; k < np; k++) {
		if (pl[k].size <= 32 && pl[k].count * pl[k].size > bytes)
			bytes = pl[k].count * pl[k].size;
		if (pl[k].count > most)
			most = pl[k].count;
	}
	/* The big plans' floors first, their buffer unmapped before the
	 * allocator's runs, so that it adds nothing to their peak RSS. */
	floor = alloc_map(bytes);
	for (size_t k = 0; k < np; k++) {
		if (pl[k].cache || pl[k].size > 32)
			continue;
		alloc_once(&pl[k], WAY_FLOOR, floor, NULL, &unused_ms, &ignored);
		for (int i = 0; i < runs; i++)
			floor_ns[k][i] = alloc_once(&pl[k], WAY_FLOOR, floor, NULL,
			                            &unused_ms, &ignored);
	}
	munmap(floor, bytes);
	bench_ops_done = 0;

	if (!BA_FREES_EACH)
		most = 1;
	list = need(calloc(most, sizeof *list));
	if (BA_FREES_EACH)
		printf("info %s harness: pointer list of %zu MiB, counted in "
		       "peak RSS\n", BA_NAME, (most * sizeof *list) >> 20);
	for (size_t k = 0; k < np; k++)
		alloc_measure(&pl[k], cache_floor, floor_ns[k], list, runs, &sum);
	munmap(cache_floor, ALLOC_CACHE_LIVE);
	free(list);
	bench_check(sum);
}

static const struct bench_workload wl_alloc = {
	.name = "alloc",
	.what = "allocate + write by size: 8, 32, 128 B, 1, 8 KiB; then free all",
	.size_means = "objects of 8 and 32 B in one region; the same bytes "
	              "for larger sizes",
	.size = { 2000000, 10000000, 20000, 50000, 100000 },
	.runs = { 3, 5, 1, 1, 1 },
	.live_bytes = alloc_live,
	.run = alloc_run,
};
