/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The datapath's key manager interface (ipsec/keymgr.h), with a fake key
 * manager on the harness's fake port:
 *
 *   1. registration: twice refused, IPsec down refused;
 *   2. UDP 500 and UDP 4500 with the non-ESP marker reach ops.input (the
 *      marker removed), past a policy that would require ESP for them;
 *      sn_keymgr_send leaves in the clear past the same policy;
 *   3. an SA pair with selectors: its SPD entries protect matching
 *      traffic, and deleting the pair removes SAs and entries;
 *   4. a trap policy acquires (ops.acquire once, with the flow and reqid)
 *      and holds the packet; acquire_done(0) sends it through the pair
 *      installed meanwhile; acquire_done(error) drops it;
 *   5. soft and hard lifetimes reach ops.pair_event once each.
 *
 *   test (peer 10.0.0.2) <--fake port--> stack 10.0.0.1 (IPsec up)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"
#include "sealnet/ipsec.h"
#include "sealnet/security.h"
#include "harness.h"
#include "frames.h"
#include "sn_api.h"
#include "sn_ipsec_api.h"
#include "ipsec_dp.h"
#include "keymgr.h"

#define PROTO_ESP 50
#define NATT_PORT 4500

static struct {
	unsigned inputs, acquires, soft, hard;
	struct sn_ip local, remote;
	uint16_t lport, rport;
	bool encap;
	uint8_t buf[256];
	size_t len;
	struct sn_keymgr_acquire acq;
	uint64_t ev_pair;
} fk;

static int fk_acquire(void *ctx, const struct sn_keymgr_acquire *a)
{
	fk.acquires++;
	fk.acq = *a;
	return 0;
}

static void fk_input(void *ctx, const struct sn_ip *local, uint16_t lport,
		     const struct sn_ip *remote, uint16_t rport, const uint8_t *buf, size_t len,
		     bool encap)
{
	fk.inputs++;
	fk.local = *local;
	fk.remote = *remote;
	fk.lport = lport;
	fk.rport = rport;
	fk.encap = encap;
	fk.len = len < sizeof(fk.buf) ? len : sizeof(fk.buf);
	memcpy(fk.buf, buf, fk.len);
}

static void fk_event(void *ctx, uint64_t pair, enum sn_keymgr_ev ev)
{
	fk.ev_pair = pair;
	if (ev == SN_KM_SOFT)
		fk.soft++;
	else
		fk.hard++;
}

static const struct sn_keymgr_ops fk_ops = { fk_acquire, fk_input, fk_event, NULL };

static void start(void)
{
	memset(&fk, 0, sizeof(fk));
	h_stack_start();
	h_learn_peer4();
	h_tx_clear();
	cr_assert_eq(sn_keymgr_register(&fk_ops, SN_IKE_PORT), -ENETDOWN);
	cr_assert_eq(sn_ipsec_start(), 0);
	cr_assert_eq(sn_keymgr_register(&fk_ops, SN_IKE_PORT), 0);
}

static void stop(void)
{
	sn_api_close_all();
	h_poll(20);
	sn_ipsec_stop();
	cr_expect_not(sn_keymgr_active(), "sn_ipsec_stop unregisters");
	h_stack_stop_checked();
}

TestSuite(keymgr, .init = start, .fini = stop, .timeout = 60);

static void apply(const char *line)
{
	char err[256];

	cr_assert_eq(sn_ipsec_xfrm(line, err, sizeof(err)), 0, "%s: %s", line, err);
}

