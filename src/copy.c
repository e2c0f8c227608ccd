/*
 * copy.c - the tracing copy: copy a graph of objects into other memory,
 * rewriting its references; compaction and traced images are built on it.
 *
 * C objects carry no type, so the caller describes them with layouts
 * (rgn.h): a size, the offsets of the reference fields, the layout each
 * points at (or a callback that reads a tag), a tail of bytes or of
 * references counted by a field, and a trace callback for the rest.  The
 * copy starts from roots and copies each object it reaches exactly once,
 * so sharing and cycles come out as they went in.
 *
 * Forwarding.  The source is never written: which objects have been
 * copied, and where to, is kept in a table of the copy's own, indexed
 * like the source memory:
 *
 *   top[i]      one word per 512 bytes of the source's references, from
 *               the reference base (reference r's entry is r / 64): 0
 *               (nothing copied from there yet; with RGN_COPY_ONLY_SRC,
 *               out of scope), SCOPE (in scope, nothing copied yet), or
 *               where that range's leaf starts (leaf k: k * 64 + 2)
 *   leaf[g]     one 32-bit word per 8-byte granule of those 512 bytes
 *               (r's is r % 64): the reference of the copy of the object
 *               starting there, or 0
 *
 * Both live in mappings of the copy's own, faulted in (zeroed) as they are
 * first touched: the copy takes no block of the space for its
 * bookkeeping.  The process keeps the last copy's, cleared, for the next.
 *
 * So a lookup is two loads that follow the source's own order, with no
 * hashing: a graph built by a bump allocator and walked in about the
 * order it was built reads the table almost sequentially, the more so as
 * a dense source's leaves go out in groups, a window of 64 in source
 * order (leaf_new).  The price is memory: half the bytes of every 512
 * bytes of source the graph touches, or of every 32 KiB window of a
 * dense one (a leaf per block was 8 times that where live objects are
 * sparse among garbage: DESIGN.md 16), and the top level, 1/128 of the
 * range.
 *
 * Order.  Breadth-first (the default) keeps a queue of copies whose
 * fields are still to visit: an object's targets lie together, level by
 * level (Cheney's order).  Depth-first keeps a stack and visits fields
 * last to first, so each object is followed by its targets and then by
 * the first one's subgraph.  DESIGN.md section 16 has both measured.
 *
 * Destinations.  A region of any backend: the copy bumps through the
 * region's own fields kept in locals, and takes rgn_alloc's slow path
 * when the chunk is full.  (An image is a copy into a contiguous region,
 * written as it is: image.c.)
 *
 * Errors leave the source as it was and the destination too: a region is
 * rewound to a mark saved before (a heap region frees every copy).  A
 * reference outside the source's memory is EFAULT before anything is
 * read through it.
 */
#define _GNU_SOURCE
#include "copy.h"
#include "backend/backend.h"
#include "backend/contig.h"
#include "backend/heap.h"
#include "decode.h"
#include "region.h"
#include "resv.h"
#include "space.h"
#include "tcache.h"
#include "os/os.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LEAF_SHIFT  9                               /* a leaf covers 512 bytes */
#define LEAF_SPAN   ((size_t)1 << LEAF_SHIFT)
#define LEAF_SLOTS  (LEAF_SPAN / RGN_GRANULE)         /* 64 granules */
#define LEAF_BYTES  (LEAF_SLOTS * sizeof(uint32_t))   /* 256 bytes */
#define TOP_SCOPE   1u

/* ---- the forwarding table ------------------------------------------------------------- */

struct fwd_mem {
	uint32_t       *top;      /* top_bytes, read-write; all zero between copies */
	size_t          top_bytes;
	struct rgn_resv leaves;   /* committed from the bottom in LEAVES_STEP */
	size_t          dirty;    /* leaves' bytes below it may hold an earlier
	                             copy's words: a leaf there is cleared when
	                             it is handed out; above it they read zero */
};

struct fwd {
	const char     *origin;   /* top[i] covers [origin + i * 512, + 512);
	                             the reference base, so that a reference
	                             g's top entry is g / 64, its slot g % 64 */
	const char     *lo, *hi;  /* the source's readable bytes */
	uint32_t       *top;      /* 0, TOP_SCOPE, or leaf k as its first
	                             word's index in leaf_at */
	size_t          ntop;
	struct fwd_mem  m;
	uint32_t       *leaf_at;  /* leaf k is leaf_at + k * 64 + TOP_LEAF */
	uint32_t        nleaves;
	uint32_t       *owner;    /* owner[k]: the top entry of leaf k */
	uint32_t        nowner;   /* owner's capacity */
	size_t          clean;    /* leaves' bytes below it read zero this copy
	                             (or lie above m.dirty) */
	bool            scoped;   /* RGN_COPY_ONLY_SRC: a 0 entry is out of scope */
	bool            kept;     /* m is the kept memory's (below) */
	const rgn_region *scope;  /* the region whose spans are in scope */
};

#define TOP_LEAF 2u
#define LEAVES_STEP ((size_t)1 << 20)
#define LEAF_BATCH  16u                 /* leaves cleared at once: 4 KiB */
#define FWD_KEEP    ((size_t)16 << 20)  /* leaf bytes kept resident */

/*
 * Leaves go out one at a time, or LEAF_GROUP at once for the aligned
 * window of top entries around the one asked for (32 KiB of source), in
 * order: a window's slots then lie in source order in 16 KiB of table,
 * which the hardware's prefetching follows where one leaf per span,
 * placed as the spans are first met, interleaves the graph's streams
 * (the copy alone 0.86 of its time on a million objects, the median of
 * eight alternated pairs: DESIGN.md 16).  A group is taken while the copy has made at least LEAF_DENSE
 * objects per leaf handed out so far: a sparse source (a live object
 * every few KiB, what compaction meets) falls back to single leaves
 * after its first group, so that its table stays a leaf per span that
 * holds a live object.  A group leaves unused the places of entries that
 * had a leaf already or are out of scope (at most one group's worth per
 * window), so a table that takes groups reserves room for twice its
 * entries; GROUPS_MAX_TOP keeps a leaf's first word's index in 32 bits.
 */
#define LEAF_GROUP     64u
#define LEAF_DENSE     4u
#define GROUPS_MAX_TOP (((size_t)1 << 25) - LEAF_GROUP)

/* The most leaves a table of ntop entries hands out. */
static size_t leaves_max(size_t ntop)
{
	return ntop <= GROUPS_MAX_TOP ? 2 * ntop + LEAF_GROUP : ntop;
}

/*
 * The forwarding memory of the last copy, kept for the next one: the top
 * level all zero, the leaves' first FWD_KEEP bytes at most resident.  A
 * copy of a million objects touches about 2,200 pages of leaves, and
 * faulting them in anew cost more than the copy's own work on them
 * (DESIGN.md 16).  A kept leaf is cleared when it is handed out again,
 * just before it is used, rather than all of them after the copy.  One slot,
 * taken for the whole copy: a copy that finds it taken maps its own.
 * The work array goes with it (grown by doubling, a breadth-first copy of
 * a million objects reallocated it ten times).  rgn_space_trim gives both
 * back.
 */
#define WORK_KEEP ((size_t)1 << 20)     /* work entries kept (16 MiB) */

