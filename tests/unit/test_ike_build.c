/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/ike/ike_build.c: parse(build(x)) == x for a message with every
 * payload the builders write; next-payload links; every buffer size short
 * of the whole message fails with no-space and leaves a message that still
 * parses; inputs the parsers would refuse are refused.
 */
#include <criterion/criterion.h>

#include "../../ipsec/ike/ike_build.h"
#include "ike_hex.h"

static const uint8_t ke_data[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t nonce_data[32] = { 0xaa, 0xbb, 0xcc };
static const uint8_t nat_hash[IKE_NAT_HASH_LEN] = { 0x11, 0x22 };
static const uint8_t cookie[16] = { 0xc0, 0x0c };
static const uint8_t fqdn[] = "responder.example";
static const uint8_t sig[] = { 3, 0x30, 0x01, 0x05, 0xde, 0xad, 0xbe, 0xef };
static const uint8_t cert_der[] = { 0x30, 0x82, 0x01, 0x0a };
static const uint8_t ca_hashes[2 * IKE_CERTREQ_HASH_LEN] = { 0x5a };
static const uint8_t vid[] = "sealnet";
static const uint8_t spis[] = { 0xc0, 0, 0, 1, 0xc0, 0, 0, 2 };

static const struct ike_header hdr = {
	.ispi = 0x0102030405060708ull, .rspi = 0x1112131415161718ull,
	.major = 2, .minor = 0, .exchange = IKE_EXCH_SA_INIT,
	.flags = IKE_FLAG_INITIATOR, .msgid = 7,
};

static struct ike_sa the_sa(void)
{
	struct ike_sa sa = { .nprops = 2 };

	sa.prop[0] = (struct ike_proposal){ .num = 1, .proto = IKE_PROTO_IKE, .ntransforms = 4 };
	sa.prop[0].xf[0] = (struct ike_transform){ IKE_XF_ENCR, IKE_ENCR_AES_GCM_16, 256, false };
	sa.prop[0].xf[1] = (struct ike_transform){ IKE_XF_PRF, IKE_PRF_HMAC_SHA2_384, 0, false };
	sa.prop[0].xf[2] = (struct ike_transform){ IKE_XF_DH, IKE_DH_CURVE25519, 0, false };
	sa.prop[0].xf[3] = (struct ike_transform){ IKE_XF_DH, IKE_DH_ECP_256, 0, false };
	sa.prop[1] = (struct ike_proposal){ .num = 2, .proto = IKE_PROTO_ESP, .spi_size = 4,
					    .spi = { 0xc0, 1, 2, 3 }, .ntransforms = 3 };
	sa.prop[1].xf[0] = (struct ike_transform){ IKE_XF_ENCR, IKE_ENCR_AES_CBC, 128, false };
	sa.prop[1].xf[1] = (struct ike_transform){ IKE_XF_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0, false };
	sa.prop[1].xf[2] = (struct ike_transform){ IKE_XF_ESN, IKE_ESN_NO, 0, false };
	return sa;
}

static struct ike_ts_set the_ts(void)
{
	struct ike_ts_set s = { .n = 2 };

	s.ts[0] = (struct ike_ts){ IKE_TS_IPV4_ADDR_RANGE, 6, 443, 443,
				   { 192, 0, 2, 1 }, { 192, 0, 2, 1 } };
	s.ts[1] = (struct ike_ts){ IKE_TS_IPV6_ADDR_RANGE, 0, 0, 65535,
				   { 0x20, 0x01, 0x0d, 0xb8 }, { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xff } };
	return s;
}

/* The payloads of the test message, in order. */
static const uint8_t order[] = {
	IKE_PL_SA, IKE_PL_KE, IKE_PL_NONCE, IKE_PL_NOTIFY, IKE_PL_NOTIFY, IKE_PL_NOTIFY,
	IKE_PL_IDR, IKE_PL_AUTH, IKE_PL_CERT, IKE_PL_CERTREQ, IKE_PL_VENDOR,
	IKE_PL_TSI, IKE_PL_TSR, IKE_PL_DELETE,
};

/* Builds the test message; the first failure is returned. */
static enum ike_build_res build_all(struct ike_buf *b)
{
	struct ike_sa sa = the_sa();
	struct ike_ts_set ts = the_ts();
	struct ike_ke ke = { IKE_DH_CURVE25519, sizeof(ke_data), ke_data };
	struct ike_nonce no = { sizeof(nonce_data), nonce_data };
	struct ike_notify nat = { .type = IKE_N_NAT_DETECTION_SOURCE_IP,
				  .len = sizeof(nat_hash), .data = nat_hash };
	struct ike_notify ck = { .type = IKE_N_COOKIE, .len = sizeof(cookie), .data = cookie };
	struct ike_notify rk = { .proto = IKE_PROTO_ESP, .spi_size = 4, .spi = { 0xc0, 0, 0, 9 },
				 .type = IKE_N_REKEY_SA };
	struct ike_id id = { IKE_ID_FQDN, sizeof(fqdn) - 1, fqdn };
	struct ike_auth au = { .method = IKE_AUTH_DIGITAL_SIG, .len = sizeof(sig), .data = sig };
	struct ike_cert ce = { IKE_CERT_X509_SIG, sizeof(cert_der), cert_der };
	struct ike_cert cr = { IKE_CERT_X509_SIG, sizeof(ca_hashes), ca_hashes };
	struct ike_vendor v = { sizeof(vid) - 1, vid };
	struct ike_delete d = { IKE_PROTO_ESP, 4, 2, spis };
	enum ike_build_res r;

	if ((r = ike_build_header(b, &hdr)) || (r = ike_build_sa(b, &sa)) ||
	    (r = ike_build_ke(b, &ke)) || (r = ike_build_nonce(b, &no)) ||
	    (r = ike_build_notify(b, &nat)) || (r = ike_build_notify(b, &ck)) ||
	    (r = ike_build_notify(b, &rk)) || (r = ike_build_id(b, IKE_PL_IDR, &id)) ||
	    (r = ike_build_auth(b, &au)) || (r = ike_build_cert(b, IKE_PL_CERT, &ce)) ||
	    (r = ike_build_cert(b, IKE_PL_CERTREQ, &cr)) || (r = ike_build_vendor(b, &v)) ||
	    (r = ike_build_ts(b, IKE_PL_TSI, &ts)) || (r = ike_build_ts(b, IKE_PL_TSR, &ts)) ||
	    (r = ike_build_delete(b, &d)))
		return r;
	return ike_build_finish(b);
}

static void expect_sa_eq(const struct ike_sa *a, const struct ike_sa *b)
{
	cr_assert_eq(a->nprops, b->nprops);
	for (unsigned i = 0; i < a->nprops; i++) {
		const struct ike_proposal *p = &a->prop[i], *q = &b->prop[i];

		cr_expect_eq(p->num, q->num, "proposal %u", i);
		cr_expect_eq(p->proto, q->proto);
		cr_expect_eq(p->spi_size, q->spi_size);
		cr_expect_arr_eq(p->spi, q->spi, p->spi_size);
		cr_assert_eq(p->ntransforms, q->ntransforms);
		for (unsigned j = 0; j < p->ntransforms; j++) {
			cr_expect_eq(p->xf[j].type, q->xf[j].type, "proposal %u xf %u", i, j);
			cr_expect_eq(p->xf[j].id, q->xf[j].id);
			cr_expect_eq(p->xf[j].keylen, q->xf[j].keylen);
			cr_expect_eq(p->xf[j].unknown_attr, q->xf[j].unknown_attr);
		}
	}
}

static void expect_ts_eq(const struct ike_ts_set *a, const struct ike_ts_set *b)
{
	cr_assert_eq(a->n, b->n);
	for (unsigned i = 0; i < a->n; i++)
		cr_expect_eq(memcmp(&a->ts[i], &b->ts[i], sizeof(a->ts[i])), 0, "ts %u", i);
}

#define EXPECT_DATA(got_len, got, want, want_len)                          \
	do {                                                               \
		cr_expect_eq((size_t)(got_len), (size_t)(want_len));       \
		cr_expect_eq(memcmp(got, want, want_len), 0);              \
	} while (0)

static const struct ike_payload *pl(const struct ike_msg *m, unsigned i, uint8_t type)
{
	cr_assert_lt(i, m->chain.n);
	cr_assert_eq(m->chain.pl[i].type, type, "payload %u", i);
	return &m->chain.pl[i];
}

static void check_simple(const struct ike_msg *m)
{
	const struct ike_payload *p;
	struct ike_ke ke;
	struct ike_nonce no;
	struct ike_id id;
	struct ike_auth au;
	struct ike_cert c;
	struct ike_vendor v;
	struct ike_delete d;

	p = pl(m, 1, IKE_PL_KE);
	cr_assert_eq(ike_parse_ke(p->body, p->len, &ke), IKE_P_OK);
	cr_expect_eq(ke.group, IKE_DH_CURVE25519);
	EXPECT_DATA(ke.len, ke.data, ke_data, sizeof(ke_data));
	p = pl(m, 2, IKE_PL_NONCE);
	cr_assert_eq(ike_parse_nonce(p->body, p->len, &no), IKE_P_OK);
	EXPECT_DATA(no.len, no.data, nonce_data, sizeof(nonce_data));
	p = pl(m, 6, IKE_PL_IDR);
	cr_assert_eq(ike_parse_id(p->body, p->len, &id), IKE_P_OK);
	cr_expect_eq(id.type, IKE_ID_FQDN);
	EXPECT_DATA(id.len, id.data, fqdn, sizeof(fqdn) - 1);
	p = pl(m, 7, IKE_PL_AUTH);
	cr_assert_eq(ike_parse_auth(p->body, p->len, &au), IKE_P_OK);
	cr_expect_eq(au.method, IKE_AUTH_DIGITAL_SIG);
	EXPECT_DATA(au.len, au.data, sig, sizeof(sig));
	EXPECT_DATA(au.sig_len, au.sig, sig + 4, 4);
	p = pl(m, 8, IKE_PL_CERT);
	cr_assert_eq(ike_parse_cert(p->body, p->len, &c), IKE_P_OK);
	EXPECT_DATA(c.len, c.data, cert_der, sizeof(cert_der));
	p = pl(m, 9, IKE_PL_CERTREQ);
	cr_assert_eq(ike_parse_certreq(p->body, p->len, &c), IKE_P_OK);
	EXPECT_DATA(c.len, c.data, ca_hashes, sizeof(ca_hashes));
	p = pl(m, 10, IKE_PL_VENDOR);
	cr_assert_eq(ike_parse_vendor(p->body, p->len, &v), IKE_P_OK);
	EXPECT_DATA(v.len, v.data, vid, sizeof(vid) - 1);
	p = pl(m, 13, IKE_PL_DELETE);
	cr_assert_eq(ike_parse_delete(p->body, p->len, &d), IKE_P_OK);
	cr_expect_eq(d.proto, IKE_PROTO_ESP);
	EXPECT_DATA((size_t)d.nspi * d.spi_size, d.spis, spis, sizeof(spis));
}

static void check_notifies(const struct ike_msg *m)
{
	struct ike_notify n;
	const struct ike_payload *p = pl(m, 3, IKE_PL_NOTIFY);

	cr_assert_eq(ike_parse_notify(p->body, p->len, &n), IKE_P_OK);
	cr_expect_eq(n.type, IKE_N_NAT_DETECTION_SOURCE_IP);
	EXPECT_DATA(n.len, n.data, nat_hash, sizeof(nat_hash));
	p = pl(m, 4, IKE_PL_NOTIFY);
	cr_assert_eq(ike_parse_notify(p->body, p->len, &n), IKE_P_OK);
	cr_expect_eq(n.type, IKE_N_COOKIE);
	EXPECT_DATA(n.len, n.data, cookie, sizeof(cookie));
	p = pl(m, 5, IKE_PL_NOTIFY);
	cr_assert_eq(ike_parse_notify(p->body, p->len, &n), IKE_P_OK);
	cr_expect_eq(n.type, IKE_N_REKEY_SA);
	cr_expect_eq(n.proto, IKE_PROTO_ESP);
	cr_expect_eq(ike_notify_child_spi(&n), 0xc0000009u);
	cr_expect_eq(n.len, 0);
}

Test(ike_build, round_trip)
{
	static uint8_t mem[4096];
	static struct ike_msg m;
	static struct ike_sa sa, want_sa;
	static struct ike_ts_set ts, want_ts;
	struct ike_buf b;
	const struct ike_payload *p;

	ike_build_init(&b, mem, sizeof(mem));
	cr_assert_eq(build_all(&b), IKE_B_OK);
	cr_assert_eq(ike_parse_message(mem, b.len, &m), IKE_P_OK);
	cr_expect_eq(m.hdr.ispi, hdr.ispi);
	cr_expect_eq(m.hdr.rspi, hdr.rspi);
	cr_expect_eq(m.hdr.exchange, hdr.exchange);
	cr_expect_eq(m.hdr.flags, hdr.flags);
	cr_expect_eq(m.hdr.msgid, hdr.msgid);
	cr_expect_eq(m.hdr.length, b.len);
	cr_assert_eq(m.chain.n, N(order));
	for (unsigned i = 0; i < N(order); i++)
		cr_expect_eq(m.chain.pl[i].type, order[i], "payload %u", i);
	want_sa = the_sa();
	p = pl(&m, 0, IKE_PL_SA);
	cr_assert_eq(ike_parse_sa(p->body, p->len, &sa), IKE_P_OK);
	expect_sa_eq(&sa, &want_sa);
	want_ts = the_ts();
	for (unsigned i = 11; i <= 12; i++) {
		p = pl(&m, i, i == 11 ? IKE_PL_TSI : IKE_PL_TSR);
		cr_assert_eq(ike_parse_ts(p->body, p->len, &ts), IKE_P_OK);
		expect_ts_eq(&ts, &want_ts);
	}
	check_simple(&m);
	check_notifies(&m);
}

/* The header names the first payload, each payload the next, the last 0. */
Test(ike_build, next_payload_links)
{
	static uint8_t mem[4096];
	struct ike_buf b;
	size_t off = IKE_HDR_LEN;

	ike_build_init(&b, mem, sizeof(mem));
	cr_assert_eq(build_all(&b), IKE_B_OK);
	cr_expect_eq(mem[16], order[0]);
	for (unsigned i = 0; i < N(order); i++) {
		uint8_t want = i + 1 < N(order) ? order[i + 1] : IKE_PL_NONE;

		cr_assert_lt(off + 4, b.len + 1);
		cr_expect_eq(mem[off], want, "payload %u links to %u", i, mem[off]);
		off += (size_t)mem[off + 2] << 8 | mem[off + 3];
	}
	cr_expect_eq(off, b.len);
}

/* Every buffer smaller than the message: no-space, never a write past the
 * end, and what was built before still parses as a message. */
Test(ike_build, every_short_buffer)
{
	static uint8_t full[4096], mem[4096 + 64];
	static struct ike_msg m;
	struct ike_buf b;
	size_t total;

	ike_build_init(&b, full, sizeof(full));
	cr_assert_eq(build_all(&b), IKE_B_OK);
	total = b.len;
	for (size_t cap = 0; cap < total; cap++) {
		memset(mem, 0xee, sizeof(mem));
		ike_build_init(&b, mem, cap);
		cr_assert_eq(build_all(&b), IKE_B_NOSPACE, "cap %zu", cap);
		cr_assert_leq(b.len, cap, "cap %zu", cap);
		for (size_t i = cap; i < cap + 64; i++)
			cr_assert_eq(mem[i], 0xee, "cap %zu: byte %zu written", cap, i);
		if (!b.has_hdr)
			continue;
		cr_assert_eq(ike_build_finish(&b), IKE_B_OK);
		cr_assert_eq(ike_parse_message(mem, b.len, &m), IKE_P_OK, "cap %zu", cap);
	}
	ike_build_init(&b, mem, total);
	cr_expect_eq(build_all(&b), IKE_B_OK);
	cr_expect_eq(memcmp(mem, full, total), 0);
}

/* A bare chain (the plaintext of an SK payload) records its first type. */
Test(ike_build, bare_chain)
{
	static uint8_t mem[256];
	static struct ike_chain c;
	struct ike_buf b;
	struct ike_nonce no = { sizeof(nonce_data), nonce_data };
	struct ike_notify n = { .type = IKE_N_USE_TRANSPORT_MODE };

	ike_build_init(&b, mem, sizeof(mem));
	cr_assert_eq(ike_build_notify(&b, &n), IKE_B_OK);
	cr_assert_eq(ike_build_nonce(&b, &no), IKE_B_OK);
	cr_expect_eq(b.first, IKE_PL_NOTIFY);
	cr_expect_eq(ike_build_finish(&b), IKE_B_INVALID, "no header to finish");
	cr_assert_eq(ike_parse_chain(b.first, mem, b.len, IKE_CHAIN_INNER, &c), IKE_P_OK);
	cr_expect_eq(c.n, 2);
	cr_expect_eq(c.pl[1].type, IKE_PL_NONCE);
}

Test(ike_build, refuses_what_parsers_refuse)
{
	static uint8_t mem[2048];
	static const uint8_t big[300];
	struct ike_buf b;
	struct ike_sa sa = the_sa();
	struct ike_ts_set ts = the_ts();
	size_t before;
	struct {
		const char *what;
		enum ike_build_res got;
	} cases[16];
	unsigned n = 0;

	ike_build_init(&b, mem, sizeof(mem));
	cr_assert_eq(ike_build_header(&b, &hdr), IKE_B_OK);
	before = b.len;
#define TRY(what, call) cases[n++] = (typeof(cases[0])){ what, call }
	TRY("nonce 15", ike_build_nonce(&b, &(struct ike_nonce){ 15, big }));
	TRY("nonce 257", ike_build_nonce(&b, &(struct ike_nonce){ 257, big }));
	TRY("KE empty", ike_build_ke(&b, &(struct ike_ke){ 31, 0, big }));
	TRY("cookie empty", ike_build_notify(&b, &(struct ike_notify){ .type = IKE_N_COOKIE }));
	TRY("cookie 65", ike_build_notify(&b, &(struct ike_notify){ .type = IKE_N_COOKIE,
								     .len = 65, .data = big }));
	TRY("spi size 3", ike_build_notify(&b, &(struct ike_notify){ .spi_size = 3 }));
	TRY("IPv4 ID of 5", ike_build_id(&b, IKE_PL_IDI, &(struct ike_id){ IKE_ID_IPV4_ADDR, 5, big }));
	TRY("ID payload type", ike_build_id(&b, IKE_PL_SA, &(struct ike_id){ IKE_ID_KEY_ID, 1, big }));
	TRY("delete IKE with SPIs", ike_build_delete(&b, &(struct ike_delete){ IKE_PROTO_IKE, 4, 1, big }));
	TRY("delete ESP none", ike_build_delete(&b, &(struct ike_delete){ IKE_PROTO_ESP, 4, 0, big }));
	ts.n = 0;
	TRY("no TS", ike_build_ts(&b, IKE_PL_TSI, &ts));
	sa.prop[0].num = 2;
	TRY("first proposal 2", ike_build_sa(&b, &sa));
	sa = the_sa();
	sa.prop[1].spi_size = 8;
	TRY("ESP SPI of 8", ike_build_sa(&b, &sa));
	sa = the_sa();
	sa.prop[0].ntransforms = 0;
	TRY("no transforms", ike_build_sa(&b, &sa));
	TRY("RFC 7427 no signature", ike_build_auth(&b, &(struct ike_auth){
		.method = IKE_AUTH_DIGITAL_SIG, .len = 3, .data = (const uint8_t[]){ 2, 0x30, 0 } }));
	TRY("CERTREQ hash 19", ike_build_cert(&b, IKE_PL_CERTREQ,
					      &(struct ike_cert){ IKE_CERT_X509_SIG, 19, big }));
#undef TRY
	for (unsigned i = 0; i < n; i++)
		cr_expect_eq(cases[i].got, IKE_B_INVALID, "%s: %s", cases[i].what,
			     ike_build_strerror(cases[i].got));
	cr_expect_eq(b.len, before, "nothing written");
	cr_expect_eq(mem[16], IKE_PL_NONE, "the header's link untouched");
}

/* A failed payload leaves the previous payload's link as it was. */
Test(ike_build, rollback_restores_link)
{
	static uint8_t mem[IKE_HDR_LEN + 20 + 10];
	struct ike_buf b;
	struct ike_nonce no = { 16, nonce_data };
	size_t len;

	ike_build_init(&b, mem, sizeof(mem));
	cr_assert_eq(ike_build_header(&b, &hdr), IKE_B_OK);
	cr_assert_eq(ike_build_nonce(&b, &no), IKE_B_OK);
	len = b.len;
	cr_expect_eq(ike_build_nonce(&b, &no), IKE_B_NOSPACE);
	cr_expect_eq(b.len, len);
	cr_expect_eq(mem[IKE_HDR_LEN], IKE_PL_NONE, "nonce still last");
	cr_expect_eq(ike_build_vendor(&b, &(struct ike_vendor){ 6, vid }), IKE_B_OK);
	cr_expect_eq(mem[IKE_HDR_LEN], IKE_PL_VENDOR);
}
