/*
 * strategy.c - the block strategy and the contiguous strategy, measured
 * side by side.  scripts/bench runs it through bench/strategy.py, which
 * writes strategy.md, its plots and its CSVs.
 *
 *   bench-strategy SECTION [--full] [--rounds N] [--strategy S]
 *
 * Every output line is one CSV row:  section,case,strategy,round,metric,value
 * (metric names end in their unit).  Sections:
 *   alloc      allocation throughput by object size (16 B to 64 KiB)
 *   life       region life cycle: create + first allocation + destroy,
 *              cycles over warm memory, and the page costs under them
 *   maxlive    how many regions one process holds (--strategy blocks,
 *              contig-32g or contig-1m; one process each: it fills the
 *              address space)
 *   inflate    10,000 region lifetimes of skewed sizes, RSS over time
 *              (--strategy blocks, unmap, cache, cache-dontneed, cache-free)
 *   over32     more than 32 GiB live (--strategy blocks or contig)
 *   share      K worker processes, each with its own space, reading one
 *              image sealed in a memfd (--workers K, default 4): their
 *              RSS and PSS (the workers run as "share-worker")
 *   image      write a region to a file, map it back, walk it
 *   xref       a child region pointing into its parent
 *   compact    rgn_compact: one compaction of a graph among 9x garbage
 *              (time, memory held, RSS, a walk before and after), and a
 *              long run replacing data, with and without compaction
 * Timed sections alternate the strategies within each round, so that noise
 * on the machine falls on both alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rgn.h"

#include "args.h"
#include "common.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

static int full;
static int rounds = 3;
static const char *only;            /* --strategy */
static volatile uint64_t sink;

static void row(const char *sec, const char *cas, const char *strat, int round,
                const char *metric, double value)
{
	printf("%s,%s,%s,%d,%s,%.6g\n", sec, cas, strat, round, metric, value);
	fflush(stdout);
}

static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static double minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_minflt;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-strategy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct bench_rng rng = { 1 };
#define rnd() rng_next(&rng)

/* A region of strategy s: "blocks", or contiguous with the given reserve
 * and release policy. */
static rgn_region *make(int contig, size_t reserve, rgn_release rel,
                        rgn_region *parent)
{
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = reserve,
	                  .release = rel };
	rgn_region *r = contig ? rgn_new_with(parent, &o) : rgn_new(parent);

	if (!r)
		die("region");
	return r;
}

static void touch(char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
	if (n)
		p[n - 1] = 1;
}

/* ==== 1. allocation throughput ============================================== */

static void sec_alloc(void)
{
	static const size_t sizes[] = { 16, 64, 256, 4096, 65536 };
	size_t total = full ? 256 * MiB : 64 * MiB;

	for (int round = 1; round <= rounds; round++)
		for (size_t si = 0; si < 5; si++)
			for (int c = 0; c < 2; c++) {
				int contig = (c + round) % 2;
				size_t n = sizes[si], count = total / n;
				rgn_options o = { .backend = RGN_BACKEND_CONTIG,
				                  .reserve = 2 * GiB, .retain = SIZE_MAX };
				rgn_region *r = contig ? rgn_new_with(NULL, &o) : rgn_new(NULL);
				char cas[32];
				double t0, t1, f0;

				/* one pass to fault the memory in, then the timed one */
				for (size_t i = 0; i < count; i++)
					((char *)rgn_alloc(r, n))[0] = 1;
				rgn_reset(r);
				f0 = minor_faults();
				t0 = now_ns();
				for (size_t i = 0; i < count; i++) {
					char *p = rgn_alloc(r, n);
					p[0] = (char)i;
				}
				t1 = now_ns();
				snprintf(cas, sizeof cas, "%zu", n);
				row("alloc", cas, contig ? "contig" : "blocks", round,
				    "alloc_ns", (t1 - t0) / (double)count);
				row("alloc", cas, contig ? "contig" : "blocks", round,
				    "faults_per_mib", (minor_faults() - f0) / (double)(total / MiB));
				rgn_destroy(r);
			}
}

/* ==== 2. life cycle and page costs ============================================ */

struct life_strat {
	const char *name;
	int contig;
	size_t reserve;
	rgn_release rel;
	rgn_purge purge;
};

static const struct life_strat life_strats[] = {
	{ "blocks",              0, 0,        RGN_RELEASE_DEFAULT, RGN_PURGE_DONTNEED },
	{ "contig-unmap-32g",    1, 32 * GiB, RGN_RELEASE_UNMAP,   RGN_PURGE_DONTNEED },
	{ "contig-unmap-1m",     1, 1 * MiB,  RGN_RELEASE_UNMAP,   RGN_PURGE_DONTNEED },
	{ "contig-cache-32g",    1, 32 * GiB, RGN_RELEASE_CACHE,   RGN_PURGE_DONTNEED },
	{ "contig-cache-free",   1, 32 * GiB, RGN_RELEASE_CACHE,   RGN_PURGE_FREE },
	{ "contig-cache-keep",   1, 32 * GiB, RGN_RELEASE_CACHE,   RGN_PURGE_NONE },
};
#define NLIFE (sizeof life_strats / sizeof life_strats[0])

static void set_purge(rgn_purge p)
{
	rgn_contig_config cfg = { .purge = p };

	if (rgn_contig_configure(&cfg) != 0)
		die("configure");
}

/* Page costs through rgn: first touch, touching again, and touching again
 * after rgn_reset gave the pages back with DONTNEED or FREE. */
