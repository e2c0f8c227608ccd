/*
 * fuzz-sys.c - the system-call wrappers (rgn_sys.h) with paths, contents,
 * link targets and formats taken from the input.
 *
 * Each input runs in a fresh directory under a temporary one, over one
 * region of either backend.  Files, directories and symbolic links are
 * made with names from the input (any byte but '/' and NUL, up to 300
 * bytes, so ENAMETOOLONG is reached too), then read back through the
 * wrappers: what a wrapper returns must be what was written, and a
 * wrapper that fails must set errno and leave nothing allocated in the
 * region (its used bytes unchanged) and no descriptor open.  Formats for
 * rgn_format are built from the input with integer conversions only, and
 * compared with snprintf's output.  At the end the region is destroyed
 * and no region may be left live.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rgn.h"
#include "rgn_sys.h"

#define FUZZ_NAME "fuzz-sys"
#include "fuzz.h"


static char top[64];           /* the temporary directory */
static char dir[128];          /* this input's directory */
static rgn_region *R;
static int next_fd;            /* the lowest free descriptor */

static size_t used(void)
{
	struct rgn_region_stats st;

	CHECK(rgn_region_stats(R, &st) == 0, "stats");
	return st.used;
}

static int lowest_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0, "open /dev/null");
	close(fd);
	return fd;
}

