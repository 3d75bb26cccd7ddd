// SPDX-License-Identifier: BSD-3-Clause
/*
 * IKE_AUTH (RFC 7296 1.2), both roles: identities (3.5: IPv4, IPv6,
 * FQDN, RFC822; RFC 7619's ID_NULL), and the AUTH payload of 2.15:
 *   AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 *   SignedOctets = RealMessage | NonceOfThePeer | prf(SK_px, RestOfIDPayload)
 * with the PSK from the secrets for both identities, or for NULL
 * authentication (RFC 7619 2.1... the shared-key MIC keyed with SK_pi or
 * SK_pr). The child SA part is ike_child.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "ike_sa.h"
#include "sockpol.h"

struct auth_pl {
	struct ike_id id;
	struct ike_auth auth;
	bool has_id, has_auth;
	uint16_t error;
};

/* ---- Identities ------------------------------------------------------------ */

struct id_bytes {
	uint8_t type;
	uint16_t len;
	uint8_t data[IKE_CONF_ID_MAX + 1];
};

static void id_of_ip(const struct sn_ip *ip, struct id_bytes *o)
{
	bool v4 = ip->family == AF_INET;

	o->type = v4 ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
	o->len = v4 ? 4 : 16;
	memcpy(o->data, ip->addr, o->len);
}

/* swanctl's text identity as an ID payload: an address, "@fqdn",
 * "user@domain", or a bare FQDN. */
static int id_from_text(const char *s, const struct sn_ip *self, bool null_auth,
			struct id_bytes *o)
{
	size_t n = strlen(s);

	if (null_auth) {
		*o = (struct id_bytes){ .type = IKE_ID_NULL };
		return 0;
	}
	if (n == 0 || strcmp(s, "%any") == 0) {
		id_of_ip(self, o);
		return 0;
	}
	if (inet_pton(AF_INET, s, o->data) == 1) {
		o->type = IKE_ID_IPV4_ADDR;
		o->len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, o->data) == 1) {
		o->type = IKE_ID_IPV6_ADDR;
		o->len = 16;
		return 0;
	}
	o->type = s[0] == '@' ? IKE_ID_FQDN : strchr(s, '@') ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN;
	if (s[0] == '@') {
		s++;
		n--;
	}
	if (n == 0 || n > IKE_CONF_ID_MAX)
		return -EINVAL;
	memcpy(o->data, s, n);
	o->len = (uint16_t)n;
	return 0;
}

/* The peer's ID as text, as the conf and ike_child_info write it. */
static int id_to_text(const struct ike_id *id, char *out, size_t cap)
{
	switch (id->type) {
	case IKE_ID_IPV4_ADDR:
	case IKE_ID_IPV6_ADDR:
		return inet_ntop(id->type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6, id->data, out,
				 (socklen_t)cap) ? 0 : -EINVAL;
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
		if (id->len >= cap || memchr(id->data, 0, id->len))
			return -EINVAL;
		memcpy(out, id->data, id->len);
		out[id->len] = 0;
		return 0;
	case IKE_ID_NULL:
		out[0] = 0;
		return 0;
	default:
		return -ENOTSUP;
	}
}

/* A text identity compared with a proven one: "@x" and "x" name the same
 * FQDN. */
static bool id_matches(const char *want, const char *got)
{
	if (!want || !want[0] || strcmp(want, "%any") == 0)
		return true;
	if (want[0] == '@')
		want++;
	return strcmp(want, got) == 0;
}

/* ---- AUTH (2.15) ----------------------------------------------------------- */

static enum ike_conf_auth_kind local_kind(const struct ike_ikesa *sa)
{
	enum ike_conf_auth_kind k = sa->conn->n_local ? sa->conn->local[0].auth : IKE_CAUTH_PSK;

	return k == IKE_CAUTH_NONE ? IKE_CAUTH_PSK : k;
}

/* The shared key for the MIC: the PSK for the two identities, or (NULL
 * authentication) the signer's SK_p. */
static const uint8_t *mic_key(const struct ike_ikesa *sa, bool null_auth, bool by_initiator,
			      size_t *len)
{
	if (null_auth) {
		*len = sa->keys.prf_len;
		return by_initiator ? sa->keys.pi : sa->keys.pr;
	}
	const struct ike_conf_secret *s = ike_find_secret(sa->ike, sa->local_id, sa->peer_id);

	if (!s)
		return NULL;
	*len = s->len;
	return s->secret;
}

