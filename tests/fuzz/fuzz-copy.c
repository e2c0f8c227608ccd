/*
 * fuzz-copy.c - the tracing copy (rgn_copy, rgn_copier, rgn_compact,
 * rgn_image_write_graph) against a model of what it must read and make.
 *
 * The input is read as a program that builds a graph and copies it (the
 * byte format is spelled out in gen-copy.py, which writes the seeds):
 *   - a header: the source's and the destination's backend, the order,
 *     RGN_COPY_ONLY_SRC or no options at all, whether a second region of
 *     the space ("other") holds some objects, whether the roots' layout is
 *     read from a tag, whether layout_of is given, whether the space is
 *     filled up first (ENOMEM), and which of image and compaction follow;
 *   - up to 384 objects of eight kinds: node (three references: a node, a
 *     tagged object, a string), string (a byte tail counted by a field
 *     past the first granule), vector (a tail of node references), and
 *     five tagged kinds found through layout_of: a vector of tagged
 *     objects, a "union" whose reference a trace callback follows when its
 *     flag says so (or names a field outside the copy, past it or a
 *     local: EINVAL), a box holding a vector (its tag may name an invalid
 *     layout: EINVAL, or none), and an aligned object (a node, a tagged
 *     object, a byte tail) whose tag names a layout with align 16, 64 or
 *     4096, or one the copy must refuse with EINVAL (24: not a power of
 *     two; 8192: past a page); the source may place it at that alignment
 *     too, which the copy keeps only because the layout says so; and a
 *     sized object (a node, a tagged object, plain bytes; a variant adds
 *     a tail of node references) whose layout's size_of reads its whole
 *     size from a field: the input makes it exact, less than the object
 *     but no less than its fields and tail, up to 64 bytes past its end
 *     (the copy takes the bytes after it, which must then be objects built
 *     here, each starting where the one before ends), or less than the
 *     fixed part or the tail of references, or 0 (both EINVAL);
 *   - every reference field: mostly an object of the kind it names (so
 *     sharing and cycles), sometimes 0, sometimes garbage: far outside any
 *     memory, in the guard page, into the middle of an object, an object
 *     of another kind, a bit flipped; a count may be made huge or overrun;
 *     a contiguous source may end exactly where its read-write part does.
 *
 * The model walks the source as the copy will, reading the same bytes with
 * the same layouts (a garbage reference into an object reads what is there
 * as an object) and sizing each object as the copy does (the fixed part
 * past the source's end: EFAULT; then the tail's count; then size_of, less
 * than the fields it must hold: EINVAL; then the size rounded to 8 past
 * the end: EFAULT).  Whatever it would read must lie inside the objects
 * built here, or be refused with EFAULT by the range checks before it is
 * read: a reference field that would make the copy read other memory (a
 * free block, with nothing to say what it holds; debug builds abort there
 * and ASan reports it) is set to 0 before the call.  The walk gives, per
 * address, the object the copy must make (or that it is ambiguous: one
 * address reached as two layouts, where the order decides), the errors it
 * must meet (EFAULT, EINVAL), and its object and byte counts.  Then:
 *   - an error the walk found: the call fails with one of them (or
 *     ENOMEM); none: it succeeds (or ENOMEM), and the copy is the walk's
 *     graph: each source object paired with exactly one copy, outside the
 *     source, the same bytes but for references, references to the pairs
 *     (or unchanged out of RGN_COPY_ONLY_SRC's scope), the rounding
 *     zeroed, each at a multiple of its layout's alignment, no two copies
 *     overlapping, opts.objects and opts.bytes as counted (the copies'
 *     sizes rounded to 8, not the padding an alignment puts before them);
 *     into a contiguous region or an image, each copy right after the one
 *     before in the order's sequence (breadth-first: oldest copy first,
 *     its fields in order; depth-first: newest first, fields last to
 *     first), where right after is the end of the one before rounded up to
 *     the copy's alignment and the padding between is zero; a contiguous
 *     region grows by the copies and their padding alone (before the
 *     first: less than its alignment, zero), and an image ends where its
 *     last copy does;
 *   - rgn_copier, where rgn_copy succeeded breadth-first with no aligned
 *     object in the graph: driven by a scan written for these kinds (a
 *     target of no declared type read for its tag, a sized one for its
 *     size, as a runtime's compiled code would), into a fresh region of
 *     the destination's backend, the copy is the walk's graph with the
 *     same counts, and in a contiguous region in the same order; it may
 *     fail with ENOMEM alone, leaving that region as it was;
 *   - always: every object's bytes are unchanged, and on failure the roots
 *     and the destination's used bytes are as they were;
 *   - rgn_image_write_graph: the same through an image, opened and walked;
 *     on failure the file is empty; breadth-first with no aligned object,
 *     the image copier (rgn_copier_begin_image, with the writer thread
 *     for odd roots) writes the same bytes, or fails with ENOMEM;
 *   - rgn_compact (every backend): on success the roots' graph
 *     is the walk's (against a snapshot of the bytes taken before); on
 *     failure the region, its bytes and the roots as they were.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rgn.h"

#define FUZZ_NAME "fuzz-copy"
#include "fuzz.h"

#define SPACE    ((size_t)64 << 20)
#define MAX_OBJ  384
#define MAX_SIM  4096         /* objects the walk may find (interiors too) */
#define HASH_CAP 8192
#define MAX_ROOT 4
#define MAX_FIX  64           /* repairs before an input is given up */

#if defined(__clang__)
#define MODEL __attribute__((no_sanitize("coverage"), noinline))
#else
#define MODEL
#endif

/* ---- the objects and their layouts ------------------------------------------------------ */

enum { K_NODE, K_STR, K_VEC, K_TVEC, K_UNION, K_BOX, K_ALIGN, K_SIZED, NKIND };

#define T_TVEC  0x7a650001u
#define T_UNION 0x7a650002u
#define T_BOX   0x7a650003u
#define T_BAD   0x7a650004u    /* names a layout with a field past its end */
#define T_SIZED 0x7a650005u    /* a sized object without a tail */
#define T_SIZED_TAIL 0x7a650006u /* a sized object with a tail of node references */
#define T_ALIGN 0x7a650010u    /* + the index in al_l: an aligned object */

struct node {
	rgn_ref  next, tagged, name;
	uint32_t value;
};
struct str {
	uint32_t hash[2];
	uint32_t len;             /* past the first granule */
	char     bytes[];
};
struct vec {
	uint32_t count;
	rgn_ref  item[];
};
struct tvec {
	uint32_t tag, count;
	rgn_ref  item[];
};
struct onion {
	uint32_t tag, is_ref;
	uint32_t u;               /* a node's reference when is_ref, else a number */
	uint32_t value;
};
struct box {
	uint32_t tag;
	rgn_ref  vec;
};
struct aligned {
	uint32_t tag;
	uint32_t len;             /* bytes in the tail */
	rgn_ref  node, tagged;
	char     bytes[];
};
/* A sized object's whole size is a field, whole (what size_of returns);
 * past its fields and tail its bytes are plain data.  whole may also say
 * less than was allocated, or more (the copy then takes the bytes after
 * it), or less than the fields the table names (EINVAL). */
struct sized {
	uint32_t tag;
	uint32_t whole;
	rgn_ref  node, tagged;
	uint32_t count;           /* references in the tail (the tail variant) */
	rgn_ref  item[];
};

static const rgn_layout node_l, str_l, vec_l, tvec_l, union_l, box_l, bad_l;

/* A union's flag past 1 makes its trace callback misuse rgn_trace with a
 * field outside the copy it was given: the bytes just past it, or a
 * local.  Either is EINVAL, and nothing may be written there. */
#define UNION_STRAY_PAST  2u
#define UNION_STRAY_LOCAL 3u

static bool union_stray(uint32_t is_ref)
{
	return is_ref == UNION_STRAY_PAST || is_ref == UNION_STRAY_LOCAL;
}

static void union_trace(rgn_tracer *t, void *copy)
{
	struct onion *o = copy;
	rgn_ref local = o->u;

	if (o->is_ref == UNION_STRAY_PAST)
		rgn_trace(t, (rgn_ref *)(void *)(o + 1), &node_l);
	else if (o->is_ref == UNION_STRAY_LOCAL)
		rgn_trace(t, &local, &node_l);
	else if (o->is_ref)
		rgn_trace(t, &o->u, &node_l);
}

