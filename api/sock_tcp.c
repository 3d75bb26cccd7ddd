/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP sockets over lwIP's raw API: callbacks fill the socket's queues and
 * wake epoll; the calls copy bytes in and out.
 *
 * Receive: lwIP hands us pbufs that wrap the received mbufs (no copy);
 * sn_recv copies into the caller's buffer (the one receive copy) and only
 * then opens the window (tcp_recved), so a slow reader throttles its peer.
 * Send: tcp_write copies into heap pbufs (the one send copy); the netif
 * hands those to the port without another copy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sealnet/socket.h"  /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "sealnet/event.h"
#include "sn_api.h"
#include "sn_tcp.h"
#include "sn_ipsec_api.h"
#include "sockpol.h"

/* EPOLLOUT once this much send buffer is free (or all of it). */
#define SN_SND_LOWAT (64u * 1024u)
/* tcp_write and tcp_recved take 16-bit lengths. */
#define SN_TCP_CHUNK 0xffffu

/* ---- Callbacks from lwIP ------------------------------------------------- */

static void rxq_append(struct sn_sock *s, struct pbuf *p)
{
	struct pbuf *last = p;

	s->rx_bytes += p->tot_len;
	while (last->next)
		last = last->next;
	if (s->rxq_tail)
		s->rxq_tail->next = p;
	else
		s->rxq = p;
	s->rxq_tail = last;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sn_sock *s = arg;

	if (!p) {
		s->rd_eof = true;
	} else if (s->rd_shut) {
		/* SHUT_RD: data is acknowledged and thrown away, as Linux does. */
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
	} else {
		rxq_append(s, p);
	}
	sn_ev_notify(s);
	return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	sn_ev_notify(arg);
	return ERR_OK;
}

static int err_to_errno(const struct sn_sock *s, err_t err)
{
	if (err == ERR_RST)
		return s->state == SN_TCP_CONNECTING ? ECONNREFUSED : ECONNRESET;
	if (err == ERR_ABRT)
		return s->state == SN_TCP_CONNECTING ? ETIMEDOUT : ECONNABORTED;
	if (err == ERR_CLSD)
		return ECONNRESET;
	return sn_err_from_lwip(err);
}

/* The pcb is already freed when lwIP calls this. */
static void on_err(void *arg, err_t err)
{
	struct sn_sock *s = arg;

	s->pcb.tcp = NULL;
	s->err = err_to_errno(s, err);
	/* A secured connect that could get no SA says why. */
	if (s->state == SN_TCP_CONNECTING && s->sec_err)
		s->err = s->sec_err;
	/* lwIP aborts with ERR_ABRT when retransmissions run out too: a
	 * connected socket then reports ETIMEDOUT, as Linux does. */
	if (err == ERR_ABRT && s->state == SN_TCP_CONNECTED)
		s->err = ETIMEDOUT;
	s->state = SN_TCP_CLOSED;
	s->closed_err = s->err;
	sn_ev_notify(s);
}

/* Leave room for what IPsec adds to this connection's segments, so they
 * need no fragmentation after encapsulation. lwIP sets the MSS from the
 * MTU and the peer's option when the handshake completes; both callers
 * below run after that. */
static void mss_for_ipsec(struct tcp_pcb *pcb)
{
	int fam = IP_IS_V6(&pcb->local_ip) ? AF_INET6 : AF_INET;
	const void *l = fam == AF_INET ? (const void *)&ip_2_ip4(&pcb->local_ip)->addr
				       : (const void *)ip_2_ip6(&pcb->local_ip)->addr;
	const void *r = fam == AF_INET ? (const void *)&ip_2_ip4(&pcb->remote_ip)->addr
				       : (const void *)ip_2_ip6(&pcb->remote_ip)->addr;
	unsigned over = sn_ipsec_overhead(fam, l, r, IP_PROTO_TCP, pcb->local_port,
					  pcb->remote_port);

	if (over && pcb->mss > over + 536u)
		pcb->mss = (u16_t)(pcb->mss - over);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sn_sock *s = arg;

	mss_for_ipsec(pcb);
	s->state = SN_TCP_CONNECTED;
	sn_ev_notify(s);
	return ERR_OK;
}

