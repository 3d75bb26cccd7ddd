/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP sockets over lwIP's raw API. Received datagrams wait in a per-socket
 * ring (pbuf and source), so a burst costs no allocation; a full ring drops
 * and counts, as a full socket buffer does on Linux.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sealnet/socket.h"  /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "lwip/udp.h"
#include "sealnet/event.h"
#include "sn_api.h"
#include "sn_tcp.h"
#include "sn_netif.h"
#include "sn_ipsec_api.h"

/* Datagrams queued per socket: 2 ms at 2 Mpps. */
#define SN_UDP_RCVQ 4096
/* Largest payload: 65535 minus the IPv4 and UDP headers (IPv6: no IP
 * header counted in its payload length, but jumbograms are not supported). */
#define SN_UDP_MAX4 65507
#define SN_UDP_MAX6 65527
/* UDP plus the larger IP header. */
#define SN_UDP_IP_HDRS (8 + 40)

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
		    const ip_addr_t *addr, u16_t port)
{
	struct sn_sock *s = arg;
	struct sn_dgram *d;

	/* Secured, but its policy could not be made: nothing may arrive
	 * unchecked (fail closed). */
	if (s->sec && !s->usp) {
		sn_api_stats_c.udp_unsecured_drop++;
		pbuf_free(p);
		return;
	}
	if (s->dq_count == s->dq_cap) {
		sn_api_stats_c.udp_rcvq_full++;
		pbuf_free(p);
		return;
	}
	/* A connected socket takes datagrams from its peer only. */
	if (s->udp_connected &&
	    (port != s->peer_port || !ip_addr_cmp(addr, &s->peer))) {
		pbuf_free(p);
		return;
	}
	d = &s->dq[(s->dq_head + s->dq_count) % s->dq_cap];
	d->p = p;
	ip_addr_copy(d->addr, *addr);
	d->port = port;
	s->dq_count++;
	sn_ev_notify(s);
}

int sn_udp_open(struct sn_sock *s)
{
	u8_t type = s->family == AF_INET6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4;

	s->dq = calloc(SN_UDP_RCVQ, sizeof(*s->dq));
	if (!s->dq)
		return -ENOBUFS;
	s->dq_cap = SN_UDP_RCVQ;
	s->pcb.udp = udp_new_ip_type(type);
	if (!s->pcb.udp) {
		free(s->dq);
		s->dq = NULL;
		return -ENOBUFS;
	}
	udp_recv(s->pcb.udp, on_recv, s);
	return 0;
}

void sn_udp_close(struct sn_sock *s)
{
	while (s->dq_count) {
		pbuf_free(s->dq[s->dq_head].p);
		s->dq_head = (s->dq_head + 1) % s->dq_cap;
		s->dq_count--;
	}
	free(s->dq);
	s->dq = NULL;
	if (s->pcb.udp)
		udp_remove(s->pcb.udp);
	s->pcb.udp = NULL;
}

int sn_udp_bind(struct sn_sock *s, const ip_addr_t *ip, u16_t port)
{
	err_t e;

	if (s->pcb.udp->local_port)
		return -EINVAL;
	e = udp_bind(s->pcb.udp, ip, port);
	return e == ERR_OK ? 0 : -sn_err_from_lwip(e);
}

int sn_udp_connect(struct sn_sock *s, const ip_addr_t *ip, u16_t port)
{
	int rc = sn_sec_udp_ready(s, ip, port, false);
	err_t e;

	if (rc)
		return rc;
	e = udp_connect(s->pcb.udp, ip, port);
	if (e != ERR_OK)
		return -sn_err_from_lwip(e);
	ip_addr_copy(s->peer, *ip);
	s->peer_port = port;
	s->udp_connected = true;
	return 0;
}

int sn_udp_disconnect(struct sn_sock *s)
{
	udp_disconnect(s->pcb.udp);
	s->udp_connected = false;
	return 0;
}

