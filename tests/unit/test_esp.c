/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP transforms (ipsec/esp_out.c, esp_in.c) on both crypto backends:
 * published ESP packets (RFC 3602, draft-mcgrew-gcm-test-01, RFC 7634),
 * then attacks on sealed packets (every single-bit flip, every truncation,
 * wrong padding, misaligned ciphertext) and round trips of every payload
 * size 0..1500 with ESN on and off, each backend opening the other's
 * packets and both sealing the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sa_algs.h"
#include "../../ipsec/esp.h"

static const enum sn_crypto_backend backends[] = { SN_CRYPTO_MB,
						   SN_CRYPTO_MBEDTLS };
#define NBE (sizeof(backends) / sizeof(backends[0]))
#define BUF 2048

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = *s >= '0' && *s <= '9' ? *s - '0' :
			*s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		cr_assert_lt(n, cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	cr_assert_eq(hi, -1);
	return n;
}

/* ---- Published ESP packets ------------------------------------------------- */

struct esp_vec {
	const char *name;
	enum sn_enc_alg enc;
	const char *key;                /* AEAD: key then salt */
	uint32_t spi;
	uint64_t seq;
	bool esn;
	const char *iv;
	const char *plain;              /* payload, padding, pad length, NH */
	const char *ct;                 /* ciphertext (then tag, for AEAD) */
};

