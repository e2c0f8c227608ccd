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
 * Errors
 * - Functions returning a pointer return NULL and set errno on failure;
 *   functions returning int return 0, or -1 with errno set.  Each
 *   function's comment below lists the values it can set.  errno means
 *   something only after a failure: a call that succeeds may change it.
 *     EINVAL     a bad argument: a NULL or dead region, a NULL string,
 *                format, out-parameter or cleanup, an alignment that is
 *                not a power of two, an option out of range, a mark or a
 *                tail that is not valid
 *     ENOMEM     the space, or a contiguous region's reservation, cannot
 *                hold the size; the OS refused memory or a reservation;
 *                the live-reservation cap (rgn_contig_configure) is hit
 *     EOVERFLOW  count * size overflows size_t (rgn_calloc,
 *                rgn_alloc_array); formatted output over INT_MAX bytes
 * - Before a call fails with ENOMEM, the out-of-memory handler (if one is
 *   installed with rgn_set_oom_handler) is called; rgn_init,
 *   rgn_thread_init and rgn_image_open never call it.
 * - The space is reserved by rgn_init or, without it, by the first call
 *   that needs it: rgn_new, rgn_new_with, rgn_push, rgn_thread_init or
 *   rgn_image_open.  That call can then fail as rgn_init does: EINVAL (an
 *   invalid RGN_SPACE or RGN_RETAIN; a line on stderr says which), ENOMEM,
 *   ENOTSUP (pages larger than a block), or another error of mmap or
 *   mprotect.  No other call reserves it.
 * - Regions: NULL is EINVAL wherever a region is required (rgn_destroy
 *   and rgn_reset do nothing); a NULL parent means a root, and
 *   rgn_enter(NULL) the shared space.  A handle that is recognisably not
 *   a live region (destroyed, merged away, or no region at all) is a
 *   bug, not an error: in every build the call prints
 *   "rgn: FUNCTION(HANDLE): not a live region (WHY)" on stderr and
 *   aborts, rgn_alloc included (a dead handle's chunk is empty, so the
 *   inline path goes out of line).  It is recognised until its memory is
 *   reused (a later rgn_new may return the same address) or unmapped;
 *   beyond that, the checking mode (RGN_CHECK, README) catches the use
 *   at the access.  rgn_ref_in and rgn_ptr_in do not check the region
 *   at all: passing a dead one to them is undefined.
 * - Marks: rgn_rewind refuses (EINVAL) every mark that is not a point of
 *   the region's present history: one of another region, of the region
 *   before its last rgn_reset or rgn_merge, or one the region has since
 *   gone below (a rewind to an earlier mark, a shrink of the last
 *   allocation), in every build.
 *
 * Ownership
 * - Memory allocated from a region belongs to the region: it is never
 *   freed one object at a time (never pass it to free) and stays valid,
 *   with every reference to it, until the region is destroyed (by
 *   rgn_destroy, with an ancestor, or by rgn_pop), reset, or rewound to a
 *   mark saved before the allocation; after rgn_merge it lives as long as
 *   the region merged into.
 * - A root region is the caller's to destroy (a region never destroyed
 *   lives until the process ends); a child is destroyed with its parent,
 *   or earlier.  After rgn_destroy (or being merged away) a region's
 *   handle, its marks and those of its descendants are invalid.
 * - Arguments are only read during the call: strings are copied, and no
 *   configuration or option struct is kept.  A cleanup's argument stays
 *   the caller's.  The one exception is a region's name (rgn_set_name,
 *   rgn_options.name): the pointer is kept, not the bytes.
 *
 * Threads
 * - A region belongs to one thread at a time: the functions that take a
 *   region take no lock, and no two may run on one region at once.  A
 *   region may move to another thread (with the synchronisation any
 *   hand-over of data needs).  Different threads may use different
 *   regions concurrently, and allocate in a child while another allocates
 *   in its parent.  But creating a child (rgn_new, rgn_new_with with a
 *   parent), destroying one (rgn_destroy, rgn_pop, rgn_reset of an
 *   ancestor), rgn_adopt and rgn_merge also write the parent (old and
 *   new): no other thread may use it during those calls.
 * - Thread-safe, process-wide: rgn_init, rgn_thread_init,
 *   rgn_space_stats, rgn_space_trim, rgn_set_oom_handler,
 *   rgn_decode_mode, rgn_version, rgn_contig_configure, rgn_contig_stats,
 *   rgn_image_open, rgn_image_memfd, rgn_image_seal.  An open image may
 *   be read by any number of threads.
 * - Per thread: the region stack (rgn_push, rgn_pop, rgn_current,
 *   RGN_SCOPE), a small cache of free blocks, and, in decode modes gs and
 *   reg, the decode base that rgn_enter switches (mode global has one for
 *   the whole process).
 * - The library's own locks are held across fork(); in the child only the
 *   forking thread's block cache survives.
 *
 * Allocation
 * - rgn_alloc(r, 0) returns a unique, 8-byte allocation.
 * - Allocations are 8-byte aligned (the reference granule); ask for more
 *   with rgn_alloc_aligned.
 */
#ifndef RGN_H
#define RGN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rgn/version.h"

/* ---- attributes (same order on every declaration: API, nodiscard,
 *      alloc_size, alloc_align) --------------------------------------------
 * There is deliberately no __attribute__((malloc)): it promises that no
 * other pointer can reach the new memory, but a reference decoded with
 * rgn_ptr does, and gcc -O2 then drops stores made through one pointer
 * and read back through the other.
 * These macros (and RGN_LIKELY, RGN_UNLIKELY: branch hints) exist for the
 * declarations below.  Every name ending in an underscore, in this file
 * and in the rgn/ headers it includes, is internal: it may change between
 * versions and is not to be used by programs. */
#if defined(_WIN32) && (defined(__GNUC__) || defined(__clang__))
/* a DLL exports what it marks; its users import the data it exports (a
 * static link, RGN_STATIC, neither) */
#if defined(RGN_BUILDING_)
#define RGN_API            __declspec(dllexport)
#elif defined(RGN_STATIC)
#define RGN_API
#else
#define RGN_API            __declspec(dllimport)
#endif
#define RGN_HIDDEN_
#elif defined(__GNUC__) || defined(__clang__)
#define RGN_API            __attribute__((visibility("default")))
#define RGN_HIDDEN_        __attribute__((visibility("hidden")))
#endif
#if defined(__GNUC__) || defined(__clang__)
#define RGN_NODISCARD      __attribute__((warn_unused_result))
#define RGN_ALLOC_SIZE(n)  __attribute__((alloc_size(n)))
#define RGN_ALLOC_SIZE2(n, m) __attribute__((alloc_size(n, m)))
#define RGN_ALLOC_ALIGN(n) __attribute__((alloc_align(n)))
#define RGN_PRINTF(f, a)   __attribute__((format(printf, f, a)))
#define RGN_LIKELY(x)      __builtin_expect(!!(x), 1)
#define RGN_UNLIKELY(x)    __builtin_expect(!!(x), 0)
#define RGN_ASSUME_(x)     ((x) ? (void)0 : __builtin_unreachable())
#define RGN_CONSTANT_(x)   __builtin_constant_p(x)
#define RGN_INLINE_        __attribute__((always_inline)) inline
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
#define RGN_ASSUME_(x)     ((void)0)
#define RGN_CONSTANT_(x)   0
#define RGN_INLINE_        inline
#endif

#define RGN_CAT2_(a, b) a##b
#define RGN_CAT_(a, b)  RGN_CAT2_(a, b)

