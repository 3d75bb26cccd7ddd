/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/ike/ike_cookie.c: COOKIE = version | SHA-256(Ni | IPi | SPIi |
 * secret) (RFC 7296 2.6) against a direct computation; a cookie for
 * other values (Ni, IP, SPI, length, version, one flipped bit) is
 * refused; after one rotation the old secret's cookies still pass, after
 * two they do not; half-open counts per source and in total.
 */
#include <arpa/inet.h>
#include <errno.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "../../ipsec/ike/ike_neg.h"
#include "ike_hex.h"

static const uint8_t ni[32] = { 0x4e, 0x69, 1, 2, 3 };
static const struct sn_ip ip4 = { .family = AF_INET, .addr = { 198, 51, 100, 7 } };
static const struct sn_ip ip6 = { .family = AF_INET6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 } };
static const uint64_t spi = 0x0102030405060708ull;

#define LIFE 1000u

static struct ike_cookies fresh_cookies(void)
{
	struct ike_cookies c;

	cr_assert_eq(ike_cookies_init(&c, 5000, LIFE), 0);
	return c;
}

static size_t make(const struct ike_cookies *c, const struct sn_ip *ip, uint8_t *out)
{
	size_t len = 0;

	cr_assert_eq(ike_cookie_make(c, ni, sizeof(ni), ip, spi, out, IKE_COOKIE_LEN, &len), 0);
	cr_assert_eq(len, IKE_COOKIE_LEN);
	return len;
}

static bool check(const struct ike_cookies *c, const uint8_t *ck, size_t len,
		  const struct sn_ip *ip)
{
	return ike_cookie_check(c, ck, len, ni, sizeof(ni), ip, spi);
}

Test(ike_cookie, layout)
{
	struct ike_cookies c = fresh_cookies();
	uint8_t ck[IKE_COOKIE_LEN], in[sizeof(ni) + 4 + 8 + 32], want[32];
	unsigned wl = 0;

	make(&c, &ip4, ck);
	cr_expect_eq(ck[0] << 24 | ck[1] << 16 | ck[2] << 8 | ck[3], c.version);
	memcpy(in, ni, sizeof(ni));
	memcpy(in + sizeof(ni), ip4.addr, 4);
	for (int i = 0; i < 8; i++)
		in[sizeof(ni) + 4 + i] = (uint8_t)(spi >> (56 - 8 * i));
	memcpy(in + sizeof(ni) + 12, c.secret, 32);
	cr_assert_eq(EVP_Digest(in, sizeof(in), want, &wl, EVP_sha256(), NULL), 1);
	cr_expect_arr_eq(ck + 4, want, 32);
	ike_cookies_wipe(&c);
	cr_expect_eq(c.version, 0);
}

