/*
 * posix.c - the OS contract (os.h) on Linux and other POSIX systems.
 *
 * A reservation is one PROT_NONE, MAP_NORESERVE anonymous mapping: it
 * costs address space only.  Alignment is had by over-reserving size +
 * align and unmapping the two ends, which leaves exactly one mapping.
 * Commit is mprotect to read-write; because rgn only ever commits the
 * range just above what it committed before, the kernel merges it into
 * the existing read-write mapping and the number of mappings stays
 * constant.  Decommit is madvise(MADV_DONTNEED), which frees the pages
 * without splitting the mapping; the next touch faults in a zero page.
 * Guard pages (the checking mode) are madvise too: MADV_GUARD_INSTALL
 * writes fault markers into the page tables and leaves the mapping whole.
 * Every primitive first asks rgn_os_fault (os.h) whether a test wants it
 * to fail.
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
/* Linux 6.13; older headers (Debian 12's) lack them, older kernels answer
 * EINVAL */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif

int rgn_os_info(struct rgn_os_info *info)
{
	long ps = sysconf(_SC_PAGESIZE);

	info->page_size = ps > 0 ? (size_t)ps : 4096;
	info->alloc_granularity = info->page_size;
	info->partial_release = true;
	info->decommit_zeroes = true;
	return 0;
}

int rgn_os_reserve(size_t size, size_t align, void **out)
{
	int saved = errno, err = 0;
	size_t span;
	char *p, *aligned;

	if ((err = rgn_os_fault()) != 0)
		return err;

	if (size == 0 || size + align < size)
		return EINVAL;
	span = size + align;
	p = mmap(NULL, span, PROT_NONE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		err = errno == EINVAL ? ENOMEM : errno;
		errno = saved;
		return err;
	}
	aligned = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (aligned > p)
		munmap(p, (size_t)(aligned - p));
	if (aligned + size < p + span)
		munmap(aligned + size, (size_t)(p + span - (aligned + size)));
	*out = aligned;
	errno = saved;
	return 0;
}

int rgn_os_reserve_at(void *addr, size_t size)
{
	int saved = errno, err = 0;
	char *p;

	if ((err = rgn_os_fault()) != 0)
		return err;

	if (size == 0 || (uintptr_t)addr + size < (uintptr_t)addr)
		return EINVAL;
	/* A kernel older than 4.17 takes MAP_FIXED_NOREPLACE as a mere hint
	 * and maps elsewhere: that counts as taken too. */
	p = mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	         MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED) {
		err = errno;
	} else if (p != addr) {
		munmap(p, size);
		err = EEXIST;
	}
	errno = saved;
	return err;
}

int rgn_os_commit(void *addr, size_t size)
{
	int saved = errno, err = 0;

	if ((err = rgn_os_fault()) != 0)
		return err;

	if (mprotect(addr, size, PROT_READ | PROT_WRITE) != 0)
		err = errno;
	errno = saved;
	return err;
}

int rgn_os_decommit(void *addr, size_t size)
{
	int saved = errno, err = 0;

	if ((err = rgn_os_fault()) != 0)
		return err;

	if (madvise(addr, size, MADV_DONTNEED) != 0)
		err = errno;
	errno = saved;
	return err;
}

int rgn_os_release(void *addr, size_t size)
{
	int saved = errno, err = 0;

	if ((err = rgn_os_fault()) != 0)
		return err;

	if (munmap(addr, size) != 0)
		err = errno;
	errno = saved;
	return err;
}

int rgn_os_protect_none(void *addr, size_t size)
{
	int saved = errno, err = 0;

	if ((err = rgn_os_fault()) != 0)
		return err;

	if (mprotect(addr, size, PROT_NONE) != 0)
		err = errno;
	errno = saved;
	return err;
}

int rgn_os_protect_read(void *addr, size_t size)
{
	int saved = errno, err = 0;

	if (mprotect(addr, size, PROT_READ) != 0)
		err = errno;
	errno = saved;
	return err;
}

int rgn_os_decommit_lazy(void *addr, size_t size)
{
#ifdef MADV_FREE
	int saved = errno, err = 0;

	if ((err = rgn_os_fault()) != 0)
		return err;
	if (madvise(addr, size, MADV_FREE) != 0)
		err = errno;
	errno = saved;
	if (err != EINVAL)
		return err;
	/* a kernel older than 4.5: no MADV_FREE */
#endif
	return rgn_os_decommit(addr, size);
}

int rgn_os_guard(void *addr, size_t size)
{
	int saved = errno, err = 0;

	if (madvise(addr, size, MADV_GUARD_INSTALL) != 0)
		err = errno;
	errno = saved;
	return err;
}

int rgn_os_unguard(void *addr, size_t size)
{
	int saved = errno, err = 0;

	if (madvise(addr, size, MADV_GUARD_REMOVE) != 0)
		err = errno;
	errno = saved;
	return err;
}

int rgn_os_map_file(int fd, size_t size, void **out)
{
	int saved = errno, err = 0;
	void *p;

	if ((err = rgn_os_fault()) != 0)
		return err;

	if (size == 0)
		return EINVAL;
	p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		err = errno;
	else
		*out = p;
	errno = saved;
	return err;
}
