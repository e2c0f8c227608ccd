/*
 * sys.c - the helper every system-call wrapper (rgn_sys.h) is built on,
 * whatever the OS; the wrappers themselves are src/os/sys-posix.c and
 * src/os/sys-windows.c.
 *
 * Written against the public API alone (rgn.h), the way a language
 * runtime's hand-written wrappers would be: it is both part of librgn
 * and the model for such code.  The one exception is the call of the
 * out-of-memory handler (space.h) when a read finally fails: the
 * attempts before it (rgn_tail_grow) do not call it.
 *
 * Every wrapper whose result size only the kernel knows goes through
 * rgn_sys_fill(): reserve room at the region's tail (rgn_tail), let a
 * step function fill it (read, getdents64, readlink, getcwd, ReadFile,
 * FindNextFileW), grow the reservation when the step asks for room
 * (rgn_tail_grow: in place when the blocks after the tail can be had,
 * else moved with the bytes kept so far copied), and commit what was
 * used (rgn_tail_commit), which gives the whole blocks left over back to
 * the space.  Growth doubles, so a result that moves is copied O(1)
 * times per byte on average.
 *
 * Errors leave the region as it was: the fill cancels its tail (a
 * commit of nothing trims what the tail added to the chunk) and rewinds
 * to a mark taken first (which drops a chunk the tail started).
 * Wrappers that allocate more after the fill (an array of lines or
 * entries) rewind to their own mark.  errno is saved across that undo,
 * so the caller sees the value of the call that failed.
 */
#include "sys.h"
#include "space.h" /* rgn_oom */

#include <errno.h>
#include <stdint.h>

void rgn_sys_undo(rgn_region *r, rgn_mark m)
{
	int err = errno;

	(void)rgn_tail_commit(r, 0); /* fails harmlessly when none is pending */
	(void)rgn_rewind(r, m);
	errno = err;
}

/* The smallest growth worth a try when doubling does not fit. */
#define GROW_MIN ((size_t)64 << 10)

/* Grow the pending tail of r (*avail bytes, the first used of them kept):
 * double it, and when the space cannot give that much, ask for half the
 * increment, and half again, down to GROW_MIN, so a read can still use
 * most of what is left.  The new start, or NULL with errno (ENOMEM) and
 * the old tail still pending; the out-of-memory handler is called once,
 * when the last try fails (rgn_tail_grow never calls it). */
static char *grow(rgn_region *r, size_t used, size_t *avail)
{
	size_t have = *avail;
	size_t more = have < GROW_MIN ? GROW_MIN : have;
	char *p;

	for (;;) {
		size_t want = more > SIZE_MAX - have ? SIZE_MAX : have + more;
		if ((p = rgn_tail_grow(r, used, want, avail)) != NULL ||
		    errno != ENOMEM)
			return p;
		if (more <= GROW_MIN)
			return rgn_oom(want);
		more /= 2;
	}
}

void *rgn_sys_fill(rgn_region *r, size_t want, rgn_sys_step_fn step, void *ctx,
                   size_t *len)
{
	rgn_mark m = rgn_save(r);
	size_t avail, used = 0;
	char *buf = rgn_tail(r, want, &avail);

	if (!buf)
		return NULL; /* rgn_tail changes nothing when it fails */
	for (;;) {
		switch (step(ctx, buf, avail, &used)) {
		case RGN_STEP_AGAIN:
			break;
		case RGN_STEP_DONE:
			(void)rgn_tail_commit(r, used); /* used <= avail: cannot fail */
			*len = used;
			return buf;
		case RGN_STEP_ROOM:
			if (!(buf = grow(r, used, &avail)))
				goto fail;
			break;
		case RGN_STEP_ERROR:
			goto fail;
		}
	}
fail:
	rgn_sys_undo(r, m);
	return NULL;
}
