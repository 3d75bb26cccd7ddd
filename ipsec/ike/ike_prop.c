/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Proposals (RFC 7296 2.7, 3.3): our offer as an SA payload, the
 * responder's choice among the peer's, the responder's one-proposal
 * answer and the initiator's check of that answer. Pure functions over
 * struct ike_sa (ike_parse.h) and the configuration's proposals
 * (ike_conf.h).
 *
 * Choice rules, in one place:
 *  - the peer's proposals in its order (2.7), each against ours in our
 *    order; within a proposal, the peer's transform order too;
 *  - a proposal with a Transform Type we do not know, or one its
 *    protocol may not carry, or without a mandatory type (3.3.3: IKE
 *    ENCR PRF DH, ESP ENCR ESN, AH INTEG ESN), is unacceptable (3.3.6);
 *  - a transform with an attribute we do not know is unacceptable, the
 *    others of its type still count (3.3.6); a Key Length must equal
 *    ours exactly (3.3.5);
 *  - an AEAD takes no integrity transform, or INTEG NONE (RFC 5282 8);
 *    any other cipher needs one;
 *  - proposals that share a number with another protocol (an AND of
 *    ESP and AH, 3.3.1) are skipped: sealnet negotiates one protocol;
 *  - we only choose what we can run: the IKE SA's transforms those
 *    ike_crypto.c and ike_sk.c have, a child's those the datapath has
 *    (ike_child_algs).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ike_crypto.h"
#include "ike_neg.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define N_XF_TYPES      (IKE_XF_ESN + 1)

/* ---- Defaults (issue 9; ike_conf.h says the same) -------------------------- */

static const struct ike_conf_props default_ike = {
	.n = 2,
	.p = {
		{ .n_encr = 1, .encr = { { IKE_ENCR_AES_GCM_16, 128 } },
		  .n_prf = 1, .prf = { IKE_PRF_HMAC_SHA2_256 },
		  .n_dh = 1, .dh = { IKE_DH_CURVE25519 } },
		{ .n_encr = 1, .encr = { { IKE_ENCR_AES_CBC, 128 } },
		  .n_integ = 1, .integ = { IKE_INTEG_HMAC_SHA2_256_128 },
		  .n_prf = 1, .prf = { IKE_PRF_HMAC_SHA2_256 },
		  .n_dh = 1, .dh = { IKE_DH_ECP_256 } },
	},
};

static const struct ike_conf_props default_esp = {
	.n = 2,
	.p = {
		{ .n_encr = 1, .encr = { { IKE_ENCR_AES_GCM_16, 128 } },
		  .n_esn = 1, .esn = { IKE_ESN_NO } },
		{ .n_encr = 1, .encr = { { IKE_ENCR_AES_CBC, 128 } },
		  .n_integ = 1, .integ = { IKE_INTEG_HMAC_SHA2_256_128 },
		  .n_esn = 1, .esn = { IKE_ESN_NO } },
	},
};

/* AH has no default in ike_conf.h; this is ESP's second without a cipher. */
static const struct ike_conf_props default_ah = {
	.n = 1,
	.p = { { .n_integ = 1, .integ = { IKE_INTEG_HMAC_SHA2_256_128 },
		 .n_esn = 1, .esn = { IKE_ESN_NO } } },
};

static const struct ike_conf_props *props_or_default(const struct ike_conf_props *ours,
						     uint8_t proto)
{
	if (ours && ours->n)
		return ours;
	return proto == IKE_PROTO_IKE ? &default_ike :
	       proto == IKE_PROTO_AH ? &default_ah : &default_esp;
}

/* ---- Transform classes ------------------------------------------------------ */

/* Combined-mode ciphers: integrity included (RFC 5282 8, RFC 4543, RFC 7634). */
static bool encr_is_aead(uint16_t id)
{
	return id == IKE_ENCR_AES_GCM_8 || id == IKE_ENCR_AES_GCM_12 ||
	       id == IKE_ENCR_AES_GCM_16 || id == IKE_ENCR_CHACHA20_POLY1305 ||
	       id == IKE_ENCR_NULL_AUTH_AES_GMAC;
}

/* 3.3.3: the types each protocol's proposal may carry. */
static bool type_allowed(uint8_t proto, uint8_t type)
{
	switch (proto) {
	case IKE_PROTO_IKE: return type >= IKE_XF_ENCR && type <= IKE_XF_DH;
	case IKE_PROTO_ESP: return type == IKE_XF_ENCR || type == IKE_XF_INTEG ||
				   type == IKE_XF_DH || type == IKE_XF_ESN;
	case IKE_PROTO_AH: return type == IKE_XF_INTEG || type == IKE_XF_DH ||
				  type == IKE_XF_ESN;
	default: return false;
	}
}

