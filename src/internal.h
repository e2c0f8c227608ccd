/*
 * internal.h - what the files of librgn share with each other (and with
 * the internal tests).  Nothing here is exported: the library is built
 * with -fvisibility=hidden and only RGN_API names are visible.
 *
 * Order: compiler helpers, debug checks, then one section per source file
 * with its types and prototypes, then small inline helpers.
 */
#ifndef RGN_INTERNAL_H
#define RGN_INTERNAL_H

#include "rgn.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- compiler helpers ---------------------------------------------------- */

#define rgn_likely(x)   RGN_LIKELY(x)
#define rgn_unlikely(x) RGN_UNLIKELY(x)
#define rgn_noinline    __attribute__((noinline))
#define rgn_cold        __attribute__((cold))
#define rgn_noreturn    __attribute__((noreturn))
#define rgn_hidden      __attribute__((visibility("hidden")))
#define rgn_thread      _Thread_local __attribute__((tls_model("initial-exec")))

/* ---- debug checks ------------------------------------------------------- *
 * RGN_DEBUG 0: none.  1: rgn_assert (cheap argument and state checks).
 * 2: also rgn_assert_internal.  3: also rgn_assert_expensive (walks). */
#ifndef RGN_DEBUG
#define RGN_DEBUG 0
#endif

rgn_hidden rgn_cold rgn_noreturn
void rgn_assert_fail(const char *expr, const char *file, int line);

#if RGN_DEBUG >= 1
#define rgn_assert(x) ((x) ? (void)0 : rgn_assert_fail(#x, __FILE__, __LINE__))
#else
#define rgn_assert(x) ((void)0)
#endif
#if RGN_DEBUG >= 2
#define rgn_assert_internal(x) rgn_assert(x)
#else
#define rgn_assert_internal(x) ((void)0)
#endif
#if RGN_DEBUG >= 3
#define rgn_assert_expensive(x) rgn_assert(x)
#else
#define rgn_assert_expensive(x) ((void)0)
#endif

/* ---- AddressSanitizer ----------------------------------------------------- *
 * Blocks that no region holds are poisoned, so a use after rgn_destroy (or
 * after rgn_rewind, rgn_reset, a tail commit) is reported at the access.
 * The block layer poisons what it takes back and unpoisons what it hands
 * out; nothing else calls these. */
#if defined(__SANITIZE_ADDRESS__)
#define RGN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RGN_ASAN 1
#endif
#endif
#ifdef RGN_ASAN
#include <sanitizer/asan_interface.h>
#define rgn_track_given(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define rgn_track_taken(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#else
#define rgn_track_given(p, n) ((void)(p), (void)(n))
#define rgn_track_taken(p, n) ((void)(p), (void)(n))
#endif

/* ---- sizes -------------------------------------------------------------- */

#define RGN_BLOCK_SHIFT  12
#define RGN_SPACE_MIN    ((size_t)16 << 20)
#define RGN_SPACE_MAX    ((size_t)32 << 30)
#define RGN_RETAIN_DEFAULT ((size_t)64 << 20)
/* The read-write frontier grows in steps of this many bytes. */
#define RGN_COMMIT_STEP  ((size_t)2 << 20)

_Static_assert(RGN_BLOCK_SIZE == (1u << RGN_BLOCK_SHIFT), "block size");
/* 2^32 granules of 8 bytes: a 32-bit ref reaches all of the largest space. */
_Static_assert(((RGN_SPACE_MAX / RGN_GRANULE) - 1) == UINT32_MAX, "ref range");

/* ==== "space.c" =========================================================== */

