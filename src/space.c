/*
 * space.c - the process-wide reservation that every block comes from.
 *
 * The space is one contiguous range of address space, a power of two from
 * 16 MiB to 32 GiB, aligned to its own size so that a 32-bit reference
 * (granule index) covers it exactly.  It is reserved inaccessible, then
 * made read-write from the bottom up as blocks are first carved (the
 * "frontier"), in RGN_COMMIT_STEP steps.  Block 0 is never made
 * accessible: reference 0 decodes into it and faults.
 *
 * Beside the space lives the descriptor table (one struct rgn_desc per
 * block), a second lazily-faulted mapping.  Pages of it are touched only
 * as blocks are carved, so a 32 GiB space whose program uses 10 MiB costs
 * 10 MiB / 128 of table.
 *
 * Mappings: block 0 (none), the read-write frontier, the untouched rest
 * (none), and the descriptor table: four, whatever the program does,
 * because the frontier only ever grows at its top (mprotect merges it
 * with the read-write mapping below) and memory is given back with
 * madvise, which never splits a mapping.
 *
 * The space is never unmapped: blocks handed out must stay valid until
 * the process ends, and references are meaningless without it.
 *
 * This file also keeps the out-of-memory handler, which every layer above
 * calls before an allocation fails with ENOMEM.
 */
#include "space.h"
#include "decode.h"
#include "lock.h"
#include "resv.h"
#include "os/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rgn_space rgn_space_g;
atomic_bool rgn_space_ready;
#ifdef RGN_VG_HOOKS
bool rgn_vg_running; /* written once, under setup_lock, before the space is ready */
#endif

/* Lock order: the rank of each (internal.h). */
static struct rgn_lock setup_lock = RGN_LOCK_INIT(RGN_RANK_SETUP, NULL, NULL);
/* The read-write frontier: blocks.c carves under its own lock and asks
 * for more here; rgn_space_stats reads it. */
static struct rgn_lock frontier_lock = RGN_LOCK_INIT(RGN_RANK_FRONTIER, NULL, NULL);
static struct rgn_resv frontier;
static struct rgn_lock oom_lock = RGN_LOCK_INIT(RGN_RANK_OOM, NULL, NULL);
static rgn_oom_handler oom_fn;   /* with oom_arg, under oom_lock */
static void *oom_arg;

/* ---- configuration ------------------------------------------------------- */

int rgn_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && end[0] == 'i' && end[1] == 'B')
		end += 2;
	else if (shift && end[0] == 'B')
		end++;
	if (*end != '\0')
		return EINVAL;
	if (shift && v > (~0ull >> shift))
		return EINVAL;
	v <<= shift;
	if (v > SIZE_MAX)
		return EINVAL;
	*out = (size_t)v;
	return 0;
}

static bool valid_space_size(size_t n)
{
	return n >= RGN_SPACE_MIN && n <= RGN_SPACE_MAX && (n & (n - 1)) == 0;
}

/* RGN_CHECK: "0" (off), "1" or "on", or a bound with its unit ("256M");
 * then optionally ",mprotect".  0 or EINVAL. */
static int parse_check(const char *s, unsigned *mode, size_t *bytes)
{
	const char *comma = strchr(s, ',');
	char word[32];
	size_t len = comma ? (size_t)(comma - s) : strlen(s);

	if (len >= sizeof word)
		return EINVAL;
	memcpy(word, s, len);
	word[len] = '\0';
	*mode = RGN_CHECK_GUARD;
	*bytes = RGN_CHECK_BYTES_DEFAULT;
	if (strcmp(word, "0") == 0 && !comma) {
		*mode = RGN_CHECK_OFF;
	} else if (strcmp(word, "1") != 0 && strcmp(word, "on") != 0) {
		/* a size needs its unit: a plain number would be ambiguous */
		if (strspn(word, "0123456789") == len ||
		    rgn_parse_size(word, bytes) != 0 || *bytes < RGN_BLOCK_SIZE)
			return EINVAL;
	}
	if (comma && strcmp(comma + 1, "mprotect") != 0)
		return EINVAL;
	if (comma)
		*mode = RGN_CHECK_PROTECT;
	return 0;
}

