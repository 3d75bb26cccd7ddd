/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpdk/sn_memif_guard.c: a fault inside a guarded burst (the memif PMD's
 * shared regions unmapped under it) ends that burst and is counted; any
 * other fault still kills the process with SIGSEGV as before. The burst is
 * a stand-in TX function here (no EAL port needed): it touches a page that
 * was unmapped, as eth_memif_tx does after the interrupt thread's
 * memif_free_regions().
 */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sn_memif_guard.h"

static volatile uint8_t *gone;   /* a page mapped, then unmapped */
static volatile uint8_t *ro;     /* a read-only page */

static void setup(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	/* Two pages, the second unmapped: nothing mapped later reuses it
	 * while the first (read-only) stays. */
	uint8_t *p = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert(p != MAP_FAILED);
	cr_assert(munmap(p + pg, pg) == 0);
	ro = p;
	gone = p + pg;
	cr_assert(sn_memif_guard_install() == 0);
}

static uint16_t touch_gone(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	(void)port;
	(void)pkts;
	gone[4] = 1;
	return 0;   /* not reached */
}

static uint16_t write_ro(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	(void)port;
	(void)pkts;
	ro[0] = 1;
	return 0;
}

static uint16_t half(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	(void)port;
	(void)pkts;
	return n / 2;
}

TestSuite(memif_guard, .init = setup);

/* A fault not ours goes to the handler that was there: none here, so the
 * default action, SIGSEGV. Under ASan that handler is ASan's, whose report
 * `make unit-asan` would count as a failure: not run there (the guard's
 * own catches, above the sanitizer's handler, still are). */
#ifdef __SANITIZE_ADDRESS__
#define KILLED .signal = SIGSEGV, .disabled = true
#else
#define KILLED .signal = SIGSEGV
#endif

Test(memif_guard, unmapped_in_burst_ends_it_and_counts)
{
	uint64_t faults = 0;

	/* All taken: the PMD frees frames as it copies them. */
	cr_assert_eq(sn_memif_guarded_tx(0, NULL, 8, touch_gone, &faults), 8);
	cr_assert_eq(faults, 1);
}

/* SA_NODEFER: after the jump out of the handler SIGSEGV is not left
 * blocked, so the next fault is caught too (a blocked synchronous SIGSEGV
 * would kill the process). */
Test(memif_guard, second_fault_caught_too)
{
	uint64_t faults = 0;

	cr_assert_eq(sn_memif_guarded_tx(0, NULL, 4, touch_gone, &faults), 4);
	cr_assert_eq(sn_memif_guarded_tx(0, NULL, 4, touch_gone, &faults), 4);
	cr_assert_eq(faults, 2);
}

Test(memif_guard, burst_without_fault_untouched)
{
	uint64_t faults = 0;

	cr_assert_eq(sn_memif_guarded_tx(0, NULL, 8, half, &faults), 4);
	cr_assert_eq(faults, 0);
}

/* Outside a burst the guard is not armed: the default action. */
Test(memif_guard, fault_outside_burst_still_kills, KILLED)
{
	uint64_t faults = 0;

	sn_memif_guarded_tx(0, NULL, 8, half, &faults);
	gone[4] = 1;
}

/* A write to a read-only page (SEGV_ACCERR) is not an unmapped region:
 * not taken, even inside a burst. */
Test(memif_guard, other_fault_in_burst_still_kills, KILLED)
{
	uint64_t faults = 0;

	sn_memif_guarded_tx(0, NULL, 8, write_ro, &faults);
}

static void mine(int sig) { (void)sig; }

/* The handler found is kept, called for faults not ours, and put back. */
Test(memif_guard, remove_restores_the_old_handler)
{
	struct sigaction sa, now;

	sn_memif_guard_remove();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mine;
	cr_assert(sigaction(SIGSEGV, &sa, NULL) == 0);
	cr_assert(sn_memif_guard_install() == 0);
	cr_assert(sigaction(SIGSEGV, NULL, &now) == 0);
	cr_assert(now.sa_flags & SA_SIGINFO);
	sn_memif_guard_remove();
	cr_assert(sigaction(SIGSEGV, NULL, &now) == 0);
	cr_assert(!(now.sa_flags & SA_SIGINFO));
	cr_assert_eq(now.sa_handler, mine);
}
