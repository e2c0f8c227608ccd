/*
 * fuzz-image.c - rgn_image_open on arbitrary files.
 *
 * The input becomes the whole content of a memory file (memfd), which is
 * opened as an image three times: as it is, with the header's checksum
 * made right, and with the header's size field set to the file's length
 * and the checksum made right (so that the fuzzer gets past the cheap
 * refusals to the checks behind them); the last one is opened trusted too
 * (RGN_IMAGE_TRUSTED: no body checksum), which must open whatever the
 * checked open opens, and more.  Opening must either fail with one
 * of the documented errno values or give an image whose size is the
 * file's, whose root lies inside it, and whose bytes past the header page
 * are the file's; reading all of them, entering and closing it must not
 * fault.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rgn.h"

#define FUZZ_NAME "fuzz-image"
#include "fuzz.h"


/* The header as image.c writes it: the offsets are the format's. */
#define OFF_GUARD 20
#define OFF_USED  24
#define OFF_ROOT  32
#define OFF_CHECK 40
#define HEAD_LEN  48

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int memfd = -1;

/* Open data as an image with flags and read it all: whether it opened. */
static bool try_open(const uint8_t *data, size_t size, unsigned flags)
{
	rgn_ref root = 0;
	rgn_image *img;
	uint32_t guard;
	size_t n;
	const volatile char *p;
	unsigned sum = 0;

	CHECK(ftruncate(memfd, 0) == 0, "ftruncate: %s", strerror(errno));
	for (size_t off = 0; off < size;) {
		ssize_t k = pwrite(memfd, data + off, size - off, (off_t)off);
		CHECK(k > 0, "pwrite: %s", strerror(errno));
		off += (size_t)k;
	}
	errno = 0;
	img = rgn_image_open_with(memfd, &root, flags);
	if (!img) {
		CHECK(errno == ENOEXEC || errno == EBADMSG || errno == ENODATA ||
		      errno == ENOMEM, "open failed with errno %d (%s)", errno,
		      strerror(errno));
		return false;
	}
	CHECK(size >= HEAD_LEN, "opened a %zu-byte file", size);
	memcpy(&guard, data + OFF_GUARD, sizeof guard);
	n = rgn_image_size(img);
	CHECK(n == size, "image of %zu bytes from a %zu-byte file", n, size);
	CHECK(guard >= HEAD_LEN && guard < n && guard % 8 == 0, "guard %u", guard);
	CHECK(root == 0 || ((size_t)root * 8 >= guard && (size_t)root * 8 < n),
	      "root %u outside [%u, %zu)", root, guard, n);
	/* every byte past the header page, read through the decoder */
	p = rgn_image_ptr(img, guard / 8);
	for (size_t i = 0; i < n - guard; i++)
		sum += (unsigned char)p[i];
	CHECK(memcmp((const void *)p, data + guard, n - guard) == 0, "mapped bytes differ");
	CHECK(rgn_image_ref(img, (const void *)p) == guard / 8, "rgn_image_ref");
	if (root)
		sum += *RGN_IMAGE_AT(img, unsigned char, root);
	if (rgn_image_enter(img) == 0) {
		if (root)
			sum -= *RGN_AT(const unsigned char, root);
		CHECK(rgn_enter(NULL) == 0, "enter(NULL)");
	} else {
		/* mode zero has no base to move */
		CHECK(errno == ENOTSUP && strcmp(rgn_decode_mode(), "zero") == 0,
		      "enter: %s", strerror(errno));
	}
	(void)sum;
	rgn_image_close(img);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	uint64_t check, used = size;
	bool opened;

	if (memfd < 0) {
		rgn_config cfg = { .space_size = (size_t)64 << 20 };
		CHECK(rgn_init(&cfg) == 0, "rgn_init: %s", strerror(errno));
		memfd = memfd_create("fuzz-image", MFD_CLOEXEC);
		CHECK(memfd >= 0, "memfd_create: %s", strerror(errno));
	}
	try_open(data, size, 0);
	if (size < HEAD_LEN)
		return 0;
	copy = malloc(size);
	CHECK(copy != NULL, "malloc");
	memcpy(copy, data, size);
	check = fnv1a(copy, OFF_CHECK);
	memcpy(copy + OFF_CHECK, &check, sizeof check);
	try_open(copy, size, 0);
	memcpy(copy + OFF_USED, &used, sizeof used);
	check = fnv1a(copy, OFF_CHECK);
	memcpy(copy + OFF_CHECK, &check, sizeof check);
	opened = try_open(copy, size, 0);
	CHECK(try_open(copy, size, RGN_IMAGE_TRUSTED) || !opened,
	      "a trusted open refused what the checked one opened");
	free(copy);
	return 0;
}
