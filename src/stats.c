/*
 * stats.c - the process-wide statistics, gathered from each layer's own
 * report: the space's geometry and frontier (space.c), the shared free
 * structure (blocks.c), the thread caches (tcache.c) and the live region
 * count (region.c).  No layer reads another's internals for them, and
 * asking never reserves the space.
 */
#include "blocks.h"
#include "quarantine.h"
#include "region.h"
#include "space.h"
#include "tcache.h"

#include <string.h>

RGN_API int rgn_space_stats(struct rgn_space_stats *st)
{
	size_t cached, spares = 0, live;

	if (!st) {
		errno = EINVAL;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->block_size = RGN_BLOCK_SIZE;
	live = rgn_region_count();
	st->live_regions = live;
	if (!atomic_load_explicit(&rgn_space_ready, memory_order_acquire))
		return 0; /* not reserved yet: nothing else to say */
	st->base = rgn_space_g.base;
	st->size = rgn_space_g.size;
	st->committed = rgn_space_committed();
	rgn_blocks_stats(st);      /* used_blocks counts what caches hold */
	/* the quarantine is counted with the caches: no region holds it */
	cached = rgn_tcache_cached(&spares) + rgn_check_held();
	/* spare regions are counted live by region.c until reused */
	st->live_regions = live >= spares ? live - spares : 0;
	st->cached_blocks = cached;
	st->used_blocks = st->used_blocks >= cached ? st->used_blocks - cached : 0;
	return 0;
}
