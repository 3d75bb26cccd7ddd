/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Child SA keys (RFC 7296 2.17): the chosen ESP/AH proposal mapped onto
 * the datapath's algorithms (sn_ipsec.h), KEYMAT cut into the two SAs of
 * the child, and the lifetimes the SAs carry. Pure: no state, no I/O.
 *
 * KEYMAT order (2.17): the initiator-to-responder SA's keys first, then
 * the responder-to-initiator SA's; in each, the encryption key, then the
 * integrity key. An AEAD's "key" includes its 4-octet salt at the end
 * (AES-GCM: RFC 4106 8.1; ChaCha20-Poly1305: RFC 7634 2), which is how
 * struct sn_sa_conf holds it too.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_crypto.h"
#include "ike_neg.h"

/* The datapath's tag length for both of its AEADs (RFC 4106 8, RFC 7634 2). */
#define CHILD_AEAD_ICV          16

/* One encryption transform the datapath runs. */
struct enc_map {
	uint16_t id, keylen_bits;       /* IANA Transform Type 1, Key Length */
	enum sn_enc_alg alg;
	uint8_t key_len;                /* octets of KEYMAT, salt included */
};

static const struct enc_map enc_maps[] = {
	{ IKE_ENCR_AES_GCM_16, 128, SN_ENC_AES_GCM, 16 + SN_IPSEC_SALT_LEN },
	{ IKE_ENCR_AES_GCM_16, 256, SN_ENC_AES_GCM, 32 + SN_IPSEC_SALT_LEN },
	{ IKE_ENCR_CHACHA20_POLY1305, 0, SN_ENC_CHACHA20_POLY1305, 32 + SN_IPSEC_SALT_LEN },
	{ IKE_ENCR_AES_CBC, 128, SN_ENC_AES_CBC, 16 },
	{ IKE_ENCR_AES_CBC, 256, SN_ENC_AES_CBC, 32 },
	{ IKE_ENCR_NULL, 0, SN_ENC_NULL, 0 },            /* RFC 2410 */
};

/* One integrity transform the datapath runs. */
struct auth_map {
	uint16_t id;                    /* IANA Transform Type 3 */
	enum sn_auth_alg alg;
	uint8_t key_len, icv_len;
};

