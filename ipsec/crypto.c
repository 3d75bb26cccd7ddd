/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto backend selection and the helpers both backends share: checking
 * algorithms and key lengths (once, at SA install), the CBC IV generator,
 * constant-time comparison, wiping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/platform_util.h>

#include "crypto.h"

/* ---- Algorithm table ------------------------------------------------------ */

struct enc_spec {
	uint8_t kind, iv_len, block;
	uint8_t key_len[2];             /* accepted lengths, salt included */
	const char *why_key;
};

/* Indexed by enum sn_enc_alg. RFC 4303 2.4: 4-byte alignment at least. */
static const struct enc_spec enc_specs[] = {
	[SN_ENC_NONE] = { SN_CK_HMAC, 0, 4, { 0, 0 }, "AH takes no encryption key" },
	[SN_ENC_NULL] = { SN_CK_HMAC, 0, 4, { 0, 0 },
			  "ecb(cipher_null) takes no key" },
	[SN_ENC_AES_CBC] = { SN_CK_CBC_HMAC, SN_CBC_IV_LEN, SN_AES_BLOCK,
			     { 16, 32 }, "cbc(aes) needs a 128 or 256-bit key" },
	[SN_ENC_AES_GCM] = { SN_CK_AEAD, SN_AEAD_IV_LEN, 4, { 20, 36 },
			     "rfc4106(gcm(aes)) needs a 128 or 256-bit key "
			     "followed by a 4-byte salt (20 or 36 bytes)" },
	[SN_ENC_CHACHA20_POLY1305] = { SN_CK_AEAD, SN_AEAD_IV_LEN, 4, { 36, 36 },
			"rfc7539esp(chacha20,poly1305) needs a 256-bit key "
			"followed by a 4-byte salt (36 bytes)" },
};

struct auth_spec {
	uint8_t key_len, icv_len, digest_len;
	uint8_t icv_alt;                /* another accepted truncation, 0 = none */
	const char *why_key, *why_icv;
};

