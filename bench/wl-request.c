/*
 * wl-request.c - a request-handler simulation.
 *
 * Each request gets a region of its own for its short life:
 *   - 50 to 500 small objects of 8 to 120 bytes, each filled in;
 *   - one or two strings built with printf (rgn_format for rgn, a
 *     formatted copy in region memory for the others), a request line
 *     and sometimes a header;
 *   - one time in 16, a 64 KiB buffer, filled as a read would fill it;
 * then everything is read back into a checksum and the region destroyed
 * (malloc-style allocators free each object, from the request's list of
 * what it allocated, as such a program would).
 *
 * The random sequence is seeded, the same for every allocator, so every
 * allocator serves exactly the same requests and gets the same checksum.
 * Size parameter: requests per run.  Metric: request_us per request.
 */

#define RQ_MAX_OBJS (500 + 2 + 1)
#define RQ_SEED     0x5eed2024u
#define RQ_BIG      ((size_t)64 << 10)

static uint64_t rq_sum_bytes(const unsigned char *p, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

/* Serve one request; returns its checksum. */
static uint64_t rq_serve(struct bench_rng *g, uint64_t id)
{
	void *obj[RQ_MAX_OBJS];
	uint32_t len[RQ_MAX_OBJS];
	uint32_t n = rng_range(g, 50, 500), nobj = 0, nstr;
	ba_region *r = need(ba_new());
	uint64_t sum = 0;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t size = rng_range(g, 8, 120);
		unsigned char *p = need(ba_alloc(r, size));

		memset(p, (int)((id + k) & 0xff), size);
		obj[nobj] = p;
		len[nobj++] = size;
	}
	nstr = 1 + (uint32_t)(rng_next(g) & 1);
	for (uint32_t k = 0; k < nstr; k++) {
		uint64_t a = rng_next(g);
		char *s = k == 0
			? ba_printf(r, "GET /api/v1/items/%u?user=%08x&page=%u HTTP/1.1",
			            (unsigned)(a & 0xfffff), (unsigned)(a >> 32),
			            (unsigned)(a >> 20 & 0xff))
			: ba_printf(r, "X-Request-Id: %016llx; session=%u",
			            (unsigned long long)a, (unsigned)(id & 0xffff));

		obj[nobj] = need(s);
		len[nobj++] = (uint32_t)strlen(s) + 1;
	}
	if (rng_next(g) % 16 == 0) {
		unsigned char *b = need(ba_alloc(r, RQ_BIG));

		memset(b, (int)(id & 0xff), RQ_BIG);
		obj[nobj] = b;
		len[nobj++] = (uint32_t)RQ_BIG;
		sum += b[rng_next(g) % RQ_BIG];
	}

	for (uint32_t k = 0; k < nobj; k++) {
		const unsigned char *p = obj[k];

		sum += len[k] == RQ_BIG ? len[k]
		     : k < n ? (uint64_t)p[0] + p[len[k] - 1] + len[k]
		     : rq_sum_bytes(p, len[k]);
	}
	if (BA_FREES_EACH)
		for (uint32_t k = 0; k < nobj; k++)
			ba_free(r, obj[k], len[k]);
	ba_destroy(r);
	return sum;
}

/* count requests from seed; returns the summed checksum */
static uint64_t rq_batch(uint64_t seed, uint64_t count)
{
	struct bench_rng g = { seed };
	uint64_t sum = 0;

	for (uint64_t i = 0; i < count; i++)
		sum += rq_serve(&g, i);
	return sum;
}

static size_t rq_live(uint64_t count)
{
	(void)count;
	return (size_t)1 << 20;
}

static void rq_run(uint64_t count, int runs)
{
	double us[BENCH_MAX_RUNS];
	uint64_t check = rq_batch(RQ_SEED, count);   /* warm-up */

	for (int i = 0; i < runs; i++) {
		uint64_t t0 = now_ns();

		bench_sink += rq_batch(RQ_SEED, count);
		us[i] = (double)(now_ns() - t0) / 1e3 / (double)count;
	}
	bench_ops_done += count * (uint64_t)(runs + 1);
	bench_report("request_us", us, runs, "request handler (us per request)");
	bench_check(check);
}

static const struct bench_workload wl_request = {
	.name = "request",
	.what = "request handler: a region per request, 50..500 objects, printf strings, some 64 KiB buffers",
	.size_means = "requests per run",
	.size = { 20000, 100000, 200, 500, 1000 },
	.runs = { 3, 5, 1, 1, 1 },
	.live_bytes = rq_live,
	.run = rq_run,
};