static const uint32_t node_refs[] = { 0, 4, 8 };
static const rgn_layout *const node_to[] = { &node_l, NULL, &str_l };
static const rgn_layout node_l = { .size = sizeof(struct node), .nrefs = 3, .refs = node_refs,
	                           .to = node_to };
static const rgn_layout str_l = { .size = offsetof(struct str, bytes), .tail = RGN_TAIL_BYTES,
	                          .count_at = offsetof(struct str, len), .elem = 1 };
static const rgn_layout vec_l = { .size = sizeof(struct vec), .tail = RGN_TAIL_REFS,
	                          .count_at = 0, .tail_to = &node_l };
static const rgn_layout tvec_l = { .size = sizeof(struct tvec), .tail = RGN_TAIL_REFS,
	                           .count_at = 4 };
static const rgn_layout union_l = { .size = sizeof(struct onion), .trace = union_trace };
static const uint32_t box_refs[] = { 4 };
static const rgn_layout *const box_to[] = { &vec_l };
static const rgn_layout box_l = { .size = sizeof(struct box), .nrefs = 1, .refs = box_refs,
	                          .to = box_to };
static const uint32_t bad_refs[] = { 8 };
static const rgn_layout bad_l = { .size = 8, .nrefs = 1, .refs = bad_refs };

/* The aligned kind: one shape, a layout per alignment.  The last two
 * alignments are ones the copy refuses (EINVAL): not a power of two, and
 * past a page. */
static const uint32_t al_refs[] = { offsetof(struct aligned, node),
	                            offsetof(struct aligned, tagged) };
static const rgn_layout *const al_to[] = { &node_l, NULL };
#define AL_LAYOUT(a) { .size = offsetof(struct aligned, bytes), .nrefs = 2, .refs = al_refs, \
	               .to = al_to, .tail = RGN_TAIL_BYTES,                                     \
	               .count_at = offsetof(struct aligned, len), .elem = 1, .align = (a) }
enum { AL_16, AL_64, AL_4096, AL_24, AL_8192, NAL };
static const rgn_layout al_l[NAL] = { AL_LAYOUT(16), AL_LAYOUT(64), AL_LAYOUT(4096),
	                              AL_LAYOUT(24), AL_LAYOUT(8192) };

/* The sized kind: a node and a tagged object in the fixed part; the tail
 * variant adds references to nodes counted by a field. */
static size_t sized_size(const void *obj)
{
	uint32_t whole;

	memcpy(&whole, (const char *)obj + offsetof(struct sized, whole), 4);
	return whole;
}

static const uint32_t sz_refs[] = { offsetof(struct sized, node),
	                            offsetof(struct sized, tagged) };
static const rgn_layout *const sz_to[] = { &node_l, NULL };
static const rgn_layout sz_l = { .size = sizeof(struct sized), .nrefs = 2, .refs = sz_refs,
	                         .to = sz_to, .size_of = sized_size };
static const rgn_layout szt_l = { .size = sizeof(struct sized), .nrefs = 2, .refs = sz_refs,
	                          .to = sz_to, .tail = RGN_TAIL_REFS,
	                          .count_at = offsetof(struct sized, count), .tail_to = &node_l,
	                          .size_of = sized_size };

/* A layout the copy must refuse where it meets it. */
static bool layout_bad(const rgn_layout *l)
{
	return l == &bad_l || l == &al_l[AL_24] || l == &al_l[AL_8192];
}

/* Where a copy of layout l starts: a multiple of this. */
static size_t align_of(const rgn_layout *l)
{
	return l->align > 8 ? l->align : 8;
}

static const rgn_layout *tag_layout(uint32_t tag)
{
	switch (tag) {
	case T_TVEC: return &tvec_l;
	case T_UNION: return &union_l;
	case T_BOX: return &box_l;
	case T_BAD: return &bad_l;
	case T_SIZED: return &sz_l;
	case T_SIZED_TAIL: return &szt_l;
	default: return tag - T_ALIGN < NAL ? &al_l[tag - T_ALIGN] : NULL;
	}
}

static const rgn_layout *layout_of(const void *obj, void *arg)
{
	uint32_t tag;

	(void)arg;
	memcpy(&tag, obj, 4);
	return tag_layout(tag);
}

/* An object built here: where, how big (n: rounded to 8, the extent that
 * is read), of which kind and layout, in which region (0 src, 1 other),
 * and where its bytes are in the snapshot. */
struct obj {
	char             *p;
	uint32_t          size, n;
	uint8_t           kind, reg;
	const rgn_layout *l;
	size_t            snap;
};

static struct obj O[MAX_OBJ];
static int nobj, sorted[MAX_OBJ];
static int bykind[NKIND][MAX_OBJ], nbykind[NKIND];
static unsigned char *snap;
static size_t snap_bytes;

/* ---- the state of one input ------------------------------------------------------------- */

static struct {
	rgn_region *src, *dst, *other;
	rgn_backend sb, db;
	bool        contig_src;       /* references count from src's reservation */
	const char *sbase;            /* the source's reference 0 */
	const char *lo, *hi;          /* outside: EFAULT for sure */
	const rgn_layout *root_l;
	bool        use_layout_of;
	rgn_ref     roots[MAX_ROOT];
	int         nroots;
	uint64_t    rng;
} S;

static uint32_t rnd(void)
{
	S.rng ^= S.rng << 13;
	S.rng ^= S.rng >> 7;
	S.rng ^= S.rng << 17;
	return (uint32_t)(S.rng >> 11);
}

static int by_addr(const void *a, const void *b)
{
	const char *x = O[*(const int *)a].p, *y = O[*(const int *)b].p;

	return x < y ? -1 : x > y;
}

