/*
 * space.c - the process-wide reservation that every block comes from.
 *
 * The space is one contiguous range of address space, a power of two from
 * 16 MiB to 32 GiB, aligned to its own size so that a 32-bit reference
 * (granule index) covers it exactly.  It is reserved inaccessible, then
 * made read-write from the bottom up as blocks are first carved (the
 * "frontier"), in RGN_COMMIT_STEP steps.  Block 0 is never made
 * accessible: reference 0 decodes into it and faults.
 *
 * Beside the space lives the descriptor table (one struct rgn_desc per
 * block), a second lazily-faulted mapping.  Pages of it are touched only
 * as blocks are carved, so a 32 GiB space whose program uses 10 MiB costs
 * 10 MiB / 128 of table.
 *
 * Mappings: block 0 (none), the read-write frontier, the untouched rest
 * (none), and the descriptor table: four, whatever the program does,
 * because the frontier only ever grows at its top (mprotect merges it
 * with the read-write mapping below) and memory is given back with
 * madvise, which never splits a mapping.
 *
 * The space is never unmapped: blocks handed out must stay valid until
 * the process ends, and references are meaningless without it.
 */
#include "internal.h"
#include "os/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

RGN_API char *rgn_space_base;

struct rgn_space rgn_space_g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.purge_done = PTHREAD_COND_INITIALIZER,
};
atomic_bool rgn_space_ready;

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

void rgn_assert_fail(const char *expr, const char *file, int line)
{
	/* no allocation here: this may run with the space lock held */
	fprintf(stderr, "rgn: assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

/* ---- configuration ------------------------------------------------------- */

int rgn_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && end[0] == 'i' && end[1] == 'B')
		end += 2;
	else if (shift && end[0] == 'B')
		end++;
	if (*end != '\0')
		return EINVAL;
	if (shift && v > (~0ull >> shift))
		return EINVAL;
	v <<= shift;
	if (v > SIZE_MAX)
		return EINVAL;
	*out = (size_t)v;
	return 0;
}

static bool valid_space_size(size_t n)
{
	return n >= RGN_SPACE_MIN && n <= RGN_SPACE_MAX && (n & (n - 1)) == 0;
}

/* Resolve cfg and the environment into space size and retain limit.
 * *chosen tells whether the size was asked for (config or RGN_SPACE) or
 * is the default. */
static int resolve_config(const rgn_config *cfg, size_t *size, size_t *retain,
                          bool *chosen)
{
	const char *env;

	*size = cfg ? cfg->space_size : 0;
	*chosen = true;
	if (*size == 0) {
		env = getenv("RGN_SPACE");
		if (env && *env) {
			if (rgn_parse_size(env, size) != 0 || !valid_space_size(*size)) {
				fprintf(stderr, "rgn: RGN_SPACE=%s is not a power of two "
				        "from 16M to 32G\n", env);
				return EINVAL;
			}
		} else {
			*size = RGN_SPACE_MAX;
			*chosen = false;
		}
	}
	if (!valid_space_size(*size))
		return EINVAL;

	*retain = cfg ? cfg->retain_limit : 0;
	if (*retain == 0) {
		env = getenv("RGN_RETAIN");
		if (env && *env) {
			if (rgn_parse_size(env, retain) != 0) {
				fprintf(stderr, "rgn: RGN_RETAIN=%s is not a size\n", env);
				return EINVAL;
			}
		} else {
			*retain = RGN_RETAIN_DEFAULT;
		}
	}
	return 0;
}

/* ---- reservation ---------------------------------------------------------- */

static int space_create(size_t size, size_t retain)
{
	struct rgn_space *s = &rgn_space_g;
	struct rgn_os_info info;
	void *base, *desc;
	size_t desc_bytes;
	int err;

	rgn_os_info(&info);
	if (info.page_size > RGN_BLOCK_SIZE)
		return ENOTSUP; /* blocks must be whole pages */
	err = rgn_os_reserve(size, size, &base);
	if (err)
		return err;
	desc_bytes = (size >> RGN_BLOCK_SHIFT) * sizeof(struct rgn_desc);
	desc_bytes = (desc_bytes + info.page_size - 1) & ~(info.page_size - 1);
	err = rgn_os_reserve(desc_bytes, info.page_size, &desc);
	if (!err) {
		err = rgn_os_commit(desc, desc_bytes);
		if (err)
			rgn_os_release(desc, desc_bytes);
	}
	if (err) {
		rgn_os_release(base, size);
		return err;
	}

	s->base = base;
	s->size = size;
	s->nblocks = (uint32_t)(size >> RGN_BLOCK_SHIFT);
	s->desc = desc;
	s->desc_bytes = desc_bytes;
	s->retain_limit = retain;
	s->retain_blocks = (uint32_t)((retain >> RGN_BLOCK_SHIFT) > s->nblocks
	                              ? s->nblocks : retain >> RGN_BLOCK_SHIFT);
	s->decommit_zeroes = info.decommit_zeroes;
	s->committed = RGN_BLOCK_SIZE; /* block 0 counts as done: never opened */
	pthread_mutex_lock(&s->lock);
	rgn_blk_init_locked();
	pthread_mutex_unlock(&s->lock);
	rgn_set_decode_base_(base);
	atomic_store_explicit(&rgn_space_ready, true, memory_order_release);
	return 0;
}

