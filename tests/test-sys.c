/*
 * test-sys.c - the system-call wrappers (rgn_sys.h) on POSIX systems;
 * the tail growth they are built on is in test-sys-tail.c, and the
 * Windows wrappers' tests in test-sys-win.c.
 *
 * The C library is the oracle here (readdir, readlink, getcwd, plain
 * reads); scripts/test also runs tests/sys-oracle.sh, where ls, cmp,
 * readlink and du are.  Every error path checks that the region, the
 * space's used blocks and the process's open descriptors are exactly as
 * they were before the call.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "suites.h"

#include "rgn_sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* ---- helpers -------------------------------------------------------------- */

/* A fresh directory under /tmp; the test removes it with tmp_rm. */
static char *tmp_dir(char *buf, size_t n)
{
	snprintf(buf, n, "/tmp/rgn-sys-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(buf));
	return buf;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static void tmp_rm(const char *dir)
{
	ck_assert_int_eq(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	ck_assert_int_eq(close(fd), 0);
}

static size_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* What an error must leave unchanged. */
struct snap {
	struct rgn_region_stats reg;
	size_t used_blocks, live_regions, fds;
};

static struct snap snap_take(rgn_region *r)
{
	struct rgn_space_stats st = tst_space();
	struct snap s = { tst_region(r), st.used_blocks, st.live_regions, open_fds() };

	tst_space_consistent(&st);
	return s;
}

static void snap_same(rgn_region *r, const struct snap *a)
{
	struct snap b = snap_take(r);

	ck_assert_uint_eq(b.reg.used, a->reg.used);
	ck_assert_uint_eq(b.reg.blocks, a->reg.blocks);
	ck_assert_uint_eq(b.reg.chunks, a->reg.chunks);
	ck_assert_uint_eq(b.reg.large, a->reg.large);
	ck_assert_uint_eq(b.reg.cleanups, a->reg.cleanups);
	ck_assert_uint_eq(b.used_blocks, a->used_blocks);
	ck_assert_uint_eq(b.live_regions, a->live_regions);
	ck_assert_uint_eq(b.fds, a->fds);
}

/* Fork a writer that puts n bytes of the tst_fill(seed) pattern into fd
 * (or into the FIFO at path, opened for writing, when fd < 0).  The
 * child closes other_end (a pipe's read end; -1 for none), so that the
 * reader closing its end makes the writer's next write fail. */
static pid_t writer(int fd, int other_end, const char *path, size_t n, unsigned seed)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		static unsigned char buf[64 * 1024];
		size_t done = 0;

		signal(SIGPIPE, SIG_DFL);
		if (other_end >= 0)
			close(other_end);
		if (fd < 0 && (fd = open(path, O_WRONLY)) < 0)
			_exit(2);
		while (done < n) {
			size_t k = n - done < sizeof buf ? n - done : sizeof buf;
			for (size_t i = 0; i < k; i++)
				buf[i] = (unsigned char)(seed + (done + i) * 7);
			ssize_t w = write(fd, buf, k);
			if (w <= 0)
				_exit(3);
			done += (size_t)w;
		}
		_exit(0);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* A pipe holding n pattern bytes, written by a child; returns the read
 * end (the write end is closed here). */
static int pipe_with(size_t n, unsigned seed, pid_t *pid)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	*pid = writer(p[1], p[0], NULL, n, seed);
	close(p[1]);
	return p[0];
}

/* Read n pattern bytes from a pipe into r and check them all. */
static char *read_pipe(rgn_region *r, size_t n, unsigned seed)
{
	size_t len = 0;
	pid_t pid;
	int fd = pipe_with(n, seed, &pid);
	char *p = rgn_read_fd(r, fd, &len);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, n);
	ck_assert(tst_verify(p, len, seed));
	ck_assert_int_eq(p[len], '\0');
	close(fd);
	ck_assert_int_eq(reap(pid), 0);
	return p;
}

/* ---- tail growth through a read (test-sys-tail.c has the rest) -------------- */

/* A 10,000-byte read into a fresh region leaves it holding at most 3
 * blocks through the wrappers too: a pipe (reserved at RGN_SYS_RESERVE)
 * and a regular file. */
START_TEST(test_sys_read_fresh_region_three_blocks)
{
	static char data[10000];
	char dir[64], path[128];
	rgn_region *r;
	size_t len;
	char *p;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	read_pipe(r, 10000, 5);
	ck_assert_uint_le(tst_region(r).blocks, 3);
	rgn_destroy(r);
	ck_assert_uint_eq(tst_space().used_blocks, 0);

	tst_fill(data, sizeof data, 9);
	snprintf(path, sizeof path, "%s/f", tmp_dir(dir, sizeof dir));
	write_file(path, data, sizeof data);
	r = rgn_new(NULL);
	p = rgn_read_file(r, path, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, sizeof data);
	ck_assert_mem_eq(p, data, len);
	ck_assert_uint_le(tst_region(r).blocks, 3);
	rgn_destroy(r);
	tmp_rm(dir);
}
END_TEST

/* ---- reading ----------------------------------------------------------------- */

START_TEST(test_sys_read_file_sizes)
{
	static const size_t sizes[] = { 0, 1, 7, 4095, 4096, 4097, 65535, 65536,
	                                 200000, 3 * MiB + 5 };
	char dir[64], path[128];
	unsigned char *data = malloc(3 * MiB + 5);
	rgn_region *r;

	tst_init(256 * MiB, 0);
	tmp_dir(dir, sizeof dir);
	r = rgn_new(NULL);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t len = 99;
		char *p;

		tst_fill(data, sizes[i], (unsigned)i);
		snprintf(path, sizeof path, "%s/f%zu", dir, i);
		write_file(path, data, sizes[i]);
		p = rgn_read_file(r, path, &len);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(len, sizes[i]);
		ck_assert_int_eq(memcmp(p, data, len), 0);
		ck_assert_int_eq(p[len], '\0');
	}
	rgn_destroy(r);
	free(data);
	tmp_rm(dir);
}
END_TEST

