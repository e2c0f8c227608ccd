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
/* The read-write frontier of the space grows in steps of this many bytes. */
#define RGN_COMMIT_STEP  ((size_t)2 << 20)

_Static_assert(RGN_BLOCK_SIZE == (1u << RGN_BLOCK_SHIFT), "block size");
/* 2^32 granules of 8 bytes: a 32-bit ref reaches all of the largest space. */
_Static_assert(((RGN_SPACE_MAX / RGN_GRANULE) - 1) == UINT32_MAX, "ref range");

/* ==== "lock.c" ============================================================ *
 * Every lock of the library is a struct rgn_lock.  The lock order is the
 * rank below: a thread that holds a lock takes only locks of a higher
 * rank.  fork() takes them all, in this order, through one registration
 * (lock.c), so the child never inherits a lock held by a thread it does
 * not have.
 */
enum rgn_lock_rank {
	RGN_RANK_SETUP = 1,   /* space.c: reserving the space */
	RGN_RANK_THREADS,     /* tcache.c: the registry of thread caches */
	RGN_RANK_REGIONS,     /* region.c: per-thread region counts */
	RGN_RANK_CONTIG,      /* backend/contig.c: reservation cache, counters */
	RGN_RANK_BLOCKS,      /* blocks.c: bins, frontier top, counters */
	RGN_RANK_FRONTIER,    /* space.c: the read-write part of the space */
	RGN_RANK_OOM,         /* space.c: the out-of-memory handler */
};

struct rgn_lock {
	pthread_mutex_t  m;
	int              rank;                 /* enum rgn_lock_rank */
	void           (*fork_prepare)(void);  /* with it held, before fork() */
	void           (*fork_child)(void);    /* in the child, still held */
	_Atomic bool     listed;               /* known to the fork handlers */
	_Atomic(const void *) owner;           /* RGN_DEBUG >= 1: the holder */
};

#define RGN_LOCK_INIT(rank_, prepare_, child_)                               \
	{ .m = PTHREAD_MUTEX_INITIALIZER, .rank = (rank_),                   \
	  .fork_prepare = (prepare_), .fork_child = (child_) }

/* The calling thread's identity for the ownership checks. */
rgn_hidden extern rgn_thread char rgn_self_;
/* Put l on the fork list (once per lock). */
rgn_hidden void rgn_lock_list(struct rgn_lock *l);

static inline void rgn_lock(struct rgn_lock *l)
{
	if (rgn_unlikely(!atomic_load_explicit(&l->listed, memory_order_acquire)))
		rgn_lock_list(l);
	pthread_mutex_lock(&l->m);
#if RGN_DEBUG >= 1
	atomic_store_explicit(&l->owner, &rgn_self_, memory_order_relaxed);
#endif
}

static inline void rgn_unlock(struct rgn_lock *l)
{
#if RGN_DEBUG >= 1
	rgn_assert(atomic_load_explicit(&l->owner, memory_order_relaxed) == &rgn_self_);
	atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
#endif
	pthread_mutex_unlock(&l->m);
}

/* Wait on cv, releasing l meanwhile. */
static inline void rgn_lock_wait(pthread_cond_t *cv, struct rgn_lock *l)
{
#if RGN_DEBUG >= 1
	atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
#endif
	pthread_cond_wait(cv, &l->m);
#if RGN_DEBUG >= 1
	atomic_store_explicit(&l->owner, &rgn_self_, memory_order_relaxed);
#endif
}

/* What every _locked function asserts first. */
#define rgn_assert_locked(l) \
	rgn_assert(atomic_load_explicit(&(l)->owner, memory_order_relaxed) == &rgn_self_)

/* ==== "resv.c" ============================================================ */

/*
 * A reservation: address space reserved inaccessible, made read-write from
 * the bottom up in steps.  The shared space is one; every contiguous
 * region lives in another.  Invariants:
 *   base is aligned as reserved; size and step are multiples of the page
 *   [base, base + guard) is never accessible (reference 0 decodes there)
 *   guard <= committed <= size, and committed is guard, size, or a
 *   multiple of step: [base + guard, base + committed) is read-write, the
 *   rest inaccessible
 * The owner serialises calls on one reservation.
 */
struct rgn_resv {
	char  *base;
	size_t size;
	size_t guard;
	size_t committed;
	size_t step;
};

