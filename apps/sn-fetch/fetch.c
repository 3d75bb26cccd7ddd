/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-fetch: a tiny HTTP/1.1 GET client on the sealnet stack, the other half
 * of `make demo` (sn-httpd in one stack process, sn-fetch in another).
 *
 *   sn-fetch --url http://IP[:PORT]/PATH [--output FILE] [--sha256]
 *            [--timeout S]
 *   sn-fetch --selftest
 *
 * Exit 0 on a complete HTTP 200 body, 1 otherwise, always within --timeout.
 */
#include <strings.h>

#include "../common/app.h"
#include "sha256.h"

#define PROG        "sn-fetch"
#define HEAD_MAX    16384u      /* response status line plus headers */
#define BUF_SIZE    (256u * 1024u)

struct fetch {
	const char *url;
	const char *output;
	bool sha;
	uint64_t timeout_s;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char hostport[INET6_ADDRSTRLEN + 16];
	const char *path;
	int ep, fd;
	uint64_t deadline;
	FILE *out;
	struct sha256 hash;
	int status;
	int64_t length;             /* Content-Length, -1 when absent */
	uint64_t received;
	char *buf;
};

/* http://IP[:PORT]/PATH; the port defaults to 80 and the path to "/". */
static int parse_url(struct fetch *f, const char *url, char *err, size_t len)
{
	const char *host = url + 7, *slash;
	char hp[sizeof(f->hostport) + 8];
	size_t hlen;

	if (strncasecmp(url, "http://", 7)) {
		snprintf(err, len, "expects http://IP[:PORT]/PATH, got '%s'", url);
		return -1;
	}
	slash = strchr(host, '/');
	hlen = slash ? (size_t)(slash - host) : strlen(host);
	f->path = slash ? slash : "/";
	if (hlen >= sizeof(f->hostport)) {
		snprintf(err, len, "host too long in '%s'", url);
		return -1;
	}
	memcpy(f->hostport, host, hlen);
	f->hostport[hlen] = '\0';
	/* Without a port after the address (IPv4, or "]" closing IPv6): 80. */
	bool bracket = host[0] == '[';
	const char *end = bracket ? memchr(host, ']', hlen) : NULL;
	bool has_port = bracket ? end && end + 1 < host + hlen : memchr(host, ':', hlen) != NULL;

	snprintf(hp, sizeof(hp), "%s%s", f->hostport, has_port ? "" : ":80");
	if (app_parse_hostport(hp, &f->peer, &f->peerlen, err, len) < 0) {
		snprintf(err, len, "expects http://IPv4[:PORT]/PATH or http://[IPv6][:PORT]/PATH, got '%s'", url);
		return -1;
	}
	return 0;
}

static int on_opt(void *ctx, const struct sn_opt *opt, const char *value,
		  char *err, size_t len)
{
	struct fetch *f = ctx;

	if (!opt) {
		snprintf(err, len, "unexpected argument");
		return -1;
	}
	switch (opt->id) {
	case 0:
		f->url = value;
		return parse_url(f, value, err, len);
	case 1:
		f->output = value;
		return 0;
	case 2:
		f->sha = true;
		return 0;
	case 3:
		return app_parse_u64(value, 1, 3600, &f->timeout_s, err, len);
	}
	return 0;
}