/* A pipe written by another process, far more than the first reservation;
 * then a file read from the middle; then a procfs file whose size the
 * kernel reports as 0. */
START_TEST(test_sys_read_fd_pipe_and_offset)
{
	char dir[64], path[128], buf[100];
	rgn_region *r;
	size_t len;
	char *p;
	int fd;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	read_pipe(r, 5 * MiB + 3, 7);

	tst_fill(buf, sizeof buf, 3);
	snprintf(path, sizeof path, "%s/f", tmp_dir(dir, sizeof dir));
	write_file(path, buf, sizeof buf);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(lseek(fd, 40, SEEK_SET), 40);
	p = rgn_read_fd(r, fd, &len);
	ck_assert_uint_eq(len, 60);
	ck_assert_mem_eq(p, buf + 40, 60);
	close(fd);
	tmp_rm(dir);

	p = rgn_read_file(r, "/proc/self/status", &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_gt(len, 0);
	ck_assert_ptr_nonnull(strstr(p, "Pid:"));
	ck_assert_uint_eq(strlen(p), len);

	tst_null_with(rgn_read_fd(r, -1, &len), EBADF);
	tst_null_with(rgn_read_fd(NULL, 0, &len), EINVAL);
	tst_null_with(rgn_read_file(r, NULL, &len), EINVAL);
	rgn_destroy(r);
}
END_TEST

static char **lines_of(rgn_region *r, const char *text, size_t len, size_t *n)
{
	int p[2];
	char **v;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], text, len), (ssize_t)len);
	close(p[1]);
	v = rgn_read_lines(r, p[0], n);
	close(p[0]);
	return v;
}

START_TEST(test_sys_read_lines)
{
	static const char nul_inside[] = "a\0b\nc";
	rgn_region *r;
	size_t n = 99;
	char **v;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	v = lines_of(r, "one\ntwo\n\nfour", 14, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(v[0], "one");
	ck_assert_str_eq(v[1], "two");
	ck_assert_str_eq(v[2], "");
	ck_assert_str_eq(v[3], "four");
	ck_assert_ptr_null(v[4]);

	v = lines_of(r, "x\n", 2, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0], "x");
	ck_assert_ptr_null(v[1]);

	v = lines_of(r, "", 0, &n);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v[0]);

	v = lines_of(r, nul_inside, sizeof nul_inside - 1, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(memcmp(v[0], "a\0b", 4), 0);
	ck_assert_str_eq(v[1], "c");
	rgn_destroy(r);
}
END_TEST

