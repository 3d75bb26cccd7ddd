/* SPDX-License-Identifier: BSD-3-Clause */
/* sn_setsockopt / sn_getsockopt. */
#include <errno.h>
#include <string.h>
#include <sys/time.h>

#include "sealnet/socket.h"  /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "lwip/tcp.h"
#include "sn_api.h"
#include "sn_tcp.h"

static int get_int(const void *val, socklen_t len, int *out)
{
	if (!val)
		return -EFAULT;
	if (len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len)
		return -EFAULT;
	if (*len < sizeof(int))
		return -EINVAL;
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

static int get_timeo(const void *val, socklen_t len, uint64_t *us)
{
	struct timeval tv;

	if (!val)
		return -EFAULT;
	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	*us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	return 0;
}

static int put_timeo(void *val, socklen_t *len, uint64_t us)
{
	struct timeval tv = { (time_t)(us / 1000000u), (suseconds_t)(us % 1000000u) };

	if (!val || !len)
		return -EFAULT;
	if (*len < sizeof(tv))
		return -EINVAL;
	memcpy(val, &tv, sizeof(tv));
	*len = sizeof(tv);
	return 0;
}

static struct ip_pcb *ip_pcb_of(struct sn_sock *s)
{
	if (s->kind == SN_FD_TCP)
		return (struct ip_pcb *)s->pcb.tcp;
	return (struct ip_pcb *)s->pcb.udp;
}

static void set_reuse(struct sn_sock *s, int on)
{
	if (s->kind == SN_FD_TCP && s->pcb.tcp) {
		if (on)
			ip_set_option(s->pcb.tcp, SOF_REUSEADDR);
		else
			ip_reset_option(s->pcb.tcp, SOF_REUSEADDR);
	} else if (s->kind == SN_FD_UDP && s->pcb.udp) {
		if (on)
			ip_set_option(s->pcb.udp, SOF_REUSEADDR);
		else
			ip_reset_option(s->pcb.udp, SOF_REUSEADDR);
	}
}

static int set_keepalive(struct sn_sock *s, int on)
{
	if (s->kind != SN_FD_TCP)
		return -ENOPROTOOPT;
	if (!s->pcb.tcp)
		return -EINVAL;
	if (on)
		ip_set_option(s->pcb.tcp, SOF_KEEPALIVE);
	else
		ip_reset_option(s->pcb.tcp, SOF_KEEPALIVE);
	return 0;
}

static int set_socket_level(struct sn_sock *s, int name, const void *val,
			    socklen_t len)
{
	struct linger lg;
	int v = 0, rc;

	switch (name) {
	case SO_RCVTIMEO:
		return get_timeo(val, len, &s->rcvtimeo_us);
	case SO_SNDTIMEO:
		return get_timeo(val, len, &s->sndtimeo_us);
	case SO_LINGER:
		if (!val)
			return -EFAULT;
		if (len < sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		s->linger_zero = lg.l_onoff && lg.l_linger == 0;
		return 0;
	}
	rc = get_int(val, len, &v);
	if (rc)
		return rc;
	switch (name) {
	case SO_REUSEADDR:
		set_reuse(s, v);
		return 0;
	case SO_KEEPALIVE:
		return set_keepalive(s, v);
	case SO_RCVBUF:
	case SO_SNDBUF:
		/* Buffers are sized at build time (stack/lwipopts.h); accept
		 * the call, as Linux clamps, and report the real size. */
		return 0;
	}
	return -ENOPROTOOPT;
}

static int set_tcp_level(struct sn_sock *s, int name, const void *val,
			 socklen_t len)
{
	int v, rc;

	if (s->kind != SN_FD_TCP)
		return -ENOPROTOOPT;
	rc = get_int(val, len, &v);
	if (rc)
		return rc;
	if (name == TCP_NODELAY) {
		sn_tcp_set_nodelay(s, v != 0);
		return 0;
	}
	if (!s->pcb.tcp)
		return -EINVAL;
	if (v <= 0 && (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL ||
		       name == TCP_KEEPCNT))
		return -EINVAL;
	switch (name) {
	case TCP_KEEPIDLE:
		s->pcb.tcp->keep_idle = (u32_t)v * 1000u;
		return 0;
	case TCP_KEEPINTVL:
		s->pcb.tcp->keep_intvl = (u32_t)v * 1000u;
		return 0;
	case TCP_KEEPCNT:
		s->pcb.tcp->keep_cnt = (u32_t)v;
		return 0;
	}
	return -ENOPROTOOPT;
}

int sn_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct sn_sock *s = sn_sock_get(fd);
	int rc;

	if (!s)
		return -1;
	if (level == SOL_SOCKET)
		rc = set_socket_level(s, name, val, len);
	else if (level == IPPROTO_TCP)
		rc = set_tcp_level(s, name, val, len);
	else
		rc = -ENOPROTOOPT;
	return rc ? sn_err(-rc) : 0;
}

static int sock_error(struct sn_sock *s)
{
	int e = s->err;

	/* Reading SO_ERROR clears it, except the final state of a closed
	 * connection, which later calls still report. */
	if (s->state != SN_TCP_CLOSED || s->kind != SN_FD_TCP)
		s->err = 0;
	return e;
}

static int get_socket_level(struct sn_sock *s, int name, void *val, socklen_t *len)
{
	struct ip_pcb *ip = ip_pcb_of(s);
	struct linger lg;

	switch (name) {
	case SO_ERROR:
		return put_int(val, len, sock_error(s));
	case SO_TYPE:
		return put_int(val, len, s->kind == SN_FD_TCP ? SOCK_STREAM : SOCK_DGRAM);
	case SO_REUSEADDR:
		return put_int(val, len, ip && (ip->so_options & SOF_REUSEADDR) ? 1 : 0);
	case SO_KEEPALIVE:
		return put_int(val, len, ip && (ip->so_options & SOF_KEEPALIVE) ? 1 : 0);
	case SO_RCVBUF:
		return put_int(val, len, s->kind == SN_FD_TCP ? (int)TCP_WND : 4096 * 2048);
	case SO_SNDBUF:
		return put_int(val, len, s->kind == SN_FD_TCP ? (int)TCP_SND_BUF : 65535);
	case SO_RCVTIMEO:
		return put_timeo(val, len, s->rcvtimeo_us);
	case SO_SNDTIMEO:
		return put_timeo(val, len, s->sndtimeo_us);
	case SO_LINGER:
		if (!val || !len)
			return -EFAULT;
		if (*len < sizeof(lg))
			return -EINVAL;
		lg.l_onoff = s->linger_zero;
		lg.l_linger = 0;
		memcpy(val, &lg, sizeof(lg));
		*len = sizeof(lg);
		return 0;
	}
	return -ENOPROTOOPT;
}

static int get_tcp_level(struct sn_sock *s, int name, void *val, socklen_t *len)
{
	struct tcp_pcb *pcb = s->pcb.tcp;

	if (s->kind != SN_FD_TCP)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		return put_int(val, len, s->nodelay);
	case TCP_MAXSEG:
		return put_int(val, len, pcb ? tcp_mss(pcb) : 536);
	case TCP_KEEPIDLE:
		return put_int(val, len, pcb ? (int)(pcb->keep_idle / 1000u) : 0);
	case TCP_KEEPINTVL:
		return put_int(val, len, pcb ? (int)(pcb->keep_intvl / 1000u) : 0);
	case TCP_KEEPCNT:
		return put_int(val, len, pcb ? (int)pcb->keep_cnt : 0);
	}
	return -ENOPROTOOPT;
}

int sn_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct sn_sock *s = sn_sock_get(fd);
	int rc;

	if (!s)
		return -1;
	if (level == SOL_SOCKET)
		rc = get_socket_level(s, name, val, len);
	else if (level == IPPROTO_TCP)
		rc = get_tcp_level(s, name, val, len);
	else
		rc = -ENOPROTOOPT;
	return rc ? sn_err(-rc) : 0;
}
