/*
 * test-contig.c - what only the contiguous backend has: region-relative
 * references and rgn_enter, the null guard page, the live-reservation cap
 * and the OS refusing a reservation, the reuse cache and its purge
 * policies, reset giving pages back, regions of both backends in one
 * tree, and images (write, map back, walk; bad files).  The region API
 * itself runs on this backend in the "region-contig" suite.
 */
#define _GNU_SOURCE
#include "suites.h"

#include <fcntl.h>
#if TST_POSIX
#include <sys/mman.h>
#include <sys/resource.h>
#endif

static rgn_region *contig_new(rgn_region *parent, size_t reserve)
{
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = reserve };
	rgn_region *r = rgn_new_with(parent, &o);

	ck_assert_msg(r != NULL, "contiguous region of %zu: %s", reserve,
	              strerror(errno));
	return r;
}

#ifdef _WIN32
/* Is p inaccessible: not committed, or committed with no access? */
static int faults(const void *p)
{
	MEMORY_BASIC_INFORMATION mbi;

	ck_assert(VirtualQuery(p, &mbi, sizeof mbi) == sizeof mbi);
	return mbi.State != MEM_COMMIT || (mbi.Protect & (PAGE_NOACCESS | PAGE_GUARD));
}
#else
/* Is p inaccessible?  The kernel answers without a signal: write(2) from
 * an unmapped or PROT_NONE address fails with EFAULT. */
static int faults(const void *p)
{
	int fd[2], bad;

	ck_assert_int_eq(pipe(fd), 0);
	tst_vg_quiet(); /* the kernel reads p: inaccessible or never written */
	bad = write(fd[1], p, 1) == -1 && errno == EFAULT;
	tst_vg_loud();
	close(fd[0]);
	close(fd[1]);
	return bad;
}
#endif

static int oom_seen;
static void note_oom(size_t size, void *arg)
{
	(void)size;
	(void)arg;
	oom_seen++;
}

/* ---- references ---------------------------------------------------------- */

struct node {
	rgn_ref next;
	uint32_t value;
};

START_TEST(test_contig_refs_in)
{
	rgn_region *b, *c, *d;
	struct node *nb, *nc, *nd;
	rgn_ref rb, rc, rd;

	tst_init(64 * MiB, 0);
	b = rgn_new(NULL);
	c = contig_new(NULL, 16 * MiB);
	d = contig_new(NULL, 16 * MiB);
	nb = rgn_alloc(b, sizeof *nb);
	nc = rgn_alloc(c, sizeof *nc);
	nd = rgn_alloc(d, sizeof *nd);
	nb->value = 1;
	nc->value = 2;
	nd->value = 3;

	/* block refs are the shared space's, whatever region is named */
	rb = rgn_ref_in(b, nb);
	ck_assert_uint_eq(rb, rgn_ref_of(nb));
	ck_assert_ptr_eq(rgn_ptr_in(b, rb), nb);
	ck_assert_ptr_eq(rgn_ptr(rb), nb);
	/* contiguous refs count from each region's own base: small, equal
	 * at the same position in two regions, and decoded per region */
	rc = rgn_ref_in(c, nc);
	rd = rgn_ref_in(d, nd);
	ck_assert_uint_eq(rc, rd);
	ck_assert_uint_lt(rc, 4096);
	ck_assert_ptr_eq(rgn_ptr_in(c, rc), nc);
	ck_assert_ptr_eq(rgn_ptr_in(d, rd), nd);
	ck_assert_uint_eq(rgn_ref_in(c, NULL), RGN_NULL_REF);

#ifdef RGN_DECODE_ZERO
	/* no base to move: RGN_AT is the address / 8 */
	tst_fails_with(rgn_enter(c), ENOTSUP);
	ck_assert_int_eq(rgn_enter(b), 0);
	ck_assert_int_eq(rgn_enter(NULL), 0);
	ck_assert_uint_eq(RGN_AT(struct node, rb)->value, 1);
	rgn_destroy(d);
#else
	/* rgn_enter makes RGN_AT decode c's refs, then d's, then the space's */
	ck_assert_int_eq(rgn_enter(c), 0);
	ck_assert_uint_eq(RGN_AT(struct node, rc)->value, 2);
	ck_assert_ptr_eq(rgn_ptr(rb), nb);   /* rgn_ptr: always the space */
	ck_assert_int_eq(rgn_enter(d), 0);
	ck_assert_uint_eq(RGN_AT(struct node, rc)->value, 3);
	ck_assert_int_eq(rgn_enter(b), 0);          /* a block region: the space */
	ck_assert_uint_eq(RGN_AT(struct node, rb)->value, 1);
	ck_assert_int_eq(rgn_enter(c), 0);
	ck_assert_int_eq(rgn_enter(NULL), 0);
	ck_assert_uint_eq(RGN_AT(struct node, rb)->value, 1);
	/* destroying the entered region enters the space again */
	ck_assert_int_eq(rgn_enter(d), 0);
	rgn_destroy(d);
	ck_assert_uint_eq(RGN_AT(struct node, rb)->value, 1);
#endif
	rgn_destroy(c);
	rgn_destroy(b);
}
END_TEST

