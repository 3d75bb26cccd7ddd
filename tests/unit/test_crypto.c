/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto backends (ipsec/crypto.c, crypto_mb.c, crypto_mbedtls.c): every
 * published vector through every backend, the backends against each other
 * byte for byte, and the algorithm / key-length checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sa_algs.h"
#include "../../ipsec/crypto.h"

static const enum sn_crypto_backend backends[] = { SN_CRYPTO_MB,
						   SN_CRYPTO_MBEDTLS };
#define NBE (sizeof(backends) / sizeof(backends[0]))

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = *s >= '0' && *s <= '9' ? *s - '0' :
			*s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
			*s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;
		if (v < 0)
			continue;       /* spaces between groups */
		if (hi < 0) {
			hi = v;
			continue;
		}
		cr_assert_lt(n, cap, "hex longer than its buffer");
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	cr_assert_eq(hi, -1, "odd number of hex digits");
	return n;
}

static void fill(uint8_t *p, size_t n, uint8_t v)
{
	memset(p, v, n);
}

/* ---- HMAC vectors ----------------------------------------------------------- */

struct hmac_vec {
	const char *name;
	enum sn_auth_alg alg;
	const char *key_hex;            /* or NULL: key_len bytes of key_byte */
	size_t key_len;
	uint8_t key_byte;
	const char *data;               /* text, or NULL: data_len of data_byte */
	size_t data_len;
	uint8_t data_byte;
	const char *digest_hex;         /* full digest as published */
};

