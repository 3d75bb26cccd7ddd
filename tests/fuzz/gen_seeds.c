/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed corpus for fuzz_frame: one valid frame per file, of each kind the
 * stack answers (the fuzzer mutates from there). Usage: gen_seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

static const uint8_t zero_mac[6];
static const char *dir;

/* Sequences ("SNSQ", then each frame as a 16-bit length and its bytes):
 * seq_add appends the frame to seq, seq_put writes it. */
static uint8_t seq[H_FRAME_MAX];
static size_t seq_len;

static void seq_add(const uint8_t *f, size_t len)
{
	if (!seq_len) {
		memcpy(seq, "SNSQ", 4);
		seq_len = 4;
	}
	if (seq_len + 2 + len > sizeof(seq)) {
		fprintf(stderr, "gen_seeds: sequence too long\n");
		exit(1);
	}
	seq[seq_len++] = (uint8_t)(len >> 8);
	seq[seq_len++] = (uint8_t)len;
	memcpy(seq + seq_len, f, len);
	seq_len += len;
}

static void put(const char *name, const uint8_t *f, size_t len);

static void seq_put(const char *name)
{
	put(name, seq, seq_len);
	seq_len = 0;
}

/* An IPv4 fragment of the datagram in f (header at H_ETH_HLEN): bytes
 * [off, off + len) of its payload, into out. */
static size_t frag4(uint8_t *out, const uint8_t *f, size_t off, size_t len, int more)
{
	const uint8_t *ip = f + H_ETH_HLEN;
	uint8_t *o = out + H_ETH_HLEN;

	memcpy(out, f, H_ETH_HLEN + H_IP4_HLEN);
	memcpy(o + H_IP4_HLEN, ip + H_IP4_HLEN + off, len);
	h_put16(o + 2, (uint16_t)(H_IP4_HLEN + len));
	h_put16(o + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
	o[10] = o[11] = 0;
	h_put16(o + 10, h_fold(h_sum(o, H_IP4_HLEN, 0)));
	return H_ETH_HLEN + H_IP4_HLEN + len;
}

static void put(const char *name, const uint8_t *f, size_t len)
{
	char path[512];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (!out || fwrite(f, 1, len, out) != len || fclose(out)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const char data[] = "seed payload 0123456789";
	uint8_t f[H_FRAME_MAX], b[256], us6[16], peer6[16];
	uint32_t us4 = h_ip4(H_IP4_US), peer4 = h_ip4(H_IP4_PEER);
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	h_ip6(H_IP6_US, us6);
	h_ip6(H_IP6_PEER, peer6);

	put("arp_request", f, h_arp(f, 1, h_mac_peer, peer4, zero_mac, us4));
	put("arp_reply", f, h_arp(f, 2, h_mac_peer, peer4, h_mac_us, us4));
	put("icmp_echo", f, h_ipv4(f, H_PROTO_ICMP, peer4, us4, b,
				   h_echo(b, 8, 1, 1, data, sizeof(data))));
	put("tcp_syn", f, h_ipv4(f, H_PROTO_TCP, peer4, us4, b,
				 h_tcp_seg(b, 40000, 80, 1000, 0, H_SYN, NULL, 0)));
	put("tcp_ack_data", f, h_ipv4(f, H_PROTO_TCP, peer4, us4, b,
				      h_tcp_seg(b, 40000, 80, 1001, 1, H_ACK | H_PSH,
						data, sizeof(data))));
	put("udp", f, h_ipv4(f, H_PROTO_UDP, peer4, us4, b,
			     h_udp_dgram(b, 5000, 9999, data, sizeof(data))));
	/* First fragment of a UDP datagram (more fragments, offset 0). */
	n = h_ipv4(f, H_PROTO_UDP, peer4, us4, b, h_udp_dgram(b, 5000, 9999, data, 16));
	f[H_ETH_HLEN + 6] = 0x20;
	f[H_ETH_HLEN + 10] = f[H_ETH_HLEN + 11] = 0;
	h_put16(f + H_ETH_HLEN + 10, h_fold(h_sum(f + H_ETH_HLEN, H_IP4_HLEN, 0)));
	put("ipv4_fragment", f, n);
	put("nd6_ns", f, h_nd6_ns(f, us6));
	put("icmp6_echo", f, h_ipv6(f, H_PROTO_ICMP6, peer6, us6, b,
				    h_echo(b, 128, 1, 1, data, sizeof(data))));
	put("tcp6_syn", f, h_ipv6(f, H_PROTO_TCP, peer6, us6, b,
				  h_tcp_seg(b, 40000, 80, 1000, 0, H_SYN, NULL, 0)));
	put("udp6", f, h_ipv6(f, H_PROTO_UDP, peer6, us6, b,
			      h_udp_dgram(b, 5000, 9999, data, sizeof(data))));

	/* Sequences: a UDP datagram in two fragments; a handshake and data
	 * (the ACK number is the fuzzer's to find: the ISN is the same for
	 * every input). */
	uint8_t g[H_FRAME_MAX];

	n = h_ipv4(f, H_PROTO_UDP, peer4, us4, b, h_udp_dgram(b, 5000, 9999, data, sizeof(data)));
	seq_add(g, frag4(g, f, 0, 16, 1));
	seq_add(g, frag4(g, f, 16, n - H_ETH_HLEN - H_IP4_HLEN - 16, 0));
	seq_put("seq_ipv4_fragments");
	seq_add(f, h_ipv4(f, H_PROTO_TCP, peer4, us4, b,
			  h_tcp_seg(b, 40000, 80, 1000, 0, H_SYN, NULL, 0)));
	seq_add(f, h_ipv4(f, H_PROTO_TCP, peer4, us4, b,
			  h_tcp_seg(b, 40000, 80, 1001, 1, H_ACK | H_PSH, data, sizeof(data))));
	seq_put("seq_tcp_syn_data");
	return 0;
}
