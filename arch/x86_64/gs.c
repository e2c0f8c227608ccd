/*
 * gs.c - decode mode `gs` (x86-64 Linux): the active base is the calling
 * thread's GS segment base.
 *
 * wrgsbase is a user-mode instruction once the kernel enables FSGSBASE
 * (Linux 5.9 and later on CPUs that have it; AT_HWCAP2 says so); before
 * that, arch_prctl(ARCH_SET_GS) does the same through a system call.
 * Nothing else in a Linux process uses GS: the C library's TLS is on FS.
 * A thread created with clone inherits its creator's GS base, but not
 * thread_base (thread_base.h), which is what the debug check reads.
 */
#define _GNU_SOURCE /* syscall */
#include "../thread_base.h"

#include <asm/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

static int load_base(char *base)
{
	static int fsgsbase = -1; /* unknown; racing writers store the same */
	int saved = errno;

	if (fsgsbase < 0)
		fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	if (fsgsbase) {
		__asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
	} else if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)base) != 0) {
		int err = errno;
		errno = saved;
		return err;
	}
	return 0;
}

/* The thread that reserves the space decodes through it at once. */
void rgn_arch_publish(char *base)
{
	(void)rgn_arch_set(base);
}

RGN_API void rgn_decode_unset_(void)
{
	fprintf(stderr, "rgn: RGN_AT in a thread whose GS base was never set "
	        "(decode mode gs): call rgn_thread_init() first in every "
	        "thread that decodes references\n");
	abort();
}
