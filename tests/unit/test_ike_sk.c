/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/ike/ike_sk.c: the SK payload for every IKE SA transform the issue
 * lists (AES-GCM-16 128/192/256, ChaCha20-Poly1305, AES-CBC with
 * HMAC-SHA2): round trips through a built and parsed message, a flipped
 * bit anywhere the ICV covers, truncation, padding; and known answers run
 * through the SK code: RFC 7539 2.8.2 (ChaCha20-Poly1305), the GCM spec's
 * test case 4 (AES-128-GCM), RFC 3602 4 cases 1 and 2 (AES-128-CBC).
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../ipsec/ike/ike_sk.h"
#include "ike_hex.h"

struct alg {
	uint16_t encr, bits, integ;
	const char *name;
};

static const struct alg algs[] = {
	{ IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, "aes128gcm16" },
	{ IKE_ENCR_AES_GCM_16, 192, IKE_INTEG_NONE, "aes192gcm16" },
	{ IKE_ENCR_AES_GCM_16, 256, IKE_INTEG_NONE, "aes256gcm16" },
	{ IKE_ENCR_CHACHA20_POLY1305, 0, IKE_INTEG_NONE, "chacha20poly1305" },
	{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128, "aes128-sha256" },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, "aes256-sha256" },
	{ IKE_ENCR_AES_CBC, 192, IKE_INTEG_HMAC_SHA2_384_192, "aes192-sha384" },
	{ IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256, "aes256-sha512" },
};

static void key_for(struct ike_sk_key *k, const struct alg *a)
{
	uint8_t e[IKE_ENCR_KEYMAT_MAX], i[IKE_INTEG_KEY_MAX];
	size_t el = ike_encr_keymat_len(a->encr, a->bits), il = ike_integ_key_len(a->integ);

	for (size_t j = 0; j < sizeof(e); j++)
		e[j] = (uint8_t)(0x40 + j);
	for (size_t j = 0; j < sizeof(i); j++)
		i[j] = (uint8_t)(0x90 + j);
	cr_assert_eq(ike_sk_key_init(k, a->encr, a->bits, a->integ, e, el, i, il), IKE_SK_OK,
		     "%s", a->name);
}

static const struct ike_header hdr = {
	.ispi = 0x1122334455667788ull, .rspi = 0x99aabbccddeeff00ull, .major = 2,
	.exchange = IKE_EXCH_AUTH, .flags = IKE_FLAG_INITIATOR, .msgid = 1,
};

/* IKE_AUTH-like inner payloads: notify, IDi, nonce-sized filler, TSi. */
static void build_inner(struct ike_buf *in, uint8_t *mem, size_t cap, size_t fill)
{
	static const uint8_t id[] = "initiator.example", data[256] = { 0x5c };
	struct ike_ts_set ts = { .n = 1 };

	ts.ts[0] = (struct ike_ts){ IKE_TS_IPV4_ADDR_RANGE, 17, 0, 65535,
				    { 10, 0, 0, 1 }, { 10, 0, 0, 1 } };
	ike_build_init(in, mem, cap);
	cr_assert_eq(ike_build_notify(in, &(struct ike_notify){ .type = IKE_N_USE_TRANSPORT_MODE }),
		     IKE_B_OK);
	cr_assert_eq(ike_build_id(in, IKE_PL_IDI, &(struct ike_id){ IKE_ID_FQDN, sizeof(id) - 1, id }),
		     IKE_B_OK);
	cr_assert_eq(ike_build_nonce(in, &(struct ike_nonce){ (uint16_t)fill, data }), IKE_B_OK);
	cr_assert_eq(ike_build_ts(in, IKE_PL_TSI, &ts), IKE_B_OK);
}

/* Header, a cleartext Vendor ID (the AAD covers it too), then SK. */
static size_t seal_msg(struct ike_sk_key *k, uint8_t *mem, size_t cap, size_t fill,
		       struct ike_buf *inner, uint8_t *inner_mem)
{
	struct ike_buf b;

	build_inner(inner, inner_mem, 512, fill);
	ike_build_init(&b, mem, cap);
	cr_assert_eq(ike_build_header(&b, &hdr), IKE_B_OK);
	cr_assert_eq(ike_build_vendor(&b, &(struct ike_vendor){ 4, (const uint8_t *)"snet" }),
		     IKE_B_OK);
	cr_assert_eq(ike_sk_seal(k, &b, inner, NULL), IKE_SK_OK);
	return b.len;
}

#define AAD_LEN (IKE_HDR_LEN + 8 + IKE_GEN_HDR_LEN)     /* header, VID, SK header */