START_TEST(test_contig_null_ref_faults)
{
	rgn_region *b, *c;

	tst_init(16 * MiB, 0);
	b = rgn_new(NULL);
	c = contig_new(NULL, 4 * MiB);
	ck_assert(faults(rgn_ptr_in(c, RGN_NULL_REF)));
	ck_assert(faults(rgn_ptr_in(c, 511)));          /* the whole guard page */
	ck_assert(faults(rgn_ptr_in(b, RGN_NULL_REF)));
	/* and the part never committed: past the frontier */
	ck_assert(faults((char *)rgn_ptr_in(c, 0) + tst_region(c).committed));
	ck_assert(!faults(rgn_alloc(c, 8)));
	rgn_destroy(c);
	rgn_destroy(b);
}
END_TEST

/* ---- running out ----------------------------------------------------------- */

START_TEST(test_contig_live_cap)
{
	rgn_contig_config cfg = { .max_live = 3 };
	rgn_region *r[3], *x;

	tst_init(16 * MiB, 0);
	ck_assert_int_eq(rgn_contig_configure(&cfg), 0);
	rgn_set_oom_handler(note_oom, NULL);
	for (int i = 0; i < 3; i++)
		r[i] = contig_new(NULL, 2 * MiB);
	tst_null_with(rgn_new_with(NULL, &(rgn_options){
		.backend = RGN_BACKEND_CONTIG, .reserve = 2 * MiB }), ENOMEM);
	ck_assert_int_eq(oom_seen, 1);
	ck_assert_uint_eq(tst_contig().live, 3);
	ck_assert_uint_ge(tst_contig().refused, 1);
	/* block regions are not reservations */
	x = rgn_new(r[0]);
	ck_assert_ptr_nonnull(x);
	/* one goes, one more can come (from the cache) */
	rgn_destroy(r[1]);
	x = contig_new(r[0], 2 * MiB);
	ck_assert_uint_eq(tst_contig().reuses, 1);
	ck_assert_ptr_nonnull(rgn_alloc(x, 1000));
	rgn_destroy(r[0]);
	rgn_destroy(r[2]);
	ck_assert_uint_eq(tst_contig().live, 0);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

/* A pending tail cannot grow past the reservation: ENOMEM, the tail is
 * still pending and commits, and neither the region nor the shared space
 * gained anything (it must not borrow blocks of the space). */
START_TEST(test_contig_tail_grow_past_reserve)
{
	struct rgn_space_stats s0, s1;
	struct rgn_region_stats r0, r1;
	rgn_region *c;
	size_t avail;
	char *t;

	tst_init(64 * MiB, 0);
	c = contig_new(NULL, 1 * MiB);
	ck_assert_ptr_nonnull(rgn_alloc(c, 100));
	s0 = tst_space();
	r0 = tst_region(c);
	t = rgn_tail(c, 64 * KiB, &avail);
	ck_assert_ptr_nonnull(t);
	memset(t, 7, 100);
	tst_null_with(rgn_tail_grow(c, 100, 2 * MiB, &avail), ENOMEM);
	ck_assert_ptr_null(rgn_tail_grow(c, 100, 64 * GiB, &avail));
	ck_assert_int_eq(rgn_tail_commit(c, 0), 0);
	r1 = tst_region(c);
	s1 = tst_space();
	ck_assert_uint_eq(r1.used, r0.used);
	ck_assert_uint_eq(r1.chunks, r0.chunks);
	ck_assert_uint_eq(s1.used_blocks, s0.used_blocks);
	/* and it still allocates inside its own range */
	t = rgn_alloc(c, 1000);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_eq(rgn_ptr_in(c, rgn_ref_in(c, t)), t);
	ck_assert_uint_lt((size_t)rgn_ref_in(c, t) * 8, 1 * MiB);
	rgn_destroy(c);
	ck_assert_uint_eq(tst_space().used_blocks, s0.used_blocks);
}
END_TEST

/* The OS refusing the address space is ENOMEM, not a crash. */
START_TEST(test_contig_os_refuses)
{
#if defined(TST_ASAN)
	printf("test_contig_os_refuses: skipped: AddressSanitizer maps its "
	       "own memory beyond any address-space limit a test can set\n");
#elif defined(TST_EMULATED)
	printf("test_contig_os_refuses: skipped: user-mode emulation does not "
	       "apply the guest's address-space limit to its own mappings\n");
#elif !TST_POSIX
	printf("test_contig_os_refuses: skipped: no address-space limit for a "
	       "test to set on Windows\n");
#else
	struct rlimit lim;
	rgn_region *r, *keep;

	tst_init(16 * MiB, 0);
	keep = contig_new(NULL, 1 * MiB);
	/* room for 64 MiB more address space, not for 1 GiB */
	lim.rlim_cur = lim.rlim_max = (rlim_t)tst_mapped() + 64 * MiB;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
	rgn_set_oom_handler(note_oom, NULL);
	tst_null_with(rgn_new_with(NULL, &(rgn_options){
		.backend = RGN_BACKEND_CONTIG, .reserve = 1 * GiB }), ENOMEM);
	ck_assert_int_eq(oom_seen, 1);
	ck_assert_uint_eq(tst_contig().live, 1);
	/* what fits still works */
	r = contig_new(keep, 1 * MiB);
	ck_assert_ptr_nonnull(rgn_alloc(r, 100 * KiB));
	rgn_destroy(keep);
	ck_assert_uint_eq(tst_contig().live, 0);
#endif
}
END_TEST

/* ---- the reuse cache and giving pages back -------------------------------------- */

START_TEST(test_contig_cache_and_unmap)
{
	rgn_contig_config unmap = { .release = RGN_RELEASE_UNMAP };
	rgn_options own_unmap = { .backend = RGN_BACKEND_CONTIG, .reserve = 8 * MiB,
	                          .release = RGN_RELEASE_UNMAP };
	struct rgn_contig_stats s0, s1;
	rgn_region *r;
	char *base;

	tst_init(16 * MiB, 0);
	/* the default: destroy caches, the next one of that size reuses */
	r = contig_new(NULL, 8 * MiB);
	base = rgn_ptr_in(r, 0);
	s0 = tst_contig();
	rgn_destroy(r);
	s1 = tst_contig();
	ck_assert_uint_eq(s1.cached, s0.cached + 1);
	ck_assert_uint_eq(s1.unmaps, s0.unmaps);
	ck_assert_uint_eq(s1.reserved_bytes, s0.reserved_bytes);
	r = contig_new(NULL, 4 * MiB);                   /* another size: new */
	ck_assert_ptr_ne(rgn_ptr_in(r, 0), base);
	rgn_destroy(r);
	r = contig_new(NULL, 8 * MiB);
	ck_assert_ptr_eq(rgn_ptr_in(r, 0), base);
	ck_assert_uint_eq(tst_contig().reuses, s0.reuses + 1);
	ck_assert(faults(rgn_ptr_in(r, 0)));            /* still guarded */

	/* a region's own policy wins over the cache */
	s0 = tst_contig();
	rgn_destroy(r);
	r = rgn_new_with(NULL, &own_unmap);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(tst_contig().reuses, s0.reuses + 1);
	s0 = tst_contig();
	rgn_destroy(r);
	s1 = tst_contig();
	ck_assert_uint_eq(s1.unmaps, s0.unmaps + 1);
	ck_assert_uint_eq(s1.cached, s0.cached);

	/* the process-wide unmap policy empties the cache, then unmaps */
	ck_assert_uint_gt(tst_contig().cached, 0);
	ck_assert_int_eq(rgn_contig_configure(&unmap), 0);
	ck_assert_uint_eq(tst_contig().cached, 0);
	ck_assert_uint_eq(tst_contig().reserved_bytes, 0);
	r = contig_new(NULL, 8 * MiB);
	s0 = tst_contig();
	rgn_destroy(r);
	ck_assert_uint_eq(tst_contig().unmaps, s0.unmaps + 1);
	ck_assert_uint_eq(tst_contig().cached, 0);
}
END_TEST

START_TEST(test_contig_cache_bounded)
{
	rgn_contig_config cfg = { .cache_max = 2 };
	rgn_region *r[5];

	tst_init(16 * MiB, 0);
	ck_assert_int_eq(rgn_contig_configure(&cfg), 0);
	for (int i = 0; i < 5; i++)
		r[i] = contig_new(NULL, 2 * MiB);
	for (int i = 0; i < 5; i++)
		rgn_destroy(r[i]);
	ck_assert_uint_eq(tst_contig().cached, 2);
	ck_assert_uint_eq(tst_contig().reserved_bytes, 4 * MiB);
	cfg.cache_max = 1;
	ck_assert_int_eq(rgn_contig_configure(&cfg), 0);
	ck_assert_uint_eq(tst_contig().cached, 1);
	cfg.cache_max = 257;
	tst_fails_with(rgn_contig_configure(&cfg), EINVAL);
	cfg = (rgn_contig_config){ .purge = (rgn_purge)9 };
	tst_fails_with(rgn_contig_configure(&cfg), EINVAL);
	cfg = (rgn_contig_config){ .release = (rgn_release)9 };
	ck_assert_int_eq(rgn_contig_configure(&cfg), -1);
	ck_assert_int_eq(rgn_contig_configure(NULL), 0);
	ck_assert_int_eq(rgn_contig_stats(NULL), -1);
}
END_TEST

/* Fill 8 MiB of a region (retaining 64 KiB), destroy it into the cache
 * under purge policy p, and take the same reservation again: what do the
 * bytes above the retained size read? */
static int refill_reads_old(rgn_purge p, size_t *purged)
{
	rgn_contig_config cfg = { .purge = p };
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = 16 * MiB,
	                  .retain = 64 * KiB };
	struct rgn_contig_stats s0;
	rgn_region *r;
	char *a, *b;
	int old;

	ck_assert_int_eq(rgn_contig_configure(&cfg), 0);
	r = rgn_new_with(NULL, &o);
	ck_assert_ptr_nonnull(r);
	a = rgn_alloc(r, 8 * MiB);
	ck_assert_ptr_nonnull(a);
	memset(a, 0x5c, 8 * MiB);
	s0 = tst_contig();
	rgn_destroy(r);
	*purged = tst_contig().purged_bytes - s0.purged_bytes;
	r = rgn_new_with(NULL, &o);
	ck_assert_ptr_nonnull(r);
	b = rgn_alloc(r, 8 * MiB);
	ck_assert_ptr_eq(b, a);                          /* the same memory */
	tst_vg_defined(b + 4 * MiB, 1);                  /* what the purge left */
	old = b[4 * MiB] == 0x5c;
	if (!old)
		ck_assert_int_eq(b[4 * MiB], 0);
	rgn_destroy(r);
	return old;
}

