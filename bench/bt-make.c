/*
 * bt-make.c - binary-trees' tree building alone, four ways, for counting
 * instructions per node under cachegrind (DESIGN.md, section 15):
 *
 *   bare    a bump pointer in a static variable, 32-bit indexes, no limit,
 *           no region: the floor a recursion that allocates can reach
 *   alloc   rgn_alloc, then rgn_ref_of (binary-trees before the cursor)
 *   both    rgn_alloc_both: the reference from the allocator
 *   cursor  rgn_cursor_both through a cursor the recursion passes down
 *
 * Every variant builds the same trees, bottom-up, children before their
 * parent, each make() a static function gcc may inline into itself as
 * it likes, and checks them with the same walk.
 *
 *   bt-make VARIANT DEPTH TREES    prints the node count and the check
 * Instructions per node: run two depths under cachegrind and divide the
 * difference of the totals by the difference of the node counts.
 */
#include <rgn.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
	rgn_ref left, right;
};

__attribute__((noreturn)) static void die(const char *what)
{
	fprintf(stderr, "bt-make: %s\n", what);
	exit(1);
}

static inline void *need(void *p)
{
	if (!p)
		die("allocation failed");
	return p;
}

/* bare: a static cursor, nothing checked; the array is the arena */
static struct node *bare_arena;
static uint32_t bare_next = 1;

static rgn_ref make_bare(int depth)
{
	rgn_ref l = 0, r = 0, self;
	struct node *n;

	if (depth > 0) {
		l = make_bare(depth - 1);
		r = make_bare(depth - 1);
	}
	self = bare_next++;
	n = &bare_arena[self];
	n->left = l;
	n->right = r;
	return self;
}

static rgn_ref make_alloc(rgn_region *g, int depth)
{
	rgn_ref l = 0, r = 0;
	struct node *n;

	if (depth > 0) {
		l = make_alloc(g, depth - 1);
		r = make_alloc(g, depth - 1);
	}
	n = need(rgn_alloc(g, sizeof *n));
	n->left = l;
	n->right = r;
	return rgn_ref_of(n);
}

static rgn_ref make_both(rgn_region *g, int depth)
{
	rgn_ref l = 0, r = 0, self;
	struct node *n;

	if (depth > 0) {
		l = make_both(g, depth - 1);
		r = make_both(g, depth - 1);
	}
	n = need(rgn_alloc_both(g, sizeof *n, &self));
	n->left = l;
	n->right = r;
	return self;
}

static rgn_ref make_cursor(rgn_cursor *restrict c, int depth)
{
	rgn_ref l = 0, r = 0, self;
	struct node *n;

	if (depth > 0) {
		l = make_cursor(c, depth - 1);
		r = make_cursor(c, depth - 1);
	}
	n = need(rgn_cursor_both(c, sizeof *n, &self));
	n->left = l;
	n->right = r;
	return self;
}

static long check(const struct node *base, rgn_ref t)
{
	const struct node *n = (const struct node *)((const char *)base + ((uintptr_t)t << 3));

	return n->left ? 1 + check(base, n->left) + check(base, n->right) : 1;
}

int main(int argc, char **argv)
{
	rgn_config cfg = { .retain_limit = (size_t)1 << 30 };
	int depth, trees;
	long nodes = 0, sum = 0;
	const char *v;

	if (argc != 4 || (depth = atoi(argv[2])) < 1 || depth > 24 ||
	    (trees = atoi(argv[3])) < 1)
		die("usage: bt-make bare|alloc|both|cursor DEPTH TREES");
	v = argv[1];
	if (rgn_init(&cfg) != 0)
		die("rgn_init failed");
	if (strcmp(v, "bare") == 0)
		bare_arena = need(calloc((size_t)2 << depth, sizeof *bare_arena));
	for (int i = 0; i < trees; i++) {
		rgn_region *g = need(rgn_new(NULL));
		const struct node *base = rgn_ptr(0);
		rgn_ref t;

		if (strcmp(v, "bare") == 0) {
			bare_next = 1;
			t = make_bare(depth);
			base = bare_arena;
		} else if (strcmp(v, "alloc") == 0) {
			t = make_alloc(g, depth);
		} else if (strcmp(v, "both") == 0) {
			t = make_both(g, depth);
		} else if (strcmp(v, "cursor") == 0) {
			rgn_cursor c = rgn_cursor_open(g);

			t = make_cursor(&c, depth);
			rgn_cursor_close(&c);
		} else {
			die("no such variant");
		}
		sum += check(base, t);
		nodes += ((long)2 << depth) - 1;
		rgn_destroy(g);
	}
	printf("%s depth %d: %ld nodes, check %ld\n", v, depth, nodes, sum);
	return sum == nodes ? 0 : 1;
}
