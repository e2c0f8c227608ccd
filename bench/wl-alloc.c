/*
 * wl-alloc.c - allocation throughput by size (8, 32, 128 B, 1, 8 KiB).
 *
 * For each size: allocate into one region and keep every object alive,
 * then free them all.  The size parameter N is the count for 8 and 32
 * bytes; larger sizes allocate the same bytes as 32 does (N * 32 / size
 * objects), so that no size dominates the memory.
 *
 * Only the allocation loop is timed, in batches that store each pointer
 * in a small cache-resident buffer, the same for every allocator.
 * Between batches, untimed, each object gets its first 8 bytes written
 * (as a program would use it: a bump allocator's pages would otherwise
 * never be faulted in, and its RSS would mean nothing), and malloc's
 * pointers are saved in the list free() needs.  Freeing everything (one
 * destroy, or one free per object) is timed on its own, in ms for the
 * whole region.  One untimed warm-up run per size comes first, so the
 * timed runs measure memory the allocator already holds ("warm").
 *
 * Metrics: alloc<S>_ns per allocation, free<S>_ms per region.
 * Check: the sum of what was written, read back before the free (from
 * the warm-up runs).
 */

#define ALLOC_BATCH 16384       /* pointers per timed batch: 128 KiB */

static const size_t alloc_sizes[] = { 8, 32, 128, 1024, 8192 };

static size_t alloc_count(uint64_t n, size_t size)
{
	size_t c = size <= 32 ? (size_t)n : (size_t)(n * 32 / size);

	return c ? c : 1;
}

static size_t alloc_live(uint64_t n)
{
	return (size_t)n * 32;
}

/* One run.  Returns ns per allocation; *free_ms gets the release time and
 * *sum the check value.  Each batch is read back after it is written, and
 * the first object of every batch once more at the end: objects that
 * overlap would lose a value. */
static double alloc_once(size_t count, size_t size, void **list,
                         double *free_ms, uint64_t *sum)
{
	static void *batch[ALLOC_BATCH];
	void **firsts = need(malloc((count / ALLOC_BATCH + 1) * sizeof *firsts));
	ba_region *r = need(ba_new());
	uint64_t timed = 0, t0;

	for (size_t done = 0; done < count; ) {
		size_t n = count - done < ALLOC_BATCH ? count - done : ALLOC_BATCH;

		t0 = now_ns();
		for (size_t i = 0; i < n; i++)
			batch[i] = ba_alloc(r, size);
		bench_escape(batch);    /* every store above happens, in here */
		timed += now_ns() - t0;

		for (size_t i = 0; i < n; i++) {
			uint64_t v = done + i;

			memcpy(need(batch[i]), &v, sizeof v);
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t v;

			memcpy(&v, batch[i], sizeof v);
			*sum += v;
		}
		firsts[done / ALLOC_BATCH] = batch[0];
		if (BA_FREES_EACH)
			memcpy(list + done, batch, n * sizeof *batch);
		done += n;
	}
	for (size_t j = 0; j * ALLOC_BATCH < count; j++) {
		uint64_t v;

		memcpy(&v, firsts[j], sizeof v);
		if (v != j * ALLOC_BATCH)
			die("alloc: objects overlap");
	}
	free(firsts);
	bench_ops_done += count;

	t0 = now_ns();
	if (BA_FREES_EACH)
		for (size_t i = 0; i < count; i++)
			ba_free(r, list[i], size);
	ba_destroy(r);
	*free_ms = (double)(now_ns() - t0) / 1e6;
	return (double)timed / (double)count;
}

static void alloc_run(uint64_t n, int runs)
{
	double ns[BENCH_MAX_RUNS], ms[BENCH_MAX_RUNS], warm_ms;
	size_t most = BA_FREES_EACH ? (size_t)n : 1;
	void **list = need(calloc(most, sizeof *list));
	uint64_t sum = 0, ignored = 0;

	if (BA_FREES_EACH)
		printf("info %s harness: pointer list of %zu MiB, counted in "
		       "peak RSS\n", BA_NAME, (most * sizeof *list) >> 20);
	for (size_t k = 0; k < sizeof alloc_sizes / sizeof *alloc_sizes; k++) {
		size_t size = alloc_sizes[k], count = alloc_count(n, size);
		char metric[2][48], name[24], text[24];

		alloc_once(count, size, list, &warm_ms, &sum);
		for (int i = 0; i < runs; i++)
			ns[i] = alloc_once(count, size, list, &ms[i], &ignored);
		if (size >= 1024) {
			snprintf(name, sizeof name, "%zuk", size >> 10);
			snprintf(text, sizeof text, "%zu KiB", size >> 10);
		} else {
			snprintf(name, sizeof name, "%zu", size);
			snprintf(text, sizeof text, "%zu B", size);
		}
		snprintf(metric[0], sizeof metric[0], "alloc%s_ns", name);
		snprintf(metric[1], sizeof metric[1], "free%s_ms", name);
		bench_report(metric[0], ns, runs, "alloc %s, warm (ns)", text);
		bench_report(metric[1], ms, runs, "free all %zu x %s (ms)",
		             count, text);
	}
	free(list);
	bench_check(sum);
}

static const struct bench_workload wl_alloc = {
	.name = "alloc",
	.what = "allocation throughput by size: 8, 32, 128 B, 1, 8 KiB; then free all",
	.size_means = "objects of 8 and 32 B; the same bytes for larger sizes",
	.size = { 2000000, 10000000, 20000, 50000, 100000 },
	.runs = { 3, 5, 1, 1, 1 },
	.live_bytes = alloc_live,
	.run = alloc_run,
};
