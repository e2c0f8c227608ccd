/*
 * codegen-probe.c - what one decode compiles to.  tests/codegen.py
 * compiles this file once per decode mode and compiler and checks the
 * instructions of each probe against the mode's promise.
 */
#include "rgn.h"

struct rgn_probe_node {
	rgn_ref  next;
	uint32_t key;
};

uint64_t rgn_probe_idx(uintptr_t ref);
uint64_t rgn_probe_ref(rgn_ref ref);
rgn_ref rgn_probe_chase(rgn_ref at, unsigned n);

/* A granule (8 bytes) read through the reference.  AArch64 can scale
 * a register index by the access size only, so "uxtw #3" needs an 8-byte
 * access; a 4-byte field takes a shift and a load (see the chase loop). */

/* The index already 64-bit (a loop variable, a load): no extension. */
uint64_t rgn_probe_idx(uintptr_t ref)
{
	return *RGN_AT(uint64_t, ref);
}

/* A 32-bit argument: x86-64 must zero-extend it first; AArch64 folds
 * the extension into the load (uxtw). */
uint64_t rgn_probe_ref(rgn_ref ref)
{
	return *RGN_AT(uint64_t, ref);
}

/* The pointer-chasing loop of the benchmark. */
rgn_ref rgn_probe_chase(rgn_ref at, unsigned n)
{
	uintptr_t x = at;

	while (n--)
		x = RGN_AT(struct rgn_probe_node, x)->next;
	return (rgn_ref)x;
}
