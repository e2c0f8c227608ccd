/*
 * wl-compiler.c - compiler phases: build a large tree in one region,
 * transform it into a second region, drop the first, and repeat.
 *
 * The tree is an expression: constants and variables at the leaves,
 * negation, addition and multiplication inside, of random shape (seeded,
 * the same for every allocator).  Each of the 4 passes copies it into a
 * fresh region, folding as it goes (constant arithmetic, double
 * negation) and renaming variables, then drops the old region whole
 * (malloc-style allocators free the old tree node by node, as a compiler
 * on malloc would).  The last tree is evaluated into the checksum.
 *
 * A node is a kind, a value and two links: 16 bytes with 32-bit
 * references (rgn), 24 with pointers.  An adapter with a cursor (rgn)
 * allocates every tree through it.  Size parameter: nodes in the first
 * tree.  Metric: compiler_ms per run (build, 4 passes, evaluate, drop).
 */

#define CP_PASSES 4
#define CP_SEED   0xc0ffee11u

enum cp_kind { CP_CONST, CP_VAR, CP_NEG, CP_ADD, CP_MUL };

#ifdef BA_REF
typedef BA_REF cp_link;
#define CP_NULL         ((cp_link)0)
#define CP_LINK(r, p)   BA_REF_OF(r, p)
#define CP_NODE(r, l)   BA_AT(struct cp_node, r, l)
#else
typedef struct cp_node *cp_link;
#define CP_NULL         NULL
#define CP_LINK(r, p)   ((void)(r), (p))
#define CP_NODE(r, l)   ((void)(r), (l))
#endif

struct cp_node {
	uint32_t kind;
	uint32_t val;          /* constant value, or variable number */
	cp_link a, b;          /* operands; b is null for CP_NEG */
};

/* A node in region r, allocated through m, r's maker (defaults.h). */
static cp_link cp_new(ba_maker *restrict m, ba_region *r, uint32_t kind,
                      uint32_t val, cp_link a, cp_link b)
{
	struct cp_node *n;
	cp_link l;

#ifdef BA_REF
	(void)r;
	n = need(ba_make_ref(m, sizeof *n, &l));
#else
	n = need(ba_make(m, sizeof *n));
	l = CP_LINK(r, n);
#endif
	n->kind = kind;
	n->val = val;
	n->a = a;
	n->b = b;
	return l;
}

/* A random tree of exactly n nodes, in r (m allocates there). */
static cp_link cp_build(ba_maker *restrict m, ba_region *r,
                        struct bench_rng *g, uint32_t n)
{
	uint64_t x = rng_next(g);

	if (n == 1)
		return cp_new(m, r, x & 1 ? CP_CONST : CP_VAR,
		              (uint32_t)(x >> 40) % 1000, CP_NULL, CP_NULL);
	if (n == 2 || x % 8 == 0)
		return cp_new(m, r, CP_NEG, 0, cp_build(m, r, g, n - 1), CP_NULL);

	uint32_t left = 1 + (uint32_t)(((x >> 32) * (uint64_t)(n - 2)) >> 32);
	cp_link a = cp_build(m, r, g, left);
	cp_link b = cp_build(m, r, g, n - 1 - left);

	return cp_new(m, r, x & 16 ? CP_ADD : CP_MUL, 0, a, b);
}

/* A folded-away leaf: malloc-style allocators free it; in a region it
 * stays until the region goes, as a one-pass folder's would. */
static void cp_drop(ba_region *r, cp_link l)
{
	if (BA_FREES_EACH)
		ba_free(r, CP_NODE(r, l), sizeof(struct cp_node));
}

/* Copy the tree at l (in region from) into region to (m allocates
 * there), folded, with variables renamed for this pass. */
