/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto backends for ESP and AH: a handful of direct functions.
 *
 * An instance (struct sn_crypto) holds one SA's keys, expanded once when
 * the SA is installed, and the backend's function table chosen at the same
 * time, so per-packet calls never branch on configuration (STYLE habit 7).
 * Two backends give identical bytes for identical inputs:
 *   SN_CRYPTO_MB       intel-ipsec-mb 1.3 (AES-NI/VAES; the default where
 *                      the CPU has AES-NI), one IMB_MGR per instance
 *   SN_CRYPTO_MBEDTLS  mbedTLS 2.28 (portable)
 * Keys and key schedules are wiped in sn_crypto_free(), the one exit path.
 *
 * Algorithms and key sizes (RFC 4106, 7634, 3602, 2404, 4868, 2410):
 *   AES-GCM             16+4 or 32+4 key bytes (salt last), ICV 16
 *   ChaCha20-Poly1305   32+4 key bytes (salt last), ICV 16
 *   AES-CBC             16 or 32, with an HMAC below
 *   NULL (ESP) / NONE (AH) with an HMAC below
 *   HMAC-SHA1-96        20-byte key, ICV 12
 *   HMAC-SHA-256-128    32-byte key, ICV 16
 */
#ifndef SN_CRYPTO_H
#define SN_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sn_ipsec.h"

#define SN_CRYPTO_MUST __attribute__((warn_unused_result))

#define SN_AES_BLOCK      16
#define SN_AEAD_IV_LEN    8     /* RFC 4106 / 7634 explicit IV */
#define SN_AEAD_NONCE_LEN 12    /* salt || explicit IV */
#define SN_AEAD_TAG_LEN   16
#define SN_CBC_IV_LEN     16    /* RFC 3602 */
#define SN_HMAC_MAX_DIGEST 32   /* SHA-256 */
#define SN_HMAC_BLOCK     64    /* SHA-1 and SHA-256 block size */

enum sn_crypto_backend {
	SN_CRYPTO_MB = 0,               /* intel-ipsec-mb */
	SN_CRYPTO_MBEDTLS,              /* mbedTLS */
	SN_CRYPTO_NBACKENDS
};

/* What ESP does with an SA, chosen when the instance is made. */
enum sn_crypto_kind {
	SN_CK_AEAD = 0,                 /* AES-GCM, ChaCha20-Poly1305 */
	SN_CK_CBC_HMAC,                 /* AES-CBC then HMAC (encrypt-then-MAC) */
	SN_CK_HMAC,                     /* ESP NULL encryption, or AH */
	SN_CK_NKINDS
};

/* A backend's per-packet operations. "be" is the backend's own state. */
struct sn_crypto_ops {
	const char *name;
	/* AEAD in place over buf[0..len): nonce = salt || iv (12 bytes). */
	void (*aead_seal)(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
			  const uint8_t *aad, size_t aad_len, uint8_t *buf,
			  size_t len, uint8_t tag[SN_AEAD_TAG_LEN]);
	/* Returns 0, or -EBADMSG when the tag does not verify (buf wiped). */
	int (*aead_open)(void *be, const uint8_t nonce[SN_AEAD_NONCE_LEN],
			 const uint8_t *aad, size_t aad_len, uint8_t *buf,
			 size_t len, const uint8_t tag[SN_AEAD_TAG_LEN]);
	/* AES-CBC in place; len is a multiple of 16. */
	void (*cbc_encrypt)(void *be, const uint8_t iv[SN_CBC_IV_LEN],
			    uint8_t *buf, size_t len);
	void (*cbc_decrypt)(void *be, const uint8_t iv[SN_CBC_IV_LEN],
			    uint8_t *buf, size_t len);
	/* HMAC over data[0..len), truncated to out_len bytes. */
	void (*hmac)(void *be, const uint8_t *data, size_t len, uint8_t *out,
		     size_t out_len);
	void (*free)(void *be);         /* wipes every key, then frees */
};

/* One SA's crypto. Read-only after sn_crypto_new(); fields are for the
 * ESP/AH code in this folder. */
struct sn_crypto {
	const struct sn_crypto_ops *ops;
	void *be;                       /* backend state (keys, schedules) */
	void *rng;                      /* CBC only: IV generator (crypto.c) */
	enum sn_crypto_backend backend;
	enum sn_crypto_kind kind;
	enum sn_enc_alg enc;
	enum sn_auth_alg auth;
	uint8_t icv_len;                /* bytes */
	uint8_t iv_len;                 /* bytes on the wire: 0, 8 or 16 */
	uint8_t block;                  /* ESP ciphertext alignment: 16 or 4 */
	uint8_t salt[SN_IPSEC_SALT_LEN];        /* AEAD nonce salt */
};

/*
 * Make an instance. Checks the algorithms and key lengths above; icv_len 0
 * means the algorithm's ICV length. Returns 0, -EINVAL (with *why set to a
 * sentence for a configuration error message; why may be NULL), -ENOMEM,
 * or -ENOTSUP (backend not usable on this machine).
 */
int sn_crypto_new(struct sn_crypto **out, enum sn_crypto_backend be,
		  enum sn_enc_alg enc, const uint8_t *enc_key, size_t enc_key_len,
		  enum sn_auth_alg auth, const uint8_t *auth_key,
		  size_t auth_key_len, size_t icv_len, const char **why)
	SN_CRYPTO_MUST;

