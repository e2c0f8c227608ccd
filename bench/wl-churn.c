/*
 * wl-churn.c - region churn: create a region, make a few allocations,
 * destroy it, over and over.  What a short-lived scope (a request, a
 * function call, a parse of one line) costs beyond its allocations.
 *
 *   churn_ns    create + 4 allocations (24, 64, 16, 40 B, each written)
 *               + destroy, per cycle
 *   cycle64_ns  create + one allocation of 64 B + destroy, per cycle
 *
 * For malloc the nearest thing: the same allocations, each freed.
 *
 * The allocators differ by four orders of magnitude here (a jemalloc
 * arena reset costs microseconds), so a run is a time, not a count: the
 * size parameter is the milliseconds each timed run lasts, in rounds of
 * 256 cycles.  The check comes from the untimed warm-up, a fixed 4096
 * cycles.
 */

static const size_t churn_sizes[4] = { 24, 64, 16, 40 };

static size_t churn_live(uint64_t ms)
{
	(void)ms;
	return (size_t)1 << 20;
}

/* cycles of: new, nalloc allocations (churn_sizes, or one of 64 B when
 * nalloc is 1), destroy.  Returns the sum of what was read back. */
static uint64_t churn_cycles(size_t cycles, int nalloc)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < cycles; i++) {
		ba_region *r = need(ba_new());
		uint64_t *p[4];

		for (int k = 0; k < nalloc; k++) {
			size_t n = nalloc == 1 ? 64 : churn_sizes[k];

			p[k] = need(ba_alloc(r, n));
			p[k][0] = i + (uint64_t)k;
			p[k][n / 8 - 1] = (uint64_t)k;
		}
		for (int k = 0; k < nalloc; k++) {
			size_t n = nalloc == 1 ? 64 : churn_sizes[k];

			sum += p[k][0] + p[k][n / 8 - 1];
			if (BA_FREES_EACH)
				ba_free(r, p[k], n);
		}
		ba_destroy(r);
	}
	bench_ops_done += cycles;
	return sum;
}

/* Timed runs of at least ms milliseconds each; ns per cycle. */
static void churn_measure(const char *metric, const char *label, int nalloc,
                          uint64_t ms, int runs, uint64_t *check)
{
	double ns[BENCH_MAX_RUNS];

	*check += churn_cycles(4096, nalloc);  /* warm-up */
	for (int i = 0; i < runs; i++) {
		uint64_t t0 = now_ns(), t, cycles = 0;

		do {
			bench_sink += churn_cycles(256, nalloc);
			cycles += 256;
			t = now_ns() - t0;
		} while (t < ms * 1000000u);
		ns[i] = (double)t / (double)cycles;
	}
	bench_report(metric, ns, runs, "%s", label);
}

static void churn_run(uint64_t ms, int runs)
{
	uint64_t check = 0;

	churn_measure("churn_ns", "churn: new + 4 allocs + destroy (ns)",
	              4, ms, runs, &check);
	churn_measure("cycle64_ns", "new + alloc 64 B + destroy (ns)",
	              1, ms, runs, &check);
	bench_check(check);
}

static const struct bench_workload wl_churn = {
	.name = "churn",
	.what = "region churn: create, a few allocations, destroy",
	.size_means = "milliseconds per timed run",
	.size = { 40, 200, 1, 10, 20 },
	.runs = { 3, 5, 1, 1, 1 },
	.live_bytes = churn_live,
	.run = churn_run,
};
