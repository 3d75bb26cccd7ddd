/* Hooks that lwIP calls into sealnet (LWIP_HOOK_FILENAME). */
#ifndef SN_HOOKS_H
#define SN_HOOKS_H

#include "lwip/ip_addr.h"

/* RFC 6528 initial sequence number: a keyed hash of the connection's
 * addresses and ports plus a 4-microsecond clock. */
u32_t sn_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		 const ip_addr_t *remote_ip, u16_t remote_port);

struct netif;
/* Next hop for an off-link IPv6 destination: the --gw router (lwIP's own
 * default router list is fed only by router advertisements). */
const ip6_addr_t *sn_nd6_get_gw(struct netif *netif, const ip6_addr_t *dest);

#endif