#ifdef __cplusplus
extern "C" {
#endif

/* Internal: checks a reference in a debug build (rgn/base.h); active:
 * decoded through the active base (RGN_AT) rather than the space's
 * (rgn_ptr).  Aborts with a message for a reference beyond the space's
 * high-water mark; returns ref otherwise. */
RGN_API uint32_t rgn_ref_check_(uint32_t ref, int active);
/* Internal: checks a pointer rgn_ref_of encodes, in a debug build: aborts
 * with a message for one outside the space's carved blocks (the stack,
 * malloc, a contiguous region) or not 8-byte aligned; returns p. */
RGN_API const void *rgn_ptr_check_(const void *p);
/* The inline checks are on when the library was built with them, or when
 * the program defines RGN_DEBUG to 1 or more before including rgn.h. */
#if (defined(RGN_DEBUG_BUILD) && RGN_DEBUG_BUILD >= 1) || \
    (defined(RGN_DEBUG) && RGN_DEBUG >= 1)
#define RGN_CHECKS_ 1
#endif
#ifdef RGN_CHECKS_
#define RGN_CHECK_REF_(ref, active) rgn_ref_check_((uint32_t)(ref), (active))
#define RGN_CHECK_PTR_(p) rgn_ptr_check_(p)
#else
#define RGN_CHECK_REF_(ref, active) (ref)
#define RGN_CHECK_PTR_(p) (p)
#endif

#include "rgn/decode.h"

/* The out-of-line allocation path (internal) is named for the decode mode
 * (see rgn/decode.h), so a program compiled against another mode's
 * headers fails to link. */
#define rgn_alloc_slow_ RGN_CAT_(rgn_alloc_slow_, RGN_DECODE_TAG_)

/* ==== the space ========================================================== */

/* RGN_BLOCK_SIZE: bytes of a block, the unit the space is carved in.
 * RGN_GRANULE: the alignment of every allocation, and what a reference
 * counts in. */
#define RGN_BLOCK_SIZE   4096u
#define RGN_GRANULE      8u

/* Configuration for rgn_init.  Zero in a field means "the default".
 * RGN_SPACE and RGN_RETAIN are read once, when the space is reserved;
 * sizes are decimal bytes, optionally followed by K, M, G or T (powers of
 * 1024, either case) and then by B or iB; an empty value counts as unset. */
typedef struct rgn_config {
	/* Bytes to reserve: a power of two from 16 MiB to 32 GiB.
	 * Default: the environment variable RGN_SPACE (e.g. "64M", "2G",
	 * "32G", or plain bytes), else 32 GiB. */
	size_t space_size;
	/* Bytes of free blocks kept resident for reuse before free memory
	 * is given back to the OS with madvise.  A value given here or in
	 * RGN_RETAIN (same syntax) is a fixed limit.  Default: a limit that
	 * adapts to the process, a quarter of its recent peak of blocks in
	 * use, at least 256 KiB and at most 64 MiB.  Values below one block
	 * mean "keep none": every free goes back at once. */
	size_t retain_limit;
	/* The checking mode: blocks that regions give back are made
	 * inaccessible and held in quarantine, so that a use after destroy,
	 * reset, rewind or a tail commit faults at the access with a report
	 * naming the region.  0: RGN_CHECK from the environment ("1" or a
	 * quarantine bound such as "256M"; ",mprotect" appended forces the
	 * fallback used on kernels without guard pages), else off.  1: on,
	 * 64 MiB of quarantine; larger: on, a quarantine of that many bytes.
	 * The bound is at most a quarter of the space. */
	size_t check;
} rgn_config;

/* Reserve the space now with cfg (NULL: defaults), and make it the
 * calling thread's decode base.  Without a call, the space is reserved
 * with defaults on first use.  When the default 32 GiB is refused (an
 * address-space limit, strict overcommit), the largest power of two the
 * OS grants, down to 16 MiB, is taken; a size asked for (in cfg or
 * RGN_SPACE) is never replaced.  A set-up on first use that fails is
 * remembered: every later first use fails with the same errno at once,
 * until an rgn_init succeeds.  0, or -1 with errno:
 *   EINVAL   a size that is not a power of two in range, or an
 *            unparsable RGN_SPACE or RGN_RETAIN (a line on stderr)
 *   EBUSY    the space already exists (an earlier rgn_init, or first
 *            use); nothing is done, the decode base included
 *   ENOMEM   the OS refuses the reservation (mode zero: no free range
 *            aligned to its size below 32 GiB); or another mmap or
 *            mprotect error
 *   ENOTSUP  the page size is larger than a block
 *   and in mode gs the error of arch_prctl (the GS base cannot be set).
 * The out-of-memory handler is not called.  Thread-safe. */
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
	size_t cached_blocks;     /* in per-thread caches (and quarantine) */
	size_t retained_blocks;   /* free blocks that may still be resident */
	size_t retain_limit;      /* bytes; over it, free memory is purged
	                             (the adaptive limit's value now) */
	size_t purged_bytes;      /* bytes given back to the OS so far */
	size_t purges;            /* madvise calls made to give them back */
	size_t live_regions;      /* regions created and not yet destroyed */
};

/* Fill *st with the state of the space at one instant.  Never reserves
 * the space: before it exists every field is 0 but block_size.  0, or
 * -1 with EINVAL if st is NULL.  Thread-safe. */
RGN_API int rgn_space_stats(struct rgn_space_stats *st);

/* Give the calling thread's cached blocks back to the shared free lists
 * and return every free block's memory to the OS, and the forwarding
 * table the tracing copy keeps between copies.  Other threads'
 * caches, blocks held by regions, and contiguous reservations (and their
 * reuse cache) are left alone.  Does nothing before the space exists;
 * reports no error.  Thread-safe. */
RGN_API void rgn_space_trim(void);

/* Called (with the size that could not be had; RGN_BLOCK_SIZE when
 * creating a region fails, whatever its backend) before a call fails with
 * ENOMEM, in the failing thread, possibly in several threads at once.  It
 * may abort, longjmp (leaving the failed call where it was), or return,
 * in which case the call fails with ENOMEM.  rgn_set_oom_handler installs
 * fn (NULL: none) with arg for the whole process and returns the previous
 * handler (not its arg).  Thread-safe; cannot fail. */
typedef void (*rgn_oom_handler)(size_t size, void *arg);
RGN_API rgn_oom_handler rgn_set_oom_handler(rgn_oom_handler fn, void *arg);

/* ==== regions ============================================================ */

/* A region: opaque; created by rgn_new or rgn_new_with (or rgn_push),
 * invalid once destroyed or merged away. */
typedef struct rgn_region rgn_region;

typedef enum rgn_backend {
	RGN_BACKEND_BLOCKS = 0,   /* blocks of the shared space (default) */
	RGN_BACKEND_CONTIG = 1,   /* a reservation of its own */
	RGN_BACKEND_HEAP = 2      /* a heap region: blocks of the shared space
	                             cut into size classes, so that rgn_free
	                             and rgn_realloc give memory back */
} rgn_backend;

/* What rgn_destroy does with a contiguous region's reservation (any
 * other value is EINVAL). */
typedef enum rgn_release {
	RGN_RELEASE_DEFAULT = 0,  /* the process-wide setting (rgn_contig_configure) */
	RGN_RELEASE_CACHE = 1,    /* keep it in the bounded reuse cache */
	RGN_RELEASE_UNMAP = 2     /* give the address space back at once */
} rgn_release;

/* Options for rgn_new_with.  Zero in a field means the default; opts is
 * only read during the call.  backend outside the enum is EINVAL.  The
 * fields of the other backends are ignored (and not checked): chunk_max
 * is the blocks and heap backends'; rounded down to whole blocks, it is
 * taken from one block (8 for a heap region) to 1 GiB; in a blocks
 * region objects above an eighth of it get blocks of their own.
 *
 * A heap region (RGN_BACKEND_HEAP) hands out objects in 80 size classes
 * (multiples of 8 up to 64 bytes, then eight per doubling up to 32 KiB:
 * at most 12.5 % over a request above 64 bytes), with no header; larger
 * objects are spans of blocks.  rgn_free puts an object back on its
 * class's free list in O(1) (a span goes back to the space), rgn_realloc
 * resizes in place while the class or span allows, rgn_usable_size is
 * exact.  Destroy and reset give back every chunk and span at once,
 * whatever the number of objects.  Objects are 8-byte aligned (16 when
 * their class is a multiple of 16; rgn_alloc_aligned rounds a request up
 * to a power of two at least its alignment).  Children, cleanups, names,
 * statistics (used counts live objects' class sizes) and references are
 * as in any region; rgn_rewind and rgn_tail fail with ENOTSUP (nothing
 * is bumped: there is no history to go back to), as does rgn_merge.  As
 * every region, a heap region is used by one thread at a time: its free
 * lists take no lock, so threads that share one serialize their calls
 * (rgn_free and rgn_realloc included). */
typedef struct rgn_options {
	rgn_backend backend;
	size_t reserve;           /* RGN_BACKEND_CONTIG: bytes to reserve, from
	                             1 MiB to 32 GiB, rounded up to 64 KiB
	                             (0: 32 GiB); EINVAL outside */
	size_t chunk_max;         /* cap on chunk growth in bytes (0: 256 KiB,
	                             1 MiB for a heap region) */
	/* RGN_BACKEND_CONTIG only: */
	size_t retain;            /* bytes rgn_reset (and the reuse cache) keep
	                             resident; pages above are given back
	                             (0: 1 MiB; SIZE_MAX: keep everything) */
	rgn_release release;      /* what rgn_destroy does with the reservation */
	/* Any backend: the region's name, as rgn_set_name sets it (kept, not
	 * copied; NULL: unnamed). */
	const char *name;
} rgn_options;

/* Create a region, a child of parent (NULL: a root), and return it:
 * rgn_new a region of the blocks backend holding one block, rgn_new_with
 * one with options (NULL: as rgn_new).  A root is the caller's to
 * destroy; a child is destroyed with its parent (or earlier), and
 * creating one writes the parent.  A child may use another backend than its
 * parent.  Contiguous regions (RGN_BACKEND_CONTIG) own one reservation
 * each: everything the region allocates lies in [base, base + reserve),
 * so allocation beyond the reservation fails with ENOMEM, as does
 * creating one when the OS or the live-reservation cap (see
 * rgn_contig_configure) refuses another reservation.  They support every
 * region function except rgn_merge (ENOTSUP: their memory and references
 * cannot join another region).  NULL with errno: EINVAL if parent is
 * neither NULL nor a live region, or an option is out of range; ENOMEM
 * if no block (or reservation) can be had; on first use, the errors of
 * reserving the space (see the conventions). */
RGN_API RGN_NODISCARD rgn_region *rgn_new(rgn_region *parent);
RGN_API RGN_NODISCARD rgn_region *rgn_new_with(rgn_region *parent,
                                               const rgn_options *opts);

/* Destroy: children first (each the same way, leaves first, without
 * recursion), then the cleanups, last registered first, then every block
 * goes back to the space (through the calling thread's cache); a
 * contiguous region's reservation goes to the reuse cache or back to the
 * OS, as its release option says.  Every pointer and reference into r
 * and its descendants, their marks, and the region handles themselves
 * become invalid.  NULL does nothing; a region already destroyed aborts
 * with a message (see the conventions).  If r or a descendant is the
 * entered region (rgn_enter), the calling thread (every thread, in mode
 * global) decodes through the shared space again.  Destroying a child
 * writes its parent.  A region pushed with rgn_push is meant to be
 * destroyed by rgn_pop; one destroyed otherwise (or with an ancestor, or
 * merged away) leaves its stack entry as a failed push leaves it, and
 * the rgn_pop that pairs with it only removes the entry.  Destroying a
 * region on another thread's stack aborts with a message. */
RGN_API void rgn_destroy(rgn_region *r);

/* Like destroy, but r stays usable and empty, with the same parent and
 * options: its children are destroyed and its cleanups run (again, until
 * none creates a child or registers a cleanup), then its memory goes back
 * but for its first block (a contiguous region keeps its reservation,
 * and up to retain bytes of it resident).  Every allocation, mark and
 * pending tail of r becomes invalid.  NULL, or a dead region, does
 * nothing (a debug build aborts for the latter). */
