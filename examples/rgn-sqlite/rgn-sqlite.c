/*
 * rgn-sqlite - SQLite's memory served by one rgn heap region.
 *
 * A shared object whose constructor hands SQLite a set of memory methods
 * (sqlite3_config(SQLITE_CONFIG_MALLOC)) before SQLite initialises, so
 * that every allocation SQLite makes comes from a heap region:
 *
 *   LD_PRELOAD=librgn-sqlite.so python3 -m test test_sqlite3
 *
 * or linked into a program (-lrgn-sqlite; rgn_sqlite_installed() tells
 * whether the methods were taken).  The process's own malloc is left
 * alone: only SQLite's memory moves.
 *
 * The methods
 *   xMalloc    rgn_alloc
 *   xFree      rgn_free(r, p, 0)          the size is not known to SQLite
 *   xRealloc   rgn_realloc(r, p, 0, n)    likewise
 *   xSize      rgn_usable_size            exact, O(1) in a heap region
 *   xRoundup   n rounded up to 8, the region's granule.  The heap's size
 *              classes are not visible through the API, and SQLite asks
 *              xSize for what an object really holds, so nothing is lost.
 *   xInit      creates the region if there is none (after xShutdown)
 *   xShutdown  destroys it: SQLite has freed everything by then
 *
 * Threads: a region belongs to one thread at a time and takes no lock,
 * while SQLite calls its methods from any thread that uses it (and does
 * not serialise them: SQLITE_CONFIG_MALLOC methods must be thread-safe).
 * One mutex of this file's own is held across every call into the
 * region, and across fork() (pthread_atfork), so that a child finds it
 * unlocked and the region consistent.
 *
 * Counters: every call is counted under the same mutex.  With
 * RGN_SQLITE_STATS=1 one line goes to stderr when the process exits:
 *
 *   rgn-sqlite: mallocs=N reallocs=N frees=N sizes=N failed=N served_by_rgn=S/T
 *
 * T counts the requests that needed memory (xMalloc, and xRealloc), S
 * those that rgn answered with memory; T - S is failed.  If the methods
 * could not be installed, no request reaches this file: 0/0.
 */
#define _POSIX_C_SOURCE 200809L
#include <rgn.h>
#include <sqlite3.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define EXPORT __attribute__((visibility("default")))
#define CONSTRUCTOR __attribute__((constructor))
#define DESTRUCTOR __attribute__((destructor))
#else
#error "rgn-sqlite needs constructor and destructor functions (gcc, clang)"
#endif

/* ---- state: everything below lock is guarded by it -------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rgn_region *heap;      /* NULL before xInit / after xShutdown */
static int installed;         /* sqlite3_config accepted the methods */
static int print_stats;       /* RGN_SQLITE_STATS set to a non-zero value */

static struct {
	unsigned long long mallocs, reallocs, frees, sizes;
	unsigned long long failed;  /* xMalloc or xRealloc returned NULL */
	unsigned long long served;  /* xMalloc or xRealloc returned memory */
} count;

/* The heap region, created on first need.  Caller holds lock. */
static rgn_region *heap_locked(void)
{
	if (heap == NULL)
		heap = rgn_new_with(NULL, &(rgn_options){ .backend = RGN_BACKEND_HEAP });
	return heap;
}

/* ---- the methods ------------------------------------------------------- */

static void *m_malloc(int n)
{
	void *p = NULL;

	pthread_mutex_lock(&lock);
	count.mallocs++;
	/* SQLite never asks for 0 or a negative size; refuse them anyway */
	if (n > 0 && heap_locked() != NULL)
		p = rgn_alloc(heap, (size_t)n);
	if (p != NULL)
		count.served++;
	else
		count.failed++;
	pthread_mutex_unlock(&lock);
	return p;
}

static void m_free(void *p)
{
	pthread_mutex_lock(&lock);
	count.frees++;
	if (p != NULL)
		rgn_free(heap, p, 0);
	pthread_mutex_unlock(&lock);
}

/* SQLite calls this with p != NULL and n > 0 (sqlite3Realloc turns the
 * other cases into xMalloc or xFree).  On failure p stays valid. */
static void *m_realloc(void *p, int n)
{
	void *q = NULL;

	pthread_mutex_lock(&lock);
	count.reallocs++;
	if (n > 0 && heap_locked() != NULL)
		q = rgn_realloc(heap, p, 0, (size_t)n);
	if (q != NULL)
		count.served++;
	else
		count.failed++;
	pthread_mutex_unlock(&lock);
	return q;
}

static int m_size(void *p)
{
	size_t n = 0;

	pthread_mutex_lock(&lock);
	count.sizes++;
	if (p != NULL)
		n = rgn_usable_size(heap, p);
	pthread_mutex_unlock(&lock);
	/* SQLite's sizes are ints; it never allocates past 0x7fffff00 */
	return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

static int m_roundup(int n)
{
	return n > 0x7ffffff8 ? n : (n + 7) & ~7;
}

static int m_init(void *app)
{
	int rc;

	(void)app;
	pthread_mutex_lock(&lock);
	rc = heap_locked() != NULL ? SQLITE_OK : SQLITE_NOMEM;
	pthread_mutex_unlock(&lock);
	return rc;
}

static void m_shutdown(void *app)
{
	(void)app;
	pthread_mutex_lock(&lock);
	rgn_destroy(heap);
	heap = NULL;
	pthread_mutex_unlock(&lock);
}

static const sqlite3_mem_methods methods = {
	.xMalloc = m_malloc,
	.xFree = m_free,
	.xRealloc = m_realloc,
	.xSize = m_size,
	.xRoundup = m_roundup,
	.xInit = m_init,
	.xShutdown = m_shutdown,
	.pAppData = NULL,
};

/* ---- fork: the child gets the region in a consistent state ------------- */

static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_release(void) { pthread_mutex_unlock(&lock); }

/* ---- installation, and the line at exit -------------------------------- */

/* Whether SQLite took this file's methods: 1 if so, 0 if not. */
EXPORT int rgn_sqlite_installed(void);
int rgn_sqlite_installed(void)
{
	return installed;
}

CONSTRUCTOR static void rgn_sqlite_install(void)
{
	const char *env = getenv("RGN_SQLITE_STATS");
	int rc;

	print_stats = env != NULL && *env != '\0' && strcmp(env, "0") != 0;
	/* the region first: without it, SQLite keeps its own allocator */
	pthread_mutex_lock(&lock);
	rgn_region *r = heap_locked();
	pthread_mutex_unlock(&lock);
	if (r == NULL) {
		fprintf(stderr, "rgn-sqlite: no heap region (%s); SQLite keeps its "
		        "own allocator\n", strerror(errno));
		return;
	}
	rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "rgn-sqlite: sqlite3_config(SQLITE_CONFIG_MALLOC) "
		        "failed: %s (SQLite initialised already?); SQLite keeps "
		        "its own allocator\n", sqlite3_errstr(rc));
		return;
	}
	installed = 1;
	pthread_atfork(fork_prepare, fork_release, fork_release);
}

DESTRUCTOR static void rgn_sqlite_report(void)
{
	if (!print_stats)
		return;
	pthread_mutex_lock(&lock);
	fprintf(stderr, "rgn-sqlite: mallocs=%llu reallocs=%llu frees=%llu "
	        "sizes=%llu failed=%llu served_by_rgn=%llu/%llu\n",
	        count.mallocs, count.reallocs, count.frees, count.sizes,
	        count.failed, count.served, count.mallocs + count.reallocs);
	pthread_mutex_unlock(&lock);
}
