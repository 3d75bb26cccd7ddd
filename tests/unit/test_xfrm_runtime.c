/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SAs and policies changed while traffic flows (sealnet/ipsec.h, the same
 * calls snctl xfrm makes), with the stack and IPsec on the harness's fake
 * port:
 *
 *   1. a secured socket's SA deleted: its next datagram leaves on another
 *      installed SA, and with none it is refused, never sent in the clear;
 *   2. a configured policy's cached SA deleted: the next packet is dropped
 *      (drop_no_sa, exactly one), not sent in the clear, and an SA added
 *      again protects the one after;
 *   3. state update: the socket moves to the new SA and its sequence
 *      numbers go on (the peer's window has seen the old ones);
 *   4. the typed flush calls and the commands' errors.
 *
 *   test (peer 10.0.0.2) <--fake port--> stack 10.0.0.1 (IPsec up)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "sealnet/ipsec.h"
#include "sealnet/security.h"
#include "harness.h"
#include "sn_api.h"
#include "sn_ipsec_api.h"
#include "sockpol.h"

#define PROTO_ESP 50
#define GCM_A "0x000102030405060708090a0b0c0d0e0f10111213"
#define GCM_B "0x202122232425262728292a2b2c2d2e2f30313233"
#define GCM_IN "0x404142434445464748494a4b4c4d4e4f50515253"
#define OUT_SA(spi, key) "state add src " H_IP4_US " dst " H_IP4_PEER " proto esp spi " spi \
	" mode transport reqid 7 aead 'rfc4106(gcm(aes))' " key " 128"
#define IN_SA "state add src " H_IP4_PEER " dst " H_IP4_US " proto esp spi 0x2001 " \
	"mode transport reqid 8 aead 'rfc4106(gcm(aes))' " GCM_IN " 128"

static void start(void)
{
	h_stack_start();
	h_learn_peer4();
	h_tx_clear();
	cr_assert_eq(sn_ipsec_start(), 0);
}

static void stop(void)
{
	sn_api_close_all();
	h_poll(20);
	cr_assert_eq(sn_sockpol_count(), 0, "socket policies left");
	sn_ipsec_stop();
	h_stack_stop_checked();
}

TestSuite(xfrm_rt, .init = start, .fini = stop, .timeout = 60);

static void xfrm(const char *line)
{
	char err[256] = "";

	cr_assert_eq(sn_ipsec_xfrm_out(line, NULL, err, sizeof(err)), 0, "%s: %s", line, err);
}

static int udp_sock(bool secured, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(AF_INET, port, &ss);
	int fd = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0);
	if (secured)
		cr_assert_eq(sn_set_socket_security(fd, NULL, 0), 0, "%s", strerror(errno));
	cr_assert_eq(sn_bind(fd, (struct sockaddr *)&ss, len), 0, "%s", strerror(errno));
	return fd;
}

static ssize_t send_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = h_peer_addr(AF_INET, 6000, &ss);
	ssize_t n = sn_sendto(fd, "hello", 5, 0, (struct sockaddr *)&ss, len);

	h_poll(10);
	return n;
}

struct wire {
	unsigned clear, esp;
	uint32_t spi, seq;              /* of the last ESP packet */
};

/* What left since the last look: cleartext UDP datagrams, ESP packets. */
static struct wire wire(void)
{
	uint8_t f[H_FRAME_MAX];
	struct wire w = { 0 };
	size_t n;

	while ((n = h_tx_find(H_ETH_IP4, -1, f, sizeof(f))) != 0) {
		const uint8_t *ip = f + H_ETH_HLEN;

		if (ip[9] == H_PROTO_UDP)
			w.clear++;
		if (ip[9] != PROTO_ESP || n < H_ETH_HLEN + H_IP4_HLEN + 8)
			continue;
		w.esp++;
		w.spi = h_be32(ip + H_IP4_HLEN);
		w.seq = h_be32(ip + H_IP4_HLEN + 4);
	}
	return w;
}

Test(xfrm_rt, deleted_sa_of_a_secured_socket_is_replaced_or_fails_closed)
{
	int u;
	struct wire w;

	xfrm(OUT_SA("0x1001", GCM_A));
	xfrm(OUT_SA("0x1005", GCM_B));
	xfrm(IN_SA);
	u = udp_sock(true, 5000);
	cr_assert_eq(send_peer(u), 5, "%s", strerror(errno));
	w = wire();
	cr_expect_eq(w.clear, 0);
	cr_assert_eq(w.esp, 1);
	cr_expect_eq(w.spi, 0x1005, "the newest SA");

	/* The socket's cached SA goes: the next datagram takes the other one. */
	xfrm("state delete src " H_IP4_US " dst " H_IP4_PEER " proto esp spi 0x1005");
	cr_assert_eq(send_peer(u), 5, "%s", strerror(errno));
	w = wire();
	cr_expect_eq(w.clear, 0, "cleartext after the SA was deleted");
	cr_assert_eq(w.esp, 1);
	cr_expect_eq(w.spi, 0x1001, "another installed SA");
	cr_expect_eq(w.seq, 1);

	/* No SA left for the peer: refused, nothing on the wire. */
	cr_assert_eq(sn_ipsec_sa_delete(0x1001, AF_INET, (uint8_t[]){ 10, 0, 0, 2 }, IPPROTO_ESP), 0,
		     "%s", strerror(errno));
	cr_expect_eq(send_peer(u), -1);
	cr_expect_eq(errno, ECONNREFUSED, "%s", strerror(errno));
	w = wire();
	cr_expect_eq(w.clear + w.esp, 0, "a packet left with no SA");

	xfrm(OUT_SA("0x1009", GCM_A));
	cr_assert_eq(send_peer(u), 5, "%s", strerror(errno));
	w = wire();
	cr_expect_eq(w.clear, 0);
	cr_expect_eq(w.esp, 1);
	cr_expect_eq(w.spi, 0x1009);
}

