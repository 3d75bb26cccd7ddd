/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --secure as the stack's default (api/security_cfg.c, api/socket.c): a
 * program that never calls sn_secure_socket nor sn_set_socket_security,
 * started with --secure and no SA, cannot talk in the clear; an explicit
 * sn_set_socket_security replaces the implicit settings (once), and the
 * --peer-name names stay with the socket.
 *
 *   test (peer 10.0.0.2) <--fake port--> stack 10.0.0.1 (IPsec up, no SA)
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "harness.h"
#include "checks.h"
#include "sn_api.h"
#include "sn_ipsec_api.h"
#include "sockpol.h"
#include "lwip/priv/tcp_priv.h"

#define PEER_ID "server.example"

static struct sn_config cfg;

static void start(void)
{
	h_stack_start();
	h_learn_peer4();
	h_tx_clear();
	cr_assert_eq(sn_ipsec_start(), 0);
	sn_config_init(&cfg, "test");
}

static void stop(void)
{
	sn_api_close_all();
	h_poll(20);
	while (tcp_active_pcbs)
		tcp_abort(tcp_active_pcbs);
	sn_sec_default_config(NULL);
	cr_assert_eq(sn_sockpol_count(), 0u, "socket policies left");
	sn_ipsec_stop();
	h_stack_stop_checked();
}

TestSuite(secdef, .init = start, .fini = stop, .timeout = 60);

/* The options as sn_parse_args leaves them, made the stack's default. */
static void run_with(const char *secure, const char *peer_name)
{
	char err[256] = "";

	if (secure)
		cr_assert_eq(sn_parse_common(&cfg, "secure", secure[0] ? secure : NULL,
					     err, sizeof(err)), 1, "%s", err);
	if (peer_name)
		cr_assert_eq(sn_parse_common(&cfg, "peer-name", peer_name, err, sizeof(err)),
			     1, "%s", err);
	sn_sec_default_config(&cfg);
}

static int sock(int type)
{
	int fd = sn_socket(AF_INET, type | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	return fd;
}

static unsigned tx_drain(int proto)
{
	uint8_t f[H_FRAME_MAX];
	unsigned n = 0;

	while (h_tx_find(H_ETH_IP4, proto, f, sizeof(f)))
		n++;
	return n;
}

static int wait_so_error(int fd, int polls)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	for (int i = 0; i < polls && !err; i++) {
		h_poll(1);
		cr_assert_eq(sn_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen), 0);
	}
	return err;
}

static const struct sn_target *name_of(int fd, uint16_t port)
{
	struct sn_sock *s = sn_sock_get(fd);
	struct sn_ip ip = { AF_INET, { 10, 0, 0, 2 } };

	cr_assert(s && s->sec, "socket %d has no security settings", fd);
	return sn_sec_name_for(s->sec, &ip, port);
}

Test(secdef, tcp_connect_without_sa_refused_no_clear_syn)
{
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 7040, &ss);
	int t, err;

	run_with("", NULL);
	t = sock(SOCK_STREAM);
	ERRNO_IS(sn_connect(t, (struct sockaddr *)&ss, alen), EINPROGRESS);
	err = wait_so_error(t, 100);
	cr_expect_eq(err, ECONNREFUSED, "SO_ERROR %d (%s)", err, strerror(err));
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear on the wire");
}

Test(secdef, udp_send_without_sa_refused_no_clear_datagram)
{
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u;

	run_with("", NULL);
	u = sock(SOCK_DGRAM);
	ERRNO_IS(sn_sendto(u, "hello", 5, 0, (struct sockaddr *)&ss, alen), ECONNREFUSED);
	h_poll(5);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u, "cleartext UDP on the wire");
}

/* The control: without --secure the same datagram leaves in the clear. */
Test(secdef, without_secure_sockets_are_plain)
{
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u;

	run_with(NULL, NULL);
	u = sock(SOCK_DGRAM);
	cr_expect_eq(sn_sendto(u, "hello", 5, 0, (struct sockaddr *)&ss, alen), 5);
	h_poll(5);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 1u);
	cr_expect_null(sn_sock_get(u)->sec);
}

/* The program's own settings win over --secure's, once: here it allows
 * the clear, and a second call is refused as for any secured socket. */
Test(secdef, explicit_settings_replace_implicit_once)
{
	struct sn_socket_security_settings st = { SN_SECURITY_PROTOCOL_DEFAULT,
						  SN_SETTINGS_ALLOW_INSECURE };
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u;

	run_with("", NULL);
	u = sock(SOCK_DGRAM);
	OK(sn_set_socket_security(u, &st, sizeof(st)));
	ERRNO_IS(sn_set_socket_security(u, &st, sizeof(st)), EINVAL);
	cr_expect_eq(sn_sendto(u, "hello", 5, 0, (struct sockaddr *)&ss, alen), 5,
		     "sendto: %s", strerror(errno));
	h_poll(5);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 1u, "ALLOW_INSECURE: the datagram goes clear");
}

/* --secure=insecure-ok is the program's default too. */
Test(secdef, insecure_ok_flag_applies)
{
	struct sn_sock *s;

	run_with("insecure-ok", NULL);
	s = sn_sock_get(sock(SOCK_DGRAM));
	cr_assert(s && s->sec, "no settings on a new socket");
	cr_expect_eq(s->sec->flags, SN_SETTINGS_ALLOW_INSECURE);
}

/* --peer-name is on every new socket, and stays when the program's own
 * settings replace --secure's. */
Test(secdef, peer_names_on_new_sockets_and_kept)
{
	const struct sn_target *t;
	int a, b;

	run_with("", "10.0.0.2=" PEER_ID);
	a = sock(SOCK_STREAM);
	t = name_of(a, 80);
	cr_assert(t, "no target name on a new socket");
	cr_expect_str_eq(t->name, PEER_ID);
	b = sock(SOCK_DGRAM);
	OK(sn_set_socket_security(b, NULL, 0));
	t = name_of(b, 53);
	cr_assert(t, "the name went with the implicit settings");
	cr_expect_str_eq(t->name, PEER_ID);
}

/* IPv6 sockets get only the IPv6 names (an IPv4 one cannot concern them). */
Test(secdef, names_of_the_other_family_skipped)
{
	struct sn_sock *s;
	int fd;

	run_with("", "10.0.0.2=" PEER_ID);
	fd = sn_socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	s = sn_sock_get(fd);
	cr_assert(s->sec);
	cr_expect_eq(s->sec->n_names, 0u);
}
