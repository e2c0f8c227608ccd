/*
 * quarantine.c - the run-time checking mode: blocks that regions give back
 * wait in a quarantine, inaccessible, before anyone can have them again,
 * so that a use after rgn_destroy, rgn_reset, rgn_rewind or a tail commit
 * faults at the access, and a fault handler says which region gave the
 * block back, why, and from where.
 *
 * It is switched on at run time (RGN_CHECK in the environment, or
 * rgn_config.check), read once when the space is set up; the library is
 * the same.  Outside the mode nothing here runs: the thread caches and
 * region.c test rgn_check_on() on their slow paths only, and the thread
 * caches are what the mode turns off (tcache.c gives a thread no room for
 * freed blocks and no spare region, so every block a region gives back
 * comes here).
 *
 * Inaccessible how.  Guard pages (madvise MADV_GUARD_INSTALL, Linux 6.13)
 * mark page-table entries and leave the space one mapping, however many
 * runs are in quarantine; their contents are discarded, and the pages
 * read as zero after MADV_GUARD_REMOVE.  Where the kernel answers EINVAL
 * (or RGN_CHECK=mprotect asks for it), mprotect(PROT_NONE) instead: each
 * run splits the space's mapping in up to three, so that quarantine
 * holds at most RGN_CHECK_RECORDS_PROT runs (about 2,000 more lines in
 * /proc/self/maps at worst).  Either way the spans a region gives back in
 * one call (a destroy, a reset, ...) are gathered while they are
 * adjacent and made inaccessible at the end of the call, one syscall per
 * run: each syscall costs a TLB flush, which is most of the mode's cost.
 *
 * The quarantine is a FIFO ring of records (first block, length, the
 * region, the reason, a few return addresses from the release), bounded
 * in blocks (RGN_CHECK bytes, default 64 MiB, at most a quarter of the
 * space) and in records.  Invariants, under qlock:
 *   the records [qold, qold + qcount) (mod RGN_CHECK_RECORDS) are live,
 *   every other slot has n == 0;
 *   a live record's blocks are whole USED spans of blocks.c that nobody
 *   else holds, and are inaccessible (guard or PROT_NONE, as `how` says);
 *   qblocks is the sum of n over live records, and after each insertion
 *   qblocks <= bound and qcount <= cap.
 * A record leaves the quarantine oldest first: made accessible again,
 * then its spans freed to blocks.c (never the other way round, or a
 * block could be handed out while still inaccessible).  Syscalls are made
 * outside qlock.  When an allocation finds the space short, the whole
 * quarantine is drained before it fails (tcache.c).
 *
 * The fault handler (the OS layer's: SIGSEGV and SIGBUS on POSIX, a
 * vectored exception handler on Windows) calls on_fault, which reads the
 * ring without the lock: it may run in a thread that holds it.  A fault
 * inside a live record's run is reported (no allocation, no lock), then
 * the access faults again under the previous handler, so the process dies
 * of it as it would have.  Any other fault goes to the previous handler.
 */
#include "quarantine.h"
#include "blocks.h"
#include "lock.h"
#include "os/os.h"

#include <string.h>

struct qrec {
	uint32_t    b, n;       /* the run [b, b+n); n == 0: slot not live */
	const void *region;     /* which region gave it back (NULL: unknown) */
	uint8_t     why;        /* enum rgn_check_why */
	uint8_t     how;        /* RGN_CHECK_GUARD or RGN_CHECK_PROTECT */
	uint8_t     nframes;
	void       *frames[RGN_CHECK_FRAMES];
};

static struct rgn_lock qlock = RGN_LOCK_INIT(RGN_RANK_CHECK, NULL, NULL);
static struct qrec ring[RGN_CHECK_RECORDS];
static uint32_t qold, qcount;        /* under qlock */
static _Atomic size_t qblocks;       /* written under qlock */
static size_t bound;                 /* blocks; set once */
static _Atomic unsigned mode;        /* GUARD, or PROTECT once it fell back */

/* The release the calling thread is making (region.c's bracket), and
 * the run it gave back last, not yet made inaccessible: runs given back
 * next to it join it, so one syscall covers adjacent spans. */
static rgn_thread struct {
	const void *region;
	bool        open;
	uint8_t     why;
	uint8_t     nframes;
	void       *frames[RGN_CHECK_FRAMES];
	uint32_t    pb, pn;       /* the pending run (pn == 0: none) */
} ctx;

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* ---- the report ------------------------------------------------------------ */

struct out {
	char   buf[256];
	size_t n;
};

static void put_str(struct out *o, const char *s)
{
	while (*s && o->n < sizeof o->buf)
		o->buf[o->n++] = *s++;
}

