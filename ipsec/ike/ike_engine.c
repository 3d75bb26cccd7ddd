// SPDX-License-Identifier: BSD-3-Clause
/*
 * The engine's front: ike_new/ike_free, and ike_input, which parses the
 * header, finds the SA by our SPI, applies the message-ID window of RFC
 * 7296 2.3 (window 1: a retransmitted request is answered from the
 * cached response, anything else out of the window is dropped and
 * counted), opens the SK payload and dispatches by exchange. Also the
 * sending helpers every exchange uses and the small conf lookups (the
 * engine does its own, so it does not depend on ike_conf.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_sa.h"

static const char *const fail_names[IKE_FAIL__COUNT] = {
	[IKE_FAIL_NONE] = "none", [IKE_FAIL_TIMEOUT] = "timeout",
	[IKE_FAIL_AUTH] = "authentication failed", [IKE_FAIL_PEER_AUTH] = "peer refused our authentication",
	[IKE_FAIL_NO_PROPOSAL] = "no proposal chosen", [IKE_FAIL_TS] = "traffic selectors unacceptable",
	[IKE_FAIL_ID_MISMATCH] = "peer identity mismatch", [IKE_FAIL_NOTIFY] = "error notify",
	[IKE_FAIL_DELETED] = "deleted", [IKE_FAIL_LOCAL] = "local failure",
};

const char *ike_fail_str(enum ike_fail f)
{
	return (unsigned)f < IKE_FAIL__COUNT ? fail_names[f] : "?";
}

int ike_new(struct ike **out, struct ike_conf *conf, const struct ike_ops *ops, char *err,
	    size_t errlen)
{
	struct ike *ike;

	*out = NULL;
	if (!conf || !ops || !ops->send || !ops->child_add || !ops->child_del ||
	    !ops->acquire_done || !ops->now_ms) {
		snprintf(err, errlen, "ike_new: a conf and the send, child_add, child_del, "
			 "acquire_done and now_ms operations are required");
		return -EINVAL;
	}
	ike = calloc(1, sizeof(*ike));
	if (!ike) {
		snprintf(err, errlen, "ike_new: out of memory");
		return -ENOMEM;
	}
	ike->conf = conf;
	ike->ops = *ops;
	if (ike_halfopen_init(&ike->halfopen) != 0) {
		free(ike);
		snprintf(err, errlen, "ike_new: no random key for the half-open counts");
		return -EIO;
	}
	*out = ike;
	return 0;
}

void ike_free(struct ike *ike)
{
	if (!ike)
		return;
	while (ike->list)
		ike_sa_free(ike->list);
	ike_conf_free(ike->conf);      /* wipes the secrets */
	ike_wipe(ike, sizeof(*ike));
	free(ike);
}

void ike_set_owner(struct ike *ike, unsigned owner)
{
	ike->owner = owner & ((1u << IKE_SPI_OWNER_BITS) - 1);
}

uint32_t ike_sa_count(const struct ike *ike)
{
	return ike->n_sas;
}

/* ---- Sending ------------------------------------------------------------- */

void ike_send_raw(struct ike_ikesa *sa, const uint8_t *msg, size_t len)
{
	struct ike *ike = sa->ike;

	(void)ike->ops.send(ike->ops.ctx, &sa->local, &sa->remote, msg, len);
}

uint32_t ike_set_rtx(const struct ike *ike)
{
	uint32_t ms = ike->conf->settings.retransmit_timeout_ms;

	return ms ? ms : IKE_DEF_RTX_MS;
}

void ike_send_request(struct ike_ikesa *sa, const uint8_t *msg, size_t len, uint8_t exch)
{
	ike_msgcopy_set(&sa->req, msg, len);
	sa->req_exch = exch;
	sa->rtx_count = 0;
	sa->rtx_ms = ike_set_rtx(sa->ike);
	sa->rtx_due = sa->ike->ops.now_ms(sa->ike->ops.ctx) + sa->rtx_ms;
	ike_send_raw(sa, msg, len);
}

void ike_send_response(struct ike_ikesa *sa, const uint8_t *msg, size_t len)
{
	ike_msgcopy_set(&sa->resp, msg, len);
	sa->has_resp = sa->resp.p != NULL;
	ike_send_raw(sa, msg, len);
}

