/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec's clock-driven work, from one place (STYLE.md habit 10): once a
 * second, SAs past a hard lifetime are deleted (keys wiped), as Linux's
 * XFRM does, so they stop holding slots and their SPIs; every
 * SN_NATT_KEEPALIVE_S seconds each outbound SA in UDP sends a NAT
 * keep-alive (RFC 3948 2.3, 4) so that a NAT between the peers keeps its
 * mapping; and socket policies waiting for an SA time out (sockpol.c).
 * It runs as an lwIP timeout, the stack's own timer mechanism, not from
 * the per-frame receive hook.
 */
#include <string.h>
#include <sys/socket.h>

#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "ipsec_dp.h"
#include "keymgr.h"
#include "sockpol.h"

#define NATT_KEEPALIVE_BYTE 0xff        /* RFC 3948 2.3 */

#define TICK_MS 1000

static uint64_t next_keepalive;

static void send_keepalive(struct sn_sa *sa)
{
	struct udp_pcb *pcb = sa->conf.dst.family == AF_INET ? sn_ipsec.natt4 : sn_ipsec.natt6;
	struct pbuf *p;
	ip_addr_t dst;

	/* Our UDP pcb sends from port 4500: an SA encapsulating from another
	 * source port gets none (the side behind a NAT floats to 4500). */
	if (!pcb || sa->conf.encap_sport != SN_UDP_ENCAP_PORT)
		return;
	p = pbuf_alloc(PBUF_TRANSPORT, 1, PBUF_RAM);
	if (!p) {
		sn_sa_count(sa, SN_IC_DROP_NOMEM, 1);
		return;
	}
	*(uint8_t *)p->payload = NATT_KEEPALIVE_BYTE;
	if (sa->conf.dst.family == AF_INET) {
		IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V4);
		memcpy(&ip_2_ip4(&dst)->addr, sa->conf.dst.addr, 4);
	} else {
		IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V6);
		memcpy(ip_2_ip6(&dst)->addr, sa->conf.dst.addr, 16);
		ip6_addr_clear_zone(ip_2_ip6(&dst));
	}
	/* Not IPsec traffic itself: no policy may protect or block it. */
	sn_ipsec.out_bypass++;
	if (udp_sendto(pcb, p, &dst, sa->conf.encap_dport) == ERR_OK)
		sn_sa_count(sa, SN_IC_NAT_KEEPALIVE_SENT, 1);
	sn_ipsec.out_bypass--;
	pbuf_free(p);
}

/* Outbound SAs are those whose source is one of ours; the pcb's
 * address-type check and lwIP's source selection decide the rest. */
static int keepalive_one(const struct sn_sa *csa, void *ctx)
{
	struct sn_sa *sa = (struct sn_sa *)csa;

	(void)ctx;
	if (sa->conf.encap && sa->conf.proto == SN_IPPROTO_ESP && sa->seq_out)
		send_keepalive(sa);
	return 0;
}

#define REAP_MAX 64                     /* per tick; the rest go next second */

struct reap {
	uint64_t now;
	struct sn_sa *victim[REAP_MAX];
	unsigned n;
};

/* An SA goes one tick after it was first seen hard: a packet that
 * arrives in between is still counted drop_expired, not unknown SPI. */
static int reap_one(const struct sn_sa *csa, void *ctx)
{
	struct sn_sa *sa = (struct sn_sa *)csa;
	struct reap *r = ctx;

	enum sn_life_state st = sn_life_state(&sa->life, r->now);

	/* The one place that sees the soft event: IKEv2 will rekey here. */
	if (st == SN_LIFE_SOFT) {
		sn_sa_count(sa, SN_IC_EXPIRED_SOFT, 1);
		sn_keymgr_sa_soft(sa);
	}
	if (st != SN_LIFE_HARD)
		return 0;
	if (!sa->hard_at)
		sa->hard_at = r->now;
	else if (r->now > sa->hard_at && r->n < REAP_MAX)
		r->victim[r->n++] = sa;
	return 0;
}

static void reap_hard(uint64_t now_s)
{
	struct reap r = { .now = now_s };

	sn_sad_foreach(sn_ipsec.sad, reap_one, &r);
	for (unsigned i = 0; i < r.n; i++) {
		sn_sa_count(r.victim[i], SN_IC_EXPIRED_HARD, 1);
		/* A negotiated SA's pair goes whole, its key manager told. */
		sn_keymgr_sa_hard(r.victim[i]);
		if (sn_sad_get(sn_ipsec.sad, sn_sa_ref(r.victim[i])))
			sn_sad_remove(sn_ipsec.sad, r.victim[i]);
	}
}

void sn_ipsec_timers(uint64_t now_s)
{
	if (!sn_ipsec.up)
		return;
	reap_hard(now_s);
	if (now_s >= next_keepalive) {
		if (next_keepalive)
			sn_sad_foreach(sn_ipsec.sad, keepalive_one, NULL);
		next_keepalive = now_s + SN_NATT_KEEPALIVE_S;
	}
	sn_sockpol_tick(now_s, SN_SOCKPOL_TIMEOUT_S);
}

static void tick(void *arg)
{
	(void)arg;
	sn_ipsec_timers(sn_ipsec_now_s());
	sys_timeout(TICK_MS, tick, NULL);
}

void sn_ipsec_timers_start(void)
{
	next_keepalive = 0;
	sys_timeout(TICK_MS, tick, NULL);
}

void sn_ipsec_timers_stop(void)
{
	sys_untimeout(tick, NULL);
}
