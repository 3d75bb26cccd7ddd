/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket policies: a socket's requirements turned into SPD entries and
 * the datapath's per-packet questions about them. See sockpol.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ipsec_dp.h"
#include "sockpol.h"

#define PRIO_CONNECTED 0
#define PRIO_ANY_PEER  1
#define PEER_ERRORS    64
#define ICV_SHA1_96    12
#define ICV_128        16

static struct sn_sockpol *live;
static uint32_t n_live, n_fail_pending;

static struct {
	struct sn_ip peer;
	int err;
} peer_err[PEER_ERRORS];
static unsigned peer_err_next;

/* ---- Conf ------------------------------------------------------------------ */

struct sn_sec_conf *sn_sec_conf_new(void)
{
	struct sn_sec_conf *c = calloc(1, sizeof(*c));

	if (c)
		c->refs = 1;
	return c;
}

struct sn_sec_conf *sn_sec_conf_ref(struct sn_sec_conf *c)
{
	if (c)
		c->refs++;
	return c;
}

void sn_sec_conf_put(struct sn_sec_conf *c)
{
	if (!c || --c->refs)
		return;
	/* Credentials are secrets: wiped on the one way out. */
	explicit_bzero(c, sizeof(*c));
	free(c);
}

bool sn_ip_is_any(const struct sn_ip *ip)
{
	static const uint8_t zero[16];

	return !ip->family || memcmp(ip->addr, zero, sizeof(zero)) == 0;
}

static bool target_same(const struct sn_target *t, const struct sn_ip *addr, uint16_t port)
{
	if (t->port != port || sn_ip_is_any(&t->addr) != sn_ip_is_any(addr))
		return false;
	return sn_ip_is_any(addr) || sn_ip_equal(&t->addr, addr);
}

int sn_sec_name_set(struct sn_sec_conf *c, const struct sn_target *t)
{
	uint32_t i;

	if (!c || !t || t->len == 0 || t->len > SN_IPSEC_ID_MAX)
		return -EINVAL;
	for (i = 0; i < c->n_names && !target_same(&c->names[i], &t->addr, t->port); i++)
		;
	if (i == SN_SEC_MAX_NAMES)
		return -ENOSPC;
	c->names[i] = *t;
	c->names[i].name[t->len] = '\0';
	if (i == c->n_names)
		c->n_names++;
	c->names_gen++;
	return 0;
}

int sn_sec_name_del(struct sn_sec_conf *c, const struct sn_ip *addr, uint16_t port)
{
	for (uint32_t i = 0; c && i < c->n_names; i++) {
		if (!target_same(&c->names[i], addr, port))
			continue;
		c->names[i] = c->names[--c->n_names];
		c->names_gen++;
		return 0;
	}
	return -ENOENT;
}

/* The most specific name: address and port, then address, then any. */
const struct sn_target *sn_sec_name_for(const struct sn_sec_conf *c, const struct sn_ip *addr,
					uint16_t port)
{
	const struct sn_target *best = NULL;
	int best_score = -1;

	for (uint32_t i = 0; c && i < c->n_names; i++) {
		const struct sn_target *t = &c->names[i];
		bool any = sn_ip_is_any(&t->addr);
		int score;

		if ((!any && !sn_ip_equal(&t->addr, addr)) || (t->port && t->port != port))
			continue;
		score = (any ? 0 : 2) + (t->port ? 1 : 0);
		if (score > best_score) {
			best = t;
			best_score = score;
		}
	}
	return best;
}

static uint8_t icv_for(uint8_t auth)
{
	return auth == SN_AUTH_HMAC_SHA1_96 ? ICV_SHA1_96 : ICV_128;
}