Test(ike_sk, round_trip_every_alg)
{
	static uint8_t mem[1024], inner_mem[512], pt[1024];
	static struct ike_msg m;
	static struct ike_chain c;

	for (size_t i = 0; i < N(algs); i++) {
		for (size_t fill = 16; fill <= 40; fill += 3) {         /* every pad length */
			struct ike_sk_key enc, dec;
			struct ike_buf inner;
			size_t len, pt_len;
			const struct ike_payload *sk;

			key_for(&enc, &algs[i]);
			key_for(&dec, &algs[i]);
			len = seal_msg(&enc, mem, sizeof(mem), fill, &inner, inner_mem);
			cr_assert_eq(ike_parse_message(mem, len, &m), IKE_P_OK, "%s", algs[i].name);
			cr_assert_eq(m.chain.n, 2);
			sk = &m.chain.pl[1];
			cr_assert_eq(sk->type, IKE_PL_SK);
			cr_expect_eq(m.chain.sk_next, IKE_PL_NOTIFY);
			cr_expect_eq(sk->len, ike_sk_body_len(&enc, inner.len));
			cr_expect_eq((sk->len - enc.iv_len - enc.icv_len) % enc.block, 0);
			cr_expect_null(memmem(mem, len, "initiator.example", 17), "%s: cleartext",
				       algs[i].name);
			cr_assert_eq(ike_sk_open(&dec, mem, len, &m, pt, sizeof(pt), &pt_len),
				     IKE_SK_OK, "%s fill %zu", algs[i].name, fill);
			cr_assert_eq(pt_len, inner.len);
			cr_expect_arr_eq(pt, inner_mem, pt_len);
			cr_assert_eq(ike_parse_chain(m.chain.sk_next, pt, pt_len, IKE_CHAIN_INNER, &c),
				     IKE_P_OK);
			cr_expect_eq(c.n, 4);
			cr_expect_eq(c.pl[3].type, IKE_PL_TSI);
			ike_sk_key_wipe(&enc);
			ike_sk_key_wipe(&dec);
		}
	}
}

/* A second message under the same key gets another IV. */
Test(ike_sk, fresh_iv_each_message)
{
	static uint8_t a[1024], b[1024], inner_mem[512];

	for (size_t i = 0; i < N(algs); i++) {
		struct ike_sk_key k;
		struct ike_buf inner;
		size_t la, lb;

		key_for(&k, &algs[i]);
		la = seal_msg(&k, a, sizeof(a), 32, &inner, inner_mem);
		lb = seal_msg(&k, b, sizeof(b), 32, &inner, inner_mem);
		cr_assert_eq(la, lb);
		cr_expect_neq(memcmp(a + AAD_LEN, b + AAD_LEN, k.iv_len), 0, "%s: IV", algs[i].name);
		cr_expect_neq(memcmp(a + AAD_LEN + k.iv_len, b + AAD_LEN + k.iv_len, 16), 0);
	}
}

/* One flipped bit anywhere the ICV covers: refused, and nothing released. */
Test(ike_sk, tamper_detected)
{
	static uint8_t mem[1024], bad[1024], inner_mem[512], pt[1024];

	for (size_t i = 0; i < N(algs); i++) {
		struct ike_sk_key enc, dec;
		struct ike_buf inner;
		size_t len, pt_len;

		key_for(&enc, &algs[i]);
		key_for(&dec, &algs[i]);
		len = seal_msg(&enc, mem, sizeof(mem), 20, &inner, inner_mem);
		size_t where[] = {
			0, 16, 19, 20, 27,              /* header: SPI, next, flags, message ID, length */
			IKE_HDR_LEN + 5,                /* the cleartext VID */
			AAD_LEN - 3,                    /* the SK header's flags */
			AAD_LEN,                        /* IV */
			AAD_LEN + enc.iv_len,           /* first ciphertext octet */
			len - enc.icv_len - 1,          /* last ciphertext octet */
			len - enc.icv_len,              /* ICV */
			len - 1,
		};

		for (size_t j = 0; j < N(where); j++) {
			memcpy(bad, mem, len);
			bad[where[j]] ^= 0x01;
			memset(pt, 0xee, sizeof(pt));
			cr_expect_eq(ike_sk_decrypt(&dec, bad, len, AAD_LEN, pt, sizeof(pt), &pt_len),
				     IKE_SK_BAD_ICV, "%s: octet %zu", algs[i].name, where[j]);
			cr_expect_eq(pt_len, 0);
			size_t left = 0;

			for (size_t p = 0; p < len - AAD_LEN - enc.iv_len - enc.icv_len; p++)
				left += pt[p] != 0xee && pt[p] != 0;
			cr_expect_eq(left, 0, "%s: octet %zu: plaintext left in the output",
				     algs[i].name, where[j]);
		}
		cr_expect_eq(ike_sk_decrypt(&dec, mem, len, AAD_LEN, pt, sizeof(pt), &pt_len), IKE_SK_OK);
	}
}

