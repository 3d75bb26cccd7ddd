/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound frames through the whole stack (the harness's fake port ->
 * sn_netif -> lwIP): malformed frames are dropped, each with its named
 * counter, and give their mbuf back; well-formed ARP, ICMP, ICMPv6, ND
 * and TCP get correct answers on TX.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"
#include "harness.h"

TestSuite(input, .init = h_stack_start, .fini = h_stack_stop_checked, .timeout = 60);

static const uint8_t zero_mac[6];
static const uint8_t payload[56] = "sealnet echo payload 0123456789abcdefghijklmnopqrstuvw";

/* ---- Malformed frames -------------------------------------------------------------- */

static uint32_t us4(void) { return h_ip4(H_IP4_US); }
static uint32_t peer4(void) { return h_ip4(H_IP4_PEER); }

/* Rewrite an IPv4 header field and fix the header checksum. */
static void ip4_fix(uint8_t *f)
{
	uint8_t *ip = f + H_ETH_HLEN;
	size_t hl = (size_t)(ip[0] & 15) * 4;

	h_put16(ip + 10, 0);
	h_put16(ip + 10, h_fold(h_sum(ip, hl < 20 ? 20 : hl, 0)));
}

static size_t echo4(uint8_t *f)
{
	uint8_t b[64];

	return h_ipv4(f, H_PROTO_ICMP, peer4(), us4(), b,
		      h_echo(b, 8, 0x77, 1, payload, sizeof(payload)));
}

static size_t f_runt(uint8_t *f) { memset(f, 0xaa, 10); return 10; }
static size_t f_empty(uint8_t *f) { return 0; }
static size_t f_eth_only(uint8_t *f) { return h_eth(f, h_mac_us, h_mac_peer, H_ETH_IP4); }

static size_t f_oversize(uint8_t *f)
{
	size_t n = echo4(f);

	memset(f + n, 0, 1519 - n);
	return 1519;                    /* MTU 1500 + 14 + a VLAN tag's 4, plus one */
}

static size_t f_ip4_truncated_header(uint8_t *f)
{
	return echo4(f) - 56 - 8 - 10;  /* 10 of the 20 header bytes */
}

static size_t f_ip4_len_beyond_frame(uint8_t *f)
{
	size_t n = echo4(f);

	h_put16(f + H_ETH_HLEN + 2, (uint16_t)(n - H_ETH_HLEN + 100));
	ip4_fix(f);
	return n;
}

static size_t f_ip4_bad_cksum(uint8_t *f)
{
	size_t n = echo4(f);

	f[H_ETH_HLEN + 10] ^= 0x5a;
	return n;
}

static size_t f_ip4_ihl_too_small(uint8_t *f)
{
	size_t n = echo4(f);

	f[H_ETH_HLEN] = 0x44;
	ip4_fix(f);
	return n;
}

static size_t f_ip4_ihl_beyond_frame(uint8_t *f)
{
	size_t n = echo4(f);

	f[H_ETH_HLEN] = 0x4f;           /* 60-byte header in a 20 + 8 byte packet */
	h_put16(f + H_ETH_HLEN + 2, 28);
	ip4_fix(f);
	return H_ETH_HLEN + 28;
	(void)n;
}

static size_t f_ip4_version(uint8_t *f)
{
	size_t n = echo4(f);

	f[H_ETH_HLEN] = 0x65;
	ip4_fix(f);
	return n;
}

static size_t tcp4(uint8_t *f, uint16_t dport, uint8_t flags)
{
	uint8_t b[64];

	return h_ipv4(f, H_PROTO_TCP, peer4(), us4(), b,
		      h_tcp_seg(b, 40000, dport, 1000, 0, flags, NULL, 0));
}

static size_t f_tcp_bad_cksum(uint8_t *f)
{
	size_t n = tcp4(f, 80, H_SYN);

	f[n - 4] ^= 1;                  /* the urgent pointer's byte: checksum now off */
	return n;
}

static size_t f_tcp_hdrlen_beyond_segment(uint8_t *f)
{
	uint8_t b[64];

	h_tcp_seg(b, 40000, 80, 1000, 0, H_SYN, NULL, 0);
	b[12] = 15 << 4;                /* 60-byte header, 20-byte segment */
	return h_ipv4(f, H_PROTO_TCP, peer4(), us4(), b, 20);
}

