/*
 * resv.c - reservations: address space reserved inaccessible and made
 * read-write from the bottom up, in steps.
 *
 * The shared space is one reservation (2 MiB steps); every contiguous
 * region lives in another (64 KiB steps).  Committing only ever moves the
 * top of the read-write part, so the kernel merges each step into the
 * mapping below it: a reservation is at most three mappings (guard,
 * read-write part, inaccessible rest) whatever it holds.  Memory is given
 * back with a purge (madvise), which never splits a mapping; uncommit
 * lowers the read-write top again so that the next purge covers only what
 * was used since.  The invariants are stated with struct rgn_resv.
 */
#include "resv.h"
#include "os/os.h"

static size_t round_up(size_t n, size_t step)
{
	return (n + step - 1) & ~(step - 1);
}

int rgn_resv_reserve(struct rgn_resv *v, size_t size, size_t align,
                     size_t guard, size_t step)
{
	void *base;
	int err = rgn_os_reserve(size, align, &base);

	if (err)
		return err;
	rgn_resv_adopt(v, base, size, guard, step);
	return 0;
}

void rgn_resv_adopt(struct rgn_resv *v, void *base, size_t size,
                    size_t guard, size_t step)
{
	rgn_assert(guard <= size && (step & (step - 1)) == 0);
	v->base = base;
	v->size = size;
	v->guard = guard;
	v->committed = guard;
	v->step = step;
}

int rgn_resv_commit(struct rgn_resv *v, size_t upto)
{
	size_t to;

	if (upto <= v->committed)
		return 0;
	if (upto > v->size)
		return ENOMEM;
	to = round_up(upto, v->step);
	if (to > v->size)
		to = v->size;
	/* at the kernel's mapping limit mprotect fails with ENOMEM too */
	if (rgn_os_commit(v->base + v->committed, to - v->committed) != 0)
		return ENOMEM;
	v->committed = to;
	return 0;
}

int rgn_resv_purge(struct rgn_resv *v, size_t off, size_t n, bool lazy)
{
	rgn_assert(off >= v->guard && off + n <= v->committed);
	if (n == 0)
		return 0;
	return lazy ? rgn_os_decommit_lazy(v->base + off, n)
	            : rgn_os_decommit(v->base + off, n);
}

void rgn_resv_uncommit(struct rgn_resv *v, size_t keep)
{
	size_t step = round_up(keep < v->guard ? v->guard : keep, v->step);

	if (step < v->committed &&
	    rgn_os_protect_none(v->base + step, v->committed - step) == 0)
		v->committed = step;
}

void rgn_resv_release(struct rgn_resv *v)
{
	rgn_os_release(v->base, v->size);
	v->base = NULL;
	v->committed = v->size = 0;
}
