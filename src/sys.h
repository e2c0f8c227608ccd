/*
 * sys.h - what the system-call wrappers (rgn_sys.h) share across OSes:
 * the reserve, fill, grow, commit helper (sys.c).  Each OS's wrappers
 * are one file in src/os/ (sys-posix.c, sys-windows.c; meson picks one)
 * and use the region only through rgn.h and these two functions.
 */
#ifndef RGN_SYS_INTERNAL_H
#define RGN_SYS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "rgn.h"

/* What a step reports to rgn_sys_fill(). */
enum rgn_sys_step {
	RGN_STEP_AGAIN,  /* it added bytes; call it again */
	RGN_STEP_DONE,   /* the result is complete */
	RGN_STEP_ROOM,   /* it needs more room than avail - used */
	RGN_STEP_ERROR   /* failed, errno set */
};

/* A step fills buf[*used, avail) as far as it can and moves *used to the
 * end of the bytes to keep (the NUL a string needs included).  Bytes
 * below *used survive a growth of the buffer; bytes above it do not. */
typedef enum rgn_sys_step (*rgn_sys_step_fn)(void *ctx, char *buf, size_t avail,
                                             size_t *used);

/* Run step over a tail reservation of at least want bytes of r until it
 * is done.  Returns the kept bytes (*len of them) as an allocation of r,
 * or NULL with errno (the step's, or ENOMEM) and r as before. */
void *rgn_sys_fill(rgn_region *r, size_t want, rgn_sys_step_fn step, void *ctx,
                   size_t *len);

/* Undo a wrapper: cancel a pending tail and rewind r to m, keeping errno. */
void rgn_sys_undo(rgn_region *r, rgn_mark m);

/* Is s "." or ".."?  (Listings leave both out.) */
static inline bool rgn_sys_dot_or_dotdot(const char *s)
{
	return s[0] == '.' && (s[1] == '\0' || (s[1] == '.' && s[2] == '\0'));
}

#endif /* RGN_SYS_INTERNAL_H */
