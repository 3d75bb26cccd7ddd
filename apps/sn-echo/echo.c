/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-echo: TCP and UDP echo on one port, IPv4 and IPv6, on the sealnet
 * stack. Every byte a TCP peer sends comes back; every datagram goes back to
 * its sender. One thread, one epoll instance, non-blocking sockets.
 */
#include "../common/app.h"

#define PROG        "sn-echo"
#define SCRATCH     65536u              /* largest UDP datagram fits */
#define HIGH_WATER  (256u * 1024u)      /* stop reading above this backlog */
#define KEEP_CAP    (64u * 1024u)       /* drained buffers above this are freed */
#define BATCH       64                  /* reads per event, for fairness */

enum kind { K_LISTEN, K_UDP, K_CONN };

/* What an epoll event points at; first member of every tagged object. */
struct handle {
	enum kind kind;
	int fd;
};

/* One TCP connection and the bytes it still owes its peer. */
struct conn {
	struct handle h;
	uint8_t *buf;
	size_t off, len, cap;
	bool eof;                  /* the peer has shut down its side */
	uint32_t events;           /* what is registered with epoll now */
};

struct echo {
	int ep;
	uint16_t port;
	struct handle tcp[2], udp[2];
	struct conn **conns;       /* by descriptor, to free them all at exit */
	uint8_t *scratch;
	unsigned udp_reported;     /* --secure: the first datagram's peer is reported */
};

static int on_opt(void *ctx, const struct sn_opt *opt, const char *value,
		  char *err, size_t errlen)
{
	struct echo *e = ctx;

	if (!opt) {
		snprintf(err, errlen, "unexpected argument '%s'", value);
		return -1;
	}
	return app_parse_port(value, &e->port, err, errlen);
}

static void conn_close(struct echo *e, struct conn *c)
{
	sn_epoll_ctl(e->ep, SN_EPOLL_CTL_DEL, c->h.fd, NULL);
	sn_close(c->h.fd);
	e->conns[c->h.fd] = NULL;
	free(c->buf);
	free(c);
}

static void conn_open(struct echo *e, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c || fd >= SN_MAX_FDS) {
		free(c);
		sn_close(fd);
		return;
	}
	c->h = (struct handle){ K_CONN, fd };
	c->events = SN_EPOLLIN;
	if (app_epoll_mod(e->ep, SN_EPOLL_CTL_ADD, fd, c->events, c) < 0) {
		fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
		free(c);
		sn_close(fd);
		return;
	}
	e->conns[fd] = c;
}

/* Append to the backlog, compacting before growing. 0, or -1 out of memory. */
static int backlog_add(struct conn *c, const uint8_t *data, size_t n)
{
	if (c->off + c->len + n > c->cap && c->off) {
		memmove(c->buf, c->buf + c->off, c->len);
		c->off = 0;
	}
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 16384;
		uint8_t *nb;

		while (cap < c->len + n)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (!nb)
			return -1;
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->off + c->len, data, n);
	c->len += n;
	return 0;
}

