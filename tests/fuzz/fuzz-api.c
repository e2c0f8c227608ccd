/*
 * fuzz-api.c - the region API against a shadow model.
 *
 * The input is read as a program: each operation is one byte (which
 * operation) followed by its operands.  The operations run on regions of
 * the three backends (blocks, contiguous, heap), in a small space (64 MiB)
 * so that exhaustion is reached, while a model keeps what must be true:
 *   - every live allocation holds the pattern written into it (large ones
 *     are checked at sampled positions: both ends and 32 between), and no
 *     two live allocations overlap;
 *   - rgn_free: in a heap region the object leaves the model (its memory
 *     is never touched again) and the next allocation of its class gets
 *     its address back; in a bump region only the last allocation with
 *     its size given goes (used drops by its rounded size, marks saved
 *     since become invalid, the next allocation of that size gets the
 *     address back), every other free changes nothing;
 *   - heap regions: rgn_usable_size is what the object's class or span
 *     holds (>= the request, exact to 8 bytes up to 64, at most 12.5 %
 *     over above), constant while the object lives; rgn_realloc stays in
 *     place exactly when the new size fits the class and is more than half
 *     of it, keeps the contents, frees the old object when it moves;
 *     used == the usable sizes of the live objects plus the cleanup
 *     records; rgn_rewind, rgn_tail and rgn_merge fail with ENOTSUP;
 *     bump regions' rgn_usable_size is 0;
 *   - cleanups run exactly once, each region's last registered first, the
 *     descendants' before their ancestor's, on destroy, reset, pop and
 *     rewind (those registered since the mark only);
 *   - rgn_region_stats agrees: used covers the live allocations, children
 *     and cleanups are counted, the backend is right;
 *   - the space stays consistent (used + free + cached blocks tile what
 *     was carved) and, once everything is destroyed, no region is live and
 *     the blocks held by regions are back to the baseline.
 * Failures must come back as NULL or -1 with the documented errno: ENOMEM
 * for exhaustion, EINVAL or EOVERFLOW for the invalid arguments generated
 * on purpose.  Rewinds use valid marks (saved since the last reset or
 * rewind to an earlier mark), a zeroed one, another region's, or one
 * from before a reset or merge (those three must be refused with EINVAL,
 * nothing changed); pushed regions are destroyed by rgn_pop only.
 *
 * A broken expectation prints what was expected and aborts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rgn.h"

#define FUZZ_NAME "fuzz-api"
#include "fuzz.h"

#define SPACE     ((size_t)64 << 20)
#define MAX_REG   12
#define MAX_ALLOC 512
#define MAX_CLEAN 256
#define MAX_MARK  6
#define MAX_OPS   256
#define SAMPLE    1024u  /* allocations above this are checked sampled */

/* Every failure with ENOMEM calls the out-of-memory handler first:
 * oom_calls counts its calls, oom_before is the count before the current
 * operation. */
static unsigned long oom_calls, oom_before;
#define ERRNO_IS(e, what) do {                                             \
		CHECK(errno == (e), "%s: errno %d (%s)", what, errno,      \
		      strerror(errno));                                    \
		CHECK((e) != ENOMEM || oom_calls > oom_before,             \
		      "%s: ENOMEM without the out-of-memory handler", what); \
	} while (0)

/* The model's own loops are left out of libFuzzer's coverage and
 * comparison tracing: they cost most of the time and say nothing new. */
#if defined(__clang__)
#define MODEL __attribute__((no_sanitize("coverage"), noinline))
#else
#define MODEL
#endif

/* ---- input ------------------------------------------------------------------ */

/* A size: mostly small, sometimes large (over the 256 KiB span limit),
 * sometimes more than the space or any reservation holds. */
static size_t pick_size(struct in *in)
{
	uint8_t c = u8(in);
	size_t v = u16(in);

	switch (c % 10) {
	case 0: case 1: case 2: return v % 65;
	case 3: return v % 4097;
	case 4: return 4096 + v % 61441;
	case 5: return ((size_t)256 << 10) + v * 8;      /* 256 KiB .. 768 KiB */
	case 6: return v * 64;                            /* up to 4 MiB */
	case 7: return ((size_t)(v % 24) + 1) << 20;      /* up to 24 MiB */
	case 8: {
		static const size_t huge[] = {
			SIZE_MAX, SIZE_MAX - 7, SIZE_MAX / 2, (size_t)1 << 40,
			SPACE + 1, (size_t)32 << 30,
		};
		return huge[v % (sizeof huge / sizeof huge[0])];
	}
	default: return v % 513;
	}
}

/* A size the compiler cannot see through (it warns about constant
 * sizes that overflow, which are the point here). */
static size_t opaque(size_t v)
{
	volatile size_t x = v;

	return x;
}

/* ---- the model ---------------------------------------------------------------- */

struct mreg {
	rgn_region *r;          /* NULL: slot free */
	int         parent;     /* slot, -1 for a root */
	rgn_backend backend;
	size_t      reserve;    /* contiguous: bytes reserved */
	bool        pushed;
	int         nmarks;
	struct { rgn_mark m; uint64_t seq; } marks[MAX_MARK];
	/* marks a reset or a merge made stale: rgn_rewind must refuse them */
	int         nstale;
	rgn_mark    stale[MAX_MARK];
	/* heap: bytes of used held by cleanup records (rgn_on_destroy
	 * allocates them from the region) */
	size_t      extra;
	/* bump: the newest allocation the model does not know about (a
	 * cleanup record, one the model had no room for, a copy a resize
	 * left behind) */
	uint64_t    hidden_seq;
};

/* Every mark of region m goes stale. */
static void marks_stale(struct mreg *m)
{
	for (int i = 0; i < m->nmarks; i++) {
		if (m->nstale == MAX_MARK)
			memmove(&m->stale[0], &m->stale[1], (MAX_MARK - 1) * sizeof(rgn_mark));
		else
			m->nstale++;
		m->stale[m->nstale - 1] = m->marks[i].m;
	}
	m->nmarks = 0;
}

struct malloc_ {
	int      reg;           /* slot; -1: entry free */
	uint64_t seq;           /* order within the region, for rewind */
	unsigned char *p;
	size_t   n;
	size_t   usable;        /* heap: rgn_usable_size at allocation, else 0 */
	unsigned seed;
	bool     span;          /* heap: blocks of its own, not a class object */
};

