/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Encrypted payload (RFC 7296 3.14) and Encrypted Fragment payload
 * (RFC 7383 2.5): encrypt, and verify-then-decrypt, with the negotiated
 * IKE SA transform:
 *   - AES-GCM-16 (RFC 5282): 8-octet IV, nonce = 4-octet salt || IV,
 *     16-octet ICV, AAD = the message from the IKE header through the SK
 *     header (for SKF, through its Fragment Number and Total Fragments);
 *   - ChaCha20-Poly1305 (RFC 7634): the same layout;
 *   - AES-CBC (RFC 3602) with HMAC-SHA2-256-128/384-192/512-256 (RFC 4868):
 *     random 16-octet IV, padding to the block, ICV = HMAC over the message
 *     from the IKE header through the ciphertext, truncated.
 * The plaintext is the inner payloads, then padding, then the Pad Length
 * octet. Lengths are checked before anything is read or written.
 */
#ifndef SN_IKE_SK_H
#define SN_IKE_SK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_build.h"
#include "ike_crypto.h"

enum ike_sk_res {
	IKE_SK_OK = 0,
	IKE_SK_UNSUPPORTED,     /* transform combination not supported */
	IKE_SK_BAD_KEY,         /* key material of the wrong length */
	IKE_SK_TRUNCATED,       /* shorter than IV + one block + ICV */
	IKE_SK_BAD_BLOCK,       /* CBC ciphertext not a whole number of blocks */
	IKE_SK_BAD_ICV,         /* integrity check failed: drop, nothing else read */
	IKE_SK_BAD_PAD,         /* Pad Length larger than the plaintext */
	IKE_SK_NOSPACE,         /* output buffer too small */
	IKE_SK_LIB,             /* libcrypto failure (memory, RNG) */
	IKE_SK_NOT_FOUND,       /* the message's last payload is not SK or SKF */
	IKE_SK__COUNT
};

const char *ike_sk_strerror(enum ike_sk_res r);

#define IKE_SK_IV_MAX           16
#define IKE_SK_ICV_MAX          32
#define IKE_SK_SALT_LEN         4
#define IKE_SK_AEAD_IV_LEN      8       /* RFC 5282 3.1, RFC 7634 2 */
#define IKE_SK_AEAD_ICV_LEN     16
#define IKE_SK_CBC_BLOCK        16

/* One direction's key (SK_ei/SK_ai or SK_er/SK_ar). */
struct ike_sk_key {
	uint16_t encr, integ;
	const void *cipher;             /* EVP_CIPHER */
	bool     aead;
	uint8_t  key[32];
	size_t   key_len;
	uint8_t  salt[IKE_SK_SALT_LEN];
	uint8_t  auth[IKE_INTEG_KEY_MAX];
	size_t   auth_len;
	size_t   iv_len, icv_len, block;
	uint64_t iv_counter;            /* AEAD IVs: a counter never repeats (RFC 5282 3.1) */
};

/* sk_e: ike_encr_keymat_len() octets; sk_a: ike_integ_key_len() octets. */
__attribute__((warn_unused_result))
enum ike_sk_res ike_sk_key_init(struct ike_sk_key *k, uint16_t encr, uint16_t keylen_bits,
				uint16_t integ, const uint8_t *sk_e, size_t e_len,
				const uint8_t *sk_a, size_t a_len);
void ike_sk_key_wipe(struct ike_sk_key *k);

/* Bytes an SK payload body of `pt_len` plaintext octets takes (IV, padded
 * ciphertext, ICV). */
size_t ike_sk_body_len(const struct ike_sk_key *k, size_t pt_len);

/*
 * Low level: msg[0, aad_len) is final (the IKE header with the whole
 * message's length, every payload before, the SK/SKF header with its
 * length); IV, ciphertext and ICV go to msg + aad_len, which must have room
 * for ike_sk_body_len(k, pt_len) octets (cap is msg's size). iv: NULL for
 * a fresh one (a counter for AEAD, random for CBC), else k->iv_len octets.
 */
__attribute__((warn_unused_result))
enum ike_sk_res ike_sk_encrypt(struct ike_sk_key *k, uint8_t *msg, size_t cap,
			       size_t aad_len, const uint8_t *pt, size_t pt_len,
			       const uint8_t *iv);
/* msg[0, msg_len) is the whole message (or fragment), the IV starting at
 * aad_len. Verifies the ICV, then decrypts the inner payloads into pt
 * (padding and Pad Length removed). pt is wiped if anything fails. */
__attribute__((warn_unused_result))
enum ike_sk_res ike_sk_decrypt(const struct ike_sk_key *k, const uint8_t *msg, size_t msg_len,
			       size_t aad_len, uint8_t *pt, size_t cap, size_t *pt_len);

/*
 * On a message being built: appends the SK payload holding `inner` (a bare
 * chain from ike_build_init without a header) as the last payload, and
 * finishes the header's length first, since the AAD covers it.
 */
__attribute__((warn_unused_result))
enum ike_sk_res ike_sk_seal(struct ike_sk_key *k, struct ike_buf *msg,
			    const struct ike_buf *inner, const uint8_t *iv);
/* On a parsed message whose last payload is SK (or SKF: then the AAD
 * also covers the fragment fields): decrypt its inner chain. */
__attribute__((warn_unused_result))
enum ike_sk_res ike_sk_open(const struct ike_sk_key *k, const uint8_t *msg, size_t msg_len,
			    const struct ike_msg *m, uint8_t *pt, size_t cap, size_t *pt_len);

#endif
