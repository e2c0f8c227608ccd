/*
 * region.h - what region.c offers the statistics and the report.
 */
#ifndef RGN_REGION_H
#define RGN_REGION_H

#include "common.h"

/* Live regions counted by region.c, for the space statistics. */
rgn_hidden size_t rgn_region_count(void);

/* For report.c, which walks the tree above region.c: is r a live region
 * (false for NULL; a dead one aborts, naming fn)?  For a live
 * r: its backend's name, and *st filled for r alone (every field up to
 * committed; the subtree fields 0). */
rgn_hidden bool rgn_region_live(const rgn_region *r, const char *fn);
rgn_hidden const char *rgn_region_backend_name(const rgn_region *r);
rgn_hidden void rgn_region_own_stats(const rgn_region *r, struct rgn_region_stats *st);

#endif /* RGN_REGION_H */