struct mclean {
	int      reg;           /* slot; -1: ran, cancelled or free */
	uint64_t seq;
	bool     expected;      /* to run in the current operation */
	int      ran_at;        /* position in the log, -1 if not run */
};

static struct mreg    R[MAX_REG];
static struct malloc_ A[MAX_ALLOC];
static struct mclean  C[MAX_CLEAN];
static int            stack[64];     /* slots; -1 for a failed push */
static int            depth;
static uint64_t       seq;
static int            log_[MAX_CLEAN];
static int            nlog;
static struct rgn_space_stats base_st;

static void cleanup_fn(void *arg)
{
	int id = (int)(uintptr_t)arg - 1;

	CHECK(id >= 0 && id < MAX_CLEAN, "cleanup id %d", id);
	CHECK(C[id].expected, "cleanup %d (region %d) ran unexpectedly", id, C[id].reg);
	CHECK(C[id].ran_at < 0, "cleanup %d ran twice", id);
	CHECK(nlog < MAX_CLEAN, "log full");
	C[id].ran_at = nlog;
	log_[nlog++] = id;
}

static unsigned char pat(unsigned seed, size_t i)
{
	return (unsigned char)(seed + i * 7 + (i >> 8));
}

/* Write or check the pattern at the positions an allocation of n bytes
 * is checked at (all of them up to SAMPLE bytes; else 256 at each end and
 * 32 between, so that a large allocation faults in few pages), those
 * below limit only. */
MODEL static void touch_upto(unsigned char *p, size_t n, size_t limit, unsigned seed,
                       bool write, const char *what)
{
	size_t i = 0, step;

	while (i < n && i < limit) {
		if (write)
			p[i] = pat(seed, i);
		else if (p[i] != pat(seed, i))
			FAIL("%s: %p+%zu of %zu: %02x, want %02x", what,
			     (void *)p, i, n, p[i], pat(seed, i));
		step = n <= SAMPLE || i < 255 || i >= n - 256 ? 1 : (n - 512) / 32 + 1;
		if (step > 1 && i + step > n - 256)
			step = n - 256 - i;
		i += step;
	}
}

static void touch(unsigned char *p, size_t n, unsigned seed, bool write, const char *what)
{
	touch_upto(p, n, n, seed, write, what);
}

static bool is_heap(int reg)
{
	return R[reg].backend == RGN_BACKEND_HEAP;
}

/* The bytes an allocation of the model covers. */
static size_t extent(const struct malloc_ *a)
{
	return is_heap(a->reg) ? a->usable : a->n;
}

/* A new allocation p of n bytes, checked against rgn_usable_size (tight:
 * a heap object chosen by its size alone, without alignment or a resize
 * in place: at most 12.5 % over) and the live allocations, filled and
 * recorded; span: a heap object with blocks of its own (above 32 KiB,
 * aligned beyond a block, or resized in place from one). */
MODEL static int add_alloc_a(int reg, void *p, size_t n, unsigned seed, bool tight,
                             bool span)
{
	size_t u = rgn_usable_size(R[reg].r, p), len = n;
	unsigned char *c = p;

	if (is_heap(reg)) {
		CHECK(u >= n, "usable size %zu of %p < %zu asked", u, p, n);
		if (tight)
			CHECK(n > 64 ? u - n <= n / 8 : u == ((n + 7) & ~(size_t)7),
			      "usable size %zu for %zu bytes", u, n);
		len = u;
	} else {
		CHECK(u == 0, "usable size %zu in a bump region", u);
	}
	for (int i = 0; i < MAX_ALLOC; i++) {
		unsigned char *o = A[i].p;
		if (A[i].reg >= 0 && c < o + extent(&A[i]) && o < c + len)
			FAIL("%p+%zu overlaps live %p+%zu (region %d)", p, len,
			     (void *)o, extent(&A[i]), A[i].reg);
	}
	for (int i = 0; i < MAX_ALLOC; i++) {
		if (A[i].reg < 0) {
			A[i] = (struct malloc_){ reg, ++seq, p, n, u, seed,
			                         span || u > ((size_t)32 << 10) };
			touch(p, n, seed, true, "fill");
			return i;
		}
	}
	/* the model is full: a heap object goes back (used stays exact), a
	 * bump allocation goes unchecked */
	if (is_heap(reg))
		rgn_free(R[reg].r, p, n);
	else
		R[reg].hidden_seq = ++seq;
	return -1;
}

static int add_alloc(int reg, void *p, size_t n, unsigned seed)
{
	return add_alloc_a(reg, p, n, seed, true, false);
}

static size_t used_of(int reg)
{
	struct rgn_region_stats st;

	CHECK(rgn_region_stats(R[reg].r, &st) == 0, "stats of %d", reg);
	return st.used;
}

MODEL static bool is_desc(int x, int anc) /* x in anc's subtree, x != anc */
{
	for (x = R[x].parent; x >= 0; x = R[x].parent)
		if (x == anc)
			return true;
	return false;
}

MODEL static int nlive(void)
{
	int k = 0;

	for (int i = 0; i < MAX_REG; i++)
		k += R[i].r != NULL;
	return k;
}

MODEL static int free_slot(void)
{
	for (int i = 0; i < MAX_REG; i++)
		if (!R[i].r)
			return i;
	return -1;
}

/* A live slot chosen by b, or -1 if there is none. */
MODEL static int pick_reg(uint8_t b)
{
	int live[MAX_REG], k = 0;

	for (int i = 0; i < MAX_REG; i++)
		if (R[i].r)
			live[k++] = i;
	return k ? live[b % k] : -1;
}

/* ---- expected cleanups ------------------------------------------------------------- */

MODEL static void expect_region(int reg, uint64_t after)
{
	for (int i = 0; i < MAX_CLEAN; i++)
		if (C[i].reg == reg && C[i].seq > after)
			C[i].expected = true;
}

/* Mark the cleanups of reg's subtree (reg itself if self) to run. */
MODEL static void expect_subtree(int reg, bool self)
{
	for (int i = 0; i < MAX_REG; i++)
		if (R[i].r && (is_desc(i, reg) || (self && i == reg)))
			expect_region(i, 0);
}

/* After an operation that ran cleanups: every expected one ran once, each
 * region's newest first, and none of an ancestor's before a descendant's. */
