/*
 * backend/contig.c - the contiguous backend (RGN_BACKEND_CONTIG): each
 * region owns one reservation of its own, and the process keeps a
 * bounded cache of reservations for reuse.
 *
 * A contiguous region owns one reservation: size bytes of address space
 * (1 MiB to 32 GiB), reserved inaccessible (resv.c).  Its first page
 * stays so (reference 0 decodes into it and faults); the region header
 * follows, then the region's objects, bump-allocated upwards.  The
 * read-write part grows from the bottom in RGN_CONTIG_COMMIT steps, so a
 * reservation is three mappings at most whatever it holds.  Pages are
 * faulted in on first touch; committing costs no memory.  A region is
 * one range: no chunks, no large spans, no chain; the slow path only
 * moves the frontier, and destroy hands the whole reservation back at
 * once.
 *
 * Where reservations come from and where they go is decided here too:
 *   - a process-wide cap on live reservations (rgn_contig_config.max_live,
 *     none by default), so that running out is an error that tests can
 *     reach cheaply, before the OS's own limit (about 4094 reservations of
 *     32 GiB in a 47-bit address space, or the 65530-mapping limit);
 *   - a bounded cache of reservations given back by rgn_destroy (LIFO, by
 *     exact size), which saves the mmap/munmap pair and keeps the commit
 *     frontier; pages above the region's retained size are purged on the
 *     way in (DONTNEED, FREE or not at all);
 *   - when the OS refuses a reservation, the cache is emptied and the
 *     request tried once more.
 *
 * One lock covers the cache and the counters.  System calls (mmap,
 * munmap, madvise) run outside it.  A region itself, as every region,
 * belongs to one thread at a time.
 */
#include "contig.h"
#include "../decode.h"
#include "../lock.h"
#include "../resv.h"
#include "../space.h"

#include <string.h>

/*
 * The header, one guard page into the region's reservation.  Invariants:
 *   h.bump.base == resv.base; (char *)r == resv.base + RGN_CONTIG_GUARD
 *   h.chunk_start == (char *)r + HDR <= h.bump.cur <= h.bump.end
 *                 == resv.base + resv.committed
 */
struct contig_region {
	struct rgn_region h;
	struct rgn_resv   resv;        /* the reservation the region lives in */
	size_t            retain;      /* bytes reset and the cache keep */
	uint32_t          release;     /* rgn_release, for destroy */
};

#define HDR ((sizeof(struct contig_region) + 7) & ~(size_t)7)

static inline struct contig_region *C(rgn_region *r)
{
	return (struct contig_region *)r;
}

static inline const struct contig_region *CC(const rgn_region *r)
{
	return (const struct contig_region *)r;
}

static struct {
	struct rgn_lock   lock;
	rgn_contig_config cfg;       /* resolved: no zero-means-default left */
	size_t            live;      /* reservations held by regions */
	size_t            ncached;   /* cache[0, ncached), oldest first */
	struct rgn_resv   cache[RGN_CONTIG_CACHE_LIMIT];
	size_t            reserved;  /* bytes of live + cached reservations */
	size_t            maps, unmaps, reuses, refused, purged_bytes;
} ct = {
	.lock = RGN_LOCK_INIT(RGN_RANK_CONTIG, NULL, NULL),
	.cfg = {
		.release = RGN_RELEASE_CACHE,
		.purge = RGN_PURGE_DONTNEED,
		.cache_max = RGN_CONTIG_CACHE_DEFAULT,
	},
};

/* ---- reservations: giving pages back  ------------------------------------------------------- */


static rgn_purge purge_setting(void)
{
	rgn_purge p;

	rgn_lock(&ct.lock);
	p = ct.cfg.purge;
	rgn_unlock(&ct.lock);
	return p;
}

static void count_purged(size_t n)
{
	if (!n)
		return;
	rgn_lock(&ct.lock);
	ct.purged_bytes += n;
	rgn_unlock(&ct.lock);
}

/* Give back the pages above offset keep (rounded up to a page), then make
 * the commit steps wholly above it inaccessible again, so that the
 * read-write part never reaches past what may be resident: the next purge
 * of this reservation covers only what was used since (a madvise over a
 * large untouched range still walks its page tables).  Returns the bytes
 * given back; v->committed may shrink. */
