/*
 * windows.c - the OS contract (os.h) on Windows (built with mingw-w64).
 *
 * A reservation is one VirtualAlloc MEM_RESERVE allocation, PAGE_NOACCESS:
 * address space only.  Alignment beyond the 64 KiB allocation granularity
 * comes from VirtualAlloc2's address requirement (Windows 10 1803 and
 * later; mingw-w64 10 has no import for it, so it is looked up at run time
 * in kernelbase.dll, then kernel32.dll).  Without it: reserve size + align,
 * release it, and reserve size again at the aligned address inside the
 * range just freed; another thread can take that range in between, so
 * this is retried a bounded number of times.
 *
 * Commit is MEM_COMMIT read-write: it charges the pages against the
 * system's commit limit, and a refusal is ENOMEM to the caller.  Decommit
 * is MEM_DECOMMIT and a fresh MEM_COMMIT of the same range, so the range
 * stays accessible and reads as zero (decommit_zeroes); the lazy kind is
 * MEM_RESET (contents undefined, pages taken when the OS wants them).
 * VirtualFree MEM_RELEASE takes only a whole allocation, so
 * partial_release is false and release is refused (EINVAL) for anything
 * but a reservation's base; a file view is released with UnmapViewOfFile.
 * Guard pages have no equivalent without splitting the allocation's
 * regions: rgn_os_guard answers EINVAL and the checking mode uses
 * VirtualProtect.
 *
 * Every Windows error code becomes an errno value in one place
 * (win-errno.c, shared with the system-call wrappers).
 * Every primitive first asks rgn_os_fault (os.h) whether a test wants it
 * to fail.
 */
#include "os.h"
#include "win-errno.h"

#include <errno.h>
#include <io.h>
#include <stdatomic.h>
#include <windows.h>

/* ---- the system's figures and VirtualAlloc2 ------------------------------------ */

typedef PVOID(WINAPI *virtual_alloc2_fn)(HANDLE, PVOID, SIZE_T, ULONG, ULONG,
                                         MEM_EXTENDED_PARAMETER *, ULONG);

static SYSTEM_INFO sysinfo;
static virtual_alloc2_fn va2;
static atomic_int looked_up; /* 0: not yet; 1: in progress; 2: done */

/* Once: the page size and granularity, and VirtualAlloc2 if there is one.
 * A second thread arriving meanwhile waits (the look-up is short). */
static void look_up(void)
{
	int expect = 0;
	HMODULE m;

	if (atomic_load_explicit(&looked_up, memory_order_acquire) == 2)
		return;
	if (!atomic_compare_exchange_strong(&looked_up, &expect, 1)) {
		while (atomic_load_explicit(&looked_up, memory_order_acquire) != 2)
			SwitchToThread();
		return;
	}
	GetSystemInfo(&sysinfo);
	m = GetModuleHandleW(L"kernelbase.dll");
	if (m)
		va2 = (virtual_alloc2_fn)(void (*)(void))GetProcAddress(m, "VirtualAlloc2");
	if (!va2 && (m = GetModuleHandleW(L"kernel32.dll")) != NULL)
		va2 = (virtual_alloc2_fn)(void (*)(void))GetProcAddress(m, "VirtualAlloc2");
	atomic_store_explicit(&looked_up, 2, memory_order_release);
}

int rgn_os_info(struct rgn_os_info *info)
{
	look_up();
	info->page_size = sysinfo.dwPageSize ? sysinfo.dwPageSize : 4096;
	info->alloc_granularity = sysinfo.dwAllocationGranularity
	                          ? sysinfo.dwAllocationGranularity : 65536;
	info->partial_release = false;
	info->decommit_zeroes = true;
	return 0;
}

/* ---- reservations ---------------------------------------------------------------- */

/* Tries of the fallback before it gives up: each failure means another
 * thread took the freed range in the few instructions between. */
#define RESERVE_TRIES 16

static char *reserve_aligned_va2(size_t size, size_t align)
{
	MEM_ADDRESS_REQUIREMENTS req = { 0 };
	MEM_EXTENDED_PARAMETER param = { 0 };

	req.Alignment = align;
	param.Type = MemExtendedParameterAddressRequirements;
	param.Pointer = &req;
	return va2(GetCurrentProcess(), NULL, size, MEM_RESERVE, PAGE_NOACCESS,
	           &param, 1);
}

