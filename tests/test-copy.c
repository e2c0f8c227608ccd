/*
 * test-copy.c - the tracing copy: rgn_copy, rgn_trace, rgn_copier, rgn_compact and
 * rgn_image_write_graph, from and into every backend.
 *
 * The graphs: nodes (two children, a name, a value) and strings (a byte
 * tail counted by a field), with a shared subtree, a shared string and a
 * cycle, built in one region; the copy must come out with the same shape
 * (a walk that pairs each source object with its copy finds one copy per
 * object, whatever the path), the same bytes, and the source untouched.
 */
#define _GNU_SOURCE
#include "suites.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#if TST_POSIX
#include <pthread.h>
#include <sys/resource.h>
#endif

struct node {
	rgn_ref  left, right, name;
	uint32_t value;
};

struct str {
	uint32_t len;
	char     bytes[];
};

static const uint32_t node_refs[] = { offsetof(struct node, left), offsetof(struct node, right),
	                              offsetof(struct node, name) };
static const rgn_layout str_layout = {
	.size = sizeof(struct str),
	.tail = RGN_TAIL_BYTES,
	.count_at = offsetof(struct str, len),
	.elem = 1,
};
static const rgn_layout node_layout;
static const rgn_layout *const node_to[] = { &node_layout, &node_layout, &str_layout };
static const rgn_layout node_layout = {
	.size = sizeof(struct node),
	.nrefs = 3,
	.refs = node_refs,
	.to = node_to,
};

/* The kinds of the graphs, for the compiled copy (rgn_copier): nodes,
 * chain links (whose right is an array) and arrays of string references. */
enum { K_NODE = 1, K_LINK, K_ARR };

static int copier_copy(rgn_region *d, const rgn_region *s, rgn_ref *root, uint32_t kind,
                       rgn_copy_options *o);

/* A region's object at ref, decoded with its own base. */
static void *at(const rgn_region *r, rgn_ref ref)
{
	return rgn_ptr_in(r, ref);
}

static rgn_ref mkstr(rgn_region *r, const char *s)
{
	size_t n = strlen(s);
	struct str *p = rgn_alloc(r, sizeof(*p) + n);

	ck_assert_ptr_nonnull(p);
	p->len = (uint32_t)n;
	memcpy(p->bytes, s, n);
	return rgn_ref_in(r, p);
}

static rgn_ref mknode(rgn_region *r, rgn_ref l, rgn_ref rt, rgn_ref name, uint32_t v)
{
	struct node *p = rgn_alloc(r, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	*p = (struct node){ l, rt, name, v };
	return rgn_ref_in(r, p);
}

/* A complete tree of depth d under names[] (shared strings). */
static rgn_ref tree(rgn_region *r, int d, uint32_t *v, const rgn_ref *names, size_t nn)
{
	rgn_ref l, rt;

	if (d == 0)
		return 0;
	l = tree(r, d - 1, v, names, nn);
	rt = tree(r, d - 1, v, names, nn);
	(*v)++;
	return mknode(r, l, rt, names[*v % nn], *v);
}

/* The test graph: root -> (A, B), A and B both point at shared subtree S
 * (depth 5), B's right is a cycle back to root; 7 strings shared by all.
 * *unique: distinct objects. */
static rgn_ref graph(rgn_region *r, size_t *unique)
{
	rgn_ref names[7], s, a, b, root;
	struct node *bn;
	uint32_t v = 100;
	char buf[32];

	for (int i = 0; i < 7; i++) {
		snprintf(buf, sizeof buf, "name-%d-%.*s", i, i * 3, "abcdefghijklmnopqrstuvwxyz");
		names[i] = mkstr(r, buf);
	}
	s = tree(r, 5, &v, names, 7);            /* 31 nodes */
	a = mknode(r, s, 0, names[1], 1);
	b = mknode(r, 0, s, names[2], 2);
	root = mknode(r, a, b, names[3], 3);
	bn = at(r, b);
	bn->right = s;
	bn->left = root;                          /* the cycle */
	*unique = 7 + 31 + 3;
	return root;
}

/* Walk src and its copy side by side: same values, same strings, and a
 * source object always paired with the same copy (sharing, cycles). */
struct pair {
	rgn_ref s, c;
};
struct walk {
	const rgn_region *sr, *cr;
	const char *cbase;      /* the copy's ref 0 when cr is NULL (an image) */
	struct pair seen[256];
	size_t n;
};

static const void *cat(const struct walk *w, rgn_ref ref)
{
	return w->cr ? rgn_ptr_in(w->cr, ref) : (const void *)(w->cbase + (size_t)ref * 8);
}

/* true: first visit */
static bool pair_up(struct walk *w, rgn_ref s, rgn_ref c)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->seen[i].s == s) {
			ck_assert_msg(w->seen[i].c == c, "object %u copied twice (%u, %u)", s,
			              w->seen[i].c, c);
			return false;
		}
		ck_assert_msg(w->seen[i].c != c, "copy %u stands for two objects", c);
	}
	ck_assert_uint_lt(w->n, 256);
	w->seen[w->n++] = (struct pair){ s, c };
	return true;
}

static void same_str(struct walk *w, rgn_ref s, rgn_ref c)
{
	const struct str *a, *b;

	ck_assert_int_eq(s == 0, c == 0);
	if (!s || !pair_up(w, s, c))
		return;
	a = at(w->sr, s);
	b = cat(w, c);
	ck_assert_uint_eq(a->len, b->len);
	ck_assert(memcmp(a->bytes, b->bytes, a->len) == 0);
}

static void same_node(struct walk *w, rgn_ref s, rgn_ref c)
{
	const struct node *a, *b;

	ck_assert_int_eq(s == 0, c == 0);
	if (!s || !pair_up(w, s, c))
		return;
	a = at(w->sr, s);
	b = cat(w, c);
	ck_assert_uint_eq(a->value, b->value);
	same_str(w, a->name, b->name);
	same_node(w, a->left, b->left);
	same_node(w, a->right, b->right);
}

static size_t same_graph(const rgn_region *sr, rgn_ref s, const rgn_region *cr, rgn_ref c)
{
	struct walk *w = calloc(1, sizeof(*w));
	size_t n;

	w->sr = sr;
	w->cr = cr;
	same_node(w, s, c);
	n = w->n;
	free(w);
	return n;
}

/* A checksum of a region's used bytes, to see that the source stays. */
static size_t used_of(const rgn_region *r)
{
	struct rgn_region_stats st;

	ck_assert_int_eq(rgn_region_stats(r, &st), 0);
	return st.used;
}

/* A hash of every byte of every object reachable from root (each once). */
static uint64_t graph_hash(const rgn_region *r, rgn_ref root)
{
	rgn_ref stack[256], seen[256];
	size_t ns = 0, nseen = 0;
	uint64_t h = 0;

	stack[ns++] = root;
	while (ns) {
		rgn_ref x = stack[--ns];
		const struct node *n;
		const struct str *st;
		bool dup = false;

		for (size_t i = 0; i < nseen; i++)
			dup |= seen[i] == x;
		if (!x || dup)
			continue;
		ck_assert_uint_lt(nseen, 256);
		seen[nseen++] = x;
		n = at(r, x);
		h = h * 31 + n->value + (uint64_t)n->left * 7 + (uint64_t)n->right * 13;
		st = at(r, n->name);
		h = h * 31 + st->len;
		for (uint32_t i = 0; i < st->len; i++)
			h = h * 31 + (unsigned char)st->bytes[i];
		stack[ns++] = n->left;
		stack[ns++] = n->right;
	}
	return h;
}

static rgn_region *region_of(rgn_backend b)
{
	rgn_region *r = rgn_new_with(NULL, &(rgn_options){ .backend = b,
	                                                    .reserve = b == RGN_BACKEND_CONTIG ? 64 * MiB : 0 });
	ck_assert_ptr_nonnull(r);
	return r;
}

/* ---- copies between every pair of backends, both orders ---------------------------------- */

static void copy_between(rgn_backend sb, rgn_backend db, unsigned order)
{
	rgn_region *s = region_of(sb), *d = region_of(db);
	rgn_copy_options o = { .order = order };
	size_t unique, su, du;
	rgn_ref root, r2;
	uint64_t before, after;

	root = graph(s, &unique);
	if (sb == RGN_BACKEND_HEAP) {
		/* garbage freed in between: the copy never sees it */
		void *junk = rgn_alloc(s, 40);
		rgn_free(s, junk, 40);
	}
	su = used_of(s);
	before = graph_hash(s, root);
	du = used_of(d);
	r2 = root;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &node_layout, &o), 0);
	ck_assert_uint_ne(r2, 0);
	ck_assert_uint_eq(o.objects, unique);
	ck_assert_uint_ge(used_of(d) - du, o.bytes);
	/* the source is intact: same shape and values, same used */
	ck_assert_uint_eq(used_of(s), su);
	after = graph_hash(s, root);
	ck_assert(before == after);
	ck_assert_uint_eq(same_graph(s, root, d, r2), unique);
	/* the copy lives on without the source */
	rgn_destroy(s);
	{
		const struct node *n = at(d, r2);
		const struct str *nm = at(d, n->name);

		ck_assert_uint_eq(n->value, 3);
		ck_assert_uint_eq(nm->len, strlen("name-3-abcdefghi"));
		ck_assert(memcmp(nm->bytes, "name-3-abcdefghi", nm->len) == 0);
	}
	rgn_destroy(d);
}

START_TEST(test_copy_backends)
{
	static const rgn_backend b[] = { RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, RGN_BACKEND_HEAP };

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			for (unsigned order = 0; order < 2; order++)
				copy_between(b[i], b[j], order);
}
END_TEST

/* ---- aligned objects ------------------------------------------------------------------------ */

/* 56 bytes that want 64: a list whose cells each name a string, so that
 * every cell's copy follows an odd-sized one. */
struct vec {
	rgn_ref next, name;
	double  v[6];
};

static const uint32_t vec_refs[] = { offsetof(struct vec, next), offsetof(struct vec, name) };
static const rgn_layout vec_layout;
static const rgn_layout *const vec_to[] = { &vec_layout, &str_layout };
static const rgn_layout vec_layout = {
	.size = sizeof(struct vec),
	.nrefs = 2,
	.refs = vec_refs,
	.to = vec_to,
	.align = 64,
};

enum { VECS = 200 };

static rgn_ref vec_list(rgn_region *r)
{
	rgn_ref head = 0;

	for (int i = VECS; i-- > 0;) {
		char name[32];
		rgn_ref nm;
		struct vec *v;

		snprintf(name, sizeof name, "v%d%.*s", i, i % 13, "abcdefghijklm");
		nm = mkstr(r, name);
		v = rgn_alloc_aligned(r, sizeof(*v), 64);
		ck_assert_ptr_nonnull(v);
		v->next = head;
		v->name = nm;
		for (int k = 0; k < 6; k++)
			v->v[k] = i * 10 + k + 0.5;
		head = rgn_ref_in(r, v);
	}
	return head;
}