Test(ike_sk, lengths)
{
	static uint8_t mem[1024], inner_mem[512], pt[1024];

	for (size_t i = 0; i < N(algs); i++) {
		struct ike_sk_key k;
		struct ike_buf inner;
		size_t len, pt_len, min;

		key_for(&k, &algs[i]);
		len = seal_msg(&k, mem, sizeof(mem), 24, &inner, inner_mem);
		min = AAD_LEN + k.iv_len + k.icv_len + k.block;
		cr_expect_eq(ike_sk_decrypt(&k, mem, min - 1, AAD_LEN, pt, sizeof(pt), &pt_len),
			     IKE_SK_TRUNCATED, "%s", algs[i].name);
		cr_expect_eq(ike_sk_decrypt(&k, mem, AAD_LEN - 1, AAD_LEN, pt, sizeof(pt), &pt_len),
			     IKE_SK_TRUNCATED);
		enum ike_sk_res short_one = k.aead ? IKE_SK_BAD_ICV : IKE_SK_BAD_BLOCK;

		cr_expect_eq(ike_sk_decrypt(&k, mem, len - 1, AAD_LEN, pt, sizeof(pt), &pt_len),
			     short_one, "%s", algs[i].name);
		cr_expect_eq(ike_sk_decrypt(&k, mem, len, AAD_LEN, pt, 10, &pt_len), IKE_SK_NOSPACE);
		cr_expect_eq(ike_sk_encrypt(&k, mem, AAD_LEN + ike_sk_body_len(&k, 10) - 1, AAD_LEN,
					    inner_mem, 10, NULL), IKE_SK_NOSPACE);
	}
}

/* seal: no room leaves the message as it was. */
Test(ike_sk, seal_no_space)
{
	static uint8_t mem[1024], inner_mem[512];
	struct ike_sk_key k;
	struct ike_buf b, inner;

	key_for(&k, &algs[0]);
	build_inner(&inner, inner_mem, sizeof(inner_mem), 32);
	ike_build_init(&b, mem, IKE_HDR_LEN + IKE_GEN_HDR_LEN + ike_sk_body_len(&k, inner.len) - 1);
	cr_assert_eq(ike_build_header(&b, &hdr), IKE_B_OK);
	cr_expect_eq(ike_sk_seal(&k, &b, &inner, NULL), IKE_SK_NOSPACE);
	cr_expect_eq(b.len, IKE_HDR_LEN);
	cr_expect_eq(mem[16], IKE_PL_NONE);
	b.cap++;
	cr_expect_eq(ike_sk_seal(&k, &b, &inner, NULL), IKE_SK_OK);
	cr_expect_eq(mem[16], IKE_PL_SK);
	cr_expect_eq(b.len, b.cap);
}

Test(ike_sk, key_init)
{
	struct ike_sk_key k;
	uint8_t e[64] = { 0 }, a[64] = { 0 };

	cr_expect_eq(ike_sk_key_init(&k, IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_NONE, e, 16, a, 0),
		     IKE_SK_BAD_KEY, "the salt is missing");
	cr_expect_eq(ike_sk_key_init(&k, IKE_ENCR_AES_GCM_16, 128, IKE_INTEG_HMAC_SHA2_256_128,
				     e, 20, a, 32), IKE_SK_UNSUPPORTED, "AEAD with INTEG");
	cr_expect_eq(ike_sk_key_init(&k, IKE_ENCR_AES_CBC, 128, IKE_INTEG_NONE, e, 16, a, 0),
		     IKE_SK_UNSUPPORTED, "CBC without INTEG");
	cr_expect_eq(ike_sk_key_init(&k, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
				     e, 16, a, 31), IKE_SK_BAD_KEY);
	cr_expect_eq(ike_sk_key_init(&k, IKE_ENCR_CHACHA20_POLY1305, 256, IKE_INTEG_NONE, e, 36, a, 0),
		     IKE_SK_UNSUPPORTED, "RFC 7634: no Key Length attribute");
	cr_expect_eq(ike_sk_key_init(&k, IKE_ENCR_3DES, 0, IKE_INTEG_HMAC_SHA2_256_128, e, 24, a, 32),
		     IKE_SK_UNSUPPORTED);
	cr_expect_eq(ike_sk_key_init(&k, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA1_96, e, 16, a, 20),
		     IKE_SK_UNSUPPORTED);
	for (int i = 0; i < IKE_SK__COUNT; i++)
		cr_expect_str_neq(ike_sk_strerror(i), "unknown");
}

