/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/ike/ike_childsa.c: every chosen ESP/AH proposal against the
 * datapath's algorithms (a table, -ENOTSUP for what it cannot run), the
 * KEYMAT length, both SAs cut from a KEYMAT laid out by hand (2.17:
 * i->r encryption, i->r integrity, r->i encryption, r->i integrity),
 * the initiator's and responder's views agreeing byte for byte, and the
 * SAs the datapath would install accepted by it; lifetimes.
 */
#include <arpa/inet.h>
#include <errno.h>

#include <criterion/criterion.h>

#include "../../ipsec/crypto.h"
#include "../../ipsec/sad.h"
#include "../../ipsec/ike/ike_neg.h"
#include "ike_hex.h"

struct alg_case {
	uint8_t proto;
	uint16_t encr, keylen, integ;
	int rc;
	enum sn_enc_alg enc;
	uint8_t ekl;
	enum sn_auth_alg auth;
	uint8_t akl, icv;
};

#define REFUSED(proto, encr, keylen, integ, rc) \
	{ proto, encr, keylen, integ, rc, SN_ENC_NONE, 0, SN_AUTH_NONE, 0, 0 }

static const struct alg_case alg_cases[] = {
	{ IKE_PROTO_ESP, IKE_ENCR_AES_GCM_16, 128, 0, 0, SN_ENC_AES_GCM, 20, SN_AUTH_NONE, 0, 16 },
	{ IKE_PROTO_ESP, IKE_ENCR_AES_GCM_16, 256, 0, 0, SN_ENC_AES_GCM, 36, SN_AUTH_NONE, 0, 16 },
	{ IKE_PROTO_ESP, IKE_ENCR_CHACHA20_POLY1305, 0, 0, 0, SN_ENC_CHACHA20_POLY1305, 36,
	  SN_AUTH_NONE, 0, 16 },
	{ IKE_PROTO_ESP, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, 0, SN_ENC_AES_CBC, 16,
	  SN_AUTH_HMAC_SHA1_96, 20, 12 },
	{ IKE_PROTO_ESP, IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, 0, SN_ENC_AES_CBC, 32,
	  SN_AUTH_HMAC_SHA256_128, 32, 16 },
	{ IKE_PROTO_ESP, IKE_ENCR_NULL, 0, IKE_INTEG_HMAC_SHA2_256_128, 0, SN_ENC_NULL, 0,
	  SN_AUTH_HMAC_SHA256_128, 32, 16 },
	{ IKE_PROTO_AH, 0, 0, IKE_INTEG_HMAC_SHA1_96, 0, SN_ENC_NONE, 0, SN_AUTH_HMAC_SHA1_96, 20,
	  12 },
	{ IKE_PROTO_AH, 0, 0, IKE_INTEG_HMAC_SHA2_256_128, 0, SN_ENC_NONE, 0,
	  SN_AUTH_HMAC_SHA256_128, 32, 16 },
	/* what the datapath does not have */
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_GCM_16, 192, 0, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA1_96, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_CTR, 128, IKE_INTEG_HMAC_SHA1_96, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_GCM_8, 128, 0, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_384_192, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_CBC, 128, IKE_INTEG_AES_XCBC_96, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_NULL_AUTH_AES_GMAC, 128, 0, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_CBC, 128, 0, -ENOTSUP),          /* no integrity */
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_NULL, 0, 0, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_HMAC_SHA1_96, -ENOTSUP),
	REFUSED(IKE_PROTO_ESP, IKE_ENCR_AES_CBC, 0, IKE_INTEG_HMAC_SHA1_96, -ENOTSUP),  /* no keylen */
	REFUSED(IKE_PROTO_AH, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, -ENOTSUP),
	REFUSED(IKE_PROTO_AH, 0, 0, 0, -ENOTSUP),
	REFUSED(IKE_PROTO_IKE, IKE_ENCR_AES_GCM_16, 128, 0, -EINVAL),
};

Test(ike_childsa, algs_table)
{
	for (size_t i = 0; i < N(alg_cases); i++) {
		const struct alg_case *t = &alg_cases[i];
		struct ike_chosen c = { .proto = t->proto, .encr = t->encr, .encr_keylen = t->keylen,
					.integ = t->integ };
		enum sn_enc_alg enc = 99;
		enum sn_auth_alg auth = 99;
		uint8_t ekl = 99, akl = 99, icv = 99;
		int rc = ike_child_algs(&c, &enc, &ekl, &auth, &akl, &icv);

		cr_expect_eq(rc, t->rc, "case %zu: %d", i + 1, rc);
		if (rc) {
			cr_expect_eq(ike_child_keymat_len(&c), 0, "case %zu", i + 1);
			continue;
		}
		cr_expect_eq(enc, t->enc, "case %zu", i + 1);
		cr_expect_eq(ekl, t->ekl, "case %zu", i + 1);
		cr_expect_eq(auth, t->auth, "case %zu", i + 1);
		cr_expect_eq(akl, t->akl, "case %zu", i + 1);
		cr_expect_eq(icv, t->icv, "case %zu", i + 1);
		cr_expect_eq(ike_child_keymat_len(&c), 2u * (t->ekl + t->akl), "case %zu", i + 1);
	}
}

