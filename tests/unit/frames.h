/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame builders and checksum checks for the unit tests and the fuzzer:
 * pure functions, no DPDK, no lwIP, so they are an independent reference
 * for what the stack sends and receives.
 *
 * Addresses are in network byte order. Every builder writes a whole
 * Ethernet frame into f (at least H_FRAME_MAX bytes) and returns its length.
 */
#ifndef H_FRAMES_H
#define H_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define H_FRAME_MAX 2048
#define H_ETH_HLEN 14
#define H_IP4_HLEN 20
#define H_IP6_HLEN 40

#define H_ETH_IP4 0x0800
#define H_ETH_ARP 0x0806
#define H_ETH_IP6 0x86dd

#define H_PROTO_ICMP 1
#define H_PROTO_TCP 6
#define H_PROTO_UDP 17
#define H_PROTO_ICMP6 58

/* TCP flags */
#define H_FIN 0x01
#define H_SYN 0x02
#define H_RST 0x04
#define H_PSH 0x08
#define H_ACK 0x10

/* The stack under test and its one peer on the link. */
#define H_IP4_US   "10.0.0.1"
#define H_IP4_PEER "10.0.0.2"
#define H_IP6_US   "fd00::1"
#define H_IP6_PEER "fd00::2"
extern const uint8_t h_mac_us[6];
extern const uint8_t h_mac_peer[6];
extern const uint8_t h_mac_bcast[6];

uint32_t h_ip4(const char *s);
void h_ip6(const char *s, uint8_t out[16]);

/* One's complement sum of data added to sum (not folded, not inverted),
 * and the final checksum of a sum. */
uint32_t h_sum(const void *data, size_t len, uint32_t sum);
uint16_t h_fold(uint32_t sum);

/* L4 bodies (no checksum filled in yet: the IP builders do that). */
size_t h_tcp_seg(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq,
		 uint32_t ack, uint8_t flags, const void *data, size_t dlen);
size_t h_udp_dgram(uint8_t *b, uint16_t sport, uint16_t dport,
		   const void *data, size_t dlen);
/* ICMP (type 8/0) or ICMPv6 (128/129) echo. */
size_t h_echo(uint8_t *b, uint8_t type, uint16_t id, uint16_t seq,
	      const void *data, size_t dlen);

/* Whole frames from the peer to us (or as given). The L4 checksum of TCP,
 * UDP, ICMP and ICMPv6 bodies is filled in. */
size_t h_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type);
size_t h_arp(uint8_t *f, uint16_t op, const uint8_t sha[6], uint32_t spa,
	     const uint8_t tha[6], uint32_t tpa);
size_t h_ipv4(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst,
	      const void *l4, size_t l4len);
size_t h_ipv6(uint8_t *f, uint8_t nh, const uint8_t src[16], const uint8_t dst[16],
	      const void *l4, size_t l4len);
/* Neighbour solicitation from the peer for target, with its link-layer
 * address option (dst: the target's solicited-node multicast group). */
size_t h_nd6_ns(uint8_t *f, const uint8_t target[16]);

/* Checks on a captured frame: 1 when the checksum verifies. */
int h_ip4_hdr_ok(const uint8_t *frame, size_t len);
int h_l4_ok(const uint8_t *frame, size_t len);   /* IPv4 or IPv6 frame */

/* Big-endian field access. */
static inline uint16_t h_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t h_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void h_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void h_put32(uint8_t *p, uint32_t v)
{
	h_put16(p, (uint16_t)(v >> 16));
	h_put16(p + 2, (uint16_t)v);
}

#endif
