/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SK and SKF payloads (RFC 7296 3.14, RFC 7383 2.5) with AES-GCM-16
 * (RFC 5282), ChaCha20-Poly1305 (RFC 7634) and AES-CBC with HMAC-SHA2
 * (RFC 3602, 4868), on OpenSSL 3's EVP interface. Decryption verifies
 * before it releases a byte: CBC checks the ICV before decrypting, AEAD
 * wipes its output when the tag does not verify.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ike_sk.h"

const char *ike_sk_strerror(enum ike_sk_res r)
{
	static const char *const names[IKE_SK__COUNT] = {
		[IKE_SK_OK] = "ok",
		[IKE_SK_UNSUPPORTED] = "unsupported-transform",
		[IKE_SK_BAD_KEY] = "bad-key-length",
		[IKE_SK_TRUNCATED] = "truncated",
		[IKE_SK_BAD_BLOCK] = "bad-block-length",
		[IKE_SK_BAD_ICV] = "bad-icv",
		[IKE_SK_BAD_PAD] = "bad-padding",
		[IKE_SK_NOSPACE] = "no-space",
		[IKE_SK_LIB] = "libcrypto-failure",
		[IKE_SK_NOT_FOUND] = "no-encrypted-payload",
	};

	return (unsigned)r < IKE_SK__COUNT ? names[r] : "unknown";
}

static const EVP_CIPHER *pick_cipher(uint16_t encr, uint16_t bits)
{
	switch (encr) {
	case IKE_ENCR_AES_GCM_16:
		return bits == 128 ? EVP_aes_128_gcm() : bits == 192 ? EVP_aes_192_gcm() :
		       bits == 256 ? EVP_aes_256_gcm() : NULL;
	case IKE_ENCR_AES_CBC:
		return bits == 128 ? EVP_aes_128_cbc() : bits == 192 ? EVP_aes_192_cbc() :
		       bits == 256 ? EVP_aes_256_cbc() : NULL;
	case IKE_ENCR_CHACHA20_POLY1305:
		return bits == 0 ? EVP_chacha20_poly1305() : NULL;
	default:
		return NULL;
	}
}

void ike_sk_key_wipe(struct ike_sk_key *k)
{
	ike_wipe(k, sizeof(*k));
}

/* An AEAD has no INTEG transform (RFC 5282 8); CBC needs one. */
static bool integ_fits(bool aead, uint16_t integ)
{
	size_t klen = ike_integ_key_len(integ);

	return aead ? integ == IKE_INTEG_NONE : klen != 0 && klen != SIZE_MAX;
}

enum ike_sk_res ike_sk_key_init(struct ike_sk_key *k, uint16_t encr, uint16_t bits,
				uint16_t integ, const uint8_t *sk_e, size_t e_len,
				const uint8_t *sk_a, size_t a_len)
{
	const EVP_CIPHER *c = pick_cipher(encr, bits);
	bool aead = encr != IKE_ENCR_AES_CBC;
	size_t salt = aead ? IKE_SK_SALT_LEN : 0;

	memset(k, 0, sizeof(*k));
	if (!c || !integ_fits(aead, integ))
		return IKE_SK_UNSUPPORTED;
	if (e_len != ike_encr_keymat_len(encr, bits) || a_len != ike_integ_key_len(integ))
		return IKE_SK_BAD_KEY;
	k->encr = encr;
	k->integ = integ;
	k->cipher = c;
	k->aead = aead;
	k->key_len = e_len - salt;              /* key first, then the salt */
	memcpy(k->key, sk_e, k->key_len);
	memcpy(k->salt, sk_e + k->key_len, salt);
	k->auth_len = a_len;
	if (a_len)
		memcpy(k->auth, sk_a, a_len);
	k->iv_len = aead ? IKE_SK_AEAD_IV_LEN : IKE_SK_CBC_BLOCK;
	k->icv_len = aead ? IKE_SK_AEAD_ICV_LEN : ike_integ_icv_len(integ);
	k->block = aead ? 1 : IKE_SK_CBC_BLOCK;
	return IKE_SK_OK;
}

