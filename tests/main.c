/*
 * main.c - the test runner: every suite in one SRunner (libevdev
 * test/test-main.c style).
 *
 * CK_RUN_SUITE and CK_RUN_CASE pick suites and cases (libcheck reads them
 * itself), e.g. CK_RUN_SUITE=threads for the TSan run.  Core dumps are off;
 * under a debugger the tests run in-process (CK_FORK=no), where only one
 * test that reserves its own space can run, so pick it with CK_RUN_CASE.
 * The exit status is non-zero when any test failed.  On Windows every test
 * runs in a process of its own (isolate.c), and the suites that need fork
 * are left out.
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

#ifdef _WIN32
#include <windows.h>

/* A crash ends the test's process at once, with the exception's code as
 * its status (isolate.c reads how it ended): no dialog, and no debugger
 * started to print the crash (wine's default). */
static LONG WINAPI end_on_crash(EXCEPTION_POINTERS *ep)
{
	fflush(stdout);
	TerminateProcess(GetCurrentProcess(), ep->ExceptionRecord->ExceptionCode);
	return EXCEPTION_EXECUTE_HANDLER;
}

static void quiet_crashes(void)
{
	SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
	SetUnhandledExceptionFilter(end_on_crash);
}
#else
#include <sys/resource.h>

static int debugger_attached(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int pid = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "TracerPid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid != 0;
}

static void quiet_crashes(void)
{
	struct rlimit nocore = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &nocore) != 0)
		perror("setrlimit(RLIMIT_CORE)");
	if (debugger_attached())
		setenv("CK_FORK", "no", 0);
}
#endif

int main(void)
{
	SRunner *sr;
	int failed;

	quiet_crashes();

	sr = srunner_create(suite_space());
	srunner_add_suite(sr, suite_blocks());
	srunner_add_suite(sr, suite_region(RGN_BACKEND_BLOCKS));
	srunner_add_suite(sr, suite_region(RGN_BACKEND_CONTIG));
	srunner_add_suite(sr, suite_misuse(RGN_BACKEND_BLOCKS));
	srunner_add_suite(sr, suite_misuse(RGN_BACKEND_CONTIG));
	srunner_add_suite(sr, suite_contig());
	srunner_add_suite(sr, suite_ref());
	srunner_add_suite(sr, suite_threads());
	srunner_add_suite(sr, suite_decode());
	srunner_add_suite(sr, suite_sys()); /* test-sys-win.c on Windows */
	srunner_add_suite(sr, suite_debug());
	srunner_add_suite(sr, suite_report());
	srunner_add_suite(sr, suite_check());
#if TST_POSIX
	srunner_add_suite(sr, suite_fault());
#endif
	srunner_add_suite(sr, suite_heap());
	srunner_add_suite(sr, suite_cursor());
	srunner_add_suite(sr, suite_copy());
	srunner_add_suite(sr, suite_overlap());
#if TST_POSIX
	srunner_add_suite(sr, suite_share());
#endif

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
