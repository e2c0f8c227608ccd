/*
 * rgn_base.h - the shared space's base for rgn_ptr and rgn_ref_of, in
 * every decode mode but `zero`, and the per-thread base of the modes
 * that have one.  Included by the mode headers (after they define their
 * RGN_DECODE_<MODE>) only.
 *
 * The base is written by the library once, when the space is reserved,
 * and never again.  It is kept twice:
 *   rgn_space_base_h_  hidden: code inside librgn, and programs that link
 *                      librgn statically and define RGN_STATIC, load it
 *                      RIP-relative (PC-relative on AArch64), no GOT step;
 *   rgn_space_base     exported: a program linking librgn.so reads this
 *                      copy.  An executable built by gcc reaches it
 *                      directly too (a copy relocation); position-
 *                      independent code elsewhere pays one GOT load.
 */
#ifndef RGN_BASE_H
#define RGN_BASE_H

#include <stdint.h>

RGN_API extern char *rgn_space_base;
#if defined(RGN_BUILDING_) || defined(RGN_STATIC)
extern RGN_HIDDEN_ char *rgn_space_base_h_;
#define RGN_SPACE_BASE_ rgn_space_base_h_
#else
#define RGN_SPACE_BASE_ rgn_space_base
#endif

static inline void *rgn_decode_(uint32_t ref)
{
	return RGN_SPACE_BASE_ + ((uintptr_t)ref << 3);
}

static inline uint32_t rgn_encode_(const void *p)
{
	return (uint32_t)((uintptr_t)((const char *)p - RGN_SPACE_BASE_) >> 3);
}

#if defined(RGN_DECODE_GS) || defined(RGN_DECODE_REG)
/* Modes with a base per thread: the calling thread's active base (what
 * GS or x28 should hold), NULL until the thread is set up.  Written by
 * the library only. */
RGN_API extern __thread char *rgn_thread_base
	__attribute__((tls_model("initial-exec")));

/* RGN_AT's debug check failed: say why, and abort. */
RGN_API void rgn_decode_unset_(void) __attribute__((noreturn, cold));
#endif

#endif /* RGN_BASE_H */
