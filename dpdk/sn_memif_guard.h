/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fault guard around memif bursts: DPDK 22.11's memif PMD unmaps its
 * shared regions from the EAL interrupt thread when the peer goes, with no
 * lock against a burst that is using them (see sn_memif_guard.c).
 */
#ifndef SN_MEMIF_GUARD_H
#define SN_MEMIF_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;

/* Install the SIGSEGV/SIGBUS handler (once per process; the handlers found
 * are kept and called for every fault that is not a guarded burst's). 0 or
 * -1 with errno. */
int sn_memif_guard_install(void);
/* Put the handlers found back (when the last guarded port closes). */
void sn_memif_guard_remove(void);

/* rte_eth_rx_burst / rte_eth_tx_burst (or the capture TX hook, when tx is
 * given) on queue 0 of PORT, with a fault inside treated as the link going
 * down: RX then returns 0 (frames it had finished are freed), TX returns N
 * (what it had not copied is lost: the PMD frees frames as it copies them,
 * so handing any back could free one twice). *FAULTS counts these. */
uint16_t sn_memif_guarded_rx(uint16_t port, struct rte_mbuf **pkts, uint16_t n,
			     uint64_t *faults);
uint16_t sn_memif_guarded_tx(uint16_t port, struct rte_mbuf **pkts, uint16_t n,
			     uint16_t (*tx)(uint16_t, struct rte_mbuf **, uint16_t),
			     uint64_t *faults);

#endif