static void put_hex(struct out *o, uintptr_t v)
{
	char t[2 + 2 * sizeof v];
	int i = (int)sizeof t;

	do {
		t[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	t[--i] = 'x';
	t[--i] = '0';
	while (i < (int)sizeof t && o->n < sizeof o->buf)
		o->buf[o->n++] = t[i++];
}

static void flush_out(struct out *o)
{
	rgn_os_write_err(o->buf, o->n);
	o->n = 0;
}

static const char *const why_name[] = {
	[RGN_WHY_NONE] = "released",
	[RGN_WHY_DESTROY] = "destroyed",
	[RGN_WHY_RESET] = "reset",
	[RGN_WHY_REWIND] = "rewound",
	[RGN_WHY_TRIM] = "tail trimmed",
};

static void report(const void *addr, const struct qrec *q)
{
	struct out o = { .n = 0 };

	put_str(&o, "rgn: invalid access at ");
	put_hex(&o, (uintptr_t)addr);
	if (q->region) {
		put_str(&o, ": use after release of region ");
		put_hex(&o, (uintptr_t)q->region);
		put_str(&o, " (");
		put_str(&o, why_name[q->why < 5 ? q->why : 0]);
		put_str(&o, ")\n");
	} else {
		put_str(&o, ": use of a block the library took back\n");
	}
	put_str(&o, "rgn: blocks ");
	put_hex(&o, (uintptr_t)rgn_blk_addr(q->b));
	put_str(&o, "-");
	put_hex(&o, (uintptr_t)rgn_blk_addr(q->b + q->n));
	put_str(&o, q->nframes ? " given back at:\n" : " given back\n");
	flush_out(&o);
	if (q->nframes)
		rgn_os_print_frames(q->frames, q->nframes);
}

/* The OS layer's fault handler asks this first (os.h): a fault inside a
 * live record's run is reported, and true makes it fault again under the
 * handler that was there before. */
static bool on_fault(const void *addr)
{
	uintptr_t a = (uintptr_t)addr, base = (uintptr_t)rgn_space_g.base;

	if (a - base < rgn_space_g.size) {
		uint32_t x = (uint32_t)((a - base) >> RGN_BLOCK_SHIFT);
		for (uint32_t i = 0; i < RGN_CHECK_RECORDS; i++) {
			const struct qrec *q = &ring[i];
			uint32_t n = __atomic_load_n(&q->n, __ATOMIC_RELAXED);
			if (n && x - q->b < n) {
				report(addr, q);
				return true;
			}
		}
	}
	return false;
}

/* First use in the process: settings, the fault handler. */
static void setup(void)
{
	atomic_store(&mode, rgn_space_g.check);
	bound = rgn_space_g.check_bytes >> RGN_BLOCK_SHIFT;
	rgn_os_catch_faults(on_fault);
}

/* ---- the bracket around a release -------------------------------------------- */

rgn_noinline void rgn_check_begin(const void *r, enum rgn_check_why why)
{
	void *f[RGN_CHECK_FRAMES + 1];
	int k;

	pthread_once(&once, setup);
	ctx.region = r;
	ctx.open = true;
	ctx.why = (uint8_t)why;
	/* frame 0 is this function */
	k = rgn_os_backtrace(f, RGN_CHECK_FRAMES + 1);
	ctx.nframes = k > 1 ? (uint8_t)(k - 1) : 0;
	if (ctx.nframes)
		memcpy(ctx.frames, f + 1, ctx.nframes * sizeof f[0]);
}

static void enter(uint32_t b, uint32_t n);

void rgn_check_end(void)
{
	if (ctx.pn)
		enter(ctx.pb, ctx.pn);
	ctx.pn = 0;
	ctx.open = false;
	ctx.region = NULL;
	ctx.why = RGN_WHY_NONE;
	ctx.nframes = 0;
}

/* ---- in and out of quarantine ----------------------------------------------------- */

static int protect(uint32_t b, uint32_t n, uint8_t *how)
{
	void *p = rgn_blk_addr(b);
	size_t size = (size_t)n << RGN_BLOCK_SHIFT;

	if (atomic_load_explicit(&mode, memory_order_relaxed) == RGN_CHECK_GUARD) {
		int err = rgn_os_guard(p, size);
		if (err == 0) {
			*how = RGN_CHECK_GUARD;
			return 0;
		}
		if (err != EINVAL)
			return err;
		/* a kernel without guard pages: mprotect from now on */
		atomic_store_explicit(&mode, RGN_CHECK_PROTECT, memory_order_relaxed);
	}
	*how = RGN_CHECK_PROTECT;
	return rgn_os_protect_none(p, size);
}

/* Accessible again, then every span of the run back to blocks.c. */
static void release_run(uint32_t b, uint32_t n, uint8_t how)
{
	uint32_t hb[32], hn[32], k = 0;
	void *p = rgn_blk_addr(b);
	size_t size = (size_t)n << RGN_BLOCK_SHIFT;

	/* guard pages discarded the contents: the run reads as zero, and
	 * counts nothing towards the retain limit (no purge for nothing) */
	void (*give)(const uint32_t *, const uint32_t *, uint32_t) =
		how == RGN_CHECK_GUARD ? rgn_blocks_free_clean : rgn_blocks_free_many;

	if (how == RGN_CHECK_GUARD)
		rgn_os_unguard(p, size);
	else if (rgn_os_commit(p, size) != 0)
		return; /* cannot be made usable: it stays out of use */
	for (uint32_t x = b; x < b + n;) {
		hb[k] = x;
		hn[k] = rgn_desc_of(x)->len; /* before any free coalesces */
		x += hn[k++];
		if (k == 32) {
			give(hb, hn, k);
			k = 0;
		}
	}
	give(hb, hn, k);
}

struct evicted {
	uint32_t b, n;
	uint8_t  how;
};

#define EVICT_BATCH 32

/* Take the oldest record out (qlock held, qcount > 0). */
static struct evicted evict_locked(void)
{
	struct qrec *q = &ring[qold];
	struct evicted e = { q->b, q->n, q->how };

	rgn_assert_locked(&qlock);
	__atomic_store_n(&q->n, 0, __ATOMIC_RELAXED);
	qold = (qold + 1) % RGN_CHECK_RECORDS;
	qcount--;
	atomic_store_explicit(&qblocks, qblocks - e.n, memory_order_relaxed);
	return e;
}

/* Free the run's spans now (the length read before each free: a free
 * may coalesce and rewrite the descriptor). */
static void free_now(uint32_t b, uint32_t n)
{
	for (uint32_t x = b, len; x < b + n; x += len) {
		len = rgn_desc_of(x)->len;
		rgn_blocks_free_many(&x, &len, 1);
	}
}

void rgn_check_quarantine(uint32_t b, uint32_t n)
{
	pthread_once(&once, setup);
	rgn_assert_internal(rgn_desc_of(b)->state == RGN_SPAN_USED);
	rgn_track_taken(rgn_blk_addr(b), (size_t)n << RGN_BLOCK_SHIFT);
	if (!ctx.open) {
		enter(b, n);
		return;
	}
	if (ctx.pn && ctx.pb + ctx.pn == b) {
		ctx.pn += n;
		return;
	}
	if (ctx.pn && b + n == ctx.pb) {
		ctx.pb = b;
		ctx.pn += n;
		return;
	}
	if (ctx.pn)
		enter(ctx.pb, ctx.pn);
	ctx.pb = b;
	ctx.pn = n;
}

/* Make the run inaccessible and record it, evicting the oldest records
 * over the bounds. */
static void enter(uint32_t b, uint32_t n)
{
	struct evicted ev[EVICT_BATCH];
	uint32_t k, cap;
	uint8_t how;

	if (protect(b, n, &how) != 0) {
		free_now(b, n); /* the mapping limit: no checking for these */
		return;
	}
	rgn_lock(&qlock);
	cap = atomic_load_explicit(&mode, memory_order_relaxed) == RGN_CHECK_GUARD
	      ? RGN_CHECK_RECORDS : RGN_CHECK_RECORDS_PROT;
	struct qrec *last = qcount ? &ring[(qold + qcount - 1) % RGN_CHECK_RECORDS] : NULL;
	k = 0;
	if (last && last->region == ctx.region && last->why == ctx.why &&
	    last->how == how && (last->b + last->n == b || b + n == last->b)) {
		/* the same release, the run next to the last one's */
		if (b < last->b)
			last->b = b;
		__atomic_store_n(&last->n, last->n + n, __ATOMIC_RELAXED);
	} else {
		if (qcount >= cap)
			ev[k++] = evict_locked();
		struct qrec *q = &ring[(qold + qcount) % RGN_CHECK_RECORDS];
		q->b = b;
		q->region = ctx.region;
		q->why = ctx.why;
		q->how = how;
		q->nframes = ctx.nframes;
		memcpy(q->frames, ctx.frames, sizeof q->frames);
		__atomic_store_n(&q->n, n, __ATOMIC_RELAXED);
		qcount++;
	}
	atomic_store_explicit(&qblocks, qblocks + n, memory_order_relaxed);
	for (;;) {
		while (k < EVICT_BATCH && qcount && (qblocks > bound || qcount > cap))
			ev[k++] = evict_locked();
		bool more = qcount && (qblocks > bound || qcount > cap);
		rgn_unlock(&qlock);
		for (uint32_t i = 0; i < k; i++)
			release_run(ev[i].b, ev[i].n, ev[i].how);
		if (!more)
			break;
		k = 0;
		rgn_lock(&qlock);
	}
}

size_t rgn_check_held(void)
{
	return atomic_load_explicit(&qblocks, memory_order_relaxed);
}

bool rgn_check_drain(void)
{
	struct evicted ev[EVICT_BATCH];
	bool any = false;
	uint32_t k;

	if (!rgn_check_on())
		return false;
	do {
		rgn_lock(&qlock);
		for (k = 0; k < EVICT_BATCH && qcount; k++)
			ev[k] = evict_locked();
		rgn_unlock(&qlock);
		for (uint32_t i = 0; i < k; i++)
			release_run(ev[i].b, ev[i].n, ev[i].how);
		any |= k > 0;
	} while (k > 0);
	return any;
}
