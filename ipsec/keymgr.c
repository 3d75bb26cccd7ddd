/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The datapath's side of key management (keymgr.h): SA pairs installed by
 * a key manager, the SPD entries of configured connections it shares
 * between a child SA and its rekeyed successor, the acquire hook, and the
 * UDP endpoints of IKE (port 500 here; 4500 is ipsec_in.c's, which hands
 * over what carries the non-ESP marker).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"
#include "sn_netif.h"
#include "ipsec_dp.h"
#include "keylog.h"
#include "keymgr.h"
#include "sockpol.h"

#define PAIRS_MAX       (SN_IPSEC_MAX_SAS / 2)
#define KM_PRIORITY     1000            /* after the configured ones a user wrote */
#define KM_POLS_MAX     256             /* shared SPD entries of configured connections */

struct km_pair {
	bool used, soft_sent;
	uint32_t next_free;             /* index + 1, 0 = end */
	uint32_t gen;
	struct sn_sa_ref out, in;
	uint8_t n_pol;
	uint16_t pol[2 * SN_KEYMGR_MAX_SEL];    /* indexes into km.pols */
	uint64_t seen_packets;          /* counters at the last idle sample */
	uint64_t moved_s;
};

struct km_pol {
	uint32_t id;                    /* SPD id, 0 = free slot */
	uint32_t refs;
};

static struct {
	bool active;
	struct sn_keymgr_ops ops;
	uint16_t port;
	struct udp_pcb *pcb4, *pcb6;
	struct km_pair *pairs;
	uint32_t n_pairs, cap_pairs, live_pairs;
	uint32_t free_head;             /* index + 1 of a free slot, 0 = none */
	struct km_pol pols[KM_POLS_MAX];
	uint8_t buf[0xffff];             /* one datagram, flat */
} km;

bool sn_keymgr_active(void)
{
	return km.active;
}

/* ---- Addresses ---------------------------------------------------------------------- */

static void to_lwip(const struct sn_ip *ip, ip_addr_t *a)
{
	memset(a, 0, sizeof(*a));
	if (ip->family == AF_INET) {
		IP_SET_TYPE_VAL(*a, IPADDR_TYPE_V4);
		memcpy(&ip_2_ip4(a)->addr, ip->addr, 4);
	} else {
		IP_SET_TYPE_VAL(*a, IPADDR_TYPE_V6);
		memcpy(ip_2_ip6(a)->addr, ip->addr, 16);
		ip6_addr_clear_zone(ip_2_ip6(a));
	}
}

static void from_lwip(const ip_addr_t *a, struct sn_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (IP_IS_V4(a)) {
		ip->family = AF_INET;
		memcpy(ip->addr, &ip_2_ip4(a)->addr, 4);
	} else {
		ip->family = AF_INET6;
		memcpy(ip->addr, ip_2_ip6(a)->addr, 16);
	}
}

/* ---- Datagrams ---------------------------------------------------------------------- */

static void deliver(struct pbuf *p, const struct sn_ip *src, uint16_t sport,
		    const struct sn_ip *dst, uint16_t dport, bool encap)
{
	u16_t n = p->tot_len;

	if (pbuf_copy_partial(p, km.buf, n, 0) == n)
		km.ops.input(km.ops.ctx, dst, dport, src, sport, km.buf, n, encap);
	pbuf_free(p);
}

static void ike_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		     u16_t port)
{
	struct sn_ip src, dst;

	(void)arg;
	from_lwip(addr, &src);
	from_lwip(ip_current_dest_addr(), &dst);
	deliver(p, &src, port, &dst, pcb->local_port, false);
}

#define NON_ESP_MARKER_LEN 4            /* RFC 3948 2.2 */

void sn_keymgr_natt_input(struct pbuf *p, const struct sn_ip *src, uint16_t sport,
			  const struct sn_ip *dst)
{
	if (!km.active || pbuf_remove_header(p, NON_ESP_MARKER_LEN)) {
		sn_ipsec_count(SN_IC_DROP_NATT_IKE);
		pbuf_free(p);
		return;
	}
	deliver(p, src, sport, dst, SN_UDP_ENCAP_PORT, true);
}

