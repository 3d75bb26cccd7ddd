/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 PRFs, key derivation and key exchange on OpenSSL 3's libcrypto.
 * Secrets on the stack are wiped on the one exit path of each function.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "ike_crypto.h"

const char *ike_crypto_strerror(enum ike_crypto_res r)
{
	switch (r) {
	case IKE_C_OK: return "ok";
	case IKE_C_UNSUPPORTED: return "unsupported";
	case IKE_C_BAD_LENGTH: return "bad-length";
	case IKE_C_BAD_PEER: return "bad-peer-public-value";
	case IKE_C_LIB: return "libcrypto-failure";
	default: return "unknown";
	}
}

void ike_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

void ike_sa_keys_wipe(struct ike_sa_keys *k)
{
	ike_wipe(k, sizeof(*k));
}

/* ---- PRF (RFC 4868) -------------------------------------------------------- */

static const char *prf_digest(uint16_t prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_SHA2_256: return "SHA256";
	case IKE_PRF_HMAC_SHA2_384: return "SHA384";
	case IKE_PRF_HMAC_SHA2_512: return "SHA512";
	default: return NULL;
	}
}

size_t ike_prf_len(uint16_t prf)
{
	switch (prf) {
	case IKE_PRF_HMAC_SHA2_256: return 32;
	case IKE_PRF_HMAC_SHA2_384: return 48;
	case IKE_PRF_HMAC_SHA2_512: return 64;
	default: return 0;
	}
}

/* One HMAC fetch for the process; OpenSSL frees it at exit. */
static EVP_MAC *hmac_alg(void)
{
	static EVP_MAC *mac;

	if (!mac)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return mac;
}

static enum ike_crypto_res hmac_run(EVP_MAC_CTX *ctx, const char *md,
				    const uint8_t *key, size_t klen,
				    const struct ike_iov *in, unsigned n,
				    uint8_t *out, size_t out_len)
{
	static const uint8_t empty[1];
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
		OSSL_PARAM_construct_end(),
	};
	size_t got = 0;

	if (!EVP_MAC_init(ctx, klen ? key : empty, klen, params))
		return IKE_C_LIB;
	for (unsigned i = 0; i < n; i++)
		if (in[i].len && !EVP_MAC_update(ctx, in[i].p, in[i].len))
			return IKE_C_LIB;
	if (!EVP_MAC_final(ctx, out, &got, out_len) || got != out_len)
		return IKE_C_LIB;
	return IKE_C_OK;
}

enum ike_crypto_res ike_prf(uint16_t prf, const uint8_t *key, size_t klen,
			    const struct ike_iov *in, unsigned n, uint8_t *out)
{
	const char *md = prf_digest(prf);
	EVP_MAC *mac = hmac_alg();
	EVP_MAC_CTX *ctx;
	enum ike_crypto_res r;

	if (!md)
		return IKE_C_UNSUPPORTED;
	if (!mac || !(ctx = EVP_MAC_CTX_new(mac)))
		return IKE_C_LIB;
	r = hmac_run(ctx, md, key, klen, in, n, out, ike_prf_len(prf));
	EVP_MAC_CTX_free(ctx);
	return r;
}

/* 2.13. The seed pieces are passed through, not copied. */
enum ike_crypto_res ike_prf_plus(uint16_t prf, const uint8_t *key, size_t klen,
				 const struct ike_iov *seed, unsigned n,
				 uint8_t *out, size_t out_len)
{
	size_t hlen = ike_prf_len(prf);
	uint8_t t[IKE_PRF_MAX];
	struct ike_iov in[1 + 8 + 1];
	enum ike_crypto_res r = IKE_C_OK;

	if (hlen == 0)
		return IKE_C_UNSUPPORTED;
	if (out_len > IKE_PRF_PLUS_MAX_ITER * hlen || n > 8)
		return IKE_C_BAD_LENGTH;
	for (unsigned i = 1, done = 0; done < out_len && r == IKE_C_OK; i++) {
		uint8_t ctr = (uint8_t)i;
		unsigned k = 0;
		size_t take;

		if (i > 1)
			in[k++] = (struct ike_iov){ t, hlen };
		for (unsigned j = 0; j < n; j++)
			in[k++] = seed[j];
		in[k++] = (struct ike_iov){ &ctr, 1 };
		r = ike_prf(prf, key, klen, in, k, t);
		take = out_len - done < hlen ? out_len - done : hlen;
		memcpy(out + done, t, take);
		done += take;
	}
	ike_wipe(t, sizeof(t));
	return r;
}

