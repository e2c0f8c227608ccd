/*
 * test-check.c - the run-time checking mode (RGN_CHECK): a use after a
 * region gave its blocks back faults at the access, with a report naming
 * the region; the quarantine is bounded in blocks and in mappings.
 *
 * A use-after test runs its body in a child of its own (the space is set
 * up there, with RGN_CHECK in its environment), whose stderr comes back
 * through a pipe: the child writes the handle it gives back as
 * "handle 0x...", then makes the access, and must die of SIGSEGV with
 * the report.
 *
 * The use-after tests are left out under AddressSanitizer, which reports
 * the access first (the block layer poisons what it takes back), and
 * under user-mode emulation (TST_EMULATED), which takes madvise advice
 * it does not know as a no-op and has a /proc/self/maps of its own, and
 * on Windows (no fork; there the report comes from a vectored exception
 * handler, and the mode falls back to VirtualProtect: no guard pages).
 */
#define _GNU_SOURCE
#include "suites.h"

#if !defined(TST_ASAN) && !defined(TST_EMULATED) && TST_POSIX
#define TST_FAULTS 1
#endif

#include <signal.h>
#ifdef TST_FAULTS
#include <sys/wait.h>
#endif

#ifdef TST_FAULTS
/* ---- a child with its stderr captured --------------------------------------- */

struct child {
	int  status;
	char err[8192];
};

static void say_handle(const rgn_region *r)
{
	fprintf(stderr, "handle %p\n", (const void *)r);
	fflush(stderr);
}

static void run_child(void (*body)(void), const char *check, struct child *c)
{
	int fd[2];
	pid_t pid;
	size_t n = 0;
	ssize_t got;

	ck_assert_int_eq(pipe(fd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fd[1], STDERR_FILENO);
		close(fd[0]);
		close(fd[1]);
		unsetenv("RGN_SPACE");
		setenv("RGN_CHECK", check, 1);
		tst_vg_quiet(); /* the child misuses memory on purpose */
		body();
		_exit(0); /* survived the access: the parent fails the test */
	}
	close(fd[1]);
	while (n < sizeof c->err - 1 &&
	       (got = read(fd[0], c->err + n, sizeof c->err - 1 - n)) > 0)
		n += (size_t)got;
	c->err[n] = '\0';
	close(fd[0]);
	ck_assert_int_eq(waitpid(pid, &c->status, 0), pid);
}

/* The child died of SIGSEGV, reporting an access at or after the
 * address it printed as "access", in the region it printed as "handle",
 * given back for reason why. */
static void expect_report(const struct child *c, const char *why)
{
	const char *h = strstr(c->err, "handle ");
	char want[128];

	ck_assert_msg(WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGSEGV,
	              "child status %#x, stderr:\n%s", c->status, c->err);
	ck_assert_msg(h != NULL, "no handle printed:\n%s", c->err);
	snprintf(want, sizeof want, "use after release of region %.*s (%s)",
	         (int)strcspn(h + 7, "\n"), h + 7, why);
	ck_assert_msg(strstr(c->err, want) != NULL, "want \"%s\" in:\n%s", want, c->err);
	ck_assert_msg(strstr(c->err, "given back at:") != NULL, "no backtrace:\n%s", c->err);
}

static void touch(void *p)
{
	volatile char *v = p;

	__asm__ volatile("" : "+r"(v)); /* an address the compiler cannot see */
	*v = 1;
}

/* ---- use after -------------------------------------------------------------- */

static void body_destroy_small(void)
{
	rgn_region *r = rgn_new(NULL);
	char *p = rgn_alloc(r, 100);

	memset(p, 1, 100);
	say_handle(r);
	rgn_destroy(r);
	touch(p + 50);
}

START_TEST(test_check_use_after_destroy)
{
	struct child c;

	run_child(body_destroy_small, "1", &c);
	expect_report(&c, "destroyed");
}
END_TEST

/* Objects in several chunks and a large span; the access is in the
 * large span, and again (another child) in the first block. */
static void body_destroy_large(void)
{
	rgn_region *r = rgn_new(NULL);
	char *big;

	for (int i = 0; i < 100; i++)
		memset(rgn_alloc(r, 1000), 2, 1000);
	big = rgn_alloc(r, 300 * 1024);
	memset(big, 3, 300 * 1024);
	say_handle(r);
	rgn_destroy(r);
	touch(big + 200 * 1024);
}

