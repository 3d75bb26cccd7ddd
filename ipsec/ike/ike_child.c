// SPDX-License-Identifier: BSD-3-Clause
/*
 * The child SA of IKE_AUTH (RFC 7296 1.2, 2.9, 2.17), both roles: the
 * ESP proposal with our SPI, TSi/TSr (from the acquire's flow or the
 * configured child), USE_TRANSPORT_MODE with fall-back to tunnel when
 * the responder does not echo it (1.3.1), the responder's narrowing and
 * TS_UNACCEPTABLE, KEYMAT (2.17) and the install through ops->child_add.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sa.h"

struct child_pl {
	struct ike_sa sa;
	struct ike_ts_set tsi, tsr;
	bool has_sa, has_tsi, has_tsr, transport;
};

/* A child without configuration (a socket's acquire): swanctl's defaults. */
static const struct ike_conf_child default_child = {
	.proto = SN_IPPROTO_ESP, .mode = SN_MODE_TUNNEL, .rekey_time = 3600,
};

static void spi_be(uint32_t spi, uint8_t out[4])
{
	out[0] = (uint8_t)(spi >> 24);
	out[1] = (uint8_t)(spi >> 16);
	out[2] = (uint8_t)(spi >> 8);
	out[3] = (uint8_t)spi;
}

static uint32_t spi_of(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum ike_parse_res parse_child(const struct ike_chain *c, struct child_pl *o)
{
	enum ike_parse_res r = IKE_P_OK;

	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < c->n && r == IKE_P_OK; i++) {
		const struct ike_payload *p = &c->pl[i];
		struct ike_notify n;

		if (p->type == IKE_PL_SA) {
			r = ike_parse_sa(p->body, p->len, &o->sa);
			o->has_sa = true;
		} else if (p->type == IKE_PL_TSI) {
			r = ike_parse_ts(p->body, p->len, &o->tsi);
			o->has_tsi = true;
		} else if (p->type == IKE_PL_TSR) {
			r = ike_parse_ts(p->body, p->len, &o->tsr);
			o->has_tsr = true;
		} else if (p->type == IKE_PL_NOTIFY) {
			r = ike_parse_notify(p->body, p->len, &n);
			if (r == IKE_P_OK && n.type == IKE_N_USE_TRANSPORT_MODE)
				o->transport = true;
		}
	}
	return r;
}

/* ---- Install --------------------------------------------------------------- */

struct child_new {
	struct ike_chosen ch;
	uint32_t spi_in, spi_out;
	bool transport;
	const struct ike_conf_child *conf;
	const struct ike_ts_set *ts_local, *ts_remote;
	bool with_sel;
};

static int keymat_confs(struct ike_ikesa *sa, const struct child_new *cn,
			struct ike_child_install *ci)
{
	size_t len = ike_child_keymat_len(&cn->ch);
	uint8_t *km = malloc(len ? len : 1);
	int rc = -EINVAL;

	if (!km)
		return -ENOMEM;
	if (len && ike_child_keymat(sa->chosen.prf, sa->keys.d, sa->keys.prf_len, NULL, 0, sa->ni,
				    sa->ni_len, sa->nr, sa->nr_len, km, len) == IKE_C_OK)
		rc = ike_child_confs(&cn->ch, km, len, sa->initiator, cn->spi_in, cn->spi_out,
				     &sa->local.ip, &sa->remote.ip, &ci->out, &ci->in);
	ike_wipe(km, len);
	free(km);
	return rc;
}

static void fill_common(struct ike_ikesa *sa, const struct child_new *cn, struct sn_sa_conf *c,
			uint32_t rnd)
{
	c->mode = cn->transport ? SN_MODE_TRANSPORT : SN_MODE_TUNNEL;
	c->replay_window = cn->conf->replay_window;
	ike_life_from(cn->conf, rnd, &c->life);
	snprintf(c->peer_id, sizeof(c->peer_id), "%s", sa->peer_id);
	if (sa->encap) {
		c->encap = true;
		c->encap_sport = sa->local.port;
		c->encap_dport = sa->remote.port;
	}
}

static int install(struct ike_ikesa *sa, const struct child_new *cn)
{
	struct ike_child_install *ci = calloc(1, sizeof(*ci));
	struct ike_child *c = calloc(1, sizeof(*c));
	uint32_t rnd = 0;
	int rc;

	if (!ci || !c) {
		free(ci);
		free(c);
		return -ENOMEM;
	}
	rc = keymat_confs(sa, cn, ci);
	if (rc == 0 && ike_random(&rnd, sizeof(rnd)) == 0) {
		fill_common(sa, cn, &ci->out, rnd);
		fill_common(sa, cn, &ci->in, rnd);
		if (cn->with_sel) {
			int n = ike_ts_to_selectors(cn->ts_local, cn->ts_remote, ci->sel,
						    sizeof(ci->sel) / sizeof(ci->sel[0]));
			ci->n_sel = n > 0 ? (uint8_t)n : 0;
		}
		rc = sa->ike->ops.child_add(sa->ike->ops.ctx, ci, &c->handle);
	}
	ike_wipe(ci, sizeof(*ci));
	free(ci);
	if (rc != 0) {
		free(c);
		return rc;
	}
	c->spi_in = cn->spi_in;
	c->spi_out = cn->spi_out;
	c->chosen = cn->ch;
	c->transport = cn->transport;
	c->life_s = cn->conf->life_time;
	c->rekey_s = cn->conf->rekey_time;
	c->established_ms = sa->ike->ops.now_ms(sa->ike->ops.ctx);
	c->next = sa->children;
	sa->children = c;
	sa->n_children++;
	sa->ike->n_children++;
	IKE_CTR(sa->ike, child_added);
	return 0;
}

