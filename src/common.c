/*
 * common.c - the out-of-line part of common.h: the message of a failed
 * debug check.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>

void rgn_assert_fail(const char *expr, const char *file, int line)
{
	/* no allocation here: this may run with any lock held */
	fprintf(stderr, "rgn: assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}