/* Wait until fd is ready for ev or the deadline passes (ETIMEDOUT). */
static int wait_io(struct fetch *f, uint32_t ev)
{
	struct sn_epoll_event e = { .events = ev, .data.fd = f->fd };

	if (sn_epoll_ctl(f->ep, SN_EPOLL_CTL_MOD, f->fd, &e) < 0)
		return -1;
	for (;;) {
		uint64_t now = app_now_ns();
		uint64_t left = f->deadline > now ? (f->deadline - now) / 1000000 : 0;
		int n;

		if (now >= f->deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = sn_epoll_wait(f->ep, &e, 1, left < APP_WAIT_MS ? (int)left + 1 : APP_WAIT_MS);
		if (n > 0)
			return 0;
		if (n < 0 && (errno != EINTR || sn_stopping()))
			return -1;
	}
}

static int do_connect(struct fetch *f)
{
	struct sn_epoll_event e = { .events = SN_EPOLLOUT, .data.fd = 0 };
	int err;

	f->fd = sn_socket(f->peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (f->fd < 0 || sn_epoll_ctl(f->ep, SN_EPOLL_CTL_ADD, f->fd, &e) < 0)
		return -1;
	/* --secure: before connect, as sn_set_socket_security requires. */
	if (sn_secure_socket(sn_config_current(), f->fd, (struct sockaddr *)&f->peer,
			     f->peerlen) < 0)
		return -1;
	if (sn_connect(f->fd, (struct sockaddr *)&f->peer, f->peerlen) == 0)
		goto connected;
	if (errno != EINPROGRESS || wait_io(f, SN_EPOLLOUT) < 0)
		return -1;
	err = app_so_error(f->fd);
	errno = err;
	if (err)
		return -1;
connected:
	app_report_security(PROG, f->fd, NULL, 0);
	return 0;
}

static int send_all(struct fetch *f, const char *p, size_t len)
{
	while (len) {
		ssize_t n = sn_send(f->fd, p, len, 0);

		if (n < 0 && (!app_again(errno) || wait_io(f, SN_EPOLLOUT) < 0))
			return -1;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

/* Up to len bytes; 0 at end of stream, -1 with errno. */
static ssize_t recv_some(struct fetch *f, char *p, size_t len)
{
	for (;;) {
		ssize_t n = sn_recv(f->fd, p, len, 0);

		if (n >= 0 || !app_again(errno))
			return n;
		if (wait_io(f, SN_EPOLLIN) < 0)
			return -1;
	}
}

static int send_request(struct fetch *f)
{
	char req[HEAD_MAX];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: " PROG "\r\n"
			 "Accept: */*\r\nConnection: close\r\n\r\n", f->path, f->hostport);

	if (n < 0 || (size_t)n >= sizeof(req)) {
		errno = EMSGSIZE;
		return -1;
	}
	return send_all(f, req, (size_t)n);
}

static void body_bytes(struct fetch *f, const char *p, size_t n)
{
	f->received += n;
	if (f->sha)
		sha256_update(&f->hash, p, n);
	if (f->out && fwrite(p, 1, n, f->out) != n) {
		fprintf(stderr, PROG ": %s: %s\n", f->output, strerror(errno));
		fclose(f->out);
		f->out = NULL;
		f->status = -1;
	}
}

/* Status line and the headers we need; -1 for a response we cannot read. */
static int parse_head(struct fetch *f, char *head)
{
	char *line, *save = NULL;

	line = strtok_r(head, "\r\n", &save);
	if (!line || sscanf(line, "HTTP/1.%*d %d", &f->status) != 1)
		return -1;
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		if (!strncasecmp(line, "content-length:", 15))
			f->length = strtoll(line + 15, NULL, 10);
		else if (!strncasecmp(line, "transfer-encoding:", 18)) {
			fprintf(stderr, PROG ": Transfer-Encoding is not supported\n");
			return -1;
		}
	}
	return 0;
}

/* Read the head; bytes of body already read are passed on. */
static int read_head(struct fetch *f)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = recv_some(f, f->buf + len, HEAD_MAX - len);
		char *end;

		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		len += (size_t)n;
		f->buf[len] = '\0';
		end = strstr(f->buf, "\r\n\r\n");
		if (end) {
			size_t hl = (size_t)(end - f->buf) + 4;

			end[2] = '\0';
			if (parse_head(f, f->buf) < 0) {
				errno = EPROTO;
				return -1;
			}
			body_bytes(f, f->buf + hl, len - hl);
			return 0;
		}
		if (len == HEAD_MAX) {
			errno = EMSGSIZE;
			return -1;
		}
	}
}