RGN_API void rgn_reset(rgn_region *r);

/* ---- allocation --------------------------------------------------------- */

/* Internal to the inline fast path and decoders: the first member of
 * every region. */
struct rgn_bump_ {
	char *cur;   /* next free byte, 8-aligned */
	char *end;   /* end of the current chunk; cur <= end */
	char *base;  /* reference base: the space's for block regions, the
	                reservation's first byte for contiguous ones */
};

RGN_API RGN_NODISCARD RGN_ALLOC_SIZE(2)
void *rgn_alloc_slow_(rgn_region *r, size_t n);

/* Internal: do n bytes fit between the bump pointer p and end?  In
 * general n - 1 < end - p, which no size can wrap and which is false for
 * n == 0 (that goes out of line).  For a size known at compile time,
 * from 1 byte to 4 GiB, the test is p + round8(n) <= end instead: an add
 * whose sum is also the new bump pointer, and a compare (addresses are far
 * below 2^64 - 2^32, so the sum cannot wrap). */
#define RGN_FITS_(n, p, end)                                                \
	(RGN_CONSTANT_(n) && (n) - 1 < ((size_t)1 << 32)                    \
	 ? (uintptr_t)(p) + (((n) + 7) & ~(size_t)7) <= (uintptr_t)(end)   \
	 : (n) - 1 < (size_t)((end) - (p)))

/* n bytes, 8-byte aligned, uninitialised; n == 0 gives a unique 8-byte
 * allocation.  NULL with errno: EINVAL if r is NULL or not a live region,
 * ENOMEM if the space (or a contiguous region's reservation) cannot hold
 * n bytes.  The fast path is a compare and an add: a NULL region, n == 0,
 * and a chunk that is too small all take the out-of-line path, which is
 * also where every error is made.  The fast path reads r's header without
 * checking that r is live: a destroyed or merged-away region is undefined
 * here, not EINVAL (it may even hand out memory).
 * (n - 1 < avail) is false for n == 0 and for any n > avail, so no size
 * can wrap the rounding below: avail is a multiple of 8. */
RGN_NODISCARD RGN_ALLOC_SIZE(2)
static inline void *rgn_alloc(rgn_region *r, size_t n)
{
	struct rgn_bump_ *b = (struct rgn_bump_ *)(void *)r;

	if (RGN_LIKELY(r != NULL)) {
		char *p = b->cur;
		if (RGN_LIKELY(RGN_FITS_(n, p, b->end))) {
			b->cur = p + ((n + 7) & ~(size_t)7);
			RGN_ASSUME_(p != NULL);
			return p;
		}
	}
	return rgn_alloc_slow_(r, n);
}

/* n bytes aligned to align, a power of two (EINVAL otherwise, 0
 * included); align <= 8 is rgn_alloc.  In a block region, up to the
 * block size it is padding in the current chunk; beyond, a span of its
 * own placed at that alignment.  A contiguous region pads in its
 * reservation, whatever the alignment.  Padding counts as used.  NULL
 * with errno: EINVAL (also for r not a live region), ENOMEM. */
RGN_API RGN_NODISCARD RGN_ALLOC_SIZE(2) RGN_ALLOC_ALIGN(3)
void *rgn_alloc_aligned(rgn_region *r, size_t n, size_t align);

/* count * size bytes, zeroed.  NULL with errno: EINVAL if r is not a
 * live region, EOVERFLOW if the product overflows, ENOMEM. */
RGN_API RGN_NODISCARD RGN_ALLOC_SIZE2(2, 3)
void *rgn_calloc(rgn_region *r, size_t count, size_t size);

/* count * size bytes, uninitialised.  Errors as rgn_calloc. */
RGN_API RGN_NODISCARD RGN_ALLOC_SIZE2(2, 3)
void *rgn_alloc_array(rgn_region *r, size_t count, size_t size);

/* A copy of the string s in r.  NULL with errno: EINVAL if r is not a
 * live region or s is NULL; ENOMEM. */
RGN_API RGN_NODISCARD
char *rgn_strdup(rgn_region *r, const char *s);
/* At most the first n bytes of s (no byte past them is read), always
 * NUL-terminated.  Errors as rgn_strdup. */
RGN_API RGN_NODISCARD
char *rgn_strndup(rgn_region *r, const char *s, size_t n);
/* A string formatted as by snprintf, allocated in r at its exact length
 * plus the NUL: formatted straight into the free end of the current
 * chunk, and a second time only when it does not fit.  rgn_vformat uses
 * ap as vsnprintf does (va_end is the caller's).  NULL with errno: EINVAL
 * if r is not a live region or fmt is NULL; ENOMEM; the errors of
 * vsnprintf (EOVERFLOW for output over INT_MAX bytes, EILSEQ).  Nothing
 * stays allocated on failure. */
RGN_API RGN_NODISCARD RGN_PRINTF(2, 3)
char *rgn_format(rgn_region *r, const char *fmt, ...);
RGN_API RGN_NODISCARD RGN_PRINTF(2, 0)
char *rgn_vformat(rgn_region *r, const char *fmt, va_list ap);

/* Resize p (allocated from r) to new_size bytes, larger or smaller, and
 * return where it now lives; old is the size p was allocated or last
 * resized with (0: unknown, allowed in a heap region only).  In a heap
 * region the object stays in place while new_size fits its size class (or
 * its span, for objects above 32 KiB, which also grows into free blocks
 * after it) and is not under half of it; otherwise it moves (its old
 * memory is freed) to a new object of new_size bytes.  In the other
 * regions, when p is the region's last allocation and its chunk (or the
 * blocks after it, or the rest of a contiguous reservation) has room,
 * this is done in place and p is returned; shrinking always returns p;
 * otherwise a new allocation (8-byte aligned, whatever p was) receives
 * old bytes and p's memory stays with the region until it is reset,
 * destroyed or rewound.  A shrink in place gives the region's end back,
 * as a rewind would: marks saved since p was allocated that lie above its
 * new end become invalid.  p NULL is rgn_alloc(r, new_size); new_size 0
 * keeps 8 bytes.  On failure p is untouched and still valid, and NULL is
 * returned with errno EINVAL (r not a live region) or ENOMEM. */
RGN_API RGN_NODISCARD
void *rgn_realloc(rgn_region *r, void *p, size_t old, size_t new_size);

/* Give back p, an object allocated from r (with rgn_alloc, rgn_calloc,
 * rgn_realloc, ...) of size bytes as asked for (0: unknown).  In a heap
 * region the object goes back to its size class's free list (O(1), no
 * header read or written but the object's own first word), or its span
 * back to the space for objects above 32 KiB.  In the other regions the
 * memory goes back only when p is the region's last allocation and size
 * is given (as rgn_realloc's shrink: marks above it become invalid);
 * otherwise nothing happens, and the memory lives as long as the region.
 * The bump pointer goes back to p, not past any padding an alignment
 * put before p: the allocation before an aligned one is not the last
 * again once the aligned one is freed.
 * p NULL does nothing, and so does r NULL (a destroyed region aborts with
 * a message, as in every call that takes a region).  Freeing
 * anything but a live object of r (twice, a pointer inside an object,
 * another region's) is undefined; builds with -Drgn_debug=1 or more catch
 * it in a heap region with a message and abort.  Never sets errno. */
RGN_API void rgn_free(rgn_region *r, void *p, size_t size);

/* The bytes usable at p, an object of r: in a heap region exactly its
 * size class (or span), at least what was asked for, in O(1) from the
 * block's descriptor; in the other regions sizes are not recorded and
 * this returns 0.  0 too for p NULL or r not a live region. */
RGN_API size_t rgn_usable_size(const rgn_region *r, const void *p);

/* ---- marks --------------------------------------------------------------- */

/* A saved allocation point.  Opaque, a plain value that holds nothing
 * (copy it, drop it); valid until the region is reset, destroyed, merged
 * into another, or goes below it (rewound to an earlier mark, or its last
 * allocation shrunk below it).  It carries the region's identity and a
 * generation, so rgn_rewind tells every stale or foreign mark apart. */
typedef struct rgn_mark {
	uint64_t priv_[8];
} rgn_mark;

/* A mark of how far r has allocated.  If r is not a live region: a mark
 * that rgn_rewind rejects, and errno EINVAL. */
RGN_API rgn_mark rgn_save(const rgn_region *r);
/* Free everything allocated in r since m was saved: first the cleanups
 * registered since run, last first (they may still use the memory, and
 * may allocate: that is freed too), then the blocks taken since go back
 * (a contiguous region keeps its pages read-write).  Pointers and
 * references to that memory, marks saved after m and a pending tail
 * become invalid; m stays valid.  Child regions are left alone, even
 * those created since m.  0, or -1 with EINVAL if r is NULL or m is not
 * a valid mark of r (nothing changes then): a mark of another region, of
 * r before a reset or merge, saved after the mark r was rewound to since,
 * or a zeroed one.  A mark that was valid stays valid through any number
 * of rewinds to it or to marks saved after it.  (One limit: r remembers
 * the points it went down to that still have valid marks below them in a
 * list of 170 entries; a 171st, reachable only by rewinding to ever
 * higher points while keeping the old marks, makes the oldest points
 * forget their upper marks, which are then refused: never accepted
 * wrongly.)  Cost: O(1) for the common nestings; the list and a walk of
 * the chain down to m (a block region) on slow paths only. */
RGN_API int rgn_rewind(rgn_region *r, rgn_mark m);

/* ---- cleanups and ownership -------------------------------------------- */

/* A cleanup, called with the arg it was registered with. */
typedef void (*rgn_cleanup_fn)(void *arg);