static const struct hmac_vec hmac_vecs[] = {
	/* RFC 2202 section 3, test cases 1-7 (HMAC-SHA-1) */
	{ "2202-1", SN_AUTH_HMAC_SHA1_96, NULL, 20, 0x0b, "Hi There", 0, 0,
	  "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "2202-2", SN_AUTH_HMAC_SHA1_96, "4a656665", 0, 0,
	  "what do ya want for nothing?", 0, 0,
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "2202-3", SN_AUTH_HMAC_SHA1_96, NULL, 20, 0xaa, NULL, 50, 0xdd,
	  "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ "2202-4", SN_AUTH_HMAC_SHA1_96,
	  "0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0,
	  NULL, 50, 0xcd, "4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ "2202-5", SN_AUTH_HMAC_SHA1_96, NULL, 20, 0x0c,
	  "Test With Truncation", 0, 0,
	  "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
	{ "2202-6", SN_AUTH_HMAC_SHA1_96, NULL, 80, 0xaa,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ "2202-7", SN_AUTH_HMAC_SHA1_96, NULL, 80, 0xaa,
	  "Test Using Larger Than Block-Size Key and Larger Than One "
	  "Block-Size Data", 0, 0,
	  "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
	/* RFC 4231 section 4, test cases 1-4, 6, 7 (HMAC-SHA-256); case 5
	 * is published truncated to 128 bits only */
	{ "4231-1", SN_AUTH_HMAC_SHA256_128, NULL, 20, 0x0b, "Hi There", 0, 0,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "4231-2", SN_AUTH_HMAC_SHA256_128, "4a656665", 0, 0,
	  "what do ya want for nothing?", 0, 0,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "4231-3", SN_AUTH_HMAC_SHA256_128, NULL, 20, 0xaa, NULL, 50, 0xdd,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "4231-4", SN_AUTH_HMAC_SHA256_128,
	  "0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0,
	  NULL, 50, 0xcd,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "4231-5", SN_AUTH_HMAC_SHA256_128, NULL, 20, 0x0c,
	  "Test With Truncation", 0, 0, "a3b6167473100ee06e0c796c2955552b" },
	{ "4231-6", SN_AUTH_HMAC_SHA256_128, NULL, 131, 0xaa,
	  "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "4231-7", SN_AUTH_HMAC_SHA256_128, NULL, 131, 0xaa,
	  "This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being "
	  "used by the HMAC algorithm.", 0, 0,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	/* RFC 4868 section 2.7.2.1, AUTH256-1..4: the 256-bit keys that
	 * HMAC-SHA-256-128 SAs use */
	{ "4868-AUTH256-1", SN_AUTH_HMAC_SHA256_128, NULL, 32, 0x0b,
	  "Hi There", 0, 0,
	  "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7" },
	{ "4868-AUTH256-2", SN_AUTH_HMAC_SHA256_128,
	  "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665",
	  0, 0, "what do ya want for nothing?", 0, 0,
	  "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6" },
	{ "4868-AUTH256-3", SN_AUTH_HMAC_SHA256_128, NULL, 32, 0xaa,
	  NULL, 50, 0xdd,
	  "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0" },
	{ "4868-AUTH256-4", SN_AUTH_HMAC_SHA256_128,
	  "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
	  0, 0, NULL, 50, 0xcd,
	  "372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3d7b30d3f" },
};

struct bytes {
	uint8_t b[256];
	size_t n;
};

static void vec_key(const struct hmac_vec *v, struct bytes *k)
{
	if (v->key_hex) {
		k->n = unhex(v->key_hex, k->b, sizeof(k->b));
	} else {
		k->n = v->key_len;
		fill(k->b, k->n, v->key_byte);
	}
}

static void vec_data(const struct hmac_vec *v, struct bytes *d)
{
	if (v->data) {
		d->n = strlen(v->data);
		memcpy(d->b, v->data, d->n);
	} else {
		d->n = v->data_len;
		fill(d->b, d->n, v->data_byte);
	}
}

/* One vector, one backend, one output length: the digest's prefix. */
static void check_hmac(const struct hmac_vec *v, enum sn_crypto_backend be,
		       size_t out_len)
{
	struct bytes k, d, want;
	uint8_t got[SN_HMAC_MAX_DIGEST];
	struct sn_crypto *c;
	const char *why = NULL;

	vec_key(v, &k);
	vec_data(v, &d);
	want.n = unhex(v->digest_hex, want.b, sizeof(want.b));
	if (out_len > want.n)
		return;
	cr_assert_eq(sn_crypto_new_hmac(&c, be, v->alg, k.b, k.n, out_len, &why),
		     0, "%s: %s", v->name, why);
	sn_crypto_hmac(c, d.b, d.n, got);
	cr_assert_arr_eq(got, want.b, out_len, "%s on %s, %zu bytes", v->name,
			 sn_crypto_backend_name(be), out_len);
	sn_crypto_free(c);
}

Test(crypto, hmac_vectors_every_backend_truncated_and_full)
{
	for (size_t i = 0; i < sizeof(hmac_vecs) / sizeof(hmac_vecs[0]); i++) {
		const struct hmac_vec *v = &hmac_vecs[i];
		size_t trunc = v->alg == SN_AUTH_HMAC_SHA1_96 ? 12 : 16;
		size_t full = v->alg == SN_AUTH_HMAC_SHA1_96 ? 20 : 32;

		for (size_t b = 0; b < NBE; b++) {
			check_hmac(v, backends[b], trunc);
			check_hmac(v, backends[b], full);
		}
	}
}

/* Vectors whose key has the SA key size also go through sn_crypto_new(),
 * the path SAs take (RFC 2404: 160-bit keys, RFC 4868: 256-bit keys). */
Test(crypto, hmac_vectors_through_sa_constructor)
{
	int used = 0;

	for (size_t i = 0; i < sizeof(hmac_vecs) / sizeof(hmac_vecs[0]); i++) {
		const struct hmac_vec *v = &hmac_vecs[i];
		size_t sa_key = v->alg == SN_AUTH_HMAC_SHA1_96 ? 20 : 32;
		struct bytes k, d, want;
		uint8_t got[SN_HMAC_MAX_DIGEST];

		vec_key(v, &k);
		if (k.n != sa_key)
			continue;
		vec_data(v, &d);
		want.n = unhex(v->digest_hex, want.b, sizeof(want.b));
		for (size_t b = 0; b < NBE; b++) {
			struct sn_crypto *c;

			cr_assert_eq(sn_crypto_new(&c, backends[b], SN_ENC_NONE, NULL, 0,
						   v->alg, k.b, k.n, 0, NULL), 0);
			sn_crypto_hmac(c, d.b, d.n, got);
			cr_assert_arr_eq(got, want.b, c->icv_len, "%s", v->name);
			sn_crypto_free(c);
		}
		used++;
	}
	cr_assert_geq(used, 6);
}

/* ---- Backends agree ----------------------------------------------------------------- */

static void rand_bytes(uint8_t *p, size_t n, unsigned *seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rand_r(seed) >> 7);
}


static void new_pair(const struct sa_alg *a, unsigned *seed,
		     struct sn_crypto *c[NBE])
{
	uint8_t ek[64], ak[64];

	rand_bytes(ek, sizeof(ek), seed);
	rand_bytes(ak, sizeof(ak), seed);
	for (size_t b = 0; b < NBE; b++)
		cr_assert_eq(sn_crypto_new(&c[b], backends[b], a->enc, ek, a->ekl,
					   a->auth, ak, a->akl, 0, NULL), 0,
			     "%s", a->name);
}

/* Same key, nonce, AAD and data: same ciphertext and tag; each backend
 * opens the other's output. */
static void aead_agree(struct sn_crypto *c[NBE], unsigned *seed)
{
	uint8_t iv[8], aad[12], buf[NBE][1600], tag[NBE][16];
	size_t len = (size_t)rand_r(seed) % 1500;

	rand_bytes(iv, sizeof(iv), seed);
	rand_bytes(aad, sizeof(aad), seed);
	rand_bytes(buf[0], len, seed);
	memcpy(buf[1], buf[0], len);
	for (size_t b = 0; b < NBE; b++)
		sn_crypto_aead_seal(c[b], iv, aad, 12, buf[b], len, tag[b]);
	cr_assert_arr_eq(buf[0], buf[1], len);
	cr_assert_arr_eq(tag[0], tag[1], 16);
	cr_assert_eq(sn_crypto_aead_open(c[1], iv, aad, 12, buf[0], len, tag[0]), 0);
	cr_assert_eq(sn_crypto_aead_open(c[0], iv, aad, 12, buf[1], len, tag[1]), 0);
	cr_assert_arr_eq(buf[0], buf[1], len);
	tag[0][len % 16] ^= 1;
	cr_assert_eq(sn_crypto_aead_open(c[1], iv, aad, 12, buf[1], len, tag[0]),
		     -EBADMSG);
}

static void cbc_hmac_agree(struct sn_crypto *c[NBE], unsigned *seed)
{
	uint8_t iv[16], buf[NBE][1600], icv[NBE][16];
	size_t len = ((size_t)rand_r(seed) % 94 + 1) * 16;

	rand_bytes(iv, sizeof(iv), seed);
	rand_bytes(buf[0], len, seed);
	memcpy(buf[1], buf[0], len);
	for (size_t b = 0; b < NBE; b++) {
		if (c[b]->kind == SN_CK_CBC_HMAC)
			sn_crypto_cbc_encrypt(c[b], iv, buf[b], len);
		sn_crypto_hmac(c[b], buf[b], len, icv[b]);
	}
	cr_assert_arr_eq(buf[0], buf[1], len);
	cr_assert_arr_eq(icv[0], icv[1], c[0]->icv_len);
	if (c[0]->kind != SN_CK_CBC_HMAC)
		return;
	sn_crypto_cbc_decrypt(c[1], iv, buf[0], len);
	sn_crypto_cbc_decrypt(c[0], iv, buf[1], len);
	cr_assert_arr_eq(buf[0], buf[1], len);
}

Test(crypto, backends_give_identical_bytes)
{
	unsigned seed = 4303;

	for (size_t i = 0; i < N_SA_ALGS; i++) {
		struct sn_crypto *c[NBE];

		for (int round = 0; round < 50; round++) {
			new_pair(&sa_algs[i], &seed, c);
			if (c[0]->kind == SN_CK_AEAD)
				aead_agree(c, &seed);
			else
				cbc_hmac_agree(c, &seed);
			for (size_t b = 0; b < NBE; b++)
				sn_crypto_free(c[b]);
		}
	}
}

/* ---- Checks at SA install ------------------------------------------------------------ */

struct conf_case {
	enum sn_enc_alg enc;
	size_t ekl;
	enum sn_auth_alg auth;
	size_t akl, icv;
	int rc;
};

static const struct conf_case conf_cases[] = {
	/* accepted: every algorithm of the issue, ICV 0 = the default */
	{ SN_ENC_AES_GCM, 20, SN_AUTH_NONE, 0, 0, 0 },
	{ SN_ENC_AES_GCM, 36, SN_AUTH_NONE, 0, 16, 0 },
	{ SN_ENC_CHACHA20_POLY1305, 36, SN_AUTH_NONE, 0, 0, 0 },
	{ SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA1_96, 20, 12, 0 },
	{ SN_ENC_AES_CBC, 32, SN_AUTH_HMAC_SHA256_128, 32, 0, 0 },
	{ SN_ENC_NULL, 0, SN_AUTH_HMAC_SHA1_96, 20, 0, 0 },
	{ SN_ENC_NULL, 0, SN_AUTH_HMAC_SHA256_128, 32, 16, 0 },
	{ SN_ENC_NONE, 0, SN_AUTH_HMAC_SHA1_96, 20, 0, 0 },
	{ SN_ENC_NONE, 0, SN_AUTH_HMAC_SHA256_128, 32, 0, 0 },
	/* rejected */
	{ SN_ENC_AES_GCM, 16, SN_AUTH_NONE, 0, 0, -EINVAL },    /* no salt */
	{ SN_ENC_AES_GCM, 28, SN_AUTH_NONE, 0, 0, -EINVAL },    /* AES-192 */
	{ SN_ENC_AES_GCM, 20, SN_AUTH_NONE, 0, 8, -EINVAL },    /* short ICV */
	{ SN_ENC_AES_GCM, 20, SN_AUTH_HMAC_SHA1_96, 20, 0, -EINVAL },
	{ SN_ENC_CHACHA20_POLY1305, 32, SN_AUTH_NONE, 0, 0, -EINVAL },
	{ SN_ENC_AES_CBC, 24, SN_AUTH_HMAC_SHA1_96, 20, 0, -EINVAL },
	{ SN_ENC_AES_CBC, 16, SN_AUTH_NONE, 0, 0, -EINVAL },    /* enc only */
	{ SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA1_96, 16, 0, -EINVAL },
	{ SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA1_96, 20, 16, -EINVAL },
	{ SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA256_128, 20, 0, -EINVAL },
	{ SN_ENC_NULL, 16, SN_AUTH_HMAC_SHA1_96, 20, 0, -EINVAL },
	{ SN_ENC_NULL, 0, SN_AUTH_NONE, 0, 0, -EINVAL },
	{ SN_ENC_NONE, 0, SN_AUTH_NONE, 0, 0, -EINVAL },
	{ (enum sn_enc_alg)99, 0, SN_AUTH_HMAC_SHA1_96, 20, 0, -EINVAL },
	{ SN_ENC_NULL, 0, (enum sn_auth_alg)99, 20, 0, -EINVAL },
};

Test(crypto, algorithm_and_key_length_table)
{
	uint8_t ek[64] = { 1 }, ak[64] = { 2 };

	for (size_t i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
		const struct conf_case *t = &conf_cases[i];

		for (size_t b = 0; b < NBE; b++) {
			struct sn_crypto *c = (struct sn_crypto *)1;
			const char *why = NULL;
			int rc = sn_crypto_new(&c, backends[b], t->enc, ek, t->ekl,
					       t->auth, ak, t->akl, t->icv, &why);

			cr_assert_eq(rc, t->rc, "case %zu: %d (%s)", i, rc,
				     why ? why : "");
			if (rc != 0) {
				cr_assert_null(c, "case %zu", i);
				cr_assert(why && *why, "case %zu has a reason", i);
			}
			sn_crypto_free(c);
		}
	}
}

Test(crypto, conf_constructor_and_salt)
{
	struct sn_sa_conf sa = { .enc = SN_ENC_AES_GCM, .enc_key_len = 20 };
	struct sn_crypto *c;

	for (int i = 0; i < 20; i++)
		sa.enc_key[i] = (uint8_t)i;
	cr_assert_eq(sn_crypto_new_conf(&c, SN_CRYPTO_MBEDTLS, &sa, NULL), 0);
	cr_assert_eq(c->icv_len, 16);
	cr_assert_eq(c->iv_len, 8);
	cr_assert_arr_eq(c->salt, ((uint8_t[]){ 16, 17, 18, 19 }), 4);
	sn_crypto_free(c);
}

Test(crypto, default_backend_and_env_override)
{
	enum sn_crypto_backend be;

	cr_assert_eq(sn_crypto_default(), sn_crypto_mb_usable() ? SN_CRYPTO_MB
							       : SN_CRYPTO_MBEDTLS);
	setenv("SN_CRYPTO", "mbedtls", 1);
	cr_assert_eq(sn_crypto_default(), SN_CRYPTO_MBEDTLS);
	setenv("SN_CRYPTO", "ipsec-mb", 1);
	cr_assert_eq(sn_crypto_default(), SN_CRYPTO_MB);
	unsetenv("SN_CRYPTO");
	cr_assert_eq(sn_crypto_backend_parse("MBEDTLS", &be), 0);
	cr_assert_eq(be, SN_CRYPTO_MBEDTLS);
	cr_assert_eq(sn_crypto_backend_parse("openssl", &be), -EINVAL);
}

Test(crypto, cbc_iv_generator_gives_distinct_ivs)
{
	uint8_t ek[16] = { 0 }, ak[20] = { 0 }, a[16], b[16];
	struct sn_crypto *c;

	cr_assert_eq(sn_crypto_new(&c, SN_CRYPTO_MB, SN_ENC_AES_CBC, ek, 16,
				   SN_AUTH_HMAC_SHA1_96, ak, 20, 0, NULL), 0);
	cr_assert_eq(sn_crypto_random(c, a, 16), 0);
	cr_assert_eq(sn_crypto_random(c, b, 16), 0);
	cr_assert(memcmp(a, b, 16) != 0);
	sn_crypto_free(c);
}

Test(crypto, memneq_is_a_comparison)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };

	cr_assert_eq(sn_crypto_memneq(a, b, 16), 0);
	for (int i = 0; i < 128; i++) {
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		cr_assert_eq(sn_crypto_memneq(a, b, 16), 1);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
}
