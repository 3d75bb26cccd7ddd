/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the IKEv2 parsers (ipsec/ike/ike_parse.c): the input
 * as a whole message (header, payload chain, then every payload's own
 * parser), as a decrypted inner chain (first type in the first octet), and
 * as the body of every payload type. The parsers are pure, so nothing else
 * is linked but the builder, used for a differential check: an SA or TS
 * payload that parses builds back to bytes that parse to the same struct.
 * Any read outside the input is caught by ASan; a body outside the input
 * or a failed round trip traps.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../ipsec/ike/ike_build.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static uint8_t out[70000];

static void sa_round_trip(const struct ike_sa *sa)
{
	static struct ike_sa again;
	struct ike_buf b;
	size_t start = 0;

	for (unsigned i = 0; i < sa->nprops; i++)
		for (unsigned j = 0; j < sa->prop[i].ntransforms; j++)
			if (sa->prop[i].xf[j].unknown_attr)
				return;         /* not representable by the builder */
	ike_build_init(&b, out, sizeof(out));
	CHECK(ike_build_sa(&b, sa) == IKE_B_OK);
	CHECK(ike_parse_sa(out + start + IKE_GEN_HDR_LEN, b.len - IKE_GEN_HDR_LEN, &again) == IKE_P_OK);
	CHECK(again.nprops == sa->nprops);
	for (unsigned i = 0; i < sa->nprops; i++) {
		const struct ike_proposal *p = &sa->prop[i], *q = &again.prop[i];

		CHECK(p->num == q->num && p->proto == q->proto && p->spi_size == q->spi_size);
		CHECK(memcmp(p->spi, q->spi, p->spi_size) == 0);
		CHECK(p->ntransforms == q->ntransforms);
		for (unsigned j = 0; j < p->ntransforms; j++)
			CHECK(p->xf[j].type == q->xf[j].type && p->xf[j].id == q->xf[j].id &&
			      p->xf[j].keylen == q->xf[j].keylen);
	}
}

static void ts_round_trip(const struct ike_ts_set *ts)
{
	static struct ike_ts_set again;
	struct ike_buf b;

	ike_build_init(&b, out, sizeof(out));
	CHECK(ike_build_ts(&b, IKE_PL_TSI, ts) == IKE_B_OK);
	CHECK(ike_parse_ts(out + IKE_GEN_HDR_LEN, b.len - IKE_GEN_HDR_LEN, &again) == IKE_P_OK);
	CHECK(again.n == ts->n);
	for (unsigned i = 0; i < ts->n; i++)
		CHECK(memcmp(&again.ts[i], &ts->ts[i], sizeof(ts->ts[i])) == 0);
}

/* One payload body through the parser of `type`. */
static void parse_body(uint8_t type, const uint8_t *p, size_t n)
{
	static struct ike_sa sa;
	static struct ike_ts_set ts;
	union {
		struct ike_ke ke; struct ike_nonce no; struct ike_id id; struct ike_auth au;
		struct ike_cert ce; struct ike_notify nt; struct ike_delete de;
		struct ike_vendor v; struct ike_skf f; struct ike_eap e;
	} u;

	switch (type) {
	case IKE_PL_SA:
		if (ike_parse_sa(p, n, &sa) == IKE_P_OK)
			sa_round_trip(&sa);
		break;
	case IKE_PL_TSI:
	case IKE_PL_TSR:
		if (ike_parse_ts(p, n, &ts) == IKE_P_OK)
			ts_round_trip(&ts);
		break;
	case IKE_PL_KE: (void)ike_parse_ke(p, n, &u.ke); break;
	case IKE_PL_NONCE: (void)ike_parse_nonce(p, n, &u.no); break;
	case IKE_PL_IDI:
	case IKE_PL_IDR: (void)ike_parse_id(p, n, &u.id); break;
	case IKE_PL_AUTH: (void)ike_parse_auth(p, n, &u.au); break;
	case IKE_PL_CERT: (void)ike_parse_cert(p, n, &u.ce); break;
	case IKE_PL_CERTREQ: (void)ike_parse_certreq(p, n, &u.ce); break;
	case IKE_PL_NOTIFY:
		if (ike_parse_notify(p, n, &u.nt) == IKE_P_OK && u.nt.type == IKE_N_INVALID_KE_PAYLOAD)
			(void)ike_notify_ke_group(&u.nt);
		break;
	case IKE_PL_DELETE: (void)ike_parse_delete(p, n, &u.de); break;
	case IKE_PL_VENDOR: (void)ike_parse_vendor(p, n, &u.v); break;
	case IKE_PL_SKF: (void)ike_parse_skf(p, n, &u.f); break;
	case IKE_PL_EAP: (void)ike_parse_eap(p, n, &u.e); break;
	default: break;
	}
}

/* Payloads a walk kept, even one that failed later, were checked first. */
static void parse_chain_bodies(const struct ike_chain *c, const uint8_t *d, size_t size)
{
	for (unsigned i = 0; i < c->n; i++) {
		const struct ike_payload *p = &c->pl[i];

		CHECK(p->body >= d && p->body + p->len <= d + size);
		parse_body(p->type, p->body, p->len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ike_msg m;
	static struct ike_chain c;
	static const uint8_t types[] = {
		IKE_PL_SA, IKE_PL_KE, IKE_PL_IDI, IKE_PL_CERT, IKE_PL_CERTREQ, IKE_PL_AUTH,
		IKE_PL_NONCE, IKE_PL_NOTIFY, IKE_PL_DELETE, IKE_PL_VENDOR, IKE_PL_TSI,
		IKE_PL_SKF, IKE_PL_EAP,
	};

	if (ike_parse_message(data, size, &m) == IKE_P_OK)
		CHECK(m.hdr.length == size);
	parse_chain_bodies(&m.chain, data, size);
	if (size > 0) {
		(void)ike_parse_chain(data[0], data + 1, size - 1, IKE_CHAIN_INNER, &c);
		parse_chain_bodies(&c, data, size);
	}
	for (size_t i = 0; i < sizeof(types); i++)
		parse_body(types[i], data, size);
	return 0;
}
