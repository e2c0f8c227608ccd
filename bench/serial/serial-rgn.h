/*
 * serial-rgn.h - the benchmark graph (graph.h) as rgn objects: 16-byte
 * nodes holding three references and strings with a length, built in
 * any region, and walked through an image.  C only (rgn.h's decoders).
 *
 *   struct serial_rgn_node { rgn_ref left, right, name; uint32_t value; }
 *   struct serial_rgn_str  { uint32_t len; char bytes[]; }
 *
 * left and right are RGN_NULL_REF where there is no child; name is never
 * null.  Sharing is kept: each graph node and string is one object, and
 * a shared leaf or string is referenced from several nodes.  The root is
 * node 0.  A tracing copy finds the references of a node at
 * SERIAL_RGN_NODE_REFS (byte offsets) and none in a string.
 */
#ifndef BENCH_SERIAL_RGN_H
#define BENCH_SERIAL_RGN_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rgn.h"

#include "graph.h"

struct serial_rgn_node {
	rgn_ref left, right, name;
	uint32_t value;
};

struct serial_rgn_str {
	uint32_t len;
	char bytes[];
};

#define SERIAL_RGN_NODE_REFS                                   \
	{ offsetof(struct serial_rgn_node, left),              \
	  offsetof(struct serial_rgn_node, right),             \
	  offsetof(struct serial_rgn_node, name) }

/* Build g in r (of either backend): strings first, then the nodes in
 * index order, then their references.  The root's reference (node 0),
 * as rgn_ref_in gives it; RGN_NULL_REF if an allocation failed (errno
 * from rgn_alloc). */
static inline rgn_ref serial_build_rgn(rgn_region *r, const struct graph *g)
{
	rgn_ref *str = (rgn_ref *)malloc(g->strings * sizeof *str);
	struct serial_rgn_node **node = (struct serial_rgn_node **)
		malloc(g->nodes * sizeof *node);
	rgn_ref root = RGN_NULL_REF;

	if (!str || !node)
		goto out;
	for (uint32_t j = 0; j < g->strings; j++) {
		uint32_t len = graph_str_len(g, j);
		struct serial_rgn_str *s = (struct serial_rgn_str *)
			rgn_alloc(r, sizeof *s + len);

		if (!s)
			goto out;
		s->len = len;
		memcpy(s->bytes, graph_str(g, j), len);
		str[j] = rgn_ref_in(r, s);
	}
	for (uint32_t i = 0; i < g->nodes; i++)
		if (!(node[i] = (struct serial_rgn_node *)rgn_alloc(r, sizeof *node[i])))
			goto out;
	for (uint32_t i = 0; i < g->nodes; i++) {
		const struct graph_node *n = &g->node[i];

		node[i]->left = n->left == GRAPH_NONE ? RGN_NULL_REF : rgn_ref_in(r, node[n->left]);
		node[i]->right = n->right == GRAPH_NONE ? RGN_NULL_REF : rgn_ref_in(r, node[n->right]);
		node[i]->name = str[n->name];
		node[i]->value = n->value;
	}
	root = rgn_ref_in(r, node[0]);
out:
	free(str);
	free(node);
	return root;
}

/* The checksum walk (graph.h) over nodes whose references count from
 * base (an image's reference 0: rgn_image_ptr(img, 0); a contiguous
 * region's: rgn_ptr_in(r, 0)).  *visits counts the nodes reached. */
static inline uint64_t serial_walk_rgn(const char *base, rgn_ref ref,
                                       uint64_t h, uint64_t *visits)
{
	const struct serial_rgn_node *n =
		(const struct serial_rgn_node *)(const void *)(base + ((size_t)ref << 3));
	const struct serial_rgn_str *s =
		(const struct serial_rgn_str *)(const void *)(base + ((size_t)n->name << 3));

	++*visits;
	h = graph_mix(h, n->value, s->bytes, s->len);
	if (n->left)
		h = serial_walk_rgn(base, n->left, h, visits);
	if (n->right)
		h = serial_walk_rgn(base, n->right, h, visits);
	return h;
}

#endif /* BENCH_SERIAL_RGN_H */
