/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A program of one's own, as README's example is: built by
 * tests/integration/install.sh against an installed sealnet with nothing
 * but pkg-config's flags, shared and static.
 *
 * It starts the stack from argv, listens on TCP port 7 of its own address,
 * connects to it (packets to the interface's own addresses loop back inside
 * the stack), sends "hello" and reads it back through an echo; prints
 * "hello: ok" and exits 0. With "wait" it then prints "hello: ready" and
 * runs until SIGINT/SIGTERM. With -DDEFINE_LWIP_NAMES it also defines
 * functions named as lwIP's (tcp_new, pbuf_alloc): the library must not
 * call them, nor clash with them at link time.
 */
#include <sealnet/sealnet.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef DEFINE_LWIP_NAMES
void *tcp_new(void);
void *pbuf_alloc(int layer, unsigned short length, int type);

void *tcp_new(void)
{
	fprintf(stderr, "hello: the library called the program's tcp_new\n");
	abort();
}

void *pbuf_alloc(int layer, unsigned short length, int type)
{
	(void)layer, (void)length, (void)type;
	fprintf(stderr, "hello: the library called the program's pbuf_alloc\n");
	abort();
}
#endif

static int wait_mode;

static int positional(void *ctx, const struct sn_opt *opt, const char *value,
		      char *err, size_t errlen)
{
	(void)ctx, (void)opt;
	if (value && !strcmp(value, "wait")) {
		wait_mode = 1;
		return 0;
	}
	snprintf(err, errlen, "expected 'wait'");
	return -1;
}

static int fail(const char *what)
{
	perror(what);
	return -1;
}

/* Read exactly n bytes (blocking calls run the poll loop). */
static int recv_all(int fd, char *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = sn_recv(fd, buf + got, n - got, 0);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Listen, connect to ourselves, echo "hello" once. 0 or -1. */
static int self_echo(const struct sn_config *cfg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7) };
	char buf[16] = "";
	int l, c, s;

	a.sin_addr = cfg->addrs[0].addr.v4;
	l = sn_socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || sn_bind(l, (struct sockaddr *)&a, sizeof(a)) || sn_listen(l, 8))
		return fail("hello: listen");
	c = sn_socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || sn_connect(c, (struct sockaddr *)&a, sizeof(a)))
		return fail("hello: connect");
	s = sn_accept(l, NULL, NULL);
	if (s < 0)
		return fail("hello: accept");
	if (sn_send(c, "hello", 5, 0) != 5 || recv_all(s, buf, 5) ||
	    sn_send(s, buf, 5, 0) != 5 || recv_all(c, buf + 5, 5))
		return fail("hello: echo");
	if (memcmp(buf, "hellohello", 10)) {
		fprintf(stderr, "hello: echoed '%.10s'\n", buf);
		return -1;
	}
	sn_close(s);
	sn_close(c);
	sn_close(l);
	return 0;
}

int main(int argc, char **argv)
{
	struct sn_config cfg;
	char err[256];
	int rc;

	sn_config_init(&cfg, "hello");
	rc = sn_parse_args(&cfg, argc, argv, NULL, positional, NULL, "[wait]", err, sizeof(err));
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "%s\n", err);
		return rc < 0 ? 2 : 0;
	}
	if (cfg.addrs[0].family != AF_INET) {
		fprintf(stderr, "hello: --addr: the first address must be IPv4\n");
		return 2;
	}
	alarm(60);   /* a test program: never hang */
	if (sn_start(&cfg))
		return 1;
	sn_handle_signals();
	rc = self_echo(&cfg);
	if (!rc) {
		printf("hello: ok\n");
		fflush(stdout);
	}
	if (!rc && wait_mode) {
		alarm(0);
		printf("hello: ready\n");
		fflush(stdout);
		sn_run(NULL, NULL);
	}
	sn_cleanup();
	return rc ? 1 : 0;
}