/* The object whose extent holds p, or -1. */
static MODEL int find(const char *p)
{
	int lo = 0, hi = nobj - 1, best = -1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (O[sorted[mid]].p <= p) {
			best = sorted[mid];
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best >= 0 && p < O[best].p + O[best].n ? best : -1;
}

static rgn_ref ref_of(const char *p)
{
	return (rgn_ref)((uintptr_t)(p - S.sbase) >> 3);
}

static uint32_t get32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint32_t count_of(const rgn_layout *l, const char *p)
{
	return l->tail == RGN_TAIL_NONE ? 0 : get32(p + l->count_at);
}

/* ---- the model's walk ------------------------------------------------------------------- */

/* What the copy makes at one source address. */
struct sv {
	const char       *p;
	const rgn_layout *l;       /* NULL: an error there (err) */
	int               err;
	uint32_t          size, n;
	int               o;       /* the object holding it */
	rgn_ref           copy;    /* paired with, in the check; 0 not yet */
};

static struct {
	struct sv  v[MAX_SIM];
	int        nv;
	int        hash[HASH_CAP];   /* index + 1, keyed by address and layout */
	int        phash[HASH_CAP];  /* index + 1 of the first at an address */
	int        stack[MAX_SIM];
	int        nstack;
	bool       scoped;           /* RGN_COPY_ONLY_SRC over the space */
	unsigned   errs;             /* 1: EFAULT, 2: EINVAL */
	bool       ambiguous, full;
	uint32_t  *fix;              /* a field to set to 0 */
	size_t     objects, bytes;
} W;

#define E_FAULT 1u
#define E_INVAL 2u

/* The slot of p in h (interpreted as layout l, or any when keyed by p
 * alone: l and err ignored). */
static MODEL int *slot_of(int *h_, const char *p, bool by_layout, const rgn_layout *l, int err)
{
	size_t h = (((uintptr_t)p >> 3) ^ (by_layout ? (uintptr_t)l * 31 + (unsigned)err : 0)) *
	           0x9e3779b97f4a7c15ull >> 51;

	for (;; h = (h + 1) & (HASH_CAP - 1)) {
		const struct sv *v;
		if (!h_[h])
			return &h_[h];
		v = &W.v[h_[h] - 1];
		if (v->p == p && (!by_layout || (v->l == l && v->err == err)))
			return &h_[h];
	}
}

/* Is [p, p + n) inside object o? */
static bool inside(int o, const char *p, size_t n)
{
	return o >= 0 && n <= (size_t)(O[o].p + O[o].n - p);
}

/* Is [p, p + n) inside object o and the objects right after it, each
 * starting where the one before ends?  (A size_of larger than its object
 * reads on into its neighbours; the bytes of such a run are consecutive in
 * the snapshot too.) */
static MODEL bool covered(int o, const char *p, size_t n)
{
	while (!inside(o, p, n)) {
		const char *end = O[o].p + O[o].n;
		int next = find(end);

		if (next < 0 || O[next].p != end || (S.contig_src && O[next].reg != 0))
			return false;
		o = next;
	}
	return true;
}

/* The field *loc (in an object built here, or a root) holds ref, naming
 * an object of layout want (NULL: its tag's).  false: the walk stops
 * (W.fix set, or the walk is too big). */
static MODEL bool walk_ref(rgn_ref ref, const rgn_layout *want, uint32_t *loc)
{
	const char *p;
	const rgn_layout *l = want;
	int o, *slot, *pslot, err = 0;
	struct sv *v;
	size_t size = 0;

	if (!ref)
		return true;
	p = S.sbase + ((size_t)ref << 3);
	if (p < S.lo || p >= S.hi) {
		W.errs |= E_FAULT;
		return true;
	}
	o = find(p);
	if (o < 0 || (S.contig_src && O[o].reg != 0)) {
		W.fix = loc;          /* memory nobody built: not to be read */
		return false;
	}
	if (W.scoped && O[o].reg != 0)
		return true;          /* another region's: stays */
	/* as copy_one: the layout, its check, the fixed part, the size */
	if (!l)
		l = S.use_layout_of ? tag_layout(get32(p)) : NULL;
	if (!l || layout_bad(l)) {
		err = E_INVAL;
		l = NULL;
	} else if ((size_t)(S.hi - p) < l->size) {
		err = E_FAULT;        /* (a contiguous source: past its end) */
		l = NULL;
	} else if (!inside(o, p, l->size)) {
		W.fix = loc;
		return false;
	} else {
		size = l->size + (size_t)count_of(l, p) *
		       (l->tail == RGN_TAIL_REFS ? 4 : l->tail == RGN_TAIL_BYTES ? l->elem : 0);
		if (l->size_of) {
			/* the whole size replaces it, but may not leave out the
			 * fixed part or a tail of references */
			size_t whole = l->size_of(p);
			if (whole < (l->tail == RGN_TAIL_REFS ? size : l->size))
				err = E_INVAL;
			size = whole;
		}
		if (err) {
			l = NULL;
		} else if (((size + 7) & ~(size_t)7) > (size_t)(S.hi - p)) {
			err = E_FAULT;
			l = NULL;
		} else if (l->size_of ? !covered(o, p, (size + 7) & ~(size_t)7) :
		                        !inside(o, p, (size + 7) & ~(size_t)7)) {
			/* (only what size_of says may run on: other
			 * layouts are held to one object, so that older
			 * inputs are repaired as they were) */
			W.fix = loc;
			return false;
		}
	}
	/* one address read as two layouts: which the copy takes depends on
	 * its order, and both are walked (what either reads must be safe) */
	slot = slot_of(W.hash, p, true, l, err);
	if (*slot)
		return true;
	if (W.nv == MAX_SIM) {
		W.full = true;
		return false;
	}
	v = &W.v[W.nv];
	*v = (struct sv){ .p = p, .l = l, .err = (int)err, .size = (uint32_t)size,
	                  .n = (uint32_t)((size + 7) & ~(size_t)7), .o = o };
	*slot = ++W.nv;
	pslot = slot_of(W.phash, p, false, NULL, 0);
	if (*pslot)
		W.ambiguous = true;
	else
		*pslot = W.nv;
	if (err) {
		W.errs |= err;
		return true;
	}
	W.objects++;
	W.bytes += v->n;
	W.stack[W.nstack++] = W.nv - 1;
	return true;
}

/* Each reference field of the object at p of layout l, in the copy's
 * forward order: fixed fields, the tail, what the trace callback takes. */
typedef bool field_fn(void *ctx, uint32_t off, const rgn_layout *to);

static MODEL bool each_field(const rgn_layout *l, const char *p, field_fn *fn, void *ctx)
{
	uint32_t count = l->tail == RGN_TAIL_REFS ? count_of(l, p) : 0;

	for (uint32_t k = 0; k < l->nrefs; k++)
		if (!fn(ctx, l->refs[k], l->to ? l->to[k] : NULL))
			return false;
	for (uint32_t k = 0; k < count; k++)
		if (!fn(ctx, l->size + 4 * k, l->tail_to))
			return false;
	if (l == &union_l && get32(p + offsetof(struct onion, is_ref)) &&
	    !union_stray(get32(p + offsetof(struct onion, is_ref))))
		return fn(ctx, offsetof(struct onion, u), &node_l);
	return true;
}

static bool walk_field(void *ctx, uint32_t off, const rgn_layout *to)
{
	char *p = ctx;

	return walk_ref(get32(p + off), to, (uint32_t *)(void *)(p + off));
}

/* The walk from the roots; false: it stopped (W.fix, or too big). */
static MODEL bool walk(bool scoped)
{
	memset(W.hash, 0, sizeof W.hash);
	memset(W.phash, 0, sizeof W.phash);
	W.nv = W.nstack = 0;
	W.scoped = scoped;
	W.errs = 0;
	W.ambiguous = W.full = false;
	W.fix = NULL;
	W.objects = W.bytes = 0;
	for (int i = 0; i < S.nroots; i++) {
		if (!walk_ref(S.roots[i], S.root_l, &S.roots[i]))
			return false;
		while (W.nstack) {
			struct sv *v = &W.v[W.stack[--W.nstack]];
			if (v->l == &union_l &&
			    union_stray(get32(v->p + offsetof(struct onion, is_ref))))
				W.errs |= E_INVAL;    /* its callback's stray field */
			if (!each_field(v->l, v->p, walk_field, (void *)(uintptr_t)v->p))
				return false;
		}
	}
	return true;
}

/* Walk until nothing is left to repair; false: give the input up. */
static MODEL bool settle(bool scoped)
{
	for (int k = 0; k < MAX_FIX; k++) {
		if (walk(scoped))
			return true;
		if (!W.fix)
			return false;
		*W.fix = 0;
	}
	return false;
}

/* ---- checking a copy against the walk --------------------------------------------------- */

/* FUZZ_COPY_STATS set: how the calls ended, how many aligned and sized
 * copies were checked (and of the sized, how many took bytes past their
 * object), and how many graphs the copier made and had checked, printed
 * at exit (to see that a corpus reaches successes, each error, the
 * aligned layouts, size_of and the copier). */
static unsigned long nstat[10];
static void print_stats(void)
{
	fprintf(stderr, "ok-checked %lu ok-ambiguous %lu fault %lu inval %lu nomem %lu "
	        "aligned-copies %lu sized-copies %lu sized-past-end %lu copier-checked %lu "
	        "copier-images-compared %lu\n",
	        nstat[0], nstat[1], nstat[2], nstat[3], nstat[4], nstat[5], nstat[6], nstat[7],
	        nstat[8], nstat[9]);
}

struct chk {
	const char *what;
	const rgn_region *cr;      /* the copy's region, or NULL: an image */
	const char *cbase;         /* the image's reference 0 */
	size_t      climit;        /* the image's size */
	bool        fresh;         /* copies must lie outside the source objects */
	int         pairs[MAX_SIM];/* the walk's objects paired, for the overlap check */
	int         npairs;
	struct { rgn_ref s, c; const rgn_layout *to; } todo[MAX_SIM * 4];
	int         ntodo;
	int         rhash[HASH_CAP];
};

static struct chk C;

static const unsigned char *snap_of(const struct sv *v)
{
	return snap + O[v->o].snap + (size_t)(v->p - O[v->o].p);
}

static const char *copy_at(rgn_ref c)
{
	return C.cr ? (const char *)rgn_ptr_in(C.cr, c) : C.cbase + ((size_t)c << 3);
}

static bool chk_push(rgn_ref s, rgn_ref c, const rgn_layout *to)
{
	CHECK(C.ntodo < (int)(sizeof C.todo / sizeof C.todo[0]), "%s: check overflow", C.what);
	C.todo[C.ntodo].s = s;
	C.todo[C.ntodo].c = c;
	C.todo[C.ntodo].to = to;
	C.ntodo++;
	return true;
}

struct cmp {
	const unsigned char *s;
	const char *c;
	uint32_t pos;
};

static bool cmp_field(void *ctx, uint32_t off, const rgn_layout *to)
{
	struct cmp *m = ctx;
	uint32_t sv, cv;

	CHECK(off >= m->pos, "%s: fields out of order", C.what);
	CHECK(memcmp(m->s + m->pos, m->c + m->pos, off - m->pos) == 0,
	      "%s: bytes %u..%u of a copy differ", C.what, m->pos, off);
	memcpy(&sv, m->s + off, 4);
	memcpy(&cv, m->c + off, 4);
	m->pos = off + 4;
	return chk_push(sv, cv, to);
}

static int cmp_copies(const void *a, const void *b)
{
	rgn_ref x = W.v[*(const int *)a].copy, y = W.v[*(const int *)b].copy;

	return x < y ? -1 : x > y;
}

/* Pair source reference s (of layout want) with copy reference c. */
static MODEL void pair(rgn_ref s, rgn_ref c)
{
	const char *p = S.sbase + ((size_t)s << 3), *cp;
	struct sv *v;
	int *slot, o;
	struct cmp m;

	if (!s) {
		CHECK(c == 0, "%s: null copied as %u", C.what, c);
		return;
	}
	o = find(p);
	if (W.scoped && o >= 0 && O[o].reg != 0) {
		CHECK(c == s, "%s: out of scope reference %u became %u", C.what, s, c);
		return;
	}
	slot = slot_of(W.phash, p, false, NULL, 0);
	CHECK(*slot && W.v[*slot - 1].l, "%s: copied an object the model has not", C.what);
	v = &W.v[*slot - 1];
	if (v->copy) {
		CHECK(v->copy == c, "%s: object %u copied twice (%u, %u)", C.what, s, v->copy, c);
		return;
	}
	CHECK(c != 0, "%s: object %u copied as null", C.what, s);
	{
		/* one source object per copy */
		size_t h = (size_t)c * 0x9e3779b97f4a7c15ull >> 51;
		while (C.rhash[h]) {
			CHECK(W.v[C.pairs[C.rhash[h] - 1]].copy != c,
			      "%s: copy %u stands for two objects", C.what, c);
			h = (h + 1) & (HASH_CAP - 1);
		}
		C.pairs[C.npairs] = (int)(v - W.v);
		C.rhash[h] = ++C.npairs;
	}
	v->copy = c;
	cp = copy_at(c);
	if (!C.cr)
		CHECK((size_t)c * 8 + v->n <= C.climit, "%s: copy past the image's end", C.what);
	/* at its layout's alignment: in memory, or in the image's bytes */
	CHECK(((C.cr ? (uintptr_t)cp : (uintptr_t)c << 3) & (align_of(v->l) - 1)) == 0,
	      "%s: copy %u not at a multiple of %zu", C.what, c, align_of(v->l));
	if (v->l->align > 8)
		nstat[5]++;
	if (v->l->size_of) {
		nstat[6]++;
		if (!inside(v->o, v->p, v->n))
			nstat[7]++;
	}
	/* a copy is new memory, not a source object left in place (a
	 * contiguous region compacted takes its old addresses back) */
	if (C.fresh)
		CHECK(find(cp) < 0 && find(cp + v->n - 1) < 0, "%s: copy %u lies in a source object",
		      C.what, c);
	m = (struct cmp){ snap_of(v), cp, 0 };
	each_field(v->l, (const char *)m.s, cmp_field, &m);
	CHECK(memcmp(m.s + m.pos, cp + m.pos, v->size - m.pos) == 0,
	      "%s: bytes %u..%u of a copy differ", C.what, m.pos, v->size);
	for (uint32_t i = v->size; i < v->n; i++)
		CHECK(cp[i] == 0, "%s: rounding byte %u of a copy is %d", C.what, i, cp[i]);
}

/* The roots' copies (croots) are the walk's graph; objects and bytes as
 * the walk counted. */
static MODEL void check_graph(const char *what, const rgn_region *cr, const char *cbase,
                              size_t climit, const rgn_ref *sroots, const rgn_ref *croots,
                              int n, const rgn_copy_options *o)
{
	C.what = what;
	C.cr = cr;
	C.cbase = cbase;
	C.climit = climit;
	C.fresh = cr != S.src;
	C.npairs = C.ntodo = 0;
	memset(C.rhash, 0, sizeof C.rhash);
	for (int i = 0; i < W.nv; i++)
		W.v[i].copy = 0;
	for (int i = 0; i < n; i++)
		chk_push(sroots[i], croots[i], S.root_l);
	while (C.ntodo) {
		C.ntodo--;
		pair(C.todo[C.ntodo].s, C.todo[C.ntodo].c);
	}
	CHECK((size_t)C.npairs == W.objects, "%s: %d objects paired, %zu reachable", what,
	      C.npairs, W.objects);
	if (o) {
		CHECK(o->objects == W.objects, "%s: opts.objects %zu, %zu reachable", what,
		      o->objects, W.objects);
		CHECK(o->bytes == W.bytes, "%s: opts.bytes %zu, the objects take %zu", what,
		      o->bytes, W.bytes);
	}
	/* no two copies overlap */
	qsort(C.pairs, (size_t)C.npairs, sizeof(int), cmp_copies);
	for (int i = 0; i + 1 < C.npairs; i++) {
		const struct sv *a = &W.v[C.pairs[i]], *b = &W.v[C.pairs[i + 1]];
		CHECK((size_t)(copy_at(b->copy) - copy_at(a->copy)) >= a->n,
		      "%s: copies %u and %u overlap", what, a->copy, b->copy);
	}
}

/* ---- the order of the copies ---------------------------------------------------------------- */

/* Where the copy puts objects one after the other (a contiguous region, an
 * image), each lies right after the one copied before it, in the order the
 * copy visits fields: breadth-first takes copies oldest first and their
 * fields in order (fixed, tail, traced); depth-first takes the newest and
 * its fields last to first.  "Right after" is the end of the one before
 * rounded up to the copy's alignment, the bytes between zero. */
static struct {
	int      seq[MAX_SIM], nseq;
	int      work[MAX_SIM], head, nwork;
	bool     seen[MAX_SIM];
	uint32_t off[20000];      /* a tail of 64 KiB of references, and more */
	int      noff;
} Q;

/* The padding from p to the next multiple of align: of the address in a
 * region, of the offset in an image. */
static size_t pad_to(const char *p, size_t align)
{
	uintptr_t at = C.cr ? (uintptr_t)p : (uintptr_t)(p - C.cbase);

	return (size_t)-at & (align - 1);
}

/* The n bytes of padding at p are zero. */
static MODEL void check_zero(const char *what, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECK(p[i] == 0, "%s: padding byte %zu of %zu before a copy is %d", what, i, n, p[i]);
}

static bool collect(void *ctx, uint32_t off, const rgn_layout *to)
{
	(void)ctx;
	(void)to;
	if (Q.noff < (int)(sizeof Q.off / sizeof Q.off[0]))
		Q.off[Q.noff++] = off;
	return true;
}

static MODEL void order_visit(rgn_ref ref)
{
	const char *p = S.sbase + ((size_t)ref << 3);
	int *slot, k, o;

	if (!ref)
		return;
	o = find(p);
	if (W.scoped && o >= 0 && O[o].reg != 0)
		return;
	slot = slot_of(W.phash, p, false, NULL, 0);
	k = *slot - 1;
	if (Q.seen[k])
		return;
	Q.seen[k] = true;
	Q.seq[Q.nseq++] = k;
	if (W.v[k].l->nrefs || W.v[k].l->tail == RGN_TAIL_REFS || W.v[k].l->trace)
		Q.work[Q.nwork++] = k;
}

static MODEL void check_order(const char *what, const rgn_ref *sroots, int n, bool breadth)
{
	Q.nseq = Q.head = Q.nwork = 0;
	memset(Q.seen, 0, sizeof(bool) * (size_t)W.nv);
	for (int i = 0; i < n; i++) {
		order_visit(sroots[i]);
		while (breadth ? Q.head < Q.nwork : Q.nwork > 0) {
			int k = breadth ? Q.work[Q.head++] : Q.work[--Q.nwork];
			const struct sv *v = &W.v[k];
			Q.noff = 0;
			each_field(v->l, (const char *)snap_of(v), collect, NULL);
			for (int f = 0; f < Q.noff; f++) {
				uint32_t off = Q.off[breadth ? f : Q.noff - 1 - f];
				order_visit(get32((const char *)snap_of(v) + off));
			}
		}
		if (breadth)
			Q.head = Q.nwork = 0;
	}
	CHECK(Q.nseq == C.npairs, "%s: %d copies in order, %d paired", what, Q.nseq, C.npairs);
	for (int i = 1; i < Q.nseq; i++) {
		const struct sv *a = &W.v[Q.seq[i - 1]], *b = &W.v[Q.seq[i]];
		const char *end = copy_at(a->copy) + a->n;
		size_t pad = pad_to(end, align_of(b->l));
		CHECK(copy_at(b->copy) == end + pad,
		      "%s: %s copy %d of %d not right after the one before (%zu bytes of "
		      "padding for %zu, %td)", what, breadth ? "breadth-first" : "depth-first", i,
		      Q.nseq, pad, align_of(b->l), copy_at(b->copy) - end);
		check_zero(what, end, pad);
	}
}

/* After check_order: the bytes from the sequence's first copy to the end
 * of its last (0 when it is empty), where the first starts and its
 * alignment. */
static MODEL size_t seq_span(const char **first, size_t *align)
{
	const struct sv *a, *z;

	if (!Q.nseq) {
		*first = NULL;
		*align = 8;
		return 0;
	}
	a = &W.v[Q.seq[0]];
	z = &W.v[Q.seq[Q.nseq - 1]];
	*first = copy_at(a->copy);
	*align = align_of(a->l);
	return (size_t)(copy_at(z->copy) + z->n - *first);
}

/* Every object's bytes as they were. */
static MODEL void check_source(const char *what, bool skip_src)
{
	for (int i = 0; i < nobj; i++) {
		if (skip_src && O[i].reg == 0)
			continue;
		CHECK(memcmp(O[i].p, snap + O[i].snap, O[i].n) == 0,
		      "%s: object %d of the source was written", what, i);
	}
}

/* A call that returned rc: the error it may fail with, or must. */
static void check_rc(const char *what, int rc, int err)
{
	static bool reg;
	if (!reg && getenv("FUZZ_COPY_STATS")) {
		atexit(print_stats);
		reg = true;
	}
	nstat[rc == 0 ? (W.ambiguous ? 1 : 0) : err == EFAULT ? 2 : err == EINVAL ? 3 : 4]++;
	if (rc == 0) {
		CHECK(W.ambiguous || !W.errs, "%s succeeded past a bad reference or layout (%u)", what,
		      W.errs);
		return;
	}
	CHECK(rc == -1, "%s returned %d", what, rc);
	if (err == ENOMEM)
		return;
	if (W.ambiguous)
		CHECK(err == EFAULT || err == EINVAL, "%s: %s", what, strerror(err));
	else
		CHECK((err == EFAULT && (W.errs & E_FAULT)) || (err == EINVAL && (W.errs & E_INVAL)),
		      "%s failed with %s; the model found %u", what, strerror(err), W.errs);
}

static size_t used_of(const rgn_region *r)
{
	struct rgn_region_stats st;

	CHECK(rgn_region_stats(r, &st) == 0, "region stats");
	return st.used;
}

/* ---- building the graph ------------------------------------------------------------------ */

static rgn_region *region(rgn_backend b, size_t reserve)
{
	rgn_options o = { .backend = b, .reserve = b == RGN_BACKEND_CONTIG ? reserve : 0 };

	return rgn_new_with(NULL, &o);
}

static MODEL void fill(char *p, size_t n)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		uint32_t w = rnd();
		memcpy(p + i, &w, 4);
	}
	for (; i < n; i++)
		p[i] = (char)rnd();
}

