/*
 * common.c - the out-of-line part of common.h: the message of a failed
 * debug check, the memcheck requests out of line.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rgn_assert_fail(const char *expr, const char *file, int line)
{
	/* no allocation here: this may run with any lock held */
	fprintf(stderr, "rgn: assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

void rgn_misuse(const char *fn, const void *obj, const char *why)
{
	fprintf(stderr, "rgn: %s(%p): %s\n", fn, obj, why);
	abort();
}

void rgn_bad_region(const char *fn, const void *r, bool dead)
{
	bool destroying = strcmp(fn, "rgn_destroy") == 0;

	rgn_misuse(fn, r, !dead ? "not a region (a foreign pointer, or memory reused?)"
	                  : destroying ? "not a live region (destroyed twice?)"
	                  : "not a live region (used after rgn_destroy or rgn_merge?)");
}

#ifdef RGN_VG_HOOKS
void rgn_vg_request(int kind, const void *p, size_t n)
{
	switch (kind) {
	case RGN_VG_NOACCESS:
		(void)VALGRIND_MAKE_MEM_NOACCESS(p, n);
		break;
	case RGN_VG_DEFINED:
		(void)VALGRIND_MAKE_MEM_DEFINED(p, n);
		break;
	default:
		(void)VALGRIND_MAKE_MEM_UNDEFINED(p, n);
		break;
	}
}

uint32_t rgn_magic_vg(const void *magic)
{
	uint32_t m;

	VALGRIND_DISABLE_ERROR_REPORTING;
	m = *(const volatile uint32_t *)magic;
	(void)VALGRIND_MAKE_MEM_DEFINED(&m, sizeof(m));
	VALGRIND_ENABLE_ERROR_REPORTING;
	return m;
}
#endif
