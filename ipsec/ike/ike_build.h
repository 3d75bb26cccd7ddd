/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 message building (RFC 7296 3) into a bounded buffer. A message is
 * the header, then payloads; each payload's type is written into the
 * previous one's next-payload field (or the header's) when it begins, and
 * its length when it ends. Every write is checked for space first; a
 * builder that fails leaves the buffer as it was before the call. Builders
 * refuse what the parsers would refuse (ike_parse.h), so
 * parse(build(x)) == x for every x a builder accepts.
 */
#ifndef SN_IKE_BUILD_H
#define SN_IKE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_parse.h"

enum ike_build_res {
	IKE_B_OK = 0,
	IKE_B_NOSPACE,          /* the buffer cannot hold it */
	IKE_B_INVALID,          /* a value the wire format or a limit forbids */
	IKE_B__COUNT
};

const char *ike_build_strerror(enum ike_build_res r);

#define IKE_NO_LINK     SIZE_MAX

struct ike_buf {
	uint8_t *p;
	size_t   cap, len;
	size_t   link;          /* offset of the next-payload octet to fill */
	uint8_t  first;         /* a chain without header: its first type */
	bool     has_hdr;
};

#define IKE_BUILD_FN __attribute__((warn_unused_result))

/* A whole message (header first) or a bare chain (the plaintext of an SK
 * payload; its first payload's type is left in b->first). */
void ike_build_init(struct ike_buf *b, uint8_t *mem, size_t cap);
IKE_BUILD_FN enum ike_build_res ike_build_header(struct ike_buf *b, const struct ike_header *h);
/* Writes the header's length: call when the last payload has ended. */
IKE_BUILD_FN enum ike_build_res ike_build_finish(struct ike_buf *b);

/* A payload by hand: begin (generic header, linked), body bytes, end. */
IKE_BUILD_FN enum ike_build_res ike_build_begin(struct ike_buf *b, uint8_t type,
						bool critical, size_t *start);
IKE_BUILD_FN enum ike_build_res ike_build_bytes(struct ike_buf *b, const void *p, size_t n);
IKE_BUILD_FN enum ike_build_res ike_build_end(struct ike_buf *b, size_t start);

IKE_BUILD_FN enum ike_build_res ike_build_sa(struct ike_buf *b, const struct ike_sa *sa);
IKE_BUILD_FN enum ike_build_res ike_build_ke(struct ike_buf *b, const struct ike_ke *ke);
IKE_BUILD_FN enum ike_build_res ike_build_nonce(struct ike_buf *b, const struct ike_nonce *n);
/* type: IKE_PL_IDI or IKE_PL_IDR */
IKE_BUILD_FN enum ike_build_res ike_build_id(struct ike_buf *b, uint8_t type, const struct ike_id *id);
IKE_BUILD_FN enum ike_build_res ike_build_auth(struct ike_buf *b, const struct ike_auth *a);
/* type: IKE_PL_CERT or IKE_PL_CERTREQ */
IKE_BUILD_FN enum ike_build_res ike_build_cert(struct ike_buf *b, uint8_t type, const struct ike_cert *c);
IKE_BUILD_FN enum ike_build_res ike_build_notify(struct ike_buf *b, const struct ike_notify *n);
IKE_BUILD_FN enum ike_build_res ike_build_delete(struct ike_buf *b, const struct ike_delete *d);
IKE_BUILD_FN enum ike_build_res ike_build_vendor(struct ike_buf *b, const struct ike_vendor *v);
/* type: IKE_PL_TSI or IKE_PL_TSR */
IKE_BUILD_FN enum ike_build_res ike_build_ts(struct ike_buf *b, uint8_t type, const struct ike_ts_set *ts);

#endif
