/*
 * sys-windows.c - the system-call wrappers (rgn_sys.h) on Windows:
 * rgn_read_file, rgn_getcwd, rgn_list_dir, rgn_open and rgn_close.  The
 * wrappers that take a descriptor or read a link are not built here
 * (rgn_sys.h leaves them out).
 *
 * As on POSIX, whatever only Windows can size goes through rgn_sys_fill
 * (sys.c): ReadFile into the region's tail, each FindNextFileW name
 * converted to UTF-8 straight into it, the working directory's UTF-8
 * form.  The region is used through the public API alone.
 *
 * Paths: UTF-8 in, converted to UTF-16 for the ...W calls in a buffer on
 * the stack, or, when it is longer, in a scratch region of its own that
 * is destroyed before the wrapper returns (never in r: the result will
 * follow it there, and r could not give the scratch back without moving
 * the result).  Names out: UTF-16 converted to UTF-8 by
 * WideCharToMultiByte, which puts U+FFFD for a lone surrogate.
 *
 * Errors: the Windows code becomes errno through win-errno.c, which
 * agrees with the OS layer's mapping.  Two codes need a look at the path
 * first: CreateFileW answers ERROR_ACCESS_DENIED for a directory (EISDIR,
 * as read(2) says on POSIX), and a listing of a file fails with a "path
 * not found" (ENOTDIR).  errno is set after the undo and after closing
 * whatever the wrapper opened, or kept across them.
 *
 * Handles the wrappers open are not inheritable (no SECURITY_ATTRIBUTES)
 * and share read, write and delete with other openers.
 */
#include "rgn_sys.h"
#include "sys.h"
#include "win-errno.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <windows.h>

/* ---- UTF-16 scratch: on the stack, or a region of its own ---------------- */

/* Most paths fit here (MAX_PATH twice over). */
#define WIDE_STACK 520

struct wide {
	WCHAR      *w;
	rgn_region *scratch;           /* NULL: w is stack */
	WCHAR       stack[WIDE_STACK];
};

/* Room for n UTF-16 units in b: 0, or an errno value (ENOMEM). */
static int wide_room(struct wide *b, size_t n)
{
	b->scratch = NULL;
	b->w = b->stack;
	if (n <= WIDE_STACK)
		return 0;
	if (!(b->scratch = rgn_new(NULL)))
		return errno;
	if (!(b->w = rgn_alloc_array(b->scratch, n, sizeof(WCHAR)))) {
		int err = errno;

		rgn_destroy(b->scratch);
		b->scratch = NULL;
		return err;
	}
	return 0;
}

/* Give b's scratch back, keeping errno. */
static void wide_drop(struct wide *b)
{
	int err = errno;

	if (b->scratch)
		rgn_destroy(b->scratch);
	b->scratch = NULL;
	errno = err;
}

/* path (UTF-8) as UTF-16 in b, with room for extra more units after its
 * NUL; *len receives its length in units (the NUL left out).  0, or -1
 * with errno: EINVAL (not UTF-8), ENOENT (empty, as open("") is),
 * ENOMEM. */
static int wide_path(struct wide *b, const char *path, size_t extra, size_t *len)
{
	int n, err;

	if (path[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
	if (n <= 0) {
		errno = EINVAL; /* ERROR_NO_UNICODE_TRANSLATION */
		return -1;
	}
	if ((err = wide_room(b, (size_t)n + extra)) != 0) {
		errno = err;
		return -1;
	}
	(void)MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, b->w, n);
	*len = (size_t)n - 1;
	return 0;
}

/* UTF-16 w, NUL-terminated, to UTF-8 at buf with room bytes: the bytes
 * written with the NUL; 0 when it does not fit (*need then says what
 * would). */
static size_t to_utf8(const WCHAR *w, char *buf, size_t room, size_t *need)
{
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);

	*need = n > 0 ? (size_t)n : 1;
	if (n <= 0 || (size_t)n > room)
		return 0;
	return (size_t)WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, n, NULL, NULL);
}

