/*
 * contig.c - reservations of the contiguous backend, their reuse cache,
 * and the active decode base.
 *
 * A contiguous region owns one reservation: size bytes of address space
 * (1 MiB to 32 GiB), reserved inaccessible.  Its first page stays so
 * (reference 0 decodes into it and faults); the region header follows,
 * then the region's objects, bump-allocated upwards.  The read-write part
 * grows from the bottom in RGN_CONTIG_COMMIT steps, so the kernel merges
 * each step into the mapping below: a reservation is three mappings at
 * most (guard, read-write part, inaccessible rest) whatever it holds.
 * Pages are faulted in on first touch; committing costs no memory.
 *
 * What this file decides is where reservations come from and where they
 * go:
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
 * One mutex covers the cache and the counters.  System calls (mmap,
 * munmap, madvise) run outside it.
 */
#include "internal.h"
#include "os/os.h"

#include <string.h>

static struct {
	pthread_mutex_t   lock;
	rgn_contig_config cfg;       /* resolved: no zero-means-default left */
	size_t            live;      /* reservations held by regions */
	size_t            ncached;   /* cache[0, ncached), oldest first */
	struct rgn_resv   cache[RGN_CONTIG_CACHE_LIMIT];
	size_t            reserved;  /* bytes of live + cached reservations */
	size_t            maps, unmaps, reuses, refused, purged_bytes;
} ct = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cfg = {
		.release = RGN_RELEASE_CACHE,
		.purge = RGN_PURGE_DONTNEED,
		.cache_max = RGN_CONTIG_CACHE_DEFAULT,
	},
};

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void) { pthread_mutex_lock(&ct.lock); }
static void fork_parent(void) { pthread_mutex_unlock(&ct.lock); }
static void fork_child(void) { pthread_mutex_unlock(&ct.lock); }

