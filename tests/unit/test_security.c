/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket security API (sealnet/security.h; api/security.c,
 * api/secpolicy.c, ipsec/sockpol.c) through its public calls, with the
 * stack and IPsec running on the harness's fake port:
 *
 *   1. every documented error of every call, in the order the Winsock
 *      documentation of WSASetSocketSecurity and the others gives them
 *      (ENOTSOCK/EBADF, EAFNOSUPPORT, EINVAL, EISCONN, EMSGSIZE);
 *   2. custom policies: validation, keys, the registry filling up;
 *   3. the exclusive port a secured socket takes;
 *   4. the datapath: nothing of a secured socket leaves or is accepted in
 *      the clear without ALLOW_INSECURE; manual SA pairs (state lines
 *      only: the socket's own policy selects them) protect its datagrams
 *      and show in the query; with a stand-in key manager (the acquire
 *      hook) traffic waits for the SA or times out; inbound, SAs the
 *      socket would not use, or of the wrong identity, are dropped and
 *      counted; TCP client and server over ESP, with the test as the peer
 *      (sealing and opening with the library's ESP transform), and the
 *      query, tokens and impersonation that follow the proven identity;
 *      a connect refused for the peer's identity (EACCES, its own counter,
 *      one log line, the query's last_error_text) against one with no SA;
 *   5. target names set or deleted after a UDP socket sent (the SA is
 *      chosen again), EISCONN on a connected UDP socket, ECONNRESET from
 *      the query, EMSGSIZE for short addresses, and SKIP_FILTER_INSTANTIATION
 *      clients, bound or not, that the query reports SECURED.
 *
 *   test (peer 10.0.0.2) <--fake port--> stack 10.0.0.1 (IPsec up)
 *
 * Teardown closes every socket while IPsec is still up and then requires
 * that no socket policy is left (a leaked one would hold SPD entries and
 * its port), before the harness checks for leaked mbufs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "sealnet/security.h"
#include "harness.h"
#include "checks.h"
#include "sn_api.h"
#include "sn_ipsec_api.h"
#include "ipsec_dp.h"
#include "sockpol.h"
#include "xfrm_parse.h"
#include "esp.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"

#define PROTO_ESP 50
#define SPI_OUT 0x1001u         /* us -> peer */
#define SPI_IN  0x2001u         /* peer -> us */
#define PEER_ID "server.example"

/* Room for a settings or target structure and its strings. */
#define BUF_MAX 2048

static void start(void)
{
	h_stack_start();
	h_learn_peer4();
	h_tx_clear();
	cr_assert_eq(sn_ipsec_start(), 0);
}

/* Every socket goes while IPsec is up, so their SPD entries are deleted
 * the ordinary way. A connection's policy lives as long as its pcb, so a
 * closing connection (FIN unanswered: the tests play a silent peer) or
 * one in TIME_WAIT keeps one: those pcbs end here. A socket policy left
 * after that is a leak. */
static void stop(void)
{
	sn_api_close_all();
	h_poll(50);
	while (tcp_active_pcbs)
		tcp_abort(tcp_active_pcbs);
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
	if (sn_sockpol_count()) {
		fprintf(stderr, "LEAK: %u socket policies after every socket closed\n",
			sn_sockpol_count());
		abort();
	}
	sn_ipsec_stop();
	h_stack_stop_checked();
}

TestSuite(sec, .init = start, .fini = stop, .timeout = 60);

/* ---- Helpers ------------------------------------------------------------------ */

static int sock(int family, int type)
{
	int fd = sn_socket(family, type | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	return fd;
}

static void close_ok(int fd)
{
	cr_assert_eq(sn_close(fd), 0, "close %d: %s", fd, strerror(errno));
}

static struct sockaddr *sa(struct sockaddr_storage *ss)
{
	return (struct sockaddr *)ss;
}

static void secure_flags(int fd, uint32_t flags)
{
	struct sn_socket_security_settings st = { SN_SECURITY_PROTOCOL_DEFAULT, flags };

	OK(sn_set_socket_security(fd, &st, sizeof(st)));
}

static void secure(int fd)
{
	OK(sn_set_socket_security(fd, NULL, 0));
}

static void bind_us(int fd, int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(family, port, &ss);

	OK(sn_bind(fd, sa(&ss), len));
}

/* IPsec settings with its three strings after the structure; returns the
 * length that matches them. */
static size_t ipsec_settings(uint8_t *b, const char *user, const char *dom, const char *pw)
{
	struct sn_socket_security_settings_ipsec *s = (void *)b;
	size_t u = strlen(user), d = strlen(dom), p = strlen(pw);

	memset(b, 0, BUF_MAX);
	s->protocol = SN_SECURITY_PROTOCOL_IPSEC;
	s->user_name_len = (uint32_t)u;
	s->domain_name_len = (uint32_t)d;
	s->password_len = (uint32_t)p;
	memcpy(s->all_strings, user, u);
	memcpy(s->all_strings + u, dom, d);
	memcpy(s->all_strings + u + d, pw, p);
	return sizeof(*s) + u + d + p;
}

/* A target name for (addr, port) of family; returns its length. */
static size_t target(uint8_t *b, int family, const char *addr, uint16_t port, const char *name)
{
	struct sn_socket_peer_target_name *t = (void *)b;
	size_t n = strlen(name);

	memset(b, 0, BUF_MAX);
	t->protocol = SN_SECURITY_PROTOCOL_IPSEC;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&t->peer;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, addr, &in->sin_addr), 1);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->peer;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
	}
	t->name_len = (uint32_t)n;
	memcpy(t->name, name, n);
	return sizeof(*t) + n;
}

static struct sn_security_policy qm_policy(uint32_t transform, uint32_t cipher, uint32_t integ)
{
	struct sn_security_policy p;

	memset(&p, 0, sizeof(p));
	p.type = SN_POLICY_QUICK_MODE;
	p.u.qm.n_proposals = 1;
	p.u.qm.proposals[0].transform = transform;
	p.u.qm.proposals[0].cipher = cipher;
	p.u.qm.proposals[0].integrity = integ;
	return p;
}

/* IKEv2: AES-GCM-16 128, PRF-HMAC-SHA2-256, ECP-256, PSK. */
static struct sn_security_policy mm_policy(void)
{
	struct sn_security_policy p;

	memset(&p, 0, sizeof(p));
	p.type = SN_POLICY_MAIN_MODE;
	p.u.mm.auth_method = SN_AUTH_PSK;
	p.u.mm.n_proposals = 1;
	p.u.mm.proposals[0] = (struct sn_mm_proposal){ .encr = 20, .encr_key_bits = 128,
						       .integ = 0, .prf = 5, .dh_group = 19 };
	return p;
}

static bool key_zero(const struct sn_policy_key *k)
{
	static const struct sn_policy_key zero;

	return memcmp(k, &zero, sizeof(zero)) == 0;
}

static struct sn_policy_key add_ok(const struct sn_security_policy *p)
{
	struct sn_policy_key k;

	memset(&k, 0, sizeof(k));
	OK(sn_policy_add(p, &k));
	cr_assert(!key_zero(&k), "sn_policy_add gave the zero key");
	return k;
}

/* A nonblocking TCP connect to the peer, left connecting. */
static void connect_peer(int fd, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_peer_addr(AF_INET, port, &ss);

	ERRNO_IS(sn_connect(fd, sa(&ss), len), EINPROGRESS);
}

static int query(int fd, const struct sn_socket_security_query_template *t,
		 struct sn_socket_security_query_info *info)
{
	size_t len = sizeof(*info);

	memset(info, 0xa5, sizeof(*info));
	return sn_query_socket_security(fd, t, t ? sizeof(*t) : 0, info, &len);
}

static void tmpl_for(struct sn_socket_security_query_template *t, int family, uint16_t port)
{
	memset(t, 0, sizeof(*t));
	t->protocol = SN_SECURITY_PROTOCOL_IPSEC;
	h_peer_addr(family, port, &t->peer);
}

/* What the query reports of the SA a socket uses: the flags given, and
 * the transform's algorithms and SPIs. */
struct want_sa {
	uint32_t flags;
	uint32_t transform, cipher, integrity;
	uint32_t spi_out, spi_in;
};

static void expect_sa(const struct sn_socket_security_query_info *info,
		      const struct want_sa *w)
{
	cr_expect_eq(info->flags & w->flags, w->flags, "flags 0x%x", info->flags);
	cr_expect_eq(info->transform, w->transform, "transform %u", info->transform);
	cr_expect_eq(info->cipher, w->cipher, "cipher %u", info->cipher);
	cr_expect_eq(info->integrity, w->integrity, "integrity %u", info->integrity);
	cr_expect_eq(info->spi_out, w->spi_out, "spi_out 0x%x", info->spi_out);
	cr_expect_eq(info->spi_in, w->spi_in, "spi_in 0x%x", info->spi_in);
}

/* ---- 1a. sn_set_socket_security --------------------------------------------------- */

Test(sec, set_security_descriptors)
{
	int ep = sn_epoll_create(1);

	cr_assert_geq(ep, 0);
	ERRNO_IS(sn_set_socket_security(-1, NULL, 0), EBADF);
	ERRNO_IS(sn_set_socket_security(ep + 1, NULL, 0), EBADF);      /* never opened */
	ERRNO_IS(sn_set_socket_security(SN_MAX_FDS, NULL, 0), EBADF);
	ERRNO_IS(sn_set_socket_security(ep, NULL, 0), ENOTSOCK);
	close_ok(ep);
	ERRNO_IS(sn_set_socket_security(ep, NULL, 0), EBADF);          /* closed */
}

Test(sec, set_security_null_settings_then_second_call)
{
	int t = sock(AF_INET, SOCK_STREAM), u = sock(AF_INET6, SOCK_DGRAM);

	secure(t);
	secure(u);
	ERRNO_IS(sn_set_socket_security(t, NULL, 0), EINVAL);         /* once per socket */
	ERRNO_IS(sn_set_socket_security(u, NULL, 0), EINVAL);
	close_ok(t);
	close_ok(u);
}

Test(sec, set_security_when)
{
	struct sockaddr_storage ss;
	socklen_t len = h_peer_addr(AF_INET, 7000, &ss);
	int tb = sock(AF_INET, SOCK_STREAM), tc = sock(AF_INET, SOCK_STREAM);
	int ub = sock(AF_INET, SOCK_DGRAM), uc = sock(AF_INET, SOCK_DGRAM);
	int us = sock(AF_INET, SOCK_DGRAM), l = h_listen(AF_INET, 7001);

	cr_assert_geq(l, 0);
	/* TCP: before bind (server), before connect (client). */
	bind_us(tb, AF_INET, 7002);
	ERRNO_IS(sn_set_socket_security(tb, NULL, 0), EINVAL);
	ERRNO_IS(sn_set_socket_security(l, NULL, 0), EINVAL);          /* listening */
	connect_peer(tc, 7003);
	ERRNO_IS(sn_set_socket_security(tc, NULL, 0), EISCONN);        /* connecting */
	/* UDP: right after sn_socket. */
	OK(sn_connect(uc, sa(&ss), len));
	ERRNO_IS(sn_set_socket_security(uc, NULL, 0), EISCONN);
	bind_us(ub, AF_INET, 7004);
	ERRNO_IS(sn_set_socket_security(ub, NULL, 0), EINVAL);
	/* A send binds too. */
	cr_assert_eq(sn_sendto(us, "x", 1, 0, sa(&ss), len), 1, "sendto: %s", strerror(errno));
	ERRNO_IS(sn_set_socket_security(us, NULL, 0), EINVAL);
	close_ok(us);
	close_ok(tb);
	close_ok(tc);
	close_ok(ub);
	close_ok(uc);
	close_ok(l);
}

Test(sec, set_security_connected_tcp_is_eisconn)
{
	int c, s;

	cr_assert_eq(h_tcp_pair(AF_INET, 7005, &c, &s), 0, "no connection");
	ERRNO_IS(sn_set_socket_security(c, NULL, 0), EISCONN);
	ERRNO_IS(sn_set_socket_security(s, NULL, 0), EISCONN);         /* accepted */
	close_ok(c);
	close_ok(s);
	h_poll(20);
}

Test(sec, set_security_default_settings)
{
	struct sn_socket_security_settings st = { SN_SECURITY_PROTOCOL_DEFAULT, 0 };
	uint8_t b[BUF_MAX] = { 0 };
	int t = sock(AF_INET, SOCK_STREAM);

	ERRNO_IS(sn_set_socket_security(t, &st, sizeof(st) - 1), EMSGSIZE);
	ERRNO_IS(sn_set_socket_security(t, &st, 0), EMSGSIZE);
	memcpy(b, &st, sizeof(st));
	ERRNO_IS(sn_set_socket_security(t, (const void *)b, sizeof(st) + 4), EINVAL);
	st.protocol = (sn_security_protocol)7;
	ERRNO_IS(sn_set_socket_security(t, &st, sizeof(st)), EINVAL);
	st.protocol = SN_SECURITY_PROTOCOL_DEFAULT;
	st.flags = 0x4;
	ERRNO_IS(sn_set_socket_security(t, &st, sizeof(st)), EINVAL);
	st.flags = 0x80000000u;
	ERRNO_IS(sn_set_socket_security(t, &st, sizeof(st)), EINVAL);
	/* Failed calls leave the socket without security: the good one works. */
	st.flags = SN_SETTINGS_GUARANTEE_ENCRYPTION | SN_SETTINGS_ALLOW_INSECURE;
	OK(sn_set_socket_security(t, &st, sizeof(st)));
	close_ok(t);
}

