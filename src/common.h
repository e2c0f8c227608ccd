/*
 * common.h - what every file of librgn uses: compiler helpers, the debug
 * checks, the memory-checker hooks (ASan, Valgrind), sizes.  Nothing here
 * or in any other internal header is exported: the library is built with
 * -fvisibility=hidden and only RGN_API names are visible.
 *
 * Each internal header belongs to the source file of its name and says
 * what that file offers the files above it; a file includes the headers of
 * the layers it uses, which are all below it (DESIGN.md, section 1).
 */
#ifndef RGN_COMMON_H
#define RGN_COMMON_H

#include "rgn.h"
#include "os/port.h"
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
#define rgn_always_inline inline __attribute__((always_inline))
#define rgn_cold        __attribute__((cold))
#define rgn_noreturn    __attribute__((noreturn))
#define rgn_hidden      RGN_HIDDEN_ /* nothing on Windows: a DLL exports only RGN_API */
/* rgn_thread (thread-local storage) is defined in os/port.h */

/* ---- debug checks ------------------------------------------------------- *
 * RGN_DEBUG 0: none.  1: rgn_assert (cheap argument and state checks).
 * 2: also rgn_assert_internal.  3: also rgn_assert_expensive (walks). */
#ifndef RGN_DEBUG
#define RGN_DEBUG 0
#endif

rgn_hidden rgn_cold rgn_noreturn
void rgn_assert_fail(const char *expr, const char *file, int line);

/* Handle magic numbers: a live region's, one destroy (or merge) clears,
 * an open image's. */
#define RGN_MAGIC_LIVE  0x52474e31u /* "RGN1": a live region */
#define RGN_MAGIC_DEAD  0x52474e30u /* "RGN0": destroyed, or merged away */
#define RGN_MAGIC_IMAGE 0x52474e49u /* "RGNI": an open image */
/* "RGNC": live, but a cursor is out (debug checks only: see rgn_cursor_open);
 * every call but the cursor's own takes it for misuse */
#define RGN_MAGIC_CURSOR 0x52474e43u

/* A misuse caught in every build: print "rgn: fn(obj): why" on stderr and
 * abort (a dead region handle, a region on another thread's stack). */
rgn_hidden rgn_cold rgn_noreturn
void rgn_misuse(const char *fn, const void *obj, const char *why);
/* ... for a region handle that is not a live region; magic is what its
 * header holds (dead: destroyed or merged away; cursor: lent out). */
rgn_hidden rgn_cold rgn_noreturn
void rgn_bad_region(const char *fn, const void *r, uint32_t magic);

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

/* ---- memory checkers: AddressSanitizer, Valgrind's memcheck ---------------- *
 * What rgn tells a checker about the memory it manages:
 *   rgn_track_taken(p, n)     no region holds it: not addressable, so a use
 *                             after rgn_destroy (or rewind, reset, a tail
 *                             commit) is reported at the access
 *   rgn_track_given(p, n)     handed to a region: addressable, its contents
 *                             undefined (memcheck reports a branch on bytes
 *                             never written, though fresh pages read as zero)
 *   rgn_track_defined(p, n)   inside given memory, bytes rgn wrote or knows
 *                             to read as zero (a kept header, a zeroed span)
 *   rgn_track_undefined(p, n) inside given memory, bytes a region still holds
 *                             whose contents are gone (above a rewound or
 *                             reset bump pointer)
 * The block layer (and space.c for the frontier) and the contiguous
 * backend give and take; the other two are called by the block layer for
 * a span it reports zeroed, by the one-block fast path for the spare
 * region's header, and by region.c.  Under ASan those two are no-ops (the
 * memory is addressable already).  Under Valgrind (RGN_VALGRIND, set by
 * meson when it finds <valgrind/memcheck.h>; RGN_VG_HOOKS when in use)
 * each is a client request behind a test of rgn_vg_running: outside
 * valgrind two instructions (compare with memory, predicted branch), the
 * request itself out of line; nothing on rgn_alloc's inline path. */
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
#define rgn_track_none_(p, n) ((void)(p), (void)(n))
#if defined(RGN_ASAN)
#include <sanitizer/asan_interface.h>
#define rgn_track_given_tool_(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define rgn_track_taken_tool_(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define rgn_track_defined(p, n)   rgn_track_none_(p, n)
#define rgn_track_undefined(p, n) rgn_track_none_(p, n)
#elif defined(RGN_VALGRIND)   /* (valgrind cannot run an ASan build) */
#define RGN_VG_HOOKS 1
#include <valgrind/memcheck.h>
/* RUNNING_ON_VALGRIND, taken when the space is set up (space.c): no
 * memory is given or taken before that. */
rgn_hidden extern bool rgn_vg_running;
/* The request out of line (common.c), so that a fast path that tracks
 * needs no stack frame for the request's block. */
enum { RGN_VG_UNDEFINED, RGN_VG_NOACCESS, RGN_VG_DEFINED };
rgn_hidden rgn_cold void rgn_vg_request(int kind, const void *p, size_t n);
/* A region header's magic, read where memcheck may forbid it. */
rgn_hidden rgn_cold uint32_t rgn_magic_vg(const void *magic);
#endif
/* A word a checker may hold inaccessible (a freed object's): read without
 * a report from ASan or memcheck.  Debug checks only. */
rgn_hidden uint64_t rgn_peek_word(const void *p);
#ifdef RGN_VG_HOOKS
#define rgn_vg_(kind, p, n) \
	(rgn_unlikely(rgn_vg_running) ? rgn_vg_request((kind), (p), (n)) : rgn_track_none_(p, n))
#define rgn_track_given_tool_(p, n) rgn_vg_(RGN_VG_UNDEFINED, p, n)
#define rgn_track_taken_tool_(p, n) rgn_vg_(RGN_VG_NOACCESS, p, n)
#define rgn_track_defined(p, n)   rgn_vg_(RGN_VG_DEFINED, p, n)
#define rgn_track_undefined(p, n) rgn_vg_(RGN_VG_UNDEFINED, p, n)
#elif !defined(RGN_ASAN)
#define rgn_track_given_tool_(p, n) rgn_track_none_(p, n)
#define rgn_track_taken_tool_(p, n) rgn_track_none_(p, n)
#define rgn_track_defined(p, n)   rgn_track_none_(p, n)
#define rgn_track_undefined(p, n) rgn_track_none_(p, n)
#endif

/* Debug builds keep their own record of which blocks of the space are
 * handed out, fed by the same two calls (common.c; the space hands over
 * its map when it is set up): given marks every block [p, p + n)
 * touches, taken every block it covers whole (a freed heap object leaves
 * its block marked).  rgn_dbg_block_free(p): p lies in a block of the
 * space that no region holds (the tracing copy's check of a reference
 * into a destroyed region). */
#if RGN_DEBUG >= 1
rgn_hidden void rgn_dbg_setup(char *base, size_t nblocks, unsigned char *map);
rgn_hidden void rgn_dbg_mark(const void *p, size_t n, bool given);
rgn_hidden bool rgn_dbg_block_free(const void *p);
#define rgn_dbg_given_(p, n) rgn_dbg_mark((p), (n), true)
#define rgn_dbg_taken_(p, n) rgn_dbg_mark((p), (n), false)
#else
#define rgn_dbg_given_(p, n) ((void)0)
#define rgn_dbg_taken_(p, n) ((void)0)
#endif
#define rgn_track_given(p, n) (rgn_dbg_given_(p, n), rgn_track_given_tool_(p, n))
#define rgn_track_taken(p, n) (rgn_dbg_taken_(p, n), rgn_track_taken_tool_(p, n))

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