/* The checking mode, from cfg or RGN_CHECK. */
static int resolve_check(const rgn_config *cfg, unsigned *mode, size_t *bytes)
{
	const char *env = getenv("RGN_CHECK");

	*mode = RGN_CHECK_OFF;
	*bytes = 0;
	if (cfg && cfg->check) {
		*mode = RGN_CHECK_GUARD;
		*bytes = cfg->check == 1 ? RGN_CHECK_BYTES_DEFAULT : cfg->check;
		if (*bytes < RGN_BLOCK_SIZE)
			return EINVAL;
	} else if (env && *env && parse_check(env, mode, bytes) != 0) {
		fprintf(stderr, "rgn: RGN_CHECK=%s is not 0, 1, or a size such as "
		        "64M, optionally followed by ,mprotect\n", env);
		return EINVAL;
	}
	return 0;
}

/* Resolve cfg and the environment into space size and retain limit.
 * *chosen tells whether the size was asked for (config or RGN_SPACE) or
 * is the default; *fixed whether the retain limit was (config or
 * RGN_RETAIN: a fixed limit) or is the default (the ceiling of the
 * adaptive one, blocks.c). */
static int resolve_config(const rgn_config *cfg, size_t *size, size_t *retain,
                          bool *chosen, bool *fixed)
{
	const char *env;

	*size = cfg ? cfg->space_size : 0;
	*chosen = true;
	if (*size == 0) {
		env = getenv("RGN_SPACE");
		if (env && *env) {
			if (rgn_parse_size(env, size) != 0 || !valid_space_size(*size)) {
				fprintf(stderr, "rgn: RGN_SPACE=%s is not a power of two "
				        "from 16M to 32G\n", env);
				return EINVAL;
			}
		} else {
			*size = RGN_SPACE_MAX;
			*chosen = false;
		}
	}
	if (!valid_space_size(*size))
		return EINVAL;

	*retain = cfg ? cfg->retain_limit : 0;
	*fixed = true;
	if (*retain == 0) {
		env = getenv("RGN_RETAIN");
		if (env && *env) {
			if (rgn_parse_size(env, retain) != 0) {
				fprintf(stderr, "rgn: RGN_RETAIN=%s is not a size\n", env);
				return EINVAL;
			}
		} else {
			*retain = RGN_RETAIN_DEFAULT;
			*fixed = false;
		}
	}
	return 0;
}

/* ---- reservation ---------------------------------------------------------- */

static int space_create(size_t size, size_t retain, bool fixed, unsigned check,
                        size_t check_bytes)
{
	struct rgn_space *sp = &rgn_space_g;
	struct rgn_os_info info;
	void *base, *desc;
	size_t desc_bytes;
	int err;

#ifdef RGN_VG_HOOKS
	rgn_vg_running = RUNNING_ON_VALGRIND != 0;
#endif
	rgn_os_info(&info);
	if (info.page_size > RGN_BLOCK_SIZE)
		return ENOTSUP; /* blocks must be whole pages */
	err = rgn_decode_reserve(size, &base);
	if (err)
		return err;
	desc_bytes = (size >> RGN_BLOCK_SHIFT) * sizeof(struct rgn_desc);
#if RGN_DEBUG >= 1
	desc_bytes += size >> RGN_BLOCK_SHIFT; /* and the debug map of given blocks */
#endif
	desc_bytes = (desc_bytes + info.page_size - 1) & ~(info.page_size - 1);
	err = rgn_os_reserve(desc_bytes, info.page_size, &desc);
	if (!err) {
		err = rgn_os_commit(desc, desc_bytes);
		if (err)
			rgn_os_release(desc, desc_bytes);
	}
	if (err) {
		rgn_os_release(base, size);
		return err;
	}

	sp->base = base;
	sp->size = size;
	sp->nblocks = (uint32_t)(size >> RGN_BLOCK_SHIFT);
	sp->desc = desc;
	sp->desc_bytes = desc_bytes;
#if RGN_DEBUG >= 1
	rgn_dbg_setup(base, sp->nblocks, (unsigned char *)(sp->desc + sp->nblocks));
#endif
	sp->retain_limit = retain;
	sp->retain_blocks = (uint32_t)((retain >> RGN_BLOCK_SHIFT) > sp->nblocks
	                               ? sp->nblocks : retain >> RGN_BLOCK_SHIFT);
	sp->retain_fixed = fixed;
	sp->decommit_zeroes = info.decommit_zeroes;
	sp->check = check;
	sp->check_bytes = check_bytes < size / 4 ? check_bytes : size / 4;
	/* block 0 is the guard: never opened */
	rgn_resv_adopt(&frontier, base, size, RGN_BLOCK_SIZE, RGN_COMMIT_STEP);
	rgn_decode_publish(base);
	atomic_store_explicit(&rgn_space_ready, true, memory_order_release);
	return 0;
}