static bool prop_matches(const struct sn_proposal *p, const struct sn_sa_conf *s)
{
	uint8_t salt = sn_enc_is_aead(s->enc) ? SN_IPSEC_SALT_LEN : 0;

	if (p->proto != s->proto)
		return false;
	if (p->proto == SN_IPPROTO_AH)
		return s->auth == p->auth && s->icv_len == icv_for(p->auth);
	if (s->enc != p->enc || s->auth != p->auth)
		return false;
	if (p->enc_key_len && s->enc_key_len != p->enc_key_len + salt)
		return false;
	return s->icv_len == (p->auth ? icv_for(p->auth) : ICV_128);
}

static bool encrypts(const struct sn_sa_conf *s)
{
	return s->proto == SN_IPPROTO_ESP && s->enc != SN_ENC_NULL && s->enc != SN_ENC_NONE;
}

int sn_sec_match(const struct sn_sec_conf *c, const struct sn_sa *sa)
{
	if (!c || !sa)
		return -1;
	if ((c->flags & SN_SEC_ENCRYPT) && !encrypts(&sa->conf))
		return -1;
	for (uint32_t i = 0; i < c->n_props; i++)
		if (prop_matches(&c->props[i], &sa->conf))
			return (int)i;
	return -1;
}

/* ---- Peer errors ------------------------------------------------------------- */

int sn_sockpol_peer_error(const struct sn_ip *peer)
{
	for (unsigned i = 0; i < PEER_ERRORS; i++)
		if (peer_err[i].err && sn_ip_equal(&peer_err[i].peer, peer))
			return peer_err[i].err;
	return 0;
}

void sn_sockpol_set_peer_error(const struct sn_ip *peer, int err)
{
	unsigned i;

	for (i = 0; i < PEER_ERRORS; i++)
		if (peer_err[i].err && sn_ip_equal(&peer_err[i].peer, peer))
			break;
	if (i == PEER_ERRORS) {
		i = peer_err_next;
		peer_err_next = (peer_err_next + 1) % PEER_ERRORS;
	}
	peer_err[i].peer = *peer;
	peer_err[i].err = err;
}

/* ---- Create and free ------------------------------------------------------------ */

static void sel_end(struct sn_ip *dst, uint8_t *plen, const struct sn_ip *ip, uint8_t family)
{
	bool any = sn_ip_is_any(ip);

	memset(dst, 0, sizeof(*dst));
	dst->family = family;
	if (!any)
		memcpy(dst->addr, ip->addr, sizeof(dst->addr));
	*plen = any ? 0 : (family == AF_INET ? 32 : 128);
}

static void pol_conf(struct sn_pol_conf *pc, const struct sn_sock_flow *sf, enum sn_pol_dir dir)
{
	struct sn_selector *s = &pc->sel;
	bool out = dir == SN_DIR_OUT;

	memset(pc, 0, sizeof(*pc));
	sel_end(&s->src, &s->src_plen, out ? &sf->local : &sf->remote, sf->family);
	sel_end(&s->dst, &s->dst_plen, out ? &sf->remote : &sf->local, sf->family);
	s->proto = sf->proto;
	s->sport = out ? sf->lport : (sf->remote_any ? 0 : sf->rport);
	s->dport = out ? (sf->remote_any ? 0 : sf->rport) : sf->lport;
	pc->dir = dir;
	pc->action = SN_POL_PROTECT;
	pc->priority = sf->remote_any ? PRIO_ANY_PEER : PRIO_CONNECTED;
	pc->socket_tier = true;
	pc->tmpl.proto = SN_IPPROTO_ESP;
	pc->tmpl.mode = SN_MODE_TRANSPORT;
}

static int instantiate(struct sn_sockpol *sp)
{
	struct sn_pol_conf pc;
	struct sn_policy *pol;
	int rc;

	pol_conf(&pc, &sp->sf, SN_DIR_OUT);
	rc = sn_spd_add(sn_ipsec.spd, &pc, &pol);
	if (rc)
		return rc;
	pol->owner = sp;
	sp->pol_out = pol->id;
	pol_conf(&pc, &sp->sf, SN_DIR_IN);
	rc = sn_spd_add(sn_ipsec.spd, &pc, &pol);
	if (rc)
		return rc;
	pol->owner = sp;
	sp->pol_in = pol->id;
	return 0;
}