Test(ike_cookie, refuses_other_values)
{
	struct ike_cookies c = fresh_cookies();
	uint8_t ck[IKE_COOKIE_LEN], bad[IKE_COOKIE_LEN];
	uint8_t ni2[32];
	struct sn_ip ip_other = ip4, none = { 0 };

	make(&c, &ip4, ck);
	cr_expect(check(&c, ck, sizeof(ck), &ip4));
	memcpy(ni2, ni, sizeof(ni2));
	ni2[31] ^= 1;
	cr_expect_not(ike_cookie_check(&c, ck, sizeof(ck), ni2, sizeof(ni2), &ip4, spi));
	cr_expect_not(ike_cookie_check(&c, ck, sizeof(ck), ni, 31, &ip4, spi));
	ip_other.addr[3] ^= 1;
	cr_expect_not(check(&c, ck, sizeof(ck), &ip_other));
	cr_expect_not(check(&c, ck, sizeof(ck), &ip6));
	cr_expect_not(check(&c, ck, sizeof(ck), &none));
	cr_expect_not(ike_cookie_check(&c, ck, sizeof(ck), ni, sizeof(ni), &ip4, spi ^ 1));
	cr_expect_not(check(&c, ck, sizeof(ck) - 1, &ip4));
	cr_expect_not(check(&c, ck, 0, &ip4));
	cr_expect_not(check(&c, NULL, sizeof(ck), &ip4));
	for (size_t bit = 0; bit < 8 * sizeof(ck); bit += 7) {
		memcpy(bad, ck, sizeof(bad));
		bad[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		cr_expect_not(check(&c, bad, sizeof(bad), &ip4), "bit %zu", bit);
	}
	/* IPv6 addresses hash all 16 octets */
	make(&c, &ip6, ck);
	cr_expect(check(&c, ck, sizeof(ck), &ip6));
	ip_other = ip6;
	ip_other.addr[8] ^= 0x80;
	cr_expect_not(check(&c, ck, sizeof(ck), &ip_other));
}

Test(ike_cookie, make_refuses)
{
	struct ike_cookies c = fresh_cookies();
	uint8_t out[IKE_COOKIE_LEN];
	size_t len = 99;
	struct sn_ip none = { 0 };

	cr_expect_eq(ike_cookie_make(&c, ni, sizeof(ni), &ip4, spi, out, sizeof(out) - 1, &len),
		     -ENOSPC);
	cr_expect_eq(ike_cookie_make(&c, ni, IKE_NONCE_MIN - 1, &ip4, spi, out, sizeof(out), &len),
		     -EINVAL);
	cr_expect_eq(ike_cookie_make(&c, ni, sizeof(ni), &none, spi, out, sizeof(out), &len),
		     -EINVAL);
	cr_expect_eq(ike_cookies_init(&c, 0, 0), -EINVAL);
}

Test(ike_cookie, rotation)
{
	struct ike_cookies c = fresh_cookies();
	uint8_t ck[IKE_COOKIE_LEN], ck2[IKE_COOKIE_LEN];
	uint32_t v0 = c.version;

	make(&c, &ip4, ck);
	ike_cookies_tick(&c, 5000 + LIFE - 1);          /* not yet */
	cr_expect_eq(c.version, v0);
	ike_cookies_tick(&c, 5000 + LIFE);              /* first rotation */
	cr_expect_eq(c.version, v0 + 1);
	cr_expect(check(&c, ck, sizeof(ck), &ip4), "the old secret is accepted once");
	make(&c, &ip4, ck2);
	cr_expect_neq(memcmp(ck, ck2, sizeof(ck)), 0);
	ike_cookies_tick(&c, 5000 + 2 * LIFE);          /* second */
	cr_expect_not(check(&c, ck, sizeof(ck), &ip4), "not after two");
	cr_expect(check(&c, ck2, sizeof(ck2), &ip4));
	/* a version from the future, or 0, is refused */
	ck2[3] ^= 0x40;
	cr_expect_not(check(&c, ck2, sizeof(ck2), &ip4));

	/* a long sleep replaces both secrets at once */
	make(&c, &ip4, ck);
	ike_cookies_tick(&c, 5000 + 5 * LIFE);
	cr_expect_not(check(&c, ck, sizeof(ck), &ip4));
	/* a clock that goes back changes nothing */
	uint32_t v = c.version;
	ike_cookies_tick(&c, 10);
	cr_expect_eq(c.version, v);
}

Test(ike_cookie, fresh_state_has_no_old_cookies)
{
	struct ike_cookies c = fresh_cookies(), d = fresh_cookies();
	uint8_t ck[IKE_COOKIE_LEN];

	cr_expect_neq(memcmp(c.secret, d.secret, sizeof(c.secret)), 0);
	make(&d, &ip4, ck);
	cr_expect_not(check(&c, ck, sizeof(ck), &ip4), "another responder's secret");
	ck[3] = 0;                                      /* version 0 */
	cr_expect_not(check(&c, ck, sizeof(ck), &ip4));
}

/* ---- Half-open counts ------------------------------------------------------- */

static struct sn_ip nth(uint32_t i)
{
	struct sn_ip ip = { .family = AF_INET };

	ip.addr[0] = 10;
	ip.addr[1] = (uint8_t)(i >> 16);
	ip.addr[2] = (uint8_t)(i >> 8);
	ip.addr[3] = (uint8_t)i;
	return ip;
}

Test(ike_cookie, halfopen_counts)
{
	static struct ike_halfopen h;
	struct sn_ip a = nth(1), b = ip6;

	cr_assert_eq(ike_halfopen_init(&h), 0);
	cr_expect_eq(ike_halfopen_of(&h, &a), 0);
	for (int i = 0; i < 5; i++)
		ike_halfopen_add(&h, &a);
	ike_halfopen_add(&h, &b);
	cr_expect_eq(h.total, 6);
	cr_expect_eq(ike_halfopen_of(&h, &a), 5);
	cr_expect_geq(ike_halfopen_of(&h, &b), 1);
	ike_halfopen_del(&h, &a);
	cr_expect_eq(ike_halfopen_of(&h, &a), 4);
	cr_expect_eq(h.total, 5);
	/* more deletions than additions stop at 0 */
	for (int i = 0; i < 10; i++)
		ike_halfopen_del(&h, &b);
	cr_expect_eq(h.total, 0);
	cr_expect_eq(ike_halfopen_of(&h, &b), 0);
}

Test(ike_cookie, halfopen_spreads)
{
	static struct ike_halfopen h;
	unsigned max = 0, used = 0;

	cr_assert_eq(ike_halfopen_init(&h), 0);
	/* 4096 addresses of one /20: a keyed hash spreads them (a plain
	 * modulo of the low octets would too, but not for a chosen set) */
	for (uint32_t i = 0; i < IKE_HALFOPEN_BUCKETS; i++) {
		struct sn_ip ip = nth(i);

		ike_halfopen_add(&h, &ip);
	}
	for (unsigned i = 0; i < IKE_HALFOPEN_BUCKETS; i++) {
		used += h.per_src[i] != 0;
		if (h.per_src[i] > max)
			max = h.per_src[i];
	}
	cr_expect_gt(used, IKE_HALFOPEN_BUCKETS / 2, "%u buckets used", used);
	cr_expect_lt(max, 16, "a bucket with %u", max);
	/* each table has its own random key */
	static struct ike_halfopen g;
	cr_assert_eq(ike_halfopen_init(&g), 0);
	cr_expect_neq(memcmp(g.key, h.key, sizeof(g.key)), 0);
	/* saturation: never wraps */
	static struct ike_halfopen s;
	struct sn_ip a = nth(9);
	cr_assert_eq(ike_halfopen_init(&s), 0);
	for (unsigned i = 0; i < UINT16_MAX + 10u; i++)
		ike_halfopen_add(&s, &a);
	cr_expect_eq(ike_halfopen_of(&s, &a), UINT16_MAX);
	cr_expect_eq(s.total, UINT16_MAX + 10u);
}