MODEL static void check_cleanups(const char *op)
{
	for (int i = 0; i < MAX_CLEAN; i++) {
		if (!C[i].expected)
			continue;
		CHECK(C[i].ran_at >= 0, "%s: cleanup %d of region %d did not run",
		      op, i, C[i].reg);
		for (int j = 0; j < MAX_CLEAN; j++) {
			if (!C[j].expected || j == i)
				continue;
			if (C[j].reg == C[i].reg && C[j].seq > C[i].seq)
				CHECK(C[j].ran_at < C[i].ran_at,
				      "%s: region %d ran cleanup %d before newer %d",
				      op, C[i].reg, i, j);
			if (is_desc(C[j].reg, C[i].reg))
				CHECK(C[j].ran_at < C[i].ran_at,
				      "%s: region %d's cleanup ran before its "
				      "descendant %d's", op, C[i].reg, C[j].reg);
		}
	}
	for (int i = 0; i < MAX_CLEAN; i++) {
		if (C[i].expected)
			C[i].reg = -1;
		C[i].expected = false;
		C[i].ran_at = -1;
	}
	nlog = 0;
}

/* Forget reg's allocations newer than after, and its marks newer too. */
MODEL static void drop_allocs(int reg, uint64_t after)
{
	for (int i = 0; i < MAX_ALLOC; i++)
		if (A[i].reg == reg && A[i].seq > after)
			A[i].reg = -1;
	while (R[reg].nmarks && R[reg].marks[R[reg].nmarks - 1].seq > after)
		R[reg].nmarks--;
}

/* Forget the regions of reg's subtree (reg too if self). */
MODEL static void drop_subtree(int reg, bool self)
{
	for (int i = 0; i < MAX_REG; i++) {
		if (R[i].r && (is_desc(i, reg) || (self && i == reg)))
			drop_allocs(i, 0);
	}
	/* free the slots last: is_desc walks the parents */
	bool gone[MAX_REG] = { 0 };
	for (int i = 0; i < MAX_REG; i++)
		gone[i] = R[i].r && (is_desc(i, reg) || (self && i == reg));
	for (int i = 0; i < MAX_REG; i++)
		if (gone[i])
			R[i] = (struct mreg){ .parent = -1 };
}

/* ---- checks after every operation ------------------------------------------------------ */

MODEL static void check_all(void)
{
	struct rgn_space_stats sp;

	for (int i = 0; i < MAX_ALLOC; i++) {
		struct malloc_ *a = &A[i];
		if (a->reg < 0)
			continue;
		touch(a->p, a->n, a->seed, false, "verify");
		CHECK(rgn_ptr_in(R[a->reg].r, rgn_ref_in(R[a->reg].r, a->p)) == a->p,
		      "region-relative reference of %p", (void *)a->p);
		CHECK(rgn_usable_size(R[a->reg].r, a->p) == a->usable,
		      "usable size of %p: %zu, was %zu", (void *)a->p,
		      rgn_usable_size(R[a->reg].r, a->p), a->usable);
		if (R[a->reg].backend != RGN_BACKEND_CONTIG)
			CHECK(rgn_ptr(rgn_ref_of(a->p)) == a->p &&
			      rgn_ref_in(R[a->reg].r, a->p) == rgn_ref_of(a->p),
			      "reference of %p", (void *)a->p);
	}
	for (int i = 0; i < MAX_REG; i++) {
		struct rgn_region_stats st;
		size_t sum = 0, kids = 0, cl = 0;

		if (!R[i].r)
			continue;
		CHECK(rgn_region_stats(R[i].r, &st) == 0, "stats of %d", i);
		for (int j = 0; j < MAX_ALLOC; j++)
			if (A[j].reg == i)
				sum += is_heap(i) ? A[j].usable : (A[j].n + 7) & ~(size_t)7;
		for (int j = 0; j < MAX_REG; j++)
			kids += R[j].r && R[j].parent == i;
		for (int j = 0; j < MAX_CLEAN; j++)
			cl += C[j].reg == i;
		CHECK(st.used >= sum, "region %d: used %zu < live %zu", i, st.used, sum);
		CHECK(!is_heap(i) || st.used == sum + R[i].extra,
		      "heap region %d: used %zu, live %zu + cleanup records %zu",
		      i, st.used, sum, R[i].extra);
		CHECK(st.children == kids, "region %d: %zu children, want %zu", i,
		      st.children, kids);
		CHECK(st.cleanups == cl, "region %d: %zu cleanups, want %zu", i,
		      st.cleanups, cl);
		CHECK(st.backend == R[i].backend, "region %d backend", i);
		if (R[i].backend == RGN_BACKEND_CONTIG)
			CHECK(st.used <= R[i].reserve && st.committed <= st.reserved,
			      "region %d: used %zu, committed %zu, reserved %zu",
			      i, st.used, st.committed, st.reserved);
	}
	CHECK(rgn_space_stats(&sp) == 0, "space stats");
	CHECK(sp.used_blocks + sp.free_blocks + sp.cached_blocks ==
	      sp.high_water_blocks - 1, "blocks: %zu used + %zu free + %zu cached "
	      "!= %zu carved", sp.used_blocks, sp.free_blocks, sp.cached_blocks,
	      sp.high_water_blocks - 1);
	CHECK(sp.live_regions == (size_t)nlive(), "live regions %zu, model %d",
	      sp.live_regions, nlive());
	CHECK(rgn_current() == (depth && stack[depth - 1] >= 0
	                        ? R[stack[depth - 1]].r : NULL), "rgn_current");
}

/* ---- operations ------------------------------------------------------------------------- */

static void op_new(struct in *in)
{
	uint8_t how = u8(in), b = u8(in);
	int slot = free_slot(), parent = (how & 1) ? pick_reg(b) : -1;
	rgn_options o = { 0 };
	rgn_region *r;

	if (slot < 0)
		return;
	/* retain is a contiguous option: with it, a non-contiguous region is a
	 * heap region */
	o.backend = (how & 2) ? RGN_BACKEND_CONTIG
	          : (how & 8) ? RGN_BACKEND_HEAP : RGN_BACKEND_BLOCKS;
	o.reserve = ((size_t)1 << 20) << (u8(in) % 6);     /* 1 .. 32 MiB */
	o.chunk_max = (how & 4) ? (size_t)RGN_BLOCK_SIZE << (u8(in) % 10) : 0;
	o.retain = (how & 8) ? (size_t)u16(in) << 4 : 0;
	o.release = (rgn_release)((how >> 4) % 3);
	if ((how & 0xc0) == 0xc0) {
		/* an option out of range: EINVAL, nothing created */
		rgn_options bad = o;
		if (how & 0x20)
			bad.backend = (rgn_backend)7;
		else {
			bad.backend = RGN_BACKEND_CONTIG;
			bad.reserve = 4096;
		}
		errno = 0;
		CHECK(rgn_new_with(parent >= 0 ? R[parent].r : NULL, &bad) == NULL,
		      "bad options accepted");
		ERRNO_IS(EINVAL, "rgn_new_with(bad options)");
		return;
	}
	errno = 0;
	r = rgn_new_with(parent >= 0 ? R[parent].r : NULL, &o);
	if (!r) {
		ERRNO_IS(ENOMEM, "rgn_new_with");
		return;
	}
	R[slot] = (struct mreg){ .r = r, .parent = parent, .backend = o.backend,
	                          .reserve = o.reserve };
}

