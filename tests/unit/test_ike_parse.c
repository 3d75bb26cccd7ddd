/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/ike/ike_parse.c: a numbered table per parser (truncated, oversized,
 * zero and too small lengths, lengths that disagree, unknown critical
 * payloads, values the format forbids), written as hex in the layout of
 * RFC 7296's figures; then the fields of valid inputs.
 */
#include <criterion/criterion.h>

#include "../../ipsec/ike/ike_parse.h"
#include "ike_hex.h"

struct pcase {
	const char *hex;
	enum ike_parse_res want;
};

static uint8_t buf[70000];

static size_t load(const char *hex)
{
	size_t n = ike_hex(hex, buf, sizeof(buf));

	cr_assert_neq(n, SIZE_MAX, "bad hex in the table: %s", hex);
	return n;
}

/* Runs one table through a parser whose output is `type`. */
#define RUN_TABLE(cases, fn, type)                                            \
	for (size_t i = 0; i < N(cases); i++) {                               \
		type out_;                                                    \
		size_t n_ = load(cases[i].hex);                               \
		enum ike_parse_res r_ = fn(buf, n_, &out_);                   \
		cr_expect_eq(r_, cases[i].want, "case %zu: got %s, want %s", i, \
			     ike_parse_strerror(r_), ike_parse_strerror(cases[i].want)); \
	}

#define HDR(next, ver, len) "11*8 00*8 " next " " ver " 22 08 00000000 " len

Test(ike_parse, header_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { HDR("00", "20", "0000001c"), IKE_P_OK },
		/* 1 */ { "11*8 00*8 00 20 22 08 00000000 0000", IKE_P_TRUNCATED },
		/* 2 */ { HDR("00", "10", "0000001c"), IKE_P_BAD_VERSION },
		/* 3 */ { HDR("00", "30", "0000001c"), IKE_P_BAD_VERSION },
		/* 4 */ { HDR("00", "21", "0000001c"), IKE_P_OK },     /* minor ignored */
		/* 5 */ { HDR("00", "20", "00000014"), IKE_P_LEN_SHORT },
		/* 6 */ { HDR("00", "20", "00000000"), IKE_P_LEN_SHORT },
		/* 7 */ { HDR("00", "20", "00000064"), IKE_P_LEN_MISMATCH },
		/* 8 */ { HDR("00", "20", "00011170"), IKE_P_TOO_LARGE },
		/* 9 */ { HDR("00", "20", "0000001c") " 00", IKE_P_LEN_MISMATCH },
		/* 10 */ { HDR("00", "20", "ffffffff"), IKE_P_TOO_LARGE },
		/* 11 */ { "", IKE_P_TRUNCATED },
	};

	RUN_TABLE(cases, ike_parse_header, struct ike_header);
}

Test(ike_parse, header_fields)
{
	struct ike_header h;
	size_t n = load("0102030405060708 a1a2a3a4a5a6a7a8 21 20 23 28 01020304 0000001c");

	cr_assert_eq(ike_parse_header(buf, n, &h), IKE_P_OK);
	cr_expect_eq(h.ispi, 0x0102030405060708ull);
	cr_expect_eq(h.rspi, 0xa1a2a3a4a5a6a7a8ull);
	cr_expect_eq(h.next, IKE_PL_SA);
	cr_expect_eq(h.major, 2);
	cr_expect_eq(h.minor, 0);
	cr_expect_eq(h.exchange, IKE_EXCH_AUTH);
	cr_expect_eq(h.flags, IKE_FLAG_RESPONSE | IKE_FLAG_INITIATOR);
	cr_expect_eq(h.msgid, 0x01020304u);
	cr_expect_eq(h.length, 28u);
}

struct ccase {
	uint8_t first;
	unsigned flags;
	const char *hex;
	enum ike_parse_res want;
	unsigned n;
};