/* 3.3.3: the types each protocol's proposal must carry (INTEG is the
 * cipher's question, answered when one is chosen). */
static bool has_mandatory(uint8_t proto, const bool seen[N_XF_TYPES])
{
	switch (proto) {
	case IKE_PROTO_IKE: return seen[IKE_XF_ENCR] && seen[IKE_XF_PRF] && seen[IKE_XF_DH];
	case IKE_PROTO_ESP: return seen[IKE_XF_ENCR] && seen[IKE_XF_ESN];
	case IKE_PROTO_AH: return seen[IKE_XF_INTEG] && seen[IKE_XF_ESN];
	default: return false;
	}
}

static bool proposal_shape_ok(const struct ike_proposal *p)
{
	bool seen[N_XF_TYPES] = { false };

	for (unsigned i = 0; i < p->ntransforms && i < IKE_MAX_TRANSFORMS; i++) {
		if (!type_allowed(p->proto, p->xf[i].type))
			return false;
		seen[p->xf[i].type] = true;
	}
	return has_mandatory(p->proto, seen);
}

/* ---- Our side: the configuration's lists ----------------------------------- */

static bool conf_prop_ok(const struct ike_conf_prop *q)
{
	return q->n_encr <= IKE_CONF_MAX_XF && q->n_prf <= IKE_CONF_MAX_XF &&
	       q->n_integ <= IKE_CONF_MAX_XF && q->n_dh <= IKE_CONF_MAX_XF &&
	       q->n_esn <= NELEM(q->esn);
}

static bool list_has(const uint16_t *l, unsigned n, uint16_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i] == id)
			return true;
	return false;
}

/* Is (type, id, keylen) one of ours? ESN: n_esn 0 means "no" only. */
static bool ours_has(const struct ike_conf_prop *q, uint8_t type, uint16_t id, uint16_t keylen)
{
	if (type == IKE_XF_ENCR) {
		for (unsigned i = 0; i < q->n_encr; i++)
			if (q->encr[i].id == id && q->encr[i].keylen == keylen)
				return true;
		return false;
	}
	if (keylen != 0)
		return false;           /* 3.3.5: Key Length is for ciphers only */
	switch (type) {
	case IKE_XF_PRF: return list_has(q->prf, q->n_prf, id);
	case IKE_XF_INTEG: return list_has(q->integ, q->n_integ, id);
	case IKE_XF_DH: return list_has(q->dh, q->n_dh, id);
	case IKE_XF_ESN: return q->n_esn ? list_has(q->esn, q->n_esn, id) : id == IKE_ESN_NO;
	default: return false;
	}
}

/* ---- What we can run --------------------------------------------------------- */

static bool ike_runs(uint16_t encr, uint16_t keylen, uint16_t integ)
{
	size_t ik = ike_integ_key_len(integ);

	return ike_encr_keymat_len(encr, keylen) != 0 && ik != SIZE_MAX &&
	       (integ == IKE_INTEG_NONE) == encr_is_aead(encr);
}

static bool runs(uint8_t proto, uint16_t encr, uint16_t keylen, uint16_t integ)
{
	struct ike_chosen c = { .proto = proto, .encr = encr, .encr_keylen = keylen,
				.integ = integ };
	enum sn_enc_alg e;
	enum sn_auth_alg a;
	uint8_t ekl, akl, icv;

	if (proto == IKE_PROTO_IKE)
		return ike_runs(encr, keylen, integ);
	return ike_child_algs(&c, &e, &ekl, &a, &akl, &icv) == 0;
}

/* ---- Matching one peer proposal against one of ours ---------------------- */

static bool usable(const struct ike_transform *x, uint8_t type)
{
	return x->type == type && !x->unknown_attr;     /* 3.3.6 */
}

/* Does the peer's proposal carry no transform of this type, or NONE (0)? */
static bool peer_allows_none(const struct ike_proposal *p, uint8_t type)
{
	bool any = false;

	for (unsigned i = 0; i < p->ntransforms; i++) {
		if (p->xf[i].type != type)
			continue;
		any = true;
		if (usable(&p->xf[i], type) && p->xf[i].id == 0 && p->xf[i].keylen == 0)
			return true;
	}
	return !any;
}