static bool is_dir(const WCHAR *w)
{
	DWORD a = GetFileAttributesW(w);

	return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

/* errno for a failed CreateFileW of w: EISDIR for a directory. */
static int open_errno(const WCHAR *w)
{
	DWORD e = GetLastError();

	if (e == ERROR_ACCESS_DENIED && is_dir(w))
		return EISDIR;
	return rgn_os_win_errno(e) ? rgn_os_win_errno(e) : EIO;
}

static void close_quiet(HANDLE h)
{
	int err = errno;

	(void)CloseHandle(h);
	errno = err;
}

static inline void *einval(void)
{
	errno = EINVAL;
	return NULL;
}

/* ---- reading a file ---------------------------------------------------------- */

/* ReadFile into the room left, one byte kept back for the NUL.  A pipe's
 * writer closing its end (ERROR_BROKEN_PIPE) is the end of the data. */
static enum rgn_sys_step read_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	HANDLE h = ctx;
	size_t room = avail - *used;
	DWORD got = 0;

	if (room < 2)
		return RGN_STEP_ROOM;
	room--;
	if (room > (size_t)1 << 30)
		room = (size_t)1 << 30; /* a DWORD count; 1 GiB a call is plenty */
	if (!ReadFile(h, buf + *used, (DWORD)room, &got, NULL)) {
		DWORD e = GetLastError();

		if (e != ERROR_BROKEN_PIPE && e != ERROR_HANDLE_EOF) {
			errno = rgn_os_win_errno(e) ? rgn_os_win_errno(e) : EIO;
			return RGN_STEP_ERROR;
		}
		got = 0;
	}
	if (got == 0) {
		buf[(*used)++] = '\0';
		return RGN_STEP_DONE;
	}
	*used += got;
	return RGN_STEP_AGAIN;
}

/* The first reservation: a disk file's size, plus the byte that sees end
 * of file and the NUL; the default for anything else or an empty file
 * (which may still grow while it is read). */
static size_t read_want(HANDLE h)
{
	LARGE_INTEGER sz;

	if (GetFileType(h) == FILE_TYPE_DISK && GetFileSizeEx(h, &sz) &&
	    sz.QuadPart > 0) {
		uint64_t n = (uint64_t)sz.QuadPart;
		return n > SIZE_MAX - 2 ? SIZE_MAX : (size_t)n + 2;
	}
	return RGN_SYS_RESERVE;
}

RGN_API char *rgn_read_file(rgn_region *r, const char *path, size_t *len)
{
	struct wide b;
	size_t wl, n;
	HANDLE h;
	char *p;

	if (!r || !path)
		return einval();
	if (wide_path(&b, path, 0, &wl) != 0)
		return NULL;
	h = CreateFileW(b.w, GENERIC_READ,
	                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
	                NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		errno = open_errno(b.w);
		wide_drop(&b);
		return NULL;
	}
	wide_drop(&b);
	p = rgn_sys_fill(r, read_want(h), read_step, h, &n);
	close_quiet(h);
	if (p && len)
		*len = n - 1;
	return p;
}

/* ---- the working directory ------------------------------------------------------ */

static enum rgn_sys_step utf8_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	size_t need, n = to_utf8(ctx, buf, avail, &need);

	if (n == 0)
		return RGN_STEP_ROOM;
	*used = n;
	return RGN_STEP_DONE;
}

RGN_API char *rgn_getcwd(rgn_region *r)
{
	struct wide b;
	DWORD size, got;
	size_t need, n;
	char *p;
	int err;

	if (!r)
		return einval();
	size = GetCurrentDirectoryW(0, NULL); /* units with the NUL */
	for (;;) {
		if (size == 0) {
			errno = rgn_os_win_last_errno();
			return NULL;
		}
		if ((err = wide_room(&b, size)) != 0) {
			errno = err;
			return NULL;
		}
		got = GetCurrentDirectoryW(size, b.w);
		if (got > 0 && got < size)
			break;
		/* 0: failed; >= size: it changed meanwhile, and got is the
		 * size it needs now */
		if (got == 0)
			errno = rgn_os_win_last_errno();
		wide_drop(&b);
		if (got == 0)
			return NULL;
		size = got;
	}
	(void)to_utf8(b.w, NULL, 0, &need);
	p = rgn_sys_fill(r, need, utf8_step, b.w, &n);
	wide_drop(&b);
	return p;
}

