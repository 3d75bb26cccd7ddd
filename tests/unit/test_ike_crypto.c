/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/ike/ike_crypto.c against published vectors: RFC 4231 HMAC-SHA-256/
 * 384/512 (whose inputs are RFC 4868 2.7.1's PRF-1..PRF-6, run here through
 * the PRF transforms), RFC 4868 2.7.2 AUTH256-2 through the INTEG transform,
 * RFC 7748 5.2 and 6.1 for X25519, RFC 5903 8.1 and 8.2 for ECP-256/384;
 * prf+, SKEYSEED and the key split against an independent computation with
 * libcrypto's one-shot HMAC(); peer public values that must be refused.
 */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../ipsec/ike/ike_crypto.h"
#include "ike_hex.h"

static size_t hx(const char *s, uint8_t *out, size_t cap)
{
	size_t n = ike_hex(s, out, cap);

	cr_assert_neq(n, SIZE_MAX, "bad hex: %.40s", s);
	return n;
}

/* ---- RFC 4231 / RFC 4868 ----------------------------------------------------- */

struct hmac_case {
	const char *key, *data;         /* hex */
	const char *sha256, *sha384, *sha512;
};

#define TXT_HI "4869205468657265"   /* "Hi There" */
#define TXT_JEFE "7768617420646f2079612077616e7420666f72206e6f7468696e673f"
#define TXT_6 "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a" \
	"65204b6579202d2048617368204b6579204669727374"
#define TXT_7 "5468697320697320612074657374207573696e672061206c6172676572207468" \
	"616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074" \
	"68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565" \
	"647320746f20626520686173686564206265666f7265206265696e6720757365" \
	"642062792074686520484d414320616c676f726974686d2e"

