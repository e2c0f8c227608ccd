/*
 * bench/win32/sys/resource.h - getrusage for the Windows build of the
 * benchmark driver (scripts/bench --cross win64): only what the harness
 * reads.  Times from GetProcessTimes; ru_maxrss (KiB) is the peak working
 * set; ru_minflt is every page fault Windows counts (it does not tell
 * soft from hard ones, so ru_majflt is 0).  On this include path only in
 * a Windows build.
 */
#ifndef BENCH_WIN32_SYS_RESOURCE_H
#define BENCH_WIN32_SYS_RESOURCE_H

#include <sys/time.h>
#include <windows.h>
#include <psapi.h>

#define RUSAGE_SELF 0

struct rusage {
	struct timeval ru_utime, ru_stime;
	long ru_maxrss, ru_minflt, ru_majflt;
};

static inline void bench_win32_tv(struct timeval *tv, FILETIME ft)
{
	unsigned long long t = ((unsigned long long)ft.dwHighDateTime << 32) |
	                       ft.dwLowDateTime; /* 100 ns units */

	tv->tv_sec = (long)(t / 10000000);
	tv->tv_usec = (long)(t % 10000000 / 10);
}

static inline int getrusage(int who, struct rusage *ru)
{
	PROCESS_MEMORY_COUNTERS pmc;
	FILETIME c, e, k, u;

	if (who != RUSAGE_SELF ||
	    !GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u) ||
	    !GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
		return -1;
	bench_win32_tv(&ru->ru_utime, u);
	bench_win32_tv(&ru->ru_stime, k);
	ru->ru_maxrss = (long)(pmc.PeakWorkingSetSize / 1024);
	ru->ru_minflt = (long)pmc.PageFaultCount;
	ru->ru_majflt = 0;
	return 0;
}

#endif /* BENCH_WIN32_SYS_RESOURCE_H */