Test(sec, set_security_ipsec_lengths)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *s = (void *)b;
	const struct sn_socket_security_settings *st = (const void *)b;
	size_t len;
	int t = sock(AF_INET, SOCK_STREAM);

	/* Shorter than the IPsec structure, longer than the plain one. */
	ipsec_settings(b, "", "", "");
	ERRNO_IS(sn_set_socket_security(t, st, sizeof(struct sn_socket_security_settings)),
		 EMSGSIZE);
	ERRNO_IS(sn_set_socket_security(t, st, sizeof(*s) - 1), EMSGSIZE);
	/* Strings that do not add up to len. */
	len = ipsec_settings(b, "alice", "EXAMPLE", "secret");
	ERRNO_IS(sn_set_socket_security(t, st, len - 1), EINVAL);
	ERRNO_IS(sn_set_socket_security(t, st, len + 1), EINVAL);
	ERRNO_IS(sn_set_socket_security(t, st, sizeof(*s)), EINVAL);
	s->password_len = 0xffffffffu;          /* wraps a 32-bit sum */
	s->user_name_len = 1;
	s->domain_name_len = 0;
	ERRNO_IS(sn_set_socket_security(t, st, sizeof(*s)), EINVAL);
	/* More credential bytes than SN_CREDENTIALS_MAX, lengths consistent. */
	memset(b, 0, BUF_MAX);
	s->protocol = SN_SECURITY_PROTOCOL_IPSEC;
	s->password_len = SN_CREDENTIALS_MAX + 1;
	memset(s->all_strings, 'p', SN_CREDENTIALS_MAX + 1);
	ERRNO_IS(sn_set_socket_security(t, st, sizeof(*s) + SN_CREDENTIALS_MAX + 1), EINVAL);
	/* No NULs inside the strings. */
	len = ipsec_settings(b, "alice", "EXAMPLE", "secret");
	s->all_strings[2] = '\0';
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	/* Exactly SN_CREDENTIALS_MAX is fine. */
	memset(b, 0, BUF_MAX);
	s->protocol = SN_SECURITY_PROTOCOL_IPSEC;
	s->password_len = SN_CREDENTIALS_MAX;
	memset(s->all_strings, 'p', SN_CREDENTIALS_MAX);
	OK(sn_set_socket_security(t, st, sizeof(*s) + SN_CREDENTIALS_MAX));
	close_ok(t);
}

Test(sec, set_security_ipsec_fields)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *s = (void *)b;
	const struct sn_socket_security_settings *st = (const void *)b;
	size_t len;
	int t = sock(AF_INET, SOCK_STREAM);

	len = ipsec_settings(b, "", "", "");
	s->reserved.b[15] = 1;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	len = ipsec_settings(b, "", "", "");
	s->reserved2 = 1;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	len = ipsec_settings(b, "", "", "");
	s->ipsec_flags = 0x10;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	s->ipsec_flags = 0x80000000u;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	len = ipsec_settings(b, "", "", "");
	s->flags = 0x8;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	/* Every defined flag at once is fine. */
	len = ipsec_settings(b, "", "", "");
	s->flags = SN_SETTINGS_GUARANTEE_ENCRYPTION;
	s->ipsec_flags = SN_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION |
			 SN_SETTINGS_IPSEC_OPTIONAL_PEER_NAME_VERIFICATION |
			 SN_SETTINGS_IPSEC_ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED |
			 SN_SETTINGS_IPSEC_PEER_NAME_IS_RAW_FORMAT;
	OK(sn_set_socket_security(t, st, len));
	close_ok(t);
}

Test(sec, set_security_policy_keys)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *s = (void *)b;
	const struct sn_socket_security_settings *st = (const void *)b;
	struct sn_security_policy qm = qm_policy(SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_256, 0);
	struct sn_security_policy ah = qm_policy(SN_TRANSFORM_AH, SN_CIPHER_NONE,
						 SN_INTEGRITY_HMAC_SHA256_128);
	struct sn_security_policy mm = mm_policy();
	struct sn_policy_key kqm = add_ok(&qm), kah = add_ok(&ah), kmm = add_ok(&mm), unknown;
	size_t len;
	int t = sock(AF_INET, SOCK_STREAM), u = sock(AF_INET, SOCK_DGRAM);

	memset(&unknown, 0x5a, sizeof(unknown));
	len = ipsec_settings(b, "", "", "");
	s->mm_policy_key = unknown;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	len = ipsec_settings(b, "", "", "");
	s->qm_policy_key = unknown;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	/* Keys of the wrong type. */
	len = ipsec_settings(b, "", "", "");
	s->mm_policy_key = kqm;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	len = ipsec_settings(b, "", "", "");
	s->qm_policy_key = kmm;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	/* Encryption guaranteed, but the quick-mode policy only has AH. */
	len = ipsec_settings(b, "", "", "");
	s->flags = SN_SETTINGS_GUARANTEE_ENCRYPTION;
	s->qm_policy_key = kah;
	ERRNO_IS(sn_set_socket_security(t, st, len), EINVAL);
	/* Without the guarantee AH is fine; both keys of the right type. */
	s->flags = 0;
	s->mm_policy_key = kmm;
	OK(sn_set_socket_security(t, st, len));
	len = ipsec_settings(b, "", "", "");
	s->flags = SN_SETTINGS_GUARANTEE_ENCRYPTION;
	s->qm_policy_key = kqm;
	OK(sn_set_socket_security(u, st, len));
	/* Sockets keep their copy when the policies go. */
	OK(sn_policy_del(&kqm));
	OK(sn_policy_del(&kah));
	OK(sn_policy_del(&kmm));
	close_ok(t);
	close_ok(u);
}

Test(sec, set_security_credentials_accepted)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	const struct sn_socket_security_settings *st = (const void *)b;
	int t = sock(AF_INET, SOCK_STREAM), t6 = sock(AF_INET6, SOCK_STREAM);
	int u = sock(AF_INET, SOCK_DGRAM);

	OK(sn_set_socket_security(t, st, ipsec_settings(b, "alice", "EXAMPLE.ORG", "s3cr3t")));
	/* UTF-8, and a password alone. */
	OK(sn_set_socket_security(t6, st, ipsec_settings(b, "j\xc3\xb6rg", "", "")));
	OK(sn_set_socket_security(u, st, ipsec_settings(b, "", "", "psk-only")));
	close_ok(t);
	close_ok(t6);
	close_ok(u);
}

/* ---- 1b. sn_policy_add / sn_policy_del ---------------------------------------------- */

Test(sec, policy_add_null_and_type)
{
	struct sn_security_policy p = qm_policy(SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128, 0);
	struct sn_policy_key k;

	ERRNO_IS(sn_policy_add(NULL, &k), EFAULT);
	ERRNO_IS(sn_policy_add(&p, NULL), EFAULT);
	ERRNO_IS(sn_policy_del(NULL), EFAULT);
	p.type = 0;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p.type = 3;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
}

Test(sec, policy_add_quick_mode_validation)
{
	static const struct { const char *what; uint32_t tr, ci, in, pfs; } bad[] = {
		{ "AH with a cipher", SN_TRANSFORM_AH, SN_CIPHER_AES_GCM_128, 0, 0 },
		{ "AH with CBC", SN_TRANSFORM_AH, SN_CIPHER_AES_CBC_128,
		  SN_INTEGRITY_HMAC_SHA256_128, 0 },
		{ "AH without integrity", SN_TRANSFORM_AH, SN_CIPHER_NONE, 0, 0 },
		{ "ESP with neither", SN_TRANSFORM_ESP, SN_CIPHER_NONE, SN_INTEGRITY_NONE, 0 },
		{ "CBC without integrity", SN_TRANSFORM_ESP, SN_CIPHER_AES_CBC_128, 0, 0 },
		{ "CBC-256 without integrity", SN_TRANSFORM_ESP, SN_CIPHER_AES_CBC_256, 0, 0 },
		{ "GCM with integrity", SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128,
		  SN_INTEGRITY_HMAC_SHA1_96, 0 },
		{ "ChaCha with integrity", SN_TRANSFORM_ESP, SN_CIPHER_CHACHA20_POLY1305,
		  SN_INTEGRITY_HMAC_SHA256_128, 0 },
		{ "unknown transform", 3, SN_CIPHER_AES_GCM_128, 0, 0 },
		{ "transform 0", 0, SN_CIPHER_AES_GCM_128, 0, 0 },
		{ "unknown cipher", SN_TRANSFORM_ESP, 99, SN_INTEGRITY_HMAC_SHA256_128, 0 },
		{ "unknown integrity", SN_TRANSFORM_ESP, SN_CIPHER_AES_CBC_128, 9, 0 },
		{ "bad DH group", SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128, 0, 3 },
		{ "bad DH group 1", SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128, 0, 1 },
	};
	struct sn_policy_key k;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sn_security_policy p = qm_policy(bad[i].tr, bad[i].ci, bad[i].in);

		p.u.qm.proposals[0].pfs_group = bad[i].pfs;
		errno = 0;
		cr_expect_eq(sn_policy_add(&p, &k), -1, "%s: accepted", bad[i].what);
		cr_expect_eq(errno, EINVAL, "%s: errno %s", bad[i].what, strerror(errno));
	}
	/* Proposal counts: 1..SN_MAX_PROPOSALS. */
	struct sn_security_policy p = qm_policy(SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128, 0);

	p.u.qm.n_proposals = 0;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p.u.qm.n_proposals = SN_MAX_PROPOSALS + 1;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	/* A bad proposal after good ones spoils the policy. */
	for (int i = 0; i < SN_MAX_PROPOSALS; i++)
		p.u.qm.proposals[i] = p.u.qm.proposals[0];
	p.u.qm.n_proposals = SN_MAX_PROPOSALS;
	p.u.qm.proposals[SN_MAX_PROPOSALS - 1].integrity = SN_INTEGRITY_HMAC_SHA1_96;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	/* All of them good, with PFS. */
	p.u.qm.proposals[SN_MAX_PROPOSALS - 1].integrity = SN_INTEGRITY_NONE;
	p.u.qm.proposals[0].pfs_group = 31;
	k = add_ok(&p);
	OK(sn_policy_del(&k));
}

Test(sec, policy_add_main_mode_validation)
{
	struct sn_security_policy p = mm_policy();
	struct sn_policy_key k;

	p.u.mm.auth_method = 0;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p.u.mm.auth_method = SN_AUTH_ANONYMOUS + 1;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p = mm_policy();
	p.u.mm.n_proposals = 0;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p.u.mm.n_proposals = SN_MAX_PROPOSALS + 1;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p = mm_policy();
	p.u.mm.proposals[0].dh_group = 0;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p.u.mm.proposals[0].dh_group = 22;              /* not offered */
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p = mm_policy();
	p.u.mm.proposals[0].integ = 12;                 /* AEAD with integrity */
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p = mm_policy();
	p.u.mm.proposals[0].encr = 12;                  /* CBC without integrity */
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p.u.mm.proposals[0].integ = 12;
	k = add_ok(&p);
	OK(sn_policy_del(&k));
	p = mm_policy();
	p.u.mm.proposals[0].encr_key_bits = 192;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p = mm_policy();
	p.u.mm.proposals[0].prf = 0;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
	p = mm_policy();
	p.u.mm.proposals[0].encr = 99;
	ERRNO_IS(sn_policy_add(&p, &k), EINVAL);
}

Test(sec, policy_keys_distinct_and_del)
{
	struct sn_security_policy qm = qm_policy(SN_TRANSFORM_ESP, SN_CIPHER_AES_CBC_256,
						 SN_INTEGRITY_HMAC_SHA256_128);
	struct sn_security_policy mm = mm_policy();
	struct sn_policy_key a = add_ok(&qm), b = add_ok(&qm), c = add_ok(&mm), zero, unknown;
	_Alignas(16) uint8_t buf[BUF_MAX];
	struct sn_socket_security_settings_ipsec *s = (void *)buf;
	size_t len;
	int t = sock(AF_INET, SOCK_STREAM);

	cr_expect_neq(memcmp(&a, &b, sizeof(a)), 0, "the same policy twice: one key");
	cr_expect_neq(memcmp(&a, &c, sizeof(a)), 0);
	cr_expect_neq(memcmp(&b, &c, sizeof(a)), 0);
	memset(&zero, 0, sizeof(zero));
	memset(&unknown, 0x77, sizeof(unknown));
	ERRNO_IS(sn_policy_del(&zero), EINVAL);
	ERRNO_IS(sn_policy_del(&unknown), ENOENT);
	OK(sn_policy_del(&a));
	ERRNO_IS(sn_policy_del(&a), ENOENT);                           /* gone */
	/* A deleted key cannot be used; the others still can. */
	len = ipsec_settings(buf, "", "", "");
	s->qm_policy_key = a;
	ERRNO_IS(sn_set_socket_security(t, (const void *)buf, len), EINVAL);
	OK(sn_policy_del(&c));
	s->qm_policy_key = b;
	s->mm_policy_key = c;
	ERRNO_IS(sn_set_socket_security(t, (const void *)buf, len), EINVAL);
	memset(&s->mm_policy_key, 0, sizeof(s->mm_policy_key));
	OK(sn_set_socket_security(t, (const void *)buf, len));
	OK(sn_policy_del(&b));
	close_ok(t);
}

