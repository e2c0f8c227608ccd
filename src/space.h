/*
 * space.h - the space (space.c).
 */
#ifndef RGN_SPACE_H
#define RGN_SPACE_H

#include "common.h"

/*
 * Block descriptor: one per block of the space, in a side table beside it
 * (never inside the block), so blocks stay a full 4 KiB and a free block
 * can be purged without its metadata being touched again.
 *
 * Blocks [1, top) are tiled by spans: runs of contiguous blocks, each
 * either USED (held by a region or a thread cache) or FREE (in the shared
 * free lists).  Block 0 is never part of a span.
 *
 * Invariants, for every span [h, h+len) (checked by rgn_blk_check):
 *   desc[h].len == desc[h+len-1].len == len
 *   desc[h].state == desc[h+len-1].state        (USED or FREE)
 *   no two FREE spans are adjacent               (frees coalesce)
 *   FREE: desc[h].dirty <= len is an upper bound on its resident blocks;
 *         the sum of dirty over FREE spans is rgn_blocks_g.retained
 *   FREE: desc[h].next/prev link the size bin; dnext/dprev the dirty
 *         list (only when dirty > 0)
 *   USED: desc[h].next and desc[h].tag belong to the owner (regions chain
 *         their spans through next and mark large spans in tag)
 * Descriptors of blocks inside a span (not its first or last) are stale.
 */
struct rgn_desc {
	uint32_t len;    /* span length in blocks (first and last block) */
	uint32_t state;  /* RGN_SPAN_* (first and last block) */
	uint32_t next;   /* FREE: next in bin; USED: owner's chain link */
	uint32_t prev;   /* FREE: previous in bin */
	uint32_t dirty;  /* FREE: blocks that may still be resident */
	uint32_t dnext;  /* FREE, dirty: newer span in the dirty list */
	uint32_t dprev;  /* FREE, dirty: older span in the dirty list */
	uint32_t tag;    /* USED: owner's use (RGN_TAG_*) */
};

/* The checking mode (quarantine.c), a setting of the space: off, guard pages,
 * or mprotect (asked for, or the fallback where the kernel has no guard
 * pages); and the default bound of its quarantine. */
#define RGN_CHECK_OFF     0u
#define RGN_CHECK_GUARD   1u
#define RGN_CHECK_PROTECT 2u
#define RGN_CHECK_BYTES_DEFAULT ((size_t)64 << 20)

#define RGN_SPAN_USED 1u
#define RGN_SPAN_FREE 2u

/* The space's geometry and settings: written once by its set-up, before
 * rgn_space_ready, read-only afterwards. */
struct rgn_space {
	char            *base;        /* == rgn_space_base_h_ */
	size_t           size;        /* bytes */
	uint32_t         nblocks;     /* size >> RGN_BLOCK_SHIFT (may be 2^23) */
	struct rgn_desc *desc;        /* nblocks descriptors */
	size_t           desc_bytes;
	size_t           retain_limit;/* bytes: the fixed limit, or the ceiling */
	uint32_t         retain_blocks;
	bool             retain_fixed;/* asked for (config, RGN_RETAIN): fixed */
	bool             decommit_zeroes;
	unsigned         check;       /* RGN_CHECK_* (quarantine.h): checking mode */
	size_t           check_bytes; /* its quarantine's bound */
};

rgn_hidden extern struct rgn_space rgn_space_g;
rgn_hidden extern atomic_bool rgn_space_ready;

/* Reserve the space with defaults if nobody has: 0 or an errno value. */
rgn_hidden int rgn_space_init_slow(void);
static inline int rgn_space_ensure(void)
{
	if (rgn_likely(atomic_load_explicit(&rgn_space_ready, memory_order_acquire)))
		return 0;
	return rgn_space_init_slow();
}
/* Parse "64M", "2G", "4096", "1GiB": 0 or EINVAL. */
rgn_hidden int rgn_parse_size(const char *s, size_t *out);
/* Make the blocks below top read-write (the frontier only grows).
 * 0 or ENOMEM. */
rgn_hidden int rgn_space_commit(uint32_t top);
/* Bytes of the space made read-write so far (block 0 not counted). */
rgn_hidden size_t rgn_space_committed(void);
/* Called before an allocation fails with ENOMEM; sets errno, returns NULL. */
rgn_hidden void *rgn_oom(size_t size);

static inline char *rgn_blk_addr(uint32_t b)
{
	return rgn_space_g.base + ((size_t)b << RGN_BLOCK_SHIFT);
}
static inline uint32_t rgn_blk_index(const void *p)
{
	return (uint32_t)((size_t)((const char *)p - rgn_space_g.base) >> RGN_BLOCK_SHIFT);
}
static inline struct rgn_desc *rgn_desc_of(uint32_t b)
{
	return &rgn_space_g.desc[b];
}

#endif /* RGN_SPACE_H */