static void link_live(struct sn_sockpol *sp)
{
	sp->next = live;
	if (live)
		live->prev = sp;
	live = sp;
	n_live++;
}

static void unlink_live(struct sn_sockpol *sp)
{
	if (sp->prev)
		sp->prev->next = sp->next;
	else
		live = sp->next;
	if (sp->next)
		sp->next->prev = sp->prev;
	n_live--;
}

int sn_sockpol_create(struct sn_sockpol **out, struct sn_sec_conf *conf,
		      const struct sn_sock_flow *sf, sn_sockpol_notify_fn notify, void *owner)
{
	struct sn_sockpol *sp;
	int rc = 0;

	if (!out || !conf || !sf || (sf->family != AF_INET && sf->family != AF_INET6))
		return -EINVAL;
	if (!sn_ipsec.spd)
		return -ENETDOWN;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->conf = sn_sec_conf_ref(conf);
	sp->sf = *sf;
	sp->notify = notify;
	sp->owner = owner;
	link_live(sp);
	if (!(conf->ipsec_flags & SN_SEC_SKIP_FILTERS))
		rc = instantiate(sp);
	if (rc) {
		sn_sockpol_free(sp);
		return rc;
	}
	*out = sp;
	return 0;
}

void sn_sockpol_free(struct sn_sockpol *sp)
{
	if (!sp)
		return;
	/* Deleting the entries drops (and counts) what they held. */
	if (sp->pol_out && sn_spd_del(sn_ipsec.spd, sp->pol_out))
		sn_ipsec_count(SN_IC_DROP_NOMEM);
	if (sp->pol_in && sn_spd_del(sn_ipsec.spd, sp->pol_in))
		sn_ipsec_count(SN_IC_DROP_NOMEM);
	if (sp->fail_pending)
		n_fail_pending--;
	unlink_live(sp);
	sn_sec_conf_put(sp->conf);
	free(sp);
}

bool sn_sockpol_port_held(uint8_t family, uint8_t proto, uint16_t port)
{
	for (const struct sn_sockpol *sp = live; sp; sp = sp->next)
		if (sp->sf.remote_any && sp->sf.family == family && sp->sf.proto == proto &&
		    sp->sf.lport == port)
			return true;
	return false;
}

int sn_sockpol_foreach(int (*fn)(const struct sn_sockpol *sp, void *ctx), void *ctx)
{
	for (const struct sn_sockpol *sp = live; sp; sp = sp->next) {
		int rc = fn(sp, ctx);

		if (rc)
			return rc;
	}
	return 0;
}

void sn_sockpol_detach_all(void)
{
	for (struct sn_sockpol *sp = live; sp; sp = sp->next)
		sp->pol_out = sp->pol_in = 0;
}

uint32_t sn_sockpol_count(void)
{
	return n_live;
}

/* ---- Choosing SAs ------------------------------------------------------------------ */

static bool name_ok(const struct sn_sockpol *sp, const struct sn_sa *sa,
		    const struct sn_ip *peer, uint16_t port)
{
	const struct sn_target *t = sn_sec_name_for(sp->conf, peer, port);
	size_t n = strlen(sa->conf.peer_id);
	bool same;

	if (!t)
		return true;
	if (sp->conf->ipsec_flags & SN_SEC_NAME_RAW)
		same = n == t->len && memcmp(sa->conf.peer_id, t->name, n) == 0;
	else
		same = n == t->len && strncasecmp(sa->conf.peer_id, t->name, n) == 0;
	return same || (sp->conf->ipsec_flags & SN_SEC_NAME_OPTIONAL);
}

