/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-perf: a traffic generator and sink on the sealnet stack.
 *
 *   sn-perf server --port P
 *   sn-perf client --connect IP:PORT --mode M --seconds S [--size N]
 *                  [--conns C] [--reverse] [--json]
 *
 * Wire formats in proto.h, patterns in pattern.h.
 */
#include "perf.h"

enum opt_id { O_PORT, O_CONNECT, O_MODE, O_SECONDS, O_SIZE, O_CONNS,
	      O_REVERSE, O_JSON };

static const char *const mode_names[] = {
	[PERF_TCP_STREAM] = "tcp-stream",
	[PERF_UDP_STREAM] = "udp-stream",
	[PERF_TCP_RR] = "tcp-rr",
	[PERF_TCP_CRR] = "tcp-crr",
};

const char *perf_mode_name(uint8_t mode)
{
	if (mode < sizeof(mode_names) / sizeof(mode_names[0]) && mode_names[mode])
		return mode_names[mode];
	return "unknown";
}

static int parse_mode(struct perf_opts *o, const char *v, char *err, size_t len)
{
	for (uint8_t m = PERF_TCP_STREAM; m <= PERF_TCP_CRR; m++) {
		if (!strcmp(v, mode_names[m])) {
			o->mode = m;
			return 0;
		}
	}
	snprintf(err, len, "expects tcp-stream, udp-stream, tcp-rr or tcp-crr, got '%s'", v);
	return -1;
}

static int parse_role(struct perf_opts *o, const char *v, char *err, size_t len)
{
	if (o->server || o->client) {
		snprintf(err, len, "unexpected argument '%s'", v);
		return -1;
	}
	o->server = !strcmp(v, "server");
	o->client = !strcmp(v, "client");
	if (!o->server && !o->client) {
		snprintf(err, len, "expects 'server' or 'client' first, got '%s'", v);
		return -1;
	}
	return 0;
}

static int parse_u32(uint32_t *out, const char *v, uint64_t min, uint64_t max,
		     char *err, size_t len)
{
	uint64_t x;

	if (app_parse_u64(v, min, max, &x, err, len) < 0)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int on_opt(void *ctx, const struct sn_opt *opt, const char *v,
		  char *err, size_t len)
{
	struct perf_opts *o = ctx;

	if (!opt)
		return parse_role(o, v, err, len);
	switch (opt->id) {
	case O_PORT:
		return app_parse_port(v, &o->port, err, len);
	case O_CONNECT:
		snprintf(o->peer_str, sizeof(o->peer_str), "%s", v);
		return app_parse_hostport(v, &o->peer, &o->peerlen, err, len);
	case O_MODE:
		return parse_mode(o, v, err, len);
	case O_SECONDS:
		return parse_u32(&o->seconds, v, 1, PERF_SECONDS_MAX, err, len);
	case O_SIZE:
		return parse_u32(&o->size, v, 1, PERF_STREAM_MAX, err, len);
	case O_CONNS:
		return parse_u32(&o->conns, v, 1, PERF_CONNS_MAX, err, len);
	case O_REVERSE:
		o->reverse = true;
		return 0;
	case O_JSON:
		o->json = true;
		return 0;
	}
	return 0;
}

static uint32_t default_size(uint8_t mode)
{
	switch (mode) {
	case PERF_TCP_STREAM:
		return 64 * 1024;
	case PERF_UDP_STREAM:
		return 64;
	default:
		return 1;
	}
}

/* The client's options make no sense for a server: say which one. */
static void server_only(const struct perf_opts *o)
{
	const char *bad = o->peerlen ? "connect" : o->mode ? "mode" :
		o->seconds ? "seconds" : o->size ? "size" : o->conns ? "conns" :
		o->reverse ? "reverse" : o->json ? "json" : NULL;

	if (bad)
		app_usage_fail(PROG, bad, "only for the client");
}

/* Cross-option checks the per-option handler cannot make. */
static void check_opts(struct perf_opts *o)
{
	if (!o->server && !o->client) {
		fprintf(stderr, PROG ": expects 'server' or 'client' (see --help)\n");
		exit(APP_EXIT_USAGE);
	}
	if (o->server) {
		if (!o->port)
			app_usage_fail(PROG, "port", "required for the server");
		server_only(o);
		return;
	}
	if (!o->peerlen)
		app_usage_fail(PROG, "connect", "required for the client");
	if (!o->mode)
		app_usage_fail(PROG, "mode", "required for the client");
	if (o->port)
		app_usage_fail(PROG, "port", "only for the server (the client uses --connect)");
	if (o->reverse && o->mode != PERF_TCP_STREAM)
		app_usage_fail(PROG, "reverse", "only with --mode tcp-stream");
	if (o->conns && o->mode == PERF_UDP_STREAM)
		app_usage_fail(PROG, "conns", "not with --mode udp-stream");
	if (!o->size)
		o->size = default_size(o->mode);
	if (perf_size_ok(o->mode, o->size) < 0)
		app_usage_fail(PROG, "size", "%u is out of range for %s", o->size,
			       perf_mode_name(o->mode));
	if (!o->seconds)
		o->seconds = 10;
	if (!o->conns)
		o->conns = 1;
}

int main(int argc, char **argv)
{
	static const struct sn_opt opts[] = {
		{ "port", SN_OPT_REQUIRED, O_PORT, "server: TCP and UDP port to listen on" },
		{ "connect", SN_OPT_REQUIRED, O_CONNECT, "client: server as IPv4:PORT or [IPv6]:PORT" },
		{ "mode", SN_OPT_REQUIRED, O_MODE, "client: tcp-stream, udp-stream, tcp-rr or tcp-crr" },
		{ "seconds", SN_OPT_REQUIRED, O_SECONDS, "client: run time (default 10)" },
		{ "size", SN_OPT_REQUIRED, O_SIZE, "client: send chunk, datagram or message size" },
		{ "conns", SN_OPT_REQUIRED, O_CONNS, "client: parallel connections (default 1)" },
		{ "reverse", SN_OPT_NONE, O_REVERSE, "client: tcp-stream from server to client" },
		{ "json", SN_OPT_NONE, O_JSON, "client: one JSON object line as output" },
		{ NULL, 0, 0, NULL },
	};
	struct perf_opts o = { 0 };
	struct sn_config cfg;
	int rc;

	sn_config_init(&cfg, PROG);
	app_parse(&cfg, argc, argv, opts, on_opt, &o,
		  "server --port P [common options]\n"
		  "       " PROG " client --connect IP:PORT --mode M --seconds S [--size N]\n"
		  "               [--conns C] [--reverse] [--json] [common options]\n"
		  "modes: tcp-stream, udp-stream, tcp-rr, tcp-crr");
	check_opts(&o);
	app_start(&cfg);
	rc = o.server ? perf_server(&o) : perf_client(&o);
	sn_cleanup();
	return rc;
}