static const struct auth_spec auth_specs[] = {
	[SN_AUTH_NONE] = { 0, 0, 0, 0, "", "" },
	[SN_AUTH_HMAC_SHA1_96] = { 20, 12, 20, 0,
		"hmac(sha1) needs a 160-bit key (RFC 2404)",
		"hmac(sha1) has a 96-bit ICV (RFC 2404)" },
	/* 96 bits too: what Linux gives `auth hmac(sha256)` (the pre-RFC 4868
	 * draft's truncation, kept by the kernel for compatibility). */
	[SN_AUTH_HMAC_SHA256_128] = { 32, 16, 32, 12,
		"hmac(sha256) needs a 256-bit key (RFC 4868)",
		"hmac(sha256) has a 128-bit ICV (RFC 4868) or 96 bits (Linux)" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

static bool enc_key_ok(const struct enc_spec *e, size_t len)
{
	return len == e->key_len[0] || len == e->key_len[1];
}

/* Which pairs make an SA: AEAD alone; CBC, NULL and AH with an HMAC. */
static int check_pair(enum sn_enc_alg enc, enum sn_auth_alg auth,
		      const char **why)
{
	if ((unsigned)enc >= NELEM(enc_specs))
		return fail(why, "unknown encryption algorithm");
	if ((unsigned)auth >= NELEM(auth_specs))
		return fail(why, "unknown authentication algorithm");
	if (sn_enc_is_aead(enc) && auth != SN_AUTH_NONE)
		return fail(why, "an AEAD algorithm takes no separate auth "
			    "algorithm");
	if (!sn_enc_is_aead(enc) && auth == SN_AUTH_NONE)
		return fail(why, "this algorithm needs an integrity algorithm "
			    "(hmac(sha1) or hmac(sha256)); encryption-only ESP "
			    "is not supported");
	return 0;
}

static int check_keys(enum sn_enc_alg enc, size_t enc_key_len,
		      enum sn_auth_alg auth, size_t auth_key_len,
		      size_t *icv_len, const char **why)
{
	const struct enc_spec *e = &enc_specs[enc];
	const struct auth_spec *a = &auth_specs[auth];
	size_t want_icv = auth == SN_AUTH_NONE ? SN_AEAD_TAG_LEN : a->icv_len;

	if (!enc_key_ok(e, enc_key_len))
		return fail(why, e->why_key);
	if (auth != SN_AUTH_NONE && auth_key_len != a->key_len)
		return fail(why, a->why_key);
	if (auth == SN_AUTH_NONE && auth_key_len != 0)
		return fail(why, "an AEAD algorithm takes no auth key");
	if (*icv_len == 0)
		*icv_len = want_icv;
	if (*icv_len != want_icv && !(a->icv_alt && *icv_len == a->icv_alt))
		return fail(why, auth == SN_AUTH_NONE ?
			    "AEAD ICV must be 128 bits" : a->why_icv);
	return 0;
}

/* ---- CBC IV generator --------------------------------------------------------- */

static int getrandom_entropy(void *ctx, unsigned char *out, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(out + got, len - got, 0);

		if (n < 0 && errno != EINTR)
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

static int rng_new(struct sn_crypto *c)
{
	static const unsigned char pers[] = "sealnet esp cbc iv";
	mbedtls_ctr_drbg_context *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	mbedtls_ctr_drbg_init(d);
	if (mbedtls_ctr_drbg_seed(d, getrandom_entropy, NULL, pers,
				  sizeof(pers) - 1) != 0) {
		mbedtls_ctr_drbg_free(d);
		free(d);
		return -EIO;
	}
	c->rng = d;
	return 0;
}

int sn_crypto_random(struct sn_crypto *c, uint8_t *out, size_t n)
{
	if (!c->rng)
		return -EINVAL;
	return mbedtls_ctr_drbg_random(c->rng, out, n) == 0 ? 0 : -EIO;
}

/* ---- Instances ---------------------------------------------------------------- */

static int backend_new(struct sn_crypto *c, const struct sn_crypto_keys *k)
{
	if (c->backend == SN_CRYPTO_MB)
		return sn_crypto_mb_usable() ? sn_crypto_mb_new(&c->be, &c->ops, k)
					     : -ENOTSUP;
	return sn_crypto_mbedtls_new(&c->be, &c->ops, k);
}

/* Fills the instance from checked parameters and makes its backend. */
static int make(struct sn_crypto **out, enum sn_crypto_backend be,
		const struct sn_crypto_keys *k, size_t icv_len)
{
	const struct enc_spec *e = &enc_specs[k->enc];
	struct sn_crypto *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	*c = (struct sn_crypto){ .backend = be, .kind = e->kind, .enc = k->enc,
				 .auth = k->auth, .icv_len = (uint8_t)icv_len,
				 .iv_len = e->iv_len, .block = e->block };
	rc = backend_new(c, k);
	if (rc == 0 && c->kind == SN_CK_CBC_HMAC)
		rc = rng_new(c);
	if (rc != 0) {
		sn_crypto_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int sn_crypto_new(struct sn_crypto **out, enum sn_crypto_backend be,
		  enum sn_enc_alg enc, const uint8_t *enc_key, size_t enc_key_len,
		  enum sn_auth_alg auth, const uint8_t *auth_key,
		  size_t auth_key_len, size_t icv_len, const char **why)
{
	struct sn_crypto_keys k = { enc, enc_key, enc_key_len, auth, auth_key,
				    auth_key_len };
	int rc;

	*out = NULL;
	if ((unsigned)be >= SN_CRYPTO_NBACKENDS)
		return fail(why, "unknown crypto backend");
	rc = check_pair(enc, auth, why);
	if (rc == 0)
		rc = check_keys(enc, enc_key_len, auth, auth_key_len, &icv_len,
				why);
	if (rc != 0)
		return rc;
	if (sn_enc_is_aead(enc))
		k.enc_key_len -= SN_IPSEC_SALT_LEN;     /* salt is last */
	rc = make(out, be, &k, icv_len);
	if (rc == 0 && sn_enc_is_aead(enc))
		memcpy((*out)->salt, enc_key + k.enc_key_len, SN_IPSEC_SALT_LEN);
	if (rc == -ENOTSUP && why)
		*why = "crypto backend not usable on this CPU";
	return rc;
}

int sn_crypto_new_conf(struct sn_crypto **out, enum sn_crypto_backend be,
		       const struct sn_sa_conf *sa, const char **why)
{
	return sn_crypto_new(out, be, sa->enc, sa->enc_key, sa->enc_key_len,
			     sa->auth, sa->auth_key, sa->auth_key_len,
			     sa->icv_len, why);
}

int sn_crypto_new_hmac(struct sn_crypto **out, enum sn_crypto_backend be,
		       enum sn_auth_alg auth, const uint8_t *key,
		       size_t key_len, size_t icv_len, const char **why)
{
	struct sn_crypto_keys k = { SN_ENC_NONE, NULL, 0, auth, key, key_len };
	size_t digest;

	*out = NULL;
	if ((unsigned)be >= SN_CRYPTO_NBACKENDS)
		return fail(why, "unknown crypto backend");
	if (auth == SN_AUTH_NONE || (unsigned)auth >= NELEM(auth_specs))
		return fail(why, "unknown authentication algorithm");
	digest = auth_specs[auth].digest_len;
	if (icv_len == 0)
		icv_len = digest;
	/* RFC 2104 section 5: at least half the digest and 80 bits; 12 bytes
	 * also leaves room for ESN's seq_hi in the ICV field */
	if (icv_len > digest || icv_len < 12)
		return fail(why, "ICV must be 12 bytes up to the digest length");
	if (key_len > 1024)
		return fail(why, "HMAC key longer than 1024 bytes");
	return make(out, be, &k, icv_len);
}

void sn_crypto_free(struct sn_crypto *c)
{
	if (!c)
		return;
	if (c->be)
		c->ops->free(c->be);
	if (c->rng) {
		mbedtls_ctr_drbg_free(c->rng);  /* zeroizes its state */
		free(c->rng);
	}
	sn_crypto_wipe(c, sizeof(*c));
	free(c);
}

/* ---- Backend choice ------------------------------------------------------------- */

static const char *const backend_names[SN_CRYPTO_NBACKENDS] = {
	[SN_CRYPTO_MB] = "ipsec-mb",
	[SN_CRYPTO_MBEDTLS] = "mbedtls",
};

const char *sn_crypto_backend_name(enum sn_crypto_backend be)
{
	return (unsigned)be < SN_CRYPTO_NBACKENDS ? backend_names[be] : "?";
}

int sn_crypto_backend_parse(const char *name, enum sn_crypto_backend *out)
{
	for (int i = 0; i < SN_CRYPTO_NBACKENDS; i++) {
		if (strcasecmp(name, backend_names[i]) == 0) {
			*out = (enum sn_crypto_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum sn_crypto_backend sn_crypto_default(void)
{
	const char *env = getenv("SN_CRYPTO");
	enum sn_crypto_backend be;

	if (env && *env && sn_crypto_backend_parse(env, &be) == 0)
		return be;
	return sn_crypto_mb_usable() ? SN_CRYPTO_MB : SN_CRYPTO_MBEDTLS;
}

/* ---- Helpers -------------------------------------------------------------------- */

int sn_crypto_memneq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

void sn_crypto_wipe(void *p, size_t n)
{
	mbedtls_platform_zeroize(p, n);
}