/* ---- Key sizes ------------------------------------------------------------- */

size_t ike_encr_keymat_len(uint16_t encr, uint16_t bits)
{
	bool aes_bits = bits == 128 || bits == 192 || bits == 256;

	switch (encr) {
	case IKE_ENCR_AES_GCM_16: return aes_bits ? bits / 8 + 4 : 0;
	case IKE_ENCR_AES_CBC: return aes_bits ? bits / 8 : 0;
	case IKE_ENCR_CHACHA20_POLY1305: return bits == 0 ? 32 + 4 : 0;   /* RFC 7634 2 */
	default: return 0;
	}
}

size_t ike_integ_key_len(uint16_t integ)
{
	switch (integ) {
	case IKE_INTEG_NONE: return 0;
	case IKE_INTEG_HMAC_SHA2_256_128: return 32;
	case IKE_INTEG_HMAC_SHA2_384_192: return 48;
	case IKE_INTEG_HMAC_SHA2_512_256: return 64;
	default: return SIZE_MAX;
	}
}

size_t ike_integ_icv_len(uint16_t integ)
{
	size_t k = ike_integ_key_len(integ);

	return k == SIZE_MAX ? 0 : k / 2;       /* RFC 4868 2.3: half the output */
}

static uint16_t integ_prf(uint16_t integ)
{
	switch (integ) {
	case IKE_INTEG_HMAC_SHA2_256_128: return IKE_PRF_HMAC_SHA2_256;
	case IKE_INTEG_HMAC_SHA2_384_192: return IKE_PRF_HMAC_SHA2_384;
	case IKE_INTEG_HMAC_SHA2_512_256: return IKE_PRF_HMAC_SHA2_512;
	default: return 0;
	}
}

enum ike_crypto_res ike_integ_mac(uint16_t integ, const uint8_t *key, size_t klen,
				  const struct ike_iov *in, unsigned n, uint8_t *icv)
{
	uint8_t full[IKE_PRF_MAX];
	uint16_t prf = integ_prf(integ);
	enum ike_crypto_res r;

	if (prf == 0)
		return IKE_C_UNSUPPORTED;
	r = ike_prf(prf, key, klen, in, n, full);
	if (r == IKE_C_OK)
		memcpy(icv, full, ike_integ_icv_len(integ));
	ike_wipe(full, sizeof(full));
	return r;
}

/* ---- Key derivation (2.14, 2.17, 2.18) ------------------------------------ */

enum ike_crypto_res ike_skeyseed(uint16_t prf, const uint8_t *ni, size_t ni_len,
				 const uint8_t *nr, size_t nr_len,
				 const uint8_t *gir, size_t gir_len, uint8_t *out)
{
	uint8_t key[2 * IKE_NONCE_MAX];
	struct ike_iov in = { gir, gir_len };
	enum ike_crypto_res r;

	if (ni_len > IKE_NONCE_MAX || nr_len > IKE_NONCE_MAX)
		return IKE_C_BAD_LENGTH;
	memcpy(key, ni, ni_len);
	memcpy(key + ni_len, nr, nr_len);
	r = ike_prf(prf, key, ni_len + nr_len, &in, 1, out);
	ike_wipe(key, sizeof(key));
	return r;
}

enum ike_crypto_res ike_skeyseed_rekey(uint16_t prf, const uint8_t *old_d, size_t d_len,
				       const uint8_t *gir, size_t gir_len,
				       const uint8_t *ni, size_t ni_len,
				       const uint8_t *nr, size_t nr_len, uint8_t *out)
{
	struct ike_iov in[] = { { gir, gir_len }, { ni, ni_len }, { nr, nr_len } };

	return ike_prf(prf, old_d, d_len, in, 3, out);
}

enum ike_crypto_res ike_derive_sa_keys(uint16_t prf, const uint8_t *skeyseed,
				       const uint8_t *ni, size_t ni_len,
				       const uint8_t *nr, size_t nr_len,
				       const uint8_t spii[IKE_SPI_LEN],
				       const uint8_t spir[IKE_SPI_LEN],
				       size_t encr_len, size_t integ_len,
				       struct ike_sa_keys *k)
{
	size_t plen = ike_prf_len(prf), total, off = 0;
	uint8_t km[3 * IKE_PRF_MAX + 2 * IKE_INTEG_KEY_MAX + 2 * IKE_ENCR_KEYMAT_MAX];
	struct ike_iov seed[] = { { ni, ni_len }, { nr, nr_len },
				  { spii, IKE_SPI_LEN }, { spir, IKE_SPI_LEN } };
	enum ike_crypto_res r;

