// SPDX-License-Identifier: BSD-3-Clause
/*
 * IKE_SA_INIT (RFC 7296 1.2), both roles: SA, KE, Nonce; the
 * responder's choice and INVALID_KE_PAYLOAD (1.2: the initiator retries
 * with the group asked for); SKEYSEED and the key split (2.14). Both
 * messages are kept as sent or received: they are signed in IKE_AUTH
 * (2.15).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ike_sa.h"

struct init_pl {
	struct ike_sa sa;
	struct ike_ke ke;
	struct ike_nonce nonce;
	bool has_sa, has_ke, has_nonce;
	uint16_t error;                 /* an error notify, 0 none */
	uint16_t ke_group;              /* INVALID_KE_PAYLOAD's group */
};

static enum ike_parse_res notify_of(const struct ike_payload *p, struct init_pl *o)
{
	struct ike_notify n;
	enum ike_parse_res r = ike_parse_notify(p->body, p->len, &n);

	if (r != IKE_P_OK)
		return r;
	if (n.type <= IKE_N_ERROR_MAX && !o->error) {
		o->error = n.type;
		if (n.type == IKE_N_INVALID_KE_PAYLOAD)
			o->ke_group = ike_notify_ke_group(&n);
	}
	return IKE_P_OK;
}

static enum ike_parse_res parse_init(const struct ike_chain *c, struct init_pl *o)
{
	enum ike_parse_res r = IKE_P_OK;

	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < c->n && r == IKE_P_OK; i++) {
		const struct ike_payload *p = &c->pl[i];

		switch (p->type) {
		case IKE_PL_SA:
			r = ike_parse_sa(p->body, p->len, &o->sa);
			o->has_sa = true;
			break;
		case IKE_PL_KE:
			r = ike_parse_ke(p->body, p->len, &o->ke);
			o->has_ke = true;
			break;
		case IKE_PL_NONCE:
			r = ike_parse_nonce(p->body, p->len, &o->nonce);
			o->has_nonce = true;
			break;
		case IKE_PL_NOTIFY:
			r = notify_of(p, o);
			break;
		default:
			break;
		}
	}
	return r;
}

/* 2.14: SKEYSEED from the shared secret, then the seven keys, then the
 * SK payload keys of each direction. */
static int derive(struct ike_ikesa *sa, const struct ike_ke *peer_ke)
{
	uint8_t gir[IKE_DH_SECRET_MAX], seed[IKE_PRF_MAX], spii[8], spir[8];
	size_t gir_len = 0;
	const struct ike_chosen *c = &sa->chosen;
	size_t elen = ike_encr_keymat_len(c->encr, c->encr_keylen);
	size_t ilen = c->integ ? ike_integ_key_len(c->integ) : 0;
	int rc = -EINVAL;

	for (int i = 0; i < 8; i++) {
		spii[i] = (uint8_t)(sa->spi_i >> (56 - 8 * i));
		spir[i] = (uint8_t)(sa->spi_r >> (56 - 8 * i));
	}
	if (ike_dh_shared(&sa->dh, peer_ke->data, peer_ke->len, gir, sizeof(gir), &gir_len) ||
	    ike_skeyseed(c->prf, sa->ni, sa->ni_len, sa->nr, sa->nr_len, gir, gir_len, seed) ||
	    ike_derive_sa_keys(c->prf, seed, sa->ni, sa->ni_len, sa->nr, sa->nr_len, spii, spir,
			       elen, ilen, &sa->keys))
		goto out;
	struct ike_sa_keys *k = &sa->keys;
	const uint8_t *e_in = sa->initiator ? k->er : k->ei, *e_out = sa->initiator ? k->ei : k->er;
	const uint8_t *a_in = sa->initiator ? k->ar : k->ai, *a_out = sa->initiator ? k->ai : k->ar;

	if (ike_sk_key_init(&sa->sk_in, c->encr, c->encr_keylen, c->integ, e_in, elen, a_in, ilen) ||
	    ike_sk_key_init(&sa->sk_out, c->encr, c->encr_keylen, c->integ, e_out, elen, a_out, ilen))
		goto out;
	sa->keyed = true;
	rc = 0;
out:
	ike_wipe(gir, sizeof(gir));
	ike_wipe(seed, sizeof(seed));
	ike_dh_free(&sa->dh);
	return rc;
}

