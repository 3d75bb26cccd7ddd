/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/ike/ike_ts.c: selectors from configuration and flows; narrowing
 * as a numbered table (subset, superset, overlap, disjoint, ports,
 * protocols, IPv4/IPv6 mixes, the first selector kept first);
 * ike_ts_subset and ike_ts_contains; SPD selectors, with ranges that
 * split into several prefixes checked against a naive cover.
 *
 * Selectors are written "10.0.0.0/24 p6 80-80, 2001:db8::1-2001:db8::9":
 * a CIDR, a range or one address, then optionally pN (protocol) and a
 * port range; any protocol and all ports otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include <criterion/criterion.h>

#include "../../ipsec/ike/ike_neg.h"
#include "ike_hex.h"

static uint8_t family_of(const char *a)
{
	return strchr(a, ':') ? AF_INET6 : AF_INET;
}

static void addr_of(const char *a, uint8_t fam, uint8_t *out)
{
	cr_assert_eq(inet_pton(fam, a, out), 1, "bad address %s", a);
}

/* One selector from "ADDR[/plen|-ADDR] [pN] [lo-hi]". */
static struct ike_ts ts_of(const char *s)
{
	char a[64], b[64] = "", word[32];
	struct ike_ts t = { .end_port = 65535 };
	const char *sp = strchr(s, ' ');
	size_t alen = sp ? (size_t)(sp - s) : strlen(s);
	uint8_t fam;
	unsigned plen = 999;

	cr_assert_lt(alen, sizeof(a));
	memcpy(a, s, alen);
	a[alen] = '\0';
	char *slash = strchr(a, '/'), *dash = strchr(a, '-');
	if (slash) {
		*slash = '\0';
		plen = (unsigned)atoi(slash + 1);
	} else if (dash) {
		*dash = '\0';
		strcpy(b, dash + 1);
	}
	fam = family_of(a);
	size_t n = fam == AF_INET ? 4 : 16;
	t.type = fam == AF_INET ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
	addr_of(a, fam, t.start);
	memcpy(t.end, t.start, n);
	if (*b)
		addr_of(b, fam, t.end);
	if (plen != 999)
		for (unsigned i = 0; i < 8 * n; i++)
			if (i >= plen) {
				t.start[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
				t.end[i / 8] |= (uint8_t)(0x80 >> (i % 8));
			}
	while (sp && *sp) {
		unsigned lo, hi;
		int used = 0;

		while (*sp == ' ')
			sp++;
		if (sscanf(sp, "%31s%n", word, &used) != 1)
			break;
		sp += used;
		if (word[0] == 'p') {
			t.proto = (uint8_t)atoi(word + 1);
		} else {
			cr_assert_eq(sscanf(word, "%u-%u", &lo, &hi), 2, "bad ports %s", word);
			t.start_port = (uint16_t)lo;
			t.end_port = (uint16_t)hi;
		}
	}
	return t;
}

/* A set: selectors separated by commas. */
static struct ike_ts_set set_of(const char *s)
{
	struct ike_ts_set set = { 0 };
	char tmp[512], *save = NULL;

	cr_assert_lt(strlen(s), sizeof(tmp));
	strcpy(tmp, s);
	for (char *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		set.ts[set.n++] = ts_of(tok);
	}
	return set;
}

static bool ts_eq(const struct ike_ts *a, const struct ike_ts *b)
{
	size_t n = a->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;

	return a->type == b->type && a->proto == b->proto && a->start_port == b->start_port &&
	       a->end_port == b->end_port && !memcmp(a->start, b->start, n) &&
	       !memcmp(a->end, b->end, n);
}

static void expect_set(const struct ike_ts_set *got, const char *want, const char *what)
{
	struct ike_ts_set w = set_of(want);

	cr_expect_eq(got->n, w.n, "%s: %u selectors, want %u", what, got->n, w.n);
	for (unsigned i = 0; i < w.n && i < got->n; i++)
		cr_expect(ts_eq(&got->ts[i], &w.ts[i]), "%s: selector %u differs", what, i);
}

static struct sn_ip ip_of(const char *a)
{
	struct sn_ip ip = { .family = family_of(a) };