Test(ike_parse, chain_table)
{
	static const struct ccase cases[] = {
		/* 0 */ { IKE_PL_NONCE, 0, "00 00 0014 ab*16", IKE_P_OK, 1 },
		/* 1 */ { IKE_PL_NONE, 0, "", IKE_P_OK, 0 },
		/* 2 */ { IKE_PL_NONCE, 0, "", IKE_P_TRUNCATED, 0 },
		/* 3 */ { IKE_PL_NONCE, 0, "00 00 00", IKE_P_TRUNCATED, 0 },
		/* 4 */ { IKE_PL_NONCE, 0, "00 00 0003 ab*16", IKE_P_LEN_SHORT, 0 },
		/* 5 */ { IKE_PL_NONCE, 0, "00 00 0000 ab*16", IKE_P_LEN_SHORT, 0 },
		/* 6 */ { IKE_PL_NONCE, 0, "00 00 0015 ab*16", IKE_P_LEN_OVER, 0 },
		/* 7 */ { IKE_PL_NONCE, 0, "00 00 0014 ab*16 00", IKE_P_LEN_MISMATCH, 1 },
		/* 8 */ { IKE_PL_NONCE, 0, "28 00 0014 ab*16", IKE_P_TRUNCATED, 1 },
		/* 9 */ { 99, 0, "00 80 0008 00000000", IKE_P_CRITICAL, 0 },
		/* 10 */ { 99, 0, "28 00 0008 00000000 00 00 0014 ab*16", IKE_P_OK, 1 },
		/* 11 */ { IKE_PL_SK, 0, "00 00 0008 ab*4 ff", IKE_P_NOT_LAST, 0 },
		/* 12 */ { IKE_PL_SK, 0, "21 00 0008 ab*4", IKE_P_OK, 1 },
		/* 13 */ { IKE_PL_SK, IKE_CHAIN_INNER, "21 00 0008 ab*4", IKE_P_BAD_SYNTAX, 0 },
		/* 14 */ { IKE_PL_NONCE, 0, "00 80 0014 ab*16", IKE_P_OK, 1 },
		/* 15 */ { IKE_PL_SKF, 0, "00 00 000c 0001 0001 ab*4", IKE_P_OK, 1 },
		/* 16 */ { IKE_PL_NONCE, 0, "2e 00 0014 ab*16 29 00 0008 ab*4", IKE_P_OK, 2 },
		/* 17 */ { 99, 0, "00 00 0010 00", IKE_P_LEN_OVER, 0 },
		/* 18 */ { 99, 0, "00 00 0000", IKE_P_LEN_SHORT, 0 },
		/* 19 */ { 0x7f, 0, "28 80 0004 00 00 0014 ab*16", IKE_P_CRITICAL, 0 },
		/* 20 */ { IKE_PL_SKF, IKE_CHAIN_INNER, "00 00 000c 0001 0001 ab*4", IKE_P_BAD_SYNTAX, 0 },
		/* 21 */ { IKE_PL_NONCE, 0, "2e 00 0014 ab*16 29 00 0009 ab*4", IKE_P_LEN_OVER, 1 },
		/* 22 */ { IKE_PL_NONCE, 0, "00 00 0014 ab*10", IKE_P_LEN_OVER, 0 },
	};
	static struct ike_chain c;

	for (size_t i = 0; i < N(cases); i++) {
		size_t n = load(cases[i].hex);
		enum ike_parse_res r = ike_parse_chain(cases[i].first, buf, n,
						       cases[i].flags, &c);

		cr_expect_eq(r, cases[i].want, "case %zu: got %s", i, ike_parse_strerror(r));
		cr_expect_eq(c.n, cases[i].n, "case %zu: %u payloads", i, c.n);
	}
}

Test(ike_parse, chain_fields)
{
	static struct ike_chain c;
	size_t n = load("28 00 0008 00000000 2e 80 0014 ab*16 29 00 0008 ab*4");

	cr_assert_eq(ike_parse_chain(99, buf, n, 0, &c), IKE_P_OK);
	cr_expect_eq(c.skipped, 1);
	cr_assert_eq(c.n, 2);
	cr_expect_eq(c.pl[0].type, IKE_PL_NONCE);
	cr_expect(c.pl[0].critical);
	cr_expect_eq(c.pl[0].len, 16);
	cr_expect_eq(c.pl[0].body, buf + 12);
	cr_expect_eq(c.pl[1].type, IKE_PL_SK);
	cr_expect_eq(c.pl[1].len, 4);
	cr_expect_eq(c.sk_next, IKE_PL_NOTIFY);

	n = load("28 00 0008 00000000 00 80 0008 00000000");
	cr_expect_eq(ike_parse_chain(IKE_PL_NONCE, buf, n, 0, &c), IKE_P_OK, "nonce then 0");
	n = load("63 00 0014 ab*16 00 81 0004");
	cr_expect_eq(ike_parse_chain(IKE_PL_NONCE, buf, n, 0, &c), IKE_P_CRITICAL);
	cr_expect_eq(c.bad_type, 99);
	cr_expect_eq(c.err_off, 20, "stopped at the unknown payload");
}

/* A chain of `count` Vendor ID payloads, 5 octets each. */
static size_t vid_chain(unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		uint8_t *p = buf + 5 * i;

		p[0] = i + 1 < count ? IKE_PL_VENDOR : IKE_PL_NONE;
		p[1] = 0;
		p[2] = 0;
		p[3] = 5;
		p[4] = 0xab;
	}
	return 5 * count;
}

