/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-perf server: accepts any number of clients on TCP and UDP port P,
 * IPv4 and IPv6, and serves each connection by the mode its hello names
 * (see proto.h). One thread, one epoll instance.
 */
#include "perf.h"
#include "pattern.h"

enum kind { K_LISTEN, K_UDP, K_CONN };

/* What an epoll event points at; first member of every tagged object. */
struct handle {
	enum kind kind;
	int fd;
};

enum sstate {
	S_HELLO,        /* reading the hello */
	S_SINK,         /* tcp-stream: verifying until the client's FIN */
	S_SOURCE,       /* tcp-stream --reverse: sending until the deadline */
	S_RR,           /* tcp-rr / tcp-crr: request in, response out */
	S_UDP_CTRL,     /* udp-stream: counting datagrams until the client's FIN */
	S_CLOSING,      /* sending the result, then close */
};

struct sconn {
	struct handle h;
	enum sstate state;
	uint32_t events;
	struct perf_hello hello;
	uint8_t in[PERF_HELLO_LEN];
	size_t inlen;
	uint8_t out[PERF_RESULT_LEN];           /* result or accept message */
	size_t outoff, outlen;
	uint64_t bytes, count, errors;          /* what the result reports */
	struct pat_gen gen;                     /* S_SOURCE */
	uint64_t deadline_ns;                   /* S_SOURCE */
	uint8_t *msg;                           /* S_RR: the request, echoed */
	size_t msglen, sent;
	bool responding;
	struct sconn *next, *prev;              /* S_UDP_CTRL sessions */
};

struct server {
	int ep;
	struct handle tcp[2], udp[2];
	struct sconn **conns;                   /* by descriptor, to free at exit */
	struct sconn *sessions;                 /* udp-stream sessions */
	struct sconn *last;                     /* session of the last datagram */
	uint64_t stray;                         /* datagrams of no session */
	uint8_t *scratch;
	unsigned reported;                      /* --secure: connections described */
};

static void session_unlink(struct server *s, struct sconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (s->sessions == c)
		s->sessions = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	if (s->last == c)
		s->last = NULL;
}

static void srv_close(struct server *s, struct sconn *c)
{
	session_unlink(s, c);
	sn_epoll_ctl(s->ep, SN_EPOLL_CTL_DEL, c->h.fd, NULL);
	sn_close(c->h.fd);
	s->conns[c->h.fd] = NULL;
	pat_gen_free(&c->gen);
	free(c->msg);
	free(c);
}

/* Queue a result (or accept) message; S_CLOSING closes once it is sent. */
static void srv_reply(struct sconn *c, uint32_t magic, bool closing)
{
	struct perf_result r = { magic, 0, c->bytes, c->count, c->errors };

	perf_result_encode(&r, c->out);
	c->outoff = 0;
	c->outlen = PERF_RESULT_LEN;
	if (closing)
		c->state = S_CLOSING;
}

static int srv_flush_out(struct sconn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = sn_send(c->h.fd, c->out + c->outoff,
				    c->outlen - c->outoff, 0);

		if (n < 0)
			return app_again(errno) ? 0 : -1;
		c->outoff += (size_t)n;
	}
	return 0;
}

static int start_source(struct sconn *c)
{
	if (pat_gen_init(&c->gen, c->hello.size, c->hello.seed) < 0)
		return -1;
	c->deadline_ns = app_now_ns() + (uint64_t)c->hello.seconds * 1000000000ull;
	c->state = S_SOURCE;
	return 0;
}

/* The hello is complete: set the connection up for its mode. */
static int on_hello(struct server *s, struct sconn *c)
{
	if (perf_hello_decode(c->in, &c->hello) < 0)
		return -1;
	switch (c->hello.mode) {
	case PERF_TCP_STREAM:
		if (c->hello.flags & PERF_F_REVERSE)
			return start_source(c);
		c->state = S_SINK;
		return 0;
	case PERF_UDP_STREAM:
		c->state = S_UDP_CTRL;
		c->next = s->sessions;
		if (s->sessions)
			s->sessions->prev = c;
		s->sessions = c;
		srv_reply(c, PERF_MAGIC_ACCEPT, false);
		return 0;
	default:
		c->msg = malloc(c->hello.size);
		c->state = S_RR;
		return c->msg ? 0 : -1;
	}
}

/* Take bytes of a request; more than one request at once is a protocol
 * error, since clients wait for each response. Returns bytes taken or -1. */
static ssize_t take_request(struct sconn *c, const uint8_t *p, size_t n)
{
	size_t take = c->hello.size - c->msglen;

	if (c->responding)
		return -1;
	if (take > n)
		take = n;
	memcpy(c->msg + c->msglen, p, take);
	c->msglen += take;
	if (c->msglen == c->hello.size) {
		c->responding = true;
		c->sent = 0;
	}
	return (ssize_t)take;
}