START_TEST(test_contig_purge_policies)
{
	size_t purged;

	tst_init(16 * MiB, 0);
	/* DONTNEED: given back, reads zero */
	ck_assert_int_eq(refill_reads_old(RGN_PURGE_DONTNEED, &purged), 0);
	ck_assert_uint_ge(purged, 8 * MiB - 64 * KiB - 8 * KiB);
	/* NONE: kept, reads what was there */
	ck_assert_int_eq(refill_reads_old(RGN_PURGE_NONE, &purged), 1);
	ck_assert_uint_eq(purged, 0);
	/* FREE: given back lazily; either content is right */
	(void)refill_reads_old(RGN_PURGE_FREE, &purged);
	ck_assert_uint_ge(purged, 8 * MiB - 64 * KiB - 8 * KiB);
}
END_TEST

START_TEST(test_contig_reset_gives_back)
{
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = 64 * MiB,
	                  .retain = 256 * KiB };
	size_t rss_full, rss_reset;
	rgn_region *r;
	char *a, *low;

	tst_init(16 * MiB, 0);
	r = rgn_new_with(NULL, &o);
	ck_assert_ptr_nonnull(r);
	low = rgn_alloc(r, 100 * KiB);
	memset(low, 1, 100 * KiB);
	a = rgn_alloc(r, 32 * MiB);
	memset(a, 2, 32 * MiB);
	rss_full = tst_rss();
	rgn_reset(r);
	rss_reset = tst_rss();
	ck_assert_msg(rss_reset + 30 * MiB <= rss_full, "RSS %zu -> %zu",
	              rss_full, rss_reset);
	/* the retained part was kept, as it was (reset made it undefined) */
	tst_vg_defined(low + 100 * KiB - 1, 1);
	ck_assert_int_eq(low[100 * KiB - 1], 1);
	/* the rest is inaccessible until allocated again, then reads zero */
	ck_assert_uint_lt(tst_region(r).committed, 1 * MiB);
	ck_assert(faults(a + 16 * MiB));
	a = rgn_alloc(r, 40 * MiB);
	ck_assert_ptr_nonnull(a);
	tst_vg_defined(a + 16 * MiB, 1);                 /* fresh pages */
	ck_assert_int_eq(a[16 * MiB], 0);
	memset(a, 3, 40 * MiB);
	/* SIZE_MAX: keep everything */
	o.retain = SIZE_MAX;
	rgn_destroy(r);
	r = rgn_new_with(NULL, &o);
	ck_assert_ptr_nonnull(r);
	a = rgn_alloc(r, 16 * MiB);
	memset(a, 4, 16 * MiB);
	rgn_reset(r);
	tst_vg_defined(a + 8 * MiB, 1);
	ck_assert_int_eq(a[8 * MiB], 4);
	rgn_destroy(r);
}
END_TEST