/* Padding so that payloads, padding and Pad Length fill whole blocks. */
static size_t pad_len(const struct ike_sk_key *k, size_t pt_len)
{
	return (k->block - (pt_len + IKE_SK_PAD_LEN_LEN) % k->block) % k->block;
}

size_t ike_sk_body_len(const struct ike_sk_key *k, size_t pt_len)
{
	return k->iv_len + pt_len + pad_len(k, pt_len) + IKE_SK_PAD_LEN_LEN + k->icv_len;
}

static enum ike_sk_res fresh_iv(struct ike_sk_key *k, uint8_t *iv)
{
	if (!k->aead)                   /* RFC 3602 2.1: unpredictable */
		return RAND_bytes(iv, (int)k->iv_len) == 1 ? IKE_SK_OK : IKE_SK_LIB;
	uint64_t c = ++k->iv_counter;

	for (int i = IKE_SK_AEAD_IV_LEN - 1; i >= 0; i--, c >>= 8)
		iv[i] = (uint8_t)c;
	return IKE_SK_OK;
}

/* ---- AEAD (RFC 5282 3-5, RFC 7634 2-3) ------------------------------------- */

/* nonce = salt || IV; the tag follows the ciphertext. */
static bool aead_init(EVP_CIPHER_CTX *ctx, const struct ike_sk_key *k,
		      const uint8_t *iv, int enc)
{
	uint8_t nonce[IKE_SK_SALT_LEN + IKE_SK_AEAD_IV_LEN];
	bool ok;

	memcpy(nonce, k->salt, IKE_SK_SALT_LEN);
	memcpy(nonce + IKE_SK_SALT_LEN, iv, IKE_SK_AEAD_IV_LEN);
	ok = EVP_CipherInit_ex(ctx, k->cipher, NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, sizeof(nonce), NULL) == 1 &&
	     EVP_CipherInit_ex(ctx, NULL, NULL, k->key, nonce, enc) == 1;
	ike_wipe(nonce, sizeof(nonce));
	return ok;
}

static enum ike_sk_res aead_seal(const struct ike_sk_key *k, const uint8_t *aad,
				 size_t aad_len, const uint8_t *iv, uint8_t *ct,
				 size_t ct_len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l = 0, l2 = 0;
	bool ok = ctx && aead_init(ctx, k, iv, 1) &&
		  EVP_EncryptUpdate(ctx, NULL, &l, aad, (int)aad_len) == 1 &&
		  EVP_EncryptUpdate(ctx, ct, &l, ct, (int)ct_len) == 1 &&
		  EVP_EncryptFinal_ex(ctx, ct + l, &l2) == 1 &&
		  (size_t)(l + l2) == ct_len &&
		  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, (int)k->icv_len,
				      ct + ct_len) == 1;

	EVP_CIPHER_CTX_free(ctx);
	return ok ? IKE_SK_OK : IKE_SK_LIB;
}

