/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-perf client: connections, the event loop and the TCP modes.
 *
 * A run has three phases, each bounded in time so the client never hangs:
 * connect (every connection within PERF_CONNECT_NS, else the server is
 * unreachable), run (--seconds from a common start), drain (results and
 * FINs within PERF_DRAIN_NS). tcp-crr connects inside the run instead.
 */
#include <stdarg.h>
#include <sys/random.h>

#include "client.h"

void cl_fail(struct client *cl, const char *fmt, ...)
{
	va_list ap;

	if (cl->fatal[0])
		return;
	va_start(ap, fmt);
	vsnprintf(cl->fatal, sizeof(cl->fatal), fmt, ap);
	va_end(ap);
}

int cl_set_events(struct client *cl, struct cconn *c, uint32_t want)
{
	if (c->events == want)
		return 0;
	c->events = want;
	return app_epoll_mod(cl->ep, SN_EPOLL_CTL_MOD, c->fd, want, c);
}

void cl_close(struct client *cl, struct cconn *c)
{
	if (c->fd < 0)
		return;
	sn_epoll_ctl(cl->ep, SN_EPOLL_CTL_DEL, c->fd, NULL);
	sn_close(c->fd);
	c->fd = -1;
	c->state = C_IDLE;
}

static void conn_reset(struct cconn *c)
{
	c->outoff = c->outlen = c->inlen = 0;
	c->got_result = c->resp_done = false;
	c->rx = 0;
	c->reqsent = 0;
}

/* A connect that failed: before any handshake ever completed the server is
 * unreachable (fatal); later, tcp-crr counts it and tries again. */
static void connect_failed(struct client *cl, struct cconn *c, int e)
{
	cl_close(cl, c);
	cl->errors++;
	c->state = C_DONE;
	if (!cl->connected) {
		cl_fail(cl, "cannot connect to %s: %s", cl->o->peer_str, strerror(e));
		return;
	}
	if (cl->o->mode == PERF_TCP_CRR && !cl->stopped)
		cl_connect(cl, c);
}

int cl_connect(struct client *cl, struct cconn *c)
{
	const struct perf_opts *o = cl->o;
	int fd = sn_socket(o->peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		cl_fail(cl, "socket: %s", strerror(errno));
		return -1;
	}
	conn_reset(c);
	c->fd = fd;
	c->state = C_CONNECTING;
	/* --secure: before connect, as sn_set_socket_security requires. */
	if (sn_secure_socket(sn_config_current(), fd, (const struct sockaddr *)&o->peer,
			     o->peerlen) < 0) {
		cl_fail(cl, "secure socket: %s", strerror(errno));
		sn_close(fd);
		c->fd = -1;
		return -1;
	}
	c->t_connect = app_now_ns();
	c->events = SN_EPOLLOUT;
	if (app_epoll_mod(cl->ep, SN_EPOLL_CTL_ADD, fd, c->events, c) < 0) {
		cl_fail(cl, "epoll_ctl: %s", strerror(errno));
		sn_close(fd);
		c->fd = -1;
		return -1;
	}
	if (sn_connect(fd, (const struct sockaddr *)&o->peer, o->peerlen) < 0 &&
	    errno != EINPROGRESS) {
		connect_failed(cl, c, errno);
		return -1;
	}
	return 0;
}

void cl_queue_hello(struct client *cl, struct cconn *c)
{
	const struct perf_opts *o = cl->o;
	struct perf_hello h = {
		.mode = o->mode,
		.flags = o->reverse ? PERF_F_REVERSE : 0,
		.size = o->size,
		.seconds = o->seconds,
		.seed = c->seed,
	};

	perf_hello_encode(&h, c->out);
	c->outoff = 0;
	c->outlen = PERF_HELLO_LEN;
}

static void next_request(struct client *cl, struct cconn *c)
{
	memset(c->req, (uint8_t)c->txn, cl->o->size);
	c->reqsent = 0;
	c->rx = 0;
	c->t_start = app_now_ns();
}

