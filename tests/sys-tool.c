/*
 * sys-tool - the wrappers of rgn_sys.h from the command line, for
 * sys-oracle.sh to compare with programs rgn did not write:
 *
 *   sys-tool ls DIR...      rgn_list_dir: one name per line, in the C
 *                           locale's order (ls -A; for more than one
 *                           DIR, each as "DIR:" and a blank line between,
 *                           as ls -A prints them)
 *   sys-tool cat FILE...    rgn_read_file: the bytes, to stdout (cmp)
 *   sys-tool readlink PATH  rgn_readlink: the target and a newline
 *   sys-tool lines FILE     rgn_read_lines: the line count (wc -l)
 *
 * Each command works in a region of its own, destroyed before exit.
 */
#define _POSIX_C_SOURCE 200809L
#include "rgn_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, const char *arg)
{
	fprintf(stderr, "sys-tool: %s %s: %s\n", what, arg, strerror(errno));
	return 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const rgn_dirent *)a)->name, ((const rgn_dirent *)b)->name);
}

static int run(rgn_region *r, int argc, char **argv)
{
	const char *cmd = argv[1];
	size_t n;

	if (!strcmp(cmd, "ls") && argc >= 3) {
		/* one process for hundreds of directories: a process per
		 * directory was most of the oracle's time */
		for (int i = 2; i < argc; i++) {
			rgn_dirent *v = rgn_list_dir(r, argv[i], &n);
			if (!v)
				return fail("ls", argv[i]);
			qsort(v, n, sizeof(*v), by_name);
			if (argc > 3)
				printf("%s%s:\n", i > 2 ? "\n" : "", argv[i]);
			for (size_t j = 0; j < n; j++)
				printf("%s\n", v[j].name);
		}
		return 0;
	}
	if (!strcmp(cmd, "cat") && argc >= 3) {
		for (int i = 2; i < argc; i++) {
			char *p = rgn_read_file(r, argv[i], &n);
			if (!p)
				return fail("cat", argv[i]);
			if (fwrite(p, 1, n, stdout) != n)
				return fail("write", "stdout");
		}
		return 0;
	}
	if (!strcmp(cmd, "readlink") && argc == 3) {
		char *p = rgn_readlink(r, argv[2]);
		if (!p)
			return fail("readlink", argv[2]);
		printf("%s\n", p);
		return 0;
	}
	if (!strcmp(cmd, "lines") && argc == 3) {
		int fd = rgn_open(r, argv[2], O_RDONLY, 0);
		if (fd < 0 || !rgn_read_lines(r, fd, &n))
			return fail("lines", argv[2]);
		printf("%zu\n", n);
		return 0;
	}
	fprintf(stderr, "usage: sys-tool ls DIR... | cat FILE... | readlink PATH | lines FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	rgn_region *r = rgn_new(NULL);
	int rc;

	if (!r)
		return fail("rgn_new", "");
	rc = argc < 2 ? run(r, 2, (char *[]){ argv[0], "", NULL }) : run(r, argc, argv);
	rgn_destroy(r);
	if (fflush(stdout) != 0)
		return fail("write", "stdout");
	return rc;
}