/*
 * Block descriptor: one per block of the space, in a side table beside it
 * (never inside the block), so blocks stay a full 4 KiB and a free block
 * can be purged without its metadata being touched again.
 *
 * Blocks [1, top) are tiled by spans: runs of contiguous blocks, each
 * either USED (held by a region or a thread cache) or FREE (in the shared
 * free lists).  Block 0 is never part of a span.
 *
 * Invariants, for every span [h, h+len):
 *   desc[h].len == desc[h+len-1].len == len
 *   desc[h].state == desc[h+len-1].state        (USED or FREE)
 *   no two FREE spans are adjacent               (frees coalesce)
 *   FREE: desc[h].dirty <= len is an upper bound on its resident blocks;
 *         the sum of dirty over FREE spans is space.retained
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

#define RGN_SPAN_USED 1u
#define RGN_SPAN_FREE 2u

#define RGN_BINS_EXACT 64   /* bins 1..63 hold spans of exactly that length */
#define RGN_BINS       (RGN_BINS_EXACT + 26)

struct rgn_tcache;

struct rgn_space {
	/* set once by rgn_space_init, read-only afterwards */
	char            *base;        /* == rgn_space_base */
	size_t           size;        /* bytes */
	uint32_t         nblocks;     /* size >> RGN_BLOCK_SHIFT (may be 2^23) */
	struct rgn_desc *desc;        /* nblocks descriptors */
	size_t           desc_bytes;
	size_t           retain_limit;/* bytes */
	uint32_t         retain_blocks;
	bool             decommit_zeroes;

