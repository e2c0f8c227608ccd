/*
 * wl-binary-trees.c - the Computer Language Benchmarks Game's binary-trees,
 * single-threaded, with its exact output.
 *
 * Rules, as the Game states them: build a "stretch" tree of depth max+1,
 * check it and let it go; build a long-lived tree of depth max and keep
 * it; then for each depth d = 4, 6, ... max, build, check and let go
 * 2^(max - d + 4) trees of depth d; finally check the long-lived tree.
 * A tree is allocated node by node, children before their parent (the
 * Game's bottom-up construction), and checking counts its nodes.  The
 * size parameter is max (21 in the Game's published runs).
 *
 * Region allocators put the stretch tree, the long-lived tree and the
 * trees of each depth in regions of their own, and reset the latter
 * after every tree, as the fastest Game programs do with APR pools.
 * malloc-style allocators free every node recursively after the check,
 * as the Game's plain C programs do.  With an adapter that has 32-bit
 * references (rgn), a node is two references, 8 bytes; everywhere else
 * it is two pointers, 16 bytes.  An adapter with a cursor (rgn) builds
 * each tree through it.
 *
 * One run per process, no warm-up: a cell is one run of the program,
 * rounds give the repetitions.  Metric: bintree_s, the whole program.
 */

#ifdef BA_REF
typedef BA_REF bt_link;
#define BT_NULL         ((bt_link)0)
#define BT_LINK(r, p)   BA_REF_OF(r, p)
#define BT_NODE(r, l)   BA_AT(struct bt_node, r, l)
#else
typedef struct bt_node *bt_link;
#define BT_NULL         NULL
#define BT_LINK(r, p)   ((void)(r), (p))
#define BT_NODE(r, l)   ((void)(r), (l))
#endif

struct bt_node {
	bt_link left, right;
};

/* A node and its link, through the maker (defaults.h). */
static inline struct bt_node *bt_new(ba_maker *m, bt_link *l)
{
#ifdef BA_REF
	return ba_make_ref(m, sizeof(struct bt_node), l);
#else
	return *l = ba_make(m, sizeof(struct bt_node));
#endif
}

/* inline: gcc then unrolls the recursion into itself a few levels for
 * every allocator whose allocation is small inline code (the textbook
 * region, rgn's cursor); left to its own heuristics it does so or not
 * depending on the order it inlines the allocation in.  Allocators that
 * call out of line compile to the same code either way. */
static inline bt_link bt_make(ba_maker *restrict m, int depth)
{
	bt_link left = BT_NULL, right = BT_NULL, self;
	struct bt_node *n;

	if (depth > 0) {
		left = bt_make(m, depth - 1);
		right = bt_make(m, depth - 1);
	}
	n = need(bt_new(m, &self));
	n->left = left;
	n->right = right;
	return self;
}

/* A tree of the given depth in r. */
static bt_link bt_tree(ba_region *r, int depth)
{
	ba_maker m;
	bt_link t;

	ba_make_open(&m, r);
	t = bt_make(&m, depth);
	ba_make_close(&m, r);
	return t;
}

static long bt_check(ba_region *r, bt_link l)
{
	struct bt_node *n = BT_NODE(r, l);

	if (n->left == BT_NULL)
		return 1;
	return 1 + bt_check(r, n->left) + bt_check(r, n->right);
}

/* Only for BA_FREES_EACH adapters. */
static void bt_free(ba_region *r, bt_link l)
{
	struct bt_node *n = BT_NODE(r, l);

	if (n->left != BT_NULL) {
		bt_free(r, n->left);
		bt_free(r, n->right);
	}
	ba_free(r, n, sizeof *n);
}

static size_t bt_live(uint64_t depth)
{
	/* the stretch tree, plus the long-lived one */
	return (((size_t)4 << depth) + ((size_t)2 << depth)) * sizeof(struct bt_node);
}

static void bt_run(uint64_t size, int runs)
{
	const int min_depth = 4;
	int max_depth = (int)size < min_depth + 2 ? min_depth + 2 : (int)size;
	uint64_t t0 = now_ns();
	ba_region *r = need(ba_new()), *lr;
	bt_link t, long_lived;
	double s;

	(void)runs;
	t = bt_tree(r, max_depth + 1);
	printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1,
	       bt_check(r, t));
	if (BA_FREES_EACH)
		bt_free(r, t);
	ba_destroy(r);

	lr = need(ba_new());
	long_lived = bt_tree(lr, max_depth);

	for (int d = min_depth; d <= max_depth; d += 2) {
		long iterations = 1L << (max_depth - d + min_depth), check = 0;

		r = need(ba_new());
		for (long i = 0; i < iterations; i++) {
			t = bt_tree(r, d);
			check += bt_check(r, t);
			if (BA_FREES_EACH)
				bt_free(r, t);
			r = need(ba_reset(r));
		}
		ba_destroy(r);
		printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d,
		       check);
		bench_ops_done += (uint64_t)check;
	}
	printf("long lived tree of depth %d\t check: %ld\n", max_depth,
	       bt_check(lr, long_lived));
	if (BA_FREES_EACH)
		bt_free(lr, long_lived);
	ba_destroy(lr);

	s = (double)(now_ns() - t0) / 1e9;
	bench_report("bintree_s", &s, 1, "binary-trees depth %d (s)", max_depth);
}

static const struct bench_workload wl_bintree = {
	.name = "binary-trees",
	.what = "binary-trees (Benchmarks Game rules and output), one thread",
	.size_means = "maximum depth",
	.size = { 18, 21, 8, 10, 11 },
	.runs = { 1, 1, 1, 1, 1 },
	.live_bytes = bt_live,
	.run = bt_run,
};
