/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-process stack instance (stack/sn_stack.c): lwIP initialised over
 * one port, its addresses, and the poll loop's body.
 */
#ifndef SN_STACK_H
#define SN_STACK_H

#include <stdint.h>
#include "lwip/ip_addr.h"
#include "sn_netdev.h"

#define SN_STACK_MAX_IP6 4

struct sn_stack_conf {
	ip4_addr_t ip4, mask4, gw4;          /* zero when unset */
	ip6_addr_t ip6[SN_STACK_MAX_IP6];
	int nip6;
	ip6_addr_t gw6;
	int has_gw6;
	/* Most TIME_WAIT connections kept; the oldest end early beyond this
	 * (as Linux's tcp_max_tw_buckets), 0 for the default. */
	unsigned tw_max;
};

/* Start lwIP over dev with the addresses in conf. 0 or a negative errno. */
int sn_stack_init(struct sn_netdev *dev, const struct sn_stack_conf *conf);

/* One iteration: flush TX, one RX burst, due timers, flush TX.
 * Returns frames received. */
int sn_stack_poll(void);

/* Remove the interface, release queued frames and lwIP's heap. All
 * sockets must be closed before. */
void sn_stack_fini(void);

/* 1 once sn_stack_init() succeeded. */
int sn_stack_running(void);

#endif