/* Run fn(arg) when r is destroyed or reset, or rewound to a mark saved
 * before this call.  Cleanups run last-registered first, after the
 * children are gone (on destroy and reset) and before the memory is, in
 * the thread that destroys, resets or rewinds r (mode reg: x28 loaded).
 * After rgn_merge they run with the region merged into.  A cleanup may
 * allocate from r and create children of it, but must not destroy, reset
 * or rewind r.  The record (three pointers) is allocated in r, so this
 * cancels a pending tail.  0, or -1 with errno: EINVAL if r is not a
 * live region or fn is NULL; ENOMEM. */
RGN_API int rgn_on_destroy(rgn_region *r, rgn_cleanup_fn fn, void *arg);
/* Drop the most recently registered cleanup equal to (fn, arg) that has
 * neither run nor been cancelled, without running it; its record's bytes
 * stay in r.  0, or -1 with errno: EINVAL if r is not a live region or fn
 * is NULL; ENOENT if there is none. */
RGN_API int rgn_on_destroy_cancel(rgn_region *r, rgn_cleanup_fn fn, void *arg);

/* Make child (and its subtree) a child of parent (NULL: a root), whatever
 * its parent was; it is then destroyed with parent.  Works across
 * backends.  Writes child, its old parent and the new one.  0, or -1 with
 * EINVAL if child is not a live region, parent is neither NULL nor a live
 * region, or parent is child or one of its descendants. */
RGN_API int rgn_adopt(rgn_region *parent, rgn_region *child);
/* Move all of src's memory, cleanups and children into dst, in O(1) but
 * for walking src's cleanups and children.  src is gone afterwards: its
 * handle and its marks are invalid (do not destroy it); what it allocated
 * lives as long as dst (pointers and references stay valid).  src's
 * cleanups run before dst's, and rewinding dst to a mark saved before the
 * merge frees what src brought.  Writes dst, src, src's parent and its
 * children.  0, or -1 with errno: EINVAL if either is not a live region,
 * or src is dst or an ancestor of dst; ENOTSUP if either is a contiguous
 * region. */
RGN_API int rgn_merge(rgn_region *dst, rgn_region *src);

/* ---- tail reservation ---------------------------------------------------- */

/* Return the start (8-byte aligned) of at least min (0 counts as 1) free
 * bytes at the end of r without allocating them; *avail receives how
 * many bytes are free there (>= min).  The tail is then pending.
 * Fill them (a read(2), say), then call rgn_tail_commit with the count
 * actually used: those bytes (rounded up to 8) become an allocation at
 * that address and the whole blocks the tail added after them go back to
 * the space (blocks r held before are kept; a contiguous region gives
 * nothing back); used 0 ends the tail allocating nothing.  Any other
 * allocation from r in between that takes bytes from its current chunk
 * (every one but an object given blocks of its own), a reset or a rewind
 * cancels the tail and the bytes in it, and rgn_tail_commit then fails
 * with EINVAL (as it does with no tail pending, or used > *avail); a
 * second rgn_tail starts a new tail.  rgn_tail: NULL with errno EINVAL (r
 * not a live region, avail NULL) or ENOMEM (min bytes cannot be had).
 * rgn_tail_commit: 0, or -1 with EINVAL (also for r not live). */
RGN_API RGN_NODISCARD
void *rgn_tail(rgn_region *r, size_t min, size_t *avail);
RGN_API int rgn_tail_commit(rgn_region *r, size_t used);
/* The pending tail turned out too small: make it at least min bytes (used
 * if larger), keeping its first used bytes (used <= *avail), and return
 * its start; *avail receives the bytes now free there.  The tail grows in
 * place when the blocks after it can be had (the same pointer is
 * returned); otherwise it moves to a new chunk, the used bytes are
 * copied, the blocks the old place had taken for the tail go back, and
 * the old pointer is invalid.  A contiguous region grows in place only.
 * The tail stays pending.  On failure (NULL, ENOMEM: min bytes cannot be
 * had) the old tail is still pending and unchanged, and the out-of-memory
 * handler is not called: this is a try, and the caller may ask for less
 * (the rgn_sys wrappers do); with r NULL, avail NULL, no pending tail,
 * or used > *avail, it fails with EINVAL. */
RGN_API RGN_NODISCARD
void *rgn_tail_grow(rgn_region *r, size_t used, size_t min, size_t *avail);

/* ---- the per-thread region stack ---------------------------------------- */

/* Each thread has a stack of regions of its own, for code that wants a
 * region for the extent of a block without passing it around; these
 * calls act on the calling thread's stack only.
 * rgn_push: push a new region (a child of rgn_current(), a root if that
 * is NULL), make it current and return it.  If the push fails (NULL, with
 * rgn_new's errno: ENOMEM, or on first use the errors of reserving the
 * space) the stack still grows by one entry whose region is NULL, so
 * every push is matched by exactly one pop.  The region is an ordinary
 * one otherwise, meant to be destroyed by rgn_pop, in the pushing thread
 * (if it goes another way, see rgn_destroy, its entry stays as a failed
 * push's).
 * rgn_pop: remove the top entry and destroy its region (children too),
 * making the entry below current again; an entry left by a failed push,
 * or by a region that went another way, is just removed; on an empty
 * stack it does nothing.
 * rgn_current: the top entry's region; NULL if the stack is empty or the
 * top entry is a failed push or a region gone.  Never fails, never sets
 * errno.
 * Entries left when a thread exits are not popped: their regions (and
 * their memory) stay until destroyed some other way. */
RGN_API rgn_region *rgn_push(void);
RGN_API void rgn_pop(void);
RGN_API rgn_region *rgn_current(void);

#if defined(__GNUC__) || defined(__clang__)
/* Internal to RGN_SCOPE. */
struct rgn_scope_ { rgn_region *r; int once; };
static inline void rgn_scope_end_(struct rgn_scope_ *s) { (void)s; rgn_pop(); }
/* RGN_SCOPE { ... }: the body runs once with a fresh current region, which
 * is popped however the body is left (break, return, goto included; a
 * longjmp out skips the pop).  The region is rgn_current(), NULL if the
 * push failed: the body runs anyway.  RGN_SCOPE is a for statement: a
 * break or continue in the body leaves the scope, not an enclosing loop. */
#define RGN_SCOPE                                                          \
	for (struct rgn_scope_ RGN_CAT_(rgn_scope_, __LINE__)              \
	     __attribute__((cleanup(rgn_scope_end_))) = { rgn_push(), 1 }; \
	     RGN_CAT_(rgn_scope_, __LINE__).once;                          \
	     RGN_CAT_(rgn_scope_, __LINE__).once = 0)
#else
/* Without a cleanup attribute, leaving the body by break, return or goto
 * skips the pop (continue does pop). */
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
	rgn_backend backend; /* the region's backend */
	size_t reserved;  /* RGN_BACKEND_CONTIG: bytes of the reservation */
	size_t committed; /* RGN_BACKEND_CONTIG: bytes made read-write */
	/* r and all its descendants, r included: */
	size_t subtree_used;    /* the sum of their used */
	size_t subtree_blocks;  /* the sum of their blocks (block regions'
	                           blocks and contiguous ones' pages) */
	size_t subtree_regions; /* how many they are (1 for a leaf) */
};

/* Fill *st: the fields up to committed for r alone (cleanups does not
 * count cancelled ones), the subtree_ fields for r and its descendants,
 * gathered by a walk of the subtree without recursion (time in the
 * number of descendants and of the spans they hold).  Reads r's subtree:
 * no other thread may change it meanwhile.  0, or -1 with EINVAL if r is
 * not a live region or st is NULL. */
RGN_API int rgn_region_stats(const rgn_region *r, struct rgn_region_stats *st);

/* ---- names and the report ------------------------------------------------ */

/* Name r (NULL: unnamed again), for rgn_report and debuggers.  The
 * pointer is kept, the bytes are not copied (as PostgreSQL keeps its
 * memory contexts' names): name must stay valid and unchanged while r is
 * named with it, which a string literal does.  A name allocated in r
 * itself stays valid until r is reset or rewound past it.  Reset, adopt
 * and rgn_push keep a name; a region created without one is unnamed.
 * 0, or -1 with EINVAL if r is not a live region. */
RGN_API int rgn_set_name(rgn_region *r, const char *name);
/* r's name (NULL if unnamed; errno is then left alone).  NULL with
 * EINVAL if r is not a live region. */
RGN_API const char *rgn_name(const rgn_region *r);

/* Write r's subtree to out, one line per region in depth-first order
 * (children newest first, as they are linked), each indented two spaces
 * per level below r (at most 32 levels; a deeper line carries its depth
 * as "+DEPTH " after that indentation):
 *   LABEL: BACKEND used=U subtree=S blocks=B chunks=C large=L cleanups=K
 * LABEL is the name (bytes below 0x20 and 0x7f printed as '?') or, for
 * an unnamed region, its address as "%p" prints it; BACKEND is "blocks"
 * or "contig", which adds " reserved=R committed=M"; U, B, C, L, K are
 * the rgn_region_stats fields of that region and S its subtree_used.
 * A last line sums the subtree:
 *   Grand total: regions=N used=U blocks=B
 * (r's subtree_regions, subtree_used, subtree_blocks).  There is no list
 * of all regions to report from: a program reports its roots one by one.
 * Reads r's subtree as rgn_region_stats does, and takes memory from
 * malloc for the walk (about 120 bytes a region), freed before it
 * returns.  0, or -1 with errno: EINVAL (out NULL, r not a live region),
 * ENOMEM (malloc failed; nothing written), or the error of writing to
 * out (EIO when stdio sets none); out is flushed. */
RGN_API int rgn_report(FILE *out, const rgn_region *r);

/* ==== references ========================================================== */

