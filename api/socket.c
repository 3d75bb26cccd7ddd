/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The BSD socket calls: descriptor table, argument checks, address
 * conversion and dispatch to TCP (sock_tcp.c) or UDP (sock_udp.c).
 * Public functions return -1 with errno; internal ones a negative errno.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/time.h>

#include "sealnet/socket.h"  /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "sealnet/stack.h"
#include "sn_api.h"
#include "sn_tcp.h"
#include "sn_stack.h"
#include "sn_netif.h"

struct sn_fdent {
	enum sn_fd_kind kind;
	void *obj;
};

static struct sn_fdent fds[SN_MAX_FDS];
static int fd_hint;
static int api_up;
struct sn_api_stats sn_api_stats_c;

int sn_err(int e)
{
	errno = e;
	return -1;
}

int sn_err_from_lwip(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM: return ENOBUFS;
	case ERR_BUF: return ENOBUFS;
	case ERR_TIMEOUT: return ETIMEDOUT;
	case ERR_RTE: return EHOSTUNREACH;
	case ERR_INPROGRESS: return EINPROGRESS;
	case ERR_VAL: return EINVAL;
	case ERR_WOULDBLOCK: return EWOULDBLOCK;
	case ERR_USE: return EADDRINUSE;
	case ERR_ALREADY: return EALREADY;
	case ERR_ISCONN: return EISCONN;
	case ERR_CONN: return ENOTCONN;
	case ERR_IF: return EIO;
	case ERR_ABRT: return ECONNABORTED;
	case ERR_RST: return ECONNRESET;
	case ERR_CLSD: return ENOTCONN;
	case ERR_ARG: return EINVAL;
	default: return EIO;
	}
}

/* ---- Descriptor table ------------------------------------------------------ */

int sn_fd_alloc(void *obj, enum sn_fd_kind kind)
{
	for (int i = 0; i < SN_MAX_FDS; i++) {
		int fd = (fd_hint + i) % SN_MAX_FDS;

		if (fds[fd].kind == SN_FD_FREE) {
			fds[fd].kind = kind;
			fds[fd].obj = obj;
			fd_hint = fd + 1;
			return fd;
		}
	}
	return -EMFILE;
}

void sn_fd_free(int fd)
{
	if (fd < 0 || fd >= SN_MAX_FDS)
		return;
	fds[fd].kind = SN_FD_FREE;
	fds[fd].obj = NULL;
	/* Lowest free descriptor first, as POSIX hands them out. */
	if (fd < fd_hint)
		fd_hint = fd;
}

void *sn_fd_get(int fd, enum sn_fd_kind *kind)
{
	if (fd < 0 || fd >= SN_MAX_FDS || fds[fd].kind == SN_FD_FREE)
		return NULL;
	*kind = fds[fd].kind;
	return fds[fd].obj;
}

struct sn_sock *sn_sock_get(int fd)
{
	enum sn_fd_kind kind;
	void *obj = sn_fd_get(fd, &kind);

	if (!obj) {
		errno = EBADF;
		return NULL;
	}
	if (kind != SN_FD_TCP && kind != SN_FD_UDP) {
		errno = ENOTSOCK;
		return NULL;
	}
	return obj;
}

struct sn_sock *sn_sock_new(enum sn_fd_kind kind, int family)
{
	struct sn_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = kind;
	s->family = family;
	s->fd = -1;
	sn_api_stats_c.sockets_opened++;
	return s;
}

void sn_sock_free(struct sn_sock *s)
{
	sn_sec_sock_free(s);
	sn_api_stats_c.sockets_closed++;
	free(s);
}

/* ---- Blocking ------------------------------------------------------------------ */

uint64_t sn_deadline(uint64_t timeo_us)
{
	return timeo_us ? sn_now_us() + timeo_us : 0;
}

int sn_block_wait(uint64_t deadline_us)
{
	if (sn_stopping())
		return sn_err(EINTR);
	if (deadline_us && sn_now_us() >= deadline_us)
		return sn_err(EAGAIN);
	sn_poll();
	return 0;
}

/* ---- Addresses -------------------------------------------------------------------- */