/* The MIC over the octets the signer (initiator or not) signs; id is the
 * signer's ID payload body. */
static int auth_mic(const struct ike_ikesa *sa, bool by_initiator, const struct id_bytes *id,
		    const uint8_t *key, size_t klen, uint8_t *out)
{
	uint8_t idhdr[4] = { id->type, 0, 0, 0 }, maced[IKE_PRF_MAX], pad[IKE_PRF_MAX];
	const struct ike_msgcopy *real = by_initiator ? &sa->init_i : &sa->init_r;
	struct ike_iov idv[2] = { { idhdr, 4 }, { id->data, id->len } };
	struct ike_iov kp = { IKE_KEYPAD, IKE_KEYPAD_LEN };
	struct ike_iov so[3] = {
		{ real->p, real->len },
		{ by_initiator ? sa->nr : sa->ni, by_initiator ? sa->nr_len : sa->ni_len },
		{ maced, sa->keys.prf_len },
	};
	uint16_t prf = sa->chosen.prf;
	int rc = 0;

	if (ike_prf(prf, by_initiator ? sa->keys.pi : sa->keys.pr, sa->keys.prf_len, idv, 2, maced) ||
	    ike_prf(prf, key, klen, &kp, 1, pad) ||
	    ike_prf(prf, pad, sa->keys.prf_len, so, 3, out))
		rc = -EINVAL;
	ike_wipe(pad, sizeof(pad));
	ike_wipe(maced, sizeof(maced));
	return rc;
}

static int our_id(struct ike_ikesa *sa, struct id_bytes *id)
{
	const char *txt = sa->conn->n_local ? sa->conn->local[0].id : "";
	int rc = id_from_text(txt, &sa->local.ip, local_kind(sa) == IKE_CAUTH_NULL, id);
	struct ike_id view = { .type = id->type, .len = id->len, .data = id->data };

	if (rc == 0 && id_to_text(&view, sa->local_id, sizeof(sa->local_id)) != 0)
		sa->local_id[0] = 0;
	return rc;
}

/* IDx and AUTH of our side into inner. */
static int add_id_auth(struct ike_ikesa *sa, struct ike_buf *inner)
{
	struct id_bytes id;
	uint8_t mic[IKE_PRF_MAX];
	size_t klen = 0;
	bool null_auth = local_kind(sa) == IKE_CAUTH_NULL;
	const uint8_t *key;
	int rc = our_id(sa, &id);

	if (rc != 0)
		return rc;
	if (local_kind(sa) != IKE_CAUTH_PSK && !null_auth)
		return -ENOTSUP;        /* pubkey and EAP: not yet */
	key = mic_key(sa, null_auth, sa->initiator, &klen);
	if (!key || auth_mic(sa, sa->initiator, &id, key, klen, mic) != 0)
		return -ENOKEY;
	struct ike_id pid = { .type = id.type, .len = id.len, .data = id.data };
	struct ike_auth a = { .method = null_auth ? IKE_AUTH_NULL : IKE_AUTH_PSK,
			      .len = (uint16_t)sa->keys.prf_len, .data = mic };

	rc = ike_build_id(inner, sa->initiator ? IKE_PL_IDI : IKE_PL_IDR, &pid) ||
	     ike_build_auth(inner, &a) ? -EMSGSIZE : 0;
	ike_wipe(mic, sizeof(mic));
	return rc;
}

/* The peer's ID and AUTH: its identity kept, its MIC checked. */
static bool verify_peer(struct ike_ikesa *sa, const struct auth_pl *o)
{
	struct id_bytes id = { .type = o->id.type, .len = o->id.len };
	uint8_t mic[IKE_PRF_MAX];
	size_t klen = 0;
	bool null_auth = o->auth.method == IKE_AUTH_NULL, ok;
	const uint8_t *key;

	if (!o->has_id || !o->has_auth || o->id.len > IKE_CONF_ID_MAX ||
	    id_to_text(&o->id, sa->peer_id, sizeof(sa->peer_id)) != 0 ||
	    (o->auth.method != IKE_AUTH_PSK && !null_auth) || null_auth != (o->id.type == IKE_ID_NULL))
		return false;
	memcpy(id.data, o->id.data, o->id.len);
	key = mic_key(sa, null_auth, !sa->initiator, &klen);
	if (!key || o->auth.len != sa->keys.prf_len ||
	    auth_mic(sa, !sa->initiator, &id, key, klen, mic) != 0)
		return false;
	ok = CRYPTO_memcmp(mic, o->auth.data, o->auth.len) == 0;
	ike_wipe(mic, sizeof(mic));
	sa->peer_auth = o->auth.method;
	return ok;
}

