/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internal state of the socket layer (api/socket.c, api/sock_tcp.c,
 * api/sock_udp.c, api/epoll.c). Not installed.
 */
#ifndef SN_API_H
#define SN_API_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/tcp.h"
#include "lwip/udp.h"

enum sn_fd_kind { SN_FD_FREE = 0, SN_FD_TCP, SN_FD_UDP, SN_FD_EPOLL };

enum sn_tcp_state {
	SN_TCP_NEW,         /* socket() done, maybe bound */
	SN_TCP_LISTEN,
	SN_TCP_CONNECTING,
	SN_TCP_CONNECTED,
	SN_TCP_CLOSED,      /* reset, failed, or pcb gone */
};

struct sn_dgram {
	struct pbuf *p;
	ip_addr_t addr;
	u16_t port;
};

struct sn_epoll;

struct sn_sock {
	enum sn_fd_kind kind;
	int fd;                     /* -1 while in a listener's accept queue */
	int family;                 /* AF_INET or AF_INET6 */
	bool nonblock;
	int err;                    /* pending SO_ERROR (errno value) */
	union {
		struct tcp_pcb *tcp;
		struct udp_pcb *udp;
	} pcb;

	/* TCP */
	enum sn_tcp_state state;
	int closed_err;             /* why it became CLOSED (kept; err is reported once) */
	bool rd_eof;                /* FIN received */
	bool wr_shut;               /* shutdown(SHUT_WR) or close */
	bool rd_shut;               /* shutdown(SHUT_RD) */
	bool nodelay;
	struct pbuf *rxq, *rxq_tail; /* single pbufs linked by next */
	uint16_t rx_off;            /* consumed bytes of rxq's first pbuf */
	uint32_t rx_bytes;
	uint32_t recved_pending;    /* consumed, not yet given back to the window */
	struct sn_sock **acceptq;   /* listener: established, not yet accepted */
	int aq_head, aq_count, aq_cap;
	struct sn_sock *listener;   /* accepted socket still in acceptq */
	int linger_zero;

	/* UDP */
	struct sn_dgram *dq;
	unsigned dq_head, dq_count, dq_cap;
	ip_addr_t peer;
	u16_t peer_port;
	bool udp_connected;

	/* Socket security (api/security.c): the settings, a UDP socket's
	 * policy (a TCP socket's lives with its pcb), the error that failed
	 * a secured connect and why. */
	struct sn_sec_conf *sec;
	struct sn_sockpol *usp;
	int sec_err;
	/* sec came from --secure (api/security_cfg.c), not from the program:
	 * an explicit sn_set_socket_security replaces it. */
	bool sec_implicit;
	char *sec_why;              /* that error in words (malloc'd), or NULL */

	/* Timeouts for blocking calls, microseconds (0 = none). */
	uint64_t rcvtimeo_us, sndtimeo_us;

	/* epoll registration: one instance at a time. */
	struct sn_epoll *ep;
	uint32_t ep_events;
	uint64_t ep_data;
	bool ep_queued;
	struct sn_sock *ep_next;
};

struct sn_epoll {
	enum sn_fd_kind kind;       /* SN_FD_EPOLL */
	int fd;
	struct sn_sock *ready_head, *ready_tail;
	unsigned nregistered;
};

/* Socket layer counters, printed with --stats. */
struct sn_api_stats {
	uint64_t sockets_opened, sockets_closed;
	uint64_t tcp_accepted, tcp_accept_overflow;
	uint64_t tcp_unread_at_close;
	uint64_t udp_rcvq_full, udp_tx_nomem;
	uint64_t udp_unsecured_drop;    /* secured socket without its policy */
	uint64_t tcp_close_aborted;
};
extern struct sn_api_stats sn_api_stats_c;

/* Lifecycle, from api/stack_ctl.c. */
void sn_api_init(void);
void sn_api_close_all(void);
bool sn_api_busy(void);
void sn_api_fini(void);
void sn_api_stats(void (*fn)(void *ctx, const char *name, uint64_t v), void *ctx);

/* IPsec commands for snctl (api/ipsec_api.c). */
void sn_ipsec_api_register(void);

/* IKEv2 from --ike-conf (api/ike_api.c): after IPsec, before the stack
 * stops; its counters as "ike.NAME". */
