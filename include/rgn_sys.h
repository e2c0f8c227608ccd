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
 *   the space, or a contiguous region's reservation, cannot hold the
 *   result, EINVAL for a NULL or dead region or a NULL path).  Nothing
 *   then stays allocated in the region (a contiguous region keeps the
 *   pages the call made read-write), no descriptor the wrapper opened
 *   stays open and no cleanup stays registered.
 * - Calls interrupted by a signal (EINTR) are retried.
 * - Strings and file contents are NUL-terminated; the lengths reported
 *   leave the NUL out (file contents may hold NUL bytes of their own).
 * - Length and count out-parameters may be NULL.
 * - Ownership: everything returned lives in the region, until the region
 *   is destroyed, reset, or rewound to a mark saved before the call (after
 *   rgn_merge, as long as the region merged into); nothing is freed one
 *   by one.  Descriptors passed in stay the caller's; those the wrappers
 *   open for themselves (rgn_read_file, rgn_list_dir) are closed before
 *   they return; rgn_open's belong to the region.  All are opened with
 *   O_CLOEXEC.
 * - Every wrapper but rgn_close allocates from the region, so it cancels
 *   a tail the caller had pending there (rgn_tail).
 * - Threads: the region must be used by one thread at a time (as every
 *   region); the calls themselves keep no state and are otherwise
 *   thread-safe.
 * - The out-of-memory handler (rgn_set_oom_handler) is called at most
 *   once by one call, and only by one that fails with ENOMEM: when
 *   doubling a reservation cannot be had, a wrapper asks for less first,
 *   without the handler.  A handler that does not return leaves the
 *   wrapper's undo undone (a tail pending, a descriptor it opened still
 *   open).
 *
 * Windows (_WIN32): the same conventions, with these differences.
 * - Present: rgn_read_file, rgn_getcwd, rgn_list_dir, rgn_open and
 *   rgn_close.  Absent (not declared, not in the DLL): what takes or
 *   gives a C runtime descriptor or has no Windows meaning, rgn_read_fd,
 *   rgn_read_lines (an int fd: the C runtime's emulation, not the OS's)
 *   and rgn_readlink (Windows links are reparse points, not paths stored
 *   in a file).
 * - Paths in and out are UTF-8, converted to and from UTF-16 for the
 *   ...W calls; a path that is not valid UTF-8 fails with EINVAL, and a
 *   name the file system holds as invalid UTF-16 (a lone surrogate)
 *   comes out with U+FFFD in its place.  The UTF-16 copy of a path lives
 *   on the stack, or in a scratch region destroyed before the call
 *   returns when it is long.
 * - Handles are void * (a HANDLE: <windows.h> is not needed).  rgn_open
 *   returns NULL on failure, never INVALID_HANDLE_VALUE.  Handles the
 *   wrappers open are not inheritable (what O_CLOEXEC gives on POSIX),
 *   and share reading, writing and deletion with other openers, as a
 *   POSIX file would.
 * - errno comes from the Windows error code, mapped as the OS layer maps
 *   it (ERROR_FILE_NOT_FOUND and ERROR_PATH_NOT_FOUND: ENOENT;
 *   ERROR_ACCESS_DENIED: EACCES, or EISDIR when the path names a
 *   directory; ERROR_DIRECTORY: ENOTDIR; the memory errors: ENOMEM;
 *   ERROR_FILENAME_EXCED_RANGE: ENAMETOOLONG; an unlisted code: EIO).
 * - There is no EINTR to retry.
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

#ifndef _WIN32
/* Read fd from its current offset to end of file; *len (may be NULL)
 * receives the byte count.  Works on pipes, sockets, terminals and files.
 * Returns the bytes, NUL-terminated, in r; on success fd is at end of
 * file.  On failure a seekable fd is put back at the offset it had; bytes
 * read from a pipe or socket before the failure are lost (the kernel has
 * no way to give them back).  fd stays the caller's: it is never closed.
 * NULL with errno: EINVAL (r NULL or not a live region), EBADF (fd
 * negative, or not open for reading), the errors of read(2) (EISDIR, EIO,
 * EAGAIN for a non-blocking fd with no data, ...), ENOMEM.  Not on
 * Windows. */