/* Many lines, more than one reservation. */
START_TEST(test_sys_read_lines_many)
{
	enum { N = 50000 };
	char dir[64], path[128];
	rgn_region *r;
	size_t n;
	FILE *f;
	char **v;
	int fd;

	tst_init(64 * MiB, 0);
	snprintf(path, sizeof path, "%s/lines", tmp_dir(dir, sizeof dir));
	f = fopen(path, "w");
	for (int i = 0; i < N; i++)
		fprintf(f, "line %d %*s\n", i, i % 97, "");
	fclose(f);
	r = rgn_new(NULL);
	fd = rgn_open(r, path, O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	v = rgn_read_lines(r, fd, &n);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(n, N);
	for (int i = 0; i < N; i += 997) {
		char want[128];
		snprintf(want, sizeof want, "line %d %*s", i, i % 97, "");
		ck_assert_str_eq(v[i], want);
	}
	ck_assert_ptr_null(v[N]);
	rgn_destroy(r);
	tmp_rm(dir);
}
END_TEST

/* ---- strings the kernel sizes --------------------------------------------------- */

START_TEST(test_sys_readlink)
{
	char dir[64], link[128], target[4096];
	rgn_region *r, *other;
	char *p;

	tst_init(64 * MiB, 0);
	tmp_dir(dir, sizeof dir);
	snprintf(link, sizeof link, "%s/l", dir);
	/* the longest target Linux stores: PATH_MAX - 1 bytes */
	for (size_t i = 0; i < sizeof target - 1; i++)
		target[i] = (char)('a' + i % 26);
	target[sizeof target - 1] = '\0';
	ck_assert_int_eq(symlink(target, link), 0);
	r = tst_cramped_region(&other);
	p = rgn_readlink(r, link);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p, target);
	ck_assert_uint_ge(tst_region(r).chunks, 2); /* it had to move */

	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(symlink("short", link), 0);
	ck_assert_str_eq(rgn_readlink(r, link), "short");
	tst_null_with(rgn_readlink(r, dir), EINVAL); /* not a link */
	rgn_destroy(other);
	rgn_destroy(r);
	tmp_rm(dir);
}
END_TEST

START_TEST(test_sys_getcwd)
{
	char dir[64], name[201], want[PATH_MAX * 2];
	rgn_region *r, *other;
	char *p;

	tst_init(64 * MiB, 0);
	tmp_dir(dir, sizeof dir);
	ck_assert_int_eq(chdir(dir), 0);
	memset(name, 'd', 200);
	name[200] = '\0';
	for (int i = 0; i < 6; i++) {               /* a cwd of 1,200+ bytes */
		ck_assert_int_eq(mkdir(name, 0755), 0);
		ck_assert_int_eq(chdir(name), 0);
	}
	ck_assert_ptr_nonnull(getcwd(want, sizeof want));
	r = tst_cramped_region(&other);
	p = rgn_getcwd(r);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p, want);
	ck_assert_uint_gt(strlen(p), 1200);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_str_eq(rgn_getcwd(r), "/");
	rgn_destroy(other);
	rgn_destroy(r);
	tmp_rm(dir);
}
END_TEST

/* ---- directories ---------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	return strcmp(((const rgn_dirent *)a)->name, ((const rgn_dirent *)b)->name);
}

/* A directory of n files with names from 1 to 255 bytes, a subdirectory
 * and symlinks; compared with readdir(3) entry by entry. */