static void op_destroy(struct in *in)
{
	int x = pick_reg(u8(in));

	if (x < 0 || R[x].pushed)
		return;
	expect_subtree(x, true);
	rgn_destroy(R[x].r);
	check_cleanups("destroy");
	drop_subtree(x, true);
}

static void op_reset(struct in *in)
{
	int x = pick_reg(u8(in));

	if (x < 0 || (R[x].pushed && stack[depth - 1] != x))
		return; /* resetting an older pushed region would destroy a newer */
	expect_subtree(x, true);
	rgn_reset(R[x].r);
	check_cleanups("reset");
	drop_subtree(x, false);
	drop_allocs(x, 0);
	marks_stale(&R[x]);
	R[x].extra = 0;
	R[x].hidden_seq = 0;
}

static void op_alloc(struct in *in)
{
	uint8_t kind = u8(in);
	int x = pick_reg(u8(in));
	size_t n = pick_size(in), align = 8;
	void *p;

	if (x < 0)
		return;
	errno = 0;
	switch (kind % 4) {
	case 0:
		p = rgn_alloc(R[x].r, n);
		break;
	case 1:
		align = (size_t)1 << (u8(in) % 24);
		p = rgn_alloc_aligned(R[x].r, n, align);
		break;
	case 2: {
		/* not a power of two: EINVAL */
		static const size_t bad[] = { 0, 3, 24, 4097, SIZE_MAX };
		size_t a = bad[u8(in) % 5];
		errno = 0;
		CHECK(rgn_alloc_aligned(R[x].r, n, a) == NULL, "align %zu accepted", a);
		ERRNO_IS(EINVAL, "rgn_alloc_aligned(bad align)");
		return;
	}
	default:
		p = rgn_alloc_array(R[x].r, n ? 1 : 0, n);
		break;
	}
	if (!p) {
		ERRNO_IS(ENOMEM, "alloc");
		return;
	}
	CHECK((uintptr_t)p % align == 0 && (uintptr_t)p % 8 == 0,
	      "%p not aligned to %zu", p, align);
	CHECK(n < SPACE || R[x].backend == RGN_BACKEND_CONTIG, "%zu bytes fit a 64 MiB space", n);
	CHECK(R[x].backend != RGN_BACKEND_CONTIG || n < R[x].reserve,
	      "%zu bytes in a %zu reservation", n, R[x].reserve);
	add_alloc_a(x, p, n ? n : 1, u8(in), align <= 8, align > RGN_BLOCK_SIZE);
}

static void op_calloc(struct in *in)
{
	int x = pick_reg(u8(in));
	uint8_t how = u8(in);
	size_t count = u16(in) % 4097, sz = pick_size(in) % 1025;
	unsigned char *p;

	if (x < 0)
		return;
	if (how & 1) {
		errno = 0;
		CHECK(rgn_calloc(R[x].r, opaque(SIZE_MAX / 2 + 2), 2 + (how >> 1)) == NULL,
		      "overflowing calloc");
		ERRNO_IS(EOVERFLOW, "rgn_calloc(overflow)");
		return;
	}
	errno = 0;
	p = rgn_calloc(R[x].r, count, sz);
	if (!p) {
		ERRNO_IS(ENOMEM, "rgn_calloc");
		return;
	}
	for (size_t i = 0; i < count * sz; i += (count * sz > 65536 ? count * sz / 64 : 1))
		CHECK(p[i] == 0, "calloc byte %zu of %zu not zero", i, count * sz);
	add_alloc(x, p, count * sz != 0 ? count * sz : 1, how);
}

static void op_realloc(struct in *in)
{
	int x = pick_reg(u8(in)), k = -1, live[MAX_ALLOC], nl = 0;
	uint8_t b = u8(in);
	size_t n = pick_size(in), have, old;
	unsigned char *q, *was;
	bool newest;

	if (x < 0)
		return;
	for (int i = 0; i < MAX_ALLOC; i++)
		if (A[i].reg == x)
			live[nl++] = i;
	/* the newest allocation half the time: the in-place path */
	if (nl && (b & 1)) {
		k = live[0];
		for (int i = 1; i < nl; i++)
			if (A[live[i]].seq > A[k].seq)
				k = live[i];
	} else if (nl) {
		k = live[(b >> 1) % nl];
	}
	if (k < 0 || (n > ((size_t)64 << 20) && (b & 0x80))) {
		errno = 0;
		q = rgn_realloc(R[x].r, NULL, 0, n);
		if (!q) {
			ERRNO_IS(ENOMEM, "rgn_realloc(NULL)");
			return;
		}
		add_alloc(x, q, n ? n : 1, b);
		return;
	}
	/* the region's last allocation, as far as the model knows */
	newest = A[k].seq > R[x].hidden_seq;
	for (int i = 0; i < nl; i++)
		newest &= A[live[i]].seq <= A[k].seq;
	have = A[k].usable;
	was = A[k].p;
	/* a heap region takes an unknown old size */
	old = is_heap(x) && (b & 0x40) ? 0 : A[k].n;
	errno = 0;
	q = rgn_realloc(R[x].r, A[k].p, old, n);
	if (!q) {
		ERRNO_IS(ENOMEM, "rgn_realloc");
		return; /* the old one must be intact: checked after the op */
	}
	if (n == 0)
		n = 1;
	CHECK((uintptr_t)q % 8 == 0, "realloc result %p", (void *)q);
	if (is_heap(x) && !A[k].span) {
		/* a class object: in place iff n fits the class and is more
		 * than half of it; a shrink may stay when it cannot move */
		if (n <= have && n > have / 2)
			CHECK(q == A[k].p, "realloc %zu -> %zu in a class of %zu moved",
			      A[k].n, n, have);
		else
			CHECK(q != A[k].p || (n <= have && oom_calls > oom_before),
			      "realloc %zu -> %zu in a class of %zu stayed", A[k].n, n, have);
	} else if (is_heap(x) && n <= ((size_t)32 << 10)) {
		CHECK(q != A[k].p || oom_calls > oom_before,
		      "realloc of a span of %zu to %zu stayed", have, n);
	}
	if (is_heap(x) && q == was && !A[k].span)
		CHECK(rgn_usable_size(R[x].r, q) == have, "class of %p changed in place",
		      (void *)q);
	touch_upto(q, A[k].n, n, A[k].seed, false, "realloc copy");
	/* the result counts as allocated now (a rewind to an older mark frees
	 * what it grew by); marks saved after the old one no longer describe
	 * the region when it moved in place */
	if (q == A[k].p && !is_heap(x))
		while (R[x].nmarks && R[x].marks[R[x].nmarks - 1].seq > A[k].seq)
			R[x].nmarks--;
	/* a bump region keeps the old copy of a moved allocation: a rewind
	 * past the new one leaves the old one the region's last, unseen */
	if (!is_heap(x) && q != was && A[k].seq > R[x].hidden_seq)
		R[x].hidden_seq = A[k].seq;
	A[k].reg = -1;
	/* a span resized where it is stays a span */
	add_alloc_a(x, q, n, A[k].seed, q != was, q == was && A[k].span);
	/* a bump region's older allocation resized where it is: the newest
	 * in the model but not the region's last (nor is it when the model
	 * had no room for it) */
	if (!is_heap(x) && q == was && !newest)
		R[x].hidden_seq = seq;
}