/* ---- both backends in one tree -------------------------------------------------- */

static int order_v[8], order_n;
static void order_cb(void *arg)
{
	order_v[order_n++] = (int)(intptr_t)arg;
}

START_TEST(test_contig_mixed_backends)
{
	rgn_region *b, *c, *bc, *cb;

	tst_init(16 * MiB, 0);
	b = rgn_new(NULL);
	c = contig_new(NULL, 4 * MiB);
	cb = rgn_new(c);                  /* block child of a contiguous region */
	bc = contig_new(b, 4 * MiB);      /* contiguous child of a block region */
	ck_assert_int_eq(rgn_on_destroy(b, order_cb, (void *)1), 0);
	ck_assert_int_eq(rgn_on_destroy(bc, order_cb, (void *)2), 0);
	ck_assert_int_eq(rgn_on_destroy(c, order_cb, (void *)3), 0);
	ck_assert_int_eq(rgn_on_destroy(cb, order_cb, (void *)4), 0);
	ck_assert_ptr_nonnull(rgn_alloc(cb, 100 * KiB));
	ck_assert_ptr_nonnull(rgn_alloc(bc, 100 * KiB));
	/* merging across backends cannot work: refused, nothing moved */
	tst_fails_with(rgn_merge(b, bc), ENOTSUP);
	tst_fails_with(rgn_merge(c, cb), ENOTSUP);
	ck_assert_uint_eq(tst_region(b).children, 1);
	ck_assert_uint_eq(tst_region(c).children, 1);
	/* adoption works across backends */
	ck_assert_int_eq(rgn_adopt(c, bc), 0);
	ck_assert_uint_eq(tst_region(c).children, 2);
	rgn_destroy(b);
	ck_assert_int_eq(order_n, 1);
	ck_assert_uint_eq(tst_contig().live, 2);
	rgn_destroy(c);
	ck_assert_int_eq(order_n, 4);
	ck_assert_int_eq(order_v[3], 3);                 /* the parent last */
	ck_assert_uint_eq(tst_contig().live, 0);
	ck_assert_uint_eq(tst_space().live_regions, 0);
}
END_TEST

