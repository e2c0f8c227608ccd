/*
 * test-misuse.c - misuse caught where it happens, in every build: marks
 * that outlived what they marked, dead region handles, the region stack
 * after a pushed region died, a tail overwritten behind its back, an
 * allocation that should have cancelled a tail.  Each test here failed
 * before the check it exercises existed.
 *
 * The suite runs once per backend, like the region suite; tests that
 * need a block region's behaviour (merge) skip the contiguous one.
 */
#define _GNU_SOURCE
#include "suites.h"

#include <signal.h>
#if TST_POSIX
#include <sys/wait.h>
#endif

/* A region of the backend under test (test-region.c's fixture), as large
 * as this test's space. */
static rgn_region *make(rgn_region *parent)
{
	rgn_region *r = tst_backend_region(parent, tst_space_size);

	ck_assert_ptr_nonnull(r);
	return r;
}

static char *filled(rgn_region *r, size_t n, int c)
{
	char *p = rgn_alloc(r, n);

	ck_assert_ptr_nonnull(p);
	memset(p, c, n);
	return p;
}

static void assert_filled(const char *p, size_t n, int c)
{
	size_t i = 0;

	while (i < n && p[i] == (char)c)
		i++;
	ck_assert_msg(i == n, "byte %zu: %#x, want %#x", i,
	              (unsigned char)p[i], (unsigned)(unsigned char)c);
}

/* ---- marks -------------------------------------------------------------- */

/* m2 was saved after m1; rewinding to m1 made it stale.  Using it must
 * not move the bump pointer back over B, allocated since. */
START_TEST(test_misuse_mark_skipped_by_rewind)
{
	rgn_region *r;
	rgn_mark m1, m2;
	char *b;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	m1 = rgn_save(r);
	(void)filled(r, 100, 'a');
	m2 = rgn_save(r);
	ck_assert_int_eq(rgn_rewind(r, m1), 0);
	b = filled(r, 400, 'b');
	tst_fails_with(rgn_rewind(r, m2), EINVAL);
	(void)filled(r, 400, 'c');
	assert_filled(b, 400, 'b');
	/* m1 is still good, and more than once */
	ck_assert_int_eq(rgn_rewind(r, m1), 0);
	ck_assert_int_eq(rgn_rewind(r, m1), 0);
	rgn_destroy(r);
}
END_TEST

/* The same across chunks and large spans (a block region pops spans). */
START_TEST(test_misuse_mark_skipped_across_chunks)
{
	rgn_region *r;
	rgn_mark m1, m2;
	char *b;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	(void)filled(r, 3000, 'x');
	m1 = rgn_save(r);
	(void)filled(r, 20000, 'a');
	(void)filled(r, 1 * MiB, 'a');
	m2 = rgn_save(r);
	ck_assert_int_eq(rgn_rewind(r, m1), 0);
	b = filled(r, 20000, 'b');
	(void)filled(r, 1 * MiB, 'b');
	tst_fails_with(rgn_rewind(r, m2), EINVAL);
	(void)filled(r, 30000, 'c');
	assert_filled(b, 20000, 'b');
	rgn_destroy(r);
}
END_TEST

/* Nesting: an outer mark survives any number of rewinds to inner ones,
 * and a mark rewound to stays valid. */
START_TEST(test_misuse_mark_nesting_stays_valid)
{
	rgn_region *r;
	rgn_mark outer, inner, deeper;
	char *keep;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	keep = filled(r, 64, 'k');
	outer = rgn_save(r);
	for (int i = 0; i < 1000; i++) {
		(void)filled(r, 40, 'i');
		inner = rgn_save(r);
		for (int j = 0; j < 3; j++) {
			(void)filled(r, 5000, 'j');
			deeper = rgn_save(r);
			(void)filled(r, 10, 'd');
			ck_assert_int_eq(rgn_rewind(r, deeper), 0);
			ck_assert_int_eq(rgn_rewind(r, inner), 0);
		}
		tst_fails_with(rgn_rewind(r, deeper), EINVAL);
		ck_assert_int_eq(rgn_rewind(r, outer), 0);
		tst_fails_with(rgn_rewind(r, inner), EINVAL);
	}
	assert_filled(keep, 64, 'k');
	ck_assert_uint_eq(tst_region(r).used, 64);
	rgn_destroy(r);
}
END_TEST

