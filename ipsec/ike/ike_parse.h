/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pure IKEv2 parsers (RFC 7296 3): bytes in, a struct out, nothing else
 * touched. Each validates before it reads, in the manner of OpenIKED's
 * ikev2_pld.c: every length is compared with the bytes that remain, both
 * ways, before any field it covers is read. Parsed structs point into the
 * caller's buffer, which must outlive them. Each returns a named result.
 *
 * Order of use: ike_parse_message() (header, then the payload chain), then
 * the parser of each payload's type on its body; after the SK payload is
 * decrypted (ike_sk.h), ike_parse_chain() with IKE_CHAIN_INNER on the
 * plaintext, starting with the SK payload's next-payload type.
 */
#ifndef SN_IKE_PARSE_H
#define SN_IKE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_wire.h"

enum ike_parse_res {
	IKE_P_OK = 0,
	IKE_P_TRUNCATED,        /* fewer bytes than a fixed part needs */
	IKE_P_LEN_SHORT,        /* a length field below its structure's minimum */
	IKE_P_LEN_OVER,         /* a length field beyond the bytes that remain */
	IKE_P_LEN_MISMATCH,     /* lengths that disagree: header vs datagram, sum vs container */
	IKE_P_TOO_LARGE,        /* a message or value over its limit */
	IKE_P_TOO_MANY,         /* more items (payloads, proposals, TS, ...) than a limit */
	IKE_P_BAD_VERSION,      /* major version not 2: answer INVALID_MAJOR_VERSION */
	IKE_P_CRITICAL,         /* unknown payload, critical bit set: UNSUPPORTED_CRITICAL_PAYLOAD */
	IKE_P_BAD_SYNTAX,       /* a field value the format forbids: INVALID_SYNTAX */
	IKE_P_BAD_SIZE,         /* a value size its type forbids (nonce, address, notify data) */
	IKE_P_UNSUPPORTED,      /* a type this implementation does not handle (ID, TS) */
	IKE_P_NOT_LAST,         /* SK or SKF followed by more bytes: it must be last */
	IKE_P__COUNT
};

const char *ike_parse_strerror(enum ike_parse_res r);

/* The fixed header, in host order. */
struct ike_header {
	uint64_t ispi, rspi;
	uint8_t  next;
	uint8_t  major, minor;
	uint8_t  exchange;
	uint8_t  flags;
	uint32_t msgid;
	uint32_t length;
};

/* One payload of a chain: its type, and its body after the generic header. */
struct ike_payload {
	uint8_t  type;
	bool     critical;
	uint16_t len;
	const uint8_t *body;
};

struct ike_chain {
	unsigned n;
	struct ike_payload pl[IKE_MAX_PAYLOADS];
	uint8_t  sk_next;       /* the last payload is SK/SKF: its first inner type */
	uint8_t  bad_type;      /* IKE_P_CRITICAL: the type to name in the notify */
	unsigned skipped;       /* unknown non-critical payloads, skipped (3.2) */
	size_t   err_off;       /* where a failed walk stopped, for the log */
};

/* The chain is inside a decrypted SK payload: SK and SKF are refused. */
#define IKE_CHAIN_INNER         0x1u

struct ike_msg {
	struct ike_header hdr;
	struct ike_chain  chain;
};

/* Proposals and transforms (3.3). keylen 0: no Key Length attribute. */
struct ike_transform {
	uint8_t  type;
	uint16_t id;
	uint16_t keylen;                /* bits */
	bool     unknown_attr;          /* 3.3.6: the proposal must be rejected */
};

struct ike_proposal {
	uint8_t  num, proto, spi_size;
	uint8_t  spi[IKE_MAX_IKE_SPI_SIZE];
	uint8_t  ntransforms;
	struct ike_transform xf[IKE_MAX_TRANSFORMS];
};

struct ike_sa {
	uint8_t  nprops;
	struct ike_proposal prop[IKE_MAX_PROPOSALS];
};

struct ike_ke      { uint16_t group; uint16_t len; const uint8_t *data; };
struct ike_nonce   { uint16_t len; const uint8_t *data; };
struct ike_id      { uint8_t type; uint16_t len; const uint8_t *data; };
struct ike_cert    { uint8_t encoding; uint16_t len; const uint8_t *data; };
struct ike_vendor  { uint16_t len; const uint8_t *data; };