/* rgn_free of a live allocation (or NULL).  In a heap region it leaves
 * the model; in a bump region only the last allocation with its size
 * given goes, seen as used going down by its rounded size.  Then, if b
 * asks, an allocation that must take the freed address again. */
static void op_free(struct in *in)
{
	int x = pick_reg(u8(in)), k = -1, live[MAX_ALLOC], nl = 0, prev = -1;
	uint8_t b = u8(in);
	size_t before, after, size, n, u;
	unsigned char *p, *q;
	bool newest = false, gone, span;

	if (x < 0)
		return;
	for (int i = 0; i < MAX_ALLOC; i++)
		if (A[i].reg == x)
			live[nl++] = i;
	before = used_of(x);
	if (!nl || (b & 0xf0) == 0xf0) {
		rgn_free(R[x].r, NULL, b);
		CHECK(used_of(x) == before, "rgn_free(NULL) changed used");
		return;
	}
	if (b & 1) {
		k = live[0];
		for (int i = 1; i < nl; i++)
			if (A[live[i]].seq > A[k].seq)
				k = live[i];
	} else {
		k = live[(b >> 3) % nl];
	}
	newest = true;
	for (int i = 0; i < nl; i++)
		newest &= A[live[i]].seq <= A[k].seq;
	p = A[k].p;
	n = A[k].n;
	u = A[k].usable;
	span = A[k].span;
	size = (b & 2) ? 0 : n;
	rgn_free(R[x].r, p, size);
	after = used_of(x);
	if (is_heap(x)) {
		CHECK(before - after == u, "heap free of %zu (usable %zu): used %zu -> %zu",
		      n, u, before, after);
		gone = true;
	} else {
		size_t r8 = (n + 7) & ~(size_t)7;
		gone = after != before;
		CHECK(!gone || (size && before - after == r8),
		      "bump free of %zu (size %zu): used %zu -> %zu", n, size, before, after);
		/* a contiguous region bumps everything: its newest allocation
		 * is its last unless the model missed a later one */
		if (R[x].backend == RGN_BACKEND_CONTIG && size && newest &&
		    A[k].seq > R[x].hidden_seq)
			CHECK(gone, "free of the last allocation (%zu bytes) kept it", n);
		if (!gone)
			return; /* nothing changed: the contents are checked after */
		while (R[x].nmarks && R[x].marks[R[x].nmarks - 1].seq > A[k].seq)
			R[x].nmarks--;
		/* the bump pointer is back at p, not at the end of the newest
		 * allocation left: an aligned one leaves its padding behind (a
		 * new chunk its gap), and the model cannot call that one the
		 * region's last any more */
		for (int i = 0; i < nl; i++)
			if (live[i] != k && (prev < 0 || A[live[i]].seq > A[prev].seq))
				prev = live[i];
		if (prev >= 0 && A[prev].p + ((A[prev].n + 7) & ~(size_t)7) != p &&
		    A[k].seq > R[x].hidden_seq)
			R[x].hidden_seq = A[k].seq;
	}
	A[k].reg = -1;
	if (!(b & 4))
		return;
	/* the freed address comes back: a class object is the head of its
	 * free list, a bump region's end is where the object was */
	errno = 0;
	q = rgn_alloc(R[x].r, is_heap(x) ? u : n);
	if (is_heap(x) && span) {
		if (!q) {
			ERRNO_IS(ENOMEM, "rgn_alloc after a free");
			return;
		}
	} else {
		CHECK(q == p, "allocation after freeing %p got %p", (void *)p, (void *)q);
	}
	add_alloc(x, q, is_heap(x) ? u : n, b);
}

static void op_string(struct in *in)
{
	int x = pick_reg(u8(in));
	uint8_t how = u8(in);
	char s[65], *p, *want;
	size_t len = u8(in) % 65, i;
	int width = (int)(u16(in) * 4u), k;

	if (x < 0)
		return;
	for (i = 0; i < len; i++) {
		s[i] = (char)u8(in);
		if (!s[i])
			break;
	}
	s[i] = 0;
	len = i;
	errno = 0;
	switch (how % 4) {
	case 0:
		p = rgn_strdup(R[x].r, s);
		want = strdup(s);
		break;
	case 1:
		p = rgn_strndup(R[x].r, s, how >> 2);
		want = strndup(s, how >> 2);
		break;
	case 2:
		p = rgn_format(R[x].r, "%s|%d|%*s|", s, (int)how, width, "w");
		k = asprintf(&want, "%s|%d|%*s|", s, (int)how, width, "w");
		CHECK(k >= 0, "asprintf");
		break;
	default:
		CHECK(rgn_strdup(R[x].r, NULL) == NULL, "strdup(NULL)");
		ERRNO_IS(EINVAL, "rgn_strdup(NULL)");
		CHECK(rgn_format(R[x].r, NULL) == NULL, "format(NULL)");
		ERRNO_IS(EINVAL, "rgn_format(NULL)");
		return;
	}
	CHECK(want != NULL, "libc string");
	if (!p) {
		ERRNO_IS(ENOMEM, "string");
	} else {
		CHECK(strcmp(p, want) == 0, "string \"%.40s\" != \"%.40s\"", p, want);
		add_alloc(x, p, strlen(p) + 1, how);
	}
	free(want);
}