	addr_of(a, ip.family, ip.addr);
	return ip;
}

/* ---- From configuration and flows ------------------------------------------ */

Test(ike_ts, from_conf)
{
	struct sn_ip self = ip_of("192.0.2.7");
	struct ike_ts_set out;
	struct ike_conf_ts c[3] = {
		{ .family = AF_INET, .start = { 10, 0, 0, 0 }, .end = { 10, 0, 0, 255 },
		  .proto = 6, .port_lo = 443, .port_hi = 443 },
		{ .dynamic = true, .proto = 17 },
		{ .family = AF_INET6, .start = { 0x20, 0x01, 0x0d, 0xb8 },
		  .end = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xff }, .port_lo = 0, .port_hi = 65535 },
	};

	cr_assert_eq(ike_ts_from_conf(NULL, 0, &self, &out), 0);
	expect_set(&out, "192.0.2.7", "dynamic");
	cr_assert_eq(ike_ts_from_conf(c, 3, &self, &out), 0);
	expect_set(&out, "10.0.0.0/24 p6 443-443, 192.0.2.7 p17, 2001:db8::-2001:db8::ff",
		   "three");

	struct ike_conf_ts bad[] = {
		{ .family = 99 },
		{ .family = AF_INET, .start = { 10, 0, 0, 9 }, .end = { 10, 0, 0, 1 } },
		{ .family = AF_INET, .port_lo = 90, .port_hi = 80 },
	};
	for (size_t i = 0; i < N(bad); i++)
		cr_expect_eq(ike_ts_from_conf(&bad[i], 1, &self, &out), -EINVAL, "bad %zu", i);
	cr_expect_eq(out.n, 0);
	cr_expect_eq(ike_ts_from_conf(NULL, 0, NULL, &out), -EINVAL);   /* dynamic, no self */
	cr_expect_eq(ike_ts_from_conf(c, IKE_MAX_TS + 1, &self, &out), -EINVAL);
}

Test(ike_ts, from_flow)
{
	struct sn_ip a = ip_of("2001:db8::5"), none = { 0 };
	struct ike_ts_set out;

	cr_assert_eq(ike_ts_from_flow(&a, 6, 8443, &out), 0);
	expect_set(&out, "2001:db8::5 p6 8443-8443", "port");
	cr_assert_eq(ike_ts_from_flow(&a, 17, 0, &out), 0);
	expect_set(&out, "2001:db8::5 p17", "any port");
	cr_expect_eq(ike_ts_from_flow(&none, 6, 1, &out), -EINVAL);
}

/* ---- Narrowing ------------------------------------------------------------- */

struct narrow_case {
	const char *proposed, *ours;
	const char *want;               /* NULL: -ENOENT */
};

static const struct narrow_case narrow_cases[] = {
	/* 1 subset, 2 superset, 3 overlap, 4 disjoint */
	{ "10.0.1.0/24", "10.0.0.0/16", "10.0.1.0/24" },
	{ "0.0.0.0/0", "10.0.0.0/16", "10.0.0.0/16" },
	{ "10.0.0.100-10.0.1.50", "10.0.1.0/24", "10.0.1.0-10.0.1.50" },
	{ "10.0.0.0/24", "10.0.1.0/24", NULL },
	/* 5-8 ports */
	{ "10.0.0.1 p6", "10.0.0.0/24 p6 443-443", "10.0.0.1 p6 443-443" },
	{ "10.0.0.1 p6 1000-2000", "10.0.0.1 p6 1500-3000", "10.0.0.1 p6 1500-2000" },
	{ "10.0.0.1 p6 1000-2000", "10.0.0.1 p6 3000-4000", NULL },
	{ "10.0.0.1 p6 80-80", "10.0.0.1", "10.0.0.1 p6 80-80" },
	/* 9-11 protocols */
	{ "10.0.0.1 p17", "10.0.0.1 p6", NULL },
	{ "10.0.0.1", "10.0.0.1 p6", "10.0.0.1 p6" },
	{ "10.0.0.1 p17", "10.0.0.1 p17", "10.0.0.1 p17" },
	/* 12-14 IPv4/IPv6 mixes */
	{ "10.0.0.1, 2001:db8::1", "2001:db8::/64", "2001:db8::1" },
	{ "2001:db8::/32", "10.0.0.0/8", NULL },
	{ "::/0, 0.0.0.0/0", "10.0.0.0/8, 2001:db8::/48", "2001:db8::/48, 10.0.0.0/8" },
	/* 15-16 the first (the packet that triggered it, 2.9) stays first;
	 * a selector both sides reach twice appears once */
	{ "10.0.0.5 p6 22-22, 10.0.0.0/24", "10.0.0.0/16", "10.0.0.5 p6 22-22, 10.0.0.0/24" },
	{ "10.0.0.0/24", "10.0.0.0/16, 10.0.0.0/20", "10.0.0.0/24" },
	/* 17 an empty (OPAQUE-like) selector meets nothing */
	{ "10.0.0.1 65535-0", "10.0.0.1", NULL },
};