static void page_costs(int round)
{
	static const rgn_purge ps[] = { RGN_PURGE_DONTNEED, RGN_PURGE_FREE };
	static const char *names[] = { "dontneed_retouch_ns", "free_retouch_ns" };
	size_t n = (full ? 256 : 64) * MiB, pages = n / 4096;
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = 1 * GiB,
	                  .retain = 4096, .release = RGN_RELEASE_UNMAP };

	for (int k = 0; k < 2; k++) {
		rgn_region *r;
		char *p;
		double t0, t1, t2, t3;

		set_purge(ps[k]);
		r = rgn_new_with(NULL, &o);
		if (!r)
			die("region");
		p = rgn_alloc(r, n);
		t0 = now_ns();
		touch(p, n);
		t1 = now_ns();
		touch(p, n);
		t2 = now_ns();
		rgn_reset(r);
		p = rgn_alloc(r, n);
		t3 = now_ns();
		touch(p, n);
		if (k == 0) {
			row("life", "page", "contig", round, "first_touch_ns",
			    (t1 - t0) / (double)pages);
			row("life", "page", "contig", round, "resident_touch_ns",
			    (t2 - t1) / (double)pages);
		}
		row("life", "page", "contig", round, names[k],
		    (now_ns() - t3) / (double)pages);
		rgn_destroy(r);
	}
	set_purge(RGN_PURGE_DONTNEED);
}

static void sec_life(void)
{
	int n1 = full ? 20000 : 5000, n2 = full ? 400 : 100;
	size_t warm = 4 * MiB;

	for (int round = 1; round <= rounds; round++) {
		for (size_t k = 0; k < NLIFE; k++) {
			const struct life_strat *s = &life_strats[(k + (size_t)round) % NLIFE];
			double t0, t1;
			rgn_region *r;

			set_purge(s->purge);
			/* create + alloc 64 B + destroy; the first one warms up */
			r = make(s->contig, s->reserve, s->rel, NULL);
			rgn_destroy(r);
			t0 = now_ns();
			for (int i = 0; i < n1; i++) {
				r = make(s->contig, s->reserve, s->rel, NULL);
				((char *)rgn_alloc(r, 64))[0] = 1;
				rgn_destroy(r);
			}
			t1 = now_ns();
			row("life", "create_alloc_destroy", s->name, round, "cycle_ns",
			    (t1 - t0) / n1);
			if (s->contig && s->reserve < 2 * warm)
				continue;
			/* create, fill 4 MiB, destroy: memory already warm */
			r = make(s->contig, s->reserve, s->rel, NULL);
			touch(rgn_alloc(r, warm), warm);
			rgn_destroy(r);
			t0 = now_ns();
			for (int i = 0; i < n2; i++) {
				r = make(s->contig, s->reserve, s->rel, NULL);
				touch(rgn_alloc(r, warm), warm);
				rgn_destroy(r);
			}
			t1 = now_ns();
			row("life", "fill_4m_warm", s->name, round, "cycle_us",
			    (t1 - t0) / n2 / 1e3);
		}
		set_purge(RGN_PURGE_DONTNEED);
		page_costs(round);
	}
}

/* ==== 3. maximum live regions ====================================================== */

static void sec_maxlive(void)
{
	const char *s = only ? only : "contig-32g";
	size_t reserve = strcmp(s, "contig-1m") == 0 ? 1 * MiB : 32 * GiB;
	int contig = strcmp(s, "blocks") != 0;
	size_t cap = contig ? 200000 : 10000000, n = 0;
	rgn_region **v = malloc(cap * sizeof *v);
	double t0, t1;
	int err = 0;
	void *m;

	if (!v)
		die("malloc");
	t0 = now_ns();
	for (; n < cap; n++) {
		rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = reserve,
		                  .release = RGN_RELEASE_UNMAP };

		errno = 0;
		v[n] = contig ? rgn_new_with(NULL, &o) : rgn_new(NULL);
		if (!v[n]) {
			err = errno;
			break;
		}
	}
	t1 = now_ns();
	row("maxlive", "limit", s, 1, "regions", (double)n);
	row("maxlive", "limit", s, 1, "errno", err);
	row("maxlive", "limit", s, 1, "create_ns", n ? (t1 - t0) / (double)n : 0);
	row("maxlive", "limit", s, 1, "rss_mib", (double)rss_bytes() / MiB);
	/* at the limit, does the rest of the process still get memory? */
	m = malloc(64 * MiB);
	row("maxlive", "limit", s, 1, "malloc_64m_ok", m != NULL);
	free(m);
	m = malloc(64);
	row("maxlive", "limit", s, 1, "malloc_64_ok", m != NULL);
	free(m);
	t0 = now_ns();
	while (n > 0)
		rgn_destroy(v[--n]);
	t1 = now_ns();
	row("maxlive", "limit", s, 1, "destroy_all_ms", (t1 - t0) / 1e6);
	free(v);
}

/* ==== 4. long-running inflation ======================================================= */

/* Most lifetimes small (4 KiB to 64 KiB), one in 16 medium (64 KiB to
 * 4 MiB), one in 1000 huge (256 MiB). */
static size_t lifetime_size(void)
{
	uint64_t x = rnd() % 1000;

	if (x == 0)
		return 256 * MiB;
	if (x < 63)
		return 64 * KiB + (size_t)(rnd() % (4 * MiB - 64 * KiB));
	return 4 * KiB + (size_t)(rnd() % (60 * KiB));
}