/* RFC 4231 4.2-4.8 except 4.6 (truncated, below) = RFC 4868 PRF-1..PRF-6 */
static const struct hmac_case hmac_cases[] = {
	/* 0: 4.2 */ { "0b*20", TXT_HI,
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
		"faea9ea9076ede7f4af152e8b2fa9cb6",
		"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		"daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	/* 1: 4.3 */ { "4a656665", TXT_JEFE,
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
		"8e2240ca5e69e2c78b3239ecfab21649",
		"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		"9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	/* 2: 4.4 */ { "aa*20", "dd*50",
		"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
		"88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
		"2a5ab39dc13814b94e3ab6e101a34f27",
		"fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
		"bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
	/* 3: 4.5 */ { "0102030405060708090a0b0c0d0e0f10111213141516171819", "cd*50",
		"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
		"3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
		"6801dd23c4a7d679ccf8a386c674cffb",
		"b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
		"a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
	/* 4: 4.7 */ { "aa*131", TXT_6,
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		"4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
		"0c2ef6ab4030fe8296248df163f44952",
		"80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
		"6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	/* 5: 4.8 */ { "aa*131", TXT_7,
		"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
		"6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
		"a678cc31e799176d3860e6110c46523e",
		"e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
		"b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
};

Test(ike_crypto, rfc4231_rfc4868_prf)
{
	static const uint16_t prfs[] = { IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
					 IKE_PRF_HMAC_SHA2_512 };
	uint8_t key[256], data[256], want[64], got[64];

	for (size_t i = 0; i < N(hmac_cases); i++) {
		const char *wants[] = { hmac_cases[i].sha256, hmac_cases[i].sha384,
					hmac_cases[i].sha512 };
		size_t kl = hx(hmac_cases[i].key, key, sizeof(key));
		size_t dl = hx(hmac_cases[i].data, data, sizeof(data));
		struct ike_iov in = { data, dl };

		for (size_t j = 0; j < N(prfs); j++) {
			size_t wl = hx(wants[j], want, sizeof(want));

			cr_assert_eq(wl, ike_prf_len(prfs[j]));
			cr_assert_eq(ike_prf(prfs[j], key, kl, &in, 1, got), IKE_C_OK);
			cr_expect_arr_eq(got, want, wl, "case %zu, PRF %u", i, prfs[j]);
		}
	}
}

/* RFC 4231 4.6: truncated to 128 bits; and RFC 4868 2.7.2.1 AUTH256-2. */
Test(ike_crypto, integ_truncated)
{
	static const struct { uint16_t integ; const char *want; } t46[] = {
		{ IKE_INTEG_HMAC_SHA2_256_128, "a3b6167473100ee06e0c796c2955552b" },
		{ IKE_INTEG_HMAC_SHA2_384_192, "3abf34c3503b2a23a46efc619baef897" },
		{ IKE_INTEG_HMAC_SHA2_512_256, "415fad6271580a531d4179bc891d87a6" },
	};
	uint8_t key[64], data[64], want[32], got[32];
	size_t kl = hx("0c*20", key, sizeof(key));
	size_t dl = hx("546573742057697468205472756e636174696f6e", data, sizeof(data));
	struct ike_iov in = { data, dl };

	for (size_t i = 0; i < N(t46); i++) {
		cr_assert_eq(ike_integ_mac(t46[i].integ, key, kl, &in, 1, got), IKE_C_OK);
		cr_expect_arr_eq(got, want, hx(t46[i].want, want, sizeof(want)), "integ %u",
				 t46[i].integ);
	}
	cr_expect_eq(ike_integ_icv_len(IKE_INTEG_HMAC_SHA2_256_128), 16);
	cr_expect_eq(ike_integ_icv_len(IKE_INTEG_HMAC_SHA2_384_192), 24);
	cr_expect_eq(ike_integ_icv_len(IKE_INTEG_HMAC_SHA2_512_256), 32);
	/* AUTH256-2: the 32-octet key "JefeJefe..." */
	kl = hx("4a656665*1 4a656665 4a656665 4a656665 4a656665 4a656665 4a656665 4a656665",
		key, sizeof(key));
	dl = hx(TXT_JEFE, data, sizeof(data));
	in = (struct ike_iov){ data, dl };
	cr_assert_eq(kl, 32);
	cr_assert_eq(ike_integ_mac(IKE_INTEG_HMAC_SHA2_256_128, key, kl, &in, 1, got), IKE_C_OK);
	hx("167f928588c5cc2eef8e3093caa0e87c", want, sizeof(want));
	cr_expect_arr_eq(got, want, 16);
	cr_expect_eq(ike_integ_mac(IKE_INTEG_AES_XCBC_96, key, kl, &in, 1, got), IKE_C_UNSUPPORTED);
}

/* An input given in pieces is the concatenation. */
Test(ike_crypto, prf_pieces)
{
	uint8_t data[64], a[64], b[64];
	size_t dl = hx(TXT_JEFE, data, sizeof(data));
	struct ike_iov whole = { data, dl };
	struct ike_iov parts[] = { { data, 3 }, { data + 3, 0 }, { data + 3, dl - 3 } };

	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_256, (const uint8_t *)"Jefe", 4, &whole, 1, a), IKE_C_OK);
	cr_assert_eq(ike_prf(IKE_PRF_HMAC_SHA2_256, (const uint8_t *)"Jefe", 4, parts, 3, b), IKE_C_OK);
	cr_expect_arr_eq(a, b, 32);
	cr_expect_eq(ike_prf(IKE_PRF_HMAC_SHA1, data, 4, &whole, 1, a), IKE_C_UNSUPPORTED);
}

/* ---- prf+ and key derivation, against a direct computation ------------------ */

static const EVP_MD *md_of(uint16_t prf)
{
	return prf == IKE_PRF_HMAC_SHA2_256 ? EVP_sha256() :
	       prf == IKE_PRF_HMAC_SHA2_384 ? EVP_sha384() : EVP_sha512();
}

/* 2.13 written out: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). */
static void ref_prf_plus(uint16_t prf, const uint8_t *k, size_t kl, const uint8_t *s,
			 size_t sl, uint8_t *out, size_t len)
{
	static uint8_t in[64 + 4096 + 1];
	uint8_t t[64];
	unsigned hl = 0;
	size_t done = 0, tl = 0;

	for (unsigned n = 1; done < len; n++) {
		memcpy(in, t, tl);
		memcpy(in + tl, s, sl);
		in[tl + sl] = (uint8_t)n;
		cr_assert_not_null(HMAC(md_of(prf), k, (int)kl, in, tl + sl + 1, t, &hl));
		tl = hl;
		memcpy(out + done, t, len - done < hl ? len - done : hl);
		done += len - done < hl ? len - done : hl;
	}
}

static void ref_prf(uint16_t prf, const uint8_t *k, size_t kl, const uint8_t *d,
		    size_t dl, uint8_t *out)
{
	unsigned hl;

	cr_assert_not_null(HMAC(md_of(prf), k, (int)kl, d, dl, out, &hl));
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

Test(ike_crypto, prf_plus_matches_rfc7296_2_13)
{
	static const uint16_t prfs[] = { IKE_PRF_HMAC_SHA2_256, IKE_PRF_HMAC_SHA2_384,
					 IKE_PRF_HMAC_SHA2_512 };
	static uint8_t key[48], seed[300], got[255 * 64 + 1], want[255 * 64 + 1];

	fill(key, sizeof(key), 1);
	fill(seed, sizeof(seed), 9);
	for (size_t i = 0; i < N(prfs); i++) {
		size_t hl = ike_prf_len(prfs[i]);
		size_t lens[] = { 1, hl - 1, hl, hl + 1, 3 * hl + 5, 255 * hl };

		for (size_t j = 0; j < N(lens); j++) {
			struct ike_iov s[] = { { seed, 100 }, { seed + 100, 200 } };

			memset(got, 0, sizeof(got));
			cr_assert_eq(ike_prf_plus(prfs[i], key, sizeof(key), s, 2, got, lens[j]),
				     IKE_C_OK);
			ref_prf_plus(prfs[i], key, sizeof(key), seed, 300, want, lens[j]);
			cr_expect_arr_eq(got, want, lens[j], "PRF %u, %zu octets", prfs[i], lens[j]);
		}
		struct ike_iov s = { seed, 10 };

		cr_expect_eq(ike_prf_plus(prfs[i], key, 16, &s, 1, got, 255 * hl + 1),
			     IKE_C_BAD_LENGTH, "the counter would wrap");
	}
}

Test(ike_crypto, sa_keys_match_rfc7296_2_14)
{
	static uint8_t ni[32], nr[48], gir[256], spii[8], spir[8], s[32 + 48 + 16];
	static uint8_t ks[1024], skeyseed[64], want[64];
	static struct ike_sa_keys k;
	const uint16_t prf = IKE_PRF_HMAC_SHA2_384;
	const size_t pl = 48, el = 36, al = 32;

	fill(ni, sizeof(ni), 3);
	fill(nr, sizeof(nr), 5);
	fill(gir, sizeof(gir), 11);
	fill(spii, 8, 0x10);
	fill(spir, 8, 0x20);
	/* SKEYSEED = prf(Ni | Nr, g^ir) */
	memcpy(s, ni, 32);
	memcpy(s + 32, nr, 48);
	ref_prf(prf, s, 80, gir, sizeof(gir), want);
	cr_assert_eq(ike_skeyseed(prf, ni, 32, nr, 48, gir, sizeof(gir), skeyseed), IKE_C_OK);
	cr_expect_arr_eq(skeyseed, want, pl);
	/* the key stream, split in the order of 2.14 */
	memcpy(s + 80, spii, 8);
	memcpy(s + 88, spir, 8);
	ref_prf_plus(prf, want, pl, s, 96, ks, 3 * pl + 2 * al + 2 * el);
	cr_assert_eq(ike_derive_sa_keys(prf, skeyseed, ni, 32, nr, 48, spii, spir, el, al, &k),
		     IKE_C_OK);
	cr_expect_arr_eq(k.d, ks, pl);
	cr_expect_arr_eq(k.ai, ks + pl, al);
	cr_expect_arr_eq(k.ar, ks + pl + al, al);
	cr_expect_arr_eq(k.ei, ks + pl + 2 * al, el);
	cr_expect_arr_eq(k.er, ks + pl + 2 * al + el, el);
	cr_expect_arr_eq(k.pi, ks + pl + 2 * al + 2 * el, pl);
	cr_expect_arr_eq(k.pr, ks + 2 * pl + 2 * al + 2 * el, pl);
	cr_expect_eq(k.prf_len, pl);
	ike_sa_keys_wipe(&k);
	cr_expect_eq(k.d[0] | k.pr[pl - 1], 0, "wiped");
	cr_expect_eq(ike_derive_sa_keys(prf, skeyseed, ni, 32, nr, 48, spii, spir, 37, al, &k),
		     IKE_C_BAD_LENGTH);
}

Test(ike_crypto, rekey_and_child_keymat)
{
	static uint8_t d[32], ni[16], nr[16], gir[32], in[64], want[200], got[200];
	const uint16_t prf = IKE_PRF_HMAC_SHA2_256;

	fill(d, 32, 1);
	fill(ni, 16, 2);
	fill(nr, 16, 3);
	fill(gir, 32, 4);
	/* 2.18: prf(SK_d (old), g^ir (new) | Ni | Nr) */
	memcpy(in, gir, 32);
	memcpy(in + 32, ni, 16);
	memcpy(in + 48, nr, 16);
	ref_prf(prf, d, 32, in, 64, want);
	cr_assert_eq(ike_skeyseed_rekey(prf, d, 32, gir, 32, ni, 16, nr, 16, got), IKE_C_OK);
	cr_expect_arr_eq(got, want, 32);
	/* 2.17: prf+(SK_d, g^ir | Ni | Nr), and without PFS prf+(SK_d, Ni | Nr) */
	ref_prf_plus(prf, d, 32, in, 64, want, 200);
	cr_assert_eq(ike_child_keymat(prf, d, 32, gir, 32, ni, 16, nr, 16, got, 200), IKE_C_OK);
	cr_expect_arr_eq(got, want, 200);
	ref_prf_plus(prf, d, 32, in + 32, 32, want, 72);
	cr_assert_eq(ike_child_keymat(prf, d, 32, NULL, 0, ni, 16, nr, 16, got, 72), IKE_C_OK);
	cr_expect_arr_eq(got, want, 72);
}

Test(ike_crypto, key_sizes)
{
	cr_expect_eq(ike_encr_keymat_len(IKE_ENCR_AES_GCM_16, 128), 20);
	cr_expect_eq(ike_encr_keymat_len(IKE_ENCR_AES_GCM_16, 256), 36);
	cr_expect_eq(ike_encr_keymat_len(IKE_ENCR_AES_GCM_16, 0), 0);
	cr_expect_eq(ike_encr_keymat_len(IKE_ENCR_CHACHA20_POLY1305, 0), 36);
	cr_expect_eq(ike_encr_keymat_len(IKE_ENCR_CHACHA20_POLY1305, 256), 0);
	cr_expect_eq(ike_encr_keymat_len(IKE_ENCR_AES_CBC, 128), 16);
	cr_expect_eq(ike_encr_keymat_len(IKE_ENCR_AES_CBC, 100), 0);
	cr_expect_eq(ike_encr_keymat_len(IKE_ENCR_3DES, 0), 0);
	cr_expect_eq(ike_integ_key_len(IKE_INTEG_NONE), 0);
	cr_expect_eq(ike_integ_key_len(IKE_INTEG_HMAC_SHA2_256_128), 32);
	cr_expect_eq(ike_integ_key_len(IKE_INTEG_HMAC_SHA1_96), SIZE_MAX);
	cr_expect_eq(ike_prf_len(IKE_PRF_HMAC_SHA2_512), 64);
}

/* ---- Key exchange ------------------------------------------------------------ */

static void dh_fixed(struct ike_dh *dh, uint16_t group, const char *priv)
{
	uint8_t p[256];

	cr_assert_eq(ike_dh_set_private(dh, group, p, hx(priv, p, sizeof(p))), IKE_C_OK,
		     "group %u", group);
}

static void expect_public(const struct ike_dh *dh, const char *want)
{
	uint8_t w[256], got[256];
	size_t wl = hx(want, w, sizeof(w)), gl;

	cr_assert_eq(ike_dh_public(dh, got, sizeof(got), &gl), IKE_C_OK);
	cr_expect_eq(gl, wl);
	cr_expect_arr_eq(got, w, wl, "public value of group %u", dh->group);
}

static void expect_shared(const struct ike_dh *dh, const char *peer, const char *want)
{
	uint8_t p[256], w[256], got[256];
	size_t pl = hx(peer, p, sizeof(p)), wl = hx(want, w, sizeof(w)), gl;

	cr_assert_eq(ike_dh_shared(dh, p, pl, got, sizeof(got), &gl), IKE_C_OK);
	cr_expect_eq(gl, wl);
	cr_expect_arr_eq(got, w, wl, "shared secret of group %u", dh->group);
}

Test(ike_crypto, x25519_rfc7748)
{
	struct ike_dh a, b;

	/* 5.2: the function on two (scalar, u) pairs */
	dh_fixed(&a, IKE_DH_CURVE25519,
		 "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
	expect_shared(&a, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		      "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	ike_dh_free(&a);
	dh_fixed(&a, IKE_DH_CURVE25519,
		 "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
	expect_shared(&a, "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		      "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
	ike_dh_free(&a);
	/* 5.2, iterated: k = u = 9; k, u = X25519(k, u), k */
	{
		uint8_t k[32] = { 9 }, u[32] = { 9 }, out[32], want[32];
		size_t len;

		for (int i = 1; i <= 1000; i++) {
			cr_assert_eq(ike_dh_set_private(&a, IKE_DH_CURVE25519, k, 32), IKE_C_OK);
			cr_assert_eq(ike_dh_shared(&a, u, 32, out, 32, &len), IKE_C_OK);
			ike_dh_free(&a);
			memcpy(u, k, 32);
			memcpy(k, out, 32);
			if (i == 1) {
				hx("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
				   want, 32);
				cr_expect_arr_eq(k, want, 32, "after one iteration");
			}
		}
		hx("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", want, 32);
		cr_expect_arr_eq(k, want, 32, "after 1,000 iterations");
	}
	/* 6.1: Alice and Bob */
	dh_fixed(&a, IKE_DH_CURVE25519,
		 "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	dh_fixed(&b, IKE_DH_CURVE25519,
		 "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	expect_public(&a, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	expect_public(&b, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	expect_shared(&a, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
		      "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	expect_shared(&b, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		      "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	ike_dh_free(&a);
	ike_dh_free(&b);
}

#define P256_I "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"
#define P256_GI "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180" \
		"5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3"
#define P256_R "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53"
#define P256_GR "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63" \
		"56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB"
#define P256_GIR "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"

#define P384_I "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655" \
	       "E35B538041E649EE3FAEF896783AB194"
#define P384_GI "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6" \
		"DE3AC808ACB4BDB4C88732AEE95F41AA9482ED1FC0EEB9CAFC4984625CCFC23F" \
		"65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C"
#define P384_R "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942" \
	       "E0308312916B8ED2960E4BD55A7448FC"
#define P384_GR "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D" \
		"0D1AC43A0336DEF96FDA41D0774A3571DCFBEC7AACF3196472169E838430367F" \
		"66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C"
#define P384_GIR "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4" \
		 "D603135569B9E9D09CF5D4A270F59746"

static void ecp_vector(uint16_t group, const char *i, const char *gi, const char *r,
		       const char *gr, const char *gir)
{
	struct ike_dh a, b;

	dh_fixed(&a, group, i);
	dh_fixed(&b, group, r);
	expect_public(&a, gi);          /* RFC 5903 7: x || y */
	expect_public(&b, gr);
	expect_shared(&a, gr, gir);     /* the x coordinate */
	expect_shared(&b, gi, gir);
	ike_dh_free(&a);
	ike_dh_free(&b);
}

Test(ike_crypto, ecp_rfc5903)
{
	ecp_vector(IKE_DH_ECP_256, P256_I, P256_GI, P256_R, P256_GR, P256_GIR);
	ecp_vector(IKE_DH_ECP_384, P384_I, P384_GI, P384_R, P384_GR, P384_GIR);
}

static enum ike_crypto_res shared_with(const struct ike_dh *dh, const uint8_t *peer, size_t n)
{
	uint8_t out[256];
	size_t len = 99;
	enum ike_crypto_res r = ike_dh_shared(dh, peer, n, out, sizeof(out), &len);

	if (r != IKE_C_OK)
		cr_expect_eq(len, 0);
	return r;
}

Test(ike_crypto, bad_peer_values)
{
	struct ike_dh x, e;
	uint8_t p[256];
	size_t n;

	dh_fixed(&x, IKE_DH_CURVE25519,
		 "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	/* RFC 7748 6.1: small-order u give an all-zero secret */
	n = hx("00*32", p, sizeof(p));
	cr_expect_eq(shared_with(&x, p, n), IKE_C_BAD_PEER, "u = 0");
	n = hx("01 00*31", p, sizeof(p));
	cr_expect_eq(shared_with(&x, p, n), IKE_C_BAD_PEER, "u = 1");
	n = hx("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", p, sizeof(p));
	cr_expect_eq(shared_with(&x, p, n), IKE_C_BAD_PEER, "a point of order 8");
	cr_expect_eq(shared_with(&x, p, 31), IKE_C_BAD_PEER, "31 octets");
	ike_dh_free(&x);

	dh_fixed(&e, IKE_DH_ECP_256, P256_I);
	n = hx(P256_GR, p, sizeof(p));
	cr_expect_eq(shared_with(&e, p, n), IKE_C_OK);
	p[63] ^= 1;
	cr_expect_eq(shared_with(&e, p, n), IKE_C_BAD_PEER, "not on the curve");
	n = hx("00*64", p, sizeof(p));
	cr_expect_eq(shared_with(&e, p, n), IKE_C_BAD_PEER, "(0, 0)");
	n = hx(P256_GR, p, sizeof(p));
	cr_expect_eq(shared_with(&e, p, 63), IKE_C_BAD_PEER, "63 octets");
	cr_expect_eq(shared_with(&e, p, 65), IKE_C_BAD_PEER, "65 octets");
	/* x beyond the field: p256's p + 1 is no coordinate */
	n = hx("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff" "00*32",
	       p, sizeof(p));
	cr_expect_eq(shared_with(&e, p, n), IKE_C_BAD_PEER, "x = p");
	ike_dh_free(&e);
}

Test(ike_crypto, modp_2048)
{
	struct ike_dh a, b;
	uint8_t pa[256], pb[256], sa[256], sb[256], peer[256];
	size_t la, lb, n;
	BIGNUM *p = BN_get_rfc3526_prime_2048(NULL);

	/* RFC 3526 3: the prime starts FFFFFFFF FFFFFFFF C90FDAA2 2168C234 and
	 * ends with 64 one bits */
	cr_assert_eq(BN_bn2binpad(p, peer, 256), 256);
	hx("ffffffffffffffffc90fdaa22168c234", pa, sizeof(pa));
	cr_expect_arr_eq(peer, pa, 16);
	hx("ff*8", pa, sizeof(pa));
	cr_expect_arr_eq(peer + 248, pa, 8);
	/* g^x for x = 2 is 4, padded to 256 octets */
	dh_fixed(&a, IKE_DH_MODP_2048, "02");
	expect_public(&a, "00*255 04");
	ike_dh_free(&a);
	/* a fresh pair agrees */
	cr_assert_eq(ike_dh_generate(&a, IKE_DH_MODP_2048), IKE_C_OK);
	cr_assert_eq(ike_dh_generate(&b, IKE_DH_MODP_2048), IKE_C_OK);
	cr_assert_eq(ike_dh_public(&a, pa, sizeof(pa), &la), IKE_C_OK);
	cr_assert_eq(ike_dh_public(&b, pb, sizeof(pb), &lb), IKE_C_OK);
	cr_assert_eq(la, 256);
	cr_assert_eq(ike_dh_shared(&a, pb, lb, sa, sizeof(sa), &la), IKE_C_OK);
	cr_assert_eq(ike_dh_shared(&b, pa, 256, sb, sizeof(sb), &lb), IKE_C_OK);
	cr_expect_eq(la, 256);
	cr_expect_arr_eq(sa, sb, 256);
	/* 1 < y < p - 1 */
	n = hx("00*256", peer, sizeof(peer));
	cr_expect_eq(shared_with(&a, peer, n), IKE_C_BAD_PEER, "y = 0");
	peer[255] = 1;
	cr_expect_eq(shared_with(&a, peer, n), IKE_C_BAD_PEER, "y = 1");
	peer[255] = 2;
	cr_expect_eq(shared_with(&a, peer, n), IKE_C_OK, "y = 2");
	BN_bn2binpad(p, peer, 256);
	peer[255] -= 1;
	cr_expect_eq(shared_with(&a, peer, n), IKE_C_BAD_PEER, "y = p - 1");
	peer[255] -= 1;
	cr_expect_eq(shared_with(&a, peer, n), IKE_C_OK, "y = p - 2");
	BN_bn2binpad(p, peer, 256);
	cr_expect_eq(shared_with(&a, peer, n), IKE_C_BAD_PEER, "y = p");
	memset(peer, 0xff, 256);
	cr_expect_eq(shared_with(&a, peer, n), IKE_C_BAD_PEER, "y > p");
	cr_expect_eq(shared_with(&a, pb, 255), IKE_C_BAD_PEER, "255 octets");
	ike_dh_free(&a);
	ike_dh_free(&b);
	BN_free(p);
}

/* Every group: fresh keys on both sides agree, with the sizes of 3.4. */
Test(ike_crypto, every_group_agrees)
{
	static const uint16_t groups[] = { IKE_DH_CURVE25519, IKE_DH_ECP_256, IKE_DH_ECP_384,
					   IKE_DH_MODP_2048 };
	static const size_t pub[] = { 32, 64, 96, 256 }, sec[] = { 32, 32, 48, 256 };

	for (size_t i = 0; i < N(groups); i++) {
		struct ike_dh a, b;
		uint8_t pa[256], pb[256], sa[256], sb[256];
		size_t la, lb, ls;

		cr_assert_eq(ike_dh_generate(&a, groups[i]), IKE_C_OK);
		cr_assert_eq(ike_dh_generate(&b, groups[i]), IKE_C_OK);
		cr_assert_eq(ike_dh_public(&a, pa, sizeof(pa), &la), IKE_C_OK);
		cr_assert_eq(ike_dh_public(&b, pb, sizeof(pb), &lb), IKE_C_OK);
		cr_expect_eq(la, pub[i], "group %u", groups[i]);
		cr_expect_eq(ike_dh_public_len(groups[i]), pub[i]);
		cr_expect_neq(memcmp(pa, pb, la), 0);
		cr_assert_eq(ike_dh_shared(&a, pb, lb, sa, sizeof(sa), &ls), IKE_C_OK);
		cr_expect_eq(ls, sec[i]);
		cr_assert_eq(ike_dh_shared(&b, pa, la, sb, sizeof(sb), &ls), IKE_C_OK);
		cr_expect_arr_eq(sa, sb, sec[i], "group %u", groups[i]);
		cr_expect_eq(ike_dh_public(&a, pa, la - 1, &la), IKE_C_BAD_LENGTH);
		cr_expect_eq(ike_dh_shared(&a, pb, lb, sa, sec[i] - 1, &ls), IKE_C_BAD_LENGTH);
		ike_dh_free(&a);
		ike_dh_free(&b);
	}
}

Test(ike_crypto, unsupported_group)
{
	struct ike_dh d;
	uint8_t k[32] = { 1 };

	cr_expect_eq(ike_dh_generate(&d, IKE_DH_ECP_521), IKE_C_UNSUPPORTED);
	ike_dh_free(&d);
	cr_expect_eq(ike_dh_set_private(&d, 2, k, sizeof(k)), IKE_C_UNSUPPORTED);
	ike_dh_free(&d);
	cr_expect_eq(ike_dh_set_private(&d, IKE_DH_CURVE25519, k, 31), IKE_C_BAD_LENGTH);
	ike_dh_free(&d);
	cr_expect_eq(ike_dh_public_len(IKE_DH_ECP_521), 0);
}
