/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-perf client, udp-stream: a TCP control connection registers the
 * session (hello, "accept"), datagrams go out as fast as the stack takes
 * them for --seconds, and after a short drain the client's FIN on the
 * control connection asks the server for what it received.
 */
#include "client.h"

#define UDP_DRAIN_NS    (250ull * 1000000ull)  /* datagrams still in flight */
#define UDP_POLL_EVERY  32u                    /* sends between two polls */

static bool ctrl_answered(struct client *cl)
{
	return cl->c[0].got_result || cl->c[0].state == C_DONE;
}

static bool ctrl_done(struct client *cl)
{
	return cl->c[0].state == C_DONE;
}

static bool never(struct client *cl)
{
	return false;
}

/* Connect the control connection and wait for the server to accept. */
static int session_open(struct client *cl)
{
	struct cconn *c = &cl->c[0];

	if (cl_connect(cl, c) < 0)
		return -1;
	cl_loop(cl, app_now_ns() + PERF_CONNECT_NS + 1000000000ull, cl_all_connected);
	if (cl->fatal[0] || c->state != C_READY)
		return -1;
	cl_queue_hello(cl, c);
	c->state = C_RUN;
	if (cl_set_events(cl, c, SN_EPOLLIN | SN_EPOLLOUT) < 0)
		return -1;
	if (!cl_loop(cl, app_now_ns() + PERF_CONNECT_NS, ctrl_answered) ||
	    !c->got_result || c->result.magic != PERF_MAGIC_ACCEPT) {
		cl_fail(cl, "%s did not accept the udp-stream session", cl->o->peer_str);
		return -1;
	}
	c->got_result = false;
	c->inlen = 0;
	return 0;
}

/* Datagrams until the deadline; the stack's back-pressure (EAGAIN,
 * ENOBUFS) is met by polling it, which also flushes its TX queue. */
static void blast(struct client *cl, int fd, uint8_t *d)
{
	size_t size = cl->o->size;
	uint64_t seq = 0, now = app_now_ns();
	uint64_t stop = now + (uint64_t)cl->o->seconds * 1000000000ull;

	cl->t0 = now;
	for (uint64_t i = 0;; i++) {
		if (i % UDP_POLL_EVERY == 0) {
			now = app_now_ns();
			if (now >= stop || cl->fatal[0] || sn_stopping())
				break;
			cl_poll(cl, 0);
		}
		perf_put64(d + 8, seq);
		if (sn_send(fd, d, size, 0) >= 0) {
			seq++;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS &&
		    errno != EINTR && errno != ECONNREFUSED) {
			cl_fail(cl, "udp send: %s", strerror(errno));
			break;
		}
		cl_poll(cl, 0);
	}
	cl->t_end = now;
	cl->sent = seq;
}

static int udp_send_all(struct client *cl)
{
	const struct perf_opts *o = cl->o;
	int fd = sn_socket(o->peer.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	uint8_t *d = malloc(o->size);
	int rc = -1;

	if (fd < 0 || !d)
		cl_fail(cl, "udp socket: %s", strerror(fd < 0 ? errno : ENOMEM));
	else if (sn_secure_socket(sn_config_current(), fd, (const struct sockaddr *)&o->peer,
				  o->peerlen) < 0)
		cl_fail(cl, "secure socket: %s", strerror(errno));
	else if (sn_connect(fd, (const struct sockaddr *)&o->peer, o->peerlen) < 0)
		cl_fail(cl, "udp connect: %s", strerror(errno));
	else {
		pat_dgram_fill(d, o->size, cl->c[0].seed);
		blast(cl, fd, d);
		rc = cl->fatal[0] ? -1 : 0;
	}
	if (fd >= 0)
		sn_close(fd);
	free(d);
	return rc;
}

/* The FIN on the control connection asks for the server's counts. */
static int session_close(struct client *cl)
{
	struct cconn *c = &cl->c[0];

	cl_loop(cl, app_now_ns() + UDP_DRAIN_NS, never);
	if (cl->fatal[0])
		return -1;
	if (c->state != C_RUN) {
		cl_fail(cl, "control connection to %s lost", cl->o->peer_str);
		return -1;
	}
	if (sn_shutdown(c->fd, SHUT_WR) < 0 ||
	    cl_set_events(cl, c, SN_EPOLLIN) < 0) {
		cl_fail(cl, "control connection: %s", strerror(errno));
		return -1;
	}
	c->state = C_DRAIN;
	cl_loop(cl, app_now_ns() + PERF_DRAIN_NS, ctrl_done);
	if (!c->got_result || c->result.magic != PERF_MAGIC_RESULT) {
		cl_fail(cl, "no result from %s", cl->o->peer_str);
		return -1;
	}
	cl->count = c->result.count;
	cl->errors += c->result.errors;
	return 0;
}

int perf_client_udp(struct client *cl)
{
	if (session_open(cl) < 0 || udp_send_all(cl) < 0 || session_close(cl) < 0)
		return -1;
	return 0;
}