static void fork_register(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- the decode base --------------------------------------------------------- */

void rgn_decode_forget_(char *base)
{
	rgn_arch_forget(base);
}

RGN_API int rgn_enter(const rgn_region *r)
{
	const struct rgn_handle_ *h = (const struct rgn_handle_ *)(const void *)r;
	int err = r && h->magic != RGN_MAGIC_LIVE && h->magic != RGN_MAGIC_IMAGE
	          ? EINVAL : rgn_space_ensure();

	if (!err)
		err = rgn_arch_enter(r ? h->bump.base : NULL);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ---- giving pages back ------------------------------------------------------- */

/* Purge [addr, addr + n) as the setting p says: the bytes given back. */
static size_t purge(char *addr, size_t n, rgn_purge p)
{
	int err;

	if (n == 0 || p == RGN_PURGE_NONE)
		return 0;
	err = p == RGN_PURGE_FREE ? rgn_os_decommit_lazy(addr, n)
	                          : rgn_os_decommit(addr, n);
	return err ? 0 : n;
}

static rgn_purge purge_setting(void)
{
	rgn_purge p;

	pthread_mutex_lock(&ct.lock);
	p = ct.cfg.purge;
	pthread_mutex_unlock(&ct.lock);
	return p;
}

static void count_purged(size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&ct.lock);
	ct.purged_bytes += n;
	pthread_mutex_unlock(&ct.lock);
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
	n = purge(v->base + keep, v->committed - keep, p);
	if (rgn_os_protect_none(v->base + step, v->committed - step) == 0)
		v->committed = step;
	return n;
}

void rgn_resv_trim(struct rgn_resv *v, size_t keep)
{
	count_purged(trim_with(v, keep, purge_setting()));
}

/* ---- reservations -------------------------------------------------------------- */

/* Take a cached reservation of size bytes.  Caller holds the lock. */
static bool cache_take_locked(size_t size, struct rgn_resv *out)
{
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

static void unmap(const struct rgn_resv *v)
{
	/* ASan keeps shadow state by address: leave none behind for whatever
	 * is mapped here next */
	rgn_track_given(v->base + RGN_CONTIG_GUARD, v->committed - RGN_CONTIG_GUARD);
	rgn_os_release(v->base, v->size);
}

/* Unmap cached reservations down to keep entries (oldest first). */
static void cache_shrink(size_t keep)
{
	struct rgn_resv v;

	for (;;) {
		pthread_mutex_lock(&ct.lock);
		if (ct.ncached <= keep) {
			pthread_mutex_unlock(&ct.lock);
			return;
		}
		v = ct.cache[0];
		memmove(&ct.cache[0], &ct.cache[1], --ct.ncached * sizeof ct.cache[0]);
		ct.reserved -= v.size;
		ct.unmaps++;
		pthread_mutex_unlock(&ct.lock);
		unmap(&v);
	}
}

static int reserve_new(size_t size, struct rgn_resv *out)
{
	void *base;
	int err = rgn_os_reserve(size, RGN_BLOCK_SIZE, &base);

	if (err == ENOMEM) {
		/* the address space may be full of cached reservations */
		cache_shrink(0);
		err = rgn_os_reserve(size, RGN_BLOCK_SIZE, &base);
	}
	if (err)
		return err;
	err = rgn_os_commit((char *)base + RGN_CONTIG_GUARD,
	                    RGN_CONTIG_COMMIT - RGN_CONTIG_GUARD);
	if (err) {
		/* at the kernel's mapping limit, mprotect fails with ENOMEM */
		rgn_os_release(base, size);
		return err;
	}
	out->base = base;
	out->size = size;
	out->committed = RGN_CONTIG_COMMIT;
	return 0;
}

int rgn_resv_get(size_t size, struct rgn_resv *out)
{
	int err;

	pthread_once(&fork_once, fork_register);
	pthread_mutex_lock(&ct.lock);
	if (ct.cfg.max_live && ct.live >= ct.cfg.max_live) {
		ct.refused++;
		pthread_mutex_unlock(&ct.lock);
		return ENOMEM;
	}
	ct.live++;
	if (cache_take_locked(size, out)) {
		ct.reuses++;
		pthread_mutex_unlock(&ct.lock);
		rgn_track_given(out->base + RGN_CONTIG_GUARD,
		                out->committed - RGN_CONTIG_GUARD);
		return 0;
	}
	pthread_mutex_unlock(&ct.lock);

	err = reserve_new(size, out);
	pthread_mutex_lock(&ct.lock);
	if (err) {
		ct.live--;
		ct.refused++;
	} else {
		ct.maps++;
		ct.reserved += size;
	}
	pthread_mutex_unlock(&ct.lock);
	return err == EINVAL ? ENOMEM : err;
}

int rgn_resv_commit(struct rgn_resv *v, size_t upto)
{
	size_t to;
	int err;

	if (upto <= v->committed)
		return 0;
	if (upto > v->size)
		return ENOMEM;
	to = (upto + RGN_CONTIG_COMMIT - 1) & ~(RGN_CONTIG_COMMIT - 1);
	if (to > v->size)
		to = v->size;
	err = rgn_os_commit(v->base + v->committed, to - v->committed);
	if (err)
		return ENOMEM;
	v->committed = to;
	return 0;
}

void rgn_resv_put(struct rgn_resv *v, rgn_release rel, size_t keep)
{
	rgn_purge p;
	size_t purged = 0;
	bool cache;

	pthread_mutex_lock(&ct.lock);
	ct.live--;
	if (rel == RGN_RELEASE_DEFAULT)
		rel = ct.cfg.release;
	cache = rel == RGN_RELEASE_CACHE && ct.cfg.cache_max > 0;
	p = ct.cfg.purge;
	if (!cache) {
		ct.reserved -= v->size;
		ct.unmaps++;
	}
	pthread_mutex_unlock(&ct.lock);
	if (!cache) {
		unmap(v);
		return;
	}
	purged = trim_with(v, keep, p);
	rgn_track_taken(v->base + RGN_CONTIG_GUARD, v->committed - RGN_CONTIG_GUARD);
	pthread_mutex_lock(&ct.lock);
	ct.purged_bytes += purged;
	if (ct.ncached > ct.cfg.cache_max || ct.cfg.cache_max == 0) {
		/* rgn_contig_configure shrank the cache since we looked, and
		 * trims it outside the lock: do not add to it */
		ct.reserved -= v->size;
		ct.unmaps++;
		pthread_mutex_unlock(&ct.lock);
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
		pthread_mutex_unlock(&ct.lock);
		unmap(&old);
		return;
	}
	ct.cache[ct.ncached++] = *v;
	pthread_mutex_unlock(&ct.lock);
}

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
	pthread_mutex_lock(&ct.lock);
	ct.cfg = c;
	pthread_mutex_unlock(&ct.lock);
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
	pthread_mutex_lock(&ct.lock);
	st->live = ct.live;
	st->cached = ct.ncached;
	st->reserved_bytes = ct.reserved;
	st->maps = ct.maps;
	st->unmaps = ct.unmaps;
	st->reuses = ct.reuses;
	st->refused = ct.refused;
	st->purged_bytes = ct.purged_bytes;
	pthread_mutex_unlock(&ct.lock);
	return 0;
}