int rgn_os_reserve(size_t size, size_t align, void **out)
{
	size_t gran;
	char *p;
	int err;

	if ((err = rgn_os_fault()) != 0)
		return err;
	if (size == 0 || size + align < size || (align & (align - 1)) != 0)
		return EINVAL;
	look_up();
	gran = sysinfo.dwAllocationGranularity ? sysinfo.dwAllocationGranularity : 65536;
	if (align <= gran) {
		/* every allocation starts on the granularity */
		p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_NOACCESS);
		if (!p)
			return rgn_os_win_last_errno();
		*out = p;
		return 0;
	}
	if (va2) {
		p = reserve_aligned_va2(size, align);
		if (p && ((uintptr_t)p & (align - 1)) == 0) {
			*out = p;
			return 0;
		}
		if (p) /* an implementation that ignored the requirement */
			VirtualFree(p, 0, MEM_RELEASE);
		else if (rgn_os_win_errno(GetLastError()) == ENOMEM)
			return ENOMEM;
		/* else (ERROR_INVALID_PARAMETER, say): the fallback */
	}
	for (int i = 0; i < RESERVE_TRIES; i++) {
		char *at;

		p = VirtualAlloc(NULL, size + align, MEM_RESERVE, PAGE_NOACCESS);
		if (!p)
			return rgn_os_win_last_errno();
		at = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
		VirtualFree(p, 0, MEM_RELEASE);
		p = VirtualAlloc(at, size, MEM_RESERVE, PAGE_NOACCESS);
		if (p == at) {
			*out = p;
			return 0;
		}
		if (p)
			VirtualFree(p, 0, MEM_RELEASE);
	}
	return ENOMEM;
}

int rgn_os_reserve_at(void *addr, size_t size)
{
	char *p;
	int err;

	if ((err = rgn_os_fault()) != 0)
		return err;
	look_up();
	if (size == 0 || (uintptr_t)addr + size < (uintptr_t)addr ||
	    (uintptr_t)addr % sysinfo.dwAllocationGranularity != 0)
		return EINVAL;
	p = VirtualAlloc(addr, size, MEM_RESERVE, PAGE_NOACCESS);
	if (!p)
		return GetLastError() == ERROR_INVALID_ADDRESS ? EEXIST : rgn_os_win_last_errno();
	if (p != addr) {
		VirtualFree(p, 0, MEM_RELEASE);
		return EEXIST;
	}
	return 0;
}

int rgn_os_commit(void *addr, size_t size)
{
	DWORD old;
	int err;

	if ((err = rgn_os_fault()) != 0)
		return err;
	/* committing committed pages keeps their protection on some versions:
	 * make it read-write either way (the checking mode commits runs it
	 * made inaccessible) */
	if (!VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE) ||
	    !VirtualProtect(addr, size, PAGE_READWRITE, &old))
		return rgn_os_win_last_errno();
	return 0;
}

int rgn_os_decommit(void *addr, size_t size)
{
	int err;

	if ((err = rgn_os_fault()) != 0)
		return err;
	if (!VirtualFree(addr, size, MEM_DECOMMIT))
		return rgn_os_win_last_errno();
	/* the charge was given back a moment ago: taking it again fails only
	 * if another process took it meanwhile, and then the range is left
	 * inaccessible (ENOMEM) */
	if (!VirtualAlloc(addr, size, MEM_COMMIT, PAGE_READWRITE))
		return rgn_os_win_last_errno();
	return 0;
}

int rgn_os_decommit_lazy(void *addr, size_t size)
{
	int err;

	if ((err = rgn_os_fault()) != 0)
		return err;
	/* the protection argument is ignored for MEM_RESET */
	if (!VirtualAlloc(addr, size, MEM_RESET, PAGE_NOACCESS))
		return rgn_os_win_last_errno();
	return 0;
}