Test(sec, policy_registry_full_is_enospc)
{
	static struct sn_policy_key keys[SN_MAX_POLICIES];
	struct sn_security_policy p = qm_policy(SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128, 0);
	struct sn_policy_key k;
	int n = 0;

	while (n < SN_MAX_POLICIES && sn_policy_add(&p, &keys[n]) == 0)
		n++;
	cr_assert_eq(n, SN_MAX_POLICIES, "stopped after %d: %s", n, strerror(errno));
	ERRNO_IS(sn_policy_add(&p, &k), ENOSPC);
	/* Every key distinct and non-zero. */
	for (int i = 0; i < n; i++) {
		cr_expect(!key_zero(&keys[i]), "key %d is zero", i);
		for (int j = 0; j < i; j++)
			cr_expect_neq(memcmp(&keys[i], &keys[j], sizeof(k)), 0,
				      "keys %d and %d equal", i, j);
	}
	/* One slot back, one more policy. */
	OK(sn_policy_del(&keys[100]));
	keys[100] = add_ok(&p);
	ERRNO_IS(sn_policy_add(&p, &k), ENOSPC);
	for (int i = 0; i < n; i++)
		OK(sn_policy_del(&keys[i]));
	k = add_ok(&p);
	OK(sn_policy_del(&k));
}

/* ---- 1c. Target names ---------------------------------------------------------------- */

Test(sec, target_name_errors)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	static char longname[SN_IDENTITY_MAX + 2];
	int t = sock(AF_INET, SOCK_STREAM), plain = sock(AF_INET, SOCK_STREAM);
	int ep = sn_epoll_create(1);
	size_t len;

	cr_assert_geq(ep, 0);
	secure(t);
	len = target(b, AF_INET, H_IP4_PEER, 443, PEER_ID);
	ERRNO_IS(sn_set_socket_peer_target_name(-1, tn, len), EBADF);
	ERRNO_IS(sn_set_socket_peer_target_name(ep, tn, len), ENOTSOCK);
	ERRNO_IS(sn_set_socket_peer_target_name(t, NULL, len), EFAULT);
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, sizeof(*tn) - 1), EMSGSIZE);
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, 0), EMSGSIZE);
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, len - 1), EINVAL);
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, len + 1), EINVAL);
	/* Empty and too long names. */
	len = target(b, AF_INET, H_IP4_PEER, 443, "");
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, len), EINVAL);
	memset(longname, 'n', SN_IDENTITY_MAX + 1);
	len = target(b, AF_INET, H_IP4_PEER, 443, longname);
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, len), EINVAL);
	longname[SN_IDENTITY_MAX] = '\0';               /* the longest allowed */
	len = target(b, AF_INET, H_IP4_PEER, 443, longname);
	OK(sn_set_socket_peer_target_name(t, tn, len));
	/* Bad protocol. */
	len = target(b, AF_INET, H_IP4_PEER, 443, PEER_ID);
	tn->protocol = (sn_security_protocol)7;
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, len), EINVAL);
	/* Another family, and no family at all. */
	len = target(b, AF_INET6, H_IP6_PEER, 443, PEER_ID);
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, len), EINVAL);
	len = target(b, AF_INET, H_IP4_PEER, 443, PEER_ID);
	tn->peer.ss_family = AF_UNSPEC;
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, len), EINVAL);
	/* A socket without security. */
	len = target(b, AF_INET, H_IP4_PEER, 443, PEER_ID);
	ERRNO_IS(sn_set_socket_peer_target_name(plain, tn, len), EINVAL);
	/* TCP: the unspecified address, any port, is any peer. */
	len = target(b, AF_INET, "0.0.0.0", 0, PEER_ID);
	OK(sn_set_socket_peer_target_name(t, tn, len));
	close_ok(t);
	close_ok(plain);
	close_ok(ep);
}

Test(sec, target_name_udp_zero_peer)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	int u = sock(AF_INET, SOCK_DGRAM), u6 = sock(AF_INET6, SOCK_DGRAM);

	secure(u);
	secure(u6);
	ERRNO_IS(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, "0.0.0.0", 0, PEER_ID)),
		 EINVAL);
	ERRNO_IS(sn_set_socket_peer_target_name(u6, tn, target(b, AF_INET6, "::", 0, PEER_ID)),
		 EINVAL);
	/* Zero address with a port, or an address with port 0, are fine. */
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, "0.0.0.0", 53, PEER_ID)));
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 0, PEER_ID)));
	OK(sn_set_socket_peer_target_name(u6, tn, target(b, AF_INET6, H_IP6_PEER, 0, PEER_ID)));
	close_ok(u);
	close_ok(u6);
}

Test(sec, target_name_connecting_tcp_is_eisconn)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	size_t len = target(b, AF_INET, H_IP4_PEER, 7010, PEER_ID);
	int t = sock(AF_INET, SOCK_STREAM);

	secure(t);
	OK(sn_set_socket_peer_target_name(t, tn, len));                /* before connect */
	connect_peer(t, 7010);
	ERRNO_IS(sn_set_socket_peer_target_name(t, tn, len), EISCONN);
	close_ok(t);
}

Test(sec, target_name_table_full_replace_delete)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	struct sockaddr_storage ss;
	socklen_t alen;
	int u = sock(AF_INET, SOCK_DGRAM), plain = sock(AF_INET, SOCK_DGRAM);

	secure(u);
	for (int i = 0; i < SN_MAX_TARGET_NAMES; i++)
		OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER,
								(uint16_t)(1000 + i), PEER_ID)));
	ERRNO_IS(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 2000,
							      PEER_ID)), ENOSPC);
	/* Full, a second call for a peer that has one replaces it. */
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 1003,
							"other.example")));
	/* Delete: by address and port as set. */
	alen = h_peer_addr(AF_INET, 1003, &ss);
	ERRNO_IS(sn_delete_socket_peer_target_name(u, NULL, alen), EFAULT);
	ERRNO_IS(sn_delete_socket_peer_target_name(u, sa(&ss), alen - 1), EMSGSIZE);
	ERRNO_IS(sn_delete_socket_peer_target_name(-1, sa(&ss), alen), EBADF);
	ERRNO_IS(sn_delete_socket_peer_target_name(plain, sa(&ss), alen), EINVAL);
	OK(sn_delete_socket_peer_target_name(u, sa(&ss), alen));
	ERRNO_IS(sn_delete_socket_peer_target_name(u, sa(&ss), alen), ENOENT);
	alen = h_peer_addr(AF_INET6, 1004, &ss);
	ERRNO_IS(sn_delete_socket_peer_target_name(u, sa(&ss), alen), EINVAL);
	alen = h_peer_addr(AF_INET, 2000, &ss);
	ERRNO_IS(sn_delete_socket_peer_target_name(u, sa(&ss), alen), ENOENT);
	/* The slot it freed takes a new peer, then the table is full again. */
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 2000, PEER_ID)));
	ERRNO_IS(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 2001,
							      PEER_ID)), ENOSPC);
	close_ok(u);
	close_ok(plain);
}

/* The replaced name is the one that counts: a single delete removes it. */
Test(sec, target_name_replace_keeps_one_entry)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 53, &ss);
	int u = sock(AF_INET, SOCK_DGRAM);

	secure(u);
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 53, "a.example")));
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 53, "b.example")));
	OK(sn_delete_socket_peer_target_name(u, sa(&ss), alen));
	ERRNO_IS(sn_delete_socket_peer_target_name(u, sa(&ss), alen), ENOENT);
	close_ok(u);
}

/* ---- 1d. sn_query_socket_security ------------------------------------------------------ */

Test(sec, query_arguments)
{
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	size_t ilen;
	int u = sock(AF_INET, SOCK_DGRAM), t = sock(AF_INET, SOCK_STREAM);
	int ep = sn_epoll_create(1);

	cr_assert_geq(ep, 0);
	secure(u);
	secure(t);
	tmpl_for(&tm, AF_INET, 6000);
	ilen = sizeof(info);
	ERRNO_IS(sn_query_socket_security(-1, &tm, sizeof(tm), &info, &ilen), EBADF);
	ERRNO_IS(sn_query_socket_security(ep, &tm, sizeof(tm), &info, &ilen), ENOTSOCK);
	ERRNO_IS(sn_query_socket_security(u, &tm, sizeof(tm), &info, NULL), EFAULT);
	/* No room: the size needed comes back. */
	ilen = 0;
	ERRNO_IS(sn_query_socket_security(u, &tm, sizeof(tm), NULL, &ilen), EMSGSIZE);
	cr_expect_eq(ilen, sizeof(info));
	ilen = sizeof(info) - 1;
	ERRNO_IS(sn_query_socket_security(u, &tm, sizeof(tm), &info, &ilen), EMSGSIZE);
	cr_expect_eq(ilen, sizeof(info));
	/* Templates. */
	ilen = sizeof(info);
	ERRNO_IS(sn_query_socket_security(u, &tm, sizeof(tm) - 1, &info, &ilen), EMSGSIZE);
	ERRNO_IS(sn_query_socket_security(u, NULL, 0, &info, &ilen), EINVAL);   /* UDP */
	tm.protocol = (sn_security_protocol)7;
	ERRNO_IS(sn_query_socket_security(u, &tm, sizeof(tm), &info, &ilen), EINVAL);
	tmpl_for(&tm, AF_INET6, 6000);
	ERRNO_IS(sn_query_socket_security(u, &tm, sizeof(tm), &info, &ilen), EINVAL);
	/* TCP: secured, not connected. */
	ERRNO_IS(sn_query_socket_security(t, NULL, 0, &info, &ilen), ENOTCONN);
	/* A bigger buffer is fine; *info_len says what was filled. */
	tmpl_for(&tm, AF_INET, 6000);
	ilen = sizeof(info) + 8;
	OK(sn_query_socket_security(u, &tm, sizeof(tm), &info, &ilen));
	cr_expect_eq(ilen, sizeof(info));
	close_ok(u);
	close_ok(t);
	close_ok(ep);
}

Test(sec, query_without_security)
{
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	int u = sock(AF_INET, SOCK_DGRAM), c, s;

	tmpl_for(&tm, AF_INET, 6000);
	OK(query(u, &tm, &info));
	cr_expect_eq(info.flags, 0u);
	cr_expect_eq(info.peer_application_token, NULL);
	cr_expect_eq(info.peer_machine_token, NULL);
	cr_expect_eq(info.transform, 0u);
	cr_expect_str_empty(info.peer_identity);
	cr_assert_eq(h_tcp_pair(AF_INET, 7020, &c, &s), 0, "no connection");
	OK(query(c, NULL, &info));
	cr_expect_eq(info.flags, 0u);
	OK(query(s, NULL, &info));
	cr_expect_eq(info.flags, 0u);
	close_ok(u);
	close_ok(c);
	close_ok(s);
	h_poll(20);
}

/* ---- 1e. Impersonation ----------------------------------------------------------------- */

Test(sec, impersonate_errors)
{
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM), plain = sock(AF_INET, SOCK_DGRAM);
	int t = sock(AF_INET, SOCK_STREAM), tplain = sock(AF_INET, SOCK_STREAM);
	int ep = sn_epoll_create(1);

	cr_assert_geq(ep, 0);
	secure(u);
	secure(t);
	ERRNO_IS(sn_impersonate_socket_peer(-1, sa(&ss), alen), EBADF);
	ERRNO_IS(sn_impersonate_socket_peer(ep, sa(&ss), alen), ENOTSOCK);
	ERRNO_IS(sn_impersonate_socket_peer(u, NULL, 0), EFAULT);
	ERRNO_IS(sn_impersonate_socket_peer(plain, sa(&ss), alen), EINVAL);
	ERRNO_IS(sn_impersonate_socket_peer(tplain, NULL, 0), EINVAL);
	ERRNO_IS(sn_impersonate_socket_peer(u, sa(&ss), alen - 1), EMSGSIZE);
	ERRNO_IS(sn_impersonate_socket_peer(t, NULL, 0), ENOTCONN);
	/* No SA, so no proven identity. */
	ERRNO_IS(sn_impersonate_socket_peer(u, sa(&ss), alen), EACCES);
	cr_expect_eq(sn_revert_impersonation(), 0);
	cr_expect_eq(sn_revert_impersonation(), 0);
	close_ok(u);
	close_ok(plain);
	close_ok(t);
	close_ok(tplain);
	close_ok(ep);
}

/* ---- 3. The exclusive port --------------------------------------------------------------- */

static void reuse(int fd)
{
	int on = 1;

	OK(sn_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)));
}

static int bind_to(int fd, int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(family, port, &ss);

	return sn_bind(fd, sa(&ss), len);
}

/* SO_EXCLUSIVEADDRUSE: with SO_REUSEADDR on both, lwIP lets two sockets
 * share a port (the control); a secured socket's port is its own all the
 * same, and a secured socket cannot join a port in use. */
