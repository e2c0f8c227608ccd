/*
 * thread_base.h - what the modes with a base per thread (gs, reg) share:
 * the thread's record of the base its register holds, and the hooks of
 * arch.h that only read or compare it.  Included by the one mode file of
 * the build, which defines load_base(): put base in the register.
 */
#ifndef RGN_ARCH_THREAD_BASE_H
#define RGN_ARCH_THREAD_BASE_H

#include "arch.h"

/* What this thread's register holds, NULL until rgn set it. */
static rgn_thread char *thread_base;

/* The mode's part: load base into the register.  0 or an errno value. */
static int load_base(char *base);

int rgn_arch_set(char *base)
{
	int err = load_base(base);

	if (!err)
		thread_base = base;
	return err;
}

/* Only the calling thread's base can be switched from here. */
bool rgn_arch_swap(char *old, char *base)
{
	return thread_base == old && rgn_arch_set(base) == 0;
}

char *rgn_arch_active(void)
{
	return thread_base;
}

RGN_API char *rgn_thread_base_(void)
{
	return thread_base;
}

#endif /* RGN_ARCH_THREAD_BASE_H */
