/*
 * rgn_sys.h - system-call wrappers that put their results in a region.
 *
 * Each wrapper takes the region its result should live in.  Results whose
 * size only the kernel knows (a file's bytes, a directory listing, a link
 * target, the working directory) are read straight into the region: the
 * wrapper reserves room at the region's tail, lets the kernel fill it,
 * grows the reservation when the kernel wants more (in place when the
 * blocks after it are free, by a move and a copy when they are not), and
 * keeps what was used; whole blocks it did not use go back to the space.
 *
 * Conventions (POSIX systems):
 * - On failure a wrapper returns NULL (or -1) with errno set to the
 *   failing call's value (ENOENT from open, EISDIR from read, ENOMEM when
 *   the space cannot hold the result, EINVAL for a NULL region or path).
 *   The region is then exactly as it was before the call: nothing stays
 *   allocated in it and no descriptor the wrapper opened stays open.
 * - Calls interrupted by a signal (EINTR) are retried.
 * - Strings and file contents are NUL-terminated; the lengths reported
 *   leave the NUL out.
 * - Length and count out-parameters may be NULL.
 * - Everything returned lives until the region is destroyed, reset, or
 *   rewound to a mark saved before the call.
 */
#ifndef RGN_SYS_H
#define RGN_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rgn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The reservation a read starts with when the size is not known in
 * advance (a pipe, a socket, a file whose size the kernel reports as 0):
 * the default capacity of a Linux pipe. */
#define RGN_SYS_RESERVE ((size_t)64 << 10)

/* Read fd from its current offset to end of file; *len (may be NULL)
 * receives the byte count.  Works on pipes, sockets, terminals and files.
 * On failure a seekable fd is put back at the offset it had; bytes read
 * from a pipe or socket before the failure are lost (the kernel has no
 * way to give them back).  fd is never closed. */
RGN_API RGN_NODISCARD
char *rgn_read_fd(rgn_region *r, int fd, size_t *len);

/* The whole file at path (opened read-only, closed before returning). */
RGN_API RGN_NODISCARD
char *rgn_read_file(rgn_region *r, const char *path, size_t *len);

/* fd read to end of file and split at '\n': an array of *n lines (the
 * newline removed; a last line without one counts too), followed by a
 * NULL entry.  An empty input gives n == 0 and an array holding NULL. */
RGN_API RGN_NODISCARD
char **rgn_read_lines(rgn_region *r, int fd, size_t *n);

/* The current working directory (getcwd(3)), however long. */
RGN_API RGN_NODISCARD
char *rgn_getcwd(rgn_region *r);

/* The target of the symbolic link at path, however long. */
RGN_API RGN_NODISCARD
char *rgn_readlink(rgn_region *r, const char *path);

/* One directory entry. */
typedef struct rgn_dirent {
	const char   *name;     /* NUL-terminated, in the region */
	size_t        namelen;  /* strlen(name) */
	uint64_t      ino;      /* inode number */
	unsigned char type;     /* DT_REG, DT_DIR, DT_LNK ... (<dirent.h>);
	                           DT_UNKNOWN when the file system does not say */
} rgn_dirent;

/* The entries of the directory at path, "." and ".." left out, in the
 * order the kernel returns them: an array of *n entries (n == 0 for an
 * empty directory, and the array is then not NULL).  Read with
 * getdents64 straight into the region. */
RGN_API RGN_NODISCARD
rgn_dirent *rgn_list_dir(rgn_region *r, const char *path, size_t *n);

/* open(2) whose descriptor belongs to r: destroying or resetting r closes
 * it (a cleanup, rgn_on_destroy).  O_CLOEXEC is always added.  Returns
 * the descriptor, or -1 with errno (nothing stays open or registered). */
RGN_API int rgn_open(rgn_region *r, const char *path, int flags, mode_t mode);

/* Close fd, opened by rgn_open on r, now, and drop its cleanup.  -1 with
 * EBADF (and fd left alone) when r has no such descriptor. */
RGN_API int rgn_close(rgn_region *r, int fd);

#ifdef __cplusplus
}
#endif

#endif /* RGN_SYS_H */