/* Marks at ever higher points while the older ones stay valid: past
 * what the header holds, the history moves out of line; every mark stays
 * valid, and each is refused once something below it was rewound to. */
START_TEST(test_misuse_mark_ratchet)
{
	enum { N = 40 };
	rgn_region *r;
	rgn_mark m[N];

	tst_init(64 * MiB, 0);
	r = make(NULL);
	for (int i = 0; i < N; i++) {
		(void)filled(r, 24, 'a' + i % 26);
		m[i] = rgn_save(r);
		(void)filled(r, 8, '!');
		ck_assert_int_eq(rgn_rewind(r, m[i]), 0);
	}
	for (int i = N - 1; i >= 0; i -= 3) {
		ck_assert_int_eq(rgn_rewind(r, m[i]), 0);
		if (i + 1 < N)
			tst_fails_with(rgn_rewind(r, m[i + 1]), EINVAL);
	}
	rgn_reset(r);
	ck_assert_int_eq(tst_region(r).used, 0);
	rgn_destroy(r);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

/* A mark saved before rgn_reset means nothing after it. */
START_TEST(test_misuse_mark_before_reset)
{
	rgn_region *r;
	rgn_mark m;
	char *b;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	(void)filled(r, 3000, 'a');
	(void)filled(r, 9000, 'a');
	m = rgn_save(r);
	rgn_reset(r);
	b = filled(r, 12000, 'b');
	tst_fails_with(rgn_rewind(r, m), EINVAL);
	(void)filled(r, 5000, 'c');
	assert_filled(b, 12000, 'b');
	rgn_destroy(r);
}
END_TEST

/* A mark of another region, or of a region destroyed whose header a new
 * region now has. */
START_TEST(test_misuse_mark_foreign_and_reborn)
{
	rgn_region *a, *b, *c;
	rgn_mark ma, mc;

	tst_init(64 * MiB, 0);
	a = make(NULL);
	b = make(NULL);
	(void)filled(a, 100, 'a');
	ma = rgn_save(a);
	tst_fails_with(rgn_rewind(b, ma), EINVAL);
	rgn_destroy(b);
	c = make(NULL);
	(void)filled(c, 100, 'c');
	mc = rgn_save(c);
	rgn_destroy(c);
	b = make(NULL); /* a block region reuses c's header (the spare) */
	(void)filled(b, 100, 'b');
	tst_fails_with(rgn_rewind(b, mc), EINVAL);
	ck_assert_int_eq(rgn_rewind(a, ma), 0);
	rgn_destroy(a);
	rgn_destroy(b);
}
END_TEST

/* After rgn_merge(dst, src), src's marks are refused by dst, and dst's
 * own cleanups stay. */
static int cleanups_run;
static void count_cleanup(void *arg)
{
	(void)arg;
	cleanups_run++;
}

START_TEST(test_misuse_mark_after_merge)
{
	rgn_region *dst, *src;
	rgn_mark ms, md;

	tst_init(64 * MiB, 0);
	dst = make(NULL);
	src = make(NULL);
	ck_assert_int_eq(rgn_on_destroy(dst, count_cleanup, NULL), 0);
	md = rgn_save(dst);
	ms = rgn_save(src);
	(void)filled(src, 5000, 's');
	ck_assert_int_eq(rgn_merge(dst, src), 0);
	tst_fails_with(rgn_rewind(dst, ms), EINVAL);
	tst_fails_with(rgn_rewind(dst, md), EINVAL); /* would pop src's memory */
	ck_assert_int_eq(cleanups_run, 0);
	rgn_destroy(dst);
	ck_assert_int_eq(cleanups_run, 1);
}
END_TEST

/* Shrinking the last allocation in place takes the region below marks
 * saved after it: they are stale. */
START_TEST(test_misuse_mark_above_a_shrink)
{
	rgn_region *r;
	rgn_mark m;
	char *p, *b;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	p = filled(r, 2000, 'p');
	m = rgn_save(r);
	ck_assert_ptr_eq(rgn_realloc(r, p, 2000, 16), p);
	b = filled(r, 1000, 'b');
	tst_fails_with(rgn_rewind(r, m), EINVAL);
	(void)filled(r, 1000, 'c');
	assert_filled(b, 1000, 'b');
	rgn_destroy(r);
}
END_TEST

/* ---- dead handles ---------------------------------------------------------- */

START_TEST(test_misuse_destroy_twice_aborts)
{
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	rgn_destroy(r);
	rgn_destroy(r);
	ck_abort_msg("a region was destroyed twice unnoticed");
}
END_TEST

/* The inline path too: a dead handle's chunk is empty, so rgn_alloc goes
 * out of line, where it is caught. */
START_TEST(test_misuse_alloc_after_destroy_aborts)
{
	rgn_region *r;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	ck_assert_ptr_nonnull(rgn_alloc(r, 8));
	rgn_destroy(r);
	ck_assert_ptr_null(rgn_alloc(r, 8));
	ck_abort_msg("rgn_alloc on a destroyed region returned");
}
END_TEST

START_TEST(test_misuse_merged_source_aborts)
{
	rgn_region *a, *b;

	tst_init(64 * MiB, 0);
	a = make(NULL);
	b = make(NULL);
	ck_assert_int_eq(rgn_merge(a, b), 0);
	(void)rgn_save(b);
	ck_abort_msg("a region merged away was used");
}
END_TEST

#if TST_POSIX /* (a child with its stderr in a pipe) */
/* The message names the function, the handle and the cause. */
START_TEST(test_misuse_dead_handle_message)
{
	int fds[2], status;
	char buf[512] = { 0 }, want[128];
	rgn_region *r;
	ssize_t n, got = 0;
	pid_t pid;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	rgn_destroy(r);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		rgn_destroy(r);
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	snprintf(want, sizeof(want), "rgn_destroy(%p): not a live region (destroyed twice?)",
	         (void *)r);
	ck_assert_msg(strstr(buf, want) != NULL, "stderr: %s", buf);
}
END_TEST
#endif

/* ---- the region stack --------------------------------------------------------- */

/* A pushed region destroyed by hand: its stack entry remembers, and the
 * pop that pairs with its push leaves the region now at its address. */
START_TEST(test_misuse_pop_after_destroy)
{
	rgn_region *pushed, *other;

	tst_init(64 * MiB, 0);
	pushed = rgn_push();
	ck_assert_ptr_nonnull(pushed);
	ck_assert_ptr_eq(rgn_current(), pushed);
	rgn_destroy(pushed);
	ck_assert_ptr_null(rgn_current());
	other = rgn_new(NULL);
	ck_assert_ptr_eq(other, pushed); /* the same block, reused */
	rgn_pop();
	(void)filled(other, 100, 'o');
	ck_assert_uint_eq(tst_region(other).used, 104);
	rgn_destroy(other);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

/* Regions on the stack that die with an ancestor, or merge away, leave
 * entries that pop nothing; pushes and pops still pair. */
START_TEST(test_misuse_stack_entries_die_with_their_region)
{
	rgn_region *p, *a, *b, *c, *keep;

	tst_init(64 * MiB, 0);
	keep = rgn_push();
	a = rgn_push();
	b = rgn_push();
	ck_assert_ptr_nonnull(keep);
	ck_assert_ptr_eq(rgn_current(), b);
	/* a is b's parent: destroying it takes both off the stack */
	rgn_destroy(a);
	ck_assert_ptr_null(rgn_current());
	c = rgn_push();
	ck_assert_ptr_nonnull(c);
	p = rgn_new(NULL);
	ck_assert_int_eq(rgn_merge(p, c), 0); /* c merges away */
	ck_assert_ptr_null(rgn_current());
	rgn_pop(); /* c's entry */
	rgn_pop(); /* b's */
	rgn_pop(); /* a's */
	ck_assert_ptr_eq(rgn_current(), keep);
	rgn_pop();
	ck_assert_ptr_null(rgn_current());
	rgn_destroy(p);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

/* ---- tails -------------------------------------------------------------------- */

/* A format that fails for lack of memory leaves a pending tail's bytes
 * alone, and the tail still pending. */
START_TEST(test_misuse_failed_format_keeps_tail)
{
	rgn_region *r;
	size_t avail;
	char *t;

	tst_init(16 * MiB, 0);
	r = make(NULL);
	t = rgn_tail(r, 1000, &avail);
	ck_assert_ptr_nonnull(t);
	memset(t, 't', avail);
	tst_null_with(rgn_format(r, "%*s", (int)(64 * MiB), "x"), ENOMEM);
	assert_filled(t, avail, 't');
	ck_assert_int_eq(rgn_tail_commit(r, 1000), 0);
	assert_filled(t, 1000, 't');
	/* and one that fits cancels the tail, as any allocation does */
	t = rgn_tail(r, 100, &avail);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(rgn_format(r, "%d", 42), "42");
	tst_fails_with(rgn_tail_commit(r, 10), EINVAL);
	rgn_destroy(r);
}
END_TEST

/* Any allocation cancels a pending tail, a large one (blocks of its own)
 * included: the commit then fails rather than trimming. */
START_TEST(test_misuse_large_alloc_cancels_tail)
{
	rgn_region *r;
	size_t avail;
	char *t, *big;

	tst_init(64 * MiB, 0);
	r = make(NULL);
	t = rgn_tail(r, 100, &avail);
	ck_assert_ptr_nonnull(t);
	big = filled(r, 1 * MiB, 'L');
	tst_fails_with(rgn_tail_commit(r, 50), EINVAL);
	t = rgn_tail(r, 100, &avail);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(rgn_alloc_aligned(r, 100, 8192));
	tst_fails_with(rgn_tail_commit(r, 50), EINVAL);
	assert_filled(big, 1 * MiB, 'L');
	rgn_destroy(r);
}
END_TEST

Suite *suite_misuse(rgn_backend b)
{
	Suite *s = suite_create(b == RGN_BACKEND_CONTIG ? "misuse-contig" : "misuse");
	TCase *tc;

	tc = tst_backend_tcase("marks", b);
	tcase_add_test(tc, test_misuse_mark_skipped_by_rewind);
	tcase_add_test(tc, test_misuse_mark_skipped_across_chunks);
	tcase_add_test(tc, test_misuse_mark_nesting_stays_valid);
	tcase_add_test(tc, test_misuse_mark_ratchet);
	tcase_add_test(tc, test_misuse_mark_before_reset);
	tcase_add_test(tc, test_misuse_mark_foreign_and_reborn);
	if (b == RGN_BACKEND_BLOCKS) /* contiguous regions do not merge */
		tcase_add_test(tc, test_misuse_mark_after_merge);
	tcase_add_test(tc, test_misuse_mark_above_a_shrink);
	suite_add_tcase(s, tc);

	tc = tst_backend_tcase("handles", b);
	tcase_add_test_raise_signal(tc, test_misuse_destroy_twice_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_misuse_alloc_after_destroy_aborts, SIGABRT);
	if (b == RGN_BACKEND_BLOCKS)
		tcase_add_test_raise_signal(tc, test_misuse_merged_source_aborts, SIGABRT);
#if TST_POSIX
	tcase_add_test(tc, test_misuse_dead_handle_message);
#endif
	suite_add_tcase(s, tc);

	if (b == RGN_BACKEND_BLOCKS) {
		tc = tst_backend_tcase("stack", b);
		tcase_add_test(tc, test_misuse_pop_after_destroy);
		tcase_add_test(tc, test_misuse_stack_entries_die_with_their_region);
		suite_add_tcase(s, tc);
	}

	tc = tst_backend_tcase("tails", b);
	tcase_add_test(tc, test_misuse_failed_format_keeps_tail);
	tcase_add_test(tc, test_misuse_large_alloc_cancels_tail);
	suite_add_tcase(s, tc);
	return s;
}