static bool add_ke_nonce(struct ike_buf *b, const struct ike_ikesa *sa, const uint8_t *nonce,
			 size_t nlen)
{
	uint8_t pub[IKE_DH_PUB_MAX];
	size_t plen;
	struct ike_ke ke = { .group = sa->dh_group, .data = pub };
	struct ike_nonce n = { .len = (uint16_t)nlen, .data = nonce };

	if (ike_dh_public(&sa->dh, pub, sizeof(pub), &plen) != IKE_C_OK)
		return false;
	ke.len = (uint16_t)plen;
	return ike_build_ke(b, &ke) == IKE_B_OK && ike_build_nonce(b, &n) == IKE_B_OK;
}

/* ---- Initiator ------------------------------------------------------------- */

int ike_init_start(struct ike_ikesa *sa)
{
	uint8_t mem[2048];
	struct ike_buf b;
	struct ike_sa offer;
	struct ike_header h;

	if (!sa->dh_group)
		sa->dh_group = ike_prop_first_dh(&sa->conn->props);
	if (ike_dh_generate(&sa->dh, sa->dh_group) != IKE_C_OK)
		return -ENOTSUP;
	sa->ni_len = IKE_NONCE_LEN;
	if (ike_random(sa->ni, sa->ni_len) ||
	    ike_prop_offer(&sa->conn->props, IKE_PROTO_IKE, NULL, 0, true, &offer))
		return -EINVAL;
	h = ike_hdr_for(sa, IKE_EXCH_SA_INIT, false, 0);
	ike_build_init(&b, mem, sizeof(mem));
	if (ike_build_header(&b, &h) || ike_build_sa(&b, &offer) ||
	    !add_ke_nonce(&b, sa, sa->ni, sa->ni_len) || ike_build_finish(&b))
		return -EMSGSIZE;
	sa->state = IKE_ST_INIT_SENT;
	sa->req_id = 0;
	sa->next_req_id = 1;
	ike_msgcopy_set(&sa->init_i, b.p, b.len);
	IKE_CTR(sa->ike, init_sent);
	ike_send_request(sa, b.p, b.len, IKE_EXCH_SA_INIT);
	return 0;
}

/* 1.2: the responder asked for another group: start again with it. */
static void retry_group(struct ike_ikesa *sa, uint16_t group)
{
	IKE_CTR(sa->ike, invalid_ke_received);
	ike_dh_free(&sa->dh);
	if (group == sa->dh_group || !ike_dh_public_len(group)) {
		ike_sa_fail(sa, IKE_FAIL_NO_PROPOSAL, IKE_N_INVALID_KE_PAYLOAD,
			    "the responder asked for a group we cannot use");
		return;
	}
	sa->dh_group = group;
	if (ike_init_start(sa) != 0)
		ike_sa_fail(sa, IKE_FAIL_LOCAL, 0, "IKE_SA_INIT could not be rebuilt");
}

static void init_error(struct ike_ikesa *sa, const struct init_pl *o)
{
	if (o->error == IKE_N_INVALID_KE_PAYLOAD) {
		retry_group(sa, o->ke_group);
		return;
	}
	if (o->error == IKE_N_NO_PROPOSAL_CHOSEN) {
		IKE_CTR(sa->ike, no_proposal);
		ike_sa_fail(sa, IKE_FAIL_NO_PROPOSAL, o->error, "the peer chose no IKE proposal");
	} else {
		ike_sa_fail(sa, IKE_FAIL_NOTIFY, o->error, "the peer refused IKE_SA_INIT");
	}
}