	if (plen == 0)
		return IKE_C_UNSUPPORTED;
	if (encr_len > IKE_ENCR_KEYMAT_MAX || integ_len > IKE_INTEG_KEY_MAX)
		return IKE_C_BAD_LENGTH;
	memset(k, 0, sizeof(*k));
	*k = (struct ike_sa_keys){ .prf = prf, .prf_len = plen,
				   .integ_len = integ_len, .encr_len = encr_len };
	total = 3 * plen + 2 * integ_len + 2 * encr_len;
	r = ike_prf_plus(prf, skeyseed, plen, seed, 4, km, total);
	if (r == IKE_C_OK) {
		uint8_t *dst[] = { k->d, k->ai, k->ar, k->ei, k->er, k->pi, k->pr };
		size_t len[] = { plen, integ_len, integ_len, encr_len, encr_len, plen, plen };

		for (unsigned i = 0; i < 7; i++) {
			memcpy(dst[i], km + off, len[i]);
			off += len[i];
		}
	}
	ike_wipe(km, sizeof(km));
	return r;
}

enum ike_crypto_res ike_child_keymat(uint16_t prf, const uint8_t *sk_d, size_t d_len,
				     const uint8_t *gir, size_t gir_len,
				     const uint8_t *ni, size_t ni_len,
				     const uint8_t *nr, size_t nr_len,
				     uint8_t *out, size_t out_len)
{
	struct ike_iov seed[] = { { gir, gir_len }, { ni, ni_len }, { nr, nr_len } };

	return ike_prf_plus(prf, sk_d, d_len, seed, 3, out, out_len);
}

/* ---- Key exchange ---------------------------------------------------------- */

size_t ike_dh_public_len(uint16_t group)
{
	switch (group) {
	case IKE_DH_CURVE25519: return 32;      /* RFC 8031 3 */
	case IKE_DH_ECP_256: return 64;         /* RFC 5903 7: x || y */
	case IKE_DH_ECP_384: return 96;
	case IKE_DH_MODP_2048: return 256;      /* 3.4: padded to the prime's length */
	default: return 0;
	}
}

size_t ike_dh_secret_len(uint16_t group)
{
	switch (group) {
	case IKE_DH_CURVE25519: return 32;
	case IKE_DH_ECP_256: return 32;         /* RFC 5903 7: x only */
	case IKE_DH_ECP_384: return 48;
	case IKE_DH_MODP_2048: return 256;      /* 2.14: padded to the prime's length */
	default: return 0;
	}
}

static const char *ec_name(uint16_t group)
{
	return group == IKE_DH_ECP_256 ? "P-256" : group == IKE_DH_ECP_384 ? "P-384" : NULL;
}

static int ec_nid(uint16_t group)
{
	return group == IKE_DH_ECP_256 ? NID_X9_62_prime256v1 : NID_secp384r1;
}

void ike_dh_free(struct ike_dh *dh)
{
	EVP_PKEY_free(dh->pkey);
	BN_clear_free(dh->x);
	BN_free(dh->gx);
	*dh = (struct ike_dh){ 0 };
}

/* MODP (RFC 3526 3): generator 2, the 2048-bit prime. */
static BIGNUM *modp_prime(void)
{
	return BN_get_rfc3526_prime_2048(NULL);
}

static enum ike_crypto_res modp_set(struct ike_dh *dh, BIGNUM *x)
{
	BIGNUM *p = modp_prime(), *g = BN_new(), *gx = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	enum ike_crypto_res r = IKE_C_LIB;

	BN_set_flags(x, BN_FLG_CONSTTIME);
	if (p && g && gx && ctx && BN_set_word(g, 2) &&
	    BN_mod_exp_mont_consttime(gx, g, x, p, ctx, NULL)) {
		dh->x = x;
		dh->gx = gx;
		gx = NULL;
		x = NULL;
		r = IKE_C_OK;
	}
	BN_clear_free(x);
	BN_free(gx);
	BN_free(g);
	BN_free(p);
	BN_CTX_free(ctx);
	return r;
}

/* RFC 3526 8: an exponent of twice the group's strength; 320 bits. */
#define MODP_2048_EXP_BITS      320

static enum ike_crypto_res modp_generate(struct ike_dh *dh)
{
	BIGNUM *x = BN_secure_new();

	if (!x || !BN_priv_rand(x, MODP_2048_EXP_BITS, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY)) {
		BN_free(x);
		return IKE_C_LIB;
	}
	return modp_set(dh, x);
}