static size_t trim_with(struct rgn_resv *v, size_t keep, rgn_purge p)
{
	size_t n, step;

	if (keep >= v->committed || p == RGN_PURGE_NONE)
		return 0;
	keep = (keep + RGN_BLOCK_SIZE - 1) & ~(size_t)(RGN_BLOCK_SIZE - 1);
	if (keep < RGN_CONTIG_GUARD)
		keep = RGN_CONTIG_GUARD;
	step = (keep + RGN_CONTIG_COMMIT - 1) & ~(RGN_CONTIG_COMMIT - 1);
	/* less than a commit step above keep: not worth a system call (at
	 * most one step more than keep stays resident) */
	if (step >= v->committed)
		return 0;
	n = v->committed - keep;
	if (rgn_resv_purge(v, keep, n, p == RGN_PURGE_FREE) != 0)
		n = 0;
	rgn_resv_uncommit(v, step);
	return n;
}

static void resv_trim(struct rgn_resv *v, size_t keep)
{
	count_purged(trim_with(v, keep, purge_setting()));
}

/* ---- reservations -------------------------------------------------------------- */

/* Take a cached reservation of size bytes.  Caller holds the lock. */
static bool cache_take_locked(size_t size, struct rgn_resv *out)
{
	rgn_assert_locked(&ct.lock);
	for (size_t i = ct.ncached; i-- > 0;) {
		if (ct.cache[i].size != size)
			continue;
		*out = ct.cache[i];
		memmove(&ct.cache[i], &ct.cache[i + 1],
		        (ct.ncached - i - 1) * sizeof ct.cache[0]);
		ct.ncached--;
		return true;
	}
	return false;
}

static void unmap(struct rgn_resv *v)
{
	/* ASan keeps shadow state by address: leave none behind for whatever
	 * is mapped here next */
	rgn_track_given(v->base + RGN_CONTIG_GUARD, v->committed - RGN_CONTIG_GUARD);
	rgn_resv_release(v);
}

/* Unmap cached reservations down to keep entries (oldest first). */
static void cache_shrink(size_t keep)
{
	struct rgn_resv v;

	for (;;) {
		rgn_lock(&ct.lock);
		if (ct.ncached <= keep) {
			rgn_unlock(&ct.lock);
			return;
		}
		v = ct.cache[0];
		memmove(&ct.cache[0], &ct.cache[1], --ct.ncached * sizeof ct.cache[0]);
		ct.reserved -= v.size;
		ct.unmaps++;
		rgn_unlock(&ct.lock);
		unmap(&v);
	}
}

static int reserve_new(size_t size, struct rgn_resv *out)
{
	int err = rgn_resv_reserve(out, size, RGN_BLOCK_SIZE, RGN_CONTIG_GUARD,
	                           RGN_CONTIG_COMMIT);

	if (err == ENOMEM) {
		/* the address space may be full of cached reservations */
		cache_shrink(0);
		err = rgn_resv_reserve(out, size, RGN_BLOCK_SIZE, RGN_CONTIG_GUARD,
		                       RGN_CONTIG_COMMIT);
	}
	if (err)
		return err;
	err = rgn_resv_commit(out, RGN_CONTIG_COMMIT);
	if (err)
		rgn_resv_release(out); /* the kernel's mapping limit */
	return err;
}

/* A reservation of size bytes (a multiple of RGN_CONTIG_COMMIT) with at
 * least its first commit step read-write: from the reuse cache when it
 * holds one of that size, else from the OS.  0, or ENOMEM (the cap, or
 * the OS refused even after the cache was emptied). */
static int resv_get(size_t size, struct rgn_resv *out)
{
	int err;

	rgn_lock(&ct.lock);
	if (ct.cfg.max_live && ct.live >= ct.cfg.max_live) {
		ct.refused++;
		rgn_unlock(&ct.lock);
		return ENOMEM;
	}
	ct.live++;
	if (cache_take_locked(size, out)) {
		ct.reuses++;
		rgn_unlock(&ct.lock);
		return 0;
	}
	rgn_unlock(&ct.lock);

	err = reserve_new(size, out);
	rgn_lock(&ct.lock);
	if (err) {
		ct.live--;
		ct.refused++;
	} else {
		ct.maps++;
		ct.reserved += size;
	}
	rgn_unlock(&ct.lock);
	return err == EINVAL ? ENOMEM : err;
}

