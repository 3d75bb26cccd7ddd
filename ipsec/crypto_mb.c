/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * intel-ipsec-mb 1.3 backend. One IMB_MGR per instance (alloc_mb_mgr +
 * init_mb_mgr_auto), so instances share no state and need no locks.
 *   AES-GCM            direct API with precomputed key data (gcm*_pre)
 *   ChaCha20-Poly1305  direct API (init / update / finalize)
 *   AES-CBC, HMAC      job API, one job submitted and flushed per call;
 *                      HMAC from precomputed ipad/opad digests (RFC 2104)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "crypto.h"

#define MB_ALIGN 64

struct mb_state {
	struct gcm_key_data gcm;                        /* 64-byte aligned */
	uint32_t enc_keys[60] __attribute__((aligned(16)));  /* AES-256: 15 */
	uint32_t dec_keys[60] __attribute__((aligned(16)));  /* round keys */
	uint8_t chacha_key[32] __attribute__((aligned(16)));
	uint8_t ipad[SN_HMAC_MAX_DIGEST] __attribute__((aligned(16)));
	uint8_t opad[SN_HMAC_MAX_DIGEST] __attribute__((aligned(16)));
	IMB_MGR *mgr;
	aes_gcm_enc_dec_t gcm_enc, gcm_dec;     /* 128 or 256, chosen once */
	uint64_t aes_key_len;
	IMB_HASH_ALG hash;
	uint8_t digest_len;
};

bool sn_crypto_mb_usable(void)
{
	return (imb_get_feature_flags() & IMB_FEATURE_AESNI) != 0;
}

/* ---- AEAD ------------------------------------------------------------------- */

static void mb_gcm_seal(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
			const uint8_t *aad, size_t aad_len, uint8_t *buf,
			size_t len, uint8_t tag[SN_AEAD_TAG_LEN])
{
	struct mb_state *s = be;
	struct gcm_context_data ctx;

	s->gcm_enc(&s->gcm, &ctx, buf, buf, len, nonce, aad, aad_len, tag,
		   SN_AEAD_TAG_LEN);
}

static int mb_tag_check(const uint8_t *want, const uint8_t *got, uint8_t *buf,
			size_t len)
{
	if (sn_crypto_memneq(want, got, SN_AEAD_TAG_LEN) == 0)
		return 0;
	sn_crypto_wipe(buf, len);       /* never hand out unverified plaintext */
	return -EBADMSG;
}

static int mb_gcm_open(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
		       const uint8_t *aad, size_t aad_len, uint8_t *buf,
		       size_t len, const uint8_t tag[SN_AEAD_TAG_LEN])
{
	struct mb_state *s = be;
	struct gcm_context_data ctx;
	uint8_t got[SN_AEAD_TAG_LEN];

	s->gcm_dec(&s->gcm, &ctx, buf, buf, len, nonce, aad, aad_len, got,
		   sizeof(got));
	return mb_tag_check(tag, got, buf, len);
}

static void mb_chacha_seal(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
			   const uint8_t *aad, size_t aad_len, uint8_t *buf,
			   size_t len, uint8_t tag[SN_AEAD_TAG_LEN])
{
	struct mb_state *s = be;
	struct chacha20_poly1305_context_data ctx;

	IMB_CHACHA20_POLY1305_INIT(s->mgr, s->chacha_key, &ctx, nonce, aad,
				   aad_len);
	IMB_CHACHA20_POLY1305_ENC_UPDATE(s->mgr, s->chacha_key, &ctx, buf, buf,
					 len);
	IMB_CHACHA20_POLY1305_ENC_FINALIZE(s->mgr, &ctx, tag, SN_AEAD_TAG_LEN);
	sn_crypto_wipe(&ctx, sizeof(ctx));      /* holds the Poly1305 key */
}

static int mb_chacha_open(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
			  const uint8_t *aad, size_t aad_len, uint8_t *buf,
			  size_t len, const uint8_t tag[SN_AEAD_TAG_LEN])
{
	struct mb_state *s = be;
	struct chacha20_poly1305_context_data ctx;
	uint8_t got[SN_AEAD_TAG_LEN];

	IMB_CHACHA20_POLY1305_INIT(s->mgr, s->chacha_key, &ctx, nonce, aad,
				   aad_len);
	IMB_CHACHA20_POLY1305_DEC_UPDATE(s->mgr, s->chacha_key, &ctx, buf, buf,
					 len);
	IMB_CHACHA20_POLY1305_DEC_FINALIZE(s->mgr, &ctx, got, sizeof(got));
	sn_crypto_wipe(&ctx, sizeof(ctx));      /* holds the Poly1305 key */
	return mb_tag_check(tag, got, buf, len);
}

