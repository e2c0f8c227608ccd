/*
 * sys.c - system-call wrappers that allocate their results in the
 * caller's region.
 *
 * This file is written against the public API alone (rgn.h), the way a
 * language runtime's hand-written wrappers would be: it is both part of
 * librgn and the model for such code.  The one exception is the call of
 * the out-of-memory handler (space.h) when a read finally fails: the
 * attempts before it (rgn_tail_grow) do not call it.
 *
 * Every wrapper whose result size only the kernel knows goes through one
 * helper, fill(): reserve room at the region's tail (rgn_tail), let a
 * step function fill it (read, getdents64, readlink, getcwd), grow the
 * reservation when the step asks for room (rgn_tail_grow: in place when
 * the blocks after the tail can be had, else moved with the bytes kept so
 * far copied), and commit what was used (rgn_tail_commit), which gives
 * the whole blocks left over back to the space.  Growth doubles, so a
 * result that moves is copied O(1) times per byte on average.
 *
 * Errors leave the region as it was: fill() cancels its tail (a commit
 * of nothing trims what the tail added to the chunk) and rewinds to a
 * mark taken first (which drops a chunk the tail started).  Wrappers that
 * allocate more after the fill (an array of lines or entries) rewind to
 * their own mark.  errno is saved across that undo, so the caller sees
 * the value of the call that failed.
 *
 * Linux only for rgn_list_dir (getdents64); the rest is POSIX.
 */
#define _GNU_SOURCE /* getdents64 through syscall(2), O_DIRECTORY */
#include "rgn_sys.h"
#include "space.h" /* rgn_oom */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ==== the one reserve, fill, grow, commit helper ======================== */

/* What a step reports to fill(). */
enum step {
	STEP_AGAIN,  /* it added bytes; call it again */
	STEP_DONE,   /* the result is complete */
	STEP_ROOM,   /* it needs more room than avail - used */
	STEP_ERROR   /* failed, errno set */
};

/* A step fills buf[*used, avail) as far as it can and moves *used to the
 * end of the bytes to keep (the NUL a string needs included).  Bytes
 * below *used survive a growth of the buffer; bytes above it do not. */
typedef enum step (*step_fn)(void *ctx, char *buf, size_t avail, size_t *used);

/* Undo a fill or a wrapper: cancel a pending tail (the commit fails
 * harmlessly when there is none) and go back to m, keeping errno. */
static void undo(rgn_region *r, rgn_mark m)
{
	int err = errno;

	(void)rgn_tail_commit(r, 0);
	(void)rgn_rewind(r, m);
	errno = err;
}

/* The smallest growth worth a try when doubling does not fit. */
#define GROW_MIN ((size_t)64 << 10)

/* Grow the pending tail of r (*avail bytes, the first used of them kept):
 * double it, and when the space cannot give that much, ask for half the
 * increment, and half again, down to GROW_MIN, so a read can still use
 * most of what is left.  The new start, or NULL with errno (ENOMEM) and
 * the old tail still pending; the out-of-memory handler is called once,
 * when the last try fails (rgn_tail_grow never calls it). */
static char *grow(rgn_region *r, size_t used, size_t *avail)
{
	size_t have = *avail;
	size_t more = have < GROW_MIN ? GROW_MIN : have;
	char *p;

	for (;;) {
		size_t want = more > SIZE_MAX - have ? SIZE_MAX : have + more;
		if ((p = rgn_tail_grow(r, used, want, avail)) != NULL ||
		    errno != ENOMEM)
			return p;
		if (more <= GROW_MIN)
			return rgn_oom(want);
		more /= 2;
	}
}

/* Run step over a tail reservation of at least want bytes until it is
 * done.  Returns the kept bytes (*len of them) as an allocation of r, or
 * NULL with errno and r as before. */