START_TEST(test_contig_default_reserve)
{
	rgn_options o = { .backend = RGN_BACKEND_CONTIG };
	rgn_region *r;
	char *p;

	if (tst_vg()) {
		printf("test_contig_default_reserve: skipped: under valgrind a "
		       "32 GiB reservation touched at 20 GiB outlasts the timeout\n");
		return;
	}
	tst_init(16 * MiB, 0);
	r = rgn_new_with(NULL, &o);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(tst_region(r).reserved, 32 * GiB);
	/* far more than the 16 MiB space, touched sparsely */
	p = rgn_alloc(r, 20 * GiB);
	ck_assert_ptr_nonnull(p);
	p[0] = p[10 * GiB] = p[20 * GiB - 1] = 1;
	ck_assert_uint_lt(rgn_ref_in(r, p + 20 * GiB - 8), UINT32_MAX);
	ck_assert_ptr_eq(rgn_ptr_in(r, rgn_ref_in(r, p + 20 * GiB - 8)),
	                 p + 20 * GiB - 8);
	tst_null_with(rgn_alloc(r, 12 * GiB), ENOMEM);
	rgn_destroy(r);
}
END_TEST

/* ---- images ----------------------------------------------------------------------- */

struct tnode {
	rgn_ref left, right;
	uint32_t key;
	rgn_ref name;    /* a string in the same region */
};

static rgn_ref tree_build(rgn_region *r, uint32_t lo, uint32_t hi)
{
	struct tnode *n;
	uint32_t mid;

	if (lo > hi)
		return RGN_NULL_REF;
	mid = lo + (hi - lo) / 2;
	n = rgn_alloc(r, sizeof *n);
	ck_assert_ptr_nonnull(n);
	n->key = mid;
	n->name = rgn_ref_in(r, rgn_format(r, "node-%u", mid));
	n->left = mid > lo ? tree_build(r, lo, mid - 1) : RGN_NULL_REF;
	n->right = tree_build(r, mid + 1, hi);
	return rgn_ref_in(r, n);
}

