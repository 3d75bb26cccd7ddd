/* SPDX-License-Identifier: BSD-3-Clause */
/* sn-perf: options shared by main, the server and the client. */
#ifndef SN_PERF_H
#define SN_PERF_H

#include "../common/app.h"
#include "proto.h"

#define PROG            "sn-perf"
#define PERF_SCRATCH    (256u * 1024u)      /* one receive, verified at once */
#define PERF_CONNS_MAX  4096u
#define PERF_CONNECT_NS (10ull * 1000000000ull) /* unreachable server: give up */
#define PERF_DRAIN_NS   (5ull * 1000000000ull)  /* results after the run */
#define PERF_BATCH      64                  /* calls per event, for fairness */

struct perf_opts {
	bool server, client;
	uint16_t port;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_str[INET6_ADDRSTRLEN + 16];
	uint8_t mode;                       /* enum perf_mode, 0 unset */
	uint32_t seconds;
	uint32_t size;                      /* 0: the mode's default */
	uint32_t conns;
	bool reverse;
	bool json;
};

/* Run until SIGINT/SIGTERM; 0, or 1 when the server could not start. */
int perf_server(const struct perf_opts *o);

/* One run; 0 when it completed without errors, else 1. */
int perf_client(const struct perf_opts *o);

const char *perf_mode_name(uint8_t mode);

#endif