static bool accept_response(struct ike_ikesa *sa, const struct init_pl *o)
{
	struct ike_sa offer;

	if (!o->has_sa || !o->has_ke || !o->has_nonce || o->ke.group != sa->dh_group ||
	    ike_prop_offer(&sa->conn->props, IKE_PROTO_IKE, NULL, 0, true, &offer) ||
	    ike_prop_check_reply(&o->sa, &offer, &sa->chosen) || sa->chosen.dh != sa->dh_group)
		return false;
	memcpy(sa->nr, o->nonce.data, o->nonce.len);
	sa->nr_len = o->nonce.len;
	return derive(sa, &o->ke) == 0;
}

void ike_init_response(struct ike_ikesa *sa, const struct ike_msg *m, const uint8_t *raw,
		       size_t len)
{
	struct init_pl *o = malloc(sizeof(*o));

	if (!o)
		return;
	if (parse_init(&m->chain, o) != IKE_P_OK) {
		IKE_CTR(sa->ike, drop_malformed);
	} else if (o->error) {
		ike_msgcopy_free(&sa->req);
		init_error(sa, o);
	} else {
		ike_msgcopy_free(&sa->req);
		sa->spi_r = m->hdr.rspi;
		if (!accept_response(sa, o)) {
			IKE_CTR(sa->ike, drop_malformed);
			ike_sa_fail(sa, IKE_FAIL_NOTIFY, 0, "the IKE_SA_INIT answer was unusable");
		} else {
			ike_msgcopy_set(&sa->init_r, raw, len);
			if (ike_auth_start(sa) != 0)
				ike_sa_fail(sa, IKE_FAIL_LOCAL, 0, "IKE_AUTH could not be built");
		}
	}
	free(o);
	if (sa->state == IKE_ST_DEAD)
		ike_sa_free(sa);
}

/* ---- Responder ------------------------------------------------------------- */

/* An answer without state: a bare notify (NO_PROPOSAL_CHOSEN,
 * INVALID_KE_PAYLOAD), SPIr 0 as 2.6 allows. */
static void send_notify(struct ike *ike, const struct ike_addr *local,
			const struct ike_addr *remote, const struct ike_header *req,
			uint16_t type, const uint8_t *data, uint16_t dlen)
{
	uint8_t mem[256];
	struct ike_buf b;
	struct ike_header h = { .ispi = req->ispi, .major = 2, .exchange = IKE_EXCH_SA_INIT,
				.flags = IKE_FLAG_RESPONSE };
	struct ike_notify n = { .type = type, .len = dlen, .data = data };

	ike_build_init(&b, mem, sizeof(mem));
	if (ike_build_header(&b, &h) || ike_build_notify(&b, &n) || ike_build_finish(&b))
		return;
	(void)ike->ops.send(ike->ops.ctx, local, remote, b.p, b.len);
}