/* The space floor when the default size cannot be reserved. */
#define RGN_SPACE_FALLBACK_MIN ((size_t)1 << 30)

static int space_init(const rgn_config *cfg, bool explicit_call)
{
	size_t size, retain;
	bool chosen;
	int err;

	pthread_mutex_lock(&init_lock);
	if (atomic_load_explicit(&rgn_space_ready, memory_order_acquire)) {
		pthread_mutex_unlock(&init_lock);
		return explicit_call ? EBUSY : 0;
	}
	err = resolve_config(cfg, &size, &retain, &chosen);
	if (!err)
		err = space_create(size, retain);
	/* The default 32 GiB (64 GiB reserved to align it) can be refused:
	 * an address-space ulimit, strict overcommit, valgrind.  Then take
	 * the largest power of two that the OS grants, down to 1 GiB.  A size
	 * that was asked for is never silently replaced. */
	while (err == ENOMEM && !chosen && size > RGN_SPACE_FALLBACK_MIN) {
		size >>= 1;
		err = space_create(size, retain);
	}
	pthread_mutex_unlock(&init_lock);
	return err;
}

/* fork(): the set-up lock is held across it too (blocks.c registers the
 * handlers). */
void rgn_space_fork_lock(void)
{
	pthread_mutex_lock(&init_lock);
}

void rgn_space_fork_unlock(void)
{
	pthread_mutex_unlock(&init_lock);
}

int rgn_space_init_slow(void)
{
	return space_init(NULL, false);
}

RGN_API int rgn_init(const rgn_config *cfg)
{
	int err = space_init(cfg, true);

	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Make blocks below new_top read-write.  The frontier moves in whole
 * RGN_COMMIT_STEPs so that mprotect is rare; the caller holds the lock,
 * which keeps two threads from opening the same range. */
int rgn_space_commit_to_locked(uint32_t new_top)
{
	struct rgn_space *s = &rgn_space_g;
	size_t need = (size_t)new_top << RGN_BLOCK_SHIFT;
	size_t to;
	int err;

	if (need <= s->committed)
		return 0;
	to = (need + RGN_COMMIT_STEP - 1) & ~(RGN_COMMIT_STEP - 1);
	if (to > s->size)
		to = s->size;
	err = rgn_os_commit(s->base + s->committed, to - s->committed);
	if (err)
		return err;
	/* not handed out yet: poisoned until the block layer gives it */
	rgn_track_taken(s->base + s->committed, to - s->committed);
	s->committed = to;
	return 0;
}

/* ---- statistics ------------------------------------------------------------ */

RGN_API int rgn_space_stats(struct rgn_space_stats *st)
{
	struct rgn_space *s = &rgn_space_g;
	struct rgn_tcache *tc;
	size_t cached = 0;
	int64_t regions;
	int err;

	if (!st) {
		errno = EINVAL;
		return -1;
	}
	err = rgn_space_ensure();
	if (err) {
		errno = err;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->lock);
	regions = s->orphan_regions;
	for (tc = s->caches; tc; tc = tc->next) {
		bool spare = atomic_load_explicit(&tc->spare, memory_order_relaxed) != NULL;
		cached += atomic_load_explicit(&tc->n, memory_order_relaxed);
		cached += spare;
		regions -= spare; /* destroyed, but counted until reused */
		cached += atomic_load_explicit(&tc->span_blocks, memory_order_relaxed);
		regions += atomic_load_explicit(&tc->regions, memory_order_relaxed);
	}
	st->base = s->base;
	st->size = s->size;
	st->block_size = RGN_BLOCK_SIZE;
	st->committed = s->committed - RGN_BLOCK_SIZE;
	st->high_water_blocks = s->top;
	st->used_blocks = s->used_blocks >= cached ? s->used_blocks - cached : 0;
	st->free_blocks = s->free_blocks;
	st->cached_blocks = cached;
	st->retained_blocks = s->retained;
	st->retain_limit = s->retain_limit;
	st->purged_bytes = s->purged_bytes;
	st->purges = s->purges;
	st->live_regions = regions > 0 ? (size_t)regions : 0;
	pthread_mutex_unlock(&s->lock);
	return 0;
}
