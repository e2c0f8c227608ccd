/*
 * sys-posix.c - the system-call wrappers (rgn_sys.h) on POSIX systems;
 * rgn_list_dir is Linux only (getdents64).
 *
 * Each wrapper whose result size only the kernel knows is a step run by
 * rgn_sys_fill (sys.c): read, getdents64, readlink, getcwd.  Like sys.c,
 * this file uses the region through the public API alone.  EINTR is
 * retried everywhere but close (Linux releases the descriptor anyway).
 */
#define _GNU_SOURCE /* getdents64 through syscall(2), O_DIRECTORY */
#include "rgn_sys.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline void *einval(void)
{
	errno = EINVAL;
	return NULL;
}

/* close(2) keeping errno; Linux releases the descriptor even on EINTR. */
static void close_quiet(int fd)
{
	int err = errno;

	(void)close(fd);
	errno = err;
}

static int open_retry(const char *path, int flags, mode_t mode)
{
	int fd;

	do
		fd = open(path, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

/* ==== reading to end of file ============================================== */

struct read_ctx {
	int fd;
};

/* read(2) into the room left, one byte kept back for the NUL. */
static enum rgn_sys_step read_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	const struct read_ctx *c = ctx;
	size_t room = avail - *used;
	ssize_t n;

	if (room < 2)
		return RGN_STEP_ROOM;
	room--;
	if (room > (size_t)1 << 30)
		room = (size_t)1 << 30; /* read(2) moves at most about 2 GiB */
	do
		n = read(c->fd, buf + *used, room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return RGN_STEP_ERROR;
	if (n == 0) {
		buf[(*used)++] = '\0';
		return RGN_STEP_DONE;
	}
	*used += (size_t)n;
	return RGN_STEP_AGAIN;
}

/* The reservation for reading fd from offset off (-1: not seekable): a
 * regular file's remaining size, plus the byte that sees end of file and
 * the NUL; the default when the kernel cannot say. */
static size_t read_want(int fd, off_t off)
{
	struct stat st;

	if (off >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > off) {
		uintmax_t left = (uintmax_t)(st.st_size - off);
		return left > SIZE_MAX - 2 ? SIZE_MAX : (size_t)left + 2;
	}
	return RGN_SYS_RESERVE;
}

/* fd read from offset off (-1: not seekable) to end of file. */
static char *read_all(rgn_region *r, int fd, off_t off, size_t *len)
{
	struct read_ctx c = { fd };
	size_t n;
	char *p = rgn_sys_fill(r, read_want(fd, off), read_step, &c, &n);

	if (p && len)
		*len = n - 1;
	return p;
}

RGN_API char *rgn_read_fd(rgn_region *r, int fd, size_t *len)
{
	off_t off;
	char *p;

	if (!r || fd < 0) {
		errno = !r ? EINVAL : EBADF;
		return NULL;
	}
	off = lseek(fd, 0, SEEK_CUR); /* -1 for pipes and sockets */
	p = read_all(r, fd, off, len);
	if (!p && off >= 0) {
		int err = errno;
		(void)lseek(fd, off, SEEK_SET); /* give the bytes back */
		errno = err;
	}
	return p;
}

RGN_API char *rgn_read_file(rgn_region *r, const char *path, size_t *len)
{
	char *p;
	int fd;

	if (!r || !path)
		return einval();
	fd = open_retry(path, O_RDONLY, 0);
	if (fd < 0)
		return NULL;
	p = read_all(r, fd, 0, len); /* a fresh descriptor is at offset 0 */
	close_quiet(fd);
	return p;
}

RGN_API char **rgn_read_lines(rgn_region *r, int fd, size_t *n)
{
	rgn_mark m;
	size_t len, count = 0, i = 0;
	char *p, *s, *end, **v;
	off_t off;

	if (!r)
		return einval();
	m = rgn_save(r);
	off = lseek(fd, 0, SEEK_CUR); /* -1 for a pipe: nothing to put back */
	p = rgn_read_fd(r, fd, &len);
	if (!p)
		return NULL;
	end = p + len;
	for (s = p; s < end; s++)
		count += *s == '\n';
	count += len > 0 && end[-1] != '\n';
	v = rgn_alloc_array(r, count + 1, sizeof(*v));
	if (!v) {
		int err = errno;

		rgn_sys_undo(r, m);
		if (off >= 0)
			(void)lseek(fd, off, SEEK_SET); /* as rgn_read_fd would */
		errno = err;
		return NULL;
	}
	/* by newlines alone: a NUL byte inside a line does not split it */
	s = p;
	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		v[i++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	v[i] = NULL;
	if (n)
		*n = count;
	return v;
}

/* ==== strings the kernel sizes: getcwd, readlink =========================== */

static enum rgn_sys_step getcwd_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	(void)ctx;
	if (getcwd(buf, avail) == NULL)
		return errno == ERANGE ? RGN_STEP_ROOM : RGN_STEP_ERROR;
	*used = strlen(buf) + 1;
	return RGN_STEP_DONE;
}

RGN_API char *rgn_getcwd(rgn_region *r)
{
	size_t n;

	if (!r)
		return einval();
	return rgn_sys_fill(r, 256, getcwd_step, NULL, &n);
}

/* readlink(2) truncates silently: a target that fills the whole buffer
 * may be longer, so the buffer grows until one byte is left over.  Nothing
 * is kept across a growth (*used stays 0): each try starts afresh. */
static enum rgn_sys_step readlink_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	ssize_t n = readlink(ctx, buf, avail);

	if (n < 0)
		return RGN_STEP_ERROR;
	if ((size_t)n >= avail)
		return RGN_STEP_ROOM;
	buf[n] = '\0';
	*used = (size_t)n + 1;
	return RGN_STEP_DONE;
}

RGN_API char *rgn_readlink(rgn_region *r, const char *path)
{
	size_t n;

	if (!r || !path)
		return einval();
	return rgn_sys_fill(r, 256, readlink_step, (void *)(uintptr_t)path, &n);
}

/* ==== directories ========================================================== */

/* The kernel's record (struct linux_dirent64); d_name is NUL-terminated
 * and records are 8-byte aligned when the buffer is. */
struct dirent64_rec {
	uint64_t      d_ino;
	int64_t       d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char          d_name[];
};

/* Below this much room a record with a 255-byte name might not fit. */
#define DENT_ROOM 1024
/* The first reservation for a listing: a few hundred entries. */
#define DENT_WANT ((size_t)16 << 10)

static enum rgn_sys_step getdents_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	const struct read_ctx *c = ctx;
	size_t room = avail - *used;
	long n;

	if (room < DENT_ROOM)
		return RGN_STEP_ROOM;
	if (room > INT_MAX)
		room = INT_MAX;
	do
		n = syscall(SYS_getdents64, c->fd, buf + *used, (unsigned)room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		/* EINVAL: the next record does not fit (only a name longer
		 * than any Linux file system allows could do that) */
		return errno == EINVAL && room < ((size_t)64 << 10) ? RGN_STEP_ROOM
		                                                   : RGN_STEP_ERROR;
	if (n == 0)
		return RGN_STEP_DONE;
	*used += (size_t)n;
	return RGN_STEP_AGAIN;
}

RGN_API rgn_dirent *rgn_list_dir(rgn_region *r, const char *path, size_t *n)
{
	rgn_mark m;
	struct read_ctx c;
	const struct dirent64_rec *d;
	size_t len, count = 0, i = 0;
	rgn_dirent *v;
	char *raw;

	if (!r || !path)
		return einval();
	m = rgn_save(r);
	c.fd = open_retry(path, O_RDONLY | O_DIRECTORY, 0);
	if (c.fd < 0)
		return NULL;
	raw = rgn_sys_fill(r, DENT_WANT, getdents_step, &c, &len);
	close_quiet(c.fd);
	if (!raw)
		return NULL;
	for (size_t off = 0; off < len; off += d->d_reclen) {
		d = (const void *)(raw + off);
		count += !rgn_sys_dot_or_dotdot(d->d_name);
	}
	/* one entry more than needed, so an empty listing is not NULL */
	v = rgn_alloc_array(r, count + 1, sizeof(*v));
	if (!v) {
		rgn_sys_undo(r, m);
		return NULL;
	}
	for (size_t off = 0; off < len; off += d->d_reclen) {
		d = (const void *)(raw + off);
		if (rgn_sys_dot_or_dotdot(d->d_name))
			continue;
		v[i].name = d->d_name;
		v[i].namelen = strlen(d->d_name);
		v[i].ino = d->d_ino;
		v[i].type = d->d_type;
		i++;
	}
	if (n)
		*n = count;
	return v;
}

/* ==== descriptors owned by a region ======================================== */

static void close_fd(void *arg)
{
	(void)close((int)(intptr_t)arg);
}

RGN_API int rgn_open(rgn_region *r, const char *path, int flags, mode_t mode)
{
	int fd;

	if (!r || !path) {
		errno = EINVAL;
		return -1;
	}
	fd = open_retry(path, flags, mode);
	if (fd < 0)
		return -1;
	if (rgn_on_destroy(r, close_fd, (void *)(intptr_t)fd) != 0) {
		close_quiet(fd);
		return -1;
	}
	return fd;
}

RGN_API int rgn_close(rgn_region *r, int fd)
{
	if (!r) {
		errno = EINVAL;
		return -1;
	}
	if (fd < 0 || rgn_on_destroy_cancel(r, close_fd, (void *)(intptr_t)fd) != 0) {
		errno = EBADF;
		return -1;
	}
	/* the descriptor is released even when close reports EINTR */
	if (close(fd) != 0 && errno != EINTR)
		return -1;
	return 0;
}