static const struct esp_vec vecs[] = {
	/* RFC 3602 section 4, cases #5-#8: ESP with AES-CBC and no ICV; the
	 * ESP packet after the IP header must match up to the ICV, which
	 * these SAs add (HMAC-SHA1-96, any key). */
	{ "rfc3602-case5", SN_ENC_AES_CBC, "90d382b410eeba7ad938c46cec1a82bf",
	  0x4321, 1, false, "e96e8c08ab465763fd098d45dd3ff893",
	  "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f1011121314151617"
	  "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
	  "0102030405060708090a0b0c0d0e0e01",
	  "f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856"
	  "a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874a"
	  "a269add047ad2d5913ac19b7cfbad4a6" },
	{ "rfc3602-case6", SN_ENC_AES_CBC, "90d382b410eeba7ad938c46cec1a82bf",
	  0x4321, 8, false, "69d08df7d203329db093fc4924e5bd80",
	  "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777" "01020201",
	  "f51995881ec4e0c4488987ce742e8109689bb379d2d750c0d915dca346a89f75" },
	{ "rfc3602-case7", SN_ENC_AES_CBC, "0123456789abcdef0123456789abcdef",
	  0x8765, 2, false, "f4e765244f6407adf13dc1380f673f37",
	  "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d"
	  "02a2040008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
	  "2425262728292a2b2c2d2e2f3031323334353637" "0102030405060708090a0a04",
	  "773b5241a4c449225e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8"
	  "e4ecaec78ac53aad7a0f022b859243c647752e94a859352b8a4d4d2decd136e5"
	  "c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d" },
	{ "rfc3602-case8", SN_ENC_AES_CBC, "0123456789abcdef0123456789abcdef",
	  0x8765, 5, false, "85d47224b5f3dd5d2101d4ea8dffab22",
	  "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083d"
	  "a3de0300ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	  "ffffffff" "0102030405060708090a0a04",
	  "15b92683819596a8047232cc00f7048fe45318e11f8a0f62ede3c3fc61203bb5"
	  "0f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de435e7207ed971ef3"
	  "d2726d9b5ef6affc6d17a0decbb13892" },
	/* draft-mcgrew-gcm-test-01 section 4 (by page of the draft): AES-GCM
	 * ESP, key || salt; 12-byte AAD (ESN) where seq is 64-bit. */
	{ "mcgrew-p6-aes128-esn", SN_ENC_AES_GCM,
	  "4c80cdefbb5d10da906ac73c3613a634" "2e443b68",
	  0x00004321, 0x8765432100000000ull, true, "4956ed7e3b244cfe",
	  "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	  "00000000045f736970045f756470037369700963796265726369747902646b00"
	  "0021000101020201",
	  "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	  "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	  "61bc17d768fd9732" "459018148f6cbe722fd04796562dfdb4" },
	{ "mcgrew-p8-aes256", SN_ENC_AES_GCM,
	  "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	  "11223344",
	  0x4a2cbfe3, 2, false, "0102030405060708",
	  "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	  "7002400020bf0000020405b40101040201020201",
	  "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	  "748a637985771d347f0545659f14e99def842d8e"
	  "b335f4eecfdbf831824b4c4915956c96" },
	{ "mcgrew-p9-aes128-zero-key", SN_ENC_AES_GCM,
	  "00000000000000000000000000000000" "00000000",
	  0, 1, false, "0000000000000000",
	  "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
	  "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	  "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
	  "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"
	  "f821d496eeb096e98ad2b69e4799c71d" },
	{ "mcgrew-p10-aes128-esn", SN_ENC_AES_GCM,
	  "3de09874b388e6491988d0c3607eae1f" "57690e43",
	  0x42f67e3f, 0x1010101010101010ull, true, "4e280000a2fca1a3",
	  "4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
	  "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	  "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c357917"
	  "65acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a"
	  "e0d731cc978ecafaeae88f00e80d6e48" },
	{ "mcgrew-p11-aes128-esn", SN_ENC_AES_GCM,
	  "3de09874b388e6491988d0c3607eae1f" "57690e43",
	  0x42f67e3f, 0x1010101010101010ull, true, "4e280000a2fca1a3",
	  "4500001c42a200008001441f406793b6e00000020a00f5ff01020201",
	  "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed"
	  "369f071f35e034be95f112e4e7d05d35" },
	{ "mcgrew-p12-aes128-esn", SN_ENC_AES_GCM,
	  "abbccddef00112233445566778899aab" "decaf888",
	  0x00000100, 1, true, "cafedebaceface74",
	  "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5"
	  "00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95"
	  "9b6266c04722b14923010101",
	  "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f"
	  "9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22"
	  "6f2127b27db35724e7845d68" "651f57e65f354f75ff17015769623436" },
	{ "mcgrew-p13-aes256-esn", SN_ENC_AES_GCM,
	  "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	  "73616c74",
	  0x17405e67, 0x156f3126dd0db99bull, true, "616e640169766563",
	  "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
	  "50101f646d540001",
	  "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
	  "f4d3a31ce673119e" "451626c2415771e3b7eebca614c89b35" },
	{ "mcgrew-p14-aes128-esn", SN_ENC_AES_GCM,
	  "3de09874b388e6491988d0c3607eae1f" "57690e43",
	  0x42f67e3f, 0x1010101010101010ull, true, "4e280000a2fca1a3",
	  "45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b"
	  "000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b32"
	  "5ae270c03899493915010101",
	  "fba2cad12fc1f9f00d3cebf305410db83d7784b607323d220f24b0a97d541828"
	  "00cadb0f68d99ef0e0c0c89ae9bea8884e52d65bc1afd0740f742444747b5b39"
	  "ab533163aad4550ee5160975" "cdb608c5769189609763b8e18caa81e2" },
	{ "mcgrew-p15-aes256-esn", SN_ENC_AES_GCM,
	  "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	  "73616c74",
	  0x17405e67, 0x156f3126dd0db99bull, true, "616e640169766563",
	  "636973636f0172756c65730174686501" "6e6574776501646566696e6501746865"
	  "746563686e6f6c6f6769657301746861" "7477696c6c01646566696e65746f6d6f"
	  "72726f7701020201",
	  "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18"
	  "d0a6df10e5487df074113e14c641024e3e6773d91a62ee429b043a10e3efe6b0"
	  "12a49363412364f8" "c0cac587f249e56b11e24f30e44ccc76" },
	{ "mcgrew-p16-aes128-empty", SN_ENC_AES_GCM,
	  "7d773d00c144c525ac619d18c84a3f47" "d9664267",
	  0x335467ae, 0xffffffffull, false, "43457e9182443bc6",
	  "01020201",
	  "437f866b" "cb3f699fe9b0822bac961c4504bef270" },
	{ "mcgrew-p16-aes128-esn", SN_ENC_AES_GCM,
	  "abbccddef00112233445566778899aab" "decaf888",
	  0x00000100, 1, true, "cafedebaceface74",
	  "746f016265016f72016e6f7401746f0162650001",
	  "29c9fc69a197d038ccdd14e2ddfcaa0543332164"
	  "412503524303ed3c6c5f283843af8c3e" },
	{ "mcgrew-p17-aes256-esn", SN_ENC_AES_GCM,
	  "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961"
	  "7475726e",
	  0x796b6963, 0xffffffffffffffffull, true, "333021696765746d",
	  "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	  "65666768696a6b6c6d6e6f707172737401020201",
	  "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
	  "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9"
	  "d0937ba2945f669368661a329fb4c053" },
	{ "mcgrew-p19-aes128-esn", SN_ENC_AES_GCM,
	  "3de09874b388e6491988d0c3607eae1f" "57690e43",
	  0x3f7ef642, 0x1010101010101010ull, true, "4e280000a2fca1a3",
	  "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	  "65666768696a6b6c6d6e6f707172737401020201",
	  "fba2caa8c6c5f9f0f22ca54a061210ad3f6e5791cf1aca210d117cec9c357917"
	  "65acbd8701ad79845bf9fe3fba487bc96321930684eecadb56912546e7a95c97"
	  "40d7cb05" },
	{ "mcgrew-p20-aes128-esn", SN_ENC_AES_GCM,
	  "4c80cdefbb5d10da906ac73c3613a634" "22433c64",
	  0x00004321, 0x8765432100000007ull, true, "4855ec7d3a234bfd",
	  "0800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201",
	  "74752e8aeb5d873cd7c0f4acc36c4bff84b7d7b98f0ca8b6acda6894bc619069"
	  "ef9cbc28fe1b56a7c4e0d58c86cd2bc0" },
	/* RFC 7634 appendix A: the ESP example (tunnel mode, ICMP inside) */
	{ "rfc7634-appendix-a", SN_ENC_CHACHA20_POLY1305,
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	  "a0a1a2a3",
	  0x01020304, 5, false, "1011121314151617",
	  "45 00 00 54 a6 f2 00 00 40 01 e7 78 c6 33 64 05"
	  "c0 00 02 05 08 00 5b 7a 3a 08 00 00 55 3b ec 10"
	  "00 07 36 27 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13"
	  "14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23"
	  "24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33"
	  "34 35 36 37 01 02 02 04",
	  "24 03 94 28 b9 7f 41 7e 3c 13 75 3a 4f 05 08 7b"
	  "67 c3 52 e6 a7 fa b1 b9 82 d4 66 ef 40 7a e5 c6"
	  "14 ee 80 99 d5 28 44 eb 61 aa 95 df ab 4c 02 f7"
	  "2a a7 1e 7c 4c 4f 64 c9 be fe 2f ac c6 38 e8 f3"
	  "cb ec 16 3f ac 46 9b 50 27 73 f6 fb 94 e6 64 da"
	  "91 65 b8 28 29 f6 41 e0"
	  "76 aa a8 26 6b 7f b0 f7 b1 1b 36 99 07 e1 ad 43" },
};