/* A new object of size bytes filled from the generator, registered; at a
 * multiple of align (8: wherever the region puts it). */
static char *add_obj(int kind, const rgn_layout *l, int reg, uint32_t size, size_t align)
{
	char *p = rgn_alloc_aligned(reg ? S.other : S.src, size, align);

	if (!p)
		return NULL;
	O[nobj] = (struct obj){ .p = p, .size = size, .n = (size + 7) & ~7u, .kind = (uint8_t)kind,
	                        .reg = (uint8_t)reg, .l = l };
	memset(p, 0, O[nobj].n);
	fill(p, size);
	bykind[kind][nbykind[kind]++] = nobj;
	nobj++;
	return p;
}

/* A string of len bytes in src. */
static bool add_str(uint32_t len)
{
	char *p = add_obj(K_STR, &str_l, 0, (uint32_t)offsetof(struct str, bytes) + len, 8);

	if (p)
		memcpy(p + offsetof(struct str, len), &len, 4);
	return p != NULL;
}

/* An object of kind k, its sizes from the input; false when none fits. */
static bool build(struct in *in)
{
	/* the aligned kind's layouts, by how's bits 0-2: mostly good ones */
	static const uint8_t al_of[8] = { AL_16, AL_16, AL_16, AL_64, AL_64, AL_4096, AL_24,
		                          AL_8192 };
	uint8_t k = u8(in), how = u8(in);
	/* kinds 0x70 and up are the sized one; the others are read modulo 7,
	 * as before it was added (older inputs build what they did) */
	int kind = (k & 0x7f) >= 0x70 ? K_SIZED : (k & 0x7f) % K_SIZED;
	int reg = S.other && (k & 0x80) ? 1 : 0;
	uint32_t count = 0, size, tag = 0, whole = 0;
	const rgn_layout *l;
	size_t align = 8;
	char *p;

	switch (kind) {
	case K_STR:
		count = (how & 0xc0) == 0xc0 ? u16(in) : how;
		size = (uint32_t)offsetof(struct str, bytes) + count;
		l = &str_l;
		break;
	case K_VEC:
		count = how % 64;
		size = sizeof(struct vec) + 4 * count;
		l = &vec_l;
		break;
	case K_TVEC:
		count = how % 64;
		size = sizeof(struct tvec) + 4 * count;
		tag = T_TVEC;
		l = &tvec_l;
		break;
	case K_NODE: size = sizeof(struct node); l = &node_l; break;
	case K_UNION: size = sizeof(struct onion); tag = T_UNION; l = &union_l; break;
	case K_BOX:
		size = sizeof(struct box);
		tag = (how & 0xf0) == 0xf0 ? T_BAD : (how & 0xf0) == 0xe0 ? 0 : T_BOX;
		l = &box_l;
		break;
	case K_SIZED: {
		/* bit 0 the tail variant, bits 4-7 its count; two bytes follow:
		 * the plain bytes after the fields, and what bits 1-3 make of the
		 * whole size */
		uint32_t extra = u8(in), y = u8(in), need;
		count = how & 1 ? how >> 4 : 0;
		need = (uint32_t)sizeof(struct sized) + 4 * count;
		size = need + extra;
		switch ((how >> 1) & 7) {
		case 3: whole = need + y % (extra + 1); break;    /* at most the allocation */
		case 4:
		case 5: whole = size + 1 + y % 64; break;         /* past its end */
		case 6: whole = y % need; break;                  /* too small: EINVAL */
		case 7: whole = 0; break;                         /* EINVAL */
		default: whole = size; break;
		}
		tag = how & 1 ? T_SIZED_TAIL : T_SIZED;
		l = how & 1 ? &szt_l : &sz_l;
		break;
	}
	default:
		/* its tail's length follows; bit 3: the source object is placed
		 * at the alignment too (the copy must keep it only because the
		 * layout says so) */
		count = u8(in);
		size = (uint32_t)offsetof(struct aligned, bytes) + count;
		tag = T_ALIGN + al_of[how & 7];
		l = &al_l[al_of[how & 7]];
		if ((how & 8) && !layout_bad(l))
			align = l->align;
		break;
	}
	p = add_obj(kind, l, reg, size, align);
	if (!p)
		return false;
	if (tag)
		memcpy(p, &tag, 4);
	if (kind == K_STR)
		memcpy(p + offsetof(struct str, len), &count, 4);
	if (kind == K_ALIGN)
		memcpy(p + offsetof(struct aligned, len), &count, 4);
	if (kind == K_VEC)
		memcpy(p, &count, 4);
	if (kind == K_TVEC)
		memcpy(p + 4, &count, 4);
	if (kind == K_SIZED) {
		memcpy(p + offsetof(struct sized, whole), &whole, 4);
		if (l == &szt_l)
			memcpy(p + offsetof(struct sized, count), &count, 4);
	}
	if (kind == K_UNION) {
		/* how 0xf0-0xff: a stray field (past the copy, a local) */
		uint32_t r = (how & 0xf0) == 0xf0 ? UNION_STRAY_PAST + (how & 1) : how & 1u;
		memcpy(p + 4, &r, 4);
	}
	return true;
}

