/*
 * backend.h - the contract between region.c and the backends: the
 * common region header and the method table.  Like os.h for the OS, it
 * belongs to no one file: region.c calls through it, each file of
 * src/backend/ implements it.
 */
#ifndef RGN_BACKEND_H
#define RGN_BACKEND_H

#include "../common.h"

struct rgn_cleanup {
	struct rgn_cleanup *next;
	rgn_cleanup_fn      fn;     /* NULL: cancelled (kept so marks stay valid) */
	void               *arg;
};

/*
 * A region's mark history (region.c, "marks"): marks saved under any
 * generation from first to last stay valid while their position (bytes
 * used when saved) is at most pos.  Generations are unique in the
 * process (never reused, never 0), so a mark of another region, or of an
 * earlier life of the same header, matches nothing.
 */
struct rgn_hist {
	uint64_t first, last;
	uint64_t pos;
};
#define RGN_HIST_INLINE 2

/* rgn_region.flags */
#define RGN_F_STACKED 1u /* on its thread's region stack (rgn_push) */
#define RGN_F_HISTOUT 2u /* hist_out holds the mark history */

/*
 * The common part of every region header; each backend's header starts
 * with it.  Invariants, kept by region.c and the backends:
 *   chunk_start <= bump.cur <= bump.end, all in the current chunk
 *   bump.base is the base of the region's references
 *   tail_floor != NULL only while a tail may be pending; it is pending
 *   while bump.cur == tail_at
 *   magic == RGN_MAGIC_LIVE exactly while the region is alive
 *   blocks == 1 only for a blocks-backend region of one block
 *   hist[0 .. nhist-1] (hist_out if not NULL, else hist_in) has rising
 *   generations and strictly rising positions; gen is above them all or
 *   0 (none given yet: the next rgn_save takes a fresh one)
 *   flags & RGN_F_STACKED exactly while r is on a thread's region stack
 */
struct rgn_region {
	struct rgn_bump_    bump;        /* first: read by rgn_alloc inline */
	uint32_t            magic;       /* RGN_MAGIC_* */
	uint16_t            backend;     /* rgn_backend: index of its methods */
	uint16_t            flags;       /* RGN_F_* */
	char               *chunk_start; /* where bumping began in this chunk */
	char               *tail_floor;  /* rgn_tail: keep memory below this */
	char               *tail_at;     /* rgn_tail: bump.cur it returned */
	struct rgn_region  *parent;
	struct rgn_region  *child;       /* first child */
	struct rgn_region  *next, *prev; /* siblings */
	struct rgn_cleanup *cleanups;    /* newest first */
	struct rgn_region  *stack_prev;  /* rgn_push stack, below this one */
	size_t              stack_nulls; /* failed pushes below this one */
	/* Blocks of the space the region holds (the blocks backend; 0 for the
	 * others, which count in their own header).  1 means one block and nothing
	 * else: the case rgn_destroy takes inline, without the table. */
	size_t              blocks;
	/* rgn_set_name: the caller's string, not a copy; NULL: unnamed.  A
	 * created region starts unnamed (the spare is cleared when kept). */
	const char         *name;
	/* Marks: the generation marks saved now carry, and the history of
	 * older ones still valid (see struct rgn_hist). */
	uint64_t            gen;
	uint32_t            nhist;
	struct rgn_hist    *hist_out;    /* a block of the space, or NULL */
	struct rgn_hist     hist_in[RGN_HIST_INLINE];
};

_Static_assert(offsetof(struct rgn_region, bump) == 0, "bump must be first");

/* A saved mark: the common part, and what the backend keeps. */
struct rgn_mark_priv {
	char               *cur;
	struct rgn_cleanup *cleanups;
	uint64_t            gen;         /* r->gen when saved; 0: no mark */
	uint64_t            pos;         /* bytes used when saved */
	uintptr_t           b[4];        /* the backend's */
};
_Static_assert(sizeof(struct rgn_mark_priv) <= sizeof(rgn_mark), "mark size");

/*
 * A backend: how a region gets its memory and gives it back.  region.c
 * calls these on slow paths only; rgn_alloc's inline path and the
 * one-block region's create and destroy never go through the table.
 * Every method gets a live region of its own backend.
 */
