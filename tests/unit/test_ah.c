/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AH (ipsec/ah_out.c, ah_in.c) over IPv4 and IPv6 packets on both crypto
 * backends: the ICV ignores the mutable fields (RFC 4302 3.3.3.1) and
 * covers everything else; the length field, truncation and malformed
 * headers are caught before the ICV is read.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "../../ipsec/ah.h"

static const enum sn_crypto_backend backends[] = { SN_CRYPTO_MB,
						   SN_CRYPTO_MBEDTLS };
#define NBE (sizeof(backends) / sizeof(backends[0]))
#define PAYLOAD 40
#define SPI 0x01000203u

static struct sn_crypto *ah_new(enum sn_crypto_backend be,
				enum sn_auth_alg alg)
{
	uint8_t key[32];
	struct sn_crypto *c;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x40 + i);
	cr_assert_eq(sn_crypto_new(&c, be, SN_ENC_NONE, NULL, 0, alg, key,
				   alg == SN_AUTH_HMAC_SHA1_96 ? 20 : 32, 0, NULL),
		     0);
	return c;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * IPv4: 20-byte header, with options when asked: NOP, Router Alert
 * (immutable), Record Route (mutable, zeroed), EOL padding to 4 bytes.
 * Offsets of the options: NOP 20, RA 21..24, RR 25..35 (data 28..35).
 */
