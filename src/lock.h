/*
 * lock.h - the library's locks (lock.c).
 */
#ifndef RGN_LOCK_H
#define RGN_LOCK_H

#include "common.h"

/*
 * Every lock of the library is a struct rgn_lock.  The lock order is the
 * rank below: a thread that holds a lock takes only locks of a higher
 * rank.  fork() takes them all, in this order, through one registration
 * (lock.c), so the child never inherits a lock held by a thread it does
 * not have.
 */
enum rgn_lock_rank {
	RGN_RANK_SETUP = 1,   /* space.c: reserving the space */
	RGN_RANK_THREADS,     /* tcache.c: the registry of thread caches */
	RGN_RANK_REGIONS,     /* region.c: per-thread region counts */
	RGN_RANK_CONTIG,      /* backend/contig.c: reservation cache, counters */
	RGN_RANK_CHECK,       /* quarantine.c: the checking mode */
	RGN_RANK_BLOCKS,      /* blocks.c: bins, frontier top, counters */
	RGN_RANK_FRONTIER,    /* space.c: the read-write part of the space */
	RGN_RANK_OOM,         /* space.c: the out-of-memory handler */
};

struct rgn_lock {
	pthread_mutex_t  m;
	int              rank;                 /* enum rgn_lock_rank */
	void           (*fork_prepare)(void);  /* with it held, before fork() */
	void           (*fork_child)(void);    /* in the child, still held */
	_Atomic bool     listed;               /* known to the fork handlers */
	_Atomic(const void *) owner;           /* RGN_DEBUG >= 1: the holder */
};

#define RGN_LOCK_INIT(rank_, prepare_, child_)                               \
	{ .m = PTHREAD_MUTEX_INITIALIZER, .rank = (rank_),                   \
	  .fork_prepare = (prepare_), .fork_child = (child_) }

/* The calling thread's identity for the ownership checks. */
rgn_hidden extern rgn_thread char rgn_self_;
/* Put l on the fork list (once per lock). */
rgn_hidden void rgn_lock_list(struct rgn_lock *l);

static inline void rgn_lock(struct rgn_lock *l)
{
	if (rgn_unlikely(!atomic_load_explicit(&l->listed, memory_order_acquire)))
		rgn_lock_list(l);
	pthread_mutex_lock(&l->m);
#if RGN_DEBUG >= 1
	atomic_store_explicit(&l->owner, &rgn_self_, memory_order_relaxed);
#endif
}

static inline void rgn_unlock(struct rgn_lock *l)
{
#if RGN_DEBUG >= 1
	rgn_assert(atomic_load_explicit(&l->owner, memory_order_relaxed) == &rgn_self_);
	atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
#endif
	pthread_mutex_unlock(&l->m);
}

/* Wait on cv, releasing l meanwhile. */
static inline void rgn_lock_wait(pthread_cond_t *cv, struct rgn_lock *l)
{
#if RGN_DEBUG >= 1
	atomic_store_explicit(&l->owner, NULL, memory_order_relaxed);
#endif
	pthread_cond_wait(cv, &l->m);
#if RGN_DEBUG >= 1
	atomic_store_explicit(&l->owner, &rgn_self_, memory_order_relaxed);
#endif
}

/* What every _locked function asserts first. */
#define rgn_assert_locked(l) \
	rgn_assert(atomic_load_explicit(&(l)->owner, memory_order_relaxed) == &rgn_self_)

#endif /* RGN_LOCK_H */