#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

struct vec_bytes {
	uint8_t key[64], iv[16], plain[BUF], ct[BUF];
	size_t key_len, iv_len, plain_len, ct_len, payload_len;
	uint8_t nh;
};

static void vec_load(const struct esp_vec *v, struct vec_bytes *b)
{
	b->key_len = unhex(v->key, b->key, sizeof(b->key));
	b->iv_len = unhex(v->iv, b->iv, sizeof(b->iv));
	b->plain_len = unhex(v->plain, b->plain, sizeof(b->plain));
	b->ct_len = unhex(v->ct, b->ct, sizeof(b->ct));
	b->nh = b->plain[b->plain_len - 1];
	b->payload_len = b->plain_len - 2 - b->plain[b->plain_len - 2];
}

static struct sn_crypto *vec_crypto(const struct esp_vec *v,
				    const struct vec_bytes *b,
				    enum sn_crypto_backend be)
{
	static const uint8_t hkey[20] = { 0x5a };
	bool cbc = v->enc == SN_ENC_AES_CBC;
	struct sn_crypto *c;
	const char *why = NULL;

	cr_assert_eq(sn_crypto_new(&c, be, v->enc, b->key, b->key_len,
				   cbc ? SN_AUTH_HMAC_SHA1_96 : SN_AUTH_NONE,
				   cbc ? hkey : NULL, cbc ? 20 : 0, 0, &why),
		     0, "%s: %s", v->name, why);
	return c;
}

