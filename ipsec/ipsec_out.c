/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound IPsec (RFC 4301 5.1): every IP packet lwIP sends passes
 * netif->output, which we wrap. The outbound SPD decides: bypass (lwIP's
 * own output), discard, or protect. Protect finds the SA through the
 * policy's template (or holds the packet and asks for one: the acquire
 * hook IKEv2 will implement), builds the ESP or AH packet in transport or
 * tunnel mode, optionally inside UDP (RFC 3948), fragments it when it no
 * longer fits the MTU, and hands it to lwIP's link output.
 *
 * One copy: the payload is copied once into the new packet, an mbuf the
 * port takes as it is (sn_netif_alloc_ip), and sealed in place there.
 * (Encrypting out of place from the pbuf chain instead was measured: with
 * intel-ipsec-mb 1.3, AES-GCM's init/update/finalize calls cost more than
 * the copy they save.)
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/ip.h"
#include "lwip/inet_chksum.h"
#include "lwip/sys.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/udp.h"
#include "ipsec_dp.h"
#include "keymgr.h"
#include "sockpol.h"
#include "esp.h"
#include "ah.h"
#include "sn_netif.h"
#include "ipsec_capture.h"

#define NH_IPV4 4
#define NH_IPV6 41
#define IP4_DF 0x4000
#define OUTER_TTL 64
/* Upper bound of what ESP-in-UDP in an IPv6 tunnel adds, for MSS sizing
 * when the SA is not known yet. */
#define SN_IPSEC_WORST_OVERHEAD (IP6_HLEN + UDP_HLEN + SN_ESP_MAX_OVERHEAD)

struct out_ctx {
	struct netif *nif;
	struct pbuf *p;                 /* the IP packet lwIP built */
	struct sn_pkt_info pi;
	struct sn_sa *sa;
	uint64_t seq;
	struct pbuf *q;                 /* the protected packet */
};

static uint16_t ip4_id;

static bool spd_empty(void);
static err_t output_whole(struct netif *nif, struct pbuf *p, const struct sn_pkt_info *pi);

/* ---- Sending ----------------------------------------------------------- */

/* Send p as it is, fragmenting it when it exceeds the MTU (the link's,
 * also while lwIP's IP output is told 0: sn_ipsec_frag_defer_begin).
 * lwIP's fragmenters call our output hook again, which lets our own
 * packets through. The link's error is the sender's. */
static err_t send_ip(struct netif *nif, struct pbuf *p, int family, const ip_addr_t *dst)
{
	err_t e;

	if (p->tot_len <= sn_netif_mtu())
		return family == AF_INET ? sn_netif_link_output4(nif, p, ip_2_ip4(dst))
					 : sn_netif_link_output6(nif, p, ip_2_ip6(dst));
	sn_ipsec.out_bypass++;
	e = sn_netif_frag_output(nif, p, dst);
	sn_ipsec.out_bypass--;
	return e;
}

/* What the sender of a discarded packet is told, as lwIP's own IP output
 * would tell it: ERR_MEM (ENOBUFS) for a lack of buffers, ERR_VAL for a
 * packet too big to send, ERR_RTE (EHOSTUNREACH) where no SA or policy
 * lets it go, ERR_IF where the crypto backend failed. */
static err_t verdict_err(enum sn_verdict v)
{
	switch (v) {
	case SN_V_PASS:
		return ERR_OK;
	case SN_V_DROP_NOMEM:
	case SN_V_DROP_ACQUIRE_FULL:
		return ERR_MEM;
	case SN_V_DROP_TOOBIG:
		return ERR_VAL;
	case SN_V_DROP_CRYPTO:
		return ERR_IF;
	default:
		return ERR_RTE;
	}
}

/* The one place a discarded outbound packet is counted: on its SA where
 * one was chosen, else on the datapath's own counters. */
static err_t drop_out(struct sn_sa *sa, enum sn_verdict v)
{
	if (sa)
		sn_sa_count(sa, sn_v_counter(v), 1);
	else
		sn_ipsec_count(sn_v_counter(v));
	return verdict_err(v);
}