/* A region is done with v: into the cache (trimmed to keep) or unmapped,
 * as rel says (RGN_RELEASE_DEFAULT: the process-wide setting). */
static void resv_put(struct rgn_resv *v, rgn_release rel, size_t keep)
{
	rgn_purge p;
	size_t purged = 0;
	bool cache;

	rgn_lock(&ct.lock);
	ct.live--;
	if (rel == RGN_RELEASE_DEFAULT)
		rel = ct.cfg.release;
	cache = rel == RGN_RELEASE_CACHE && ct.cfg.cache_max > 0;
	p = ct.cfg.purge;
	if (!cache) {
		ct.reserved -= v->size;
		ct.unmaps++;
	}
	rgn_unlock(&ct.lock);
	if (!cache) {
		unmap(v);
		return;
	}
	purged = trim_with(v, keep, p);
	rgn_track_taken(v->base + RGN_CONTIG_GUARD, v->committed - RGN_CONTIG_GUARD);
	rgn_lock(&ct.lock);
	ct.purged_bytes += purged;
	if (ct.ncached > ct.cfg.cache_max || ct.cfg.cache_max == 0) {
		/* rgn_contig_configure shrank the cache since we looked, and
		 * trims it outside the lock: do not add to it */
		ct.reserved -= v->size;
		ct.unmaps++;
		rgn_unlock(&ct.lock);
		unmap(v);
		return;
	}
	if (ct.ncached == ct.cfg.cache_max) {
		/* full: the oldest makes room (the newest is the warmest) */
		struct rgn_resv old = ct.cache[0];
		memmove(&ct.cache[0], &ct.cache[1], --ct.ncached * sizeof ct.cache[0]);
		ct.reserved -= old.size;
		ct.unmaps++;
		ct.cache[ct.ncached++] = *v;
		rgn_unlock(&ct.lock);
		unmap(&old);
		return;
	}
	ct.cache[ct.ncached++] = *v;
	rgn_unlock(&ct.lock);
}

/* ---- the regions --------------------------------------------------------------------- */

/* Move the read-write frontier to at least offset off.  0 or an errno. */
static int commit(struct contig_region *c, size_t off)
{
	size_t before = c->resv.committed;
	int err = rgn_resv_commit(&c->resv, off);

	if (!err) {
		c->h.bump.end = c->resv.base + c->resv.committed;
		/* fresh pages read as zero, but nobody wrote them */
		rgn_track_given(c->resv.base + before, c->resv.committed - before);
	}
	return err;
}

/* Offset below which reset and the cache keep pages resident. */
static size_t keep_of(const struct contig_region *c)
{
	size_t floor = RGN_CONTIG_GUARD + HDR;

	return c->retain > SIZE_MAX - floor ? SIZE_MAX : floor + c->retain;
}

static rgn_region *contig_create(const rgn_options *o)
{
	size_t size = o->reserve ? o->reserve : RGN_CONTIG_DEFAULT;
	struct contig_region *c;
	struct rgn_resv v;
	int err;

	if (size < RGN_CONTIG_MIN || size > RGN_CONTIG_MAX ||
	    o->release < RGN_RELEASE_DEFAULT || o->release > RGN_RELEASE_UNMAP) {
		errno = EINVAL;
		return NULL;
	}
	size = (size + RGN_CONTIG_COMMIT - 1) & ~(RGN_CONTIG_COMMIT - 1);
	/* the shared space first: it sets the decode base, which must not
	 * change under a region already entered */
	err = rgn_space_ensure();
	if (!err)
		err = resv_get(size, &v);
	if (err) {
		errno = err;
		return err == ENOMEM ? rgn_oom(size) : NULL;
	}
	/* fresh or cached, what it holds is not the new region's */
	rgn_track_given(v.base + RGN_CONTIG_GUARD, v.committed - RGN_CONTIG_GUARD);
	c = (struct contig_region *)(void *)(v.base + RGN_CONTIG_GUARD);
	memset(c, 0, sizeof(*c)); /* a cached reservation holds a dead header */
	c->resv = v;
	c->h.bump.base = v.base;
	c->h.bump.cur = c->h.chunk_start = (char *)c + HDR;
	c->h.bump.end = v.base + v.committed;
	c->h.magic = RGN_MAGIC_LIVE;
	c->h.backend = RGN_BACKEND_CONTIG;
	c->retain = o->retain ? o->retain : RGN_CONTIG_RETAIN;
	c->release = o->release;
	return &c->h;
}