struct ike_header ike_hdr_for(const struct ike_ikesa *sa, uint8_t exch, bool response,
			      uint32_t msgid)
{
	return (struct ike_header){
		.ispi = sa->spi_i, .rspi = sa->spi_r, .major = 2, .exchange = exch,
		.flags = (uint8_t)((sa->initiator ? IKE_FLAG_INITIATOR : 0) |
				   (response ? IKE_FLAG_RESPONSE : 0)),
		.msgid = msgid,
	};
}

int ike_send_sk(struct ike_ikesa *sa, uint8_t exch, bool response, uint32_t msgid,
		const struct ike_buf *inner)
{
	uint8_t *mem = malloc(IKE_BUF_MAX);
	struct ike_header h = ike_hdr_for(sa, exch, response, msgid);
	struct ike_buf b;
	int rc = 0;

	if (!mem)
		return -ENOMEM;
	ike_build_init(&b, mem, IKE_BUF_MAX);
	if (ike_build_header(&b, &h) != IKE_B_OK || ike_sk_seal(&sa->sk_out, &b, inner, NULL) != IKE_SK_OK)
		rc = -EMSGSIZE;
	else if (response)
		ike_send_response(sa, b.p, b.len);
	else
		ike_send_request(sa, b.p, b.len, exch);
	free(mem);
	return rc;
}

/* ---- Configuration lookups ----------------------------------------------- */

static bool ip_eq(const struct sn_ip *a, const struct sn_ip *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && memcmp(a->addr, b->addr, n) == 0;
}

/* The first connection naming remote, else the first %any one. */
const struct ike_conf_conn *ike_find_conn(const struct ike *ike, const struct sn_ip *local,
					  const struct sn_ip *remote)
{
	const struct ike_conf *c = ike->conf;
	const struct ike_conf_conn *any = NULL;

	for (uint32_t i = 0; i < c->n_conns; i++) {
		const struct ike_conf_conn *cc = &c->conns[i];

		for (unsigned j = 0; j < cc->n_remote_addrs; j++)
			if (ip_eq(&cc->remote_addrs[j], remote))
				return cc;
		if (!any && (cc->remote_any || cc->n_remote_addrs == 0))
			any = cc;
	}
	return any;
}

const struct ike_conf_conn *ike_find_conn_name(const struct ike *ike, const char *name)
{
	for (uint32_t i = 0; i < ike->conf->n_conns; i++)
		if (strcmp(ike->conf->conns[i].name, name) == 0)
			return &ike->conf->conns[i];
	return NULL;
}

static unsigned secret_score(const struct ike_conf_secret *s, const char *a, const char *b)
{
	unsigned score = 0;

	for (unsigned i = 0; i < s->n_ids; i++)
		if ((a[0] && strcmp(s->ids[i], a) == 0) || (b[0] && strcmp(s->ids[i], b) == 0))
			score++;
	return s->n_ids == 0 ? 1 : (score ? score + 1 : 0);
}

/* A PSK for the two identities: one naming both beats one naming one
 * beats one naming none (strongSwan's rule, ike_conf.h). */
const struct ike_conf_secret *ike_find_secret(const struct ike *ike, const char *a, const char *b)
{
	const struct ike_conf_secret *best = NULL;
	unsigned best_score = 0;

	for (uint32_t i = 0; i < ike->conf->n_secrets; i++) {
		const struct ike_conf_secret *s = &ike->conf->secrets[i];
		unsigned sc = s->kind == IKE_SECRET_IKE ? secret_score(s, a, b) : 0;

		if (sc > best_score) {
			best = s;
			best_score = sc;
		}
	}
	return best;
}

void ike_store_result(struct ike *ike, const struct sn_ip *peer, const struct ike_result *r)
{
	struct ike_peer_result *slot = NULL;

	for (unsigned i = 0; i < IKE_MAX_RESULTS && !slot; i++)
		if (ip_eq(&ike->results[i].peer, peer))
			slot = &ike->results[i];
	if (!slot) {
		slot = &ike->results[ike->next_result];
		ike->next_result = (ike->next_result + 1) % IKE_MAX_RESULTS;
	}
	slot->peer = *peer;
	slot->r = *r;
}