RGN_API RGN_NODISCARD
char *rgn_read_fd(rgn_region *r, int fd, size_t *len);
#endif

/* The whole file at path, as rgn_read_fd (opened read-only with
 * O_CLOEXEC, and closed before returning, whatever the outcome; a FIFO
 * waits for a writer, as open(2) does).  NULL with errno: EINVAL (r or
 * path NULL, r not a live region), the errors of open(2) (ENOENT, EACCES,
 * ENOTDIR, ELOOP, ENAMETOOLONG, EMFILE, ENFILE, ...) and read(2) (EISDIR
 * for a directory, EIO, ...), ENOMEM.
 * Windows: CreateFileW (GENERIC_READ, OPEN_EXISTING) and ReadFile, the
 * first reservation sized by GetFileSizeEx (a disk file) and grown as
 * on POSIX; a pipe reads to its writer's end.  EISDIR for a directory,
 * ENOENT, EACCES, EINVAL (path not UTF-8), ENOMEM, EIO. */
RGN_API RGN_NODISCARD
char *rgn_read_file(rgn_region *r, const char *path, size_t *len);

#ifndef _WIN32
/* fd read to end of file and split at '\n': an array of *n lines (the
 * newline removed; a last line without one counts too), followed by a
 * NULL entry.  An empty input gives n == 0 and an array holding NULL.
 * Split at newlines only: a '\r' before one stays, and a NUL byte inside
 * a line ends its string early without starting a new line.  The array
 * and the text both live in r; fd stays the caller's, as in rgn_read_fd.
 * NULL with errno: those of rgn_read_fd, and ENOMEM for the array (a
 * seekable fd is then put back at its offset too).  Not on Windows. */
RGN_API RGN_NODISCARD
char **rgn_read_lines(rgn_region *r, int fd, size_t *n);
#endif

/* The current working directory (getcwd(3)), however long: the buffer
 * starts at 256 bytes and grows while getcwd answers ERANGE.  NULL with
 * errno: EINVAL (r NULL or not a live region), the errors of getcwd(3)
 * (ENOENT when the directory was removed, EACCES), ENOMEM.
 * Windows: GetCurrentDirectoryW in UTF-8, as Windows writes it (a drive
 * letter and backslashes, C:\dir; no trailing backslash but at a
 * drive's root). */
RGN_API RGN_NODISCARD
char *rgn_getcwd(rgn_region *r);

#ifndef _WIN32
/* The target of the symbolic link at path, NUL-terminated, however long
 * (the buffer grows until readlink(2) leaves a byte unused, so it is never
 * truncated).  NULL with errno: EINVAL (r or path NULL, r not a live
 * region, or path not a symbolic link), the other errors of readlink(2)
 * (ENOENT, EACCES, ELOOP, ENAMETOOLONG, ENOTDIR, EIO), ENOMEM.  Not on
 * Windows. */
RGN_API RGN_NODISCARD
char *rgn_readlink(rgn_region *r, const char *path);
#endif

/* The kinds of entry rgn_dirent.type holds: the values of <dirent.h>'s
 * DT_* on Linux and the BSDs, also where there is no <dirent.h> to
 * define them (Windows). */
#define RGN_DT_UNKNOWN 0
#define RGN_DT_DIR     4
#define RGN_DT_REG     8
#define RGN_DT_LNK     10

/* One directory entry. */
typedef struct rgn_dirent {
	const char   *name;     /* NUL-terminated, in the region */
	size_t        namelen;  /* strlen(name) */
	uint64_t      ino;      /* inode number (0 on Windows) */
	unsigned char type;     /* DT_REG, DT_DIR, DT_LNK ... (<dirent.h>);
	                           DT_UNKNOWN when the file system does not say */
} rgn_dirent;