static void sec_inflate(void)
{
	enum { SLOTS = 16, LIFETIMES = 10000, EVERY = 50 };
	const char *s = only ? only : "blocks";
	int contig = strcmp(s, "blocks") != 0;
	rgn_release rel = strcmp(s, "unmap") == 0 ? RGN_RELEASE_UNMAP : RGN_RELEASE_CACHE;
	rgn_purge p = strcmp(s, "cache-dontneed") == 0 ? RGN_PURGE_DONTNEED
	            : strcmp(s, "cache-free") == 0 ? RGN_PURGE_FREE : RGN_PURGE_NONE;
	rgn_region *slot[SLOTS] = { 0 };
	size_t peak = 0, base_rss;
	double t0, t1;

	set_purge(p);
	base_rss = rss_bytes();
	t0 = now_ns();
	for (int i = 0; i < LIFETIMES; i++) {
		int k = (int)(rnd() % SLOTS);
		size_t n = lifetime_size();
		rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = 1 * GiB,
		                  .release = rel };
		rgn_region *r;
		size_t done = 0;

		rgn_destroy(slot[k]);
		r = slot[k] = contig ? rgn_new_with(NULL, &o) : rgn_new(NULL);
		if (!r)
			die("region");
		/* the lifetime's objects: 4 KiB each, the huge one whole */
		while (done < n) {
			size_t m = n >= 64 * MiB ? n : 4096;
			char *q = rgn_alloc(r, m);

			if (!q)
				die("alloc");
			touch(q, m);
			done += m;
		}
		if (i % EVERY == 0 || i == LIFETIMES - 1) {
			size_t rss = rss_bytes();

			if (rss > peak)
				peak = rss;
			row("inflate", "rss", s, i, "rss_mib",
			    (double)(rss - (rss > base_rss ? base_rss : rss)) / MiB);
		}
	}
	t1 = now_ns();
	row("inflate", "summary", s, 1, "peak_rss_mib",
	    (double)(peak - (peak > base_rss ? base_rss : peak)) / MiB);
	row("inflate", "summary", s, 1, "final_rss_mib",
	    (double)(rss_bytes() - base_rss) / MiB);
	row("inflate", "summary", s, 1, "time_ms", (t1 - t0) / 1e6);
	for (int k = 0; k < SLOTS; k++)
		rgn_destroy(slot[k]);
}

/* ==== 5. more than 32 GiB live ============================================================ */

static void sec_over32(void)
{
	const char *s = only ? only : "contig";
	int contig = strcmp(s, "contig") == 0;
	size_t want = 40 * GiB, piece = 1 * GiB, live = 0;
	rgn_region *root = contig ? NULL : make(0, 0, RGN_RELEASE_DEFAULT, NULL);
	rgn_region *v[64];
	int n = 0, err = 0;
	double t0, t1;

	t0 = now_ns();
	while (live < want) {
		char *p;

		v[n] = contig ? make(1, 2 * GiB, RGN_RELEASE_UNMAP, NULL) : root;
		errno = 0;
		p = rgn_alloc(v[n], piece);
		if (!p) {
			err = errno;
			if (contig)
				rgn_destroy(v[n]);
			break;
		}
		/* sparse: one page in every 1 MiB */
		for (size_t i = 0; i < piece; i += MiB)
			p[i] = 1;
		live += piece;
		n++;
	}
	t1 = now_ns();
	row("over32", "live", s, 1, "live_gib", (double)live / GiB);
	row("over32", "live", s, 1, "errno", err);
	row("over32", "live", s, 1, "regions", contig ? n : 1);
	row("over32", "live", s, 1, "rss_mib", (double)rss_bytes() / MiB);
	row("over32", "live", s, 1, "time_ms", (t1 - t0) / 1e6);
	if (contig)
		while (n > 0)
			rgn_destroy(v[--n]);
	else
		rgn_destroy(root);
}

/* ---- 5b. more than 32 GiB: K processes, each with its own space, sharing one image ---- */

/* The parent builds a list of 64-byte nodes in a contiguous region,
 * writes it into a memfd and seals it, then starts K workers.  A worker is
 * this program run again (fork, then exec of /proc/self/exe share-worker):
 * a fresh process reserves a space of its own, where a child that was
 * only forked would carry the parent's space, blocks and regions along,
 * copy-on-write, and its memory figures would count the parent's pages.
 * Each worker opens the image, walks all of it, allocates memory of its
 * own, and then, while all K hold the image, reads its memory figures.
 * Pipes keep them in step: ready (each worker, once it has walked and
 * allocated), go (closed by the parent when all are ready), measured,
 * leave (closed when all have measured: none unmaps early). */
struct snode {
	rgn_ref  next;
	uint32_t key;
	uint64_t pay[7];   /* 64 bytes a node */
};

static uint64_t share_walk(const char *base, rgn_ref ref, uint64_t *nodes)
{
	uint64_t sum = 0, n = 0;

	while (ref) {
		const struct snode *s = (const struct snode *)(const void *)
		                        (base + ((size_t)ref << 3));

		sum += s->key + s->pay[n % 7];
		ref = s->next;
		n++;
	}
	*nodes = n;
	return sum;
}

/* Fields of /proc/self/smaps_rollup (kB into MiB); absent ones are -1. */
static void rollup(const char *who, int k)
{
	static const char *const keys[] = { "Rss", "Pss", "Pss_Anon", "Pss_Shmem",
	                                    "Shared_Clean", "Shared_Dirty",
	                                    "Private_Clean", "Private_Dirty" };
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256], metric[64];

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		double v = -1;

		if (f) {
			rewind(f);
			while (fgets(line, sizeof line, f)) {
				size_t n = strlen(keys[i]);
				unsigned long kb;

				if (strncmp(line, keys[i], n) == 0 && line[n] == ':' &&
				    sscanf(line + n + 1, "%lu", &kb) == 1)
					v = kb / 1024.0;
			}
		}
		snprintf(metric, sizeof metric, "%s_mib", keys[i]);
		for (char *c = metric; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		row("over32", "share", who, k, metric, v);
	}
	if (f)
		fclose(f);
}