static struct sn_ip v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct sn_ip){ .family = AF_INET, .addr = { a, b, c, d } };
}

/* KEYMAT by hand: octet k of key part p is (p << 6) | k, so each octet
 * says where it came from: p 0 = SK_ei-like (i->r encr), 1 = i->r integ,
 * 2 = r->i encr, 3 = r->i integ. */
static size_t lay_out(uint8_t *km, uint8_t ekl, uint8_t akl)
{
	size_t at = 0;
	const uint8_t lens[4] = { ekl, akl, ekl, akl };

	for (unsigned p = 0; p < 4; p++)
		for (unsigned k = 0; k < lens[p]; k++)
			km[at++] = (uint8_t)(p << 6 | k);
	return at;
}

static void expect_part(const uint8_t *key, uint8_t len, unsigned part, const char *what)
{
	for (unsigned k = 0; k < len; k++)
		cr_expect_eq(key[k], (uint8_t)(part << 6 | k), "%s octet %u", what, k);
}

Test(ike_childsa, keymat_layout)
{
	static const struct ike_chosen cases[] = {
		{ .proto = IKE_PROTO_ESP, .encr = IKE_ENCR_AES_GCM_16, .encr_keylen = 256,
		  .esn = IKE_ESN_YES },
		{ .proto = IKE_PROTO_ESP, .encr = IKE_ENCR_AES_CBC, .encr_keylen = 128,
		  .integ = IKE_INTEG_HMAC_SHA2_256_128 },
		{ .proto = IKE_PROTO_ESP, .encr = IKE_ENCR_CHACHA20_POLY1305 },
		{ .proto = IKE_PROTO_AH, .integ = IKE_INTEG_HMAC_SHA1_96 },
	};
	struct sn_ip a = v4(192, 0, 2, 1), b = v4(192, 0, 2, 2);

	for (size_t i = 0; i < N(cases); i++) {
		const struct ike_chosen *c = &cases[i];
		uint8_t km[256];
		enum sn_enc_alg enc;
		enum sn_auth_alg auth;
		uint8_t ekl, akl, icv;
		struct sn_sa_conf a_out = { .mode = SN_MODE_TUNNEL, .reqid = 7 }, a_in = a_out;
		struct sn_sa_conf b_out = { 0 }, b_in = { 0 };

		cr_assert_eq(ike_child_algs(c, &enc, &ekl, &auth, &akl, &icv), 0);
		size_t len = lay_out(km, ekl, akl);
		cr_assert_eq(len, ike_child_keymat_len(c));
		/* A initiated; its SPI is 0x1000 (inbound to A), B's is 0x2000 */
		cr_assert_eq(ike_child_confs(c, km, len, true, 0x1000, 0x2000, &a, &b,
					     &a_out, &a_in), 0);
		cr_assert_eq(ike_child_confs(c, km, len, false, 0x2000, 0x1000, &b, &a,
					     &b_out, &b_in), 0);
		/* A's out (i->r) uses parts 0/1, its in (r->i) parts 2/3 */
		expect_part(a_out.enc_key, ekl, 0, "A out enc");
		expect_part(a_out.auth_key, akl, 1, "A out auth");
		expect_part(a_in.enc_key, ekl, 2, "A in enc");
		expect_part(a_in.auth_key, akl, 3, "A in auth");
		cr_expect_eq(a_out.spi, 0x2000);
		cr_expect_eq(a_in.spi, 0x1000);
		cr_expect(sn_ip_equal(&a_out.src, &a) && sn_ip_equal(&a_out.dst, &b));
		cr_expect(sn_ip_equal(&a_in.src, &b) && sn_ip_equal(&a_in.dst, &a));
		/* the caller's fields are left alone */
		cr_expect_eq(a_out.mode, SN_MODE_TUNNEL);
		cr_expect_eq(a_in.reqid, 7);
		/* A's out is B's in, byte for byte, and the other way round */
		cr_expect_eq(memcmp(&a_out, &b_in, offsetof(struct sn_sa_conf, mode)), 0, "%zu", i);
		cr_expect_eq(a_out.enc, b_in.enc);
		cr_expect_eq(a_out.flags, b_in.flags);
		cr_expect_arr_eq(a_out.enc_key, b_in.enc_key, sizeof(a_out.enc_key));
		cr_expect_arr_eq(a_out.auth_key, b_in.auth_key, sizeof(a_out.auth_key));
		cr_expect_eq(a_out.enc_key_len, b_in.enc_key_len);
		cr_expect_eq(a_out.auth_key_len, b_in.auth_key_len);
		cr_expect_eq(a_out.icv_len, b_in.icv_len);
		cr_expect_eq(b_out.spi, a_in.spi);
		cr_expect_arr_eq(b_out.enc_key, a_in.enc_key, sizeof(b_out.enc_key));
		cr_expect_arr_eq(b_out.auth_key, a_in.auth_key, sizeof(b_out.auth_key));
		cr_expect_eq(a_out.proto, c->proto == IKE_PROTO_ESP ? SN_IPPROTO_ESP : SN_IPPROTO_AH);
		cr_expect_eq(!!(a_out.flags & SN_SA_F_ESN), c->esn == IKE_ESN_YES);
		/* and the datapath takes them */
		struct sn_crypto *cr = NULL;
		const char *why = NULL;
		cr_expect_eq(sn_crypto_new_conf(&cr, SN_CRYPTO_MBEDTLS, &a_out, &why), 0, "case %zu: %s", i,
			     why ? why : "");
		sn_crypto_free(cr);
	}
}