Test(ike_parse, chain_payload_limit)
{
	static struct ike_chain c;
	size_t n = vid_chain(IKE_MAX_PAYLOADS);

	cr_expect_eq(ike_parse_chain(IKE_PL_VENDOR, buf, n, 0, &c), IKE_P_OK);
	cr_expect_eq(c.n, IKE_MAX_PAYLOADS);
	n = vid_chain(IKE_MAX_PAYLOADS + 1);
	cr_expect_eq(ike_parse_chain(IKE_PL_VENDOR, buf, n, 0, &c), IKE_P_TOO_MANY);
	/* Unknown non-critical payloads are bounded too. */
	n = vid_chain(3 * IKE_MAX_PAYLOADS);
	for (unsigned i = 0; i < 3 * IKE_MAX_PAYLOADS; i++)
		if (buf[5 * i] == IKE_PL_VENDOR)
			buf[5 * i] = 99;
	cr_expect_eq(ike_parse_chain(99, buf, n, 0, &c), IKE_P_TOO_MANY);
}

Test(ike_parse, message)
{
	static struct ike_msg m;
	size_t n = load(HDR("28", "20", "00000030") " 00 00 0014 ab*16");

	cr_assert_eq(ike_parse_message(buf, n, &m), IKE_P_OK);
	cr_expect_eq(m.chain.n, 1);
	cr_expect_eq(m.chain.pl[0].type, IKE_PL_NONCE);
	cr_expect_eq(m.chain.pl[0].body, buf + 32);
	/* Header length and payload lengths that disagree */
	n = load(HDR("28", "20", "00000031") " 00 00 0014 ab*16 00");
	cr_expect_eq(ike_parse_message(buf, n, &m), IKE_P_LEN_MISMATCH);
	cr_expect_eq(m.chain.err_off, 48);
	n = load(HDR("28", "20", "0000002f") " 00 00 0014 ab*15");
	cr_expect_eq(ike_parse_message(buf, n, &m), IKE_P_LEN_OVER);
	n = load(HDR("28", "20", "00000030") " 00 00 0014 ab*15");
	cr_expect_eq(ike_parse_message(buf, n, &m), IKE_P_LEN_MISMATCH, "datagram short");
	n = load(HDR("63", "20", "00000020") " 00 80 0004");
	cr_expect_eq(ike_parse_message(buf, n, &m), IKE_P_CRITICAL);
	cr_expect_eq(m.chain.bad_type, 99);
	n = load(HDR("28", "20", "0000001c"));
	cr_expect_eq(ike_parse_message(buf, n, &m), IKE_P_TRUNCATED, "first payload missing");
}

/* ---- SA ---------------------------------------------------------------- */

#define X1 "03 00 000c 01 00 0014 800e 0080"    /* ENCR AES-GCM-16, 128 bits */
#define X2 "03 00 0008 02 00 0005"              /* PRF HMAC-SHA2-256 */
#define X3 "00 00 0008 04 00 001f"              /* DH 31, last */
#define P1 "00 00 0024 01 01 00 03 " X1 " " X2 " " X3