static void exclusive_port(int family, int type, uint16_t p)
{
	int a = sock(family, type), b = sock(family, type), s, x;

	reuse(a);
	reuse(b);
	bind_us(a, family, p);
	bind_us(b, family, p);
	close_ok(a);
	close_ok(b);

	/* Secured first: nobody else, secured or not. */
	s = sock(family, type);
	reuse(s);
	secure(s);
	bind_us(s, family, p);
	if (type == SOCK_STREAM)
		OK(sn_listen(s, 4));
	x = sock(family, type);
	reuse(x);
	ERRNO_IS(bind_to(x, family, p), EADDRINUSE);
	b = sock(family, type);
	reuse(b);
	secure(b);
	ERRNO_IS(bind_to(b, family, p), EADDRINUSE);
	/* Gone with the secured socket. */
	close_ok(s);
	h_poll(2);
	bind_us(x, family, p);

	/* Unsecured first: the secured socket cannot take the port. */
	ERRNO_IS(bind_to(b, family, p), EADDRINUSE);
	close_ok(x);
	h_poll(2);
	bind_us(b, family, p);
	close_ok(b);
}

Test(sec, exclusive_port_udp)
{
	exclusive_port(AF_INET, SOCK_DGRAM, 7030);
}

Test(sec, exclusive_port_udp6)
{
	exclusive_port(AF_INET6, SOCK_DGRAM, 7030);
}

Test(sec, exclusive_port_tcp)
{
	exclusive_port(AF_INET, SOCK_STREAM, 7031);
}

Test(sec, exclusive_port_tcp6)
{
	exclusive_port(AF_INET6, SOCK_STREAM, 7031);
}

/* Without SO_REUSEADDR: the plain conflict stays EADDRINUSE both ways. */
Test(sec, exclusive_port_plain_conflict)
{
	int s = sock(AF_INET, SOCK_DGRAM), x = sock(AF_INET, SOCK_DGRAM);

	secure(s);
	bind_us(s, AF_INET, 7032);
	ERRNO_IS(bind_to(x, AF_INET, 7032), EADDRINUSE);
	close_ok(s);
	close_ok(x);
	s = sock(AF_INET, SOCK_STREAM);
	x = sock(AF_INET, SOCK_STREAM);
	secure(x);
	bind_us(s, AF_INET, 7032);
	ERRNO_IS(bind_to(x, AF_INET, 7032), EADDRINUSE);
	close_ok(s);
	close_ok(x);
}

/* Port 0 stays an ephemeral choice for secured sockets too. */
Test(sec, exclusive_port_zero_is_ephemeral)
{
	int a = sock(AF_INET, SOCK_DGRAM), b = sock(AF_INET, SOCK_DGRAM);

	secure(a);
	secure(b);
	bind_us(a, AF_INET, 0);
	bind_us(b, AF_INET, 0);
	close_ok(a);
	close_ok(b);
}

/* ---- 4. Datapath ---------------------------------------------------------------------------- */

/* Frames of IPv4 protocol proto on the wire (taken out of the capture). */
static unsigned tx_drain(int proto)
{
	uint8_t f[H_FRAME_MAX];
	unsigned n = 0;

	while (h_tx_find(H_ETH_IP4, proto, f, sizeof(f)))
		n++;
	return n;
}

Test(sec, udp_no_sa_is_refused_and_silent)
{
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM);

	secure(u);
	ERRNO_IS(sn_sendto(u, "hello", 5, 0, sa(&ss), alen), ECONNREFUSED);
	/* Connected: send() fails the same way. */
	OK(sn_connect(u, sa(&ss), alen));
	ERRNO_IS(sn_send(u, "hello", 5, 0), ECONNREFUSED);
	h_poll(10);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u, "cleartext UDP on the wire");
	cr_expect_eq(tx_drain(PROTO_ESP), 0u);
	/* The query says why: no flags, the last failure. */
	tmpl_for(&tm, AF_INET, 6000);
	OK(query(u, &tm, &info));
	cr_expect_eq(info.flags, 0u);
	cr_expect_eq(info.last_error, ECONNREFUSED, "last_error %d", info.last_error);
	cr_expect_eq(info.spi_in, 0u);
	cr_expect_eq(info.spi_out, 0u);
	close_ok(u);
}

Test(sec, udp_allow_insecure_sends_clear)
{
	uint8_t f[H_FRAME_MAX];
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	uint64_t clear0 = h_stat("ipsec.clear_out_allowed");
	int u = sock(AF_INET, SOCK_DGRAM);
	size_t n;

	secure_flags(u, SN_SETTINGS_ALLOW_INSECURE);
	bind_us(u, AF_INET, 5000);
	cr_assert_eq(sn_sendto(u, "hello", 5, 0, sa(&ss), alen), 5, "sendto: %s",
		     strerror(errno));
	h_poll(10);
	n = h_tx_find(H_ETH_IP4, H_PROTO_UDP, f, sizeof(f));
	cr_assert_eq(n, (size_t)(H_ETH_HLEN + H_IP4_HLEN + 8 + 5), "no cleartext datagram");
	cr_expect_eq(h_be16(f + H_ETH_HLEN + H_IP4_HLEN), 5000);
	cr_expect_eq(h_be16(f + H_ETH_HLEN + H_IP4_HLEN + 2), 6000);
	cr_expect_eq(memcmp(f + H_ETH_HLEN + H_IP4_HLEN + 8, "hello", 5), 0);
	cr_expect_eq(h_stat("ipsec.clear_out_allowed"), clear0 + 1);
	tmpl_for(&tm, AF_INET, 6000);
	OK(query(u, &tm, &info));
	cr_expect_eq(info.flags & SN_INFO_CONNECTION_SECURED, 0u);
	close_ok(u);
}

Test(sec, udp_cleartext_inbound_dropped)
{
	uint8_t f[H_FRAME_MAX], d[64], b[64];
	uint64_t drop0;
	int u = sock(AF_INET, SOCK_DGRAM), plain = sock(AF_INET, SOCK_DGRAM);
	size_t n;

	secure(u);
	bind_us(u, AF_INET, 5001);
	bind_us(plain, AF_INET, 5002);
	/* Control: the same datagram reaches an unsecured socket. */
	n = h_udp_dgram(d, 6000, 5002, "clear", 5);
	cr_assert_eq(h_inject(f, h_ipv4(f, H_PROTO_UDP, h_ip4(H_IP4_PEER), h_ip4(H_IP4_US), d, n)),
		     0);
	h_poll(4);
	cr_assert_eq(sn_recv(plain, b, sizeof(b), 0), 5, "control datagram not delivered");
	drop0 = h_stat("ipsec.drop_cleartext");
	n = h_udp_dgram(d, 6000, 5001, "clear", 5);
	cr_assert_eq(h_inject(f, h_ipv4(f, H_PROTO_UDP, h_ip4(H_IP4_PEER), h_ip4(H_IP4_US), d, n)),
		     0);
	h_poll(4);
	ERRNO_IS(sn_recv(u, b, sizeof(b), 0), EAGAIN);
	cr_expect_eq(h_stat("ipsec.drop_cleartext"), drop0 + 1);
	close_ok(u);
	close_ok(plain);
}

/* Poll until SO_ERROR reports something (bounded): that errno, or 0. */
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

/* stderr into a file while the stack logs; stderr_back restores it and
 * gives what was written (bounded, NUL-terminated). */
static const char *log_path(void)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/sn_sec_log.%d", (int)getpid());
	return path;
}

static int stderr_to(const char *path)
{
	int saved, fd;

	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	cr_assert(saved >= 0 && fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(dup2(fd, 2), 2);
	close(fd);
	return saved;
}

static void stderr_back(int saved, char *buf, size_t cap)
{
	FILE *fp;
	size_t n;

	fflush(stderr);
	cr_assert_eq(dup2(saved, 2), 2);
	close(saved);
	fp = fopen(log_path(), "r");
	cr_assert_not_null(fp);
	n = fread(buf, 1, cap - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	unlink(log_path());
}

/* Lines of text that start with prefix. */
static int count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		n += strncmp(l, prefix, strlen(prefix)) == 0;
	return n;
}

Test(sec, tcp_connect_no_sa_refused_no_syn)
{
	struct sn_socket_security_query_info info;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 7040, &ss);
	uint64_t no_sa0 = h_stat("ipsec.drop_no_sa"), name0 = h_stat("ipsec.drop_peer_name_out");
	int t = sock(AF_INET, SOCK_STREAM), err, saved;
	char log[1024];

	secure(t);
	saved = stderr_to(log_path());
	ERRNO_IS(sn_connect(t, sa(&ss), alen), EINPROGRESS);
	err = wait_so_error(t, 100);
	stderr_back(saved, log, sizeof(log));
	cr_expect_eq(err, ECONNREFUSED, "SO_ERROR %d (%s)", err, strerror(err));
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear on the wire");
	cr_expect_eq(tx_drain(PROTO_ESP), 0u);
	cr_expect_gt(h_stat("ipsec.drop_no_sa"), no_sa0, "the SYN not counted as no SA");
	cr_expect_eq(h_stat("ipsec.drop_peer_name_out"), name0);
	cr_expect_eq(count_lines(log, "sealnet: secured connect to " H_IP4_PEER " port 7040 "
				 "failed: no SA with the peer"), 1, "log: %s", log);
	/* The failure stays: a second connect and the query report it. */
	ERRNO_IS(sn_connect(t, sa(&ss), alen), ECONNREFUSED);
	OK(query(t, NULL, &info));
	cr_expect_eq(info.flags, 0u);
	cr_expect_eq(info.last_error, ECONNREFUSED, "last_error %d", info.last_error);
	cr_expect(strncmp(info.last_error_text, "no SA with the peer", 19) == 0, "text '%s'",
		  info.last_error_text);
	close_ok(t);
}

/* The same, IPv6: the failure does not depend on the family. */
Test(sec, tcp6_connect_no_sa_refused)
{
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET6, 7041, &ss);
	int t = sock(AF_INET6, SOCK_STREAM), err;
	uint8_t f[H_FRAME_MAX];
	unsigned tcp = 0;

	h_learn_peer6();
	h_tx_clear();
	secure(t);
	ERRNO_IS(sn_connect(t, sa(&ss), alen), EINPROGRESS);
	err = wait_so_error(t, 100);
	cr_expect_eq(err, ECONNREFUSED, "SO_ERROR %d (%s)", err, strerror(err));
	while (h_tx_find(H_ETH_IP6, -1, f, sizeof(f)))
		tcp += f[H_ETH_HLEN + 6] == H_PROTO_TCP;
	cr_expect_eq(tcp, 0u, "TCP in the clear on the wire");
	close_ok(t);
}

static void inject_syn(uint16_t dport)
{
	uint8_t f[H_FRAME_MAX], seg[64];
	size_t n = h_tcp_seg(seg, 40000, dport, 1000, 0, H_SYN, NULL, 0);

	cr_assert_eq(h_inject(f, h_ipv4(f, H_PROTO_TCP, h_ip4(H_IP4_PEER), h_ip4(H_IP4_US),
					 seg, n)), 0);
	h_poll(4);
}

/* The first captured TCP segment's flags, or -1. */
static int tx_tcp_flags(void)
{
	uint8_t f[H_FRAME_MAX];

	if (!h_tx_find(H_ETH_IP4, H_PROTO_TCP, f, sizeof(f)))
		return -1;
	return f[H_ETH_HLEN + H_IP4_HLEN + 13];
}

Test(sec, tcp_listener_drops_cleartext_syn)
{
	int plain = h_listen(AF_INET, 7050), l = sock(AF_INET, SOCK_STREAM);
	uint64_t drop0;
	int flags;

	cr_assert_geq(plain, 0);
	/* Control: an unsecured listener answers the same SYN. */
	h_tx_clear();
	inject_syn(7050);
	flags = tx_tcp_flags();
	cr_assert_eq(flags, H_SYN | H_ACK, "control: no SYN-ACK (flags %d)", flags);
	secure(l);
	bind_us(l, AF_INET, 7051);
	OK(sn_listen(l, 4));
	h_tx_clear();
	drop0 = h_stat("ipsec.drop_cleartext");
	inject_syn(7051);
	h_poll(10);
	flags = tx_tcp_flags();
	cr_expect_eq(flags, -1, "secured listener answered a cleartext SYN (flags %d)", flags);
	cr_expect_eq(h_stat("ipsec.drop_cleartext"), drop0 + 1);
	ERRNO_IS(sn_accept(l, NULL, NULL), EAGAIN);
	close_ok(plain);
	close_ok(l);
}

/* Accepted sockets inherit the listener's settings. Over the loopback
 * (no SA): the listener allows insecure traffic, so the connection is
 * made in the clear; the accepted socket is secured all the same, which a
 * target name shows (EISCONN, where a socket without security gets
 * EINVAL). */
