/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mbedTLS 2.28 backend: mbedtls_gcm, mbedtls_chachapoly, mbedtls_aes (CBC)
 * and mbedtls_md (HMAC). Portable; the fallback where the CPU has no
 * AES-NI. Each *_free of mbedTLS zeroizes its context.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>

#include "crypto.h"

struct mt_state {
	bool has_md;
	mbedtls_gcm_context gcm;
	mbedtls_chachapoly_context chacha;
	mbedtls_aes_context aes_enc, aes_dec;
	mbedtls_md_context_t md;
};

static void mt_gcm_seal(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
			const uint8_t *aad, size_t aad_len, uint8_t *buf,
			size_t len, uint8_t tag[SN_AEAD_TAG_LEN])
{
	struct mt_state *s = be;

	mbedtls_gcm_crypt_and_tag(&s->gcm, MBEDTLS_GCM_ENCRYPT, len, nonce,
				  SN_AEAD_NONCE_LEN, aad, aad_len, buf, buf,
				  SN_AEAD_TAG_LEN, tag);
}

/* Both opens compare the tag in constant time and wipe buf on failure. */
static int mt_gcm_open(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
		       const uint8_t *aad, size_t aad_len, uint8_t *buf,
		       size_t len, const uint8_t tag[SN_AEAD_TAG_LEN])
{
	struct mt_state *s = be;

	return mbedtls_gcm_auth_decrypt(&s->gcm, len, nonce, SN_AEAD_NONCE_LEN,
					aad, aad_len, tag, SN_AEAD_TAG_LEN, buf,
					buf) == 0 ? 0 : -EBADMSG;
}

static void mt_chacha_seal(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
			   const uint8_t *aad, size_t aad_len, uint8_t *buf,
			   size_t len, uint8_t tag[SN_AEAD_TAG_LEN])
{
	struct mt_state *s = be;

	mbedtls_chachapoly_encrypt_and_tag(&s->chacha, len, nonce, aad,
					   aad_len, buf, buf, tag);
}

static int mt_chacha_open(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
			  const uint8_t *aad, size_t aad_len, uint8_t *buf,
			  size_t len, const uint8_t tag[SN_AEAD_TAG_LEN])
{
	struct mt_state *s = be;

	return mbedtls_chachapoly_auth_decrypt(&s->chacha, len, nonce, aad,
					       aad_len, tag, buf, buf) == 0 ?
	       0 : -EBADMSG;
}

static void mt_cbc_encrypt(void *be, const uint8_t iv[SN_CBC_IV_LEN],
			   uint8_t *buf, size_t len)
{
	struct mt_state *s = be;
	uint8_t v[SN_CBC_IV_LEN];       /* mbedTLS updates the IV it is given */

	memcpy(v, iv, sizeof(v));
	mbedtls_aes_crypt_cbc(&s->aes_enc, MBEDTLS_AES_ENCRYPT, len, v, buf,
			      buf);
}

static void mt_cbc_decrypt(void *be, const uint8_t iv[SN_CBC_IV_LEN],
			   uint8_t *buf, size_t len)
{
	struct mt_state *s = be;
	uint8_t v[SN_CBC_IV_LEN];

	memcpy(v, iv, sizeof(v));
	mbedtls_aes_crypt_cbc(&s->aes_dec, MBEDTLS_AES_DECRYPT, len, v, buf,
			      buf);
}

static void mt_hmac(void *be, const uint8_t *data, size_t len, uint8_t *out,
		    size_t out_len)
{
	struct mt_state *s = be;
	uint8_t d[SN_HMAC_MAX_DIGEST];

	mbedtls_md_hmac_reset(&s->md);
	mbedtls_md_hmac_update(&s->md, data, len);
	mbedtls_md_hmac_finish(&s->md, d);
	memcpy(out, d, out_len);
	sn_crypto_wipe(d, sizeof(d));
}

static void mt_free(void *be)
{
	struct mt_state *s = be;

	mbedtls_gcm_free(&s->gcm);
	mbedtls_chachapoly_free(&s->chacha);
	mbedtls_aes_free(&s->aes_enc);
	mbedtls_aes_free(&s->aes_dec);
	if (s->has_md)
		mbedtls_md_free(&s->md);
	sn_crypto_wipe(s, sizeof(*s));
	free(s);
}

#define MT_OPS(seal, open) {                                          \
	.name = "mbedtls", .aead_seal = seal, .aead_open = open,      \
	.cbc_encrypt = mt_cbc_encrypt, .cbc_decrypt = mt_cbc_decrypt, \
	.hmac = mt_hmac, .free = mt_free }

/* One table per AEAD, chosen when the SA is installed. */
static const struct sn_crypto_ops mt_ops_gcm = MT_OPS(mt_gcm_seal, mt_gcm_open);
static const struct sn_crypto_ops mt_ops_chacha =
	MT_OPS(mt_chacha_seal, mt_chacha_open);

/* ---- Key set-up ----------------------------------------------------------- */

static int mt_cipher_init(struct mt_state *s, const struct sn_crypto_keys *k)
{
	unsigned bits = (unsigned)k->enc_key_len * 8;

	switch (k->enc) {
	case SN_ENC_AES_GCM:
		return mbedtls_gcm_setkey(&s->gcm, MBEDTLS_CIPHER_ID_AES,
					  k->enc_key, bits);
	case SN_ENC_CHACHA20_POLY1305:
		return mbedtls_chachapoly_setkey(&s->chacha, k->enc_key);
	case SN_ENC_AES_CBC:
		if (mbedtls_aes_setkey_enc(&s->aes_enc, k->enc_key, bits) != 0)
			return -1;
		return mbedtls_aes_setkey_dec(&s->aes_dec, k->enc_key, bits);
	default:
		return 0;               /* NULL / NONE */
	}
}

static int mt_md_init(struct mt_state *s, const struct sn_crypto_keys *k)
{
	mbedtls_md_type_t t = k->auth == SN_AUTH_HMAC_SHA1_96 ?
			      MBEDTLS_MD_SHA1 : MBEDTLS_MD_SHA256;

	if (k->auth == SN_AUTH_NONE)
		return 0;
	mbedtls_md_init(&s->md);
	s->has_md = true;
	if (mbedtls_md_setup(&s->md, mbedtls_md_info_from_type(t), 1) != 0)
		return -1;
	/* mbedTLS hashes keys longer than a block, as RFC 2104 says */
	return mbedtls_md_hmac_starts(&s->md, k->auth_key, k->auth_key_len);
}

int sn_crypto_mbedtls_new(void **be, const struct sn_crypto_ops **ops,
			  const struct sn_crypto_keys *k)
{
	struct mt_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	mbedtls_gcm_init(&s->gcm);
	mbedtls_chachapoly_init(&s->chacha);
	mbedtls_aes_init(&s->aes_enc);
	mbedtls_aes_init(&s->aes_dec);
	if (mt_cipher_init(s, k) != 0 || mt_md_init(s, k) != 0) {
		mt_free(s);
		return -EINVAL;
	}
	*be = s;
	*ops = k->enc == SN_ENC_CHACHA20_POLY1305 ? &mt_ops_chacha : &mt_ops_gcm;
	return 0;
}
