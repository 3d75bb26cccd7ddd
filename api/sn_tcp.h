/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP socket calls (api/sock_tcp.c), used by api/socket.c. Internal
 * functions return 0/bytes or a negative errno. */
#ifndef SN_TCP_H
#define SN_TCP_H

#include <stdbool.h>
#include <sys/types.h>
#include "sn_api.h"

int sn_tcp_bind(struct sn_sock *s, const ip_addr_t *ip, u16_t port);
int sn_tcp_listen(struct sn_sock *s, int backlog);
int sn_tcp_connect(struct sn_sock *s, const ip_addr_t *ip, u16_t port);
struct sn_sock *sn_tcp_accept_take(struct sn_sock *listener);
int sn_tcp_shutdown(struct sn_sock *s, int how);
int sn_tcp_name(const struct sn_sock *s, bool peer, ip_addr_t *ip, u16_t *port);
void sn_tcp_set_nodelay(struct sn_sock *s, bool on);

/* These set errno and return -1 themselves (they may block). */
ssize_t sn_tcp_send(struct sn_sock *s, const void *buf, size_t len, int flags);
ssize_t sn_tcp_recv(struct sn_sock *s, void *buf, size_t len, int flags);

/* UDP counterparts (api/sock_udp.c). */
int sn_udp_bind(struct sn_sock *s, const ip_addr_t *ip, u16_t port);
int sn_udp_connect(struct sn_sock *s, const ip_addr_t *ip, u16_t port);
int sn_udp_disconnect(struct sn_sock *s);
int sn_udp_name(const struct sn_sock *s, bool peer, ip_addr_t *ip, u16_t *port);
ssize_t sn_udp_sendto(struct sn_sock *s, const void *buf, size_t len, int flags,
		      const ip_addr_t *ip, u16_t port);
ssize_t sn_udp_recvfrom(struct sn_sock *s, void *buf, size_t len, int flags,
			ip_addr_t *ip, u16_t *port);

#endif