/* The sealed packet is SPI || seq_lo || IV || ciphertext [|| tag]. */
static void vec_expect(const struct esp_vec *v, const struct vec_bytes *b,
		       uint8_t *want, size_t *len)
{
	uint8_t hdr[8] = { v->spi >> 24, v->spi >> 16, v->spi >> 8, v->spi,
			   v->seq >> 24, v->seq >> 16, v->seq >> 8, v->seq };

	memcpy(want, hdr, 8);
	memcpy(want + 8, b->iv, b->iv_len);
	memcpy(want + 8 + b->iv_len, b->ct, b->ct_len);
	*len = 8 + b->iv_len + b->ct_len;
}

static void vec_seal(const struct esp_vec *v, const struct vec_bytes *b,
		     struct sn_crypto *c, uint8_t *pkt, int *len)
{
	memcpy(pkt + sn_esp_hdr_len(c), b->plain, b->payload_len);
	*len = sn_esp_seal_iv(c, v->spi, v->seq, v->esn, b->nh, pkt, BUF,
			      b->payload_len, b->iv);
	cr_assert_gt(*len, 0, "%s: %s", v->name, sn_esp_strerror(*len));
}

static void vec_open(const struct esp_vec *v, const struct vec_bytes *b,
		     struct sn_crypto *c, uint8_t *pkt, size_t len)
{
	struct sn_esp_payload p;
	int rc = sn_esp_open(c, v->seq, v->esn, pkt, len, &p);

	cr_assert_eq(rc, 0, "%s: %s", v->name, sn_esp_strerror(rc));
	cr_assert_eq(p.len, b->payload_len, "%s", v->name);
	cr_assert_eq(p.next_header, b->nh);
	cr_assert_arr_eq(pkt + p.off, b->plain, p.len, "%s", v->name);
}

static void vec_run(const struct esp_vec *v, enum sn_crypto_backend be)
{
	struct vec_bytes b;
	uint8_t pkt[BUF], want[BUF];
	size_t want_len;
	int len;
	struct sn_crypto *c;

	vec_load(v, &b);
	c = vec_crypto(v, &b, be);
	vec_expect(v, &b, want, &want_len);
	vec_seal(v, &b, c, pkt, &len);
	/* RFC 3602 packets carry no ICV: compare up to it */
	cr_assert_eq((size_t)len, want_len + (v->enc == SN_ENC_AES_CBC ?
					      c->icv_len : 0), "%s", v->name);
	cr_assert_arr_eq(pkt, want, want_len, "%s on %s", v->name,
			 sn_crypto_backend_name(be));
	if (v->enc != SN_ENC_AES_CBC)   /* open the published bytes */
		memcpy(pkt, want, want_len);
	vec_open(v, &b, c, pkt, (size_t)len);
	sn_crypto_free(c);
}

Test(esp, published_packets_every_backend)
{
	for (size_t i = 0; i < NVECS; i++)
		for (size_t be = 0; be < NBE; be++)
			vec_run(&vecs[i], backends[be]);
}

/* ---- Algorithms under attack ---------------------------------------------------- */

#define NALGS N_SA_ALGS

static struct sn_crypto *alg_new(const struct sa_alg *a,
				 enum sn_crypto_backend be)
{
	uint8_t ek[64], ak[64];
	struct sn_crypto *c;