int sn_sockaddr_to_ip(const struct sn_sock *s, const struct sockaddr *sa,
		      socklen_t len, ip_addr_t *ip, u16_t *port)
{
	if (!sa)
		return -EFAULT;
	if (len < sizeof(sa->sa_family))
		return -EINVAL;
	if (sa->sa_family != s->family)
		return -EAFNOSUPPORT;
	if (s->family == AF_INET) {
		struct sockaddr_in in;

		if (len < sizeof(in))
			return -EINVAL;
		memcpy(&in, sa, sizeof(in));
		ip_addr_set_ip4_u32_val(*ip, in.sin_addr.s_addr);
		*port = ntohs(in.sin_port);
	} else {
		struct sockaddr_in6 in6;

		if (len < sizeof(in6))
			return -EINVAL;
		memcpy(&in6, sa, sizeof(in6));
		IP_ADDR6(ip, 0, 0, 0, 0);
		memcpy(ip_2_ip6(ip)->addr, &in6.sin6_addr, 16);
		ip6_addr_clear_zone(ip_2_ip6(ip));
		/* Link-local peers are on our one interface. */
		if (ip6_addr_islinklocal(ip_2_ip6(ip)))
			ip6_addr_assign_zone(ip_2_ip6(ip), IP6_UNKNOWN, &sn_netif);
		*port = ntohs(in6.sin6_port);
	}
	return 0;
}

void sn_ip_to_sockaddr(int family, const ip_addr_t *ip, u16_t port,
		       struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t need;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = IP_IS_V4(ip) ? ip4_addr_get_u32(ip_2_ip4(ip)) : 0;
		need = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		if (IP_IS_V6(ip))
			memcpy(&in6->sin6_addr, ip_2_ip6(ip)->addr, 16);
		need = sizeof(*in6);
	}
	/* Truncate to the caller's buffer, report the full size (POSIX). */
	memcpy(sa, &ss, *len < need ? *len : need);
	*len = need;
}

/* Is ip one of the interface's addresses (or the wildcard)? */
static bool local_addr_ok(const ip_addr_t *ip)
{
	if (ip_addr_isany(ip))
		return true;
	if (IP_IS_V4(ip))
		return ip4_addr_cmp(ip_2_ip4(ip), netif_ip4_addr(&sn_netif));
	return netif_get_ip6_addr_match(&sn_netif, ip_2_ip6(ip)) >= 0;
}

/* ---- socket, bind, listen, accept, connect ----------------------------------------- */

int sn_socket(int domain, int type, int protocol)
{
	int nonblock = type & SOCK_NONBLOCK;
	enum sn_fd_kind kind;
	struct sn_sock *s;
	int fd, rc;

	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!api_up)
		return sn_err(ENETDOWN);
	if (domain != AF_INET && domain != AF_INET6)
		return sn_err(EAFNOSUPPORT);
	if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
		kind = SN_FD_TCP;
	else if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
		kind = SN_FD_UDP;
	else if (type == SOCK_STREAM || type == SOCK_DGRAM)
		return sn_err(EPROTONOSUPPORT);
	else
		return sn_err(EPROTOTYPE);
	s = sn_sock_new(kind, domain);
	if (!s)
		return sn_err(ENOBUFS);
	s->nonblock = nonblock != 0;
	rc = kind == SN_FD_TCP ? sn_tcp_open(s) : sn_udp_open(s);
	if (rc == 0) {
		fd = sn_fd_alloc(s, kind);
		if (fd >= 0) {
			s->fd = fd;
			/* --secure applies to every socket the program opens. */
			if (sn_sec_socket_default(s) == 0)
				return fd;
			rc = -errno;
			sn_fd_free(fd);
		} else {
			rc = fd;
		}
		if (kind == SN_FD_TCP)
			sn_tcp_close(s);
		else
			sn_udp_close(s);
	}
	sn_sock_free(s);
	return sn_err(-rc);
}

int sn_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sn_sock *s = sn_sock_get(fd);
	ip_addr_t ip;
	u16_t port;
	int rc;

	if (!s)
		return -1;
	rc = sn_sockaddr_to_ip(s, addr, len, &ip, &port);
	if (rc)
		return sn_err(-rc);
	if (!local_addr_ok(&ip))
		return sn_err(EADDRNOTAVAIL);
	rc = sn_sec_bind_check(s, port);
	if (rc)
		return sn_err(-rc);
	rc = s->kind == SN_FD_TCP ? sn_tcp_bind(s, &ip, port)
				  : sn_udp_bind(s, &ip, port);
	if (!rc)
		rc = sn_sec_bound(s);
	return rc ? sn_err(-rc) : 0;
}

int sn_listen(int fd, int backlog)
{
	struct sn_sock *s = sn_sock_get(fd);
	int rc;

	if (!s)
		return -1;
	if (s->kind != SN_FD_TCP)
		return sn_err(EOPNOTSUPP);
	rc = sn_tcp_listen(s, backlog);
	return rc ? sn_err(-rc) : 0;
}

