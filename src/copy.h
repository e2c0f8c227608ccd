/*
 * copy.h - the tracing copy (copy.c): what image.c asks of it.
 */
#ifndef RGN_COPY_H
#define RGN_COPY_H

#include "common.h"

/*
 * Someone reading the destination while the copy goes on (image.c's
 * writer).  A breadth-first copy into a contiguous region scans its
 * copies in the order they lie, and calls pass(arg, done) each time the
 * scan has gone step bytes further: the bytes from the start to done are
 * final, nothing there will be written again.  So nobody else may
 * allocate in the destination during the copy (a layout callback could
 * fill what it took later): image.c's sink is its own, no callback can
 * reach it.  Any other copy, or order, ignores the watch.  On an error
 * stop(arg) is called before the destination is rewound: no byte of it
 * may be read after.
 */
struct rgn_copy_watch {
	void  (*pass)(void *arg, const char *done);
	void  (*stop)(void *arg);
	void   *arg;
	size_t  step;
};

/* rgn_copy, its arguments checked but dst's liveness, with fn naming the
 * public call in debug messages, and watch NULL or as above.  0 or an
 * errno value. */
rgn_hidden int rgn_copy_as(const char *fn, rgn_region *dst, const rgn_region *src,
                           rgn_ref *roots, size_t nroots, const rgn_layout *layout,
                           rgn_copy_options *opts, const struct rgn_copy_watch *watch);

#endif /* RGN_COPY_H */