struct ike_auth {
	uint8_t  method;
	uint16_t len;
	const uint8_t *data;            /* all of the authentication data */
	/* method 14 (RFC 7427 3) only: */
	uint8_t  algid_len;
	const uint8_t *algid;           /* DER AlgorithmIdentifier */
	uint16_t sig_len;
	const uint8_t *sig;
};

struct ike_notify {
	uint8_t  proto, spi_size;
	uint16_t type;
	uint8_t  spi[IKE_MAX_IKE_SPI_SIZE];
	uint16_t len;
	const uint8_t *data;
};

struct ike_delete {
	uint8_t  proto, spi_size;
	uint16_t nspi;
	const uint8_t *spis;            /* nspi * spi_size octets */
};

/* A traffic selector; IPv4 addresses in the first 4 octets. */
struct ike_ts {
	uint8_t  type, proto;
	uint16_t start_port, end_port;
	uint8_t  start[16], end[16];
};

struct ike_ts_set {
	uint8_t  n;
	struct ike_ts ts[IKE_MAX_TS];
};

struct ike_skf {
	uint16_t frag_num, total;
	uint16_t len;
	const uint8_t *data;            /* IV, ciphertext, ICV */
};

struct ike_eap {
	uint8_t  code, id;
	uint8_t  type;                  /* Request/Response; 0 otherwise */
	uint16_t len;                   /* the EAP message, header included */
	const uint8_t *msg;
};

#define IKE_PARSE_FN __attribute__((warn_unused_result))

IKE_PARSE_FN enum ike_parse_res ike_parse_header(const uint8_t *buf, size_t len,
						 struct ike_header *h);
IKE_PARSE_FN enum ike_parse_res ike_parse_chain(uint8_t first, const uint8_t *buf,
						size_t len, unsigned flags,
						struct ike_chain *c);
IKE_PARSE_FN enum ike_parse_res ike_parse_message(const uint8_t *buf, size_t len,
						  struct ike_msg *m);

/* Payload bodies: `body`/`len` are an ike_payload's. */
IKE_PARSE_FN enum ike_parse_res ike_parse_sa(const uint8_t *body, size_t len, struct ike_sa *sa);
IKE_PARSE_FN enum ike_parse_res ike_parse_ke(const uint8_t *body, size_t len, struct ike_ke *ke);
IKE_PARSE_FN enum ike_parse_res ike_parse_nonce(const uint8_t *body, size_t len, struct ike_nonce *n);
IKE_PARSE_FN enum ike_parse_res ike_parse_id(const uint8_t *body, size_t len, struct ike_id *id);
IKE_PARSE_FN enum ike_parse_res ike_parse_auth(const uint8_t *body, size_t len, struct ike_auth *a);
IKE_PARSE_FN enum ike_parse_res ike_parse_cert(const uint8_t *body, size_t len, struct ike_cert *c);
IKE_PARSE_FN enum ike_parse_res ike_parse_certreq(const uint8_t *body, size_t len, struct ike_cert *c);
IKE_PARSE_FN enum ike_parse_res ike_parse_notify(const uint8_t *body, size_t len, struct ike_notify *n);
IKE_PARSE_FN enum ike_parse_res ike_parse_delete(const uint8_t *body, size_t len, struct ike_delete *d);
IKE_PARSE_FN enum ike_parse_res ike_parse_vendor(const uint8_t *body, size_t len, struct ike_vendor *v);
IKE_PARSE_FN enum ike_parse_res ike_parse_ts(const uint8_t *body, size_t len, struct ike_ts_set *ts);
IKE_PARSE_FN enum ike_parse_res ike_parse_skf(const uint8_t *body, size_t len, struct ike_skf *f);
IKE_PARSE_FN enum ike_parse_res ike_parse_eap(const uint8_t *body, size_t len, struct ike_eap *e);

/* Notify data readers, for notifies that ike_parse_notify() checked. */
uint16_t ike_notify_ke_group(const struct ike_notify *n);      /* INVALID_KE_PAYLOAD */
uint32_t ike_notify_child_spi(const struct ike_notify *n);     /* REKEY_SA etc., spi_size 4 */

#endif