static uint32_t setting(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

static bool over_limits(struct ike *ike, const struct sn_ip *src)
{
	const struct ike_conf_settings *s = &ike->conf->settings;

	return ike->n_halfopen >= setting(s->half_open_max, 10000) ||
	       ike_halfopen_of(&ike->halfopen, src) >= setting(s->block_threshold, 5);
}

static int answer(struct ike_ikesa *sa, const struct init_pl *o)
{
	uint8_t mem[2048];
	struct ike_buf b;
	struct ike_sa reply;
	struct ike_header h;

	if (ike_dh_generate(&sa->dh, sa->dh_group) != IKE_C_OK)
		return -ENOTSUP;
	sa->nr_len = IKE_NONCE_LEN;
	if (ike_random(sa->nr, sa->nr_len) || ike_prop_reply(&sa->chosen, NULL, 0, &reply))
		return -EINVAL;
	h = ike_hdr_for(sa, IKE_EXCH_SA_INIT, true, 0);
	ike_build_init(&b, mem, sizeof(mem));
	if (ike_build_header(&b, &h) || ike_build_sa(&b, &reply) ||
	    !add_ke_nonce(&b, sa, sa->nr, sa->nr_len) || ike_build_finish(&b))
		return -EMSGSIZE;
	if (derive(sa, &o->ke) != 0)
		return -EINVAL;
	ike_msgcopy_set(&sa->init_r, b.p, b.len);
	ike_send_response(sa, b.p, b.len);
	return 0;
}

static void respond(struct ike *ike, const struct ike_addr *local, const struct ike_addr *remote,
		    const struct ike_msg *m, const struct init_pl *o, const uint8_t *raw,
		    size_t len, bool encap)
{
	const struct ike_conf_conn *conn = ike_find_conn(ike, &local->ip, &remote->ip);
	struct ike_chosen ch;

	if (!conn || ike_prop_select_ke(&o->sa, &conn->props, IKE_PROTO_IKE, o->ke.group, &ch)) {
		IKE_CTR(ike, no_proposal);
		send_notify(ike, local, remote, &m->hdr, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return;
	}
	if (ch.dh != o->ke.group) {
		uint8_t g[2] = { (uint8_t)(ch.dh >> 8), (uint8_t)ch.dh };

		IKE_CTR(ike, invalid_ke_sent);
		send_notify(ike, local, remote, &m->hdr, IKE_N_INVALID_KE_PAYLOAD, g, 2);
		return;
	}
	struct ike_ikesa *sa = ike_sa_alloc(ike, false);

	if (!sa)
		return;
	sa->spi_i = m->hdr.ispi;
	sa->local = *local;
	sa->remote = *remote;
	sa->encap = encap;
	sa->conn = conn;
	sa->chosen = ch;
	sa->dh_group = ch.dh;
	sa->expect_id = 1;
	sa->next_req_id = 0;
	memcpy(sa->ni, o->nonce.data, o->nonce.len);
	sa->ni_len = o->nonce.len;
	ike_msgcopy_set(&sa->init_i, raw, len);
	sa->state = IKE_ST_INIT_DONE;
	sa->halfopen = true;
	ike->n_halfopen++;
	ike_halfopen_add(&ike->halfopen, &remote->ip);
	if (answer(sa, o) != 0)
		ike_sa_free(sa);
}

void ike_init_request(struct ike *ike, const struct ike_addr *local, const struct ike_addr *remote,
		      const struct ike_msg *m, const uint8_t *raw, size_t len, bool encap)
{
	struct init_pl *o;
	struct ike_ikesa *dup;

	if (m->hdr.msgid != 0 || (m->hdr.flags & IKE_FLAG_INITIATOR) == 0) {
		IKE_CTR(ike, drop_msgid);
		return;
	}
	dup = ike_sa_find_halfopen(ike, m->hdr.ispi, &remote->ip);
	if (dup) {
		/* 2.1: a retransmitted IKE_SA_INIT gets the same answer. */
		if (dup->has_resp && dup->state == IKE_ST_INIT_DONE) {
			IKE_CTR(ike, retransmit_answered);
			ike_send_raw(dup, dup->resp.p, dup->resp.len);
		} else {
			IKE_CTR(ike, drop_msgid);
		}
		return;
	}
	IKE_CTR(ike, init_received);
	if (over_limits(ike, &remote->ip)) {
		IKE_CTR(ike, halfopen_refused);
		return;
	}
	o = malloc(sizeof(*o));
	if (!o)
		return;
	if (parse_init(&m->chain, o) != IKE_P_OK || !o->has_sa || !o->has_ke || !o->has_nonce)
		IKE_CTR(ike, drop_malformed);
	else
		respond(ike, local, remote, m, o, raw, len, encap);
	free(o);
}