/* Reserve size bytes aligned to align (nothing read-write yet). */
rgn_hidden int rgn_resv_reserve(struct rgn_resv *v, size_t size, size_t align,
                                size_t guard, size_t step);
/* Take over [base, base + size), reserved already (the space's placement
 * is the decode mode's). */
rgn_hidden void rgn_resv_adopt(struct rgn_resv *v, void *base, size_t size,
                               size_t guard, size_t step);
/* Make [base + guard, base + upto) read-write, rounded up to a step.
 * 0, or ENOMEM (past the end, or the OS refused: the mapping limit). */
rgn_hidden int rgn_resv_commit(struct rgn_resv *v, size_t upto);
/* Give back the pages of [base + off, base + off + n): at once (lazy
 * false: they read zero afterwards) or when the OS needs them (lazy:
 * MADV_FREE).  The range stays read-write.  0 or an errno value. */
rgn_hidden int rgn_resv_purge(struct rgn_resv *v, size_t off, size_t n, bool lazy);
/* Make the steps wholly above offset keep inaccessible again. */
rgn_hidden void rgn_resv_uncommit(struct rgn_resv *v, size_t keep);
rgn_hidden void rgn_resv_release(struct rgn_resv *v);

/* ==== "decode.c" (and arch/<cpu>/<mode>.c) ================================ *
 * decode.c owns the decode base: where the space may be placed (each
 * mode's limit), publishing its base, which base is active (rgn_enter),
 * and switching back when an entered region goes away.  The arch files
 * hold only what differs per mode.
 */

/* The space's first byte, once reserved (every mode has it). */
rgn_hidden extern char *rgn_space_base_h_;

/* The base of block references: the space's, or 0 in mode zero, where a
 * reference is the address / 8.  Every block region's bump.base. */
#ifdef RGN_DECODE_ZERO
#define rgn_blocks_ref_base() ((char *)0)
#else
#define rgn_blocks_ref_base() (rgn_space_base_h_)
#endif

/* Reserve the space as the mode needs it: size bytes aligned to size (zero:
 * below 32 GiB).  0 or an errno value. */
rgn_hidden int rgn_decode_reserve(size_t size, void **base);
/* The space now exists at base. */
rgn_hidden void rgn_decode_publish(char *base);
/* Make base (NULL: the shared space) the active decode base of the
 * calling thread (global: of the process).  0 or an errno value. */
rgn_hidden int rgn_decode_enter(char *base);
/* base is going away: where it is active, the shared space is again. */
rgn_hidden void rgn_decode_forget(char *base);
/* A thread's first use of the block layer. */
rgn_hidden void rgn_decode_thread_start(void);
/* The offset from the space base that ref decodes to (through the active
 * base if active): false when that base is not the space's. */
rgn_hidden bool rgn_decode_space_offset(uint32_t ref, int active, size_t *off);

/* The mode's hooks (arch/<cpu>/<mode>.c; mode zero has none). */
rgn_hidden int rgn_arch_set(char *base);              /* 0 or errno */
rgn_hidden bool rgn_arch_swap(char *old, char *base); /* if old active */
rgn_hidden char *rgn_arch_active(void);               /* NULL: not set */

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
	size_t           retain_limit;/* bytes */
	uint32_t         retain_blocks;
	bool             decommit_zeroes;
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

/* ==== "blocks.c": the shared free structure =============================== */

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
};

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
/* Grow the USED span at b (len n) by extra blocks in place, of which the
 * first `own` are USED single blocks the caller holds already (a run
 * from its cache), the rest free or never carved.  0 or ENOMEM. */
rgn_hidden int rgn_blocks_extend(uint32_t b, uint32_t n, uint32_t own, uint32_t extra);
/* Shrink the USED span at b (len n) to keep blocks.  The cut blocks are
 * freed, or, when singles is not NULL, made single USED spans written to
 * singles highest first (the caller keeps them). */
rgn_hidden void rgn_blocks_shrink(uint32_t b, uint32_t n, uint32_t keep, uint32_t *singles);
/* Give free memory back to the OS until at most target blocks remain
 * retained; waits for a purge already running in another thread. */
rgn_hidden void rgn_blk_purge(uint32_t target);
/* Check every invariant of struct rgn_desc: 0 if they hold (else the
 * line of the first that does not, after a message on stderr). */