static struct udp_pcb *pcb_for(uint16_t sport, uint8_t family)
{
	if (sport == SN_UDP_ENCAP_PORT)
		return family == AF_INET ? sn_ipsec.natt4 : sn_ipsec.natt6;
	if (sport == km.port)
		return family == AF_INET ? km.pcb4 : km.pcb6;
	return NULL;
}

int sn_keymgr_send(const struct sn_ip *src, uint16_t sport, const struct sn_ip *dst,
		   uint16_t dport, const void *buf, size_t len)
{
	struct udp_pcb *pcb = km.active ? pcb_for(sport, dst->family) : NULL;
	ip_addr_t d, s;
	struct pbuf *p;
	err_t e;

	if (!pcb || src->family != dst->family)
		return -EINVAL;
	if (len > 0xffff - UDP_HLEN)
		return -EMSGSIZE;
	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return -ENOMEM;
	memcpy(p->payload, buf, len);
	to_lwip(dst, &d);
	to_lwip(src, &s);
	/* IKE is not subject to the policies it negotiates (RFC 4301 5.2). */
	sn_ipsec.out_bypass++;
	e = udp_sendto_if_src(pcb, p, &d, dport, &sn_netif, &s);
	sn_ipsec.out_bypass--;
	pbuf_free(p);
	return e == ERR_OK ? 0 : e == ERR_MEM ? -ENOBUFS : -EHOSTUNREACH;
}

bool sn_keymgr_is_ike(const struct sn_flow *f, bool inbound)
{
	uint16_t ours = inbound ? f->dport : f->sport;

	return km.active && f->proto == IP_PROTO_UDP &&
	       (ours == km.port || ours == SN_UDP_ENCAP_PORT);
}

/* A policy already gone (flushed by snctl) is not an error here. */
static void spd_del(uint32_t id)
{
	int rc = sn_spd_del(sn_ipsec.spd, id);

	(void)rc;
}

/* ---- SA pairs ----------------------------------------------------------------------- */

static uint64_t handle_of(uint32_t idx)
{
	return ((uint64_t)km.pairs[idx].gen << 32) | (idx + 1);
}

static struct km_pair *pair_get(uint64_t h)
{
	uint32_t idx = (uint32_t)h - 1;

	if ((uint32_t)h == 0 || idx >= km.n_pairs)
		return NULL;
	if (!km.pairs[idx].used || km.pairs[idx].gen != (uint32_t)(h >> 32))
		return NULL;
	return &km.pairs[idx];
}