static bool prf_runs(uint16_t id)
{
	return ike_prf_len(id) != 0;
}

/* The first of the peer's transforms of this type that is ours (and that
 * `runs`, if given); id 0 (NONE) only with zero_ok (ESN "no" is 0). */
static bool pick_of(const struct ike_proposal *p, const struct ike_conf_prop *q, uint8_t type,
		    bool zero_ok, bool (*runs_id)(uint16_t), uint16_t *id)
{
	for (unsigned i = 0; i < p->ntransforms; i++) {
		const struct ike_transform *x = &p->xf[i];

		if (usable(x, type) && (zero_ok || x->id != 0) &&
		    ours_has(q, type, x->id, x->keylen) && (!runs_id || runs_id(x->id))) {
			*id = x->id;
			return true;
		}
	}
	return false;
}

static bool pick_integ_for(const struct ike_proposal *p, const struct ike_conf_prop *q,
			   const struct ike_transform *e, struct ike_chosen *c)
{
	if (encr_is_aead(e->id)) {
		c->integ = IKE_INTEG_NONE;
		return peer_allows_none(p, IKE_XF_INTEG) &&
		       runs(p->proto, e->id, e->keylen, IKE_INTEG_NONE);
	}
	for (unsigned j = 0; j < p->ntransforms; j++) {
		const struct ike_transform *x = &p->xf[j];

		if (usable(x, IKE_XF_INTEG) && x->id != IKE_INTEG_NONE &&
		    ours_has(q, IKE_XF_INTEG, x->id, x->keylen) &&
		    runs(p->proto, e->id, e->keylen, x->id)) {
			c->integ = x->id;
			return true;
		}
	}
	return false;
}

/* ENCR and INTEG together: an AEAD decides that there is no INTEG. */
static bool pick_encr_integ(const struct ike_proposal *p, const struct ike_conf_prop *q,
			    struct ike_chosen *c)
{
	if (p->proto == IKE_PROTO_AH) {
		struct ike_transform none = { .type = IKE_XF_ENCR };

		c->encr = 0;
		c->encr_keylen = 0;
		return q->n_encr == 0 && pick_integ_for(p, q, &none, c);
	}
	for (unsigned i = 0; i < p->ntransforms; i++) {
		const struct ike_transform *e = &p->xf[i];

		if (!usable(e, IKE_XF_ENCR) || !ours_has(q, IKE_XF_ENCR, e->id, e->keylen))
			continue;
		if (pick_integ_for(p, q, e, c)) {
			c->encr = e->id;
			c->encr_keylen = e->keylen;
			return true;
		}
	}
	return false;
}

/* Groups both sides accept that ike_crypto.c computes. */
static bool dh_ok(const struct ike_transform *x, const struct ike_conf_prop *q)
{
	return usable(x, IKE_XF_DH) && x->id != IKE_DH_NONE && x->keylen == 0 &&
	       ours_has(q, IKE_XF_DH, x->id, 0) && ike_dh_public_len(x->id) != 0;
}

/* The KE's group g if it is one of those, else the peer's first of them. */
static bool pick_group(const struct ike_proposal *p, const struct ike_conf_prop *q, uint16_t g,
		       uint16_t *dh)
{
	for (unsigned i = 0; g != IKE_DH_NONE && i < p->ntransforms; i++)
		if (p->xf[i].id == g && dh_ok(&p->xf[i], q)) {
			*dh = g;
			return true;
		}
	for (unsigned i = 0; i < p->ntransforms; i++)
		if (dh_ok(&p->xf[i], q)) {
			*dh = p->xf[i].id;
			return true;
		}
	return false;
}

/* DH (1.3, 3.3.2). Without KE (need_dh false) no group is chosen; the
 * proposal is still fine when the peer's groups are absent, include NONE,
 * or include one of ours (an IKE_AUTH child whose PFS group is for its
 * rekeys). With KE: the KE's group if both accept it, else the peer's
 * first group we accept; for a child, NONE if both allow it (the KE is
 * then ignored). An IKE SA always has a group. */
static bool pick_dh(const struct ike_proposal *p, const struct ike_conf_prop *q,
		    bool need_dh, uint16_t ke_group, uint16_t *dh)
{
	bool ike = p->proto == IKE_PROTO_IKE;
	uint16_t g;

	*dh = IKE_DH_NONE;
	if (!need_dh && !ike)
		return peer_allows_none(p, IKE_XF_DH) || pick_group(p, q, IKE_DH_NONE, &g);
	if (pick_group(p, q, ke_group, dh))
		return true;
	return !ike && peer_allows_none(p, IKE_XF_DH) &&
	       (q->n_dh == 0 || list_has(q->dh, q->n_dh, IKE_DH_NONE));
}