rgn_hidden int rgn_blk_check(void);
rgn_hidden int rgn_blk_check_locked(void);
/* The structure's part of the space statistics. */
rgn_hidden void rgn_blocks_stats(struct rgn_space_stats *st);

/* ==== "tcache.c": the per-thread caches, the front of the block layer ==== *
 * The rest of the library takes and gives blocks through these functions,
 * which serve what they can from the calling thread's cache and go to
 * blocks.c for the rest. */

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

/* Invariant: every block in blk[], span[][] and spare is USED as far as
 * blocks.c knows, and held by this thread alone. */
struct rgn_tcache {
	_Atomic uint32_t   n;            /* blocks in blk[0..n) (read by stats) */
	uint32_t           limit;        /* RGN_TCACHE_MAX once registered, else 0 */
	/* one block kept whole: the last destroyed one-block region, its
	 * header kept ready by the blocks backend for the next rgn_new */
	_Atomic(void *)    spare;
	_Atomic uint32_t   span_blocks;  /* blocks in span[][] (read by stats) */
	uint8_t            nspan[RGN_SPAN_CLASSES];
	uint32_t           span[RGN_SPAN_CLASSES][RGN_SPAN_CACHE];
	struct rgn_tcache *next, *prev;  /* registry, under its lock */
	uint32_t           blk[RGN_TCACHE_MAX];
};

rgn_hidden extern rgn_thread struct rgn_tcache rgn_tc;

/* Spans of n >= 1 blocks.  Return the first block, or 0 with errno ENOMEM.
 * *zeroed (may be NULL) tells whether the span is known to read as zero. */
rgn_hidden uint32_t rgn_blk_alloc(uint32_t n, bool *zeroed);
rgn_hidden uint32_t rgn_blk_alloc_aligned(uint32_t n, uint32_t align);
/* Give back a USED span of n blocks (n == its len) to the shared free
 * structure (a single block goes to the thread cache). */
rgn_hidden void rgn_blk_free(uint32_t b, uint32_t n);
/* The same, but a span of a cached length may stay with the thread. */
rgn_hidden void rgn_blk_release(uint32_t b, uint32_t n);
/* Release the spans of a chain linked through desc.next, from head up to
 * (not including) stop or the end (0). */
rgn_hidden void rgn_blk_free_chain(uint32_t head, uint32_t stop);
/* Grow the USED span at b (len n) by extra blocks in place, from the
 * thread's cache first (a run of them), then free or fresh blocks:
 * 0, or ENOMEM if they are not there. */
rgn_hidden int rgn_blk_extend(uint32_t b, uint32_t n, uint32_t extra);
/* Shrink the USED span at b (len n) to keep blocks (1 <= keep <= n). */
rgn_hidden void rgn_blk_shrink(uint32_t b, uint32_t n, uint32_t keep);
rgn_hidden uint32_t rgn_blk_get1_slow(void);
rgn_hidden void rgn_blk_put1_slow(uint32_t b);
/* Give the calling thread's cache back to the shared structure (tc is
 * always the caller's own; also the thread-exit destructor). */
rgn_hidden void rgn_tcache_flush(struct rgn_tcache *tc);
/* Blocks held by all threads' caches; *spares (may be NULL) receives
 * how many regions those caches hold as spares, and how many spares were
 * given back since (both still counted live by region.c). */
rgn_hidden size_t rgn_tcache_cached(size_t *spares);

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

/* ==== "region.c": what every region shares ================================ */

/* Handle magic numbers: a live region's, one destroy (or merge) clears,
 * an open image's. */
#define RGN_MAGIC_LIVE  0x52474e31u /* "RGN1": a live region */
#define RGN_MAGIC_DEAD  0x52474e30u /* "RGN0": destroyed, or merged away */
#define RGN_MAGIC_IMAGE 0x52474e49u /* "RGNI": an open image */

struct rgn_cleanup {
	struct rgn_cleanup *next;
	rgn_cleanup_fn      fn;     /* NULL: cancelled (kept so marks stay valid) */
	void               *arg;
};

/*
 * The common part of every region header; each backend's header starts
 * with it.  Invariants, kept by region.c and the backends:
 *   chunk_start <= bump.cur <= bump.end, all in the current chunk
 *   bump.base is the base of the region's references
 *   tail_floor != NULL only while a tail may be pending; it is pending
 *   while bump.cur == tail_at
 *   magic == RGN_MAGIC_LIVE exactly while the region is alive
 */