Test(sec, accepted_socket_inherits_settings)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	struct sn_socket_security_query_info info;
	struct sockaddr_storage ss;
	socklen_t len = h_addr(AF_INET, 7060, &ss);
	int l = sock(AF_INET, SOCK_STREAM), c = sock(AF_INET, SOCK_STREAM), a = -1;
	size_t tlen = target(b, AF_INET, H_IP4_US, 0, PEER_ID);

	secure_flags(l, SN_SETTINGS_ALLOW_INSECURE);
	bind_us(l, AF_INET, 7060);
	OK(sn_listen(l, 4));
	ERRNO_IS(sn_connect(c, sa(&ss), len), EINPROGRESS);
	for (int i = 0; i < 200 && a < 0; i++) {
		h_poll(1);
		a = sn_accept(l, NULL, NULL);
	}
	cr_assert_geq(a, 0, "no connection accepted");
	h_poll(4);
	ERRNO_IS(sn_set_socket_peer_target_name(c, tn, tlen), EINVAL);  /* client: none */
	ERRNO_IS(sn_set_socket_peer_target_name(a, tn, tlen), EISCONN);
	OK(query(a, NULL, &info));
	cr_expect_eq(info.flags & SN_INFO_CONNECTION_SECURED, 0u, "in the clear, yet SECURED");
	cr_expect_gt(h_stat("ipsec.clear_in_allowed"), 0u);
	close_ok(a);
	close_ok(c);
	close_ok(l);
	h_poll(50);
}

/* ---- 4b. A manual ESP SA pair the socket's own policy selects -------------------------------- */

#define GCM_KEY_OUT "0x000102030405060708090a0b0c0d0e0f10111213"
#define GCM_KEY_IN  "0x202122232425262728292a2b2c2d2e2f30313233"
/* HMAC-SHA-256 keys: ESP-NULL and AH. */
#define NULL_KEY_OUT "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define NULL_KEY_IN  "0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"

static void xfrm(const char *line)
{
	char err[256] = "";

	cr_assert_eq(sn_ipsec_xfrm(line, err, sizeof(err)), 0, "%s: %s", line, err);
}

/* Our SA (out) or the peer's (in), GCM-128, transport, reqid 7. */
static void gcm_line(bool in, const char *extra, char *l, size_t cap)
{
	snprintf(l, cap, "state add src %s dst %s proto esp spi 0x%x mode transport reqid 7 "
		 "aead 'rfc4106(gcm(aes))' %s 128 %s", in ? H_IP4_PEER : H_IP4_US,
		 in ? H_IP4_US : H_IP4_PEER, in ? SPI_IN : SPI_OUT,
		 in ? GCM_KEY_IN : GCM_KEY_OUT, extra);
}

/* State lines only: no policy names these SAs. */
static void install_gcm_pair(const char *extra)
{
	char l[512];

	gcm_line(false, extra, l, sizeof(l));
	xfrm(l);
	gcm_line(true, extra, l, sizeof(l));
	xfrm(l);
}

#define SPI_NULL_OUT 0x3001u
#define SPI_NULL_IN  0x3002u

static void null_line(bool in, char *l, size_t cap)
{
	snprintf(l, cap, "state add src %s dst %s proto esp spi 0x%x mode transport reqid 9 "
		 "enc 'ecb(cipher_null)' \"\" auth-trunc 'hmac(sha256)' %s 128",
		 in ? H_IP4_PEER : H_IP4_US, in ? H_IP4_US : H_IP4_PEER,
		 in ? SPI_NULL_IN : SPI_NULL_OUT, in ? NULL_KEY_IN : NULL_KEY_OUT);
}

Test(sec, udp_esp_sa_selected_by_socket_policy)
{
	uint8_t f[H_FRAME_MAX];
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM), plain = sock(AF_INET, SOCK_DGRAM);
	size_t n;

	install_gcm_pair("peer-id " PEER_ID " limit time-soft 600 limit byte-soft 100000");
	/* Without a policy the SAs protect nothing: the unsecured socket
	 * sends in the clear. */
	bind_us(plain, AF_INET, 5003);
	cr_assert_eq(sn_sendto(plain, "plain", 5, 0, sa(&ss), alen), 5);
	h_poll(10);
	cr_assert_eq(tx_drain(H_PROTO_UDP), 1u, "control: no cleartext datagram");

	secure(u);
	bind_us(u, AF_INET, 5000);
	cr_assert_eq(sn_sendto(u, "hello", 5, 0, sa(&ss), alen), 5, "sendto: %s",
		     strerror(errno));
	h_poll(10);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u, "cleartext datagram on the wire");
	n = h_tx_find(H_ETH_IP4, PROTO_ESP, f, sizeof(f));
	cr_assert_gt(n, (size_t)(H_ETH_HLEN + H_IP4_HLEN + 8), "no ESP on the wire");
	cr_expect_eq(h_be32(f + H_ETH_HLEN + H_IP4_HLEN), SPI_OUT);
	cr_expect_eq(h_be32(f + H_ETH_HLEN + H_IP4_HLEN + 4), 1u, "first sequence number");

	tmpl_for(&tm, AF_INET, 6000);
	OK(query(u, &tm, &info));
	cr_expect_eq(info.protocol, SN_SECURITY_PROTOCOL_IPSEC);
	expect_sa(&info, &(struct want_sa){ SN_INFO_CONNECTION_SECURED | SN_INFO_CONNECTION_ENCRYPTED,
					   SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128,
					   SN_INTEGRITY_NONE, SPI_OUT, SPI_IN });
	cr_expect_eq(info.mode, SN_IPSEC_MODE_TRANSPORT);
	cr_expect_eq(info.udp_encap, 0u);
	cr_expect_str_eq(info.peer_identity, PEER_ID);
	/* Before the soft limits of the outbound SA, which carried one
	 * 33-byte packet. */
	cr_expect(info.seconds_left <= 600 && info.seconds_left >= 590, "seconds_left %llu",
		  (unsigned long long)info.seconds_left);
	cr_expect(info.bytes_left < 100000 && info.bytes_left >= 100000 - 64, "bytes_left %llu",
		  (unsigned long long)info.bytes_left);
	cr_expect_eq(info.last_error, 0);
	/* No principal map: nothing to impersonate, no tokens. */
	cr_expect_eq(info.flags & SN_INFO_CONNECTION_IMPERSONATED, 0u);
	cr_expect_eq(info.peer_application_token, NULL);
	cr_expect_eq(info.peer_machine_token, NULL);
	ERRNO_IS(sn_impersonate_socket_peer(u, sa(&ss), alen), EACCES);
	close_ok(u);
	close_ok(plain);
}

/* The SA's proven identity against the target name: case-folded unless
 * raw; a name the SA does not prove keeps the traffic off the wire. */
Test(sec, udp_esp_target_name_checked)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int good = sock(AF_INET, SOCK_DGRAM), bad = sock(AF_INET, SOCK_DGRAM);

	install_gcm_pair("peer-id " PEER_ID);
	secure(good);
	secure(bad);
	OK(sn_set_socket_peer_target_name(good, tn, target(b, AF_INET, H_IP4_PEER, 6000,
							   "Server.Example")));
	OK(sn_set_socket_peer_target_name(bad, tn, target(b, AF_INET, H_IP4_PEER, 0,
							  "impostor.example")));
	cr_assert_eq(sn_sendto(good, "hello", 5, 0, sa(&ss), alen), 5, "sendto: %s",
		     strerror(errno));
	errno = 0;
	cr_expect_eq(sn_sendto(bad, "hello", 5, 0, sa(&ss), alen), -1,
		     "sent to a peer that does not prove the target name");
	cr_expect_eq(errno, EACCES, "errno %s", strerror(errno));
	h_poll(10);
	cr_expect_eq(tx_drain(PROTO_ESP), 1u);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u);
	close_ok(good);
	close_ok(bad);
}

/* Encryption guaranteed: an ESP-NULL pair is not good enough. */
Test(sec, udp_guarantee_encryption_refuses_esp_null)
{
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM), weak = sock(AF_INET, SOCK_DGRAM);
	char l[512];

	null_line(false, l, sizeof(l));
	xfrm(l);
	null_line(true, l, sizeof(l));
	xfrm(l);
	secure_flags(u, SN_SETTINGS_GUARANTEE_ENCRYPTION);
	secure(weak);
	ERRNO_IS(sn_sendto(u, "hello", 5, 0, sa(&ss), alen), ECONNREFUSED);
	/* The default policy, without the guarantee, takes ESP-NULL. */
	cr_assert_eq(sn_sendto(weak, "hello", 5, 0, sa(&ss), alen), 5, "sendto: %s",
		     strerror(errno));
	h_poll(10);
	cr_expect_eq(tx_drain(PROTO_ESP), 1u);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u);
	/* Secured, not encrypted. */
	tmpl_for(&tm, AF_INET, 6000);
	OK(query(weak, &tm, &info));
	cr_expect_eq(info.flags, SN_INFO_CONNECTION_SECURED, "flags 0x%x", info.flags);
	expect_sa(&info, &(struct want_sa){ SN_INFO_CONNECTION_SECURED, SN_TRANSFORM_ESP,
					   SN_CIPHER_NONE, SN_INTEGRITY_HMAC_SHA256_128,
					   SPI_NULL_OUT, SPI_NULL_IN });
	close_ok(u);
	close_ok(weak);
}

/* AH, from a custom quick-mode policy that offers only AH. */
Test(sec, udp_ah_from_custom_policy)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *st = (void *)b;
	struct sn_security_policy ah = qm_policy(SN_TRANSFORM_AH, SN_CIPHER_NONE,
						 SN_INTEGRITY_HMAC_SHA256_128);
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM);
	size_t len;

	xfrm("state add src " H_IP4_US " dst " H_IP4_PEER " proto ah spi 0x4001 mode transport "
	     "reqid 11 auth-trunc 'hmac(sha256)' " NULL_KEY_OUT " 128");
	xfrm("state add src " H_IP4_PEER " dst " H_IP4_US " proto ah spi 0x4002 mode transport "
	     "reqid 11 auth-trunc 'hmac(sha256)' " NULL_KEY_IN " 128");
	/* The GCM pair is there too, but the policy does not offer it. */
	install_gcm_pair("");
	len = ipsec_settings(b, "", "", "");
	st->qm_policy_key = add_ok(&ah);
	OK(sn_set_socket_security(u, (const void *)b, len));
	cr_assert_eq(sn_sendto(u, "hello", 5, 0, sa(&ss), alen), 5, "sendto: %s",
		     strerror(errno));
	h_poll(10);
	cr_expect_eq(tx_drain(51), 1u, "no AH on the wire");
	cr_expect_eq(tx_drain(PROTO_ESP), 0u);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u);
	tmpl_for(&tm, AF_INET, 6000);
	OK(query(u, &tm, &info));
	cr_expect_eq(info.flags, SN_INFO_CONNECTION_SECURED, "flags 0x%x", info.flags);
	expect_sa(&info, &(struct want_sa){ SN_INFO_CONNECTION_SECURED, SN_TRANSFORM_AH,
					   SN_CIPHER_NONE, SN_INTEGRITY_HMAC_SHA256_128,
					   0x4001, 0x4002 });
	OK(sn_policy_del(&st->qm_policy_key));
	close_ok(u);
}

/* ---- 4c. With a key manager: the acquire hook ----------------------------------------------- */

/* Stands in for IKEv2: records the call and lets negotiation "start". */
static int acq_calls;
static const struct sn_sockpol *acq_owner;

static int fake_acquire(struct sn_policy *pol, const struct sn_flow *flow, void *ctx)
{
	(void)flow;
	(void)ctx;
	acq_calls++;
	acq_owner = pol->owner;
	return 0;
}

static void key_manager_on(void)
{
	acq_calls = 0;
	acq_owner = NULL;
	sn_spd_set_acquire(sn_ipsec.spd, fake_acquire, NULL);
}

/* A secured connect waits for the SA; once it is installed the held SYN
 * leaves as ESP, never in the clear. */
Test(sec, tcp_connect_held_until_sa_installed)
{
	uint8_t f[H_FRAME_MAX];
	int t = sock(AF_INET, SOCK_STREAM), err = -1;
	socklen_t elen = sizeof(err);
	size_t n;

	key_manager_on();
	secure_flags(t, SN_SETTINGS_GUARANTEE_ENCRYPTION);
	connect_peer(t, 7070);
	h_poll(20);
	cr_expect_eq(acq_calls, 1, "acquire calls %d", acq_calls);
	cr_assert_not_null(acq_owner, "the acquire handler sees no socket policy");
	cr_expect_eq(acq_owner->conf->flags & SN_SEC_ENCRYPT, SN_SEC_ENCRYPT,
		     "the handler does not see the socket's settings");
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear while negotiating");
	cr_expect_eq(tx_drain(PROTO_ESP), 0u);
	OK(sn_getsockopt(t, SOL_SOCKET, SO_ERROR, &err, &elen));
	cr_expect_eq(err, 0, "SO_ERROR %d while negotiating", err);

	install_gcm_pair("peer-id " PEER_ID);
	h_poll(10);
	n = h_tx_find(H_ETH_IP4, PROTO_ESP, f, sizeof(f));
	cr_assert_gt(n, (size_t)(H_ETH_HLEN + H_IP4_HLEN + 8), "held SYN not sent as ESP");
	cr_expect_eq(h_be32(f + H_ETH_HLEN + H_IP4_HLEN), SPI_OUT);
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear after the SA came");
	close_ok(t);
}