START_TEST(test_sys_list_dir)
{
	enum { N = 3000 };
	char dir[64], path[512], name[256];
	rgn_dirent *v;
	rgn_region *r;
	size_t n, seen = 0;
	struct dirent *e;
	DIR *d;

	tst_init(64 * MiB, 0);
	tmp_dir(dir, sizeof dir);
	for (int i = 0; i < N; i++) {
		int len = 1 + i % 255, k = snprintf(name, sizeof name, "%d-", i);
		if (len < k)
			len = k;
		memset(name + k, 'n', (size_t)(len - k));  /* up to 255 bytes */
		name[len] = '\0';
		snprintf(path, sizeof path, "%s/%s", dir, name);
		write_file(path, name, (size_t)i % 50);
	}
	snprintf(path, sizeof path, "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/link", dir);
	ck_assert_int_eq(symlink("sub", path), 0);
	snprintf(path, sizeof path, "%s/.hidden", dir);
	write_file(path, "h", 1);

	r = rgn_new(NULL);
	v = rgn_list_dir(r, dir, &n);
	ck_assert_ptr_nonnull(v);
	qsort(v, n, sizeof *v, by_name);
	d = opendir(dir);
	while ((e = readdir(d)) != NULL) {
		rgn_dirent key = { .name = e->d_name };
		rgn_dirent *got;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		got = bsearch(&key, v, n, sizeof *v, by_name);
		ck_assert_msg(got != NULL, "%s missing", e->d_name);
		ck_assert_uint_eq(got->ino, e->d_ino);
		ck_assert_uint_eq(got->type, e->d_type);
		ck_assert_uint_eq(got->namelen, strlen(e->d_name));
		seen++;
	}
	closedir(d);
	ck_assert_uint_eq(seen, n);
	ck_assert_uint_eq(n, N + 3);
	rgn_destroy(r);
	tmp_rm(dir);
}
END_TEST

START_TEST(test_sys_list_dir_empty)
{
	char dir[64];
	rgn_region *r;
	size_t n = 99;

	tst_init(64 * MiB, 0);
	tmp_dir(dir, sizeof dir);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(rgn_list_dir(r, dir, &n));
	ck_assert_uint_eq(n, 0);
	rgn_destroy(r);
	tmp_rm(dir);
}
END_TEST

/* ---- descriptors owned by a region ---------------------------------------------- */

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