static bool match(const struct ike_proposal *p, const struct ike_conf_prop *q, bool need_dh,
		  uint16_t ke_group, struct ike_chosen *c)
{
	if (!conf_prop_ok(q) || !pick_encr_integ(p, q, c))
		return false;
	if (p->proto == IKE_PROTO_IKE) {
		c->esn = 0;
		if (!pick_of(p, q, IKE_XF_PRF, false, prf_runs, &c->prf))
			return false;
	} else {
		c->prf = 0;
		if (!pick_of(p, q, IKE_XF_ESN, true, NULL, &c->esn))
			return false;
	}
	return pick_dh(p, q, need_dh, ke_group, &c->dh);
}

/* 3.3.1: proposals with one number and several protocols are an AND. */
static bool num_shared(const struct ike_sa *sa, unsigned i)
{
	for (unsigned j = 0; j < sa->nprops && j < IKE_MAX_PROPOSALS; j++)
		if (j != i && sa->prop[j].num == sa->prop[i].num)
			return true;
	return false;
}

static bool peer_prop_ok(const struct ike_sa *offer, unsigned i, uint8_t proto)
{
	const struct ike_proposal *p = &offer->prop[i];

	return p->proto == proto && p->ntransforms <= IKE_MAX_TRANSFORMS &&
	       p->spi_size <= IKE_MAX_IKE_SPI_SIZE && !num_shared(offer, i) &&
	       proposal_shape_ok(p);
}

static int select_among(const struct ike_sa *offer, const struct ike_conf_props *ours,
			uint8_t proto, bool need_dh, uint16_t ke_group, struct ike_chosen *out)
{
	const struct ike_conf_props *q = props_or_default(ours, proto);

	if (!type_allowed(proto, IKE_XF_INTEG) || q->n > IKE_CONF_MAX_PROPS)
		return -EINVAL;
	for (unsigned i = 0; i < offer->nprops && i < IKE_MAX_PROPOSALS; i++) {
		const struct ike_proposal *p = &offer->prop[i];

		if (!peer_prop_ok(offer, i, proto))
			continue;
		for (unsigned k = 0; k < q->n; k++) {
			struct ike_chosen c = { .proto = proto, .num = p->num,
						.spi_size = p->spi_size };

			if (!match(p, &q->p[k], need_dh, ke_group, &c))
				continue;
			memcpy(c.spi, p->spi, p->spi_size);
			*out = c;
			return 0;
		}
	}
	return -ENOENT;
}

int ike_prop_select(const struct ike_sa *offer, const struct ike_conf_props *ours,
		    uint8_t proto, bool need_dh, struct ike_chosen *out)
{
	return select_among(offer, ours, proto, need_dh, IKE_DH_NONE, out);
}

int ike_prop_select_ke(const struct ike_sa *offer, const struct ike_conf_props *ours,
		       uint8_t proto, uint16_t ke_group, struct ike_chosen *out)
{
	return select_among(offer, ours, proto, ke_group != IKE_DH_NONE, ke_group, out);
}

/* ---- Writing proposals ------------------------------------------------------ */

static bool spi_size_ok(uint8_t proto, const uint8_t *spi, uint8_t spi_size)
{
	bool size = proto == IKE_PROTO_IKE ? spi_size == 0 || spi_size == IKE_SPI_LEN :
		    (proto == IKE_PROTO_ESP || proto == IKE_PROTO_AH) &&
		    spi_size == IKE_CHILD_SPI_LEN;

	return size && (spi_size == 0 || spi != NULL);
}

static int add_xf(struct ike_proposal *p, uint8_t type, uint16_t id, uint16_t keylen)
{
	if (p->ntransforms >= IKE_MAX_TRANSFORMS)
		return -EINVAL;
	p->xf[p->ntransforms++] = (struct ike_transform){ .type = type, .id = id,
							  .keylen = keylen };
	return 0;
}

static int add_list(struct ike_proposal *p, uint8_t type, const uint16_t *l, unsigned n)
{
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i < n; i++)
		rc = add_xf(p, type, l[i], 0);
	return rc;
}

