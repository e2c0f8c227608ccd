/*
 * suites.h - the suites aggregated by main.c, and small helpers the test
 * files share (all static inline, so each file takes what it uses).
 *
 * Every test runs in a forked child (CK_FORK, libcheck's default), so a
 * test may reserve its own space with tst_init(): the space is
 * process-wide and can be reserved once per process.
 */
#ifndef RGN_TESTS_SUITES_H
#define RGN_TESTS_SUITES_H

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rgn.h"

/* TST_POSIX: tests may use what only POSIX systems have: fork, exec and
 * wait, pipes, mmap, resource limits, /proc, /dev/full.  Not on Windows,
 * where the tests that need it are compiled out (tests/meson.build lists
 * the suites left out whole). */
#ifdef _WIN32
#define TST_POSIX 0
#else
#define TST_POSIX 1
#endif

#ifdef _WIN32
#include <windows.h>
/* libcheck has no fork mode on Windows, and a test that reserves its own
 * space needs a process of its own: every test body runs in a new
 * process of the runner (isolate.c), which runs the same suites but only
 * the one test, and ends the way a forked test would.  The parent judges
 * that end as libcheck's fork mode would: an expected signal (SIGABRT:
 * exit status 3, SIGSEGV: an access violation) or exit value, else a
 * normal return. */
void tst_isolated(const TTest *t, int i, void (*body)(int));
void tst_expect(const TTest *t, int sig, int exit_value);
#undef START_TEST
#define START_TEST(name)                                                    \
	static void name##_body(int _i);                                    \
	static const TTest name##_ttest;                                    \
	static void name##_fn(int _i)                                       \
	{                                                                   \
		tst_isolated(&name##_ttest, _i, name##_body);               \
	}                                                                   \
	static const TTest name##_ttest = { "" #name, name##_fn,            \
	                                    __FILE__, __LINE__ };           \
	static const TTest *name = &name##_ttest;                           \
	static void name##_body(int _i CK_ATTRIBUTE_UNUSED)
#undef tcase_add_test
#define tcase_add_test(tc, tt) _tcase_add_test((tc), (tt), 0, 0, 0, 1)
#undef tcase_add_test_raise_signal
#define tcase_add_test_raise_signal(tc, tt, sig) \
	(tst_expect((tt), (sig), 0), _tcase_add_test((tc), (tt), 0, 0, 0, 1))
#undef tcase_add_loop_test_raise_signal
#define tcase_add_loop_test_raise_signal(tc, tt, sig, s, e) \
	(tst_expect((tt), (sig), 0), _tcase_add_test((tc), (tt), 0, 0, (s), (e)))
#undef tcase_add_exit_test
#define tcase_add_exit_test(tc, tt, value) \
	(tst_expect((tt), 0, (value)), _tcase_add_test((tc), (tt), 0, 0, 0, 1))
/* the C runtime has no setenv or unsetenv */
static inline int setenv(const char *name, const char *value, int replace)
{
	if (!replace && getenv(name))
		return 0;
	return _putenv_s(name, value) == 0 ? 0 : -1;
}
static inline int unsetenv(const char *name)
{
	return _putenv_s(name, "") == 0 ? 0 : -1;
}
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#include <sys/types.h>
/* nor pread or pwrite: the position is moved and put back */
static inline ssize_t tst_pio_(int fd, void *p, size_t n, off_t off, int wr)
{
	__int64 pos = _lseeki64(fd, 0, SEEK_CUR);
	ssize_t k;

	if (pos < 0 || _lseeki64(fd, off, SEEK_SET) < 0)
		return -1;
	k = wr ? _write(fd, p, (unsigned)n) : _read(fd, p, (unsigned)n);
	_lseeki64(fd, pos, SEEK_SET);
	return k;
}
#define pread(fd, p, n, off)  tst_pio_((fd), (p), (n), (off), 0)
#define pwrite(fd, p, n, off) tst_pio_((fd), (void *)(p), (n), (off), 1)
#endif

/* A new, empty file opened for reading and writing (binary), gone when
 * it is closed. */
static inline int tst_tmpfile_fd(void)
{
#ifdef _WIN32
	char dir[260], path[300];
	int fd;

	ck_assert(GetTempPathA(sizeof dir, dir) > 0);
	ck_assert(GetTempFileNameA(dir, "rgn", 0, path) != 0);
	fd = _open(path, _O_RDWR | _O_TRUNC | _O_BINARY | _O_TEMPORARY,
	           _S_IREAD | _S_IWRITE);
	ck_assert_int_ge(fd, 0);
	return fd;
#else
	char path[] = "/tmp/rgn-image-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	return fd;
#endif
}

#ifdef RGN_DECODE_REG
/* x28 is the decode base, and libcheck, built without -ffixed-x28, calls
 * each test with its own value there: every test keeps libcheck's value
 * and gives it back when it ends (tests load the base with rgn_init or
 * RGN_REENTER, as a program would). */
