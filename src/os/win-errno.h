/*
 * win-errno.h - Windows error codes as errno values (win-errno.c), for
 * the files of src/os/ that speak to Windows.
 */
#ifndef RGN_WIN_ERRNO_H
#define RGN_WIN_ERRNO_H

/* The errno value for a Windows error code (a DWORD from GetLastError):
 * 0 for ERROR_SUCCESS, EIO for a code not listed. */
int rgn_os_win_errno(unsigned long code);

/* rgn_os_win_errno(GetLastError()), never 0. */
int rgn_os_win_last_errno(void);

#endif /* RGN_WIN_ERRNO_H */