static void prop_begin(struct ike_proposal *p, uint8_t num, uint8_t proto,
		       const uint8_t *spi, uint8_t spi_size)
{
	memset(p, 0, sizeof(*p));
	p->num = num;
	p->proto = proto;
	p->spi_size = spi_size;
	if (spi_size)
		memcpy(p->spi, spi, spi_size);
}

/* One wire proposal from ours: the ciphers of one class (AEAD or not,
 * RFC 5282 8: never mixed in one proposal), INTEG only for the others. */
static int prop_write(struct ike_proposal *p, const struct ike_conf_prop *q, bool aead,
		      bool with_dh)
{
	static const uint16_t esn_no[] = { IKE_ESN_NO };
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i < q->n_encr; i++)
		if (encr_is_aead(q->encr[i].id) == aead)
			rc = add_xf(p, IKE_XF_ENCR, q->encr[i].id, q->encr[i].keylen);
	if (rc == 0)
		rc = add_list(p, IKE_XF_PRF, q->prf, q->n_prf);
	if (rc == 0 && !aead)
		rc = add_list(p, IKE_XF_INTEG, q->integ, q->n_integ);
	if (rc == 0 && with_dh)
		rc = add_list(p, IKE_XF_DH, q->dh, q->n_dh);
	if (rc == 0 && p->proto != IKE_PROTO_IKE)
		rc = q->n_esn ? add_list(p, IKE_XF_ESN, q->esn, q->n_esn) :
				add_list(p, IKE_XF_ESN, esn_no, 1);
	return rc;
}

/* What each protocol's proposal of ours must have (3.3.3). */
static bool conf_fits(const struct ike_conf_prop *q, uint8_t proto, bool with_dh)
{
	bool plain = false;

	for (unsigned i = 0; i < q->n_encr; i++)
		plain |= !encr_is_aead(q->encr[i].id);
	if (!conf_prop_ok(q) || (plain && q->n_integ == 0))
		return false;
	switch (proto) {
	case IKE_PROTO_IKE: return q->n_encr && q->n_prf && q->n_dh && with_dh && !q->n_esn;
	case IKE_PROTO_ESP: return q->n_encr && !q->n_prf;
	case IKE_PROTO_AH: return !q->n_encr && !q->n_prf && q->n_integ;
	default: return false;
	}
}

/* The classes of ours in the order of its first cipher: [0] first. */
static unsigned classes(const struct ike_conf_prop *q, bool cls[2])
{
	bool has_aead = false, has_plain = false;

	for (unsigned i = 0; i < q->n_encr; i++) {
		if (encr_is_aead(q->encr[i].id))
			has_aead = true;
		else
			has_plain = true;
	}
	if (q->n_encr == 0) {           /* AH */
		cls[0] = false;
		return 1;
	}
	cls[0] = encr_is_aead(q->encr[0].id);
	cls[1] = !cls[0];
	return has_aead && has_plain ? 2 : 1;
}

int ike_prop_offer(const struct ike_conf_props *ours, uint8_t proto,
		   const uint8_t *spi, uint8_t spi_size, bool with_dh, struct ike_sa *out)
{
	const struct ike_conf_props *q = props_or_default(ours, proto);

	memset(out, 0, sizeof(*out));
	if (!spi_size_ok(proto, spi, spi_size) || q->n > IKE_CONF_MAX_PROPS)
		return -EINVAL;
	for (unsigned k = 0; k < q->n; k++) {
		bool cls[2];
		unsigned nc;

		if (!conf_fits(&q->p[k], proto, with_dh))
			return -EINVAL;
		nc = classes(&q->p[k], cls);
		for (unsigned j = 0; j < nc; j++) {
			struct ike_proposal *p = &out->prop[out->nprops];
			int rc;

			if (out->nprops == IKE_MAX_PROPOSALS)
				return -EINVAL;
			prop_begin(p, (uint8_t)(out->nprops + 1), proto, spi, spi_size);
			rc = prop_write(p, &q->p[k], cls[j], with_dh);
			if (rc != 0)
				return rc;
			out->nprops++;
		}
	}
	return 0;
}

int ike_prop_reply(const struct ike_chosen *c, const uint8_t *spi, uint8_t spi_size,
		   struct ike_sa *out)
{
	struct ike_proposal *p = &out->prop[0];
	bool ok = c->proto == IKE_PROTO_IKE ? c->encr && c->prf && c->dh :
		  c->proto == IKE_PROTO_ESP ? c->encr && !c->prf :
		  c->proto == IKE_PROTO_AH && !c->encr && !c->prf && c->integ;