/* Begin the run on a connected socket: hello, then the mode's traffic. */
static int conn_start(struct client *cl, struct cconn *c)
{
	const struct perf_opts *o = cl->o;
	uint32_t want = SN_EPOLLOUT;

	cl_queue_hello(cl, c);
	c->state = C_RUN;
	if (o->mode == PERF_TCP_STREAM && o->reverse)
		want |= SN_EPOLLIN;
	else if (o->mode == PERF_TCP_STREAM && !c->gen.words &&
		 pat_gen_init(&c->gen, o->size, c->seed) < 0)
		return -1;
	if ((o->mode == PERF_TCP_RR || o->mode == PERF_TCP_CRR)) {
		if (!c->req && !(c->req = malloc(o->size)))
			return -1;
		next_request(cl, c);
	}
	return cl_set_events(cl, c, want);
}

static void conn_connected(struct client *cl, struct cconn *c)
{
	int e = app_so_error(c->fd);

	if (e) {
		connect_failed(cl, c, e);
		return;
	}
	if (!cl->connected++)
		app_report_security(PROG, c->fd, NULL, 0);
	if (cl->o->mode == PERF_TCP_CRR) {
		if (conn_start(cl, c) < 0)
			cl_fail(cl, "out of memory");
		return;
	}
	/* Wait for the common start without spinning on EPOLLOUT. */
	c->state = C_READY;
	if (cl_set_events(cl, c, 0) < 0)
		cl_fail(cl, "epoll_ctl: %s", strerror(errno));
}

static int flush_out(struct cconn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = sn_send(c->fd, c->out + c->outoff, c->outlen - c->outoff, 0);

		if (n < 0)
			return app_again(errno) ? 0 : -1;
		c->outoff += (size_t)n;
	}
	return 0;
}

static int stream_send(struct client *cl, struct cconn *c)
{
	for (int i = 0; i < PERF_BATCH; i++) {
		size_t len;
		const uint8_t *p = pat_gen_next(&c->gen, &len);
		ssize_t n = sn_send(c->fd, p, len, 0);

		if (n < 0)
			return app_again(errno) ? 0 : -1;
		pat_gen_sent(&c->gen, (size_t)n);
		cl->sent += (uint64_t)n;
	}
	return 0;
}

static int request_send(struct client *cl, struct cconn *c)
{
	size_t size = cl->o->size;

	while (c->reqsent < size) {
		ssize_t n = sn_send(c->fd, c->req + c->reqsent, size - c->reqsent, 0);

		if (n < 0)
			return app_again(errno) ? 0 : -1;
		c->reqsent += (size_t)n;
		cl->sent += (uint64_t)n;
	}
	return cl_set_events(cl, c, SN_EPOLLIN);
}

static int conn_write(struct client *cl, struct cconn *c)
{
	uint8_t mode = cl->o->mode;

	if (flush_out(c) < 0)
		return -1;
	if (c->outoff < c->outlen || c->state != C_RUN)
		return 0;
	if (mode == PERF_TCP_STREAM && !cl->o->reverse)
		return stream_send(cl, c);
	if ((mode == PERF_TCP_RR || mode == PERF_TCP_CRR) && !c->resp_done)
		return request_send(cl, c);
	if (mode == PERF_TCP_STREAM || mode == PERF_UDP_STREAM)
		return cl_set_events(cl, c, SN_EPOLLIN);
	return 0;
}

/* Bytes of a result (or accept) message; anything beyond it is an error. */
int cl_take_result(struct client *cl, struct cconn *c, const uint8_t *p, size_t n)
{
	if (c->got_result || n > PERF_RESULT_LEN - c->inlen) {
		cl->why = "unexpected data from the server";
		return -1;
	}
	memcpy(c->in + c->inlen, p, n);
	c->inlen += n;
	if (c->inlen < PERF_RESULT_LEN)
		return 0;
	if (perf_result_decode(c->in, &c->result) < 0) {
		cl->why = "bad result message";
		return -1;
	}
	c->got_result = true;
	return 0;
}