static cp_link cp_pass(ba_maker *restrict m, ba_region *to, ba_region *from,
                       cp_link l, uint32_t pass)
{
	const struct cp_node *n = CP_NODE(from, l);
	cp_link a, b;
	const struct cp_node *x, *y;

	switch (n->kind) {
	case CP_CONST:
		return cp_new(m, to, CP_CONST, n->val, CP_NULL, CP_NULL);
	case CP_VAR:
		return cp_new(m, to, CP_VAR, (n->val * 7 + pass) % 1000, CP_NULL, CP_NULL);
	case CP_NEG:
		x = CP_NODE(from, n->a);
		if (x->kind == CP_NEG)              /* - - e  =>  e */
			return cp_pass(m, to, from, x->a, pass);
		a = cp_pass(m, to, from, n->a, pass);
		x = CP_NODE(to, a);
		if (x->kind == CP_CONST) {          /* - c  =>  constant */
			uint32_t v = 0u - x->val;

			cp_drop(to, a);
			return cp_new(m, to, CP_CONST, v, CP_NULL, CP_NULL);
		}
		return cp_new(m, to, CP_NEG, 0, a, CP_NULL);
	default:
		a = cp_pass(m, to, from, n->a, pass);
		b = cp_pass(m, to, from, n->b, pass);
		x = CP_NODE(to, a);
		y = CP_NODE(to, b);
		if (x->kind == CP_CONST && y->kind == CP_CONST) {
			uint32_t v = n->kind == CP_ADD ? x->val + y->val
			                               : x->val * y->val;

			cp_drop(to, a);
			cp_drop(to, b);
			return cp_new(m, to, CP_CONST, v, CP_NULL, CP_NULL);
		}
		return cp_new(m, to, n->kind, 0, a, b);
	}
}

static uint64_t cp_eval(ba_region *r, cp_link l, uint64_t *nodes)
{
	const struct cp_node *n = CP_NODE(r, l);
	uint64_t a, b;

	++*nodes;
	switch (n->kind) {
	case CP_CONST:
		return n->val;
	case CP_VAR:
		return n->val * 2654435761u;
	case CP_NEG:
		return 0 - cp_eval(r, n->a, nodes);
	default:
		a = cp_eval(r, n->a, nodes);
		b = cp_eval(r, n->b, nodes);
		return n->kind == CP_ADD ? a + b : a * b + 1;
	}
}

/* Only for BA_FREES_EACH adapters. */
static void cp_free(ba_region *r, cp_link l)
{
	struct cp_node *n = CP_NODE(r, l);

	if (n->a != CP_NULL)
		cp_free(r, n->a);
	if (n->b != CP_NULL)
		cp_free(r, n->b);
	ba_free(r, n, sizeof *n);
}

/* One run: build, CP_PASSES passes, evaluate.  Returns the checksum. */
static uint64_t cp_once(uint32_t nodes)
{
	struct bench_rng g = { CP_SEED };
	ba_region *r = need(ba_new());
	ba_maker m;
	cp_link t;
	uint64_t sum, seen = 0;

	ba_make_open(&m, r);
	t = cp_build(&m, r, &g, nodes);
	ba_make_close(&m, r);
	for (uint32_t pass = 1; pass <= CP_PASSES; pass++) {
		ba_region *next = need(ba_new());
		cp_link u;

		ba_make_open(&m, next);
		u = cp_pass(&m, next, r, t, pass);
		ba_make_close(&m, next);

		if (BA_FREES_EACH)
			cp_free(r, t);
		ba_destroy(r);
		r = next;
		t = u;
	}
	sum = cp_eval(r, t, &seen);
	if (BA_FREES_EACH)
		cp_free(r, t);
	ba_destroy(r);
	bench_ops_done += nodes;
	return sum ^ (seen << 40);
}

static size_t cp_live(uint64_t nodes)
{
	return (size_t)nodes * 2 * sizeof(struct cp_node) * 2;
}

static void cp_run(uint64_t nodes, int runs)
{
	double ms[BENCH_MAX_RUNS];
	uint64_t check = cp_once((uint32_t)nodes);   /* warm-up */

	for (int i = 0; i < runs; i++) {
		uint64_t t0 = now_ns();

		bench_sink += cp_once((uint32_t)nodes);
		ms[i] = (double)(now_ns() - t0) / 1e6;
	}
	bench_report("compiler_ms", ms, runs, "compiler, %llu nodes x %d passes (ms)",
	             (unsigned long long)nodes, CP_PASSES);
	bench_check(check);
}

static const struct bench_workload wl_compiler = {
	.name = "compiler",
	.what = "compiler phases: build a tree, rewrite it into a new region, drop the old, 4 times",
	.size_means = "nodes in the first tree",
	.size = { 300000, 2000000, 2000, 20000, 40000 },
	.runs = { 3, 5, 1, 1, 1 },
	.live_bytes = cp_live,
	.run = cp_run,
};