/* A 32-bit reference: the index of an 8-byte granule of the space (the
 * address / 8 in decode mode `zero`).  0 (RGN_NULL_REF) is null; decoding
 * it gives an address that faults on access.  A block region's
 * references are valid in every block region and every thread, as long
 * as the memory they name.  Decoding checks nothing (but for the debug
 * checks below): a reference to memory no longer allocated decodes to a
 * dangling address.
 *
 * How a reference is decoded is chosen when rgn is built (meson option
 * `decode`; RGN_DECODE_MODE names it): `global` (the default, any CPU),
 * `gs` (x86-64 Linux), `reg` (AArch64 Linux), `zero`.  rgn/decode.h,
 * included above, has the details of the one in use.  In modes gs and
 * reg every thread that uses RGN_AT sets its base first (rgn_init or
 * rgn_thread_init; in mode gs also the thread's first use of its block
 * cache, normally its first rgn_new).  With RGN_DEBUG >= 1 (or a debug
 * build of the library), rgn_ptr and RGN_AT abort with a message for a
 * reference beyond anything ever allocated, and in modes gs and reg for
 * a thread whose base was never set.
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

/* The shared-space reference of p: p must be NULL (giving RGN_NULL_REF)
 * or point into a block region's memory, 8-byte aligned (every
 * allocation is).  Inline, a subtraction and a shift: any other pointer
 * (the stack, malloc, a contiguous region's memory) gives a reference
 * to something else, undetected, except with the debug checks on (see
 * above), where it aborts with a message.  Any thread. */
static inline rgn_ref rgn_ref_of(const void *p)
{
	return p ? (rgn_ref)rgn_encode_(RGN_CHECK_PTR_(p)) : RGN_NULL_REF;
}

/* The address of the shared-space reference ref, in every thread and
 * decode mode, whatever was entered.  Inline; a reference that was never
 * an object's reads whatever lies there (zeros, or a fault), undetected,
 * except with the debug checks on, where one beyond the space's
 * high-water mark aborts with a message.  Meaningless before the space
 * is reserved. */
static inline void *rgn_ptr(rgn_ref ref)
{
	return rgn_decode_(ref);
}

/* Make the shared space the calling thread's active base (modes gs and
 * reg keep one per thread: call this first in every thread that uses
 * RGN_AT; rgn_init does it for its caller).  In mode global the base is
 * the process's: this undoes an rgn_enter made by any thread.  In mode
 * zero it only makes sure the space exists.  Reserves the space if
 * needed.  0, or -1 with errno: the errors of reserving the space (see
 * the conventions), and in mode gs the error of arch_prctl.  The
 * out-of-memory handler is not called.  Thread-safe. */
RGN_API int rgn_thread_init(void);

/* The decode mode librgn was built with, a static string ("global",
 * "gs", "reg" or "zero"); equal to RGN_DECODE_MODE (a program compiled
 * against another mode's headers does not link: see rgn/decode.h).
 * Cannot fail; thread-safe. */
RGN_API const char *rgn_decode_mode(void);

/* The version of the librgn running the program, as RGN_VERSION
 * (major * 10000 + minor * 100 + patch); RGN_VERSION is the one the
 * program was compiled against (rgn/version.h also has RGN_VERSION_MAJOR,
 * _MINOR, _PATCH and _STRING).  Cannot fail; thread-safe. */
RGN_API int rgn_version(void);

/* ---- region-relative references (any backend) ------------------------------
 * A contiguous region's references are granule indexes from its own base
 * (its reservation's first byte), so they stay valid wherever its memory
 * is mapped (see the images below) but mean nothing in another region.
 * For a block region these are the shared space's references: the same
 * values rgn_ref_of and rgn_ptr give, valid in every block region.
 * r must be a live region (nothing is checked: a dead one is undefined);
 * no branch on the backend.  rgn_ref_in: p NULL gives RGN_NULL_REF, else
 * p must point into r's memory. */
static inline rgn_ref rgn_ref_in(const rgn_region *r, const void *p)
{
	const struct rgn_bump_ *b = (const struct rgn_bump_ *)(const void *)r;

	return p ? (rgn_ref)((uintptr_t)((const char *)p - b->base) >> 3)
	         : RGN_NULL_REF;
}

/* Ref 0 decodes to the first page of the reservation (for a block
 * region, of the space; address 0 in mode zero), which is never
 * accessible: a null reference faults when used.  RGN_AT_IN is
 * rgn_ptr_in cast to T *. */
static inline void *rgn_ptr_in(const rgn_region *r, rgn_ref ref)
{
	const struct rgn_bump_ *b = (const struct rgn_bump_ *)(const void *)r;

	return b->base + ((uintptr_t)ref << 3);
}

#define RGN_AT_IN(r, T, ref) ((T *)rgn_ptr_in((r), (ref)))

/* ---- allocation that gives references -------------------------------------
 * For code that builds linked structures out of references: the new
 * object's reference comes with it, computed from the region's own base
 * (the one rgn_ref_in uses, in r's header next to the cursor), so nothing
 * is encoded afterwards and no global is read.
 *
 * rgn_alloc_both: rgn_alloc, and *ref = rgn_ref_in(r, p); on failure NULL
 * with errno (as rgn_alloc) and *ref = RGN_NULL_REF.  rgn_alloc_ref: the
 * reference alone, RGN_NULL_REF with errno on failure (no object ever has
 * reference 0).  Both inline, with rgn_alloc's fast path and its
 * checks. */
RGN_NODISCARD RGN_ALLOC_SIZE(2)
static inline void *rgn_alloc_both(rgn_region *r, size_t n, rgn_ref *ref)
{
	char *p = (char *)rgn_alloc(r, n);   /* p != NULL implies r != NULL */

	*ref = p ? (rgn_ref)((uintptr_t)(p - ((struct rgn_bump_ *)(void *)r)->base) >> 3)
	         : RGN_NULL_REF;
	return p;
}

static inline rgn_ref rgn_alloc_ref(rgn_region *r, size_t n)
{
	rgn_ref ref;

	return rgn_alloc_both(r, n, &ref) ? ref : RGN_NULL_REF;
}

/* ---- cursors --------------------------------------------------------------
 * A cursor is a region's bump pointer taken out into the caller's hands,
 * for allocation-heavy loops: held in a local (it is a small value), it
 * lets the compiler keep the bump pointer and the chunk's end in
 * registers, where rgn_alloc must reload and store them through the
 * region on every call (a store through any pointer the loop writes might
 * be to the region's header).  rgn_cursor_alloc has no region test: the
 * cursor was checked when opened.
 *
 * The contract:
 *   rgn_cursor c = rgn_cursor_open(r);
 *   ... rgn_cursor_alloc(&c, n), rgn_cursor_ref(&c, n),
 *       rgn_cursor_both(&c, n, &ref) ...
 *   rgn_cursor_close(&c);
 * Between open and close, r is the cursor's: no other call may use r
 * (no rgn_alloc, rgn_new(r, ...), rgn_save, rgn_reset, rgn_destroy, no
 * second cursor), nor destroy an ancestor of r; close the cursor first
 * (and open it again after) around any call that may allocate from r.
 * The inline reference functions (rgn_ref_in, rgn_ptr_in, RGN_AT) stay
 * usable.  A cursor is as thread-bound as its region.  Its fields are
 * internal: copy a cursor only to hand it on, and close the copy that
 * was used last, once.
 * Breaking the contract is undefined in a release build (two owners of
 * one bump pointer hand out the same memory twice); with the debug checks
 * (-Drgn_debug=1 or more, or RGN_DEBUG defined to 1 or more before
 * including rgn.h, in every file that opens or closes a cursor), a region
 * used while a cursor is out, a second cursor, a cursor used after its
 * close, and a second close abort with a message naming the call.
 *
 * rgn_cursor_open on NULL gives a cursor whose allocations fail with
 * EINVAL; errors are rgn_alloc's (NULL, or RGN_NULL_REF, with errno).  A
 * cursor works on every backend (a heap region's always takes the out of
 * line path, which allocates as rgn_alloc does). */
typedef struct rgn_cursor {
	char *cur_;          /* next free byte: r's bump cursor while out */
	char *end_;          /* end of r's current chunk */
	char *base_;         /* r's reference base */
	rgn_region *r_;
} rgn_cursor;

/* The out-of-line path gets the cursor's region and position, and returns
 * the allocation and the new position (in two registers); the chunk's end
 * is then read from the region, which keeps it current.  The caller's
 * cursor never has its address taken, which is what lets the compiler
 * keep it in registers. */
struct rgn_cursor_step_ {
	void *p;             /* the allocation, or NULL with errno */
	char *cur;           /* the cursor's new position */
};
RGN_API RGN_NODISCARD
struct rgn_cursor_step_ rgn_cursor_slow_(rgn_region *r, char *cur, size_t n);
RGN_API void rgn_cursor_open_check_(rgn_cursor *c);
RGN_API void rgn_cursor_close_check_(rgn_cursor *c);

/* The region of a cursor opened on NULL: an empty chunk, never written. */
RGN_API extern const struct rgn_bump_ rgn_cursor_none_;

static inline rgn_cursor rgn_cursor_open(rgn_region *r)
{
	rgn_cursor c = { NULL, NULL, NULL,
	                 r ? r : (rgn_region *)(uintptr_t)&rgn_cursor_none_ };
#ifdef RGN_CHECKS_
	rgn_cursor_open_check_(&c);
#else
	const struct rgn_bump_ *b = (const struct rgn_bump_ *)(void *)c.r_;

	c.cur_ = b->cur;
	c.end_ = b->end;
	c.base_ = b->base;
#endif
	return c;
}

/* Hand the bump pointer back to the region: c's region is the caller's
 * to use again, and c is spent. */
static inline void rgn_cursor_close(rgn_cursor *c)
{
#ifdef RGN_CHECKS_
	rgn_cursor_close_check_(c);
#else
	if (RGN_LIKELY(c->cur_ != NULL))     /* NULL: opened on NULL */
		((struct rgn_bump_ *)(void *)c->r_)->cur = c->cur_;
#endif
}