/* In-order walk of the tree whose references count from base (a region's
 * or an image's ref 0): checks keys ascend and names match; returns the
 * count. */
static uint32_t tree_walk(const char *base, rgn_ref ref, uint32_t *next)
{
	const struct tnode *n;
	char want[32];
	uint32_t k;

	if (!ref)
		return 0;
	n = (const struct tnode *)(const void *)(base + ((size_t)ref << 3));
	k = tree_walk(base, n->left, next);
	ck_assert_uint_eq(n->key, *next);
	snprintf(want, sizeof want, "node-%u", n->key);
	ck_assert_str_eq(base + ((size_t)n->name << 3), want);
	(*next)++;
	return k + 1 + tree_walk(base, n->right, next);
}

static int tmpfile_fd(void)
{
	return tst_tmpfile_fd();
}

START_TEST(test_contig_image_roundtrip)
{
	enum { N = 20000 };
	rgn_image *img;
	rgn_region *r;
	rgn_ref root, root2 = 0, big_ref;
	uint32_t next = 0;
	char *big;
	int fd;

	tst_init(16 * MiB, 0);
	r = contig_new(NULL, 64 * MiB);
	big = rgn_alloc(r, 300 * KiB);      /* a large object in the middle */
	tst_fill(big, 300 * KiB, 5);
	big_ref = rgn_ref_in(r, big);
	root = tree_build(r, 0, N - 1);
	ck_assert_uint_eq(tree_walk(rgn_ptr_in(r, 0), root, &next), N);
	fd = tmpfile_fd();
	ck_assert_int_eq(rgn_image_write(r, fd, root), 0);
	ck_assert_int_eq(rgn_image_write(r, -1, root), -1);
	/* a root the reader would refuse (in the guard page) is refused here */
	tst_fails_with(rgn_image_write(r, fd, 1), EINVAL);
	rgn_destroy(r);                      /* the region is gone */

	img = rgn_image_open(fd, &root2);
	ck_assert_msg(img != NULL, "open: %s", strerror(errno));
	close(fd);
	ck_assert_uint_eq(root2, root);
	next = 0;
	ck_assert_uint_eq(tree_walk(rgn_image_ptr(img, 0), root2, &next), N);
	ck_assert(tst_verify(rgn_image_ptr(img, big_ref), 300 * KiB, 5));
	ck_assert(faults(rgn_image_ptr(img, RGN_NULL_REF)));
	ck_assert_uint_eq(rgn_image_ref(img, rgn_image_ptr(img, big_ref)), big_ref);
	ck_assert_uint_ge(rgn_image_size(img), 300 * KiB + N * sizeof(struct tnode));
#ifdef RGN_DECODE_ZERO
	tst_fails_with(rgn_image_enter(img), ENOTSUP); /* no base to move */
#else
	/* entered, RGN_AT decodes the image's refs */
	ck_assert_int_eq(rgn_image_enter(img), 0);
	ck_assert_uint_eq(RGN_AT(struct tnode, root2)->key, N / 2 - 1 + (N % 2));
#endif
	rgn_image_close(img);                /* leaves the space entered */
	rgn_image_close(NULL);
	ck_assert_int_eq(rgn_enter(NULL), 0);
}
END_TEST

START_TEST(test_contig_image_large_object)
{
	rgn_image *img;
	rgn_region *r;
	rgn_ref ref, root;
	char *big;
	int fd;

	tst_init(16 * MiB, 0);
	r = contig_new(NULL, 8 * MiB);
	ck_assert_ptr_nonnull(rgn_strdup(r, "before"));
	big = rgn_alloc(r, 1 * MiB);
	tst_fill(big, 1 * MiB, 9);
	ref = rgn_ref_in(r, big);
	fd = tmpfile_fd();
	ck_assert_int_eq(rgn_image_write(r, fd, ref), 0);
	rgn_destroy(r);
	img = rgn_image_open(fd, &root);
	ck_assert_ptr_nonnull(img);
	close(fd);
	ck_assert_uint_eq(root, ref);
	ck_assert(tst_verify(rgn_image_ptr(img, root), 1 * MiB, 9));
	rgn_image_close(img);
}
END_TEST

