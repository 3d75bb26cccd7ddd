/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks lwIP does not make before it reads: a received frame is dropped
 * here, and counted in lwIP's own statistics for that protocol, when
 * - an ARP packet is shorter than its 28-byte body (etharp_input reads the
 *   body without a length check: a short frame would be answered with
 *   whatever bytes follow it in the buffer);
 * - a UDP length field disagrees with the IP payload it arrived in
 *   (udp_input never compares them; RFC 768 and RFC 1122 4.1.3.4).
 * Everything else (IPv4/IPv6 header lengths, TCP offsets, checksums) lwIP
 * checks itself, before reading, and counts.
 *
 * Headers are copied into aligned locals before any field is read.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "lwip/stats.h"
#include "sn_rxcheck.h"

#define ETH_HLEN      14
#define ARP_BODY_LEN  28
#define IP4_HLEN      20
#define IP6_HLEN      40
#define UDP_HLEN      8
#define ETHTYPE_IPV4  0x0800
#define ETHTYPE_ARP   0x0806
#define ETHTYPE_IPV6  0x86dd
#define ETHTYPE_VLAN  0x8100
#define PROTO_UDP     17

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Copy len bytes at off into buf; false when the frame is shorter. */
static bool peek(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *buf)
{
	const void *p;

	if (off + len > m->pkt_len)
		return false;
	p = rte_pktmbuf_read(m, off, len, buf);
	if (p != buf)
		memcpy(buf, p, len);
	return true;
}

static bool udp_len_ok(const struct rte_mbuf *m, uint32_t off, uint32_t payload)
{
	uint8_t udp[UDP_HLEN];
	uint16_t ulen;

	if (payload < UDP_HLEN || !peek(m, off, UDP_HLEN, udp))
		return true; /* too short for a header: lwIP counts it */
	ulen = be16(udp + 4);
	if (ulen == payload)
		return true;
	UDP_STATS_INC(udp.lenerr);
	UDP_STATS_INC(udp.drop);
	return false;
}

static bool check_ip4(const struct rte_mbuf *m, uint32_t off)
{
	uint8_t ip[IP4_HLEN];
	uint32_t hl, tot;
	uint16_t frag;

	if (!peek(m, off, IP4_HLEN, ip))
		return true; /* lwIP counts short headers */
	hl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = be16(ip + 2);
	frag = be16(ip + 6);
	/* Only whole datagrams: the header fields lwIP checks itself must
	 * hold first, and fragments carry no complete UDP datagram. */
	if ((ip[0] >> 4) != 4 || hl < IP4_HLEN || tot < hl ||
	    off + tot > m->pkt_len || (frag & 0x3fff) || ip[9] != PROTO_UDP)
		return true;
	return udp_len_ok(m, off + hl, tot - hl);
}

static bool check_ip6(const struct rte_mbuf *m, uint32_t off)
{
	uint8_t ip6[IP6_HLEN];
	uint32_t plen;

	if (!peek(m, off, IP6_HLEN, ip6))
		return true;
	plen = be16(ip6 + 4);
	/* UDP directly after the fixed header; with extension headers lwIP
	 * walks the chain itself and the datagram is checked nowhere. */
	if ((ip6[0] >> 4) != 6 || ip6[6] != PROTO_UDP ||
	    off + IP6_HLEN + plen > m->pkt_len)
		return true;
	return udp_len_ok(m, off + IP6_HLEN, plen);
}

bool sn_rx_check(const struct rte_mbuf *m)
{
	uint8_t eth[ETH_HLEN + 4];
	uint32_t off = ETH_HLEN;
	uint16_t type;

	if (!peek(m, 0, ETH_HLEN, eth))
		return true;
	type = be16(eth + 12);
	if (type == ETHTYPE_VLAN) {
		if (!peek(m, 0, ETH_HLEN + 4, eth))
			return true;
		type = be16(eth + 16);
		off += 4;
	}
	switch (type) {
	case ETHTYPE_ARP:
		if (m->pkt_len >= off + ARP_BODY_LEN)
			return true;
		ETHARP_STATS_INC(etharp.lenerr);
		ETHARP_STATS_INC(etharp.drop);
		return false;
	case ETHTYPE_IPV4:
		return check_ip4(m, off);
	case ETHTYPE_IPV6:
		return check_ip6(m, off);
	}
	return true;
}