/* A reference from the input, to an object of layout want (NULL: a
 * tagged one). */
static rgn_ref pick_ref(struct in *in, const rgn_layout *want)
{
	uint8_t sel = u8(in), i = u8(in);
	int kinds[5], nk = 0;

	if (sel < 170) {
		if (want == &node_l)
			kinds[nk++] = K_NODE;
		else if (want == &str_l)
			kinds[nk++] = K_STR;
		else if (want == &vec_l)
			kinds[nk++] = K_VEC;
		else {
			kinds[nk++] = K_TVEC;
			kinds[nk++] = K_UNION;
			kinds[nk++] = K_BOX;
			kinds[nk++] = K_ALIGN;
			/* (only when there are some: an input without them
			 * picks as it did before the kind was added) */
			if (nbykind[K_SIZED])
				kinds[nk++] = K_SIZED;
		}
		for (int t = 0; t < nk; t++) {
			int kd = kinds[(i + t) % nk];
			if (nbykind[kd]) {
				int x = bykind[kd][(i / nk) % nbykind[kd]];
				/* contiguous: another region's objects are not src's references */
				if (!S.contig_src || O[x].reg == 0)
					return ref_of(O[x].p);
			}
		}
		return 0;
	}
	if (sel < 195)
		return 0;
	if (sel < 210)           /* far outside any memory */
		return 0x80000000u | rnd();
	if (sel < 220)           /* the guard page below everything */
		return 1 + i % 511;
	if (sel < 245) {         /* into an object: its middle or its start */
		struct obj *x = &O[i % nobj];
		uint32_t g = u8(in) % (x->n / 8);
		if (S.contig_src && x->reg != 0)
			return 0x80000000u | i;
		return ref_of(x->p + 8 * g);
	}
	return ref_of(O[i % nobj].p) ^ (uint32_t)(1u << (rnd() % 32)); /* a bit flipped */
}

