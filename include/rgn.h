/*
 * rgn.h - region-based memory with 32-bit references.
 *
 * One process-wide address-space reservation, the *space* (32 GiB unless
 * configured otherwise), is carved into 4 KiB blocks.  A *region* chains
 * blocks and bump-allocates objects in them; destroying a region gives all
 * of its blocks back at once.  Objects may point at each other with 32-bit
 * references (rgn_ref): 8-byte granule indexes from the space base.
 * A region may instead own a reservation of its own (the contiguous
 * backend, rgn_new_with): same API, references relative to its base.
 *
 * API conventions
 * ---------------
 * - Functions returning a pointer return NULL and set errno on failure:
 *     ENOMEM     the space is exhausted, or no space could hold the size
 *     EINVAL     a bad argument: NULL region, NULL string, alignment that
 *                is not a power of two, used > available in a tail commit
 *     EOVERFLOW  count * size overflows size_t (rgn_calloc, rgn_alloc_array)
 *   Functions returning int return 0, or -1 with errno set.
 * - Before returning NULL for ENOMEM, the out-of-memory handler (if one is
 *   installed with rgn_set_oom_handler) is called.
 * - rgn_alloc(r, 0) returns a unique, 8-byte allocation.
 * - rgn_destroy(NULL) does nothing.
 * - A region belongs to one thread at a time; its functions take no lock.
 *   Different threads may use different regions concurrently.
 * - Allocations are 8-byte aligned (the reference granule); ask for more
 *   with rgn_alloc_aligned.
 */
#ifndef RGN_H
#define RGN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "rgn/version.h"

/* ---- attributes (same order on every declaration: API, nodiscard,
 *      alloc_size, alloc_align) --------------------------------------------
 * There is deliberately no __attribute__((malloc)): it promises that no
 * other pointer can reach the new memory, but a reference decoded with
 * rgn_ptr does, and gcc -O2 then drops stores made through one pointer
 * and read back through the other. */
#if defined(__GNUC__) || defined(__clang__)
#define RGN_API            __attribute__((visibility("default")))
#define RGN_HIDDEN_        __attribute__((visibility("hidden")))
#define RGN_NODISCARD      __attribute__((warn_unused_result))
#define RGN_ALLOC_SIZE(n)  __attribute__((alloc_size(n)))
#define RGN_ALLOC_SIZE2(n, m) __attribute__((alloc_size(n, m)))
#define RGN_ALLOC_ALIGN(n) __attribute__((alloc_align(n)))
#define RGN_PRINTF(f, a)   __attribute__((format(printf, f, a)))
#define RGN_LIKELY(x)      __builtin_expect(!!(x), 1)
#define RGN_UNLIKELY(x)    __builtin_expect(!!(x), 0)
#else
#define RGN_API
#define RGN_HIDDEN_
#define RGN_NODISCARD
#define RGN_ALLOC_SIZE(n)
#define RGN_ALLOC_SIZE2(n, m)
#define RGN_ALLOC_ALIGN(n)
#define RGN_PRINTF(f, a)
#define RGN_LIKELY(x)      (x)
#define RGN_UNLIKELY(x)    (x)
#endif

#define RGN_CAT2_(a, b) a##b
#define RGN_CAT_(a, b)  RGN_CAT2_(a, b)