/* The header lives in the reservation: copy out what is needed first. */
static void contig_release(rgn_region *r)
{
	struct contig_region *c = C(r);
	struct rgn_resv v = c->resv;
	rgn_release rel = (rgn_release)c->release;
	size_t keep = keep_of(c);

	rgn_decode_forget(v.base);
	resv_put(&v, rel, keep);
}

static void contig_reset(rgn_region *r)
{
	struct contig_region *c = C(r);

	r->bump.cur = r->chunk_start;
	resv_trim(&c->resv, keep_of(c));
	r->bump.end = c->resv.base + c->resv.committed;
}

/* n >= 1 bytes at align when the committed part is short of them: what
 * the reservation has left, or ENOMEM.  room is a multiple of 8 (the
 * limit is page-aligned, cur and pad are 8-aligned), so n <= room - pad
 * bounds round8(n) too. */
static void *contig_alloc(rgn_region *r, size_t n, size_t align, bool *zeroed)
{
	struct contig_region *c = C(r);
	char *limit = c->resv.base + c->resv.size;
	size_t room = (size_t)(limit - r->bump.cur);
	size_t pad = (size_t)(-(uintptr_t)r->bump.cur) & (align - 1);
	size_t off;
	char *p;

	if (zeroed)
		*zeroed = false;
	if (pad > room || n > room - pad)
		return rgn_oom(n);
	p = r->bump.cur + pad;
	off = (size_t)(p - c->resv.base) + rgn_round8(n);
	if (off > c->resv.committed) {
		int err = commit(c, off);
		if (err) {
			errno = err;
			return err == ENOMEM ? rgn_oom(n) : NULL;
		}
	}
	r->bump.cur = p + rgn_round8(n);
	return p;
}

static int contig_extend(rgn_region *r, size_t extra)
{
	struct contig_region *c = C(r);
	size_t off = (size_t)(r->bump.end - c->resv.base);

	if (extra > c->resv.size - off || commit(c, off + extra) != 0)
		return -1;
	return 0;
}

/* One range: a tail can only grow in place, never borrow a chunk. */
static int contig_chunk(rgn_region *r, size_t n)
{
	(void)r;
	(void)n;
	errno = ENOMEM;
	return -1;
}

/* The bytes a tail did not use stay the region's. */
static void contig_trim(rgn_region *r, void *chunk, char *keep_end)
{
	(void)r;
	(void)chunk;
	(void)keep_end;
}

static size_t contig_max_size(const rgn_region *r)
{
	return CC(r)->resv.size;
}

enum { M_BASE };

static void contig_save(const rgn_region *r, struct rgn_mark_priv *mp)
{
	mp->b[M_BASE] = (uintptr_t)r->bump.base;
	mp->b[1] = mp->b[2] = mp->b[3] = 0;
	mp->pos = (size_t)(r->bump.cur - r->chunk_start);
}

/* A mark of this region (its base) whose bump pointer lies in the
 * committed range (region.c has checked its generation). */
static bool contig_mark_valid(const rgn_region *r, const struct rgn_mark_priv *mp)
{
	return mp->b[M_BASE] == (uintptr_t)r->bump.base &&
	       mp->cur >= r->chunk_start && mp->cur <= r->bump.end;
}

static size_t contig_used(const rgn_region *r)
{
	return (size_t)(r->bump.cur - r->chunk_start);
}

/* The frontier never moves down except on reset. */
static void contig_rewind(rgn_region *r, const struct rgn_mark_priv *mp)
{
	(void)r;
	(void)mp;
}

static void contig_stats(const rgn_region *r, struct rgn_region_stats *st)
{
	const struct contig_region *c = CC(r);

	st->used = contig_used(r);
	st->blocks = (c->resv.committed - RGN_CONTIG_GUARD) >> RGN_BLOCK_SHIFT;
	st->chunks = 1;
	st->reserved = c->resv.size;
	st->committed = c->resv.committed;
}

int rgn_contig_used_range(const rgn_region *r, const char **base,
                          size_t *objects, size_t *used)
{
	if (!r || r->magic != RGN_MAGIC_LIVE)
		return EINVAL;
	if (r->backend != RGN_BACKEND_CONTIG)
		return ENOTSUP;
	*base = CC(r)->resv.base;
	*objects = (size_t)(r->chunk_start - *base);
	*used = (size_t)(r->bump.cur - *base);
	return 0;
}