Test(ike_parse, sa_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { P1, IKE_P_OK },
		/* 1 */ { "", IKE_P_TRUNCATED },
		/* 2 */ { "00 00 0024 01", IKE_P_TRUNCATED },
		/* 3 */ { "00 00 0007 01 01 00 03 " X1 X2 X3, IKE_P_LEN_SHORT },
		/* 4 */ { "00 00 0025 01 01 00 03 " X1 X2 X3, IKE_P_LEN_OVER },
		/* 5 */ { "02 00 0024 01 01 00 03 " X1 X2 X3, IKE_P_TRUNCATED },
		/* 6 */ { P1 " " P1, IKE_P_LEN_MISMATCH },
		/* 7: an answer's one proposal keeps the number it accepted (3.3.1) */
		/* 7 */ { "00 00 0024 02 01 00 03 " X1 X2 X3, IKE_P_OK },
		/* 8 */ { "00 00 0024 01 01 00 04 " X1 X2 X3, IKE_P_LEN_MISMATCH },
		/* 9 */ { "00 00 0024 01 01 00 02 " X1 X2 X3, IKE_P_LEN_MISMATCH },
		/* 10 */ { "00 00 0024 01 01 00 03 03 00 0004 01 00 0014 800e 0080" X2 X3,
			   IKE_P_LEN_SHORT },
		/* 11 */ { "00 00 0024 01 01 00 03 " X1 X2 "00 00 0009 04 00 001f", IKE_P_LEN_OVER },
		/* 12 */ { "00 00 0024 01 01 00 03 " X1 "00 00 0008 02 00 0005" X3,
			   IKE_P_LEN_MISMATCH },
		/* 13 */ { "00 00 0024 01 01 00 03 03 00 000c 01 00 0014 000e 0000" X2 X3,
			   IKE_P_BAD_SYNTAX },
		/* 14 */ { "00 00 0024 01 01 00 03 03 00 000c 01 00 0014 8011 0080" X2 X3, IKE_P_OK },
		/* 15 */ { "00 00 0024 01 01 00 03 03 00 000c 01 00 0014 0011 0004" X2 X3,
			   IKE_P_LEN_OVER },
		/* 16 */ { "00 00 002c 01 03 08 03 11*8 " X1 X2 X3, IKE_P_BAD_SYNTAX },
		/* 17 */ { "00 00 0008 01 01 00 00", IKE_P_BAD_SYNTAX },
		/* 18 */ { "00 00 0028 01 01 00 03 03 00 0010 01 00 0014 800e 0080 800e 0080" X2 X3,
			   IKE_P_BAD_SYNTAX },
		/* 19 */ { "00 00 0028 01 03 04 03 01020304 03 00 000c 01 00 000c 800e 0100"
			   " 03 00 0008 03 00 000c 00 00 0008 05 00 0000", IKE_P_OK },
		/* 20 */ { "01 00 0024 01 01 00 03 " X1 X2 X3, IKE_P_BAD_SYNTAX },
		/* 21 */ { "00 00 0024 01 01 00 03 03 00 000c 01 00 0014 800e 0000" X2 X3,
			   IKE_P_BAD_SYNTAX },
		/* 22 */ { "02 00 0024 01 01 00 03 " X1 X2 X3 " 00 00 0024 02 01 00 03 " X1 X2 X3,
			   IKE_P_OK },
		/* 23 */ { "02 00 0024 01 01 00 03 " X1 X2 X3 " 00 00 0024 03 01 00 03 " X1 X2 X3,
			   IKE_P_BAD_SYNTAX },
		/* 24 */ { "00 00 0022 01 01 00 03 03 00 000a 01 00 0014 800e" X2 X3, IKE_P_TRUNCATED },
		/* 25 */ { "00 00 002c 01 01 08 03 11*8 " X1 X2 X3, IKE_P_OK },
		/* 26 */ { "00 00 0028 01 01 04 03 11*4 " X1 X2 X3, IKE_P_BAD_SYNTAX },
		/* 27 */ { "00 00 000b 01 03 04 03 01020304" X1 X2 X3, IKE_P_LEN_SHORT },
		/* 28 */ { "00 00 0024 01 09 00 03 " X1 X2 X3, IKE_P_BAD_SYNTAX },
		/* 29 */ { "00 00 0021 01 01 00 03 " X1 X2 "00 00 0008 04", IKE_P_TRUNCATED },
		/* 30 */ { "00 00 0024 01 01 00 03 " X1 X2 "01 00 0008 04 00 001f", IKE_P_BAD_SYNTAX },
		/* 31: an offer starts at 1 */
		/* 31 */ { "02 00 0024 02 01 00 03 " X1 X2 X3 " 00 00 0024 03 01 00 03 " X1 X2 X3,
			   IKE_P_BAD_SYNTAX },
		/* 32 */ { "00 00 0024 00 01 00 03 " X1 X2 X3, IKE_P_BAD_SYNTAX },
	};

	RUN_TABLE(cases, ike_parse_sa, struct ike_sa);
}

Test(ike_parse, sa_fields)
{
	static struct ike_sa sa;
	size_t n = load("02 00 0024 01 01 00 03 " X1 X2 X3
			" 00 00 0028 02 03 04 03 01020304 03 00 000c 01 00 000c 800e 0100"
			" 03 00 0008 03 00 000c 00 00 0008 05 00 0001");

	cr_assert_eq(ike_parse_sa(buf, n, &sa), IKE_P_OK);
	cr_assert_eq(sa.nprops, 2);
	cr_expect_eq(sa.prop[0].num, 1);
	cr_expect_eq(sa.prop[0].proto, IKE_PROTO_IKE);
	cr_expect_eq(sa.prop[0].spi_size, 0);
	cr_assert_eq(sa.prop[0].ntransforms, 3);
	cr_expect_eq(sa.prop[0].xf[0].type, IKE_XF_ENCR);
	cr_expect_eq(sa.prop[0].xf[0].id, IKE_ENCR_AES_GCM_16);
	cr_expect_eq(sa.prop[0].xf[0].keylen, 128);
	cr_expect_eq(sa.prop[0].xf[1].id, IKE_PRF_HMAC_SHA2_256);
	cr_expect_eq(sa.prop[0].xf[1].keylen, 0);
	cr_expect_eq(sa.prop[0].xf[2].type, IKE_XF_DH);
	cr_expect_eq(sa.prop[0].xf[2].id, IKE_DH_CURVE25519);
	cr_expect_eq(sa.prop[1].num, 2);
	cr_expect_eq(sa.prop[1].proto, IKE_PROTO_ESP);
	cr_expect_eq(sa.prop[1].spi_size, 4);
	cr_expect_arr_eq(sa.prop[1].spi, ((uint8_t[]){ 1, 2, 3, 4 }), 4);
	cr_expect_eq(sa.prop[1].xf[0].id, IKE_ENCR_AES_CBC);
	cr_expect_eq(sa.prop[1].xf[0].keylen, 256);
	cr_expect_eq(sa.prop[1].xf[1].id, IKE_INTEG_HMAC_SHA2_256_128);
	cr_expect_eq(sa.prop[1].xf[2].type, IKE_XF_ESN);
	cr_expect_eq(sa.prop[1].xf[2].id, IKE_ESN_YES);
	n = load("00 00 0024 01 01 00 03 03 00 000c 01 00 0014 8011 0080" X2 X3);
	cr_assert_eq(ike_parse_sa(buf, n, &sa), IKE_P_OK);
	cr_expect(sa.prop[0].xf[0].unknown_attr, "3.3.6: the proposal is to be rejected");
	cr_expect(!sa.prop[0].xf[1].unknown_attr);
}

