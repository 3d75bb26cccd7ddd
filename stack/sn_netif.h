/* SPDX-License-Identifier: BSD-3-Clause */
/* The lwIP netif over a port (stack/sn_netif.c). */
#ifndef SN_NETIF_H
#define SN_NETIF_H

#include <stdbool.h>

#include "lwip/netif.h"
#include "sn_netdev.h"

extern struct netif sn_netif;

/* Add the netif for dev with its IPv4 address (may be 0.0.0.0). */
int sn_netif_init(struct sn_netdev *dev, const ip4_addr_t *ip,
		  const ip4_addr_t *mask, const ip4_addr_t *gw);
void sn_netif_fini(void);

/* One RX burst through the stack; returns frames received. */
int sn_netif_rx(void);

/* Hand queued frames to the port. */
void sn_netif_flush(void);

/* A buffer for an IP packet of len bytes the stack writes itself (ESP,
 * AH), with lwIP's PBUF_IP header room: in an mbuf of the port's pool where
 * it fits (the port then takes it without a copy), else from lwIP's heap.
 * NULL when neither has room. */
struct pbuf *sn_netif_alloc_ip(u16_t len);

/* Frames queued and not yet taken by the port. */
unsigned sn_netif_tx_pending(void);

/*
 * What other layers may change about the netif. stack/ is the one writer
 * of its output functions, its MTU and its checksum flags (DESIGN.md,
 * "Layout"); these calls are how ipsec/ and api/ ask for a change.
 */

/* An IP output hook (ipsec/): lwIP's IP output hands every IPv4 and IPv6
 * packet to it instead of the link layer; the hook sends what it lets
 * through with sn_netif_link_output4/6. NULL, NULL: no hook. */
void sn_netif_set_output_hook(netif_output_fn out4, netif_output_ip6_fn out6);
/* The link layer's own output (ARP / neighbour discovery, then the port). */
err_t sn_netif_link_output4(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst);
err_t sn_netif_link_output6(struct netif *nif, struct pbuf *p, const ip6_addr_t *dst);

/* Fragmentation deferred to the output hook (calls nest): while on,
 * lwIP's IP output sees MTU 0, does not fragment, and the hook gets the
 * whole datagram (ipsec/: fragments carry no ports to match policies on). */
void sn_netif_defer_frag(bool on);
/* The MTU IP packets are fragmented to: the link's, also while deferred. */
u16_t sn_netif_mtu(void);
/* p, larger than the MTU, as fragments of at most sn_netif_mtu() bytes,
 * each through nif's output (lwIP's fragmenters). dst's type picks the
 * family. */
err_t sn_netif_frag_output(struct netif *nif, struct pbuf *p, const ip_addr_t *dst);

/* One IP packet into lwIP's IP input whose TCP/UDP checksums are known
 * good already (verified: NETIF_CHECKSUM_CHECK_TCP/UDP bits), for this
 * packet only: ipsec/ after the ICV verified. Consumes p, as ip_input. */
err_t sn_netif_input_verified(struct pbuf *p, struct netif *inp, u16_t verified);

#endif
