/*
 * bench/win32/sys/mman.h - anonymous private mappings for the Windows
 * build of the benchmark driver (scripts/bench --cross win64), as the
 * alloc workload asks for them: VirtualAlloc reserve and commit, released
 * whole.  On this include path only in a Windows build.
 */
#ifndef BENCH_WIN32_SYS_MMAN_H
#define BENCH_WIN32_SYS_MMAN_H

#include <stddef.h>
#include <windows.h>

#define PROT_READ     1
#define PROT_WRITE    2
#define MAP_PRIVATE   2
#define MAP_ANONYMOUS 0x20
#define MAP_FAILED    ((void *)-1)

static inline void *mmap(void *addr, size_t n, int prot, int flags, int fd, long off)
{
	void *p;

	(void)addr; (void)prot; (void)flags; (void)fd; (void)off;
	p = VirtualAlloc(NULL, n, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
	return p ? p : MAP_FAILED;
}

static inline int munmap(void *p, size_t n)
{
	(void)n;
	return VirtualFree(p, 0, MEM_RELEASE) ? 0 : -1;
}

#endif /* BENCH_WIN32_SYS_MMAN_H */
