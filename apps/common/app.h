/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the sealnet programs: command line, start-up, listening
 * sockets, addresses and time. Header-only on purpose: the Makefile builds
 * every folder under apps/ that has .c files as a program, and this one is
 * not a program.
 */
#ifndef SN_APP_H
#define SN_APP_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <sealnet/sealnet.h>

#define APP_EXIT_USAGE  2       /* bad option or value */
#define APP_WAIT_MS     100     /* epoll timeout: how often loops look at the clock */
#define APP_MAX_EVENTS  256

/* "PROG: --opt: reason" and exit 2: the one format scripts can rely on. */
static inline void __attribute__((noreturn, format(printf, 3, 4)))
app_usage_fail(const char *prog, const char *opt, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: --%s: ", prog, opt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(APP_EXIT_USAGE);
}

/* Parse argv with the library's parser: exit 0 after --help, 2 on error. */
static inline void app_parse(struct sn_config *cfg, int argc, char **argv,
			     const struct sn_opt *opts, sn_opt_handler handler,
			     void *ctx, const char *usage)
{
	char err[256] = "";
	int rc = sn_parse_args(cfg, argc, argv, opts, handler, ctx, usage,
			       err, sizeof(err));

	if (rc == 1)
		exit(0);
	if (rc < 0) {
		/* The library's message already reads "PROG: --opt: reason". */
		fprintf(stderr, "%s\n", err[0] ? err : "bad arguments");
		exit(APP_EXIT_USAGE);
	}
}

/* An unsigned decimal in [min, max]; 0, or -1 with a reason in err. */
static inline int app_parse_u64(const char *value, uint64_t min, uint64_t max,
				uint64_t *out, char *err, size_t errlen)
{
	char *end = NULL;
	unsigned long long v;

	if (!value || !*value || *value == '-' || *value == '+')
		goto bad;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "expects an integer from %llu to %llu, got '%s'",
		 (unsigned long long)min, (unsigned long long)max,
		 value ? value : "");
	return -1;
}

static inline int app_parse_port(const char *value, uint16_t *port,
				 char *err, size_t errlen)
{
	uint64_t v;

	if (app_parse_u64(value, 1, 65535, &v, err, errlen) < 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Start the stack and route SIGINT/SIGTERM to sn_stop(); exit 1 on failure. */
static inline void app_start(const struct sn_config *cfg)
{
	if (sn_start(cfg) < 0) {
		int e = errno;

		fprintf(stderr, "%s: cannot start the stack: %s\n", cfg->prog,
			strerror(e));
		sn_cleanup();
		exit(1);
	}
	sn_handle_signals();
}

/* The one line scripts wait for; flushed because stdout may be a pipe. */
static inline void app_ready(const char *prog)
{
	printf("%s: ready\n", prog);
	fflush(stdout);
}

/* With --secure: one line of what sn_query_socket_security says about
 * fd (for UDP, about peer), for people and test scripts. */
static inline void app_report_security(const char *prog, int fd, const struct sockaddr *peer,
				       socklen_t plen)
{
	const struct sn_config *cfg = sn_config_current();
	char line[512];

	if (!cfg || !cfg->secure)
		return;
	if (sn_security_describe(fd, peer, plen, line, sizeof(line)) < 0)
		snprintf(line, sizeof(line), "query failed: %s", strerror(errno));
	printf("%s: security: %s\n", prog, line);
	fflush(stdout);
}

static inline bool app_again(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

static inline uint64_t app_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The wildcard address of a family (0.0.0.0 or ::) with a port. */
static inline socklen_t app_any_addr(int family, uint16_t port,
				     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_ANY);
	s4->sin_port = htons(port);
	return sizeof(*s4);
}

/* A non-blocking TCP listener or UDP socket on the wildcard address of a
 * family. Returns the descriptor, or -1 with errno from the failing call. */
static inline int app_bind_any(int family, int type, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = app_any_addr(family, port, &ss);
	int one = 1, fd, e;

	fd = sn_socket(family, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* --secure: before bind, as sn_set_socket_security requires. */
	if (sn_secure_socket(sn_config_current(), fd, NULL, 0) < 0 ||
	    sn_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    sn_bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && sn_listen(fd, 255) < 0)) {
		e = errno;
		sn_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A server's wildcard socket of one family and type, registered for EPOLLIN
 * with ptr as its tag. Exits 1 with a message when it cannot be made. */
static inline int app_serve_any(const char *prog, int ep, int family, int type,
				uint16_t port, void *tag)
{
	struct sn_epoll_event ev = { .events = SN_EPOLLIN, .data.ptr = tag };
	int fd = app_bind_any(family, type, port);

	if (fd < 0 || sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, fd, &ev) < 0) {
		fprintf(stderr, "%s: %s %s port %u: %s\n", prog,
			type == SOCK_STREAM ? "tcp" : "udp",
			family == AF_INET6 ? "[::]" : "0.0.0.0", port,
			strerror(errno));
		sn_cleanup();
		exit(1);
	}
	return fd;
}

/* Wait for events; returns the count, 0 on timeout, -1 when the program
 * should stop (sn_stop() was called, or the stack failed: message printed). */
static inline int app_wait(const char *prog, int ep, struct sn_epoll_event *evs,
			   int max, int timeout_ms)
{
	int n;

	if (sn_stopping())
		return -1;
	n = sn_epoll_wait(ep, evs, max, timeout_ms);
	if (n >= 0)
		return n;
	if (errno == EINTR)
		return sn_stopping() ? -1 : 0;
	fprintf(stderr, "%s: epoll_wait: %s\n", prog, strerror(errno));
	return -1;
}

static inline int app_epoll_mod(int ep, int op, int fd, uint32_t events, void *ptr)
{
	struct sn_epoll_event ev = { .events = events, .data.ptr = ptr };

	return sn_epoll_ctl(ep, op, fd, &ev);
}

/* "IP:PORT" or "[IPv6]:PORT" into a socket address; 0, or -1 with err. */
static inline int app_parse_hostport(const char *s, struct sockaddr_storage *ss,
				     socklen_t *len, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs = s;
	size_t hlen;
	uint16_t port;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		hs = s + 1;
		hlen = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (app_parse_port(colon + 1, &port, err, errlen) < 0)
		return -1;
	if (*s != '[' && inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
bad:
	snprintf(err, errlen, "expects IPv4:PORT or [IPv6]:PORT, got '%s'", s);
	return -1;
}

/* "1.2.3.4:80" or "[::1]:80" for messages. */
static inline const char *app_addr_str(const struct sockaddr_storage *ss,
				       char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	}
	return buf;
}

/* The pending error of a socket whose non-blocking connect finished. */
static inline int app_so_error(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (sn_getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return errno;
	return e;
}

#endif