/* ---- Job API: AES-CBC and HMAC ----------------------------------------------- */

static IMB_JOB *mb_job(IMB_MGR *m)
{
	IMB_JOB *j = IMB_GET_NEXT_JOB(m);

	memset(j, 0, sizeof(*j));
	return j;
}

/* Submits the job filled last and waits for it: nothing else is queued. */
static int mb_run(IMB_MGR *m)
{
	IMB_JOB *j = IMB_SUBMIT_JOB(m);

	if (!j)
		j = IMB_FLUSH_JOB(m);
	return j && j->status == IMB_STATUS_COMPLETED ? 0 : -EIO;
}

static void mb_cbc(struct mb_state *s, IMB_CIPHER_DIRECTION dir,
		   const uint8_t *iv, uint8_t *buf, size_t len)
{
	IMB_JOB *j = mb_job(s->mgr);

	j->cipher_mode = IMB_CIPHER_CBC;
	j->cipher_direction = dir;
	j->chain_order = dir == IMB_DIR_ENCRYPT ? IMB_ORDER_CIPHER_HASH
						: IMB_ORDER_HASH_CIPHER;
	j->hash_alg = IMB_AUTH_NULL;
	j->enc_keys = s->enc_keys;
	j->dec_keys = s->dec_keys;
	j->key_len_in_bytes = s->aes_key_len;
	j->src = buf;
	j->dst = buf;
	j->msg_len_to_cipher_in_bytes = len;
	j->iv = iv;
	j->iv_len_in_bytes = SN_CBC_IV_LEN;
	if (mb_run(s->mgr) != 0)
		sn_crypto_wipe(buf, len);       /* cannot happen with valid args */
}

static void mb_cbc_encrypt(void *be, const uint8_t iv[SN_CBC_IV_LEN],
			   uint8_t *buf, size_t len)
{
	mb_cbc(be, IMB_DIR_ENCRYPT, iv, buf, len);
}

static void mb_cbc_decrypt(void *be, const uint8_t iv[SN_CBC_IV_LEN],
			   uint8_t *buf, size_t len)
{
	mb_cbc(be, IMB_DIR_DECRYPT, iv, buf, len);
}

static void mb_hmac(void *be, const uint8_t *data, size_t len, uint8_t *out,
		    size_t out_len)
{
	struct mb_state *s = be;
	IMB_JOB *j = mb_job(s->mgr);
	uint8_t d[SN_HMAC_MAX_DIGEST];

	j->cipher_mode = IMB_CIPHER_NULL;
	j->cipher_direction = IMB_DIR_ENCRYPT;
	j->chain_order = IMB_ORDER_HASH_CIPHER;
	j->hash_alg = s->hash;
	j->src = data;
	j->dst = (uint8_t *)data;       /* NULL cipher over 0 bytes: untouched */
	j->msg_len_to_hash_in_bytes = len;
	j->u.HMAC._hashed_auth_key_xor_ipad = s->ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = s->opad;
	j->auth_tag_output = d;
	j->auth_tag_output_len_in_bytes = s->digest_len;
	if (mb_run(s->mgr) != 0)
		memset(d, 0, sizeof(d));        /* an ICV that will not verify */
	memcpy(out, d, out_len);
}

static void mb_free(void *be)
{
	struct mb_state *s = be;

	if (s->mgr)
		free_mb_mgr(s->mgr);    /* holds no key: jobs point at ours */
	sn_crypto_wipe(s, sizeof(*s));
	free(s);
}

#define MB_OPS(seal, open) {                                          \
	.name = "ipsec-mb", .aead_seal = seal, .aead_open = open,     \
	.cbc_encrypt = mb_cbc_encrypt, .cbc_decrypt = mb_cbc_decrypt, \
	.hmac = mb_hmac, .free = mb_free }

static const struct sn_crypto_ops mb_ops_gcm = MB_OPS(mb_gcm_seal, mb_gcm_open);
static const struct sn_crypto_ops mb_ops_chacha =
	MB_OPS(mb_chacha_seal, mb_chacha_open);

/* ---- Key set-up ----------------------------------------------------------------- */