static void *fill(rgn_region *r, size_t want, step_fn step, void *ctx, size_t *len)
{
	rgn_mark m = rgn_save(r);
	size_t avail, used = 0;
	char *buf = rgn_tail(r, want, &avail);

	if (!buf)
		return NULL; /* rgn_tail changes nothing when it fails */
	for (;;) {
		switch (step(ctx, buf, avail, &used)) {
		case STEP_AGAIN:
			break;
		case STEP_DONE:
			(void)rgn_tail_commit(r, used); /* used <= avail: cannot fail */
			*len = used;
			return buf;
		case STEP_ROOM:
			if (!(buf = grow(r, used, &avail)))
				goto fail;
			break;
		case STEP_ERROR:
			goto fail;
		}
	}
fail:
	undo(r, m);
	return NULL;
}

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
static enum step read_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	const struct read_ctx *c = ctx;
	size_t room = avail - *used;
	ssize_t n;

	if (room < 2)
		return STEP_ROOM;
	room--;
	if (room > (size_t)1 << 30)
		room = (size_t)1 << 30; /* read(2) moves at most about 2 GiB */
	do
		n = read(c->fd, buf + *used, room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return STEP_ERROR;
	if (n == 0) {
		buf[(*used)++] = '\0';
		return STEP_DONE;
	}
	*used += (size_t)n;
	return STEP_AGAIN;
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
	char *p = fill(r, read_want(fd, off), read_step, &c, &n);

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

		undo(r, m);
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

static enum step getcwd_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	(void)ctx;
	if (getcwd(buf, avail) == NULL)
		return errno == ERANGE ? STEP_ROOM : STEP_ERROR;
	*used = strlen(buf) + 1;
	return STEP_DONE;
}

RGN_API char *rgn_getcwd(rgn_region *r)
{
	size_t n;

	if (!r)
		return einval();
	return fill(r, 256, getcwd_step, NULL, &n);
}

/* readlink(2) truncates silently: a target that fills the whole buffer
 * may be longer, so the buffer grows until one byte is left over.  Nothing
 * is kept across a growth (*used stays 0): each try starts afresh. */
static enum step readlink_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	ssize_t n = readlink(ctx, buf, avail);

	if (n < 0)
		return STEP_ERROR;
	if ((size_t)n >= avail)
		return STEP_ROOM;
	buf[n] = '\0';
	*used = (size_t)n + 1;
	return STEP_DONE;
}

RGN_API char *rgn_readlink(rgn_region *r, const char *path)
{
	size_t n;

	if (!r || !path)
		return einval();
	return fill(r, 256, readlink_step, (void *)(uintptr_t)path, &n);
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

static enum step getdents_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	const struct read_ctx *c = ctx;
	size_t room = avail - *used;
	long n;

	if (room < DENT_ROOM)
		return STEP_ROOM;
	if (room > INT_MAX)
		room = INT_MAX;
	do
		n = syscall(SYS_getdents64, c->fd, buf + *used, (unsigned)room);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		/* EINVAL: the next record does not fit (only a name longer
		 * than any Linux file system allows could do that) */
		return errno == EINVAL && room < ((size_t)64 << 10) ? STEP_ROOM
		                                                   : STEP_ERROR;
	if (n == 0)
		return STEP_DONE;
	*used += (size_t)n;
	return STEP_AGAIN;
}

static bool dot_or_dotdot(const char *s)
{
	return s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'));
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
	raw = fill(r, DENT_WANT, getdents_step, &c, &len);
	close_quiet(c.fd);
	if (!raw)
		return NULL;
	for (size_t off = 0; off < len; off += d->d_reclen) {
		d = (const void *)(raw + off);
		count += !dot_or_dotdot(d->d_name);
	}
	/* one entry more than needed, so an empty listing is not NULL */
	v = rgn_alloc_array(r, count + 1, sizeof(*v));
	if (!v) {
		undo(r, m);
		return NULL;
	}
	for (size_t off = 0; off < len; off += d->d_reclen) {
		d = (const void *)(raw + off);
		if (dot_or_dotdot(d->d_name))
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