START_TEST(test_check_use_after_destroy_large)
{
	struct child c;

	run_child(body_destroy_large, "1", &c);
	expect_report(&c, "destroyed");
}
END_TEST

/* A child destroyed with its parent is named itself. */
static void body_destroy_child(void)
{
	rgn_region *root = rgn_new(NULL);
	rgn_region *kid = rgn_new(root);
	char *p = rgn_alloc(kid, 10000);

	memset(p, 4, 10000);
	say_handle(kid);
	rgn_destroy(root);
	touch(p + 9000);
}

START_TEST(test_check_use_after_parent_destroy)
{
	struct child c;

	run_child(body_destroy_child, "1", &c);
	expect_report(&c, "destroyed");
}
END_TEST

static void body_reset(void)
{
	rgn_region *r = rgn_new(NULL);
	char *p = NULL;

	for (int i = 0; i < 40; i++)
		memset(p = rgn_alloc(r, 2000), 5, 2000);
	say_handle(r);
	rgn_reset(r);
	touch(p);
}

START_TEST(test_check_use_after_reset)
{
	struct child c;

	run_child(body_reset, "1", &c);
	expect_report(&c, "reset");
}
END_TEST

static void body_rewind(void)
{
	rgn_region *r = rgn_new(NULL);
	rgn_mark m;
	char *p = NULL;

	memset(rgn_alloc(r, 3000), 6, 3000);
	m = rgn_save(r);
	for (int i = 0; i < 20; i++)
		memset(p = rgn_alloc(r, 4000), 7, 4000);
	say_handle(r);
	if (rgn_rewind(r, m) != 0)
		_exit(3);
	touch(p + 100);
}

START_TEST(test_check_use_after_rewind)
{
	struct child c;

	run_child(body_rewind, "1", &c);
	expect_report(&c, "rewound");
}
END_TEST

static void body_tail(void)
{
	rgn_region *r = rgn_new(NULL);
	size_t avail;
	char *t = rgn_tail(r, 64 * 1024, &avail);

	memset(t, 8, avail);
	say_handle(r);
	if (rgn_tail_commit(r, 100) != 0)
		_exit(3);
	touch(t + 60 * 1024);
}

START_TEST(test_check_use_after_tail_commit)
{
	struct child c;

	run_child(body_tail, "1", &c);
	expect_report(&c, "tail trimmed");
}
END_TEST

START_TEST(test_check_use_after_destroy_mprotect)
{
	struct child c;

	run_child(body_destroy_large, "16M,mprotect", &c);
	expect_report(&c, "destroyed");
}
END_TEST

/* A fault elsewhere goes to the previous handler (here the default):
 * the process dies of it, with no report. */
static void body_other_fault(void)
{
	rgn_region *r = rgn_new(NULL);

	rgn_destroy(r); /* the mode is set up */
	touch((void *)(uintptr_t)16);
}

START_TEST(test_check_other_fault_chained)
{
	struct child c;

	run_child(body_other_fault, "1", &c);
	ck_assert_msg(WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGSEGV,
	              "status %#x", c.status);
	ck_assert_msg(strstr(c.err, "use after release") == NULL, "%s", c.err);
}
END_TEST

/* Without the mode, a destroyed region's block is reused at once. */
static void body_off(void)
{
	rgn_region *r = rgn_new(NULL);
	char *p = rgn_alloc(r, 100);

	rgn_destroy(r);
	touch(p);
	_exit(7);
}

START_TEST(test_check_off_by_default)
{
	struct child c;

	run_child(body_off, "0", &c);
	ck_assert_msg(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 7,
	              "status %#x: %s", c.status, c.err);
}
END_TEST

#endif /* TST_FAULTS */

/* ---- bounds ------------------------------------------------------------------- */

static void init_check(size_t space, size_t check)
{
	rgn_config cfg = { .space_size = space, .check = check };

	unsetenv("RGN_SPACE");
	unsetenv("RGN_RETAIN");
	ck_assert_msg(rgn_init(&cfg) == 0, "rgn_init: %s", strerror(errno));
}

/* Churn many times the bound: blocks leave the quarantine and are
 * reused, so the space's high water stays near the bound, and guard
 * pages add no mapping. */