static struct {
	atomic_flag    busy;
	struct fwd_mem m;         /* m.top NULL: nothing kept */
	void          *work;      /* work_cap entries (struct todo), or NULL */
	size_t         work_cap;
} kept = { ATOMIC_FLAG_INIT, { 0 }, NULL, 0 };

static void copy_trim(void);

static void fwd_mem_free(struct fwd_mem *m)
{
	if (m->top) {
		rgn_resv_release(&m->leaves);
		rgn_os_release(m->top, m->top_bytes);
		m->top = NULL;
	}
}

/* Memory for ntop entries and their leaves; it reads as zero. */
static int fwd_mem_new(struct fwd_mem *m, size_t ntop)
{
	struct rgn_os_info info;
	size_t lbytes = (leaves_max(ntop) * LEAF_BYTES + LEAVES_STEP - 1) & ~(LEAVES_STEP - 1);
	void *p;
	int err;

	rgn_os_info(&info);
	m->top_bytes = (ntop * sizeof(*m->top) + info.page_size - 1) & ~(info.page_size - 1);
	if ((err = rgn_os_reserve(m->top_bytes, info.page_size, &p)) != 0)
		return err;
	if ((err = rgn_os_commit(p, m->top_bytes)) != 0 ||
	    (err = rgn_resv_reserve(&m->leaves, lbytes, info.page_size, 0, LEAVES_STEP)) != 0) {
		rgn_os_release(p, m->top_bytes);
		return err;
	}
	m->top = p;
	return 0;
}

/* Both parts are memory of the copy's own, never blocks of the space:
 * the copy neither competes with the destination for the space nor takes
 * back a destroyed region's blocks before the debug check has seen them. */
static int fwd_init(struct fwd *f, const char *origin, const char *lo, const char *hi)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->origin = origin;
	f->lo = lo;
	f->hi = hi;
	f->ntop = (size_t)(hi - origin + LEAF_SPAN - 1) >> LEAF_SHIFT;
	f->kept = !atomic_flag_test_and_set_explicit(&kept.busy, memory_order_acquire);
	if (f->kept && kept.m.top && kept.m.top_bytes >= f->ntop * sizeof(*f->top) &&
	    kept.m.leaves.size >= leaves_max(f->ntop) * LEAF_BYTES) {
		f->m = kept.m;
	} else {
		/* too small to keep using: the next one is made twice as big */
		size_t ntop = f->ntop;

		if (f->kept && kept.m.top) {
			size_t twice = 2 * (kept.m.top_bytes / sizeof(*f->top));

			ntop = twice > ntop ? twice : ntop;
			fwd_mem_free(&kept.m);
		}
		if ((err = fwd_mem_new(&f->m, ntop)) != 0) {
			if (f->kept)
				atomic_flag_clear_explicit(&kept.busy, memory_order_release);
			return err;
		}
	}
	if (f->kept)
		kept.m.top = NULL; /* taken */
	f->top = f->m.top;
	f->leaf_at = (uint32_t *)(void *)f->m.leaves.base - TOP_LEAF;
	return 0;
}

static inline uint32_t *fwd_leaf(const struct fwd *f, uint32_t top)
{
	return f->leaf_at + top;
}

/* A source reference's top entry, and its slot in that entry's leaf. */
#define TOP_OF(ref)  ((size_t)(ref) >> (LEAF_SHIFT - 3))
#define SLOT_OF(ref) ((ref) & (LEAF_SLOTS - 1))

static void unscope_span(void *arg, uint32_t b, uint32_t n);

/* The copy is done with f: its memory cleaned and kept, or unmapped. */
static void fwd_free(struct fwd *f)
{
	struct rgn_resv *v = &f->m.leaves;
	size_t used = (size_t)f->nleaves * LEAF_BYTES;

	if (!f->kept) {
		fwd_mem_free(&f->m);
		free(f->owner);
		return;
	}
	for (uint32_t k = 0; k < f->nleaves; k++)
		f->top[f->owner[k]] = 0;
	if (f->scoped)
		rgn_region_spans(f->scope, unscope_span, f);
	free(f->owner);
	if (used > f->m.dirty)
		f->m.dirty = used;
	if (v->committed > FWD_KEEP) {
		/* above what is kept: given back, reading zero */
		if (rgn_resv_purge(v, FWD_KEEP, v->committed - FWD_KEEP, false) != 0) {
			fwd_mem_free(&f->m);
		} else {
			rgn_resv_uncommit(v, FWD_KEEP);
			if (f->m.dirty > FWD_KEEP)
				f->m.dirty = FWD_KEEP;
		}
	}
	kept.m = f->m;
	atomic_store_explicit(&rgn_trim_more, copy_trim, memory_order_release);
	atomic_flag_clear_explicit(&kept.busy, memory_order_release);
}

/* rgn_space_trim gives back the forwarding memory kept for the next copy. */
static void copy_trim(void)
{
	if (!atomic_flag_test_and_set_explicit(&kept.busy, memory_order_acquire)) {
		fwd_mem_free(&kept.m);
		free(kept.work);
		kept.work = NULL;
		kept.work_cap = 0;
		atomic_flag_clear_explicit(&kept.busy, memory_order_release);
	}
}

/* Mark r's spans in scope (RGN_COPY_ONLY_SRC), and out again. */
static void scope_set(struct fwd *f, uint32_t b, uint32_t n, uint32_t v)
{
	const char *p = rgn_blk_addr(b);
	size_t i = (size_t)(p - f->origin) >> LEAF_SHIFT;
	size_t end = i + ((size_t)n << (RGN_BLOCK_SHIFT - LEAF_SHIFT));

	for (; i < end && i < f->ntop; i++)
		f->top[i] = v;
}

static void scope_span(void *arg, uint32_t b, uint32_t n)
{
	scope_set(arg, b, n, TOP_SCOPE);
}

static void unscope_span(void *arg, uint32_t b, uint32_t n)
{
	scope_set(arg, b, n, 0);
}

/* A new leaf for top entry i (of a window's group when the copy has made
 * objects objects so far and that is dense enough), all zero; NULL with
 * *err. */
static rgn_noinline uint32_t *leaf_new(struct fwd *f, size_t i, size_t objects, int *err)
{
	uint32_t k = f->nleaves, n = 1;
	size_t end;

	if (f->ntop <= GROUPS_MAX_TOP && objects >= (size_t)k * LEAF_DENSE)
		n = LEAF_GROUP;
	if (k + n > f->nowner) {
		uint32_t cap = k ? 2 * k : 256;
		uint32_t *v;

		if (cap < k + n)
			cap = k + n;
		if (!(v = realloc(f->owner, cap * sizeof(*v)))) {
			*err = ENOMEM;
			return NULL;
		}
		f->owner = v;
		f->nowner = cap;
	}
	end = ((size_t)k + n) * LEAF_BYTES;
	if ((*err = rgn_resv_commit(&f->m.leaves, end)) != 0)
		return NULL;
	/* kept leaves are cleared a batch at a time, before any of the batch
	 * is handed out (leaves go out in order; below m.dirty they are
	 * still committed, since a kept table is uncommitted only down to
	 * FWD_KEEP and m.dirty is cut to it) */
	if (end > f->clean && f->clean < f->m.dirty) {
		size_t to = end > f->clean + LEAF_BATCH * LEAF_BYTES ? end
		                                                     : f->clean + LEAF_BATCH * LEAF_BYTES;

		if (to > f->m.dirty)
			to = f->m.dirty;
		memset(f->m.leaves.base + f->clean, 0, to - f->clean);
		f->clean = to;
	}
	if (n == 1) {
		f->owner[k] = (uint32_t)i;
		f->top[i] = k * LEAF_SLOTS + TOP_LEAF;
	} else {
		/* the window's entries that may take a leaf: those without
		 * one, in scope, as i is (its callers leave out-of-scope
		 * entries alone); the others' places stay unused (their owner
		 * is i, reset twice) */
		size_t w = i & ~(size_t)(LEAF_GROUP - 1);
		uint32_t fresh = f->scoped ? TOP_SCOPE : 0;

		for (uint32_t j = 0; j < n; j++) {
			size_t x = w + j;
			bool take = x < f->ntop && f->top[x] == fresh;

			f->owner[k + j] = (uint32_t)(take ? x : i);
			if (take)
				f->top[x] = (k + j) * LEAF_SLOTS + TOP_LEAF;
		}
	}
	f->nleaves = k + n;
	rgn_assert(f->owner[k + (n == 1 ? 0 : i % LEAF_GROUP)] == i);
	return fwd_leaf(f, f->top[i]);
}