/* count proposals (or one proposal of count transforms) of 8-octet transforms */
static size_t many(unsigned props, unsigned xforms)
{
	size_t off = 0;

	for (unsigned p = 0; p < props; p++) {
		size_t plen = 8 + 8 * xforms;
		uint8_t h[8] = { p + 1 < props ? 2 : 0, 0, plen >> 8, plen & 0xff,
				 (uint8_t)(p + 1), IKE_PROTO_IKE, 0, (uint8_t)xforms };

		memcpy(buf + off, h, 8);
		off += 8;
		for (unsigned x = 0; x < xforms; x++, off += 8) {
			uint8_t t[8] = { x + 1 < xforms ? 3 : 0, 0, 0, 8, IKE_XF_PRF, 0, 0, 5 };

			memcpy(buf + off, t, 8);
		}
	}
	return off;
}

Test(ike_parse, sa_limits)
{
	static struct ike_sa sa;

	cr_expect_eq(ike_parse_sa(buf, many(IKE_MAX_PROPOSALS, 1), &sa), IKE_P_OK);
	cr_expect_eq(sa.nprops, IKE_MAX_PROPOSALS);
	cr_expect_eq(ike_parse_sa(buf, many(IKE_MAX_PROPOSALS + 1, 1), &sa), IKE_P_TOO_MANY);
	cr_expect_eq(ike_parse_sa(buf, many(1, IKE_MAX_TRANSFORMS), &sa), IKE_P_OK);
	cr_expect_eq(ike_parse_sa(buf, many(1, IKE_MAX_TRANSFORMS + 1), &sa), IKE_P_TOO_MANY);
	/* More attributes than a transform may carry (unknown TV ones) */
	size_t n = load("00 00 0024 01 01 00 01 00 00 001c 01 00 0014"
			" 8011 0001 8012 0001 8013 0001 8014 0001 8015 0001");
	cr_expect_eq(ike_parse_sa(buf, n, &sa), IKE_P_TOO_MANY);
}

/* ---- The other payloads ---------------------------------------------------- */

Test(ike_parse, ke_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "001f 00", IKE_P_TRUNCATED },
		/* 1 */ { "001f 0000", IKE_P_BAD_SIZE },
		/* 2 */ { "001f 0000 ab*32", IKE_P_OK },
		/* 3 */ { "000e 0000 ab*1024", IKE_P_OK },
		/* 4 */ { "000e 0000 ab*1025", IKE_P_TOO_LARGE },
		/* 5 */ { "", IKE_P_TRUNCATED },
	};
	struct ike_ke ke;
	size_t n;

	RUN_TABLE(cases, ike_parse_ke, struct ike_ke);
	n = load("0013 ffff 01 02 03");
	cr_assert_eq(ike_parse_ke(buf, n, &ke), IKE_P_OK);
	cr_expect_eq(ke.group, IKE_DH_ECP_256);
	cr_expect_eq(ke.len, 3);
	cr_expect_eq(ke.data, buf + 4);
}

Test(ike_parse, nonce_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "", IKE_P_BAD_SIZE },
		/* 1 */ { "ab*15", IKE_P_BAD_SIZE },
		/* 2 */ { "ab*16", IKE_P_OK },
		/* 3 */ { "ab*256", IKE_P_OK },
		/* 4 */ { "ab*257", IKE_P_BAD_SIZE },
	};

	RUN_TABLE(cases, ike_parse_nonce, struct ike_nonce);
}