static void op_save(struct in *in)
{
	int x = pick_reg(u8(in));

	if (x < 0 || R[x].nmarks == MAX_MARK)
		return;
	R[x].marks[R[x].nmarks].m = rgn_save(R[x].r);
	R[x].marks[R[x].nmarks].seq = ++seq;
	R[x].nmarks++;
}

static void op_rewind(struct in *in)
{
	int x = pick_reg(u8(in)), k;
	uint8_t b = u8(in);

	if (x < 0)
		return;
	if (is_heap(x)) {
		/* no history to go back to: any mark, ENOTSUP, nothing changes */
		rgn_mark m;
		memset(&m, 0, sizeof m);
		if (R[x].nmarks && !(b & 0x80))
			m = R[x].marks[b % R[x].nmarks].m;
		else if (R[x].nstale && (b & 0x40))
			m = R[x].stale[b % R[x].nstale];
		errno = 0;
		CHECK(rgn_rewind(R[x].r, m) == -1, "heap region %d rewound", x);
		ERRNO_IS(ENOTSUP, "rgn_rewind(heap)");
		return;
	}
	if (R[x].nstale && (b & 0xe0) == 0xc0) {
		/* a mark from before a reset or merge: EINVAL, nothing changes */
		expect_region(x, UINT64_MAX);
		errno = 0;
		CHECK(rgn_rewind(R[x].r, R[x].stale[b % R[x].nstale]) == -1,
		      "region %d took a mark from before its reset or merge", x);
		ERRNO_IS(EINVAL, "rgn_rewind(stale mark)");
		check_cleanups("stale rewind");
		return;
	}
	if (!R[x].nmarks || (b & 0xe0) == 0xe0) {
		/* a zeroed mark, and another region's mark: EINVAL */
		rgn_mark z;
		int y = pick_reg(b);
		memset(&z, 0, sizeof z);
		errno = 0;
		CHECK(rgn_rewind(R[x].r, z) == -1, "zero mark accepted");
		ERRNO_IS(EINVAL, "rgn_rewind(zero mark)");
		if (y != x && y >= 0 && R[y].nmarks) {
			errno = 0;
			CHECK(rgn_rewind(R[x].r, R[y].marks[0].m) == -1,
			      "region %d took a mark of region %d", x, y);
			ERRNO_IS(EINVAL, "rgn_rewind(foreign mark)");
		}
		return;
	}
	k = b % R[x].nmarks;
	expect_region(x, R[x].marks[k].seq);
	CHECK(rgn_rewind(R[x].r, R[x].marks[k].m) == 0, "rewind of %d to mark %d: %s",
	      x, k, strerror(errno));
	check_cleanups("rewind");
	drop_allocs(x, R[x].marks[k].seq);
}

static void op_cleanup(struct in *in)
{
	int x = pick_reg(u8(in)), id = -1;
	uint8_t b = u8(in);
	size_t before;

	if (x < 0)
		return;
	if (b & 1) {
		/* cancel one of x's (the newest, or one chosen by b) */
		int live[MAX_CLEAN], nl = 0;
		for (int i = 0; i < MAX_CLEAN; i++)
			if (C[i].reg == x)
				live[nl++] = i;
		if (!nl) {
			errno = 0;
			CHECK(rgn_on_destroy_cancel(R[x].r, cleanup_fn, (void *)1000) == -1,
			      "cancelled a cleanup never registered");
			ERRNO_IS(ENOENT, "rgn_on_destroy_cancel");
			return;
		}
		id = live[(b >> 1) % nl];
		CHECK(rgn_on_destroy_cancel(R[x].r, cleanup_fn,
		                            (void *)(uintptr_t)(id + 1)) == 0, "cancel");
		C[id].reg = -1;
		return;
	}
	for (int i = 0; i < MAX_CLEAN; i++) {
		if (C[i].reg < 0 && !C[i].expected) {
			id = i;
			break;
		}
	}
	if (id < 0)
		return;
	errno = 0;
	before = used_of(x);
	if (rgn_on_destroy(R[x].r, cleanup_fn, (void *)(uintptr_t)(id + 1)) != 0) {
		ERRNO_IS(ENOMEM, "rgn_on_destroy");
		CHECK(used_of(x) == before, "failed rgn_on_destroy changed used");
		return;
	}
	C[id] = (struct mclean){ .reg = x, .seq = ++seq, .ran_at = -1 };
	/* the record is allocated from the region */
	if (is_heap(x)) {
		size_t d = used_of(x) - before;
		CHECK(d >= 2 * sizeof(void *) && d <= 64, "cleanup record of %zu bytes", d);
		R[x].extra += d;
	} else {
		R[x].hidden_seq = seq;
	}
}

static void op_merge(struct in *in)
{
	int d = pick_reg(u8(in)), s = pick_reg(u8(in));

	if (d < 0 || s < 0 || R[s].pushed)
		return;
	errno = 0;
	if (s == d || is_desc(d, s)) {
		CHECK(rgn_merge(R[d].r, R[s].r) == -1, "merge into itself or a descendant");
		ERRNO_IS(EINVAL, "rgn_merge(ancestor)");
		return;
	}
	if (R[d].backend != RGN_BACKEND_BLOCKS || R[s].backend != RGN_BACKEND_BLOCKS) {
		CHECK(rgn_merge(R[d].r, R[s].r) == -1, "merge of a contiguous or heap region");
		ERRNO_IS(ENOTSUP, "rgn_merge(contig or heap)");
		return;
	}
	if (rgn_merge(R[d].r, R[s].r) != 0) {
		ERRNO_IS(ENOMEM, "rgn_merge");
		return;
	}
	/* the marks of both are stale on dst: dst's would pop src's memory */
	marks_stale(&R[d]);
	for (int i = 0; i < R[s].nmarks && R[d].nstale < MAX_MARK; i++)
		R[d].stale[R[d].nstale++] = R[s].marks[i].m;
	/* what src brought is newer than every mark of dst */
	for (int i = 0; i < MAX_ALLOC; i++)
		if (A[i].reg == s) {
			A[i].reg = d;
			A[i].seq = ++seq;
		}
	for (uint64_t lo = 0;;) {
		/* src's cleanups in their order, oldest first */
		int best = -1;
		for (int i = 0; i < MAX_CLEAN; i++)
			if (C[i].reg == s && C[i].seq > lo &&
			    (best < 0 || C[i].seq < C[best].seq))
				best = i;
		if (best < 0)
			break;
		lo = C[best].seq;
		C[best].reg = d;
		C[best].seq = ++seq;
	}
	for (int i = 0; i < MAX_CLEAN; i++)
		if (C[i].reg == s)
			FAIL("merge model");
	for (int i = 0; i < MAX_REG; i++)
		if (R[i].r && R[i].parent == s)
			R[i].parent = d;
	R[s] = (struct mreg){ .parent = -1 };
}

