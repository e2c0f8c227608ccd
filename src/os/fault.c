/*
 * fault.c - failing the OS primitives on purpose, for tests (os.h).
 *
 * Shared by every OS file: each primitive calls rgn_os_fault() first,
 * which reads `armed` and returns at once while it is 0.  Armed, each call
 * is numbered from 1, and the one numbered fail_at (every one from
 * -fail_at on, when it is negative) returns ENOMEM as if the kernel had
 * refused it.  The counters are atomics so that a stray
 * call from another thread does not tear them, but a sweep counts on one
 * thread making the calls: with several, the numbering is the order in
 * which they happened to run.
 */
#include "os.h"

#include <errno.h>

struct rgn_os_faults rgn_os_faults_g;

void rgn_os_fault_arm(long fail_at)
{
	atomic_store(&rgn_os_faults_g.calls, 0);
	atomic_store(&rgn_os_faults_g.failed, 0);
	atomic_store(&rgn_os_faults_g.fail_at, fail_at);
	atomic_store(&rgn_os_faults_g.armed, 1);
}

void rgn_os_fault_disarm(void)
{
	atomic_store(&rgn_os_faults_g.armed, 0);
}

int rgn_os_fault_hit(void)
{
	long n = atomic_fetch_add(&rgn_os_faults_g.calls, 1) + 1;

	long at = atomic_load(&rgn_os_faults_g.fail_at);

	if (at == 0 || (at > 0 ? n != at : n < -at))
		return 0;
	atomic_fetch_add(&rgn_os_faults_g.failed, 1);
	return ENOMEM;
}
