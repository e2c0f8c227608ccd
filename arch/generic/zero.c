/*
 * zero.c - the run-time side of decode mode `zero` (any 64-bit CPU): the
 * space must lie below 32 GiB, where a reference is the address / 8.
 */
#include "internal.h"
#include "os/os.h"

#include <stdio.h>

#define ZERO_LIMIT ((uintptr_t)32 << 30)

/* Try the slots aligned to size from the top of [0, 32 GiB) down, so the
 * space lands in [4 GiB, 32 GiB) when it fits there and lower only when
 * that is taken.  The slot at 0 is never tried: page 0 stays unmapped so
 * that reference 0 faults. */
int rgn_arch_reserve(size_t size, void **base)
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

void rgn_arch_publish(char *base)
{
	(void)base;
}

/* Nothing to switch: only the shared space can be active. */
int rgn_arch_enter(char *base)
{
	return !base || base == rgn_space_base_h_ ? 0 : ENOTSUP;
}


void rgn_arch_forget(char *base)
{
	(void)base; /* nothing else can have been entered */
}

void rgn_arch_thread_start(void)
{
}