static size_t build4(struct sn_crypto *c, uint8_t *p, bool opts)
{
	static const uint8_t o[16] = { 1, 148, 4, 0, 0, 7, 11, 4,
				       10, 0, 0, 1, 10, 0, 0, 2 };
	size_t ihl = opts ? 36 : 20, ah = sn_ah_len(c, AF_INET);
	size_t len = ihl + ah + PAYLOAD;

	memset(p, 0, len);
	p[0] = (uint8_t)(0x40 | ihl / 4);
	p[1] = 0x10;                            /* TOS */
	put16(p + 2, (uint16_t)len);
	put16(p + 4, 0x1234);                   /* ID */
	put16(p + 6, 0x4000);                   /* DF */
	p[8] = 64;
	p[9] = SN_IPPROTO_AH;
	put16(p + 10, 0xabcd);                  /* checksum, whatever */
	memcpy(p + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x02", 8);
	if (opts)
		memcpy(p + 20, o, sizeof(o));
	for (size_t i = 0; i < PAYLOAD; i++)
		p[ihl + ah + i] = (uint8_t)(i * 3);
	return len;
}

/*
 * IPv6: base header, hop-by-hop options (a mutable option 0x3e with data
 * at 44..45, PadN), destination options (immutable option 0x1e with data
 * at 52..55), AH at 56.
 */
static size_t build6(struct sn_crypto *c, uint8_t *p)
{
	static const uint8_t hbh[8] = { 60, 0, 0x3e, 2, 0xaa, 0xbb, 1, 0 };
	static const uint8_t dst[8] = { SN_IPPROTO_AH, 0, 0x1e, 4, 1, 2, 3, 4 };
	size_t ah = sn_ah_len(c, AF_INET6), len = 40 + 16 + ah + PAYLOAD;

	memset(p, 0, len);
	memcpy(p, "\x62\xe1\x23\x45", 4);       /* TC 0x2e, flow 0x12345 */
	put16(p + 4, (uint16_t)(len - 40));
	p[6] = 0;                               /* hop-by-hop */
	p[7] = 64;
	memcpy(p + 8, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	memcpy(p + 24, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	memcpy(p + 40, hbh, 8);
	memcpy(p + 48, dst, 8);
	for (size_t i = 0; i < PAYLOAD; i++)
		p[56 + ah + i] = (uint8_t)(i * 5);
	return len;
}

static size_t build(struct sn_crypto *c, uint8_t *p, int kind)
{
	return kind == 2 ? build6(c, p) : build4(c, p, kind == 1);
}

static const char *const kinds[] = { "ipv4", "ipv4+options", "ipv6" };

static void seal(struct sn_crypto *c, uint8_t *p, size_t len, uint64_t seq,
		 bool esn)
{
	int rc = sn_ah_seal(c, p, len, 17, SPI, seq, esn);

	cr_assert_eq(rc, 0, "%s", sn_ah_strerror(rc));
}

static int open_(struct sn_crypto *c, const uint8_t *p, size_t len,
		 uint64_t seq, bool esn)
{
	struct sn_ah_info ai;

	return sn_ah_open(c, p, len, seq, esn, &ai);
}

Test(ah, round_trip_both_backends_same_bytes)
{
	for (int alg = SN_AUTH_HMAC_SHA1_96; alg <= SN_AUTH_HMAC_SHA256_128; alg++)
		for (int k = 0; k < 3; k++)
			for (int esn = 0; esn < 2; esn++) {
				uint8_t p[NBE][256];
				size_t len = 0;

				for (size_t b = 0; b < NBE; b++) {
					struct sn_crypto *c = ah_new(backends[b], alg);
					struct sn_ah_info ai;

					len = build(c, p[b], k);
					seal(c, p[b], len, 0x500000007ull, esn);
					cr_assert_eq(sn_ah_open(c, p[b], len, 0x500000007ull,
								esn, &ai), 0, "%s", kinds[k]);
					cr_assert_eq(ai.next_header, 17);
					cr_assert_eq(ai.spi, SPI);
					cr_assert_eq(ai.seq_lo, 7);
					cr_assert_eq(ai.ah_len, sn_ah_len(c, ai.family));
					sn_crypto_free(c);
				}
				cr_assert_arr_eq(p[0], p[1], len, "%s", kinds[k]);
			}
}

/* A change to the packet after sealing, and whether the ICV covers it. */
struct change {
	int kind;
	size_t off;
	uint8_t xor;
	bool covered;
	const char *what;
};

static const struct change changes[] = {
	/* IPv4 mutable: TOS, flags (DF), TTL, checksum, Record Route */
	{ 0, 1, 0xff, false, "TOS" },
	{ 0, 6, 0x40, false, "DF flag" },
	{ 0, 8, 0x3f, false, "TTL" },
	{ 0, 10, 0x5a, false, "checksum" },
	{ 0, 11, 0x01, false, "checksum lo" },
	{ 1, 28, 0x55, false, "record route address" },
	{ 1, 27, 0x04, false, "record route pointer" },
	/* IPv4 immutable */
	{ 0, 4, 0x01, true, "ID" },
	{ 0, 12, 0x80, true, "source" },
	{ 0, 19, 0x01, true, "destination" },
	{ 1, 23, 0x01, true, "router alert value" },
	{ 0, 20, 0x01, true, "AH next header" },
	{ 0, 24, 0x01, true, "AH SPI" },
	{ 0, 31, 0x01, true, "AH sequence number" },
	{ 0, 20 + 24 + 5, 0x10, true, "payload" },
	{ 1, 36 + 2, 0x01, true, "AH reserved" },
	/* IPv6 mutable: traffic class, flow label, hop limit, option data */
	{ 2, 0, 0x0f, false, "traffic class hi" },
	{ 2, 1, 0xf0, false, "traffic class lo" },
	{ 2, 1, 0x0f, false, "flow label" },
	{ 2, 3, 0xff, false, "flow label lo" },
	{ 2, 7, 0x7f, false, "hop limit" },
	{ 2, 44, 0xff, false, "mutable option data" },
	/* IPv6 immutable */
	{ 2, 8, 0x01, true, "source" },
	{ 2, 39, 0x01, true, "destination" },
	{ 2, 52, 0x01, true, "immutable option data" },
	{ 2, 46, 0x01, true, "PadN type" },
	{ 2, 56 + 4, 0x01, true, "AH SPI" },
	{ 2, 90, 0x01, true, "payload" },
};

static void check_change(struct sn_crypto *c, const struct change *ch)
{
	uint8_t p[256], icv0[16], icv1[16];
	size_t len = build(c, p, ch->kind);
	int rc;

	seal(c, p, len, 99, false);
	cr_assert_eq(sn_ah_icv(c, p, len, 99, false, icv0), 0);
	p[ch->off] ^= ch->xor;
	cr_assert_eq(sn_ah_icv(c, p, len, 99, false, icv1), 0, "%s", ch->what);
	cr_assert_eq(memcmp(icv0, icv1, c->icv_len) != 0, ch->covered,
		     "%s %s: ICV %s", kinds[ch->kind], ch->what,
		     ch->covered ? "unchanged" : "changed");
	rc = open_(c, p, len, 99, false);
	cr_assert_eq(rc, ch->covered ? SN_AH_EICV : 0, "%s: %s", ch->what,
		     sn_ah_strerror(rc));
}

Test(ah, icv_ignores_mutable_fields_and_covers_the_rest)
{
	for (int alg = SN_AUTH_HMAC_SHA1_96; alg <= SN_AUTH_HMAC_SHA256_128; alg++)
		for (size_t b = 0; b < NBE; b++) {
			struct sn_crypto *c = ah_new(backends[b], alg);

			for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++)
				check_change(c, &changes[i]);
			sn_crypto_free(c);
		}
}

Test(ah, esn_high_bits_are_covered)
{
	struct sn_crypto *c = ah_new(SN_CRYPTO_MB, SN_AUTH_HMAC_SHA256_128);
	uint8_t p[256];
	size_t len = build(c, p, 2);

	seal(c, p, len, 0x100000005ull, true);
	cr_assert_eq(open_(c, p, len, 0x100000005ull, true), 0);
	cr_assert_eq(open_(c, p, len, 0x200000005ull, true), SN_AH_EICV);
	cr_assert_eq(open_(c, p, len, 0x100000005ull, false), SN_AH_EICV);
	sn_crypto_free(c);
}

/* RFC 4302 2.2: 12 + ICV, 4-byte multiple (IPv4, 8 accepted as Linux
 * does) or 8-byte multiple (IPv6); anything else before the ICV is read. */
Test(ah, length_field_checked_before_the_icv)
{
	for (int k = 0; k < 3; k++) {
		struct sn_crypto *c = ah_new(SN_CRYPTO_MBEDTLS, SN_AUTH_HMAC_SHA256_128);
		uint8_t p[256];
		size_t len = build(c, p, k), ah_off = k == 2 ? 56 : k == 1 ? 36 : 20;
		uint8_t good;

		seal(c, p, len, 1, false);
		good = p[ah_off + 1];
		cr_assert_eq(good, k == 2 ? 6 : 5, "(12 + 16 padded) / 4 - 2");
		for (int v = 0; v < 256; v++) {
			int rc;

			p[ah_off + 1] = (uint8_t)v;
			rc = open_(c, p, len, 1, false);
			if (v == good)
				cr_assert_eq(rc, 0);
			else if (((size_t)v + 2) * 4 > len - ah_off)
				cr_assert_eq(rc, SN_AH_ETRUNC, "v %d", v);
			else if (k != 2 && v == 6)      /* 8-aligned on IPv4 */
				cr_assert_eq(rc, SN_AH_EICV, "v %d", v);
			else
				cr_assert_eq(rc, SN_AH_ELEN, "%s v %d: %s", kinds[k], v,
					     sn_ah_strerror(rc));
		}
		sn_crypto_free(c);
	}
}

Test(ah, truncated_at_every_length)
{
	for (int k = 0; k < 3; k++) {
		struct sn_crypto *c = ah_new(SN_CRYPTO_MB, SN_AUTH_HMAC_SHA1_96);
		uint8_t p[256], q[256];
		size_t len = build(c, p, k);

		seal(c, p, len, 1, false);
		for (size_t l = 0; l < len; l++) {
			int rc;

			memcpy(q, p, l);
			rc = open_(c, q, l, 1, false);
			cr_assert_eq(rc, SN_AH_ETRUNC, "%s len %zu: %s", kinds[k], l,
				     sn_ah_strerror(rc));
		}
		sn_crypto_free(c);
	}
}

Test(ah, malformed_headers)
{
	struct sn_crypto *c = ah_new(SN_CRYPTO_MB, SN_AUTH_HMAC_SHA1_96);
	uint8_t p[256];
	size_t len;

	len = build(c, p, 0);
	p[7] = 1;                               /* a fragment */
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_EHDR);
	len = build(c, p, 0);
	p[9] = SN_IPPROTO_ESP;                  /* not AH */
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_EHDR);
	len = build(c, p, 0);
	p[0] = 0x44;                            /* IHL below 5 */
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_EHDR);
	len = build(c, p, 1);
	p[26] = 40;                             /* option runs past IHL */
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_EHDR);
	len = build(c, p, 1);
	p[26] = 1;                              /* option length below 2 */
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_EHDR);
	len = build(c, p, 2);
	p[43] = 9;                              /* IPv6 option past its header */
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_EHDR);
	len = build(c, p, 2);
	p[40] = 43;                             /* routing header, */
	p[48] = 43;                             /* segments left 4 */
	memcpy(p + 48, "\x33\x00\x00\x04\0\0\0\0", 8);
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_ENOTSUP);
	len = build(c, p, 2);
	p[41] = 200;                            /* ext header past the packet */
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_ETRUNC);
	p[0] = 0x50;                            /* neither 4 nor 6 */
	cr_assert_eq(sn_ah_seal(c, p, len, 6, 1, 1, false), SN_AH_EHDR);
	sn_crypto_free(c);
}

/* Larger than the on-stack copy: the heap copy path. */
Test(ah, jumbo_packet_uses_a_heap_copy)
{
	struct sn_crypto *c = ah_new(SN_CRYPTO_MBEDTLS, SN_AUTH_HMAC_SHA1_96);
	static uint8_t p[9000];
	size_t ah = sn_ah_len(c, AF_INET), len = sizeof(p);

	memset(p, 0x77, len);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)len);
	put16(p + 6, 0);
	p[9] = SN_IPPROTO_AH;
	seal(c, p, len, 3, true);
	cr_assert_eq(open_(c, p, len, 3, true), 0);
	p[20 + ah + 5000] ^= 1;
	cr_assert_eq(open_(c, p, len, 3, true), SN_AH_EICV);
	sn_crypto_free(c);
}