/* ---- destinations ---------------------------------------------------------------------- */

struct dest {
	char       *cur, *end;  /* the bump, kept here during the copy */
	uintptr_t   vbase;      /* a copy at p has reference (p - vbase) >> 3 */
	rgn_region *r;
};

static void dest_region(struct dest *d, rgn_region *r)
{
	d->r = r;
	d->cur = r->bump.cur;
	d->end = r->bump.end;
	d->vbase = (uintptr_t)r->bump.base;
}

/* Put the bump back in the region (before any call that uses it: the
 * region's slow path, or a caller's callback, layout_of, size_of or
 * trace, which may allocate in the destination). */
static inline void dest_sync(struct dest *d)
{
	d->r->bump.cur = d->cur;
}

/* Take the bump up again after such a call: the copy goes on after what
 * it took. */
static inline void dest_resume(struct dest *d)
{
	d->cur = d->r->bump.cur;
	d->end = d->r->bump.end;
}

/* n bytes (a multiple of 8) at a multiple of align (8, or a power of
 * two up to a page) that the current chunk cannot give: the region's own
 * allocation. */
static rgn_noinline char *dest_slow(struct dest *d, size_t n, size_t align)
{
	char *p;

	d->r->bump.cur = d->cur;
	p = rgn_alloc_aligned(d->r, n, align);
	d->cur = d->r->bump.cur;
	d->end = d->r->bump.end;
	return p;
}

static inline char *dest_alloc(struct dest *d, size_t n)
{
	char *p = d->cur;

	if (rgn_likely((size_t)(d->end - p) >= n)) {
		d->cur = p + n;
		return p;
	}
	return dest_slow(d, n, 8);
}

/* n bytes at a multiple of align (a power of two above 8, at most a
 * page, as an image keeps it).  The padding between the last copy and
 * this one is zeroed: it may hold a reused reservation's old bytes, and
 * an image writes it. */
static rgn_noinline char *dest_alloc_aligned(struct dest *d, size_t n, size_t align)
{
	char *old = d->cur;
	char *p = (char *)(((uintptr_t)old + align - 1) & ~(uintptr_t)(align - 1));

	if (p <= d->end && (size_t)(d->end - p) >= n)
		d->cur = p + n;
	else if (!(p = dest_slow(d, n, align)) || !(p > old && (size_t)(p - old) < align))
		return p; /* NULL, or elsewhere: nothing of ours before it */
	memset(old, 0, (size_t)(p - old));
	return p;
}

/* ---- the tracer ---------------------------------------------------------------------- */

/*
 * The work: copies whose fields are still to visit, a stack for
 * depth-first order and a queue for breadth-first.  Visiting a field
 * copies its target if it has not been copied, and queues the copy if it
 * has fields.  Depth-first visits an object's fields last to first, so
 * that the first field's target, copied last, is taken next: each object
 * is followed by its targets, then by the first one's subgraph, then the
 * second's.  Breadth-first visits them in order and takes the oldest copy.
 */
struct todo {
	char             *copy;
	const rgn_layout *l;
};

struct rgn_tracer {
	struct fwd        f;
	struct dest       d;
	const char       *sbase;    /* the source's reference base */
	const rgn_layout *(*layout_of)(const void *obj, void *arg);
	void             *arg;
	int               err;      /* the first error; nothing more is copied */
	struct todo      *work;     /* the stack, or the queue from head */
	size_t            nwork, head, cap;
	size_t            objects, bytes;
	bool              breadth;
	bool              space;    /* the source is the space's blocks */
	const char       *fn;       /* the public call, for debug messages */
	char             *in_lo, *in_hi; /* inside a trace callback: the copy
	                             it was given; rgn_trace's fields lie here */
	const rgn_layout *in_l;     /* and its layout, whose table's fields
	                             are the scan's, not the callback's */
	const rgn_layout *ok[2];    /* layouts checked lately */
	const struct rgn_copy_watch *watch; /* or NULL (copy.h) */
	const char       *watch_at; /* the next pass when the scan reaches it */
};

static rgn_noinline void fail(rgn_tracer *t, int err)
{
	if (!t->err)
		t->err = err;
}

/* The scan has reached the copy at done: every byte below it is final. */
static rgn_noinline void watch_pass(rgn_tracer *t, const char *done)
{
	t->watch_at = done + t->watch->step;
	t->watch->pass(t->watch->arg, done);
}

/* A layout is checked where it is met: its fields inside the fixed part. */
static bool layout_ok(const rgn_layout *l)
{
	if (!l || l->size == 0 || l->tail > RGN_TAIL_REFS || (l->nrefs && !l->refs) ||
	    l->align > 4096 || (l->align & (l->align - 1)))
		return false;
	for (uint32_t i = 0; i < l->nrefs; i++)
		if (l->refs[i] % 4 || (uint64_t)l->refs[i] + 4 > l->size)
			return false;
	if (l->tail != RGN_TAIL_NONE &&
	    (l->count_at % 4 || (uint64_t)l->count_at + 4 > l->size ||
	     (l->tail == RGN_TAIL_BYTES && l->elem == 0) ||
	     (l->tail == RGN_TAIL_REFS && l->size % 4)))
		return false;
	return true;
}

/* A layout not among those checked lately: check it (EINVAL) and keep it. */
static rgn_noinline bool layout_seen(rgn_tracer *t, const rgn_layout *l)
{
	if (!layout_ok(l)) {
		fail(t, EINVAL);
		return false;
	}
	t->ok[1] = t->ok[0];
	t->ok[0] = l;
	return true;
}

/* Room for one more entry of size bytes in the array *v of *cap entries
 * whose [*head, *n) are in use: the consumed front first, else twice the
 * entries (first cap0); false with ENOMEM kept in t. */
static rgn_noinline bool queue_grow(rgn_tracer *t, void **v, size_t *head, size_t *n,
                                    size_t *cap, size_t size, size_t cap0)
{
	size_t want = *cap ? 2 * *cap : cap0;
	void *p;

	if (*head > *n / 2) {
		memmove(*v, (char *)*v + *head * size, (*n - *head) * size);
		*n -= *head;
		*head = 0;
		return true;
	}
	if (!(p = realloc(*v, want * size))) {
		fail(t, ENOMEM);
		return false;
	}
	*v = p;
	*cap = want;
	return true;
}