static enum ike_sk_res aead_open(const struct ike_sk_key *k, const uint8_t *aad,
				 size_t aad_len, const uint8_t *iv, const uint8_t *ct,
				 size_t ct_len, uint8_t *pt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t tag[IKE_SK_AEAD_ICV_LEN];
	int l = 0, l2 = 0;
	enum ike_sk_res r = IKE_SK_LIB;

	memcpy(tag, ct + ct_len, sizeof(tag));
	if (ctx && aead_init(ctx, k, iv, 0) &&
	    EVP_DecryptUpdate(ctx, NULL, &l, aad, (int)aad_len) == 1 &&
	    EVP_DecryptUpdate(ctx, pt, &l, ct, (int)ct_len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof(tag), tag) == 1)
		r = EVP_DecryptFinal_ex(ctx, pt + l, &l2) == 1 ? IKE_SK_OK : IKE_SK_BAD_ICV;
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

/* ---- AES-CBC + HMAC (RFC 3602, RFC 4868; 3.14) ----------------------------- */

static enum ike_sk_res cbc_run(const struct ike_sk_key *k, const uint8_t *iv,
			       const uint8_t *in, uint8_t *out, size_t len, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l = 0, l2 = 0;
	bool ok = ctx && EVP_CipherInit_ex(ctx, k->cipher, NULL, k->key, iv, enc) == 1 &&
		  EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
		  EVP_CipherUpdate(ctx, out, &l, in, (int)len) == 1 &&
		  EVP_CipherFinal_ex(ctx, out + l, &l2) == 1 && (size_t)(l + l2) == len;

	EVP_CIPHER_CTX_free(ctx);
	return ok ? IKE_SK_OK : IKE_SK_LIB;
}

/* The ICV covers the message from the IKE header through the ciphertext. */
static enum ike_sk_res cbc_icv(const struct ike_sk_key *k, const uint8_t *msg,
			       size_t len, uint8_t *icv)
{
	struct ike_iov in = { msg, len };

	return ike_integ_mac(k->integ, k->auth, k->auth_len, &in, 1, icv) == IKE_C_OK ?
	       IKE_SK_OK : IKE_SK_LIB;
}

/* ---- Encrypt / decrypt ------------------------------------------------------ */

enum ike_sk_res ike_sk_encrypt(struct ike_sk_key *k, uint8_t *msg, size_t cap,
			       size_t aad_len, const uint8_t *pt, size_t pt_len,
			       const uint8_t *iv)
{
	size_t pad = pad_len(k, pt_len), ct_len = pt_len + pad + IKE_SK_PAD_LEN_LEN;
	uint8_t *ivp = msg + aad_len, *ct = ivp + k->iv_len;
	enum ike_sk_res r;

	if (!k->cipher)
		return IKE_SK_UNSUPPORTED;
	if (aad_len > cap || ike_sk_body_len(k, pt_len) > cap - aad_len ||
	    aad_len + ike_sk_body_len(k, pt_len) > IKE_MSG_MAX)
		return IKE_SK_NOSPACE;
	if (iv)
		memcpy(ivp, iv, k->iv_len);
	else if ((r = fresh_iv(k, ivp)) != IKE_SK_OK)
		return r;
	memmove(ct, pt, pt_len);
	memset(ct + pt_len, 0, pad);            /* 3.14: any value */
	ct[pt_len + pad] = (uint8_t)pad;
	if (k->aead)
		return aead_seal(k, msg, aad_len, ivp, ct, ct_len);
	r = cbc_run(k, ivp, ct, ct, ct_len, 1);
	return r == IKE_SK_OK ? cbc_icv(k, msg, aad_len + k->iv_len + ct_len, ct + ct_len) : r;
}

static enum ike_sk_res ct_len_of(const struct ike_sk_key *k, size_t msg_len,
				 size_t aad_len, size_t *ct_len)
{
	size_t body;

	if (aad_len > msg_len)
		return IKE_SK_TRUNCATED;
	body = msg_len - aad_len;
	if (body < k->iv_len + k->icv_len + k->block)
		return IKE_SK_TRUNCATED;        /* at least the Pad Length octet / a block */
	*ct_len = body - k->iv_len - k->icv_len;
	return *ct_len % k->block ? IKE_SK_BAD_BLOCK : IKE_SK_OK;
}

static enum ike_sk_res decrypt_body(const struct ike_sk_key *k, const uint8_t *msg,
				    size_t aad_len, size_t ct_len, uint8_t *pt)
{
	const uint8_t *iv = msg + aad_len, *ct = iv + k->iv_len;
	uint8_t icv[IKE_SK_ICV_MAX];
	enum ike_sk_res r;

	if (k->aead)
		return aead_open(k, msg, aad_len, iv, ct, ct_len, pt);
	r = cbc_icv(k, msg, aad_len + k->iv_len + ct_len, icv);
	if (r != IKE_SK_OK)
		return r;
	if (CRYPTO_memcmp(icv, ct + ct_len, k->icv_len) != 0)
		return IKE_SK_BAD_ICV;
	return cbc_run(k, iv, ct, pt, ct_len, 0);
}

enum ike_sk_res ike_sk_decrypt(const struct ike_sk_key *k, const uint8_t *msg, size_t msg_len,
			       size_t aad_len, uint8_t *pt, size_t cap, size_t *pt_len)
{
	size_t ct_len = 0;
	enum ike_sk_res r;

	*pt_len = 0;
	if (!k->cipher)
		return IKE_SK_UNSUPPORTED;
	r = ct_len_of(k, msg_len, aad_len, &ct_len);
	if (r != IKE_SK_OK)
		return r;
	if (ct_len > cap)
		return IKE_SK_NOSPACE;
	r = decrypt_body(k, msg, aad_len, ct_len, pt);
	if (r == IKE_SK_OK && (size_t)pt[ct_len - 1] + IKE_SK_PAD_LEN_LEN > ct_len)
		r = IKE_SK_BAD_PAD;
	if (r != IKE_SK_OK) {
		ike_wipe(pt, ct_len);
		return r;
	}
	*pt_len = ct_len - IKE_SK_PAD_LEN_LEN - pt[ct_len - 1];
	return IKE_SK_OK;
}

/* ---- On messages -------------------------------------------------------------- */

enum ike_sk_res ike_sk_seal(struct ike_sk_key *k, struct ike_buf *msg,
			    const struct ike_buf *inner, const uint8_t *iv)
{
	size_t need = IKE_GEN_HDR_LEN + ike_sk_body_len(k, inner->len);
	size_t start, old_link = msg->link;
	uint8_t old_val = old_link == IKE_NO_LINK ? 0 : msg->p[old_link];
	enum ike_sk_res r;

	if (!k->cipher)
		return IKE_SK_UNSUPPORTED;
	if (!msg->has_hdr || need > UINT16_MAX || need > msg->cap - msg->len)
		return IKE_SK_NOSPACE;
	if (ike_build_begin(msg, IKE_PL_SK, false, &start) != IKE_B_OK)
		return IKE_SK_NOSPACE;
	msg->p[start] = inner->first;           /* SK's next: the first inner payload */
	msg->len = start + need;
	if (ike_build_end(msg, start) != IKE_B_OK || ike_build_finish(msg) != IKE_B_OK)
		r = IKE_SK_NOSPACE;
	else
		r = ike_sk_encrypt(k, msg->p, msg->cap, start + IKE_GEN_HDR_LEN,
				   inner->p, inner->len, iv);
	if (r != IKE_SK_OK) {
		msg->len = start;
		msg->link = old_link;
		if (old_link != IKE_NO_LINK)
			msg->p[old_link] = old_val;
		return r;
	}
	msg->link = IKE_NO_LINK;                /* 3.14: nothing follows SK */
	return IKE_SK_OK;
}

enum ike_sk_res ike_sk_open(const struct ike_sk_key *k, const uint8_t *msg, size_t msg_len,
			    const struct ike_msg *m, uint8_t *pt, size_t cap, size_t *pt_len)
{
	const struct ike_payload *p;
	size_t aad_len;

	*pt_len = 0;
	if (m->chain.n == 0)
		return IKE_SK_NOT_FOUND;
	p = &m->chain.pl[m->chain.n - 1];
	if (p->type != IKE_PL_SK && p->type != IKE_PL_SKF)
		return IKE_SK_NOT_FOUND;
	aad_len = (size_t)(p->body - msg);
	if (aad_len + p->len != msg_len)
		return IKE_SK_TRUNCATED;
	if (p->type == IKE_PL_SKF) {
		if (p->len < IKE_SKF_HDR_LEN)
			return IKE_SK_TRUNCATED;
		aad_len += IKE_SKF_HDR_LEN;     /* RFC 7383 2.5: AAD through Total Fragments */
	}
	return ike_sk_decrypt(k, msg, msg_len, aad_len, pt, cap, pt_len);
}
