/*
 * global.c - decode mode `global` (any CPU): one process-wide active base.
 * It is kept, like the space base, as a hidden copy that the library and
 * static links read RIP-relative, and behind an exported read-only view
 * for programs linking librgn.so (rgn_decode_global.h).
 */
#include "../arch.h"

char *rgn_active_base_h_;
RGN_API char *const *const rgn_active_base_p_ = &rgn_active_base_h_;

/* Relaxed atomics: any thread may switch back from a region it destroys
 * (rgn_arch_swap) while another enters one. */
int rgn_arch_set(char *base)
{
	__atomic_store_n(&rgn_active_base_h_, base, __ATOMIC_RELAXED);
	return 0;
}

bool rgn_arch_swap(char *old, char *base)
{
	return __atomic_compare_exchange_n(&rgn_active_base_h_, &old, base, false,
	                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

char *rgn_arch_active(void)
{
	return __atomic_load_n(&rgn_active_base_h_, __ATOMIC_RELAXED);
}

void rgn_arch_publish(char *base)
{
	(void)rgn_arch_set(base);
}