Test(ike_parse, id_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "01 0000", IKE_P_TRUNCATED },
		/* 1 */ { "01 000000 c0000201", IKE_P_OK },
		/* 2 */ { "01 000000 c000020101", IKE_P_BAD_SIZE },
		/* 3 */ { "05 000000 20*16", IKE_P_OK },
		/* 4 */ { "05 000000 20*4", IKE_P_BAD_SIZE },
		/* 5 */ { "02 000000 612e6578616d706c65", IKE_P_OK },
		/* 6 */ { "02 000000", IKE_P_BAD_SIZE },
		/* 7 */ { "02 000000 6100 62", IKE_P_BAD_SYNTAX },
		/* 8 */ { "03 000000 6140622e6363", IKE_P_OK },
		/* 9 */ { "09 000000 3000", IKE_P_OK },
		/* 10 */ { "0b 000000 01", IKE_P_OK },
		/* 11 */ { "04 000000 c0000200 ffffff00", IKE_P_UNSUPPORTED },
		/* 12 */ { "0d 000000", IKE_P_OK },
		/* 13 */ { "0d 000000 00", IKE_P_BAD_SIZE },
		/* 14 */ { "09 000000 30*1025", IKE_P_TOO_LARGE },
		/* 15 */ { "0a 000000", IKE_P_BAD_SIZE },
		/* 16 */ { "0b 000000", IKE_P_BAD_SIZE },
		/* 17 */ { "03 000000 00", IKE_P_BAD_SYNTAX },
		/* 18 */ { "01 000000", IKE_P_BAD_SIZE },
	};

	RUN_TABLE(cases, ike_parse_id, struct ike_id);
}

Test(ike_parse, auth_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "02 0000", IKE_P_TRUNCATED },
		/* 1 */ { "02 000000", IKE_P_BAD_SIZE },
		/* 2 */ { "02 000000 ab*32", IKE_P_OK },
		/* 3 */ { "0e 000000 02 3000 ab*64", IKE_P_OK },
		/* 4 */ { "0e 000000 00 30 ab", IKE_P_LEN_SHORT },
		/* 5 */ { "0e 000000 05 3000", IKE_P_LEN_OVER },
		/* 6 */ { "0e 000000 02 3000", IKE_P_LEN_OVER },
		/* 7 */ { "0e 000000 02 3100 ab", IKE_P_BAD_SYNTAX },
		/* 8 */ { "0d 000000 ab", IKE_P_OK },
		/* 9 */ { "0e 000000 01", IKE_P_LEN_OVER },
	};
	struct ike_auth a;
	size_t n;

	RUN_TABLE(cases, ike_parse_auth, struct ike_auth);
	n = load("0e 000000 03 300105 abcdef");
	cr_assert_eq(ike_parse_auth(buf, n, &a), IKE_P_OK);
	cr_expect_eq(a.method, IKE_AUTH_DIGITAL_SIG);
	cr_expect_eq(a.algid_len, 3);
	cr_expect_eq(a.algid, buf + 5);
	cr_expect_eq(a.sig, buf + 8);
	cr_expect_eq(a.sig_len, 3);
}

Test(ike_parse, cert_tables)
{
	static const struct pcase certs[] = {
		/* 0 */ { "", IKE_P_TRUNCATED },
		/* 1 */ { "04", IKE_P_BAD_SIZE },
		/* 2 */ { "04 3082", IKE_P_OK },
	};
	static const struct pcase reqs[] = {
		/* 0 */ { "", IKE_P_TRUNCATED },
		/* 1 */ { "04", IKE_P_OK },
		/* 2 */ { "04 ab*20", IKE_P_OK },
		/* 3 */ { "04 ab*40", IKE_P_OK },
		/* 4 */ { "04 ab*21", IKE_P_BAD_SIZE },
		/* 5 */ { "0c ab*3", IKE_P_OK },
	};

	RUN_TABLE(certs, ike_parse_cert, struct ike_cert);
	RUN_TABLE(reqs, ike_parse_certreq, struct ike_cert);
}