const struct ike_result *ike_peer_result(const struct ike *ike, const struct sn_ip *peer)
{
	for (unsigned i = 0; i < IKE_MAX_RESULTS; i++)
		if (ike->results[i].peer.family && ip_eq(&ike->results[i].peer, peer))
			return &ike->results[i].r;
	return NULL;
}

/* ---- Input ---------------------------------------------------------------- */

/* 2.3: a response must answer our outstanding request. */
static bool response_in_window(struct ike_ikesa *sa, const struct ike_header *h)
{
	return sa->req.len && h->msgid == sa->req_id && h->exchange == sa->req_exch;
}

/* 2.3: the next request is expected; the previous one is a retransmission
 * answered from the cache; anything else is dropped. */
static bool request_in_window(struct ike_ikesa *sa, const struct ike_header *h)
{
	struct ike *ike = sa->ike;

	if (h->msgid == sa->expect_id)
		return true;
	if (sa->has_resp && h->msgid + 1 == sa->expect_id) {
		IKE_CTR(ike, retransmit_answered);
		ike_send_raw(sa, sa->resp.p, sa->resp.len);
		return false;
	}
	IKE_CTR(ike, drop_msgid);
	return false;
}

static void dispatch_sk(struct ike_ikesa *sa, const struct ike_header *h,
			const struct ike_chain *in)
{
	bool resp = h->flags & IKE_FLAG_RESPONSE;

	if (resp) {
		ike_msgcopy_free(&sa->req);
		if (h->exchange == IKE_EXCH_AUTH)
			ike_auth_response(sa, in);
		else if (h->exchange == IKE_EXCH_INFORMATIONAL)
			ike_info_response(sa, in);
		return;
	}
	sa->expect_id = h->msgid + 1;
	sa->has_resp = false;
	if (h->exchange == IKE_EXCH_AUTH)
		ike_auth_request(sa, in, h->msgid);
	else if (h->exchange == IKE_EXCH_INFORMATIONAL)
		ike_info_request(sa, in, h->msgid);
}

/* Decrypt-then-parse the SK payload (2.3: only then is the window moved). */
static void input_sk(struct ike_ikesa *sa, const struct ike_msg *m, const uint8_t *raw,
		     size_t len)
{
	struct ike *ike = sa->ike;
	struct ike_chain in;
	size_t pt_len;
	uint8_t *pt = malloc(len);

	if (!pt)
		return;
	if (!sa->keyed || ike_sk_open(&sa->sk_in, raw, len, m, pt, len, &pt_len) != IKE_SK_OK) {
		IKE_CTR(ike, drop_decrypt);
	} else {
		enum ike_parse_res r = ike_parse_chain(m->chain.sk_next, pt, pt_len,
						       IKE_CHAIN_INNER, &in);
		if (r == IKE_P_CRITICAL)
			IKE_CTR(ike, unsupported_critical);
		else if (r != IKE_P_OK)
			IKE_CTR(ike, drop_malformed);
		else
			dispatch_sk(sa, &m->hdr, &in);
	}
	ike_wipe(pt, len);
	free(pt);
}

static bool roles_ok(const struct ike_ikesa *sa, const struct ike_header *h)
{
	/* 2.2: the I flag names the original initiator; the other SPI must
	 * match too, once both are known. */
	bool from_initiator = h->flags & IKE_FLAG_INITIATOR;

	if (from_initiator == sa->initiator)
		return false;
	return sa->initiator ? (sa->spi_r == 0 || h->rspi == sa->spi_r) : h->ispi == sa->spi_i;
}

static void input_sa(struct ike_ikesa *sa, const struct ike_msg *m, const uint8_t *raw,
		     size_t len)
{
	bool resp = m->hdr.flags & IKE_FLAG_RESPONSE;

	if (!roles_ok(sa, &m->hdr)) {
		IKE_CTR(sa->ike, drop_no_sa);
		return;
	}
	if (resp ? !response_in_window(sa, &m->hdr) : !request_in_window(sa, &m->hdr)) {
		if (resp)
			IKE_CTR(sa->ike, drop_msgid);
		return;
	}
	if (m->hdr.exchange == IKE_EXCH_SA_INIT) {
		if (resp && sa->state == IKE_ST_INIT_SENT)
			ike_init_response(sa, m, raw, len);
		else
			IKE_CTR(sa->ike, drop_msgid);
		return;
	}
	if (m->chain.n == 0 || m->chain.pl[m->chain.n - 1].type != IKE_PL_SK) {
		IKE_CTR(sa->ike, drop_malformed);
		return;
	}
	input_sk(sa, m, raw, len);
	if (sa->state == IKE_ST_DEAD)
		ike_sa_free(sa);
}