/* The method the configuration wants from the peer (PSK by default). */
static bool method_allowed(const struct ike_ikesa *sa, uint8_t method)
{
	enum ike_conf_auth_kind k = sa->conn->n_remote ? sa->conn->remote[0].auth : IKE_CAUTH_NONE;

	if (k == IKE_CAUTH_NONE)
		k = local_kind(sa) == IKE_CAUTH_NULL ? IKE_CAUTH_NULL : IKE_CAUTH_PSK;
	return (k == IKE_CAUTH_PSK && method == IKE_AUTH_PSK) ||
	       (k == IKE_CAUTH_NULL && method == IKE_AUTH_NULL);
}

static enum ike_parse_res parse_auth(const struct ike_chain *c, bool initiator_sent,
				     struct auth_pl *o)
{
	enum ike_parse_res r = IKE_P_OK;
	uint8_t idt = initiator_sent ? IKE_PL_IDI : IKE_PL_IDR;

	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < c->n && r == IKE_P_OK; i++) {
		const struct ike_payload *p = &c->pl[i];

		if (p->type == idt) {
			r = ike_parse_id(p->body, p->len, &o->id);
			o->has_id = true;
		} else if (p->type == IKE_PL_AUTH) {
			r = ike_parse_auth(p->body, p->len, &o->auth);
			o->has_auth = true;
		}
	}
	o->error = ike_error_notify(c);
	return r;
}

uint16_t ike_error_notify(const struct ike_chain *in)
{
	for (unsigned i = 0; i < in->n; i++) {
		struct ike_notify n;

		if (in->pl[i].type == IKE_PL_NOTIFY &&
		    ike_parse_notify(in->pl[i].body, in->pl[i].len, &n) == IKE_P_OK &&
		    n.type <= IKE_N_ERROR_MAX)
			return n.type;
	}
	return 0;
}

/* ---- Initiator ------------------------------------------------------------- */

int ike_auth_start(struct ike_ikesa *sa)
{
	uint8_t mem[IKE_BUF_MAX];
	struct ike_buf inner;
	int rc;

	ike_build_init(&inner, mem, sizeof(mem));
	rc = add_id_auth(sa, &inner);
	if (rc == 0)
		rc = ike_child_offer(sa, &inner);
	if (rc == 0) {
		sa->req_id = sa->next_req_id++;
		rc = ike_send_sk(sa, IKE_EXCH_AUTH, false, sa->req_id, &inner);
	}
	ike_wipe(mem, sizeof(mem));
	if (rc == 0)
		sa->state = IKE_ST_AUTH_SENT;
	return rc;
}

/* IDr against the name the acquirer wants proven (or the conf's). */
static bool idr_ok(struct ike_ikesa *sa)
{
	const char *want = sa->target[0] ? sa->target
			   : sa->conn->n_remote ? sa->conn->remote[0].id : "";

	if (id_matches(want, sa->peer_id))
		return true;
	IKE_CTR(sa->ike, idr_mismatch);
	return sa->has_acq && (sa->acq.ipsec_flags & SN_SEC_NAME_OPTIONAL);
}

static void auth_refused(struct ike_ikesa *sa, uint16_t error)
{
	if (error == IKE_N_AUTHENTICATION_FAILED) {
		IKE_CTR(sa->ike, auth_failed);
		ike_sa_fail(sa, IKE_FAIL_PEER_AUTH, error, "the peer refused our authentication");
	} else if (error == IKE_N_NO_PROPOSAL_CHOSEN) {
		IKE_CTR(sa->ike, no_proposal);
		ike_sa_fail(sa, IKE_FAIL_NO_PROPOSAL, error, "the peer chose no child proposal");
	} else if (error == IKE_N_TS_UNACCEPTABLE) {
		IKE_CTR(sa->ike, ts_unacceptable);
		ike_sa_fail(sa, IKE_FAIL_TS, error, "the peer refused our traffic selectors");
	} else {
		ike_sa_fail(sa, IKE_FAIL_NOTIFY, error, "the peer refused IKE_AUTH");
	}
}