/* ---- the calls ------------------------------------------------------------------------- */

static int memfd(void)
{
	int fd = memfd_create("fuzz-copy", MFD_CLOEXEC);

	CHECK(fd >= 0, "memfd_create");
	return fd;
}

/* rgn_copy from the roots into dst; opts NULL when bare (the defaults:
 * no layout_of, the whole graph). */
static void do_copier(const rgn_copy_options *given);

static void do_copy(unsigned order, bool only, bool bare)
{
	rgn_copy_options o = { .order = order, .flags = only ? RGN_COPY_ONLY_SRC : 0,
	                       .layout_of = S.use_layout_of ? layout_of : NULL };
	rgn_ref r[MAX_ROOT];
	size_t du = used_of(S.dst);
	bool scoped = only && !S.contig_src && !bare, had = S.use_layout_of;
	int rc, err;

	memcpy(r, S.roots, sizeof r);
	if (bare)
		S.use_layout_of = false;
	if (!walk(scoped))
		FAIL("the walk needs repairs after settling");
	S.use_layout_of = had;
	errno = 0;
	rc = rgn_copy(S.dst, S.src, r, (size_t)S.nroots, S.root_l, bare ? NULL : &o);
	err = errno;
	check_source("rgn_copy", false);
	if (scoped && S.db == RGN_BACKEND_CONTIG) {
		/* the space's references kept cannot mean the same in a reservation */
		CHECK(rc == -1 && err == EINVAL, "ONLY_SRC into a contiguous region: %d %s", rc,
		      strerror(err));
	} else {
		check_rc("rgn_copy", rc, err);
	}
	if (rc != 0) {
		CHECK(memcmp(r, S.roots, sizeof r) == 0, "rgn_copy failed and changed the roots");
		CHECK(used_of(S.dst) == du, "rgn_copy failed and left %zu bytes in dst",
		      used_of(S.dst) - du);
		return;
	}
	CHECK(used_of(S.dst) - du >= W.bytes || W.ambiguous,
	      "rgn_copy: dst grew by %zu bytes for %zu copied", used_of(S.dst) - du, W.bytes);
	if (W.ambiguous)
		return;
	check_graph("rgn_copy", S.dst, NULL, 0, S.roots, r, S.nroots, bare ? NULL : &o);
	/* (opts NULL: breadth-first, the default) */
	if (S.db == RGN_BACKEND_CONTIG) {
		/* the region grew by the copies and the padding before each:
		 * the first one's from where the bump was, less than its
		 * alignment and zeroed (opts.bytes counts none of it) */
		const char *first;
		size_t align, grew = used_of(S.dst) - du, span;

		check_order("rgn_copy", S.roots, S.nroots, bare || order == RGN_COPY_BREADTH);
		span = seq_span(&first, &align);
		CHECK(grew >= span && grew - span < align,
		      "rgn_copy: dst grew by %zu bytes for copies that span %zu (aligned to %zu)",
		      grew, span, align);
		if (first)
			check_zero("rgn_copy", first - (grew - span), grew - span);
	}
	if (bare || order == RGN_COPY_BREADTH)
		do_copier(bare ? NULL : &o);
}

/* ---- the compiled copy (rgn_copier) ---------------------------------------------------- */

/* The kinds a caller's own scan knows: every layout here but the aligned
 * ones (the copier places each copy at a granule). */
static const rgn_layout *const copier_kinds[] = { &node_l, &str_l, &vec_l, &tvec_l,
	                                          &union_l, &box_l, &sz_l, &szt_l };
#define NCOPIER_KINDS (sizeof copier_kinds / sizeof copier_kinds[0])

/* l's kind; RGN_COPIER_NO_REFS for one the scan does not know (an
 * aligned or bad object out of RGN_COPY_ONLY_SRC's scope, left where it
 * is: rgn_copy took this graph, so no such object is copied) */
static uint32_t copier_kind(const rgn_layout *l)
{
	for (uint32_t k = 0; k < NCOPIER_KINDS; k++)
		if (copier_kinds[k] == l)
			return k;
	return RGN_COPIER_NO_REFS;
}

/* What a runtime's compiled scan does with one reference field whose
 * declared target is to: a target of no declared type is read for its tag
 * (as layout_of does), then copied with the sizes its type has.  A tag is
 * read only inside an object built here: a reference anywhere else is
 * one rgn_copy refused (EFAULT, or the walk set it to 0) or left alone
 * out of RGN_COPY_ONLY_SRC's scope, where no memory need be readable. */
static rgn_ref copier_field(rgn_copier *c, rgn_ref ref, const rgn_layout *to)
{
	const char *p = S.sbase + ((size_t)ref << 3);
	uint32_t kind;

	if (!ref)
		return 0;
	if (!to && find(p) >= 0)
		to = layout_of(p, NULL);
	if (!to)
		to = &node_l;
	kind = to->nrefs || to->tail == RGN_TAIL_REFS || to->trace ? copier_kind(to)
	                                                            : RGN_COPIER_NO_REFS;
	if (to->nrefs && kind == RGN_COPIER_NO_REFS)
		return rgn_copier_ref(c, ref, 8, kind);
	if (to->size_of) {
		/* its whole size is a field: no smaller than the fields it
		 * holds where the object is copied (rgn_copy took this graph),
		 * anything out of RGN_COPY_ONLY_SRC's scope, which is left
		 * where it is whatever its size */
		size_t whole = sized_size(p);

		return rgn_copier_ref(c, ref, (uint32_t)(whole < to->size ? to->size : whole), kind);
	}
	if (to->tail != RGN_TAIL_NONE)
		return rgn_copier_ref_tail(c, ref, to->size, to->count_at,
		                           to->tail == RGN_TAIL_REFS ? 4 : to->elem, kind);
	return rgn_copier_ref(c, ref, to->size, kind);
}