static int read_body(struct fetch *f)
{
	while (f->length < 0 || f->received < (uint64_t)f->length) {
		ssize_t n = recv_some(f, f->buf, BUF_SIZE);

		if (n < 0)
			return -1;
		if (n == 0)
			return f->length < 0 ? 0 : (errno = ECONNRESET, -1);
		body_bytes(f, f->buf, (size_t)n);
	}
	return 0;
}

static void report(struct fetch *f, uint64_t t0, bool ok)
{
	double secs = (double)(app_now_ns() - t0) / 1e9;
	char len[32] = "none";

	if (f->length >= 0)
		snprintf(len, sizeof(len), "%lld", (long long)f->length);
	fprintf(stderr, PROG ": HTTP %d, Content-Length %s, received %llu bytes in %.3f s (%.2f MB/s)%s\n",
		f->status, len, (unsigned long long)f->received, secs,
		secs > 0 ? (double)f->received / secs / 1e6 : 0.0, ok ? "" : ", incomplete");
	if (f->sha && ok) {
		uint8_t d[SHA256_LEN];

		sha256_final(&f->hash, d);
		for (int i = 0; i < SHA256_LEN; i++)
			printf("%02x", d[i]);
		printf("\n");
		fflush(stdout);
	}
}

/* Connect, ask, read; 0 when a whole body arrived. */
static int fetch(struct fetch *f)
{
	const char *step = "connect";

	if (do_connect(f) < 0)
		goto fail;
	step = "send";
	if (send_request(f) < 0)
		goto fail;
	step = "response";
	if (read_head(f) < 0 || read_body(f) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, PROG ": %s %s: %s\n", step, f->url,
		sn_stopping() ? "interrupted" : strerror(errno));
	return -1;
}

static int selftest(void)
{
	int rc = sha256_selftest();

	printf(PROG ": selftest: sha256 %s\n", rc ? "FAILED" : "ok");
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct sn_opt opts[] = {
		{ "url", SN_OPT_REQUIRED, 0, "http://IP[:PORT]/PATH (IPv6 as [addr])" },
		{ "output", SN_OPT_REQUIRED, 1, "write the body to FILE (default: discard)" },
		{ "sha256", SN_OPT_NONE, 2, "print the body's SHA-256 on stdout" },
		{ "timeout", SN_OPT_REQUIRED, 3, "give up after S seconds (default 30)" },
		{ "selftest", SN_OPT_NONE, 4, "check the SHA-256 code and exit (no stack)" },
		{ NULL, 0, 0, NULL },
	};
	struct fetch f = { .timeout_s = 30, .ep = -1, .fd = -1, .length = -1 };
	struct sn_config cfg;
	uint64_t t0;
	int rc;

	/* The self-check needs no device, so it runs before the common checks. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--selftest"))
			return selftest();
	sn_config_init(&cfg, PROG);
	app_parse(&cfg, argc, argv, opts, on_opt, &f,
		  "--url http://IP[:PORT]/PATH [--output FILE] [--sha256] [--timeout S]\n"
		  "       " PROG " --selftest");
	if (!f.url)
		app_usage_fail(PROG, "url", "required");
	f.buf = malloc(BUF_SIZE + 1);
	if (!f.buf || (f.output && !(f.out = fopen(f.output, "wb")))) {
		fprintf(stderr, PROG ": %s: %s\n", f.output ? f.output : "memory", strerror(errno));
		free(f.buf);
		return 1;
	}
	sha256_init(&f.hash);
	app_start(&cfg);
	t0 = app_now_ns();
	f.deadline = t0 + f.timeout_s * 1000000000ull;
	f.ep = sn_epoll_create(1);
	rc = f.ep < 0 ? (fprintf(stderr, PROG ": epoll: %s\n", strerror(errno)), -1) : fetch(&f);
	report(&f, t0, rc == 0 && f.status >= 0);
	if (f.fd >= 0)
		sn_close(f.fd);
	if (f.ep >= 0)
		sn_close(f.ep);
	sn_cleanup();
	if (f.out && fclose(f.out) != 0)
		rc = -1;
	free(f.buf);
	return rc == 0 && f.status == 200 ? 0 : 1;
}
