/*
 * win-errno.c - Windows error codes as errno values.
 *
 * The one table: the OS layer's memory primitives (windows.c) and the
 * system-call wrappers (sys-windows.c) both map through it.
 */
#include "win-errno.h"

#include <errno.h>
#include <windows.h>

int rgn_os_win_errno(unsigned long code)
{
	switch (code) {
	case ERROR_SUCCESS:
		return 0;
	/* memory, handles, I/O */
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
	case ERROR_COMMITMENT_LIMIT:
	case ERROR_COMMITMENT_MINIMUM:
	case ERROR_PAGEFILE_QUOTA:
	case ERROR_NO_SYSTEM_RESOURCES:
		return ENOMEM;
	case ERROR_INVALID_ADDRESS:
		return EFAULT;
	case ERROR_INVALID_HANDLE:
		return EBADF;
	case ERROR_ACCESS_DENIED:
	case ERROR_LOCK_VIOLATION:
	case ERROR_SHARING_VIOLATION:
		return EACCES;
	case ERROR_FILE_INVALID:
	case ERROR_MAPPED_ALIGNMENT:
	case ERROR_INVALID_PARAMETER:
		return EINVAL;
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return ENOSPC;
	case ERROR_BROKEN_PIPE:
	case ERROR_NO_DATA:
		return EPIPE;
	/* files and paths */
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_DRIVE:
	case ERROR_BAD_NETPATH:
	case ERROR_BAD_NET_NAME:
		return ENOENT;
	case ERROR_INVALID_NAME:
	case ERROR_BAD_PATHNAME:
	case ERROR_NO_UNICODE_TRANSLATION:
		return EINVAL;
	case ERROR_FILENAME_EXCED_RANGE:
		return ENAMETOOLONG;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return EEXIST;
	case ERROR_DIRECTORY:
		return ENOTDIR;
	case ERROR_DIR_NOT_EMPTY:
		return ENOTEMPTY;
	case ERROR_TOO_MANY_OPEN_FILES:
		return EMFILE;
	case ERROR_WRITE_PROTECT:
		return EROFS;
	case ERROR_CANT_RESOLVE_FILENAME:
		return ELOOP;
	case ERROR_NOT_READY:
		return ENODEV;
	case ERROR_NOT_SUPPORTED:
	case ERROR_INVALID_FUNCTION:
		return ENOSYS;
	default:
		return EIO;
	}
}

int rgn_os_win_last_errno(void)
{
	int e = rgn_os_win_errno(GetLastError());

	return e ? e : EIO;
}