static void flow_dst(struct netif *nif, const struct sn_flow *f, ip_addr_t *dst)
{
	if (f->family == AF_INET) {
		IP_SET_TYPE_VAL(*dst, IPADDR_TYPE_V4);
		memcpy(&ip_2_ip4(dst)->addr, f->dst, 4);
		return;
	}
	IP_SET_TYPE_VAL(*dst, IPADDR_TYPE_V6);
	memcpy(ip_2_ip6(dst)->addr, f->dst, 16);
	ip6_addr_clear_zone(ip_2_ip6(dst));
	if (ip6_addr_islinklocal(ip_2_ip6(dst)))
		ip6_addr_assign_zone(ip_2_ip6(dst), IP6_UNKNOWN, nif);
}

static err_t send_clear(struct netif *nif, struct pbuf *p, const struct sn_pkt_info *pi)
{
	ip_addr_t dst;

	flow_dst(nif, &pi->flow, &dst);
	return send_ip(nif, p, pi->flow.family, &dst);
}

/* The protected packet, fragmented after the transform where it exceeds
 * the MTU (RFC 4303 3.3.4): to the tunnel's far end, or in transport mode
 * to the packet's own destination (no need to parse what we just built). */
static err_t send_protected(struct netif *nif, struct pbuf *q, const struct sn_sa *sa,
			    const struct sn_flow *inner)
{
	struct sn_flow outer;
	ip_addr_t dst;

	if (sa->conf.mode == SN_MODE_TUNNEL) {
		outer.family = sa->conf.dst.family;
		memcpy(outer.dst, sa->conf.dst.addr, sizeof(outer.dst));
		inner = &outer;
	}
	flow_dst(nif, inner, &dst);
	return send_ip(nif, q, inner->family, &dst);
}

/* ---- Building -------------------------------------------------------------- */

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}


/* Tunnel mode outer header (RFC 4301 5.1.2): addresses from the SA, DSCP
 * and ECN copied from the inner header (RFC 6040 normal mode). */
static size_t outer_header(const struct out_ctx *c, uint8_t *o, size_t total, uint8_t proto)
{
	const struct sn_sa_conf *sa = &c->sa->conf;

	if (sa->dst.family == AF_INET) {
		memset(o, 0, IP_HLEN);
		o[0] = 0x45;
		o[1] = c->pi.tos;
		put16(o + 4, ip4_id++);
		o[8] = OUTER_TTL;
		o[9] = proto;
		memcpy(o + 12, sa->src.addr, 4);
		memcpy(o + 16, sa->dst.addr, 4);
		sn_ip4_set_len(o, IP_HLEN, total);
		return IP_HLEN;
	}
	memset(o, 0, IP6_HLEN);
	o[0] = (uint8_t)(0x60 | (c->pi.tos >> 4));
	o[1] = (uint8_t)(c->pi.tos << 4);
	sn_ip6_set_len(o, total);
	o[6] = proto;
	o[7] = OUTER_TTL;
	memcpy(o + 8, sa->src.addr, 16);
	memcpy(o + 24, sa->dst.addr, 16);
	return IP6_HLEN;
}

/* Transport mode: the original header chain, now naming proto. */
static void inner_header(const struct out_ctx *c, uint8_t *o, size_t total, uint8_t proto)
{
	size_t hl = c->pi.ip_hlen;

	pbuf_copy_partial(c->p, o, (u16_t)hl, 0);
	o[c->pi.nh_off] = proto;
	if (c->pi.flow.family == AF_INET)
		sn_ip4_set_len(o, hl, total);
	else
		sn_ip6_set_len(o, total);
}

static size_t header_len(const struct out_ctx *c)
{
	if (c->sa->conf.mode == SN_MODE_TRANSPORT)
		return c->pi.ip_hlen;
	return c->sa->conf.dst.family == AF_INET ? IP_HLEN : IP6_HLEN;
}

/* Bytes of the original packet that become the protected payload. */
static size_t payload_off(const struct out_ctx *c)
{
	return c->sa->conf.mode == SN_MODE_TRANSPORT ? c->pi.ip_hlen : 0;
}

