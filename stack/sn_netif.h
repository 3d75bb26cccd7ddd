/* The lwIP netif over a port (stack/sn_netif.c). */
#ifndef SN_NETIF_H
#define SN_NETIF_H

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

#endif