/* rgn_alloc through the cursor. */
RGN_NODISCARD RGN_ALLOC_SIZE(2)
static inline void *rgn_cursor_alloc(rgn_cursor *c, size_t n)
{
	char *p = c->cur_;
	struct rgn_cursor_step_ s;

	if (RGN_LIKELY(RGN_FITS_(n, p, c->end_))) {
		c->cur_ = p + ((n + 7) & ~(size_t)7);
		RGN_ASSUME_(p != NULL);
		return p;
	}
	s = rgn_cursor_slow_(c->r_, p, n);
	c->cur_ = s.cur;
	c->end_ = ((struct rgn_bump_ *)(void *)c->r_)->end;
	return s.p;
}

/* rgn_alloc_both through the cursor. */
RGN_NODISCARD RGN_ALLOC_SIZE(2)
static inline void *rgn_cursor_both(rgn_cursor *c, size_t n, rgn_ref *ref)
{
	char *p = (char *)rgn_cursor_alloc(c, n);

	*ref = p ? (rgn_ref)((uintptr_t)(p - c->base_) >> 3) : RGN_NULL_REF;
	return p;
}

/* rgn_alloc_ref through the cursor. */
static inline rgn_ref rgn_cursor_ref(rgn_cursor *c, size_t n)
{
	rgn_ref ref;

	return rgn_cursor_both(c, n, &ref) ? ref : RGN_NULL_REF;
}

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
 * be checked, and passing one is undefined; a debug build does not
 * abort here); ENOTSUP as above; in mode gs, the error of arch_prctl.
 * Never reserves the space: before it exists, entering NULL or a block
 * region does nothing and succeeds.  When the entered region or image
 * goes away, the thread that destroys it (every thread, in mode global)
 * is switched back to the shared space; in modes gs and reg, another
 * thread that had entered it must enter something else before it decodes
 * with RGN_AT again.  Reset keeps a region entered. */
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

/* The contiguous backend's process-wide policy.  Zero in a field means
 * the default. */
typedef struct rgn_contig_config {
	rgn_release release;      /* for regions that leave it DEFAULT:
	                             RGN_RELEASE_CACHE (the default) or UNMAP,
	                             which also empties the cache now */
	rgn_purge   purge;        /* default RGN_PURGE_DONTNEED */
	size_t      cache_max;    /* reservations the cache keeps (0: 8; at
	                             most 256) */
	size_t      max_live;     /* live reservations allowed; more fail with
	                             ENOMEM (0: only the OS limits them) */
} rgn_contig_config;

/* Set the process-wide policy (NULL: the defaults); it applies to later
 * creations, resets and destroys.  Regions keep the reservation they
 * have; a smaller cache gives back what no longer fits.  0, or -1 with
 * EINVAL for an unknown enum value or cache_max above 256 (nothing is
 * changed then).  Thread-safe. */
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
/* Fill *st with the contiguous backend's counters at one instant.  0, or
 * -1 with EINVAL if st is NULL.  Thread-safe. */
RGN_API int rgn_contig_stats(struct rgn_contig_stats *st);

/* ==== images: a contiguous region written to a file and mapped back ====== */

/* Write r's used bytes (its reservation from the base up to its bump
 * pointer; r's own header as zeros) to fd at its current offset, behind a
 * one-page header that names root (a reference of r, as rgn_ref_in gives,
 * or 0) and becomes the inaccessible first page when mapped.  Pointers
 * stored in the region are written as they are: only references survive
 * the trip.  r is only read (no other thread may change it meanwhile);
 * fd is neither closed nor rewound; interrupted writes are retried.  As
 * rgn_image_open reads from offset 0 and refuses trailing bytes, the
 * image must be alone in its file.  0, or -1 with errno: EINVAL (r not a
 * live region, fd negative, root outside r's used bytes), ENOTSUP (a
 * block region), or the error of writev (EBADF, ENOSPC, EIO...), after
 * which the file may hold part of the image. */
RGN_API int rgn_image_write(const rgn_region *r, int fd, rgn_ref root);

/* An image mapped read-only: its own type, not a region.  Only
 * rgn_image_* take it.  The handle is the caller's, until it is given to
 * rgn_image_close. */
typedef struct rgn_image rgn_image;

/* Internal to the inline decoders: the first member of every image. */
struct rgn_image_base_ {
	const char *base;   /* the mapping's first byte: reference 0 */
};

/* Map an image read-only (from the start of fd; fd stays the caller's
 * and may be closed at once) and return a handle to it.  *root (may be
 * NULL) receives the root reference.  A file sealed against shrinking
 * (rgn_image_seal) is mapped as it is, its pages shared with every
 * process that maps it; any other file is read into private memory.  Reserves the space if needed.  NULL
 * with errno (the out-of-memory handler is not called):
 *   ENOEXEC  not an rgn image, or one of another version, byte order,
 *            granule or page size (a foreign file)
 *   EBADMSG  a damaged header (checksum, or fields out of range), or
 *            trailing bytes after the image
 *   ENODATA  a truncated file (shorter than its header says)
 *   EINVAL   fd negative or not a regular file
 *   ENOMEM, the error of fstat, pread, mmap or mprotect, or of reserving
 *   the space.
 * Thread-safe; the image may be read from any number of threads. */
RGN_API RGN_NODISCARD
rgn_image *rgn_image_open(int fd, rgn_ref *root);
/* rgn_image_open with flags (0 is rgn_image_open):
 *   RGN_IMAGE_TRUSTED  the body's checksum is not computed (the header is
 *                      checked as ever): the open reads no page of the
 *                      body, whose pages come in as they are first read.
 *                      Damage to the body then goes unnoticed: for images
 *                      whose writer the caller trusts (one it wrote
 *                      itself, a sealed memfd from a process of its own).
 *                      No open checks the references inside an image.
 * EINVAL for any other flag. */
#define RGN_IMAGE_TRUSTED 0x1u
RGN_API RGN_NODISCARD
rgn_image *rgn_image_open_with(int fd, rgn_ref *root, unsigned flags);
/* Bytes of the image, header page included (its references decode below
 * base + size).  0 with EINVAL if img is NULL or not an open image. */
RGN_API size_t rgn_image_size(const rgn_image *img);
/* Unmap an image and free the handle (NULL does nothing): the handle and
 * every pointer into the mapping become invalid.  If it is the entered
 * one, the calling thread (every thread, in mode global) decodes through
 * the shared space again.  Must not run while another thread uses it. */
RGN_API void rgn_image_close(rgn_image *img);

/* An image's references: granule indexes from its first byte, as they
 * were in the region it was written from.  Ref 0 decodes to the
 * inaccessible header page.  Inline, any thread, nothing checked (img
 * must be open): rgn_image_ptr decodes ref, rgn_image_ref gives the
 * reference of p, a pointer into the mapping (NULL: RGN_NULL_REF), and
 * RGN_IMAGE_AT is rgn_image_ptr cast to const T *.  The memory is
 * read-only: writing through these pointers faults. */
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
 * only: the mapping is read-only); rgn_enter(NULL) goes back to the
 * shared space.  Same rules as rgn_enter.  0, or -1 with errno: EINVAL
 * if img is NULL or not an open image; ENOTSUP in mode zero; in mode gs,
 * the error of arch_prctl. */
RGN_API int rgn_image_enter(const rgn_image *img);

#ifndef _WIN32
/* Sharing an image between processes (Linux memfd; elsewhere both fail
 * with ENOTSUP; absent from Windows builds, where a file mapping cannot be
 * cut short and rgn_image_open maps every image file).  rgn_image_memfd gives a new anonymous file for
 * rgn_image_write to fill (close-on-exec, sealable; name is shown in
 * /proc, NULL for "rgn-image"): the fd, or -1 with the errno of
 * memfd_create.  rgn_image_seal(fd) then checks that the file holds a
 * whole image (header and body checksums, as rgn_image_open does) and
 * seals it against shrinking, growing, writing and further sealing: no
 * process can change it after, the writer included, and rgn_image_open
 * maps it as it is, each process sharing the same pages read-only.  The
 * fd may then be passed on (fork, SCM_RIGHTS).  Sealing a sealed image
 * again succeeds.  0, or -1 with errno: EINVAL (fd negative, or a file
 * that takes no seals: not a memfd), EBADF (no open file), EPERM
 * (sealing was closed before: a memfd made without MFD_ALLOW_SEALING,
 * or fd open read-only), the errors of rgn_image_open's checks (ENOEXEC,
 * EBADMSG, ENODATA), EBUSY (a writable shared mapping of the file
 * exists), ENOMEM.  A refused file is left unsealed. */
RGN_API int rgn_image_memfd(const char *name);
RGN_API int rgn_image_seal(int fd);
#endif

/* ==== the tracing copy: layouts, copy, compaction, images of any region ==== */