Test(ike_parse, notify_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "00 00 40", IKE_P_TRUNCATED },
		/* 1 */ { "00 03 4006", IKE_P_BAD_SYNTAX },
		/* 2 */ { "03 04 4009 0102", IKE_P_LEN_OVER },
		/* 3 */ { "00 00 4006", IKE_P_BAD_SIZE },          /* COOKIE, empty */
		/* 4 */ { "00 00 4006 ab*64", IKE_P_OK },
		/* 5 */ { "00 00 4006 ab*65", IKE_P_BAD_SIZE },
		/* 6 */ { "00 00 0011 0013", IKE_P_OK },           /* INVALID_KE_PAYLOAD */
		/* 7 */ { "00 00 0011 001300", IKE_P_BAD_SIZE },
		/* 8 */ { "00 00 4004 ab*20", IKE_P_OK },          /* NAT_DETECTION_SOURCE_IP */
		/* 9 */ { "00 00 4005 ab*19", IKE_P_BAD_SIZE },
		/* 10 */ { "03 04 4009 01020304", IKE_P_OK },      /* REKEY_SA */
		/* 11 */ { "03 00 4009", IKE_P_BAD_SIZE },
		/* 12 */ { "00 00 402f 0002 0003", IKE_P_OK },     /* SIGNATURE_HASH_ALGORITHMS */
		/* 13 */ { "00 00 402f 000200", IKE_P_BAD_SIZE },
		/* 14 */ { "00 00 402f", IKE_P_BAD_SIZE },
		/* 15 */ { "00 00 0001 2a", IKE_P_OK },            /* UNSUPPORTED_CRITICAL_PAYLOAD */
		/* 16 */ { "00 00 0001", IKE_P_BAD_SIZE },
		/* 17 */ { "00 00 4007", IKE_P_OK },               /* USE_TRANSPORT_MODE */
		/* 18 */ { "01 08 000b 11*8 ab", IKE_P_OK },
		/* 19 */ { "00 00 402e", IKE_P_OK },               /* IKEV2_FRAGMENTATION_SUPPORTED */
		/* 20 */ { "00 00 7fff ab*300", IKE_P_OK },        /* unknown status: data kept */
	};
	struct ike_notify no;
	size_t n;

	RUN_TABLE(cases, ike_parse_notify, struct ike_notify);
	n = load("00 00 0011 0013");
	cr_assert_eq(ike_parse_notify(buf, n, &no), IKE_P_OK);
	cr_expect_eq(no.type, IKE_N_INVALID_KE_PAYLOAD);
	cr_expect_eq(ike_notify_ke_group(&no), IKE_DH_ECP_256);
	n = load("03 04 4009 c0ffee01");
	cr_assert_eq(ike_parse_notify(buf, n, &no), IKE_P_OK);
	cr_expect_eq(no.type, IKE_N_REKEY_SA);
	cr_expect_eq(no.proto, IKE_PROTO_ESP);
	cr_expect_eq(ike_notify_child_spi(&no), 0xc0ffee01u);
	cr_expect_eq(no.len, 0);
}

Test(ike_parse, delete_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "01 00 00", IKE_P_TRUNCATED },
		/* 1 */ { "01 00 0000", IKE_P_OK },
		/* 2 */ { "01 04 0000", IKE_P_BAD_SYNTAX },
		/* 3 */ { "01 00 0001", IKE_P_BAD_SYNTAX },
		/* 4 */ { "03 04 0002 01020304 05060708", IKE_P_OK },
		/* 5 */ { "03 04 0002 01020304", IKE_P_LEN_MISMATCH },
		/* 6 */ { "03 04 0001 01020304 05", IKE_P_LEN_MISMATCH },
		/* 7 */ { "03 08 0001 11*8", IKE_P_BAD_SYNTAX },
		/* 8 */ { "09 04 0001 01020304", IKE_P_BAD_SYNTAX },
		/* 9 */ { "03 04 0000", IKE_P_BAD_SYNTAX },
		/* 10 */ { "02 04 0001 01020304", IKE_P_OK },
		/* 11 */ { "01 00 0000 00", IKE_P_LEN_MISMATCH },
		/* 12 */ { "03 04 ffff 01020304", IKE_P_LEN_MISMATCH },
	};
	struct ike_delete d;
	size_t n;

	RUN_TABLE(cases, ike_parse_delete, struct ike_delete);
	n = load("03 04 0002 01020304 05060708");
	cr_assert_eq(ike_parse_delete(buf, n, &d), IKE_P_OK);
	cr_expect_eq(d.nspi, 2);
	cr_expect_eq(d.spis, buf + 4);
}

#define V4 "07 06 0010 0000 ffff c0000200 c00002ff"
#define V6 "08 00 0028 0050 0050 20*16 20*16"

