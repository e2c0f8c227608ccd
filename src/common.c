/*
 * common.c - the out-of-line part of common.h: the message of a failed
 * debug check.
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