struct span {
	uintptr_t lo, hi;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The list at head, decoded from base: every cell at a multiple of 64,
 * the same values and names as the source's; the copies' byte ranges
 * into sp (2 * VECS). */
static void vec_check(const char *base, rgn_ref head, struct span *sp)
{
	int i = 0;

	for (rgn_ref x = head; x; i++) {
		const struct vec *v = (const void *)(base + ((size_t)x << 3));
		const struct str *nm = (const void *)(base + ((size_t)v->name << 3));
		char name[32];

		ck_assert_int_lt(i, VECS);
		ck_assert_uint_eq((uintptr_t)v % 64, 0);
		snprintf(name, sizeof name, "v%d%.*s", i, i % 13, "abcdefghijklm");
		ck_assert_uint_eq(nm->len, strlen(name));
		ck_assert(memcmp(nm->bytes, name, nm->len) == 0);
		for (int k = 0; k < 6; k++)
			ck_assert(v->v[k] == i * 10 + k + 0.5);
		sp[2 * i] = (struct span){ (uintptr_t)v, (uintptr_t)v + sizeof(*v) };
		sp[2 * i + 1] = (struct span){ (uintptr_t)nm, (uintptr_t)nm + sizeof(*nm) + nm->len };
		x = v->next;
	}
	ck_assert_int_eq(i, VECS);
}

/* Between the copies in [lo, hi), packed into one range, nothing but
 * zeros (the padding; an object's own rounding is zeroed by the copy). */
static void gaps_zero(struct span *sp, size_t n)
{
	qsort(sp, n, sizeof(*sp), span_cmp);
	for (size_t i = 1; i < n; i++) {
		ck_assert_uint_ge(sp[i].lo, sp[i - 1].hi);
		for (uintptr_t a = sp[i - 1].hi; a < sp[i].lo; a++)
			ck_assert_uint_eq(*(const unsigned char *)a, 0);
	}
}

/* A layout's align: every backend into every backend, compaction, an
 * image; the padding zero even where the destination's memory held other
 * bytes (a contiguous region reset over a fill).  Bad alignments are
 * EINVAL. */
START_TEST(test_copy_aligned)
{
	static const rgn_backend b[] = { RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, RGN_BACKEND_HEAP };
	struct span sp[2 * VECS];

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			for (unsigned order = 0; order < 2; order++) {
				rgn_region *s = region_of(b[i]), *d = region_of(b[j]);
				rgn_copy_options o = { .order = order };
				rgn_ref head = vec_list(s), h2 = head;
				void *fill = rgn_alloc(d, 64 * 1024);

				ck_assert_ptr_nonnull(fill);
				memset(fill, 0xab, 64 * 1024);
				rgn_reset(d);
				ck_assert_int_eq(rgn_copy(d, s, &h2, 1, &vec_layout, &o), 0);
				ck_assert_uint_eq(o.objects, 2 * VECS);
				vec_check(rgn_ptr_in(d, 0), h2, sp);
				if (b[j] == RGN_BACKEND_CONTIG)
					gaps_zero(sp, 2 * VECS);
				vec_check(rgn_ptr_in(s, 0), head, sp); /* untouched */
				ck_assert_int_eq(rgn_compact(s, &head, 1, &vec_layout, NULL), 0);
				vec_check(rgn_ptr_in(s, 0), head, sp);
				rgn_destroy(s);
				rgn_destroy(d);
			}
	{
		rgn_region *s = rgn_new(NULL);
		rgn_ref head = vec_list(s), iroot;
		int fd = tst_tmpfile_fd();
		rgn_image *img;
		rgn_layout bad = vec_layout;

		ck_assert_int_eq(rgn_image_write_graph(s, fd, head, &vec_layout, NULL), 0);
		img = rgn_image_open(fd, &iroot);
		ck_assert_ptr_nonnull(img);
		vec_check(rgn_image_ptr(img, 0), iroot, sp);
		gaps_zero(sp, 2 * VECS);
		rgn_image_close(img);
		close(fd);
		for (int k = 0; k < 3; k++) {
			rgn_region *d = rgn_new(NULL);
			rgn_ref h2 = head;

			bad.align = k == 0 ? 3 : k == 1 ? 8192 : 96;
			errno = 0;
			ck_assert_int_eq(rgn_copy(d, s, &h2, 1, &bad, NULL), -1);
			ck_assert_int_eq(errno, EINVAL);
			ck_assert_uint_eq(h2, head);
			rgn_destroy(d);
		}
		rgn_destroy(s);
	}
}
END_TEST

/* Depth-first puts each object's targets after it and then the first
 * one's subgraph; breadth-first goes level by level. */
START_TEST(test_copy_order)
{
	rgn_region *s = rgn_new(NULL), *d = rgn_new(NULL);
	rgn_ref names[1], root, r2;
	uint32_t v = 0;
	const struct node *n, *l, *r;

	names[0] = mkstr(s, "x");
	root = tree(s, 3, &v, names, 1);
	r2 = root;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &node_layout,
	                          &(rgn_copy_options){ .order = RGN_COPY_DEPTH }), 0);
	n = at(d, r2);
	l = at(d, n->left);
	r = at(d, n->right);
	/* depth-first: root, its targets last field first (the name, 8
	 * bytes, then right, then left), then left's targets (its name is
	 * the same string), then right's */
	ck_assert_ptr_eq((const char *)at(d, n->name), (const char *)(n + 1));
	ck_assert_ptr_eq((const char *)r, (const char *)(n + 1) + 8);
	ck_assert_ptr_eq((const char *)l, (const char *)(r + 1));
	ck_assert_ptr_eq((const char *)at(d, l->right), (const char *)(l + 1));
	ck_assert_ptr_eq((const char *)at(d, l->left), (const char *)(l + 2));
	ck_assert_ptr_eq((const char *)at(d, r->right), (const char *)(l + 3));
	r2 = root;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &node_layout,
	                          &(rgn_copy_options){ .order = RGN_COPY_BREADTH }), 0);
	n = at(d, r2);
	l = at(d, n->left);
	r = at(d, n->right);
	/* breadth-first: root, then its three targets together */
	ck_assert_ptr_eq((const char *)l, (const char *)(n + 1));
	ck_assert_ptr_eq((const char *)r, (const char *)(l + 1));
	ck_assert((const char *)at(d, n->name) < (const char *)at(d, l->left));
	rgn_destroy(s);
	rgn_destroy(d);
}
END_TEST

/* ---- tails of references, tags, trace callbacks --------------------------------------- */

/* Tagged objects: the first word says the kind; an array holds a count
 * and that many references; a "union" object holds one reference or a
 * number, as its flag says (the trace callback's case). */
enum { K_LEAF = 1, K_ARRAY, K_UNION };

struct leaf {
	uint32_t kind, value;
};
struct array {
	uint32_t kind, count;
	rgn_ref  item[];
};
struct onion {
	uint32_t kind, is_ref;
	uint32_t u;       /* a reference when is_ref, else a number */
	uint32_t pad;
};

static void onion_trace(rgn_tracer *t, void *copy)
{
	struct onion *o = copy;

	if (o->is_ref)
		rgn_trace(t, &o->u, NULL);
}

static const rgn_layout leaf_l = { .size = sizeof(struct leaf) };
static const rgn_layout array_l = {
	.size = sizeof(struct array), .tail = RGN_TAIL_REFS, .count_at = 4,
};
static const rgn_layout onion_l = { .size = sizeof(struct onion), .trace = onion_trace };

static const rgn_layout *kind_of(const void *obj, void *arg)
{
	uint32_t k = *(const uint32_t *)obj;

	(void)arg;
	return k == K_LEAF ? &leaf_l : k == K_ARRAY ? &array_l : k == K_UNION ? &onion_l : NULL;
}

static rgn_ref mkleaf(rgn_region *r, uint32_t v)
{
	struct leaf *l = rgn_alloc(r, sizeof(*l));

	*l = (struct leaf){ K_LEAF, v };
	return rgn_ref_in(r, l);
}

static rgn_ref mkonion(rgn_region *r, bool is_ref, uint32_t u)
{
	struct onion *o = rgn_alloc(r, sizeof(*o));

	*o = (struct onion){ K_UNION, is_ref, u, 0 };
	return rgn_ref_in(r, o);
}

START_TEST(test_copy_tagged)
{
	rgn_region *s = rgn_new(NULL), *d = rgn_new(NULL);
	rgn_copy_options o = { .layout_of = kind_of };
	struct array *a = rgn_alloc(s, sizeof(*a) + 6 * sizeof(rgn_ref));
	rgn_ref root, shared = mkleaf(s, 77), r2;
	const struct array *ca;
	const struct onion *on;
	const struct leaf *lf;

	*a = (struct array){ K_ARRAY, 6 };
	a->item[0] = shared;
	a->item[1] = 0;
	a->item[2] = mkonion(s, true, shared);
	a->item[3] = mkonion(s, false, 0xdeadbeef); /* a number, not followed */
	a->item[4] = mkleaf(s, 5);
	root = rgn_ref_in(s, a);
	a->item[5] = root;                            /* itself */
	r2 = root;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, NULL, &o), 0);
	ck_assert_uint_eq(o.objects, 5);
	ca = at(d, r2);
	ck_assert_uint_eq(ca->count, 6);
	ck_assert_uint_eq(ca->item[1], 0);
	ck_assert_uint_eq(ca->item[5], r2);
	lf = at(d, ca->item[0]);
	ck_assert_uint_eq(lf->value, 77);
	on = at(d, ca->item[2]);
	ck_assert_uint_eq(on->u, ca->item[0]);        /* the same copy */
	on = at(d, ca->item[3]);
	ck_assert_uint_eq(on->u, 0xdeadbeef);
	ck_assert_uint_eq(((const struct leaf *)at(d, ca->item[4]))->value, 5);
	/* an unknown tag is an error, and d is as it was */
	{
		size_t du = used_of(d);
		struct leaf *bad = at(s, a->item[4]);

		bad->kind = 99;
		r2 = root;
		errno = 0;
		ck_assert_int_eq(rgn_copy(d, s, &r2, 1, NULL, &o), -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_uint_eq(r2, root);
		ck_assert_uint_eq(used_of(d), du);
	}
	rgn_destroy(s);
	rgn_destroy(d);
}
END_TEST

/* A trace callback may name the fields of the copy it is given and
 * nothing else: a field elsewhere would be rewritten in place (the
 * source, which must stay as it was, a local, the next object), and one
 * its layout's table names would be rewritten twice, so each is EINVAL
 * and the copy fails as a whole. */
enum { STRAY_NONE, STRAY_SOURCE, STRAY_LOCAL, STRAY_PAST, STRAY_ODD, STRAY_TABLE, STRAY_INSIDE };
static int stray;
static struct onion *stray_src;

static void stray_trace(rgn_tracer *t, void *copy)
{
	struct onion *o = copy;
	rgn_ref local = o->u;

	switch (stray) {
	case STRAY_SOURCE: rgn_trace(t, &stray_src->u, NULL); break;
	case STRAY_LOCAL:  rgn_trace(t, &local, NULL); break;
	case STRAY_PAST:   rgn_trace(t, (rgn_ref *)(void *)(o + 1), NULL); break;
	case STRAY_ODD:    rgn_trace(t, (rgn_ref *)(void *)((char *)&o->u + 2), NULL); break;
	case STRAY_TABLE:  rgn_trace(t, &o->pad, NULL); break;
	case STRAY_INSIDE: rgn_trace(t, &o->pad, NULL); /* fall through */
	default:           rgn_trace(t, &o->u, NULL); break;
	}
}

static const rgn_layout stray_l = { .size = sizeof(struct onion), .trace = stray_trace };
/* the same, with the last word a reference its table names (a leaf) */
static const uint32_t stray_refs[] = { offsetof(struct onion, pad) };
static const rgn_layout *const stray_to[] = { &leaf_l };
static const rgn_layout stray_table_l = { .size = sizeof(struct onion), .nrefs = 1,
	                                  .refs = stray_refs, .to = stray_to,
	                                  .trace = stray_trace };