/* Room for one more work entry. */
static bool work_grow(rgn_tracer *t)
{
	void *v = t->work;
	bool ok = queue_grow(t, &v, &t->head, &t->nwork, &t->cap, sizeof(*t->work), 1024);

	t->work = v;
	return ok;
}

static inline bool work_add(rgn_tracer *t, char *copy, const rgn_layout *l)
{
	if (rgn_unlikely(t->nwork == t->cap) && !work_grow(t))
		return false;
	t->work[t->nwork++] = (struct todo){ copy, l };
	return true;
}

/* The bytes of the object at p (a source object, or its copy) that its
 * layout's table says: the fixed part and the tail. */
static size_t table_size(const rgn_layout *l, const char *p)
{
	uint32_t count;

	if (l->tail == RGN_TAIL_NONE)
		return l->size;
	memcpy(&count, p + l->count_at, sizeof(count));
	return l->size + (size_t)count * (l->tail == RGN_TAIL_REFS ? 4 : l->elem);
}

#if RGN_DEBUG >= 1
static rgn_cold rgn_noreturn void dbg_free_ref(const rgn_tracer *t, const char *p)
{
	rgn_misuse(t->fn, p, "a reference into memory no region holds "
	                     "(a destroyed region's, or never handed out)");
}
#endif

/* The forwarding slot of ref, a source object, given (found empty) or
 * NULL (not looked up, or no leaf yet): made if need be.  NULL when
 * there is nothing to copy, with *nref the answer: its copy's reference
 * (copied already), ref itself (out of scope: another region's), or 0
 * on an error (kept in t). */
static uint32_t *slot_get(rgn_tracer *t, rgn_ref ref, uint32_t *slot, rgn_ref *nref)
{
	struct fwd *f = &t->f;
	size_t i = TOP_OF(ref);
	uint32_t top;
	int err = 0;

	if (!slot) {
		top = f->top[i];
		if (top > TOP_SCOPE) {
			slot = fwd_leaf(f, top) + SLOT_OF(ref);
			if ((*nref = *slot) != 0)
				return NULL;
		} else if (top == 0 && f->scoped) {
			*nref = ref;
			return NULL;
		} else if (!(slot = leaf_new(f, i, t->objects, &err))) {
			fail(t, err);
			*nref = 0;
			return NULL;
		} else {
			slot += SLOT_OF(ref);
		}
	}
#if RGN_DEBUG >= 1
	/* a new object in a block of the space no region holds: a destroyed
	 * region's (seen before anything is read there) */
	if (t->space && rgn_dbg_block_free(t->sbase + ((size_t)ref << 3)))
		dbg_free_ref(t, t->sbase + ((size_t)ref << 3));
#endif
	return slot;
}

/* The object at p, size bytes (its fixed part inside the source, checked
 * by the caller), copied to a multiple of align in the destination and
 * forwarded in *slot: its copy, or NULL on an error (kept in t). */
static char *copy_place(rgn_tracer *t, const char *p, size_t size, size_t align,
                        uint32_t *slot)
{
	size_t n = rgn_round8(size);
	char *copy;

	if (rgn_unlikely(n > (size_t)(t->f.hi - p))) {
		fail(t, EFAULT);
		return NULL;
	}
#if RGN_DEBUG >= 1
	if (t->space && rgn_dbg_block_free(p + n - 1))
		dbg_free_ref(t, p);
#endif
	copy = align > 8 ? dest_alloc_aligned(&t->d, n, align) : dest_alloc(&t->d, n);
	if (rgn_unlikely(!copy)) {
		fail(t, errno ? errno : ENOMEM);
		return NULL;
	}
	rgn_copy_bytes_(copy, p, size, n);
	*slot = (rgn_ref)(((uintptr_t)copy - t->d.vbase) >> 3);
	t->objects++;
	t->bytes += n;
	return copy;
}

/* The object at p (source reference ref) of layout l, whose forwarding
 * slot is *slot or not made yet (NULL): copied unless it has been, or out
 * of scope.  Its copy's reference (ref itself out of scope); 0 on an error
 * (kept in t). */
static rgn_noinline rgn_ref copy_one(rgn_tracer *t, rgn_ref ref, const char *p, uint32_t *slot,
                                     const rgn_layout *l)
{
	struct fwd *f = &t->f;
	size_t size;
	char *copy;
	rgn_ref nref;

	if (!(slot = slot_get(t, ref, slot, &nref)))
		return nref;
	/* its layout, its size, and room for it */
	if (rgn_unlikely(!l)) {
		l = NULL;
		if (t->layout_of) {
			dest_sync(&t->d);
			l = t->layout_of(p, t->arg);
			dest_resume(&t->d);
		}
		if (!l) {
			fail(t, EINVAL);
			return 0;
		}
	}
	if (rgn_unlikely(l != t->ok[0] && l != t->ok[1]) && !layout_seen(t, l))
		return 0;
	if (rgn_unlikely((size_t)(f->hi - p) < l->size)) {
		fail(t, EFAULT);
		return 0;
	}
	size = table_size(l, p);
	if (rgn_unlikely(l->size_of != NULL)) {
		size_t whole;

		dest_sync(&t->d);
		whole = l->size_of(p);
		dest_resume(&t->d);

		/* the fields the table names lie inside what is copied (the
		 * scan rewrites them there): a smaller size is a bad one */
		if (whole < (l->tail == RGN_TAIL_REFS ? size : l->size)) {
			fail(t, EINVAL);
			return 0;
		}
		size = whole;
	}
	/* (size >= l->size >= 1, and cannot wrap: 32-bit count times 32-bit
	 * elem, plus a 32-bit size) */
	if (!(copy = copy_place(t, p, size, l->align > 8 ? l->align : 8, slot)))
		return 0;
	if ((l->nrefs || l->tail == RGN_TAIL_REFS || l->trace) && !work_add(t, copy, l))
		return 0;
	return *slot;
}

/* A reference field of a copy: rewritten to its target's copy.  The
 * lookup is inline (two loads); copying is not. */
static inline void visit(rgn_tracer *t, rgn_ref *field, const rgn_layout *to)
{
	const struct fwd *f = &t->f;
	rgn_ref ref = *field;
	const char *p;
	uint32_t *slot = NULL, top;

	if (!ref)
		return;
	p = t->sbase + ((size_t)ref << 3);
	if (rgn_unlikely(p < f->lo || p >= f->hi)) {
		fail(t, EFAULT);
		return;
	}
	top = f->top[TOP_OF(ref)];
	if (rgn_likely(top > TOP_SCOPE)) {
		slot = fwd_leaf(f, top) + SLOT_OF(ref);
		if (rgn_likely(*slot != 0)) {
			*field = *slot;
			return;
		}
	}
	*field = copy_one(t, ref, p, slot, to);
}

/* Is the field at offset off of copy, of layout l, one its table names
 * (a fixed reference, or one of a tail of references)? */
static bool table_field(const rgn_layout *l, const char *copy, uintptr_t off)
{
	for (uint32_t k = 0; k < l->nrefs; k++)
		if (l->refs[k] == off)
			return true;
	return l->tail == RGN_TAIL_REFS && off >= l->size && off < table_size(l, copy);
}

