/*
 * reg.c - the run-time side of decode mode `reg` (AArch64 Linux): x28
 * holds the active base.  This file, like every file of the program, is
 * compiled with -ffixed-x28, so assigning rgn_x28_ here changes the
 * register the caller goes on with.
 *
 * The library never loads x28 behind the caller's back on a first
 * allocation (as gs mode does with GS): a thread's start function is
 * called by the C library, which may keep a value of its own in x28
 * across that call, so only the caller can say where x28 may change
 * (rgn_init, rgn_thread_init, rgn_enter, RGN_REENTER).
 */
#include "internal.h"
#include "os/os.h"

#include <stdio.h>
#include <stdlib.h>

RGN_API __thread char *rgn_thread_base __attribute__((tls_model("initial-exec")));

int rgn_arch_reserve(size_t size, void **base)
{
	return rgn_os_reserve(size, size, base);
}

/* x28 is loaded by rgn_init itself (through rgn_arch_enter), never when
 * the space is reserved on first use. */
void rgn_arch_publish(char *base)
{
	(void)base;
}

int rgn_arch_enter(char *base)
{
	if (!base)
		base = rgn_space_base_h_;
	rgn_thread_base = base;
	RGN_X28_SET_(base);
	return 0;
}


/* Only the calling thread's base can be switched back from here. */
void rgn_arch_forget(char *base)
{
	if (rgn_thread_base == base)
		(void)rgn_arch_enter(NULL);
}

void rgn_arch_thread_start(void)
{
}

RGN_API char *rgn_reenter_base_(void)
{
	if (!rgn_thread_base && rgn_space_ensure() == 0)
		rgn_thread_base = rgn_space_base_h_;
	return rgn_thread_base;
}

RGN_API void rgn_decode_unset_(void)
{
	fprintf(stderr, "rgn: RGN_AT with x28 not holding this thread's base "
	        "(decode mode reg): call rgn_thread_init() first in every "
	        "thread, and begin callbacks and signal handlers with "
	        "RGN_REENTER()\n");
	abort();
}