	/* protected by lock; on a cache line of its own, so that taking the
	 * lock does not evict the read-only fields above from other cores */
	_Alignas(64) pthread_mutex_t lock;
	uint32_t         top;         /* blocks [top, nblocks) never carved */
	size_t           committed;   /* bytes from base that are read-write */
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
	struct rgn_tcache *caches;    /* registered thread caches */
	int64_t          orphan_regions; /* region count of exited threads */
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
/* Hold and release the set-up lock across fork(). */
rgn_hidden void rgn_space_fork_lock(void);
rgn_hidden void rgn_space_fork_unlock(void);

/* ---- the decode mode's run-time side (arch/<cpu>/<mode>.c) ------------- */

/* The space base, hidden copy (space.c; every mode has it). */
rgn_hidden extern char *rgn_space_base_h_;

/* Reserve the space: size bytes aligned to size, placed where the mode
 * needs it (zero: below 32 GiB).  0 or an errno value. */
rgn_hidden int rgn_arch_reserve(size_t size, void **base);
/* The space now exists at base: make it the calling thread's active base
 * (global: the process's). */
rgn_hidden void rgn_arch_publish(char *base);
/* Make base (NULL: the shared space) the active decode base of the
 * calling thread (global: of the process).  0 or an errno value (zero:
 * ENOTSUP for anything but the space). */
rgn_hidden int rgn_arch_enter(char *base);
/* Called once per thread, on its first allocation. */
rgn_hidden void rgn_arch_thread_start(void);
/* base is going away: where it is the active decode base (the calling
 * thread's; global: the process's, atomically against rgn_enter), make
 * the shared space active again. */
rgn_hidden void rgn_arch_forget(char *base);

/* Make the blocks below new_top accessible.  Caller holds the lock. */
rgn_hidden int rgn_space_commit_to_locked(uint32_t new_top);

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

/* ==== "blocks.c" ========================================================== */

/* Per-thread cache of single blocks, in front of the shared free lists. */
#ifndef RGN_TCACHE_MAX
#define RGN_TCACHE_MAX   64   /* blocks a thread keeps */
#endif
#ifndef RGN_TCACHE_BATCH
#define RGN_TCACHE_BATCH 32   /* blocks moved per refill or drain */
#endif
/* Small spans kept per thread: lengths 2, 4, 8 and 16 blocks (the first
 * chunk sizes, and a 64 KiB buffer), up to RGN_SPAN_CACHE of each. */
#define RGN_SPAN_CLASSES 4
#define RGN_SPAN_CACHE   4

struct rgn_tcache {
	_Atomic uint32_t   n;            /* blocks in blk[0..n) (read by stats) */
	uint32_t           limit;        /* RGN_TCACHE_MAX once registered, else 0 */
	/* the last destroyed one-block region, header kept ready for the next
	 * rgn_new (its block counts as cached) */
	_Atomic(void *)    spare;
	_Atomic uint32_t   span_blocks;  /* blocks in span[][] (read by stats) */
	uint8_t            nspan[RGN_SPAN_CLASSES];
	uint32_t           span[RGN_SPAN_CLASSES][RGN_SPAN_CACHE];
	_Atomic int64_t    regions;      /* regions created - destroyed here */
	struct rgn_tcache *next, *prev;  /* registry, under the space lock */
	uint32_t           blk[RGN_TCACHE_MAX];
};

rgn_hidden extern rgn_thread struct rgn_tcache rgn_tc;

/* Spans of n >= 1 blocks.  Return the first block, or 0 with errno ENOMEM.
 * *zeroed (may be NULL) tells whether the span is known to read as zero. */
rgn_hidden uint32_t rgn_blk_alloc(uint32_t n, bool *zeroed);
/* A span of n blocks whose first block index is a multiple of align
 * (a power of two, in blocks). */
rgn_hidden uint32_t rgn_blk_alloc_aligned(uint32_t n, uint32_t align);
/* Give back a USED span of n blocks (n == its len) to the shared free
 * structure (a single block goes to the thread cache). */
rgn_hidden void rgn_blk_free(uint32_t b, uint32_t n);
/* The same, but a span of a cached length may stay with the thread (what
 * regions use: the next region on this thread takes it without a lock). */
rgn_hidden void rgn_blk_release(uint32_t b, uint32_t n);
/* Give back the spans of a chain linked through desc.next, from head up
 * to (not including) stop or the end (0), as rgn_blk_release does: the
 * spans the thread cache does not keep under one lock acquisition per
 * run of them. */
rgn_hidden void rgn_blk_free_chain(uint32_t head, uint32_t stop);
/* Grow the USED span at b (len n) by extra blocks in place, if the blocks
 * after it are in the calling thread's single-block cache (a run of them
 * first), free, or never carved: 0, or ENOMEM if they are not. */
rgn_hidden int rgn_blk_extend(uint32_t b, uint32_t n, uint32_t extra);
/* Shrink the USED span at b (len n) to keep blocks (1 <= keep <= n),
 * giving the rest back. */
rgn_hidden void rgn_blk_shrink(uint32_t b, uint32_t n, uint32_t keep);
rgn_hidden uint32_t rgn_blk_get1_slow(void);
rgn_hidden void rgn_blk_put1_slow(uint32_t b);
/* Return the calling thread's cache to the shared lists. */
rgn_hidden void rgn_tcache_flush(struct rgn_tcache *tc);
/* Give free memory back to the OS until at most target blocks remain
 * retained.  Takes the lock itself; waits for a purge already running in
 * another thread to end first. */
rgn_hidden void rgn_blk_purge(uint32_t target);
/* Register tc so stats can see it and thread exit flushes it. */
rgn_hidden void rgn_tcache_register(struct rgn_tcache *tc);
rgn_hidden void rgn_blk_init_locked(void);
/* Check every invariant above (debug and tests). 0 if they hold. */
rgn_hidden int rgn_blk_check(void);

/* One block, from the calling thread's cache when it has one. */
static inline uint32_t rgn_blk_get1(void)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t n = atomic_load_explicit(&tc->n, memory_order_relaxed);

	if (rgn_likely(n > 0)) {
		atomic_store_explicit(&tc->n, n - 1, memory_order_relaxed);
		rgn_track_given(rgn_blk_addr(tc->blk[n - 1]), RGN_BLOCK_SIZE);
		return tc->blk[n - 1];
	}
	return rgn_blk_get1_slow();
}

static inline void rgn_blk_put1(uint32_t b)
{
	struct rgn_tcache *tc = &rgn_tc;
	uint32_t n = atomic_load_explicit(&tc->n, memory_order_relaxed);

	rgn_track_taken(rgn_blk_addr(b), RGN_BLOCK_SIZE);
	if (rgn_likely(n < tc->limit)) {
		tc->blk[n] = b;
		atomic_store_explicit(&tc->n, n + 1, memory_order_relaxed);
		return;
	}
	rgn_blk_put1_slow(b);
}

/* ==== "region.c" ========================================================== */

#define RGN_TAG_CHUNK 1u
#define RGN_TAG_LARGE 2u