/* After rgn_copy succeeded: the same graph through rgn_copier, driven by
 * a scan written for these kinds, into a fresh region of dst's backend;
 * the result must be the walk's graph too, and into a contiguous region
 * in rgn_copy's breadth-first order.  Roots one after the other, each
 * drained before the next, as rgn_copy takes them. */
/* The fields of one copy the copier handed back, rewritten as its
 * kind's layout (and the union's flag) says. */
static void copier_scan(rgn_copier *c, void *obj, uint32_t kind)
{
	const rgn_layout *l = copier_kinds[kind];
	char *ob = obj;
	uint32_t count = 0;
	rgn_ref f;

	for (uint32_t k = 0; k < l->nrefs; k++) {
		memcpy(&f, ob + l->refs[k], 4);
		f = copier_field(c, f, l->to ? l->to[k] : NULL);
		memcpy(ob + l->refs[k], &f, 4);
	}
	if (l->tail == RGN_TAIL_REFS)
		memcpy(&count, ob + l->count_at, 4);
	for (uint32_t k = 0; k < count; k++) {
		memcpy(&f, ob + l->size + 4 * k, 4);
		f = copier_field(c, f, l->tail_to);
		memcpy(ob + l->size + 4 * k, &f, 4);
	}
	if (l == &union_l && get32(ob + offsetof(struct onion, is_ref)) == 1) {
		memcpy(&f, ob + offsetof(struct onion, u), 4);
		f = copier_field(c, f, &node_l);
		memcpy(ob + offsetof(struct onion, u), &f, 4);
	}
}

/* No layout the copier cannot place (an alignment above 8). */
static bool copier_fits(void)
{
	for (int i = 0; i < W.nv; i++)
		if (W.v[i].l && W.v[i].l->align > 8)
			return false;
	return true;
}

/* fd's bytes, malloc'ed; *n their count. */
static char *fd_bytes(int fd, size_t *n)
{
	struct stat st;
	char *p;

	CHECK(fstat(fd, &st) == 0, "fstat");
	*n = (size_t)st.st_size;
	p = malloc(*n + 1);
	CHECK(p != NULL, "malloc");
	CHECK(pread(fd, p, *n, 0) == (ssize_t)*n, "pread");
	return p;
}

/* The image rgn_image_write_graph wrote to gfd (breadth-first, from
 * root) written again by the compiled copy (rgn_copier_begin_image, with
 * the writer thread when overlap): the same bytes, or ENOMEM. */
static void do_image_copier(int gfd, rgn_ref root, bool overlap)
{
	/* (kept by the copier until its end, which sets its counts) */
	rgn_copy_options o = { .flags = overlap ? RGN_COPY_OVERLAP : 0 };
	int fd = memfd(), rc, err;
	rgn_copier c;
	uint32_t kind;
	void *obj;
	rgn_ref r;

	errno = 0;
	if (rgn_copier_begin_image(&c, S.src, fd, &o) != 0) {
		CHECK(errno == ENOMEM, "rgn_copier_begin_image: %s", strerror(errno));
		close(fd);
		return;
	}
	r = copier_field(&c, root, S.root_l);
	while ((obj = rgn_copier_next(&c, &kind)) != NULL)
		copier_scan(&c, obj, kind);
	errno = 0;
	rc = rgn_copier_end_image(&c, r);
	err = errno;
	check_source("rgn_copier_begin_image", false);
	if (rc != 0) {
		CHECK(rc == -1 && err == ENOMEM, "the image copier failed where "
		      "rgn_image_write_graph did not: %d %s", rc, strerror(err));
	} else {
		size_t n0, n1;
		char *a = fd_bytes(gfd, &n0), *b = fd_bytes(fd, &n1);

		CHECK(n0 == n1 && memcmp(a, b, n0) == 0,
		      "the image copier's file (%zu bytes) is not rgn_image_write_graph's (%zu)",
		      n1, n0);
		free(a);
		free(b);
		nstat[9]++;
	}
	close(fd);
}

static void do_copier(const rgn_copy_options *given)
{
	rgn_copy_options o = given ? *given : (rgn_copy_options){ 0 }, *opts = given ? &o : NULL;
	rgn_region *d;
	rgn_ref r[MAX_ROOT];
	rgn_copier c;
	size_t du;
	uint32_t kind;
	void *obj;
	int rc, err;

	if (!copier_fits())
		return;
	if (!(d = region(S.db, (size_t)16 << 20))) {
		CHECK(errno == ENOMEM, "region: %s", strerror(errno));
		return;
	}
	du = used_of(d);
	o.objects = o.bytes = 0;
	errno = 0;
	rc = rgn_copier_begin(&c, d, S.src, opts);
	if (rc != 0) {
		CHECK(errno == ENOMEM, "rgn_copier_begin: %s", strerror(errno));
		rgn_destroy(d);
		return;
	}
	for (int i = 0; i < S.nroots; i++) {
		r[i] = copier_field(&c, S.roots[i], S.root_l);
		while ((obj = rgn_copier_next(&c, &kind)) != NULL)
			copier_scan(&c, obj, kind);
	}
	errno = 0;
	rc = rgn_copier_end(&c);
	err = errno;
	check_source("rgn_copier", false);
	if (rc != 0) {
		/* rgn_copy took this graph: only memory may run out */
		CHECK(rc == -1 && err == ENOMEM, "rgn_copier failed where rgn_copy did not: %d %s",
		      rc, strerror(err));
		CHECK(used_of(d) == du, "rgn_copier failed and left %zu bytes in dst",
		      used_of(d) - du);
		rgn_destroy(d);
		return;
	}
	/* (and its counts in opts, as rgn_copy's) */
	check_graph("rgn_copier", d, NULL, 0, S.roots, r, S.nroots, opts);
	nstat[8]++;
	if (S.db == RGN_BACKEND_CONTIG)
		check_order("rgn_copier", S.roots, S.nroots, true);
	rgn_destroy(d);
}

static void do_image(unsigned order)
{
	rgn_copy_options o = { .order = order, .layout_of = S.use_layout_of ? layout_of : NULL };
	rgn_ref root = 0, iroot = 0;
	int fd = memfd(), rc, err;
	rgn_image *img;
	struct stat st;

	for (int i = 0; i < S.nroots && !root; i++)
		root = S.roots[i];
	/* the walk from that root alone */
	{
		rgn_ref keep[MAX_ROOT];
		int n = S.nroots;
		memcpy(keep, S.roots, sizeof keep);
		S.roots[0] = root;
		S.nroots = 1;
		if (!walk(false))
			FAIL("the image's walk needs repairs");
		S.nroots = n;
		memcpy(S.roots, keep, sizeof keep);
	}
	errno = 0;
	rc = rgn_image_write_graph(S.src, fd, root, S.root_l, &o);
	err = errno;
	check_source("rgn_image_write_graph", false);
	if (!root) {
		CHECK(rc == -1 && err == EINVAL, "image of a null root");
	} else {
		check_rc("rgn_image_write_graph", rc, err);
	}
	if (rc != 0) {
		CHECK(fstat(fd, &st) == 0 && st.st_size == 0, "a failed image wrote %lld bytes",
		      (long long)st.st_size);
		close(fd);
		return;
	}
	if (order == RGN_COPY_BREADTH && copier_fits())
		do_image_copier(fd, root, (root & 1) != 0);
	img = rgn_image_open(fd, &iroot);
	close(fd);
	if (!img) {
		CHECK(errno == ENOMEM, "image open: %s", strerror(errno));
		return;
	}
	if (!W.ambiguous) {
		const char *base = rgn_image_ptr(img, 0), *first;
		size_t size = rgn_image_size(img), align, span;

		check_graph("rgn_image_write_graph", NULL, base, size, &root, &iroot, 1, &o);
		check_order("rgn_image_write_graph", &root, 1, order == RGN_COPY_BREADTH);
		/* the image ends where the last copy does: its padding is all
		 * before copies */
		span = seq_span(&first, &align);
		CHECK((size_t)(first - base) + span == size,
		      "rgn_image_write_graph: the last copy ends at %zu of %zu bytes",
		      (size_t)(first - base) + span, size);
	}
	rgn_image_close(img);
}

