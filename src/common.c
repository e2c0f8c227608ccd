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

void rgn_bad_region(const char *fn, const void *r, uint32_t magic)
{
	bool destroying = strcmp(fn, "rgn_destroy") == 0;

	rgn_misuse(fn, r, magic == RGN_MAGIC_CURSOR
	                  ? "the region is a cursor's (used between rgn_cursor_open and rgn_cursor_close)"
	                  : magic != RGN_MAGIC_DEAD
	                  ? "not a region (a foreign pointer, or memory reused?)"
	                  : destroying ? "not a live region (destroyed twice?)"
	                  : "not a live region (used after rgn_destroy or rgn_merge?)");
}

#ifdef RGN_VG_HOOKS
/* Read 4 or 8 bytes that memcheck may hold inaccessible, without a report. */
static uint64_t vg_read(const void *p, size_t n)
{
	uint64_t w;

	VALGRIND_DISABLE_ERROR_REPORTING;
	w = n == 4 ? *(const volatile uint32_t *)p : *(const volatile uint64_t *)p;
	(void)VALGRIND_MAKE_MEM_DEFINED(&w, sizeof(w));
	VALGRIND_ENABLE_ERROR_REPORTING;
	return w;
}

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
	return (uint32_t)vg_read(magic, 4);
}
#endif

RGN_NO_ASAN uint64_t rgn_peek_word(const void *p)
{
#ifdef RGN_VG_HOOKS
	if (rgn_vg_running)
		return vg_read(p, 8);
#endif
	return *(const volatile uint64_t *)p;
}

#if RGN_DEBUG >= 1
/* ---- debug builds: which blocks of the space are handed out ---------------------------- */

static char *dbg_base;
static size_t dbg_nblocks;
static unsigned char *dbg_map;   /* one byte per block: 1 handed out */

void rgn_dbg_setup(char *base, size_t nblocks, unsigned char *map)
{
	dbg_base = base;
	dbg_nblocks = nblocks;
	dbg_map = map;
}

void rgn_dbg_mark(const void *p, size_t n, bool given)
{
	const char *c = p;
	size_t first, end;

	if (!dbg_map || c < dbg_base || n == 0 ||
	    (size_t)(c - dbg_base) >= dbg_nblocks << RGN_BLOCK_SHIFT)
		return;
	first = (size_t)(c - dbg_base);
	end = first + n;
	if (given) {
		first >>= RGN_BLOCK_SHIFT;
		end = (end + RGN_BLOCK_SIZE - 1) >> RGN_BLOCK_SHIFT;
	} else {
		first = (first + RGN_BLOCK_SIZE - 1) >> RGN_BLOCK_SHIFT;
		end >>= RGN_BLOCK_SHIFT;
	}
	if (end > dbg_nblocks)
		end = dbg_nblocks;
	for (size_t b = first; b < end; b++)
		dbg_map[b] = given;
}

bool rgn_dbg_block_free(const void *p)
{
	const char *c = p;

	return dbg_map && c >= dbg_base && (size_t)(c - dbg_base) < dbg_nblocks << RGN_BLOCK_SHIFT &&
	       !dbg_map[(size_t)(c - dbg_base) >> RGN_BLOCK_SHIFT];
}
#endif
