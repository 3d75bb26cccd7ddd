/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound IPsec (RFC 4301 5.2): ESP (protocol 50, or inside UDP 4500 per
 * RFC 3948) and AH (51) reach us through lwIP raw/UDP pcbs after lwIP's
 * own IP checks and reassembly. Order per packet, as DPDK's lib/ipsec:
 * SA lookup, replay check, ICV and decryption, replay update, lifetime,
 * then the inner packet is rebuilt, checked against the SA's selectors and
 * the inbound SPD (a socket's own policy says which SAs may reach it),
 * and handed back to lwIP's IP input. Each step returns a verdict
 * (enum sn_verdict); drop() is the one place a discarded packet is
 * counted (ipsec_counters.h).
 *
 * Cleartext packets pass sn_ip_input_policy() (lwIP's IP input hook):
 * where the inbound SPD says protect, they are dropped.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/ip.h"
#include "lwip/inet_chksum.h"
#include "sn_hooks.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/udp.h"
#include "ipsec_dp.h"
#include "keymgr.h"
#include "sockpol.h"
#include "esp.h"
#include "ah.h"
#include "ipsec_capture.h"
#include "sn_netif.h"

#define NH_IPV4 4
#define NH_IPV6 41
#define NH_NONE 59              /* TFC dummy packet, RFC 4303 2.6 */
#define ECN_MASK 0x03
#define ECN_CE 0x03

struct in_ctx {
	struct pbuf *p;         /* contiguous: the whole IP packet */
	struct netif *inp;
	struct sn_pkt_info outer;
	size_t sec_off;         /* ESP or AH header */
	bool encap;             /* ESP arrived in UDP */
	struct sn_sa *sa;
	uint64_t seq;
	uint64_t now;           /* seconds, read once per packet */
};

/* The one place an inbound packet that was discarded is counted: on its
 * SA once one is known, else on the datapath's own counters. */
static void drop(struct in_ctx *c, enum sn_verdict v)
{
	if (c->sa)
		sn_sa_count(c->sa, sn_v_counter(v), 1);
	else
		sn_ipsec_count(sn_v_counter(v));
	pbuf_free(c->p);
}

/*
 * lwIP 2.1.3's IPv6 reassembly with IPV6_FRAG_COPYHEADER (needed on 64-bit)
 * writes a payload length 8 bytes short into the reassembled header, while
 * the pbuf holds the whole datagram (lwIP trims every packet to its header's
 * length before that, so the two agree for unfragmented ones). ESP's length
 * and AH's ICV (the field is immutable) need the true value.
 */
static void ip6_fix_plen(struct pbuf *p)
{
	uint8_t *ip = p->payload;

	if (p->len >= IP6_HLEN && (ip[0] >> 4) == 6)
		sn_ip6_set_len(ip, p->tot_len);
}

/* One contiguous buffer: the transforms work on flat memory. */
static struct pbuf *flatten(struct pbuf *p)
{
	struct pbuf *q = p;

	if (p->next) {
		q = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
		pbuf_free(p);
	}
	if (q)
		ip6_fix_plen(q);
	return q;
}

static enum sn_verdict esp_verdict(int rc)
{
	switch (rc) {
	case 0: return SN_V_PASS;
	case SN_ESP_ETRUNC: return SN_V_DROP_TRUNCATED;
	case SN_ESP_EBLOCK: return SN_V_DROP_BAD_LEN;
	case SN_ESP_EICV: return SN_V_DROP_AUTH;
	case SN_ESP_EPAD: return SN_V_DROP_BAD_PAD;
	}
	return SN_V_DROP_CRYPTO;
}

static enum sn_verdict ah_verdict(int rc)
{
	switch (rc) {
	case 0: return SN_V_PASS;
	case SN_AH_EICV: return SN_V_DROP_AUTH;
	case SN_AH_ETRUNC: return SN_V_DROP_TRUNCATED;
	}
	return SN_V_DROP_BAD_HEADER;
}

static enum sn_verdict replay_verdict(int rc)
{
	if (!rc)
		return SN_V_PASS;
	return rc == -EALREADY ? SN_V_DROP_REPLAY : SN_V_DROP_REPLAY_OLD;
}

/* The SA the header names, if it may take this packet. */
static enum sn_verdict find_sa(struct in_ctx *c, uint32_t spi, uint8_t proto)
{
	struct sn_ip dst;

	sn_flow_ip(&c->outer.flow, false, &dst);
	c->sa = sn_sad_lookup(sn_ipsec.sad, spi, &dst, proto);
	if (!c->sa)
		return SN_V_DROP_UNKNOWN_SPI;
	if (c->sa->conf.encap != c->encap)
		return SN_V_DROP_ENCAP;
	c->now = sn_ipsec_now_s();
	if (sn_life_hard(&c->sa->life, c->now))
		return SN_V_DROP_EXPIRED;
	return SN_V_PASS;
}

/* ---- Rebuilding the inner packet ------------------------------------------- */

/* RFC 6040 section 4.2: the outer ECN field on decapsulation. Returns
 * false when the combination must be dropped (CE outside, Not-ECT in). */
static bool ecn_decap(uint8_t outer_tos, uint8_t *inner_tc_byte, int family)
{
	uint8_t outer = outer_tos & ECN_MASK, inner;

	if (family == AF_INET)
		inner = *inner_tc_byte & ECN_MASK;
	else
		inner = (uint8_t)((*inner_tc_byte >> 4) & ECN_MASK);
	if (outer != ECN_CE || inner == ECN_CE)
		return true;
	if (inner == 0)
		return false;
	if (family == AF_INET)
		*inner_tc_byte |= ECN_CE;
	else
		*inner_tc_byte |= (uint8_t)(ECN_CE << 4);
	return true;
}

/* Tunnel mode: the payload is the inner packet. */
static enum sn_verdict inner_tunnel(struct in_ctx *c, size_t pl_off, size_t pl_len, uint8_t nh)
{
	uint8_t *inner = (uint8_t *)c->p->payload + pl_off;
	int family = nh == NH_IPV4 ? AF_INET : AF_INET6;

	if ((nh != NH_IPV4 && nh != NH_IPV6) || pl_len < (nh == NH_IPV4 ? IP_HLEN : IP6_HLEN))
		return SN_V_DROP_BAD_HEADER;
	if (!ecn_decap(c->outer.tos, family == AF_INET ? inner + 1 : inner, family))
		return SN_V_DROP_ECN;
	if (family == AF_INET) {
		size_t hl = (size_t)(inner[0] & 0x0f) * 4;

		if (hl >= IP_HLEN && hl <= pl_len)
			sn_ip4_set_len(inner, hl, ((size_t)inner[2] << 8) | inner[3]);
	}
	pbuf_remove_header(c->p, (u16_t)pl_off);
	pbuf_realloc(c->p, (u16_t)pl_len);
	return SN_V_PASS;
}

/* Transport mode: the IP header chain moves up to meet the payload; the
 * byte that named ESP/AH (or UDP, when encapsulated) names what ESP
 * carried; lengths follow. */
static enum sn_verdict inner_transport(struct in_ctx *c, size_t pl_off, size_t pl_len,
				       uint8_t nh)
{
	size_t hl = c->outer.ip_hlen;
	uint8_t *base = c->p->payload, *ip = base + pl_off - hl;

	memmove(ip, base, hl);
	ip[c->outer.nh_off] = nh;
	if (c->outer.flow.family == AF_INET) {
		sn_ip4_set_len(ip, hl, hl + pl_len);
	} else {
		sn_ip6_set_len(ip, hl + pl_len);
	}
	pbuf_remove_header(c->p, (u16_t)(pl_off - hl));
	pbuf_realloc(c->p, (u16_t)(hl + pl_len));
	return SN_V_PASS;
}

/* RFC 4301 5.2 step 4: the inner packet must be one the SA may carry. */
static enum sn_verdict check_selectors(struct in_ctx *c)
{
	bool has_sel = c->sa->conf.sel.src.family || c->sa->conf.sel.dst.family;
	struct sn_pkt_info in;
	const struct sn_policy *pol;
	const struct sn_pol_tmpl *t;

	if (sn_pkt_parse(c->p, &in))
		return SN_V_DROP_BAD_HEADER;
	if (has_sel && !sn_sel_match(&c->sa->conf.sel, &in.flow))
		return SN_V_DROP_SELECTOR;
	pol = sn_spd_lookup(sn_ipsec.spd, SN_DIR_IN, &in.flow);
	if (pol && pol->conf.action == SN_POL_DISCARD)
		return SN_V_DROP_POLICY;
	/* A socket's own policy decides which SAs may reach it. */
	if (pol && pol->owner)
		return sn_sockpol_input_sa(pol->owner, &in.flow, c->sa);
	/* Without selectors of its own, an SA carries what the inbound
	 * policies that name it cover, nothing else (RFC 4301 5.2 step 4). */
	if (!pol || pol->conf.action != SN_POL_PROTECT)
		return has_sel ? SN_V_PASS : SN_V_DROP_SELECTOR;
	t = &pol->conf.tmpl;
	if (t->proto != c->sa->conf.proto || t->mode != c->sa->conf.mode ||
	    (t->reqid && t->reqid != c->sa->conf.reqid) ||
	    (t->spi && t->spi != c->sa->conf.spi))
		return SN_V_DROP_SELECTOR;
	return SN_V_PASS;
}

/* Queue the inner packet for lwIP's IP input, which is not re-entrant:
 * sn_ipsec_rx_done() feeds it once the outer packet is done. */
static enum sn_verdict reinject(struct in_ctx *c, size_t inner_len)
{
	struct sn_ipsec *g = &sn_ipsec;
	struct sn_reinject *r;

	if (g->rq_count == SN_IPSEC_REINJECT_MAX)
		return SN_V_DROP_NOMEM;
	r = &g->rq[(g->rq_head + g->rq_count) % SN_IPSEC_REINJECT_MAX];
	r->p = c->p;
	r->inp = c->inp;
	r->sa = sn_sa_ref(c->sa);
	r->depth = (uint8_t)(g->cur_depth + 1);
	g->rq_count++;
	sn_sa_count(c->sa, SN_IC_IN_PACKETS, 1);
	sn_sa_count(c->sa, SN_IC_IN_BYTES, inner_len);
	return SN_V_PASS;
}

/* One decapsulated packet through lwIP (its SA and the socket policies
 * were checked in check_selectors) with its TCP/UDP checksums marked
 * verified: the packet passed the ICV, so its checksum cannot be wrong
 * unless the peer built it wrong, and checking would cost a pass over
 * every byte. cur_depth tells nested ESP how deep it is. */
static void inject_one(struct sn_reinject *r)
{
	sn_ipsec.cur_depth = r->depth;
	sn_ipsec_capture(r->p, SN_CAPTURE_IN);
	/* lwIP's IP input consumes the pbuf on every path. */
	(void)sn_netif_input_verified(r->p, r->inp,
				      NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
	sn_ipsec.cur_depth = 0;
}

void sn_ipsec_rx_done(void)
{
	struct sn_ipsec *g = &sn_ipsec;

	/* A socket whose packet found no SA fails now, not a tick later. */
	sn_sockpol_deliver();
	while (g->rq_count) {
		struct sn_reinject r = g->rq[g->rq_head];

		g->rq_head = (g->rq_head + 1) % SN_IPSEC_REINJECT_MAX;
		g->rq_count--;
		inject_one(&r);
	}
}

static enum sn_verdict finish(struct in_ctx *c, size_t pl_off, size_t pl_len, uint8_t nh)
{
	enum sn_verdict v;

	sn_life_used(&c->sa->life, c->now, pl_len);
	if (nh == NH_NONE)
		return SN_V_DUMMY;
	v = c->sa->conf.mode == SN_MODE_TUNNEL ? inner_tunnel(c, pl_off, pl_len, nh)
					       : inner_transport(c, pl_off, pl_len, nh);
	if (v == SN_V_PASS)
		v = check_selectors(c);
	return v == SN_V_PASS ? reinject(c, pl_len) : v;
}

/* ---- ESP ------------------------------------------------------------------------ */

static enum sn_verdict esp_in(struct in_ctx *c)
{
	uint8_t *esp = (uint8_t *)c->p->payload + c->sec_off;
	size_t len = c->outer.ip_len - c->sec_off;
	struct sn_esp_payload pl;
	uint32_t spi, seq_lo;
	enum sn_verdict v;
	bool esn;

	if (sn_esp_peek(esp, len, &spi, &seq_lo))
		return SN_V_DROP_TRUNCATED;
	v = find_sa(c, spi, SN_IPPROTO_ESP);
	if (v != SN_V_PASS)
		return v;
	esn = c->sa->conf.flags & SN_SA_F_ESN;
	v = replay_verdict(sn_replay_check(&c->sa->replay, seq_lo, esn, &c->seq));
	if (v == SN_V_PASS)
		v = esp_verdict(sn_esp_open(c->sa->crypto, c->seq, esn, esp, len, &pl));
	if (v == SN_V_PASS)
		v = replay_verdict(sn_replay_update(&c->sa->replay, c->seq));
	if (v != SN_V_PASS)
		return v;
	return finish(c, c->sec_off + pl.off, pl.len, pl.next_header);
}

/* The outer packet before its ESP or AH is looked at: a header we can
 * parse, and not nested deeper than we allow. */
static enum sn_verdict outer_ok(struct in_ctx *c)
{
	if (sn_ipsec.cur_depth >= SN_IPSEC_MAX_DEPTH)
		return SN_V_DROP_NESTING;
	return sn_pkt_parse(c->p, &c->outer) ? SN_V_DROP_BAD_HEADER : SN_V_PASS;
}

static void esp_input(struct pbuf *p, struct netif *inp, size_t extra, bool encap)
{
	struct in_ctx c = { .inp = inp, .encap = encap };
	enum sn_verdict v;

	c.p = flatten(p);
	if (!c.p) {
		sn_ipsec_count(SN_IC_DROP_NOMEM);
		return;
	}
	v = outer_ok(&c);
	if (v == SN_V_PASS) {
		c.sec_off = c.outer.ip_hlen + extra;
		v = esp_in(&c);
	}
	if (v != SN_V_PASS)
		drop(&c, v);
}

static u8_t esp_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		     const ip_addr_t *addr)
{
	esp_input(p, ip_current_input_netif(), 0, false);
	return 1;
}

/* ---- AH -------------------------------------------------------------------------- */

static enum sn_verdict ah_in(struct in_ctx *c)
{
	const uint8_t *pkt = c->p->payload;
	struct sn_ah_info ai;
	enum sn_verdict v;
	bool esn;

	if (sn_ah_parse(pkt, c->outer.ip_len, &ai))
		return SN_V_DROP_TRUNCATED;
	v = find_sa(c, ai.spi, SN_IPPROTO_AH);
	if (v != SN_V_PASS)
		return v;
	esn = c->sa->conf.flags & SN_SA_F_ESN;
	v = replay_verdict(sn_replay_check(&c->sa->replay, ai.seq_lo, esn, &c->seq));
	if (v == SN_V_PASS)
		v = ah_verdict(sn_ah_open(c->sa->crypto, pkt, c->outer.ip_len, c->seq, esn, &ai));
	if (v == SN_V_PASS)
		v = replay_verdict(sn_replay_update(&c->sa->replay, c->seq));
	if (v != SN_V_PASS)
		return v;
	c->sec_off = ai.ah_off;
	/* The AH header sits where ESP would: the same rebuild applies. */
	return finish(c, ai.ah_off + ai.ah_len, ai.pkt_len - ai.ah_off - ai.ah_len,
		      ai.next_header);
}

static u8_t ah_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		    const ip_addr_t *addr)
{
	struct in_ctx c = { .inp = ip_current_input_netif() };
	enum sn_verdict v;

	c.p = flatten(p);
	if (!c.p) {
		sn_ipsec_count(SN_IC_DROP_NOMEM);
		return 1;
	}
	v = outer_ok(&c);
	if (v == SN_V_PASS)
		v = ah_in(&c);
	if (v != SN_V_PASS)
		drop(&c, v);
	return 1;
}

/* ---- ESP in UDP (RFC 3948) ----------------------------------------------------- */

/* What a UDP 4500 payload is (RFC 3948 2.2, 2.3): SN_V_PASS for ESP. */
static enum sn_verdict natt_kind(const struct pbuf *p)
{
	uint8_t head[4] = { 0 };

	pbuf_copy_partial(p, head, sizeof(head), 0);
	if (p->tot_len == 1 && head[0] == 0xff)
		return SN_V_NAT_KEEPALIVE;
	if (p->tot_len < sizeof(head))
		return SN_V_DROP_NATT_SHORT;
	/* Non-ESP marker: IKE, which has no endpoint here. */
	if (!memcmp(head, "\0\0\0\0", sizeof(head)))
		return SN_V_DROP_NATT_IKE;
	return SN_V_PASS;
}

static void natt_addrs(const ip_addr_t *from, struct sn_ip *src, struct sn_ip *dst)
{
	const ip_addr_t *to = ip_current_dest_addr();

	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	if (IP_IS_V4(from)) {
		src->family = dst->family = AF_INET;
		memcpy(src->addr, &ip_2_ip4(from)->addr, 4);
		memcpy(dst->addr, &ip_2_ip4(to)->addr, 4);
	} else {
		src->family = dst->family = AF_INET6;
		memcpy(src->addr, ip_2_ip6(from)->addr, 16);
		memcpy(dst->addr, ip_2_ip6(to)->addr, 16);
	}
}

static void natt_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
		      const ip_addr_t *addr, u16_t port)
{
	u16_t hl = (u16_t)(ip_current_header_tot_len() + UDP_HLEN);
	enum sn_verdict v = natt_kind(p);

	/* Back to the IP header: the ESP rebuild needs it (lwIP's UDP input
	 * only moved the payload pointer past it). */
	if (v == SN_V_PASS && pbuf_add_header_force(p, hl))
		v = SN_V_DROP_BAD_HEADER;
	if (v == SN_V_DROP_NATT_IKE && sn_keymgr_active()) {
		struct sn_ip src, dst;

		natt_addrs(addr, &src, &dst);
		sn_keymgr_natt_input(p, &src, port, &dst);
		return;
	}
	if (v != SN_V_PASS) {
		sn_ipsec_count(sn_v_counter(v));
		pbuf_free(p);
		return;
	}
	esp_input(p, ip_current_input_netif(), UDP_HLEN, true);
}

