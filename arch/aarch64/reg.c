/*
 * reg.c - decode mode `reg` (AArch64 Linux): x28 holds the active base.
 * This file, like every file of the program, is compiled with
 * -ffixed-x28, so assigning rgn_x28_ here changes the register the caller
 * goes on with.
 *
 * The library never loads x28 behind the caller's back on a first
 * allocation (as gs mode does with GS): a thread's start function is
 * called by the C library, which may keep a value of its own in x28
 * across that call, so only the caller can say where x28 may change
 * (rgn_init, rgn_thread_init, rgn_enter, RGN_REENTER).
 */
#include "../thread_base.h"

#include <stdio.h>
#include <stdlib.h>

/* The space's base, once published. */
static char *space_base;

static int load_base(char *base)
{
	RGN_X28_SET_(base);
	return 0;
}

/* x28 is loaded only where the caller asks for it: remember the base. */
void rgn_arch_publish(char *base)
{
	space_base = base;
}

/* RGN_REENTER: the thread's base, the space's if it was never set. */
RGN_API char *rgn_reenter_base_(void)
{
	if (!thread_base)
		thread_base = space_base;
	return thread_base;
}

RGN_API void rgn_decode_unset_(void)
{
	fprintf(stderr, "rgn: RGN_AT with x28 not holding this thread's base "
	        "(decode mode reg): call rgn_thread_init() first in every "
	        "thread, and begin callbacks and signal handlers with "
	        "RGN_REENTER()\n");
	abort();
}
