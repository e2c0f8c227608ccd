/*
 * share-image.h - the image the sharing tests pass between processes, and
 * its walk: a root naming a singly linked list of items, each with a
 * value and a name string, all linked by references.  Used by
 * test-share.c, which writes it, and by share-reader.c, the other
 * program that opens it; both compute the same checksum of a walk.
 * Public API only.
 */
#ifndef RGN_TESTS_SHARE_IMAGE_H
#define RGN_TESTS_SHARE_IMAGE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rgn.h"

#define SHARE_MAGIC 0x53484152u   /* "SHAR" */

struct share_root {
	uint32_t magic;   /* SHARE_MAGIC */
	uint32_t count;   /* items in the list */
	rgn_ref  head;    /* the first item */
	uint32_t pad;
};

struct share_item {
	rgn_ref  next;
	uint32_t value;   /* item i holds i * 7 + 3 */
	rgn_ref  name;    /* "item-<i>" */
	uint32_t pad;
};

static inline uint64_t share_mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Walk the list whose references count from base (an image's ref 0):
 * checks each item's value and name against its position, and returns
 * the checksum of every value and name, or 0 for a wrong item (*count:
 * the items walked). */
static inline uint64_t share_walk(const char *base, rgn_ref root, uint32_t *count)
{
	const struct share_root *r = (const void *)(base + ((size_t)root << 3));
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t i = 0;
	char want[32];

	*count = 0;
	if (r->magic != SHARE_MAGIC)
		return 0;
	for (rgn_ref ref = r->head; ref; i++) {
		const struct share_item *it = (const void *)(base + ((size_t)ref << 3));
		const char *name = base + ((size_t)it->name << 3);

		snprintf(want, sizeof want, "item-%u", i);
		if (it->value != i * 7 + 3 || strcmp(name, want) != 0)
			return 0;
		h = share_mix(h, &it->value, sizeof it->value);
		h = share_mix(h, name, strlen(name));
		ref = it->next;
	}
	*count = i;
	return i == r->count ? h : 0;
}

#ifndef RGN_DECODE_ZERO
/* The same walk through RGN_AT, after rgn_image_enter (the decode mode's
 * own path: the global base, GS or the reserved register).  Every read
 * goes through RGN_AT itself: in mode gs it is a %gs-relative access. */
static inline uint64_t share_walk_at(rgn_ref root, uint32_t *count)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t i = 0;
	char want[32], name[32];

	*count = 0;
	if (RGN_AT(const struct share_root, root)->magic != SHARE_MAGIC)
		return 0;
	for (rgn_ref ref = RGN_AT(const struct share_root, root)->head; ref; i++) {
		uint32_t value = RGN_AT(const struct share_item, ref)->value;
		rgn_ref nref = RGN_AT(const struct share_item, ref)->name;
		size_t k = 0;

		while (k + 1 < sizeof name && (name[k] = RGN_AT(const char, nref)[k]) != 0)
			k++;
		name[k] = 0;
		snprintf(want, sizeof want, "item-%u", i);
		if (value != i * 7 + 3 || strcmp(name, want) != 0)
			return 0;
		h = share_mix(h, &value, sizeof value);
		h = share_mix(h, name, k);
		ref = RGN_AT(const struct share_item, ref)->next;
	}
	*count = i;
	return i == RGN_AT(const struct share_root, root)->count ? h : 0;
}
#endif

#endif /* RGN_TESTS_SHARE_IMAGE_H */
