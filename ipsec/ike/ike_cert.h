/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * X.509 credentials and RFC 7427 digital signatures for IKE_AUTH, on
 * OpenSSL 3's libcrypto: certificates and private keys loaded from the
 * configuration's files at start, chains validated to configured CAs with
 * CRLs, identities checked against the certificate (subject DN, subject
 * alternative names), signatures made and verified over the AUTH octets
 * (RFC 7296 2.15) with ECDSA P-256/P-384, RSA-PSS and RSA PKCS#1 v1.5, and
 * the hash algorithms of SIGNATURE_HASH_ALGORITHMS (RFC 7427 4).
 */
#ifndef SN_IKE_CERT_H
#define SN_IKE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_conf.h"
#include "ike_parse.h"

struct ike_creds;

enum ike_cert_res {
	IKE_CERT_OK = 0,
	IKE_CERT_NO_KEY,                /* no private key / certificate for this round */
	IKE_CERT_BAD_CERT,              /* not DER X.509, or no usable public key */
	IKE_CERT_UNTRUSTED,             /* no chain to a configured CA */
	IKE_CERT_REVOKED,               /* a CRL lists it */
	IKE_CERT_EXPIRED,               /* outside its validity */
	IKE_CERT_ID_MISMATCH,           /* the ID payload is not the certificate's */
	IKE_CERT_BAD_SIG,               /* the signature does not verify */
	IKE_CERT_UNSUPPORTED,           /* algorithm or AUTH method not supported */
	IKE_CERT_LIB,                   /* libcrypto failure */
	IKE_CERT__COUNT
};

const char *ike_cert_strerror(enum ike_cert_res r);

/* Loads every certs/cacerts file of every round, the private keys of
 * secrets (private-*, ecdsa-*, rsa-*) and authorities (CAs and CRLs).
 * 0, or -EINVAL with "PATH: why" (the conf's file and line where known). */
__attribute__((warn_unused_result))
int ike_creds_load(struct ike_creds **out, const struct ike_conf *conf, char *err, size_t errlen);
void ike_creds_free(struct ike_creds *cr);

/* Our certificate for a local round (DER, for the CERT payload), or
 * IKE_CERT_NO_KEY. The pointer lives as long as cr. */
enum ike_cert_res ike_cert_local(const struct ike_creds *cr, const struct ike_conf_round *r,
				 const uint8_t **der, size_t *len);
/* The ID payload for our round when its id is "" : the certificate's
 * subject DN (ID_DER_ASN1_DN). id->data lives as long as cr. */
enum ike_cert_res ike_cert_local_id(const struct ike_creds *cr, const struct ike_conf_round *r,
				    struct ike_id *id);

/* CERTREQ's data (3.7): the SHA-1 of each configured CA's public key,
 * 20 octets each; *len gets the octets written. */
size_t ike_cert_req_hashes(const struct ike_creds *cr, const struct ike_conf_round *remote,
			   uint8_t *out, size_t cap);

/* SIGNATURE_HASH_ALGORITHMS as we send it (RFC 7427 4): 2 octets per
 * hash, network order. Returns the octets written. */
size_t ike_cert_hash_algs(uint8_t *out, size_t cap);

/* Sign the AUTH octets with the round's private key. peer_hashes: the
 * bitmask (1 << IKE_HASH_*) of the peer's SIGNATURE_HASH_ALGORITHMS, 0 if
 * it sent none (then the classic method for the key: 1 for RSA, 9/10 for
 * ECDSA). *method gets the AUTH method, out the AUTH data (for method
 * 14: the AlgorithmIdentifier length octet, the AlgorithmIdentifier, the
 * signature). */
enum ike_cert_res ike_cert_sign(const struct ike_creds *cr, const struct ike_conf_round *r,
				uint32_t peer_hashes, const uint8_t *octets, size_t olen,
				uint8_t *method, uint8_t *out, size_t cap, size_t *len);

/* What a verified peer certificate says, for the socket's query. */
struct ike_peer_cert {
	char subject[256], issuer[256];         /* RFC 2253 strings */
};

/* Verify the peer: its certificates (end entity first, then any
 * intermediates, DER from CERT payloads) chain to a CA of the remote
 * round (or any configured CA when it names none), none is revoked, the
 * ID payload is the end entity's (its subject DN, or a subjectAltName of
 * the ID's type), the round's id (if any) matches, and the AUTH
 * signature verifies over octets. */
enum ike_cert_res ike_cert_verify(const struct ike_creds *cr, const struct ike_conf_round *r,
				  const struct ike_cert *certs, unsigned n_certs,
				  const struct ike_id *id, const struct ike_auth *auth,
				  const uint8_t *octets, size_t olen, struct ike_peer_cert *pc);

#endif