Test(ike_ts, narrow_table)
{
	for (size_t i = 0; i < N(narrow_cases); i++) {
		const struct narrow_case *t = &narrow_cases[i];
		struct ike_ts_set p = set_of(t->proposed), o = set_of(t->ours), out;
		char what[32];
		int rc = ike_ts_narrow(&p, &o, &out);

		snprintf(what, sizeof(what), "case %zu", i + 1);
		if (!t->want) {
			cr_expect_eq(rc, -ENOENT, "%s: %d", what, rc);
			continue;
		}
		cr_expect_eq(rc, 0, "%s: %d", what, rc);
		expect_set(&out, t->want, what);
		cr_expect(ike_ts_subset(&out, &p), "%s: the narrowed set lies in the proposal", what);
	}
}

Test(ike_ts, narrow_caps_at_max)
{
	struct ike_ts_set p = { 0 }, o = set_of("10.0.0.0/8"), out;

	for (unsigned i = 0; i < IKE_MAX_TS; i++) {
		char s[32];

		snprintf(s, sizeof(s), "10.0.%u.0/24", i);
		p.ts[p.n++] = ts_of(s);
	}
	o.ts[o.n++] = ts_of("10.0.0.0/9");
	cr_assert_eq(ike_ts_narrow(&p, &o, &out), 0);
	cr_expect_eq(out.n, IKE_MAX_TS);
}

/* ---- Subset and contains ---------------------------------------------------- */

struct subset_case { const char *answer, *proposed; bool want; };

static const struct subset_case subset_cases[] = {
	{ "10.0.1.0/24", "10.0.0.0/16", true },
	{ "10.0.0.0/16", "10.0.1.0/24", false },
	{ "10.0.0.1 p6 443-443", "10.0.0.0/24", true },
	{ "10.0.0.1", "10.0.0.0/24 p6", false },        /* any protocol is wider than TCP */
	{ "10.0.0.1 p6 1-1000", "10.0.0.1 p6 2-65535", false },
	{ "10.0.0.1, 2001:db8::1", "2001:db8::/64, 10.0.0.0/8", true },
	{ "10.0.0.1, 10.1.0.1", "10.0.0.0/16", false },
	{ "2001:db8::1", "10.0.0.0/8", false },
	{ "10.0.0.1 65535-0", "0.0.0.0/0", false },     /* empty */
};

Test(ike_ts, subset_table)
{
	for (size_t i = 0; i < N(subset_cases); i++) {
		struct ike_ts_set a = set_of(subset_cases[i].answer);
		struct ike_ts_set p = set_of(subset_cases[i].proposed);

		cr_expect_eq(ike_ts_subset(&a, &p), subset_cases[i].want, "case %zu", i + 1);
	}
	struct ike_ts_set none = { 0 }, all = set_of("0.0.0.0/0");
	cr_expect_not(ike_ts_subset(&none, &all));
}

Test(ike_ts, contains)
{
	struct ike_ts_set s = set_of("10.0.0.0/24 p6 443-443, 2001:db8::/64, 192.0.2.0/24 p17");
	struct sn_ip a = ip_of("10.0.0.9"), b = ip_of("10.0.1.9"), c = ip_of("2001:db8::77");
	struct sn_ip d = ip_of("192.0.2.1"), e = ip_of("2001:db8:1::1"), none = { 0 };

	cr_expect(ike_ts_contains(&s, &a, 6, 443));
	cr_expect_not(ike_ts_contains(&s, &a, 6, 444));
	cr_expect_not(ike_ts_contains(&s, &a, 17, 443));
	cr_expect_not(ike_ts_contains(&s, &b, 6, 443));
	cr_expect(ike_ts_contains(&s, &c, 58, 0));
	cr_expect(ike_ts_contains(&s, &d, 17, 53));
	cr_expect_not(ike_ts_contains(&s, &d, 6, 53));
	cr_expect_not(ike_ts_contains(&s, &e, 6, 443));
	cr_expect_not(ike_ts_contains(&s, &none, 6, 443));
}