Test(sec, udp_send_held_until_sa_installed)
{
	uint8_t f[H_FRAME_MAX];
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM);
	size_t n;

	key_manager_on();
	secure(u);
	cr_assert_eq(sn_sendto(u, "hello", 5, 0, sa(&ss), alen), 5, "sendto: %s",
		     strerror(errno));
	h_poll(10);
	cr_expect_eq(acq_calls, 1, "acquire calls %d", acq_calls);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u, "UDP in the clear while negotiating");
	install_gcm_pair("");
	h_poll(10);
	n = h_tx_find(H_ETH_IP4, PROTO_ESP, f, sizeof(f));
	cr_assert_gt(n, (size_t)(H_ETH_HLEN + H_IP4_HLEN + 8), "held datagram not sent as ESP");
	cr_expect_eq(h_be32(f + H_ETH_HLEN + H_IP4_HLEN), SPI_OUT);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u);
	close_ok(u);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Negotiation that never ends: ETIMEDOUT after
 * SN_SECURITY_NEGOTIATE_TIMEOUT_S (real time: about 10 seconds). */
Test(sec, tcp_connect_negotiation_times_out)
{
	struct sn_socket_security_query_info info;
	int t = sock(AF_INET, SOCK_STREAM), err = 0;
	socklen_t elen = sizeof(err);
	uint64_t t0 = mono_ms(), limit = (SN_SECURITY_NEGOTIATE_TIMEOUT_S + 5) * 1000u;

	key_manager_on();
	secure(t);
	connect_peer(t, 7071);
	while (!err && mono_ms() - t0 < limit) {
		h_poll(10);
		usleep(1000);
		OK(sn_getsockopt(t, SOL_SOCKET, SO_ERROR, &err, &elen));
	}
	cr_expect_eq(err, ETIMEDOUT, "SO_ERROR %d (%s)", err, strerror(err));
	cr_expect_geq(mono_ms() - t0, (SN_SECURITY_NEGOTIATE_TIMEOUT_S - 1) * 1000u,
		      "gave up after %llu ms", (unsigned long long)(mono_ms() - t0));
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear while negotiating");
	OK(query(t, NULL, &info));
	cr_expect_eq(info.flags, 0u);
	cr_expect_eq(info.last_error, ETIMEDOUT, "last_error %d", info.last_error);
	close_ok(t);
}

/* ---- 4d. Inbound: what the socket's policy lets through --------------------------------------- */

static struct sn_crypto *crypto_of(const char *line, uint32_t *spi)
{
	struct sn_xfrm_entry e;
	struct sn_crypto *c = NULL;
	const char *why = NULL;
	char err[128];

	cr_assert_eq(sn_xfrm_parse_line(line, &e, err, sizeof(err)), 0, "%s: %s", line, err);
	cr_assert_eq(sn_crypto_new_conf(&c, sn_crypto_default(), &e.sa, &why), 0, "%s",
		     why ? why : "crypto");
	*spi = e.sa.spi;
	memset(&e, 0, sizeof(e));
	return c;
}

/* A frame from the peer: l4 (proto, checksum filled in here) sealed as
 * the SA of line (the peer's outbound, our inbound) with sequence seq. */
static size_t esp_l4_from_peer(const char *line, uint32_t seq, uint8_t proto, uint8_t *l4,
			       size_t len, uint8_t *f)
{
	uint8_t esp[H_FRAME_MAX];
	uint32_t spi;
	struct sn_crypto *c = crypto_of(line, &spi);
	int n;

	/* The checksum as the builders compute it over peer -> us. */
	h_ipv4(f, proto, h_ip4(H_IP4_PEER), h_ip4(H_IP4_US), l4, len);
	memcpy(esp + sn_esp_hdr_len(c), f + H_ETH_HLEN + H_IP4_HLEN, len);
	n = sn_esp_seal(c, spi, seq, false, proto, esp, sizeof(esp), len);
	sn_crypto_free(c);
	cr_assert_gt(n, 0);
	return h_ipv4(f, PROTO_ESP, h_ip4(H_IP4_PEER), h_ip4(H_IP4_US), esp, (size_t)n);
}

/* UDP 6000 -> dport carrying data, sealed likewise. */
static size_t esp_from_peer(const char *line, uint32_t seq, uint16_t dport, const char *data,
			    uint8_t *f)
{
	uint8_t udp[256];
	size_t ul = h_udp_dgram(udp, 6000, dport, data, strlen(data));

	return esp_l4_from_peer(line, seq, H_PROTO_UDP, udp, ul, f);
}

/* The next ESP frame the stack sent, opened as the peer with the SA of
 * line (our outbound): its payload copied to pl, its length returned (0:
 * none, or it did not open). */
static size_t esp_take(const char *line, uint8_t *nh, uint8_t *pl, size_t cap)
{
	uint8_t f[H_FRAME_MAX], *esp = f + H_ETH_HLEN + H_IP4_HLEN;
	struct sn_esp_payload o;
	uint32_t spi, want, seq;
	struct sn_crypto *c;
	size_t n = h_tx_find(H_ETH_IP4, PROTO_ESP, f, sizeof(f)), len;
	int rc;

	if (n < H_ETH_HLEN + H_IP4_HLEN + 8)
		return 0;
	len = h_be16(f + H_ETH_HLEN + 2) - H_IP4_HLEN;
	c = crypto_of(line, &want);
	rc = sn_esp_peek(esp, len, &spi, &seq);
	if (!rc && spi == want)
		rc = sn_esp_open(c, seq, false, esp, len, &o);
	else
		rc = -1;
	sn_crypto_free(c);
	if (rc || o.len > cap)
		return 0;
	*nh = o.next_header;
	memcpy(pl, esp + o.off, o.len);
	return o.len;
}

static void inject_frame(const uint8_t *f, size_t n)
{
	cr_assert_eq(h_inject(f, n), 0);
	h_poll(4);
}

/* The datagram waiting on fd, from the peer's port 6000, is data. */
static void expect_datagram(int fd, const char *data)
{
	char b[256];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	long n = (long)sn_recvfrom(fd, b, sizeof(b), 0, sa(&from), &fl);

	cr_expect_eq(n, (long)strlen(data), "recvfrom: %ld (%s)", n, n < 0 ? strerror(errno) : "");
	if (n == (long)strlen(data))
		cr_expect_eq(memcmp(b, data, (size_t)n), 0);
	cr_expect_eq(((struct sockaddr_in *)&from)->sin_port, htons(6000));
}

Test(sec, udp_esp_inbound_delivered_clear_dropped)
{
	uint8_t f[H_FRAME_MAX], d[64];
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	char l[512];
	uint64_t drop0;
	int u = sock(AF_INET, SOCK_DGRAM);
	size_t n;

	install_gcm_pair("peer-id " PEER_ID);
	secure(u);
	bind_us(u, AF_INET, 5000);
	gcm_line(true, "", l, sizeof(l));
	inject_frame(f, esp_from_peer(l, 1, 5000, "protected", f));
	expect_datagram(u, "protected");
	/* The same port in the clear: dropped and counted. */
	drop0 = h_stat("ipsec.drop_cleartext");
	n = h_udp_dgram(d, 6000, 5000, "clear", 5);
	inject_frame(f, h_ipv4(f, H_PROTO_UDP, h_ip4(H_IP4_PEER), h_ip4(H_IP4_US), d, n));
	ERRNO_IS(sn_recv(u, d, sizeof(d), 0), EAGAIN);
	cr_expect_eq(h_stat("ipsec.drop_cleartext"), drop0 + 1);
	tmpl_for(&tm, AF_INET, 6000);
	OK(query(u, &tm, &info));
	cr_expect_eq(info.spi_in, SPI_IN);
	cr_expect_eq(info.spi_out, SPI_OUT);
	close_ok(u);
}

/* An SA the socket would not use (ESP-NULL, encryption guaranteed) does
 * not deliver to it; a socket with the default policy takes it. */
Test(sec, udp_esp_inbound_unacceptable_sa_dropped)
{
	uint8_t f[H_FRAME_MAX], b[64];
	char l[512];
	uint64_t drop0;
	int strict = sock(AF_INET, SOCK_DGRAM), loose = sock(AF_INET, SOCK_DGRAM);

	null_line(false, l, sizeof(l));
	xfrm(l);
	null_line(true, l, sizeof(l));
	xfrm(l);
	secure_flags(strict, SN_SETTINGS_GUARANTEE_ENCRYPTION);
	secure(loose);
	bind_us(strict, AF_INET, 5000);
	bind_us(loose, AF_INET, 5001);
	inject_frame(f, esp_from_peer(l, 1, 5001, "integrity only", f));
	expect_datagram(loose, "integrity only");
	drop0 = h_stat("ipsec.drop_socket_sa");
	inject_frame(f, esp_from_peer(l, 2, 5000, "integrity only", f));
	ERRNO_IS(sn_recv(strict, b, sizeof(b), 0), EAGAIN);
	cr_expect_eq(h_stat("ipsec.drop_socket_sa"), drop0 + 1);
	close_ok(strict);
	close_ok(loose);
}

/* An SA whose proven identity is not the target name does not deliver. */
Test(sec, udp_esp_inbound_wrong_identity_dropped)
{
	_Alignas(16) uint8_t t[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)t;
	uint8_t f[H_FRAME_MAX], b[64];
	char l[512];
	uint64_t drop0;
	int named = sock(AF_INET, SOCK_DGRAM), any = sock(AF_INET, SOCK_DGRAM);

	install_gcm_pair("peer-id " PEER_ID);
	secure(named);
	secure(any);
	OK(sn_set_socket_peer_target_name(named, tn, target(t, AF_INET, H_IP4_PEER, 0,
							    "impostor.example")));
	bind_us(named, AF_INET, 5000);
	bind_us(any, AF_INET, 5001);
	gcm_line(true, "", l, sizeof(l));
	inject_frame(f, esp_from_peer(l, 1, 5001, "hello", f));
	expect_datagram(any, "hello");
	drop0 = h_stat("ipsec.drop_peer_name");
	inject_frame(f, esp_from_peer(l, 2, 5000, "hello", f));
	ERRNO_IS(sn_recv(named, b, sizeof(b), 0), EAGAIN);
	cr_expect_eq(h_stat("ipsec.drop_peer_name"), drop0 + 1);
	close_ok(named);
	close_ok(any);
}

/* ---- 4e. TCP through the socket's SA: the test is the server ---------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
}

/* Client connect over ESP: the SYN leaves protected, the peer's
 * protected SYN-ACK completes it, and the query, the tokens and
 * impersonation all follow the SA's proven identity. */
Test(sec, tcp_esp_connect_query_impersonate)
{
	_Alignas(16) uint8_t t[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)t;
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	uint8_t f[H_FRAME_MAX], pl[H_FRAME_MAX], seg[64], nh = 0;
	char out_line[512], in_line[512], map[64], err[256] = "";
	int c = sock(AF_INET, SOCK_STREAM), e = -1;
	socklen_t elen = sizeof(e);
	uint16_t cport;
	uint32_t isn;
	size_t n;

	install_gcm_pair("peer-id " PEER_ID);
	gcm_line(false, "", out_line, sizeof(out_line));
	gcm_line(true, "", in_line, sizeof(in_line));
	secure_flags(c, SN_SETTINGS_GUARANTEE_ENCRYPTION);
	OK(sn_set_socket_peer_target_name(c, tn, target(t, AF_INET, H_IP4_PEER, 7080, PEER_ID)));
	connect_peer(c, 7080);
	h_poll(4);
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear");
	n = esp_take(out_line, &nh, pl, sizeof(pl));
	cr_assert_geq(n, 20u, "no SYN as ESP that opens as the peer");
	cr_assert_eq(nh, H_PROTO_TCP);
	cr_assert_eq(pl[13] & (H_SYN | H_ACK), H_SYN, "flags 0x%x", pl[13]);
	cr_assert_eq(h_be16(pl + 2), 7080);
	cport = h_be16(pl);
	isn = h_be32(pl + 4);

	n = h_tcp_seg(seg, 7080, cport, 90000, isn + 1, H_SYN | H_ACK, NULL, 0);
	inject_frame(f, esp_l4_from_peer(in_line, 1, H_PROTO_TCP, seg, n, f));
	h_poll(4);
	OK(sn_getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &elen));
	cr_assert_eq(e, 0, "SO_ERROR %d (%s)", e, strerror(e));
	n = esp_take(out_line, &nh, pl, sizeof(pl));
	cr_expect(n >= 20 && nh == H_PROTO_TCP && (pl[13] & H_ACK), "no protected ACK");
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear");

	/* Connected: the query (template ignored for TCP). */
	tmpl_for(&tm, AF_INET6, 1);
	OK(query(c, &tm, &info));
	cr_expect_eq(info.flags, SN_INFO_CONNECTION_SECURED | SN_INFO_CONNECTION_ENCRYPTED,
		     "flags 0x%x", info.flags);
	cr_expect_eq(info.spi_out, SPI_OUT);
	cr_expect_eq(info.spi_in, SPI_IN);
	cr_expect_eq(info.cipher, SN_CIPHER_AES_GCM_128);
	cr_expect_str_eq(info.peer_identity, PEER_ID);
	cr_expect_eq(info.last_error, 0);
	ERRNO_IS(sn_set_socket_peer_target_name(c, tn, target(t, AF_INET, H_IP4_PEER, 7080,
							      PEER_ID)), EISCONN);
	ERRNO_IS(sn_impersonate_socket_peer(c, NULL, 0), EACCES);    /* no map yet */

	/* A map that knows the identity: tokens and impersonation. */
	snprintf(map, sizeof(map), "/tmp/sn_sec_map.%d", (int)getpid());
	write_file(map, PEER_ID " nobody\n");
	cr_assert_eq(sn_principal_map_load(map, err, sizeof(err)), 0, "%s", err);
	unlink(map);
	OK(query(c, NULL, &info));
	cr_expect_eq(info.flags & SN_INFO_CONNECTION_IMPERSONATED,
		     SN_INFO_CONNECTION_IMPERSONATED);
	cr_expect_eq(info.peer_application_token, NULL, "tokens without an access mask");
	cr_expect_eq(info.peer_machine_token, NULL);
	memset(&tm, 0, sizeof(tm));
	tm.token_access_mask = 1;
	OK(query(c, &tm, &info));
	cr_assert_not_null(info.peer_application_token);
	cr_assert_not_null(info.peer_machine_token);
	cr_expect_str_eq(sn_principal_identity(info.peer_application_token), PEER_ID);
	cr_expect_str_eq(sn_principal_user(info.peer_machine_token), "nobody");
	sn_principal_release(info.peer_application_token);
	sn_principal_release(info.peer_machine_token);
	if (geteuid() == 0) {
		OK(sn_impersonate_socket_peer(c, NULL, 0));
		ERRNO_IS(sn_impersonate_socket_peer(c, NULL, 0), EALREADY);
		OK(sn_revert_impersonation());
	}
	OK(sn_revert_impersonation());
	sn_principal_map_clear();
	close_ok(c);
}

