/*
 * copy.h - the tracing copy (copy.c): what image.c asks of it.
 */
#ifndef RGN_COPY_H
#define RGN_COPY_H

#include "common.h"

/* One piece of a traced image's body, in order: the pieces' bytes,
 * concatenated, are the image from offset `guard` on. */
struct rgn_copy_piece {
	const char *p;
	size_t      n;
};

/* A graph traced into pieces of memory of the copy's own (scratch), laid
 * out as an image whose first object starts at byte `guard` (the header
 * page); references count from the image's first byte. */
struct rgn_copy_image {
	rgn_region            *scratch;  /* holds the pieces */
	struct rgn_copy_piece *pieces;   /* malloc'd */
	size_t                 npieces;
	uint64_t               used;     /* guard + the pieces' bytes */
	rgn_ref                root;     /* the root's copy */
};

/* Trace the graph from root in src (NULL: the shared space) into *out,
 * at most `max` bytes from the image's base.  0 or an errno value (then
 * *out holds nothing to free). */
rgn_hidden int rgn_copy_image(const rgn_region *src, rgn_ref root, const rgn_layout *layout,
                              rgn_copy_options *opts, size_t guard, size_t max,
                              struct rgn_copy_image *out);
rgn_hidden void rgn_copy_image_free(struct rgn_copy_image *ci);

#endif /* RGN_COPY_H */
