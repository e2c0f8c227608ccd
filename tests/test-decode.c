/*
 * test-decode.c - the decode mode's hazards: threads, signal handlers and
 * callbacks from foreign code.  The same tests run in every mode; what
 * they expect differs only where the mode's contract does (rgn/decode.h).
 *
 * RGN_AT's debug check (a thread whose decode base was never set) is
 * compiled in here whatever the build's rgn_debug level.
 */
#define _GNU_SOURCE
#undef RGN_DEBUG
#define RGN_DEBUG 1
#include "suites.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#if TST_POSIX
#include <sys/wait.h>
#endif

struct item {
	uint32_t key;
	rgn_ref  next;
};

/* A list of n items with keys n-1 .. 0, in region r; returns its head. */
static rgn_ref make_list(rgn_region *r, uint32_t n)
{
	rgn_ref head = RGN_NULL_REF;

	for (uint32_t i = 0; i < n; i++) {
		struct item *it = rgn_alloc(r, sizeof *it);

		ck_assert_ptr_nonnull(it);
		it->key = i;
		it->next = head;
		head = rgn_ref_of(it);
	}
	return head;
}

static uint64_t sum_list(rgn_ref at)
{
	uint64_t sum = 0;

	for (; at; at = RGN_AT(struct item, at)->next)
		sum += RGN_AT(struct item, at)->key;
	return sum;
}

START_TEST(test_decode_mode_name)
{
	ck_assert_str_eq(rgn_decode_mode(), RGN_DECODE_MODE);
}
END_TEST

/* ---- threads -------------------------------------------------------------- */

struct walk {
	rgn_ref  head;
	bool     init;
	uint64_t sum;
};

/* A thread's start function is called by the C library: in mode reg,
 * RGN_REENTER keeps libc's x28 for it, and rgn_thread_init loads ours. */
static void *walker(void *arg)
{
	struct walk *w = arg;

	if (w->init) {
		RGN_REENTER();
		ck_assert_int_eq(rgn_thread_init(), 0);
		w->sum = sum_list(w->head);
	} else {
		w->sum = sum_list(w->head); /* what the hazard test is about */
	}
	return NULL;
}

/* A thread that calls rgn_thread_init decodes like the main thread. */
START_TEST(test_decode_thread_init)
{
	rgn_region *r;
	struct walk w = { 0, true, 0 };
	pthread_t t;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	w.head = make_list(r, 1000);
	ck_assert_int_eq(pthread_create(&t, NULL, walker, &w), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(w.sum, 999 * 1000 / 2);
	rgn_destroy(r);
}
END_TEST

/* A thread that decodes without rgn_thread_init: in modes gs and reg the
 * debug check must stop it with a message (in a forked child, which must
 * die of SIGABRT); in modes global and zero nothing per thread is needed
 * and the walk must be right. */
START_TEST(test_decode_thread_without_init)
{
	rgn_region *r;
	struct walk w = { 0, false, 0 };
	pthread_t t;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	w.head = make_list(r, 100);
#if !TST_POSIX /* (Windows: mode global only, the walk in this process) */
	ck_assert_int_eq(pthread_create(&t, NULL, walker, &w), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(w.sum, 99 * 100 / 2);
#else
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		if (pthread_create(&t, NULL, walker, &w) != 0 ||
		    pthread_join(t, NULL) != 0)
			_exit(2);
		_exit(w.sum == 99 * 100 / 2 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
#if defined(RGN_DECODE_GS) || defined(RGN_DECODE_REG)
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	              "an uninitialised thread decoded without the check firing "
	              "(status %#x)", status);
#else
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "status %#x", status);
#endif
#endif
	rgn_destroy(r);
}
END_TEST

/* ---- signal handlers (POSIX: Windows has no SIGUSR1 or sigaction) ---------- */
/* Run fn(arg) with the decode register holding junk, as it may inside
 * foreign code; a no-op wrapper where the mode has no such register. */
static void with_foreign_x28(void (*fn)(void *), void *arg)
{
#ifdef RGN_DECODE_REG
	char *saved = RGN_X28_();
	RGN_X28_SET_((char *)(uintptr_t)0x5a5a5a5a000);
	fn(arg);
	RGN_X28_SET_(saved);
#else
	fn(arg);
#endif
}

#if TST_POSIX
static rgn_ref sig_head;
static volatile sig_atomic_t sig_sum;

static void on_usr1(int sig)
{
	RGN_REENTER();
	(void)sig;
	sig_sum = (sig_atomic_t)sum_list(sig_head);
}

static void raise_usr1(void *arg)
{
	(void)arg;
	raise(SIGUSR1);
}

/* A handler that decodes, entered while the interrupted code had x28 for
 * itself (mode reg); RGN_REENTER makes it work. */
START_TEST(test_decode_signal_handler)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	sig_head = make_list(r, 200);
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	sig_sum = -1;
	with_foreign_x28(raise_usr1, NULL);
	ck_assert_int_eq(sig_sum, 199 * 200 / 2);
	/* and the interrupted code got its own x28 back: decoding still works */
	ck_assert_uint_eq(sum_list(sig_head), 199 * 200 / 2);
	rgn_destroy(r);
}
END_TEST
#endif

