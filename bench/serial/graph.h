/*
 * graph.h - the logical graph every serialization format writes
 * (bench/serial/serial.c), as plain arrays.  C and C++.
 *
 * At scale 1: 250,000 strings and 750,000 nodes, 1,000,000 objects.
 *   string j   4 + (j*7 % 29) bytes, byte k = 'a' + ((j*31 + k*7) % 26)
 *   node i     value = i * 2654435761 (mod 2^32), name = i % strings
 *   tree nodes 0 .. tree-1: left = 2i+1, right = 2i+2 where below tree
 *   leaves     tree .. nodes-1: no children; every tree node whose left
 *              slot is empty takes left = tree + (i % leaves), so that a
 *              leaf has about 7 parents (a DAG: children always have
 *              larger indexes than their parents, so there is no cycle)
 * Every string is named by 3 nodes.  Other scales multiply the three
 * counts (700,000 tree nodes, 50,000 leaves, 250,000 strings) alike.
 *
 * The checksum is a depth-first walk from node 0 that goes into shared
 * objects every time it reaches them (a tree walk): per node
 *   h = h*31 + value; h = h*31 + len(name); h = h*31 + b for each byte b
 * of the name; then left, then right (uint64_t arithmetic).  Every
 * format's reader computes it from its own encoding: graph_checksum is
 * the reference, from the arrays.
 */
#ifndef BENCH_SERIAL_GRAPH_H
#define BENCH_SERIAL_GRAPH_H

#include <stdint.h>
#include <stdlib.h>

#define GRAPH_NONE (-1)

struct graph_node {
	int32_t left, right;  /* node index, or GRAPH_NONE */
	uint32_t name;        /* string index */
	uint32_t value;
};

struct graph {
	uint32_t nodes;       /* tree + leaves */
	uint32_t tree;        /* nodes 0 .. tree-1 have children */
	uint32_t leaves;      /* shared leaves, nodes tree .. nodes-1 */
	uint32_t strings;
	struct graph_node *node;
	uint32_t *str_off;    /* strings + 1 entries: string j is */
	char *str_bytes;      /* str_bytes[str_off[j] .. str_off[j+1]) */
	/* what a tree walk from node 0 reaches, shared objects counted
	 * every time: what a format that cannot share writes */
	uint64_t node_visits; /* = string visits (one name per node) */
};

static inline uint32_t graph_str_len(const struct graph *g, uint32_t j)
{
	return g->str_off[j + 1] - g->str_off[j];
}

static inline const char *graph_str(const struct graph *g, uint32_t j)
{
	return g->str_bytes + g->str_off[j];
}

static inline uint64_t graph_objects(const struct graph *g)
{
	return (uint64_t)g->nodes + g->strings;
}

static inline void graph_free(struct graph *g)
{
	free(g->node);
	free(g->str_off);
	free(g->str_bytes);
	g->node = NULL;
	g->str_off = NULL;
	g->str_bytes = NULL;
}

/* Fill g at the given scale (1.0: one million objects; every count at
 * least 1).  0, or -1 if scale is out of range or memory is short. */
static inline int graph_init(struct graph *g, double scale)
{
	uint64_t *times;
	size_t total = 0;

	if (!(scale > 0 && scale <= 100))
		return -1;
	g->tree = (uint32_t)(700000 * scale + 0.5);
	g->leaves = (uint32_t)(50000 * scale + 0.5);
	g->strings = (uint32_t)(250000 * scale + 0.5);
	if (!g->tree)
		g->tree = 1;
	if (!g->leaves)
		g->leaves = 1;
	if (!g->strings)
		g->strings = 1;
	g->nodes = g->tree + g->leaves;
	g->node = (struct graph_node *)malloc(g->nodes * sizeof *g->node);
	g->str_off = (uint32_t *)malloc((g->strings + (size_t)1) * sizeof *g->str_off);
	for (uint32_t j = 0; j < g->strings; j++)
		total += 4 + (uint32_t)(j * (uint64_t)7 % 29);
	g->str_bytes = (char *)malloc(total ? total : 1);
	times = (uint64_t *)calloc(g->nodes, sizeof *times);
	if (!g->node || !g->str_off || !g->str_bytes || !times) {
		free(times);
		graph_free(g);
		return -1;
	}
	total = 0;
	for (uint32_t j = 0; j < g->strings; j++) {
		uint32_t len = 4 + (uint32_t)(j * (uint64_t)7 % 29);

		g->str_off[j] = (uint32_t)total;
		for (uint32_t k = 0; k < len; k++)
			g->str_bytes[total + k] =
				(char)('a' + (j * (uint64_t)31 + k * (uint64_t)7) % 26);
		total += len;
	}
	g->str_off[g->strings] = (uint32_t)total;
	for (uint32_t i = 0; i < g->nodes; i++) {
		struct graph_node *n = &g->node[i];
		uint64_t l = 2 * (uint64_t)i + 1, r = l + 1;

		n->value = (uint32_t)(i * 2654435761u);
		n->name = i % g->strings;
		n->left = n->right = GRAPH_NONE;
		if (i < g->tree) {
			n->left = l < g->tree ? (int32_t)l : (int32_t)(g->tree + i % g->leaves);
			n->right = r < g->tree ? (int32_t)r : GRAPH_NONE;
		}
	}
	/* how often the tree walk reaches each node: parents come first */
	times[0] = 1;
	g->node_visits = 0;
	for (uint32_t i = 0; i < g->nodes; i++) {
		const struct graph_node *n = &g->node[i];

		g->node_visits += times[i];
		if (n->left != GRAPH_NONE)
			times[n->left] += times[i];
		if (n->right != GRAPH_NONE)
			times[n->right] += times[i];
	}
	free(times);
	return 0;
}

/* One node's contribution to the checksum: value, name length, name. */
static inline uint64_t graph_mix(uint64_t h, uint32_t value, const char *name,
                                 uint32_t len)
{
	h = h * 31 + value;
	h = h * 31 + len;
	for (uint32_t k = 0; k < len; k++)
		h = h * 31 + (unsigned char)name[k];
	return h;
}

static inline uint64_t graph_walk(const struct graph *g, int32_t i, uint64_t h)
{
	const struct graph_node *n = &g->node[i];

	h = graph_mix(h, n->value, graph_str(g, n->name), graph_str_len(g, n->name));
	if (n->left != GRAPH_NONE)
		h = graph_walk(g, n->left, h);
	if (n->right != GRAPH_NONE)
		h = graph_walk(g, n->right, h);
	return h;
}

/* The reference checksum, from the arrays. */
static inline uint64_t graph_checksum(const struct graph *g)
{
	return graph_walk(g, 0, 0);
}

#endif /* BENCH_SERIAL_GRAPH_H */
