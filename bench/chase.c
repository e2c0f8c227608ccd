/*
 * chase.c - pointer compression measured: the same linked structures
 * with raw 64-bit pointers and with rgn's 32-bit references.
 *
 * Built once per decode mode (and compiler) by scripts/bench; every run
 * measures both sides in one process, round after round, alternating
 * which goes first, so that the ratio is taken under the same noise.
 *
 *   chase    N nodes linked in a cycle, either in address order
 *            (sequential) or along a random cyclic permutation (random);
 *            time per dependent hop.  Raw nodes are 16 bytes (a pointer
 *            and a payload word), rgn nodes 8 (a reference and a 32-bit
 *            payload): the same N, so the rgn side touches half the
 *            memory.  The working set named in the output is the raw
 *            side's, N * 16 bytes.
 *   bst      a binary search tree of N random keys, then lookups of
 *            random present keys; time per lookup.  Raw nodes 24 bytes,
 *            rgn nodes 16 (two references and a key, rounded to the
 *            8-byte granule).
 *
 * Output: CSV lines on stdout,
 *   chase,MODE,PATTERN,WS_BYTES,VARIANT,ROUND,NS_PER_HOP
 *   bst,MODE,NODES,VARIANT,ROUND,NS_PER_LOOKUP
 * --one PATTERN VARIANT WS HOPS runs one chase and nothing else (for
 * cachegrind, where HOPS 0 gives the cost of the set-up alone).
 */
#define _GNU_SOURCE
#include <rgn.h>

#include "args.h"
#include "common.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rnode {              /* raw: 16 bytes */
	struct rnode *next;
	uint64_t      pay;
};

struct cnode {              /* compressed: 8 bytes */
	rgn_ref  next;
	uint32_t pay;
};

/* Tree nodes keep their children in an array indexed by the comparison,
 * so that neither side's lookup branches on the direction (a branch there
 * mispredicts half the time and would swamp the loads measured). */
struct rtree {              /* raw: 24 bytes */
	struct rtree *c[2];
	uint64_t      key;
};

struct ctree {              /* compressed: 16 bytes (refs need 8-byte
                               alignment, so 12 rounds up) */
	rgn_ref  c[2];
	uint32_t key;
	uint32_t pay;
};

static struct bench_rng rng = { 1 };
#define rnd() rng_next(&rng)

static void *xmalloc(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);

	if (!p) {
		perror("chase: malloc");
		exit(1);
	}
	return p;
}

static volatile uintptr_t sink;

/* ---- the two loops measured ------------------------------------------------- */

__attribute__((noinline))
static struct rnode *chase_raw(struct rnode *p, size_t n)
{
	while (n--)
		p = p->next;
	return p;
}

/* The index lives in a uintptr_t: a 32-bit loop variable would make gcc
 * zero-extend it on every hop. */
__attribute__((noinline))
static uintptr_t chase_ref(uintptr_t x, size_t n)
{
	while (n--)
		x = RGN_AT(struct cnode, x)->next;
	return x;
}

__attribute__((noinline))
static uint64_t find_raw(const struct rtree *t, const uint64_t *keys, size_t n)
{
	uint64_t found = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t k = keys[i];
		const struct rtree *p = t;

		while (p && p->key != k)
			p = p->c[k > p->key];
		found += p != NULL;
	}
	return found;
}

__attribute__((noinline))
static uint64_t find_ref(uintptr_t t, const uint64_t *keys, size_t n)
{
	uint64_t found = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t k = (uint32_t)keys[i];
		uintptr_t x = t;

		while (x && RGN_AT(struct ctree, x)->key != k)
			x = RGN_AT(struct ctree, x)->c[k > RGN_AT(struct ctree, x)->key];
		found += x != 0;
	}
	return found;
}

/* ---- set-up ---------------------------------------------------------------- */

/* next[i]: the successor of slot i in one cycle through all n slots. */
static uint32_t *make_cycle(size_t n, int random)
{
	uint32_t *next = xmalloc(n * sizeof *next);

	if (!random) {
		for (size_t i = 0; i < n; i++)
			next[i] = (uint32_t)((i + 1) % n);
		return next;
	}
	/* Sattolo: a uniformly random single cycle */
	uint32_t *perm = xmalloc(n * sizeof *perm);
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % i;
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		next[perm[i]] = perm[(i + 1) % n];
	free(perm);
	return next;
}

struct lists {
	struct rnode *raw;
	struct cnode *ref;
	rgn_region   *r;
};

static struct lists make_lists(size_t n, int random)
{
	struct lists l;
	uint32_t *next = make_cycle(n, random);

	l.raw = xmalloc(n * sizeof *l.raw);
	l.r = rgn_new(NULL);
	l.ref = l.r ? rgn_alloc_array(l.r, n, sizeof *l.ref) : NULL;
	if (!l.ref) {
		perror("chase: rgn_alloc_array");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		l.raw[i].next = &l.raw[next[i]];
		l.raw[i].pay = i;
		l.ref[i].next = rgn_ref_of(&l.ref[next[i]]);
		l.ref[i].pay = (uint32_t)i;
	}
	free(next);
	return l;
}

static void free_lists(struct lists *l)
{
	free(l->raw);
	rgn_destroy(l->r);
}

/* ---- runs -------------------------------------------------------------------- */

static size_t hops_for(size_t n)
{
	size_t h = n * 4;
	return h < 8000000 ? 8000000 : h > 4000000 * 4 ? 16000000 : h;
}

