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
 * to fail.  The images' file reads and writes, and the checking mode's
 * fault handler (SIGSEGV, SIGBUS) and backtraces, are here too.
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
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

/* ---- files ------------------------------------------------------------------ */

int rgn_os_write_all(int fd, struct rgn_os_buf *b, int n)
{
	struct iovec iov[16];
	int saved = errno, err = 0;

	while (n > 0 && !err) {
		int k = n < 16 ? n : 16, i;
		ssize_t w;

		for (i = 0; i < k; i++) {
			iov[i].iov_base = (void *)b[i].p;
			iov[i].iov_len = b[i].n;
		}
		w = writev(fd, iov, k);
		if (w < 0) {
			if (errno != EINTR)
				err = errno;
			continue;
		}
		while (n > 0 && (size_t)w >= b->n) {
			w -= (ssize_t)b->n;
			b++;
			n--;
		}
		if (n > 0) {
			b->p = (const char *)b->p + w;
			b->n -= (size_t)w;
		}
	}
	errno = saved;
	return err;
}

int rgn_os_pread(int fd, void *p, size_t n, uint64_t off, size_t *got)
{
	int saved = errno, err = 0;
	ssize_t k;

	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	while ((k = pread(fd, p, n, (off_t)off)) < 0 && errno == EINTR)
		;
	if (k < 0)
		err = errno;
	else
		*got = (size_t)k;
	errno = saved;
	return err;
}

int rgn_os_write_at(int fd, const void *p, size_t n, uint64_t off)
{
	int saved = errno, err = 0;
	const char *c = p;

	while (n > 0 && !err) {
		ssize_t k = pwrite(fd, c, n > SSIZE_MAX ? SSIZE_MAX : n, (off_t)off);

		if (k < 0) {
			if (errno != EINTR)
				err = errno;
			continue;
		}
		c += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	errno = saved;
	return err;
}

int rgn_os_file_offset(int fd, uint64_t *off)
{
	int saved = errno, err = 0, fl;
	struct stat st;
	off_t at;

	if (fstat(fd, &st) != 0 || (fl = fcntl(fd, F_GETFL)) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = ESPIPE;
	else if (fl & O_APPEND)
		err = EINVAL;
	else if ((at = lseek(fd, 0, SEEK_CUR)) < 0)
		err = errno;
	else
		*off = (uint64_t)at;
	errno = saved;
	return err;
}

int rgn_os_file_seek(int fd, uint64_t off)
{
	int saved = errno, err = 0;

	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		err = errno;
	errno = saved;
	return err;
}

int rgn_os_file_size(int fd, uint64_t *size)
{
	int saved = errno, err = 0;
	struct stat st;

	if (fstat(fd, &st) != 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	else
		*size = (uint64_t)st.st_size;
	errno = saved;
	return err;
}

bool rgn_os_file_fixed(int fd)
{
#ifdef F_GET_SEALS
	int saved = errno, seals = fcntl(fd, F_GET_SEALS);

	errno = saved;
	return seals >= 0 && (seals & F_SEAL_SHRINK);
#else
	(void)fd;
	return false;
#endif
}

/* ---- the checking mode's report --------------------------------------------- */

int rgn_os_backtrace(void **frames, int max)
{
	return backtrace(frames, max);
}

void rgn_os_write_err(const char *s, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(STDERR_FILENO, s + done, n - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
}

void rgn_os_print_frames(void *const *frames, int n)
{
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

static struct sigaction old_segv, old_bus;
static bool (*fault_report)(const void *addr);

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;

	/* si_code > 0: a fault of the access, not a signal someone sent */
	if (si->si_code > 0 && fault_report(si->si_addr)) {
		/* the access faults again, under the old handler */
		sigaction(sig, old, NULL);
		return;
	}
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uc);
	} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
	} else {
		sigaction(sig, old, NULL);
		if (si->si_code <= 0)
			raise(sig); /* sent, not a fault: it would not recur */
	}
}

void rgn_os_catch_faults(bool (*report)(const void *addr))
{
	struct sigaction sa;
	void *f[2];

	fault_report = report;
	backtrace(f, 2); /* the unwinder's first call allocates: not in a handler */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
}
