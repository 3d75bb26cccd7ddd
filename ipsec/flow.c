/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Selector fields of an IP packet (RFC 4301 4.4.1.1): addresses, upper
 * protocol and ports, read from a pbuf with every length checked first.
 * Headers are copied into a local buffer, so chained pbufs are fine.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/pbuf.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/udp.h"
#include "ipsec_dp.h"

#define PKT_PEEK 128            /* IP header chain + ports we look at */
#define NH_HOPOPT 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_DSTOPTS 60
#define PROTO_SCTP 132
#define NH_ICMP6 58
/* ICMPv6 types IPv6 cannot work without (RFC 4443 2.1 numbering). */
#define ICMP6_MLD_QUERY 130     /* RFC 2710 3: 130-132 */
#define ICMP6_MLD_DONE 132
#define ICMP6_ND_RS 133         /* RFC 4861 4: 133-137 */
#define ICMP6_ND_REDIRECT 137
#define ICMP6_MLD2_REPORT 143   /* RFC 3810 5.2 */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool has_ports(uint8_t proto)
{
	return proto == IP_PROTO_TCP || proto == IP_PROTO_UDP || proto == PROTO_SCTP;
}

static void read_ports(const uint8_t *h, size_t have, size_t off,
		       struct sn_pkt_info *pi)
{
	if (pi->fragment || !has_ports(pi->flow.proto) || off + 4 > have)
		return;
	pi->flow.sport = be16(h + off);
	pi->flow.dport = be16(h + off + 2);
}

static int parse4(const uint8_t *h, size_t have, size_t tot, struct sn_pkt_info *pi)
{
	size_t hl = (size_t)(h[0] & 0x0f) * 4;
	uint16_t frag = be16(h + 6);

	if (have < IP_HLEN || hl < IP_HLEN || hl > have || be16(h + 2) < hl ||
	    be16(h + 2) > tot)
		return -EINVAL;
	pi->flow.family = AF_INET;
	pi->flow.proto = h[9];
	memcpy(pi->flow.src, h + 12, 4);
	memcpy(pi->flow.dst, h + 16, 4);
	pi->ip_hlen = (uint16_t)hl;
	pi->ip_len = be16(h + 2);
	pi->nh_off = 9;
	pi->tos = h[1];
	/* Offset non-zero or more fragments: ports may be absent. */
	pi->fragment = (frag & 0x3fff) != 0;
	read_ports(h, have, hl, pi);
	return 0;
}

/* Walk the extension headers lwIP handles (RFC 8200 4.1 order). */
static int walk6(const uint8_t *h, size_t have, struct sn_pkt_info *pi)
{
	size_t off = IP6_HLEN, nh_off = 6;
	uint8_t nh = h[6];

	for (int i = 0; i < 8; i++) {
		size_t len;

		if (nh != NH_HOPOPT && nh != NH_ROUTING && nh != NH_DSTOPTS &&
		    nh != NH_FRAGMENT)
			break;
		if (off + 8 > have)
			return -EINVAL;
		if (nh == NH_FRAGMENT) {
			len = 8;
			pi->fragment = (be16(h + off + 2) & 0xfff9) != 0;
		} else {
			len = ((size_t)h[off + 1] + 1) * 8;
		}
		nh_off = off;
		nh = h[off];
		off += len;
	}
	if (off > have)
		return -EINVAL;
	pi->flow.proto = nh;
	pi->ip_hlen = (uint16_t)off;
	pi->nh_off = (uint16_t)nh_off;
	return 0;
}

static int parse6(const uint8_t *h, size_t have, size_t tot, struct sn_pkt_info *pi)
{
	if (have < IP6_HLEN || IP6_HLEN + (size_t)be16(h + 4) > tot)
		return -EINVAL;
	pi->flow.family = AF_INET6;
	memcpy(pi->flow.src, h + 8, 16);
	memcpy(pi->flow.dst, h + 24, 16);
	pi->ip_len = (uint16_t)(IP6_HLEN + be16(h + 4));
	pi->tos = (uint8_t)((h[0] << 4) | (h[1] >> 4));
	if (walk6(h, have < pi->ip_len ? have : pi->ip_len, pi))
		return -EINVAL;
	read_ports(h, have, pi->ip_hlen, pi);
	if (pi->flow.proto == NH_ICMP6 && !pi->fragment && pi->ip_hlen < have) {
		pi->icmp6 = true;
		pi->icmp6_type = h[pi->ip_hlen];
	}
	return 0;
}

/*
 * Neighbour discovery and MLD pass IPsec in both directions: without them
 * IPv6 cannot resolve the very peer an SA protects traffic to (RFC 4301
 * 4.4.1 leaves ND to the policy; RFC 3971 protects it instead). Every
 * other ICMPv6 message (echo, errors) meets the SPD as any packet does.
 */
bool sn_pkt_is_nd(const struct sn_pkt_info *pi)
{
	uint8_t t = pi->icmp6_type;

	if (!pi->icmp6)
		return false;
	return (t >= ICMP6_MLD_QUERY && t <= ICMP6_MLD_DONE) ||
	       (t >= ICMP6_ND_RS && t <= ICMP6_ND_REDIRECT) || t == ICMP6_MLD2_REPORT;
}

int sn_pkt_parse(const struct pbuf *p, struct sn_pkt_info *pi)
{
	uint8_t h[PKT_PEEK];
	size_t have = p->tot_len < sizeof(h) ? p->tot_len : sizeof(h);

	memset(pi, 0, sizeof(*pi));
	if (have < 1 || pbuf_copy_partial(p, h, (u16_t)have, 0) != have)
		return -EINVAL;
	switch (h[0] >> 4) {
	case 4:
		return parse4(h, have, p->tot_len, pi);
	case 6:
		return parse6(h, have, p->tot_len, pi);
	}
	return -EINVAL;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!bits)
		return true;
	return ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

bool sn_sel_match(const struct sn_selector *s, const struct sn_flow *f)
{
	if (s->src.family && (s->src.family != f->family ||
			      !prefix_match(s->src.addr, f->src, s->src_plen)))
		return false;
	if (s->dst.family && (s->dst.family != f->family ||
			      !prefix_match(s->dst.addr, f->dst, s->dst_plen)))
		return false;
	if (s->proto && s->proto != f->proto)
		return false;
	if (s->sport && s->sport != f->sport)
		return false;
	return !s->dport || s->dport == f->dport;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void sn_ip4_set_len(uint8_t *ip, size_t hlen, size_t tot)
{
	uint16_t ck;

	put16(ip + 2, tot);
	ip[10] = ip[11] = 0;
	ck = inet_chksum(ip, (u16_t)hlen);
	memcpy(ip + 10, &ck, 2);
}

void sn_ip6_set_len(uint8_t *ip, size_t tot)
{
	put16(ip + 4, tot - IP6_HLEN);
}

void sn_flow_ip(const struct sn_flow *f, bool src, struct sn_ip *ip)
{
	ip->family = f->family;
	memset(ip->addr, 0, sizeof(ip->addr));
	memcpy(ip->addr, src ? f->src : f->dst, f->family == AF_INET ? 4 : 16);
}
