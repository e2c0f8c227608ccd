/*
 * gs.c - the run-time side of decode mode `gs` (x86-64 Linux): load the
 * GS segment base of the calling thread with the active base.
 *
 * wrgsbase is a user-mode instruction once the kernel enables FSGSBASE
 * (Linux 5.9 and later on CPUs that have it; AT_HWCAP2 says so); before
 * that, arch_prctl(ARCH_SET_GS) does the same through a system call.
 * Nothing else in a Linux process uses GS: the C library's TLS is on FS.
 * A thread created with clone inherits its creator's GS base, but not its
 * rgn_thread_base, which is what the debug check reads.
 */
#define _GNU_SOURCE /* syscall */
#include "internal.h"
#include "os/os.h"

#include <asm/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

RGN_API __thread char *rgn_thread_base __attribute__((tls_model("initial-exec")));

static int set_gs(char *base)
{
	static int fsgsbase = -1; /* unknown; racing writers store the same */

	if (fsgsbase < 0)
		fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
	if (fsgsbase) {
		__asm__ volatile("wrgsbase %0" : : "r"(base) : "memory");
		return 0;
	}
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)base) != 0)
		return errno;
	return 0;
}

int rgn_arch_reserve(size_t size, void **base)
{
	return rgn_os_reserve(size, size, base);
}

void rgn_arch_publish(char *base)
{
	if (set_gs(base) == 0)
		rgn_thread_base = base;
}

int rgn_arch_enter(char *base)
{
	int saved = errno, err;

	if (!base)
		base = rgn_space_base_h_;
	err = set_gs(base);
	errno = saved;
	if (!err)
		rgn_thread_base = base;
	return err;
}

/* A thread's first allocation sets it up, so that only threads that
 * decode without ever allocating need rgn_thread_init. */

/* Only the calling thread's base can be switched back from here. */
void rgn_arch_forget(char *base)
{
	if (rgn_thread_base == base)
		(void)rgn_arch_enter(NULL);
}

void rgn_arch_thread_start(void)
{
	if (!rgn_thread_base)
		(void)rgn_arch_enter(NULL);
}

RGN_API void rgn_decode_unset_(void)
{
	fprintf(stderr, "rgn: RGN_AT in a thread whose GS base was never set "
	        "(decode mode gs): call rgn_thread_init() first in every "
	        "thread that decodes references\n");
	abort();
}
