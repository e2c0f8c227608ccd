/*
 * common.h - what every file of librgn uses: compiler helpers, the debug
 * checks, the AddressSanitizer hooks, sizes.  Nothing here or in any other
 * internal header is exported: the library is built with
 * -fvisibility=hidden and only RGN_API names are visible.
 *
 * Each internal header belongs to the source file of its name and says
 * what that file offers the files above it; a file includes the headers of
 * the layers it uses, which are all below it (DESIGN.md, section 1).
 */
#ifndef RGN_COMMON_H
#define RGN_COMMON_H

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

/* A misuse caught in every build: print "rgn: fn(obj): why" on stderr and
 * abort (a dead region handle, a region on another thread's stack). */
rgn_hidden rgn_cold rgn_noreturn
void rgn_misuse(const char *fn, const void *obj, const char *why);
/* ... for a region handle that is not a live region; dead: its header
 * says destroyed (or merged away). */
rgn_hidden rgn_cold rgn_noreturn
void rgn_bad_region(const char *fn, const void *r, bool dead);

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
#define RGN_NO_ASAN __attribute__((no_sanitize_address))
#else
#define RGN_NO_ASAN
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

#endif /* RGN_COMMON_H */
