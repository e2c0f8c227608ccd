/*
 * wl-threads.c - two threads serving requests at once (the request
 * workload, wl-request.c, in each), a scaling check.
 *
 * Each thread serves the size parameter's count of requests from a seed
 * of its own; both start together at a barrier, and the run lasts until
 * both are done.  Metric: threads2_us, the wall time divided by the
 * requests of one thread: equal to request_us when two threads run as
 * fast as one, twice that when they do not overlap at all.  (On a 2-core
 * VM shared with others, expect less than perfect scaling even for an
 * allocator without any shared state.)
 */

#include <pthread.h>

struct th_arg {
	pthread_barrier_t *start;
	uint64_t seed, count, sum;
	uint64_t sink;            /* the timed runs' sums, unread */
	int runs;                 /* batches after the warm-up one */
};

static void *th_main(void *p)
{
	struct th_arg *a = p;

	ba_thread_start();
	a->sum = rq_batch(a->seed, a->count);   /* warm-up */
	for (int i = 0; i < a->runs; i++) {
		pthread_barrier_wait(a->start);
		a->sink += rq_batch(a->seed, a->count);
		pthread_barrier_wait(a->start);
	}
	ba_thread_stop();
	return NULL;
}

static void th_run(uint64_t count, int runs)
{
	pthread_barrier_t start;
	struct th_arg arg[2];
	pthread_t tid[2];
	double us[BENCH_MAX_RUNS];

	/* three parties: the two workers and this thread, which times; each
	 * run passes it twice, at the start and at the end */
	pthread_barrier_init(&start, NULL, 3);
	for (int t = 0; t < 2; t++) {
		arg[t] = (struct th_arg){ &start, RQ_SEED + 1 + (uint64_t)t, count, 0, 0, runs };
		if (pthread_create(&tid[t], NULL, th_main, &arg[t]) != 0)
			die("threads: pthread_create failed");
	}
	for (int i = 0; i < runs; i++) {
		pthread_barrier_wait(&start);
		uint64_t t0 = now_ns();
		pthread_barrier_wait(&start);
		us[i] = (double)(now_ns() - t0) / 1e3 / (double)count;
	}
	for (int t = 0; t < 2; t++) {
		pthread_join(tid[t], NULL);
		bench_sink += arg[t].sink;
	}
	pthread_barrier_destroy(&start);
	bench_ops_done += 2 * count * (uint64_t)(runs + 1);
	bench_report("threads2_us", us, runs, "2 threads: request handler (us)");
	bench_check(arg[0].sum + arg[1].sum);
}

static const struct bench_workload wl_threads = {
	.name = "threads",
	.what = "two threads running the request handler at once (scaling check)",
	.size_means = "requests per thread per run",
	.size = { 20000, 100000, 200, 500, 1000 },
	.runs = { 3, 5, 1, 1, 1 },
	.live_bytes = rq_live,
	.run = th_run,
};