void ike_auth_response(struct ike_ikesa *sa, const struct ike_chain *in)
{
	struct auth_pl o;
	enum ike_fail f;

	if (sa->state != IKE_ST_AUTH_SENT || parse_auth(in, false, &o) != IKE_P_OK) {
		IKE_CTR(sa->ike, drop_malformed);
		return;
	}
	if (o.error && !o.has_auth) {
		auth_refused(sa, o.error);
		return;
	}
	if (!verify_peer(sa, &o) || !method_allowed(sa, o.auth.method)) {
		IKE_CTR(sa->ike, auth_failed);
		ike_sa_fail(sa, IKE_FAIL_AUTH, 0, "the responder's AUTH did not verify");
		return;
	}
	if (!idr_ok(sa)) {
		ike_sa_fail(sa, IKE_FAIL_ID_MISMATCH, 0, "the responder proved another identity");
		return;
	}
	IKE_CTR(sa->ike, auth_ok);
	sa->state = IKE_ST_ESTABLISHED;
	sa->established_ms = sa->ike->ops.now_ms(sa->ike->ops.ctx);
	if (o.error) {
		auth_refused(sa, o.error);
		sa->state = IKE_ST_ESTABLISHED;         /* 2.21.2: the IKE SA stands */
		return;
	}
	f = ike_child_finish(sa, in);
	if (f != IKE_FAIL_NONE)
		ike_sa_fail(sa, f, 0, "the child SA in the answer was unusable");
	sa->state = IKE_ST_ESTABLISHED;
}

/* ---- Responder ------------------------------------------------------------- */

static void leave_halfopen(struct ike_ikesa *sa)
{
	if (sa->halfopen) {
		sa->halfopen = false;
		sa->ike->n_halfopen--;
		ike_halfopen_del(&sa->ike->halfopen, &sa->remote.ip);
	}
}

static void send_auth_failed(struct ike_ikesa *sa, uint32_t msgid)
{
	uint8_t mem[64];
	struct ike_buf inner;
	struct ike_notify n = { .type = IKE_N_AUTHENTICATION_FAILED };

	IKE_CTR(sa->ike, auth_failed);
	ike_build_init(&inner, mem, sizeof(mem));
	if (ike_build_notify(&inner, &n) != IKE_B_OK ||
	    ike_send_sk(sa, IKE_EXCH_AUTH, true, msgid, &inner) != 0)
		IKE_CTR(sa->ike, drop_malformed);
	leave_halfopen(sa);
	sa->state = IKE_ST_DEAD;
}

static bool peer_id_allowed(const struct ike_ikesa *sa)
{
	return id_matches(sa->conn->n_remote ? sa->conn->remote[0].id : "", sa->peer_id);
}

void ike_auth_request(struct ike_ikesa *sa, const struct ike_chain *in, uint32_t msgid)
{
	uint8_t mem[IKE_BUF_MAX];
	struct ike_buf inner;
	struct auth_pl o;
	uint16_t err;

	if (sa->state != IKE_ST_INIT_DONE || parse_auth(in, true, &o) != IKE_P_OK) {
		IKE_CTR(sa->ike, drop_malformed);
		return;
	}
	if (our_id(sa, &(struct id_bytes){0}) != 0 || !verify_peer(sa, &o) ||
	    !method_allowed(sa, o.auth.method) || !peer_id_allowed(sa)) {
		send_auth_failed(sa, msgid);
		return;
	}
	ike_build_init(&inner, mem, sizeof(mem));
	if (add_id_auth(sa, &inner) != 0) {
		send_auth_failed(sa, msgid);
		return;
	}
	IKE_CTR(sa->ike, auth_ok);
	leave_halfopen(sa);
	sa->state = IKE_ST_ESTABLISHED;
	sa->established_ms = sa->ike->ops.now_ms(sa->ike->ops.ctx);
	err = ike_child_answer(sa, in, &inner);
	if (err) {
		struct ike_notify n = { .type = err };

		if (ike_build_notify(&inner, &n) != IKE_B_OK)
			IKE_CTR(sa->ike, drop_malformed);
	}
	if (ike_send_sk(sa, IKE_EXCH_AUTH, true, msgid, &inner) != 0)
		IKE_CTR(sa->ike, drop_malformed);
	ike_wipe(mem, sizeof(mem));
}