/*
 * A C object carries no type, so a copy that rewrites references needs the
 * caller to say where they are.  A layout describes one kind of object:
 *
 *   size         bytes of the fixed part (at least 1); a tail starts right
 *                after it
 *   refs, nrefs  byte offsets (multiples of 4) of the rgn_ref fields in
 *                the fixed part; a fixed array of references is nrefs
 *                consecutive offsets
 *   to           to[i] is the layout of what refs[i] points at; NULL (the
 *                array, or one entry) asks rgn_copy_options.layout_of,
 *                which reads the type from the object itself (a tag)
 *   tail         RGN_TAIL_NONE, or a variable-length tail after the fixed
 *                part whose element count is the uint32_t at byte offset
 *                count_at: RGN_TAIL_BYTES (elem bytes each: a string, a
 *                byte buffer) or RGN_TAIL_REFS (rgn_refs to objects of
 *                layout tail_to, or layout_of's when it is NULL)
 *   trace        what a table cannot say (references in a union chosen by a
 *                field, a list of another shape): called with the object's
 *                copy, whose bytes are still the source's, it calls
 *                rgn_trace once for each reference field in it;  its
 *                fields are traced after refs and the tail
 *   size_of      the object's whole size in bytes, when size and the tail
 *                cannot say it (NULL: size + count * elem); at least size,
 *                and the tail too for RGN_TAIL_REFS (less: EINVAL)
 *   align        where a copy starts: 0 (or up to 8) at a granule, as
 *                every allocation; else a power of two up to 4096, the
 *                copy then starts at a multiple of it in the destination
 *                and in an image (an object placed with
 *                rgn_alloc_aligned keeps its alignment only through a
 *                layout that says it); the padding is zeroed
 *
 * The table is what a compiler would emit for each type of a language
 * runtime: static, const, read only during the copy.  A reference is a
 * 32-bit rgn_ref of the source's reference base (rgn_ref_in); 0 is null
 * and is copied as 0.
 */
typedef struct rgn_layout rgn_layout;
typedef struct rgn_tracer rgn_tracer;

#define RGN_TAIL_NONE  0u
#define RGN_TAIL_BYTES 1u
#define RGN_TAIL_REFS  2u

struct rgn_layout {
	uint32_t                 size;
	uint32_t                 nrefs;
	const uint32_t          *refs;
	const rgn_layout *const *to;
	uint32_t                 tail;
	uint32_t                 count_at;
	uint32_t                 elem;
	const rgn_layout        *tail_to;
	void                   (*trace)(rgn_tracer *t, void *copy);
	size_t                 (*size_of)(const void *obj);
	uint32_t                 align;
};

/* Inside a layout's trace callback: the reference field *field of the
 * object being copied points at an object of layout to (NULL: ask
 * layout_of).  The target is copied if it has not been (once, however many
 * references reach it) and *field is rewritten to the copy's reference.
 * field must lie in the copy the callback was given (its fixed part and
 * tail, or what size_of says of the copy), 4-byte aligned, and not be one
 * the layout's table names (the scan rewrites those): anything else (the
 * source, a local, a table's field) is EINVAL and is not written.  An error (ENOMEM,
 * a bad reference) is kept in t: the copy fails after the callback
 * returns. */
RGN_API void rgn_trace(rgn_tracer *t, rgn_ref *field, const rgn_layout *to);

/* How rgn_copy walks and what it reports (all optional: NULL means
 * zeros). */
typedef struct rgn_copy_options {
	/* RGN_COPY_BREADTH (0, the default): level by level, an object's
	 * targets together (the walk of a copy reads it best: DESIGN.md 16);
	 * RGN_COPY_DEPTH: each object followed by its targets, then the
	 * first one's subgraph, as a recursive builder lays out a tree (the
	 * copy is fastest in the order the source was built in). */
	unsigned order;
	/* RGN_COPY_ONLY_SRC: copy only objects of the source region itself;
	 * references to objects outside it stay as they are (they must then
	 * mean the same in the destination: both regions of the shared space).
	 * RGN_COPY_OVERLAP (rgn_image_write_graph breadth-first, and
	 * rgn_copier_begin_image; ignored elsewhere): write the image on a
	 * second thread while the copy goes on, each part as soon as the copy
	 * is done with it (DESIGN.md 16). */
	unsigned flags;
	/* The layout of an object a table leaves open (a NULL in to or
	 * tail_to, or a NULL root layout): read from its bytes (a tag), in
	 * the source.  NULL from it fails the copy with EINVAL. */
	const rgn_layout *(*layout_of)(const void *obj, void *arg);
	void *arg;
	/* Set by the call: objects copied and the bytes they take in the
	 * destination. */
	size_t objects;
	size_t bytes;
} rgn_copy_options;

#define RGN_COPY_BREADTH  0u
#define RGN_COPY_DEPTH    1u
#define RGN_COPY_ONLY_SRC 1u
#define RGN_COPY_OVERLAP  2u

/*
 * Copy the objects reachable from roots[0 .. nroots-1] (each of layout
 * root_layout, or layout_of's if it is NULL) into dst, rewriting every
 * reference, and replace each root by its copy's reference (dst's
 * reference base: rgn_ref_in(dst, ...)).  src gives the references' base:
 * a contiguous region's, or the shared space's for a block or heap
 * region or NULL.  Each object is copied once: sharing and cycles are kept.
 * The source is only read (no forwarding is written into it); it stays
 * intact and usable, and may be the destination itself.  The forwarding
 * table lives in memory of its own, never the space's blocks: about half
 * the bytes of each 512 bytes of source the graph touches.  The process
 * keeps the last copy's table, cleared, for the next copy (at most
 * 16 MiB of it resident); rgn_space_trim gives it back.
 *
 * 0, or -1 with errno, the roots unchanged and dst as it was (a heap
 * destination: every copy freed again):
 *   EINVAL  dst NULL; nroots > 0 with roots NULL; a bad layout (size 0,
 *           a reference field or the count outside the fixed part, an
 *           unknown tail), or no layout for an object; ONLY_SRC from a
 *           block or heap region into a contiguous one (references left
 *           as they are would mean other bytes there; a contiguous
 *           source is its own scope, so the flag changes nothing for
 *           it); an unknown order or flag
 *   EFAULT  a reference outside the source's memory (past the space's or
 *           the reservation's used part, in the guard page) or an object
 *           running past it; in debug builds (rgn_debug >= 1) a reference
 *           into a block that is free (a destroyed region's) aborts
 *           instead, naming it
 *   ENOMEM  dst or the forwarding table could not grow (the OOM handler
 *           is called first)
 * dst is written as by rgn_alloc: a cursor may not be open on it.  The
 * layouts' callbacks (layout_of, size_of, trace) may allocate in dst
 * themselves: the copies go on after what they took (and on an error it
 * goes with them, but in a heap destination, where it stays).
 */
RGN_API int rgn_copy(rgn_region *dst, const rgn_region *src, rgn_ref *roots, size_t nroots,
                     const rgn_layout *root_layout, rgn_copy_options *opts);

/*
 * The compiled copy: rgn_copy's copy (breadth-first, sharing and cycles
 * kept, the source only read, the same forwarding table), driven by the
 * caller's own code instead of layout tables, for a program that knows
 * its types where it is compiled: what a language runtime's collector
 * emits per type.  Every size and field offset is then a constant in the
 * caller's code, and the copy of an object is a few instructions inline.
 * The destination is a region, or an image file (rgn_copier_begin_image,
 * below).
 *
 *     rgn_copier c;
 *     if (rgn_copier_begin(&c, dst, src, NULL) != 0) ...
 *     root = rgn_copier_ref(&c, root, sizeof(struct node), NODE);
 *     for (void *obj; (obj = rgn_copier_next(&c, &kind)) != NULL;) {
 *         struct node *n = obj;                     (kind is NODE)
 *         n->left = rgn_copier_ref(&c, n->left, sizeof *n, NODE);
 *         n->name = rgn_copier_ref_tail(&c, n->name, 4, 0, 1, RGN_COPIER_NO_REFS);
 *     }
 *     if (rgn_copier_end(&c) != 0) ...              (root is dst's)
 *
 * rgn_copier_ref gives the reference in dst of the copy of the object ref
 * names in src (0 for 0), copying it first if it has not been: size bytes
 * (its fixed part; rgn_copier_ref_tail adds count * elem bytes, count
 * being the uint32_t at count_at inside the fixed part).  An object of a
 * kind other than RGN_COPIER_NO_REFS is queued, and rgn_copier_next hands
 * its copy back later, in the order the copies were made, with the kind
 * given for it: the caller rewrites every reference field of that copy
 * with rgn_copier_ref.  The caller's code is trusted as a layout table is:
 * its sizes and fields are what it says.  Sizes are rounded up to 8; the
 * rounding bytes of a copy are zero.
 *
 * rgn_copier_begin: 0, or -1 with errno (EINVAL: c or dst NULL, a dead
 * region, an order other than breadth-first, or rgn_copy's flag errors;
 * ENOMEM).  opts: the flags (RGN_COPY_ONLY_SRC as for rgn_copy; OVERLAP is
 * ignored) and, at the end, objects and bytes, so it must live until the
 * end (not a compound literal of a block left before); layout_of is not
 * used.
 * Between begin and end, dst is the copier's (no other allocation in it,
 * no cursor) and the forwarding table too (a second copy meanwhile maps
 * a table of its own).  An error (EFAULT: a reference outside the source
 * or an object running past it; EINVAL: size 0 or count_at outside the
 * fixed part; ENOMEM) makes every later rgn_copier_ref return 0 and
 * rgn_copier_next NULL.  rgn_copier_end must follow every successful
 * begin: 0, or -1 with errno (the first error, or EINVAL when copies are
 * still queued) and dst as it was before begin (a heap destination: every
 * copy freed), the references the caller has rewritten meaning nothing.
 * In debug builds every new object takes the out-of-line path, which
 * checks it as rgn_copy does.
 *
 * rgn_copier_begin_image starts the same copy into an image file: the
 * copies go into a contiguous region of the library's, laid out as the
 * image is, and rgn_copier_end_image(&c, root) writes it to fd as
 * rgn_image_write would (root: the copy's reference of the image's
 * root, as rgn_copier_ref gave it, or 0), the file byte for byte
 * rgn_image_write_graph's.  With RGN_COPY_OVERLAP in opts->flags a
 * second thread writes each part of the image while the copy goes on,
 * as soon as the scan has passed it: a copy's fields may then be
 * rewritten only until the next rgn_copier_next.  EINVAL at begin: fd
 * negative, RGN_COPY_ONLY_SRC (an image holds all it refers to), or
 * begin's own; at end: root outside the copy, rgn_copier_end on an image
 * copier or rgn_copier_end_image on another (the copy is then dropped),
 * or the copy's error, or the write's; on any error the file holds no
 * image rgn_image_open takes (with the flag, bytes may have been
 * written: the header, written last, is not).
 */