static size_t f_tcp_hdrlen_too_small(uint8_t *f)
{
	uint8_t b[64];

	h_tcp_seg(b, 40000, 80, 1000, 0, H_SYN, NULL, 0);
	b[12] = 4 << 4;
	return h_ipv4(f, H_PROTO_TCP, peer4(), us4(), b, 20);
}

static size_t f_tcp_short(uint8_t *f)
{
	uint8_t b[64];

	h_tcp_seg(b, 40000, 80, 1000, 0, H_SYN, NULL, 0);
	return h_ipv4(f, H_PROTO_TCP, peer4(), us4(), b, 12);
}

static size_t udp4(uint8_t *f, const void *data, size_t dlen)
{
	uint8_t b[128];

	return h_ipv4(f, H_PROTO_UDP, peer4(), us4(), b,
		      h_udp_dgram(b, 5000, 9999, data, dlen));
}

static size_t f_udp_bad_cksum(uint8_t *f)
{
	size_t n = udp4(f, "abcd", 4);

	f[n - 1] ^= 0x10;
	return n;
}

static size_t f_udp_short(uint8_t *f)
{
	uint8_t b[8] = { 0x13, 0x88, 0x27, 0x0f };

	return h_ipv4(f, H_PROTO_UDP, peer4(), us4(), b, 6);
}

/* UDP length field larger than the IP payload (RFC 768: the length
 * covers header and data); checksum 0, "none", so only the length tells. */
static size_t f_udp_len_beyond_payload(uint8_t *f)
{
	size_t n = udp4(f, "abcd", 4);
	uint8_t *u = f + H_ETH_HLEN + H_IP4_HLEN;

	h_put16(u + 4, 100);
	h_put16(u + 6, 0);
	return n;
}

static size_t f_udp_len_below_header(uint8_t *f)
{
	size_t n = udp4(f, "abcd", 4);
	uint8_t *u = f + H_ETH_HLEN + H_IP4_HLEN;

	h_put16(u + 4, 4);
	h_put16(u + 6, 0);
	return n;
}

static size_t f_arp_bad_hwtype(uint8_t *f)
{
	size_t n = h_arp(f, 1, h_mac_peer, peer4(), zero_mac, us4());

	h_put16(f + H_ETH_HLEN, 6);    /* IEEE 802, not Ethernet */
	return n;
}

static size_t echo6(uint8_t *f)
{
	uint8_t b[64], src[16], dst[16];

	h_ip6(H_IP6_PEER, src);
	h_ip6(H_IP6_US, dst);
	return h_ipv6(f, H_PROTO_ICMP6, src, dst, b,
		      h_echo(b, 128, 0x66, 2, payload, sizeof(payload)));
}

static size_t f_ip6_truncated_header(uint8_t *f)
{
	echo6(f);
	return H_ETH_HLEN + 20;
}

static size_t f_ip6_plen_beyond_frame(uint8_t *f)
{
	size_t n = echo6(f);

	h_put16(f + H_ETH_HLEN + 4, 200);
	return n;
}

static size_t f_icmp6_bad_cksum(uint8_t *f)
{
	size_t n = echo6(f);

	f[n - 1] ^= 0x22;
	return n;
}

static size_t f_icmp_bad_cksum(uint8_t *f)
{
	size_t n = echo4(f);

	f[n - 1] ^= 0x22;
	return n;
}

struct bad_case {
	const char *name;
	size_t (*build)(uint8_t *f);
	const char *counter;
};

