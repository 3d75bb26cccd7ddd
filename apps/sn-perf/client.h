/* SPDX-License-Identifier: BSD-3-Clause */
/* sn-perf client internals shared by client.c, client_udp.c and report.c. */
#ifndef SN_PERF_CLIENT_H
#define SN_PERF_CLIENT_H

#include "perf.h"
#include "pattern.h"
#include "hist.h"

#define PERF_ERRORS_TOLD 5              /* connection errors printed */

enum cstate {
	C_IDLE,         /* no socket (crr between connections, or failed) */
	C_CONNECTING,   /* waiting for the handshake */
	C_READY,        /* connected, waiting for the common start */
	C_RUN,          /* hello sent or queued, moving data */
	C_DRAIN,        /* our side is finished: waiting for result or FIN */
	C_DONE,
};

struct cconn {
	int fd;
	enum cstate state;
	uint32_t events;
	uint64_t seed;
	uint64_t t_connect;                 /* when the connect was started */
	uint8_t out[PERF_HELLO_LEN];
	size_t outoff, outlen;
	uint8_t in[PERF_RESULT_LEN];
	size_t inlen;
	bool got_result;
	struct perf_result result;
	struct pat_gen gen;                 /* tcp-stream: what we send */
	uint64_t rx;                        /* stream bytes or response bytes in */
	uint8_t *req;                       /* tcp-rr/crr: the request */
	size_t reqsent;
	uint64_t txn;                       /* transactions done on this socket */
	uint64_t t_start;                   /* when the current request started */
	bool resp_done;                     /* tcp-crr: response in, awaiting FIN */
};

/* What the run measured, for the report. */
struct perf_summary {
	double seconds;
	uint64_t bytes;                     /* verified by the receiver */
	uint64_t sent;                      /* bytes (tcp) or datagrams (udp) sent */
	uint64_t count;                     /* transactions, connections, datagrams */
	uint64_t errors;
	const char *fatal;                  /* why the run could not happen */
};

struct client {
	const struct perf_opts *o;
	int ep;
	struct cconn *c;
	uint32_t n;
	uint64_t t0, t_stop, t_hard, t_end;
	bool stopped;                       /* t_stop has passed */
	uint64_t connected;                 /* handshakes that completed */
	uint64_t count, sent, errors;
	char fatal[160];
	const char *why;                    /* protocol error being reported */
	uint8_t *scratch;
	struct hist *hist;
};

/* client.c */
void cl_fail(struct client *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cl_connect(struct client *cl, struct cconn *c);
void cl_close(struct client *cl, struct cconn *c);
void cl_queue_hello(struct client *cl, struct cconn *c);
int cl_set_events(struct client *cl, struct cconn *c, uint32_t want);
/* Wait up to timeout_ms and handle what happened; -1 on a fatal error. */
int cl_poll(struct client *cl, int timeout_ms);
/* Run the event loop until done(cl) or the deadline; false on a fatal error
 * or a stop signal. */
bool cl_loop(struct client *cl, uint64_t deadline, bool (*done)(struct client *));
bool cl_all_connected(struct client *cl);
bool cl_all_done(struct client *cl);
int cl_take_result(struct client *cl, struct cconn *c, const uint8_t *p, size_t n);

/* client_udp.c */
int perf_client_udp(struct client *cl);

/* report.c */
void perf_report(const struct perf_opts *o, const struct perf_summary *s,
		 const struct hist *h);

#endif