/* Rss and Pss of the mappings inside [lo, hi) (/proc/self/smaps), MiB. */
static void range_pss(const char *lo, const char *hi, double *rss, double *pss)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	*rss = *pss = 0;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b, kb;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2)
			in = (const char *)a >= lo && (const char *)b <= hi;
		else if (in && sscanf(line, "Rss: %lu kB", &kb) == 1)
			*rss += kb / 1024.0;
		else if (in && sscanf(line, "Pss: %lu kB", &kb) == 1)
			*pss += kb / 1024.0;
	}
	fclose(f);
}

/* bench-strategy share-worker IMAGE_FD READY GO MEASURED LEAVE INDEX PRIVATE_MIB */
static int share_worker(int argc, char **argv)
{
	int fd, ready, go, measured, leave, k;
	size_t priv;
	struct rgn_space_stats st;
	rgn_region *r;
	rgn_image *img;
	rgn_ref root;
	uint64_t nodes, sum;
	double t0, t1, t2, irss, ipss;
	char who[32], c;

	if (argc != 9) {
		fprintf(stderr, "bench-strategy: share-worker: 7 arguments\n");
		return 2;
	}
	fd = atoi(argv[2]), ready = atoi(argv[3]), go = atoi(argv[4]);
	measured = atoi(argv[5]), leave = atoi(argv[6]), k = atoi(argv[7]);
	priv = (size_t)atoi(argv[8]) * MiB;
	snprintf(who, sizeof who, "worker-%d", k);
	if (rgn_init(NULL) != 0)
		die("rgn_init");
	t0 = now_ns();
	img = rgn_image_open(fd, &root);
	if (!img)
		die("rgn_image_open");
	close(fd);
	t1 = now_ns();
	sum = share_walk(rgn_image_ptr(img, 0), root, &nodes);
	t2 = now_ns();
	/* memory of its own, in its own space */
	r = make(0, 0, RGN_RELEASE_DEFAULT, NULL);
	for (size_t done = 0; done < priv; done += 64 * KiB) {
		char *p = rgn_alloc(r, 64 * KiB);

		if (!p)
			die("rgn_alloc");
		memset(p, (int)done, 64 * KiB);
	}
	if (rgn_space_stats(&st) != 0)
		die("rgn_space_stats");
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		die("ready/go");
	rollup(who, 1);
	range_pss(rgn_image_ptr(img, 0), rgn_image_ptr(img, 0) + rgn_image_size(img) + 4095,
	          &irss, &ipss);
	row("over32", "share", who, 1, "image_rss_mib", irss);
	row("over32", "share", who, 1, "image_pss_mib", ipss);
	row("over32", "share", who, 1, "private_alloc_mib", (double)priv / MiB);
	row("over32", "share", who, 1, "space_gib", (double)st.size / GiB);
	row("over32", "share", who, 1, "nodes", (double)nodes);
	row("over32", "share", who, 1, "walk_sum", (double)(sum & 0xffffffffu));
	row("over32", "share", who, 1, "open_ms", (t1 - t0) / 1e6);
	row("over32", "share", who, 1, "walk_ms", (t2 - t1) / 1e6);
	if (write(measured, "m", 1) != 1 || read(leave, &c, 1) != 0)
		die("measured/leave");
	rgn_image_close(img);
	rgn_destroy(r);
	return 0;
}