void ike_child_del_all(struct ike_ikesa *sa)
{
	while (sa->children) {
		struct ike_child *c = sa->children;

		sa->children = c->next;
		sa->ike->ops.child_del(sa->ike->ops.ctx, c->handle);
		sa->ike->n_children--;
		IKE_CTR(sa->ike, child_deleted);
		free(c);
	}
	sa->n_children = 0;
}

/* ---- Initiator ------------------------------------------------------------- */

static const struct ike_conf_child *child_conf(const struct ike_ikesa *sa)
{
	const struct ike_conf_conn *cc = sa->conn;

	for (unsigned i = 0; sa->acq.child && i < cc->n_children; i++)
		if (strcmp(cc->children[i].name, sa->acq.child) == 0)
			return &cc->children[i];
	return cc->n_children ? &cc->children[0] : &default_child;
}

static int offer_ts(struct ike_ikesa *sa, struct ike_child_req *r)
{
	const struct ike_acquire *a = &sa->acq;
	const struct ike_conf_child *ch = r->conf;

	if (sa->has_acq && a->family && !a->conn)
		return ike_ts_from_flow(&sa->local.ip, a->proto, a->lport, &r->tsi) ||
		       ike_ts_from_flow(&sa->remote.ip, a->proto, a->rport, &r->tsr) ? -EINVAL : 0;
	return ike_ts_from_conf(ch->local_ts, ch->n_local_ts, &sa->local.ip, &r->tsi) ||
	       ike_ts_from_conf(ch->remote_ts, ch->n_remote_ts, &sa->remote.ip, &r->tsr)
	       ? -EINVAL : 0;
}

int ike_child_offer(struct ike_ikesa *sa, struct ike_buf *inner)
{
	struct ike_child_req *r = &sa->creq;
	uint8_t spi[4];
	struct ike_notify tm = { .type = IKE_N_USE_TRANSPORT_MODE };

	r->conf = child_conf(sa);
	if (!sa->has_acq || !sa->acq.n_props)
		r->props = r->conf->props;
	r->transport = (sa->has_acq && sa->acq.transport) || r->conf->mode == SN_MODE_TRANSPORT;
	r->spi_in = ike_spi32(sa->ike);
	spi_be(r->spi_in, spi);
	if (ike_prop_offer(&r->props, IKE_PROTO_ESP, spi, 4, false, &r->offer) || offer_ts(sa, r))
		return -EINVAL;
	if ((r->transport && ike_build_notify(inner, &tm)) || ike_build_sa(inner, &r->offer) ||
	    ike_build_ts(inner, IKE_PL_TSI, &r->tsi) || ike_build_ts(inner, IKE_PL_TSR, &r->tsr))
		return -EMSGSIZE;
	return 0;
}

static void acquire_ok(struct ike_ikesa *sa)
{
	if (!sa->has_acq)
		return;
	sa->has_acq = false;
	sa->ike->ops.acquire_done(sa->ike->ops.ctx, sa->acq.token, 0, NULL);
}

enum ike_fail ike_child_finish(struct ike_ikesa *sa, const struct ike_chain *in)
{
	struct child_pl *o = malloc(sizeof(*o));
	struct child_new cn = { .conf = sa->creq.conf, .spi_in = sa->creq.spi_in };
	enum ike_fail f = IKE_FAIL_NONE;

	if (!o)
		return IKE_FAIL_LOCAL;
	if (parse_child(in, o) != IKE_P_OK || !o->has_sa || !o->has_tsi || !o->has_tsr ||
	    ike_prop_check_reply(&o->sa, &sa->creq.offer, &cn.ch) || cn.ch.spi_size != 4) {
		IKE_CTR(sa->ike, no_proposal);
		f = IKE_FAIL_NO_PROPOSAL;
	} else if (!ike_ts_subset(&o->tsi, &sa->creq.tsi) || !ike_ts_subset(&o->tsr, &sa->creq.tsr)) {
		IKE_CTR(sa->ike, ts_unacceptable);
		f = IKE_FAIL_TS;
	} else {
		cn.spi_out = spi_of(cn.ch.spi);
		cn.transport = sa->creq.transport && o->transport;    /* 1.3.1: else tunnel */
		cn.ts_local = &o->tsi;
		cn.ts_remote = &o->tsr;
		cn.with_sel = !sa->has_acq || sa->acq.conn != NULL;
		if (install(sa, &cn) != 0)
			f = IKE_FAIL_LOCAL;
	}
	free(o);
	if (f == IKE_FAIL_NONE)
		acquire_ok(sa);
	return f;
}