/* ---- directories ------------------------------------------------------------------ *
 * The tail holds one record an entry: its type byte, then its name in
 * UTF-8 with a NUL.  "." and ".." are not written. */

struct find_ctx {
	HANDLE           f;
	bool             have;  /* d holds an entry not yet written */
	WIN32_FIND_DATAW d;
};

static bool dot_or_dotdot_w(const WCHAR *s)
{
	return s[0] == L'.' && (s[1] == 0 || (s[1] == L'.' && s[2] == 0));
}

static unsigned char type_of(const WIN32_FIND_DATAW *d)
{
	/* a symbolic link or junction: a reparse point standing for a name
	 * (dwReserved0 is its tag) */
	if ((d->dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
	    IsReparseTagNameSurrogate(d->dwReserved0))
		return RGN_DT_LNK;
	if (d->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
		return RGN_DT_DIR;
	return RGN_DT_REG;
}

/* Write the pending entry, if it fits, then fetch the next one. */
static enum rgn_sys_step find_step(void *ctx, char *buf, size_t avail, size_t *used)
{
	struct find_ctx *c = ctx;

	if (!c->have)
		return RGN_STEP_DONE;
	if (!dot_or_dotdot_w(c->d.cFileName)) {
		size_t need, room = avail - *used;

		if (room < 2 ||
		    to_utf8(c->d.cFileName, buf + *used + 1, room - 1, &need) == 0)
			return RGN_STEP_ROOM; /* the entry stays pending */
		buf[*used] = (char)type_of(&c->d);
		*used += 1 + need;
	}
	if (!FindNextFileW(c->f, &c->d)) {
		DWORD e = GetLastError();

		if (e != ERROR_NO_MORE_FILES) {
			errno = rgn_os_win_errno(e) ? rgn_os_win_errno(e) : EIO;
			return RGN_STEP_ERROR;
		}
		c->have = false;
	}
	return RGN_STEP_AGAIN;
}

/* The first reservation for a listing: a few hundred entries. */
#define FIND_WANT ((size_t)16 << 10)

/* Open the search of the directory at path: 0 with c->f (and c->have
 * false and c->f INVALID_HANDLE_VALUE for a directory with no entries at
 * all, as a drive's root can be), or -1 with errno. */
static int find_open(struct find_ctx *c, const char *path)
{
	struct wide b;
	size_t wl, end;
	DWORD e;

	if (wide_path(&b, path, 2, &wl) != 0)
		return -1;
	end = wl;
	/* path\* (no separator added after one, or after a drive's colon) */
	if (b.w[wl - 1] != L'\\' && b.w[wl - 1] != L'/' && b.w[wl - 1] != L':')
		b.w[wl++] = L'\\';
	b.w[wl] = L'*';
	b.w[wl + 1] = 0;
	c->f = FindFirstFileExW(b.w, FindExInfoBasic, &c->d, FindExSearchNameMatch,
	                        NULL, FIND_FIRST_EX_LARGE_FETCH);
	c->have = c->f != INVALID_HANDLE_VALUE;
	if (c->have) {
		wide_drop(&b);
		return 0;
	}
	e = GetLastError();
	b.w[end] = 0; /* the path as given again, for a look at it */
	if (e == ERROR_FILE_NOT_FOUND && is_dir(b.w)) {
		wide_drop(&b); /* no match at all: an empty listing */
		return 0;
	}
	if (e == ERROR_DIRECTORY ||
	    (GetFileAttributesW(b.w) != INVALID_FILE_ATTRIBUTES && !is_dir(b.w)))
		errno = ENOTDIR;
	else
		errno = rgn_os_win_errno(e) ? rgn_os_win_errno(e) : EIO;
	wide_drop(&b);
	return -1;
}

RGN_API rgn_dirent *rgn_list_dir(rgn_region *r, const char *path, size_t *n)
{
	struct find_ctx c;
	size_t len, count = 0, i = 0;
	rgn_dirent *v;
	rgn_mark m;
	char *raw;

	if (!r || !path)
		return einval();
	m = rgn_save(r);
	if (find_open(&c, path) != 0)
		return NULL;
	raw = rgn_sys_fill(r, FIND_WANT, find_step, &c, &len);
	if (c.f != INVALID_HANDLE_VALUE) {
		int err = errno;

		(void)FindClose(c.f);
		errno = err;
	}
	if (!raw)
		return NULL;
	for (size_t off = 0; off < len; off += 2 + strlen(raw + off + 1))
		count++;
	/* one entry more than needed, so an empty listing is not NULL */
	v = rgn_alloc_array(r, count + 1, sizeof(*v));
	if (!v) {
		rgn_sys_undo(r, m);
		return NULL;
	}
	for (size_t off = 0; off < len; i++) {
		v[i].name = raw + off + 1;
		v[i].namelen = strlen(v[i].name);
		v[i].ino = 0;
		v[i].type = (unsigned char)raw[off];
		off += 2 + v[i].namelen;
	}
	if (n)
		*n = count;
	return v;
}

/* ---- handles owned by a region ------------------------------------------------ */

static void close_handle(void *h)
{
	(void)CloseHandle(h);
}

/* The open(2) flags rgn_open takes on Windows. */
#define OPEN_FLAGS (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | \
                    O_BINARY | O_TEXT | O_NOINHERIT)

RGN_API void *rgn_open(rgn_region *r, const char *path, int flags, int mode)
{
	DWORD access, disp, attrs = FILE_ATTRIBUTE_NORMAL;
	struct wide b;
	size_t wl;
	HANDLE h;

	if (!r || !path || (flags & ~OPEN_FLAGS) != 0)
		return einval();
	switch (flags & O_ACCMODE) {
	case O_RDONLY: access = GENERIC_READ; break;
	case O_WRONLY: access = GENERIC_WRITE; break;
	case O_RDWR:   access = GENERIC_READ | GENERIC_WRITE; break;
	default:       return einval();
	}
	if ((flags & O_TRUNC) && !(access & GENERIC_WRITE))
		return einval(); /* truncating needs write access */
	if ((flags & O_APPEND) && (access & GENERIC_WRITE))
		/* every write at the end: append, never overwrite */
		access = (access & ~(DWORD)GENERIC_WRITE) |
		         (FILE_GENERIC_WRITE & ~(DWORD)FILE_WRITE_DATA);
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		disp = CREATE_NEW;
	else if ((flags & (O_CREAT | O_TRUNC)) == (O_CREAT | O_TRUNC))
		disp = CREATE_ALWAYS;
	else if (flags & O_CREAT)
		disp = OPEN_ALWAYS;
	else if (flags & O_TRUNC)
		disp = TRUNCATE_EXISTING;
	else
		disp = OPEN_EXISTING;
	if ((flags & O_CREAT) && !(mode & 0200))
		attrs = FILE_ATTRIBUTE_READONLY;
	if (wide_path(&b, path, 0, &wl) != 0)
		return NULL;
	h = CreateFileW(b.w, access,
	                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
	                NULL, disp, attrs, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		errno = open_errno(b.w);
		wide_drop(&b);
		return NULL;
	}
	wide_drop(&b);
	if (rgn_on_destroy(r, close_handle, h) != 0) {
		close_quiet(h);
		return NULL;
	}
	return h;
}

RGN_API int rgn_close(rgn_region *r, void *h)
{
	if (!r) {
		errno = EINVAL;
		return -1;
	}
	if (!h || rgn_on_destroy_cancel(r, close_handle, h) != 0) {
		errno = EBADF;
		return -1;
	}
	if (!CloseHandle(h)) {
		errno = rgn_os_win_last_errno();
		return -1;
	}
	return 0;
}
