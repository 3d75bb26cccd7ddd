/* SPDX-License-Identifier: BSD-3-Clause */
/* Hooks that lwIP calls into sealnet (LWIP_HOOK_FILENAME). */
#ifndef SN_HOOKS_H
#define SN_HOOKS_H

#include "lwip/ip_addr.h"

/* RFC 6528 initial sequence number: a keyed hash of the connection's
 * addresses and ports plus a 4-microsecond clock. */
u32_t sn_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		 const ip_addr_t *remote_ip, u16_t remote_port);

struct netif;
struct pbuf;

/*
 * Called for every IPv4 and IPv6 packet lwIP receives, before it reads the
 * header (the hook checks lengths itself). Returns 1 when it took the
 * packet (dropped and freed it, or will re-inject it), 0 to let lwIP go
 * on. Set by ipsec/ (the inbound policy check); NULL when no one needs it.
 */
typedef int (*sn_ip_input_hook_fn)(struct pbuf *p, struct netif *inp);
extern sn_ip_input_hook_fn sn_ip_input_hook;

/*
 * Called after each received frame has been through lwIP: ipsec/ hands
 * decapsulated packets back to lwIP's IP input from here, not from inside
 * lwIP's own input (whose raw pcb walk is not re-entrant).
 */
typedef void (*sn_rx_done_hook_fn)(void);
extern sn_rx_done_hook_fn sn_rx_done_hook;
/* Next hop for an off-link IPv6 destination: the --gw router (lwIP's own
 * default router list is fed only by router advertisements). */
const ip6_addr_t *sn_nd6_get_gw(struct netif *netif, const ip6_addr_t *dest);

#endif
