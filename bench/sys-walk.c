/*
 * sys-walk - walk a tree and read every file in it: rgn's system-call
 * wrappers against the usual C library way.  Run by bench/sys_walk.py
 * (scripts/bench), one process per run so that peak RSS is the run's own.
 *
 *   sys-walk gen DIR [FILES]   make the tree: FILES small files (default
 *                              20000, 0 to 4000 bytes) in directories of
 *                              100, two levels deep
 *   sys-walk rgn DIR           walk it with rgn_list_dir + rgn_read_file
 *   sys-walk glibc DIR         walk it with opendir/readdir, strdup, malloc
 *   sys-walk check DIR         both in one process; fail unless they agree
 *
 * Both walks do the same work in the same order: list a directory (names
 * and types), then read every regular file in it into memory, keeping all
 * of that directory's contents until the directory is done (as a runtime
 * returning a listing and its files would), fold every byte into a
 * checksum, and go down into subdirectories.  rgn: a child region per
 * directory, destroyed on the way out.  glibc: readdir names strdup'd
 * into a realloc'd array, each file in a malloc'd buffer sized by fstat
 * (and grown if the file grew), everything freed on the way out.  Neither
 * calls stat on entries: both use the type the directory listing gives.
 *
 * Output, one line: "sys-walk VARIANT ms M files N bytes B checksum C
 * peak_rss_kib R".
 */
#define _GNU_SOURCE
#include "rgn_sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "common.h"

struct tally {
	uint64_t files, bytes, sum;
};

static void die(const char *what, const char *path)
{
	fprintf(stderr, "sys-walk: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void fold(struct tally *t, const char *p, size_t n)
{
	uint64_t h = t->sum;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001B3ull;
	t->sum = h;
	t->files++;
	t->bytes += n;
}

/* ---- rgn ------------------------------------------------------------------ */

static void walk_rgn(rgn_region *parent, const char *dir, struct tally *t)
{
	rgn_region *r = rgn_new(parent);
	struct { char *p; size_t n; } *got;
	rgn_dirent *v;
	size_t n = 0;

	if (!r || !(v = rgn_list_dir(r, dir, &n)))
		die("list", dir);
	got = rgn_alloc_array(r, n + 1, sizeof(*got));
	for (size_t i = 0; i < n; i++) {
		got[i].p = NULL;
		if (v[i].type != DT_REG)
			continue;
		char *path = rgn_format(r, "%s/%s", dir, v[i].name);
		if (!path || !(got[i].p = rgn_read_file(r, path, &got[i].n)))
			die("read", path ? path : dir);
	}
	for (size_t i = 0; i < n; i++)
		if (got[i].p)
			fold(t, got[i].p, got[i].n);
	for (size_t i = 0; i < n; i++) {
		if (v[i].type != DT_DIR)
			continue;
		rgn_mark m = rgn_save(r);
		walk_rgn(r, rgn_format(r, "%s/%s", dir, v[i].name), t);
		rgn_rewind(r, m);
	}
	rgn_destroy(r);
}

/* ---- the C library --------------------------------------------------------- */

struct ent {
	char         *name;
	unsigned char type;
	char         *data;
	size_t        len;
};

static char *read_malloc(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t cap, n = 0;
	char *buf;
	ssize_t k;

	if (fd < 0)
		return NULL;
	cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 2 : 65536;
	buf = malloc(cap);
	for (;;) {
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	if (k < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void walk_glibc(const char *dir, struct tally *t)
{
	DIR *d = opendir(dir);
	struct ent *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	char *path;

	if (!d)
		die("list", dir);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
		}
		v[n].name = strdup(e->d_name);
		v[n].type = e->d_type;
		v[n].data = NULL;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		if (v[i].type != DT_REG)
			continue;
		if (asprintf(&path, "%s/%s", dir, v[i].name) < 0 ||
		    !(v[i].data = read_malloc(path, &v[i].len)))
			die("read", dir);
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].data)
			fold(t, v[i].data, v[i].len);
	for (size_t i = 0; i < n; i++) {
		if (v[i].type == DT_DIR) {
			if (asprintf(&path, "%s/%s", dir, v[i].name) < 0)
				die("walk", dir);
			walk_glibc(path, t);
			free(path);
		}
		free(v[i].data);
		free(v[i].name);
	}
	free(v);
}

/* ---- the tree --------------------------------------------------------------- */

static void gen(const char *root, long files)
{
	static char buf[4001];
	uint64_t s = 42;
	char path[4096];

	memset(buf, 'x', sizeof buf);
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		die("mkdir", root);
	for (long i = 0; i < files; i++) {
		long dirno = i / 100, top = dirno / 20;
		size_t size;
		int fd;

		if (i % 100 == 0) {
			snprintf(path, sizeof path, "%s/t%ld", root, top);
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				die("mkdir", path);
			snprintf(path, sizeof path, "%s/t%ld/d%ld", root, top, dirno);
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				die("mkdir", path);
		}
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		size = (size_t)(s >> 33) % sizeof buf;
		snprintf(path, sizeof path, "%s/t%ld/d%ld/file-%ld.txt", root, top, dirno, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		buf[0] = (char)('a' + i % 26);
		if (fd < 0 || write(fd, buf, size) != (ssize_t)size || close(fd) != 0)
			die("write", path);
	}
}

/* Peak resident set of this program: VmHWM, which belongs to the
 * process image (getrusage's ru_maxrss also counts the parent's memory
 * before the exec). */
static long peak_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static double now_ms(void)
{
	return (double)now_ns() / 1e6;
}

static struct tally run(const char *variant, const char *dir, double *ms)
{
	struct tally t = { 0, 0, 0xcbf29ce484222325ull };
	double t0 = now_ms();

	if (!strcmp(variant, "rgn"))
		walk_rgn(NULL, dir, &t);
	else
		walk_glibc(dir, &t);
	*ms = now_ms() - t0;
	return t;
}

int main(int argc, char **argv)
{
	static const char *const commands[] = { "gen", "check", "rgn", "glibc" };
	struct bench_args args;
	struct tally t;
	const char *dir, *files;
	double ms;
	int cmd;

	args_init(&args, argc, argv,
	          "usage: sys-walk gen DIR [FILES] | rgn DIR | glibc DIR | check DIR\n");
	cmd = args_choice(&args, args_next(&args), commands, 4);
	dir = args_next(&args);
	if (cmd == 0) {
		files = args_word(&args);
		args_done(&args);
		gen(dir, files ? (long)args_uint(&args, files, 0, LONG_MAX) : 20000);
		return 0;
	}
	args_done(&args);
	if (cmd == 1) {
		struct tally a = run("rgn", dir, &ms), b = run("glibc", dir, &ms);
		if (a.files != b.files || a.bytes != b.bytes || a.sum != b.sum || !a.files) {
			fprintf(stderr, "sys-walk: rgn and glibc disagree: %" PRIu64
			        " files %" PRIu64 " bytes against %" PRIu64 " and %" PRIu64 "\n",
			        a.files, a.bytes, b.files, b.bytes);
			return 1;
		}
		printf("sys-walk check: %" PRIu64 " files, %" PRIu64 " bytes, both agree\n",
		       a.files, a.bytes);
		return 0;
	}
	t = run(commands[cmd], dir, &ms);
	printf("sys-walk %s ms %.3f files %" PRIu64 " bytes %" PRIu64
	       " checksum %016" PRIx64 " peak_rss_kib %ld\n",
	       commands[cmd], ms, t.files, t.bytes, t.sum, peak_rss_kib());
	return 0;
}