static const struct auth_map auth_maps[] = {
	{ IKE_INTEG_HMAC_SHA1_96, SN_AUTH_HMAC_SHA1_96, 20, 12 },       /* RFC 2404 */
	{ IKE_INTEG_HMAC_SHA2_256_128, SN_AUTH_HMAC_SHA256_128, 32, 16 }, /* RFC 4868 */
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct enc_map *find_enc(uint16_t id, uint16_t keylen)
{
	for (unsigned i = 0; i < NELEM(enc_maps); i++)
		if (enc_maps[i].id == id && enc_maps[i].keylen_bits == keylen)
			return &enc_maps[i];
	return NULL;
}

static const struct auth_map *find_auth(uint16_t id)
{
	for (unsigned i = 0; i < NELEM(auth_maps); i++)
		if (auth_maps[i].id == id)
			return &auth_maps[i];
	return NULL;
}

/* ESP: an AEAD alone, or a cipher (NULL too) with an HMAC; the datapath
 * has no encryption-only ESP (RFC 4303 3.2 allows it, sealnet does not). */
static int esp_algs(const struct ike_chosen *c, enum sn_enc_alg *enc, uint8_t *enc_key_len,
		    enum sn_auth_alg *auth, uint8_t *auth_key_len, uint8_t *icv_len)
{
	const struct enc_map *e = find_enc(c->encr, c->encr_keylen);
	const struct auth_map *a = c->integ ? find_auth(c->integ) : NULL;

	if (!e || (c->integ && !a))
		return -ENOTSUP;
	if (sn_enc_is_aead(e->alg) ? a != NULL : a == NULL)
		return -ENOTSUP;
	*enc = e->alg;
	*enc_key_len = e->key_len;
	*auth = a ? a->alg : SN_AUTH_NONE;
	*auth_key_len = a ? a->key_len : 0;
	*icv_len = a ? a->icv_len : CHILD_AEAD_ICV;
	return 0;
}

/* AH (RFC 4302): integrity only. */
static int ah_algs(const struct ike_chosen *c, enum sn_enc_alg *enc, uint8_t *enc_key_len,
		   enum sn_auth_alg *auth, uint8_t *auth_key_len, uint8_t *icv_len)
{
	const struct auth_map *a = find_auth(c->integ);

	if (c->encr != 0 || !a)
		return -ENOTSUP;
	*enc = SN_ENC_NONE;
	*enc_key_len = 0;
	*auth = a->alg;
	*auth_key_len = a->key_len;
	*icv_len = a->icv_len;
	return 0;
}

int ike_child_algs(const struct ike_chosen *c, enum sn_enc_alg *enc, uint8_t *enc_key_len,
		   enum sn_auth_alg *auth, uint8_t *auth_key_len, uint8_t *icv_len)
{
	if (c->proto == IKE_PROTO_ESP)
		return esp_algs(c, enc, enc_key_len, auth, auth_key_len, icv_len);
	if (c->proto == IKE_PROTO_AH)
		return ah_algs(c, enc, enc_key_len, auth, auth_key_len, icv_len);
	return -EINVAL;
}

size_t ike_child_keymat_len(const struct ike_chosen *c)
{
	enum sn_enc_alg enc;
	enum sn_auth_alg auth;
	uint8_t ekl, akl, icv;

	if (ike_child_algs(c, &enc, &ekl, &auth, &akl, &icv) != 0)
		return 0;
	return 2 * ((size_t)ekl + akl);
}

static size_t ip_len(const struct sn_ip *ip)
{
	return ip->family == AF_INET ? 4 : ip->family == AF_INET6 ? 16 : 0;
}

/* RFC 4303 2.1: SPIs 1-255 are reserved by IANA, 0 is never sent. */
static bool spi_ok(uint32_t spi)
{
	return spi > 255;
}

/* The fields of one SA this file owns; the rest are the caller's. */
static void fill_sa(struct sn_sa_conf *sa, const struct ike_chosen *c, uint32_t spi,
		    const struct sn_ip *src, const struct sn_ip *dst, const uint8_t *keys,
		    enum sn_enc_alg enc, uint8_t ekl, enum sn_auth_alg auth, uint8_t akl,
		    uint8_t icv)
{
	sa->src = *src;
	sa->dst = *dst;
	sa->proto = c->proto == IKE_PROTO_ESP ? SN_IPPROTO_ESP : SN_IPPROTO_AH;
	sa->spi = spi;
	if (c->esn == IKE_ESN_YES)
		sa->flags |= SN_SA_F_ESN;
	else
		sa->flags &= ~(uint32_t)SN_SA_F_ESN;
	sa->enc = enc;
	ike_wipe(sa->enc_key, sizeof(sa->enc_key));
	memcpy(sa->enc_key, keys, ekl);
	sa->enc_key_len = ekl;
	sa->auth = auth;
	ike_wipe(sa->auth_key, sizeof(sa->auth_key));
	memcpy(sa->auth_key, keys + ekl, akl);
	sa->auth_key_len = akl;
	sa->icv_len = icv;
}

int ike_child_confs(const struct ike_chosen *c, const uint8_t *keymat, size_t len,
		    bool initiator, uint32_t spi_in, uint32_t spi_out,
		    const struct sn_ip *local, const struct sn_ip *peer,
		    struct sn_sa_conf *out, struct sn_sa_conf *in)
{
	enum sn_enc_alg enc;
	enum sn_auth_alg auth;
	uint8_t ekl, akl, icv;
	size_t half;
	int rc = ike_child_algs(c, &enc, &ekl, &auth, &akl, &icv);

	if (rc != 0)
		return rc;
	half = (size_t)ekl + akl;
	if (!keymat || len < 2 * half || !spi_ok(spi_in) || !spi_ok(spi_out) ||
	    ip_len(local) == 0 || local->family != peer->family)
		return -EINVAL;
	/* 2.17: i->r first. Our outbound SA is i->r when we initiated. */
	const uint8_t *i2r = keymat, *r2i = keymat + half;

	fill_sa(out, c, spi_out, local, peer, initiator ? i2r : r2i, enc, ekl, auth, akl, icv);
	fill_sa(in, c, spi_in, peer, local, initiator ? r2i : i2r, enc, ekl, auth, akl, icv);
	return 0;
}

/* ---- Lifetimes ------------------------------------------------------------- */

/* strongSwan's rules for a child's limits (swanctl.conf): the hard limit
 * defaults to 110 % of the rekey one; the soft limit is the rekey one less
 * a random part of the jitter range; 0 means no limit. The soft limit never
 * falls to 0 (which would mean "none") through the jitter. */
static void one_limit(uint64_t rekey, uint64_t life, uint64_t jitter_range, uint32_t rnd,
		      uint64_t *soft, uint64_t *hard)
{
	uint64_t jitter = jitter_range ? rnd % (jitter_range + 1) : 0;

	if (life == 0 && rekey != 0)
		life = rekey + rekey / 10;
	if (rekey != 0 && jitter >= rekey)
		jitter = rekey - 1;
	*soft = rekey ? rekey - jitter : 0;
	*hard = life;
}

void ike_life_from(const struct ike_conf_child *ch, uint32_t rnd, struct sn_lifetime *life)
{
	uint64_t byte_range = ch->life_bytes > ch->rekey_bytes ?
		ch->life_bytes - ch->rekey_bytes : 0;

	memset(life, 0, sizeof(*life));
	one_limit(ch->rekey_time, ch->life_time, ch->rand_time, rnd,
		  &life->soft_add_s, &life->hard_add_s);
	one_limit(ch->rekey_bytes, ch->life_bytes, byte_range, rnd,
		  &life->soft_bytes, &life->hard_bytes);
}