static const struct bad_case bad_cases[] = {
	/*  0 */ { "runt frame", f_runt, "stack.drop_rx_runt" },
	/*  1 */ { "empty frame", f_empty, "stack.drop_rx_runt" },
	/*  2 */ { "Ethernet header only", f_eth_only, "etharp.proterr" },
	/*  3 */ { "oversize frame", f_oversize, "stack.drop_rx_oversize" },
	/*  4 */ { "IPv4 header truncated", f_ip4_truncated_header, "ip.lenerr" },
	/*  5 */ { "IPv4 total length beyond frame", f_ip4_len_beyond_frame, "ip.lenerr" },
	/*  6 */ { "IPv4 header checksum", f_ip4_bad_cksum, "ip.chkerr" },
	/*  7 */ { "IPv4 IHL below 5", f_ip4_ihl_too_small, "ip.lenerr" },
	/*  8 */ { "IPv4 IHL beyond packet", f_ip4_ihl_beyond_frame, "ip.lenerr" },
	/*  9 */ { "IPv4 version 6", f_ip4_version, "ip.err" },
	/* 10 */ { "TCP checksum", f_tcp_bad_cksum, "tcp.chkerr" },
	/* 11 */ { "TCP header length beyond segment", f_tcp_hdrlen_beyond_segment, "tcp.lenerr" },
	/* 12 */ { "TCP header length below 20", f_tcp_hdrlen_too_small, "tcp.lenerr" },
	/* 13 */ { "TCP segment shorter than a header", f_tcp_short, "tcp.lenerr" },
	/* 14 */ { "UDP checksum", f_udp_bad_cksum, "udp.chkerr" },
	/* 15 */ { "UDP shorter than a header", f_udp_short, "udp.lenerr" },
	/* 16 */ { "ARP hardware type", f_arp_bad_hwtype, "etharp.proterr" },
	/* 17 */ { "IPv6 header truncated", f_ip6_truncated_header, "ip6.lenerr" },
	/* 18 */ { "IPv6 payload length beyond frame", f_ip6_plen_beyond_frame, "ip6.lenerr" },
	/* 19 */ { "ICMPv6 checksum", f_icmp6_bad_cksum, "icmp6.chkerr" },
	/* 20 */ { "ICMP checksum", f_icmp_bad_cksum, "icmp.chkerr" },
};

/* Inject one frame; its counter moves by exactly one and every mbuf
 * comes back. Returns false (after reporting) when not. */
static bool dropped_and_counted(const char *what, const uint8_t *f, size_t len,
				size_t visible, const char *counter)
{
	uint64_t before = h_stat(counter), after;
	unsigned base = h_in_use();

	cr_assert_eq(h_inject_trunc(f, len, visible), 0);
	h_poll(3);
	after = h_stat(counter);
	cr_expect_eq(after - before, 1, "%s: %s moved by %llu", what, counter,
		     (unsigned long long)(after - before));
	cr_expect_eq(h_in_use(), base, "%s: %u mbufs not given back", what,
		     h_in_use() - base);
	return after - before == 1 && h_in_use() == base;
}

Test(input, malformed_frames_dropped_and_counted)
{
	static uint8_t f[H_FRAME_MAX];
	char what[96];

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		size_t n = bad_cases[i].build(f);

		snprintf(what, sizeof(what), "case %zu (%s)", i, bad_cases[i].name);
		dropped_and_counted(what, f, n, n, bad_cases[i].counter);
	}
}

/* lwIP's udp_input does not compare the UDP length field with the
 * datagram; a mismatch must still be dropped (RFC 768, RFC 1122 4.1.3.4),
 * not delivered with bytes the sender did not count. */
Test(input, udp_length_field_mismatch_dropped)
{
	static uint8_t f[H_FRAME_MAX];
	struct sockaddr_storage ss;
	socklen_t len = h_addr(AF_INET, 9999, &ss);
	int u = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	char buf[256];
	size_t n;

	cr_assert_eq(sn_bind(u, (struct sockaddr *)&ss, len), 0);
	n = f_udp_len_beyond_payload(f);
	dropped_and_counted("case 0 (UDP length 100, 12 bytes sent)", f, n, n, "udp.lenerr");
	n = f_udp_len_below_header(f);
	dropped_and_counted("case 1 (UDP length 4)", f, n, n, "udp.lenerr");
	cr_expect_eq(sn_recv(u, buf, sizeof(buf), 0), -1, "a datagram with a bad length was delivered");
}

/* An ARP packet cut short: the frame ends inside the sender's address,
 * and the bytes after the end (stale data in the mbuf) complete a request
 * for our address. The stack must check the length before it reads, not
 * answer with what lies beyond the frame. */
