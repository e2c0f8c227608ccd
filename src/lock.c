/*
 * lock.c - the library's locks: a mutex that knows its holder in debug
 * builds, and the one fork() registration that takes every lock.
 *
 * A lock joins the fork list the first time it is taken, in the place its
 * rank gives it (the ranks, which are also the lock order, are declared
 * with struct rgn_lock in internal.h).  Before fork() the handler takes
 * every listed lock in rank order and runs its fork_prepare (blocks.c
 * waits there for a purge running outside its lock); the parent releases
 * them in reverse order; the child first runs each fork_child (the
 * registries drop the threads the child does not have), then releases
 * them.  A lock never taken before a fork guards nothing the child could
 * find half-changed.
 */
#include "lock.h"

#define MAX_LOCKS 16

rgn_thread char rgn_self_;

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rgn_lock *locks[MAX_LOCKS]; /* by rank; under list_lock */
static int nlocks;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&list_lock);
	for (int i = 0; i < nlocks; i++) {
		rgn_lock(locks[i]);
		if (locks[i]->fork_prepare)
			locks[i]->fork_prepare();
	}
}

static void fork_parent(void)
{
	for (int i = nlocks; i-- > 0;)
		rgn_unlock(locks[i]);
	pthread_mutex_unlock(&list_lock);
}

static void fork_child(void)
{
	for (int i = 0; i < nlocks; i++)
		if (locks[i]->fork_child)
			locks[i]->fork_child();
	fork_parent();
}

/* Windows has no fork (os/port.h): the list still keeps the lock order
 * that the debug checks rely on, with no handlers registered. */
static void atfork_register(void)
{
#if RGN_HAVE_FORK
	pthread_atfork(fork_prepare, fork_parent, fork_child);
#else
	(void)fork_prepare;
	(void)fork_child;
#endif
}

void rgn_lock_list(struct rgn_lock *l)
{
	int i;

	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&list_lock);
	if (!atomic_load_explicit(&l->listed, memory_order_relaxed)) {
		rgn_assert(nlocks < MAX_LOCKS);
		for (i = nlocks; i > 0 && locks[i - 1]->rank > l->rank; i--)
			locks[i] = locks[i - 1];
		locks[i] = l;
		nlocks++;
		atomic_store_explicit(&l->listed, true, memory_order_release);
	}
	pthread_mutex_unlock(&list_lock);
}
