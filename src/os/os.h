/*
 * os.h - the contract between rgn and the operating system.
 *
 * Everything rgn asks of the kernel goes through these few functions, and
 * one file per OS implements them (posix.c; a windows.c later).  No other
 * file may call mmap, munmap, mprotect, madvise or VirtualAlloc.
 *
 * Rules for every primitive:
 *   - it returns 0 on success or an errno value (never -1), and leaves the
 *     caller's errno alone;
 *   - addresses and sizes are multiples of rgn_os_info.page_size;
 *   - out-parameters are non-NULL.
 */
#ifndef RGN_OS_H
#define RGN_OS_H

#include <stdbool.h>
#include <stddef.h>

struct rgn_os_info {
	size_t page_size;        /* granularity of commit/decommit */
	size_t alloc_granularity;/* granularity of reserve (64 KiB on Windows) */
	bool   partial_release;  /* can part of a reservation be released? */
	bool   decommit_zeroes;  /* does decommitted memory read back as zero? */
};

/* Fill *info.  Cheap; may be called more than once. */
int rgn_os_info(struct rgn_os_info *info);

/* Reserve size bytes of address space aligned to align (a power of two,
 * at least the page size), inaccessible and uncommitted. */
int rgn_os_reserve(size_t size, size_t align, void **out);

/* Reserve exactly [addr, addr+size), inaccessible and uncommitted, if no
 * mapping is there yet: EEXIST if something is. */
int rgn_os_reserve_at(void *addr, size_t size);

/* Make [addr, addr+size) of a reservation readable and writable.  Pages
 * are faulted in lazily and read as zero the first time. */
int rgn_os_commit(void *addr, size_t size);

/* Give the physical pages under [addr, addr+size) back to the OS.  The
 * range stays committed and accessible; its contents are lost (zero if
 * decommit_zeroes). */
int rgn_os_decommit(void *addr, size_t size);

/* Return the range to the OS entirely (all of a reservation, or a part
 * of one when partial_release). */
int rgn_os_release(void *addr, size_t size);

/* Make [addr, addr+size) inaccessible again, keeping it reserved. */
int rgn_os_protect_none(void *addr, size_t size);

/* Make committed [addr, addr+size) read-only. */
int rgn_os_protect_read(void *addr, size_t size);

/* Like rgn_os_decommit, but lazily: the OS may take the pages when it
 * needs memory, and until then they keep their contents and cost nothing
 * to touch again (MADV_FREE).  Where there is no such advice, this is
 * rgn_os_decommit. */
int rgn_os_decommit_lazy(void *addr, size_t size);

/* Make [addr, addr+size) of a read-write mapping fault on every access
 * without changing the mapping (Linux 6.13+ guard pages: no mapping is
 * split or added); its contents are lost.  EINVAL where the OS has no
 * such advice: the caller falls back to rgn_os_protect_none. */
int rgn_os_guard(void *addr, size_t size);

/* Undo rgn_os_guard: the range reads as zero again. */
int rgn_os_unguard(void *addr, size_t size);

/* Map the first size bytes of the file open on fd, read-only and private,
 * anywhere; size a multiple of the page size or the file's length. */
int rgn_os_map_file(int fd, size_t size, void **out);

#endif /* RGN_OS_H */