/* ---- Responder ------------------------------------------------------------- */

/* The first configured child whose selectors narrow the proposal (2.9). */
static const struct ike_conf_child *match_child(struct ike_ikesa *sa, const struct child_pl *o,
						struct ike_ts_set *tsi, struct ike_ts_set *tsr)
{
	const struct ike_conf_conn *cc = sa->conn;
	struct ike_ts_set ours_l, ours_r;

	for (unsigned i = 0; i < cc->n_children; i++) {
		const struct ike_conf_child *ch = &cc->children[i];

		if (ike_ts_from_conf(ch->local_ts, ch->n_local_ts, &sa->local.ip, &ours_l) ||
		    ike_ts_from_conf(ch->remote_ts, ch->n_remote_ts, &sa->remote.ip, &ours_r))
			continue;
		if (ike_ts_narrow(&o->tsi, &ours_r, tsi) == 0 && ike_ts_narrow(&o->tsr, &ours_l, tsr) == 0)
			return ch;
	}
	return NULL;
}

static uint16_t ts_port(const struct ike_ts *t)
{
	return t->start_port == t->end_port ? t->start_port : 0;
}

/* No configured child: a secured listener may still want the flow. */
static const struct ike_conf_child *listener_child(struct ike_ikesa *sa, const struct child_pl *o,
						   struct ike_ts_set *tsi, struct ike_ts_set *tsr)
{
	const struct ike_ops *ops = &sa->ike->ops;
	const struct ike_ts *i0 = &o->tsi.ts[0], *r0 = &o->tsr.ts[0];

	if (!ops->flow_secured || o->tsi.n == 0 || o->tsr.n == 0 ||
	    !ike_ts_contains(&o->tsr, &sa->local.ip, r0->proto, ts_port(r0)) ||
	    !ike_ts_contains(&o->tsi, &sa->remote.ip, i0->proto, ts_port(i0)) ||
	    !ops->flow_secured(ops->ctx, &sa->local.ip, &sa->remote.ip, r0->proto, ts_port(r0),
			       ts_port(i0)))
		return NULL;
	/* Narrowed to the two hosts (2.9): this child protects only them. */
	if (ike_ts_from_flow(&sa->remote.ip, i0->proto, ts_port(i0), tsi) ||
	    ike_ts_from_flow(&sa->local.ip, r0->proto, ts_port(r0), tsr))
		return NULL;
	return &default_child;
}

static int build_answer(struct ike_buf *inner, const struct child_new *cn,
			const struct ike_ts_set *tsi, const struct ike_ts_set *tsr)
{
	struct ike_sa reply;
	uint8_t spi[4];
	struct ike_notify tm = { .type = IKE_N_USE_TRANSPORT_MODE };

	spi_be(cn->spi_in, spi);
	if (ike_prop_reply(&cn->ch, spi, 4, &reply))
		return -EINVAL;
	if ((cn->transport && ike_build_notify(inner, &tm)) || ike_build_sa(inner, &reply) ||
	    ike_build_ts(inner, IKE_PL_TSI, tsi) || ike_build_ts(inner, IKE_PL_TSR, tsr))
		return -EMSGSIZE;
	return 0;
}

static uint16_t answer_child(struct ike_ikesa *sa, const struct child_pl *o, struct ike_buf *inner)
{
	struct ike_ts_set tsi, tsr;
	struct child_new cn = { 0 };

	cn.conf = match_child(sa, o, &tsi, &tsr);
	if (!cn.conf)
		cn.conf = listener_child(sa, o, &tsi, &tsr);
	else
		cn.with_sel = true;
	if (!cn.conf) {
		IKE_CTR(sa->ike, ts_unacceptable);
		return IKE_N_TS_UNACCEPTABLE;
	}
	if (ike_prop_select(&o->sa, &cn.conf->props, IKE_PROTO_ESP, false, &cn.ch) ||
	    cn.ch.spi_size != 4) {
		IKE_CTR(sa->ike, no_proposal);
		return IKE_N_NO_PROPOSAL_CHOSEN;
	}
	cn.spi_in = ike_spi32(sa->ike);
	cn.spi_out = spi_of(cn.ch.spi);
	cn.transport = o->transport && (cn.conf->mode == SN_MODE_TRANSPORT || !cn.with_sel);
	cn.ts_local = &tsr;
	cn.ts_remote = &tsi;
	if (build_answer(inner, &cn, &tsi, &tsr) != 0 || install(sa, &cn) != 0)
		return IKE_N_NO_ADDITIONAL_SAS;
	return 0;
}

uint16_t ike_child_answer(struct ike_ikesa *sa, const struct ike_chain *in, struct ike_buf *inner)
{
	struct child_pl *o = malloc(sizeof(*o));
	uint16_t err;

	if (!o)
		return IKE_N_NO_ADDITIONAL_SAS;
	if (parse_child(in, o) != IKE_P_OK || !o->has_sa || !o->has_tsi || !o->has_tsr)
		err = IKE_N_INVALID_SYNTAX;
	else
		err = answer_child(sa, o, inner);
	free(o);
	return err;
}