Test(input, truncated_arp_not_read_beyond_its_end)
{
	static uint8_t f[H_FRAME_MAX], tx[H_FRAME_MAX];
	size_t n = h_arp(f, 1, h_mac_peer, peer4(), zero_mac, us4());

	h_tx_clear();
	dropped_and_counted("ARP header 20 of 28 bytes", f, n, H_ETH_HLEN + 20, "etharp.lenerr");
	cr_expect_eq(h_tx_find(H_ETH_ARP, 2, tx, sizeof(tx)), 0,
		     "answered an ARP request read beyond the end of its frame");
}

/* The same frames again and again: no counter of mbufs drifts. */
Test(input, repeated_malformed_frames_do_not_leak)
{
	static uint8_t f[H_FRAME_MAX];
	unsigned base = h_in_use();

	for (int round = 0; round < 50; round++)
		for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
			cr_assert_eq(h_inject(f, bad_cases[i].build(f)), 0);
			h_poll(1);
		}
	h_poll(5);
	cr_assert_eq(h_in_use(), base, "%u mbufs kept", h_in_use() - base);
}

/* ---- Answers --------------------------------------------------------------------------- */

Test(input, arp_request_gets_reply)
{
	uint8_t f[H_FRAME_MAX], r[H_FRAME_MAX];
	const uint8_t *a = r + H_ETH_HLEN;
	uint32_t ip;
	size_t n;

	h_tx_clear();
	cr_assert_eq(h_inject(f, h_arp(f, 1, h_mac_peer, peer4(), zero_mac, us4())), 0);
	h_poll(2);
	n = h_tx_find(H_ETH_ARP, 2, r, sizeof(r));
	cr_assert_geq(n, H_ETH_HLEN + 28, "no ARP reply");
	cr_assert_eq(memcmp(r, h_mac_peer, 6), 0, "Ethernet destination");
	cr_assert_eq(memcmp(r + 6, h_mac_us, 6), 0, "Ethernet source");
	cr_assert_eq(h_be16(a), 1);
	cr_assert_eq(h_be16(a + 2), H_ETH_IP4);
	cr_assert_eq(memcmp(a + 8, h_mac_us, 6), 0, "sender MAC is not ours");
	memcpy(&ip, a + 14, 4);
	cr_assert_eq(ip, us4());
	cr_assert_eq(memcmp(a + 18, h_mac_peer, 6), 0);
	memcpy(&ip, a + 24, 4);
	cr_assert_eq(ip, peer4());
}

Test(input, arp_request_for_another_address_ignored)
{
	uint8_t f[H_FRAME_MAX], r[H_FRAME_MAX];

	h_tx_clear();
	h_inject(f, h_arp(f, 1, h_mac_peer, peer4(), zero_mac, h_ip4("10.0.0.77")));
	h_poll(2);
	cr_assert_eq(h_tx_find(H_ETH_ARP, 2, r, sizeof(r)), 0);
}

Test(input, icmp_echo_gets_reply)
{
	uint8_t f[H_FRAME_MAX], r[H_FRAME_MAX];
	const uint8_t *ip = r + H_ETH_HLEN, *icmp = ip + H_IP4_HLEN;
	uint32_t a;
	size_t n;

	h_learn_peer4();
	cr_assert_eq(h_inject(f, echo4(f)), 0);
	h_poll(2);
	n = h_tx_find(H_ETH_IP4, H_PROTO_ICMP, r, sizeof(r));
	cr_assert_eq(n, H_ETH_HLEN + H_IP4_HLEN + 8 + sizeof(payload), "no echo reply (%zu)", n);
	cr_assert_eq(memcmp(r, h_mac_peer, 6), 0);
	cr_assert(h_ip4_hdr_ok(r, n), "IPv4 header checksum");
	cr_assert(h_l4_ok(r, n), "ICMP checksum");
	memcpy(&a, ip + 12, 4);
	cr_assert_eq(a, us4());
	memcpy(&a, ip + 16, 4);
	cr_assert_eq(a, peer4());
	cr_assert_eq(icmp[0], 0, "type %d", icmp[0]);
	cr_assert_eq(h_be16(icmp + 4), 0x77);
	cr_assert_eq(h_be16(icmp + 6), 1);
	cr_assert_eq(memcmp(icmp + 8, payload, sizeof(payload)), 0);
}