int sn_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sn_sock *l = sn_sock_get(fd), *s;
	uint64_t deadline;
	ip_addr_t ip;
	u16_t port;
	int nfd;

	if (!l)
		return -1;
	if (l->kind != SN_FD_TCP)
		return sn_err(EOPNOTSUPP);
	if (l->state != SN_TCP_LISTEN)
		return sn_err(EINVAL);
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return sn_err(EINVAL);
	if (addr && !len)
		return sn_err(EFAULT);
	deadline = sn_deadline(l->rcvtimeo_us);
	while (!l->aq_count) {
		if (l->nonblock)
			return sn_err(EAGAIN);
		if (sn_block_wait(deadline))
			return -1;
	}
	s = l->acceptq[l->aq_head];
	nfd = sn_fd_alloc(s, SN_FD_TCP);
	if (nfd < 0)
		return sn_err(-nfd);
	sn_tcp_accept_take(l);
	s->fd = nfd;
	s->nonblock = (flags & SOCK_NONBLOCK) != 0;
	if (addr) {
		if (sn_tcp_name(s, true, &ip, &port) == 0)
			sn_ip_to_sockaddr(s->family, &ip, port, addr, len);
		else
			*len = 0;
	}
	return nfd;
}

int sn_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return sn_accept4(fd, addr, len, 0);
}

static int tcp_connect_wait(struct sn_sock *s)
{
	uint64_t deadline = sn_deadline(s->sndtimeo_us);
	int e;

	while (s->state == SN_TCP_CONNECTING) {
		if (sn_block_wait(deadline)) {
			/* Timed out or stopped: the attempt goes on; a later
			 * connect() reports EALREADY, as on Linux. */
			return errno == EAGAIN ? sn_err(EINPROGRESS) : -1;
		}
	}
	if (s->state == SN_TCP_CONNECTED)
		return 0;
	e = s->err ? s->err : ECONNREFUSED;
	s->err = 0;
	return sn_err(e);
}

int sn_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sn_sock *s = sn_sock_get(fd);
	ip_addr_t ip;
	u16_t port;
	int rc;

	if (!s)
		return -1;
	if (s->kind == SN_FD_UDP && addr && addr->sa_family == AF_UNSPEC)
		return sn_udp_disconnect(s);
	rc = sn_sockaddr_to_ip(s, addr, len, &ip, &port);
	if (rc)
		return sn_err(-rc);
	if (ip_addr_isany(&ip) || port == 0)
		return sn_err(s->kind == SN_FD_TCP ? ECONNREFUSED : EINVAL);
	if (s->kind == SN_FD_UDP) {
		rc = sn_udp_connect(s, &ip, port);
		return rc ? sn_err(-rc) : 0;
	}
	rc = sn_tcp_connect(s, &ip, port);
	if (rc != -EINPROGRESS)
		return sn_err(-rc);
	if (s->nonblock)
		return sn_err(EINPROGRESS);
	return tcp_connect_wait(s);
}

/* ---- Data ----------------------------------------------------------------------------- */

ssize_t sn_send(int fd, const void *buf, size_t len, int flags)
{
	struct sn_sock *s = sn_sock_get(fd);

	if (!s)
		return -1;
	if (!buf && len)
		return sn_err(EFAULT);
	if (s->kind == SN_FD_TCP)
		return sn_tcp_send(s, buf, len, flags);
	return sn_udp_sendto(s, buf, len, flags, NULL, 0);
}

ssize_t sn_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *to, socklen_t tolen)
{
	struct sn_sock *s = sn_sock_get(fd);
	ip_addr_t ip;
	u16_t port;
	int rc;

	if (!s)
		return -1;
	if (!buf && len)
		return sn_err(EFAULT);
	if (s->kind == SN_FD_TCP || !to)
		return sn_send(fd, buf, len, flags);
	if (s->udp_connected)
		return sn_err(EISCONN);
	rc = sn_sockaddr_to_ip(s, to, tolen, &ip, &port);
	if (rc)
		return sn_err(-rc);
	return sn_udp_sendto(s, buf, len, flags, &ip, port);
}

ssize_t sn_recv(int fd, void *buf, size_t len, int flags)
{
	return sn_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t sn_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen)
{
	struct sn_sock *s = sn_sock_get(fd);
	ip_addr_t ip;
	u16_t port;
	ssize_t n;

	if (!s)
		return -1;
	if (!buf && len)
		return sn_err(EFAULT);
	if (from && !fromlen)
		return sn_err(EFAULT);
	if (s->kind == SN_FD_TCP) {
		n = sn_tcp_recv(s, buf, len, flags);
		if (n >= 0 && from && sn_tcp_name(s, true, &ip, &port) == 0)
			sn_ip_to_sockaddr(s->family, &ip, port, from, fromlen);
		return n;
	}
	n = sn_udp_recvfrom(s, buf, len, flags, &ip, &port);
	if (n >= 0 && from)
		sn_ip_to_sockaddr(s->family, &ip, port, from, fromlen);
	return n;
}

