/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 key material (RFC 7296 2.13, 2.14, 2.17, 2.18) and key exchange
 * (groups 31, 19, 20, 14), on OpenSSL 3's libcrypto. The PRFs are
 * HMAC-SHA2-256/384/512 (RFC 4868); the DH groups are Curve25519 (RFC 8031,
 * 7748), ECP-256 and ECP-384 (RFC 5903: public value x || y, shared secret
 * x) and MODP-2048 (RFC 3526). A peer's public value is checked before use.
 */
#ifndef SN_IKE_CRYPTO_H
#define SN_IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_wire.h"

enum ike_crypto_res {
	IKE_C_OK = 0,
	IKE_C_UNSUPPORTED,      /* an algorithm or group this code does not do */
	IKE_C_BAD_LENGTH,       /* an input or output length the algorithm forbids */
	IKE_C_BAD_PEER,         /* the peer's public value is invalid (2.x, RFC 5903 / 7748) */
	IKE_C_LIB,              /* libcrypto failed (memory, RNG) */
	IKE_C__COUNT
};

const char *ike_crypto_strerror(enum ike_crypto_res r);

#define IKE_CRYPTO_FN __attribute__((warn_unused_result))

#define IKE_PRF_MAX             64      /* SHA-512 output */
#define IKE_PRF_PLUS_MAX_ITER   255     /* 2.13: the counter is one octet */

/* One piece of a PRF's input; inputs are the concatenation of the pieces. */
struct ike_iov { const void *p; size_t len; };

/* Output length of a PRF transform (its preferred key length too), 0 if
 * unsupported. */
size_t ike_prf_len(uint16_t prf);
IKE_CRYPTO_FN enum ike_crypto_res ike_prf(uint16_t prf, const uint8_t *key, size_t klen,
					  const struct ike_iov *in, unsigned n, uint8_t *out);
/* 2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n); out_len at most
 * 255 outputs. */
IKE_CRYPTO_FN enum ike_crypto_res ike_prf_plus(uint16_t prf, const uint8_t *key, size_t klen,
					       const struct ike_iov *seed, unsigned n,
					       uint8_t *out, size_t out_len);

/* Key sizes of the negotiated transforms. encr: key plus salt (4 octets for
 * AES-GCM, RFC 5282 7.1, and ChaCha20-Poly1305, RFC 7634 2); 0 if not
 * supported. integ: 0 for NONE (an AEAD), SIZE_MAX if not supported. */
size_t ike_encr_keymat_len(uint16_t encr, uint16_t keylen_bits);
size_t ike_integ_key_len(uint16_t integ);
size_t ike_integ_icv_len(uint16_t integ);

/* INTEG transforms (RFC 4868 2.3): HMAC truncated to half its output;
 * icv gets ike_integ_icv_len(integ) octets. */
IKE_CRYPTO_FN enum ike_crypto_res ike_integ_mac(uint16_t integ, const uint8_t *key, size_t klen,
						const struct ike_iov *in, unsigned n, uint8_t *icv);

#define IKE_ENCR_KEYMAT_MAX     36      /* AES-256 or ChaCha20 key + 4 salt */
#define IKE_INTEG_KEY_MAX       64

struct ike_sa_keys {
	uint16_t prf;
	size_t   prf_len, integ_len, encr_len;
	uint8_t  d[IKE_PRF_MAX];
	uint8_t  ai[IKE_INTEG_KEY_MAX], ar[IKE_INTEG_KEY_MAX];
	uint8_t  ei[IKE_ENCR_KEYMAT_MAX], er[IKE_ENCR_KEYMAT_MAX];
	uint8_t  pi[IKE_PRF_MAX], pr[IKE_PRF_MAX];
};

/* 2.14: SKEYSEED = prf(Ni | Nr, g^ir); out gets ike_prf_len(prf) octets. */
IKE_CRYPTO_FN enum ike_crypto_res ike_skeyseed(uint16_t prf, const uint8_t *ni, size_t ni_len,
					       const uint8_t *nr, size_t nr_len,
					       const uint8_t *gir, size_t gir_len, uint8_t *out);
/* 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), for an IKE SA
 * rekey; gir may be NULL (0 length) only where no KE was exchanged. */
IKE_CRYPTO_FN enum ike_crypto_res ike_skeyseed_rekey(uint16_t prf, const uint8_t *old_d,
						     size_t d_len, const uint8_t *gir,
						     size_t gir_len, const uint8_t *ni,
						     size_t ni_len, const uint8_t *nr,
						     size_t nr_len, uint8_t *out);
/* 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *        = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). SPIs in wire order. */
IKE_CRYPTO_FN enum ike_crypto_res ike_derive_sa_keys(uint16_t prf, const uint8_t *skeyseed,
						     const uint8_t *ni, size_t ni_len,
						     const uint8_t *nr, size_t nr_len,
						     const uint8_t spii[IKE_SPI_LEN],
						     const uint8_t spir[IKE_SPI_LEN],
						     size_t encr_len, size_t integ_len,
						     struct ike_sa_keys *k);
/* 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr). */
IKE_CRYPTO_FN enum ike_crypto_res ike_child_keymat(uint16_t prf, const uint8_t *sk_d, size_t d_len,
						   const uint8_t *gir, size_t gir_len,
						   const uint8_t *ni, size_t ni_len,
						   const uint8_t *nr, size_t nr_len,
						   uint8_t *out, size_t out_len);

void ike_wipe(void *p, size_t n);
void ike_sa_keys_wipe(struct ike_sa_keys *k);

/* ---- Key exchange ---------------------------------------------------------- */

#define IKE_DH_PUB_MAX          256     /* MODP-2048 */
#define IKE_DH_SECRET_MAX       256

struct ike_dh {
	uint16_t group;
	void    *pkey;                  /* EVP_PKEY: X25519, ECP */
	void    *x;                     /* BIGNUM: MODP private exponent */
	void    *gx;                    /* BIGNUM: MODP public value */
};

/* The KE data length of a group (3.4), 0 if unsupported. */
size_t ike_dh_public_len(uint16_t group);
size_t ike_dh_secret_len(uint16_t group);
IKE_CRYPTO_FN enum ike_crypto_res ike_dh_generate(struct ike_dh *dh, uint16_t group);
/* A fixed private key, for published vectors: X25519 a 32-octet scalar,
 * ECP the big-endian scalar, MODP the big-endian exponent. */
IKE_CRYPTO_FN enum ike_crypto_res ike_dh_set_private(struct ike_dh *dh, uint16_t group,
						     const uint8_t *priv, size_t len);
IKE_CRYPTO_FN enum ike_crypto_res ike_dh_public(const struct ike_dh *dh, uint8_t *out,
						size_t cap, size_t *len);
IKE_CRYPTO_FN enum ike_crypto_res ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer,
						size_t peer_len, uint8_t *out, size_t cap,
						size_t *len);
void ike_dh_free(struct ike_dh *dh);

#endif
