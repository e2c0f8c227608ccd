/*
 * region.h - what region.c offers the statistics.
 */
#ifndef RGN_REGION_H
#define RGN_REGION_H

#include "common.h"

/* Live regions counted by region.c, for the space statistics. */
rgn_hidden size_t rgn_region_count(void);

#endif /* RGN_REGION_H */
