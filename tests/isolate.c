/*
 * isolate.c - a process per test on Windows (suites.h: tst_isolated).
 *
 * The runner runs every test through tst_isolated.  In the first process
 * each call starts the runner again, with TST_ONLY=n (n counts the calls
 * in this process, from 1) and the same CK_RUN_SUITE and CK_RUN_CASE,
 * waits for it, and judges how it ended.  In that child, call n runs the
 * test's body and every other call returns at once, so the child runs
 * the same suites in the same order and reaches the same test; once the
 * body has returned, the child ends with status 0 at once.  A failed
 * check goes back to libcheck in the child, which writes it to a log
 * (CK_LOG_FILE_NAME) the parent reads to repeat the message.
 */
#include <check.h>
#include <process.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "suites.h"

#define MAX_EXPECT 128

struct expectation {
	const TTest *t;
	int          sig, exit_value;
};
static struct expectation expect[MAX_EXPECT];
static int nexpect;
static long calls;

void tst_expect(const TTest *t, int sig, int exit_value)
{
	if (sig == 0 && exit_value == 0)
		return; /* the normal end */
	for (int k = 0; k < nexpect; k++)
		if (expect[k].t == t)
			return;
	if (nexpect < MAX_EXPECT)
		expect[nexpect++] = (struct expectation){ t, sig, exit_value };
	else
		fprintf(stderr, "isolate.c: MAX_EXPECT too small\n");
}

/* The status a child that died of sig leaves. */
static DWORD status_of_signal(int sig)
{
	switch (sig) {
	case SIGABRT: return 3;                     /* abort() */
	case SIGSEGV: return (DWORD)EXCEPTION_ACCESS_VIOLATION;
	case SIGFPE:  return (DWORD)EXCEPTION_INT_DIVIDE_BY_ZERO;
	case SIGILL:  return (DWORD)EXCEPTION_ILLEGAL_INSTRUCTION;
	default:      return 0xffffffffu;
	}
}

/* The first failure line of the child's log, into msg. */
static void failure_of(const char *log, char *msg, size_t n)
{
	FILE *f = fopen(log, "r");
	char line[1024];

	snprintf(msg, n, "(no message)");
	if (!f)
		return;
	while (fgets(line, sizeof line, f))
		if (strstr(line, ":F:") || strstr(line, ":E:")) {
			line[strcspn(line, "\r\n")] = 0;
			snprintf(msg, n, "%s", line);
			break;
		}
	fclose(f);
}

void tst_isolated(const TTest *t, int i, void (*body)(int))
{
	const char *only = getenv("TST_ONLY");
	char self[MAX_PATH], num[32], log[MAX_PATH + 64], msg[1100];
	DWORD want = 0;
	intptr_t st;
	int k;

	calls++;
	if (only && *only) {
		if (atol(only) == calls) {
			body(i);
			fflush(stdout);
			fflush(stderr);
			_exit(0);
		}
		return;
	}
	for (k = 0; k < nexpect && expect[k].t != t; k++)
		;
	if (k < nexpect)
		want = expect[k].sig ? status_of_signal(expect[k].sig)
		                     : (DWORD)expect[k].exit_value;
	if (!GetModuleFileNameA(NULL, self, sizeof self))
		ck_abort_msg("GetModuleFileName: %lu", GetLastError());
	snprintf(num, sizeof num, "%ld", calls);
	snprintf(log, sizeof log, "%s.%lu.%ld.log", self, GetCurrentProcessId(), calls);
	_putenv_s("TST_ONLY", num);
	_putenv_s("CK_LOG_FILE_NAME", log);
	_putenv_s("CK_VERBOSITY", "silent");
	fflush(stdout);
	fflush(stderr);
	/* starting the runner again has failed once under wine, with ENOENT
	 * for the runner itself, in a run that passed everywhere else: that
	 * says nothing of the test, so a few tries before it counts */
	for (int tries = 0; (st = _spawnl(_P_WAIT, self, self, NULL)) == -1 && tries < 4; tries++)
		Sleep(250);
	_putenv_s("TST_ONLY", "");
	_putenv_s("CK_LOG_FILE_NAME", "");
	_putenv_s("CK_VERBOSITY", "");
	if (st == -1) {
		remove(log);
		ck_abort_msg("%s: cannot start the runner again: %s", t->name, strerror(errno));
	}
	if ((DWORD)st == want) {
		remove(log);
		return;
	}
	failure_of(log, msg, sizeof msg);
	remove(log);
	ck_abort_msg("%s (%d): the test's process ended with status 0x%lx, not 0x%lx: %s",
	             t->name, i, (unsigned long)(DWORD)st, (unsigned long)want, msg);
}