struct rgn_backend_ops {
	const char *name;
	/* A new region's header, written with its common part zeroed but for
	 * bump, chunk_start, magic and backend; NULL with errno (the OOM
	 * handler called, with the size that could not be had, for ENOMEM). */
	rgn_region *(*create)(const rgn_options *o);
	/* Give back all of r's memory (its children and cleanups are gone;
	 * r's header goes with it). */
	void (*release)(rgn_region *r);
	/* Back to empty, as created (children and cleanups are gone). */
	void (*reset)(rgn_region *r);
	/* n >= 1 bytes at align (a power of two >= 8) that the current chunk
	 * cannot give; *zeroed (may be NULL): known to read as zero.  NULL
	 * with errno (the OOM handler called for ENOMEM). */
	void *(*alloc)(rgn_region *r, size_t n, size_t align, bool *zeroed);
	/* The current chunk extra bytes longer in place: 0, or -1 (errno
	 * untouched: the caller tries another way). */
	int (*extend)(rgn_region *r, size_t extra);
	/* A fresh current chunk of at least n bytes: 0 or -1 with errno
	 * (ENOMEM where the backend has one range only). */
	int (*chunk)(rgn_region *r, size_t n);
	/* Give back what lies at or above keep_end in chunk (the current one
	 * if NULL), keeping what the backend needs. */
	void (*trim)(rgn_region *r, void *chunk, char *keep_end);
	/* The largest single allocation r could ever have. */
	size_t (*max_size)(const rgn_region *r);
	/* Fill mp->pos (what used would say) and mp->b[] (all of it). */
	void (*save)(const rgn_region *r, struct rgn_mark_priv *mp);
	bool (*mark_valid)(const rgn_region *r, const struct rgn_mark_priv *mp);
	/* Pop what was allocated since mp (cleanups already run).  NULL (with
	 * mark_valid): rgn_rewind refuses every mark with ENOTSUP. */
	void (*rewind)(rgn_region *r, const struct rgn_mark_priv *mp);
	/* Move src's memory into dst (same backend).  NULL: ENOTSUP. */
	int (*merge)(rgn_region *dst, rgn_region *src);
	/* Bytes allocated so far: what rgn_region_stats reports as used. */
	size_t (*used)(const rgn_region *r);
	/* used, blocks, chunks, large, reserved, committed. */
	void (*stats)(const rgn_region *r, struct rgn_region_stats *st);
	/* fn(arg, first block, blocks) for every span of the space r holds.
	 * NULL: r's memory is not the space's. */
	void (*spans)(const rgn_region *r, void (*fn)(void *arg, uint32_t b, uint32_t n),
	              void *arg);
	/* Compaction (copy.c): r's objects become t's, a region of the same
	 * backend and of the same life as r otherwise (no child, no
	 * cleanup, no mark); r's old memory goes back (no cleanup run).
	 * true: t's memory is r's now, and t's header is nothing; false: t
	 * keeps what memory it still holds, to be destroyed.  Cannot fail.
	 * Every backend has one. */
	bool (*replace)(rgn_region *r, rgn_region *t);
};

/*
 * Is r a live region?  NULL is not (the caller reports EINVAL); a
 * handle whose header says destroyed or merged away, or that is no
 * region header at all, aborts in every build, naming fn: that is a
 * use after rgn_destroy, caught while the header's memory is still
 * mapped and not yet reused by another region.  Slow paths only: one
 * load and compare, as the EINVAL check it replaces.
 */
/* The magic of a header that may be a dead region's: its block may be
 * poisoned (ASan) or not addressable (memcheck), and the check must get
 * to say so itself. */
RGN_NO_ASAN static inline uint32_t rgn_magic_of(const rgn_region *r)
{
#ifdef RGN_VG_HOOKS
	if (rgn_unlikely(rgn_vg_running))
		return rgn_magic_vg(&r->magic); /* common.c: out of line */
#endif
	return *(const volatile uint32_t *)&r->magic;
}

static inline bool rgn_live_(const rgn_region *r, const char *fn)
{
	uint32_t magic;

	if (rgn_unlikely(r == NULL))
		return false;
	magic = rgn_magic_of(r);
	if (rgn_likely(magic == RGN_MAGIC_LIVE))
		return true;
	rgn_bad_region(fn, r, magic);
}
#define rgn_live(r) rgn_live_((r), __func__)

/* r dies: its magic says so, and its chunk is empty, so rgn_alloc on the
 * dead handle goes out of line, where rgn_live catches it. */
static inline void rgn_region_die(rgn_region *r)
{
	r->magic = RGN_MAGIC_DEAD;
	r->bump.end = r->bump.cur;
}

static inline size_t rgn_round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

#endif /* RGN_BACKEND_H */