static uint8_t payload_nh(const struct out_ctx *c)
{
	if (c->sa->conf.mode == SN_MODE_TRANSPORT)
		return c->pi.flow.proto;
	return c->pi.flow.family == AF_INET ? NH_IPV4 : NH_IPV6;
}

static void write_header(const struct out_ctx *c, uint8_t *o, size_t total, uint8_t proto)
{
	if (c->sa->conf.mode == SN_MODE_TUNNEL)
		outer_header(c, o, total, proto);
	else
		inner_header(c, o, total, proto);
}

/* RFC 3948 2.1: UDP header before ESP; checksum zero over IPv4, computed
 * over IPv6 (RFC 8200 8.1). */
static void udp_header(const struct out_ctx *c, struct pbuf *q, size_t hl, size_t len)
{
	uint8_t *u = (uint8_t *)q->payload + hl;

	put16(u, c->sa->conf.encap_sport);
	put16(u + 2, c->sa->conf.encap_dport);
	put16(u + 4, len);
	u[6] = u[7] = 0;
	if (c->sa->conf.dst.family == AF_INET6 || c->pi.flow.family == AF_INET6) {
		ip6_addr_t s, d;
		const uint8_t *ip = q->payload;
		u16_t ck;

		if ((ip[0] >> 4) != 6)
			return;
		memcpy(s.addr, ip + 8, 16);
		memcpy(d.addr, ip + 24, 16);
		ip6_addr_clear_zone(&s);
		ip6_addr_clear_zone(&d);
		pbuf_remove_header(q, (u16_t)hl);
		ck = ip6_chksum_pseudo(q, IP_PROTO_UDP, (u16_t)len, &s, &d);
		pbuf_add_header(q, (u16_t)hl);
		memcpy(u + 6, &ck, 2);
	}
}

/* The new packet, total bytes, with the protected payload copied in at
 * offset at. */
static enum sn_verdict alloc_with_payload(struct out_ctx *c, size_t total, size_t at,
					  size_t plen)
{
	if (total > 0xffff)
		return SN_V_DROP_TOOBIG;
	c->q = sn_netif_alloc_ip((u16_t)total);
	if (!c->q)
		return SN_V_DROP_NOMEM;
	pbuf_copy_partial(c->p, (uint8_t *)c->q->payload + at, (u16_t)plen,
			  (u16_t)payload_off(c));
	return SN_V_PASS;
}

static enum sn_verdict build_esp(struct out_ctx *c)
{
	struct sn_crypto *cr = c->sa->crypto;
	size_t hl = header_len(c), udp = c->sa->conf.encap ? UDP_HLEN : 0;
	size_t plen = c->pi.ip_len - payload_off(c);
	size_t total = hl + udp + sn_esp_hdr_len(cr) + plen + sn_esp_trailer_len(cr, plen);
	enum sn_verdict v = alloc_with_payload(c, total, hl + udp + sn_esp_hdr_len(cr), plen);
	uint8_t *o;
	int esp;

	if (v != SN_V_PASS)
		return v;
	o = c->q->payload;
	esp = sn_esp_seal(cr, c->sa->conf.spi, c->seq, c->sa->conf.flags & SN_SA_F_ESN,
			  payload_nh(c), o + hl + udp, total - hl - udp, plen);
	if (esp < 0)
		return SN_V_DROP_CRYPTO;
	total = hl + udp + (size_t)esp;
	pbuf_realloc(c->q, (u16_t)total);
	write_header(c, o, total, udp ? IP_PROTO_UDP : SN_IPPROTO_ESP);
	if (udp)
		udp_header(c, c->q, hl, UDP_HLEN + (size_t)esp);
	return SN_V_PASS;
}

static enum sn_verdict build_ah(struct out_ctx *c)
{
	struct sn_crypto *cr = c->sa->crypto;
	int family = c->sa->conf.mode == SN_MODE_TUNNEL ? c->sa->conf.dst.family
							: c->pi.flow.family;
	size_t hl = header_len(c), ah = sn_ah_len(cr, family);
	size_t plen = c->pi.ip_len - payload_off(c), total = hl + ah + plen;
	enum sn_verdict v = alloc_with_payload(c, total, hl + ah, plen);
	uint8_t *o;