/* ---- SPD selectors ----------------------------------------------------------- */

static void expect_sel(const struct sn_selector *s, const char *src, unsigned sp,
		       const char *dst, unsigned dp)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	inet_ntop(s->src.family, s->src.addr, a, sizeof(a));
	inet_ntop(s->dst.family, s->dst.addr, b, sizeof(b));
	cr_expect_str_eq(a, src);
	cr_expect_eq(s->src_plen, sp, "%s/%u", a, s->src_plen);
	cr_expect_str_eq(b, dst);
	cr_expect_eq(s->dst_plen, dp, "%s/%u", b, s->dst_plen);
}

Test(ike_ts, selectors_split)
{
	struct ike_ts_set l = set_of("10.0.0.1-10.0.0.6 p6 8080-8080");
	struct ike_ts_set r = set_of("192.0.2.0-192.0.2.2");
	struct sn_selector s[16];

	/* 10.0.0.1-6 = .1/32 .2/31 .4/31 .6/32; 192.0.2.0-2 = .0/31 .2/32 */
	cr_assert_eq(ike_ts_to_selectors(&l, &r, s, N(s)), 8);
	expect_sel(&s[0], "10.0.0.1", 32, "192.0.2.0", 31);
	expect_sel(&s[1], "10.0.0.1", 32, "192.0.2.2", 32);
	expect_sel(&s[2], "10.0.0.2", 31, "192.0.2.0", 31);
	expect_sel(&s[4], "10.0.0.4", 31, "192.0.2.0", 31);
	expect_sel(&s[7], "10.0.0.6", 32, "192.0.2.2", 32);
	for (unsigned i = 0; i < 8; i++) {
		cr_expect_eq(s[i].proto, 6);
		cr_expect_eq(s[i].sport, 8080);
		cr_expect_eq(s[i].dport, 0);
	}
	cr_expect_eq(ike_ts_to_selectors(&l, &r, s, 7), -E2BIG);
}

Test(ike_ts, selectors_shapes)
{
	struct sn_selector s[8];
	struct ike_ts_set all4 = set_of("0.0.0.0-255.255.255.255"), all6 = set_of("::/0");
	struct ike_ts_set one6 = set_of("2001:db8::1 p17 53-53");
	struct ike_ts_set mixed = set_of("10.0.0.0/8, 2001:db8::/32");
	struct ike_ts_set range = set_of("10.0.0.1 p6 80-90"), zero = set_of("10.0.0.1 p6 0-0");
	struct ike_ts_set tcp = set_of("10.0.0.0/8 p6"), udp = set_of("10.0.0.1 p17");

	cr_assert_eq(ike_ts_to_selectors(&all4, &all4, s, N(s)), 1);
	expect_sel(&s[0], "0.0.0.0", 0, "0.0.0.0", 0);
	cr_assert_eq(ike_ts_to_selectors(&one6, &all6, s, N(s)), 1);
	expect_sel(&s[0], "2001:db8::1", 128, "::", 0);
	cr_expect_eq(s[0].proto, 17);
	cr_expect_eq(s[0].sport, 53);
	/* pairs of different families make no selector */
	cr_assert_eq(ike_ts_to_selectors(&mixed, &all6, s, N(s)), 1);
	expect_sel(&s[0], "2001:db8::", 32, "::", 0);
	/* a port range that is neither one port nor all of them */
	cr_expect_eq(ike_ts_to_selectors(&range, &all4, s, N(s)), -ENOTSUP);
	cr_expect_eq(ike_ts_to_selectors(&zero, &all4, s, N(s)), -ENOTSUP);
	/* protocols: one side's, or none when they disagree */
	cr_assert_eq(ike_ts_to_selectors(&all4, &tcp, s, N(s)), 1);
	cr_expect_eq(s[0].proto, 6);
	cr_expect_eq(ike_ts_to_selectors(&udp, &tcp, s, N(s)), 0);
	struct ike_ts_set empty = set_of("10.0.0.9-10.0.0.1");
	cr_expect_eq(ike_ts_to_selectors(&empty, &all4, s, N(s)), -EINVAL);
}