START_TEST(test_copy_trace_outside)
{
	rgn_region *s = rgn_new(NULL), *d = rgn_new(NULL);
	rgn_copy_options o = { .layout_of = kind_of };
	rgn_ref target = mkleaf(s, 41), root, r2;
	struct onion *src = rgn_alloc(s, 2 * sizeof(*src));
	const struct onion *c;

	/* two in a row, so that past the first is the second's bytes */
	src[0] = (struct onion){ K_UNION, true, target, 0 };
	src[1] = (struct onion){ K_UNION, true, target, 0 };
	root = rgn_ref_in(s, src);
	stray_src = src;
	for (stray = STRAY_SOURCE; stray <= STRAY_ODD; stray++) {
		size_t du = used_of(d);

		r2 = root;
		errno = 0;
		ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &stray_l, &o), -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_uint_eq(r2, root);
		ck_assert_uint_eq(used_of(d), du);
		ck_assert_uint_eq(src[0].u, target); /* the source as it was */
		ck_assert_uint_eq(src[1].u, target);
	}
	/* a field the table names, traced too */
	{
		struct onion *two = rgn_alloc(s, sizeof(*two));
		rgn_ref leaf2 = mkleaf(s, 42), r3 = rgn_ref_in(s, two);
		size_t du = used_of(d);

		*two = (struct onion){ K_UNION, true, target, leaf2 };
		stray = STRAY_TABLE;
		errno = 0;
		ck_assert_int_eq(rgn_copy(d, s, &r3, 1, &stray_table_l, &o), -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_uint_eq(r3, rgn_ref_in(s, two));
		ck_assert_uint_eq(used_of(d), du);
		ck_assert_uint_eq(two->pad, leaf2);
		/* the callback's field and the table's, each once: both good */
		stray = STRAY_NONE;
		ck_assert_int_eq(rgn_copy(d, s, &r3, 1, &stray_table_l, &o), 0);
		ck_assert_uint_eq(o.objects, 3);
		c = at(d, r3);
		ck_assert_uint_eq(((const struct leaf *)at(d, c->u))->value, 41);
		ck_assert_uint_eq(((const struct leaf *)at(d, c->pad))->value, 42);
	}
	/* the copy's own fields, a reference or 0 (pad), are fine */
	stray = STRAY_INSIDE;
	r2 = root;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &stray_l, &o), 0);
	ck_assert_uint_eq(o.objects, 2);
	c = at(d, r2);
	ck_assert_uint_eq(((const struct leaf *)at(d, c->u))->value, 41);
	ck_assert_uint_eq(c->pad, 0);
	ck_assert_uint_eq(src[0].u, target);
	stray = STRAY_NONE;
	rgn_destroy(s);
	rgn_destroy(d);
}
END_TEST

/* The callbacks may allocate in the destination (a runtime making side
 * objects as it copies): the copy's own bump goes on after what they
 * took, so neither overwrites the other. */
static rgn_region *side_dst;
static unsigned char *side[64];
static int nside;

static void *side_alloc(void)
{
	unsigned char *p = rgn_alloc(side_dst, 24);

	ck_assert_ptr_nonnull(p);
	memset(p, 0xab, 24);
	ck_assert_int_lt(nside, 64);
	side[nside++] = p;
	return p;
}

static void side_trace(rgn_tracer *t, void *copy)
{
	struct onion *o = copy;

	side_alloc();
	if (o->is_ref)
		rgn_trace(t, &o->u, NULL);
}

static const rgn_layout side_onion_l = { .size = sizeof(struct onion), .trace = side_trace };

static const rgn_layout *side_kind_of(const void *obj, void *arg)
{
	(void)arg;
	side_alloc();
	return *(const uint32_t *)obj == K_UNION ? &side_onion_l : kind_of(obj, NULL);
}

START_TEST(test_copy_callback_allocates)
{
	static const int backends[] = { RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, RGN_BACKEND_HEAP };
	rgn_region *s = rgn_new(NULL);
	rgn_ref chain = mkleaf(s, 1000), root;

	/* a chain of 20 unions, each naming the one before, the first a leaf */
	for (uint32_t i = 0; i < 20; i++)
		chain = mkonion(s, true, chain);
	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		rgn_options ro = { .backend = backends[b] };
		rgn_copy_options o = { .layout_of = side_kind_of };
		rgn_region *d = rgn_new_with(NULL, &ro);
		rgn_ref at_ref;

		ck_assert_ptr_nonnull(d);
		side_dst = d;
		nside = 0;
		root = chain;
		ck_assert_int_eq(rgn_copy(d, s, &root, 1, NULL, &o), 0);
		ck_assert_uint_eq(o.objects, 21);
		ck_assert_int_eq(nside, 21 + 20); /* layout_of per object, trace per union */
		at_ref = root;
		for (uint32_t i = 0; i < 20; i++) {
			const struct onion *c = at(d, at_ref);

			ck_assert_uint_eq(c->kind, K_UNION);
			ck_assert_uint_eq(c->is_ref, 1);
			at_ref = c->u;
		}
		ck_assert_uint_eq(((const struct leaf *)at(d, at_ref))->value, 1000);
		for (int i = 0; i < nside; i++)
			for (int k = 0; k < 24; k++)
				ck_assert_uint_eq(side[i][k], 0xab);
		rgn_destroy(d);
	}
	rgn_destroy(s);
}
END_TEST

/* ---- errors: nothing changes ------------------------------------------------------------- */

START_TEST(test_copy_errors)
{
	rgn_region *s = rgn_new(NULL), *d = rgn_new(NULL);
	size_t unique, du;
	rgn_ref root = graph(s, &unique), r2 = root, bad;
	static const uint32_t out_refs[] = { 16 };
	const rgn_layout outside = { .size = 16, .nrefs = 1, .refs = out_refs };
	const rgn_layout zero = { .size = 0 };
	const rgn_layout bad_tail = { .size = 8, .tail = 7 };
	struct node *n;

	du = used_of(d);
	/* a null root (first, while the process may have no work array):
	 * nothing copied, the root still 0 */
	{
		rgn_ref none = 0;
		rgn_copy_options o = { 0 };

		ck_assert_int_eq(rgn_copy(d, s, &none, 1, &node_layout, &o), 0);
		ck_assert_uint_eq(none, 0);
		ck_assert_uint_eq(o.objects, 0);
		ck_assert_uint_eq(used_of(d), du);
	}
	errno = 0;
	ck_assert_int_eq(rgn_copy(NULL, s, &r2, 1, &node_layout, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copy(d, s, NULL, 1, &node_layout, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(rgn_copy(d, s, NULL, 0, &node_layout, NULL), 0);
	errno = 0;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &outside, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &zero, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &bad_tail, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &node_layout, &(rgn_copy_options){ .order = 9 }), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, NULL, NULL), -1); /* no layout */
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(r2, root);
	ck_assert_uint_eq(used_of(d), du);

	/* a reference past the space's used part, deep in the graph: EFAULT,
	 * after some objects were copied, and d is as it was */
	n = at(s, root);
	n = at(s, n->left);
	bad = (rgn_ref)(rgn_ref_of(rgn_ptr(0)) + ((tst_space().size - 8) >> 3));
	n->right = bad;
	errno = 0;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &node_layout, NULL), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_uint_eq(r2, root);
	ck_assert_uint_eq(used_of(d), du);
	rgn_destroy(s);
	rgn_destroy(d);
}
END_TEST

/* A size_of that leaves out fields its table names would have the scan
 * rewrite them past the copy's end: EINVAL, whatever the call. */
struct sized {
	uint32_t whole;   /* what size_of says */
	uint32_t count;   /* references in the tail (the tail layout) */
	rgn_ref  next;
	uint32_t pad;
	rgn_ref  item[];
};

static size_t sized_size(const void *obj)
{
	return ((const struct sized *)obj)->whole;
}

static const uint32_t sized_refs[] = { offsetof(struct sized, next) };
static const rgn_layout sized_l;
static const rgn_layout *const sized_to[] = { &sized_l };
static const rgn_layout sized_l = { .size = sizeof(struct sized), .nrefs = 1, .refs = sized_refs,
	                            .to = sized_to, .size_of = sized_size };
static const rgn_layout sized_tail_l = { .size = sizeof(struct sized), .tail = RGN_TAIL_REFS,
	                                 .count_at = offsetof(struct sized, count),
	                                 .tail_to = &sized_l, .size_of = sized_size };

START_TEST(test_copy_size_of)
{
	rgn_region *s = rgn_new(NULL), *d = rgn_new(NULL);
	struct sized *a = rgn_alloc(s, sizeof(*a) + 8), *b = rgn_alloc(s, sizeof(*b));
	rgn_ref ra = rgn_ref_in(s, a), root;
	size_t du = used_of(d);

	*a = (struct sized){ .whole = sizeof(*a) + 8, .next = rgn_ref_in(s, b) };
	*b = (struct sized){ .whole = sizeof(*b) };
	/* a whole size past the fixed part is copied whole */
	root = ra;
	ck_assert_int_eq(rgn_copy(d, s, &root, 1, &sized_l, NULL), 0);
	ck_assert_uint_eq(((struct sized *)rgn_ptr_in(d, root))->whole, sizeof(*a) + 8);
	du = used_of(d);
	/* the second object's size leaves out its reference, then says 0 */
	for (uint32_t w = 0; w < 2; w++) {
		b->whole = w ? 8 : 0;
		root = ra;
		errno = 0;
		ck_assert_int_eq(rgn_copy(d, s, &root, 1, &sized_l, NULL), -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_uint_eq(root, ra);
		ck_assert_uint_eq(used_of(d), du);
	}
	/* a tail of two references the size leaves out, then one */
	b->whole = sizeof(*b);
	a->count = 2;
	a->item[0] = a->item[1] = rgn_ref_in(s, b);
	for (uint32_t w = 0; w < 2; w++) {
		a->whole = (uint32_t)sizeof(*a) + 4 * w;
		root = ra;
		errno = 0;
		ck_assert_int_eq(rgn_copy(d, s, &root, 1, &sized_tail_l, NULL), -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_uint_eq(used_of(d), du);
	}
	a->whole = (uint32_t)sizeof(*a) + 8;
	root = ra;
	ck_assert_int_eq(rgn_copy(d, s, &root, 1, &sized_tail_l, NULL), 0);
	{
		const struct sized *c = rgn_ptr_in(d, root);

		ck_assert_uint_eq(c->item[0], c->item[1]);
		ck_assert_uint_ne(c->item[0], rgn_ref_in(s, b));
		ck_assert_uint_eq(((const struct sized *)rgn_ptr_in(d, c->item[0]))->whole, sizeof(*b));
	}
	rgn_destroy(s);
	rgn_destroy(d);
}
END_TEST

/* Out of memory half-way through: ENOMEM, the destination as it was, the
 * source intact; then the same copy succeeds once memory is back. */
START_TEST(test_copy_enomem)
{
	tst_init(64 * MiB, 0);
	rgn_region *s = rgn_new(NULL), *hog = rgn_new(NULL), *slack = rgn_new(NULL);
	rgn_backend kinds[] = { RGN_BACKEND_BLOCKS, RGN_BACKEND_HEAP };
	rgn_ref names[1], root;
	uint32_t v = 0;

	/* 128 K nodes, 2 MiB, and 1 MiB free (a quarter under valgrind) */
	int depth = tst_vg() ? 15 : 17;

	names[0] = mkstr(s, "abc");
	root = tree(s, depth, &v, names, 1);
	/* fill the space but for the slack */
	ck_assert_ptr_nonnull(rgn_alloc(slack, tst_vg() ? MiB / 4 : MiB));
	while (rgn_alloc(hog, 64 * KiB) != NULL)
		;
	rgn_destroy(slack);
	for (int k = 0; k < 2; k++) {
		rgn_region *d = region_of(kinds[k]);
		size_t du = used_of(d);
		rgn_ref r2 = root;

		errno = 0;
		ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &node_layout, NULL), -1);
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert_uint_eq(r2, root);
		ck_assert_uint_eq(used_of(d), du);
		/* the compiled copy too */
		errno = 0;
		ck_assert_int_eq(copier_copy(d, s, &r2, K_NODE, NULL), -1);
		ck_assert_int_eq(errno, ENOMEM);
		ck_assert_uint_eq(r2, root);
		ck_assert_uint_eq(used_of(d), du);
		rgn_destroy(d);
	}
	rgn_destroy(hog);
	{
		rgn_region *d = rgn_new(NULL);
		rgn_copy_options o = { 0 };
		rgn_ref r2 = root;

		ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &node_layout, &o), 0);
		ck_assert_uint_eq(o.objects, (1u << depth) - 1 + 1);
		rgn_destroy(d);
	}
	rgn_destroy(s);
}
END_TEST