/* ---- Known answers --------------------------------------------------------- */

/* A known-answer AEAD vector as an SK payload: AAD || IV || C || T, the
 * key followed by the salt (the nonce's first 4 octets). Decryption gives
 * the plaintext up to its last octet, which the SK format reads as the
 * Pad Length; encryption of that prefix gives the same ciphertext. */
static void aead_kat(uint16_t encr, uint16_t bits, const char *key, const char *salt,
		     const char *iv, const char *aad, const char *p, const char *c,
		     const char *tag)
{
	static uint8_t msg[512], pt[512], want[512], out[512];
	uint8_t km[40], ivb[8];
	size_t kl = ike_hex(key, km, sizeof(km)), n = 0, pl, ct_len, got;
	struct ike_sk_key k;

	cr_assert_eq(ike_hex(salt, km + kl, 4), 4);
	cr_assert_eq(ike_hex(iv, ivb, 8), 8);
	cr_assert_eq(ike_sk_key_init(&k, encr, bits, IKE_INTEG_NONE, km, kl + 4, NULL, 0), IKE_SK_OK);
	size_t aad_len = ike_hex(aad, msg, sizeof(msg));

	n = aad_len;
	memcpy(msg + n, ivb, 8);
	n += 8;
	ct_len = ike_hex(c, msg + n, sizeof(msg) - n);
	n += ct_len;
	n += ike_hex(tag, msg + n, sizeof(msg) - n);
	pl = ike_hex(p, want, sizeof(want));
	cr_assert_eq(pl, ct_len);
	cr_assert_eq(ike_sk_decrypt(&k, msg, n, aad_len, pt, sizeof(pt), &got), IKE_SK_OK);
	cr_expect_eq(got, pl - 1 - want[pl - 1], "Pad Length %u", want[pl - 1]);
	cr_expect_arr_eq(pt, want, got);
	/* encryption: payloads = all but the last octet, no padding, Pad Length 0 */
	memcpy(out, msg, aad_len);
	cr_assert_eq(ike_sk_encrypt(&k, out, sizeof(out), aad_len, want, pl - 1, ivb), IKE_SK_OK);
	cr_expect_arr_eq(out + aad_len, msg + aad_len, 8 + pl - 1, "IV and ciphertext");
	msg[n - 1] ^= 0x80;
	cr_expect_eq(ike_sk_decrypt(&k, msg, n, aad_len, pt, sizeof(pt), &got), IKE_SK_BAD_ICV);
}

Test(ike_sk, kat_chacha20_poly1305_rfc7539_2_8_2)
{
	aead_kat(IKE_ENCR_CHACHA20_POLY1305, 0,
		 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		 "07000000", "4041424344454647", "50515253c0c1c2c3c4c5c6c7",
		 /* "Ladies and Gentlemen of the class of '99: If I could offer you
		  * only one tip for the future, sunscreen would be it." */
		 "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
		 "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
		 "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
		 "637265656e20776f756c642062652069742e",
		 "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
		 "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
		 "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
		 "3ff4def08e4b7a9de576d26586cec64b6116",
		 "1ae10b594f09e26a7e902ecbd0600691");
}

/* McGrew and Viega, "The Galois/Counter Mode of Operation", test case 4. */
Test(ike_sk, kat_aes128_gcm_case4)
{
	aead_kat(IKE_ENCR_AES_GCM_16, 128, "feffe9928665731c6d6a8f9467308308", "cafebabe",
		 "facedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
		 "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		 "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
		 "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
		 "5bc94fbc3221a5db94fae95ae7121a47");
}

/* CBC: an AAD, the IV and ciphertext of RFC 3602 4, and an ICV computed
 * here with HMAC-SHA-256 truncated to 128 bits. */
static size_t cbc_msg(uint8_t *msg, const uint8_t *auth, const char *iv, const char *c)
{
	unsigned hl;
	uint8_t mac[32];
	size_t n = ike_hex("00*28 2e 00 0044", msg, 64);        /* a stand-in header */

	n += ike_hex(iv, msg + n, 16);
	n += ike_hex(c, msg + n, 64);
	cr_assert_not_null(HMAC(EVP_sha256(), auth, 32, msg, n, mac, &hl));
	memcpy(msg + n, mac, 16);
	return n + 16;
}