int rgn_os_release(void *addr, size_t size)
{
	MEMORY_BASIC_INFORMATION mbi;
	int err;

	(void)size;
	if ((err = rgn_os_fault()) != 0)
		return err;
	if (VirtualQuery(addr, &mbi, sizeof mbi) == 0)
		return rgn_os_win_last_errno();
	/* only a whole allocation goes back (partial_release is false) */
	if (mbi.AllocationBase != addr)
		return EINVAL;
	if (mbi.Type == MEM_MAPPED)
		return UnmapViewOfFile(addr) ? 0 : rgn_os_win_last_errno();
	return VirtualFree(addr, 0, MEM_RELEASE) ? 0 : rgn_os_win_last_errno();
}

int rgn_os_protect_none(void *addr, size_t size)
{
	DWORD old;
	int err;

	if ((err = rgn_os_fault()) != 0)
		return err;
	return VirtualProtect(addr, size, PAGE_NOACCESS, &old) ? 0 : rgn_os_win_last_errno();
}

int rgn_os_protect_read(void *addr, size_t size)
{
	DWORD old;

	return VirtualProtect(addr, size, PAGE_READONLY, &old) ? 0 : rgn_os_win_last_errno();
}

int rgn_os_guard(void *addr, size_t size)
{
	(void)addr;
	(void)size;
	return EINVAL;
}

int rgn_os_unguard(void *addr, size_t size)
{
	(void)addr;
	(void)size;
	return EINVAL;
}

/* A read-only view of the file's first size bytes.  The mapping object
 * can be closed at once: the view keeps the section alive. */
int rgn_os_map_file(int fd, size_t size, void **out)
{
	HANDLE f, m;
	void *p;
	int err;

	if ((err = rgn_os_fault()) != 0)
		return err;
	if (size == 0)
		return EINVAL;
	f = (HANDLE)_get_osfhandle(fd);
	if (f == INVALID_HANDLE_VALUE)
		return EBADF;
	m = CreateFileMappingW(f, NULL, PAGE_READONLY, 0, 0, NULL);
	if (!m)
		return rgn_os_win_last_errno();
	p = MapViewOfFile(m, FILE_MAP_READ, 0, 0, size);
	err = p ? 0 : rgn_os_win_last_errno();
	CloseHandle(m);
	if (!err)
		*out = p;
	return err;
}

/* ---- files ---------------------------------------------------------------------------- *
 * Through the descriptor's handle, below the C runtime: no text-mode
 * translation, whatever mode the descriptor was opened in. */

static HANDLE handle_of(int fd)
{
	return fd < 0 ? INVALID_HANDLE_VALUE : (HANDLE)_get_osfhandle(fd);
}

int rgn_os_write_all(int fd, struct rgn_os_buf *b, int n)
{
	HANDLE h = handle_of(fd);

	if (h == INVALID_HANDLE_VALUE)
		return EBADF;
	for (int i = 0; i < n; i++) {
		const char *p = b[i].p;
		size_t left = b[i].n;

		while (left > 0) {
			DWORD want = left > (1u << 30) ? 1u << 30 : (DWORD)left, put = 0;

			if (!WriteFile(h, p, want, &put, NULL))
				return rgn_os_win_last_errno();
			if (put == 0)
				return EIO;
			p += put;
			left -= put;
		}
	}
	return 0;
}

/* ReadFile at an offset moves a synchronous handle's position: it is put
 * back, as pread leaves it (not atomic against another thread using the
 * same descriptor's position meanwhile). */
int rgn_os_write_at(int fd, const void *p, size_t n, uint64_t off)
{
	HANDLE h = handle_of(fd);
	LARGE_INTEGER zero = { 0 }, pos;
	const char *c = p;
	int err = 0;

	if (h == INVALID_HANDLE_VALUE)
		return EBADF;
	if (!SetFilePointerEx(h, zero, &pos, FILE_CURRENT))
		return rgn_os_win_last_errno();
	while (n > 0 && !err) {
		OVERLAPPED ov = { 0 };
		DWORD want = n > (1u << 30) ? 1u << 30 : (DWORD)n, k = 0;

		ov.Offset = (DWORD)off;
		ov.OffsetHigh = (DWORD)(off >> 32);
		if (!WriteFile(h, c, want, &k, &ov))
			err = rgn_os_win_last_errno();
		c += k;
		n -= k;
		off += k;
	}
	SetFilePointerEx(h, pos, NULL, FILE_BEGIN);
	return err;
}

/* A CRT descriptor's append mode is the CRT's alone (WriteFile at an
 * offset would not honour it), so the caller writes in order. */