/* 1 < y < p - 1: refuses 0, 1, p - 1 (the subgroup of order 2) and more. */
static bool modp_peer_ok(const BIGNUM *y, const BIGNUM *p)
{
	BIGNUM *pm1 = BN_dup(p);
	bool ok = pm1 && BN_sub_word(pm1, 1) && BN_cmp(y, BN_value_one()) > 0 &&
		  BN_cmp(y, pm1) < 0;

	BN_free(pm1);
	return ok;
}

static enum ike_crypto_res modp_shared(const struct ike_dh *dh, const uint8_t *peer,
				       uint8_t *out)
{
	BIGNUM *p = modp_prime(), *y = BN_bin2bn(peer, 256, NULL), *z = BN_secure_new();
	BN_CTX *ctx = BN_CTX_secure_new();
	enum ike_crypto_res r = IKE_C_LIB;

	if (p && y && z && ctx) {
		if (!modp_peer_ok(y, p))
			r = IKE_C_BAD_PEER;
		else if (BN_mod_exp_mont_consttime(z, y, dh->x, p, ctx, NULL) &&
			 BN_bn2binpad(z, out, 256) == 256)
			r = IKE_C_OK;
	}
	BN_free(p);
	BN_free(y);
	BN_clear_free(z);
	BN_CTX_free(ctx);
	return r;
}

/* ECP: the public key from a scalar, for fixed (test) keys. */
static EVP_PKEY *ec_from_priv(uint16_t group, const uint8_t *priv, size_t len)
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(ec_nid(group));
	EC_POINT *pt = grp ? EC_POINT_new(grp) : NULL;
	BIGNUM *d = BN_bin2bn(priv, (int)len, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	uint8_t pub[1 + 2 * 48];
	size_t plen = 0;

	if (pt && d && bld && pc && !BN_is_zero(d) &&
	    EC_POINT_mul(grp, pt, d, NULL, NULL, NULL) &&
	    (plen = EC_POINT_point2oct(grp, pt, POINT_CONVERSION_UNCOMPRESSED,
				       pub, sizeof(pub), NULL)) != 0 &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ec_name(group), 0) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, plen) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    EVP_PKEY_fromdata_init(pc) > 0)
		(void)EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_KEYPAIR, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pc);
	BN_clear_free(d);
	EC_POINT_free(pt);
	EC_GROUP_free(grp);
	return pkey;
}

enum ike_crypto_res ike_dh_set_private(struct ike_dh *dh, uint16_t group,
				       const uint8_t *priv, size_t len)
{
	*dh = (struct ike_dh){ .group = group };
	switch (group) {
	case IKE_DH_CURVE25519:
		if (len != 32)
			return IKE_C_BAD_LENGTH;
		dh->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, len);
		return dh->pkey ? IKE_C_OK : IKE_C_LIB;
	case IKE_DH_ECP_256:
	case IKE_DH_ECP_384:
		if (len != ike_dh_secret_len(group))
			return IKE_C_BAD_LENGTH;
		dh->pkey = ec_from_priv(group, priv, len);
		return dh->pkey ? IKE_C_OK : IKE_C_LIB;
	case IKE_DH_MODP_2048: {
		BIGNUM *x = len && len <= 256 ? BN_bin2bn(priv, (int)len, BN_secure_new()) : NULL;

		if (!x)
			return len && len <= 256 ? IKE_C_LIB : IKE_C_BAD_LENGTH;
		return modp_set(dh, x);
	}
	default:
		return IKE_C_UNSUPPORTED;
	}
}

enum ike_crypto_res ike_dh_generate(struct ike_dh *dh, uint16_t group)
{
	*dh = (struct ike_dh){ .group = group };
	switch (group) {
	case IKE_DH_CURVE25519:
		dh->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		return dh->pkey ? IKE_C_OK : IKE_C_LIB;
	case IKE_DH_ECP_256:
	case IKE_DH_ECP_384:
		dh->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", ec_name(group));
		return dh->pkey ? IKE_C_OK : IKE_C_LIB;
	case IKE_DH_MODP_2048:
		return modp_generate(dh);
	default:
		return IKE_C_UNSUPPORTED;
	}
}

/* RFC 5903 7: the KE data is x || y, without SEC1's 0x04 prefix. */
static enum ike_crypto_res ec_public(const struct ike_dh *dh, uint8_t *out, size_t want)
{
	uint8_t pt[1 + 2 * 48];
	size_t got = 0;