RGN_API void rgn_trace(rgn_tracer *t, rgn_ref *field, const rgn_layout *to)
{
	uintptr_t at = (uintptr_t)field, lo, hi;

	if (!t || !field) {
		if (t)
			fail(t, EINVAL);
		return;
	}
	if (t->err)
		return;
	/* a field of the copy being traced, and nothing else: anywhere else
	 * (the source, which must stay as it was, another object, a local)
	 * would be rewritten */
	lo = (uintptr_t)t->in_lo;
	hi = (uintptr_t)t->in_hi;
	if (at < lo || at > hi || hi - at < sizeof(*field) || at % sizeof(*field)) {
		fail(t, EINVAL);
		return;
	}
	/* nor one the table names: the scan rewrites those, and a second
	 * rewrite would read a copy's reference as the source's */
	if (table_field(t->in_l, t->in_lo, at - lo)) {
		fail(t, EINVAL);
		return;
	}
	/* the bump is the region's during the callback (trace_call) */
	dest_resume(&t->d);
	visit(t, field, to);
	dest_sync(&t->d);
}

/* A trace callback's turn: the copy's bytes, as its layout sizes them
 * (size_of asked of the copy: only references differ from the source),
 * are where its rgn_trace calls may point. */
static rgn_noinline void trace_call(rgn_tracer *t, char *copy, const rgn_layout *l)
{
	size_t size = table_size(l, copy);

	dest_sync(&t->d);
	if (l->size_of) {
		size_t whole = l->size_of(copy);

		if (whole > size)
			size = whole;
	}
	t->in_lo = copy;
	t->in_hi = copy + size;
	t->in_l = l;
	l->trace(t, copy);
	dest_resume(&t->d);
	t->in_lo = t->in_hi = NULL;
	t->in_l = NULL;
}

/* Visit every reference field of a copy: in order, or last to first. */
static inline void scan(rgn_tracer *t, char *copy, const rgn_layout *l, bool backwards)
{
	rgn_ref *tail = (rgn_ref *)(void *)(copy + l->size);
	uint32_t count = 0;

	if (l->tail == RGN_TAIL_REFS)
		memcpy(&count, copy + l->count_at, sizeof(count));
	if (backwards) {
		if (l->trace)
			trace_call(t, copy, l);
		for (uint32_t k = count; k-- > 0;)
			visit(t, tail + k, l->tail_to);
		for (uint32_t k = l->nrefs; k-- > 0;)
			visit(t, (rgn_ref *)(void *)(copy + l->refs[k]), l->to ? l->to[k] : NULL);
	} else {
		for (uint32_t k = 0; k < l->nrefs; k++)
			visit(t, (rgn_ref *)(void *)(copy + l->refs[k]), l->to ? l->to[k] : NULL);
		for (uint32_t k = 0; k < count; k++)
			visit(t, tail + k, l->tail_to);
		if (l->trace)
			trace_call(t, copy, l);
	}
}

/*
 * The drain's common case, kept in locals: the tracer's fields cannot
 * stay in registers through t, since the copied bytes may alias them, and
 * the loop waited on reloading them (DESIGN.md 16).  A field is done
 * here when its target is copied already, or is new, of a plain layout
 * checked lately (plain(), below), inside the source, with room at the
 * destination and in the work; anything else goes to visit() with t in
 * sync.
 */
struct hot {
	const char       *sbase, *hi;
	uint32_t          gtop;          /* a reference in the table is below it */
	uint32_t          rlo;           /* a new object's is at least this */
	const uint32_t   *top;
	uint32_t         *leaf_at;
	char             *cur, *end, *cur0;
	uintptr_t         vbase;
	struct todo      *work, *rd, *wr, *wend; /* queue [rd, wr), stack [work, wr) */
	size_t            objects;
	const rgn_layout *plain0, *plain1; /* t->ok's plain ones, never NULL */
	struct fwd       *f;             /* for new leaves */
	const char       *watch_at;      /* t's */
};

/* Copied here, every field visited here: sized by its table, no trace
 * callback, no tail of references, every target's layout in the table,
 * a granule's alignment. */
static inline const rgn_layout *plain(const rgn_layout *l)
{
	return l && (l->to || !l->nrefs) && !l->size_of && !l->trace &&
	               l->tail != RGN_TAIL_REFS && l->align <= 8
	               ? l : NULL;
}

static const rgn_layout no_layout;

static rgn_always_inline void hot_load(struct hot *h, rgn_tracer *t)
{
	*h = (struct hot){
		.sbase = t->sbase, .hi = (const char *)((uintptr_t)t->f.hi & ~(uintptr_t)7),
		.gtop = (uint32_t)((size_t)(t->f.hi - t->sbase + 7) >> 3),
		.rlo = (uint32_t)((size_t)(t->f.lo - t->sbase + 7) >> 3),
		.top = t->f.top, .leaf_at = t->f.leaf_at,
		.cur = t->d.cur, .end = t->d.end, .cur0 = t->d.cur, .vbase = t->d.vbase,
		.work = t->work, .rd = t->work + t->head, .wr = t->work + t->nwork,
		.wend = t->work + t->cap, .objects = t->objects,
		.plain0 = plain(t->ok[0]), .plain1 = plain(t->ok[1]),
		.f = &t->f, .watch_at = t->watch_at,
	};
	/* never NULL, so that a NULL layout matches neither */
	if (!h->plain0)
		h->plain0 = &no_layout;
	if (!h->plain1)
		h->plain1 = h->plain0;
}

static rgn_always_inline void hot_store(const struct hot *h, rgn_tracer *t)
{
	t->d.cur = h->cur;
	t->head = (size_t)(h->rd - h->work);
	t->nwork = (size_t)(h->wr - h->work);
	t->objects = h->objects;
	t->bytes += (size_t)(h->cur - h->cur0);
}

/* *field's target, found or copied: true, or false with nothing done.
 * Found, it costs a bound and two loads, all in granules: the table
 * counts from the reference base, so a reference's top entry is ref / 64
 * and its slot ref % 64.  Below the source's first byte there are top
 * entries (f.origin <= f.lo) but no copies: a slot there reads 0, and a
 * new object's reference is checked against rlo. */