Test(ike_parse, ts_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "01 0000", IKE_P_TRUNCATED },
		/* 1 */ { "00 000000", IKE_P_BAD_SYNTAX },
		/* 2 */ { "11 000000", IKE_P_TOO_MANY },
		/* 3 */ { "01 000000 " V4, IKE_P_OK },
		/* 4 */ { "01 000000 " V6, IKE_P_OK },
		/* 5 */ { "02 000000 " V4 " " V6, IKE_P_OK },
		/* 6 */ { "01 000000 07 06 000f 0000 ffff c0000200 c00002", IKE_P_LEN_MISMATCH },
		/* 7 */ { "01 000000 07 06 0004 0000 ffff", IKE_P_LEN_SHORT },
		/* 8 */ { "01 000000 07 06 0011 0000 ffff c0000200 c00002ff", IKE_P_LEN_OVER },
		/* 9 */ { "01 000000 09 00 0010 0000 ffff c0000200 c00002ff", IKE_P_UNSUPPORTED },
		/* 10 */ { "02 000000 " V4, IKE_P_TRUNCATED },
		/* 11 */ { "01 000000 " V4 " 00", IKE_P_LEN_MISMATCH },
		/* 12 */ { "01 000000 08 00 0010 0000 ffff c0000200 c00002ff", IKE_P_LEN_MISMATCH },
		/* 13 */ { "01 000000 07 06 00", IKE_P_TRUNCATED },
		/* 14 */ { "01 000000 07 06 0000 0000 ffff c0000200 c00002ff", IKE_P_LEN_SHORT },
	};
	static struct ike_ts_set set;
	size_t n;

	RUN_TABLE(cases, ike_parse_ts, struct ike_ts_set);
	n = load("02 000000 " V4 " " V6);
	cr_assert_eq(ike_parse_ts(buf, n, &set), IKE_P_OK);
	cr_assert_eq(set.n, 2);
	cr_expect_eq(set.ts[0].type, IKE_TS_IPV4_ADDR_RANGE);
	cr_expect_eq(set.ts[0].proto, 6);
	cr_expect_eq(set.ts[0].start_port, 0);
	cr_expect_eq(set.ts[0].end_port, 0xffff);
	cr_expect_arr_eq(set.ts[0].start, ((uint8_t[]){ 192, 0, 2, 0 }), 4);
	cr_expect_arr_eq(set.ts[0].end, ((uint8_t[]){ 192, 0, 2, 255 }), 4);
	cr_expect_eq(set.ts[1].type, IKE_TS_IPV6_ADDR_RANGE);
	cr_expect_eq(set.ts[1].start_port, 80);
	cr_expect_eq(set.ts[1].end[15], 0x20);
	/* The most a payload may hold */
	uint8_t one[16];

	cr_assert_eq(ike_hex(V4, one, sizeof(one)), 16);
	n = 4 + 16 * IKE_MAX_TS;
	memset(buf, 0, 4);
	buf[0] = IKE_MAX_TS;
	for (unsigned i = 0; i < IKE_MAX_TS; i++)
		memcpy(buf + 4 + 16 * i, one, 16);
	cr_expect_eq(ike_parse_ts(buf, n, &set), IKE_P_OK);
	cr_expect_eq(set.n, IKE_MAX_TS);
}

Test(ike_parse, skf_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "0001 00", IKE_P_TRUNCATED },
		/* 1 */ { "0001 0001 ab*32", IKE_P_OK },
		/* 2 */ { "0000 0001", IKE_P_BAD_SYNTAX },
		/* 3 */ { "0002 0001", IKE_P_BAD_SYNTAX },
		/* 4 */ { "0001 0000", IKE_P_BAD_SYNTAX },
		/* 5 */ { "0001 0041", IKE_P_TOO_MANY },
		/* 6 */ { "0040 0040", IKE_P_OK },
	};
	struct ike_skf f;
	size_t n;

	RUN_TABLE(cases, ike_parse_skf, struct ike_skf);
	n = load("0002 0003 ab*5");
	cr_assert_eq(ike_parse_skf(buf, n, &f), IKE_P_OK);
	cr_expect_eq(f.frag_num, 2);
	cr_expect_eq(f.total, 3);
	cr_expect_eq(f.len, 5);
	cr_expect_eq(f.data, buf + 4);
}

Test(ike_parse, eap_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "01 01 00", IKE_P_TRUNCATED },
		/* 1 */ { "01 01 0006 01", IKE_P_LEN_MISMATCH },
		/* 2 */ { "02 07 0009 01 6162 6364", IKE_P_OK },
		/* 3 */ { "01 01 0004", IKE_P_TRUNCATED },
		/* 4 */ { "03 01 0004", IKE_P_OK },
		/* 5 */ { "03 01 0005 00", IKE_P_LEN_MISMATCH },
		/* 6 */ { "09 01 0004", IKE_P_BAD_SYNTAX },
		/* 7 */ { "04 02 0004", IKE_P_OK },
		/* 8 */ { "01 01 0000", IKE_P_LEN_MISMATCH },
	};
	struct ike_eap e;
	size_t n;

	RUN_TABLE(cases, ike_parse_eap, struct ike_eap);
	n = load("01 2a 0006 1a 01");
	cr_assert_eq(ike_parse_eap(buf, n, &e), IKE_P_OK);
	cr_expect_eq(e.code, IKE_EAP_REQUEST);
	cr_expect_eq(e.id, 0x2a);
	cr_expect_eq(e.type, 26);               /* EAP-MSCHAPv2 */
}

Test(ike_parse, vendor_table)
{
	static const struct pcase cases[] = {
		/* 0 */ { "", IKE_P_BAD_SIZE },
		/* 1 */ { "ab*16", IKE_P_OK },
	};

	RUN_TABLE(cases, ike_parse_vendor, struct ike_vendor);
}

Test(ike_parse, result_names)
{
	for (int i = 0; i < IKE_P__COUNT; i++) {
		cr_expect_str_neq(ike_parse_strerror(i), "unknown", "result %d has a name", i);
		for (int j = 0; j < i; j++)
			cr_expect_str_neq(ike_parse_strerror(i), ike_parse_strerror(j));
	}
	cr_expect_str_eq(ike_parse_strerror(IKE_P__COUNT), "unknown");
}