	if (!EVP_PKEY_get_octet_string_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY,
					     pt, sizeof(pt), &got))
		return IKE_C_LIB;
	if (got != 1 + want || pt[0] != POINT_CONVERSION_UNCOMPRESSED)
		return IKE_C_LIB;
	memcpy(out, pt + 1, want);
	return IKE_C_OK;
}

enum ike_crypto_res ike_dh_public(const struct ike_dh *dh, uint8_t *out,
				  size_t cap, size_t *len)
{
	size_t want = ike_dh_public_len(dh->group);
	size_t got = want;

	*len = 0;
	if (want == 0)
		return IKE_C_UNSUPPORTED;
	if (cap < want)
		return IKE_C_BAD_LENGTH;
	if (dh->group == IKE_DH_MODP_2048) {
		if (!dh->gx || BN_bn2binpad(dh->gx, out, (int)want) != (int)want)
			return IKE_C_LIB;
	} else if (dh->group == IKE_DH_CURVE25519) {
		if (!EVP_PKEY_get_raw_public_key(dh->pkey, out, &got) || got != want)
			return IKE_C_LIB;
	} else if (ec_public(dh, out, want) != IKE_C_OK) {
		return IKE_C_LIB;
	}
	*len = want;
	return IKE_C_OK;
}

/* The peer's key: X25519 raw; ECP from 0x04 || x || y, which libcrypto
 * refuses unless the point is on the curve. */
static EVP_PKEY *peer_key(uint16_t group, const uint8_t *peer, size_t len)
{
	uint8_t pt[1 + 2 * 48];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pc;
	EVP_PKEY *pkey = NULL;

	if (group == IKE_DH_CURVE25519)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, len);
	pt[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(pt + 1, peer, len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)ec_name(group), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + len);
	params[2] = OSSL_PARAM_construct_end();
	pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (pc && EVP_PKEY_fromdata_init(pc) > 0)
		(void)EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(pc);
	return pkey;
}

/* On the curve, coordinates below p, not the identity (RFC 5903 7 via SEC1
 * 3.2.2.1). The order check is left out: P-256 and P-384 have cofactor 1,
 * so every such point has order n, and n*Q would cost a scalar multiply. */
static bool peer_valid(uint16_t group, EVP_PKEY *peer)
{
	EVP_PKEY_CTX *c;
	bool ok;

	if (group == IKE_DH_CURVE25519)
		return true;            /* every u is a valid input; see the zero check */
	c = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
	ok = c && EVP_PKEY_public_check_quick(c) == 1;
	EVP_PKEY_CTX_free(c);
	return ok;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static enum ike_crypto_res ec_shared(const struct ike_dh *dh, const uint8_t *peer,
				     size_t plen, uint8_t *out, size_t want)
{
	EVP_PKEY *pk = peer_key(dh->group, peer, plen);
	EVP_PKEY_CTX *c = NULL;
	size_t got = want;
	enum ike_crypto_res r = IKE_C_BAD_PEER;

	if (pk && peer_valid(dh->group, pk)) {
		r = IKE_C_LIB;
		c = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
		if (c && EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer(c, pk) > 0)
			/* X25519: libcrypto fails on an all-zero result itself */
			r = EVP_PKEY_derive(c, out, &got) > 0 && got == want ?
			    IKE_C_OK : IKE_C_BAD_PEER;
	}
	/* RFC 7748 6.1 / RFC 8031 2.1: a zero shared secret means a small-order u */
	if (r == IKE_C_OK && dh->group == IKE_DH_CURVE25519 && all_zero(out, want))
		r = IKE_C_BAD_PEER;
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(pk);
	return r;
}

enum ike_crypto_res ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer,
				  size_t peer_len, uint8_t *out, size_t cap, size_t *len)
{
	size_t want = ike_dh_secret_len(dh->group);
	enum ike_crypto_res r;

	*len = 0;
	if (want == 0)
		return IKE_C_UNSUPPORTED;
	if (peer_len != ike_dh_public_len(dh->group))
		return IKE_C_BAD_PEER;          /* 3.4: wrong size for the group */
	if (cap < want)
		return IKE_C_BAD_LENGTH;
	if (!dh->pkey && !dh->x)
		return IKE_C_LIB;
	r = dh->group == IKE_DH_MODP_2048 ? modp_shared(dh, peer, out) :
					      ec_shared(dh, peer, peer_len, out, want);
	if (r != IKE_C_OK)
		ike_wipe(out, want);
	else
		*len = want;
	return r;
}