static void sec_share(int workers)
{
	size_t bytes = (full ? 256 : 64) * MiB, priv = 16;
	uint32_t n = (uint32_t)(bytes / sizeof(struct snode));
	rgn_region *r = make(1, 2 * bytes + 64 * MiB, RGN_RELEASE_UNMAP, NULL);
	int ready[2], go[2], measured[2], leave[2], fd;
	rgn_ref head = 0, *link = &head;
	uint64_t nodes, sum;
	double t0, t1, t2;
	pid_t pid[64];
	char c;

	if (workers < 1 || workers > 64)
		die("--workers: 1 to 64");
	for (uint32_t i = 0; i < n; i++) {
		struct snode *s = rgn_alloc(r, sizeof *s);

		if (!s)
			die("rgn_alloc");
		s->key = i;
		for (int j = 0; j < 7; j++)
			s->pay[j] = (uint64_t)i * 31 + (uint64_t)j;
		s->next = 0;
		*link = rgn_ref_in(r, s);
		link = &s->next;
	}
	sum = share_walk(rgn_ptr_in(r, 0), head, &nodes);
	fd = rgn_image_memfd("bench-share");
	if (fd < 0) {
		/* no memfd here: the report says so */
		row("over32", "share", "parent", 1, "supported", -errno);
		rgn_destroy(r);
		return;
	}
	t0 = now_ns();
	if (rgn_image_write(r, fd, head) != 0)
		die("rgn_image_write");
	t1 = now_ns();
	rgn_destroy(r);   /* the parent keeps no copy: the memfd holds it */
	if (rgn_image_seal(fd) != 0)
		die("rgn_image_seal");
	t2 = now_ns();
	row("over32", "share", "parent", 1, "supported", 1);
	row("over32", "share", "parent", 1, "image_mib", (double)lseek(fd, 0, SEEK_END) / MiB);
	row("over32", "share", "parent", 1, "workers", workers);
	row("over32", "share", "parent", 1, "nodes", (double)nodes);
	row("over32", "share", "parent", 1, "walk_sum", (double)(sum & 0xffffffffu));
	row("over32", "share", "parent", 1, "write_ms", (t1 - t0) / 1e6);
	row("over32", "share", "parent", 1, "seal_ms", (t2 - t1) / 1e6);
	if (pipe(ready) || pipe(go) || pipe(measured) || pipe(leave))
		die("pipe");
	for (int k = 0; k < workers; k++) {
		pid[k] = fork();
		if (pid[k] < 0)
			die("fork");
		if (pid[k] == 0) {
			char a[7][24];

			/* the worker's ends survive exec (the memfd is close-on-exec) */
			close(go[1]), close(leave[1]), close(ready[0]), close(measured[0]);
			if (fcntl(fd, F_SETFD, 0) != 0)
				_exit(126);
			snprintf(a[0], 24, "%d", fd);
			snprintf(a[1], 24, "%d", ready[1]);
			snprintf(a[2], 24, "%d", go[0]);
			snprintf(a[3], 24, "%d", measured[1]);
			snprintf(a[4], 24, "%d", leave[0]);
			snprintf(a[5], 24, "%d", k);
			snprintf(a[6], 24, "%zu", priv);
			execl("/proc/self/exe", "bench-strategy", "share-worker", a[0], a[1],
			      a[2], a[3], a[4], a[5], a[6], (char *)NULL);
			_exit(127);
		}
	}
	close(fd);
	close(ready[1]), close(go[0]), close(measured[1]), close(leave[0]);
	for (int k = 0; k < workers; k++)
		if (read(ready[0], &c, 1) != 1)
			die("a worker failed before it was ready");
	close(go[1]);        /* all hold the image: measure */
	for (int k = 0; k < workers; k++)
		if (read(measured[0], &c, 1) != 1)
			die("a worker failed before it measured");
	close(leave[1]);     /* all have measured: leave */
	for (int k = 0; k < workers; k++) {
		int status;

		if (waitpid(pid[k], &status, 0) != pid[k] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			die("worker");
	}
	close(ready[0]), close(measured[0]);
}

/* ==== 6. serialization ===================================================================== */

struct tnode {
	rgn_ref left, right, name;
	uint32_t key;
};

static rgn_ref build(rgn_region *r, uint32_t lo, uint32_t hi)
{
	struct tnode *t;
	uint32_t mid;

	if (lo > hi)
		return 0;
	mid = lo + (hi - lo) / 2;
	t = rgn_alloc(r, sizeof *t);
	t->key = mid;
	t->name = rgn_ref_in(r, rgn_format(r, "n%u", mid));
	t->left = mid > lo ? build(r, lo, mid - 1) : 0;
	t->right = build(r, mid + 1, hi);
	return rgn_ref_in(r, t);
}

/* A tree whose references count from base: a region's ref 0
 * (rgn_ptr_in(r, 0)) or an image's (rgn_image_ptr(img, 0)). */
static uint64_t walk(const char *base, rgn_ref ref)
{
	const struct tnode *t;

	if (!ref)
		return 0;
	t = (const struct tnode *)(const void *)(base + ((size_t)ref << 3));
	return t->key + (uint64_t)(unsigned char)base[((size_t)t->name << 3) + 1] +
	       walk(base, t->left) + walk(base, t->right);
}

static void sec_image(void)
{
	uint32_t nodes = full ? 4000000 : 1000000;

	for (int round = 1; round <= rounds; round++) {
		char path[] = "/tmp/rgn-strategy-XXXXXX";
		rgn_region *r = make(1, 32 * GiB, RGN_RELEASE_UNMAP, NULL), *b;
		rgn_image *img;
		rgn_ref root, root2;
		uint64_t w1, w2;
		double t0, t1, t2, t3, t4;
		size_t bytes;
		int fd = mkstemp(path);

		if (fd < 0)
			die("mkstemp");
		unlink(path);
		root = build(r, 0, nodes - 1);
		t0 = now_ns();
		w1 = walk(rgn_ptr_in(r, 0), root);
		t1 = now_ns();
		if (rgn_image_write(r, fd, root) != 0)
			die("rgn_image_write");
		t2 = now_ns();
		img = rgn_image_open(fd, &root2);
		if (!img)
			die("rgn_image_open");
		t3 = now_ns();
		w2 = walk(rgn_image_ptr(img, 0), root2);
		t4 = now_ns();
		if (w1 != w2)
			die("image walk differs");
		bytes = rgn_image_size(img);
		row("image", "roundtrip", "contig", round, "bytes", (double)bytes);
		row("image", "roundtrip", "contig", round, "write_ns_per_byte",
		    (t2 - t1) / (double)bytes);
		row("image", "roundtrip", "contig", round, "open_ns_per_byte",
		    (t3 - t2) / (double)bytes);
		row("image", "roundtrip", "contig", round, "walk_original_ms",
		    (t1 - t0) / 1e6);
		row("image", "roundtrip", "contig", round, "walk_mapped_ms",
		    (t4 - t3) / 1e6);
		rgn_image_close(img);
		close(fd);
		rgn_destroy(r);
		/* the block strategy: no image of a block region */
		b = make(0, 0, RGN_RELEASE_DEFAULT, NULL);
		errno = 0;
		row("image", "roundtrip", "blocks", round, "write_supported",
		    rgn_image_write(b, 1, 0) == 0 ? 1 : -errno);
		rgn_destroy(b);
	}
}

/* ==== 7. cross-region references =========================================================== */

/* A parent region holds a dictionary of strings; each request is a child
 * region that builds a list of nodes naming dictionary entries, then
 * reads it.  Blocks: a node stores the entry's 32-bit ref, valid in every
 * block region.  Contiguous: a ref into the parent means nothing in the
 * child, so a node stores a raw 8-byte pointer (16-byte nodes), or copies
 * the string into the child to keep 32-bit refs and a self-contained
 * (serializable) child. */
struct xnode_ref { rgn_ref next, name; };
struct xnode_ptr { const char *name; rgn_ref next; uint32_t pad; };

static void sec_xref(void)
{
	enum { WORDS = 4096 };
	int requests = full ? 2000 : 500, per = 2000;

	for (int round = 1; round <= rounds; round++)
		for (int v = 0; v < 3; v++) {
			static const char *names[] = { "blocks-ref", "contig-ptr", "contig-copy" };
			int variant = (v + round) % 3, contig = variant != 0;
			rgn_region *parent = make(contig, 1 * GiB, RGN_RELEASE_CACHE, NULL);
			char *words[WORDS];
			uint64_t sum = 0;
			size_t used = 0;
			double t0, t1;

			for (int i = 0; i < WORDS; i++)
				words[i] = rgn_format(parent, "word-%d-%x", i, i * 2654435761u);
			t0 = now_ns();
			for (int q = 0; q < requests; q++) {
				rgn_region *c = make(contig, 64 * MiB, RGN_RELEASE_CACHE, parent);
				rgn_ref head = 0;
				struct rgn_region_stats st;

				for (int i = 0; i < per; i++) {
					const char *w = words[rnd() % WORDS];

					if (variant == 0) {
						struct xnode_ref *x = rgn_alloc(c, sizeof *x);
						x->name = rgn_ref_of(w);
						x->next = head;
						head = rgn_ref_of(x);
					} else if (variant == 1) {
						struct xnode_ptr *x = rgn_alloc(c, sizeof *x);
						x->name = w;
						x->next = head;
						head = rgn_ref_in(c, x);
					} else {
						struct xnode_ref *x = rgn_alloc(c, sizeof *x);
						x->name = rgn_ref_in(c, rgn_strdup(c, w));
						x->next = head;
						head = rgn_ref_in(c, x);
					}
				}
				while (head) {
					if (variant == 1) {
						struct xnode_ptr *x = rgn_ptr_in(c, head);
						sum += (unsigned char)x->name[5];
						head = x->next;
					} else {
						struct xnode_ref *x = rgn_ptr_in(c, head);
						sum += (unsigned char)RGN_AT_IN(c, char, x->name)[5];
						head = x->next;
					}
				}
				rgn_region_stats(c, &st);
				used += st.used;
				rgn_destroy(c);
			}
			t1 = now_ns();
			sink += sum;
			row("xref", "child_into_parent", names[variant], round, "node_ns",
			    (t1 - t0) / ((double)requests * per));
			row("xref", "child_into_parent", names[variant], round,
			    "bytes_per_node", (double)used / ((double)requests * per));
			rgn_destroy(parent);
		}
}

/* ==== 8. compaction ======================================================================== */

/* The live graph: a list of records, each naming a 256-byte payload.  The
 * layout lists the payload first, so that a depth-first copy lays each
 * record's payload right after it, as the build did (record, payload,
 * next record, ...). */
struct crec {
	rgn_ref next, data;
};
enum { PAYLOAD = 256, REC_BYTES = 8 + PAYLOAD };
static const uint32_t crec_refs[] = { offsetof(struct crec, data), offsetof(struct crec, next) };
static const rgn_layout cblob_l = { .size = PAYLOAD };
static const rgn_layout crec_l;
static const rgn_layout *const crec_to[] = { &cblob_l, &crec_l };
static const rgn_layout crec_l = { .size = sizeof(struct crec), .nrefs = 2, .refs = crec_refs,
	                           .to = crec_to };

static rgn_ref rec_new(rgn_region *r, uint64_t fill)
{
	struct crec *x = rgn_alloc(r, sizeof *x);
	uint64_t *d = rgn_alloc(r, PAYLOAD);

	if (!x || !d)
		die("alloc");
	for (size_t i = 0; i < PAYLOAD / 8; i++)
		d[i] = fill + i;
	x->next = 0;
	x->data = rgn_ref_in(r, d);
	return rgn_ref_in(r, x);
}

/* Garbage of the records' shape: a record and its payload, never linked;
 * their addresses stored from keep on (if not NULL), and keep's end
 * returned. */
static void **garbage(rgn_region *r, size_t records, void **keep)
{
	for (size_t i = 0; i < records; i++) {
		char *a = rgn_alloc(r, 8), *b = rgn_alloc(r, PAYLOAD);

		if (!a || !b)
			die("alloc");
		a[0] = b[0] = b[PAYLOAD - 1] = 1;
		if (keep) {
			*keep++ = a;
			*keep++ = b;
		}
	}
	return keep;
}

/* Every record and every word of its payload, in list order. */
static uint64_t cwalk(const rgn_region *r, rgn_ref head, size_t *n)
{
	uint64_t s = 0;

	*n = 0;
	for (rgn_ref x = head; x;) {
		const struct crec *c = rgn_ptr_in(r, x);
		const uint64_t *d = rgn_ptr_in(r, c->data);

		for (size_t i = 0; i < PAYLOAD / 8; i++)
			s += d[i];
		x = c->next;
		++*n;
	}
	return s;
}

/* A timed walk, after an untimed one (the same cache state on both sides
 * of a compaction): the best of three, ns per record (the machine is
 * shared: the best is the one least disturbed).  The caller checks the
 * checksum. */
static double timed_walk(const rgn_region *r, rgn_ref head, size_t want, uint64_t *sum)
{
	size_t n;
	double best = 0;

	cwalk(r, head, &n);
	for (int k = 0; k < 3; k++) {
		double t0 = now_ns(), t;

		*sum = cwalk(r, head, &n);
		t = now_ns() - t0;
		if (n != want)
			die("walk: records lost");
		if (k == 0 || t < best)
			best = t;
	}
	return best / (double)want;
}

/* Locality of the list: the share of steps from a record to the next
 * (and from a record to its payload) that land more than a page away
 * from it, either way: what a prefetcher cannot follow. */
static double far_steps(const rgn_region *r, rgn_ref head, size_t n)
{
	size_t far = 0;

	for (rgn_ref x = head; x;) {
		const struct crec *c = rgn_ptr_in(r, x);
		const char *d = rgn_ptr_in(r, c->data), *nx = c->next ? rgn_ptr_in(r, c->next) : NULL;

		far += (size_t)(d - (const char *)c) + 4096 > 8192;
		if (nx)
			far += (size_t)(nx - (const char *)c) + 4096 > 8192;
		x = c->next;
	}
	return (double)far / (2.0 * (double)n);
}

static size_t held_bytes(const rgn_region *r, struct rgn_region_stats *st)
{
	if (rgn_region_stats(r, st) != 0)
		die("rgn_region_stats");
	return st->blocks * 4096;
}

/* RSS with freed blocks really given back. */
static size_t rss_trimmed(void)
{
	rgn_space_trim();
	return rss_bytes();
}

static double mib_above(size_t v, size_t base)
{
	return (double)(v > base ? v - base : 0) / MiB;
}

static rgn_region *compact_region(int contig)
{
	return make(contig, 32 * GiB, RGN_RELEASE_UNMAP, NULL);
}

/* One compaction of n live records with `waste` records' worth of garbage
 * after each one (case "once": 9; "dense": 0, nothing to give back, what
 * the copy itself costs), in a block, contiguous or heap region (kind 0,
 * 1, 2).  The heap region's garbage is freed one by one once the graph
 * is built (freed at once, the next record would take its place), so
 * that nine tenths of every page is free and no page is empty. */
static void compact_once(const char *cas, int kind, int round, size_t n, size_t waste)
{
	static const char *const says[] = { "blocks", "contig", "heap" };
	const char *s = says[kind];
	size_t base = rss_trimmed(), live = n * REC_BYTES;
	rgn_region *r = kind == 2 ? rgn_new_with(NULL, &(rgn_options){ .backend = RGN_BACKEND_HEAP })
	                          : compact_region(kind);
	void **gar = NULL, **g = NULL;
	rgn_ref head = 0, tail = 0;
	struct rgn_region_stats st;
	rgn_copy_options o = { 0 };
	uint64_t s1, s2;
	double w1, w2, t0, t1;
	size_t held, held0;

	if (!r)
		die("region");
	if (kind == 2 && waste && !(g = gar = malloc(n * waste * 2 * sizeof *gar)))
		die("malloc");
	for (size_t i = 0; i < n; i++) {
		rgn_ref x = rec_new(r, i);

		if (tail)
			((struct crec *)rgn_ptr_in(r, tail))->next = x;
		else
			head = x;
		tail = x;
		g = garbage(r, waste, g);
	}
	if (gar) {
		for (void **p = gar; p < g; p++)
			rgn_free(r, *p, 0);
		free(gar);
	}
	held0 = held = held_bytes(r, &st);
	row("compact", cas, s, round, "live_mib", (double)live / MiB);
	row("compact", cas, s, round, "used_before_mib", (double)st.used / MiB);
	row("compact", cas, s, round, "held_before_mib", (double)held / MiB);
	row("compact", cas, s, round, "rss_before_mib", mib_above(rss_trimmed(), base));
	w1 = timed_walk(r, head, n, &s1);
	row("compact", cas, s, round, "far_steps_before", far_steps(r, head, n));
	t0 = now_ns();
	if (rgn_compact(r, &head, 1, &crec_l, &o) != 0)
		die("rgn_compact");
	t1 = now_ns();
	if (o.objects != 2 * n || o.bytes != live)
		die("rgn_compact: not the live graph");
	w2 = timed_walk(r, head, n, &s2);
	row("compact", cas, s, round, "far_steps_after", far_steps(r, head, n));
	if (s1 != s2)
		die("walk after compaction differs");
	held = held_bytes(r, &st);
	row("compact", cas, s, round, "compact_ns_per_object", (t1 - t0) / (double)o.objects);
	row("compact", cas, s, round, "compact_ns_per_byte", (t1 - t0) / (double)live);
	row("compact", cas, s, round, "compact_ns_per_held_byte", (t1 - t0) / (double)held0);
	row("compact", cas, s, round, "compact_ms", (t1 - t0) / 1e6);
	row("compact", cas, s, round, "used_after_mib", (double)st.used / MiB);
	row("compact", cas, s, round, "held_after_mib", (double)held / MiB);
	row("compact", cas, s, round, "rss_after_mib", mib_above(rss_trimmed(), base));
	row("compact", cas, s, round, "walk_before_ns", w1);
	row("compact", cas, s, round, "walk_after_ns", w2);
	rgn_destroy(r);
}

/* test_compact_churn, larger: n live records; each round a tenth of them
 * get a new payload (the old one is garbage) and 8x that much scratch is
 * allocated; compacted every `every` rounds (0: never). */
static void compact_churn(int contig, int every, int round, size_t n, int steps)
{
	char s[32];
	size_t base = rss_trimmed(), live = n * REC_BYTES, peak = 0, got;
	rgn_region *r = compact_region(contig);
	rgn_ref head = 0;
	struct rgn_region_stats st;
	double tc = 0, t0;
	uint64_t sum;

	snprintf(s, sizeof s, "%s-%s", contig ? "contig" : "blocks", every ? "compact" : "none");
	for (size_t i = 0; i < n; i++) {
		rgn_ref x = rec_new(r, i);

		((struct crec *)rgn_ptr_in(r, x))->next = head;
		head = x;
	}
	t0 = now_ns();
	for (int step = 0; step < steps; step++) {
		struct crec *x = rgn_ptr_in(r, head);
		size_t i = 0;

		for (; x; i++, x = x->next ? rgn_ptr_in(r, x->next) : NULL)
			if ((i + (size_t)step) % 10 == 0) {
				uint64_t *d = rgn_alloc(r, PAYLOAD);

				if (!d)
					die("alloc");
				memset(d, step, PAYLOAD);
				x->data = rgn_ref_in(r, d);
			}
		garbage(r, n * 8 / 10, NULL);
		if (every && step % every == every - 1) {
			double c0 = now_ns();

			if (rgn_compact(r, &head, 1, &crec_l, NULL) != 0)
				die("rgn_compact");
			tc += now_ns() - c0;
		}
		got = held_bytes(r, &st);
		if (got > peak)
			peak = got;
		row("compact", "churn_series", s, step + 1, "held_mib", (double)got / MiB);
	}
	row("compact", "churn", s, round, "time_ms", (now_ns() - t0) / 1e6);
	row("compact", "churn", s, round, "compact_total_ms", tc / 1e6);
	row("compact", "churn", s, round, "live_mib", (double)live / MiB);
	row("compact", "churn", s, round, "held_mib", (double)held_bytes(r, &st) / MiB);
	row("compact", "churn", s, round, "peak_held_mib", (double)peak / MiB);
	row("compact", "churn", s, round, "rss_mib", mib_above(rss_trimmed(), base));
	row("compact", "churn", s, round, "walk_ns", timed_walk(r, head, n, &sum));
	row("compact", "churn", s, round, "far_steps", far_steps(r, head, n));
	sink += sum;
	rgn_destroy(r);
}

static void sec_compact(void)
{
	size_t once_n = full ? 1000000 : 40000, churn_n = full ? 200000 : 16000;
	int steps = full ? 60 : 30, every = 5;

	for (int round = 1; round <= rounds; round++) {
		for (int c = 0; c < 3; c++)
			compact_once("once", (c + round) % 3, round, once_n, 9);
		for (int c = 0; c < 3; c++)
			compact_once("dense", (c + round) % 3, round, once_n, 0);
		for (int c = 0; c < 4; c++) {
			int k = (c + round) % 4;

			compact_churn(k / 2, k % 2 ? every : 0, round, churn_n, steps);
		}
	}
}

int main(int argc, char **argv)
{
	const char *sec = NULL, *v;
	struct bench_args a;
	int workers = 4;

	if (argc > 1 && strcmp(argv[1], "share-worker") == 0)
		return share_worker(argc, argv);

	args_init(&a, argc, argv, "usage: bench-strategy alloc|life|maxlive|inflate|"
	          "over32|share|image|xref|compact [--full] [--rounds N] [--strategy S]\n"
	          "       [--workers K]\n");
	while (args_more(&a)) {
		if (args_flag(&a, "--full"))
			full = 1;
		else if ((v = args_value(&a, "--rounds")))
			rounds = (int)args_uint(&a, v, 1, INT_MAX);
		else if ((v = args_value(&a, "--strategy")))
			only = v;
		else if ((v = args_value(&a, "--workers")))
			workers = (int)args_uint(&a, v, 1, 64);
		else if (!sec && (v = args_word(&a)))
			sec = v;
		else
			args_usage(&a);
	}
	if (!sec)
		args_usage(&a);
	/* In the timed sections, blocks freed by a reset stay resident, as a
	 * contiguous region's pages do below its retained size: they measure
	 * allocation, not page faults.  The memory sections (maxlive, inflate,
	 * over32, compact) run with the defaults.  RGN_RETAIN still wins. */
	{
		int timed = strcmp(sec, "alloc") == 0 || strcmp(sec, "life") == 0 ||
		            strcmp(sec, "image") == 0 || strcmp(sec, "xref") == 0;
		rgn_config cfg = { .retain_limit = timed && !getenv("RGN_RETAIN") ? 4 * GiB : 0 };

		if (rgn_init(&cfg) != 0 && errno != EBUSY)
			die("rgn_init");
	}
	if (strcmp(sec, "alloc") == 0)
		sec_alloc();
	else if (strcmp(sec, "life") == 0)
		sec_life();
	else if (strcmp(sec, "maxlive") == 0)
		sec_maxlive();
	else if (strcmp(sec, "inflate") == 0)
		sec_inflate();
	else if (strcmp(sec, "over32") == 0)
		sec_over32();
	else if (strcmp(sec, "share") == 0)
		sec_share(workers);
	else if (strcmp(sec, "image") == 0)
		sec_image();
	else if (strcmp(sec, "xref") == 0)
		sec_xref();
	else if (strcmp(sec, "compact") == 0)
		sec_compact();
	else {
		fprintf(stderr, "bench-strategy: no section %s\n", sec);
		return 2;
	}
	return 0;
}