Test(ike_sk, kat_aes128_cbc_rfc3602)
{
	static uint8_t msg[256], pt[256], out[256];
	uint8_t e[16], a[32] = { 0xa0, 0xa1, 0xa2 }, ivb[16];
	struct ike_sk_key k;
	size_t n, got;

	/* Case #2: plaintext 00..1f, whose last octet 0x1f reads as 31 octets
	 * of padding after an empty chain. */
	ike_hex("c286696d887c9aa0611bbb3e2025a45a", e, 16);
	cr_assert_eq(ike_sk_key_init(&k, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
				     e, 16, a, 32), IKE_SK_OK);
	n = cbc_msg(msg, a, "562e17996d093d28ddb3ba695a2e6f58",
		    "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
	cr_assert_eq(ike_sk_decrypt(&k, msg, n, 32, pt, sizeof(pt), &got), IKE_SK_OK);
	cr_expect_eq(got, 0);
	/* Encrypting 00..1e (Pad Length 0 makes the same first block): the
	 * first ciphertext block is the RFC's. */
	for (int i = 0; i < 31; i++)
		pt[i] = (uint8_t)i;
	ike_hex("562e17996d093d28ddb3ba695a2e6f58", ivb, 16);
	memcpy(out, msg, 32);
	cr_assert_eq(ike_sk_encrypt(&k, out, sizeof(out), 32, pt, 31, ivb), IKE_SK_OK);
	cr_expect_arr_eq(out + 32, msg + 32, 16 + 16, "IV and first block");
	/* Case #1: "Single block msg" ends in 'g' (103): a Pad Length beyond
	 * the plaintext, under a valid ICV. */
	ike_hex("06a9214036b8a15b512e03d534120006", e, 16);
	cr_assert_eq(ike_sk_key_init(&k, IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128,
				     e, 16, a, 32), IKE_SK_OK);
	n = cbc_msg(msg, a, "3dafba429d9eb430b422da802c9fac41", "e353779c1079aeb82708942dbe77181a");
	memset(pt, 0xee, sizeof(pt));
	cr_expect_eq(ike_sk_decrypt(&k, msg, n, 32, pt, sizeof(pt), &got), IKE_SK_BAD_PAD);
	cr_expect_eq(got, 0);
	cr_expect_eq(pt[0] | pt[15], 0, "wiped");
}

/* SKF: the AAD runs through Total Fragments (RFC 7383 2.5). */
Test(ike_sk, skf_fragment)
{
	static uint8_t mem[512], pt[512];
	static struct ike_msg m;
	static const uint8_t frag[40] = { 1, 2, 3 };
	struct ike_sk_key k;
	struct ike_buf b;
	size_t start, got;

	key_for(&k, &algs[3]);
	ike_build_init(&b, mem, sizeof(mem));
	cr_assert_eq(ike_build_header(&b, &hdr), IKE_B_OK);
	cr_assert_eq(ike_build_begin(&b, IKE_PL_SKF, false, &start), IKE_B_OK);
	mem[start] = IKE_PL_IDI;
	cr_assert_eq(ike_build_bytes(&b, (const uint8_t[]){ 0, 1, 0, 2 }, 4), IKE_B_OK);
	b.len += ike_sk_body_len(&k, sizeof(frag));
	cr_assert_eq(ike_build_end(&b, start), IKE_B_OK);
	cr_assert_eq(ike_build_finish(&b), IKE_B_OK);
	cr_assert_eq(ike_sk_encrypt(&k, mem, sizeof(mem), start + 8, frag, sizeof(frag), NULL),
		     IKE_SK_OK);
	cr_assert_eq(ike_parse_message(mem, b.len, &m), IKE_P_OK);
	cr_assert_eq(ike_sk_open(&k, mem, b.len, &m, pt, sizeof(pt), &got), IKE_SK_OK);
	cr_expect_eq(got, sizeof(frag));
	cr_expect_arr_eq(pt, frag, sizeof(frag));
	mem[start + 5] ^= 1;                    /* Total Fragments */
	cr_expect_eq(ike_sk_open(&k, mem, b.len, &m, pt, sizeof(pt), &got), IKE_SK_BAD_ICV);
	m.chain.n = 0;
	cr_expect_eq(ike_sk_open(&k, mem, b.len, &m, pt, sizeof(pt), &got), IKE_SK_NOT_FOUND);
}