	memset(out, 0, sizeof(*out));
	if (!ok || c->num == 0 || !spi_size_ok(c->proto, spi, spi_size))
		return -EINVAL;
	prop_begin(p, c->num, c->proto, spi, spi_size);
	if (c->encr)
		(void)add_xf(p, IKE_XF_ENCR, c->encr, c->encr_keylen);
	if (c->prf)
		(void)add_xf(p, IKE_XF_PRF, c->prf, 0);
	if (c->integ)
		(void)add_xf(p, IKE_XF_INTEG, c->integ, 0);
	if (c->dh)
		(void)add_xf(p, IKE_XF_DH, c->dh, 0);
	if (c->proto != IKE_PROTO_IKE)
		(void)add_xf(p, IKE_XF_ESN, c->esn, 0);
	out->nprops = 1;
	return 0;
}

/* ---- The initiator's check of the answer -------------------------------- */

static const struct ike_proposal *offered_prop(const struct ike_sa *offer, uint8_t num,
					       uint8_t proto)
{
	for (unsigned i = 0; i < offer->nprops && i < IKE_MAX_PROPOSALS; i++)
		if (offer->prop[i].num == num && offer->prop[i].proto == proto)
			return &offer->prop[i];
	return NULL;
}

/* How the offer speaks of one type: none at all, NONE among them, groups. */
struct kind { bool any, none; };

static struct kind kind_of(const struct ike_proposal *o, uint8_t type)
{
	struct kind k = { false, false };

	for (unsigned i = 0; i < o->ntransforms && i < IKE_MAX_TRANSFORMS; i++) {
		if (o->xf[i].type != type)
			continue;
		if (o->xf[i].id == 0 && type != IKE_XF_ESN)
			k.none = true;
		else
			k.any = true;
	}
	return k;
}

static bool was_offered(const struct ike_proposal *o, const struct ike_transform *t)
{
	for (unsigned i = 0; i < o->ntransforms && i < IKE_MAX_TRANSFORMS; i++)
		if (o->xf[i].type == t->type && o->xf[i].id == t->id &&
		    o->xf[i].keylen == t->keylen)
			return true;
	return false;
}

static uint16_t *field_of(struct ike_chosen *c, uint8_t type)
{
	switch (type) {
	case IKE_XF_ENCR: return &c->encr;
	case IKE_XF_PRF: return &c->prf;
	case IKE_XF_INTEG: return &c->integ;
	case IKE_XF_DH: return &c->dh;
	default: return &c->esn;
	}
}

/* Each of the answer's transforms: a known type, once, one we sent; or
 * NONE for INTEG or DH (taken as absent; Android's and others' answers
 * carry it, RFC 5282 8 allows INTEG NONE). */
static bool answer_xfs_ok(const struct ike_proposal *a, const struct ike_proposal *o,
			  struct ike_chosen *c, bool seen[N_XF_TYPES])
{
	for (unsigned i = 0; i < a->ntransforms && i < IKE_MAX_TRANSFORMS; i++) {
		const struct ike_transform *t = &a->xf[i];
		bool none = t->id == 0 && t->keylen == 0 &&
			    (t->type == IKE_XF_INTEG || t->type == IKE_XF_DH);

		if (t->unknown_attr || !type_allowed(a->proto, t->type) || seen[t->type])
			return false;
		if (!none && !was_offered(o, t))
			return false;
		seen[t->type] = true;
		*field_of(c, t->type) = t->id;
		if (t->type == IKE_XF_ENCR)
			c->encr_keylen = t->keylen;
	}
	return true;
}

/* Each type we offered is answered, but for INTEG with an AEAD and DH
 * when we offered NONE; the combination is one a proposal may be. */
static bool answer_complete(const struct ike_proposal *o, const struct ike_chosen *c)
{
	bool aead = c->encr && encr_is_aead(c->encr);
	struct kind e = kind_of(o, IKE_XF_ENCR), p = kind_of(o, IKE_XF_PRF),
		    d = kind_of(o, IKE_XF_DH);

	if ((e.any && !c->encr) || (p.any && !c->prf) || (d.any && !d.none && !c->dh))
		return false;
	/* An AEAD with no INTEG; a cipher (NULL too) or AH with one. */
	return aead ? c->integ == IKE_INTEG_NONE : c->integ != IKE_INTEG_NONE;
}

int ike_prop_check_reply(const struct ike_sa *answer, const struct ike_sa *offer,
			 struct ike_chosen *out)
{
	const struct ike_proposal *a, *o;
	bool seen[N_XF_TYPES] = { false };
	struct ike_chosen c = { 0 };