Test(ike_childsa, confs_refuse)
{
	struct ike_chosen c = { .proto = IKE_PROTO_ESP, .encr = IKE_ENCR_AES_GCM_16,
				.encr_keylen = 128, .esn = IKE_ESN_NO };
	struct ike_chosen bad = c;
	uint8_t km[40] = { 0 };
	struct sn_ip a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2), six = { .family = AF_INET6 };
	struct sn_sa_conf o = { .flags = SN_SA_F_ESN | SN_SA_F_NO_REPLAY }, in = { 0 };

	cr_expect_eq(ike_child_confs(&c, km, 39, true, 0x1000, 0x2000, &a, &b, &o, &in), -EINVAL);
	cr_expect_eq(ike_child_confs(&c, NULL, 40, true, 0x1000, 0x2000, &a, &b, &o, &in),
		     -EINVAL);
	cr_expect_eq(ike_child_confs(&c, km, 40, true, 255, 0x2000, &a, &b, &o, &in), -EINVAL);
	cr_expect_eq(ike_child_confs(&c, km, 40, true, 0x1000, 0, &a, &b, &o, &in), -EINVAL);
	cr_expect_eq(ike_child_confs(&c, km, 40, true, 0x1000, 0x2000, &a, &six, &o, &in),
		     -EINVAL);
	bad.encr_keylen = 192;
	cr_expect_eq(ike_child_confs(&bad, km, 40, true, 0x1000, 0x2000, &a, &b, &o, &in),
		     -ENOTSUP);
	cr_expect_eq(o.spi, 0, "a refused call writes nothing");
	/* more KEYMAT than needed is fine; ESN "no" clears only its flag */
	cr_expect_eq(ike_child_confs(&c, km, 40, true, 0x1000, 0x2000, &a, &b, &o, &in), 0);
	cr_expect_eq(o.flags, SN_SA_F_NO_REPLAY);
}

Test(ike_childsa, lifetimes)
{
	struct ike_conf_child ch = { .rekey_time = 3600, .life_time = 3960, .rand_time = 360,
				     .rekey_bytes = 1000000, .life_bytes = 1100000 };
	struct sn_lifetime l;

	ike_life_from(&ch, 0, &l);
	cr_expect_eq(l.soft_add_s, 3600);
	cr_expect_eq(l.hard_add_s, 3960);
	cr_expect_eq(l.soft_bytes, 1000000);
	cr_expect_eq(l.hard_bytes, 1100000);
	ike_life_from(&ch, 100, &l);
	cr_expect_eq(l.soft_add_s, 3500);
	cr_expect_eq(l.soft_bytes, 1000000 - 100);
	ike_life_from(&ch, 361, &l);            /* rnd modulo rand_time + 1 */
	cr_expect_eq(l.soft_add_s, 3600);
	cr_expect_eq(l.soft_packets, 0);
	cr_expect_eq(l.hard_use_s, 0);

	/* life 0: 110 % of rekey; rekey 0: no soft limit; jitter never reaches 0 */
	ch = (struct ike_conf_child){ .rekey_time = 1000, .rand_time = 5000 };
	ike_life_from(&ch, 4999, &l);
	cr_expect_eq(l.hard_add_s, 1100);
	cr_expect_eq(l.soft_add_s, 1);
	cr_expect_eq(l.soft_bytes, 0);
	cr_expect_eq(l.hard_bytes, 0);
	ch = (struct ike_conf_child){ .life_time = 600 };
	ike_life_from(&ch, 77, &l);
	cr_expect_eq(l.soft_add_s, 0);
	cr_expect_eq(l.hard_add_s, 600);
}
