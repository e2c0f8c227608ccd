/*
 * global.c - the run-time side of decode mode `global` (any CPU): one
 * process-wide active base, kept (like the space base) as a hidden copy
 * for code inside the library and static links, and an exported one for
 * programs linking librgn.so.  rgn_enter writes both, for every thread.
 */
#include "internal.h"
#include "os/os.h"

rgn_hidden char *rgn_active_base_h_;
RGN_API char *rgn_active_base;

int rgn_arch_reserve(size_t size, void **base)
{
	return rgn_os_reserve(size, size, base);
}

void rgn_arch_publish(char *base)
{
	rgn_active_base_h_ = base;
	rgn_active_base = base;
}

/* The exported copy follows the hidden one; both are written with
 * relaxed atomics because any thread may destroy the entered region
 * (rgn_arch_forget) while another enters one. */
int rgn_arch_enter(char *base)
{
	if (!base)
		base = rgn_space_base_h_;
	__atomic_store_n(&rgn_active_base_h_, base, __ATOMIC_RELAXED);
	__atomic_store_n(&rgn_active_base, base, __ATOMIC_RELAXED);
	return 0;
}

void rgn_arch_forget(char *base)
{
	char *expect = base;

	if (__atomic_compare_exchange_n(&rgn_active_base_h_, &expect,
	                                rgn_space_base_h_, false,
	                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		__atomic_store_n(&rgn_active_base, rgn_space_base_h_, __ATOMIC_RELAXED);
}

void rgn_arch_thread_start(void)
{
}