/* ---- Cleartext inbound policy ------------------------------------------------------ */

static bool is_ipsec_transport(const struct sn_flow *f)
{
	return f->proto == SN_IPPROTO_ESP || f->proto == SN_IPPROTO_AH ||
	       (f->proto == IP_PROTO_UDP && f->dport == SN_UDP_ENCAP_PORT);
}

static bool spd_in_active(void)
{
	return !sn_ipsec.cur_depth && sn_ipsec.spd && sn_spd_count(sn_ipsec.spd, SN_DIR_IN);
}

/* ESP or AH right after the fixed header: no full parse needed to let
 * it through (the rest of is_ipsec_transport() needs one). */
static bool is_esp_or_ah(const struct pbuf *p)
{
	const uint8_t *ip = p->payload;
	uint8_t proto;

	if (p->len >= IP_HLEN && (ip[0] >> 4) == 4)
		proto = ip[9];
	else if (p->len >= IP6_HLEN && (ip[0] >> 4) == 6)
		proto = ip[6];
	else
		return false;
	return proto == SN_IPPROTO_ESP || proto == SN_IPPROTO_AH;
}

/* The inbound SPD on a cleartext packet (RFC 4301 5.2 step 3a): 0 to let
 * lwIP deliver it, 1 when it was dropped (and freed). */