	if (answer->nprops != 1)
		return -EBADMSG;
	a = &answer->prop[0];
	o = offered_prop(offer, a->num, a->proto);
	if (!o || a->spi_size != o->spi_size || a->spi_size > IKE_MAX_IKE_SPI_SIZE)
		return -EBADMSG;
	c.proto = a->proto;
	c.num = a->num;
	c.spi_size = a->spi_size;
	memcpy(c.spi, a->spi, a->spi_size);
	if (!answer_xfs_ok(a, o, &c, seen) || !answer_complete(o, &c))
		return -EBADMSG;
	if (a->proto != IKE_PROTO_IKE && !seen[IKE_XF_ESN])
		return -EBADMSG;        /* 3.3.3: ESN is mandatory in ESP and AH */
	*out = c;
	return 0;
}

/* ---- Names (strongSwan's proposal keywords) ------------------------------- */

static const char *encr_name(uint16_t id, uint16_t bits, char *tmp, size_t len)
{
	switch (id) {
	case IKE_ENCR_AES_CBC: snprintf(tmp, len, "aes%u", bits); return tmp;
	case IKE_ENCR_AES_CTR: snprintf(tmp, len, "aes%uctr", bits); return tmp;
	case IKE_ENCR_AES_GCM_8: snprintf(tmp, len, "aes%ugcm8", bits); return tmp;
	case IKE_ENCR_AES_GCM_12: snprintf(tmp, len, "aes%ugcm12", bits); return tmp;
	case IKE_ENCR_AES_GCM_16: snprintf(tmp, len, "aes%ugcm16", bits); return tmp;
	case IKE_ENCR_NULL_AUTH_AES_GMAC: snprintf(tmp, len, "aes%ugmac", bits); return tmp;
	case IKE_ENCR_CHACHA20_POLY1305: return "chacha20poly1305";
	case IKE_ENCR_NULL: return "null";
	case IKE_ENCR_3DES: return "3des";
	default: snprintf(tmp, len, "encr%u", id); return tmp;
	}
}

static const char *prf_name(uint16_t id, char *tmp, size_t len)
{
	switch (id) {
	case IKE_PRF_HMAC_SHA1: return "prfsha1";
	case IKE_PRF_HMAC_SHA2_256: return "prfsha256";
	case IKE_PRF_HMAC_SHA2_384: return "prfsha384";
	case IKE_PRF_HMAC_SHA2_512: return "prfsha512";
	default: snprintf(tmp, len, "prf%u", id); return tmp;
	}
}

static const char *integ_name(uint16_t id, char *tmp, size_t len)
{
	switch (id) {
	case IKE_INTEG_HMAC_SHA1_96: return "sha1";
	case IKE_INTEG_AES_XCBC_96: return "aesxcbc";
	case IKE_INTEG_AES_GMAC_128: return "aes128gmac";
	case IKE_INTEG_AES_GMAC_256: return "aes256gmac";
	case IKE_INTEG_HMAC_SHA2_256_128: return "sha256";
	case IKE_INTEG_HMAC_SHA2_384_192: return "sha384";
	case IKE_INTEG_HMAC_SHA2_512_256: return "sha512";
	default: snprintf(tmp, len, "integ%u", id); return tmp;
	}
}

static const char *dh_name(uint16_t id, char *tmp, size_t len)
{
	switch (id) {
	case IKE_DH_MODP_2048: return "modp2048";
	case IKE_DH_ECP_256: return "ecp256";
	case IKE_DH_ECP_384: return "ecp384";
	case IKE_DH_ECP_521: return "ecp521";
	case IKE_DH_CURVE25519: return "x25519";
	default: snprintf(tmp, len, "dh%u", id); return tmp;
	}
}

static void append(char *buf, size_t len, size_t *at, const char *word)
{
	int n;

	if (*at >= len)
		return;
	n = snprintf(buf + *at, len - *at, "%s%s", *at ? "-" : "", word);
	if (n > 0)
		*at += (size_t)n;
}

const char *ike_chosen_str(const struct ike_chosen *c, char *buf, size_t len)
{
	char tmp[24];
	size_t at = 0;

	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	if (c->encr)
		append(buf, len, &at, encr_name(c->encr, c->encr_keylen, tmp, sizeof(tmp)));
	if (c->integ)
		append(buf, len, &at, integ_name(c->integ, tmp, sizeof(tmp)));
	if (c->prf)
		append(buf, len, &at, prf_name(c->prf, tmp, sizeof(tmp)));
	if (c->dh)
		append(buf, len, &at, dh_name(c->dh, tmp, sizeof(tmp)));
	if (c->proto == IKE_PROTO_ESP || c->proto == IKE_PROTO_AH)
		append(buf, len, &at, c->esn == IKE_ESN_YES ? "esn" : "noesn");
	return buf;
}

