/*
 * rgn_base.h - the shared space's base for rgn_ptr and rgn_ref_of, in
 * every decode mode but `zero`.  Included by the mode headers only.
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

#endif /* RGN_BASE_H */