Test(input, nd6_solicitation_gets_advertisement)
{
	uint8_t f[H_FRAME_MAX], r[H_FRAME_MAX], us[16];
	const uint8_t *ip = r + H_ETH_HLEN, *na = ip + H_IP6_HLEN;
	size_t n;

	h_ip6(H_IP6_US, us);
	h_tx_clear();
	cr_assert_eq(h_inject(f, h_nd6_ns(f, us)), 0);
	h_poll(2);
	n = h_tx_find(H_ETH_IP6, 136, r, sizeof(r));
	cr_assert_geq(n, H_ETH_HLEN + H_IP6_HLEN + 24, "no neighbour advertisement");
	cr_assert(h_l4_ok(r, n), "ICMPv6 checksum");
	cr_assert_eq(ip[7], 255, "hop limit");
	cr_assert_eq(memcmp(na + 8, us, 16), 0, "target");
	cr_assert(na[4] & 0x40, "solicited flag");
	/* Target link-layer address option with our MAC. */
	cr_assert_geq(n, H_ETH_HLEN + H_IP6_HLEN + 32);
	cr_assert_eq(na[24], 2);
	cr_assert_eq(memcmp(na + 26, h_mac_us, 6), 0);
}

Test(input, icmp6_echo_gets_reply)
{
	uint8_t f[H_FRAME_MAX], r[H_FRAME_MAX], us[16], peer[16];
	const uint8_t *ip = r + H_ETH_HLEN, *icmp = ip + H_IP6_HLEN;
	size_t n;

	h_ip6(H_IP6_US, us);
	h_ip6(H_IP6_PEER, peer);
	h_learn_peer6();
	cr_assert_eq(h_inject(f, echo6(f)), 0);
	h_poll(2);
	n = h_tx_find(H_ETH_IP6, 129, r, sizeof(r));
	cr_assert_eq(n, H_ETH_HLEN + H_IP6_HLEN + 8 + sizeof(payload), "no echo reply (%zu)", n);
	cr_assert_eq(memcmp(r, h_mac_peer, 6), 0);
	cr_assert(h_l4_ok(r, n), "ICMPv6 checksum");
	cr_assert_eq(memcmp(ip + 8, us, 16), 0);
	cr_assert_eq(memcmp(ip + 24, peer, 16), 0);
	cr_assert_eq(h_be16(icmp + 4), 0x66);
	cr_assert_eq(h_be16(icmp + 6), 2);
	cr_assert_eq(memcmp(icmp + 8, payload, sizeof(payload)), 0);
}

Test(input, tcp_syn_to_listener_gets_syn_ack_closed_port_rst)
{
	uint8_t f[H_FRAME_MAX], r[H_FRAME_MAX];
	const uint8_t *t = r + H_ETH_HLEN + H_IP4_HLEN;
	int l = h_listen(AF_INET, 80);
	size_t n;

	cr_assert_geq(l, 0);
	h_learn_peer4();
	cr_assert_eq(h_inject(f, tcp4(f, 80, H_SYN)), 0);
	h_poll(2);
	n = h_tx_find(H_ETH_IP4, H_PROTO_TCP, r, sizeof(r));
	cr_assert_geq(n, H_ETH_HLEN + H_IP4_HLEN + 20, "no SYN-ACK");
	cr_assert(h_l4_ok(r, n), "TCP checksum");
	cr_assert_eq(t[13], H_SYN | H_ACK, "flags 0x%02x", t[13]);
	cr_assert_eq(h_be32(t + 8), 1001, "acknowledges the SYN");
	cr_assert_eq(h_be16(t), 80);
	cr_assert_eq(h_be16(t + 2), 40000);

	cr_assert_eq(h_inject(f, tcp4(f, 81, H_SYN)), 0);
	h_poll(2);
	n = h_tx_find(H_ETH_IP4, H_PROTO_TCP, r, sizeof(r));
	cr_assert_geq(n, H_ETH_HLEN + H_IP4_HLEN + 20, "no RST");
	cr_assert(h_l4_ok(r, n), "TCP checksum");
	cr_assert_eq(t[13] & H_RST, H_RST, "flags 0x%02x", t[13]);
}