struct pick {
	const struct sn_sockpol *sp;
	struct sn_ip local, peer;       /* local: family 0 = any */
	uint16_t port;
	bool inbound;
	bool any_alg;                   /* SKIP_FILTERS: configured policies chose */
	uint64_t now;
	struct sn_sa *best;
	int best_rank;
	bool name_mismatch;
	const char *mismatch_id;        /* the identity such an SA proves */
};

static bool ends_match(const struct pick *pk, const struct sn_sa_conf *c)
{
	const struct sn_ip *far = pk->inbound ? &c->src : &c->dst;
	const struct sn_ip *near = pk->inbound ? &c->dst : &c->src;

	if (!sn_ip_equal(far, &pk->peer))
		return false;
	return !pk->local.family || sn_ip_equal(near, &pk->local);
}

static int pick_one(const struct sn_sa *csa, void *ctx)
{
	struct pick *pk = ctx;
	struct sn_sa *sa = (struct sn_sa *)csa;   /* the SAD is ours to use */
	int rank;

	if (!ends_match(pk, &sa->conf) || !sa->crypto ||
	    sn_life_hard(&sa->life, pk->now))
		return 0;
	rank = pk->any_alg ? 0 : sn_sec_match(pk->sp->conf, sa);
	if (rank < 0)
		return 0;
	if (!name_ok(pk->sp, sa, &pk->peer, pk->port)) {
		pk->name_mismatch = true;
		pk->mismatch_id = sa->conf.peer_id;
		return 0;
	}
	if (!pk->best || rank < pk->best_rank ||
	    (rank == pk->best_rank && sa->serial > pk->best->serial)) {
		pk->best = sa;
		pk->best_rank = rank;
	}
	return 0;
}

/* With both ends known, the SAD's pair index gives the candidates (a
 * packet's choice is constant time); with our end any (a query on an
 * unbound socket, not a packet), every SA is looked at. */
static struct sn_sa *pick_sa(struct pick *pk)
{
	const struct sn_ip *near = &pk->local, *far = &pk->peer;

	pk->now = sn_ipsec_now_s();
	if (!pk->local.family)
		sn_sad_foreach(sn_ipsec.sad, pick_one, pk);
	else if (pk->inbound)
		sn_sad_foreach_pair(sn_ipsec.sad, far, near, pick_one, pk);
	else
		sn_sad_foreach_pair(sn_ipsec.sad, near, far, pick_one, pk);
	return pk->best;
}

/* local: the packet's own source, where there is a packet (NULL: the
 * socket's bound address, or any). */
static void pick_init(struct pick *pk, const struct sn_sockpol *sp, const struct sn_ip *peer,
		      uint16_t port, bool inbound, const struct sn_ip *local)
{
	memset(pk, 0, sizeof(*pk));
	pk->sp = sp;
	pk->peer = *peer;
	pk->port = port;
	pk->inbound = inbound;
	if (!sn_ip_is_any(&sp->sf.local))
		pk->local = sp->sf.local;
	else if (local && !sn_ip_is_any(local))
		pk->local = *local;
}

/* The cached outbound SA, while it is the one a fresh pick would give:
 * the SAD has not changed, nor the target names it was checked against. */
static struct sn_sa *cached_out(struct sn_sockpol *sp, const struct sn_ip *peer)
{
	struct sn_sa *sa = sn_sad_get(sn_ipsec.sad, sp->out_sa);

	if (!sa || sp->cache_serial != sn_sad_serial(sn_ipsec.sad) ||
	    sp->cache_names_gen != sp->conf->names_gen || !sn_ip_equal(&sp->cache_peer, peer))
		return NULL;
	if (sn_life_hard(&sa->life, sn_ipsec_now_s()))
		return NULL;
	return sa;
}