/* Why the last set-up on first use failed (0: none failed); under
 * setup_lock.  Later first uses fail the same way at once, without
 * another round of reservations (or another line on stderr); rgn_init,
 * an explicit call, tries again. */
static int setup_err;

static int space_init(const rgn_config *cfg, bool explicit_call)
{
	size_t size, retain, check_bytes;
	unsigned check;
	bool chosen, fixed;
	int err;

	rgn_lock(&setup_lock);
	if (atomic_load_explicit(&rgn_space_ready, memory_order_acquire)) {
		rgn_unlock(&setup_lock);
		return explicit_call ? EBUSY : 0;
	}
	if (!explicit_call && setup_err) {
		err = setup_err;
		rgn_unlock(&setup_lock);
		return err;
	}
	err = resolve_config(cfg, &size, &retain, &chosen, &fixed);
	if (!err)
		err = resolve_check(cfg, &check, &check_bytes);
	if (!err)
		err = space_create(size, retain, fixed, check, check_bytes);
	/* The default 32 GiB (64 GiB reserved to align it) can be refused:
	 * an address-space ulimit, strict overcommit, valgrind.  Then take
	 * the largest power of two that the OS grants, down to the smallest
	 * space there is.  A size that was asked for is never silently
	 * replaced. */
	while (err == ENOMEM && !chosen && size > RGN_SPACE_MIN) {
		size >>= 1;
		err = space_create(size, retain, fixed, check, check_bytes);
	}
	setup_err = explicit_call ? 0 : err;
	rgn_unlock(&setup_lock);
	return err;
}

int rgn_space_init_slow(void)
{
	return space_init(NULL, false);
}

RGN_API int rgn_init(const rgn_config *cfg)
{
	int err = space_init(cfg, true);

	if (!err)
		err = rgn_decode_enter(NULL); /* the calling thread decodes now */
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

RGN_API int rgn_thread_init(void)
{
	int err = rgn_space_ensure();

	if (!err)
		err = rgn_decode_enter(NULL);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

RGN_API int rgn_version(void)
{
	return RGN_VERSION;
}

/* Make blocks below top read-write.  The frontier moves in whole
 * RGN_COMMIT_STEPs so that mprotect is rare. */
int rgn_space_commit(uint32_t top)
{
	size_t before, after;
	int err;

	rgn_lock(&frontier_lock);
	before = frontier.committed;
	err = rgn_resv_commit(&frontier, (size_t)top << RGN_BLOCK_SHIFT);
	after = frontier.committed;
	rgn_unlock(&frontier_lock);
	/* not handed out yet: poisoned until the block layer gives it */
	if (after > before)
		rgn_track_taken(rgn_space_g.base + before, after - before);
	return err;
}

size_t rgn_space_committed(void)
{
	size_t c;

	rgn_lock(&frontier_lock);
	c = frontier.committed - frontier.guard;
	rgn_unlock(&frontier_lock);
	return c;
}

/* ---- out of memory ------------------------------------------------------------ */

void *rgn_oom(size_t size)
{
	rgn_oom_handler fn;
	void *arg;

	rgn_lock(&oom_lock);
	fn = oom_fn;
	arg = oom_arg;
	rgn_unlock(&oom_lock);
	if (fn)
		fn(size, arg);
	errno = ENOMEM;
	return NULL;
}

RGN_API rgn_oom_handler rgn_set_oom_handler(rgn_oom_handler fn, void *arg)
{
	rgn_oom_handler old;

	rgn_lock(&oom_lock);
	old = oom_fn;
	oom_fn = fn;
	oom_arg = arg;
	rgn_unlock(&oom_lock);
	return old;
}