/* Differential: a range's prefixes against the naive reading of it. */
static uint32_t rng_state = 0x12345678;

static uint32_t rnd32(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint32_t be32_of(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* Minimal count of a range's cover, by the textbook recursion. */
static unsigned naive_count(uint64_t lo, uint64_t hi, unsigned bits, uint64_t base)
{
	uint64_t size = (uint64_t)1 << bits, end = base + size - 1;

	if (hi < base || lo > end)
		return 0;
	if (lo <= base && hi >= end)
		return 1;
	return naive_count(lo, hi, bits - 1, base) +
	       naive_count(lo, hi, bits - 1, base + size / 2);
}

Test(ike_ts, selectors_cover_ranges_exactly)
{
	static struct sn_selector s[80];
	struct ike_ts_set all = set_of("0.0.0.0/0");

	for (unsigned iter = 0; iter < 400; iter++) {
		uint32_t a = rnd32(), b = iter % 3 ? a + (rnd32() >> (rnd32() % 32)) : rnd32();
		uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
		struct ike_ts_set l = { .n = 1 };
		uint64_t next = lo;
		int n;

		l.ts[0] = (struct ike_ts){ .type = IKE_TS_IPV4_ADDR_RANGE, .end_port = 65535 };
		for (int i = 0; i < 4; i++) {
			l.ts[0].start[i] = (uint8_t)(lo >> (24 - 8 * i));
			l.ts[0].end[i] = (uint8_t)(hi >> (24 - 8 * i));
		}
		n = ike_ts_to_selectors(&l, &all, s, N(s));
		cr_assert_gt(n, 0, "%08x-%08x: %d", lo, hi, n);
		cr_expect_eq((unsigned)n, naive_count(lo, hi, 32, 0), "%08x-%08x", lo, hi);
		for (int i = 0; i < n; i++) {
			uint32_t base = be32_of(s[i].src.addr);
			uint64_t size = (uint64_t)1 << (32 - s[i].src_plen);

			cr_assert_eq(base, next, "%08x-%08x: a gap or overlap at %d", lo, hi, i);
			cr_assert_eq(base & (size - 1), 0, "not aligned");
			next = base + size;
		}
		cr_expect_eq(next, (uint64_t)hi + 1, "%08x-%08x: cover ends", lo, hi);
	}
}

Test(ike_ts, selectors_ipv6_worst_case)
{
	/* ::1 - ffff...fffe needs 2 * 127 prefixes */
	static struct sn_selector s[300];
	struct ike_ts_set l = set_of("::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	struct ike_ts_set r = set_of("::/0");

	cr_assert_eq(ike_ts_to_selectors(&l, &r, s, N(s)), 254);
	expect_sel(&s[0], "::1", 128, "::", 0);
	expect_sel(&s[1], "::2", 127, "::", 0);
	expect_sel(&s[127], "8000::", 2, "::", 0);
	expect_sel(&s[253], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 128, "::", 0);
}

/* Sets no parser would make: counts past the array, any type, any bytes;
 * nothing is read out of bounds (run under ASan). */
Test(ike_ts, garbage_sets)
{
	static struct ike_ts_set a, b, out;
	static struct sn_selector sel[64];
	uint32_t x = 0x2545f491;
	struct sn_ip ip = { .family = AF_INET };

	for (unsigned iter = 0; iter < 300; iter++) {
		uint8_t *p = (uint8_t *)&a, *q = (uint8_t *)&b;

		for (size_t i = 0; i < sizeof(a); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			p[i] = (uint8_t)x;
			q[i] = (uint8_t)(x >> 8);
		}
		for (unsigned i = 0; iter % 2 && i < IKE_MAX_TS; i++) {
			a.ts[i].type = IKE_TS_IPV4_ADDR_RANGE + (x >> i) % 2;
			b.ts[i].type = a.ts[i].type;
		}
		if (ike_ts_narrow(&a, &b, &out) == 0)
			cr_expect(out.n >= 1 && out.n <= IKE_MAX_TS);
		(void)ike_ts_subset(&a, &b);
		(void)ike_ts_contains(&a, &ip, 6, 80);
		int n = ike_ts_to_selectors(&a, &b, sel, N(sel));
		cr_expect(n <= (int)N(sel));
	}
}