static struct sn_sa *out_sa_for(struct sn_sockpol *sp, const struct sn_ip *peer, uint16_t port,
				const struct sn_ip *local, bool *mismatch)
{
	struct sn_sa *sa = cached_out(sp, peer);
	struct pick pk;

	if (sa)
		return sa;
	pick_init(&pk, sp, peer, port, false, local);
	sa = pick_sa(&pk);
	*mismatch = pk.name_mismatch;
	if (pk.name_mismatch)
		snprintf(sp->refused_id, sizeof(sp->refused_id), "%s", pk.mismatch_id);
	if (sa) {
		sp->out_sa = sn_sa_ref(sa);
		sp->cache_peer = *peer;
		sp->cache_serial = sn_sad_serial(sn_ipsec.sad);
		sp->cache_names_gen = sp->conf->names_gen;
	}
	return sa;
}

static void fail(struct sn_sockpol *sp, int err)
{
	sp->last_error = err;
	if (!sp->fail_pending) {
		sp->fail_pending = true;
		n_fail_pending++;
	}
}

enum sn_sp_verdict sn_sockpol_output(struct sn_sockpol *sp, const struct sn_flow *f,
				     struct sn_sa **sa)
{
	bool mismatch = false;
	struct sn_ip peer, local;

	sn_flow_ip(f, false, &peer);
	sn_flow_ip(f, true, &local);
	*sa = out_sa_for(sp, &peer, f->dport, &local, &mismatch);
	if (*sa) {
		sp->waiting = false;
		return SN_SP_PROTECT;
	}
	if (mismatch) {
		sp->last_error = EACCES;
		sn_sockpol_set_peer_error(&peer, EACCES);
	}
	/* ALLOW_INSECURE: in the clear once a negotiation failed, or when
	 * nothing could negotiate; never before (a key manager tries first). */
	if ((sp->conf->flags & SN_SEC_INSECURE_OK) && (sp->clear_out || !sn_ipsec_have_acquire())) {
		sp->clear_out = true;
		return SN_SP_CLEAR;
	}
	/* Only a key manager could bring an SA that proves the name. */
	if (mismatch && !sn_ipsec_have_acquire()) {
		sp->waiting = false;
		fail(sp, EACCES);
		return SN_SP_REFUSE;
	}
	if (!sp->waiting) {
		sp->waiting = true;
		sp->wait_since = sn_ipsec_now_s();
	}
	return SN_SP_HOLD;
}

void sn_sockpol_no_sa(struct sn_sockpol *sp, const struct sn_flow *f, int rc)
{
	struct sn_ip peer;
	int err;

	/* A full acquire queue, or no buffer for the copy, is back-pressure
	 * (the sender sees ENOBUFS): the negotiation goes on. */
	if (rc == -ENOBUFS || rc == -ENOMEM)
		return;
	/* ALLOW_INSECURE: the negotiation failed, so from now on the clear. */
	if (sp->conf->flags & SN_SEC_INSECURE_OK) {
		sp->clear_out = true;
		sp->waiting = false;
		return;
	}
	/* No handler: refused; the handler's own error otherwise. A wrong
	 * identity (EACCES, from sn_sockpol_output) says more than either. */
	err = rc == -ENOENT || rc >= 0 ? ECONNREFUSED : -rc;
	if (sp->last_error == EACCES)
		err = EACCES;
	sn_flow_ip(f, false, &peer);
	sn_sockpol_set_peer_error(&peer, err);
	sp->waiting = false;
	fail(sp, err);
}

int sn_sockpol_sendable(struct sn_sockpol *sp, const struct sn_flow *f, bool have_acquire)
{
	bool mismatch = false;
	struct sn_ip peer, local;

	sn_flow_ip(f, false, &peer);
	sn_flow_ip(f, true, &local);
	if (out_sa_for(sp, &peer, f->dport, &local, &mismatch) ||
	    (sp->conf->flags & SN_SEC_INSECURE_OK) || have_acquire)
		return 0;
	sp->last_error = mismatch ? EACCES : ECONNREFUSED;
	sn_sockpol_set_peer_error(&peer, sp->last_error);
	return -sp->last_error;
}

/* ---- Inbound ------------------------------------------------------------------------ */