static enum sn_verdict clear_policy(const struct sn_pkt_info *pi)
{
	const struct sn_policy *pol;
	enum sn_verdict v;

	/* ND and MLD pass both ways, as on output (sn_ipsec_output6). */
	if (is_ipsec_transport(&pi->flow) || sn_pkt_is_nd(pi) || sn_keymgr_is_ike(&pi->flow, true))
		return SN_V_PASS;
	pol = sn_spd_lookup(sn_ipsec.spd, SN_DIR_IN, &pi->flow);
	if (!pol || pol->conf.action == SN_POL_BYPASS)
		return SN_V_PASS;
	if (pol->conf.action == SN_POL_PROTECT && pol->conf.tmpl.optional)
		return SN_V_PASS;
	if (!pol->owner)
		return pol->conf.action == SN_POL_PROTECT ? SN_V_DROP_CLEARTEXT : SN_V_DROP_POLICY;
	v = sn_sockpol_input_clear(pol->owner, &pi->flow);
	if (v == SN_V_PASS)
		sn_ipsec_count(SN_IC_CLEAR_IN_ALLOWED);
	return v;
}

static int clear_verdict(struct pbuf *p, const struct sn_pkt_info *pi)
{
	enum sn_verdict v = clear_policy(pi);

	if (v == SN_V_PASS)
		return 0;
	sn_ipsec_count(sn_v_counter(v));
	pbuf_free(p);
	return 1;
}

