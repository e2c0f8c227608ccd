/*
 * rgn/base.h - the shared space's base for rgn_ptr and rgn_ref_of, in
 * every decode mode but `zero`, and the per-thread base of the modes
 * that have one.  Included by the mode headers (after they define their
 * RGN_DECODE_<MODE>) only.
 *
 * The base is written by the library once, when the space is reserved,
 * and never again.  Programs read it, and cannot write it:
 *   rgn_space_base_h_  hidden: code inside librgn, and programs that link
 *                      librgn statically and define RGN_STATIC, load it
 *                      RIP-relative (PC-relative on AArch64), no GOT step;
 *   rgn_space_base_p_  exported: a const pointer to it, for programs
 *                      linking librgn.so, which cannot see a hidden
 *                      symbol: one more load per base reload (compilers
 *                      hoist it out of loops).  The pointer, not the base,
 *                      is const: a const base would let the compiler keep
 *                      a copy across the call that reserves the space.
 *
 * With a library built with -Drgn_debug >= 1 (RGN_DEBUG_BUILD in
 * rgn/version.h), rgn_ptr and RGN_AT check each reference against the
 * space's high-water mark (rgn_ref_check_), and abort with a message for
 * one beyond anything ever allocated.
 */
#ifndef RGN_BASE_H
#define RGN_BASE_H

#ifndef RGN_H
#error "<rgn/base.h> is part of <rgn.h>: include <rgn.h> instead"
#endif

#include <stdint.h>

#if defined(RGN_BUILDING_) || defined(RGN_STATIC)
extern RGN_HIDDEN_ char *rgn_space_base_h_;
#define RGN_SPACE_BASE_ rgn_space_base_h_
#else
RGN_API extern char *const *const rgn_space_base_p_;
#define RGN_SPACE_BASE_ (*rgn_space_base_p_)
#endif

static inline void *rgn_decode_(uint32_t ref)
{
	return RGN_SPACE_BASE_ + ((uintptr_t)RGN_CHECK_REF_(ref, 0) << 3);
}

static inline uint32_t rgn_encode_(const void *p)
{
	return (uint32_t)((uintptr_t)((const char *)p - RGN_SPACE_BASE_) >> 3);
}

#if defined(RGN_DECODE_GS) || defined(RGN_DECODE_REG)
/* Modes with a base per thread: the calling thread's active base (what
 * GS or x28 should hold), NULL until the thread is set up. */
RGN_API char *rgn_thread_base_(void) __attribute__((pure));

/* RGN_AT's debug check failed: say why, and abort. */
RGN_API void rgn_decode_unset_(void) __attribute__((noreturn, cold));
#endif

#endif /* RGN_BASE_H */