#undef START_TEST
#define START_TEST(name)                                                    \
	static void name##_body(int _i);                                    \
	static void name##_fn(int _i)                                       \
	{                                                                   \
		char *saved __attribute__((cleanup(rgn_x28_restore_))) =    \
			RGN_X28_();                                         \
		name##_body(_i);                                            \
	}                                                                   \
	static const TTest name##_ttest = { "" #name, name##_fn,            \
	                                    __FILE__, __LINE__ };           \
	static const TTest *name = &name##_ttest;                           \
	static void name##_body(int _i CK_ATTRIBUTE_UNUSED)
#endif

Suite *suite_space(void);
Suite *suite_blocks(void);
Suite *suite_region(rgn_backend backend);
Suite *suite_contig(void);
Suite *suite_ref(void);
Suite *suite_threads(void);
Suite *suite_decode(void);
Suite *suite_sys(void);
/* The sys suite's OS-free parts (test-sys-tail.c): its "tail" case, and
 * a region whose chunk is nearly full with the blocks after it held by
 * *other, so that a wrapper's result must move when it grows. */
TCase *tst_sys_tail_tcase(void);
rgn_region *tst_cramped_region(rgn_region **other);
Suite *suite_debug(void);
Suite *suite_misuse(rgn_backend backend);

/* Suites that run once per backend (test-region.c keeps the backend under
 * test): a test case whose fixture selects backend b, and a region of the
 * selected backend, a contiguous one reserving `reserve` bytes (NULL only
 * if creating it failed). */
TCase *tst_backend_tcase(const char *name, rgn_backend b);
rgn_region *tst_backend_region(rgn_region *parent, size_t reserve);
Suite *suite_report(void);
Suite *suite_check(void);
Suite *suite_heap(void);
Suite *suite_cursor(void);
Suite *suite_copy(void);
Suite *suite_overlap(void);
Suite *suite_fault(void);
Suite *suite_share(void);

/* Valgrind's memcheck, when the library tells it about regions
 * (RGN_VALGRIND: meson found <valgrind/memcheck.h>).  A test that looks
 * on purpose at what memcheck rightly reports says so:
 *   tst_vg_defined(p, n)  bytes the test reads without having written them
 *                         through this allocation, to see what the OS or
 *                         the cache left there (stale contents, or zero)
 *   tst_vg_quiet()        no reports from here on: a probe of inaccessible
 *                         memory, or a fault the test makes on purpose
 *   tst_vg_loud()         reports again
 *   tst_vg()              running under valgrind: its own limits apply (no
 *                         32 GiB space, a smaller address space, slower) */
#ifdef RGN_VALGRIND
#include <valgrind/memcheck.h>
#define tst_vg_defined(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#define tst_vg_quiet()       VALGRIND_DISABLE_ERROR_REPORTING
#define tst_vg_loud()        VALGRIND_ENABLE_ERROR_REPORTING
#define tst_vg()             (RUNNING_ON_VALGRIND != 0)
#else
#define tst_vg_defined(p, n) ((void)(p), (void)(n))
#define tst_vg_quiet()       ((void)0)
#define tst_vg_loud()        ((void)0)
#define tst_vg()             0
#endif

/* TST_ASAN: the tests are built with AddressSanitizer (gcc or clang). */
#if defined(__SANITIZE_ADDRESS__)
#define TST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TST_ASAN 1
#endif
#endif

/* TST_TSAN: built with ThreadSanitizer. */
#if defined(__SANITIZE_THREAD__)
#define TST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TST_TSAN 1
#endif
#endif

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

/* The size the last tst_init asked for (32 GiB for the default): tests
 * of contiguous regions reserve as much for each. */
static size_t tst_space_size = (size_t)32 << 30;

/* Reserve this process's space: space_size bytes (0: default), keeping
 * retain bytes of free memory resident (0: default). */
static inline void tst_init(size_t space_size, size_t retain)
{
	rgn_config cfg = { .space_size = space_size, .retain_limit = retain };

	if (space_size)
		tst_space_size = space_size;
	unsetenv("RGN_SPACE");
	unsetenv("RGN_RETAIN");
	ck_assert_msg(rgn_init(&cfg) == 0, "rgn_init(%zu, %zu): %s",
	              space_size, retain, strerror(errno));
}

static inline struct rgn_space_stats tst_space(void)
{
	struct rgn_space_stats st;

	ck_assert_int_eq(rgn_space_stats(&st), 0);
	return st;
}

/* The reference of the space's first byte: 0, except in decode mode
 * zero, where references are addresses / 8. */
static inline rgn_ref tst_ref0(void)
{
	struct rgn_space_stats st = tst_space();
	return rgn_ref_of(st.base);
}

/* The largest space the decode mode allows: zero needs it below 32 GiB
 * and away from address 0. */
#ifdef RGN_DECODE_ZERO
#define TST_SPACE_MAX ((size_t)16 << 30)
#else
#define TST_SPACE_MAX ((size_t)32 << 30)
#endif

static inline struct rgn_region_stats tst_region(rgn_region *r)
{
	struct rgn_region_stats st;

	ck_assert_int_eq(rgn_region_stats(r, &st), 0);
	return st;
}