static void do_compact(unsigned order)
{
	rgn_copy_options o = { .order = order, .layout_of = S.use_layout_of ? layout_of : NULL };
	rgn_ref r[MAX_ROOT];
	size_t used = used_of(S.src);
	int rc, err;

	memcpy(r, S.roots, sizeof r);
	if (!walk(!S.contig_src))
		FAIL("the compaction's walk needs repairs");
	errno = 0;
	rc = rgn_compact(S.src, r, (size_t)S.nroots, S.root_l, &o);
	err = errno;
	check_rc("rgn_compact", rc, err);
	if (rc != 0) {
		check_source("rgn_compact failed", false);
		CHECK(memcmp(r, S.roots, sizeof r) == 0, "rgn_compact failed and changed the roots");
		CHECK(used_of(S.src) == used, "rgn_compact failed and changed used");
		return;
	}
	check_source("rgn_compact (the other region)", true);
	if (!W.ambiguous)
		check_graph("rgn_compact", S.src, NULL, 0, S.roots, r, S.nroots, &o);
}

/* ---- the driver --------------------------------------------------------------------------- */

static void setup(void)
{
	static bool done;
	rgn_config cfg = { .space_size = SPACE, .retain_limit = (size_t)16 << 20 };

	if (done)
		return;
	done = true;
	unsetenv("RGN_SPACE");
	unsetenv("RGN_RETAIN");
	unsetenv("RGN_CHECK");
	if (rgn_init(&cfg) != 0)
		FAIL("rgn_init: %s", strerror(errno));
}

static void teardown(rgn_region *hog)
{
	struct rgn_space_stats st;

	rgn_destroy(S.src);
	rgn_destroy(S.dst);
	rgn_destroy(S.other);
	rgn_destroy(hog);
	free(snap);
	snap = NULL;
	CHECK(rgn_space_stats(&st) == 0 && st.live_regions == 0, "%zu regions live at the end",
	      st.live_regions);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const rgn_backend B[] = { RGN_BACKEND_BLOCKS, RGN_BACKEND_CONTIG, RGN_BACKEND_HEAP };
	struct in in = { data, size };
	uint8_t c0 = u8(&in), c1 = u8(&in), c2 = u8(&in);
	unsigned order = (c0 / 9) % 2;
	bool only = (c0 / 18) % 2, image = c1 & 1, compact = c1 & 2;
	rgn_region *hog = NULL;
	int want;

	setup();
	memset(&S, 0, sizeof S);
	nobj = 0;
	memset(nbykind, 0, sizeof nbykind);
	S.sb = B[c0 % 3];
	S.db = B[(c0 / 3) % 3];
	S.contig_src = S.sb == RGN_BACKEND_CONTIG;
	S.use_layout_of = (c1 & 0x0c) != 0x0c;
	S.root_l = c1 & 0x40 ? NULL : &node_l;
	S.rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)c2 << 32 | u16(&in));
	want = 1 + (int)(u16(&in) % MAX_OBJ);
	S.src = region(S.sb, (size_t)(1 + (c2 & 3)) << 20);
	S.dst = region(S.db, c2 & 0x10 ? (size_t)1 << 20 : (size_t)16 << 20);
	if (!S.contig_src && (c1 & 0x80))
		S.other = rgn_new(NULL);
	if (!S.src || !S.dst || (!S.contig_src && (c1 & 0x80) && !S.other)) {
		CHECK(errno == ENOMEM, "region: %s", strerror(errno));
		teardown(NULL);
		return 0;
	}
	S.sbase = rgn_ptr_in(S.src, 0);
	if (S.other)
		CHECK(rgn_ptr_in(S.other, 0) == (void *)S.sbase, "two bases in the space");
	while (nobj < want && build(&in))
		;
	if (S.contig_src && (c1 & 0x80) && nobj > 0 && nobj + 3 <= MAX_OBJ) {
		/* the last two strings end where the reservation's read-write
		 * part ends (or the next 64 KiB step of it): a reference into the
		 * last granule is one whose fixed part runs past the end, into
		 * memory that cannot be read */
		struct rgn_region_stats st;
		size_t end = (size_t)(O[nobj - 1].p + O[nobj - 1].n - S.sbase), room;
		CHECK(rgn_region_stats(S.src, &st) == 0, "region stats");
		room = st.committed - end;
		if (room < 32 + 16)
			room += (size_t)64 << 10;
		/* (ENOMEM, the reservation full: what was made stays) */
		if (room <= ((size_t)256 << 10) &&
		    add_str((uint32_t)(room - 32 - offsetof(struct str, bytes))) && add_str(4))
			add_str(4);
	}
	if (!nobj) {
		teardown(NULL);
		return 0;
	}
	for (int i = 0; i < nobj; i++)
		sorted[i] = i;
	qsort(sorted, (size_t)nobj, sizeof(int), by_addr);
	/* every reference field, then the counts made wrong */
	for (int i = 0; i < nobj; i++) {
		const rgn_layout *l = O[i].l;
		uint32_t count = count_of(l, O[i].p);
		for (uint32_t k = 0; k < l->nrefs; k++) {
			rgn_ref r = pick_ref(&in, l->to[k]);
			memcpy(O[i].p + l->refs[k], &r, 4);
		}
		if (l->tail == RGN_TAIL_REFS) {
			for (uint32_t k = 0; k < count; k++) {
				rgn_ref r = pick_ref(&in, l->tail_to);
				memcpy(O[i].p + l->size + 4 * k, &r, 4);
			}
		}
		if (l == &union_l && get32(O[i].p + 4)) {
			rgn_ref r = pick_ref(&in, &node_l);
			memcpy(O[i].p + 8, &r, 4);
		}
		if (l->tail != RGN_TAIL_NONE) {
			uint8_t b = u8(&in);
			if ((b & 0xf0) == 0xf0)
				count = 0x7fffffffu;
			else if ((b & 0xf0) == 0xe0)
				count += 1 + (b & 15);
			memcpy(O[i].p + l->count_at, &count, 4);
		}
	}
	S.nroots = 1 + u8(&in) % MAX_ROOT;
	for (int i = 0; i < S.nroots; i++)
		S.roots[i] = pick_ref(&in, S.root_l);
	/* the range outside which a reference is EFAULT for sure */
	if (S.contig_src) {
		const char *end = NULL;
		for (int i = 0; i < nobj; i++)
			if (O[i].p + O[i].n > end)
				end = O[i].p + O[i].n;
		S.lo = S.sbase + 4096;
		S.hi = end;                /* the copy reads to src's bump */
	} else {
		struct rgn_space_stats st;
		CHECK(rgn_space_stats(&st) == 0, "space stats");
		S.lo = (const char *)st.base + st.block_size;
		S.hi = (const char *)st.base + st.size;
	}
	if (!settle(false) || (W.full)) {
		teardown(NULL);
		return 0;
	}
	/* the snapshot, in address order (what a size_of reads past its
	 * object is then right after it there too) */
	snap_bytes = 0;
	for (int i = 0; i < nobj; i++) {
		O[sorted[i]].snap = snap_bytes;
		snap_bytes += O[sorted[i]].n;
	}
	snap = malloc(snap_bytes);
	CHECK(snap != NULL, "malloc");
	for (int i = 0; i < nobj; i++)
		memcpy(snap + O[i].snap, O[i].p, O[i].n);
	if ((c1 & 0x30) == 0x30 && (c2 & 0x80)) {
		/* the space full but for a little: ENOMEM on the way */
		rgn_region *slack = rgn_new(NULL);
		hog = rgn_new(NULL);
		/* what slack holds is given back after the hog took the rest */
		if (slack && hog && rgn_alloc(slack, (size_t)(c2 & 0x0f) << 14)) {
			while (rgn_alloc(hog, (size_t)1 << 20))
				;
			while (rgn_alloc(hog, (size_t)64 << 10))
				;
		}
		rgn_destroy(slack);
	}
	do_copy(order, only, c0 / 36 == 1);
	if (image)
		do_image(order);
	if (compact)
		do_compact(order);
	teardown(hog);
	return 0;
}