/* A UDP datagram from the wire reaches a bound socket with its source. */
Test(input, udp_datagram_delivered)
{
	uint8_t f[H_FRAME_MAX];
	struct sockaddr_storage ss, from;
	socklen_t len = h_addr(AF_INET, 9999, &ss), flen = sizeof(from);
	int u = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	char buf[16];

	cr_assert_eq(sn_bind(u, (struct sockaddr *)&ss, len), 0);
	cr_assert_eq(h_inject(f, udp4(f, "abcd", 4)), 0);
	h_poll(2);
	cr_assert_eq(sn_recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 4);
	cr_assert_eq(memcmp(buf, "abcd", 4), 0);
	cr_assert_eq(((struct sockaddr_in *)&from)->sin_addr.s_addr, peer4());
	cr_assert_eq(ntohs(((struct sockaddr_in *)&from)->sin_port), 5000);
}

/* ---- What other layers may change about the netif (stack/sn_netif.h) ----------------- */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "lwip/ip.h"
#include "sn_netif.h"
#include "sn_counters.h"

/* Fragmentation deferred: lwIP sees MTU 0, the MTU to fragment to stays
 * the link's; calls nest; the last end gives lwIP its MTU back. */
Test(input, defer_frag_nests_and_restores_the_mtu)
{
	u16_t mtu = sn_netif.mtu;

	cr_assert_gt(mtu, 0);
	cr_expect_eq(sn_netif_mtu(), mtu);
	sn_netif_defer_frag(true);
	cr_expect_eq(sn_netif.mtu, 0, "lwIP's IP output would fragment");
	cr_expect_eq(sn_netif_mtu(), mtu);
	sn_netif_defer_frag(true);
	sn_netif_defer_frag(false);
	cr_expect_eq(sn_netif.mtu, 0, "the inner end gave the MTU back");
	sn_netif_defer_frag(false);
	cr_expect_eq(sn_netif.mtu, mtu);
	sn_netif_defer_frag(false);     /* unbalanced: no harm */
	cr_expect_eq(sn_netif.mtu, mtu);
	cr_expect_eq(sn_netif_mtu(), mtu);
}

/* The output hook sees every IP packet; without it they go to the link. */
static int hook4_calls, hook6_calls;

static err_t hook4(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
	hook4_calls++;
	return sn_netif_link_output4(nif, p, dst);
}

static err_t hook6(struct netif *nif, struct pbuf *p, const ip6_addr_t *dst)
{
	hook6_calls++;
	return sn_netif_link_output6(nif, p, dst);
}

static void ping_both(void)
{
	uint8_t f[H_FRAME_MAX], b[128], s6[16], d6[16];

	h_ip6(H_IP6_PEER, s6);
	h_ip6(H_IP6_US, d6);
	h_inject(f, echo4(f));
	h_inject(f, h_ipv6(f, H_PROTO_ICMP6, s6, d6, b, h_echo(b, 128, 1, 1, payload, 16)));
	h_poll(3);
}

Test(input, output_hook_sees_every_packet_and_goes)
{
	uint8_t f[H_FRAME_MAX];

	h_learn_peer4();
	h_learn_peer6();
	sn_netif_set_output_hook(hook4, hook6);
	h_tx_clear();
	ping_both();
	cr_expect_eq(hook4_calls, 1);
	cr_expect_eq(hook6_calls, 1);
	cr_expect(h_tx_find(H_ETH_IP4, H_PROTO_ICMP, f, sizeof(f)), "no echo reply through the hook");
	cr_expect(h_tx_find(H_ETH_IP6, 129, f, sizeof(f)), "no ICMPv6 echo reply through the hook");
	sn_netif_set_output_hook(NULL, NULL);
	ping_both();
	cr_expect_eq(hook4_calls, 1, "the hook is still called after it was removed");
	cr_expect_eq(hook6_calls, 1);
	cr_expect(h_tx_find(H_ETH_IP4, H_PROTO_ICMP, f, sizeof(f)), "no echo reply without the hook");
}

/* Marked verified, a datagram's UDP checksum is not checked, for that one
 * packet: the same bad datagram fed normally is dropped. */
