/*
 * copy.h - the tracing copy (copy.c): what image.c asks of it.
 */
#ifndef RGN_COPY_H
#define RGN_COPY_H

#include "common.h"

/* rgn_copy, its arguments checked but dst's liveness, with fn naming the
 * public call in debug messages.  0 or an errno value. */
rgn_hidden int rgn_copy_as(const char *fn, rgn_region *dst, const rgn_region *src,
                           rgn_ref *roots, size_t nroots, const rgn_layout *layout,
                           rgn_copy_options *opts);

#endif /* RGN_COPY_H */