/* ---- callbacks from the C library ------------------------------------------ */

static int by_key(const void *a, const void *b)
{
	RGN_REENTER();
	uint32_t ka = RGN_AT(struct item, *(const rgn_ref *)a)->key;
	uint32_t kb = RGN_AT(struct item, *(const rgn_ref *)b)->key;

	return ka < kb ? -1 : ka > kb;
}

struct sort_job {
	rgn_ref *refs;
	size_t   n;
};

static void run_qsort(void *arg)
{
	struct sort_job *j = arg;

	qsort(j->refs, j->n, sizeof *j->refs, by_key);
}

/* qsort's comparator decodes: the items are sorted by the key the
 * references lead to. */
START_TEST(test_decode_qsort_comparator)
{
	enum { N = 5000 };
	rgn_region *r;
	struct sort_job j;
	uint64_t seed = 11;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	j.refs = rgn_alloc_array(r, N, sizeof *j.refs);
	j.n = N;
	ck_assert_ptr_nonnull(j.refs);
	for (size_t i = 0; i < N; i++) {
		struct item *it = rgn_alloc(r, sizeof *it);

		ck_assert_ptr_nonnull(it);
		it->key = (uint32_t)(tst_rand(&seed) % 100000);
		it->next = RGN_NULL_REF;
		j.refs[i] = rgn_ref_of(it);
	}
	with_foreign_x28(run_qsort, &j);
	for (size_t i = 1; i < N; i++)
		ck_assert_uint_le(RGN_AT(struct item, j.refs[i - 1])->key,
		                  RGN_AT(struct item, j.refs[i])->key);
	rgn_destroy(r);
}
END_TEST

/* ---- cleanups run by rgn ----------------------------------------------------- */

static uint64_t cleanup_sum;

static void sum_in_cleanup(void *arg)
{
	cleanup_sum = sum_list((rgn_ref)(uintptr_t)arg);
}

static void destroy_region(void *arg)
{
	rgn_destroy(arg);
}

/* rgn_destroy called where x28 is foreign still runs cleanups that
 * decode: rgn loads the base before calling them. */
START_TEST(test_decode_cleanup_callback)
{
	rgn_region *r, *keep;
	rgn_ref head;

	tst_init(64 * MiB, 0);
	keep = rgn_new(NULL);
	head = make_list(keep, 300);
	r = rgn_new(NULL);
	ck_assert_int_eq(rgn_on_destroy(r, sum_in_cleanup, (void *)(uintptr_t)head), 0);
	cleanup_sum = 0;
	with_foreign_x28(destroy_region, r);
	ck_assert_uint_eq(cleanup_sum, 299 * 300 / 2);
	rgn_destroy(keep);
}
END_TEST

Suite *suite_decode(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("hazards");

	tcase_add_test(tc, test_decode_mode_name);
	tcase_add_test(tc, test_decode_thread_init);
	tcase_add_test(tc, test_decode_thread_without_init);
#if TST_POSIX
	tcase_add_test(tc, test_decode_signal_handler);
#endif
	tcase_add_test(tc, test_decode_qsort_comparator);
	tcase_add_test(tc, test_decode_cleanup_callback);
	suite_add_tcase(s, tc);
	return s;
}
