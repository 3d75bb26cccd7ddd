/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame builders and checksum checks (see frames.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"

const uint8_t h_mac_us[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t h_mac_peer[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
const uint8_t h_mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

uint32_t h_ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a.s_addr;
}

void h_ip6(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET6, s, out) != 1)
		abort();
}

/* Byte by byte, big-endian words: the naive reference. */
uint32_t h_sum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t h_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t h_tcp_seg(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq,
		 uint32_t ack, uint8_t flags, const void *data, size_t dlen)
{
	memset(b, 0, 20);
	h_put16(b, sport);
	h_put16(b + 2, dport);
	h_put32(b + 4, seq);
	h_put32(b + 8, ack);
	b[12] = 5 << 4;
	b[13] = flags;
	h_put16(b + 14, 65535);
	if (dlen)
		memcpy(b + 20, data, dlen);
	return 20 + dlen;
}

size_t h_udp_dgram(uint8_t *b, uint16_t sport, uint16_t dport,
		   const void *data, size_t dlen)
{
	h_put16(b, sport);
	h_put16(b + 2, dport);
	h_put16(b + 4, (uint16_t)(8 + dlen));
	h_put16(b + 6, 0);
	if (dlen)
		memcpy(b + 8, data, dlen);
	return 8 + dlen;
}

size_t h_echo(uint8_t *b, uint8_t type, uint16_t id, uint16_t seq,
	      const void *data, size_t dlen)
{
	b[0] = type;
	b[1] = 0;
	h_put16(b + 2, 0);
	h_put16(b + 4, id);
	h_put16(b + 6, seq);
	if (dlen)
		memcpy(b + 8, data, dlen);
	return 8 + dlen;
}

size_t h_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	h_put16(f + 12, type);
	return H_ETH_HLEN;
}

size_t h_arp(uint8_t *f, uint16_t op, const uint8_t sha[6], uint32_t spa,
	     const uint8_t tha[6], uint32_t tpa)
{
	uint8_t *a = f + h_eth(f, op == 1 ? h_mac_bcast : tha, sha, H_ETH_ARP);

	h_put16(a, 1);          /* Ethernet */
	h_put16(a + 2, H_ETH_IP4);
	a[4] = 6;
	a[5] = 4;
	h_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, &spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, &tpa, 4);
	return H_ETH_HLEN + 28;
}

/* Offset of the checksum field in an L4 header, or -1. */
static int l4_csum_off(uint8_t proto)
{
	switch (proto) {
	case H_PROTO_TCP: return 16;
	case H_PROTO_UDP: return 6;
	case H_PROTO_ICMP:
	case H_PROTO_ICMP6: return 2;
	}
	return -1;
}

static uint32_t pseudo4(const uint8_t *ip, uint8_t proto, size_t l4len)
{
	uint32_t sum = h_sum(ip + 12, 8, 0);

	return sum + proto + (uint32_t)l4len;
}

static uint32_t pseudo6(const uint8_t *ip6, uint8_t nh, size_t l4len)
{
	uint32_t sum = h_sum(ip6 + 8, 32, 0);

	return sum + nh + (uint32_t)l4len;
}

size_t h_ipv4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst,
	      const void *l4, size_t l4len)
{
	uint8_t *ip = f + h_eth(f, h_mac_us, h_mac_peer, H_ETH_IP4);
	uint8_t *b = ip + H_IP4_HLEN;
	int off = l4_csum_off(proto);

	memset(ip, 0, H_IP4_HLEN);
	ip[0] = 0x45;
	h_put16(ip + 2, (uint16_t)(H_IP4_HLEN + l4len));
	h_put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	h_put16(ip + 10, h_fold(h_sum(ip, H_IP4_HLEN, 0)));
	memcpy(b, l4, l4len);
	if (off >= 0 && l4len >= (size_t)off + 2) {
		uint32_t s = proto == H_PROTO_ICMP ? 0 : pseudo4(ip, proto, l4len);

		h_put16(b + off, 0);
		h_put16(b + off, h_fold(h_sum(b, l4len, s)));
	}
	return H_ETH_HLEN + H_IP4_HLEN + l4len;
}

size_t h_ipv6(uint8_t *f, uint8_t nh, const uint8_t src[16], const uint8_t dst[16],
	      const void *l4, size_t l4len)
{
	uint8_t *ip = f + h_eth(f, h_mac_us, h_mac_peer, H_ETH_IP6);
	uint8_t *b = ip + H_IP6_HLEN;
	int off = l4_csum_off(nh);

	memset(ip, 0, H_IP6_HLEN);
	ip[0] = 0x60;
	h_put16(ip + 4, (uint16_t)l4len);
	ip[6] = nh;
	ip[7] = 255;   /* hop limit 255: ND accepts nothing else (RFC 4861 7.1.1) */
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	memcpy(b, l4, l4len);
	if (off >= 0 && nh != H_PROTO_ICMP && l4len >= (size_t)off + 2) {
		h_put16(b + off, 0);
		h_put16(b + off, h_fold(h_sum(b, l4len, pseudo6(ip, nh, l4len))));
	}
	return H_ETH_HLEN + H_IP6_HLEN + l4len;
}

size_t h_nd6_ns(uint8_t *f, const uint8_t target[16])
{
	uint8_t body[32] = { 135, 0 }, src[16], dst[16] = { 0xff, 0x02 };
	static const uint8_t mcast_mac[6] = { 0x33, 0x33, 0xff };
	size_t n;

	memcpy(body + 8, target, 16);
	body[24] = 1;           /* source link-layer address option */
	body[25] = 1;
	memcpy(body + 26, h_mac_peer, 6);
	h_ip6(H_IP6_PEER, src);
	dst[11] = 1;            /* ff02::1:ffXX:XXXX (RFC 4291 2.7.1) */
	dst[12] = 0xff;
	memcpy(dst + 13, target + 13, 3);
	n = h_ipv6(f, H_PROTO_ICMP6, src, dst, body, sizeof(body));
	memcpy(f, mcast_mac, 3);
	memcpy(f + 3, target + 13, 3);
	return n;
}

int h_ip4_hdr_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + H_ETH_HLEN;
	size_t hl;

	if (len < H_ETH_HLEN + H_IP4_HLEN)
		return 0;
	hl = (size_t)(ip[0] & 15) * 4;
	return hl >= H_IP4_HLEN && len >= H_ETH_HLEN + hl &&
	       h_fold(h_sum(ip, hl, 0)) == 0;
}

int h_l4_ok(const uint8_t *f, size_t len)
{
	uint16_t type = h_be16(f + 12);
	const uint8_t *ip = f + H_ETH_HLEN;
	size_t hl, l4len;
	uint32_t s;

	if (type == H_ETH_IP4) {
		if (!h_ip4_hdr_ok(f, len))
			return 0;
		hl = (size_t)(ip[0] & 15) * 4;
		l4len = h_be16(ip + 2) - hl;
		if (H_ETH_HLEN + hl + l4len > len)
			return 0;
		s = ip[9] == H_PROTO_ICMP ? 0 : pseudo4(ip, ip[9], l4len);
		return h_fold(h_sum(ip + hl, l4len, s)) == 0;
	}
	if (type == H_ETH_IP6) {
		l4len = h_be16(ip + 4);
		if (H_ETH_HLEN + H_IP6_HLEN + l4len > len)
			return 0;
		s = pseudo6(ip, ip[6], l4len);
		return h_fold(h_sum(ip + H_IP6_HLEN, l4len, s)) == 0;
	}
	return 0;
}
