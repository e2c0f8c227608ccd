/*
 * test-fault.c - every OS call of a workload made to fail, one at a time.
 *
 * The workload reserves a space, makes regions of both backends,
 * allocates small and large objects, aligned ones, tails and reallocs,
 * reads a file and a directory through rgn_sys, writes and opens an
 * image, resets, destroys and trims.  A first run counts the OS
 * primitives it calls (os.h); then, for every N up to that count, a
 * fresh process (the space is reserved once per process) runs it with
 * call N failing, and another with every call from N on failing.  Each failure must come back as NULL or -1 with ENOMEM,
 * or be absorbed (a purge that could not give memory back); nothing may
 * crash; everything created is destroyed again; and once the injection
 * is off, the same workload must succeed in full in the same process,
 * with the statistics back at their baseline.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "suites.h"
#include "rgn_sys.h"
#include "os/os.h"

#define FILE_BYTES ((size_t)200 << 10)

/* What a child reports to the test through a shared page. */
struct report {
	long calls;      /* OS primitives the workload called */
	long failed;     /* of which failed on purpose */
	int  visible;    /* calls of the API that failed (ENOMEM) */
	int  line;       /* a broken expectation: its line, else 0 */
	char what[160];
};

static struct report *rep;
static char dir[64], path[96];

#define EXPECT(c) do {                                                     \
		if (!(c)) {                                                \
			rep->line = __LINE__;                              \
			snprintf(rep->what, sizeof rep->what, "%s (errno %d)", \
			         #c, errno);                               \
			_exit(3);                                          \
		}                                                          \
	} while (0)

/* A call that may fail only with ENOMEM, and only while injecting. */
static bool ok_ptr(const void *p, bool inject)
{
	if (p)
		return true;
	EXPECT(inject && errno == ENOMEM);
	rep->visible++;
	return false;
}

static bool ok_int(int rc, bool inject)
{
	return ok_ptr(rc == 0 ? (void *)1 : NULL, inject);
}

static void cleanup_count(void *arg)
{
	(*(int *)arg)++;
}

/* The workload.  Every region it creates is destroyed before it returns,
 * whatever failed. */
static void workload(bool inject)
{
	rgn_options co = { .backend = RGN_BACKEND_CONTIG, .reserve = (size_t)4 << 20,
	                   .retain = (size_t)64 << 10, .release = RGN_RELEASE_UNMAP };
	rgn_options cc = co;
	rgn_region *b, *c, *k;
	struct rgn_space_stats st;
	struct rgn_contig_stats cs;
	int cleanups = 0, fd;
	size_t len, avail, n;
	char *s, *t;
	void *p;

	if (!rgn_space_stats(&st) && st.size == 0) {
		rgn_config cfg = { .space_size = (size_t)64 << 20,
		                   .retain_limit = (size_t)256 << 10 };
		if (!ok_int(rgn_init(&cfg), inject))
			return; /* without it, rgn_new would reserve the default */
	}
	cc.release = RGN_RELEASE_CACHE;

	b = rgn_new(NULL);
	if (ok_ptr(b, inject)) {
		EXPECT(rgn_on_destroy(b, cleanup_count, &cleanups) == 0);
		for (int i = 0; i < 200; i++)
			if (ok_ptr(p = rgn_alloc(b, 24 + (size_t)i * 40), inject))
				memset(p, i, 24 + (size_t)i * 40);
		if (ok_ptr(p = rgn_alloc(b, (size_t)1 << 20), inject))
			memset(p, 1, (size_t)1 << 20);
		if (ok_ptr(p = rgn_alloc(b, (size_t)300 << 10), inject))
			memset(p, 2, (size_t)300 << 10);
		if (ok_ptr(p = rgn_alloc_aligned(b, 5000, (size_t)64 << 10), inject))
			EXPECT((uintptr_t)p % (64 << 10) == 0);
		if (ok_ptr(p = rgn_alloc(b, 1000), inject) &&
		    ok_ptr(p = rgn_realloc(b, p, 1000, (size_t)700 << 10), inject))
			memset(p, 3, (size_t)700 << 10);
		if (ok_ptr(t = rgn_tail(b, (size_t)100 << 10, &avail), inject)) {
			memset(t, 4, 1000);
			if (ok_ptr(s = rgn_tail_grow(b, 1000, (size_t)600 << 10, &avail), inject))
				t = s;
			EXPECT(t[999] == 4 && rgn_tail_commit(b, (size_t)50 << 10) == 0);
		}
		if (ok_ptr(s = rgn_read_file(b, path, &len), inject))
			EXPECT(len == FILE_BYTES && s[0] == 'a' && s[len - 1] == '\n');
		if (ok_ptr(rgn_list_dir(b, dir, &n), inject))
			EXPECT(n == 1);
		k = rgn_new(b);
		if (ok_ptr(k, inject))
			ok_ptr(rgn_alloc(k, (size_t)2 << 20), inject);
	}

	c = rgn_new_with(NULL, &co);
	if (ok_ptr(c, inject)) {
		EXPECT(rgn_on_destroy(c, cleanup_count, &cleanups) == 0);
		if (ok_ptr(p = rgn_alloc(c, (size_t)1 << 20), inject)) {
			memset(p, 5, (size_t)1 << 20);
			if (ok_ptr(p = rgn_realloc(c, p, (size_t)1 << 20, (size_t)2 << 20), inject))
				memset(p, 6, (size_t)2 << 20);
		}
		if (ok_ptr(s = rgn_read_file(c, path, &len), inject))
			EXPECT(len == FILE_BYTES);
		if (ok_ptr(t = rgn_tail(c, (size_t)64 << 10, &avail), inject))
			EXPECT(rgn_tail_commit(c, 100) == 0);
		fd = memfd_create("rgn-fault-image", MFD_CLOEXEC);
		EXPECT(fd >= 0);
		if (ok_int(rgn_image_write(c, fd, 0), inject)) {
			rgn_image *img = rgn_image_open(fd, NULL);
			if (ok_ptr(img, inject)) {
				EXPECT(rgn_image_size(img) > 4096);
				rgn_image_close(img);
			}
		}
		close(fd);
		rgn_reset(c);
		EXPECT(cleanups == 1);
		ok_ptr(rgn_alloc(c, (size_t)512 << 10), inject);
		rgn_destroy(c);
	}
	/* a cached reservation, reused */
	for (int i = 0; i < 2; i++) {
		k = rgn_new_with(NULL, &cc);
		if (ok_ptr(k, inject))
			ok_ptr(rgn_alloc(k, (size_t)200 << 10), inject);
		rgn_destroy(k);
	}
	if (b) {
		rgn_reset(b);
		ok_ptr(rgn_alloc(b, (size_t)3 << 20), inject);
		rgn_destroy(b);
	}
	rgn_space_trim();
	EXPECT(cleanups == (b != NULL) + (c != NULL));
	EXPECT(rgn_space_stats(&st) == 0 && st.live_regions == 0 && st.used_blocks == 0);
	EXPECT(rgn_contig_stats(&cs) == 0 && cs.live == 0);
	EXPECT(st.used_blocks + st.free_blocks + st.cached_blocks ==
	       st.high_water_blocks - 1);
}

