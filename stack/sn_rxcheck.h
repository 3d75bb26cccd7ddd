/* SPDX-License-Identifier: BSD-3-Clause */
/* Received-frame checks lwIP lacks (stack/sn_rxcheck.c). */
#ifndef SN_RXCHECK_H
#define SN_RXCHECK_H

#include <stdbool.h>

struct rte_mbuf;

/* False when the frame must be dropped; the drop is already counted. */
bool sn_rx_check(const struct rte_mbuf *m);

#endif