/* One response complete: record it, then the next request or the end. */
static int txn_done(struct client *cl, struct cconn *c)
{
	uint64_t now = app_now_ns();

	hist_add(cl->hist, now - c->t_start);
	c->txn++;
	cl->t_end = now;
	if (cl->o->mode == PERF_TCP_CRR) {
		/* Wait for the server's FIN: it closes first, so TIME_WAIT
		 * stays on its side and our ports are free again at once. */
		c->resp_done = true;
		c->state = C_DRAIN;
		return 0;
	}
	cl->count++;
	if (cl->stopped) {
		cl_close(cl, c);
		c->state = C_DONE;
		return 0;
	}
	next_request(cl, c);
	return cl_set_events(cl, c, SN_EPOLLOUT);
}

static int take_response(struct client *cl, struct cconn *c, const uint8_t *p,
			 size_t n)
{
	uint8_t want = (uint8_t)c->txn, acc = 0;

	if (c->resp_done || c->reqsent < cl->o->size || n > cl->o->size - c->rx) {
		cl->why = "response longer than the request";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		acc |= p[i] ^ want;
	cl->errors += acc != 0;
	c->rx += n;
	return c->rx == cl->o->size ? txn_done(cl, c) : 0;
}

static int consume(struct client *cl, struct cconn *c, const uint8_t *p, size_t n)
{
	switch (cl->o->mode) {
	case PERF_TCP_STREAM:
		if (!cl->o->reverse)
			return cl_take_result(cl, c, p, n);
		cl->errors += pat_check(p, n, c->rx, c->seed);
		c->rx += n;
		return 0;
	case PERF_UDP_STREAM:
		return cl_take_result(cl, c, p, n);
	default:
		return take_response(cl, c, p, n);
	}
}

/* The server's FIN: the normal end of a reverse stream, of a result, and
 * of a tcp-crr connection; anywhere else an error. */
static int on_eof(struct client *cl, struct cconn *c)
{
	uint8_t mode = cl->o->mode;
	bool ok = (mode == PERF_TCP_STREAM && cl->o->reverse) ||
		  (mode == PERF_TCP_CRR && c->resp_done) || c->got_result;

	if (!ok) {
		cl->why = "closed by the server before the end";
		return -1;
	}
	if (mode != PERF_UDP_STREAM)    /* udp-stream's run ends with its sends */
		cl->t_end = app_now_ns();
	cl_close(cl, c);
	c->state = C_DONE;
	if (mode == PERF_TCP_CRR) {
		cl->count++;
		if (!cl->stopped)
			cl_connect(cl, c);
	}
	return 0;
}

static int conn_read(struct client *cl, struct cconn *c)
{
	for (int i = 0; i < PERF_BATCH && c->fd >= 0; i++) {
		ssize_t n = sn_recv(c->fd, cl->scratch, PERF_SCRATCH, 0);

		if (n == 0)
			return on_eof(cl, c);
		if (n < 0)
			return app_again(errno) ? 0 : -1;
		if (consume(cl, c, cl->scratch, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/* A reset, a protocol error or a stack error on one connection: counted,
 * and the first few told, since an error count alone explains nothing. */
static void conn_error(struct client *cl, struct cconn *c)
{
	int e = errno ? errno : (c->fd >= 0 ? app_so_error(c->fd) : 0);

	if (cl->errors < PERF_ERRORS_TOLD)
		fprintf(stderr, PROG ": connection to %s: %s\n", cl->o->peer_str,
			cl->why ? cl->why : strerror(e ? e : EIO));
	cl->why = NULL;
	cl->errors++;
	cl_close(cl, c);
	c->state = C_DONE;
	if (cl->o->mode == PERF_TCP_CRR && !cl->stopped)
		cl_connect(cl, c);
}

static void conn_event(struct client *cl, struct cconn *c, uint32_t ev)
{
	bool err = ev & (SN_EPOLLERR | SN_EPOLLHUP);
	int rc = 0;

	errno = 0;
	if (c->state == C_CONNECTING) {
		if (ev & SN_EPOLLOUT || err)
			conn_connected(cl, c);
		return;
	}
	if (c->state != C_RUN && c->state != C_DRAIN) {
		if (err)
			conn_error(cl, c);
		return;
	}
	if (ev & SN_EPOLLOUT || err)
		rc = conn_write(cl, c);
	if (rc == 0 && c->fd >= 0 && (ev & SN_EPOLLIN || err))
		rc = conn_read(cl, c);
	if (rc < 0)
		conn_error(cl, c);
}

/* At the end of --seconds: forward streams send their FIN and wait for the
 * result; tcp-rr ends after the response in flight; tcp-crr opens no more. */
static void stop_all(struct client *cl)
{
	for (uint32_t i = 0; i < cl->n; i++) {
		struct cconn *c = &cl->c[i];

		if (cl->o->mode == PERF_TCP_CRR && c->state == C_CONNECTING) {
			cl_close(cl, c);
			c->state = C_DONE;
		} else if (cl->o->mode == PERF_TCP_CRR && c->state == C_IDLE) {
			c->state = C_DONE;
		}
		if (cl->o->mode != PERF_TCP_STREAM || cl->o->reverse || c->state != C_RUN)
			continue;
		if (c->outoff < c->outlen || sn_shutdown(c->fd, SHUT_WR) < 0 ||
		    cl_set_events(cl, c, SN_EPOLLIN) < 0) {
			conn_error(cl, c);
			continue;
		}
		c->state = C_DRAIN;
	}
}

static void sweep(struct client *cl, uint64_t now)
{
	if (cl->t_stop && !cl->stopped && now >= cl->t_stop) {
		cl->stopped = true;
		stop_all(cl);
	}
	for (uint32_t i = 0; i < cl->n; i++) {
		struct cconn *c = &cl->c[i];

		if (c->state == C_CONNECTING && now - c->t_connect > PERF_CONNECT_NS)
			connect_failed(cl, c, ETIMEDOUT);
	}
}

static int wait_ms(const struct client *cl, uint64_t now, uint64_t deadline)
{
	uint64_t until = deadline;

	if (cl->t_stop && !cl->stopped && cl->t_stop < until)
		until = cl->t_stop;
	if (until <= now)
		return 0;
	until = (until - now + 999999) / 1000000;
	return until < APP_WAIT_MS ? (int)until : APP_WAIT_MS;
}

int cl_poll(struct client *cl, int timeout_ms)
{
	struct sn_epoll_event evs[APP_MAX_EVENTS];
	int n = sn_epoll_wait(cl->ep, evs, APP_MAX_EVENTS, timeout_ms);

	if (n < 0 && errno != EINTR) {
		cl_fail(cl, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++)
		conn_event(cl, evs[i].data.ptr, evs[i].events);
	return 0;
}

bool cl_loop(struct client *cl, uint64_t deadline, bool (*done)(struct client *))
{
	while (!done(cl)) {
		uint64_t now = app_now_ns();

		if (cl->fatal[0] || sn_stopping() || now >= deadline)
			return false;
		sweep(cl, now);
		if (cl_poll(cl, wait_ms(cl, now, deadline)) < 0)
			return false;
	}
	return true;
}

bool cl_all_connected(struct client *cl)
{
	for (uint32_t i = 0; i < cl->n; i++)
		if (cl->c[i].state == C_CONNECTING)
			return false;
	return true;
}

bool cl_all_done(struct client *cl)
{
	for (uint32_t i = 0; i < cl->n; i++)
		if (cl->c[i].state != C_DONE)
			return false;
	return true;
}

/* Connect every connection; true when at least one is up. */
static bool connect_all(struct client *cl)
{
	for (uint32_t i = 0; i < cl->n && !cl->fatal[0]; i++)
		cl_connect(cl, &cl->c[i]);
	cl_loop(cl, app_now_ns() + PERF_CONNECT_NS + 1000000000ull, cl_all_connected);
	return !cl->fatal[0] && cl->connected;
}

static void run_tcp(struct client *cl)
{
	const struct perf_opts *o = cl->o;

	if (o->mode != PERF_TCP_CRR && !connect_all(cl))
		return;
	cl->t0 = app_now_ns();
	cl->t_stop = cl->t0 + (uint64_t)o->seconds * 1000000000ull;
	cl->t_hard = cl->t_stop + PERF_DRAIN_NS;
	for (uint32_t i = 0; i < cl->n; i++) {
		struct cconn *c = &cl->c[i];
		int rc = 0;

		if (o->mode == PERF_TCP_CRR)
			rc = cl_connect(cl, c);
		else if (c->state == C_READY && conn_start(cl, c) < 0)
			cl_fail(cl, "out of memory");
		if (rc < 0 || cl->fatal[0])
			return;
	}
	cl_loop(cl, cl->t_hard, cl_all_done);
}

/* Add up what the connections saw; unfinished connections are errors. */
static void summarize_tcp(struct client *cl, struct perf_summary *s)
{
	const struct perf_opts *o = cl->o;

	for (uint32_t i = 0; i < cl->n; i++) {
		struct cconn *c = &cl->c[i];

		if (c->state != C_DONE && c->state != C_IDLE)
			cl->errors++;
		if (o->mode != PERF_TCP_STREAM)
			continue;
		if (o->reverse) {
			s->bytes += c->rx;
		} else if (c->got_result) {
			s->bytes += c->result.bytes;
			cl->errors += c->result.errors;
			/* Everything the stack took must have reached the server. */
			cl->errors += c->result.bytes != c->gen.off;
		}
	}
	s->sent = cl->sent;
	s->count = cl->count;
}

static uint64_t random_seed(uint32_t i)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	/* splitmix64 of the clock: any distinct value per connection will do. */
	seed = app_now_ns() + (i + 1) * 0x9e3779b97f4a7c15ull;
	seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ull;
	seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebull;
	return seed ^ (seed >> 31);
}

static int client_init(struct client *cl, const struct perf_opts *o)
{
	memset(cl, 0, sizeof(*cl));
	cl->o = o;
	cl->n = o->mode == PERF_UDP_STREAM ? 1 : o->conns;
	cl->c = calloc(cl->n, sizeof(*cl->c));
	cl->scratch = malloc(PERF_SCRATCH);
	cl->hist = calloc(1, sizeof(*cl->hist));
	cl->ep = sn_epoll_create(1);
	if (!cl->c || !cl->scratch || !cl->hist || cl->ep < 0)
		return -1;
	for (uint32_t i = 0; i < cl->n; i++) {
		cl->c[i].fd = -1;
		cl->c[i].seed = random_seed(i);
	}
	return 0;
}

static void client_free(struct client *cl)
{
	for (uint32_t i = 0; cl->c && i < cl->n; i++) {
		cl_close(cl, &cl->c[i]);
		pat_gen_free(&cl->c[i].gen);
		free(cl->c[i].req);
	}
	if (cl->ep >= 0)
		sn_close(cl->ep);
	free(cl->c);
	free(cl->scratch);
	free(cl->hist);
}

int perf_client(const struct perf_opts *o)
{
	struct perf_summary s = { 0 };
	struct client cl;
	int rc = 0;

	if (client_init(&cl, o) < 0) {
		fprintf(stderr, PROG ": cannot set up the client: %s\n", strerror(errno));
		client_free(&cl);
		return 1;
	}
	if (o->mode == PERF_UDP_STREAM) {
		rc = perf_client_udp(&cl);
		s.sent = cl.sent;
		s.count = cl.count;
		s.bytes = cl.count * o->size;
	} else {
		run_tcp(&cl);
		summarize_tcp(&cl, &s);
	}
	if (!cl.fatal[0] && sn_stopping())
		cl_fail(&cl, "interrupted");
	if (!cl.t_end || !cl.t0)
		cl.t_end = cl.t0 = 0;
	s.seconds = (double)(cl.t_end - cl.t0) / 1e9;
	s.errors = cl.errors + (rc != 0);
	s.fatal = cl.fatal[0] ? cl.fatal : NULL;
	perf_report(o, &s, cl.hist);
	client_free(&cl);
	return s.errors || s.fatal ? 1 : 0;
}
