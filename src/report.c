/*
 * report.c - where a region tree's memory goes: region names, the
 * statistics of a region with its subtree, and rgn_report, a dump of the
 * tree one line per region (as PostgreSQL's MemoryContextStats prints
 * its contexts).
 *
 * It sits above region.c and reads the tree through the links of the
 * common header (parent, first child, siblings) and each region's own
 * statistics (region.c dispatches those to the backend).  Every walk is
 * a loop in depth-first order that climbs back through parent links:
 * no recursion, whatever the depth.
 *
 * A name is the caller's pointer, kept as is: naming costs one store, can
 * never fail, and stays out of reset, rewind and merge, which free a
 * region's memory (a copy in the region would go with it) and out of the
 * one-block destroy path (a malloc'd copy would need freeing there).
 * Names are mostly string literals, which is also what a debugger reads
 * best from a core file.
 *
 * The report needs every region's subtree sum before it prints that
 * region (depth-first order prints parents first).  One pass records each
 * region's statistics and its parent's index in an array in that order;
 * a backward pass then adds each entry into its parent's (every child
 * comes after its parent, so it is complete when added); a last pass
 * prints.  Time and memory are linear in the number of regions.
 */
#include "region.h"
#include "backend/backend.h"

#include <stdio.h>
#include <stdlib.h>

/* The next region after x in depth-first order within top's subtree
 * (NULL after the last), keeping *depth as x's depth below top. */
static const rgn_region *walk_next(const rgn_region *x, const rgn_region *top,
                                   size_t *depth)
{
	if (x->child) {
		++*depth;
		return x->child;
	}
	for (; x != top; x = x->parent, --*depth)
		if (x->next)
			return x->next;
	return NULL;
}

/* ---- names -------------------------------------------------------------------------- */

RGN_API int rgn_set_name(rgn_region *r, const char *name)
{
	if (!rgn_region_live(r, __func__)) {
		errno = EINVAL;
		return -1;
	}
	r->name = name;
	return 0;
}

RGN_API const char *rgn_name(const rgn_region *r)
{
	if (!rgn_region_live(r, __func__)) {
		errno = EINVAL;
		return NULL;
	}
	return r->name;
}

/* ---- statistics --------------------------------------------------------------------- */

RGN_API int rgn_region_stats(const rgn_region *r, struct rgn_region_stats *st)
{
	struct rgn_region_stats k;
	size_t depth = 0;

	if (!rgn_region_live(r, __func__) || !st) {
		errno = EINVAL;
		return -1;
	}
	rgn_region_own_stats(r, st);
	st->subtree_used = st->used;
	st->subtree_blocks = st->blocks;
	st->subtree_regions = 1;
	for (const rgn_region *x = walk_next(r, r, &depth); x; x = walk_next(x, r, &depth)) {
		rgn_region_own_stats(x, &k);
		st->subtree_used += k.used;
		st->subtree_blocks += k.blocks;
		st->subtree_regions++;
	}
	return 0;
}

/* ---- the report --------------------------------------------------------------------- */

#define INDENT_MAX 32   /* levels indented; deeper lines say their depth */

struct entry {
	const rgn_region       *r;
	size_t                  depth;
	size_t                  parent;  /* index of the parent (entry 0: none) */
	struct rgn_region_stats st;      /* subtree_* filled by the backward pass */
};

static void put_label(FILE *out, const rgn_region *r)
{
	const unsigned char *s = (const unsigned char *)r->name;

	if (!s) {
		fprintf(out, "%p", (const void *)r);
		return;
	}
	for (; *s; s++)
		putc(*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static void put_line(FILE *out, const struct entry *e)
{
	const struct rgn_region_stats *st = &e->st;
	size_t levels = e->depth < INDENT_MAX ? e->depth : INDENT_MAX;

	fprintf(out, "%*s", (int)(2 * levels), "");
	if (e->depth > INDENT_MAX)
		fprintf(out, "+%zu ", e->depth);
	put_label(out, e->r);
	fprintf(out, ": %s used=%zu subtree=%zu blocks=%zu chunks=%zu large=%zu cleanups=%zu",
	        rgn_region_backend_name(e->r), st->used, st->subtree_used,
	        st->blocks, st->chunks, st->large, st->cleanups);
	if (st->backend == RGN_BACKEND_CONTIG)
		fprintf(out, " reserved=%zu committed=%zu", st->reserved, st->committed);
	putc('\n', out);
}

RGN_API int rgn_report(FILE *out, const rgn_region *r)
{
	struct entry *e;
	const rgn_region *x;
	size_t n = 1, i, depth = 0, parent = 0;

	if (!out || !rgn_region_live(r, __func__)) {
		errno = EINVAL;
		return -1;
	}
	for (x = walk_next(r, r, &depth); x; x = walk_next(x, r, &depth))
		n++;
	e = malloc(n * sizeof(*e));
	if (!e)
		return -1; /* ENOMEM from malloc */

	/* depth-first, recording each entry's parent: going down, the
	 * previous entry is the parent; across or up, the parent's own
	 * parent index is followed once per level climbed */
	i = 0;
	depth = 0;
	for (x = r; x; i++) {
		size_t d = depth;

		e[i].r = x;
		e[i].depth = d;
		rgn_region_own_stats(x, &e[i].st);
		e[i].st.subtree_used = e[i].st.used;
		e[i].st.subtree_blocks = e[i].st.blocks;
		e[i].st.subtree_regions = 1;
		x = walk_next(x, r, &depth);
		if (!x || i + 1 == n)
			break; /* (n: the tree cannot change during the call) */
		if (depth > d) {
			parent = i;
		} else {
			for (size_t up = d - depth; up; up--)
				parent = e[parent].parent;
		}
		e[i + 1].parent = parent;
	}
	e[0].parent = 0;
	rgn_assert_internal(i + 1 == n);

	for (i = n - 1; i > 0; i--) {
		struct rgn_region_stats *p = &e[e[i].parent].st;

		p->subtree_used += e[i].st.subtree_used;
		p->subtree_blocks += e[i].st.subtree_blocks;
		p->subtree_regions += e[i].st.subtree_regions;
	}

	errno = 0;
	for (i = 0; i < n; i++)
		put_line(out, &e[i]);
	fprintf(out, "Grand total: regions=%zu used=%zu blocks=%zu\n",
	        e[0].st.subtree_regions, e[0].st.subtree_used, e[0].st.subtree_blocks);
	free(e);
	if (fflush(out) != 0 || ferror(out)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
