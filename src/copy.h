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
	/* the compiled copy's (rgn_copier_start): its end hands over the
	 * image's root and the copy's error (0, or an errno value with dst
	 * rewound and stop called); end writes or drops the image and gives
	 * the call's result */
	int   (*end)(void *arg, rgn_ref root, int err);
	void   *arg;
	size_t  step;       /* 0: pass is never called */
};

/* rgn_copy, its arguments checked but dst's liveness, with fn naming the
 * public call in debug messages, and watch NULL or as above.  0 or an
 * errno value. */
rgn_hidden int rgn_copy_as(const char *fn, rgn_region *dst, const rgn_region *src,
                           rgn_ref *roots, size_t nroots, const rgn_layout *layout,
                           rgn_copy_options *opts, const struct rgn_copy_watch *watch);

/* rgn_copier_begin into dst with watch (as above, its end required): the
 * copier's scan calls pass as it reaches every step bytes more, and its
 * end calls end (rgn_copier_end_image; rgn_copier_end fails it with
 * EINVAL).  0 or an errno value (then c holds a spent copier and end is
 * not called). */
rgn_hidden int rgn_copier_start(rgn_copier *c, rgn_region *dst, const rgn_region *src,
                                rgn_copy_options *opts, const struct rgn_copy_watch *watch);

#endif /* RGN_COPY_H */