static ssize_t take_hello(struct server *s, struct sconn *c, const uint8_t *p,
			  size_t n)
{
	size_t take = PERF_HELLO_LEN - c->inlen;

	if (take > n)
		take = n;
	memcpy(c->in + c->inlen, p, take);
	c->inlen += take;
	if (c->inlen == PERF_HELLO_LEN && on_hello(s, c) < 0)
		return -1;
	return (ssize_t)take;
}

/* Feed received bytes through the state machine; -1 closes. */
static int consume(struct server *s, struct sconn *c, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t took;

		switch (c->state) {
		case S_HELLO:
			took = take_hello(s, c, p, n);
			break;
		case S_SINK:
			c->errors += pat_check(p, n, c->bytes, c->hello.seed);
			c->bytes += n;
			took = (ssize_t)n;
			break;
		case S_RR:
			took = take_request(c, p, n);
			break;
		default:
			/* Nothing else expects data from the client. */
			took = -1;
			break;
		}
		if (took < 0)
			return -1;
		p += took;
		n -= (size_t)took;
	}
	return 0;
}

/* The client's FIN: report where there is something to report. */
static int on_eof(struct server *s, struct sconn *c)
{
	switch (c->state) {
	case S_SINK:
		srv_reply(c, PERF_MAGIC_RESULT, true);
		return 0;
	case S_UDP_CTRL:
		session_unlink(s, c);
		srv_reply(c, PERF_MAGIC_RESULT, true);
		return 0;
	default:
		return -1;
	}
}

static bool srv_reading(const struct sconn *c)
{
	switch (c->state) {
	case S_HELLO:
	case S_SINK:
	case S_SOURCE:
	case S_UDP_CTRL:
		return true;
	case S_RR:
		return !c->responding;
	default:
		return false;
	}
}