static rgn_always_inline bool hot_visit(struct hot *h, rgn_ref *field, const rgn_layout *l)
{
	rgn_ref ref = *field, nref;
	uint32_t top, *slot, count;
	const char *p;
	size_t size, n, room;
	char *copy;

	if (!ref)
		return true;
	if (rgn_unlikely(ref >= h->gtop))
		return false;
	top = h->top[TOP_OF(ref)];
	if (rgn_likely(top > TOP_SCOPE)) {
		slot = h->leaf_at + top + SLOT_OF(ref);
		nref = *slot;
		if (nref) {
			*field = nref;
			return true;
		}
	} else {
		/* no copy from these 512 bytes yet: a leaf for them, if they
		 * are in scope and the source's (an error is met again in
		 * copy_one, and kept) */
		int err;

		if ((top == 0 && h->f->scoped) || ref < h->rlo ||
		    !(slot = leaf_new(h->f, TOP_OF(ref), h->objects, &err)))
			return false;
		slot += SLOT_OF(ref);
	}
#if RGN_DEBUG >= 1
	return false; /* copy_one checks the source's block first */
#endif
	/* the fixed part inside the source before its count is read; room
	 * is whole granules (f.hi is), so size fitting is n fitting */
	p = h->sbase + ((size_t)ref << 3);
	room = (size_t)(h->hi - p);
	if (rgn_unlikely(l != h->plain0 && l != h->plain1))
		return false;
	size = l->size;
	if (rgn_unlikely(ref < h->rlo || room < size))
		return false;
	if (l->tail == RGN_TAIL_BYTES) {
		/* (a 32-bit count of 32-bit elements cannot overflow) */
		memcpy(&count, p + l->count_at, sizeof(count));
		size += (size_t)count * l->elem;
		if (rgn_unlikely(room < size))
			return false;
	}
	n = rgn_round8(size);
	copy = h->cur;
	if (rgn_unlikely(n > (size_t)(h->end - copy)))
		return false;
	if (l->nrefs) {
		if (rgn_unlikely(h->wr == h->wend))
			return false;
		h->wr->copy = copy;
		h->wr->l = l;
		h->wr++;
	}
	h->cur = copy + n;
	rgn_copy_bytes_(copy, p, size, n);
	nref = (rgn_ref)(((uintptr_t)copy - h->vbase) >> 3);
	*slot = nref;
	*field = nref;
	h->objects++;
	return true;
}

/* A field hot_visit could not do: done by visit() with t in sync; leaves
 * the drain on an error. */
#define COLD_VISIT(field, to)                  \
	do {                                   \
		hot_store(&h, t);              \
		visit(t, (field), (to));       \
		hot_load(&h, t);               \
		if (t->err)                    \
			goto out;              \
	} while (0)

#define HOT_FIELD(copy, refs, to, k)                                                   \
	do {                                                                           \
		rgn_ref *field_ = (rgn_ref *)(void *)((copy) + (refs)[k]);             \
		if (rgn_unlikely(!hot_visit(&h, field_, (to)[k])))                     \
			COLD_VISIT(field_, (to)[k]);                                   \
	} while (0)

/* Take copies off the work and visit their fields until none is left:
 * breadth-first the oldest, in field order; depth-first the newest, last
 * field first.  Layouts of two and three fields (a pair, a node) are
 * unrolled.  watched (breadth-first into a reservation): the watch is
 * told as the copies taken pass its next point, everything below them
 * final. */
static rgn_always_inline void drain(rgn_tracer *t, bool breadth, bool watched)
{
	struct hot h;

	hot_load(&h, t);
	while (breadth ? h.rd < h.wr : h.wr > h.work) {
		struct todo w = breadth ? *h.rd++ : *--h.wr;
		const rgn_layout *l = w.l;

		if (watched && rgn_unlikely(w.copy >= h.watch_at)) {
			hot_store(&h, t);
			watch_pass(t, w.copy);
			hot_load(&h, t);
		}

		if (rgn_likely(l == h.plain0 || l == h.plain1)) {
			/* (read once: the stores below may alias the table) */
			const uint32_t nrefs = l->nrefs, *refs = l->refs;
			const rgn_layout *const *to = l->to;

			if (nrefs == 3) {
				HOT_FIELD(w.copy, refs, to, breadth ? 0 : 2);
				HOT_FIELD(w.copy, refs, to, 1);
				HOT_FIELD(w.copy, refs, to, breadth ? 2 : 0);
			} else if (nrefs == 2) {
				HOT_FIELD(w.copy, refs, to, breadth ? 0 : 1);
				HOT_FIELD(w.copy, refs, to, breadth ? 1 : 0);
			} else {
				for (uint32_t i = 0; i < nrefs; i++)
					HOT_FIELD(w.copy, refs, to, breadth ? i : nrefs - 1 - i);
			}
		} else {
			hot_store(&h, t);
			scan(t, w.copy, l, !breadth);
			hot_load(&h, t);
			if (t->err)
				goto out;
		}
	}
out:
	hot_store(&h, t);
	if (breadth && !t->err)
		t->nwork = t->head = 0;
}

#undef HOT_FIELD
#undef COLD_VISIT

static void drain_depth(rgn_tracer *t)
{
	drain(t, false, false);
}

static void drain_breadth(rgn_tracer *t)
{
	drain(t, true, false);
}

/* (out of line: two drains inlined where they are called, as before
 * there was a third, keep their code as it was, 5 % fewer instructions) */
static rgn_noinline void drain_watched(rgn_tracer *t)
{
	drain(t, true, true);
}

/* ---- the copy ---------------------------------------------------------------------- */

/* The source's reference base and readable range; 0 or an errno. */
static int source_of(const rgn_region *src, const char **base, const char **lo,
                     const char **hi)
{
	if (src && src->backend == RGN_BACKEND_CONTIG) {
		const char *b;
		size_t objects, used;
		int err = rgn_contig_used_range(src, &b, &objects, &used);

		if (err)
			return err;
		*base = b;
		*lo = b + objects;
		*hi = b + used;
		return 0;
	}
	*base = rgn_blocks_ref_base();
	*lo = rgn_space_g.base + RGN_BLOCK_SIZE;
	*hi = *lo + rgn_space_committed();
	return 0;
}

static bool options_ok(const rgn_copy_options *o)
{
	return !o || (o->order <= RGN_COPY_DEPTH &&
	              (o->flags & ~(RGN_COPY_ONLY_SRC | RGN_COPY_OVERLAP)) == 0);
}

/* Set up t to copy from src; the destination is the caller's to set. */
static int tracer_init(rgn_tracer *t, const char *fn, const rgn_region *src,
                       const rgn_copy_options *o)
{
	const char *lo, *hi;
	int err;

	memset(t, 0, sizeof(*t));
	if (src && !rgn_live(src))
		return EINVAL;
	if ((err = rgn_space_ensure()) != 0 ||
	    (err = source_of(src, &t->sbase, &lo, &hi)) != 0)
		return err;
	/* the table counts from the reference base */
	if ((err = fwd_init(&t->f, t->sbase, lo, hi)) != 0)
		return err;
	t->space = !src || src->backend != RGN_BACKEND_CONTIG;
	t->fn = fn;
	t->breadth = !o || o->order == RGN_COPY_BREADTH; /* NULL: the default */
	if (o) {
		t->layout_of = o->layout_of;
		t->arg = o->arg;
		/* a reservation's range is its scope already; the space's is
		 * narrowed to src's spans */
		if ((o->flags & RGN_COPY_ONLY_SRC) && src && src->backend != RGN_BACKEND_CONTIG) {
			t->f.scoped = true;
			t->f.scope = src;
			rgn_region_spans(src, scope_span, &t->f);
		}
	}
	if (t->f.kept) {
		t->work = kept.work;
		t->cap = kept.work_cap;
		kept.work = NULL;
		kept.work_cap = 0;
	}
	return 0;
}

static void tracer_free(rgn_tracer *t)
{
	/* (the kept slot is still t's until fwd_free lets it go) */
	if (t->f.kept && t->cap <= WORK_KEEP) {
		kept.work = t->work;
		kept.work_cap = t->cap;
	} else {
		free(t->work);
	}
	fwd_free(&t->f);
}