/* RGN_COPY_ONLY_SRC: references into another region stay as they are. */
START_TEST(test_copy_only_src)
{
	rgn_region *parent = rgn_new(NULL), *s = rgn_new(parent), *d = rgn_new(NULL);
	rgn_ref pname = mkstr(parent, "in the parent"), a, root, r2;
	rgn_copy_options o = { .flags = RGN_COPY_ONLY_SRC };
	const struct node *n;

	a = mknode(s, 0, 0, pname, 1);
	root = mknode(s, a, 0, mkstr(s, "mine"), 2);
	r2 = root;
	ck_assert_int_eq(rgn_copy(d, s, &r2, 1, &node_layout, &o), 0);
	ck_assert_uint_eq(o.objects, 3);
	n = at(d, r2);
	n = at(d, n->left);
	ck_assert_uint_eq(n->name, pname);            /* not copied */
	/* the compiled copy likewise */
	r2 = root;
	o.objects = 0;
	ck_assert_int_eq(copier_copy(d, s, &r2, K_NODE, &o), 0);
	ck_assert_uint_eq(o.objects, 3);
	n = at(d, r2);
	n = at(d, n->left);
	ck_assert_uint_eq(n->name, pname);
	/* a contiguous destination cannot keep space references */
	{
		rgn_region *c = region_of(RGN_BACKEND_CONTIG);

		r2 = root;
		errno = 0;
		ck_assert_int_eq(rgn_copy(c, s, &r2, 1, &node_layout, &o), -1);
		ck_assert_int_eq(errno, EINVAL);
		rgn_destroy(c);
	}
	rgn_destroy(parent);
	rgn_destroy(d);
}
END_TEST

/* The forwarding memory one copy leaves behind for the next is clean:
 * a copy of everything in `other` (leaves for its objects), a scoped copy
 * of `mine` (its spans marked in scope), then a scoped copy of `mine`
 * again whose references into `other` must stay as they are, and a full
 * copy of `other` that must copy its objects anew. */
START_TEST(test_copy_reused_table)
{
	rgn_region *other = rgn_new(NULL), *mine = rgn_new(NULL), *third = rgn_new(NULL);
	rgn_region *d1 = rgn_new(NULL), *d2 = rgn_new(NULL), *d3 = rgn_new(NULL);
	rgn_region *d4 = rgn_new(NULL);
	rgn_copy_options all = { 0 }, only = { .flags = RGN_COPY_ONLY_SRC };
	size_t unique;
	rgn_ref oroot = graph(other, &unique), r, root, m2;
	const struct node *n;

	r = oroot;
	ck_assert_int_eq(rgn_copy(d1, other, &r, 1, &node_layout, &all), 0);
	ck_assert_uint_eq(all.objects, unique);
	root = mknode(mine, oroot, 0, mkstr(mine, "mine"), 7);
	r = root;
	ck_assert_int_eq(rgn_copy(d2, mine, &r, 1, &node_layout, &only), 0);
	ck_assert_uint_eq(only.objects, 2);
	r = root;
	ck_assert_int_eq(rgn_copy(d3, mine, &r, 1, &node_layout, &only), 0);
	ck_assert_uint_eq(only.objects, 2);
	n = at(d3, r);
	ck_assert_uint_eq(n->left, oroot);             /* still other's */
	/* mine's spans are out of scope for a third region's copy, also
	 * where mine's copies left no leaf (m2, 512 bytes further) */
	ck_assert_ptr_nonnull(rgn_alloc(mine, 600));
	m2 = mknode(mine, 0, 0, mkstr(mine, "m2"), 9);
	r = mknode(third, root, m2, mkstr(third, "third"), 8);
	ck_assert_int_eq(rgn_copy(d3, third, &r, 1, &node_layout, &only), 0);
	ck_assert_uint_eq(only.objects, 2);
	n = at(d3, r);
	ck_assert_uint_eq(n->left, root);              /* still mine's */
	ck_assert_uint_eq(n->right, m2);
	r = oroot;
	ck_assert_int_eq(rgn_copy(d4, other, &r, 1, &node_layout, &all), 0);
	ck_assert_uint_eq(all.objects, unique);
	ck_assert_uint_eq(same_graph(other, oroot, d4, r), unique);
	rgn_destroy(other);
	rgn_destroy(mine);
	rgn_destroy(third);
	rgn_destroy(d1);
	rgn_destroy(d2);
	rgn_destroy(d3);
	rgn_destroy(d4);
}
END_TEST

/* rgn_space_trim gives back the forwarding table kept after a copy: a
 * list of 256 Ki nodes (4 MiB of source, 2 MiB of table) copied, then
 * the process's resident memory drops by most of the table. */
START_TEST(test_copy_trim)
{
	rgn_region *r = rgn_new(NULL), *d = rgn_new(NULL);
	rgn_ref head = 0, name = mkstr(r, "n");
	size_t before, after;

	if (tst_vg())
		return; /* valgrind's resident memory is its own */
	for (uint32_t i = 0; i < 256 * 1024; i++)
		head = mknode(r, head, 0, name, i);
	rgn_space_trim();
	ck_assert_int_eq(rgn_copy(d, r, &head, 1, &node_layout, NULL), 0);
	before = tst_rss();
	rgn_space_trim();
	after = tst_rss();
	ck_assert_msg(before > after && before - after >= ((size_t)3 << 19),
	              "trim gave back %zu bytes", before > after ? before - after : 0);
	rgn_destroy(r);
	rgn_destroy(d);
}
END_TEST

/* A dense source large enough that the table hands out its leaves in
 * groups (windows of 32 KiB), its blocks interleaved with another
 * region's: a scoped copy leaves the other's objects alone although they
 * share the source's windows, an unscoped one copies both, and a scoped
 * copy of the other region after them finds the table clean. */
START_TEST(test_copy_grouped_leaves)
{
	enum { N = 20000 };
	rgn_options one = { .chunk_max = RGN_BLOCK_SIZE };
	rgn_region *a = rgn_new_with(NULL, &one), *b = rgn_new_with(NULL, &one);
	rgn_region *d1 = rgn_new(NULL), *d2 = rgn_new(NULL), *d3 = rgn_new(NULL);
	rgn_copy_options only = { .flags = RGN_COPY_ONLY_SRC }, all = { 0 };
	rgn_ref head = 0, r, bhead;
	const struct node *n;
	size_t count = 0;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	/* a's list, each node naming one of b's, allocated in turns */
	for (uint32_t i = 0; i < N; i++) {
		rgn_ref x = mknode(b, 0, 0, 0, 1000000 + i);

		head = mknode(a, head, x, 0, i);
	}
	r = head;
	ck_assert_int_eq(rgn_copy(d1, a, &r, 1, &node_layout, &only), 0);
	ck_assert_uint_eq(only.objects, N);
	for (rgn_ref x = r, y = head; x; x = n->left, y = ((const struct node *)at(a, y))->left) {
		n = at(d1, x);
		ck_assert_uint_eq(n->value, N - 1 - count);
		ck_assert_uint_eq(n->right, ((const struct node *)at(a, y))->right); /* b's still */
		count++;
	}
	ck_assert_uint_eq(count, N);
	r = head;
	ck_assert_int_eq(rgn_copy(d2, a, &r, 1, &node_layout, &all), 0);
	ck_assert_uint_eq(all.objects, 2 * N);
	n = at(d2, r);
	ck_assert_uint_eq(((const struct node *)at(d2, n->right))->value, 1000000 + N - 1);
	/* b's own nodes, scoped: none of a's was left marked copied */
	bhead = ((const struct node *)at(a, head))->right;
	r = bhead;
	ck_assert_int_eq(rgn_copy(d3, b, &r, 1, &node_layout, &only), 0);
	ck_assert_uint_eq(only.objects, 1);
	ck_assert_uint_ne(r, bhead);
	ck_assert_uint_eq(((const struct node *)at(d3, r))->value, 1000000 + N - 1);
	rgn_destroy(a);
	rgn_destroy(b);
	rgn_destroy(d1);
	rgn_destroy(d2);
	rgn_destroy(d3);
}
END_TEST

/* ---- compaction --------------------------------------------------------------------- */

static int cleanup_log[8], ncleanup;

static void note_cleanup(void *arg)
{
	cleanup_log[ncleanup++] = (int)(intptr_t)arg;
}

/* Garbage around the graph, cleanups, a child and a mark: compaction
 * keeps the graph (roots updated), the cleanups in order, the child; the
 * mark goes stale; used comes down to the graph. */
static void compact_one(rgn_backend b)
{
	rgn_region *r = region_of(b), *child;
	rgn_ref roots[2], names[3], old[2];
	size_t unique, live, before;
	rgn_copy_options o = { 0 };
	rgn_mark m;

	ncleanup = 0;
	ck_assert_int_eq(rgn_on_destroy(r, note_cleanup, (void *)1), 0);
	for (int i = 0; i < 200; i++)
		ck_assert_ptr_nonnull(rgn_alloc(r, 100)); /* garbage */
	roots[0] = graph(r, &unique);
	for (int i = 0; i < 3; i++)
		names[i] = mkstr(r, "garbage string");
	ck_assert_int_eq(rgn_on_destroy(r, note_cleanup, (void *)2), 0);
	roots[1] = mknode(r, 0, 0, names[1], 42);    /* a second root */
	for (int i = 0; i < 200; i++)
		ck_assert_ptr_nonnull(rgn_alloc(r, 100));
	child = rgn_new(r);
	ck_assert_ptr_nonnull(rgn_alloc(child, 64));
	m = rgn_save(r);
	before = used_of(r);
	memcpy(old, roots, sizeof old);
	{
		/* a copy elsewhere to compare with, since r's old objects go */
		rgn_region *keep = rgn_new(NULL);
		rgn_ref k = roots[0];

		ck_assert_int_eq(rgn_copy(keep, r, &k, 1, &node_layout, NULL), 0);
		ck_assert_int_eq(rgn_compact(r, roots, 2, &node_layout, &o), 0);
		ck_assert_uint_eq(o.objects, unique + 2);
		/* the roots now name the moved objects (garbage lay before them) */
		ck_assert_uint_ne(roots[0], old[0]);
		ck_assert_uint_ne(roots[1], old[1]);
		ck_assert_uint_eq(same_graph(keep, k, r, roots[0]), unique);
		rgn_destroy(keep);
	}
	live = o.bytes;
	ck_assert_uint_lt(used_of(r), before);
	/* what is used now: the graph and the cleanup records */
	ck_assert_uint_le(used_of(r), live + 2 * 64 + 64);
	ck_assert_uint_eq(((const struct node *)at(r, roots[1]))->value, 42);
	ck_assert(memcmp(((const struct str *)at(r, ((const struct node *)at(r, roots[1]))->name))->bytes,
	                 "garbage string", 14) == 0);
	errno = 0;
	ck_assert_int_eq(rgn_rewind(r, m), -1);
	ck_assert_int_eq(errno, b == RGN_BACKEND_HEAP ? ENOTSUP : EINVAL);
	/* the child lives on, and r still allocates */
	ck_assert_ptr_nonnull(rgn_alloc(child, 64));
	ck_assert_ptr_nonnull(rgn_alloc(r, 5000));
	rgn_destroy(r);
	ck_assert_int_eq(ncleanup, 2);
	ck_assert_int_eq(cleanup_log[0], 2);
	ck_assert_int_eq(cleanup_log[1], 1);
}

