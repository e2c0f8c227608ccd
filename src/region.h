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

/* For copy.c.  rgn_region_spans: fn for each span of the space r holds
 * (r of a backend whose memory is the space's).  rgn_region_replace:
 * compaction's swap, r's objects replaced by t's and t gone (see the
 * backend method replace); r's marks become stale and a pending tail is
 * dropped.  What lay at t's reference base + k lies at r's base + k
 * afterwards (the same address where t's memory became r's). */
typedef void rgn_span_fn(void *arg, uint32_t b, uint32_t n);
rgn_hidden void rgn_region_spans(const rgn_region *r, rgn_span_fn *fn, void *arg);
rgn_hidden void rgn_region_replace(rgn_region *r, rgn_region *t);

#endif /* RGN_REGION_H */