static void churn(int cycles)
{
	for (int i = 0; i < cycles; i++) {
		rgn_region *r = rgn_new(NULL);
		memset(rgn_alloc(r, 3000), 1, 3000);
		memset(rgn_alloc(r, 9000), 2, 9000);
		rgn_destroy(r);
	}
}

START_TEST(test_check_quarantine_bounded)
{
	const size_t bound = 1 * MiB, blocks = bound / RGN_BLOCK_SIZE;
	struct rgn_space_stats st;
	size_t maps0, high;

	init_check(64 * MiB, bound);
	churn(1); /* the unwinder is loaded (its library maps) */
	maps0 = tst_maps_lines();
	churn(10000);
	high = tst_space().high_water_blocks;
	churn(20000);
	st = tst_space();
	tst_space_consistent(&st);
	/* 30000 regions of 4 blocks went through a 256-block quarantine:
	 * the blocks were reused, the high water did not move after the
	 * first third, and stays within twice the bound (free fragments) */
#if TST_POSIX
	ck_assert_uint_eq(st.high_water_blocks, high);
#else
	/* without guard pages (Windows) runs come back from the quarantine
	 * dirty and merge otherwise: the frontier may move a few blocks more */
	ck_assert_uint_le(st.high_water_blocks, high + 16);
#endif
	ck_assert_uint_le(st.high_water_blocks, 2 * blocks);
	ck_assert_uint_ge(st.cached_blocks, blocks / 2);
	ck_assert_uint_le(st.cached_blocks, blocks + 64);
	ck_assert_uint_eq(st.live_regions, 0);
#if TST_POSIX
	/* guard pages: not one mapping more */
	ck_assert_uint_le(tst_maps_lines(), maps0 + 2);
#else
	/* VirtualProtect: at most two more regions per record (1024 of them
	 * when the mode protects rather than guards) */
	ck_assert_uint_le(tst_maps_lines(), maps0 + 2 * 1024 + 2);
#endif
}
END_TEST

#ifdef TST_FAULTS
/* mprotect: scattered runs (a live region between two dead ones), many
 * more than the record bound; the mapping count stays bounded. */
START_TEST(test_check_mprotect_maps_bounded)
{
	rgn_region *keep[64] = { 0 };
	size_t maps0, maps1, peak = 0;

	setenv("RGN_CHECK", "16M,mprotect", 1);
	init_check(256 * MiB, 0);
	rgn_destroy(rgn_new(NULL)); /* the unwinder is loaded (its library maps) */
	maps0 = tst_maps_lines();
	for (int i = 0; i < 20000; i++) {
		rgn_region *dead = rgn_new(NULL);
		memset(rgn_alloc(dead, 100), 1, 100);
		rgn_destroy(keep[i % 64]);
		keep[i % 64] = rgn_new(NULL);
		memset(rgn_alloc(keep[i % 64], 100), 1, 100);
		rgn_destroy(dead);
		if (i % 1000 == 999) {
			size_t m = tst_maps_lines();
			peak = m > peak ? m : peak;
		}
	}
	maps1 = tst_maps_lines();
	/* the quarantine did split the mapping, within its record bound */
	ck_assert_uint_gt(peak, maps0 + 100);
	ck_assert_uint_le(peak, maps0 + 2 * 1024 + 8);
	ck_assert_uint_le(maps1, maps0 + 2 * 1024 + 8);
	for (int i = 0; i < 64; i++)
		rgn_destroy(keep[i]);
}
END_TEST

#endif

/* A space short of blocks takes them back from the quarantine before an
 * allocation fails. */
START_TEST(test_check_drained_when_short)
{
	rgn_region *r[64];
	int n = 0;

	init_check(16 * MiB, 4 * MiB);
	/* fill the space, then give it all back: 4 MiB stays in quarantine */
	while (n < 64 && (r[n] = rgn_new(NULL)) != NULL) {
		if (!rgn_alloc(r[n], 512 * KiB)) {
			rgn_destroy(r[n]);
			break;
		}
		n++;
	}
	ck_assert_int_ge(n, 20);
	while (n > 0)
		rgn_destroy(r[--n]);
	/* (records leave whole: a region's large span is 128 blocks) */
	ck_assert_uint_ge(tst_space().cached_blocks, 4 * MiB / RGN_BLOCK_SIZE - 130);
	/* 14 MiB: more than the space has outside the quarantine */
	r[0] = rgn_new(NULL);
	for (int i = 0; i < 14; i++) {
		void *p = rgn_alloc(r[0], 1 * MiB);
		ck_assert_msg(p != NULL, "MiB %d: %s", i, strerror(errno));
		memset(p, 2, 1 * MiB);
	}
	rgn_destroy(r[0]);
}
END_TEST