/* The SA proves another identity than the TCP target name: the connect
 * fails with EACCES (not "no SA"), counted as drop_peer_name_out and not
 * drop_no_sa, with one log line and a query that say which identity was
 * refused; nothing leaves in the clear. */
Test(sec, tcp_esp_wrong_identity_refused)
{
	_Alignas(16) uint8_t t[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)t;
	struct sn_socket_security_query_info info;
	struct sockaddr_storage ss;
	uint64_t no_sa0 = h_stat("ipsec.drop_no_sa"), name0 = h_stat("ipsec.drop_peer_name_out");
	int c = sock(AF_INET, SOCK_STREAM), err, saved;
	char log[1024];

	install_gcm_pair("peer-id " PEER_ID);
	secure(c);
	OK(sn_set_socket_peer_target_name(c, tn, target(t, AF_INET, H_IP4_PEER, 0,
							"impostor.example")));
	saved = stderr_to(log_path());
	connect_peer(c, 7081);
	err = wait_so_error(c, 100);
	stderr_back(saved, log, sizeof(log));
	cr_expect_eq(err, EACCES, "SO_ERROR %d (%s)", err, strerror(err));
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear");
	cr_expect_eq(tx_drain(PROTO_ESP), 0u, "sent through an SA of the wrong identity");
	/* The SYN (and the RST of the abort that follows) are dropped as
	 * what they are. */
	cr_expect_gt(h_stat("ipsec.drop_peer_name_out"), name0, "not counted as a name mismatch");
	cr_expect_eq(h_stat("ipsec.drop_no_sa"), no_sa0, "counted as no SA");
	cr_expect_eq(count_lines(log, "sealnet: secured connect to " H_IP4_PEER " port 7081 "
				 "failed: peer identity " PEER_ID " is not the target name "
				 "impostor.example"), 1, "log: %s", log);
	OK(query(c, NULL, &info));
	cr_expect_eq(info.flags, 0u);
	cr_expect_eq(info.last_error, EACCES, "last_error %d", info.last_error);
	cr_expect_str_eq(info.last_error_text,
			 "peer identity " PEER_ID " is not the target name impostor.example");
	/* The failure stays, as for "no SA". */
	ERRNO_IS(sn_connect(c, sa(&ss), h_peer_addr(AF_INET, 7081, &ss)), EACCES);
	close_ok(c);
}

/* A secured listener over ESP: the peer's protected SYN gets a protected
 * SYN-ACK, the accepted connection has the listener's settings and its
 * own SA pair, and its data leaves protected. */
Test(sec, tcp_esp_listener_accepts)
{
	struct sn_socket_security_query_info info;
	uint8_t f[H_FRAME_MAX], pl[H_FRAME_MAX], seg[64], nh = 0;
	char out_line[512], in_line[512];
	int l = sock(AF_INET, SOCK_STREAM), a = -1;
	uint32_t sisn;
	size_t n;

	install_gcm_pair("peer-id " PEER_ID);
	gcm_line(false, "", out_line, sizeof(out_line));
	gcm_line(true, "", in_line, sizeof(in_line));
	secure_flags(l, SN_SETTINGS_GUARANTEE_ENCRYPTION);
	bind_us(l, AF_INET, 7090);
	OK(sn_listen(l, 4));

	n = h_tcp_seg(seg, 40000, 7090, 1000, 0, H_SYN, NULL, 0);
	inject_frame(f, esp_l4_from_peer(in_line, 1, H_PROTO_TCP, seg, n, f));
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "SYN-ACK in the clear");
	n = esp_take(out_line, &nh, pl, sizeof(pl));
	cr_assert_geq(n, 20u, "no SYN-ACK as ESP that opens as the peer");
	cr_assert_eq(nh, H_PROTO_TCP);
	cr_assert_eq(pl[13] & (H_SYN | H_ACK), H_SYN | H_ACK, "flags 0x%x", pl[13]);
	cr_assert_eq(h_be32(pl + 8), 1001u);
	sisn = h_be32(pl + 4);

	n = h_tcp_seg(seg, 40000, 7090, 1001, sisn + 1, H_ACK, NULL, 0);
	inject_frame(f, esp_l4_from_peer(in_line, 2, H_PROTO_TCP, seg, n, f));
	for (int i = 0; i < 20 && a < 0; i++) {
		h_poll(1);
		a = sn_accept(l, NULL, NULL);
	}
	cr_assert_geq(a, 0, "no connection accepted: %s", strerror(errno));
	OK(query(a, NULL, &info));
	cr_expect_eq(info.flags, SN_INFO_CONNECTION_SECURED | SN_INFO_CONNECTION_ENCRYPTED,
		     "flags 0x%x", info.flags);
	cr_expect_eq(info.spi_out, SPI_OUT);
	cr_expect_eq(info.spi_in, SPI_IN);
	cr_expect_str_eq(info.peer_identity, PEER_ID);

	cr_assert_eq(sn_send(a, "hi", 2, 0), 2, "send: %s", strerror(errno));
	h_poll(4);
	n = esp_take(out_line, &nh, pl, sizeof(pl));
	cr_expect(n == 22 && nh == H_PROTO_TCP && !memcmp(pl + 20, "hi", 2),
		  "data not protected (len %zu)", n);
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear");
	close_ok(a);
	close_ok(l);
}

/* Per-socket SAs: two sockets to the same peer at the same time, one with
 * the default policy (the GCM pair), one with an AH-only policy (the AH
 * pair): each datagram leaves through its own socket's SA, and each
 * query names its own. */
Test(sec, two_sockets_same_peer_different_sas)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *st = (void *)b;
	struct sn_security_policy ah = qm_policy(SN_TRANSFORM_AH, SN_CIPHER_NONE,
						 SN_INTEGRITY_HMAC_SHA256_128);
	struct sn_socket_security_query_info qa, qb;
	struct sn_socket_security_query_template tm;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int a = sock(AF_INET, SOCK_DGRAM), u = sock(AF_INET, SOCK_DGRAM);
	size_t len;

	xfrm("state add src " H_IP4_US " dst " H_IP4_PEER " proto ah spi 0x4001 mode transport "
	     "reqid 11 auth-trunc 'hmac(sha256)' " NULL_KEY_OUT " 128");
	xfrm("state add src " H_IP4_PEER " dst " H_IP4_US " proto ah spi 0x4002 mode transport "
	     "reqid 11 auth-trunc 'hmac(sha256)' " NULL_KEY_IN " 128");
	install_gcm_pair("");
	secure(a);
	len = ipsec_settings(b, "", "", "");
	st->qm_policy_key = add_ok(&ah);
	OK(sn_set_socket_security(u, (const void *)b, len));
	for (int round = 0; round < 2; round++) {
		cr_assert_eq(sn_sendto(a, "gcm", 3, 0, sa(&ss), alen), 3, "%s", strerror(errno));
		cr_assert_eq(sn_sendto(u, "ah", 2, 0, sa(&ss), alen), 2, "%s", strerror(errno));
	}
	h_poll(10);
	cr_expect_eq(tx_drain(PROTO_ESP), 2u, "the default-policy socket's datagrams in ESP");
	cr_expect_eq(tx_drain(51), 2u, "the AH-policy socket's datagrams in AH");
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u, "nothing in the clear");
	tmpl_for(&tm, AF_INET, 6000);
	OK(query(a, &tm, &qa));
	OK(query(u, &tm, &qb));
	cr_expect_eq(qa.spi_out, SPI_OUT);
	cr_expect_eq(qa.cipher, SN_CIPHER_AES_GCM_128);
	cr_expect_eq(qb.spi_out, 0x4001u);
	cr_expect_eq(qb.transform, SN_TRANSFORM_AH);
	OK(sn_policy_del(&st->qm_policy_key));
	close_ok(a);
	close_ok(u);
}

static void inject_clear_udp(uint16_t sport, uint16_t dport, const char *msg)
{
	uint8_t f[H_FRAME_MAX], d[64];
	size_t n = h_udp_dgram(d, sport, dport, msg, strlen(msg));

	cr_assert_eq(h_inject(f, h_ipv4(f, H_PROTO_UDP, h_ip4(H_IP4_PEER), h_ip4(H_IP4_US), d, n)),
		     0);
	h_poll(4);
}

/* ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED: one cleartext packet per peer
 * (address and port) gets in, the next one from that peer does not; a
 * new peer port gets its own first packet. */
Test(sec, first_inbound_packet_in_the_clear_once_per_peer)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *st = (void *)b;
	char r[16];
	uint64_t drop0;
	int u = sock(AF_INET, SOCK_DGRAM);
	size_t len = ipsec_settings(b, "", "", "");

	st->ipsec_flags = SN_SETTINGS_IPSEC_ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED;
	OK(sn_set_socket_security(u, (const void *)b, len));
	bind_us(u, AF_INET, 5003);
	drop0 = h_stat("ipsec.drop_cleartext");
	inject_clear_udp(6000, 5003, "first");
	cr_expect_eq(sn_recv(u, r, sizeof(r), 0), 5, "first cleartext packet not taken");
	inject_clear_udp(6000, 5003, "second");
	ERRNO_IS(sn_recv(u, r, sizeof(r), 0), EAGAIN);
	cr_expect_eq(h_stat("ipsec.drop_cleartext"), drop0 + 1);
	inject_clear_udp(6001, 5003, "other");
	cr_expect_eq(sn_recv(u, r, sizeof(r), 0), 5, "another peer port's first packet");
	close_ok(u);
}

/* SKIP_FILTER_INSTANTIATION: the socket makes no policy of its own, the
 * configured ones decide; with none, its traffic is plain. */
Test(sec, skip_filter_instantiation_leaves_it_to_configured_policies)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *st = (void *)b;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM);
	size_t len = ipsec_settings(b, "", "", "");

	st->ipsec_flags = SN_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION;
	OK(sn_set_socket_security(u, (const void *)b, len));
	cr_assert_eq(sn_sendto(u, "plain", 5, 0, sa(&ss), alen), 5, "%s", strerror(errno));
	h_poll(10);
	cr_expect_eq(tx_drain(H_PROTO_UDP), 1u, "no configured policy: plain UDP");
	/* Now a configured policy protects the flow: the socket's datagrams
	 * leave in ESP. */
	install_gcm_pair("");
	xfrm("policy add src " H_IP4_US "/32 dst " H_IP4_PEER "/32 proto udp dir out tmpl src "
	     H_IP4_US " dst " H_IP4_PEER " proto esp mode transport reqid 7");
	cr_assert_eq(sn_sendto(u, "esp", 3, 0, sa(&ss), alen), 3, "%s", strerror(errno));
	h_poll(10);
	cr_expect_eq(tx_drain(PROTO_ESP), 1u, "configured policy applies");
	close_ok(u);
}

/* ---- 5. Target names after traffic, connected sockets, resets, short addresses ---------------- */

/* The ESP frames on the wire and the SPI of the first (0: none). */
static unsigned esp_spi_drain(uint32_t *first_spi)
{
	uint8_t f[H_FRAME_MAX];
	unsigned n = 0;

	*first_spi = 0;
	while (h_tx_find(H_ETH_IP4, PROTO_ESP, f, sizeof(f)))
		if (n++ == 0)
			*first_spi = h_be32(f + H_ETH_HLEN + H_IP4_HLEN);
	return n;
}

/* A name set after the socket sent to the peer applies to the next
 * datagram: the SA chosen before (of another identity) is not reused. */