size_t rgn_contig_reserve_of(const rgn_region *r)
{
	return CC(r)->resv.size;
}

/* Compaction's copy t of r (below) fits in r's read-write part: it may
 * not yet, since a copy's alignment padding can make it larger than what
 * it was copied from.  Committed now if it must be: 0 or an errno, r's
 * bytes unchanged either way. */
int rgn_contig_room_for(rgn_region *r, const rgn_region *t)
{
	size_t need = (size_t)(t->bump.cur - t->bump.base);

	return need <= (size_t)(r->bump.end - r->bump.base) ? 0 : commit(C(r), need);
}

/* Compaction: t (a contiguous region made for it, whose objects start at
 * the same offset as r's) holds the copy with references relative to its
 * base, so the bytes mean the same at the same offsets of r.  They fit in
 * r's read-write part (rgn_contig_room_for made sure), so this cannot
 * fail; the pages above what r keeps go back as a reset gives them. */
static bool contig_replace(rgn_region *r, rgn_region *t)
{
	struct contig_region *c = C(r);
	size_t n = (size_t)(t->bump.cur - t->chunk_start);

	rgn_assert(r->chunk_start - r->bump.base == t->chunk_start - t->bump.base);
	rgn_assert(r->chunk_start + n <= r->bump.end);
	memcpy(r->chunk_start, t->chunk_start, n);
	r->bump.cur = r->chunk_start + n;
	{
		size_t keep = keep_of(c), used = (size_t)(r->bump.cur - c->resv.base);

		resv_trim(&c->resv, keep > used ? keep : used);
	}
	r->bump.end = c->resv.base + c->resv.committed;
	return false;
}

/* merge: none (a reservation cannot join another region's memory). */
const struct rgn_backend_ops rgn_contig_backend = {
	.name = "contig",
	.create = contig_create,
	.release = contig_release,
	.reset = contig_reset,
	.alloc = contig_alloc,
	.extend = contig_extend,
	.chunk = contig_chunk,
	.trim = contig_trim,
	.max_size = contig_max_size,
	.save = contig_save,
	.used = contig_used,
	.mark_valid = contig_mark_valid,
	.rewind = contig_rewind,
	.stats = contig_stats,
	.replace = contig_replace,
};

/* ---- settings and statistics ------------------------------------------------------ */

RGN_API int rgn_contig_configure(const rgn_contig_config *cfg)
{
	rgn_contig_config c = {
		.release = RGN_RELEASE_CACHE,
		.purge = RGN_PURGE_DONTNEED,
		.cache_max = RGN_CONTIG_CACHE_DEFAULT,
	};

	if (cfg) {
		if (cfg->release < RGN_RELEASE_DEFAULT || cfg->release > RGN_RELEASE_UNMAP ||
		    cfg->purge < RGN_PURGE_DONTNEED || cfg->purge > RGN_PURGE_NONE ||
		    cfg->cache_max > RGN_CONTIG_CACHE_LIMIT) {
			errno = EINVAL;
			return -1;
		}
		if (cfg->release != RGN_RELEASE_DEFAULT)
			c.release = cfg->release;
		c.purge = cfg->purge;
		if (cfg->cache_max)
			c.cache_max = cfg->cache_max;
		c.max_live = cfg->max_live;
	}
	rgn_lock(&ct.lock);
	ct.cfg = c;
	rgn_unlock(&ct.lock);
	/* what no longer fits, or every entry when the policy is to unmap */
	cache_shrink(c.release == RGN_RELEASE_UNMAP ? 0 : c.cache_max);
	return 0;
}

RGN_API int rgn_contig_stats(struct rgn_contig_stats *st)
{
	if (!st) {
		errno = EINVAL;
		return -1;
	}
	rgn_lock(&ct.lock);
	st->live = ct.live;
	st->cached = ct.ncached;
	st->reserved_bytes = ct.reserved;
	st->maps = ct.maps;
	st->unmaps = ct.unmaps;
	st->reuses = ct.reuses;
	st->refused = ct.refused;
	st->purged_bytes = ct.purged_bytes;
	rgn_unlock(&ct.lock);
	return 0;
}