Test(input, input_verified_is_for_one_packet)
{
	uint8_t f[H_FRAME_MAX], b[64], got[64];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5050) };
	int u = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	u16_t flags = sn_netif.chksum_flags;
	size_t n;

	cr_assert_geq(u, 0);
	a.sin_addr.s_addr = us4();
	cr_assert_eq(sn_bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
	n = h_ipv4(f, H_PROTO_UDP, peer4(), us4(), b, h_udp_dgram(b, 6000, 5050, "datagram", 8));
	f[H_ETH_HLEN + 20 + 6] ^= 0x5a;         /* break the UDP checksum */
	for (int verified = 1; verified >= 0; verified--) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(n - H_ETH_HLEN), PBUF_RAM);

		cr_assert_not_null(p);
		memcpy(p->payload, f + H_ETH_HLEN, n - H_ETH_HLEN);
		if (verified)
			sn_netif_input_verified(p, &sn_netif, NETIF_CHECKSUM_CHECK_UDP);
		else
			ip_input(p, &sn_netif);
		cr_expect_eq(sn_netif.chksum_flags, flags, "checksum flags not restored");
		cr_expect_eq(sn_recv(u, got, sizeof(got), MSG_DONTWAIT), verified ? 8 : -1, "%s",
			     verified ? "the verified datagram was not delivered"
				      : "a bad checksum was accepted after the verified packet");
	}
	sn_close(u);
}

/* ---- Source checks: one writer, every counter counted -------------------------------- */

/* The tree this binary was built from: up from build/tests/ (or
 * build-asan/tests/) to the folder holding stack/sn_netif.c. */
static void source_root(char *root, size_t len)
{
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	cr_assert_gt(n, 0);
	exe[n] = '\0';
	for (char *slash; (slash = strrchr(exe, '/')) != NULL;) {
		*slash = '\0';
		snprintf(probe, sizeof(probe), "%s/stack/sn_netif.c", exe);
		if (access(probe, R_OK) == 0) {
			snprintf(root, len, "%s", exe);
			return;
		}
	}
	cr_assert_fail("no source tree above %s", exe);
}

/* The lines the shell command prints (at most cap bytes of them). */
static size_t run(const char *cmd, char *out, size_t cap)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	cr_assert_not_null(f, "%s", cmd);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	pclose(f);
	return n;
}

/* DESIGN.md: stack/ owns the netif (its MTU, checksum flags and output
 * path); ipsec/ and api/ wrote them (the MTU set to 0 around large UDP
 * sends, the flags around re-injected packets, the output through an
 * extern). Nothing outside stack/ writes them now. */
Test(input, only_stack_writes_the_netif)
{
	char root[PATH_MAX], cmd[PATH_MAX * 2], out[4096];

	source_root(root, sizeof(root));
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && grep -rnE --include='*.c' --include='*.h' "
		 "'(sn_netif\\.|netif->|nif->|inp->)(mtu|mtu6|chksum_flags|output|output_ip6|"
		 "linkoutput|input)[[:space:]]*=[^=]|NETIF_SET_CHECKSUM_CTRL|extern struct netif' "
		 "ipsec api apps dpdk 2>&1", root);
	cr_expect_eq(run(cmd, out, sizeof(out)), 0, "netif fields written outside stack/:\n%s", out);
}

/* Every counter the stack and IPsec declare is counted somewhere (one,
 * drop_tx_linkdown, was declared and never counted). */
Test(input, every_declared_counter_is_counted)
{
	char root[PATH_MAX], cmd[PATH_MAX * 3], out[4096];

	source_root(root, sizeof(root));
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && "
		 "for id in $(sed -nE 's/^[[:space:]]*X\\(([A-Z0-9_]+),.*/\\1/p' stack/sn_counters.h); do "
		 "grep -rqw \"SN_C_$id\" stack dpdk api ipsec --exclude=sn_counters.h || echo \"stack $id\"; "
		 "done; "
		 "for id in $(sed -nE 's/^[[:space:]]*X\\(([A-Z0-9_]+),.*/\\1/p' ipsec/ipsec_counters.h); do "
		 "grep -rqwE \"SN_IC_$id|SN_V_$id\" ipsec api --exclude=ipsec_counters.h || echo \"ipsec $id\"; "
		 "done", root);
	cr_expect_eq(run(cmd, out, sizeof(out)), 0, "declared and never counted:\n%s", out);
	cr_expect_gt(SN_C_MAX, 5, "the list did not parse");
}