/* Copy every root, each followed by what it reaches. */
static int trace_roots(rgn_tracer *t, rgn_ref *out, const rgn_ref *roots, size_t n,
                       const rgn_layout *l)
{
	if (l && !layout_ok(l))
		return EINVAL;
	for (size_t i = 0; i < n && !t->err; i++) {
		out[i] = roots[i];
		visit(t, &out[i], l);
		if (t->watch)
			drain_watched(t);
		else if (t->breadth)
			drain_breadth(t);
		else
			drain_depth(t);
	}
	return t->err;
}

/* After an error: dst as it was at mark m (a heap destination, which has
 * no marks: every copy made freed, found through the forwarding leaves). */
static void dest_undo(rgn_tracer *t, rgn_region *dst, rgn_mark m)
{
	if (dst->backend != RGN_BACKEND_HEAP) {
		(void)rgn_rewind(dst, m);
		return;
	}
	for (uint32_t k = 0; k < t->f.nleaves; k++) {
		const uint32_t *leaf = fwd_leaf(&t->f, k * LEAF_SLOTS + TOP_LEAF);

		for (size_t g = 0; g < LEAF_SLOTS; g++)
			if (leaf[g])
				rgn_free(dst, rgn_ptr_in(dst, leaf[g]), 0);
	}
}

int rgn_copy_as(const char *fn, rgn_region *dst, const rgn_region *src, rgn_ref *roots,
                size_t nroots, const rgn_layout *l, rgn_copy_options *o,
                const struct rgn_copy_watch *watch)
{
	rgn_tracer t;
	rgn_ref small[8], *out = small;
	bool heap = dst->backend == RGN_BACKEND_HEAP;
	rgn_mark m;
	int err;

	if (!options_ok(o))
		return EINVAL;
	if (nroots > 8 && !(out = malloc(nroots * sizeof(*out))))
		return ENOMEM;
	err = tracer_init(&t, fn, src, o);
	if (err)
		goto out;
	/* never NULL in a drain, which takes pointers into it */
	if (!t.work && !work_grow(&t)) {
		err = ENOMEM;
		goto done;
	}
	/* references left as they are must mean the same in dst */
	if (t.f.scoped && dst->bump.base != t.sbase) {
		err = EINVAL;
		goto done;
	}
	m = heap ? (rgn_mark){ 0 } : rgn_save(dst);
	dest_region(&t.d, dst);
	/* a reservation's copies lie in the order breadth-first scans them */
	if (watch && t.breadth && dst->backend == RGN_BACKEND_CONTIG) {
		t.watch = watch;
		t.watch_at = t.d.cur + watch->step;
	}
	err = trace_roots(&t, out, roots, nroots, l);
	dest_sync(&t.d);
	if (err) {
		if (t.watch)
			watch->stop(watch->arg);
		dest_undo(&t, dst, m);
		goto done;
	}
	if (nroots)
		memcpy(roots, out, nroots * sizeof(*out));
	if (o) {
		o->objects = t.objects;
		o->bytes = t.bytes;
	}
done:
	tracer_free(&t);
out:
	if (out != small)
		free(out);
	return err;
}

static int args_check(const rgn_region *r, const rgn_ref *roots, size_t nroots,
                      const rgn_copy_options *o)
{
	if (!r || !rgn_live(r) || (nroots && !roots) || !options_ok(o))
		return EINVAL;
	return 0;
}