struct rgn_region {
	struct rgn_bump_    bump;        /* first: read by rgn_alloc inline */
	uint32_t            magic;       /* RGN_MAGIC_* */
	uint32_t            backend;     /* rgn_backend: index of its methods */
	char               *chunk_start; /* where bumping began in this chunk */
	char               *tail_floor;  /* rgn_tail: keep memory below this */
	char               *tail_at;     /* rgn_tail: bump.cur it returned */
	struct rgn_region  *parent;
	struct rgn_region  *child;       /* first child */
	struct rgn_region  *next, *prev; /* siblings */
	struct rgn_cleanup *cleanups;    /* newest first */
	struct rgn_region  *stack_prev;  /* rgn_push stack, below this one */
	size_t              stack_nulls; /* failed pushes below this one */
};

_Static_assert(offsetof(struct rgn_region, bump) == 0, "bump must be first");

/* A saved mark: the common part, and what the backend keeps. */
struct rgn_mark_priv {
	char               *cur;
	struct rgn_cleanup *cleanups;
	uintptr_t           b[4];        /* the backend's */
};
_Static_assert(sizeof(struct rgn_mark_priv) <= sizeof(rgn_mark), "mark size");

/*
 * A backend: how a region gets its memory and gives it back.  region.c
 * calls these on slow paths only; rgn_alloc's inline path and the
 * one-block region's create and destroy never go through the table.
 * Every method gets a live region of its own backend.
 */
struct rgn_backend_ops {
	const char *name;
	/* A new region's header, written with its common part zeroed but for
	 * bump, chunk_start, magic and backend; NULL with errno. */
	rgn_region *(*create)(const rgn_options *o);
	/* Give back all of r's memory (its children and cleanups are gone;
	 * r's header goes with it). */
	void (*release)(rgn_region *r);
	/* Back to empty, as created (children and cleanups are gone). */
	void (*reset)(rgn_region *r);
	/* n >= 1 bytes at align (a power of two >= 8) that the current chunk
	 * cannot give; *zeroed (may be NULL): known to read as zero.  NULL
	 * with errno (the OOM handler called for ENOMEM). */
	void *(*alloc)(rgn_region *r, size_t n, size_t align, bool *zeroed);
	/* The current chunk extra bytes longer in place: 0, or -1 (errno
	 * untouched: the caller tries another way). */
	int (*extend)(rgn_region *r, size_t extra);
	/* A fresh current chunk of at least n bytes: 0 or -1 with errno
	 * (ENOMEM where the backend has one range only). */
	int (*chunk)(rgn_region *r, size_t n);
	/* Give back what lies at or above keep_end in chunk (the current one
	 * if NULL), keeping what the backend needs. */
	void (*trim)(rgn_region *r, void *chunk, char *keep_end);
	/* The largest single allocation r could ever have. */
	size_t (*max_size)(const rgn_region *r);
	void (*save)(const rgn_region *r, struct rgn_mark_priv *mp);
	bool (*mark_valid)(const rgn_region *r, const struct rgn_mark_priv *mp);
	/* Pop what was allocated since mp (cleanups already run). */
	void (*rewind)(rgn_region *r, const struct rgn_mark_priv *mp);
	/* Move src's memory into dst (same backend).  NULL: ENOTSUP. */
	int (*merge)(rgn_region *dst, rgn_region *src);
	/* used, blocks, chunks, large, reserved, committed. */
	void (*stats)(const rgn_region *r, struct rgn_region_stats *st);
};

rgn_hidden extern const struct rgn_backend_ops rgn_blocks_backend;
rgn_hidden extern const struct rgn_backend_ops rgn_contig_backend;

/* Live regions counted by region.c, for the space statistics. */
rgn_hidden size_t rgn_region_count(void);

static inline size_t rgn_round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ==== "backend/blocks.c" ================================================== */

#define RGN_TAG_CHUNK 1u
#define RGN_TAG_LARGE 2u
#define RGN_CHUNK_MAX_DEFAULT 64u  /* blocks: 256 KiB */
#define RGN_CHUNK_FIRST_GROW  2u   /* blocks of the second chunk */