static void backlog_take(struct conn *c, size_t n)
{
	c->off += n;
	c->len -= n;
	if (c->len)
		return;
	c->off = 0;
	if (c->cap > KEEP_CAP) {
		/* A burst is over: give back its memory. */
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
}

/* Send as much of the backlog as the stack takes. 0, or -1 on a dead peer. */
static int conn_flush(struct conn *c)
{
	while (c->len) {
		ssize_t n = sn_send(c->h.fd, c->buf + c->off, c->len, 0);

		if (n < 0)
			return app_again(errno) ? 0 : -1;
		backlog_take(c, (size_t)n);
	}
	return 0;
}

/* Echo what arrived: straight back when nothing is queued, else queued. */
static int conn_echo(struct conn *c, const uint8_t *data, size_t n)
{
	if (!c->len) {
		ssize_t sent = sn_send(c->h.fd, data, n, 0);

		if (sent < 0 && !app_again(errno))
			return -1;
		if (sent > 0) {
			data += sent;
			n -= (size_t)sent;
		}
	}
	return n ? backlog_add(c, data, n) : 0;
}

static int conn_read(struct echo *e, struct conn *c)
{
	for (int i = 0; i < BATCH && c->len < HIGH_WATER; i++) {
		ssize_t n = sn_recv(c->h.fd, e->scratch, SCRATCH, 0);

		if (n == 0) {
			c->eof = true;
			return 0;
		}
		if (n < 0)
			return app_again(errno) ? 0 : -1;
		if (conn_echo(c, e->scratch, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/* Register what the connection needs next, or close it when it is done:
 * read while the backlog is small, write while there is one. */
static void conn_update(struct echo *e, struct conn *c)
{
	uint32_t want = 0;

	if (!c->eof && c->len < HIGH_WATER)
		want |= SN_EPOLLIN;
	if (c->len)
		want |= SN_EPOLLOUT;
	if (!want) {
		conn_close(e, c);
		return;
	}
	if (want != c->events) {
		if (app_epoll_mod(e->ep, SN_EPOLL_CTL_MOD, c->h.fd, want, c) < 0) {
			conn_close(e, c);
			return;
		}
		c->events = want;
	}
}

static void conn_event(struct echo *e, struct conn *c, uint32_t ev)
{
	bool err = ev & (SN_EPOLLERR | SN_EPOLLHUP);

	if (((ev & SN_EPOLLOUT) || err) && conn_flush(c) < 0)
		goto dead;
	if (((ev & SN_EPOLLIN) || err) && !c->eof && conn_read(e, c) < 0)
		goto dead;
	conn_update(e, c);
	return;
dead:
	/* A reset or an error: nothing more can be delivered. */
	conn_close(e, c);
}

static void tcp_accept(struct echo *e, int lfd)
{
	for (int i = 0; i < BATCH; i++) {
		int fd = sn_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			if (!app_again(errno) && errno != ECONNABORTED)
				fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			return;
		}
		app_report_security(PROG, fd, NULL, 0);
		conn_open(e, fd);
	}
}

static void udp_echo(struct echo *e, int fd)
{
	for (int i = 0; i < BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = sn_recvfrom(fd, e->scratch, SCRATCH, 0,
					(struct sockaddr *)&from, &flen);

		if (n < 0)
			return;
		if (!e->udp_reported++)
			app_report_security(PROG, fd, (struct sockaddr *)&from, flen);
		/* A datagram the stack cannot take now is dropped, as UDP may. */
		sn_sendto(fd, e->scratch, (size_t)n, 0,
			  (struct sockaddr *)&from, flen);
	}
}

static void dispatch(struct echo *e, struct sn_epoll_event *ev)
{
	struct handle *h = ev->data.ptr;

	switch (h->kind) {
	case K_LISTEN:
		tcp_accept(e, h->fd);
		break;
	case K_UDP:
		udp_echo(e, h->fd);
		break;
	case K_CONN:
		conn_event(e, (struct conn *)h, ev->events);
		break;
	}
}

static void echo_open(struct echo *e)
{
	static const int fam[2] = { AF_INET, AF_INET6 };

	e->ep = sn_epoll_create(1);
	if (e->ep < 0) {
		fprintf(stderr, PROG ": epoll_create: %s\n", strerror(errno));
		sn_cleanup();
		exit(1);
	}
	for (int i = 0; i < 2; i++) {
		e->tcp[i] = (struct handle){ K_LISTEN, -1 };
		e->udp[i] = (struct handle){ K_UDP, -1 };
		e->tcp[i].fd = app_serve_any(PROG, e->ep, fam[i], SOCK_STREAM,
					     e->port, &e->tcp[i]);
		e->udp[i].fd = app_serve_any(PROG, e->ep, fam[i], SOCK_DGRAM,
					     e->port, &e->udp[i]);
	}
}

static void echo_close(struct echo *e)
{
	for (int fd = 0; fd < SN_MAX_FDS; fd++)
		if (e->conns[fd])
			conn_close(e, e->conns[fd]);
	for (int i = 0; i < 2; i++) {
		sn_close(e->tcp[i].fd);
		sn_close(e->udp[i].fd);
	}
	sn_close(e->ep);
}

int main(int argc, char **argv)
{
	static const struct sn_opt opts[] = {
		{ "port", SN_OPT_REQUIRED, 0, "TCP and UDP port to echo on (1-65535)" },
		{ NULL, 0, 0, NULL },
	};
	struct sn_epoll_event evs[APP_MAX_EVENTS];
	struct sn_config cfg;
	struct echo e = { .ep = -1 };
	int n;

	sn_config_init(&cfg, PROG);
	app_parse(&cfg, argc, argv, opts, on_opt, &e,
		  "--port P [common options]\n"
		  "TCP and UDP echo server on port P, IPv4 and IPv6.");
	if (!e.port)
		app_usage_fail(PROG, "port", "required");
	e.conns = calloc(SN_MAX_FDS, sizeof(*e.conns));
	e.scratch = malloc(SCRATCH);
	if (!e.conns || !e.scratch) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	app_start(&cfg);
	echo_open(&e);
	app_ready(PROG);
	while ((n = app_wait(PROG, e.ep, evs, APP_MAX_EVENTS, APP_WAIT_MS)) >= 0)
		for (int i = 0; i < n; i++)
			dispatch(&e, &evs[i]);
	echo_close(&e);
	sn_cleanup();
	free(e.conns);
	free(e.scratch);
	return 0;
}