static int srv_read(struct server *s, struct sconn *c)
{
	for (int i = 0; i < PERF_BATCH && srv_reading(c); i++) {
		ssize_t n = sn_recv(c->h.fd, s->scratch, PERF_SCRATCH, 0);

		if (n == 0)
			return on_eof(s, c);
		if (n < 0)
			return app_again(errno) ? 0 : -1;
		if (consume(s, c, s->scratch, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/* Send pattern until the stack is full; at the deadline, close: queued
 * data still goes out, then the FIN that ends the client's stream. */
static int source_send(struct sconn *c)
{
	for (int i = 0; i < PERF_BATCH; i++) {
		size_t len;
		const uint8_t *p = pat_gen_next(&c->gen, &len);
		ssize_t n;

		if (app_now_ns() >= c->deadline_ns)
			return 1;
		n = sn_send(c->h.fd, p, len, 0);
		if (n < 0)
			return app_again(errno) ? 0 : -1;
		pat_gen_sent(&c->gen, (size_t)n);
	}
	return 0;
}

/* Send the response; tcp-crr closes after it (the server closes first). */
static int respond(struct sconn *c)
{
	while (c->sent < c->msglen) {
		ssize_t n = sn_send(c->h.fd, c->msg + c->sent, c->msglen - c->sent, 0);

		if (n < 0)
			return app_again(errno) ? 0 : -1;
		c->sent += (size_t)n;
	}
	c->responding = false;
	c->msglen = 0;
	return c->hello.mode == PERF_TCP_CRR ? 1 : 0;
}

/* 0 to go on, 1 when done (close), -1 on error (close). */
static int srv_write(struct sconn *c)
{
	if (srv_flush_out(c) < 0)
		return -1;
	if (c->outoff < c->outlen)
		return 0;
	if (c->state == S_CLOSING)
		return 1;
	if (c->state == S_SOURCE)
		return source_send(c);
	if (c->state == S_RR && c->responding)
		return respond(c);
	return 0;
}

static int srv_update(struct server *s, struct sconn *c)
{
	uint32_t want = srv_reading(c) ? SN_EPOLLIN : 0;

	if (c->outoff < c->outlen || c->state == S_SOURCE ||
	    c->state == S_CLOSING || (c->state == S_RR && c->responding))
		want |= SN_EPOLLOUT;
	if (want == c->events)
		return 0;
	c->events = want;
	return app_epoll_mod(s->ep, SN_EPOLL_CTL_MOD, c->h.fd, want, c);
}

static void conn_event(struct server *s, struct sconn *c, uint32_t ev)
{
	bool err = ev & (SN_EPOLLERR | SN_EPOLLHUP);
	int rc = 0;

	if (ev & SN_EPOLLIN || err)
		rc = srv_read(s, c);
	/* Write after reading: a request or FIN just read wants an answer. */
	if (rc == 0)
		rc = srv_write(c);
	if (rc != 0 || srv_update(s, c) < 0)
		srv_close(s, c);
}

static void conn_open(struct server *s, int fd)
{
	struct sconn *c = calloc(1, sizeof(*c));

	if (!c || fd >= SN_MAX_FDS) {
		free(c);
		sn_close(fd);
		return;
	}
	c->h = (struct handle){ K_CONN, fd };
	c->state = S_HELLO;
	c->events = SN_EPOLLIN;
	if (app_epoll_mod(s->ep, SN_EPOLL_CTL_ADD, fd, c->events, c) < 0) {
		free(c);
		sn_close(fd);
		return;
	}
	s->conns[fd] = c;
}

static void tcp_accept(struct server *s, int lfd)
{
	for (int i = 0; i < PERF_BATCH; i++) {
		int fd = sn_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			if (!app_again(errno) && errno != ECONNABORTED)
				fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			return;
		}
		/* The first connection's protection, for people and scripts. */
		if (!s->reported++)
			app_report_security(PROG, fd, NULL, 0);
		conn_open(s, fd);
	}
}

static struct sconn *session_find(struct server *s, uint64_t seed)
{
	if (s->last && s->last->hello.seed == seed)
		return s->last;
	for (struct sconn *c = s->sessions; c; c = c->next)
		if (c->hello.seed == seed)
			return s->last = c;
	return NULL;
}

static void udp_datagram(struct server *s, const uint8_t *d, size_t n)
{
	struct sconn *c = n >= PERF_DGRAM_HDR ? session_find(s, perf_get64(d)) : NULL;

	if (!c) {
		s->stray++;
		return;
	}
	if (n != c->hello.size || !pat_dgram_ok(d, n, c->hello.seed)) {
		c->errors++;
		return;
	}
	c->count++;
	c->bytes += n;
}

static void udp_read(struct server *s, int fd)
{
	for (int i = 0; i < PERF_BATCH; i++) {
		ssize_t n = sn_recvfrom(fd, s->scratch, PERF_SCRATCH, 0, NULL, NULL);

		if (n < 0)
			return;
		udp_datagram(s, s->scratch, (size_t)n);
	}
}

static void dispatch(struct server *s, const struct sn_epoll_event *ev)
{
	struct handle *h = ev->data.ptr;

	if (h->kind == K_LISTEN)
		tcp_accept(s, h->fd);
	else if (h->kind == K_UDP)
		udp_read(s, h->fd);
	else
		conn_event(s, (struct sconn *)h, ev->events);
}

static void server_open(struct server *s, uint16_t port)
{
	static const int fam[2] = { AF_INET, AF_INET6 };

	s->ep = sn_epoll_create(1);
	if (s->ep < 0) {
		fprintf(stderr, PROG ": epoll_create: %s\n", strerror(errno));
		sn_cleanup();
		exit(1);
	}
	for (int i = 0; i < 2; i++) {
		s->tcp[i] = (struct handle){ K_LISTEN, -1 };
		s->udp[i] = (struct handle){ K_UDP, -1 };
		s->tcp[i].fd = app_serve_any(PROG, s->ep, fam[i], SOCK_STREAM, port, &s->tcp[i]);
		s->udp[i].fd = app_serve_any(PROG, s->ep, fam[i], SOCK_DGRAM, port, &s->udp[i]);
	}
}

static void server_close(struct server *s)
{
	for (int fd = 0; fd < SN_MAX_FDS; fd++)
		if (s->conns[fd])
			srv_close(s, s->conns[fd]);
	for (int i = 0; i < 2; i++) {
		sn_close(s->tcp[i].fd);
		sn_close(s->udp[i].fd);
	}
	sn_close(s->ep);
}

int perf_server(const struct perf_opts *o)
{
	struct sn_epoll_event evs[APP_MAX_EVENTS];
	struct server s = { .ep = -1 };
	int n;

	s.conns = calloc(SN_MAX_FDS, sizeof(*s.conns));
	s.scratch = malloc(PERF_SCRATCH);
	if (!s.conns || !s.scratch) {
		fprintf(stderr, PROG ": out of memory\n");
		free(s.conns);
		free(s.scratch);
		return 1;
	}
	server_open(&s, o->port);
	app_ready(PROG);
	while ((n = app_wait(PROG, s.ep, evs, APP_MAX_EVENTS, APP_WAIT_MS)) >= 0)
		for (int i = 0; i < n; i++)
			dispatch(&s, &evs[i]);
	server_close(&s);
	free(s.conns);
	free(s.scratch);
	return 0;
}