	for (int i = 0; i < 64; i++) {
		ek[i] = (uint8_t)(i * 7 + 1);
		ak[i] = (uint8_t)(i * 13 + 5);
	}
	cr_assert_eq(sn_crypto_new(&c, be, a->enc, ek, a->ekl, a->auth, ak,
				   a->akl, 0, NULL), 0, "%s", a->name);
	return c;
}

static const uint8_t fixed_iv[16] = { 0xc0, 0xff, 0xee };

/* A sealed packet of payload_len bytes; explicit IV so backends match. */
static int seal_one(struct sn_crypto *c, uint64_t seq, bool esn,
		    uint8_t *pkt, size_t payload_len)
{
	for (size_t i = 0; i < payload_len; i++)
		pkt[sn_esp_hdr_len(c) + i] = (uint8_t)(i * 31 + seq);
	return sn_esp_seal_iv(c, 0x1234, seq, esn, 6, pkt, BUF, payload_len,
			      c->kind == SN_CK_AEAD ? NULL : fixed_iv);
}

static void flips_fail(struct sn_crypto *c, bool esn)
{
	uint8_t pkt[BUF], bad[BUF];
	uint64_t seq = esn ? 0x0000000700000042ull : 0x42;
	int len = seal_one(c, seq, esn, pkt, 61);
	struct sn_esp_payload p;

	cr_assert_gt(len, 0);
	for (int bit = 0; bit < len * 8; bit++) {
		int rc;

		memcpy(bad, pkt, (size_t)len);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = sn_esp_open(c, seq, esn, bad, (size_t)len, &p);
		cr_assert_eq(rc, SN_ESP_EICV, "bit %d: %s", bit,
			     sn_esp_strerror(rc));
	}
	/* and the high sequence bits are authenticated though never sent */
	if (esn) {
		memcpy(bad, pkt, (size_t)len);
		cr_assert_eq(sn_esp_open(c, seq + (1ull << 32), esn, bad,
					 (size_t)len, &p), SN_ESP_EICV);
	}
	memcpy(bad, pkt, (size_t)len);
	cr_assert_eq(sn_esp_open(c, seq, esn, bad, (size_t)len, &p), 0);
}

Test(esp, every_single_bit_flip_fails_to_open)
{
	for (size_t a = 0; a < NALGS; a++)
		for (size_t be = 0; be < NBE; be++) {
			struct sn_crypto *c = alg_new(&sa_algs[a], backends[be]);

			flips_fail(c, false);
			flips_fail(c, true);
			sn_crypto_free(c);
		}
}

/* Below header + IV + one block + ICV: truncated, whatever the rest is.
 * Longer prefixes fail too, on alignment or on the ICV. */
static void truncations_fail(struct sn_crypto *c)
{
	uint8_t pkt[BUF], bad[BUF];
	int len = seal_one(c, 9, false, pkt, 100);
	size_t min = sn_esp_hdr_len(c) + c->block + c->icv_len;
	struct sn_esp_payload p;

	for (size_t l = 0; l < (size_t)len; l++) {
		int rc;

		memcpy(bad, pkt, l);
		rc = sn_esp_open(c, 9, false, bad, l, &p);
		if (l < min)
			cr_assert_eq(rc, SN_ESP_ETRUNC, "len %zu: %s", l,
				     sn_esp_strerror(rc));
		else
			cr_assert(rc == SN_ESP_EBLOCK || rc == SN_ESP_EICV,
				  "len %zu: %s", l, sn_esp_strerror(rc));
	}
}

Test(esp, truncated_at_every_length)
{
	for (size_t a = 0; a < NALGS; a++)
		for (size_t be = 0; be < NBE; be++) {
			struct sn_crypto *c = alg_new(&sa_algs[a], backends[be]);

			truncations_fail(c);
			sn_crypto_free(c);
		}
}

/* Ciphertext that is not a whole number of blocks (16 for CBC, 4-byte
 * alignment otherwise) is dropped before any crypto. */