static void op_adopt(struct in *in)
{
	uint8_t b = u8(in);
	int c = pick_reg(u8(in)), p = (b & 1) ? -1 : pick_reg(b >> 1);

	if (c < 0 || R[c].pushed)
		return;
	errno = 0;
	if (p == c || (p >= 0 && is_desc(p, c))) {
		CHECK(rgn_adopt(R[p].r, R[c].r) == -1, "adopt under itself");
		ERRNO_IS(EINVAL, "rgn_adopt(descendant)");
		return;
	}
	CHECK(rgn_adopt(p >= 0 ? R[p].r : NULL, R[c].r) == 0, "adopt: %s", strerror(errno));
	R[c].parent = p;
}

static void op_tail(struct in *in)
{
	int x = pick_reg(u8(in));
	uint8_t how = u8(in);
	size_t min = pick_size(in) % ((size_t)2 << 20), avail = 0, used, grow;
	unsigned char *t, *g, *q;
	unsigned seed = how;

	if (x < 0)
		return;
	if (how & 0x80) {
		errno = 0;
		CHECK(rgn_tail_commit(R[x].r, 8) == -1, "commit without a tail");
		ERRNO_IS(EINVAL, "rgn_tail_commit(no tail)");
		return;
	}
	if (is_heap(x)) {
		/* nothing is bumped: no tail to hand out, nothing changes */
		errno = 0;
		CHECK(rgn_tail(R[x].r, min, &avail) == NULL, "tail of a heap region");
		ERRNO_IS(ENOTSUP, "rgn_tail(heap)");
		CHECK(oom_calls == oom_before, "rgn_tail(heap) called the handler");
		errno = 0;
		CHECK(rgn_tail_grow(R[x].r, 0, min, &avail) == NULL, "tail grow in a heap region");
		ERRNO_IS(EINVAL, "rgn_tail_grow(heap)");
		return;
	}
	errno = 0;
	t = rgn_tail(R[x].r, min, &avail);
	if (!t) {
		ERRNO_IS(ENOMEM, "rgn_tail");
		return;
	}
	CHECK(avail >= (min ? min : 1) && (uintptr_t)t % 8 == 0, "tail %zu < %zu", avail, min);
	used = avail ? u16(in) % (avail + 1) : 0;
	if (used > 65536)
		used = 65536;
	touch(t, used, seed, true, "tail fill");
	if (how & 1) {
		grow = used + pick_size(in) % ((size_t)1 << 20);
		errno = 0;
		g = rgn_tail_grow(R[x].r, used, grow, &avail);
		if (!g) {
			/* a try: ENOMEM without the handler */
			CHECK(errno == ENOMEM && oom_calls == oom_before,
			      "rgn_tail_grow: errno %d, handler called %lu times",
			      errno, oom_calls - oom_before);
		} else {
			CHECK(avail >= grow, "grown tail %zu < %zu", avail, grow);
			touch(g, used, seed, false, "tail grow copy");
			t = g;
		}
	}
	if (how & 2) {
		/* another allocation in between cancels the tail */
		q = rgn_alloc(R[x].r, 8);
		if (q) {
			add_alloc(x, q, 8, seed + 1);
			errno = 0;
			CHECK(rgn_tail_commit(R[x].r, used) == -1, "commit after an allocation");
			ERRNO_IS(EINVAL, "rgn_tail_commit(cancelled)");
			return;
		}
	}
	CHECK(rgn_tail_commit(R[x].r, used) == 0, "tail commit: %s", strerror(errno));
	if (used)
		add_alloc(x, t, used, seed);
}

static void op_push(void)
{
	rgn_region *r;
	int slot = free_slot(), top = depth ? stack[depth - 1] : -1;

	if (slot < 0 || depth == 64)
		return;
	errno = 0;
	r = rgn_push();
	if (!r) {
		ERRNO_IS(ENOMEM, "rgn_push");
		stack[depth++] = -1;
		return;
	}
	CHECK(rgn_current() == r, "current after push");
	R[slot] = (struct mreg){ .r = r, .parent = top, .pushed = true,
	                          .backend = RGN_BACKEND_BLOCKS };
	stack[depth++] = slot;
}

static void op_pop(void)
{
	int x;

	if (!depth)
		return;
	x = stack[--depth];
	if (x >= 0)
		expect_subtree(x, true);
	rgn_pop();
	check_cleanups("pop");
	if (x >= 0)
		drop_subtree(x, true);
}

/* Write x to an image (ENOTSUP but for a contiguous region), open it, and find
 * every live allocation of x at its reference in the mapping. */