Test(xfrm_rt, deleted_sa_of_a_configured_policy_drops_not_leaks)
{
	uint64_t no_sa;
	struct wire w;
	int u;

	xfrm(OUT_SA("0x1001", GCM_A));
	xfrm("policy add src " H_IP4_US "/32 dst " H_IP4_PEER "/32 proto udp dir out "
	     "tmpl proto esp mode transport reqid 7");
	u = udp_sock(false, 5001);
	cr_assert_eq(send_peer(u), 5);
	w = wire();
	cr_assert_eq(w.esp, 1, "the policy protects (and caches its SA)");
	cr_expect_eq(w.clear, 0);

	xfrm("state flush proto esp");
	no_sa = h_stat("ipsec.drop_no_sa");
	send_peer(u);
	w = wire();
	cr_expect_eq(w.clear + w.esp, 0, "sent with the policy's SA gone");
	cr_expect_eq(h_stat("ipsec.drop_no_sa") - no_sa, 1);

	xfrm(OUT_SA("0x1003", GCM_B));
	cr_assert_eq(send_peer(u), 5);
	w = wire();
	cr_expect_eq(w.esp, 1);
	cr_expect_eq(w.spi, 0x1003);

	/* The policy goes: the datagram is the unprotected traffic it now is. */
	xfrm("policy delete src " H_IP4_US "/32 dst " H_IP4_PEER "/32 proto udp dir out");
	cr_assert_eq(send_peer(u), 5);
	w = wire();
	cr_expect_eq(w.clear, 1);
	cr_expect_eq(w.esp, 0);
}

Test(xfrm_rt, update_moves_the_socket_and_keeps_the_sequence)
{
	struct wire w;
	int u;

	xfrm(OUT_SA("0x1001", GCM_A));
	xfrm(IN_SA);
	u = udp_sock(true, 5002);
	cr_assert_eq(send_peer(u), 5);
	cr_assert_eq(send_peer(u), 5);
	w = wire();
	cr_assert_eq(w.esp, 2);
	cr_expect_eq(w.seq, 2);
	xfrm("state update src " H_IP4_US " dst " H_IP4_PEER " proto esp spi 0x1001 "
	     "mode transport reqid 7 aead 'rfc4106(gcm(aes))' " GCM_B " 128 limit time-hard 600");
	cr_assert_eq(send_peer(u), 5, "%s", strerror(errno));
	w = wire();
	cr_expect_eq(w.clear, 0);
	cr_assert_eq(w.esp, 1);
	cr_expect_eq(w.spi, 0x1001);
	cr_expect_eq(w.seq, 3, "sequence numbers go on after an update");
}

Test(xfrm_rt, flush_calls_and_errors)
{
	char err[256], *text = NULL;
	size_t len = 0;
	FILE *out;

	xfrm(OUT_SA("0x1001", GCM_A));
	xfrm(IN_SA);
	xfrm("policy add src " H_IP4_US "/32 dst " H_IP4_PEER "/32 dir out tmpl proto esp reqid 7");
	cr_expect_eq(sn_ipsec_xfrm_out("state add src " H_IP4_US " dst " H_IP4_PEER
				       " proto esp spi 0x1001 aead 'rfc4106(gcm(aes))' " GCM_A
				       " 128", NULL, err, sizeof(err)), -1);
	cr_expect_eq(errno, EEXIST);
	cr_expect(strstr(err, "state add: an SA with spi 0x00001001") != NULL, "%s", err);
	cr_expect_eq(sn_ipsec_xfrm_out("state get dst 10.0.0.9 proto esp spi 5", NULL, err,
				       sizeof(err)), -1);
	cr_expect_eq(errno, ENOENT);
	out = open_memstream(&text, &len);
	cr_assert_eq(sn_ipsec_xfrm_out("state list", out, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sn_ipsec_xfrm_out("state add src " H_IP4_US " dst " H_IP4_PEER
				       " proto esp spi 7 replay-window 0 aead 'rfc4106(gcm(aes))' "
				       GCM_B " 128", out, err, sizeof(err)), 0, "%s", err);
	fclose(out);
	cr_expect(strstr(text, "spi 0x00001001") && strstr(text, "spi 0x00002001"), "%s", text);
	cr_expect(strstr(text, "warning: replay-window 0: anti-replay is off") != NULL, "%s", text);
	cr_expect(strstr(text, "warning: spi: SPIs 1-255 are reserved") != NULL, "%s", text);
	free(text);
	cr_expect_eq(sn_ipsec_sa_flush(17), -1);
	cr_expect_eq(errno, EPROTONOSUPPORT);
	cr_expect_eq(sn_ipsec_sa_flush(IPPROTO_ESP), 0);
	cr_expect_eq(h_stat("ipsec.sas"), 0);
	cr_expect_eq(sn_ipsec_policy_flush(), 0);
	cr_expect_eq(sn_ipsec_xfrm_out("policy get src " H_IP4_US "/32 dst " H_IP4_PEER
				       "/32 dir out", NULL, err, sizeof(err)), -1);
	cr_expect_eq(errno, ENOENT);
}
