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

int rgn_arch_enter(char *base)
{
	if (!base)
		base = rgn_space_base_h_;
	rgn_active_base_h_ = base;
	rgn_active_base = base;
	return 0;
}

char *rgn_arch_active(void)
{
	return rgn_active_base_h_;
}

void rgn_arch_thread_start(void)
{
}