static void image(int x)
{
	int fd = memfd_create("fuzz-api", MFD_CLOEXEC);
	rgn_image *img;

	CHECK(fd >= 0, "memfd_create");
	errno = 0;
	if (R[x].backend != RGN_BACKEND_CONTIG) {
		CHECK(rgn_image_write(R[x].r, fd, 0) == -1, "image of a block or heap region");
		ERRNO_IS(ENOTSUP, "rgn_image_write(blocks or heap)");
		close(fd);
		return;
	}
	CHECK(rgn_image_write(R[x].r, fd, 0) == 0, "image write: %s", strerror(errno));
	img = rgn_image_open(fd, NULL);
	close(fd);
	if (!img) {
		CHECK(errno == ENOMEM, "image open: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < MAX_ALLOC; i++) {
		const unsigned char *q;
		if (A[i].reg != x)
			continue;
		q = rgn_image_ptr(img, rgn_ref_in(R[x].r, A[i].p));
		CHECK((size_t)(q - (const unsigned char *)rgn_image_ptr(img, 0)) + A[i].n <=
		      rgn_image_size(img), "allocation past the image's end");
		touch_upto((unsigned char *)(uintptr_t)q, A[i].n, A[i].n, A[i].seed, false, "image");
		CHECK(memcmp(q, A[i].p, A[i].n < 256 ? A[i].n : 256) == 0, "image bytes");
	}
	rgn_image_close(img);
}

static void op_misc(struct in *in)
{
	uint8_t b = u8(in);
	int x = pick_reg(u8(in));

	errno = 0;
	switch (b % 8) {
	case 0: rgn_space_trim(); break;
	case 1:
		CHECK(rgn_alloc(NULL, 8) == NULL, "alloc(NULL)");
		ERRNO_IS(EINVAL, "rgn_alloc(NULL)");
		break;
	case 2:
		if (x >= 0) {
			CHECK(rgn_region_stats(R[x].r, NULL) == -1, "stats(NULL)");
			ERRNO_IS(EINVAL, "rgn_region_stats(NULL)");
			CHECK(rgn_on_destroy(R[x].r, NULL, NULL) == -1, "on_destroy(NULL)");
			ERRNO_IS(EINVAL, "rgn_on_destroy(NULL fn)");
		}
		break;
	case 3:
		if (x >= 0) {
			size_t avail;
			CHECK(rgn_tail(R[x].r, 8, NULL) == NULL, "tail(NULL avail)");
			ERRNO_IS(EINVAL, "rgn_tail(NULL avail)");
			CHECK(rgn_tail(R[x].r, SIZE_MAX, &avail) == NULL, "tail(SIZE_MAX)");
			ERRNO_IS(is_heap(x) ? ENOTSUP : ENOMEM, "rgn_tail(SIZE_MAX)");
		}
		break;
	case 4:
		if (x >= 0) {
			CHECK(rgn_alloc_array(R[x].r, opaque(SIZE_MAX / 4), 8) == NULL, "array overflow");
			ERRNO_IS(EOVERFLOW, "rgn_alloc_array(overflow)");
		}
		break;
	case 5: {
		/* the contiguous backend's policy: a cap on live reservations
		 * (ENOMEM past it), the cache's size, release and purge */
		rgn_contig_config cfg = {
			.release = (rgn_release)(u8(in) % 3),
			.purge = (rgn_purge)(u8(in) % 3),
			.cache_max = u8(in) % 10,
			.max_live = u8(in) % 8,
		};
		CHECK(rgn_contig_configure(&cfg) == 0, "contig configure");
		cfg.cache_max = 1000;
		CHECK(rgn_contig_configure(&cfg) == -1, "cache_max 1000 accepted");
		ERRNO_IS(EINVAL, "rgn_contig_configure(cache_max 1000)");
		break;
	}
	case 6:
		if (x >= 0)
			image(x);
		break;
	default:
		rgn_destroy(NULL);
		rgn_reset(NULL);
		rgn_free(NULL, NULL, 8);
		CHECK(rgn_usable_size(NULL, NULL) == 0, "usable size of NULL");
		if (x >= 0)
			CHECK(rgn_usable_size(R[x].r, NULL) == 0, "usable size of NULL");
		break;
	}
}

/* ---- the driver ---------------------------------------------------------------------------- */

static void oom_count(size_t n, void *arg)
{
	(void)n;
	(void)arg;
	oom_calls++;
}

static void setup(void)
{
	static bool done;
	rgn_config cfg = { .space_size = SPACE, .retain_limit = (size_t)16 << 20 };

	if (done)
		return;
	done = true;
	unsetenv("RGN_SPACE");
	unsetenv("RGN_RETAIN");
	if (rgn_init(&cfg) != 0)
		FAIL("rgn_init: %s", strerror(errno));
	CHECK(rgn_space_stats(&base_st) == 0, "space stats");
	rgn_set_oom_handler(oom_count, NULL);
}

static void teardown(void)
{
	struct rgn_space_stats st;
	struct rgn_contig_stats cs;

	while (depth)
		op_pop();
	for (int i = 0; i < MAX_REG; i++) {
		if (R[i].r && R[i].parent < 0) {
			expect_subtree(i, true);
			rgn_destroy(R[i].r);
			check_cleanups("final destroy");
			drop_subtree(i, true);
		}
	}
	CHECK(nlive() == 0, "regions left in the model");
	for (int i = 0; i < MAX_CLEAN; i++)
		CHECK(C[i].reg < 0, "cleanup %d never ran", i);
	CHECK(rgn_space_stats(&st) == 0, "space stats");
	CHECK(st.live_regions == 0, "%zu regions live at the end", st.live_regions);
	CHECK(st.used_blocks == base_st.used_blocks, "%zu blocks held at the end, %zu before",
	      st.used_blocks, base_st.used_blocks);
	CHECK(rgn_contig_stats(&cs) == 0 && cs.live == 0, "%zu reservations live", cs.live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	setup();
	CHECK(rgn_contig_configure(NULL) == 0, "contig defaults");
	for (int i = 0; i < MAX_REG; i++)
		R[i] = (struct mreg){ .parent = -1 };
	for (int i = 0; i < MAX_ALLOC; i++)
		A[i].reg = -1;
	for (int i = 0; i < MAX_CLEAN; i++)
		C[i] = (struct mclean){ .reg = -1, .ran_at = -1 };
	depth = nlog = 0;
	for (int ops = 0; in.n && ops < MAX_OPS; ops++) {
		oom_before = oom_calls;
		switch (u8(&in) % 16) {
		case 0: case 1: op_new(&in); break;
		case 2: op_destroy(&in); break;
		case 3: op_reset(&in); break;
		case 4: case 5: op_alloc(&in); break;
		case 6: op_free(&in); break;
		case 7: op_calloc(&in); break;
		case 8: op_realloc(&in); break;
		case 9: op_string(&in); break;
		case 10: op_save(&in); break;
		case 11: op_rewind(&in); break;
		case 12: op_cleanup(&in); break;
		case 13: if (in.n & 1) op_merge(&in); else op_adopt(&in); break;
		case 14: op_tail(&in); break;
		default:
			switch (u8(&in) % 3) {
			case 0: op_push(); break;
			case 1: op_pop(); break;
			default: op_misc(&in); break;
			}
		}
		CHECK(nlog == 0, "a cleanup ran outside destroy, reset, pop or rewind");
		check_all();
	}
	teardown();
	return 0;
}