RGN_API int rgn_copy(rgn_region *dst, const rgn_region *src, rgn_ref *roots, size_t nroots,
                     const rgn_layout *root_layout, rgn_copy_options *opts)
{
	int err = args_check(dst, roots, nroots, opts);

	if (!err)
		err = rgn_copy_as("rgn_copy", dst, src, roots, nroots, root_layout, opts, NULL);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ---- the compiled copy (rgn_copier, rgn.h) ------------------------------------------------ */

/*
 * The caller's code drives the drain: rgn_copier's fields are struct
 * hot's, public so that its inline functions can bump, look up and queue
 * with every size a constant of the caller's.  Between calls into the
 * library the hot ones (rgn_copier_hot_) are the truth and t's copies of
 * them stale: the out-of-line paths put them into t (copier_store), do
 * the work as rgn_copy does, and give them back (copier_load).  The
 * queue is the copier's own: 8 bytes an entry (a copy's reference and
 * the caller's kind).
 */
struct copier {
	rgn_tracer               t;       /* first: rgn_copier.t_ points at both */
	rgn_region              *dst;
	rgn_mark                 m;       /* dst before the copy (not a heap region) */
	rgn_copy_options        *opts;
	struct rgn_copier_todo_ *q;       /* the queue [head, n) of cap */
	size_t                   head, n, cap;
	const struct rgn_copy_watch *img; /* an image copier's writer, or NULL */
};

static void copier_load(struct rgn_copier_hot_ *h, const rgn_tracer *t)
{
	const struct copier *k = (const struct copier *)(const void *)t;

	h->cur = t->d.cur;
	/* debug builds: every new object out of line, where it is checked */
	h->end = RGN_DEBUG >= 1 ? t->d.cur : t->d.end;
	h->rd = k->q + k->head;
	h->wr = k->q + k->n;
	h->wend = k->q + k->cap;
	h->objects = t->objects;
	h->gtop = (uint32_t)((size_t)(t->f.hi - t->sbase + 7) >> 3);
	if (t->err) {
		/* nothing more: every reference out of line, no copy to scan */
		h->gtop = 0;
		h->rd = h->wr;
	}
}

static void copier_store(const struct rgn_copier_hot_ *h, rgn_tracer *t)
{
	struct copier *k = (struct copier *)(void *)t;

	/* (the inline path bumps within the chunk copier_load gave) */
	t->bytes += (size_t)(h->cur - t->d.cur);
	t->d.cur = h->cur;
	k->head = (size_t)(h->rd - k->q);
	k->n = (size_t)(h->wr - k->q);
	t->objects = h->objects;
}

/* Room for one more entry in the queue. */
static bool copier_grow(struct copier *k)
{
	void *v = k->q;
	bool ok = queue_grow(&k->t, &v, &k->head, &k->n, &k->cap, sizeof(*k->q), 4096);

	k->q = v;
	return ok;
}

int rgn_copier_start(rgn_copier *c, rgn_region *dst, const rgn_region *src,
                     rgn_copy_options *opts, const struct rgn_copy_watch *img)
{
	struct copier *k = NULL;
	int err;

	if (!c)
		return EINVAL;
	memset(c, 0, sizeof(*c));
	c->watch_ = UINTPTR_MAX;
	err = args_check(dst, NULL, 0, opts);
	if (!err && opts && opts->order != RGN_COPY_BREADTH)
		err = EINVAL;
	if (!err && !(k = malloc(sizeof(*k))))
		err = ENOMEM;
	if (!err && (err = tracer_init(&k->t, "rgn_copier_ref", src, opts)) == 0) {
		k->q = NULL;
		k->head = k->n = k->cap = 0;
		if (!copier_grow(k))
			err = ENOMEM;
		else if (k->t.f.scoped && dst->bump.base != k->t.sbase)
			err = EINVAL; /* references left as they are: as rgn_copy */
		if (err) {
			free(k->q);
			tracer_free(&k->t);
		}
	}
	if (err) {
		free(k);
		return err;
	}
	k->dst = dst;
	k->img = img;
	k->m = dst->backend == RGN_BACKEND_HEAP ? (rgn_mark){ 0 } : rgn_save(dst);
	k->opts = opts;
	dest_region(&k->t.d, dst);
	copier_load(&c->h_, &k->t);
	c->sbase_ = k->t.sbase;
	c->hi_ = (const char *)((uintptr_t)k->t.f.hi & ~(uintptr_t)7);
	c->top_ = k->t.f.top;
	c->leaf_at_ = k->t.f.leaf_at;
	c->vbase_ = k->t.d.vbase;
	c->rlo_ = (uint32_t)((size_t)(k->t.f.lo - k->t.sbase + 7) >> 3);
	c->t_ = &k->t;
	/* copies lie in the order the scan meets them (a reservation) */
	if (img && img->step && dst->backend == RGN_BACKEND_CONTIG)
		c->watch_ = (uintptr_t)k->t.d.cur + img->step;
	return 0;
}

RGN_API int rgn_copier_begin_(rgn_copier *c, rgn_region *dst, const rgn_region *src,
                              rgn_copy_options *opts)
{
	int err = rgn_copier_start(c, dst, src, opts, NULL);

	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* The scan has reached done: everything below it is final.  The next
 * place to say so. */
RGN_API uintptr_t rgn_copier_pass_(rgn_tracer *t, const void *done)
{
	const struct copier *k = (const struct copier *)(const void *)t;

	if (!t)
		return UINTPTR_MAX; /* (watch_ is finite only with a writer) */
	k->img->pass(k->img->arg, done);
	return (uintptr_t)done + k->img->step;
}

/* rgn_copy's visit with the caller's sizes: the object copied (and
 * queued with kind) unless it has been; its copy's reference, or 0. */
static rgn_ref copier_one(rgn_tracer *t, rgn_ref ref, uint32_t size, uint32_t count_at,
                          uint32_t elem, uint32_t kind)
{
	const char *p = t->sbase + ((size_t)ref << 3);
	size_t whole = size;
	uint32_t count, *slot;
	rgn_ref nref;

	if (size == 0 || (elem && (uint64_t)count_at + 4 > size)) {
		fail(t, EINVAL);
		return 0;
	}
	if (p < t->f.lo || p >= t->f.hi || (size_t)(t->f.hi - p) < size) {
		fail(t, EFAULT);
		return 0;
	}
	if (!(slot = slot_get(t, ref, NULL, &nref)))
		return nref;
	if (elem) {
		memcpy(&count, p + count_at, sizeof(count));
		whole += (size_t)count * elem;
	}
	if (!copy_place(t, p, whole, 8, slot))
		return 0;
	if (kind != RGN_COPIER_NO_REFS) {
		struct copier *k = (struct copier *)(void *)t;

		if (k->n == k->cap && !copier_grow(k))
			return 0;
		k->q[k->n++] = (struct rgn_copier_todo_){ *slot, kind };
	}
	return *slot;
}

RGN_API rgn_ref rgn_copier_slow_(rgn_tracer *t, struct rgn_copier_hot_ *h, rgn_ref ref,
                                 uint32_t size, uint32_t count_at, uint32_t elem,
                                 uint32_t kind)
{
	rgn_ref nref = 0;

	if (!t)
		return 0; /* a copier whose begin failed, or spent */
	copier_store(h, t);
	if (!t->err && ref)
		nref = copier_one(t, ref, size, count_at, elem, kind);
	copier_load(h, t);
	return t->err ? 0 : nref;
}

RGN_API int rgn_copier_end_(rgn_tracer *t, const struct rgn_copier_hot_ *h, rgn_ref root,
                            int image)
{
	struct copier *k = (struct copier *)(void *)t;
	const struct rgn_copy_watch *img;
	int err;

	if (!t) {
		errno = EINVAL;
		return -1;
	}
	copier_store(h, t);
	img = k->img;
	if (k->head != k->n)
		fail(t, EINVAL); /* copies left with the source's references */
	if (!image != !img)
		fail(t, EINVAL); /* the end of the other kind of copier */
	dest_sync(&t->d);
	err = t->err;
	if (err) {
		if (img)
			img->stop(img->arg); /* nothing more read from dst */
		dest_undo(t, k->dst, k->m);
	}
	free(k->q);
	/* the image written, or dropped, and dst with it */
	if (img)
		err = img->end(img->arg, root, err);
	if (!err && k->opts) {
		k->opts->objects = t->objects;
		k->opts->bytes = t->bytes;
	}
	tracer_free(t);
	free(k);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ---- compaction ---------------------------------------------------------------------- */

/* t's copies of r's cleanup records, in the same order (the cancelled
 * ones dropped); NULL with *err on ENOMEM. */
static struct rgn_cleanup *cleanups_into(rgn_region *t, const struct rgn_cleanup *c, int *err)
{
	struct rgn_cleanup *head = NULL, **tail = &head;

	for (; c; c = c->next) {
		struct rgn_cleanup *n;

		if (!c->fn)
			continue;
		n = rgn_alloc(t, sizeof(*n));
		if (!n) {
			*err = ENOMEM;
			return NULL;
		}
		*n = (struct rgn_cleanup){ NULL, c->fn, c->arg };
		*tail = n;
		tail = &n->next;
	}
	return head;
}

RGN_API int rgn_compact(rgn_region *r, rgn_ref *roots, size_t nroots,
                        const rgn_layout *root_layout, rgn_copy_options *opts)
{
	rgn_copy_options o = { 0 };
	struct rgn_cleanup *cl = NULL;
	rgn_region *t = NULL;
	int err = args_check(r, roots, nroots, opts);

	if (!err && r->tail_floor && r->bump.cur == r->tail_at)
		err = EBUSY;
	if (!err) {
		rgn_options ro = { .backend = r->backend };

		if (r->backend == RGN_BACKEND_CONTIG)
			ro.reserve = rgn_contig_reserve_of(r);
		else if (r->backend == RGN_BACKEND_HEAP)
			ro.chunk_max = rgn_heap_chunk_max_of(r);
		t = rgn_new_with(NULL, &ro);
		if (!t)
			err = errno;
	}
	if (!err) {
		if (opts)
			o = *opts;
		o.flags |= RGN_COPY_ONLY_SRC; /* (a reservation is its own scope) */
		err = rgn_copy_as("rgn_compact", t, r, roots, nroots, root_layout, &o, NULL);
	}
	if (!err && r->cleanups)
		cl = cleanups_into(t, r->cleanups, &err);
	/* the copy back into a contiguous r cannot fail once r has room */
	if (!err && r->backend == RGN_BACKEND_CONTIG)
		err = rgn_contig_room_for(r, t);
	if (err) {
		rgn_destroy(t);
		errno = err;
		return -1;
	}
	{
		ptrdiff_t delta = r->bump.base - t->bump.base;

		r->cleanups = NULL;
		rgn_region_replace(r, t);
		/* records copied with t's bytes sit at the same offsets from
		 * r's base (delta 0 where t's memory became r's) */
		if (cl && delta) {
			cl = (struct rgn_cleanup *)(void *)((char *)cl + delta);
			for (struct rgn_cleanup *c = cl; c->next; c = c->next)
				c->next = (struct rgn_cleanup *)(void *)((char *)c->next + delta);
		}
		r->cleanups = cl;
	}
	if (opts) {
		opts->objects = o.objects;
		opts->bytes = o.bytes;
	}
	return 0;
}