enum sn_verdict sn_sockpol_input_sa(struct sn_sockpol *sp, const struct sn_flow *f,
				    struct sn_sa *sa)
{
	struct sn_ip peer;

	sn_flow_ip(f, true, &peer);
	if (sn_sec_match(sp->conf, sa) < 0)
		return SN_V_DROP_SOCKET_SA;
	if (sa->conf.mode == SN_MODE_TRANSPORT && !sn_ip_equal(&sa->conf.src, &peer))
		return SN_V_DROP_SOCKET_SA;
	if (!name_ok(sp, sa, &peer, f->sport))
		return SN_V_DROP_PEER_NAME;
	if (!sp->sf.remote_any)
		sp->in_sa = sn_sa_ref(sa);
	return SN_V_PASS;
}

static bool first_seen(struct sn_sockpol *sp, const struct sn_ip *ip, uint16_t port)
{
	for (uint32_t i = 0; i < sp->n_first && i < SN_SEC_FIRST_PEERS; i++)
		if (sp->first[i].port == port && sn_ip_equal(&sp->first[i].ip, ip))
			return true;
	return false;
}

enum sn_verdict sn_sockpol_input_clear(struct sn_sockpol *sp, const struct sn_flow *f)
{
	struct sn_ip peer;
	uint32_t slot;

	if (sp->conf->flags & SN_SEC_INSECURE_OK) {
		sp->clear_in = true;
		return SN_V_PASS;
	}
	if (!(sp->conf->ipsec_flags & SN_SEC_FIRST_CLEAR))
		return SN_V_DROP_CLEARTEXT;
	/* RFC-less Windows behaviour: one packet per peer may open the
	 * exchange in the clear; protection is required from then on. */
	sn_flow_ip(f, true, &peer);
	if (first_seen(sp, &peer, f->sport))
		return SN_V_DROP_CLEARTEXT;
	slot = sp->n_first++ % SN_SEC_FIRST_PEERS;
	sp->first[slot].ip = peer;
	sp->first[slot].port = f->sport;
	return SN_V_PASS;
}

void sn_sockpol_resolve(struct sn_sockpol *sp, const struct sn_ip *peer, uint16_t port,
			struct sn_sa **out, struct sn_sa **in)
{
	bool mismatch = false;
	bool skip = sp->conf->ipsec_flags & SN_SEC_SKIP_FILTERS;
	struct pick pk;

	*out = skip ? sn_ipsec_global_out_sa(&sp->sf, peer, port)
		    : out_sa_for(sp, peer, port, NULL, &mismatch);
	if (!in)
		return;
	*in = sp->sf.remote_any ? NULL : sn_sad_get(sn_ipsec.sad, sp->in_sa);
	if (*in && sn_life_hard(&(*in)->life, sn_ipsec_now_s()))
		*in = NULL;
	if (*in)
		return;
	pick_init(&pk, sp, peer, port, true, NULL);
	pk.any_alg = skip;
	*in = pick_sa(&pk);
}

/* ---- Timeouts and notifications ------------------------------------------------------- */

static void check_timeouts(uint64_t now_s, uint64_t timeout_s)
{
	for (struct sn_sockpol *sp = live; sp; sp = sp->next) {
		if (!sp->waiting || now_s < sp->wait_since + timeout_s)
			continue;
		sp->waiting = false;
		fail(sp, ETIMEDOUT);
	}
}

void sn_sockpol_tick(uint64_t now_s, uint64_t timeout_s)
{
	check_timeouts(now_s, timeout_s);
	sn_sockpol_deliver();
}

void sn_sockpol_deliver(void)
{
	/* A notification may free any socket policy: start over each time. */
	while (n_fail_pending) {
		struct sn_sockpol *sp = live;

		while (sp && !sp->fail_pending)
			sp = sp->next;
		if (!sp) {
			n_fail_pending = 0;
			break;
		}
		sp->fail_pending = false;
		n_fail_pending--;
		if (sp->notify)
			sp->notify(sp->owner, sp->last_error);
	}
}