Test(sec, udp_target_name_set_after_send_is_enforced)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM);
	uint32_t spi;

	install_gcm_pair("peer-id " PEER_ID);
	secure(u);
	cr_assert_eq(sn_sendto(u, "one", 3, 0, sa(&ss), alen), 3, "%s", strerror(errno));
	h_poll(10);
	cr_assert_eq(esp_spi_drain(&spi), 1u);
	cr_assert_eq(spi, SPI_OUT);
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 6000,
							"impostor.example")));
	ERRNO_IS(sn_sendto(u, "two", 3, 0, sa(&ss), alen), EACCES);
	h_poll(10);
	cr_expect_eq(esp_spi_drain(&spi), 0u, "sent on the SA cached before the name was set");
	cr_expect_eq(tx_drain(H_PROTO_UDP), 0u, "sent in the clear");
	tmpl_for(&tm, AF_INET, 6000);
	OK(query(u, &tm, &info));
	cr_expect_eq(info.flags & SN_INFO_CONNECTION_SECURED, 0u, "flags 0x%x", info.flags);
	cr_expect_eq(info.last_error, EACCES, "last_error %d", info.last_error);
	cr_expect_str_eq(info.last_error_text,
			 "peer identity " PEER_ID " is not the target name impostor.example");
	/* Replaced by the name the SA proves: sent again. */
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 6000, PEER_ID)));
	cr_assert_eq(sn_sendto(u, "three", 5, 0, sa(&ss), alen), 5, "%s", strerror(errno));
	h_poll(10);
	cr_expect_eq(esp_spi_drain(&spi), 1u);
	close_ok(u);
}

/* Deleting a name chooses again too: with the name, the only SA of that
 * identity; without it, the newest SA of the most preferred proposal. */
Test(sec, udp_target_name_delete_chooses_again)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM);
	uint32_t spi;

	install_gcm_pair("peer-id " PEER_ID);
	xfrm("state add src " H_IP4_US " dst " H_IP4_PEER " proto esp spi 0x1002 mode transport "
	     "reqid 8 aead 'rfc4106(gcm(aes))' " GCM_KEY_OUT " 128 peer-id other.example");
	xfrm("state add src " H_IP4_PEER " dst " H_IP4_US " proto esp spi 0x2002 mode transport "
	     "reqid 8 aead 'rfc4106(gcm(aes))' " GCM_KEY_IN " 128 peer-id other.example");
	secure(u);
	OK(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 6000, PEER_ID)));
	cr_assert_eq(sn_sendto(u, "one", 3, 0, sa(&ss), alen), 3, "%s", strerror(errno));
	h_poll(10);
	cr_assert_eq(esp_spi_drain(&spi), 1u);
	cr_assert_eq(spi, SPI_OUT, "spi 0x%x: not the SA of the target name", spi);
	OK(sn_delete_socket_peer_target_name(u, sa(&ss), alen));
	cr_assert_eq(sn_sendto(u, "two", 3, 0, sa(&ss), alen), 3, "%s", strerror(errno));
	h_poll(10);
	cr_assert_eq(esp_spi_drain(&spi), 1u);
	cr_expect_eq(spi, 0x1002u, "spi 0x%x: the SA chosen under the deleted name", spi);
	close_ok(u);
}

/* WSASetSocketPeerTargetName: EISCONN on a connected socket, UDP too;
 * deleting a name set before connect is still allowed. */
Test(sec, target_name_connected_udp_is_eisconn)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_peer_target_name *tn = (void *)b;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	int u = sock(AF_INET, SOCK_DGRAM);
	size_t len = target(b, AF_INET, H_IP4_PEER, 6000, PEER_ID);

	secure(u);
	OK(sn_set_socket_peer_target_name(u, tn, len));
	OK(sn_connect(u, sa(&ss), alen));
	ERRNO_IS(sn_set_socket_peer_target_name(u, tn, len), EISCONN);
	ERRNO_IS(sn_set_socket_peer_target_name(u, tn, target(b, AF_INET, H_IP4_PEER, 6001,
							      PEER_ID)), EISCONN);
	OK(sn_delete_socket_peer_target_name(u, sa(&ss), alen));
	close_ok(u);
}

/* An address shorter than its family's sockaddr is "a buffer passed was
 * too small" (EMSGSIZE); one of another family is EINVAL. */
Test(sec, short_address_is_emsgsize)
{
	struct sockaddr_storage ss, ss4;
	socklen_t alen = h_peer_addr(AF_INET6, 6000, &ss), a4 = h_peer_addr(AF_INET, 6000, &ss4);
	int u6 = sock(AF_INET6, SOCK_DGRAM);

	secure(u6);
	ERRNO_IS(sn_delete_socket_peer_target_name(u6, sa(&ss), alen - 1), EMSGSIZE);
	ERRNO_IS(sn_delete_socket_peer_target_name(u6, sa(&ss), sizeof(struct sockaddr_in)),
		 EMSGSIZE);
	ERRNO_IS(sn_delete_socket_peer_target_name(u6, sa(&ss), 1), EMSGSIZE);
	ERRNO_IS(sn_delete_socket_peer_target_name(u6, sa(&ss), 0), EMSGSIZE);
	ERRNO_IS(sn_delete_socket_peer_target_name(u6, sa(&ss4), a4), EINVAL);
	ERRNO_IS(sn_delete_socket_peer_target_name(u6, sa(&ss), alen), ENOENT);
	ERRNO_IS(sn_impersonate_socket_peer(u6, sa(&ss), alen - 1), EMSGSIZE);
	ERRNO_IS(sn_impersonate_socket_peer(u6, sa(&ss), 1), EMSGSIZE);
	ERRNO_IS(sn_impersonate_socket_peer(u6, sa(&ss4), a4), EINVAL);
	ERRNO_IS(sn_impersonate_socket_peer(u6, sa(&ss), alen), EACCES);
	close_ok(u6);
}

/* The first captured TCP segment: its source port and sequence number. */
static void take_syn(uint16_t *sport, uint32_t *seq)
{
	uint8_t f[H_FRAME_MAX], *tcp = f + H_ETH_HLEN + H_IP4_HLEN;

	cr_assert_gt(h_tx_find(H_ETH_IP4, H_PROTO_TCP, f, sizeof(f)), 0u, "no SYN");
	cr_assert_eq(tcp[13] & (H_SYN | H_ACK), H_SYN, "flags 0x%x", tcp[13]);
	*sport = h_be16(tcp);
	*seq = h_be32(tcp + 4);
}

static void inject_clear_tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
			     uint8_t flags)
{
	uint8_t f[H_FRAME_MAX], seg[64];
	size_t n = h_tcp_seg(seg, sport, dport, seq, ack, flags, NULL, 0);

	inject_frame(f, h_ipv4(f, H_PROTO_TCP, h_ip4(H_IP4_PEER), h_ip4(H_IP4_US), seg, n));
}

/* The peer resets a secured connection (ALLOW_INSECURE: in the clear):
 * the query and impersonation say ECONNRESET, as sn_recv does, before
 * and after sn_recv reported it. */
Test(sec, query_after_peer_reset_is_econnreset)
{
	struct sn_socket_security_query_info info;
	int c = sock(AF_INET, SOCK_STREAM), e = -1;
	socklen_t elen = sizeof(e);
	uint16_t cport;
	uint32_t isn;
	char r[8];

	secure_flags(c, SN_SETTINGS_ALLOW_INSECURE);
	connect_peer(c, 7100);
	h_poll(4);
	take_syn(&cport, &isn);
	inject_clear_tcp(7100, cport, 90000, isn + 1, H_SYN | H_ACK);
	OK(sn_getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &elen));
	cr_assert_eq(e, 0, "SO_ERROR %d (%s)", e, strerror(e));
	OK(query(c, NULL, &info));
	inject_clear_tcp(7100, cport, 90001, 0, H_RST);
	ERRNO_IS(query(c, NULL, &info), ECONNRESET);
	ERRNO_IS(sn_recv(c, r, sizeof(r), 0), ECONNRESET);
	ERRNO_IS(query(c, NULL, &info), ECONNRESET);
	ERRNO_IS(sn_impersonate_socket_peer(c, NULL, 0), ECONNRESET);
	close_ok(c);
}

/* SKIP_FILTER_INSTANTIATION, TCP, a configured policy for our host
 * address (src US/32): a client that binds first and one that does not
 * are both protected, and the query says SECURED for both. */
static void skip_client_secured(bool bind_first, uint16_t port, uint32_t in_seq)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *st = (void *)b;
	struct sn_socket_security_query_info info;
	uint8_t f[H_FRAME_MAX], pl[H_FRAME_MAX], seg[64], nh = 0;
	char out_line[512], in_line[512];
	int c = sock(AF_INET, SOCK_STREAM), e = -1;
	socklen_t elen = sizeof(e);
	size_t len = ipsec_settings(b, "", "", ""), n;

	gcm_line(false, "", out_line, sizeof(out_line));
	gcm_line(true, "", in_line, sizeof(in_line));
	st->ipsec_flags = SN_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION;
	OK(sn_set_socket_security(c, (const void *)b, len));
	if (bind_first)
		bind_us(c, AF_INET, 0);
	h_tx_clear();
	connect_peer(c, port);
	h_poll(4);
	cr_expect_eq(tx_drain(H_PROTO_TCP), 0u, "TCP in the clear");
	/* The SYN (the previous connection's FIN may come first). */
	do
		n = esp_take(out_line, &nh, pl, sizeof(pl));
	while (n >= 20 && !(pl[13] & H_SYN));
	cr_assert(n >= 20 && nh == H_PROTO_TCP, "no SYN in ESP (bind first: %d)", bind_first);
	n = h_tcp_seg(seg, port, h_be16(pl), 90000, h_be32(pl + 4) + 1, H_SYN | H_ACK, NULL, 0);
	inject_frame(f, esp_l4_from_peer(in_line, in_seq, H_PROTO_TCP, seg, n, f));
	OK(sn_getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &elen));
	cr_assert_eq(e, 0, "SO_ERROR %d (%s)", e, strerror(e));
	cr_assert_eq(query(c, NULL, &info), 0, "query (bind first: %d): %s", bind_first,
		     strerror(errno));
	expect_sa(&info, &(struct want_sa){ SN_INFO_CONNECTION_SECURED | SN_INFO_CONNECTION_ENCRYPTED,
					   SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128,
					   SN_INTEGRITY_NONE, SPI_OUT, SPI_IN });
	close_ok(c);
}

Test(sec, skip_filter_tcp_client_query_secured_bound_or_not)
{
	install_gcm_pair("");
	xfrm("policy add src " H_IP4_US "/32 dst " H_IP4_PEER "/32 proto tcp dir out tmpl src "
	     H_IP4_US " dst " H_IP4_PEER " proto esp mode transport reqid 7");
	xfrm("policy add src " H_IP4_PEER "/32 dst " H_IP4_US "/32 proto tcp dir in tmpl src "
	     H_IP4_PEER " dst " H_IP4_US " proto esp mode transport reqid 7");
	skip_client_secured(true, 7110, 1);
	skip_client_secured(false, 7111, 2);
}

/* The same for UDP: a socket that never bound, and one bound to its
 * address, both report SECURED for the peer a configured policy protects. */
Test(sec, skip_filter_udp_query_secured_bound_or_not)
{
	_Alignas(16) uint8_t b[BUF_MAX];
	struct sn_socket_security_settings_ipsec *st = (void *)b;
	struct sn_socket_security_query_info info;
	struct sn_socket_security_query_template tm;
	struct sockaddr_storage ss;
	socklen_t alen = h_peer_addr(AF_INET, 6000, &ss);
	size_t len = ipsec_settings(b, "", "", "");
	int u[2] = { sock(AF_INET, SOCK_DGRAM), sock(AF_INET, SOCK_DGRAM) };

	install_gcm_pair("");
	xfrm("policy add src " H_IP4_US "/32 dst " H_IP4_PEER "/32 proto udp dir out tmpl src "
	     H_IP4_US " dst " H_IP4_PEER " proto esp mode transport reqid 7");
	xfrm("policy add src " H_IP4_PEER "/32 dst " H_IP4_US "/32 proto udp dir in tmpl src "
	     H_IP4_PEER " dst " H_IP4_US " proto esp mode transport reqid 7");
	st->ipsec_flags = SN_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION;
	tmpl_for(&tm, AF_INET, 6000);
	for (int i = 0; i < 2; i++) {
		OK(sn_set_socket_security(u[i], (const void *)b, len));
		if (i == 1)
			bind_us(u[i], AF_INET, 0);
		cr_assert_eq(sn_sendto(u[i], "esp", 3, 0, sa(&ss), alen), 3, "%s", strerror(errno));
		h_poll(10);
		cr_expect_eq(tx_drain(PROTO_ESP), 1u, "configured policy applies");
		OK(query(u[i], &tm, &info));
		cr_expect_eq(info.flags & SN_INFO_CONNECTION_SECURED, SN_INFO_CONNECTION_SECURED,
			     "socket %d (bound: %d): flags 0x%x", i, i == 1, info.flags);
		cr_expect_eq(info.spi_out, SPI_OUT);
		close_ok(u[i]);
	}
}