#ifdef __cplusplus
extern "C" {
#endif

/* Checks a reference in a debug build (rgn/base.h); active: decoded
 * through the active base (RGN_AT) rather than the space's (rgn_ptr). */
RGN_API uint32_t rgn_ref_check_(uint32_t ref, int active);
/* The inline checks are on when the library was built with them, or when
 * the program defines RGN_DEBUG to 1 or more before including rgn.h. */
#if (defined(RGN_DEBUG_BUILD) && RGN_DEBUG_BUILD >= 1) || \
    (defined(RGN_DEBUG) && RGN_DEBUG >= 1)
#define RGN_CHECKS_ 1
#endif
#ifdef RGN_CHECKS_
#define RGN_CHECK_REF_(ref, active) rgn_ref_check_((uint32_t)(ref), (active))
#else
#define RGN_CHECK_REF_(ref, active) (ref)
#endif

#include "rgn/decode.h"

/* The out-of-line allocation path is named for the decode mode (see
 * rgn/decode.h). */
#define rgn_alloc_slow_ RGN_CAT_(rgn_alloc_slow_, RGN_DECODE_TAG_)

/* ==== the space ========================================================== */

#define RGN_BLOCK_SIZE   4096u
#define RGN_GRANULE      8u

/* Configuration for rgn_init.  Zero in a field means "the default". */
typedef struct rgn_config {
	/* Bytes to reserve: a power of two from 16 MiB to 32 GiB.
	 * Default: the environment variable RGN_SPACE (e.g. "64M", "2G",
	 * "32G", or plain bytes), else 32 GiB. */
	size_t space_size;
	/* Bytes of free blocks kept resident for reuse before free memory
	 * is given back to the OS with madvise.  Default: RGN_RETAIN from
	 * the environment (same syntax), else 64 MiB.  Values below one
	 * block mean "keep none": every free goes back at once. */
	size_t retain_limit;
} rgn_config;

/* Reserve the space now with cfg (NULL: defaults).  Without a call, the
 * space is reserved with defaults on first use.  Fails with EINVAL for a
 * size that is not a power of two in range (or an unparsable RGN_SPACE),
 * EBUSY if the space already exists, ENOMEM if the OS refuses. */
RGN_API int rgn_init(const rgn_config *cfg);

struct rgn_space_stats {
	void  *base;              /* first byte of the space (block 0) */
	size_t size;              /* bytes reserved */
	size_t block_size;        /* RGN_BLOCK_SIZE */
	size_t committed;         /* bytes made accessible so far (frontier) */
	size_t high_water_blocks; /* blocks ever carved (block 0 included);
	                             never goes down */
	size_t used_blocks;       /* blocks held by regions (not in caches) */
	size_t free_blocks;       /* below the high water, in the free lists */
	size_t cached_blocks;     /* in per-thread caches */
	size_t retained_blocks;   /* free blocks that may still be resident */
	size_t retain_limit;      /* bytes; over it, free memory is purged */
	size_t purged_bytes;      /* bytes given back to the OS so far */
	size_t purges;            /* madvise calls made to give them back */
	size_t live_regions;      /* regions created and not yet destroyed */
};

/* Fill *st.  Reserves the space if needed; -1/EINVAL if st is NULL. */
RGN_API int rgn_space_stats(struct rgn_space_stats *st);

/* Give the calling thread's cached blocks back to the shared free lists
 * and return every free block's memory to the OS. */
RGN_API void rgn_space_trim(void);

/* Called (with the size that could not be had) before an allocation
 * fails with ENOMEM.  It may abort, longjmp, or return, in which case the
 * allocation returns NULL.  Returns the previous handler. */
typedef void (*rgn_oom_handler)(size_t size, void *arg);
RGN_API rgn_oom_handler rgn_set_oom_handler(rgn_oom_handler fn, void *arg);

/* ==== regions ============================================================ */

typedef struct rgn_region rgn_region;

typedef enum rgn_backend {
	RGN_BACKEND_BLOCKS = 0,   /* blocks of the shared space (default) */
	RGN_BACKEND_CONTIG = 1    /* a reservation of its own */
} rgn_backend;

/* What rgn_destroy does with a contiguous region's reservation. */
typedef enum rgn_release {
	RGN_RELEASE_DEFAULT = 0,  /* the process-wide setting (rgn_contig_configure) */
	RGN_RELEASE_CACHE = 1,    /* keep it in the bounded reuse cache */
	RGN_RELEASE_UNMAP = 2     /* give the address space back at once */
} rgn_release;

typedef struct rgn_options {
	rgn_backend backend;
	size_t reserve;           /* RGN_BACKEND_CONTIG: bytes to reserve, from
	                             1 MiB to 32 GiB (0: 32 GiB); EINVAL outside */
	size_t chunk_max;         /* cap on chunk growth in bytes (0: 256 KiB) */
	/* RGN_BACKEND_CONTIG only: */
	size_t retain;            /* bytes rgn_reset (and the reuse cache) keep
	                             resident; pages above are given back
	                             (0: 1 MiB; SIZE_MAX: keep everything) */
	rgn_release release;      /* what rgn_destroy does with the reservation */
} rgn_options;

/* Create a region, a child of parent (NULL: a root).  A child is
 * destroyed with its parent.  A child may use another backend than its
 * parent.  Contiguous regions (RGN_BACKEND_CONTIG) own one reservation
 * each: everything the region allocates lies in [base, base + reserve),
 * so allocation beyond the reservation fails with ENOMEM, as does
 * creating one when the OS or the live-reservation cap (see
 * rgn_contig_configure) refuses another reservation.  They support every
 * region function except rgn_merge (ENOTSUP: their memory and references
 * cannot join another region). */
RGN_API RGN_NODISCARD rgn_region *rgn_new(rgn_region *parent);
RGN_API RGN_NODISCARD rgn_region *rgn_new_with(rgn_region *parent,
                                               const rgn_options *opts);

/* Destroy: children first (each the same way), then the cleanups, last
 * registered first, then every block goes back to the space. */
RGN_API void rgn_destroy(rgn_region *r);

/* Like destroy, but the region stays usable, empty, holding one block. */
RGN_API void rgn_reset(rgn_region *r);

/* ---- allocation --------------------------------------------------------- */

/* Internal to the inline fast path: the first member of every region. */
struct rgn_bump_ {
	char *cur;   /* next free byte, 8-aligned */
	char *end;   /* end of the current chunk; cur <= end */
	char *base;  /* reference base: the space's for block regions, the
	                reservation's first byte for contiguous ones */
};

RGN_API RGN_NODISCARD RGN_ALLOC_SIZE(2)
void *rgn_alloc_slow_(rgn_region *r, size_t n);

/* n bytes, 8-byte aligned, uninitialised.  The fast path is a compare
 * and an add: a NULL region, n == 0, and a chunk that is too small all
 * take the out-of-line path, which is also where every error is made.
 * (n - 1 < avail) is false for n == 0 and for any n > avail, so no size
 * can wrap the rounding below: avail is a multiple of 8. */
RGN_NODISCARD RGN_ALLOC_SIZE(2)
static inline void *rgn_alloc(rgn_region *r, size_t n)
{
	struct rgn_bump_ *b = (struct rgn_bump_ *)(void *)r;

	if (RGN_LIKELY(r != NULL)) {
		char *p = b->cur;
		if (RGN_LIKELY(n - 1 < (size_t)(b->end - p))) {
			b->cur = p + ((n + 7) & ~(size_t)7);
			return p;
		}
	}
	return rgn_alloc_slow_(r, n);
}

/* align: a power of two (EINVAL otherwise).  Up to the block size it is
 * padding in the current chunk; beyond, a span placed at that alignment. */
RGN_API RGN_NODISCARD RGN_ALLOC_SIZE(2) RGN_ALLOC_ALIGN(3)
void *rgn_alloc_aligned(rgn_region *r, size_t n, size_t align);

/* count * size bytes, zeroed.  EOVERFLOW if the product overflows. */
RGN_API RGN_NODISCARD RGN_ALLOC_SIZE2(2, 3)
void *rgn_calloc(rgn_region *r, size_t count, size_t size);

/* count * size bytes, uninitialised.  EOVERFLOW if the product overflows. */
RGN_API RGN_NODISCARD RGN_ALLOC_SIZE2(2, 3)
void *rgn_alloc_array(rgn_region *r, size_t count, size_t size);

RGN_API RGN_NODISCARD
char *rgn_strdup(rgn_region *r, const char *s);
/* At most n bytes of s, always NUL-terminated. */
RGN_API RGN_NODISCARD
char *rgn_strndup(rgn_region *r, const char *s, size_t n);
RGN_API RGN_NODISCARD RGN_PRINTF(2, 3)
char *rgn_format(rgn_region *r, const char *fmt, ...);
RGN_API RGN_NODISCARD RGN_PRINTF(2, 0)
char *rgn_vformat(rgn_region *r, const char *fmt, va_list ap);

/* Resize p (old bytes, allocated from r) to new_size bytes, larger or
 * smaller.  When p is the region's last allocation and its chunk (or the
 * blocks after it) has room, this is done in place and p is returned;
 * shrinking always returns p; otherwise a new allocation receives old
 * bytes and p's memory stays with the region.  p NULL is rgn_alloc.  On
 * failure p is untouched and NULL is returned (ENOMEM, EINVAL). */
RGN_API RGN_NODISCARD
void *rgn_realloc(rgn_region *r, void *p, size_t old, size_t new_size);

/* ---- marks --------------------------------------------------------------- */

/* A saved allocation point.  Opaque; valid until the region is reset,
 * destroyed, merged into another, or rewound to an earlier mark. */
typedef struct rgn_mark {
	uintptr_t priv_[6];
} rgn_mark;

RGN_API rgn_mark rgn_save(const rgn_region *r);
/* Free everything allocated in r since m was saved and run (last first)
 * the cleanups registered since; child regions are left alone. */
RGN_API int rgn_rewind(rgn_region *r, rgn_mark m);

/* ---- cleanups and ownership -------------------------------------------- */

typedef void (*rgn_cleanup_fn)(void *arg);

/* Run fn(arg) when r is destroyed or reset (cleanups run last-registered
 * first, after the children are gone and before the memory is). */
RGN_API int rgn_on_destroy(rgn_region *r, rgn_cleanup_fn fn, void *arg);
/* Drop the most recently registered cleanup equal to (fn, arg) without
 * running it.  -1/ENOENT if there is none. */
RGN_API int rgn_on_destroy_cancel(rgn_region *r, rgn_cleanup_fn fn, void *arg);

/* Make child (and its subtree) a child of parent (NULL: a root).
 * EINVAL if parent is child or one of its descendants. */
RGN_API int rgn_adopt(rgn_region *parent, rgn_region *child);
/* Move all of src's memory, cleanups and children into dst; src is gone
 * afterwards (do not destroy it).  EINVAL if src is dst or an ancestor. */
RGN_API int rgn_merge(rgn_region *dst, rgn_region *src);

/* ---- tail reservation ---------------------------------------------------- */

/* Return the start of at least min free bytes at the end of r without
 * allocating them; *avail receives how many bytes are free there (>= min).
 * Fill them (a read(2), say), then call rgn_tail_commit with the count
 * actually used: those bytes become an allocation and the whole blocks
 * left over go back to the space.  Any other allocation from r in
 * between cancels the tail, and rgn_tail_commit then fails with EINVAL
 * (as it does with no tail pending, or used > *avail). */
RGN_API RGN_NODISCARD
void *rgn_tail(rgn_region *r, size_t min, size_t *avail);
RGN_API int rgn_tail_commit(rgn_region *r, size_t used);
/* The pending tail turned out too small: make it at least min bytes,
 * keeping its first used bytes (used <= *avail).  The tail grows in place
 * when the blocks after it can be had (the same pointer is returned);
 * otherwise it moves to a new chunk, the used bytes are copied, and the
 * blocks the old place had taken for the tail go back.  On failure (NULL,
 * ENOMEM) the old tail is still pending and unchanged; without a pending
 * tail, or with used > *avail, it fails with EINVAL. */
RGN_API RGN_NODISCARD
void *rgn_tail_grow(rgn_region *r, size_t used, size_t min, size_t *avail);

/* ---- the per-thread region stack ---------------------------------------- */

/* Push a new region (a child of the current one) and make it current;
 * rgn_pop destroys it and makes the previous one current again.  If the
 * push fails (NULL, ENOMEM) the stack still grows by one entry whose
 * region is NULL, so every push is matched by exactly one pop. */
RGN_API rgn_region *rgn_push(void);
RGN_API void rgn_pop(void);
RGN_API rgn_region *rgn_current(void);

#if defined(__GNUC__) || defined(__clang__)
struct rgn_scope_ { rgn_region *r; int once; };
static inline void rgn_scope_end_(struct rgn_scope_ *s) { (void)s; rgn_pop(); }
/* RGN_SCOPE { ... }: the body runs once with a fresh current region, which
 * is popped however the body is left (break, return, goto included). */
#define RGN_SCOPE                                                          \
	for (struct rgn_scope_ RGN_CAT_(rgn_scope_, __LINE__)              \
	     __attribute__((cleanup(rgn_scope_end_))) = { rgn_push(), 1 }; \
	     RGN_CAT_(rgn_scope_, __LINE__).once;                          \
	     RGN_CAT_(rgn_scope_, __LINE__).once = 0)
#else
/* Without a cleanup attribute, leaving the body by break, return or goto
 * skips the pop. */
#define RGN_SCOPE                                                          \
	for (int RGN_CAT_(rgn_scope_, __LINE__) = (rgn_push(), 1);         \
	     RGN_CAT_(rgn_scope_, __LINE__);                               \
	     RGN_CAT_(rgn_scope_, __LINE__) = (rgn_pop(), 0))
#endif

/* ---- statistics ---------------------------------------------------------- */

struct rgn_region_stats {
	size_t used;      /* bytes handed out by this region (8-rounded,
	                     alignment padding included) */
	size_t blocks;    /* blocks held, chunks and large spans */
	size_t chunks;    /* bump chunks */
	size_t large;     /* dedicated spans for large or over-aligned objects */
	size_t children;  /* direct children */
	size_t cleanups;  /* registered cleanups not yet run */
	/* for a contiguous region, blocks counts its read-write 4 KiB pages and
	 * chunks is 1; these say how its reservation is used */
	rgn_backend backend;
	size_t reserved;  /* RGN_BACKEND_CONTIG: bytes of the reservation */
	size_t committed; /* RGN_BACKEND_CONTIG: bytes made read-write */
};

RGN_API int rgn_region_stats(const rgn_region *r, struct rgn_region_stats *st);

/* ==== references ========================================================== */

/* A 32-bit reference: the index of an 8-byte granule of the space (the
 * address / 8 in decode mode `zero`).  0 is null; decoding it gives an
 * address that faults on access.
 *
 * How a reference is decoded is chosen when rgn is built (meson option
 * `decode`; RGN_DECODE_MODE names it): `global` (the default, any CPU),
 * `gs` (x86-64 Linux), `reg` (AArch64 Linux), `zero`.  rgn/decode.h,
 * included above, has the details of the one in use.
 *   rgn_ptr, rgn_ref_of   the shared space, in every thread and mode;
 *   RGN_AT(T, ref)        the fast path: a T * through the active base
 *                         (the shared space unless rgn_enter chose a
 *                         contiguous region).  In mode gs it is a
 *                         `T __seg_gs *`: dereference it where it is made.
 *   RGN_REENTER()         first statement of a callback or signal handler
 *                         that decodes (needed in mode reg, empty in the
 *                         others).
 *   RGN_FLAT_BARRIER()    between RGN_AT and plain-pointer accesses to the
 *                         same bytes in one function (needed in mode gs
 *                         with gcc, empty in the others). */
typedef uint32_t rgn_ref;

#define RGN_NULL_REF ((rgn_ref)0)

/* p must be NULL (giving 0) or point into the space, 8-byte aligned. */
static inline rgn_ref rgn_ref_of(const void *p)
{
	return p ? (rgn_ref)rgn_encode_(p) : RGN_NULL_REF;
}

static inline void *rgn_ptr(rgn_ref ref)
{
	return rgn_decode_(ref);
}

/* Make the shared space the calling thread's active base (modes gs and
 * reg keep one per thread: call this first in every thread that uses
 * RGN_AT; rgn_init does it for its caller).  Reserves the space if
 * needed.  0, or -1 with errno. */
RGN_API int rgn_thread_init(void);

/* The decode mode librgn was built with; equal to RGN_DECODE_MODE (a
 * program compiled against another mode's headers does not link: see
 * rgn/decode.h). */
RGN_API const char *rgn_decode_mode(void);

/* The version of the librgn running the program, as RGN_VERSION
 * (major * 10000 + minor * 100 + patch); RGN_VERSION is the one the
 * program was compiled against. */
RGN_API int rgn_version(void);

/* ---- region-relative references (any backend) ------------------------------
 * A contiguous region's references are granule indexes from its own base
 * (its reservation's first byte), so they stay valid wherever its memory
 * is mapped (see the images below) but mean nothing in another region.
 * For a block region these are the shared space's references: the same
 * values rgn_ref_of and rgn_ptr give, valid in every block region.
 * r must be a live region; no branch on the backend. */
static inline rgn_ref rgn_ref_in(const rgn_region *r, const void *p)
{
	const struct rgn_bump_ *b = (const struct rgn_bump_ *)(const void *)r;

	return p ? (rgn_ref)((uintptr_t)((const char *)p - b->base) >> 3)
	         : RGN_NULL_REF;
}

/* Ref 0 decodes to the first page of the reservation (or of the space),
 * which is never accessible: a null reference faults when used. */
static inline void *rgn_ptr_in(const rgn_region *r, rgn_ref ref)
{
	const struct rgn_bump_ *b = (const struct rgn_bump_ *)(const void *)r;

	return b->base + ((uintptr_t)ref << 3);
}

#define RGN_AT_IN(r, T, ref) ((T *)rgn_ptr_in((r), (ref)))

/* Make r's references the ones RGN_AT decodes (rgn_ptr and rgn_ref_of
 * always mean the shared space): r a contiguous region (images:
 * rgn_image_enter);
 * a block region or NULL means the shared space again.  Whose decode base
 * changes depends on the decode mode:
 *   global   one process-wide variable: every thread at once, so a
 *            program that enters a contiguous region while another
 *            thread decodes block references with RGN_AT breaks that
 *            thread.  Enter from one thread (or under your own lock),
 *            and prefer rgn_ptr_in where regions mix.
 *   gs, reg  the calling thread only (its GS base, its x28).
 *   zero     there is no base to move: ENOTSUP for a contiguous region
 *            or image (use rgn_ptr_in).
 * 0, or -1 with errno: EINVAL for a region that is not live (caught while
 * its memory is still mapped: a block region, or a reservation in the
 * reuse cache; a contiguous region whose reservation was unmapped cannot
 * be checked, and passing one is undefined); ENOTSUP as above.  When the
 * entered region or image goes away, the thread that destroys it (every
 * thread, in mode global) is switched back to the shared space. */
RGN_API int rgn_enter(const rgn_region *r);

/* ==== the contiguous backend: process-wide settings ======================= */

/* How pages above a region's retained size are given back (rgn_reset, and
 * a reservation entering the reuse cache). */
typedef enum rgn_purge {
	RGN_PURGE_DONTNEED = 0,   /* madvise(MADV_DONTNEED): RSS drops at once,
	                             pages read zero, re-touch faults a new page */
	RGN_PURGE_FREE = 1,       /* madvise(MADV_FREE): the kernel takes them
	                             only under memory pressure; re-touch is
	                             cheap while it has not, but RSS stays high */
	RGN_PURGE_NONE = 2        /* keep them: reuse is free, memory stays */
} rgn_purge;

typedef struct rgn_contig_config {
	rgn_release release;      /* for regions that leave it DEFAULT:
	                             RGN_RELEASE_CACHE (the default) or UNMAP */
	rgn_purge   purge;        /* default RGN_PURGE_DONTNEED */
	size_t      cache_max;    /* reservations the cache keeps (0: 8; at
	                             most 256) */
	size_t      max_live;     /* live reservations allowed; more fail with
	                             ENOMEM (0: only the OS limits them) */
} rgn_contig_config;

/* Set the process-wide policy (NULL: the defaults).  Regions keep the
 * reservation they have; a smaller cache gives back what no longer fits.
 * -1/EINVAL for an unknown enum value or cache_max above 256. */
RGN_API int rgn_contig_configure(const rgn_contig_config *cfg);

struct rgn_contig_stats {
	size_t live;              /* reservations held by regions */
	size_t cached;            /* reservations in the reuse cache */
	size_t reserved_bytes;    /* address space of live + cached ones */
	size_t maps;              /* reservations asked of the OS */
	size_t unmaps;            /* reservations given back to the OS */
	size_t reuses;            /* creations served from the cache */
	size_t refused;           /* creations that failed (cap or OS) */
	size_t purged_bytes;      /* bytes given back by reset and the cache */
};
RGN_API int rgn_contig_stats(struct rgn_contig_stats *st);

/* ==== images: a contiguous region written to a file and mapped back ====== */

/* Write r's used bytes (its reservation from the base up to its bump
 * pointer) to fd at its current offset, behind a one-page header that
 * names root (a reference of r, or 0) and becomes the inaccessible first
 * page when mapped.  Pointers stored in the region are written as they
 * are: only references survive the trip.  r is only read.  0, or -1 with
 * errno: EINVAL (bad region or fd), ENOTSUP (a block region), or write's. */
RGN_API int rgn_image_write(const rgn_region *r, int fd, rgn_ref root);

/* An image mapped read-only: its own type, not a region.  Only
 * rgn_image_* take it. */
typedef struct rgn_image rgn_image;

/* Internal to the inline decoders: the first member of every image. */
struct rgn_image_base_ {
	const char *base;   /* the mapping's first byte: reference 0 */
};

/* Map an image read-only (from the start of fd; fd may be closed after).
 * *root (may be NULL) receives the root reference.  NULL with errno:
 *   ENOEXEC  not an rgn image, or one of another version, byte order or
 *            granule (a foreign file)
 *   EBADMSG  a damaged header (checksum, or fields out of range)
 *   ENODATA  a truncated file (shorter than its header says)
 *   EINVAL   a bad fd; ENOMEM, or the error of fstat/pread/mmap.
 * Thread-safe; the image may be read from any number of threads. */
RGN_API RGN_NODISCARD
rgn_image *rgn_image_open(int fd, rgn_ref *root);
/* Bytes of the image (its references decode below base + size). */
RGN_API size_t rgn_image_size(const rgn_image *img);
/* Unmap an image (NULL does nothing).  If it is the entered one, the
 * shared space is entered again. */
RGN_API void rgn_image_close(rgn_image *img);

/* An image's references: granule indexes from its first byte, as they
 * were in the region it was written from.  Ref 0 decodes to the
 * inaccessible header page. */
static inline const void *rgn_image_ptr(const rgn_image *img, rgn_ref ref)
{
	const struct rgn_image_base_ *b = (const struct rgn_image_base_ *)(const void *)img;

	return b->base + ((uintptr_t)ref << 3);
}

static inline rgn_ref rgn_image_ref(const rgn_image *img, const void *p)
{
	const struct rgn_image_base_ *b = (const struct rgn_image_base_ *)(const void *)img;

	return p ? (rgn_ref)((uintptr_t)((const char *)p - b->base) >> 3)
	         : RGN_NULL_REF;
}

#define RGN_IMAGE_AT(img, T, ref) ((const T *)rgn_image_ptr((img), (ref)))

/* rgn_enter for an image: RGN_AT decodes its references (read them
 * only: the mapping is read-only).  Same rules and errors as rgn_enter. */
RGN_API int rgn_image_enter(const rgn_image *img);

#ifdef __cplusplus
}
#endif

#endif /* RGN_H */