/* Called before an allocation fails with ENOMEM; sets errno, returns NULL. */
rgn_hidden void *rgn_oom(size_t size);

/* Header magic numbers.  Every handle the API gives out (a region, an
 * image) starts with struct rgn_handle_, so rgn_enter and the image
 * functions can tell them apart without knowing the rest. */
#define RGN_MAGIC_LIVE  0x52474e31u /* "RGN1": a live region */
#define RGN_MAGIC_DEAD  0x52474e30u /* "RGN0": destroyed, or merged away */
#define RGN_MAGIC_IMAGE 0x52474e49u /* "RGNI": an open image */

struct rgn_handle_ {
	struct rgn_bump_ bump;
	uint32_t         magic;
};

/* A live contiguous region's used range, for rgn_image_write: [base,
 * base + *used) is everything from the guard page to the bump pointer,
 * and its objects start at base + *objects (after the header).  0, EINVAL
 * (not a live region) or ENOTSUP (a block region). */
rgn_hidden int rgn_region_used_range(rgn_region *r, char **base,
                                     size_t *objects, size_t *used);

/* ==== "contig.c" ========================================================== */

/* The reference base of block regions: where block references count
 * from.  Every block region's bump.base is this, and rgn_enter(NULL)
 * makes it the decode base again.  (A decode mode whose block references
 * count from address 0 changes it here and nowhere else.) */
#ifdef RGN_DECODE_ZERO
#define rgn_blocks_ref_base() ((char *)0)   /* references are address / 8 */
#else
#define rgn_blocks_ref_base() (rgn_space_g.base)
#endif

#define RGN_CONTIG_MIN     ((size_t)1 << 20)   /* smallest reservation */
#define RGN_CONTIG_MAX     ((size_t)32 << 30)  /* refs reach no further */
#define RGN_CONTIG_DEFAULT RGN_CONTIG_MAX
/* The first page of every reservation is never accessible (ref 0). */
#define RGN_CONTIG_GUARD   ((size_t)RGN_BLOCK_SIZE)
/* The read-write part grows in steps of this many bytes (DESIGN.md 10). */
#define RGN_CONTIG_COMMIT  ((size_t)64 << 10)
#define RGN_CONTIG_RETAIN  ((size_t)1 << 20)   /* default retained size */
#define RGN_CONTIG_CACHE_DEFAULT 8
#define RGN_CONTIG_CACHE_LIMIT   256

/*
 * One reservation of the contiguous backend.  Invariants:
 *   base is page-aligned; size is a multiple of RGN_CONTIG_COMMIT
 *   [base, base + GUARD) is never accessible
 *   GUARD < committed <= size; [base + GUARD, base + committed) is
 *   read-write, the rest inaccessible
 */
struct rgn_resv {
	char  *base;
	size_t size;
	size_t committed;
};

/* A reservation of size bytes (a multiple of RGN_CONTIG_COMMIT) with at
 * least its first commit step read-write: from the reuse cache when it
 * holds one of that size, else from the OS.  0, or ENOMEM (the cap, or
 * the OS refused even after the cache was emptied). */
rgn_hidden int rgn_resv_get(size_t size, struct rgn_resv *out);
/* Make [base, base + upto) read-write (upto <= size), in commit steps. */
rgn_hidden int rgn_resv_commit(struct rgn_resv *v, size_t upto);
/* Give back the pages of the read-write part above offset keep, as the
 * process-wide purge setting says; the commit steps above keep become
 * inaccessible again (v->committed may shrink). */
rgn_hidden void rgn_resv_trim(struct rgn_resv *v, size_t keep);
/* A region is done with v: into the cache (trimmed to keep) or unmapped,
 * as rel says (RGN_RELEASE_DEFAULT: the process-wide setting). */
rgn_hidden void rgn_resv_put(struct rgn_resv *v, rgn_release rel, size_t keep);
/* If base is the active decode base (its region or image is going away),
 * make the shared space's the active one again. */
rgn_hidden void rgn_decode_forget_(char *base);

#endif /* RGN_INTERNAL_H */