void ike_input(struct ike *ike, const struct ike_addr *local, const struct ike_addr *remote,
	       const uint8_t *msg, size_t len, bool encap)
{
	struct ike_msg m;
	enum ike_parse_res r = ike_parse_message(msg, len, &m);
	bool resp;

	if (r == IKE_P_CRITICAL) {
		IKE_CTR(ike, unsupported_critical);
		return;
	}
	if (r != IKE_P_OK) {
		IKE_CTR(ike, drop_malformed);
		return;
	}
	resp = m.hdr.flags & IKE_FLAG_RESPONSE;
	/* A new IKE_SA_INIT request: SPIr 0, message ID 0 (2.2). */
	if (m.hdr.exchange == IKE_EXCH_SA_INIT && !resp && m.hdr.rspi == 0) {
		ike_init_request(ike, local, remote, &m, msg, len, encap);
		return;
	}
	struct ike_ikesa *sa = ike_sa_find(ike, (m.hdr.flags & IKE_FLAG_INITIATOR) ? m.hdr.rspi
					   : m.hdr.ispi);
	if (!sa) {
		IKE_CTR(ike, drop_no_sa);
		return;
	}
	input_sa(sa, &m, msg, len);
}

/* ---- Acquire --------------------------------------------------------------- */

static int acquire_props(struct ike_ikesa *sa, const struct ike_acquire *a)
{
	if (!a->props || !a->n_props)
		return 0;
	return ike_prop_from_socket_for(a->props, a->n_props, SN_IPPROTO_ESP, &sa->creq.props);
}

static void acquire_keep(struct ike_ikesa *sa, const struct ike_acquire *a)
{
	sa->has_acq = true;
	sa->acq = *a;
	snprintf(sa->target, sizeof(sa->target), "%s", a->target ? a->target : "");
	/* Pointers are the caller's: only what was copied is kept. */
	sa->acq.props = NULL;
	sa->acq.target = sa->acq.user = sa->acq.domain = sa->acq.password = NULL;
	sa->acq.mm_key = NULL;
	sa->acq.conn = a->conn ? sa->conn->name : NULL;
	sa->acq.child = NULL;
	for (unsigned i = 0; a->child && i < sa->conn->n_children; i++)
		if (strcmp(sa->conn->children[i].name, a->child) == 0)
			sa->acq.child = sa->conn->children[i].name;
}

static struct ike_addr with_port(const struct ike_addr *a, uint16_t def)
{
	struct ike_addr r = *a;

	if (!r.port)
		r.port = def ? def : 500;
	return r;
}

int ike_acquire(struct ike *ike, const struct ike_acquire *a)
{
	const struct ike_conf_conn *conn = a->conn ? ike_find_conn_name(ike, a->conn)
					   : ike_find_conn(ike, &a->local.ip, &a->remote.ip);
	struct ike_ikesa *sa;
	int rc;

	IKE_CTR(ike, acquire_received);
	if (!conn)
		return -ENOENT;
	for (sa = ike->list; sa; sa = sa->lnext)
		if (sa->has_acq && sa->acq.token == a->token)
			return -EAGAIN;
	sa = ike_sa_alloc(ike, true);
	if (!sa)
		return -ENOMEM;
	sa->conn = conn;
	sa->local = with_port(&a->local, conn->local_port);
	sa->remote = with_port(&a->remote, conn->remote_port);
	acquire_keep(sa, a);
	rc = acquire_props(sa, a);
	if (rc == 0)
		rc = ike_init_start(sa);
	if (rc != 0) {
		sa->has_acq = false;
		IKE_CTR(ike, acquire_failed);
		ike_sa_free(sa);
	}
	return rc;
}

void ike_acquire_cancel(struct ike *ike, uint64_t token)
{
	for (struct ike_ikesa *sa = ike->list; sa; sa = sa->lnext)
		if (sa->has_acq && sa->acq.token == token)
			sa->has_acq = false;
}