/* Run the workload in a child with call fail_at failing (0: none; -n:
 * every call from n on), then once more without injection.  The report is left in *rep. */
static int run_child(long fail_at)
{
	pid_t pid;
	int status;

	memset(rep, 0, sizeof(*rep));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		rgn_os_fault_arm(fail_at);
		workload(true);
		rgn_os_fault_disarm();
		rep->calls = atomic_load(&rgn_os_faults_g.calls);
		rep->failed = atomic_load(&rgn_os_faults_g.failed);
		/* recovery: the same again, with nothing failing */
		workload(false);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void make_files(void)
{
	char *buf = malloc(FILE_BYTES);
	int fd;

	strcpy(dir, "/tmp/rgn-fault-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/data", dir);
	for (size_t i = 0; i < FILE_BYTES; i++)
		buf[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, FILE_BYTES), (ssize_t)FILE_BYTES);
	close(fd);
	free(buf);
}

START_TEST(test_fault_every_os_call)
{
	long total, visible_n = 0;
	int status;

	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE,
	           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(rep, MAP_FAILED);
	make_files();

	/* count: nothing fails */
	status = run_child(0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "workload without faults: status %#x, line %d: %s",
	              status, rep->line, rep->what);
	total = rep->calls;
	ck_assert_int_eq(rep->failed, 0);
	ck_assert_int_eq(rep->visible, 0);
	/* init, frontier steps, contiguous reserve/commit/purge/unmap, image */
	ck_assert_int_ge(total, 10);

	for (long n = 1; n <= total; n++) {
		status = run_child(n);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "OS call %ld of %ld failing: status %#x, line %d: %s",
		              n, total, status, rep->line, rep->what);
		ck_assert_msg(rep->failed == 1, "call %ld of %ld was not reached", n, total);
		visible_n += rep->visible > 0;
		/* the OS refusing everything from call n on */
		status = run_child(-n);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "OS calls from %ld of %ld failing: status %#x, line %d: %s",
		              n, total, status, rep->line, rep->what);
		ck_assert_msg(rep->failed >= 1, "call %ld of %ld was not reached", n, total);
	}
	/* the failures of calls that return nothing (a purge, an unmap, a
	 * reservation's top made inaccessible again) are absorbed; those of
	 * reserve and commit reach the caller */
	ck_assert_int_gt(visible_n, 0);
	printf("fault sweep: %ld OS calls, %ld failures seen by the caller\n",
	       total, visible_n);
	unlink(path);
	rmdir(dir);
	munmap(rep, sizeof(*rep));
}
END_TEST

Suite *suite_fault(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = tcase_create("sweep");

	tcase_add_test(tc, test_fault_every_os_call);
	tcase_set_timeout(tc, 240);
	suite_add_tcase(s, tc);
	return s;
}