#ifdef _WIN32
/* Windows: the library's vectored exception handler reports a use after
 * destroy, and the access then ends the process as an access violation
 * (this test's own process: suites.h).  Standard error goes to a file;
 * a handler of the test's, called after the library's, reads it and ends
 * the process with the violation's status only if the report is there. */
static char report_path[MAX_PATH];
static void *report_region;

static LONG WINAPI after_report(EXCEPTION_POINTERS *ep)
{
	char buf[2048] = { 0 }, want[128];
	FILE *f;
	size_t n = 0;
	int ok;

	if (ep->ExceptionRecord->ExceptionCode != EXCEPTION_ACCESS_VIOLATION)
		return EXCEPTION_CONTINUE_SEARCH;
	f = fopen(report_path, "rb");
	if (f) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	snprintf(want, sizeof want, "use after release of region 0x%llx (destroyed)",
	         (unsigned long long)(uintptr_t)report_region);
	ok = strstr(buf, "rgn: invalid access at ") && strstr(buf, want);
	TerminateProcess(GetCurrentProcess(), ok ? EXCEPTION_ACCESS_VIOLATION : 1);
	return EXCEPTION_CONTINUE_SEARCH;
}

START_TEST(test_check_use_after_destroy_reported)
{
	char dir[MAX_PATH];
	volatile char *p;
	rgn_region *r;
	int fd;

	init_check(64 * MiB, 16 * MiB);
	r = rgn_new(NULL);
	p = rgn_alloc(r, 100);
	p[0] = 1;
	report_region = r;
	ck_assert(GetTempPathA(sizeof dir, dir) > 0);
	ck_assert(GetTempFileNameA(dir, "rgn", 0, report_path) != 0);
	fd = _open(report_path, _O_WRONLY | _O_TRUNC | _O_BINARY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(_dup2(fd, 2), 0);
	AddVectoredExceptionHandler(0, after_report);
	rgn_destroy(r);
	p[0] = 2; /* faults: the report, then after_report ends the process */
	ck_abort_msg("the access after destroy did not fault");
}
END_TEST
#endif

START_TEST(test_check_bad_setting)
{
	rgn_config cfg = { .space_size = 16 * MiB };

	setenv("RGN_CHECK", "12", 1); /* a size needs its unit */
	tst_fails_with(rgn_init(&cfg), EINVAL);
	setenv("RGN_CHECK", "1,mprotekt", 1);
	tst_fails_with(rgn_init(&cfg), EINVAL);
	setenv("RGN_CHECK", "1", 1);
	ck_assert_int_eq(rgn_init(&cfg), 0);
}
END_TEST

Suite *suite_check(void)
{
	Suite *s = suite_create("check");
	TCase *tc;

#ifdef TST_FAULTS
	tc = tcase_create("use_after");
	tcase_add_test(tc, test_check_use_after_destroy);
	tcase_add_test(tc, test_check_use_after_destroy_large);
	tcase_add_test(tc, test_check_use_after_parent_destroy);
	tcase_add_test(tc, test_check_use_after_reset);
	tcase_add_test(tc, test_check_use_after_rewind);
	tcase_add_test(tc, test_check_use_after_tail_commit);
	tcase_add_test(tc, test_check_use_after_destroy_mprotect);
	tcase_add_test(tc, test_check_other_fault_chained);
	tcase_add_test(tc, test_check_off_by_default);
	suite_add_tcase(s, tc);
#endif
#ifdef _WIN32
	tc = tcase_create("use_after");
	tcase_add_test_raise_signal(tc, test_check_use_after_destroy_reported, SIGSEGV);
	suite_add_tcase(s, tc);
#endif

	tc = tcase_create("bounds");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_check_quarantine_bounded);
#ifdef TST_FAULTS
	tcase_add_test(tc, test_check_mprotect_maps_bounded);
#endif
	tcase_add_test(tc, test_check_drained_when_short);
	tcase_add_test(tc, test_check_bad_setting);
	suite_add_tcase(s, tc);
	return s;
}
