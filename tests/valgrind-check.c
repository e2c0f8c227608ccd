/*
 * valgrind-check.c - what memcheck sees of regions, one case per run
 * (tests/check-valgrind.sh runs each under valgrind and checks its verdict).
 *
 *   valgrind-check CASE
 *
 * The misuse cases each do one thing memcheck must report, and would
 * otherwise run clean: rgn keeps the memory mapped and readable, and fresh
 * pages read as zero, so without the library's annotations there is
 * nothing to see.
 *   destroyed-blocks     read an object of a destroyed one-block region
 *   destroyed-large      read a large object (a span of its own) after destroy
 *   destroyed-contig     read an object of a destroyed contiguous region
 *                        (its reservation stays mapped in the reuse cache)
 *   unwritten-blocks     branch on region memory never written (blocks)
 *   unwritten-contig     the same in a contiguous region
 *   freed-heap           read an object of a heap region after rgn_free
 *   destroyed-heap       read an object of a destroyed heap region
 *   unwritten-heap       branch on a reused object of a heap region (its
 *                        old contents are not the new object's)
 *
 * The clean case uses regions of both backends as a program would and
 * must draw no report.  It also asks memcheck how it sees the memory
 * (VALGRIND_GET_VBITS, which reports nothing itself) and exits 1 when a
 * state is not the one rgn promises: fresh allocations undefined, what
 * rgn_calloc returns defined, a destroyed region's memory inaccessible,
 * memory above a rewound bump pointer undefined again, a freed heap
 * object inaccessible but for its first word (the free list's link).
 *   clean
 *
 * Every case prints "reached" just before its last step, so that the
 * script can tell a report from a crash before it.
 */
#include <rgn.h>
#include <valgrind/memcheck.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB ((size_t)1 << 20)

static int failures;

static rgn_region *region(rgn_backend backend)
{
	rgn_options o = { .backend = backend, .reserve = 64 * MiB };
	rgn_region *r = rgn_new_with(NULL, &o);

	if (!r) {
		perror("rgn_new_with");
		exit(2);
	}
	return r;
}

static void *alloc(rgn_region *r, size_t n)
{
	void *p = rgn_alloc(r, n);

	if (!p) {
		perror("rgn_alloc");
		exit(2);
	}
	return p;
}

/* How memcheck sees [p, p+n): 'N' not addressable, 'D' defined, 'U'
 * undefined, 'M' mixed, '-' not under valgrind. */
static char seen(const void *p, size_t n)
{
	static unsigned char bits[1 << 16];
	size_t zero = 0, ones = 0;

	if (n > sizeof bits)
		n = sizeof bits;
	switch (VALGRIND_GET_VBITS(p, bits, n)) {
	case 0: return '-';
	case 3: return 'N';
	default: break;
	}
	for (size_t i = 0; i < n; i++) {
		zero += bits[i] == 0;
		ones += bits[i] == 0xff;
	}
	return zero == n ? 'D' : ones == n ? 'U' : 'M';
}

static void expect(const char *what, const void *p, size_t n, char want)
{
	char got = seen(p, n);

	if (got != want && got != '-') {   /* natively there is no one to ask */
		fprintf(stderr, "valgrind-check: %s: memcheck sees '%c', want '%c'\n",
		        what, got, want);
		failures++;
	}
}

static volatile unsigned char sink;

static void read_after_destroy(rgn_backend backend, size_t size)
{
	rgn_region *r = region(backend);
	unsigned char *p = alloc(r, size);

	memset(p, 7, size);
	rgn_destroy(r);
	puts("reached");
	fflush(stdout);
	sink = p[size - 1];       /* invalid read */
}

static void branch_on_unwritten(rgn_backend backend)
{
	rgn_region *r = region(backend);
	unsigned char *p = alloc(r, 64);

	p[0] = 1;
	puts("reached");
	fflush(stdout);
	if (p[40] == 0)           /* never written: undefined */
		sink = 1;
	rgn_destroy(r);
}

static void read_after_free(void)
{
	rgn_region *r = region(RGN_BACKEND_HEAP);
	unsigned char *p = alloc(r, 64);

	memset(p, 7, 64);
	rgn_free(r, p, 64);
	puts("reached");
	fflush(stdout);
	sink = p[40];             /* invalid read */
	rgn_destroy(r);
}

static void branch_on_reused(void)
{
	rgn_region *r = region(RGN_BACKEND_HEAP);
	unsigned char *p = alloc(r, 64), *q;

	memset(p, 7, 64);
	rgn_free(r, p, 64);
	q = alloc(r, 64);         /* the same object again */
	q[0] = 1;
	puts("reached");
	fflush(stdout);
	if (q[40] == 7)           /* not written since it came back */
		sink = 1;
	rgn_destroy(r);
}

/* A heap region as a program uses it: no report, and the states rgn
 * promises. */