Test(esp, misaligned_ciphertext_is_a_block_error)
{
	for (size_t a = 0; a < NALGS; a++) {
		struct sn_crypto *c = alg_new(&sa_algs[a], SN_CRYPTO_MB);
		uint8_t pkt[BUF];
		int len = seal_one(c, 3, false, pkt, 40);
		struct sn_esp_payload p;

		for (size_t extra = 1; extra < c->block; extra++)
			cr_assert_eq(sn_esp_open(c, 3, false, pkt, (size_t)len + extra,
						 &p), SN_ESP_EBLOCK, "%s +%zu",
				     sa_algs[a].name, extra);
		sn_crypto_free(c);
	}
}

/* Builds an authentic packet around an arbitrary plaintext (payload,
 * padding and trailer as given), so that only the padding is wrong. */
static size_t seal_raw(struct sn_crypto *c, const uint8_t *plain,
		       size_t ct, uint8_t *pkt)
{
	size_t hl = sn_esp_hdr_len(c);

	memcpy(pkt, "\x00\x00\x12\x34\x00\x00\x00\x05", 8);
	memcpy(pkt + 8, fixed_iv, c->iv_len);
	memcpy(pkt + hl, plain, ct);
	if (c->kind == SN_CK_AEAD) {
		uint8_t aad[12];
		size_t n = sn_esp_aad(aad, pkt, 5, false);

		sn_crypto_aead_seal(c, pkt + 8, aad, n, pkt + hl, ct, pkt + hl + ct);
		return hl + ct + c->icv_len;
	}
	if (c->kind == SN_CK_CBC_HMAC)
		sn_crypto_cbc_encrypt(c, pkt + 8, pkt + hl, ct);
	sn_esp_icv(c, pkt, hl + ct, 5, false, pkt + hl + ct);
	return hl + ct + c->icv_len;
}

static void bad_padding(struct sn_crypto *c, const char *name)
{
	size_t ct = 32;
	struct sn_esp_payload p;

	/* pad length larger than what precedes it; pad bytes not 1, 2, 3 */
	for (int variant = 0; variant < 4; variant++) {
		uint8_t plain[32], pkt[BUF];
		size_t len;
		int rc;

		for (size_t i = 0; i < ct; i++)
			plain[i] = (uint8_t)(0xa0 + i);
		plain[ct - 1] = 4;                      /* next header */
		plain[ct - 2] = 6;                      /* pad length */
		for (int i = 0; i < 6; i++)
			plain[ct - 8 + i] = (uint8_t)(i + 1);
		if (variant == 0)
			plain[ct - 2] = 31;             /* > ct - 2 */
		else if (variant == 1)
			plain[ct - 2] = 255;
		else if (variant == 2)
			plain[ct - 8] = 0;              /* first pad byte */
		else
			plain[ct - 3] = 7;              /* last pad byte */
		len = seal_raw(c, plain, ct, pkt);
		rc = sn_esp_open(c, 5, false, pkt, len, &p);
		cr_assert_eq(rc, SN_ESP_EPAD, "%s variant %d: %s", name, variant,
			     sn_esp_strerror(rc));
	}
}

Test(esp, wrong_padding_is_a_padding_error)
{
	for (size_t a = 0; a < NALGS; a++)
		for (size_t be = 0; be < NBE; be++) {
			struct sn_crypto *c = alg_new(&sa_algs[a], backends[be]);
			uint8_t plain[32], pkt[BUF];
			struct sn_esp_payload p;

			bad_padding(c, sa_algs[a].name);
			/* the same builder with right padding opens: 24 + 6 + 2 */
			for (int i = 0; i < 32; i++)
				plain[i] = (uint8_t)i;
			for (int i = 0; i < 6; i++)
				plain[24 + i] = (uint8_t)(i + 1);
			plain[30] = 6;
			plain[31] = 4;
			cr_assert_eq(sn_esp_open(c, 5, false, pkt,
						 seal_raw(c, plain, 32, pkt), &p), 0);
			cr_assert_eq(p.len, 24);
			sn_crypto_free(c);
		}
}

/* ---- Round trips, both backends, all sizes ------------------------------------------ */