int sn_udp_name(const struct sn_sock *s, bool peer, ip_addr_t *ip, u16_t *port)
{
	if (peer) {
		if (!s->udp_connected)
			return -ENOTCONN;
		ip_addr_copy(*ip, s->peer);
		*port = s->peer_port;
		return 0;
	}
	ip_addr_copy(*ip, s->pcb.udp->local_ip);
	*port = s->pcb.udp->local_port;
	return 0;
}

/* One datagram: one copy into a heap pbuf with room for all headers in
 * front, which the netif then hands to the port without copying. */
static int udp_send_one(struct sn_sock *s, const void *buf, size_t len,
			const ip_addr_t *ip, u16_t port)
{
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	/* Too big for one packet: let IPsec see the whole datagram before it
	 * is fragmented (sn_ipsec_frag_defer_begin). */
	bool big = len + SN_UDP_IP_HDRS > sn_netif_mtu();
	err_t e;

	if (!p) {
		sn_api_stats_c.udp_tx_nomem++;
		return -ENOBUFS;
	}
	if (len)
		memcpy(p->payload, buf, len);
	if (big)
		sn_ipsec_frag_defer_begin();
	e = ip ? udp_sendto(s->pcb.udp, p, ip, port) : udp_send(s->pcb.udp, p);
	if (big)
		sn_ipsec_frag_defer_end();
	pbuf_free(p);
	if (e == ERR_MEM)
		return -ENOBUFS;
	return e == ERR_OK ? 0 : -sn_err_from_lwip(e);
}

ssize_t sn_udp_sendto(struct sn_sock *s, const void *buf, size_t len, int flags,
		      const ip_addr_t *ip, u16_t port)
{
	size_t max = s->family == AF_INET6 ? SN_UDP_MAX6 : SN_UDP_MAX4;
	bool nb = s->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = sn_deadline(s->sndtimeo_us);
	int rc;

	if (len > max)
		return sn_err(EMSGSIZE);
	if (!ip && !s->udp_connected)
		return sn_err(EDESTADDRREQ);
	if (ip && port == 0)
		return sn_err(EINVAL);
	rc = sn_sec_udp_ready(s, ip ? ip : &s->peer, ip ? port : s->peer_port, true);
	if (rc)
		return sn_err(-rc);
	for (;;) {
		rc = udp_send_one(s, buf, len, ip, port);
		if (rc == 0)
			return (ssize_t)len;
		/* Out of buffers: a blocking socket waits for the port to
		 * drain; a non-blocking one reports it. */
		if (rc != -ENOBUFS || nb)
			return sn_err(-rc);
		if (sn_block_wait(deadline))
			return -1;
	}
}

ssize_t sn_udp_recvfrom(struct sn_sock *s, void *buf, size_t len, int flags,
			ip_addr_t *ip, u16_t *port)
{
	bool nb = s->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = sn_deadline(s->rcvtimeo_us);
	struct sn_dgram *d;
	size_t n;

	while (!s->dq_count) {
		if (nb)
			return sn_err(EAGAIN);
		if (sn_block_wait(deadline))
			return -1;
	}
	d = &s->dq[s->dq_head];
	n = d->p->tot_len < len ? d->p->tot_len : len;
	pbuf_copy_partial(d->p, buf, (u16_t)n, 0);
	if (ip)
		ip_addr_copy(*ip, d->addr);
	if (port)
		*port = d->port;
	if (flags & MSG_TRUNC)
		n = d->p->tot_len;
	if (!(flags & MSG_PEEK)) {
		pbuf_free(d->p);
		s->dq_head = (s->dq_head + 1) % s->dq_cap;
		s->dq_count--;
	}
	return (ssize_t)n;
}

uint32_t sn_udp_events(const struct sn_sock *s)
{
	return (s->dq_count ? SN_EPOLLIN : 0) | SN_EPOLLOUT;
}