static void clean_heap(void)
{
	rgn_region *r = region(RGN_BACKEND_HEAP);
	unsigned char *p[256];
	unsigned sum = 0;

	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 256; i++) {
			p[i] = alloc(r, 16 + (size_t)(i * 37 % 3000));
			memset(p[i], i, 16);
		}
		for (int i = 0; i < 256; i += 2) {
			p[i] = rgn_realloc(r, p[i], 16 + (size_t)(i * 37 % 3000), 5000);
			if (!p[i])
				exit(2);
			sum += p[i][15];
		}
		for (int i = 0; i < 256; i++)
			rgn_free(r, p[i], 0);
	}
	p[0] = alloc(r, 100);
	expect("heap object", p[0], 100, 'U');
	memset(p[0], 1, 100);
	rgn_free(r, p[0], 100);
	expect("freed heap object", p[0] + 8, 96, 'N');
	p[1] = alloc(r, 100 * 1024);
	rgn_free(r, p[1], 0);
	expect("freed heap span", p[1], 100 * 1024, 'N');
	p[2] = rgn_calloc(r, 1, 200);
	expect("rgn_calloc in a heap region", p[2], 200, 'D');
	if (sum == 12345)
		puts("unlikely");
	rgn_destroy(r);
	expect("destroyed heap region", p[2], 200, 'N');
}

static void cleanup_note(void *arg)
{
	*(int *)arg += 1;
}

/* What a program does with regions, on one backend; then how memcheck
 * sees each kind of memory. */
static void clean(rgn_backend backend)
{
	rgn_region *r = region(backend), *kid;
	int ran = 0;
	char *s, *t, *big, *z, *fresh;
	unsigned *zz;
	rgn_mark m;
	size_t avail, sum = 0;

	/* objects, strings, a child, a cleanup, a tail, a resize */
	for (int i = 0; i < 2000; i++) {
		unsigned *o = alloc(r, 24);
		o[0] = (unsigned)i;
		sum += o[0];
	}
	s = rgn_strdup(r, "memcheck");
	t = rgn_format(r, "%s-%d", s, 42);
	if (!s || !t || strcmp(t, "memcheck-42") != 0)
		failures++;
	kid = rgn_new_with(r, &(rgn_options){ .backend = backend, .reserve = 64 * MiB });
	if (!kid || rgn_on_destroy(kid, cleanup_note, &ran) != 0)
		failures++;
	strcpy(alloc(kid, 100), "child");
	big = alloc(r, 300 * 1024);          /* a span of its own (blocks) */
	memset(big, 1, 300 * 1024);
	s = rgn_tail(r, 4096, &avail);
	if (!s || avail < 4096)
		failures++;
	memcpy(s, "tail", 5);
	if (rgn_tail_commit(r, 5) != 0 || strcmp(s, "tail") != 0)
		failures++;
	s = rgn_realloc(r, s, 5, 9000);
	if (!s || strcmp(s, "tail") != 0)
		failures++;

	/* rgn_calloc promises zero: defined, small and large */
	zz = rgn_calloc(r, 16, sizeof *zz);
	z = rgn_calloc(r, 1, 2 * MiB);
	if (!zz || !z || zz[15] != 0 || z[2 * MiB - 1] != 0)
		failures++;
	expect("rgn_calloc, small", zz, 16 * sizeof *zz, 'D');
	expect("rgn_calloc, large", z, 2 * MiB, 'D');

	/* a fresh allocation is undefined, whatever the page holds */
	fresh = alloc(r, 256);
	expect("rgn_alloc, fresh", fresh, 256, 'U');
	fresh[0] = 'x';
	expect("rgn_alloc, written", fresh, 1, 'D');

	/* a rewind gives back what came after the mark */
	m = rgn_save(r);
	s = alloc(r, 128);
	memset(s, 3, 128);
	if (rgn_rewind(r, m) != 0)
		failures++;
	expect("rewound", s, 128, 'U');

	/* the child and its memory go with the parent */
	rgn_destroy(kid);
	if (ran != 1)
		failures++;
	if (sum != 2000u * 1999u / 2)
		failures++;
	rgn_reset(r);
	t = alloc(r, 64);
	expect("after reset", t, 64, 'U');
	memset(t, 0, 64);
	rgn_destroy(r);
	expect("destroyed", t, 64, 'N');
	expect("destroyed, large span", big, 300 * 1024, 'N');
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";
	rgn_config cfg = { .space_size = 256 * MiB };

	if (rgn_init(&cfg) != 0) {
		perror("rgn_init");
		return 2;
	}
	if (strcmp(c, "destroyed-blocks") == 0)
		read_after_destroy(RGN_BACKEND_BLOCKS, 64);
	else if (strcmp(c, "destroyed-large") == 0)
		read_after_destroy(RGN_BACKEND_BLOCKS, 1 * MiB);
	else if (strcmp(c, "destroyed-contig") == 0)
		read_after_destroy(RGN_BACKEND_CONTIG, 64);
	else if (strcmp(c, "unwritten-blocks") == 0)
		branch_on_unwritten(RGN_BACKEND_BLOCKS);
	else if (strcmp(c, "unwritten-contig") == 0)
		branch_on_unwritten(RGN_BACKEND_CONTIG);
	else if (strcmp(c, "freed-heap") == 0)
		read_after_free();
	else if (strcmp(c, "destroyed-heap") == 0)
		read_after_destroy(RGN_BACKEND_HEAP, 64);
	else if (strcmp(c, "unwritten-heap") == 0)
		branch_on_reused();
	else if (strcmp(c, "clean") == 0) {
		clean(RGN_BACKEND_BLOCKS);
		clean(RGN_BACKEND_CONTIG);
		clean_heap();
		puts("reached");
	} else {
		fprintf(stderr, "usage: valgrind-check destroyed-blocks|destroyed-large|"
		        "destroyed-contig|unwritten-blocks|unwritten-contig|freed-heap|"
		        "destroyed-heap|unwritten-heap|clean\n");
		return 2;
	}
	return failures ? 1 : 0;
}
