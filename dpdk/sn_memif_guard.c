/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault guard around memif bursts.
 *
 * The defect (DPDK 22.11, drivers/net/memif): when the peer's control
 * socket hangs up, memif_disconnect() runs in the EAL interrupt thread. It
 * clears ETH_MEMIF_FLAG_CONNECTED, closes the control channel and queue
 * eventfds, then memif_free_regions() munmap()s the shared regions and
 * rte_free()s their structs. eth_memif_rx/tx take no lock: they read the
 * flag once at the start and then use the ring and buffers in the regions.
 * A burst that passed the check before the flag was cleared, and is still
 * running (or was preempted: on a small machine the interrupt thread often
 * wakes on the poll thread's own CPU and preempts it) when munmap() runs,
 * touches unmapped memory: SIGSEGV inside librte_net_memif.so. The flag is
 * not even read atomically, so there is no way for the poll thread to make
 * its check and its use one step.
 *
 * What else was weighed, and why this:
 * - Mutual exclusion with the interrupt thread needs sealnet code in that
 *   thread before memif_free_regions(). DPDK has none to offer: memif raises
 *   no ethdev event on disconnect (no RTE_ETH_EVENT_INTR_LSC/RMV callback is
 *   ever called, before or after the free), its handler is the first and
 *   only callback on the control fd (registered on accept, inside the
 *   interrupt thread), and the interrupt thread has no pre-dispatch hook.
 *   Interposing an EAL symbol memif_disconnect() calls (e.g.
 *   rte_intr_callback_unregister) would work only as long as the link order
 *   and DPDK's symbol versions let the interposer win, silently not at all
 *   otherwise; not something to ship.
 * - Scheduling (the interrupt thread on the poll CPU with SCHED_IDLE, or
 *   the poll thread above it) narrows the window but cannot close it: CFS
 *   still runs an idle-class task at a tick, at any instruction of the
 *   burst, and on another CPU the two threads race truly in parallel; a
 *   busy-polling loop that never sleeps would starve it besides.
 * - Stopping/starting the port when the link drops comes too late: the
 *   unmap is what drops it.
 * So the burst itself is guarded: a thread-local "in a memif burst" flag,
 * sigsetjmp(env, 0) before it (no signal-mask syscall: the handler is
 * installed with SA_NODEFER, so SIGSEGV is not blocked when we jump out of
 * it and the mask needs no restoring), and a SIGSEGV (SEGV_MAPERR: an
 * unmapped page) or SIGBUS handler that jumps back only when that flag is
 * set on the faulting thread. Every other fault goes to the handler that
 * was there before (a sanitizer's, say) or takes the default action with
 * the original state, so crashes elsewhere still dump core where they are.
 *
 * What a caught fault costs: the burst's work is lost and counted
 * (port.memif_fault). RX: the frames the PMD had finished are freed (the
 * array is cleared before the burst, so finished entries are known); one
 * chain in the middle of its copy is lost. TX: the PMD frees each frame as
 * it copies it, so the burst is reported as all taken; the frames it had
 * not reached are lost (at most one burst). A fault needs the peer to go,
 * and after it the flag is clear, so it is at most one per disconnect and
 * queue. The PMD's own per-queue indexes are left mid-burst; memif resets
 * them when the next peer connects. With --pcap the capture TX hook runs
 * inside the guarded burst too (it calls the PMD itself), so an unmapped
 * page fault in it would be taken as well. What stays: if the interrupt thread
 * unmapped a region and a new mapping took the same address before the
 * preempted burst resumed (a whole reconnect during one preemption), the
 * burst would write the new mapping instead of faulting.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "sn_memif_guard.h"

/* initial-exec: the handler must not be the first to touch a TLS block
 * (a dynamic TLS allocation is not async-signal-safe). */
#define SN_TLS __thread __attribute__((tls_model("initial-exec")))

static SN_TLS sigjmp_buf guard_env;
static SN_TLS volatile sig_atomic_t guard_armed;

static struct sigaction old_segv, old_bus;
static bool installed;

/* A fault the guard takes: on a thread inside a guarded burst, and one a
 * vanished mapping gives (not a write to a read-only page, not kill()). */
static bool guarded_fault(int sig, const siginfo_t *si)
{
	if (!guard_armed || si->si_code <= 0)
		return false;
	if (sig == SIGSEGV)
		return si->si_code == SEGV_MAPERR;
	return sig == SIGBUS;
}

/* Not ours: the handler that was there, or the default action. Returning
 * re-runs the faulting instruction, which then faults under that action
 * with the original registers (a core dump shows the real place). */
static void pass_on(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;
	struct sigaction dfl;

	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uc);
		return;
	}
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	if (si->si_code <= 0)   /* sent, not a fault: nothing re-runs */
		raise(sig);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	if (guarded_fault(sig, si)) {
		guard_armed = 0;
		siglongjmp(guard_env, 1);
	}
	pass_on(sig, si, uc);
}

int sn_memif_guard_install(void)
{
	struct sigaction sa;

	if (installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	/* SA_NODEFER: see above. SA_ONSTACK: a handler passed on to (ASan's)
	 * may need the alternate stack for a stack overflow. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_segv))
		return -1;
	if (sigaction(SIGBUS, &sa, &old_bus)) {
		int e = errno;

		sigaction(SIGSEGV, &old_segv, NULL);
		errno = e;
		return -1;
	}
	installed = true;
	return 0;
}

void sn_memif_guard_remove(void)
{
	if (!installed)
		return;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	installed = false;
}

static inline void arm(void)
{
	guard_armed = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void disarm(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	guard_armed = 0;
}

uint16_t sn_memif_guarded_rx(uint16_t port, struct rte_mbuf **pkts, uint16_t n,
			     uint64_t *faults)
{
	uint16_t k;

	/* The PMD stores each frame when it is complete: after a fault the
	 * non-NULL entries are whole frames, ours to free. */
	memset(pkts, 0, n * sizeof(*pkts));
	if (sigsetjmp(guard_env, 0)) {
		(*faults)++;
		for (uint16_t i = 0; i < n && pkts[i]; i++)
			rte_pktmbuf_free(pkts[i]);
		return 0;
	}
	arm();
	k = rte_eth_rx_burst(port, 0, pkts, n);
	disarm();
	return k;
}

uint16_t sn_memif_guarded_tx(uint16_t port, struct rte_mbuf **pkts, uint16_t n,
			     uint16_t (*tx)(uint16_t, struct rte_mbuf **, uint16_t),
			     uint64_t *faults)
{
	uint16_t k;

	if (sigsetjmp(guard_env, 0)) {
		(*faults)++;
		return n;   /* see the header: some are freed already */
	}
	arm();
	k = tx ? tx(port, pkts, n) : rte_eth_tx_burst(port, 0, pkts, n);
	disarm();
	return k;
}