int rgn_os_file_offset(int fd, uint64_t *off)
{
	(void)fd;
	(void)off;
	return ENOTSUP;
}

int rgn_os_file_seek(int fd, uint64_t off)
{
	return _lseeki64(fd, (__int64)off, SEEK_SET) < 0 ? errno : 0;
}

int rgn_os_pread(int fd, void *p, size_t n, uint64_t off, size_t *got)
{
	HANDLE h = handle_of(fd);
	OVERLAPPED ov = { 0 };
	LARGE_INTEGER zero = { 0 }, pos;
	DWORD want = n > (1u << 30) ? 1u << 30 : (DWORD)n, k = 0;
	int err = 0;

	if (h == INVALID_HANDLE_VALUE)
		return EBADF;
	if (!SetFilePointerEx(h, zero, &pos, FILE_CURRENT))
		return rgn_os_win_last_errno();
	ov.Offset = (DWORD)off;
	ov.OffsetHigh = (DWORD)(off >> 32);
	if (!ReadFile(h, p, want, &k, &ov)) {
		DWORD e = GetLastError();
		if (e != ERROR_HANDLE_EOF)
			err = rgn_os_win_errno(e) ? rgn_os_win_errno(e) : EIO;
		k = 0;
	}
	SetFilePointerEx(h, pos, NULL, FILE_BEGIN);
	if (!err)
		*got = k;
	return err;
}

int rgn_os_file_size(int fd, uint64_t *size)
{
	HANDLE h = handle_of(fd);
	BY_HANDLE_FILE_INFORMATION fi;

	if (h == INVALID_HANDLE_VALUE)
		return EBADF;
	if (GetFileType(h) != FILE_TYPE_DISK)
		return EINVAL;
	if (!GetFileInformationByHandle(h, &fi))
		return rgn_os_win_last_errno();
	if (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
		return EINVAL;
	*size = ((uint64_t)fi.nFileSizeHigh << 32) | fi.nFileSizeLow;
	return 0;
}

/* A file with a mapped view cannot be truncated below it (SetEndOfFile
 * fails with ERROR_USER_MAPPED_FILE): mapping is always safe. */
bool rgn_os_file_fixed(int fd)
{
	(void)fd;
	return true;
}

/* ---- the checking mode's report ---------------------------------------------- */

__attribute__((noinline)) int rgn_os_backtrace(void **frames, int max)
{
	return max > 0 ? RtlCaptureStackBackTrace(1, (DWORD)max, frames, NULL) : 0;
}

void rgn_os_write_err(const char *s, size_t n)
{
	HANDLE h = GetStdHandle(STD_ERROR_HANDLE);
	DWORD put;

	while (n > 0 && h && h != INVALID_HANDLE_VALUE &&
	       WriteFile(h, s, n > 65536 ? 65536 : (DWORD)n, &put, NULL) && put > 0) {
		s += put;
		n -= put;
	}
}

/* One address a line, as hexadecimal (no symbolizer in a fault handler). */
void rgn_os_print_frames(void *const *frames, int n)
{
	for (int i = 0; i < n; i++) {
		char line[2 + 2 * sizeof(uintptr_t) + 4] = "  0x";
		uintptr_t v = (uintptr_t)frames[i];
		int k = 4;

		for (int s = (int)(8 * sizeof v) - 4; s >= 0; s -= 4)
			line[k++] = "0123456789abcdef"[(v >> s) & 15];
		line[k++] = '\n';
		rgn_os_write_err(line, (size_t)k);
	}
}

static bool (*fault_report)(const void *addr);

/* First in line for every exception: an access violation that report()
 * recognises is reported, then searched on as if this handler were not
 * there (the next handler, or the end of the process). */
static LONG WINAPI on_exception(EXCEPTION_POINTERS *ep)
{
	const EXCEPTION_RECORD *r = ep->ExceptionRecord;

	if (r->ExceptionCode == EXCEPTION_ACCESS_VIOLATION && r->NumberParameters >= 2)
		(void)fault_report((const void *)r->ExceptionInformation[1]);
	return EXCEPTION_CONTINUE_SEARCH;
}

void rgn_os_catch_faults(bool (*report)(const void *addr))
{
	fault_report = report;
	AddVectoredExceptionHandler(1, on_exception);
}