/* Write a good image of a small region into a new file. */
static int good_image(size_t *size)
{
	rgn_region *r = contig_new(NULL, 2 * MiB);
	char *s = rgn_strdup(r, "payload");
	int fd = tmpfile_fd();

	ck_assert_int_eq(rgn_image_write(r, fd, rgn_ref_in(r, s)), 0);
	*size = (size_t)lseek(fd, 0, SEEK_END);
	rgn_destroy(r);
	return fd;
}

START_TEST(test_contig_image_errors)
{
	static const char text[] = "#!/bin/sh\necho this is not an image\n";
	rgn_region *b;
	size_t size;
	char byte;
	int fd;

	tst_init(16 * MiB, 0);
	/* a block region has no image (serialization by copying comes later) */
	b = rgn_new(NULL);
	fd = tmpfile_fd();
	tst_fails_with(rgn_image_write(b, fd, 0), ENOTSUP);
	tst_fails_with(rgn_image_write(NULL, fd, 0), EINVAL);
	rgn_destroy(b);
	/* empty, foreign */
	tst_null_with(rgn_image_open(fd, NULL), ENOEXEC);
	ck_assert_int_eq(write(fd, text, sizeof text), (ssize_t)sizeof text);
	tst_null_with(rgn_image_open(fd, NULL), ENOEXEC);
	close(fd);
	tst_null_with(rgn_image_open(-1, NULL), EINVAL);

	/* truncated: cut the tail, or even the header */
	fd = good_image(&size);
	ck_assert_int_eq(ftruncate(fd, (off_t)size - 8), 0);
	tst_null_with(rgn_image_open(fd, NULL), ENODATA);
	ck_assert_int_eq(ftruncate(fd, 20), 0);
	tst_null_with(rgn_image_open(fd, NULL), ENODATA);
	close(fd);
	/* damaged: a byte of the header changed, or bytes appended */
	fd = good_image(&size);
	ck_assert_int_eq(pread(fd, &byte, 1, 24), 1);
	byte ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &byte, 1, 24), 1);
	tst_null_with(rgn_image_open(fd, NULL), EBADMSG);
	close(fd);
	fd = good_image(&size);
	ck_assert_int_eq(pwrite(fd, "x", 1, (off_t)size), 1);
	tst_null_with(rgn_image_open(fd, NULL), EBADMSG);
	close(fd);
#if TST_POSIX /* (Windows opens no directory as a file) */
	/* a directory is not an image file */
	fd = open("/tmp", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	tst_null_with(rgn_image_open(fd, NULL), EINVAL);
	close(fd);
#endif
	/* and a good one opens */
	fd = good_image(&size);
	{
		rgn_ref root;
		rgn_image *img = rgn_image_open(fd, &root);

		ck_assert_ptr_nonnull(img);
		ck_assert_str_eq(RGN_IMAGE_AT(img, char, root), "payload");
		ck_assert_uint_eq(rgn_image_size(img), size);
		rgn_image_close(img);
	}
	close(fd);
}
END_TEST

/* A body byte changed is caught as well as a header byte. */
START_TEST(test_contig_image_body_damaged)
{
	size_t size;
	char byte;
	int fd;

	tst_init(16 * MiB, 0);
	fd = good_image(&size);
	ck_assert_int_eq(pread(fd, &byte, 1, (off_t)size - 3), 1);
	byte ^= 0x01;
	ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)size - 3), 1);
	tst_null_with(rgn_image_open(fd, NULL), EBADMSG);
	close(fd);
}
END_TEST

/* A trusted open leaves the body's checksum out, and only that: the
 * damaged body opens and reads as it is, a damaged header is still
 * refused, and a flag it does not know is EINVAL. */
START_TEST(test_contig_image_trusted)
{
	rgn_image *img;
	rgn_ref root;
	size_t size;
	char byte;
	int fd;

	tst_init(16 * MiB, 0);
	fd = good_image(&size);
	tst_null_with(rgn_image_open_with(fd, NULL, 0x2), EINVAL);
	tst_null_with(rgn_image_open_with(fd, NULL, RGN_IMAGE_TRUSTED | 0x80000000u), EINVAL);
	img = rgn_image_open_with(fd, &root, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_str_eq(RGN_IMAGE_AT(img, char, root), "payload");
	rgn_image_close(img);
	/* the payload's first byte changed (references count from the
	 * file's first byte): checked, refused; trusted, read as it is */
	ck_assert_int_eq(pwrite(fd, "P", 1, (off_t)root << 3), 1);
	tst_null_with(rgn_image_open_with(fd, NULL, 0), EBADMSG);
	img = rgn_image_open_with(fd, &root, RGN_IMAGE_TRUSTED);
	ck_assert_ptr_nonnull(img);
	ck_assert_str_eq(RGN_IMAGE_AT(img, char, root), "Payload");
	ck_assert_uint_eq(rgn_image_size(img), size);
	rgn_image_close(img);
	/* the header is checked as ever */
	ck_assert_int_eq(pread(fd, &byte, 1, 24), 1);
	byte ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &byte, 1, 24), 1);
	tst_null_with(rgn_image_open_with(fd, NULL, RGN_IMAGE_TRUSTED), EBADMSG);
	close(fd);
	fd = good_image(&size);
	ck_assert_int_eq(ftruncate(fd, (off_t)size - 8), 0);
	tst_null_with(rgn_image_open_with(fd, NULL, RGN_IMAGE_TRUSTED), ENODATA);
	close(fd);
}
END_TEST