/* Alignment padding can make a compacted graph larger than the memory it
 * came from: 64 cells of 16 bytes packed in a contiguous region's first
 * commit step come back a page apart, so r's read-write part must grow
 * before the copy goes back into it. */
static const uint32_t cell_refs[] = { 0 };
static const rgn_layout cell;
static const rgn_layout *const cell_to[] = { &cell };
static const rgn_layout cell = { .size = 16, .nrefs = 1, .refs = cell_refs, .to = cell_to,
	                         .align = 4096 };

START_TEST(test_compact_aligned_grows)
{
	rgn_region *r = region_of(RGN_BACKEND_CONTIG);
	rgn_ref head = 0, ref;
	size_t before;
	uint32_t n = 0;

	for (uint32_t i = 0; i < 64; i++) {
		uint32_t *c = rgn_alloc(r, 16);

		ck_assert_ptr_nonnull(c);
		c[0] = head;
		c[1] = i;
		head = rgn_ref_in(r, c);
	}
	before = used_of(r);
	ck_assert_uint_lt(before, 64 * 1024); /* the first commit step */
	ck_assert_int_eq(rgn_compact(r, &head, 1, &cell, NULL), 0);
	ck_assert_uint_ge(used_of(r), 63 * 4096 + 16);
	for (ref = head; ref; ref = ((uint32_t *)rgn_ptr_in(r, ref))[0], n++) {
		ck_assert_uint_eq((uintptr_t)rgn_ptr_in(r, ref) % 4096, 0);
		ck_assert_uint_eq(((uint32_t *)rgn_ptr_in(r, ref))[1], 63 - n);
	}
	ck_assert_uint_eq(n, 64);
	ck_assert_ptr_nonnull(rgn_alloc(r, 64));
	rgn_destroy(r);
}
END_TEST

START_TEST(test_compact_blocks)
{
	compact_one(RGN_BACKEND_BLOCKS);
}
END_TEST

START_TEST(test_compact_contig)
{
	compact_one(RGN_BACKEND_CONTIG);
}
END_TEST

START_TEST(test_compact_heap)
{
	compact_one(RGN_BACKEND_HEAP);
}
END_TEST