/* The same from a configured SA (sn_ipsec.h). */
int sn_crypto_new_conf(struct sn_crypto **out, enum sn_crypto_backend be,
		       const struct sn_sa_conf *sa, const char **why)
	SN_CRYPTO_MUST;

/*
 * An HMAC-only instance with a key of any length (hashed when longer than
 * a block): for IKEv2's PRF and for the RFC 2202 / 4231 vectors. SAs go
 * through sn_crypto_new(), which enforces RFC 2404 / 4868 key sizes.
 */
int sn_crypto_new_hmac(struct sn_crypto **out, enum sn_crypto_backend be,
		       enum sn_auth_alg auth, const uint8_t *key,
		       size_t key_len, size_t icv_len, const char **why)
	SN_CRYPTO_MUST;

/* Wipes every key and key schedule, then frees. NULL is allowed. */
void sn_crypto_free(struct sn_crypto *c);

/* intel-ipsec-mb where the CPU has AES-NI, else mbedTLS; the environment
 * variable SN_CRYPTO=mbedtls|ipsec-mb overrides. */
enum sn_crypto_backend sn_crypto_default(void);
const char *sn_crypto_backend_name(enum sn_crypto_backend be);
/* Parses "mbedtls" / "ipsec-mb"; -EINVAL otherwise. */
int sn_crypto_backend_parse(const char *name, enum sn_crypto_backend *out)
	SN_CRYPTO_MUST;

/* Fills n bytes from the instance's CSPRNG (CTR_DRBG seeded by getrandom).
 * Only instances of kind SN_CK_CBC_HMAC have one; returns -EINVAL else. */
int sn_crypto_random(struct sn_crypto *c, uint8_t *out, size_t n)
	SN_CRYPTO_MUST;

/* Constant-time comparison: 0 when equal. No branch on the contents. */
int sn_crypto_memneq(const void *a, const void *b, size_t n);

/* Best-effort wipe that the compiler does not remove. */
void sn_crypto_wipe(void *p, size_t n);

/* ---- Per-packet calls (inline: one indirect call each) ----------------- */

static inline void sn_crypto_nonce(const struct sn_crypto *c,
				   const uint8_t iv[SN_AEAD_IV_LEN],
				   uint8_t nonce[SN_AEAD_NONCE_LEN])
{
	/* RFC 4106 section 4, RFC 7634 section 2: salt || explicit IV */
	for (int i = 0; i < SN_IPSEC_SALT_LEN; i++)
		nonce[i] = c->salt[i];
	for (int i = 0; i < SN_AEAD_IV_LEN; i++)
		nonce[SN_IPSEC_SALT_LEN + i] = iv[i];
}

static inline void sn_crypto_aead_seal(struct sn_crypto *c,
				       const uint8_t iv[SN_AEAD_IV_LEN],
				       const uint8_t *aad, size_t aad_len,
				       uint8_t *buf, size_t len, uint8_t *tag)
{
	uint8_t nonce[SN_AEAD_NONCE_LEN];

	sn_crypto_nonce(c, iv, nonce);
	c->ops->aead_seal(c->be, nonce, aad, aad_len, buf, len, tag);
}

static inline int sn_crypto_aead_open(struct sn_crypto *c,
				      const uint8_t iv[SN_AEAD_IV_LEN],
				      const uint8_t *aad, size_t aad_len,
				      uint8_t *buf, size_t len,
				      const uint8_t *tag)
{
	uint8_t nonce[SN_AEAD_NONCE_LEN];

	sn_crypto_nonce(c, iv, nonce);
	return c->ops->aead_open(c->be, nonce, aad, aad_len, buf, len, tag);
}

static inline void sn_crypto_cbc_encrypt(struct sn_crypto *c,
					 const uint8_t *iv, uint8_t *buf,
					 size_t len)
{
	c->ops->cbc_encrypt(c->be, iv, buf, len);
}

static inline void sn_crypto_cbc_decrypt(struct sn_crypto *c,
					 const uint8_t *iv, uint8_t *buf,
					 size_t len)
{
	c->ops->cbc_decrypt(c->be, iv, buf, len);
}

/* HMAC truncated to the instance's ICV length. */
static inline void sn_crypto_hmac(struct sn_crypto *c, const uint8_t *data,
				  size_t len, uint8_t *icv)
{
	c->ops->hmac(c->be, data, len, icv, c->icv_len);
}

/* ---- Backends (crypto_mb.c, crypto_mbedtls.c) ---------------------------- */

/* Key material as validated by crypto.c; the backend copies what it needs. */
struct sn_crypto_keys {
	enum sn_enc_alg enc;
	const uint8_t *enc_key;         /* salt removed for AEAD */
	size_t enc_key_len;
	enum sn_auth_alg auth;
	const uint8_t *auth_key;
	size_t auth_key_len;
};

/* Each returns 0, the backend state and the function table for these
 * algorithms (chosen once, here), or a negative errno. */
int sn_crypto_mb_new(void **be, const struct sn_crypto_ops **ops,
		     const struct sn_crypto_keys *k) SN_CRYPTO_MUST;
int sn_crypto_mbedtls_new(void **be, const struct sn_crypto_ops **ops,
			  const struct sn_crypto_keys *k) SN_CRYPTO_MUST;
bool sn_crypto_mb_usable(void);

#endif