/* An image opened from a file stays whole when the file is cut short
 * afterwards: every byte it was promised reads back, no SIGBUS.  (On
 * Windows the image maps the file, and the file cannot be cut short
 * while it is mapped.) */
START_TEST(test_contig_image_file_truncated_after_open)
{
	rgn_image *img;
	rgn_region *r;
	rgn_ref ref, root;
	char *big;
	int fd;

	tst_init(16 * MiB, 0);
	r = contig_new(NULL, 8 * MiB);
	big = rgn_alloc(r, 2 * MiB);
	ck_assert_ptr_nonnull(big);
	tst_fill(big, 2 * MiB, 11);
	ref = rgn_ref_in(r, big);
	fd = tmpfile_fd();
	ck_assert_int_eq(rgn_image_write(r, fd, ref), 0);
	rgn_destroy(r);
	img = rgn_image_open(fd, &root);
	ck_assert_ptr_nonnull(img);
#if TST_POSIX
	ck_assert_int_eq(ftruncate(fd, 0), 0);
#else
	ck_assert_int_ne(ftruncate(fd, 0), 0);
#endif
	close(fd);
	ck_assert(tst_verify(rgn_image_ptr(img, root), 2 * MiB, 11));
	rgn_image_close(img);
}
END_TEST

#if TST_POSIX
/* A memfd sealed against shrinking is mapped as it is (the way images
 * are shared); the seal keeps it whole. */
START_TEST(test_contig_image_sealed_memfd)
{
	rgn_image *img;
	rgn_region *r;
	rgn_ref ref, root;
	char *s;
	int fd;

	tst_init(16 * MiB, 0);
	r = contig_new(NULL, 2 * MiB);
	s = rgn_strdup(r, "sealed payload");
	ref = rgn_ref_in(r, s);
	fd = memfd_create("rgn-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(rgn_image_write(r, fd, ref), 0);
	rgn_destroy(r);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	                                        F_SEAL_WRITE | F_SEAL_SEAL), 0);
	img = rgn_image_open(fd, &root);
	ck_assert_msg(img != NULL, "open: %s", strerror(errno));
	tst_fails_with(ftruncate(fd, 0), EPERM);
	ck_assert_str_eq(RGN_IMAGE_AT(img, char, root), "sealed payload");
	rgn_image_close(img);
	close(fd);
}
END_TEST
#endif

Suite *suite_contig(void)
{
	Suite *s = suite_create("contig");
	TCase *tc;

	tc = tcase_create("refs");
	tcase_add_test(tc, test_contig_refs_in);
	tcase_add_test(tc, test_contig_null_ref_faults);
	tcase_add_test(tc, test_contig_default_reserve);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_contig_live_cap);
	tcase_add_test(tc, test_contig_os_refuses);
	tcase_add_test(tc, test_contig_tail_grow_past_reserve);
	suite_add_tcase(s, tc);

	tc = tcase_create("policies");
	tcase_add_test(tc, test_contig_cache_and_unmap);
	tcase_add_test(tc, test_contig_cache_bounded);
	tcase_add_test(tc, test_contig_purge_policies);
	tcase_add_test(tc, test_contig_reset_gives_back);
	tcase_add_test(tc, test_contig_mixed_backends);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("images");
	tcase_add_test(tc, test_contig_image_roundtrip);
	tcase_add_test(tc, test_contig_image_large_object);
	tcase_add_test(tc, test_contig_image_errors);
	tcase_add_test(tc, test_contig_image_body_damaged);
	tcase_add_test(tc, test_contig_image_trusted);
	tcase_add_test(tc, test_contig_image_file_truncated_after_open);
#if TST_POSIX
	tcase_add_test(tc, test_contig_image_sealed_memfd);
#endif
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	return s;
}