/*
 * lwIP's IP input hook, before reassembly: a cleartext packet the inbound
 * SPD wants protected, or blocks, is dropped here. A TCP or UDP fragment
 * has no ports (RFC 4301 4.4.1.1: OPAQUE), so judged alone a datagram to
 * a port a policy protects would pass once the peer fragments it, and ESP
 * in UDP would be dropped as cleartext under a policy without ports: those
 * wait for reassembled_recv(), which sees the whole datagram.
 */
int sn_ip_input_policy(struct pbuf *p, struct netif *inp)
{
	struct sn_pkt_info pi;

	sn_ipsec.clear_check_deferred = false;
	if (!spd_in_active() || is_esp_or_ah(p))
		return 0;
	if (sn_pkt_parse(p, &pi))
		return 0; /* lwIP checks and counts malformed headers */
	if (pi.fragment && (pi.flow.proto == IP_PROTO_TCP || pi.flow.proto == IP_PROTO_UDP)) {
		sn_ipsec.clear_check_deferred = true;
		return 0;
	}
	return clear_verdict(p, &pi);
}

/* Raw pcbs for TCP and UDP: lwIP offers every TCP/UDP packet to them after
 * reassembly, before tcp_input/udp_input. Only a datagram the input hook
 * saw as a fragment (in this same pass through IP input) is checked. */