/* Open descriptors of this process. */
static int nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	CHECK(d != NULL, "/proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static size_t before_used;
static int before_fds;

/* Before a wrapper is called: what a failure must leave as it was. */
static void snap(void)
{
	before_used = used();
	before_fds = nfds();
}

/* A failed wrapper: errno set, nothing left allocated, no fd leaked. */
static void failed(const char *what)
{
	CHECK(errno != 0, "%s failed without errno", what);
	CHECK(used() == before_used, "%s failed but left %zu bytes allocated", what,
	      used() - before_used);
	CHECK(nfds() == before_fds, "%s leaked a descriptor", what);
}

/* A name from the input: 1 to 300 bytes, no '/' or NUL; "." and ".."
 * are made into other names. */
static void pick_name(struct in *in, char *name)
{
	size_t len = u8(in), i;

	if (len & 0x80)
		len = 200 + u8(in) % 101; /* around NAME_MAX */
	else
		len = 1 + len % 12;
	for (i = 0; i < len; i++) {
		char c = (char)u8(in);
		name[i] = (c == '/' || c == 0) ? (char)('a' + i % 26) : c;
	}
	name[len] = 0;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		name[0] = '_';
}

/* Bytes for a file: taken from the input, or a pattern up to 300 KiB. */
static char *pick_content(struct in *in, size_t *len)
{
	uint8_t how = u8(in);
	size_t n;
	char *c;

	if (how & 1)
		n = (size_t)u16(in) * 5;   /* up to 320 KiB */
	else
		n = u8(in);
	c = malloc(n + 1);
	CHECK(c != NULL, "malloc");
	for (size_t i = 0; i < n; i++)
		c[i] = (how & 1) ? (char)((i % 61 == 60) ? '\n' : 'a' + i % 26 + how % 3)
		                 : (char)u8(in);
	*len = n;
	return c;
}

static bool write_file(const char *path, const char *c, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return false;
	for (size_t off = 0; off < n;) {
		ssize_t k = write(fd, c + off, n - off);
		CHECK(k > 0, "write: %s", strerror(errno));
		off += (size_t)k;
	}
	close(fd);
	return true;
}

static void op_file(struct in *in)
{
	char name[320], path[512];
	size_t n, got = 0;
	char *c = pick_content(in, &n), *r;
	bool made;

	pick_name(in, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	made = write_file(path, c, n);
	snap();
	errno = 0;
	r = rgn_read_file(R, path, &got);
	if (made) {
		if (!r) {
			CHECK(errno == ENOMEM, "read_file of a file just made: %s",
			      strerror(errno));
			failed("rgn_read_file");
		} else {
			CHECK(got == n && memcmp(r, c, n) == 0 && r[n] == 0,
			      "read_file: %zu bytes, want %zu", got, n);
		}
	} else {
		CHECK(!r, "read a file that could not be made");
		failed("rgn_read_file");
	}
	if (made && (n % 3) == 0) {
		/* the same as lines */
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		size_t nl = 0, want = 0;
		char **lines;

		CHECK(fd >= 0, "reopen");
		snap();
		errno = 0;
		lines = rgn_read_lines(R, fd, &nl);
		for (size_t i = 0; i < n; i++)
			want += c[i] == '\n';
		want += n && c[n - 1] != '\n';
		if (!lines) {
			CHECK(errno == ENOMEM, "read_lines: %s", strerror(errno));
			failed("rgn_read_lines"); /* fd still open, as at snap() */
		} else {
			CHECK(nl == want && lines[nl] == NULL, "%zu lines, want %zu", nl, want);
		}
		close(fd);
	}
	free(c);
}

static void op_pipe(struct in *in)
{
	int p[2];
	size_t n = u16(in) % 4097, got = 0;
	char buf[4096], *r;

	for (size_t i = 0; i < n && i < sizeof buf; i++)
		buf[i] = (char)u8(in);
	if (n > sizeof buf)
		n = sizeof buf;
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	CHECK(write(p[1], buf, n) == (ssize_t)n, "pipe write");
	close(p[1]);
	snap();
	errno = 0;
	r = rgn_read_fd(R, p[0], &got);
	if (!r) {
		CHECK(errno == ENOMEM, "read_fd(pipe): %s", strerror(errno));
		failed("rgn_read_fd"); /* p[0] still open, as at snap() */
	} else {
		CHECK(got == n && memcmp(r, buf, n) == 0, "pipe: %zu bytes, want %zu", got, n);
	}
	close(p[0]);
	/* a closed descriptor */
	snap();
	errno = 0;
	/* EBADF; ENOMEM first if the region cannot even reserve the tail */
	CHECK(rgn_read_fd(R, p[0], NULL) == NULL && (errno == EBADF || errno == ENOMEM),
	      "read_fd(closed): %s", strerror(errno));
	failed("rgn_read_fd(closed)");
}

static void op_link(struct in *in)
{
	char name[320], path[512], target[4200], *r;
	size_t len = (u8(in) & 1) ? u16(in) % 4200 : u8(in) % 40;

	for (size_t i = 0; i < len; i++) {
		target[i] = (char)u8(in);
		if (!target[i])
			target[i] = 'x';
	}
	target[len] = 0;
	pick_name(in, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	errno = 0;
	bool made = len > 0 && symlink(target, path) == 0;
	snap();
	errno = 0;
	r = rgn_readlink(R, path);
	if (!r) {
		/* (the buffer is taken before the call: a small contiguous
		 * region may be full by now) */
		CHECK(!made || errno == ENOMEM, "readlink: %s", strerror(errno));
		failed("rgn_readlink");
	} else {
		/* (not made: an older link of that name may answer) */
		CHECK(!made || strcmp(r, target) == 0, "readlink: differs");
	}
	/* a regular file or a directory is not a link */
	snap();
	errno = 0;
	CHECK(rgn_readlink(R, dir) == NULL && (errno == EINVAL || errno == ENOMEM),
	      "readlink(dir): %s", strerror(errno));
	failed("rgn_readlink(dir)");
}

static void op_dir(struct in *in)
{
	char name[320], path[512], sub[900];
	int k = u8(in) % 20, made = 0;
	size_t n = 99;
	rgn_dirent *d;

	pick_name(in, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (mkdir(path, 0700) != 0) {
		snap();
		errno = 0;
		d = rgn_list_dir(R, path, &n);
		if (!d)
			failed("rgn_list_dir");
		return;
	}
	for (int i = 0; i < k; i++) {
		char leaf[320];
		pick_name(in, leaf);
		snprintf(sub, sizeof sub, "%s/%s", path, leaf);
		if (access(sub, F_OK) != 0 && write_file(sub, "x", 1))
			made++;
	}
	snap();
	errno = 0;
	d = rgn_list_dir(R, path, &n);
	if (!d) {
		CHECK(errno == ENOMEM, "list_dir: %s", strerror(errno));
		failed("rgn_list_dir");
		return;
	}
	CHECK(n == (size_t)made, "%zu entries, want %d", n, made);
	for (size_t i = 0; i < n; i++)
		CHECK(strlen(d[i].name) == d[i].namelen && d[i].name[0] != 0 &&
		      strcmp(d[i].name, ".") && strcmp(d[i].name, ".."), "entry %zu", i);
	/* a file is not a directory */
	snprintf(sub, sizeof sub, "%s/none/x", path);
	snap();
	errno = 0;
	CHECK(rgn_list_dir(R, sub, &n) == NULL && errno == ENOENT, "list_dir(missing)");
	failed("rgn_list_dir(missing)");
}

static void op_open(struct in *in)
{
	char name[320], path[512];
	int fd;

	pick_name(in, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	errno = 0;
	fd = rgn_open(R, path, (u8(in) & 1) ? O_RDWR | O_CREAT : O_RDONLY, 0600);
	if (fd < 0) {
		CHECK(errno != 0, "rgn_open without errno");
		return;
	}
	if (u8(in) & 1) {
		CHECK(rgn_close(R, fd) == 0, "rgn_close: %s", strerror(errno));
		errno = 0;
		CHECK(rgn_close(R, fd) == -1 && errno == EBADF, "second rgn_close");
	}
	/* else the region closes it */
}

static void op_format(struct in *in)
{
	char fmt[128], want[8192];
	size_t k = 0;
	int conv = 0, len;
	char *r;
	static const char convs[] = "diuxXoc%";
	static const char flags[] = "-+ #0";

	while (k < sizeof fmt - 16 && in->n && conv < 8) {
		uint8_t b = u8(in);
		if (b & 1) {
			size_t start = k;
			fmt[k++] = '%';
			if (b & 2)
				fmt[k++] = flags[(b >> 2) % 5];
			if (b & 0x40)
				k += (size_t)sprintf(fmt + k, "%u", u8(in) % 200);
			if (b & 0x80)
				k += (size_t)sprintf(fmt + k, ".%u", u8(in) % 50);
			fmt[k] = convs[u8(in) % 8];
			if (fmt[k] == '%') {
				k = start + 1;   /* a plain "%%" */
				fmt[k] = '%';
			} else {
				conv++;
			}
			k++;
		} else {
			char c = (char)(b >> 1);
			fmt[k++] = c && c != '%' ? c : 'z';
		}
	}
	fmt[k] = 0;
	int a[8];
	for (int i = 0; i < 8; i++)
		a[i] = (int)(u16(in) | (uint32_t)u16(in) << 16);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	len = snprintf(want, sizeof want, fmt, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
	snap();
	errno = 0;
	r = rgn_format(R, fmt, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
#pragma GCC diagnostic pop
	if (!r) {
		CHECK(errno == ENOMEM, "format \"%s\": %s", fmt, strerror(errno));
		failed("rgn_format");
		return;
	}
	CHECK(len >= 0 && (size_t)len < sizeof want && strcmp(r, want) == 0,
	      "format \"%s\" gave \"%s\", want \"%s\"", fmt, r, want);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(path);
}

static void rm_top(void)
{
	rmdir(top); /* every input removes its own directory */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct rgn_space_stats sp;
	rgn_options o = { 0 };
	static unsigned runs;
	char cwd[4096], *c;

	if (!top[0]) {
		rgn_config cfg = { .space_size = (size_t)64 << 20 };
		CHECK(rgn_init(&cfg) == 0, "rgn_init: %s", strerror(errno));
		strcpy(top, "/tmp/rgn-fuzz-sys-XXXXXX");
		CHECK(mkdtemp(top) != NULL, "mkdtemp: %s", strerror(errno));
		atexit(rm_top);
	}
	snprintf(dir, sizeof dir, "%s/%u", top, runs++);
	CHECK(mkdir(dir, 0700) == 0, "mkdir %s: %s", dir, strerror(errno));
	next_fd = lowest_fd();
	if (u8(&in) & 1) {
		o.backend = RGN_BACKEND_CONTIG;
		o.reserve = (size_t)1 << 20 << (u8(&in) % 4);
	}
	R = rgn_new_with(NULL, &o);
	CHECK(R != NULL, "rgn_new_with: %s", strerror(errno));
	for (int ops = 0; in.n && ops < 64; ops++) {
		switch (u8(&in) % 7) {
		case 0: op_file(&in); break;
		case 1: op_pipe(&in); break;
		case 2: op_link(&in); break;
		case 3: op_dir(&in); break;
		case 4: op_open(&in); break;
		case 5: op_format(&in); break;
		default:
			snap();
			errno = 0;
			c = rgn_getcwd(R);
			if (!c) {
				/* a small contiguous region may be full by now */
				CHECK(errno == ENOMEM, "getcwd: %s", strerror(errno));
				failed("rgn_getcwd");
				break;
			}
			CHECK(getcwd(cwd, sizeof cwd) && strcmp(c, cwd) == 0, "getcwd");
			break;
		}
	}
	rgn_destroy(R);
	R = NULL;
	CHECK(lowest_fd() == next_fd, "a descriptor outlived its region");
	CHECK(rgn_space_stats(&sp) == 0 && sp.live_regions == 0, "regions left live");
	CHECK(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0, "rm -r %s", dir);
	return 0;
}