static inline struct rgn_contig_stats tst_contig(void)
{
	struct rgn_contig_stats st;

	ck_assert_int_eq(rgn_contig_stats(&st), 0);
	return st;
}

/* Every carved block other than block 0 is used, free or cached. */
static inline void tst_space_consistent(const struct rgn_space_stats *st)
{
	ck_assert_uint_ge(st->high_water_blocks, 1);
	ck_assert_uint_eq(st->used_blocks + st->free_blocks + st->cached_blocks,
	                  st->high_water_blocks - 1);
	ck_assert_uint_le(st->retained_blocks, st->free_blocks);
	ck_assert_uint_le(st->high_water_blocks, st->size / st->block_size);
}

/* The error checks: call fails, returning what its kind of function
 * returns on failure, with errno set to err.
 *
 *   tst_fails_with(call, err)   an int (or ssize_t) call returns -1
 *   tst_null_with(call, err)    a pointer call returns NULL
 *   tst_zero_with(call, err)    a call returning a size or a block
 *                               number returns 0
 *
 * errno is cleared first, so the call itself must set it.  A failure is
 * reported at the caller's line, naming the call, the value and errno it
 * gave and those expected, e.g.
 *   rgn_merge(a, a) returned 0, errno 0 (Success); want -1, errno EINVAL (22)
 */
#define tst_fails_with(call, err)                                         \
	TST_FAILS_(call, #call, intmax_t, -1, "-1", "%jd", err, #err)
#define tst_null_with(call, err)                                          \
	TST_FAILS_(call, #call, const void *, NULL, "NULL", "%p", err, #err)
#define tst_zero_with(call, err)                                          \
	TST_FAILS_(call, #call, uintmax_t, 0, "0", "%ju", err, #err)

#define TST_FAILS_(call, call_s, type, fail, fail_s, fmt, err, err_s) do { \
		type tst_got_;                                            \
		int tst_errno_;                                           \
		errno = 0;                                                \
		tst_got_ = (call);                                        \
		tst_errno_ = errno;                                       \
		ck_assert_msg(tst_got_ == (fail) && tst_errno_ == (err),  \
		              "%s returned " fmt ", errno %d (%s); "      \
		              "want %s, errno %s (%d)", call_s, tst_got_, \
		              tst_errno_, strerror(tst_errno_), fail_s,   \
		              err_s, (err));                              \
	} while (0)

/* Deterministic xorshift64* generator. */
static inline uint64_t tst_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* A value in [lo, hi]. */
static inline size_t tst_range(uint64_t *s, size_t lo, size_t hi)
{
	return lo + (size_t)(tst_rand(s) % (uint64_t)(hi - lo + 1));
}

static inline void tst_shuffle(uint64_t *s, size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(tst_rand(s) % i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

#ifdef _WIN32
#include <windows.h>
#include <psapi.h>

/* Resident bytes of this process: its working set. */
static inline size_t tst_rss(void)
{
	PROCESS_MEMORY_COUNTERS pmc;

	ck_assert(GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc));
	return pmc.WorkingSetSize;
}

/* The number of regions of the address space in use (reserved or
 * committed, each run of pages alike in state and protection): what
 * /proc/self/maps counts on Linux. */
static inline size_t tst_maps_lines(void)
{
	MEMORY_BASIC_INFORMATION mbi;
	char *p = NULL;
	size_t n = 0;

	while (VirtualQuery(p, &mbi, sizeof mbi) == sizeof mbi) {
		if (mbi.State != MEM_FREE)
			n++;
		if ((char *)mbi.BaseAddress + mbi.RegionSize <= p)
			break;
		p = (char *)mbi.BaseAddress + mbi.RegionSize;
	}
	return n;
}
#else
/* Bytes of this process's address space (/proc/self/statm, field 1:
 * mapped) or of them resident (field 2). */
static inline size_t tst_statm(int field)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long v[2] = { 0, 0 };

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu %lu", &v[0], &v[1]), 2);
	fclose(f);
	return (size_t)v[field - 1] * (size_t)sysconf(_SC_PAGESIZE);
}

static inline size_t tst_rss(void)
{
	return tst_statm(2);
}

static inline size_t tst_mapped(void)
{
	return tst_statm(1);
}

/* Lines of /proc/self/maps: the number of mappings. */
static inline size_t tst_maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t lines = 0;
	int c;

	ck_assert_ptr_nonnull(f);
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			lines++;
	fclose(f);
	return lines;
}
#endif

/* p's address as a number the compiler cannot tie back to p.  A test
 * that asserts a realloc kept its object in place compares these: told
 * q == p, clang may use p where q is written and then size q's new bytes
 * by p's old allocation (its object-size check reports a store past it). */
static inline uintptr_t tst_addr(const void *p)
{
	volatile uintptr_t a = (uintptr_t)p;

	return a;
}

static inline void tst_fill(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(seed + i * 7);
}

static inline int tst_verify(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

#endif /* RGN_TESTS_SUITES_H */