static u8_t reassembled_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p,
			     const ip_addr_t *addr)
{
	struct sn_pkt_info pi;

	if (!sn_ipsec.clear_check_deferred)
		return 0;
	sn_ipsec.clear_check_deferred = false;
	if (!spd_in_active() || sn_pkt_parse(p, &pi))
		return 0;
	return (u8_t)clear_verdict(p, &pi);
}

/* ---- Attachment -------------------------------------------------------------------- */

static struct raw_pcb *raw_for(u8_t type, u8_t proto, raw_recv_fn fn)
{
	struct raw_pcb *pcb = raw_new_ip_type(type, proto);

	if (pcb)
		raw_recv(pcb, fn, NULL);
	return pcb;
}

static struct udp_pcb *natt_for(u8_t type)
{
	struct udp_pcb *pcb = udp_new_ip_type(type);

	if (!pcb)
		return NULL;
	if (udp_bind(pcb, type == IPADDR_TYPE_V6 ? IP6_ADDR_ANY : IP4_ADDR_ANY,
		     SN_UDP_ENCAP_PORT) != ERR_OK) {
		udp_remove(pcb);
		return NULL;
	}
	udp_recv(pcb, natt_recv, NULL);
	return pcb;
}

int sn_ipsec_in_attach(void)
{
	struct sn_ipsec *g = &sn_ipsec;

	g->esp4 = raw_for(IPADDR_TYPE_V4, SN_IPPROTO_ESP, esp_recv);
	g->esp6 = raw_for(IPADDR_TYPE_V6, SN_IPPROTO_ESP, esp_recv);
	g->ah4 = raw_for(IPADDR_TYPE_V4, SN_IPPROTO_AH, ah_recv);
	g->ah6 = raw_for(IPADDR_TYPE_V6, SN_IPPROTO_AH, ah_recv);
	g->natt4 = natt_for(IPADDR_TYPE_V4);
	g->natt6 = natt_for(IPADDR_TYPE_V6);
	g->reass_tcp = raw_for(IPADDR_TYPE_ANY, IP_PROTO_TCP, reassembled_recv);
	g->reass_udp = raw_for(IPADDR_TYPE_ANY, IP_PROTO_UDP, reassembled_recv);
	if (!g->esp4 || !g->esp6 || !g->ah4 || !g->ah6 || !g->natt4 || !g->natt6 ||
	    !g->reass_tcp || !g->reass_udp) {
		sn_ipsec_in_detach();
		return -ENOBUFS;
	}
	sn_ip_input_hook = sn_ip_input_policy;
	sn_rx_done_hook = sn_ipsec_rx_done;
	return 0;
}

void sn_ipsec_in_detach(void)
{
	struct sn_ipsec *g = &sn_ipsec;
	struct raw_pcb **raws[] = { &g->esp4, &g->esp6, &g->ah4, &g->ah6,
				    &g->reass_tcp, &g->reass_udp };

	sn_ip_input_hook = NULL;
	g->clear_check_deferred = false;
	sn_rx_done_hook = NULL;
	while (g->rq_count) {
		pbuf_free(g->rq[g->rq_head].p);
		g->rq_head = (g->rq_head + 1) % SN_IPSEC_REINJECT_MAX;
		g->rq_count--;
	}
	for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
		if (*raws[i])
			raw_remove(*raws[i]);
		*raws[i] = NULL;
	}
	if (g->natt4)
		udp_remove(g->natt4);
	if (g->natt6)
		udp_remove(g->natt6);
	g->natt4 = g->natt6 = NULL;
}