/*
 * A blocks-backend region's header, at the start of its own block.
 * Invariants:
 *   h.chunk_start <= h.bump.cur <= h.bump.end == end of the span at chunk
 *   the chain head ... own block holds nspans spans, blocks blocks in all
 *   used == used_done + (h.bump.cur - h.chunk_start)
 *   h.bump.base == rgn_blocks_ref_base()
 *   blocks == 1 exactly when the region holds its own block alone,
 *   never grown
 */
struct rgn_blk_region {
	struct rgn_region h;
	uint32_t          chunk;       /* first block of the current chunk */
	uint32_t          head;        /* newest span of the chain */
	uint32_t          nspans;      /* spans on the chain, own block too */
	uint32_t          next_chunk;  /* blocks for the next chunk */
	uint32_t          chunk_max;   /* blocks */
	size_t            used_done;   /* bytes used outside the current chunk */
	size_t            blocks;      /* blocks held */
};

/* A new root region of the default shape, from a block of the thread's
 * cache; NULL with errno. */
rgn_hidden rgn_region *rgn_blocks_create(void);

/* The one-block region's fast paths, which rgn_new and rgn_destroy call
 * inline (never through the method table): the last one-block region a
 * thread destroyed stays in its cache as a spare, header ready, and
 * counted live, so that creating and destroying it again costs no
 * counting either.  Take it (NULL: none)... */
static inline rgn_region *rgn_blocks_take_spare(void)
{
	struct rgn_tcache *tc = &rgn_tc;
	rgn_region *r = atomic_load_explicit(&tc->spare, memory_order_relaxed);

	if (rgn_likely(r != NULL)) {
		atomic_store_explicit(&tc->spare, NULL, memory_order_relaxed);
		rgn_track_given(r, RGN_BLOCK_SIZE);
		r->magic = RGN_MAGIC_LIVE;
	}
	return r;
}

/* ...and keep r, a region of one block with no child and no cleanup, as
 * the spare (false: it holds more, or the slot is taken; nothing done).
 * chunk, head, nspans, end and chunk_start are already a new region's. */
static inline bool rgn_blocks_keep_spare(rgn_region *r)
{
	struct rgn_blk_region *b = (struct rgn_blk_region *)r;
	struct rgn_tcache *tc = &rgn_tc;

	if (b->blocks != 1 || atomic_load_explicit(&tc->spare, memory_order_relaxed) ||
	    !tc->limit)
		return false;
	rgn_assert_internal(b->used_done == 0 && b->nspans == 1);
	r->magic = RGN_MAGIC_DEAD;
	r->bump.cur = r->chunk_start;
	r->tail_floor = r->tail_at = NULL;
	b->next_chunk = RGN_CHUNK_FIRST_GROW;
	b->chunk_max = RGN_CHUNK_MAX_DEFAULT;
	rgn_track_taken(r, RGN_BLOCK_SIZE);
	atomic_store_explicit(&tc->spare, r, memory_order_relaxed);
	return true;
}

/* ==== "backend/contig.c" ================================================== */

#define RGN_CONTIG_MIN     ((size_t)1 << 20)   /* smallest reservation */
#define RGN_CONTIG_MAX     ((size_t)32 << 30)  /* refs reach no further */
#define RGN_CONTIG_DEFAULT RGN_CONTIG_MAX
/* The first page of every reservation is never accessible (ref 0). */
#define RGN_CONTIG_GUARD   ((size_t)RGN_BLOCK_SIZE)
/* The read-write part grows in steps of this many bytes (DESIGN.md 11). */
#define RGN_CONTIG_COMMIT  ((size_t)64 << 10)
#define RGN_CONTIG_RETAIN  ((size_t)1 << 20)   /* default retained size */
#define RGN_CONTIG_CACHE_DEFAULT 8
#define RGN_CONTIG_CACHE_LIMIT   256

/* A live contiguous region's used range, for rgn_image_write: [base,
 * base + *used) is everything from the guard page to the bump pointer,
 * and its objects start at base + *objects (after the header).  0, EINVAL
 * (not a live region) or ENOTSUP (another backend). */
rgn_hidden int rgn_contig_used_range(const rgn_region *r, const char **base,
                                     size_t *objects, size_t *used);

#endif /* RGN_INTERNAL_H */