	if (v != SN_V_PASS)
		return v;
	o = c->q->payload;
	write_header(c, o, total, SN_IPPROTO_AH);
	/* The header checksum written above stays valid: AH fills only its
	 * own header (the checksum is a mutable field for the ICV). */
	if (sn_ah_seal(cr, o, total, payload_nh(c), c->sa->conf.spi, c->seq,
		       c->sa->conf.flags & SN_SA_F_ESN))
		return SN_V_DROP_CRYPTO;
	return SN_V_PASS;
}

/* ---- Policy --------------------------------------------------------------------- */

static bool host_pair(const struct sn_selector *s)
{
	unsigned full = s->src.family == AF_INET ? 32 : 128;

	return s->src.family && s->dst.family && s->src_plen == full &&
	       s->dst_plen == full;
}

/* The SA for a protect policy: the one bound or cached, else through the
 * template (transport templates take the packet's own addresses). */
static struct sn_sa *policy_sa(struct sn_policy *pol, const struct sn_flow *f)
{
	struct sn_sa *sa = sn_sad_get(sn_ipsec.sad, pol->sa);
	struct sn_ip src, dst;

	if (sa)
		return sa;
	if (pol->conf.tmpl.mode == SN_MODE_TUNNEL && pol->conf.tmpl.dst.family) {
		src = pol->conf.tmpl.src;
		dst = pol->conf.tmpl.dst;
	} else {
		sn_flow_ip(f, true, &src);
		sn_flow_ip(f, false, &dst);
	}
	sa = sn_sad_find_tmpl(sn_ipsec.sad, &pol->conf.tmpl, &src, &dst);
	/* Cache only where every packet of the policy uses the same SA: a
	 * tunnel, or a transport policy between two hosts. A newer SA for the
	 * template (a rekey) is not seen until this one goes. */
	if (sa && (pol->conf.tmpl.mode == SN_MODE_TUNNEL || host_pair(&pol->conf.sel)))
		pol->sa = sn_sa_ref(sa);
	return sa;
}

/* No SA yet: hold a copy of the packet for the acquire handler. 0 when
 * held; otherwise a negative errno: it was dropped and counted, by the
 * SPD (sn_spd_queue) or, for the copy, here. */
static int hold(struct sn_policy *pol, const struct out_ctx *c)
{
	struct pbuf *copy = pbuf_clone(PBUF_IP, PBUF_RAM, c->p);
	int rc;

	if (!copy) {
		sn_ipsec_count(SN_IC_DROP_NOMEM);
		return -ENOMEM;
	}
	/* The SPD owns the copy now: it frees (and counts) what it drops,
	 * all but a refused argument. */
	rc = sn_spd_queue(sn_ipsec.spd, pol, &c->pi.flow, copy);
	if (rc == -EINVAL)
		pbuf_free(copy);
	return rc;
}

/* hold()'s result for the sender: held is sent (later); a full queue or
 * no buffer is back-pressure; no handler or its failure, no route. */
static err_t hold_err(int rc)
{
	if (rc == 0)
		return ERR_OK;
	return rc == -ENOBUFS || rc == -ENOMEM ? ERR_MEM : ERR_RTE;
}

/* The protected packet in c->q, or why not (c->q may be set then). */
static enum sn_verdict seal(struct out_ctx *c, uint64_t now)
{
	if (sn_life_hard(&c->sa->life, now))
		return SN_V_DROP_EXPIRED;
	if (sn_sa_next_seq(c->sa, &c->seq))
		return SN_V_DROP_SEQ_OVERFLOW;
	return c->sa->conf.proto == SN_IPPROTO_ESP ? build_esp(c) : build_ah(c);
}

