/*
 * arch.h - what a decode mode's run-time file (arch/<cpu>/<mode>.c)
 * gives decode.c: three hooks, and the space's base when it is published.
 */
#ifndef RGN_ARCH_H
#define RGN_ARCH_H

#include "../src/common.h"

/* Make base the active decode base (global: for the process; gs: the
 * calling thread's GS base; reg: x28 and the thread's record).  0 or an
 * errno value. */
rgn_hidden int rgn_arch_set(char *base);
/* The same, but only where old is the active base (atomically against
 * rgn_arch_set in global): whether it switched. */
rgn_hidden bool rgn_arch_swap(char *old, char *base);
/* The active base of the calling thread (global: the process), NULL
 * when never set. */
rgn_hidden char *rgn_arch_active(void);
/* The space now exists at base: global and gs make it active, reg only
 * remembers it (x28 is loaded where the caller asks). */
rgn_hidden void rgn_arch_publish(char *base);

#endif /* RGN_ARCH_H */