static void set_callbacks(struct sn_sock *s, struct tcp_pcb *pcb)
{
	tcp_arg(pcb, s);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct sn_sock *l = arg, *s;

	if (err != ERR_OK || !newpcb)
		return ERR_VAL;
	if (l->aq_count == l->aq_cap ||
	    !(s = sn_sock_new(SN_FD_TCP, l->family))) {
		sn_api_stats_c.tcp_accept_overflow++;
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	s->pcb.tcp = newpcb;
	s->state = SN_TCP_CONNECTED;
	s->listener = l;
	s->sec = sn_sec_conf_ref(l->sec);
	mss_for_ipsec(newpcb);
	s->nodelay = true;
	tcp_nagle_disable(newpcb);
	set_callbacks(s, newpcb);
	/* Count it against the backlog until the application accepts it. */
	tcp_backlog_delayed(newpcb);
	l->acceptq[(l->aq_head + l->aq_count) % l->aq_cap] = s;
	l->aq_count++;
	sn_api_stats_c.tcp_accepted++;
	sn_ev_notify(l);
	return ERR_OK;
}

/* ---- Open, bind, listen, connect ---------------------------------------- */

int sn_tcp_open(struct sn_sock *s)
{
	u8_t type = s->family == AF_INET6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4;

	s->pcb.tcp = tcp_new_ip_type(type);
	if (!s->pcb.tcp)
		return -ENOBUFS;
	s->state = SN_TCP_NEW;
	/* Request/response traffic must not wait for Nagle (DESIGN.md). */
	s->nodelay = true;
	tcp_nagle_disable(s->pcb.tcp);
	set_callbacks(s, s->pcb.tcp);
	return 0;
}

int sn_tcp_bind(struct sn_sock *s, const ip_addr_t *ip, u16_t port)
{
	err_t e;

	if (s->state != SN_TCP_NEW || !s->pcb.tcp || s->pcb.tcp->local_port)
		return -EINVAL;
	e = tcp_bind(s->pcb.tcp, ip, port);
	return e == ERR_OK ? 0 : -sn_err_from_lwip(e);
}

int sn_tcp_listen(struct sn_sock *s, int backlog)
{
	struct tcp_pcb *lpcb;
	void *saved;
	err_t e;
	int rc;

	if (s->state == SN_TCP_LISTEN)
		return 0;
	if (s->state != SN_TCP_NEW || !s->pcb.tcp)
		return -EINVAL;
	if (backlog <= 0 || backlog > 255)
		backlog = 255;
	s->acceptq = calloc((size_t)backlog + 1, sizeof(*s->acceptq));
	if (!s->acceptq)
		return -ENOBUFS;
	s->aq_cap = backlog + 1;
	rc = sn_sec_listen_begin(s, &saved);
	if (rc) {
		free(s->acceptq);
		s->acceptq = NULL;
		return rc;
	}
	lpcb = tcp_listen_with_backlog_and_err(s->pcb.tcp, (u8_t)backlog, &e);
	if (!lpcb) {
		sn_sec_listen_end(s, saved);
		free(s->acceptq);
		s->acceptq = NULL;
		return -sn_err_from_lwip(e);
	}
	s->pcb.tcp = lpcb;
	sn_sec_listen_end(s, saved);
	s->state = SN_TCP_LISTEN;
	tcp_arg(lpcb, s);
	tcp_accept(lpcb, on_accept);
	return 0;
}

int sn_tcp_connect(struct sn_sock *s, const ip_addr_t *ip, u16_t port)
{
	err_t e;
	int rc;

	switch (s->state) {
	case SN_TCP_CONNECTED:
		return -EISCONN;
	case SN_TCP_CONNECTING:
		return -EALREADY;
	case SN_TCP_LISTEN:
		return -EISCONN;
	case SN_TCP_CLOSED:
		return -(s->err ? s->err : ECONNABORTED);
	default:
		break;
	}
	rc = sn_sec_tcp_connect(s, ip, port);
	if (rc)
		return rc;
	e = tcp_connect(s->pcb.tcp, ip, port, on_connected);
	if (e != ERR_OK)
		return -sn_err_from_lwip(e);
	s->state = SN_TCP_CONNECTING;
	return -EINPROGRESS;
}

/* ---- Accept ------------------------------------------------------------------ */

struct sn_sock *sn_tcp_accept_take(struct sn_sock *l)
{
	struct sn_sock *s;

	if (!l->aq_count)
		return NULL;
	s = l->acceptq[l->aq_head];
	l->aq_head = (l->aq_head + 1) % l->aq_cap;
	l->aq_count--;
	s->listener = NULL;
	if (s->pcb.tcp)
		tcp_backlog_accepted(s->pcb.tcp);
	return s;
}

/* ---- Send ---------------------------------------------------------------------- */

static size_t send_room(const struct tcp_pcb *pcb)
{
	if (tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 2)
		return 0;
	/* Not tcp_sndbuf(): it clamps to 16 bits when windows are scaled. */
	return pcb->snd_buf;
}

/* Queue up to len bytes; returns bytes queued (may be 0) or -errno. */
static ssize_t tcp_queue(struct sn_sock *s, const uint8_t *buf, size_t len,
			 int flags)
{
	struct tcp_pcb *pcb = s->pcb.tcp;
	size_t done = 0, room = send_room(pcb);
	u8_t wflags = TCP_WRITE_FLAG_COPY;
	err_t e;

	while (done < len && room > 0) {
		size_t n = len - done;

		if (n > room)
			n = room;
		if (n > SN_TCP_CHUNK)
			n = SN_TCP_CHUNK;
		if (done + n < len || (flags & MSG_MORE))
			wflags |= TCP_WRITE_FLAG_MORE;
		e = tcp_write(pcb, buf + done, (u16_t)n, wflags);
		if (e == ERR_MEM)
			break;
		if (e != ERR_OK)
			return done ? (ssize_t)done : -sn_err_from_lwip(e);
		done += n;
		room = send_room(pcb);
	}
	if (done && !(flags & MSG_MORE))
		tcp_output(pcb);
	return (ssize_t)done;
}

static int send_state(const struct sn_sock *s)
{
	if (s->state == SN_TCP_CLOSED)
		return s->err == ETIMEDOUT ? ETIMEDOUT : EPIPE;
	if (s->state != SN_TCP_CONNECTED)
		return s->state == SN_TCP_CONNECTING ? EAGAIN : ENOTCONN;
	if (s->wr_shut || !s->pcb.tcp)
		return EPIPE;
	return 0;
}

ssize_t sn_tcp_send(struct sn_sock *s, const void *buf, size_t len, int flags)
{
	bool nb = s->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = sn_deadline(s->sndtimeo_us);
	ssize_t n;
	int e;

	for (;;) {
		e = send_state(s);
		if (e == EPIPE || e == ENOTCONN || e == ETIMEDOUT)
			return sn_err(e);
		if (!e) {
			n = tcp_queue(s, buf, len, flags);
			if (n < 0)
				return sn_err((int)-n);
			if (n > 0 || len == 0)
				return n;
		}
		if (nb)
			return sn_err(EAGAIN);
		if (sn_block_wait(deadline))
			return -1;
	}
}

/* ---- Receive ------------------------------------------------------------------- */

static void give_window(struct sn_sock *s)
{
	while (s->recved_pending && s->pcb.tcp) {
		uint32_t n = s->recved_pending > SN_TCP_CHUNK ? SN_TCP_CHUNK :
			     s->recved_pending;

		tcp_recved(s->pcb.tcp, (u16_t)n);
		s->recved_pending -= n;
	}
	s->recved_pending = 0;
}

/* Copy up to len bytes from the queue; consume unless peek. */
static size_t rxq_copy(struct sn_sock *s, uint8_t *dst, size_t len, bool peek)
{
	struct pbuf *p = s->rxq;
	uint16_t off = s->rx_off;
	size_t done = 0;

	while (p && done < len) {
		size_t n = p->len - off;

		if (n > len - done)
			n = len - done;
		memcpy(dst + done, (uint8_t *)p->payload + off, n);
		done += n;
		off = (uint16_t)(off + n);
		if (off < p->len)
			break;
		p = p->next;
		off = 0;
		if (!peek) {
			struct pbuf *old = s->rxq;

			/* Detach the consumed pbuf: its successor's reference,
			 * held by the chain, becomes the queue's. */
			s->rxq = p;
			old->next = NULL;
			pbuf_free(old);
		}
	}
	if (!peek) {
		s->rx_off = off;
		if (!s->rxq)
			s->rxq_tail = NULL;
		s->rx_bytes -= (uint32_t)done;
		s->recved_pending += (uint32_t)done;
	}
	return done;
}

static int recv_state(const struct sn_sock *s)
{
	if (s->state == SN_TCP_LISTEN || s->state == SN_TCP_NEW)
		return ENOTCONN;
	if (s->state == SN_TCP_CONNECTING)
		return EAGAIN;
	return 0;
}

ssize_t sn_tcp_recv(struct sn_sock *s, void *buf, size_t len, int flags)
{
	bool nb = s->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = sn_deadline(s->rcvtimeo_us);
	size_t n;
	int e;

	for (;;) {
		e = recv_state(s);
		if (e == ENOTCONN)
			return sn_err(e);
		if (s->rx_bytes && len) {
			n = rxq_copy(s, buf, len, flags & MSG_PEEK);
			give_window(s);
			return (ssize_t)n;
		}
		if (!e && (s->rd_eof || s->rd_shut || len == 0))
			return 0;
		if (s->state == SN_TCP_CLOSED) {
			e = s->err;
			if (!e)
				return 0;
			s->err = 0;
			return sn_err(e);
		}
		if (nb)
			return sn_err(EAGAIN);
		if (sn_block_wait(deadline))
			return -1;
	}
}

/* ---- Shutdown, close ----------------------------------------------------------------- */

int sn_tcp_shutdown(struct sn_sock *s, int how)
{
	int rx = how == SHUT_RD || how == SHUT_RDWR;
	int tx = how == SHUT_WR || how == SHUT_RDWR;
	err_t e;

	if (s->state != SN_TCP_CONNECTED || !s->pcb.tcp)
		return -ENOTCONN;
	if (rx) {
		s->rd_shut = true;
		/* Drop what is queued and reopen the window for it. */
		while (s->rxq) {
			struct pbuf *p = s->rxq;

			s->rxq = p->next;
			p->next = NULL;
			s->recved_pending += p->len - s->rx_off;
			s->rx_off = 0;
			pbuf_free(p);
		}
		s->rxq_tail = NULL;
		s->rx_bytes = 0;
		give_window(s);
	}
	if (tx && !s->wr_shut) {
		/* lwIP's tcp_shutdown(rx) would close the pcb; only the TX half
		 * goes to lwIP, the RX half is ours. */
		e = tcp_shutdown(s->pcb.tcp, 0, 1);
		if (e != ERR_OK)
			return -sn_err_from_lwip(e);
		s->wr_shut = true;
	}
	sn_ev_notify(s);
	return 0;
}

static void free_rxq(struct sn_sock *s)
{
	if (s->rx_bytes)
		sn_api_stats_c.tcp_unread_at_close++;
	if (s->rxq)
		pbuf_free(s->rxq);  /* frees the whole remaining chain */
	s->rxq = s->rxq_tail = NULL;
	s->rx_bytes = 0;
	s->rx_off = 0;
}

static void close_listener(struct sn_sock *s)
{
	while (s->aq_count) {
		struct sn_sock *c = sn_tcp_accept_take(s);

		sn_tcp_close(c);
		sn_sock_free(c);
	}
	free(s->acceptq);
	s->acceptq = NULL;
	if (s->pcb.tcp) {
		tcp_arg(s->pcb.tcp, NULL);
		tcp_accept(s->pcb.tcp, NULL);
		tcp_close(s->pcb.tcp);
	}
}

/* Detach the socket from its pcb. Queued data is still sent, then FIN
 * (lwIP keeps the pcb until the close completes); unread data or
 * SO_LINGER 0 sends RST, as on Linux. */
void sn_tcp_close(struct sn_sock *s)
{
	struct tcp_pcb *pcb = s->pcb.tcp;

	if (s->state == SN_TCP_LISTEN) {
		close_listener(s);
		s->pcb.tcp = NULL;
		return;
	}
	free_rxq(s);
	s->pcb.tcp = NULL;
	if (!pcb)
		return;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (s->linger_zero || tcp_close(pcb) != ERR_OK) {
		if (!s->linger_zero)
			sn_api_stats_c.tcp_close_aborted++;
		tcp_abort(pcb);
	}
}

/* ---- Readiness -------------------------------------------------------------------- */

uint32_t sn_tcp_events(const struct sn_sock *s)
{
	uint32_t ev = 0;

	switch (s->state) {
	case SN_TCP_LISTEN:
		return s->aq_count ? SN_EPOLLIN : 0;
	case SN_TCP_NEW:
		return SN_EPOLLOUT | SN_EPOLLHUP;
	case SN_TCP_CONNECTING:
		return 0;
	case SN_TCP_CLOSED:
		ev = SN_EPOLLIN | SN_EPOLLOUT | SN_EPOLLHUP | SN_EPOLLRDHUP;
		return s->err ? ev | SN_EPOLLERR : ev;
	case SN_TCP_CONNECTED:
		break;
	}
	if (s->rx_bytes || s->rd_eof || s->rd_shut)
		ev |= SN_EPOLLIN;
	if (s->rd_eof)
		ev |= SN_EPOLLRDHUP;
	if (s->pcb.tcp && !s->wr_shut) {
		size_t room = send_room(s->pcb.tcp);

		if (room >= SN_SND_LOWAT || room == TCP_SND_BUF)
			ev |= SN_EPOLLOUT;
	} else if (s->wr_shut) {
		ev |= SN_EPOLLOUT;
	}
	if (s->rd_eof && s->wr_shut)
		ev |= SN_EPOLLHUP;
	return ev;
}

/* Fill in the local (peer = false) or remote address of a TCP socket. */
int sn_tcp_name(const struct sn_sock *s, bool peer, ip_addr_t *ip, u16_t *port)
{
	const struct tcp_pcb *pcb = s->pcb.tcp;

	if (!pcb)
		return peer ? -ENOTCONN : -EINVAL;
	if (peer) {
		if (s->state != SN_TCP_CONNECTED)
			return -ENOTCONN;
		ip_addr_copy(*ip, pcb->remote_ip);
		*port = pcb->remote_port;
	} else {
		ip_addr_copy(*ip, pcb->local_ip);
		*port = pcb->local_port;
	}
	return 0;
}

void sn_tcp_set_nodelay(struct sn_sock *s, bool on)
{
	s->nodelay = on;
	if (!s->pcb.tcp)
		return;
	if (on)
		tcp_nagle_disable(s->pcb.tcp);
	else
		tcp_nagle_enable(s->pcb.tcp);
}