START_TEST(test_sys_open_close)
{
	rgn_region *r, *c;
	int a, b, k;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	c = rgn_new(r);
	a = rgn_open(r, "/dev/null", O_RDONLY, 0);
	b = rgn_open(c, "/dev/null", O_RDONLY, 0);
	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(b, 0);
	ck_assert_int_eq(fcntl(a, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_uint_eq(tst_region(r).cleanups, 1);

	/* closed early: the cleanup goes with it */
	ck_assert_int_eq(rgn_close(r, a), 0);
	ck_assert(!fd_open(a));
	ck_assert_uint_eq(tst_region(r).cleanups, 0);
	tst_fails_with(rgn_close(r, a), EBADF); /* not r's any more */

	/* a descriptor r does not own is refused and left open */
	k = open("/dev/null", O_RDONLY | O_CLOEXEC);
	tst_fails_with(rgn_close(r, k), EBADF);
	ck_assert(fd_open(k));
	close(k);

	/* destroying the parent closes the child's */
	rgn_destroy(r);
	ck_assert(!fd_open(b));

	/* reset closes too; a failed open registers nothing */
	r = rgn_new(NULL);
	a = rgn_open(r, "/dev/null", O_RDONLY, 0);
	rgn_reset(r);
	ck_assert(!fd_open(a));
	tst_fails_with(rgn_open(r, "/nonexistent/x", O_RDONLY, 0), ENOENT);
	ck_assert_uint_eq(tst_region(r).cleanups, 0);
	tst_fails_with(rgn_open(NULL, "/dev/null", O_RDONLY, 0), EINVAL);
	rgn_destroy(r);
}
END_TEST

/* ---- error paths: the region, the space and the descriptors as before ------------ */

START_TEST(test_sys_error_missing)
{
	rgn_region *r;
	struct snap s;
	size_t n;

	tst_init(64 * MiB, 0);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(rgn_strdup(r, "something before"));
	s = snap_take(r);
	tst_null_with(rgn_read_file(r, "/nonexistent/file", &n), ENOENT);
	snap_same(r, &s);
	tst_null_with(rgn_list_dir(r, "/nonexistent/dir", &n), ENOENT);
	snap_same(r, &s);
	tst_null_with(rgn_readlink(r, "/nonexistent/link"), ENOENT);
	snap_same(r, &s);
	tst_null_with(rgn_list_dir(r, "/dev/null", &n), ENOTDIR);
	snap_same(r, &s);
	rgn_destroy(r);
}
END_TEST

/* A directory opened as a file: open works, read fails with EISDIR after
 * the tail was reserved (and grown into the region's own block). */
START_TEST(test_sys_error_directory_as_file)
{
	char dir[64];
	rgn_region *r;
	struct snap s;
	size_t n;

	tst_init(64 * MiB, 0);
	tmp_dir(dir, sizeof dir);
	r = rgn_new(NULL);                           /* fresh: the tail extends it */
	s = snap_take(r);
	tst_null_with(rgn_read_file(r, dir, &n), EISDIR);
	snap_same(r, &s);
	ck_assert_uint_eq(tst_region(r).blocks, 1);
	rgn_destroy(r);
	tmp_rm(dir);
}
END_TEST

/* A FIFO with a writer: read to the writer's end, through several
 * growths; the same FIFO as a directory is refused. */
START_TEST(test_sys_error_fifo_with_writer)
{
	char dir[64], fifo[128];
	rgn_region *r;
	struct snap s;
	size_t n;
	pid_t pid;
	char *p;

	tst_init(64 * MiB, 0);
	snprintf(fifo, sizeof fifo, "%s/fifo", tmp_dir(dir, sizeof dir));
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	r = rgn_new(NULL);
	s = snap_take(r);
	pid = writer(-1, -1, fifo, 700 * KiB + 1, 11);
	p = rgn_read_file(r, fifo, &n);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(n, 700 * KiB + 1);
	ck_assert(tst_verify(p, n, 11));
	ck_assert_int_eq(reap(pid), 0);
	ck_assert_uint_eq(open_fds(), s.fds);
	s = snap_take(r);
	tst_null_with(rgn_list_dir(r, fifo, &n), ENOTDIR);
	snap_same(r, &s);
	rgn_destroy(r);
	tmp_rm(dir);
}
END_TEST

/* A 16 MiB space runs out while a pipe is being read (the size was not
 * known in advance): ENOMEM, nothing kept, and the region still works. */
START_TEST(test_sys_error_space_runs_out_mid_read)
{
	char dir[64], path[128];
	rgn_region *r;
	struct snap s;
	size_t n;
	pid_t pid;
	int fd;

	tst_init(16 * MiB, 0);
	signal(SIGPIPE, SIG_IGN);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(rgn_alloc(r, 1000));
	s = snap_take(r);
	fd = pipe_with(24 * MiB, 1, &pid);
	tst_null_with(rgn_read_fd(r, fd, &n), ENOMEM);
	close(fd);                                   /* the writer gets EPIPE */
	ck_assert_int_ne(reap(pid), 0);
	snap_same(r, &s);
	ck_assert_int_eq(rgn_blk_check(), 0);

	/* a regular file larger than the space fails at once, and a
	 * descriptor is put back where it was */
	snprintf(path, sizeof path, "%s/big", tmp_dir(dir, sizeof dir));
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ck_assert_int_eq(ftruncate(fd, 64 * MiB), 0);  /* sparse */
	ck_assert_int_eq(lseek(fd, 5, SEEK_SET), 5);
	tst_null_with(rgn_read_fd(r, fd, &n), ENOMEM);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 5);
	close(fd);
	tst_null_with(rgn_read_file(r, path, &n), ENOMEM);
	snap_same(r, &s);

	/* still works, and can hold a large part of the space */
	read_pipe(r, 6 * MiB, 2);
	rgn_destroy(r);
	ck_assert_uint_eq(tst_space().used_blocks, 0);
	tmp_rm(dir);
}
END_TEST

/* The out-of-memory handler hears of a read only when the read fails:
 * the smaller tries before that (rgn_tail_grow) do not call it. */
static int ooms;
static void count_oom(size_t size, void *arg)
{
	(void)size;
	(void)arg;
	ooms++;
}

START_TEST(test_sys_oom_handler_only_when_a_read_fails)
{
	rgn_region *r;
	size_t n;
	pid_t pid;
	int fd;

	tst_init(16 * MiB, 0);
	signal(SIGPIPE, SIG_IGN);
	(void)rgn_set_oom_handler(count_oom, NULL);
	r = rgn_new(NULL);
	ck_assert_ptr_nonnull(r);
	/* doubling past 8 MiB cannot be had in a 16 MiB space: the read asks
	 * for less, and succeeds */
	read_pipe(r, 10 * MiB, 3);
	ck_assert_int_eq(ooms, 0);
	rgn_reset(r);
	fd = pipe_with(24 * MiB, 4, &pid);
	tst_null_with(rgn_read_fd(r, fd, &n), ENOMEM);
	close(fd);
	ck_assert_int_ne(reap(pid), 0);
	ck_assert_int_eq(ooms, 1);
	rgn_destroy(r);
}
END_TEST

/* ---- a signal during a read ------------------------------------------------------- */

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

struct interrupter {
	pid_t     tid;      /* the reading thread */
	pthread_t thread;
	int       wfd;      /* the pipe's write end */
};

/* Is thread tid blocked in read(2)?  /proc/self/task/<tid>/syscall
 * names the system call a blocked thread is in. */
static int blocked_in_read(pid_t tid)
{
	char path[64], line[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(line, sizeof line, f))
		nr = strtol(line, NULL, 10);
	fclose(f);
	return nr == SYS_read;
}

/* Wait until the reader is blocked in read, signal it, wait for the
 * handler to have run, and only then write the data and close. */
static void *interrupt_then_write(void *arg)
{
	struct interrupter *it = arg;
	char buf[1000];

	while (!blocked_in_read(it->tid))
		usleep(1000);
	pthread_kill(it->thread, SIGUSR1);
	while (!signals_seen)
		usleep(1000);
	tst_fill(buf, sizeof buf, 13);
	if (write(it->wfd, buf, sizeof buf) != (ssize_t)sizeof buf)
		abort();
	close(it->wfd);
	return NULL;
}

START_TEST(test_sys_read_interrupted_by_signal)
{
	struct sigaction sa;
	struct interrupter it;
	pthread_t th;
	rgn_region *r;
	size_t n;
	char *p;
	int fds[2];

#ifdef TST_EMULATED
	/* the interrupter waits until /proc says this thread sleeps in
	 * read(2); under user-mode emulation /proc shows qemu's own calls */
	printf("test_sys_read_interrupted_by_signal: skipped under emulation\n");
	return;
#endif
	tst_init(64 * MiB, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = 0;                             /* no SA_RESTART: EINTR */
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	it.tid = (pid_t)syscall(SYS_gettid);
	it.thread = pthread_self();
	it.wfd = fds[1];
	ck_assert_int_eq(pthread_create(&th, NULL, interrupt_then_write, &it), 0);
	r = rgn_new(NULL);
	p = rgn_read_fd(r, fds[0], &n);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(n, 1000);
	ck_assert(tst_verify(p, n, 13));
	ck_assert_int_ge(signals_seen, 1);
	close(fds[0]);
	rgn_destroy(r);
}
END_TEST

Suite *suite_sys(void)
{
	Suite *s = suite_create("sys");
	TCase *tc;

	tc = tst_sys_tail_tcase();
	tcase_add_test(tc, test_sys_read_fresh_region_three_blocks);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_test(tc, test_sys_read_file_sizes);
	tcase_add_test(tc, test_sys_read_fd_pipe_and_offset);
	tcase_add_test(tc, test_sys_read_lines);
	tcase_add_test(tc, test_sys_read_lines_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("strings");
	tcase_add_test(tc, test_sys_readlink);
	tcase_add_test(tc, test_sys_getcwd);
	suite_add_tcase(s, tc);

	tc = tcase_create("dir");
	tcase_add_test(tc, test_sys_list_dir);
	tcase_add_test(tc, test_sys_list_dir_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("fd");
	tcase_add_test(tc, test_sys_open_close);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_sys_error_missing);
	tcase_add_test(tc, test_sys_error_directory_as_file);
	tcase_add_test(tc, test_sys_error_fifo_with_writer);
	tcase_add_test(tc, test_sys_error_space_runs_out_mid_read);
	tcase_add_test(tc, test_sys_oom_handler_only_when_a_read_fails);
	tcase_add_test(tc, test_sys_read_interrupted_by_signal);
	suite_add_tcase(s, tc);
	return s;
}