#define RGN_COPIER_NO_REFS 0xffffffffu

struct rgn_copier_todo_ {
	uint32_t copy;                          /* its reference in dst */
	uint32_t kind;
};

/* What the inline path changes: handed to the out-of-line one by value
 * (through a copy of the caller's), so that the caller's copier never has
 * its address taken and its fields can stay in registers. */
struct rgn_copier_hot_ {
	char                    *cur, *end;     /* the destination's bump */
	struct rgn_copier_todo_ *rd, *wr, *wend; /* the queue [rd, wr) */
	size_t                   objects;
	uint32_t                 gtop;          /* a found reference is below it;
	                                           0 after an error */
};

typedef struct rgn_copier {
	/* internal: the copy's state, the library's between calls */
	struct rgn_copier_hot_   h_;
	const char              *sbase_, *hi_;  /* reference base; source end */
	const uint32_t          *top_;
	uint32_t                *leaf_at_;
	uintptr_t                vbase_;        /* the destination's reference base */
	uintptr_t                watch_;        /* a writer is told when the scan
	                                           reaches it (UINTPTR_MAX: none) */
	uint32_t                 rlo_;          /* a new reference is at least this */
	rgn_tracer              *t_;
} rgn_copier;

RGN_API int rgn_copier_begin_(rgn_copier *c, rgn_region *dst, const rgn_region *src,
                              rgn_copy_options *opts);
RGN_API int rgn_copier_begin_image_(rgn_copier *c, const rgn_region *src, int fd,
                                    rgn_copy_options *opts);
RGN_API int rgn_copier_end_(rgn_tracer *t, const struct rgn_copier_hot_ *h, rgn_ref root,
                            int image);
RGN_API uintptr_t rgn_copier_pass_(rgn_tracer *t, const void *done);
RGN_API rgn_ref rgn_copier_slow_(rgn_tracer *t, struct rgn_copier_hot_ *h, rgn_ref ref,
                                 uint32_t size, uint32_t count_at, uint32_t elem,
                                 uint32_t kind);

static inline int rgn_copier_begin(rgn_copier *c, rgn_region *dst, const rgn_region *src,
                                   rgn_copy_options *opts)
{
	rgn_copier k;
	int rc = rgn_copier_begin_(c ? &k : NULL, dst, src, opts);

	if (c)
		*c = k;
	return rc;
}

static inline int rgn_copier_begin_image(rgn_copier *c, const rgn_region *src, int fd,
                                         rgn_copy_options *opts)
{
	rgn_copier k;
	int rc = rgn_copier_begin_image_(c ? &k : NULL, src, fd, opts);

	if (c)
		*c = k;
	return rc;
}

static inline int rgn_copier_finish_(rgn_copier *c, rgn_ref root, int image)
{
	struct rgn_copier_hot_ h;
	rgn_tracer *t;

	if (!c)
		return rgn_copier_end_(NULL, NULL, 0, 0);
	t = c->t_;
	h = c->h_;
	/* spent: every later call fails, nothing to scan */
	c->h_.rd = c->h_.wr;
	c->h_.gtop = 0;
	c->t_ = NULL;
	return rgn_copier_end_(t, &h, root, image);
}

static inline int rgn_copier_end(rgn_copier *c)
{
	return rgn_copier_finish_(c, 0, 0);
}

static inline int rgn_copier_end_image(rgn_copier *c, rgn_ref root)
{
	return rgn_copier_finish_(c, root, 1);
}

/* n bytes (size rounded up to 8) from src to dst, the rounding zeroed
 * (never older bytes of the source's memory; reading it is fine, every
 * allocation is whole granules); up to 64 bytes as a head and a tail of
 * fixed sizes that may overlap, no loop. */
static RGN_INLINE_ void rgn_copy_bytes_(char *dst, const char *src, size_t size, size_t n)
{
	if (n <= 16) {
		memcpy(dst, src, 8);
		memcpy(dst + n - 8, src + n - 8, 8);
	} else if (n <= 32) {
		memcpy(dst, src, 16);
		memcpy(dst + n - 16, src + n - 16, 16);
	} else if (n <= 64) {
		memcpy(dst, src, 32);
		memcpy(dst + n - 32, src + n - 32, 32);
	} else {
		memcpy(dst, src, n);
	}
	if (size & 7) {
		uint64_t w;
		unsigned keep = (unsigned)(size & 7) * 8;

		memcpy(&w, dst + n - 8, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		w &= ((uint64_t)1 << keep) - 1;
#else
		w &= ~(uint64_t)0 << (64 - keep);
#endif
		memcpy(dst + n - 8, &w, 8);
	}
}

/* The inline path: a target copied already (a bound and two loads of the
 * forwarding table), or a new one that fits the chunk and the queue. */
static RGN_INLINE_ rgn_ref rgn_copier_ref_tail(rgn_copier *c, rgn_ref ref, uint32_t size,
                                              uint32_t count_at, uint32_t elem, uint32_t kind)
{
	struct rgn_copier_hot_ h;
	uint32_t top, *slot, count = 0;
	const char *p;
	size_t whole, n;
	char *copy;
	rgn_ref nref;

	if (ref == 0)
		return 0;
	if (RGN_UNLIKELY(ref >= c->h_.gtop || size == 0 ||
	                 (elem && (uint64_t)count_at + 4 > size)))
		goto slow;
	top = c->top_[ref >> 6];
	if (RGN_UNLIKELY(top <= 1))
		goto slow;
	slot = c->leaf_at_ + top + (ref & 63);
	if (*slot)
		return *slot;
	p = c->sbase_ + ((size_t)ref << 3);
	if (RGN_UNLIKELY(ref < c->rlo_ || (size_t)(c->hi_ - p) < size))
		goto slow;
	whole = size;
	if (elem) {
		memcpy(&count, p + count_at, sizeof(count));
		whole += (size_t)count * elem;
		if (RGN_UNLIKELY((size_t)(c->hi_ - p) < whole))
			goto slow;
	}
	n = (whole + 7) & ~(size_t)7;
	copy = c->h_.cur;
	if (RGN_UNLIKELY((size_t)(c->h_.end - copy) < n))
		goto slow;
	nref = (rgn_ref)(((uintptr_t)copy - c->vbase_) >> 3);
	if (kind != RGN_COPIER_NO_REFS) {
		if (RGN_UNLIKELY(c->h_.wr == c->h_.wend))
			goto slow;
		c->h_.wr->copy = nref;
		c->h_.wr->kind = kind;
		c->h_.wr++;
	}
	c->h_.cur = copy + n;
	rgn_copy_bytes_(copy, p, whole, n);
	*slot = nref;
	c->h_.objects++;
	return nref;
slow:
	h = c->h_;
	nref = rgn_copier_slow_(c->t_, &h, ref, size, count_at, elem, kind);
	c->h_ = h;
	return nref;
}

static RGN_INLINE_ rgn_ref rgn_copier_ref(rgn_copier *c, rgn_ref ref, uint32_t size, uint32_t kind)
{
	return rgn_copier_ref_tail(c, ref, size, 0, 0, kind);
}

/* The oldest copy whose fields are still to rewrite, and its kind; NULL
 * when none is left (or after an error).  Every copy below it is final:
 * an image's writer is told so now and then. */
static RGN_INLINE_ void *rgn_copier_next(rgn_copier *c, uint32_t *kind)
{
	uintptr_t copy;

	if (c->h_.rd == c->h_.wr)
		return NULL;
	*kind = c->h_.rd->kind;
	copy = c->vbase_ + ((uintptr_t)(c->h_.rd++)->copy << 3);
	if (RGN_UNLIKELY(copy >= c->watch_))
		c->watch_ = rgn_copier_pass_(c->t_, (const void *)copy);
	return (void *)copy;
}

/*
 * Compact r: copy the objects reachable from roots into fresh memory of
 * r's, give back all the rest, and update roots; r stays the same handle.
 * Only r's own objects move (RGN_COPY_ONLY_SRC is implied); its children,
 * cleanups and name stay.  What held a pointer or reference to an object
 * of r other than through roots and the objects reachable from them holds
 * garbage afterwards, and r's marks are stale (as after rgn_reset).
 * Block regions copy once and splice the copy in; a contiguous region
 * copies out and back (twice the work, no more memory than it had); a
 * heap region copies once into pages of its own and takes them over
 * (its free lists start empty: the pages hold the live objects alone).
 * 0, or -1 with errno and r as it was: rgn_copy's errors; EBUSY while a
 * tail is pending.
 */
RGN_API int rgn_compact(rgn_region *r, rgn_ref *roots, size_t nroots,
                        const rgn_layout *root_layout, rgn_copy_options *opts);

/*
 * Write the graph reachable from root in src (any backend; NULL: the
 * shared space) as an image (the format rgn_image_write writes and
 * rgn_image_open maps: references count from the image's base, so it
 * opens with one mmap and no fixup), through the tracing copy: sharing
 * kept, objects laid out in opts' order.  The copy goes into a contiguous
 * region of the call's own (a reservation of the contiguous backend's
 * reuse cache, which keeps up to 32 MiB of it resident for the next
 * image), then is written as rgn_image_write writes.  Nothing is written
 * to fd on an error.  0, or -1 with errno: rgn_copy's errors; EINVAL for fd < 0;
 * ENOMEM also for a graph over the largest image (32 GiB); write's
 * errors.
 */
RGN_API int rgn_image_write_graph(const rgn_region *src, int fd, rgn_ref root,
                                  const rgn_layout *root_layout, rgn_copy_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* RGN_H */