struct sn_config;
int sn_ike_start(const struct sn_config *cfg);
void sn_ike_stop(void);
void sn_ike_poll(void);
/* For the socket security query: true with buf filled when the last
 * negotiation with peer failed; the IKE facts of a negotiated SA (by its
 * inbound SPI); the principal of the user its EAP round proved, or NULL. */
struct sn_ip;
struct sn_socket_security_query_info;
struct sn_principal;
bool sn_ike_why(const struct sn_ip *peer, char *buf, size_t len);
void sn_ike_query_fill(uint32_t spi_in, struct sn_socket_security_query_info *info);
struct sn_principal *sn_ike_user_principal(uint32_t spi_in);
void sn_ike_stats(void (*fn)(void *ctx, const char *name, uint64_t v), void *ctx);

/* Descriptor table (api/socket.c). */
void *sn_fd_get(int fd, enum sn_fd_kind *kind);
int sn_fd_alloc(void *obj, enum sn_fd_kind kind);
void sn_fd_free(int fd);
struct sn_sock *sn_sock_get(int fd);        /* sets errno: EBADF, ENOTSOCK */
struct sn_sock *sn_sock_new(enum sn_fd_kind kind, int family);
void sn_sock_free(struct sn_sock *s);
int sn_err(int e);                          /* errno = e; return -1 */
int sn_err_from_lwip(err_t e);              /* errno value for an err_t */

/* Wait helper for blocking calls: one poll iteration, then 0 to try again,
 * or -1 with errno (EINTR after sn_stop, EAGAIN when the deadline passed). */
int sn_block_wait(uint64_t deadline_us);
uint64_t sn_deadline(uint64_t timeo_us);

/* Address conversion (api/socket.c). */
int sn_sockaddr_to_ip(const struct sn_sock *s, const struct sockaddr *sa,
		      socklen_t len, ip_addr_t *ip, u16_t *port);
void sn_ip_to_sockaddr(int family, const ip_addr_t *ip, u16_t port,
		       struct sockaddr *sa, socklen_t *len);

/* TCP (api/sock_tcp.c). */
int sn_tcp_open(struct sn_sock *s);
void sn_tcp_close(struct sn_sock *s);
uint32_t sn_tcp_events(const struct sn_sock *s);

/* UDP (api/sock_udp.c). */
int sn_udp_open(struct sn_sock *s);
void sn_udp_close(struct sn_sock *s);
uint32_t sn_udp_events(const struct sn_sock *s);

/* Socket security hooks (api/security.c), 0 or a negative errno. */
void sn_sec_init(void);
/* Before any bind: the port is a secured server's (EADDRINUSE), or the
 * socket is secured and the port is in use. */
int sn_sec_bind_check(struct sn_sock *s, u16_t port);
/* After an explicit bind (and at listen): instantiate for any peer. */
int sn_sec_bound(struct sn_sock *s);
/* Around tcp_listen, which replaces the pcb: begin fails (no listen)
 * when a secured socket's policy cannot be made. */
int sn_sec_listen_begin(struct sn_sock *s, void **saved);
void sn_sec_listen_end(struct sn_sock *s, void *saved);
/* Before tcp_connect sends the SYN: bind, instantiate for this peer. */
int sn_sec_tcp_connect(struct sn_sock *s, const ip_addr_t *ip, u16_t port);
/* Before a UDP datagram to (ip, port) leaves or a UDP connect. */
int sn_sec_udp_ready(struct sn_sock *s, const ip_addr_t *ip, u16_t port, bool sending);
/* Socket freed: its UDP policy, its settings. */
void sn_sec_sock_free(struct sn_sock *s);

/* The program's --secure and --peer-name (api/security_cfg.c): cfg (NULL:
 * none) is what every new socket gets; sn_api_init sets it from the
 * running stack's configuration. */
struct sn_config;
void sn_sec_default_config(const struct sn_config *cfg);
/* A new socket (sn_socket): --secure's settings and the --peer-name names
 * of its family, marked implicit. 0, or -1 with errno (the socket is not
 * made: fail closed). */
int sn_sec_socket_default(struct sn_sock *s);
/* The --peer-name names of s's family on s->sec (after an explicit
 * sn_set_socket_security replaced the implicit settings): 0 or -errno. */
int sn_sec_default_names(struct sn_sock *s);

/* epoll (api/epoll.c): a socket's readiness may have changed. */
void sn_ev_notify(struct sn_sock *s);
void sn_ev_forget(struct sn_sock *s);
void sn_epoll_destroy(struct sn_epoll *ep);

#endif