static void round_trip(struct sn_crypto *c[NBE], size_t n, bool esn)
{
	uint8_t pkt[NBE][BUF];
	uint64_t seq = esn ? ((uint64_t)n << 32 | (n * 977)) : n * 977 + 1;
	int len[NBE];
	struct sn_esp_payload p;

	for (size_t b = 0; b < NBE; b++) {
		len[b] = seal_one(c[b], seq, esn, pkt[b], n);
		cr_assert_eq((size_t)len[b], sn_esp_overhead(c[b], n) + n);
		cr_assert_leq(sn_esp_trailer_len(c[b], n), sn_esp_trailer_max(c[b]));
	}
	cr_assert_eq(len[0], len[1]);
	cr_assert_arr_eq(pkt[0], pkt[1], (size_t)len[0], "size %zu", n);
	/* each backend opens the other's packet */
	for (size_t b = 0; b < NBE; b++) {
		uint8_t *q = pkt[NBE - 1 - b];

		cr_assert_eq(sn_esp_open(c[b], seq, esn, q, (size_t)len[0], &p), 0,
			     "size %zu", n);
		cr_assert_eq(p.len, n);
		cr_assert_eq(p.next_header, 6);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(q[p.off + i], (uint8_t)(i * 31 + seq));
	}
}

Test(esp, round_trips_every_size_both_backends_esn_on_and_off)
{
	for (size_t a = 0; a < NALGS; a++) {
		struct sn_crypto *c[NBE];

		for (size_t b = 0; b < NBE; b++)
			c[b] = alg_new(&sa_algs[a], backends[b]);
		for (size_t n = 0; n <= 1500; n++) {
			round_trip(c, n, false);
			round_trip(c, n, true);
		}
		for (size_t b = 0; b < NBE; b++)
			sn_crypto_free(c[b]);
	}
}

/* The datapath seal: AEAD IV is the sequence number, CBC IV is random. */
Test(esp, ivs_on_the_datapath)
{
	for (size_t a = 0; a < NALGS; a++) {
		struct sn_crypto *c = alg_new(&sa_algs[a], SN_CRYPTO_MB);
		uint8_t p1[BUF], p2[BUF];
		int l1 = sn_esp_seal(c, 7, 0x0102030405060708ull, true, 4, p1, BUF, 10);
		int l2 = sn_esp_seal(c, 7, 0x0102030405060708ull, true, 4, p2, BUF, 10);
		struct sn_esp_payload p;

		cr_assert_gt(l1, 0);
		cr_assert_eq(l1, l2);
		if (c->kind == SN_CK_AEAD)
			cr_assert_arr_eq(p1 + 8, "\1\2\3\4\5\6\7\x08", 8);
		if (c->kind == SN_CK_CBC_HMAC)
			cr_assert(memcmp(p1 + 8, p2 + 8, 16) != 0, "fresh IVs");
		cr_assert_eq(sn_esp_open(c, 0x0102030405060708ull, true, p1,
					 (size_t)l1, &p), 0);
		sn_crypto_free(c);
	}
}

Test(esp, seal_checks_room_and_peek_checks_length)
{
	struct sn_crypto *c = alg_new(&sa_algs[0], SN_CRYPTO_MB);
	uint8_t pkt[BUF];
	uint32_t spi, seq;
	size_t need = sn_esp_overhead(c, 100) + 100;

	cr_assert_eq(sn_esp_seal(c, 1, 2, false, 4, pkt, need - 1, 100),
		     SN_ESP_ENOSPC);
	cr_assert_eq(sn_esp_seal(c, 1, 2, false, 4, pkt, 50, 100), SN_ESP_ENOSPC);
	cr_assert_eq(sn_esp_seal(c, 0x01020304, 2, false, 4, pkt, need, 100),
		     (int)need);
	for (size_t l = 0; l < 8; l++)
		cr_assert_eq(sn_esp_peek(pkt, l, &spi, &seq), SN_ESP_ETRUNC);
	cr_assert_eq(sn_esp_peek(pkt, 8, &spi, &seq), 0);
	cr_assert_eq(spi, 0x01020304);
	cr_assert_eq(seq, 2);
	cr_assert_str_eq(sn_esp_strerror(SN_ESP_EPAD), "bad-padding");
	sn_crypto_free(c);
}
