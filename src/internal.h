/*
 * internal.h - every internal header, for the internal tests (the
 * library's own files include only the headers of the layers they use).
 */
#ifndef RGN_INTERNAL_H
#define RGN_INTERNAL_H

#include "common.h"
#include "lock.h"
#include "resv.h"
#include "decode.h"
#include "space.h"
#include "blocks.h"
#include "tcache.h"
#include "backend/backend.h"
#include "backend/blocks.h"
#include "backend/contig.h"
#include "region.h"

#endif /* RGN_INTERNAL_H */