static void mb_gcm_init(struct mb_state *s, const struct sn_crypto_keys *k)
{
	if (k->enc_key_len == 16) {
		IMB_AES128_GCM_PRE(s->mgr, k->enc_key, &s->gcm);
		s->gcm_enc = s->mgr->gcm128_enc;
		s->gcm_dec = s->mgr->gcm128_dec;
	} else {
		IMB_AES256_GCM_PRE(s->mgr, k->enc_key, &s->gcm);
		s->gcm_enc = s->mgr->gcm256_enc;
		s->gcm_dec = s->mgr->gcm256_dec;
	}
}

static void mb_cipher_init(struct mb_state *s, const struct sn_crypto_keys *k)
{
	switch (k->enc) {
	case SN_ENC_AES_GCM:
		mb_gcm_init(s, k);
		break;
	case SN_ENC_CHACHA20_POLY1305:
		memcpy(s->chacha_key, k->enc_key, sizeof(s->chacha_key));
		break;
	case SN_ENC_AES_CBC:
		s->aes_key_len = k->enc_key_len;
		if (k->enc_key_len == 16)
			IMB_AES_KEYEXP_128(s->mgr, k->enc_key, s->enc_keys,
					   s->dec_keys);
		else
			IMB_AES_KEYEXP_256(s->mgr, k->enc_key, s->enc_keys,
					   s->dec_keys);
		break;
	default:
		break;                  /* NULL / NONE */
	}
}

/* RFC 2104: digests of (K xor ipad) and (K xor opad), one block each. */
static void mb_hmac_pads(struct mb_state *s, const uint8_t *key, size_t len)
{
	uint8_t block[SN_HMAC_BLOCK], hashed[SN_HMAC_MAX_DIGEST];
	bool sha1 = s->hash == IMB_AUTH_HMAC_SHA_1;

	if (len > SN_HMAC_BLOCK) {      /* longer keys are hashed first */
		if (sha1)
			IMB_SHA1(s->mgr, key, len, hashed);
		else
			IMB_SHA256(s->mgr, key, len, hashed);
		key = hashed;
		len = s->digest_len;
	}
	for (int pass = 0; pass < 2; pass++) {
		uint8_t pad = pass == 0 ? 0x36 : 0x5c;
		uint8_t *dst = pass == 0 ? s->ipad : s->opad;

		memset(block, pad, sizeof(block));
		for (size_t i = 0; i < len; i++)
			block[i] ^= key[i];
		if (sha1)
			IMB_SHA1_ONE_BLOCK(s->mgr, block, dst);
		else
			IMB_SHA256_ONE_BLOCK(s->mgr, block, dst);
	}
	sn_crypto_wipe(block, sizeof(block));
	sn_crypto_wipe(hashed, sizeof(hashed));
}

static void mb_auth_init(struct mb_state *s, const struct sn_crypto_keys *k)
{
	if (k->auth == SN_AUTH_NONE)
		return;
	s->hash = k->auth == SN_AUTH_HMAC_SHA1_96 ? IMB_AUTH_HMAC_SHA_1
						  : IMB_AUTH_HMAC_SHA_256;
	s->digest_len = k->auth == SN_AUTH_HMAC_SHA1_96 ? 20 : 32;
	mb_hmac_pads(s, k->auth_key, k->auth_key_len);
}

int sn_crypto_mb_new(void **be, const struct sn_crypto_ops **ops,
		     const struct sn_crypto_keys *k)
{
	size_t size = (sizeof(struct mb_state) + MB_ALIGN - 1) & ~(size_t)(MB_ALIGN - 1);
	struct mb_state *s = aligned_alloc(MB_ALIGN, size);

	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->mgr = alloc_mb_mgr(0);
	if (!s->mgr) {
		mb_free(s);
		return -ENOMEM;
	}
	/* AES-CBC and HMAC go through the job API one packet at a time: the
	 * AVX-512 manager runs 16-lane SHA and 8-lane CBC code and pays for
	 * every lane on each flush (0.4 Gbit/s); the SSE manager hashes with
	 * the SHA extensions, one lane. AEADs use direct calls: the best
	 * manager for them is the newest. */
	if (sn_enc_is_aead(k->enc))
		init_mb_mgr_auto(s->mgr, NULL);
	else
		init_mb_mgr_sse(s->mgr);
	mb_cipher_init(s, k);
	mb_auth_init(s, k);
	*be = s;
	*ops = k->enc == SN_ENC_CHACHA20_POLY1305 ? &mb_ops_chacha : &mb_ops_gcm;
	return 0;
}