uint16_t ike_prop_first_dh(const struct ike_conf_props *ours)
{
	const struct ike_conf_props *q = props_or_default(ours, IKE_PROTO_IKE);

	for (unsigned k = 0; k < q->n && k < IKE_CONF_MAX_PROPS; k++)
		for (unsigned i = 0; i < q->p[k].n_dh && i < IKE_CONF_MAX_XF; i++)
			if (q->p[k].dh[i] != IKE_DH_NONE && ike_dh_public_len(q->p[k].dh[i]))
				return q->p[k].dh[i];
	return IKE_DH_NONE;
}

/* ---- A socket's proposals ------------------------------------------------- */

/* A datapath cipher as IKEv2 names it; key_len 0 offers each size. */
static int sock_encr(const struct sn_proposal *s, struct ike_conf_prop *q)
{
	static const uint16_t aes_bits[] = { 128, 256 };
	uint16_t id;

	switch (s->enc) {
	case SN_ENC_NULL:
		if (s->enc_key_len)
			return -EINVAL;
		q->encr[q->n_encr++].id = IKE_ENCR_NULL;
		return 0;
	case SN_ENC_CHACHA20_POLY1305:
		if (s->enc_key_len && s->enc_key_len != 32)
			return -EINVAL;
		q->encr[q->n_encr++].id = IKE_ENCR_CHACHA20_POLY1305;
		return 0;
	case SN_ENC_AES_GCM: id = IKE_ENCR_AES_GCM_16; break;
	case SN_ENC_AES_CBC: id = IKE_ENCR_AES_CBC; break;
	default: return -EINVAL;
	}
	for (unsigned i = 0; i < NELEM(aes_bits); i++) {
		if (s->enc_key_len && s->enc_key_len * 8u != aes_bits[i])
			continue;
		q->encr[q->n_encr].id = id;
		q->encr[q->n_encr++].keylen = aes_bits[i];
	}
	return q->n_encr ? 0 : -EINVAL;
}

static int sock_integ(uint8_t auth, struct ike_conf_prop *q)
{
	switch (auth) {
	case SN_AUTH_NONE: return 0;
	case SN_AUTH_HMAC_SHA1_96: q->integ[q->n_integ++] = IKE_INTEG_HMAC_SHA1_96; return 0;
	case SN_AUTH_HMAC_SHA256_128:
		q->integ[q->n_integ++] = IKE_INTEG_HMAC_SHA2_256_128;
		return 0;
	default: return -EINVAL;
	}
}

static int sock_prop(const struct sn_proposal *s, struct ike_conf_prop *q)
{
	bool aead = sn_enc_is_aead((enum sn_enc_alg)s->enc);
	int rc;

	memset(q, 0, sizeof(*q));
	if (s->proto == SN_IPPROTO_AH) {
		if ((s->enc != SN_ENC_NONE && s->enc != SN_ENC_NULL) || s->auth == SN_AUTH_NONE)
			return -EINVAL;
		return sock_integ(s->auth, q);
	}
	if (s->proto != SN_IPPROTO_ESP || aead != (s->auth == SN_AUTH_NONE))
		return -EINVAL;         /* AEAD alone, anything else with an HMAC */
	rc = sock_encr(s, q);
	return rc ? rc : sock_integ(s->auth, q);
}

int ike_prop_from_socket_for(const struct sn_proposal *p, unsigned n, uint8_t sn_proto,
			     struct ike_conf_props *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < n; i++) {
		int rc;

		if (p[i].proto != sn_proto)
			continue;
		if (out->n == IKE_CONF_MAX_PROPS)
			return -E2BIG;
		rc = sock_prop(&p[i], &out->p[out->n]);
		if (rc)
			return rc;
		out->n++;
	}
	return 0;
}

int ike_prop_from_socket(const struct sn_proposal *p, unsigned n, struct ike_conf_props *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 1; i < n; i++)
		if (p[i].proto != p[0].proto)
			return -EINVAL;         /* one protocol per list */
	return n ? ike_prop_from_socket_for(p, n, p[0].proto, out) : 0;
}
