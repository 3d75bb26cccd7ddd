/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seed corpus for fuzz_esp: a few inputs of each mode (see fuzz_esp.c:
 * a selector byte, then bytes). Usage: gen_esp_seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

static const char *dir;

static void put(const char *name, uint8_t mode, const uint8_t *b, size_t len)
{
	char path[512];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (!out || fputc(mode, out) == EOF || fwrite(b, 1, len, out) != len || fclose(out)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const char data[] = "seed payload 0123456789";
	uint8_t b[512], f[H_FRAME_MAX], l4[256], us6[16], peer6[16];
	uint32_t us4 = h_ip4(H_IP4_US), peer4 = h_ip4(H_IP4_PEER);
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	h_ip6(H_IP6_US, us6);
	h_ip6(H_IP6_PEER, peer6);

	/* Raw ESP / AH: a known SPI, sequence 1, bytes that look like data. */
	memset(b, 0x5a, sizeof(b));
	h_put32(b, 0x2001);
	h_put32(b + 4, 1);
	put("esp4_raw", 0, b, 64);
	h_put32(b, 0x2002);
	put("esp6_raw", 1, b, 64);
	h_put32(b, 0x4001);
	put("encap_raw", 2, b, 64);
	put("keepalive", 2, (const uint8_t *)"\xff", 1);
	memset(b, 0, 24);
	b[0] = 17;
	b[1] = 4;                       /* (12 + 12) / 4 - 2 */
	h_put32(b + 4, 0x3001);
	h_put32(b + 8, 1);
	put("ah4_raw", 3, b, 64);
	b[1] = 5;
	put("ah6_raw", 4, b, 64);

	/* Sealed: next header, then a valid UDP datagram to 9999. */
	n = h_ipv4(f, H_PROTO_UDP, peer4, us4, l4, h_udp_dgram(l4, 6000, 9999, data, sizeof(data)));
	b[0] = 17;
	memcpy(b + 1, f + H_ETH_HLEN + H_IP4_HLEN, n - H_ETH_HLEN - H_IP4_HLEN);
	put("esp4_udp", 5, b, 1 + n - H_ETH_HLEN - H_IP4_HLEN);
	put("ah4_udp", 7, b, 1 + n - H_ETH_HLEN - H_IP4_HLEN);
	n = h_ipv4(f, H_PROTO_UDP, peer4, us4, l4, h_udp_dgram(l4, 6000, 9998, data, sizeof(data)));
	memcpy(b + 1, f + H_ETH_HLEN + H_IP4_HLEN, n - H_ETH_HLEN - H_IP4_HLEN);
	put("encap_udp", 8, b, 1 + n - H_ETH_HLEN - H_IP4_HLEN);
	n = h_ipv4(f, H_PROTO_TCP, peer4, us4, l4, h_tcp_seg(l4, 40000, 80, 1000, 0, H_SYN, NULL, 0));
	b[0] = 6;
	memcpy(b + 1, f + H_ETH_HLEN + H_IP4_HLEN, n - H_ETH_HLEN - H_IP4_HLEN);
	put("ah4_tcp_syn", 7, b, 1 + n - H_ETH_HLEN - H_IP4_HLEN);
	/* Tunnel: an inner IPv6 packet (next header byte < 128: 41). */
	n = h_ipv6(f, H_PROTO_UDP, peer6, us6, l4, h_udp_dgram(l4, 6000, 9999, data, sizeof(data)));
	b[0] = 0;
	memcpy(b + 1, f + H_ETH_HLEN, n - H_ETH_HLEN);
	put("tunnel6_udp", 6, b, 1 + n - H_ETH_HLEN);
	/* A sequence (mode 11): a SYN, then an ACK with data, under AH (the
	 * fuzzer finds the ACK number: the ISN is the same for every input). */
	uint8_t q[512];
	size_t qn = 0;

	for (int k = 0; k < 2; k++) {
		n = h_ipv4(f, H_PROTO_TCP, peer4, us4, l4,
			   k ? h_tcp_seg(l4, 40000, 80, 1001, 1, H_ACK | H_PSH, data, sizeof(data))
			     : h_tcp_seg(l4, 40000, 80, 1000, 0, H_SYN, NULL, 0));
		q[qn++] = 7;
		q[qn++] = (uint8_t)(1 + n - H_ETH_HLEN - H_IP4_HLEN);
		q[qn++] = 6;
		memcpy(q + qn, f + H_ETH_HLEN + H_IP4_HLEN, n - H_ETH_HLEN - H_IP4_HLEN);
		qn += n - H_ETH_HLEN - H_IP4_HLEN;
	}
	put("seq_ah4_tcp_syn_data", 11, q, qn);
	/* Issue 10: this input was reported as keeping an mbuf after a
	 * 15-minute run (the peer's ARP entry had aged out; fuzz_reset.h). */
	static const uint8_t issue10[] = {
		0x06, 0x9c, 0x40, 0x00, 0x50, 0x00, 0x06, 0x9c, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0x40, 0x00, 0xff, 0xff, 0x00, 0x50, 0x00, 0x61, 0x70,
		0x00, 0x00, 0x69, 0x70, 0x73, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00,
		0x50, 0x22, 0xff, 0xff, 0xfb, 0x67,
	};
	memcpy(b, issue10, sizeof(issue10));
	memset(b + sizeof(issue10), '8', 80);
	b[sizeof(issue10) + 75] = ':';
	memset(b + sizeof(issue10) + 80, 0, 2);
	put("issue10_arp_aged", 7, b, sizeof(issue10) + 82);
	/* Valid datagrams built by the target itself. */
	b[0] = 0;
	memcpy(b + 1, data, sizeof(data));
	put("udp4_payload", 9, b, 1 + sizeof(data));
	put("udp6_payload", 10, b, 1 + sizeof(data));
	return 0;
}