/* The entries of the directory at path, "." and ".." left out, in the
 * order the kernel returns them: an array of *n entries (n == 0 for an
 * empty directory, and the array is then not NULL).  Read with
 * getdents64 straight into the region; the array and the names live in
 * r.  The directory is opened (O_CLOEXEC) and closed before returning.
 * Linux only.  NULL with errno: EINVAL (r or path NULL, r not a live
 * region), the errors of open(2) (ENOENT, ENOTDIR, EACCES, ELOOP,
 * ENAMETOOLONG, EMFILE, ENFILE, ...) and getdents64(2) (ENOENT for a
 * directory removed meanwhile, EIO, ...), ENOMEM.
 * Windows: FindFirstFileExW and FindNextFileW, each name converted to
 * UTF-8 straight into the region's tail; ino is 0 (the find calls do not
 * give a file's ID); type is RGN_DT_DIR for a directory, RGN_DT_LNK for
 * a symbolic link or junction (a name-surrogate reparse point), else
 * RGN_DT_REG.  ENOENT, ENOTDIR (path names a file), EACCES, EINVAL,
 * ENOMEM. */
RGN_API RGN_NODISCARD
rgn_dirent *rgn_list_dir(rgn_region *r, const char *path, size_t *n);

#ifndef _WIN32
/* open(2) whose descriptor belongs to r: destroying or resetting r, or
 * rewinding it to a mark saved before the call, closes it (a cleanup,
 * rgn_on_destroy; after rgn_merge it belongs to the region merged into).
 * Close it earlier with rgn_close, never with close(2): the cleanup would
 * later close whatever descriptor then has that number.  O_CLOEXEC is
 * always added.  Returns the descriptor, or -1 with errno (nothing stays
 * open or registered): EINVAL (r or path NULL), the errors of open(2),
 * ENOMEM or EINVAL (r not a live region) when the cleanup cannot be
 * registered; the descriptor is then closed again, but what open did to
 * the file system (O_CREAT, O_TRUNC) stays done. */
RGN_API int rgn_open(rgn_region *r, const char *path, int flags, mode_t mode);

/* Close fd, opened by rgn_open on r, now, and drop its cleanup (the
 * record's bytes stay in r).  0, or -1 with errno: EINVAL (r NULL); EBADF
 * (and fd left alone) when fd is negative or r has no such descriptor
 * (never opened by rgn_open on r, already closed, or r not a live
 * region); the errors of close(2) but EINTR, which counts as success
 * (Linux releases the descriptor anyway): after those the descriptor is
 * released all the same and no longer r's. */
RGN_API int rgn_close(rgn_region *r, int fd);
#else
/* CreateFileW whose handle belongs to r, as rgn_open's descriptor does on
 * POSIX: destroying, resetting or rewinding r closes it (CloseHandle, a
 * cleanup); close it earlier with rgn_close, never with CloseHandle.
 * flags are open(2)'s, as <fcntl.h> defines them: O_RDONLY, O_WRONLY or
 * O_RDWR (GENERIC_READ, GENERIC_WRITE, both), with O_CREAT, O_EXCL,
 * O_TRUNC (OPEN_ALWAYS, CREATE_NEW, CREATE_ALWAYS, TRUNCATE_EXISTING),
 * O_APPEND (FILE_APPEND_DATA: every write at the end); O_BINARY, O_TEXT
 * and O_NOINHERIT are accepted and change nothing (a handle has no text
 * mode and is never inheritable); any other flag is EINVAL.  mode counts
 * only when O_CREAT creates the file: without the owner's write bit
 * (0200) the file is created read-only.  Returns the handle, or NULL
 * with errno (nothing stays open or registered): EINVAL (r or path NULL,
 * a flag not listed, path not UTF-8), ENOENT, EEXIST, EACCES, EISDIR (a
 * directory), ENOMEM or EINVAL (r not a live region) when the cleanup
 * cannot be registered; the handle is then closed again, but what the
 * open did to the file system (a file created or truncated) stays
 * done. */
RGN_API void *rgn_open(rgn_region *r, const char *path, int flags, int mode);

/* Close h, opened by rgn_open on r, now, and drop its cleanup.  0, or -1
 * with errno: EINVAL (r NULL); EBADF (and h left alone) when h is NULL or
 * r has no such handle; the errors of CloseHandle (the handle is released
 * all the same and no longer r's). */
RGN_API int rgn_close(rgn_region *r, void *h);
#endif

#ifdef __cplusplus
}
#endif

#endif /* RGN_SYS_H */
