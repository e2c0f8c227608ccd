/*
 * os.h - the contract between rgn and the operating system.
 *
 * Everything rgn asks of the kernel goes through these few functions, and
 * one file per OS implements them (posix.c, windows.c; meson picks one).
 * No other file may call mmap, munmap, mprotect, madvise, VirtualAlloc or
 * anything else of the OS's own: what else the core needs of the OS
 * (threads, thread-local storage, fork) is in port.h.
 *
 * Rules for every primitive:
 *   - it returns 0 on success or an errno value (never -1), and leaves the
 *     caller's errno alone;
 *   - addresses and sizes are multiples of rgn_os_info.page_size;
 *   - out-parameters are non-NULL.
 */
#ifndef RGN_OS_H
#define RGN_OS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* ---- files: the images' reads and writes ----------------------------------
 * Not counted by fault injection (they are not address space).  Each
 * returns 0 or an errno value and leaves errno alone; short transfers and
 * EINTR are retried inside. */
struct rgn_os_buf {
	const void *p;
	size_t      n;
};

/* Write the n buffers, in order, to fd at its file position. */
int rgn_os_write_all(int fd, struct rgn_os_buf *b, int n);

/* Read at most n bytes at offset off of the file on fd into p, without
 * moving its position; *got is what was read (0 only at the end). */
int rgn_os_pread(int fd, void *p, size_t n, uint64_t off, size_t *got);

/* Write all n bytes of p at offset off of the file on fd, without moving
 * its position. */
int rgn_os_write_at(int fd, const void *p, size_t n, uint64_t off);

/* The position of fd if writes go where it says and rgn_os_write_at can
 * go back before it: a regular file, not opened for appending.  ESPIPE
 * for a pipe, a socket or a terminal, EINVAL for appending; ENOTSUP
 * where that cannot be told (Windows: a CRT descriptor's append mode). */
int rgn_os_file_offset(int fd, uint64_t *off);

/* Move fd's position to off. */
int rgn_os_file_seek(int fd, uint64_t off);

/* The length of the regular file open on fd: EINVAL for any other kind. */
int rgn_os_file_size(int fd, uint64_t *size);

/* Can the file on fd be mapped without another holder of it being able to
 * shrink it under the mapping (which would make an access inside the
 * checked size fault)?  Linux: a memfd sealed against shrinking.
 * Windows: always, a file with a mapped view cannot be cut short. */
bool rgn_os_file_fixed(int fd);

/* ---- the checking mode's report (quarantine.c) -------------------------- */

/* Up to max return addresses of the caller's stack into frames (the
 * caller's own first): how many. */
int rgn_os_backtrace(void **frames, int max);

/* Write n bytes to standard error, and the frames one a line; both
 * usable inside a fault handler (no allocation, no lock). */
void rgn_os_write_err(const char *s, size_t n);
void rgn_os_print_frames(void *const *frames, int n);

/* From now on, an access fault calls report(address) first: when it
 * returns true (it reported the fault), the fault is raised again under
 * whatever handled faults before, so the process dies of it as it would
 * have; else it goes to that handler at once.  Called once. */
void rgn_os_catch_faults(bool (*report)(const void *addr));

/* ---- fault injection (tests) ----------------------------------------------
 * While armed, every memory primitive above (rgn_os_reserve through
 * rgn_os_map_file; not rgn_os_info, the files' reads and writes or the
 * checking mode's report) is counted, and the
 * fail_at-th one (1 for the first after arming; 0: none, count only;
 * negative: every one from the -fail_at-th on) fails with ENOMEM without
 * reaching the OS.  The tests arm it to sweep a
 * workload's system calls one failure at a time (tests/test-fault.c).
 * Disarmed, each primitive pays one relaxed load and a branch that is
 * never taken, next to a system call costing 100 ns or more; the library
 * has no other test-only code path.  Nothing here is exported.  Arming
 * and the counts are process-wide; a sweep is single-threaded. */
struct rgn_os_faults {
	atomic_int  armed;    /* 0: off (the only value outside tests) */
	atomic_long calls;    /* primitives called since armed */
	atomic_long fail_at;  /* the call that fails; 0: none; -n: n on */
	atomic_long failed;   /* calls made to fail since armed */
};
extern struct rgn_os_faults rgn_os_faults_g;

/* Arm: reset the counts, and make call fail_at fail (0: only count;
 * -n: call n and every one after it). */
void rgn_os_fault_arm(long fail_at);
/* Disarm; the counts stay readable in rgn_os_faults_g. */
void rgn_os_fault_disarm(void);
/* The armed path of rgn_os_fault: count, and decide. */
int rgn_os_fault_hit(void);

/* ENOMEM if this call is to fail, else 0.  First thing every primitive
 * does (rgn_os_info excepted). */
static inline int rgn_os_fault(void)
{
	if (__builtin_expect(atomic_load_explicit(&rgn_os_faults_g.armed,
	                                          memory_order_relaxed), 0))
		return rgn_os_fault_hit();
	return 0;
}

#endif /* RGN_OS_H */