static err_t protect(struct out_ctx *c)
{
	uint64_t now = sn_ipsec_now_s();
	enum sn_verdict v = seal(c, now);
	err_t e;

	if (v != SN_V_PASS) {
		if (c->q)
			pbuf_free(c->q);
		return drop_out(c->sa, v);
	}
	sn_life_used(&c->sa->life, now, c->pi.ip_len);
	sn_sa_count(c->sa, SN_IC_OUT_PACKETS, 1);
	sn_sa_count(c->sa, SN_IC_OUT_BYTES, c->pi.ip_len);
	sn_ipsec_capture(c->p, SN_CAPTURE_OUT);
	e = send_protected(c->nif, c->q, c->sa, &c->pi.flow);
	pbuf_free(c->q);
	return e;
}

/* A policy that would cover this fragment's datagram if its ports were
 * known: a fragment that reaches us was made by lwIP before the SPD could
 * see the datagram (an ICMP reply, say), and it must not leave in the
 * clear when any non-bypass policy might want its datagram. */
struct frag_scan {
	const struct sn_flow *f;
	bool covered;
};

static int frag_one(const struct sn_policy *pol, void *ctx)
{
	struct frag_scan *fs = ctx;
	struct sn_selector sel = pol->conf.sel;

	sel.sport = sel.dport = 0;
	if (pol->conf.action != SN_POL_BYPASS && sn_sel_match(&sel, fs->f))
		fs->covered = true;
	return fs->covered;
}

static bool fragment_covered(const struct sn_flow *f)
{
	struct frag_scan fs = { f, false };

	sn_spd_foreach(sn_ipsec.spd, SN_DIR_OUT, frag_one, &fs);
	return fs.covered;
}

static err_t output(struct netif *nif, struct pbuf *p, const struct sn_pkt_info *pi)
{
	if (pi->fragment && fragment_covered(&pi->flow))
		return drop_out(NULL, SN_V_DROP_TOOBIG);
	return output_whole(nif, p, pi);
}

void sn_ipsec_frag_defer_begin(void)
{
	if (sn_ipsec.up && !spd_empty() && !sn_ipsec.frag_deferred) {
		sn_ipsec.frag_deferred = true;
		sn_netif_defer_frag(true);
	}
}

void sn_ipsec_frag_defer_end(void)
{
	if (sn_ipsec.frag_deferred) {
		sn_ipsec.frag_deferred = false;
		sn_netif_defer_frag(false);
	}
}

/* A socket's own policy: the SA its proposals and target names allow,
 * the clear where it allows insecure traffic, else hold or fail (the
 * socket policy learns why). */
static err_t output_owned(struct sn_policy *pol, struct out_ctx *c)
{
	struct sn_sockpol *sp = pol->owner;
	int rc;

	switch (sn_sockpol_output(sp, &c->pi.flow, &c->sa)) {
	case SN_SP_PROTECT:
		return protect(c);
	case SN_SP_CLEAR:
		sn_ipsec_count(SN_IC_CLEAR_OUT_ALLOWED);
		return send_clear(c->nif, c->p, &c->pi);
	case SN_SP_REFUSE:
		return drop_out(NULL, SN_V_DROP_PEER_NAME_OUT);
	case SN_SP_HOLD:
		break;
	}
	rc = hold(pol, c);
	if (rc)
		sn_sockpol_no_sa(sp, &c->pi.flow, rc);
	return hold_err(rc);
}

static err_t output_whole(struct netif *nif, struct pbuf *p, const struct sn_pkt_info *pi)
{
	struct out_ctx c = { .nif = nif, .p = p, .pi = *pi };
	struct sn_policy *pol = sn_spd_lookup(sn_ipsec.spd, SN_DIR_OUT, &pi->flow);

	if (!pol || pol->conf.action == SN_POL_BYPASS)
		return send_clear(nif, p, pi);
	if (pol->conf.action == SN_POL_DISCARD)
		return drop_out(NULL, SN_V_DROP_POLICY);
	if (pol->owner)
		return output_owned(pol, &c);
	c.sa = policy_sa(pol, &pi->flow);
	if (c.sa)
		return protect(&c);
	if (pol->conf.tmpl.optional)
		return send_clear(nif, p, pi);
	return hold_err(hold(pol, &c));
}