static int pair_alloc(uint32_t *idx)
{
	if (km.free_head) {
		*idx = km.free_head - 1;
		km.free_head = km.pairs[*idx].next_free;
		return 0;
	}
	if (km.n_pairs == km.cap_pairs) {
		uint32_t cap = km.cap_pairs ? km.cap_pairs * 2 : 64;
		struct km_pair *np;

		if (cap > PAIRS_MAX)
			cap = PAIRS_MAX;
		if (cap == km.cap_pairs)
			return -ENOSPC;
		np = realloc(km.pairs, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		km.pairs = np;
		km.cap_pairs = cap;
	}
	*idx = km.n_pairs++;
	memset(&km.pairs[*idx], 0, sizeof(km.pairs[*idx]));
	return 0;
}

static void pair_free(struct km_pair *kp)
{
	kp->used = false;
	kp->gen++;
	kp->next_free = km.free_head;
	km.free_head = (uint32_t)(kp - km.pairs) + 1;
	km.live_pairs--;
}

/* A shared SPD entry for (selector, direction): found among ours by
 * comparing the policy's conf (few: configured connections only). */
static int pol_find(const struct sn_pol_conf *pc)
{
	for (int i = 0; i < KM_POLS_MAX; i++) {
		const struct sn_policy *pol = km.pols[i].id ?
			sn_spd_get(sn_ipsec.spd, km.pols[i].id) : NULL;

		if (pol && pol->conf.dir == pc->dir &&
		    !memcmp(&pol->conf.sel, &pc->sel, sizeof(pc->sel)) &&
		    pol->conf.tmpl.reqid == pc->tmpl.reqid)
			return i;
	}
	return -1;
}

static int pol_ref(const struct sn_pol_conf *pc)
{
	struct sn_policy *pol;
	int i = pol_find(pc), rc;

	if (i >= 0) {
		km.pols[i].refs++;
		return i;
	}
	for (i = 0; i < KM_POLS_MAX && km.pols[i].id; i++)
		;
	if (i == KM_POLS_MAX)
		return -ENOSPC;
	rc = sn_spd_add(sn_ipsec.spd, pc, &pol);
	if (rc)
		return rc;
	km.pols[i] = (struct km_pol){ pol->id, 1 };
	return i;
}

static void pol_unref(uint16_t i)
{
	if (!km.pols[i].id || --km.pols[i].refs)
		return;
	spd_del(km.pols[i].id);
	km.pols[i].id = 0;
}

/* The selector seen from the other end. */
static struct sn_selector sel_reverse(const struct sn_selector *s)
{
	struct sn_selector r = *s;

	r.src = s->dst;
	r.dst = s->src;
	r.src_plen = s->dst_plen;
	r.dst_plen = s->src_plen;
	r.sport = s->dport;
	r.dport = s->sport;
	return r;
}

static void pol_conf_for(struct sn_pol_conf *pc, const struct sn_sa_conf *sa,
			 const struct sn_selector *sel, enum sn_pol_dir dir)
{
	memset(pc, 0, sizeof(*pc));
	pc->sel = dir == SN_DIR_OUT ? *sel : sel_reverse(sel);
	pc->dir = dir;
	pc->action = SN_POL_PROTECT;
	pc->priority = KM_PRIORITY;
	pc->tmpl.proto = sa->proto;
	pc->tmpl.mode = sa->mode;
	pc->tmpl.reqid = sa->reqid;
	if (sa->mode == SN_MODE_TUNNEL) {
		pc->tmpl.src = sa->src;
		pc->tmpl.dst = sa->dst;
	}
}

static void pair_release(struct km_pair *kp)
{
	struct sn_sa *sa;

	for (unsigned i = 0; i < kp->n_pol; i++)
		pol_unref(kp->pol[i]);
	if ((sa = sn_sad_get(sn_ipsec.sad, kp->out)))
		sn_sad_remove(sn_ipsec.sad, sa);
	if ((sa = sn_sad_get(sn_ipsec.sad, kp->in)))
		sn_sad_remove(sn_ipsec.sad, sa);
	pair_free(kp);
}

static int pair_policies(struct km_pair *kp, const struct sn_sa_conf *out,
			 const struct sn_selector *sel, unsigned n_sel)
{
	static const enum sn_pol_dir dirs[2] = { SN_DIR_OUT, SN_DIR_IN };
	struct sn_pol_conf pc;

	for (unsigned i = 0; i < n_sel; i++)
		for (unsigned d = 0; d < 2; d++) {
			int slot;

			pol_conf_for(&pc, out, &sel[i], dirs[d]);
			slot = pol_ref(&pc);
			/* An equal entry not ours (the connection's trap policy,
			 * or one the user wrote) already leads here: it decides. */
			if (slot == -EEXIST)
				continue;
			if (slot < 0)
				return slot;
			kp->pol[kp->n_pol++] = (uint16_t)slot;
		}
	return 0;
}

int sn_keymgr_pair_add(const struct sn_sa_conf *out, const struct sn_sa_conf *in,
		       const struct sn_selector *sel, unsigned n_sel, uint64_t *pair)
{
	struct sn_sa *so, *si;
	struct km_pair *kp;
	uint32_t idx;
	int rc;

	if (!km.active || !out || !in || n_sel > SN_KEYMGR_MAX_SEL || (n_sel && !sel))
		return -EINVAL;
	rc = pair_alloc(&idx);
	if (rc)
		return rc;
	kp = &km.pairs[idx];
	kp->used = true;
	km.live_pairs++;
	rc = sn_sad_add(sn_ipsec.sad, in, sn_ipsec_now_s(), &si);
	if (rc) {
		pair_free(kp);
		return rc;
	}
	rc = sn_sad_add(sn_ipsec.sad, out, sn_ipsec_now_s(), &so);
	if (rc) {
		sn_sad_remove(sn_ipsec.sad, si);
		pair_free(kp);
		return rc;
	}
	kp->soft_sent = false;
	kp->n_pol = 0;
	kp->out = sn_sa_ref(so);
	kp->in = sn_sa_ref(si);
	kp->moved_s = sn_ipsec_now_s();
	kp->seen_packets = 0;
	so->km_pair = si->km_pair = handle_of(idx);
	sn_keylog_sa(in);
	sn_keylog_sa(out);
	rc = pair_policies(kp, out, sel, n_sel);
	if (rc) {
		pair_release(kp);
		return rc;
	}
	*pair = handle_of(idx);
	return 0;
}

void sn_keymgr_pair_del(uint64_t pair)
{
	struct km_pair *kp = km.active ? pair_get(pair) : NULL;

	if (kp)
		pair_release(kp);
}

int64_t sn_keymgr_pair_idle_s(uint64_t pair)
{
	struct km_pair *kp = km.active ? pair_get(pair) : NULL;
	uint64_t now = sn_ipsec_now_s(), pk = 0;
	struct sn_sa *sa;

	if (!kp)
		return -1;
	if ((sa = sn_sad_get(sn_ipsec.sad, kp->out)))
		pk += sa->ctr[SN_IC_OUT_PACKETS];
	if ((sa = sn_sad_get(sn_ipsec.sad, kp->in)))
		pk += sa->ctr[SN_IC_IN_PACKETS];
	if (pk != kp->seen_packets) {
		kp->seen_packets = pk;
		kp->moved_s = now;
	}
	return (int64_t)(now - kp->moved_s);
}

uint32_t sn_keymgr_pair_count(void)
{
	return km.live_pairs;
}

void sn_keymgr_sa_soft(struct sn_sa *sa)
{
	struct km_pair *kp = km.active ? pair_get(sa->km_pair) : NULL;

	if (!kp || kp->soft_sent)
		return;
	kp->soft_sent = true;
	km.ops.pair_event(km.ops.ctx, sa->km_pair, SN_KM_SOFT);
}

/* The reaper is about to delete sa: its partner and the pair's policies
 * go too, once the key manager has heard of it. */
void sn_keymgr_sa_hard(struct sn_sa *sa)
{
	uint64_t h = sa->km_pair;
	struct km_pair *kp = km.active ? pair_get(h) : NULL;
	struct sn_sa *other;

	if (!kp)
		return;
	km.ops.pair_event(km.ops.ctx, h, SN_KM_HARD);
	if (!(kp = pair_get(h)))
		return;         /* the key manager deleted it itself */
	other = sn_sad_get(sn_ipsec.sad, sn_sa_ref(sa).idx == kp->out.idx ? kp->in : kp->out);
	if (other)
		sn_sad_remove(sn_ipsec.sad, other);
	kp->out = kp->in = (struct sn_sa_ref){ 0 };
	for (unsigned i = 0; i < kp->n_pol; i++)
		pol_unref(kp->pol[i]);
	kp->n_pol = 0;
	pair_free(kp);
	sa->km_pair = 0;
}

/* ---- Trap policies --------------------------------------------------------------------- */

int sn_keymgr_trap_add(const struct sn_selector *sel, unsigned n_sel,
		       const struct sn_pol_tmpl *tmpl, uint32_t *ids)
{
	static const enum sn_pol_dir dirs[2] = { SN_DIR_OUT, SN_DIR_IN };
	unsigned n = 0;

	for (unsigned i = 0; i < n_sel; i++)
		for (unsigned d = 0; d < 2; d++) {
			struct sn_pol_conf pc = { .dir = dirs[d], .action = SN_POL_PROTECT,
						  .priority = KM_PRIORITY, .tmpl = *tmpl };
			struct sn_policy *pol;
			int rc;

			pc.sel = dirs[d] == SN_DIR_OUT ? sel[i] : sel_reverse(&sel[i]);
			rc = sn_spd_add(sn_ipsec.spd, &pc, &pol);
			if (rc) {
				sn_keymgr_trap_del(ids, n);
				return rc;
			}
			ids[n++] = pol->id;
		}
	return 0;
}

void sn_keymgr_trap_del(const uint32_t *ids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		spd_del(ids[i]);
}

/* ---- Acquire ----------------------------------------------------------------------------- */

static int km_acquire(struct sn_policy *pol, const struct sn_flow *flow, void *ctx)
{
	struct sn_keymgr_acquire a = { .pol_id = pol->id, .flow = *flow, .tmpl = pol->conf.tmpl };

	(void)ctx;
	pol->acq_flow = *flow;
	if (pol->owner) {
		struct sn_ip peer;

		sn_flow_ip(flow, false, &peer);
		a.sec = pol->owner->conf;
		a.target = sn_sec_name_for(a.sec, &peer, flow->dport);
	}
	return km.ops.acquire(km.ops.ctx, &a);
}

void sn_keymgr_acquire_done(uint32_t pol_id, int err)
{
	struct sn_policy *pol = km.active ? sn_spd_get(sn_ipsec.spd, pol_id) : NULL;

	if (!pol)
		return;
	if (!err) {
		pol->sa = (struct sn_sa_ref){ 0 };
		sn_ipsec_flush_held(pol);
		return;
	}
	if (pol->owner)
		sn_sockpol_no_sa(pol->owner, &pol->acq_flow, err < 0 ? err : -err);
	/* ALLOW_INSECURE sends what it held in the clear now; the rest drop. */
	if (pol->owner && pol->owner->clear_out)
		sn_ipsec_flush_held(pol);
	else
		sn_spd_flush(sn_ipsec.spd, pol, NULL, NULL);
}

/* ---- Registration ------------------------------------------------------------------------- */

static struct udp_pcb *open_port(u8_t type, uint16_t port)
{
	struct udp_pcb *pcb = udp_new_ip_type(type);

	if (!pcb)
		return NULL;
	if (udp_bind(pcb, type == IPADDR_TYPE_V6 ? IP6_ADDR_ANY : IP4_ADDR_ANY, port) != ERR_OK) {
		udp_remove(pcb);
		return NULL;
	}
	udp_recv(pcb, ike_recv, NULL);
	return pcb;
}

int sn_keymgr_register(const struct sn_keymgr_ops *ops, uint16_t port)
{
	if (km.active)
		return -EALREADY;
	if (!sn_ipsec.up)
		return -ENETDOWN;
	if (!ops || !ops->acquire || !ops->input || !ops->pair_event || !port ||
	    port == SN_UDP_ENCAP_PORT)
		return -EINVAL;
	km.pcb4 = open_port(IPADDR_TYPE_V4, port);
	km.pcb6 = open_port(IPADDR_TYPE_V6, port);
	if (!km.pcb4 || !km.pcb6) {
		if (km.pcb4)
			udp_remove(km.pcb4);
		if (km.pcb6)
			udp_remove(km.pcb6);
		km.pcb4 = km.pcb6 = NULL;
		return -EADDRINUSE;
	}
	km.ops = *ops;
	km.port = port;
	km.active = true;
	sn_spd_set_acquire(sn_ipsec.spd, km_acquire, NULL);
	return 0;
}

void sn_keymgr_unregister(void)
{
	if (!km.active)
		return;
	for (uint32_t i = 0; i < km.n_pairs; i++)
		if (km.pairs[i].used)
			pair_release(&km.pairs[i]);
	for (int i = 0; i < KM_POLS_MAX; i++)
		if (km.pols[i].id)
			spd_del(km.pols[i].id);
	if (sn_ipsec.spd)
		sn_spd_set_acquire(sn_ipsec.spd, NULL, NULL);
	udp_remove(km.pcb4);
	udp_remove(km.pcb6);
	free(km.pairs);
	memset(&km, 0, sizeof(km));
}