static uint32_t ip4(const char *s)
{
	uint32_t a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct sn_ip sn4(const char *s)
{
	struct sn_ip ip = { .family = AF_INET };
	uint32_t a = ip4(s);

	memcpy(ip.addr, &a, 4);
	return ip;
}

/* A UDP datagram from the peer to us. */
static void inject_udp(uint16_t sport, uint16_t dport, const void *d, size_t dl)
{
	uint8_t l4[H_FRAME_MAX], f[H_FRAME_MAX + 64];
	size_t n = h_udp_dgram(l4, sport, dport, d, dl);

	n = h_ipv4(f, H_PROTO_UDP, ip4(H_IP4_PEER), ip4(H_IP4_US), l4, n);
	cr_assert_eq(h_inject(f, n), 0);
	h_poll(5);
}

struct wire {
	unsigned udp, esp;
	uint16_t sport, dport;          /* of the last UDP datagram */
	uint32_t spi;                   /* of the last ESP packet */
};

static struct wire wire(void)
{
	uint8_t f[H_FRAME_MAX];
	struct wire w = { 0 };
	size_t n;

	while ((n = h_tx_find(H_ETH_IP4, -1, f, sizeof(f))) != 0) {
		const uint8_t *ip = f + H_ETH_HLEN;

		if (n < H_ETH_HLEN + H_IP4_HLEN + 8)
			continue;
		if (ip[9] == H_PROTO_UDP) {
			w.udp++;
			w.sport = (uint16_t)(ip[H_IP4_HLEN] << 8 | ip[H_IP4_HLEN + 1]);
			w.dport = (uint16_t)(ip[H_IP4_HLEN + 2] << 8 | ip[H_IP4_HLEN + 3]);
		}
		if (ip[9] == PROTO_ESP) {
			w.esp++;
			w.spi = h_be32(ip + H_IP4_HLEN);
		}
	}
	return w;
}

/* Every UDP to and from the peer needs ESP, with no SA for it. */
static void require_esp(void)
{
	apply("policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dir out "
	      "tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode transport reqid 1");
	apply("policy add src 10.0.0.2/32 dst 10.0.0.1/32 proto udp dir in "
	      "tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode transport reqid 1");
}

Test(keymgr, registered_once)
{
	cr_expect_eq(sn_keymgr_register(&fk_ops, SN_IKE_PORT), -EALREADY);
	cr_expect(sn_keymgr_active());
}

Test(keymgr, ike_datagrams_reach_the_key_manager_past_policies)
{
	static const uint8_t marked[] = { 0, 0, 0, 0, 'i', 'k', 'e' };
	struct sn_ip peer = sn4(H_IP4_PEER), us = sn4(H_IP4_US);
	struct wire w;

	require_esp();
	inject_udp(500, 500, "hello", 5);
	cr_assert_eq(fk.inputs, 1);
	cr_expect_not(fk.encap);
	cr_expect_eq(fk.len, 5);
	cr_expect_eq(memcmp(fk.buf, "hello", 5), 0);
	cr_expect(sn_ip_equal(&fk.remote, &peer));
	cr_expect(sn_ip_equal(&fk.local, &us));
	cr_expect_eq(fk.lport, 500);
	cr_expect_eq(fk.rport, 500);

	inject_udp(4500, NATT_PORT, marked, sizeof(marked));
	cr_assert_eq(fk.inputs, 2);
	cr_expect(fk.encap);
	cr_expect_eq(fk.len, 3, "the non-ESP marker is removed");
	cr_expect_eq(memcmp(fk.buf, "ike", 3), 0);
	cr_expect_eq(fk.lport, NATT_PORT);

	h_tx_clear();
	cr_assert_eq(sn_keymgr_send(&us, 500, &peer, 500, "reply", 5), 0);
	cr_assert_eq(sn_keymgr_send(&us, NATT_PORT, &peer, 4501, "r2", 2), 0);
	h_poll(5);
	w = wire();
	cr_expect_eq(w.udp, 2, "IKE leaves in the clear past the policy");
	cr_expect_eq(w.esp, 0);
	cr_expect_eq(w.sport, NATT_PORT);
	cr_expect_eq(w.dport, 4501);
	cr_expect_eq(sn_keymgr_send(&us, 501, &peer, 500, "x", 1), -EINVAL, "not an IKE port");
}

Test(keymgr, other_udp_still_needs_its_policy)
{
	require_esp();
	inject_udp(5000, 5001, "clear", 5);
	cr_expect_eq(fk.inputs, 0, "only the IKE ports reach the key manager");
}

static void pair_confs(struct sn_sa_conf *out, struct sn_sa_conf *in, uint32_t spi_out,
		       uint32_t spi_in, uint32_t reqid)
{
	struct sn_sa_conf *c[2] = { out, in };

	for (int i = 0; i < 2; i++) {
		memset(c[i], 0, sizeof(*c[i]));
		c[i]->proto = SN_IPPROTO_ESP;
		c[i]->mode = SN_MODE_TRANSPORT;
		c[i]->reqid = reqid;
		c[i]->enc = SN_ENC_AES_GCM;
		c[i]->enc_key_len = 20;
		memset(c[i]->enc_key, 0x11 * (i + 1), 20);
		c[i]->icv_len = 16;
	}
	out->spi = spi_out;
	out->src = sn4(H_IP4_US);
	out->dst = sn4(H_IP4_PEER);
	in->spi = spi_in;
	in->src = sn4(H_IP4_PEER);
	in->dst = sn4(H_IP4_US);
}

static struct sn_selector udp_sel(void)
{
	struct sn_selector s = { .src = sn4(H_IP4_US), .dst = sn4(H_IP4_PEER),
				 .src_plen = 32, .dst_plen = 32, .proto = H_PROTO_UDP };
	return s;
}

static int udp_send_peer(uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_peer_addr(AF_INET, port, &ss);
	int fd = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ssize_t n;

	cr_assert_geq(fd, 0);
	n = sn_sendto(fd, "data", 4, 0, (struct sockaddr *)&ss, len);
	h_poll(10);
	sn_close(fd);
	return (int)n;
}

Test(keymgr, pair_with_selectors_protects_and_goes_whole)
{
	struct sn_sa_conf out, in;
	struct sn_selector sel = udp_sel();
	uint32_t sas = sn_sad_count(sn_ipsec.sad);
	uint32_t pols = sn_spd_count(sn_ipsec.spd, SN_DIR_OUT);
	uint64_t pair = 0;
	struct wire w;

	pair_confs(&out, &in, 0x5001, 0x5002, 9);
	cr_assert_eq(sn_keymgr_pair_add(&out, &in, &sel, 1, &pair), 0);
	cr_expect_neq(pair, 0);
	cr_expect_eq(sn_keymgr_pair_count(), 1);
	cr_expect_eq(sn_sad_count(sn_ipsec.sad), sas + 2);
	cr_expect_eq(sn_spd_count(sn_ipsec.spd, SN_DIR_OUT), pols + 1);
	h_tx_clear();
	cr_expect_eq(udp_send_peer(7000), 4);
	w = wire();
	cr_expect_eq(w.esp, 1);
	cr_expect_eq(w.udp, 0, "never in the clear");
	cr_expect_eq(w.spi, 0x5001);
	cr_expect_eq(sn_keymgr_pair_idle_s(pair), 0, "just moved a packet");

	sn_keymgr_pair_del(pair);
	cr_expect_eq(sn_keymgr_pair_count(), 0);
	cr_expect_eq(sn_sad_count(sn_ipsec.sad), sas);
	cr_expect_eq(sn_spd_count(sn_ipsec.spd, SN_DIR_OUT), pols);
	cr_expect_eq(sn_keymgr_pair_idle_s(pair), -1, "a stale handle names nothing");
	sn_keymgr_pair_del(pair);       /* twice: nothing happens */
	cr_expect_eq(sn_keymgr_pair_count(), 0);
}

Test(keymgr, pair_refused_whole)
{
	struct sn_sa_conf out, in;
	uint32_t sas = sn_sad_count(sn_ipsec.sad);
	uint64_t pair = 0;

	pair_confs(&out, &in, 0x5101, 0x5102, 0);
	in.enc_key_len = 3;             /* not a GCM key */
	cr_expect_neq(sn_keymgr_pair_add(&out, &in, NULL, 0, &pair), 0);
	cr_expect_eq(sn_sad_count(sn_ipsec.sad), sas, "neither SA stays");
	cr_expect_eq(sn_keymgr_pair_count(), 0);
	cr_expect_eq(sn_keymgr_pair_add(&out, &in, NULL, SN_KEYMGR_MAX_SEL + 1, &pair), -EINVAL);
}

static uint32_t trap(uint32_t *ids)
{
	struct sn_selector sel = udp_sel();
	struct sn_pol_tmpl t = { .proto = SN_IPPROTO_ESP, .mode = SN_MODE_TRANSPORT, .reqid = 42 };

	cr_assert_eq(sn_keymgr_trap_add(&sel, 1, &t, ids), 0);
	return ids[0];
}

Test(keymgr, trap_acquires_holds_and_sends_after_done)
{
	struct sn_sa_conf out, in;
	struct sn_selector sel = udp_sel();
	uint32_t ids[2];
	uint64_t pair;
	struct wire w;

	trap(ids);
	h_tx_clear();
	udp_send_peer(7001);
	cr_assert_eq(fk.acquires, 1);
	cr_expect_null(fk.acq.sec, "a configured policy, not a socket's");
	cr_expect_eq(fk.acq.tmpl.reqid, 42);
	cr_expect_eq(fk.acq.flow.dport, 7001);
	cr_expect_eq(fk.acq.flow.proto, H_PROTO_UDP);
	w = wire();
	cr_expect_eq(w.udp + w.esp, 0, "held");
	udp_send_peer(7001);
	cr_expect_eq(fk.acquires, 1, "one acquire per policy at a time");

	pair_confs(&out, &in, 0x5201, 0x5202, 42);
	cr_assert_eq(sn_keymgr_pair_add(&out, &in, &sel, 1, &pair), 0);
	sn_keymgr_acquire_done(fk.acq.pol_id, 0);
	h_poll(5);
	w = wire();
	cr_expect_eq(w.esp, 2, "both held datagrams leave through the new SA");
	cr_expect_eq(w.udp, 0);
	cr_expect_eq(w.spi, 0x5201);
	sn_keymgr_pair_del(pair);
	sn_keymgr_trap_del(ids, 2);
}

Test(keymgr, failed_acquire_drops_what_it_held)
{
	uint32_t ids[2];
	uint64_t before = h_stat("ipsec.drop_acquire_fail");
	struct wire w;

	trap(ids);
	h_tx_clear();
	udp_send_peer(7002);
	cr_assert_eq(fk.acquires, 1);
	sn_keymgr_acquire_done(fk.acq.pol_id, -ETIMEDOUT);
	h_poll(5);
	w = wire();
	cr_expect_eq(w.udp + w.esp, 0, "dropped, not sent in the clear");
	cr_expect_eq(h_stat("ipsec.drop_acquire_fail"), before + 1);
	udp_send_peer(7002);
	cr_expect_eq(fk.acquires, 2, "the next packet asks again");
	sn_keymgr_acquire_done(fk.acq.pol_id, -ETIMEDOUT);
	sn_keymgr_acquire_done(123456, 0);      /* an unknown token: nothing */
	sn_keymgr_trap_del(ids, 2);
}

Test(keymgr, lifetimes_reach_the_key_manager_once)
{
	struct sn_sa_conf out, in;
	uint64_t now = sn_ipsec_now_s(), pair;

	pair_confs(&out, &in, 0x5301, 0x5302, 0);
	out.life.soft_add_s = in.life.soft_add_s = 3;
	out.life.hard_add_s = in.life.hard_add_s = 6;
	cr_assert_eq(sn_keymgr_pair_add(&out, &in, NULL, 0, &pair), 0);
	sn_ipsec_timers(now + 1);
	cr_expect_eq(fk.soft, 0);
	sn_ipsec_timers(now + 4);
	cr_expect_eq(fk.soft, 1);
	cr_expect_eq(fk.ev_pair, pair);
	sn_ipsec_timers(now + 5);
	cr_expect_eq(fk.soft, 1, "once per pair, not per SA or tick");
	sn_ipsec_timers(now + 7);
	sn_ipsec_timers(now + 8);
	cr_expect_eq(fk.hard, 1);
	cr_expect_eq(sn_keymgr_pair_count(), 0, "the pair went with its SAs");
	cr_expect_eq(sn_keymgr_pair_idle_s(pair), -1);
}

/* ALLOW_INSECURE with a key manager: the first datagram waits for the
 * negotiation; in the clear only once it failed (issue 9). */
Test(keymgr, allow_insecure_negotiates_first_then_falls_back)
{
	struct sn_socket_security_settings st = { SN_SECURITY_PROTOCOL_DEFAULT,
						  SN_SETTINGS_ALLOW_INSECURE };
	struct sockaddr_storage ss, us;
	socklen_t alen = h_peer_addr(AF_INET, 6100, &ss), ulen = h_addr(AF_INET, 5100, &us);
	int u = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct wire w;

	cr_assert_geq(u, 0);
	cr_assert_eq(sn_set_socket_security(u, &st, sizeof(st)), 0);
	cr_assert_eq(sn_bind(u, (struct sockaddr *)&us, ulen), 0);
	h_tx_clear();
	cr_assert_eq(sn_sendto(u, "first", 5, 0, (struct sockaddr *)&ss, alen), 5);
	h_poll(10);
	cr_assert_eq(fk.acquires, 1, "the key manager is asked first");
	cr_expect_not_null(fk.acq.sec, "a socket's acquire carries its settings");
	w = wire();
	cr_expect_eq(w.udp, 0, "not in the clear while negotiating");
	sn_keymgr_acquire_done(fk.acq.pol_id, -ETIMEDOUT);
	h_poll(5);
	w = wire();
	cr_expect_eq(w.udp, 1, "the held datagram goes clear once negotiation failed");
	cr_expect_eq(w.dport, 6100);
	cr_assert_eq(sn_sendto(u, "again", 5, 0, (struct sockaddr *)&ss, alen), 5);
	h_poll(10);
	w = wire();
	cr_expect_eq(w.udp, 1);
	cr_expect_eq(fk.acquires, 1, "no new negotiation for this socket");
	sn_close(u);
}
