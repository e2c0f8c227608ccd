/*
 * blocks.h - the shared free structure (blocks.c).
 */
#ifndef RGN_BLOCKS_H
#define RGN_BLOCKS_H

#include "lock.h"

#define RGN_BINS_EXACT 64   /* bins 1..63 hold spans of exactly that length */
#define RGN_BINS       (RGN_BINS_EXACT + 26)

struct rgn_blocks {
	struct rgn_lock  lock;        /* everything below */
	uint32_t         top;         /* blocks [top, nblocks) never carved */
	uint32_t         free_blocks;
	uint32_t         used_blocks; /* held by regions and thread caches */
	uint32_t         retained;    /* sum of dirty over FREE spans */
	uint32_t         dirty_old;   /* dirty list: oldest (purged first) */
	uint32_t         dirty_new;   /* dirty list: newest */
	uint32_t         bin[RGN_BINS];
	uint64_t         binmap[2];   /* bit i set <=> bin[i] non-empty */
	bool             purging;     /* a thread is purging outside the lock */
	pthread_cond_t   purge_done;  /* signalled when purging turns false */
	size_t           purged_bytes;
	size_t           purges;
	/* the adaptive retain limit (blocks.c, "Giving memory back") */
	uint32_t         peak;        /* most used_blocks in this window */
	uint32_t         peak_prev;   /* most in the window before */
	uint32_t         freed;       /* blocks freed in this window */
};

/* The adaptive retain limit, when none was asked for: a quarter of the
 * recent peak of used blocks, at least RGN_RETAIN_FLOOR blocks, at most
 * the default limit (the floor and the period are measured: DESIGN.md). */
#ifndef RGN_RETAIN_FLOOR
#define RGN_RETAIN_FLOOR 64u    /* blocks: 256 KiB */
#endif
#ifndef RGN_RETAIN_SHIFT
#define RGN_RETAIN_SHIFT 2      /* limit = recent peak >> this */
#endif

rgn_hidden extern struct rgn_blocks rgn_blocks_g;

/* A span of n >= 1 blocks, or 0 (ENOMEM).  *dirty: an upper bound on its
 * resident blocks (0: it reads as zero). */
rgn_hidden uint32_t rgn_blocks_alloc(uint32_t n, uint32_t *dirty);
/* A span of n blocks whose index is a multiple of align (in blocks). */
rgn_hidden uint32_t rgn_blocks_alloc_aligned(uint32_t n, uint32_t align);
/* Up to max single-block USED spans into out (highest first), from one
 * span when it can: how many. */
rgn_hidden uint32_t rgn_blocks_take_singles(uint32_t *out, uint32_t max);
/* Free k USED spans (b[i], n[i]) under one lock acquisition. */
rgn_hidden void rgn_blocks_free_many(const uint32_t *b, const uint32_t *n, uint32_t k);
/* The same for spans whose pages are known to read as zero (none
 * resident: they count nothing towards the retain limit). */
rgn_hidden void rgn_blocks_free_clean(const uint32_t *b, const uint32_t *n, uint32_t k);
/* Grow the USED span at b (len n) by extra blocks in place, of which the
 * first `own` are USED single blocks the caller holds already (a run
 * from its cache), the rest free or never carved.  0 or ENOMEM. */
rgn_hidden int rgn_blocks_extend(uint32_t b, uint32_t n, uint32_t own, uint32_t extra);
/* Shrink the USED span at b (len n) to keep blocks.  The cut blocks are
 * freed, or, when singles is not NULL, made single USED spans written to
 * singles highest first (the caller keeps them). */
rgn_hidden void rgn_blocks_shrink(uint32_t b, uint32_t n, uint32_t keep, uint32_t *singles);
/* Cut the USED span at b (len n) in two USED spans, [b, b+keep) and the
 * rest (the checking mode quarantines the rest). */
rgn_hidden void rgn_blocks_split(uint32_t b, uint32_t n, uint32_t keep);
/* Give free memory back to the OS until at most target blocks remain
 * retained; waits for a purge already running in another thread. */
rgn_hidden void rgn_blk_purge(uint32_t target);
/* The retain limit in force now, in blocks. */
rgn_hidden uint32_t rgn_blocks_retain_limit(void);
/* Check every invariant of struct rgn_desc: 0 if they hold (else the
 * line of the first that does not, after a message on stderr). */
rgn_hidden int rgn_blk_check(void);
rgn_hidden int rgn_blk_check_locked(void);
/* The structure's part of the space statistics. */
rgn_hidden void rgn_blocks_stats(struct rgn_space_stats *st);

#endif /* RGN_BLOCKS_H */
