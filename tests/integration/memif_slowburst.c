/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test-only LD_PRELOAD shim for memif_disconnect.sh: widens the race in
 * DPDK 22.11's memif PMD between a burst and the interrupt thread's unmap
 * of the shared regions when the peer goes (see dpdk/sn_memif_guard.c).
 *
 * On a busy machine the poll thread is preempted at random instructions;
 * when that is inside eth_memif_rx/tx after its connected check and the
 * interrupt thread runs the whole disconnect meanwhile, the burst resumes
 * on unmapped memory (1 run in 4-6 of secure_memif.sh's algs part crashed
 * so). Here a timer interrupts the main thread (the sealnet poll lcore)
 * every millisecond, and when it finds it inside librte_net_memif.so it
 * sleeps 50 ms there, as a preemption would (a long one, so that a peer
 * going away is very likely seen by the interrupt thread meanwhile). With
 * it the old code crashed in about 1 disconnect in 4. Nothing else changes.
 */
#define _GNU_SOURCE
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile uintptr_t memif_lo, memif_hi;   /* its text, once found */

static int find_memif(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "librte_net_memif"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			memif_lo = info->dlpi_addr + ph->p_vaddr;
			memif_hi = memif_lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* No stop within 2 ms of the last: the tick that came during the stop is
 * pending when it ends, and would find the same instruction again. */
static void on_tick(int sig, siginfo_t *si, void *uc)
{
	static int64_t next;
	uintptr_t pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	(void)sig;
	(void)si;
	if (!memif_hi || pc < memif_lo || pc >= memif_hi || now_ns() < next)
		return;
	nanosleep(&ts, NULL);
	next = now_ns() + 2 * 1000 * 1000;
}

/* The PMD is loaded during rte_eal_init: look for it on every tick until
 * found (outside the handler: dl_iterate_phdr is not async-signal-safe). */
static void on_timer_thread(union sigval sv)
{
	(void)sv;
	if (!memif_hi)
		dl_iterate_phdr(find_memif, NULL);
}

__attribute__((constructor)) static void slowburst_init(void)
{
	struct sigaction sa;
	struct sigevent ev;
	struct itimerspec its = { { 0, 1000 * 1000 }, { 0, 1000 * 1000 } };
	struct itimerspec look = { { 0, 50 * 1000 * 1000 }, { 0, 50 * 1000 * 1000 } };
	timer_t tick, finder;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN + 7, &sa, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGRTMIN + 7;
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);   /* the main thread */
	if (timer_create(CLOCK_MONOTONIC, &ev, &tick) == 0)
		timer_settime(tick, 0, &its, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD;
	ev.sigev_notify_function = on_timer_thread;
	if (timer_create(CLOCK_MONOTONIC, &ev, &finder) == 0)
		timer_settime(finder, 0, &look, NULL);
}