static bool spd_empty(void)
{
	return !sn_ipsec.spd || !sn_spd_count(sn_ipsec.spd, SN_DIR_OUT);
}

/* A packet ipsec/ built itself: lwIP's neighbour discovery sends what it
 * queued while resolving the next hop through the output hook again, and
 * under a policy for every protocol it would be protected twice. No
 * application sends ESP or AH (there are no raw sockets). */
static bool own_output(const struct sn_flow *f)
{
	return f->proto == SN_IPPROTO_ESP || f->proto == SN_IPPROTO_AH ||
	       (f->proto == IP_PROTO_UDP && f->sport == SN_UDP_ENCAP_PORT) ||
	       sn_keymgr_is_ike(f, false);
}

err_t sn_ipsec_output4(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
	struct sn_pkt_info pi;

	if (sn_ipsec.out_bypass || spd_empty() || sn_pkt_parse(p, &pi) || own_output(&pi.flow))
		return sn_netif_link_output4(nif, p, dst);
	return output(nif, p, &pi);
}

err_t sn_ipsec_output6(struct netif *nif, struct pbuf *p, const ip6_addr_t *dst)
{
	struct sn_pkt_info pi;

	/* Neighbour discovery and MLD always go in the clear (as they come
	 * in: clear_verdict), or IPv6 could not resolve the peer an SA
	 * protects traffic to. */
	if (sn_ipsec.out_bypass || spd_empty() || sn_pkt_parse(p, &pi) || sn_pkt_is_nd(&pi) ||
	    own_output(&pi.flow))
		return sn_netif_link_output6(nif, p, dst);
	return output(nif, p, &pi);
}

/* ---- Held packets and sizes ---------------------------------------------------------- */

static void send_held(void *pkt, void *ctx)
{
	struct pbuf *p = pkt;
	struct sn_pkt_info pi;

	/* No sender waits for a held packet's error. */
	if (!sn_pkt_parse(p, &pi))
		(void)output(ctx, p, &pi);
	pbuf_free(p);
}

void sn_ipsec_flush_held(struct sn_policy *pol)
{
	sn_spd_flush(sn_ipsec.spd, pol, send_held, &sn_netif);
}

struct sn_sa *sn_ipsec_global_out_sa(const struct sn_sock_flow *sf, const struct sn_ip *peer,
				     uint16_t port)
{
	struct sn_flow f = { .family = sf->family, .proto = sf->proto, .sport = sf->lport,
			     .dport = port };
	struct sn_policy *pol;

	memcpy(f.src, sf->local.addr, sizeof(f.src));
	memcpy(f.dst, peer->addr, sizeof(f.dst));
	pol = sn_spd_lookup(sn_ipsec.spd, SN_DIR_OUT, &f);
	if (!pol || pol->owner || pol->conf.action != SN_POL_PROTECT)
		return NULL;
	return policy_sa(pol, &f);
}

unsigned sn_ipsec_overhead_for(const struct sn_flow *flow)
{
	struct sn_policy *pol;
	struct sn_sa *sa;
	unsigned n;

	if (spd_empty())
		return 0;
	pol = sn_spd_lookup(sn_ipsec.spd, SN_DIR_OUT, flow);
	if (!pol || pol->conf.action != SN_POL_PROTECT)
		return 0;
	if (pol->owner) {
		struct sn_ip peer;

		sn_flow_ip(flow, false, &peer);
		sn_sockpol_resolve(pol->owner, &peer, flow->dport, &sa, NULL);
	} else {
		sa = policy_sa(pol, flow);
	}
	if (!sa || !sa->crypto)
		return SN_IPSEC_WORST_OVERHEAD;
	n = sa->conf.proto == SN_IPPROTO_AH ? (unsigned)sn_ah_len(sa->crypto, AF_INET6)
		: (unsigned)(sn_esp_hdr_len(sa->crypto) + sn_esp_trailer_max(sa->crypto));
	if (sa->conf.encap)
		n += UDP_HLEN;
	if (sa->conf.mode == SN_MODE_TUNNEL)
		n += sa->conf.dst.family == AF_INET ? IP_HLEN : IP6_HLEN;
	return n;
}
