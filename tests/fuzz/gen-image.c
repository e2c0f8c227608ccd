/*
 * gen-image.c - writes the image seeds of corpus-image/: images written
 * by rgn_image_write from contiguous regions of a few shapes (empty, a
 * root object, a linked list of references, a page-crossing string), and
 * damaged copies of one (truncated, with a trailing byte, a flipped
 * checksum).  Not a test: run by hand when the image format changes,
 *   build/tests/fuzz/gen-image tests/fuzz/corpus-image
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rgn.h"

static int write_image(const char *dir, const char *name, rgn_region *r, rgn_ref root)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || rgn_image_write(r, fd, root) != 0) {
		perror(path);
		exit(1);
	}
	close(fd);
	return 0;
}

static void damaged(const char *dir, const char *from, const char *name, int how)
{
	char src[4096], dst[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(src, sizeof src, "%s/%s", dir, from);
	snprintf(dst, sizeof dst, "%s/%s", dir, name);
	f = fopen(src, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 64 || fseek(f, 0, SEEK_SET))
		exit(1);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	if (how == 0)
		n -= 8;           /* truncated */
	else if (how == 1)
		buf[n++] = 'x';   /* a trailing byte */
	else
		buf[40] ^= 1;     /* the checksum */
	f = fopen(dst, "wb");
	if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f))
		exit(1);
	free(buf);
}

int main(int argc, char **argv)
{
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = (size_t)1 << 20 };
	rgn_config cfg = { .space_size = (size_t)64 << 20 };
	struct node { rgn_ref next; uint32_t value; } *n;
	rgn_region *r;
	rgn_ref head = 0;
	char *s;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (rgn_init(&cfg) != 0) {
		perror("rgn_init");
		return 1;
	}
	r = rgn_new_with(NULL, &o);
	write_image(argv[1], "empty", r, 0);
	s = rgn_strdup(r, "root");
	write_image(argv[1], "root-string", r, rgn_ref_in(r, s));
	rgn_destroy(r);

	r = rgn_new_with(NULL, &o);
	for (uint32_t i = 0; i < 40; i++) {
		n = rgn_alloc(r, sizeof *n);
		n->next = head;
		n->value = i * 7;
		head = rgn_ref_in(r, n);
	}
	write_image(argv[1], "list", r, head);
	rgn_destroy(r);

	r = rgn_new_with(NULL, &o);
	s = rgn_alloc(r, 5000);
	memset(s, 'z', 4999);
	s[4999] = 0;
	write_image(argv[1], "long-string", r, rgn_ref_in(r, s));
	rgn_destroy(r);

	damaged(argv[1], "list", "list-truncated", 0);
	damaged(argv[1], "list", "list-trailing", 1);
	damaged(argv[1], "list", "list-bad-check", 2);
	return 0;
}
