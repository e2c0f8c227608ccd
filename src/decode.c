/*
 * decode.c - the decode base: where the space may lie, which base RGN_AT
 * decodes through, and switching it.
 *
 * Everything the library does with the base of references is here; the
 * decode mode (meson option `decode`, RGN_DECODE_<MODE> from the mode's
 * header) changes only three hooks, each in the mode's file under arch/:
 *   rgn_arch_set(base)        make base active (global: for the process;
 *                             gs: the calling thread's GS base; reg: x28)
 *   rgn_arch_swap(old, base)  the same, but only where old is active
 *                             (atomically against rgn_arch_set in global)
 *   rgn_arch_active()         the active base, NULL when never set
 *   rgn_arch_publish(base)    the space exists: global and gs make it
 *                             active; reg only remembers it
 * Mode zero has no base to move and no file: its references are the
 * address / 8, which is also why it limits the space to the low 32 GiB.
 *
 * Each mode's limits, all decided here:
 *   global  the space anywhere, aligned to its size; entering a region
 *           switches every thread at once
 *   gs, reg the same placement; entering switches the calling thread; gs
 *           sets a thread's base on its first allocation, reg never loads
 *           x28 behind the caller's back (rgn_init, rgn_thread_init,
 *           rgn_enter, RGN_REENTER do)
 *   zero    the space below 32 GiB; only the space can be entered
 */
#include "decode.h"
#include "../arch/arch.h"
#include "backend/backend.h"
#include "os/os.h"

#include <stdio.h>

/* The space base, hidden (the library, static links) and the exported
 * read-only view of it (rgn/base.h says who reads which). */
char *rgn_space_base_h_;
RGN_API char *const *const rgn_space_base_p_ = &rgn_space_base_h_;

#ifdef RGN_DECODE_ZERO
#define ZERO_LIMIT ((uintptr_t)32 << 30)

/* Try the slots aligned to size from the top of [0, 32 GiB) down, so the
 * space lands in [4 GiB, 32 GiB) when it fits there and lower only when
 * that is taken.  The slot at 0 is never tried: page 0 stays unmapped so
 * that reference 0 faults. */
int rgn_decode_reserve(size_t size, void **base)
{
	uintptr_t at;
	int err = ENOMEM;

	if (size >= ZERO_LIMIT)
		return ENOMEM;
	for (at = ZERO_LIMIT - size; at >= size; at -= size) {
		err = rgn_os_reserve_at((void *)at, size);
		if (err == 0) {
			*base = (void *)at;
			return 0;
		}
		if (err != EEXIST)
			break;
	}
	fprintf(stderr, "rgn: decode mode zero: no free %zu MiB range aligned to "
	        "its size below 32 GiB (%s)\n", size >> 20,
	        err == EEXIST ? "all taken" : "the kernel refused it");
	return ENOMEM;
}

void rgn_decode_publish(char *base)
{
	rgn_space_base_h_ = base;
}

/* Nothing to switch: only the shared space can be active. */
int rgn_decode_enter(char *base)
{
	return !base || base == rgn_space_base_h_ ? 0 : ENOTSUP;
}

void rgn_decode_forget(char *base)
{
	(void)base;
}

void rgn_decode_thread_start(void)
{
}

bool rgn_decode_space_offset(uint32_t ref, int active, size_t *off)
{
	(void)active;
	*off = ((uintptr_t)ref << 3) - (uintptr_t)rgn_space_base_h_;
	return true;
}

#else /* global, gs, reg */

int rgn_decode_reserve(size_t size, void **base)
{
	return rgn_os_reserve(size, size, base);
}

void rgn_decode_publish(char *base)
{
	rgn_space_base_h_ = base;
	rgn_arch_publish(base);
}

int rgn_decode_enter(char *base)
{
	if (!base)
		base = rgn_space_base_h_;
	if (!base)
		return 0; /* no space yet: publishing it will do */
	return rgn_arch_set(base);
}

void rgn_decode_forget(char *base)
{
	if (base != rgn_space_base_h_)
		(void)rgn_arch_swap(base, rgn_space_base_h_);
}

void rgn_decode_thread_start(void)
{
#ifdef RGN_DECODE_GS
	/* so that only threads that decode without ever allocating need
	 * rgn_thread_init */
	if (!rgn_arch_active() && rgn_space_base_h_)
		(void)rgn_arch_set(rgn_space_base_h_);
#endif
}

bool rgn_decode_space_offset(uint32_t ref, int active, size_t *off)
{
	if (active && rgn_arch_active() != rgn_space_base_h_)
		return false;
	*off = (size_t)ref << 3;
	return true;
}
#endif

/* ---- the public calls -------------------------------------------------------- */

RGN_API int rgn_enter(const rgn_region *r)
{
	int err;

	if (r)
		(void)rgn_live(r); /* a dead handle aborts */
	err = rgn_decode_enter(r ? r->bump.base : NULL);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

RGN_API const char *rgn_decode_mode(void)
{
	return RGN_DECODE_MODE;
}