int sn_shutdown(int fd, int how)
{
	struct sn_sock *s = sn_sock_get(fd);
	int rc;

	if (!s)
		return -1;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return sn_err(EINVAL);
	if (s->kind != SN_FD_TCP)
		return sn_err(s->udp_connected ? EOPNOTSUPP : ENOTCONN);
	rc = sn_tcp_shutdown(s, how);
	return rc ? sn_err(-rc) : 0;
}

static void sock_close(struct sn_sock *s)
{
	sn_ev_forget(s);
	if (s->kind == SN_FD_TCP)
		sn_tcp_close(s);
	else
		sn_udp_close(s);
	sn_fd_free(s->fd);
	sn_sock_free(s);
}

int sn_close(int fd)
{
	enum sn_fd_kind kind;
	void *obj = sn_fd_get(fd, &kind);

	if (!obj)
		return sn_err(EBADF);
	if (kind == SN_FD_EPOLL) {
		sn_epoll_destroy(obj);
		sn_fd_free(fd);
		return 0;
	}
	sock_close(obj);
	return 0;
}

/* ---- Names ------------------------------------------------------------------------------ */

static int get_name(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sn_sock *s = sn_sock_get(fd);
	ip_addr_t ip;
	u16_t port;
	int rc;

	if (!s)
		return -1;
	if (!addr || !len)
		return sn_err(EFAULT);
	rc = s->kind == SN_FD_TCP ? sn_tcp_name(s, peer, &ip, &port)
				  : sn_udp_name(s, peer, &ip, &port);
	if (rc == -EINVAL && !peer) {
		/* A closed TCP socket has no pcb: report the wildcard. */
		ip_addr_set_zero(&ip);
		port = 0;
		rc = 0;
	}
	if (rc)
		return sn_err(-rc);
	sn_ip_to_sockaddr(s->family, &ip, port, addr, len);
	return 0;
}

int sn_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return get_name(fd, addr, len, false);
}

int sn_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return get_name(fd, addr, len, true);
}

int sn_fcntl(int fd, int cmd, ...)
{
	struct sn_sock *s = sn_sock_get(fd);
	va_list ap;
	int flags;

	if (!s)
		return -1;
	if (cmd == F_GETFL)
		return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
	if (cmd != F_SETFL)
		return sn_err(EINVAL);
	va_start(ap, cmd);
	flags = va_arg(ap, int);
	va_end(ap);
	s->nonblock = (flags & O_NONBLOCK) != 0;
	return 0;
}

/* ---- Lifecycle ----------------------------------------------------------------------------- */

void sn_api_init(void)
{
	memset(fds, 0, sizeof(fds));
	memset(&sn_api_stats_c, 0, sizeof(sn_api_stats_c));
	fd_hint = 0;
	api_up = 1;
	sn_sec_init();
	sn_sec_default_config(sn_config_current());
}

void sn_api_close_all(void)
{
	/* Sockets first (so epoll instances see them go), then the rest. */
	for (int fd = 0; fd < SN_MAX_FDS; fd++)
		if (fds[fd].kind == SN_FD_TCP || fds[fd].kind == SN_FD_UDP)
			sn_close(fd);
	for (int fd = 0; fd < SN_MAX_FDS; fd++)
		if (fds[fd].kind != SN_FD_FREE)
			sn_close(fd);
}

bool sn_api_busy(void)
{
	return tcp_active_pcbs != NULL || sn_netif_tx_pending() != 0;
}

void sn_api_fini(void)
{
	/* Connections still closing when the linger time ran out are reset. */
	while (tcp_active_pcbs)
		tcp_abort(tcp_active_pcbs);
	api_up = 0;
}

void sn_api_stats(void (*fn)(void *ctx, const char *name, uint64_t v), void *ctx)
{
	const struct sn_api_stats *c = &sn_api_stats_c;

	fn(ctx, "sock.opened", c->sockets_opened);
	fn(ctx, "sock.closed", c->sockets_closed);
	fn(ctx, "sock.tcp_accepted", c->tcp_accepted);
	fn(ctx, "sock.drop_tcp_accept_overflow", c->tcp_accept_overflow);
	fn(ctx, "sock.tcp_unread_at_close", c->tcp_unread_at_close);
	fn(ctx, "sock.tcp_close_aborted", c->tcp_close_aborted);
	fn(ctx, "sock.drop_udp_rcvq_full", c->udp_rcvq_full);
	fn(ctx, "sock.drop_udp_unsecured", c->udp_unsecured_drop);
	fn(ctx, "sock.udp_tx_nomem", c->udp_tx_nomem);
}