START_TEST(test_compact_refused)
{
	rgn_region *r = rgn_new(NULL);
	size_t unique, avail;
	rgn_ref root, r2;

	root = graph(r, &unique);
	r2 = root;
	ck_assert_ptr_nonnull(rgn_tail(r, 100, &avail));
	errno = 0;
	ck_assert_int_eq(rgn_compact(r, &r2, 1, &node_layout, NULL), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(rgn_tail_commit(r, 0), 0);
	ck_assert_int_eq(rgn_compact(r, &r2, 1, &node_layout, NULL), 0);
	ck_assert_uint_ne(r2, root);
	errno = 0;
	ck_assert_int_eq(rgn_compact(NULL, &r2, 1, &node_layout, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	rgn_destroy(r);
}
END_TEST

/* A long-running region where nine tenths of what it allocates becomes
 * garbage: a list of live records, each round replacing a tenth of
 * them and allocating nine times as much scratch.  Compacted every few
 * rounds, the blocks it holds stay within 1.5x the live bytes; left
 * alone, they grow with every round. */
struct rec {
	rgn_ref next, data;
};
static const uint32_t rec_refs[] = { 0, 4 };
static const rgn_layout blob_l = { .size = 256 };
static const rgn_layout rec_l;
static const rgn_layout *const rec_to[] = { &rec_l, &blob_l };
static const rgn_layout rec_l = { .size = sizeof(struct rec), .nrefs = 2, .refs = rec_refs,
	                          .to = rec_to };

static size_t churn(rgn_backend b, bool compact, size_t *live_out, int rounds)
{
	enum { N = 2000 };
	rgn_region *r = region_of(b);
	rgn_ref head = 0;
	struct rgn_region_stats st;
	size_t live = N * (8 + 256);

	for (int i = 0; i < N; i++) {
		struct rec *x = rgn_alloc(r, sizeof(*x));

		x->data = rgn_ref_of(rgn_alloc(r, 256));
		x->next = head;
		head = rgn_ref_of(x);
	}
	for (int round = 0; round < rounds; round++) {
		struct rec *x = rgn_ptr(head);

		/* a tenth of the records get new data; the old is garbage */
		for (int i = 0; i < N; i++, x = rgn_ptr(x->next))
			if ((i + round) % 10 == 0)
				x->data = rgn_ref_of(memset(rgn_alloc(r, 256), round, 256));
		/* and scratch work eight times that */
		for (int i = 0; i < N * 8 / 10; i++)
			ck_assert_ptr_nonnull(rgn_alloc(r, 256 + 8));
		if (compact && round % 5 == 4)
			ck_assert_int_eq(rgn_compact(r, &head, 1, &rec_l, NULL), 0);
	}
	{
		size_t n = 0;

		for (rgn_ref x = head; x; x = ((struct rec *)rgn_ptr(x))->next)
			n++;
		ck_assert_uint_eq(n, N);
	}
	ck_assert_int_eq(rgn_region_stats(r, &st), 0);
	rgn_destroy(r);
	*live_out = live;
	return st.blocks * 4096;
}

START_TEST(test_compact_churn)
{
	int rounds = tst_vg() ? 20 : 60;   /* a multiple of 5: the last compacts */

	/* a block region, and a heap region used as one (nothing freed) */
	for (int k = 0; k < 2; k++) {
		rgn_backend b = k ? RGN_BACKEND_HEAP : RGN_BACKEND_BLOCKS;
		size_t live, with = churn(b, true, &live, rounds);
		size_t without = churn(b, false, &live, rounds);

		/* the last round compacts: what it leaves is measured */
		ck_assert_msg(with <= live * 3 / 2,
		              "%s with compaction: %zu bytes held for %zu live",
		              k ? "heap" : "blocks", with, live);
		/* each round leaves about 0.9x the live bytes of garbage */
		ck_assert_msg(without > live * (size_t)rounds * 3 / 4,
		              "%s without: %zu bytes held for %zu live", k ? "heap" : "blocks",
		              without, live);
	}
}
END_TEST

/* A heap region whose objects were freed one by one: nine in ten, spread
 * over every page, so that no page can go back.  Compaction packs the
 * live ones into pages of their own, gives back the rest, and the moved
 * objects are heap objects as any: freed, reused, resized. */
START_TEST(test_compact_heap_frees)
{
	enum { N = 20000 };
	rgn_region *r = rgn_new_with(NULL, &(rgn_options){ .backend = RGN_BACKEND_HEAP,
	                                                    .chunk_max = 64 << 10 });
	struct rgn_region_stats before, after;
	struct rec **all = malloc(N * sizeof(*all));
	rgn_copy_options o = { 0 };
	rgn_ref head = 0;
	size_t n = 0, live = 0;

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(all);
	/* records of 8 bytes, each naming a blob of 256, all made first
	 * (a free's slot would be taken again at once) */
	for (int i = 0; i < N; i++) {
		struct rec *x = all[i] = rgn_alloc(r, sizeof(*x));
		void *blob = rgn_alloc(r, 256);

		ck_assert_ptr_nonnull(x);
		ck_assert_ptr_nonnull(blob);
		memset(blob, i & 0xff, 256);
		x->data = rgn_ref_of(blob);
	}
	for (int i = 0; i < N; i++) {
		struct rec *x = all[i];

		if (i % 10 == 0) {
			x->next = head;
			head = rgn_ref_of(x);
			live += sizeof(*x) + 256;
		} else {
			rgn_free(r, rgn_ptr(x->data), 256);
			rgn_free(r, x, sizeof(*x));
		}
	}
	free(all);
	ck_assert_int_eq(rgn_region_stats(r, &before), 0);
	ck_assert_uint_eq(before.used, live);
	ck_assert_int_eq(rgn_compact(r, &head, 1, &rec_l, &o), 0);
	ck_assert_uint_eq(o.objects, 2 * (N / 10));
	ck_assert_int_eq(rgn_region_stats(r, &after), 0);
	ck_assert_uint_eq(after.used, live);
	/* nine tenths of the pages went back: the rest hold the live bytes
	 * within 1.5x, the header block and a page per class included */
	ck_assert_uint_lt(after.blocks * 4, before.blocks);
	ck_assert_msg(after.blocks * 4096 <= live * 3 / 2, "%zu blocks for %zu live bytes",
	              after.blocks, live);
	/* the list is whole, in its order, each blob with its bytes */
	for (rgn_ref x = head; x; x = ((struct rec *)rgn_ptr(x))->next, n++) {
		const unsigned char *blob = rgn_ptr(((struct rec *)rgn_ptr(x))->data);
		int i = N - 10 - (int)n * 10;

		ck_assert_int_eq(blob[0], i & 0xff);
		ck_assert_int_eq(blob[255], i & 0xff);
		ck_assert_uint_eq(rgn_usable_size(r, blob), 256);
	}
	ck_assert_uint_eq(n, N / 10);
	{
		/* a moved object goes back to its class and comes out again;
		 * a moved one grows where the class allows, moves beyond */
		struct rec *x = rgn_ptr(head);
		void *blob = rgn_ptr(x->data), *again, *grown;

		x->data = 0;
		rgn_free(r, blob, 256);
		ck_assert_ptr_eq(rgn_alloc(r, 256), blob);
		again = rgn_ptr(((struct rec *)rgn_ptr(x->next))->data);
		grown = rgn_realloc(r, again, 256, 4000);
		ck_assert_ptr_nonnull(grown);
		ck_assert_ptr_ne(grown, again);
		ck_assert_int_eq(((unsigned char *)grown)[255], (N - 20) & 0xff);
	}
	rgn_destroy(r);
}
END_TEST

/* ---- images of any region --------------------------------------------------------------- */

static int tmpfd(void)
{
	return tst_tmpfile_fd();
}

static void image_of(rgn_backend b)
{
	rgn_region *r = region_of(b);
	size_t unique;
	rgn_ref root = graph(r, &unique), iroot;
	rgn_copy_options o = { 0 };
	rgn_image *img;
	int fd = tmpfd();
	struct walk *w;

	ck_assert_int_eq(rgn_image_write_graph(r, fd, root, &node_layout, &o), 0);
	ck_assert_uint_eq(o.objects, 41);
	img = rgn_image_open(fd, &iroot);
	ck_assert_ptr_nonnull(img);
	/* the copies, packed, after the header page and the few zero bytes
	 * of a contiguous region's header */
	ck_assert_uint_ge(rgn_image_size(img), 4096 + o.bytes);
	ck_assert_uint_le(rgn_image_size(img), 4096 + 512 + o.bytes);
	w = calloc(1, sizeof(*w));
	w->sr = r;
	w->cbase = rgn_image_ptr(img, 0);
	same_node(w, root, iroot);
	ck_assert_uint_eq(w->n, 41);
	free(w);
	rgn_image_close(img);
	close(fd);
	rgn_destroy(r);
}

START_TEST(test_image_graph)
{
	image_of(RGN_BACKEND_BLOCKS);
	image_of(RGN_BACKEND_CONTIG);
	image_of(RGN_BACKEND_HEAP);
}
END_TEST

/* Nothing is written on an error. */
START_TEST(test_image_graph_errors)
{
	rgn_region *r = rgn_new(NULL);
	size_t unique;
	rgn_ref root = graph(r, &unique);
	struct node *n = at(r, root);
	int fd = tmpfd();
	struct stat st;

	errno = 0;
	ck_assert_int_eq(rgn_image_write_graph(r, -1, root, &node_layout, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_image_write_graph(r, fd, 0, &node_layout, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_image_write_graph(r, fd, root, &node_layout,
	                                       &(rgn_copy_options){ .flags = RGN_COPY_ONLY_SRC }), -1);
	ck_assert_int_eq(errno, EINVAL);
	n->name = 0xfffffff0u;
	errno = 0;
	ck_assert_int_eq(rgn_image_write_graph(r, fd, root, &node_layout, NULL), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	close(fd);
	rgn_destroy(r);
}
END_TEST


/* ---- the image written beside the copy (RGN_COPY_OVERLAP) ------------------------------ */

/* A complete binary tree of n nodes in heap order (node i's children are
 * 2i+1 and 2i+2), each named by one of 997 strings of 1 to 40 bytes:
 * some 2 MiB of copies for n = 1 << 17, so that the writer starts and is
 * told of many pieces.  Built in r, which must hold it; the root. */
static rgn_ref big_tree(rgn_region *r, uint32_t n)
{
	rgn_ref *refs = malloc(n * sizeof(*refs)), names[997], root;
	char buf[48];

	ck_assert_ptr_nonnull(refs);
	for (uint32_t j = 0; j < 997; j++) {
		snprintf(buf, sizeof buf, "%.*s", (int)(1 + j % 40),
		         "s-0123456789abcdefghijklmnopqrstuvwxyz-0123456789");
		names[j] = mkstr(r, buf);
	}
	for (uint32_t i = 0; i < n; i++)
		refs[i] = mknode(r, 0, 0, names[i % 997], i);
	for (uint32_t i = 0; i < n; i++) {
		struct node *p = at(r, refs[i]);

		if (2 * (uint64_t)i + 1 < n)
			p->left = refs[2 * i + 1];
		if (2 * (uint64_t)i + 2 < n)
			p->right = refs[2 * i + 2];
	}
	root = refs[0];
	free(refs);
	return root;
}

/* A chain of links (left: the next link, name: a string) whose last
 * link's right is an array of references to 40,000 strings of their own
 * (some 1.8 MiB): the scan walks the chain (1.6 MiB of copies and more)
 * and then takes the array last, which copies every string and leaves
 * nothing after it to scan.  So the writer has started, and has taken
 * nothing past the array when the copy ends: the main thread always
 * writes the second half of the strings itself. */
struct arr {
	uint32_t n, pad;
	rgn_ref  item[];
};

static const rgn_layout arr_layout = {
	.size = offsetof(struct arr, item),
	.tail = RGN_TAIL_REFS,
	.count_at = offsetof(struct arr, n),
	.tail_to = &str_layout,
};
static const rgn_layout link_layout;
static const rgn_layout *const link_to[] = { &link_layout, &arr_layout, &str_layout };
static const rgn_layout link_layout = {
	.size = sizeof(struct node),
	.nrefs = 3,
	.refs = node_refs,
	.to = link_to,
};

static rgn_ref chain_then_burst(rgn_region *r)
{
	enum { LINKS = 100000, ITEMS = 40000 };
	struct arr *a = rgn_alloc(r, sizeof(*a) + ITEMS * sizeof(rgn_ref));
	rgn_ref next = 0, name = mkstr(r, "link");
	char buf[48];

	ck_assert_ptr_nonnull(a);
	a->n = ITEMS;
	a->pad = 0;
	for (uint32_t i = 0; i < ITEMS; i++) {
		snprintf(buf, sizeof buf, "item %u of the burst at the end", i);
		a->item[i] = mkstr(r, buf);
	}
	for (uint32_t i = 0; i < LINKS; i++)
		next = mknode(r, next, i ? 0 : rgn_ref_in(r, a), name, i);
	return next;
}

/* The file's bytes from off on (its end), read without moving it. */
static char *file_bytes(int fd, off_t off, size_t *n)
{
	struct stat st;
	char *p;
	size_t got = 0;

	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_ge(st.st_size, off);
	*n = (size_t)(st.st_size - off);
	p = malloc(*n + 1);
	ck_assert_ptr_nonnull(p);
	while (got < *n) {
		ssize_t k = pread(fd, p + got, *n - got, off + (off_t)got);

		ck_assert_int_gt(k, 0);
		got += (size_t)k;
	}
	return p;
}

/* fd holds, from at0 on, the file plain holds (the position after it),
 * and before at0 the prefix, or else an image that opens. */
static void same_file(int plain, int fd, off_t at0, const char *prefix, const char *what)
{
	size_t n0, n1;
	char *a = file_bytes(plain, 0, &n0), *b = file_bytes(fd, at0, &n1);
	rgn_image *img;

	ck_assert_uint_eq(n1, n0);
	ck_assert_msg(memcmp(a, b, n0) == 0, "%s: the files differ", what);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), at0 + (off_t)n0);
	if (at0) {
		char *p = file_bytes(fd, 0, &n1);

		ck_assert_int_eq(memcmp(p, prefix, (size_t)at0), 0);
		free(p);
	} else {
		img = rgn_image_open(fd, NULL);
		ck_assert_ptr_nonnull(img);
		rgn_image_close(img);
	}
	free(a);
	free(b);
}

/* big_tree's last node breadth-first (the rightmost of the deepest
 * level) made to name a string past the space: the copy fails there. */
static void break_last(rgn_region *r, rgn_ref root, uint32_t n)
{
	rgn_ref bad = root;

	for (uint32_t i = 0; 2 * (uint64_t)i + 2 < n; i = 2 * i + 2)
		bad = ((struct node *)at(r, bad))->right;
	((struct node *)at(r, bad))->name = 0xfffffff0u;
}

/* An image written with the flag is the same file as one written
 * without it: breadth-first into a file at offset 0 and after a prefix
 * (which stays, and the position ends after the image), the tree and the
 * chain whose end the main thread writes, appending and depth-first
 * (written after the copy), a graph too small for a thread. */
START_TEST(test_overlap_same_bytes)
{
	rgn_region *r = rgn_new(NULL), *small = rgn_new(NULL);
	size_t unique;
	rgn_ref root = big_tree(r, 1u << 17), sroot = graph(small, &unique);
	rgn_ref chain = chain_then_burst(r);
	static const char prefix[100] = "not an image";
	const struct {
		rgn_region *r;
		rgn_ref root;
		const rgn_layout *l;
		unsigned order, pre, append;
	} cases[] = {
		{ r, root, &node_layout, RGN_COPY_BREADTH, 0, 0 },
		{ r, root, &node_layout, RGN_COPY_BREADTH, 1, 0 },
		{ r, chain, &link_layout, RGN_COPY_BREADTH, 0, 0 },
		{ r, chain, &link_layout, RGN_COPY_BREADTH, 1, 0 },
#ifndef _WIN32 /* (no fcntl there; every file is written after the copy) */
		{ r, root, &node_layout, RGN_COPY_BREADTH, 1, 1 },
#endif
		{ r, root, &node_layout, RGN_COPY_DEPTH, 0, 0 },
		{ small, sroot, &node_layout, RGN_COPY_BREADTH, 0, 0 },
	};

	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		int plain = tmpfd(), fd = tmpfd();
		off_t at0 = cases[k].pre ? (off_t)sizeof(prefix) : 0;
		char what[32];

		ck_assert_int_eq(rgn_image_write_graph(cases[k].r, plain, cases[k].root, cases[k].l,
		                                       &(rgn_copy_options){ .order = cases[k].order }),
		                 0);
#ifndef _WIN32
		if (cases[k].append)
			ck_assert_int_eq(fcntl(fd, F_SETFL, O_APPEND), 0);
#endif
		if (cases[k].pre)
			ck_assert_int_eq(write(fd, prefix, sizeof(prefix)), (ssize_t)sizeof(prefix));
		ck_assert_int_eq(rgn_image_write_graph(cases[k].r, fd, cases[k].root, cases[k].l,
		                                       &(rgn_copy_options){
		                                               .order = cases[k].order,
		                                               .flags = RGN_COPY_OVERLAP }),
		                 0);
		snprintf(what, sizeof what, "case %zu", k);
		same_file(plain, fd, at0, prefix, what);
		close(plain);
		close(fd);
	}
	rgn_destroy(small);
	rgn_destroy(r);
}
END_TEST

/* A copy that fails after the writer started: the error, and a file that
 * does not open (its first page is still the zeros standing for the
 * header). */
START_TEST(test_overlap_copy_fails)
{
	rgn_region *r = rgn_new(NULL);
	uint32_t n = 1u << 17;
	rgn_ref root = big_tree(r, n);
	int fd = tmpfd();
	rgn_image *img;
	struct stat st;

	break_last(r, root, n);
	errno = 0;
	ck_assert_int_eq(rgn_image_write_graph(r, fd, root, &node_layout,
	                                       &(rgn_copy_options){ .flags = RGN_COPY_OVERLAP }),
	                 -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(fstat(fd, &st), 0);
#ifndef _WIN32
	/* the writer had begun (a file that cannot be written at an offset
	 * is written after the copy: nothing then) */
	ck_assert_int_gt(st.st_size, 4096);
#endif
	errno = 0;
	img = rgn_image_open(fd, NULL);
	ck_assert_ptr_null(img);
	close(fd);
	rgn_destroy(r);
}
END_TEST

/* A file the writer cannot write (open for reading only): the call fails
 * with the error a write there gets. */
START_TEST(test_overlap_write_fails)
{
	rgn_region *r = rgn_new(NULL);
	rgn_ref root = big_tree(r, 1u << 17);
	int fd = tmpfd(), ro, want;
	char path[64];

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	if (ro < 0) /* no /proc: a descriptor that is not open at all */
		ro = fd + 1000;
	errno = 0;
	ck_assert_int_eq(write(ro, "x", 1), -1);
	want = errno; /* EBADF */
#ifdef _WIN32
	/* (rgn writes with WriteFile, whose answer to a handle opened for
	 * reading is access denied, where the CRT's write says EBADF) */
	if (ro != fd + 1000)
		want = EACCES;
#endif
	ck_assert_int_ne(want, 0);
	for (int flag = 0; flag < 2; flag++) {
		errno = 0;
		ck_assert_int_eq(rgn_image_write_graph(r, ro, root, &node_layout,
		                                       &(rgn_copy_options){
		                                               .flags = flag ? RGN_COPY_OVERLAP : 0 }),
		                 -1);
		ck_assert_int_eq(errno, want);
	}
	if (ro != fd + 1000)
		close(ro);
	close(fd);
	rgn_destroy(r);
}
END_TEST

/* The writer cannot start (no address space left for a thread's stack):
 * the image is written after the copy, the same file as without the
 * flag.  A first call without it leaves what the copy keeps (the sink's
 * reservation in the reuse cache, the forwarding table, the work array),
 * so that under the limit only a new thread lacks room. */
#if TST_POSIX && !defined(TST_ASAN) && !defined(TST_TSAN) && !defined(TST_EMULATED)
static void *idle(void *arg)
{
	return arg;
}
#endif

START_TEST(test_overlap_no_thread)
{
#if defined(TST_ASAN) || defined(TST_TSAN)
	printf("test_overlap_no_thread: skipped: the sanitizer maps its own memory "
	       "beyond any address-space limit a test can set\n");
#elif defined(TST_EMULATED)
	printf("test_overlap_no_thread: skipped: user-mode emulation does not apply "
	       "the guest's address-space limit to its own mappings\n");
#elif !TST_POSIX
	printf("test_overlap_no_thread: skipped: no address-space limit for a test to "
	       "set on Windows\n");
#else
	rgn_region *r = rgn_new(NULL);
	rgn_ref root = big_tree(r, 1u << 17);
	int plain = tmpfd(), fd = tmpfd(), rc;
	struct rlimit was, lim;
	pthread_t th;
	size_t n0, n1;
	char *a, *b;

	if (tst_vg()) {
		printf("test_overlap_no_thread: skipped: valgrind makes its threads' "
		       "stacks its own way\n");
		rgn_destroy(r);
		return;
	}
	ck_assert_int_eq(rgn_image_write_graph(r, plain, root, &node_layout, NULL), 0);
	/* 2 MiB more address space: no room for a thread's 8 MiB stack */
	ck_assert_int_eq(getrlimit(RLIMIT_AS, &was), 0);
	lim = was;
	lim.rlim_cur = (rlim_t)tst_mapped() + 2 * MiB;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
	if (pthread_create(&th, NULL, idle, NULL) == 0) {
		/* a stack cached from an earlier thread (tests not forked) */
		pthread_join(th, NULL);
		ck_assert_int_eq(setrlimit(RLIMIT_AS, &was), 0);
		printf("test_overlap_no_thread: skipped: a thread starts without new "
		       "address space here\n");
		rgn_destroy(r);
		close(plain);
		close(fd);
		return;
	}
	rc = rgn_image_write_graph(r, fd, root, &node_layout,
	                           &(rgn_copy_options){ .flags = RGN_COPY_OVERLAP });
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &was), 0);
	ck_assert_int_eq(rc, 0);
	a = file_bytes(plain, 0, &n0);
	b = file_bytes(fd, 0, &n1);
	ck_assert_uint_gt(n0, 1u << 20); /* large enough to start a writer */
	ck_assert_uint_eq(n1, n0);
	ck_assert_int_eq(memcmp(a, b, n0), 0);
	free(a);
	free(b);
	close(plain);
	close(fd);
	rgn_destroy(r);
#endif
}
END_TEST

/* ---- the compiled copy (rgn_copier) ---------------------------------------------------- */

static void copier_scan(rgn_copier *c, void *obj, uint32_t kind);
static int copier_write(const rgn_region *s, int fd, rgn_ref root, uint32_t kind,
                        unsigned flags, rgn_ref bad_root);

/* The compiled copy written beside its image: the file rgn_copier_begin_image
 * writes without the flag (and rgn_image_write_graph), for the tree and
 * the chain whose end the main thread writes, after a prefix, and a graph
 * too small for a thread; a copy that fails after the writer started
 * leaves no image. */
START_TEST(test_overlap_copier)
{
	rgn_region *r = rgn_new(NULL), *small = rgn_new(NULL);
	size_t unique;
	uint32_t n = 1u << 17;
	rgn_ref root = big_tree(r, n), chain = chain_then_burst(r), sroot = graph(small, &unique);
	static const char prefix[100] = "not an image";
	const struct {
		rgn_region *r;
		rgn_ref root;
		uint32_t kind;
		unsigned pre;
	} cases[] = {
		{ r, root, K_NODE, 0 },  { r, root, K_NODE, 1 }, { r, chain, K_LINK, 0 },
		{ r, chain, K_LINK, 1 }, { small, sroot, K_NODE, 0 },
	};
	int fd;
	struct stat st;

	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		int plain = tmpfd(), graph_fd = tmpfd();
		off_t at0 = cases[k].pre ? (off_t)sizeof(prefix) : 0;
		char what[48];

		fd = tmpfd();
		ck_assert_int_eq(copier_write(cases[k].r, plain, cases[k].root, cases[k].kind, 0, 0), 0);
		ck_assert_int_eq(rgn_image_write_graph(cases[k].r, graph_fd, cases[k].root,
		                                       cases[k].kind == K_LINK ? &link_layout
		                                                               : &node_layout,
		                                       NULL),
		                 0);
		if (cases[k].pre)
			ck_assert_int_eq(write(fd, prefix, sizeof(prefix)), (ssize_t)sizeof(prefix));
		ck_assert_int_eq(copier_write(cases[k].r, fd, cases[k].root, cases[k].kind,
		                              RGN_COPY_OVERLAP, 0),
		                 0);
		snprintf(what, sizeof what, "case %zu, the tables' image", k);
		same_file(plain, graph_fd, 0, NULL, what);
		snprintf(what, sizeof what, "case %zu, written beside", k);
		same_file(plain, fd, at0, prefix, what);
		close(plain);
		close(graph_fd);
		close(fd);
	}
	/* a root outside the copy, found once the writer has begun */
	fd = tmpfd();
	errno = 0;
	ck_assert_int_eq(copier_write(r, fd, root, K_NODE, RGN_COPY_OVERLAP, 0x7fffffffu), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(rgn_image_open(fd, NULL));
	close(fd);
	/* a copy failing at its last node: EFAULT, after the writer began */
	break_last(r, root, n);
	fd = tmpfd();
	errno = 0;
	ck_assert_int_eq(copier_write(r, fd, root, K_NODE, RGN_COPY_OVERLAP, 0), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(fstat(fd, &st), 0);
#ifndef _WIN32
	ck_assert_int_gt(st.st_size, 4096); /* the writer had begun */
#endif
	ck_assert_ptr_null(rgn_image_open(fd, NULL));
	close(fd);
	rgn_destroy(small);
	rgn_destroy(r);
}
END_TEST

static rgn_ref copier_str(rgn_copier *c, rgn_ref ref)
{
	return rgn_copier_ref_tail(c, ref, sizeof(struct str), offsetof(struct str, len), 1,
	                           RGN_COPIER_NO_REFS);
}

/* The scan of one copy: its reference fields in the layouts' order, so
 * that the copies come out where rgn_copy puts them. */
static void copier_scan(rgn_copier *c, void *obj, uint32_t kind)
{
	struct node *n = obj;
	struct arr *a = obj;

	switch (kind) {
	case K_NODE:
	case K_LINK:
		n->left = rgn_copier_ref(c, n->left, sizeof(*n), kind);
		n->right = kind == K_NODE
		                   ? rgn_copier_ref(c, n->right, sizeof(*n), K_NODE)
		                   : rgn_copier_ref_tail(c, n->right, offsetof(struct arr, item),
		                                         offsetof(struct arr, n), sizeof(rgn_ref),
		                                         K_ARR);
		n->name = copier_str(c, n->name);
		break;
	case K_ARR:
		for (uint32_t i = 0; i < a->n; i++)
			a->item[i] = copier_str(c, a->item[i]);
		break;
	default:
		ck_abort_msg("kind %u handed back", kind);
	}
}

/* The graph from *root (of kind) in s copied into d: rgn_copier_end's
 * result; *root the copy's on success. */
static int copier_copy(rgn_region *d, const rgn_region *s, rgn_ref *root, uint32_t kind,
                       rgn_copy_options *o)
{
	rgn_copier c;
	rgn_ref r;
	uint32_t k;
	void *obj;

	if (rgn_copier_begin(&c, d, s, o) != 0)
		return -1;
	r = rgn_copier_ref(&c, *root, sizeof(struct node), kind);
	while ((obj = rgn_copier_next(&c, &k)) != NULL)
		copier_scan(&c, obj, k);
	if (rgn_copier_end(&c) != 0)
		return -1;
	*root = r;
	return 0;
}

/* The graph from root (of kind) in s written to fd by the copier
 * (rgn_copier_begin_image with flags, then rgn_copier_end_image with the
 * copy's root, or with bad_root if it is not 0): end's result. */
static int copier_write(const rgn_region *s, int fd, rgn_ref root, uint32_t kind,
                        unsigned flags, rgn_ref bad_root)
{
	/* (kept by the copier until its end, which sets its counts) */
	rgn_copy_options o = { .flags = flags };
	rgn_copier c;
	rgn_ref r;
	uint32_t k;
	void *obj;

	if (rgn_copier_begin_image(&c, s, fd, &o) != 0)
		return -1;
	r = rgn_copier_ref(&c, root, sizeof(struct node), kind);
	while ((obj = rgn_copier_next(&c, &k)) != NULL)
		copier_scan(&c, obj, k);
	return rgn_copier_end_image(&c, bad_root ? bad_root : r);
}

/* The same graph through rgn_copy and through the copier, from and into
 * every backend: the same objects and shape, and into a contiguous
 * region the same bytes at the same offsets (both breadth-first, fields
 * in the same order); big enough for the queue to grow and the
 * destination to take new chunks. */
static void copier_against_copy(rgn_backend sb, rgn_backend db, int which)
{
	rgn_region *s = region_of(sb), *d1 = region_of(db), *d2 = region_of(db);
	rgn_copy_options o1 = { 0 }, o2 = { 0 };
	size_t unique = 0, su, du = used_of(d2);
	rgn_ref root = which == 0 ? graph(s, &unique)
	               : which == 1 ? big_tree(s, 1u << 15) : chain_then_burst(s);
	rgn_ref r1 = root, r2 = root;
	uint64_t before = which == 0 ? graph_hash(s, root) : 0;

	su = used_of(s);
	ck_assert_int_eq(rgn_copy(d1, s, &r1, 1, which == 2 ? &link_layout : &node_layout, &o1), 0);
	ck_assert_int_eq(copier_copy(d2, s, &r2, which == 2 ? K_LINK : K_NODE, &o2), 0);
	ck_assert_uint_eq(o2.objects, o1.objects);
	ck_assert_uint_eq(o2.bytes, o1.bytes);
	ck_assert_uint_ge(used_of(d2) - du, o2.bytes);
	ck_assert_uint_eq(used_of(s), su);
	if (which == 0) {
		ck_assert_uint_eq(o2.objects, unique);
		ck_assert(graph_hash(s, root) == before);
		ck_assert_uint_eq(same_graph(s, root, d2, r2), unique);
	}
	if (db == RGN_BACKEND_CONTIG) {
		ck_assert_uint_eq(r2, r1);
		ck_assert(memcmp(at(d1, r1), at(d2, r2), o1.bytes) == 0);
	}
	rgn_destroy(s);
	rgn_destroy(d1);
	rgn_destroy(d2);
}

START_TEST(test_copier_same_as_copy)
{
	static const rgn_backend b[] = { RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, RGN_BACKEND_HEAP };

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			copier_against_copy(b[i], b[j], 0);
	copier_against_copy(RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, 1);
	copier_against_copy(RGN_BACKEND_HEAP, RGN_BACKEND_BLOCKS, 1);
	copier_against_copy(RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, 2);
}
END_TEST

/* Copied into a contiguous region and written with rgn_image_write, the
 * graph is the file rgn_image_write_graph writes. */
START_TEST(test_copier_image)
{
	rgn_region *s = rgn_new(NULL), *sink = region_of(RGN_BACKEND_CONTIG);
	rgn_ref root = big_tree(s, 1u << 12), r2 = root, iroot;
	int f1 = tmpfd(), f2 = tmpfd();
	size_t n1, n2;
	char *b1, *b2;
	rgn_image *img;

	ck_assert_int_eq(rgn_image_write_graph(s, f1, root, &node_layout, NULL), 0);
	ck_assert_int_eq(copier_copy(sink, s, &r2, K_NODE, NULL), 0);
	ck_assert_int_eq(rgn_image_write(sink, f2, r2), 0);
	b1 = file_bytes(f1, 0, &n1);
	b2 = file_bytes(f2, 0, &n2);
	ck_assert_uint_eq(n1, n2);
	ck_assert(memcmp(b1, b2, n1) == 0);
	img = rgn_image_open(f2, &iroot);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(iroot, r2);
	rgn_image_close(img);
	free(b2);
	close(f2);
	/* the same file from rgn_copier_begin_image */
	f2 = tmpfd();
	ck_assert_int_eq(copier_write(s, f2, root, K_NODE, 0, 0), 0);
	same_file(f1, f2, 0, NULL, "rgn_copier_begin_image");
	free(b1);
	close(f1);
	close(f2);
	rgn_destroy(sink);
	rgn_destroy(s);
}
END_TEST

/* Errors: at begin, EINVAL and no copier; during the copy, the first
 * error is kept (every later reference 0, nothing more to scan) and end
 * gives it, dst as it was before begin; copies left queued at the end
 * are EINVAL; a spent copier fails. */
static void copier_fails(rgn_backend db, int how, int want)
{
	rgn_region *s = rgn_new(NULL), *d = region_of(db);
	size_t unique, du;
	rgn_ref root = graph(s, &unique), r;
	struct node *n = at(s, root);
	rgn_copier c;
	uint32_t k;
	void *obj;
	int got = 0;

	ck_assert_ptr_nonnull(rgn_alloc(d, 24)); /* something to keep */
	du = used_of(d);
	if (how == 0)
		((struct node *)at(s, n->left))->name = 0xfffffff0u; /* past the space */
	ck_assert_int_eq(rgn_copier_begin(&c, d, s, NULL), 0);
	r = rgn_copier_ref(&c, root, sizeof(struct node), K_NODE);
	ck_assert_uint_ne(r, 0);
	while (how != 2 && (obj = rgn_copier_next(&c, &k)) != NULL) {
		struct node *x = obj;

		x->left = rgn_copier_ref(&c, x->left, sizeof(*x), K_NODE);
		x->right = rgn_copier_ref(&c, x->right, sizeof(*x), K_NODE);
		if (how == 1) /* size 0, or the count past the fixed part */
			x->name = rgn_copier_ref_tail(&c, x->name, got++ % 2 ? 4 : 0, 4, 1,
			                              RGN_COPIER_NO_REFS);
		else
			x->name = copier_str(&c, x->name);
	}
	if (how != 2) {
		/* after the error: nothing more */
		ck_assert_uint_eq(rgn_copier_ref(&c, root, sizeof(struct node), K_NODE), 0);
		ck_assert_ptr_null(rgn_copier_next(&c, &k));
	}
	errno = 0;
	ck_assert_int_eq(rgn_copier_end(&c), -1);
	ck_assert_int_eq(errno, want);
	ck_assert_uint_eq(used_of(d), du);
	/* spent */
	errno = 0;
	ck_assert_int_eq(rgn_copier_end(&c), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(rgn_copier_ref(&c, root, sizeof(struct node), K_NODE), 0);
	rgn_destroy(d);
	rgn_destroy(s);
}

START_TEST(test_copier_errors)
{
	static const rgn_backend b[] = { RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, RGN_BACKEND_HEAP };
	rgn_region *s = rgn_new(NULL), *d = rgn_new(NULL), *cd = region_of(RGN_BACKEND_CONTIG);
	rgn_copier c;

	errno = 0;
	ck_assert_int_eq(rgn_copier_begin(NULL, d, s, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copier_begin(&c, NULL, s, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(rgn_copier_next(&c, &(uint32_t){ 0 }));
	errno = 0;
	ck_assert_int_eq(rgn_copier_end(&c), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copier_begin(&c, d, s, &(rgn_copy_options){ .order = RGN_COPY_DEPTH }),
	                 -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copier_begin(&c, d, s, &(rgn_copy_options){ .flags = 64 }), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copier_begin(&c, cd, s,
	                                  &(rgn_copy_options){ .flags = RGN_COPY_ONLY_SRC }),
	                 -1);
	ck_assert_int_eq(errno, EINVAL);
	rgn_destroy(cd);
	rgn_destroy(d);
	rgn_destroy(s);
	for (int i = 0; i < 3; i++) {
		copier_fails(b[i], 0, EFAULT);
		copier_fails(b[i], 1, EINVAL);
		copier_fails(b[i], 2, EINVAL); /* copies left queued */
	}
}
END_TEST

/* An image copier's errors: EINVAL at begin (no copier, a bad fd, a
 * scoped copy); at the end, a root outside the copy, or the end of the
 * other kind of copier (the copy dropped: no image in the file, a plain
 * destination as it was). */
START_TEST(test_copier_image_errors)
{
	rgn_region *s = rgn_new(NULL), *d = rgn_new(NULL);
	size_t unique, du;
	rgn_ref root = graph(s, &unique);
	rgn_copier c;
	int fd = tmpfd();
	struct stat st;

	errno = 0;
	ck_assert_int_eq(rgn_copier_begin_image(NULL, s, fd, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copier_begin_image(&c, s, -1, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(rgn_copier_next(&c, &(uint32_t){ 0 }));
	errno = 0;
	ck_assert_int_eq(rgn_copier_end_image(&c, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copier_begin_image(&c, s, fd,
	                                        &(rgn_copy_options){ .flags = RGN_COPY_ONLY_SRC }),
	                 -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(rgn_copier_begin_image(&c, s, fd,
	                                        &(rgn_copy_options){ .order = RGN_COPY_DEPTH }),
	                 -1);
	ck_assert_int_eq(errno, EINVAL);
	/* a root past the copy's end, or in the header's page */
	for (unsigned flags = 0; flags <= RGN_COPY_OVERLAP; flags += RGN_COPY_OVERLAP) {
		errno = 0;
		ck_assert_int_eq(copier_write(s, fd, root, K_NODE, flags, 0x7fffffffu), -1);
		ck_assert_int_eq(errno, EINVAL);
		errno = 0;
		ck_assert_int_eq(copier_write(s, fd, root, K_NODE, flags, 1), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	/* plain end of an image copier: dropped */
	ck_assert_int_eq(rgn_copier_begin_image(&c, s, fd, NULL), 0);
	ck_assert_uint_ne(rgn_copier_ref(&c, root, sizeof(struct node), K_NODE), 0);
	for (void *obj; (obj = rgn_copier_next(&c, &(uint32_t){ 0 })) != NULL;)
		copier_scan(&c, obj, K_NODE);
	errno = 0;
	ck_assert_int_eq(rgn_copier_end(&c), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	/* the image end of a plain copier: dst as it was */
	ck_assert_ptr_nonnull(rgn_alloc(d, 24));
	du = used_of(d);
	ck_assert_int_eq(rgn_copier_begin(&c, d, s, NULL), 0);
	ck_assert_uint_ne(rgn_copier_ref(&c, root, sizeof(struct node), K_NODE), 0);
	for (void *obj; (obj = rgn_copier_next(&c, &(uint32_t){ 0 })) != NULL;)
		copier_scan(&c, obj, K_NODE);
	errno = 0;
	ck_assert_int_eq(rgn_copier_end_image(&c, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(used_of(d), du);
	close(fd);
	rgn_destroy(d);
	rgn_destroy(s);
}
END_TEST

#if RGN_DEBUG >= 1
/* Debug builds: a reference into a destroyed region's block aborts,
 * naming the call (in a forked child: libcheck expects the signal); the
 * copier's new objects go out of line there, where they are checked. */
static void copy_destroyed(bool copier)
{
	rgn_region *s = rgn_new(NULL), *gone = rgn_new(NULL), *d = rgn_new(NULL);
	rgn_ref root;

	ck_assert_ptr_nonnull(rgn_alloc(gone, 3 * 4096)); /* more than one block */
	root = mknode(s, 0, 0, mkstr(gone, "soon gone"), 1);
	rgn_destroy(gone);
	if (copier)
		(void)copier_copy(d, s, &root, K_NODE, NULL);
	else
		(void)rgn_copy(d, s, &root, 1, &node_layout, NULL);
}

START_TEST(test_copy_debug_destroyed)
{
	copy_destroyed(false);
}
END_TEST

START_TEST(test_copier_debug_destroyed)
{
	copy_destroyed(true);
}
END_TEST
#endif

Suite *suite_copy(void)
{
	Suite *s = suite_create("copy");
	TCase *tc = tcase_create("copy");

	tcase_add_test(tc, test_copy_backends);
	tcase_add_test(tc, test_copy_aligned);
	tcase_add_test(tc, test_copy_order);
	tcase_add_test(tc, test_copy_tagged);
	tcase_add_test(tc, test_copy_trace_outside);
	tcase_add_test(tc, test_copy_callback_allocates);
	tcase_add_test(tc, test_copy_errors);
	tcase_add_test(tc, test_copy_size_of);
	tcase_add_test(tc, test_copy_enomem);
	tcase_add_test(tc, test_copy_only_src);
	tcase_add_test(tc, test_copy_reused_table);
	tcase_add_test(tc, test_copy_grouped_leaves);
	tcase_add_test(tc, test_copy_trim);
#if RGN_DEBUG >= 1
	tcase_add_test_raise_signal(tc, test_copy_debug_destroyed, SIGABRT);
#endif
	suite_add_tcase(s, tc);
	tc = tcase_create("compact");
	tcase_add_test(tc, test_compact_blocks);
	tcase_add_test(tc, test_compact_aligned_grows);
	tcase_add_test(tc, test_compact_contig);
	tcase_add_test(tc, test_compact_heap);
	tcase_add_test(tc, test_compact_heap_frees);
	tcase_add_test(tc, test_compact_refused);
	tcase_add_test(tc, test_compact_churn);
	suite_add_tcase(s, tc);
	tc = tcase_create("image");
	tcase_add_test(tc, test_image_graph);
	tcase_add_test(tc, test_image_graph_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("copier");
	tcase_add_test(tc, test_copier_same_as_copy);
	tcase_add_test(tc, test_copier_image);
	tcase_add_test(tc, test_copier_errors);
	tcase_add_test(tc, test_copier_image_errors);
#if RGN_DEBUG >= 1
	tcase_add_test_raise_signal(tc, test_copier_debug_destroyed, SIGABRT);
#endif
	suite_add_tcase(s, tc);
	return s;
}

/* A suite of its own, for the ThreadSanitizer build to run too. */
Suite *suite_overlap(void)
{
	Suite *s = suite_create("overlap");
	TCase *tc = tcase_create("overlap");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_overlap_same_bytes);
	tcase_add_test(tc, test_overlap_copy_fails);
	tcase_add_test(tc, test_overlap_write_fails);
	tcase_add_test(tc, test_overlap_no_thread);
	tcase_add_test(tc, test_overlap_copier);
	suite_add_tcase(s, tc);
	return s;
}