static void run_chase(const char *mode, int random, size_t ws, int rounds)
{
	size_t n = ws / sizeof(struct rnode);
	struct lists l = make_lists(n, random);
	size_t hops = hops_for(n);
	const char *pat = random ? "random" : "sequential";

	/* one warm pass over each before measuring */
	sink = (uintptr_t)chase_raw(l.raw, n);
	sink = chase_ref(rgn_ref_of(l.ref), n);
	for (int round = 0; round < rounds; round++) {
		for (int k = 0; k < 2; k++) {
			int raw = (k + round) % 2 == 0;
			double t = now_ns();

			if (raw)
				sink = (uintptr_t)chase_raw(l.raw, hops);
			else
				sink = chase_ref(rgn_ref_of(l.ref), hops);
			t = now_ns() - t;
			printf("chase,%s,%s,%zu,%s,%d,%.4f\n", mode, pat, ws,
			       raw ? "raw" : "ref", round, t / (double)hops);
		}
	}
	free_lists(&l);
}

static void run_bst(const char *mode, size_t n, int rounds)
{
	struct rtree *raw = xmalloc(n * sizeof *raw);
	rgn_region *r = rgn_new(NULL);
	struct ctree *ref = r ? rgn_alloc_array(r, n, sizeof *ref) : NULL;
	uint64_t *keys = xmalloc(n * sizeof *keys);
	size_t lookups = 500000;
	uint64_t *probe = xmalloc(lookups * sizeof *probe);
	rgn_ref root = RGN_NULL_REF;

	if (!ref) {
		perror("chase: bst");
		exit(1);
	}
	/* distinct keys (odd, so a miss would show), inserted in random order */
	for (size_t i = 0; i < n; i++)
		keys[i] = 2 * i + 1;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1);
		uint64_t t = keys[i];
		keys[i] = keys[j];
		keys[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		raw[i] = (struct rtree){ { NULL, NULL }, keys[i] };
		ref[i] = (struct ctree){ { 0, 0 }, (uint32_t)keys[i], 0 };
		if (i == 0) {
			root = rgn_ref_of(&ref[0]);
			continue;
		}
		struct rtree **rp;
		struct rtree *p = &raw[0];
		for (;;) {
			rp = &p->c[keys[i] > p->key];
			if (!*rp)
				break;
			p = *rp;
		}
		*rp = &raw[i];
		struct ctree *q = &ref[0];
		for (;;) {
			rgn_ref *link = &q->c[keys[i] > q->key];
			if (!*link) {
				*link = rgn_ref_of(&ref[i]);
				break;
			}
			q = rgn_ptr(*link);
		}
	}
	for (size_t i = 0; i < lookups; i++)
		probe[i] = keys[rnd() % n];
	for (int round = 0; round < rounds; round++) {
		for (int k = 0; k < 2; k++) {
			int is_raw = (k + round) % 2 == 0;
			double t = now_ns();
			uint64_t f = is_raw ? find_raw(raw, probe, lookups)
			                    : find_ref(root, probe, lookups);
			t = now_ns() - t;
			if (f != lookups) {
				fprintf(stderr, "chase: bst lost keys (%zu of %zu)\n",
				        (size_t)f, lookups);
				exit(1);
			}
			printf("bst,%s,%zu,%s,%d,%.4f\n", mode, n,
			       is_raw ? "raw" : "ref", round, t / (double)lookups);
		}
	}
	free(raw);
	free(keys);
	free(probe);
	rgn_destroy(r);
}

int main(int argc, char **argv)
{
	static const char *const patterns[] = { "sequential", "random" };
	static const char *const variants[] = { "raw", "ref" };
	const char *sizes = "32K,1M,16M", *bst = "64K,1M", *v;
	int rounds = 3;
	const char *mode = rgn_decode_mode();
	struct bench_args a;
	size_t *ws, *keys;
	int nws, nkeys;

	args_init(&a, argc, argv,
	          "usage: bench-chase [--sizes 32K,1M,...] [--bst 64K,1M,...] [--rounds N]\n"
	          "       bench-chase --one random|sequential raw|ref WS HOPS\n");
	if (args_flag(&a, "--one")) {
		int random = args_choice(&a, args_next(&a), patterns, 2);
		int raw = args_choice(&a, args_next(&a), variants, 2) == 0;
		size_t n = args_size(&a, args_next(&a)) / sizeof(struct rnode);
		size_t hops = (size_t)args_uint(&a, args_next(&a), 0, SIZE_MAX);
		struct lists l;

		args_done(&a);
		if (rgn_init(NULL) != 0) {
			perror("chase: rgn_init");
			return 1;
		}
		l = make_lists(n, random);
		if (raw)
			sink = (uintptr_t)chase_raw(l.raw, hops);
		else
			sink = chase_ref(rgn_ref_of(l.ref), hops);
		free_lists(&l);
		return 0;
	}
	while (args_more(&a)) {
		if ((v = args_value(&a, "--sizes")))
			sizes = v;
		else if ((v = args_value(&a, "--bst")))
			bst = v;
		else if ((v = args_value(&a, "--rounds")))
			rounds = (int)args_uint(&a, v, 1, INT_MAX);
		else
			args_usage(&a);
	}
	/* every size checked before anything runs */
	ws = args_size_list(&a, sizes, &nws);
	keys = args_size_list(&a, bst, &nkeys);
	if (rgn_init(NULL) != 0) {
		perror("chase: rgn_init");
		return 1;
	}
	for (int random = 1; random >= 0; random--)
		for (int i = 0; i < nws; i++)
			run_chase(mode, random, ws[i], rounds);
	for (int i = 0; i < nkeys; i++)
		run_bst(mode, keys[i], rounds);
	free(ws);
	free(keys);
	return 0;
}
