/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Custom main-mode and quick-mode policies (sn_policy_add/sn_policy_del)
 * and the default policy, turned into the proposals a socket policy
 * matches SAs against (ipsec/sockpol.h).
 *
 * Default (sealnet/security.h, after WSASetSocketSecurity's default
 * IPsec policy with today's algorithms): ESP AES-GCM-128, ESP AES-CBC-128
 * + HMAC-SHA-256, then ESP-NULL + HMAC-SHA-256 and AH HMAC-SHA-256
 * unless encryption is guaranteed; 1 hour, 55 GB.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "sealnet/security.h"
#include "sn_api.h"
#include "sn_secpol.h"
#include "sockpol.h"

/* IKEv2 transform IDs accepted in main-mode proposals (RFC 7296 3.3.2,
 * RFC 5282, RFC 7634, RFC 8031). */
#define ENCR_AES_CBC 12
#define ENCR_AES_GCM16 20
#define ENCR_CHACHA 28
#define INTEG_SHA1_96 2
#define INTEG_SHA256_128 12
#define PRF_SHA1 2
#define PRF_SHA256 5
#define PRF_SHA384 6
#define PRF_SHA512 7

struct slot {
	bool used;
	struct sn_policy_key key;
	struct sn_security_policy pol;
};

static struct slot slots[SN_MAX_POLICIES];

static const struct sn_qm_proposal default_props[] = {
	{ SN_TRANSFORM_ESP, SN_CIPHER_AES_GCM_128, SN_INTEGRITY_NONE, 0, 0, 0 },
	{ SN_TRANSFORM_ESP, SN_CIPHER_AES_CBC_128, SN_INTEGRITY_HMAC_SHA256_128, 0, 0, 0 },
	{ SN_TRANSFORM_ESP, SN_CIPHER_NONE, SN_INTEGRITY_HMAC_SHA256_128, 0, 0, 0 },
	{ SN_TRANSFORM_AH, SN_CIPHER_NONE, SN_INTEGRITY_HMAC_SHA256_128, 0, 0, 0 },
};

/* ---- Validation ---------------------------------------------------------- */

static bool dh_known(uint32_t g)
{
	static const uint16_t groups[] = { 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 31, 32 };

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (g == groups[i])
			return true;
	return false;
}

static bool is_aead(uint32_t c)
{
	return c == SN_CIPHER_AES_GCM_128 || c == SN_CIPHER_AES_GCM_256 ||
	       c == SN_CIPHER_CHACHA20_POLY1305;
}

static bool qm_prop_ok(const struct sn_qm_proposal *q)
{
	if (q->cipher > SN_CIPHER_AES_CBC_256 || q->integrity > SN_INTEGRITY_HMAC_SHA256_128)
		return false;
	if (q->pfs_group && !dh_known(q->pfs_group))
		return false;
	if (q->transform == SN_TRANSFORM_AH)
		return q->cipher == SN_CIPHER_NONE && q->integrity != SN_INTEGRITY_NONE;
	if (q->transform != SN_TRANSFORM_ESP)
		return false;
	/* AEAD carries its own integrity; everything else needs an HMAC. */
	return is_aead(q->cipher) == (q->integrity == SN_INTEGRITY_NONE);
}

static bool mm_prop_ok(const struct sn_mm_proposal *m)
{
	bool aead = m->encr == ENCR_AES_GCM16 || m->encr == ENCR_CHACHA;

	if (m->encr != ENCR_AES_CBC && !aead)
		return false;
	if (m->encr == ENCR_CHACHA ? m->encr_key_bits != 256
				   : m->encr_key_bits != 128 && m->encr_key_bits != 256)
		return false;
	if (aead ? m->integ != 0 : m->integ != INTEG_SHA1_96 && m->integ != INTEG_SHA256_128)
		return false;
	if (m->prf != PRF_SHA1 && m->prf != PRF_SHA256 && m->prf != PRF_SHA384 &&
	    m->prf != PRF_SHA512)
		return false;
	return dh_known(m->dh_group);
}

static bool policy_ok(const struct sn_security_policy *p)
{
	if (p->type == SN_POLICY_QUICK_MODE) {
		const struct sn_qm_policy *q = &p->u.qm;

		if (q->n_proposals == 0 || q->n_proposals > SN_MAX_PROPOSALS)
			return false;
		for (uint32_t i = 0; i < q->n_proposals; i++)
			if (!qm_prop_ok(&q->proposals[i]))
				return false;
		return true;
	}
	if (p->type == SN_POLICY_MAIN_MODE) {
		const struct sn_mm_policy *m = &p->u.mm;

		if (m->auth_method < SN_AUTH_PSK || m->auth_method > SN_AUTH_ANONYMOUS ||
		    m->n_proposals == 0 || m->n_proposals > SN_MAX_PROPOSALS)
			return false;
		for (uint32_t i = 0; i < m->n_proposals; i++)
			if (!mm_prop_ok(&m->proposals[i]))
				return false;
		return true;
	}
	return false;
}

/* ---- Registry ------------------------------------------------------------------- */

static bool key_zero(const struct sn_policy_key *k)
{
	static const struct sn_policy_key zero;

	return memcmp(k, &zero, sizeof(zero)) == 0;
}

static struct slot *find(const struct sn_policy_key *k)
{
	for (unsigned i = 0; i < SN_MAX_POLICIES; i++)
		if (slots[i].used && memcmp(&slots[i].key, k, sizeof(*k)) == 0)
			return &slots[i];
	return NULL;
}

static int new_key(struct sn_policy_key *k)
{
	do {
		if (getrandom(k, sizeof(*k), 0) != (ssize_t)sizeof(*k))
			return -EIO;
	} while (key_zero(k) || find(k));
	return 0;
}

int sn_policy_add(const struct sn_security_policy *policy, struct sn_policy_key *key)
{
	struct slot *s = NULL;
	int rc;

	if (!policy || !key)
		return sn_err(EFAULT);
	if (!policy_ok(policy))
		return sn_err(EINVAL);
	for (unsigned i = 0; i < SN_MAX_POLICIES && !s; i++)
		if (!slots[i].used)
			s = &slots[i];
	if (!s)
		return sn_err(ENOSPC);
	rc = new_key(&s->key);
	if (rc)
		return sn_err(-rc);
	s->pol = *policy;
	s->used = true;
	*key = s->key;
	return 0;
}

int sn_policy_del(const struct sn_policy_key *key)
{
	struct slot *s;

	if (!key)
		return sn_err(EFAULT);
	if (key_zero(key))
		return sn_err(EINVAL);
	s = find(key);
	if (!s)
		return sn_err(ENOENT);
	memset(s, 0, sizeof(*s));
	return 0;
}

/* ---- Into a socket's conf -------------------------------------------------------------- */

static void to_internal(const struct sn_qm_proposal *q, struct sn_proposal *p)
{
	static const struct { uint8_t enc, key; } ciphers[] = {
		[SN_CIPHER_NONE] = { SN_ENC_NULL, 0 },
		[SN_CIPHER_AES_GCM_128] = { SN_ENC_AES_GCM, 16 },
		[SN_CIPHER_AES_GCM_256] = { SN_ENC_AES_GCM, 32 },
		[SN_CIPHER_CHACHA20_POLY1305] = { SN_ENC_CHACHA20_POLY1305, 32 },
		[SN_CIPHER_AES_CBC_128] = { SN_ENC_AES_CBC, 16 },
		[SN_CIPHER_AES_CBC_256] = { SN_ENC_AES_CBC, 32 },
	};
	static const uint8_t auths[] = {
		[SN_INTEGRITY_NONE] = SN_AUTH_NONE,
		[SN_INTEGRITY_HMAC_SHA1_96] = SN_AUTH_HMAC_SHA1_96,
		[SN_INTEGRITY_HMAC_SHA256_128] = SN_AUTH_HMAC_SHA256_128,
	};

	memset(p, 0, sizeof(*p));
	p->auth = auths[q->integrity];
	p->life_s = q->lifetime_seconds ? q->lifetime_seconds : SN_LIFETIME_SECONDS_DEFAULT;
	p->life_bytes = q->lifetime_bytes ? q->lifetime_bytes : SN_LIFETIME_BYTES_DEFAULT;
	if (q->transform == SN_TRANSFORM_AH) {
		p->proto = SN_IPPROTO_AH;
		p->enc = SN_ENC_NONE;
		return;
	}
	p->proto = SN_IPPROTO_ESP;
	p->enc = ciphers[q->cipher].enc;
	p->enc_key_len = ciphers[q->cipher].key;
}

static bool prop_encrypts(const struct sn_qm_proposal *q)
{
	return q->transform == SN_TRANSFORM_ESP && q->cipher != SN_CIPHER_NONE;
}

/* The proposals of qm (or the default), without those that do not encrypt
 * when encryption is guaranteed. -EINVAL if none is left. */
static int fill_props(struct sn_sec_conf *c, const struct sn_qm_proposal *qp, uint32_t n)
{
	c->n_props = 0;
	for (uint32_t i = 0; i < n && c->n_props < SN_SEC_MAX_PROPOSALS; i++) {
		if ((c->flags & SN_SEC_ENCRYPT) && !prop_encrypts(&qp[i]))
			continue;
		to_internal(&qp[i], &c->props[c->n_props++]);
	}
	return c->n_props ? 0 : -EINVAL;
}

int sn_secpol_fill(struct sn_sec_conf *c, const struct sn_policy_key *mm,
		   const struct sn_policy_key *qm)
{
	const struct slot *s;

	if (mm && !key_zero(mm)) {
		s = find(mm);
		if (!s || s->pol.type != SN_POLICY_MAIN_MODE)
			return -EINVAL;
		memcpy(c->mm_key, mm->b, sizeof(c->mm_key));
	}
	if (qm && !key_zero(qm)) {
		s = find(qm);
		if (!s || s->pol.type != SN_POLICY_QUICK_MODE)
			return -EINVAL;
		return fill_props(c, s->pol.u.qm.proposals, s->pol.u.qm.n_proposals);
	}
	return fill_props(c, default_props, sizeof(default_props) / sizeof(default_props[0]));
}
