/*
 * rgn-du - how much a tree holds, by apparent size: the figure
 * `du -s -B1 --apparent-size PATH` prints, in the same format.
 *
 * An example of rgn's system-call wrappers used from outside the library
 * (it is built through pkg-config like any other program).  Each
 * directory is listed into a child region of its parent directory's
 * region, and that region is destroyed when the walk leaves the
 * directory, so memory in use follows the depth of the tree, not its
 * size.  Within a directory, each entry's path is built after a mark and
 * dropped by a rewind once the entry is done.
 *
 * du's rules, followed here:
 *   - every file counts by st_size (regular files, directories, symbolic
 *     links); other types (FIFOs, sockets, devices) count 0;
 *   - a file with several hard links counts once (by device and inode);
 *   - symbolic links are not followed, the command-line paths included;
 *   - a directory that cannot be read still counts its own size, and the
 *     exit status is 1.
 *
 * usage: rgn-du PATH...
 */
#define _POSIX_C_SOURCE 200809L
#include <rgn.h>
#include <rgn_sys.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- files seen with more than one link --------------------------------------
 * An open-addressing set of (device, inode) in a region of its own; when
 * it fills past half, a table twice the size is built in a new region and
 * the old region is destroyed whole. */

struct file_id {
	dev_t dev;
	ino_t ino;
	int   used;
};

struct seen {
	rgn_region     *r;
	struct file_id *slot;
	size_t          cap;   /* a power of two */
	size_t          n;
};

static size_t id_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = ((uint64_t)ino * 0x9E3779B97F4A7C15ull) ^ (uint64_t)dev;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct file_id *id_find(struct file_id *slot, size_t cap, dev_t dev, ino_t ino)
{
	size_t i = id_hash(dev, ino, cap);

	while (slot[i].used && !(slot[i].dev == dev && slot[i].ino == ino))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static int seen_grow(struct seen *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	rgn_region *r = rgn_new(NULL);
	struct file_id *slot = r ? rgn_calloc(r, cap, sizeof(*slot)) : NULL;

	if (!slot) {
		rgn_destroy(r);
		return -1;
	}
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].used)
			*id_find(slot, cap, s->slot[i].dev, s->slot[i].ino) = s->slot[i];
	rgn_destroy(s->r);
	s->r = r;
	s->slot = slot;
	s->cap = cap;
	return 0;
}

/* Record the file; 1 when it was new, 0 when seen before, -1 on ENOMEM. */
static int seen_add(struct seen *s, dev_t dev, ino_t ino)
{
	struct file_id *f;

	if ((s->n + 1) * 2 > s->cap && seen_grow(s) != 0)
		return -1;
	f = id_find(s->slot, s->cap, dev, ino);
	if (f->used)
		return 0;
	f->dev = dev;
	f->ino = ino;
	f->used = 1;
	s->n++;
	return 1;
}

/* ---- the walk ------------------------------------------------------------------ */

struct walk {
	struct seen seen;
	int         status;   /* the exit status */
};

static void complain(struct walk *w, const char *what, const char *path)
{
	fprintf(stderr, "rgn-du: %s '%s': %s\n", what, path, strerror(errno));
	w->status = 1;
}

/* What one file adds, by du's rules. */
static uintmax_t size_of(struct walk *w, const struct stat *sb)
{
	if (!S_ISREG(sb->st_mode) && !S_ISDIR(sb->st_mode) && !S_ISLNK(sb->st_mode))
		return 0;
	if (!S_ISDIR(sb->st_mode) && sb->st_nlink > 1) {
		int fresh = seen_add(&w->seen, sb->st_dev, sb->st_ino);
		if (fresh < 0) {
			fprintf(stderr, "rgn-du: out of memory\n");
			exit(1);
		}
		if (!fresh)
			return 0;
	}
	return sb->st_size > 0 ? (uintmax_t)sb->st_size : 0;
}

/* The entries of the directory at path, in a child of parent that is
 * gone when this returns. */
static uintmax_t walk_dir(struct walk *w, rgn_region *parent, const char *path)
{
	rgn_region *r = rgn_new(parent);
	uintmax_t total = 0;
	rgn_dirent *v;
	size_t n;

	if (!r) {
		complain(w, "cannot walk", path);
		return 0;
	}
	v = rgn_list_dir(r, path, &n);
	if (!v) {
		complain(w, "cannot read directory", path);
		rgn_destroy(r);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		rgn_mark m = rgn_save(r);
		const char *sep = path[strlen(path) - 1] == '/' ? "" : "/";
		char *p = rgn_format(r, "%s%s%s", path, sep, v[i].name);
		struct stat sb;

		if (!p) {
			complain(w, "cannot walk", path);
			break;
		}
		if (lstat(p, &sb) != 0) {
			complain(w, "cannot access", p);
		} else {
			total += size_of(w, &sb);
			if (S_ISDIR(sb.st_mode))
				total += walk_dir(w, r, p);
		}
		rgn_rewind(r, m);
	}
	rgn_destroy(r);
	return total;
}

int main(int argc, char **argv)
{
	struct walk w = { { NULL, NULL, 0, 0 }, 0 };

	if (argc < 2) {
		fprintf(stderr, "usage: rgn-du PATH...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		uintmax_t total;

		if (lstat(argv[i], &sb) != 0) {
			complain(&w, "cannot access", argv[i]);
			continue;
		}
		total = size_of(&w, &sb);
		if (S_ISDIR(sb.st_mode))
			total += walk_dir(&w, NULL, argv[i]);
		printf("%" PRIuMAX "\t%s\n", total, argv[i]);
	}
	rgn_destroy(w.seen.r);
	return w.status;
}
