/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/spd.c: ordering (priority, then insertion), prefix matching for
 * IPv4 and IPv6 (/0 and prefixes not on a byte boundary), protocol and
 * port wildcards, bounds, the acquire queue; then a differential test of
 * lookup against a naive linear scan over thousands of random policies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "../../ipsec/spd.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct sn_ip ip_of(const char *s)
{
	struct sn_ip ip = { 0 };

	ip.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	cr_assert_eq(inet_pton(ip.family, s, ip.addr), 1, "%s", s);
	return ip;
}

/* "10.0.0.0/8" style; no slash = full length. */
static void prefix_of(const char *s, struct sn_ip *ip, uint8_t *plen)
{
	char buf[64];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	*ip = ip_of(buf);
	*plen = slash ? (uint8_t)atoi(slash + 1) : ip->family == AF_INET6 ? 128 : 32;
}

static struct sn_pol_conf pol(const char *src, const char *dst, uint8_t proto, uint16_t sport,
			      uint16_t dport, enum sn_pol_dir dir, uint32_t prio,
			      enum sn_pol_action action)
{
	struct sn_pol_conf c = { 0 };

	prefix_of(src, &c.sel.src, &c.sel.src_plen);
	prefix_of(dst, &c.sel.dst, &c.sel.dst_plen);
	c.sel.proto = proto;
	c.sel.sport = sport;
	c.sel.dport = dport;
	c.dir = dir;
	c.priority = prio;
	c.action = action;
	c.tmpl.proto = SN_IPPROTO_ESP;
	return c;
}

static struct sn_flow flow(const char *src, const char *dst, uint8_t proto, uint16_t sport,
			   uint16_t dport)
{
	struct sn_flow f = { 0 };
	struct sn_ip s = ip_of(src), d = ip_of(dst);

	f.family = s.family;
	memcpy(f.src, s.addr, 16);
	memcpy(f.dst, d.addr, 16);
	f.proto = proto;
	f.sport = sport;
	f.dport = dport;
	return f;
}

static int freed;

static void pkt_free(void *pkt, void *ctx)
{
	freed++;
	free(pkt);
}

static struct sn_spd *new_spd(uint32_t max)
{
	struct sn_spd_conf conf = { .max_policies = max, .pkt_free = pkt_free };
	struct sn_spd *spd;

	cr_assert_eq(sn_spd_create(&spd, &conf), 0);
	return spd;
}

static uint32_t add(struct sn_spd *spd, struct sn_pol_conf c)
{
	struct sn_policy *p;

	cr_assert_eq(sn_spd_add(spd, &c, &p), 0);
	return p->id;
}

static uint32_t lookup_id(struct sn_spd *spd, enum sn_pol_dir dir, struct sn_flow f)
{
	struct sn_policy *p = sn_spd_lookup(spd, dir, &f);

	return p ? p->id : 0;
}

Test(spd, create_bounds)
{
	struct sn_spd_conf conf = { .max_policies = 0 };
	struct sn_spd *spd;

	cr_expect_eq(sn_spd_create(&spd, &conf), -EINVAL);
	conf.max_policies = 4;
	conf.queue_len = SN_SPD_QUEUE_MAX + 1;
	cr_expect_eq(sn_spd_create(&spd, &conf), -EINVAL);
	cr_expect_eq(sn_spd_create(NULL, &conf), -EINVAL);
	cr_expect_eq(sn_spd_create(&spd, NULL), -EINVAL);
	sn_spd_free(NULL);
}

Test(spd, priority_then_insertion_order)
{
	struct sn_spd *spd = new_spd(16);
	uint32_t a = add(spd, pol("10.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 10, SN_POL_BYPASS));
	uint32_t b = add(spd, pol("10.1.0.0/16", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 10, SN_POL_PROTECT));
	uint32_t c = add(spd, pol("10.1.2.0/24", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 5, SN_POL_DISCARD));
	uint32_t d = add(spd, pol("10.1.2.3", "0.0.0.0/0", 0, 0, 0, SN_DIR_IN, 0, SN_POL_DISCARD));
	uint32_t e = add(spd, pol("0.0.0.0/0", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 10, SN_POL_BYPASS));

	cr_expect_eq(lookup_id(spd, SN_DIR_OUT, flow("10.1.2.3", "1.1.1.1", 6, 1, 2)), c, "lowest priority first");
	cr_expect_eq(lookup_id(spd, SN_DIR_OUT, flow("10.1.3.3", "1.1.1.1", 6, 1, 2)), a, "equal priority: first inserted, not longest prefix");
	cr_expect_eq(lookup_id(spd, SN_DIR_OUT, flow("11.0.0.1", "1.1.1.1", 6, 1, 2)), e);
	cr_expect_eq(lookup_id(spd, SN_DIR_IN, flow("10.1.2.3", "1.1.1.1", 6, 1, 2)), d, "directions apart");
	cr_expect_eq(lookup_id(spd, SN_DIR_IN, flow("10.1.2.4", "1.1.1.1", 6, 1, 2)), 0);
	cr_expect_eq(lookup_id(spd, SN_DIR_FWD, flow("10.1.2.3", "1.1.1.1", 6, 1, 2)), 0);
	cr_expect_eq(lookup_id(spd, SN_DIR_OUT, flow("fd00::1", "fd00::2", 6, 1, 2)), 0, "family apart");
	cr_expect_eq(sn_spd_del(spd, a), 0);
	cr_expect_eq(lookup_id(spd, SN_DIR_OUT, flow("10.1.3.3", "1.1.1.1", 6, 1, 2)), b);
	cr_expect_eq(sn_spd_del(spd, a), -ENOENT);
	cr_expect_eq(sn_spd_count(spd, SN_DIR_OUT), 3);
	cr_expect_eq(sn_spd_count(spd, SN_DIR_IN), 1);
	(void)e;
	sn_spd_free(spd);
}

struct prefix_case {
	const char *prefix;
	const char *addr;
	bool match;
};

static const struct prefix_case prefixes[] = {
	/*  0 */ { "0.0.0.0/0", "255.255.255.255", true },
	/*  1 */ { "10.0.0.0/8", "10.255.1.2", true },
	/*  2 */ { "10.0.0.0/8", "11.0.0.0", false },
	/*  3 */ { "10.128.0.0/9", "10.200.0.1", true },
	/*  4 */ { "10.128.0.0/9", "10.127.255.255", false },
	/*  5 */ { "192.168.1.32/27", "192.168.1.63", true },
	/*  6 */ { "192.168.1.32/27", "192.168.1.64", false },
	/*  7 */ { "192.168.1.32/27", "192.168.1.31", false },
	/*  8 */ { "192.168.1.33/27", "192.168.1.40", true },   /* host bits ignored */
	/*  9 */ { "1.2.3.4", "1.2.3.4", true },
	/* 10 */ { "1.2.3.4", "1.2.3.5", false },
	/* 11 */ { "1.2.3.4/31", "1.2.3.5", true },
	/* 12 */ { "::/0", "ffff::1", true },
	/* 13 */ { "fd00::/8", "fdff:1::1", true },
	/* 14 */ { "fd00::/8", "fe00::1", false },
	/* 15 */ { "2001:db8::/33", "2001:db8:7fff::1", true },
	/* 16 */ { "2001:db8::/33", "2001:db8:8000::1", false },
	/* 17 */ { "2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", true },
	/* 18 */ { "2001:db8::/65", "2001:db8::8000:0:0:0", false },
	/* 19 */ { "2001:db8::/127", "2001:db8::1", true },
	/* 20 */ { "2001:db8::/127", "2001:db8::2", false },
	/* 21 */ { "2001:db8::1", "2001:db8::1", true },
	/* 22 */ { "2001:db8::1", "2001:db8::1:1", false },
	/* 23 */ { "2001:db8::/64", "2001:db8:0:1::", false },
};

Test(spd, prefix_matching_table)
{
	for (size_t i = 0; i < N(prefixes); i++) {
		const struct prefix_case *c = &prefixes[i];
		bool v6 = strchr(c->addr, ':') != NULL;
		const char *any = v6 ? "::/0" : "0.0.0.0/0", *peer = v6 ? "::9" : "9.9.9.9";
		struct sn_spd *spd = new_spd(4);
		uint32_t s = add(spd, pol(c->prefix, any, 0, 0, 0, SN_DIR_OUT, 0, SN_POL_BYPASS));
		uint32_t d = add(spd, pol(any, c->prefix, 0, 0, 0, SN_DIR_IN, 0, SN_POL_BYPASS));

		cr_expect_eq(lookup_id(spd, SN_DIR_OUT, flow(c->addr, peer, 17, 1, 1)),
			     c->match ? s : 0, "case %zu (src)", i);
		cr_expect_eq(lookup_id(spd, SN_DIR_IN, flow(peer, c->addr, 17, 1, 1)),
			     c->match ? d : 0, "case %zu (dst)", i);
		sn_spd_free(spd);
	}
}

Test(spd, protocol_and_port_wildcards)
{
	struct sn_spd *spd = new_spd(8);
	uint32_t tcp80 = add(spd, pol("0.0.0.0/0", "0.0.0.0/0", 6, 0, 80, SN_DIR_OUT, 1, SN_POL_PROTECT));
	uint32_t tcp_from53 = add(spd, pol("0.0.0.0/0", "0.0.0.0/0", 6, 53, 0, SN_DIR_OUT, 2, SN_POL_PROTECT));
	uint32_t udp = add(spd, pol("0.0.0.0/0", "0.0.0.0/0", 17, 0, 0, SN_DIR_OUT, 3, SN_POL_BYPASS));
	uint32_t any = add(spd, pol("0.0.0.0/0", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 4, SN_POL_DISCARD));
	static const struct { uint8_t proto; uint16_t sport, dport; int want; } cases[] = {
		/* 0 */ { 6, 1234, 80, 0 }, /* 1 */ { 6, 53, 80, 0 }, /* 2 */ { 6, 53, 81, 1 },
		/* 3 */ { 6, 54, 81, 3 }, /* 4 */ { 17, 53, 80, 2 }, /* 5 */ { 1, 0, 0, 3 },
		/* 6 */ { 50, 0, 0, 3 }, /* 7 */ { 17, 0, 0, 2 },
	};
	uint32_t ids[] = { tcp80, tcp_from53, udp, any };

	for (size_t i = 0; i < N(cases); i++)
		cr_expect_eq(lookup_id(spd, SN_DIR_OUT, flow("1.1.1.1", "2.2.2.2", cases[i].proto,
							     cases[i].sport, cases[i].dport)),
			     ids[cases[i].want], "case %zu", i);
	sn_spd_free(spd);
}

Test(spd, duplicates_bounds_and_bad_confs)
{
	struct sn_spd *spd = new_spd(2);
	struct sn_pol_conf c = pol("10.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 1, SN_POL_BYPASS);
	struct sn_pol_conf bad[8];
	struct sn_pol_conf host_bits = pol("10.1.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 9, SN_POL_BYPASS);

	cr_assert_eq(sn_spd_add(spd, &c, NULL), 0);
	cr_expect_eq(sn_spd_add(spd, &c, NULL), -EEXIST);
	cr_expect_eq(sn_spd_add(spd, &host_bits, NULL), -EEXIST, "same selector once masked");
	c.dir = SN_DIR_IN;
	cr_expect_eq(sn_spd_add(spd, &c, NULL), 0, "other direction");
	c.dir = SN_DIR_FWD;
	cr_expect_eq(sn_spd_add(spd, &c, NULL), -ENOSPC);
	for (size_t i = 0; i < N(bad); i++)
		bad[i] = c;
	bad[0].dir = 3;
	bad[1].action = 3;
	bad[2].sel.src.family = 0;
	bad[3].sel.dst = ip_of("fd00::1");
	bad[4].sel.src_plen = 33;
	bad[5].action = SN_POL_PROTECT;
	bad[5].tmpl.proto = 17;
	bad[6].action = SN_POL_PROTECT;
	bad[6].tmpl.mode = SN_MODE_TUNNEL;      /* no endpoints */
	bad[7].sel.dst_plen = 200;
	for (size_t i = 0; i < N(bad); i++)
		cr_expect_eq(sn_spd_add(spd, &bad[i], NULL), -EINVAL, "case %zu", i);
	cr_expect_eq(sn_spd_add(NULL, &c, NULL), -EINVAL);
	cr_expect_null(sn_spd_lookup(spd, 5, NULL));
	sn_spd_free(spd);
}

/* ---- Acquire ---------------------------------------------------------------------------- */

struct acq {
	int calls;
	int rc;
	uint32_t last_policy;
};

static int on_acquire(struct sn_policy *p, const struct sn_flow *f, void *ctx)
{
	struct acq *a = ctx;

	a->calls++;
	a->last_policy = p->id;
	return a->rc;
}

static int sent[64], nsent;

static void on_send(void *pkt, void *ctx)
{
	sent[nsent++] = *(int *)pkt;
	free(pkt);
}

static void *pkt(int n)
{
	int *p = malloc(sizeof(int));

	cr_assert_not_null(p);
	*p = n;
	return p;
}

Test(spd, no_handler_drops_and_counts)
{
	struct sn_spd *spd = new_spd(4);
	struct sn_pol_conf c = pol("10.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 0, SN_POL_PROTECT);
	struct sn_flow f = flow("10.0.0.1", "1.1.1.1", 6, 1, 2);
	struct sn_policy *p;

	freed = 0;
	cr_assert_eq(sn_spd_add(spd, &c, &p), 0);
	cr_expect_eq(sn_spd_queue(spd, p, &f, pkt(1)), -ENOENT);
	cr_expect_eq(sn_spd_queue(spd, p, &f, pkt(2)), -ENOENT);
	cr_expect_eq(p->ctr[SN_IC_DROP_NO_SA], 2);
	cr_expect_eq(freed, 2);
	cr_expect_eq(sn_spd_queue(spd, p, &f, NULL), -EINVAL);
	sn_spd_free(spd);
}

Test(spd, acquire_once_queue_bounded_flush_in_order)
{
	struct sn_spd *spd = new_spd(4);
	struct sn_pol_conf c1 = pol("10.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 0, SN_POL_PROTECT);
	struct sn_pol_conf c2 = pol("11.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 0, SN_POL_PROTECT);
	struct sn_flow f = flow("10.0.0.1", "1.1.1.1", 6, 1, 2);
	struct sn_policy *p1, *p2;
	struct acq a = { 0 };

	freed = nsent = 0;
	cr_assert_eq(sn_spd_add(spd, &c1, &p1), 0);
	cr_assert_eq(sn_spd_add(spd, &c2, &p2), 0);
	sn_spd_set_acquire(spd, on_acquire, &a);
	for (int i = 0; i < SN_SPD_QUEUE_DEFAULT; i++)
		cr_assert_eq(sn_spd_queue(spd, p1, &f, pkt(i)), 0);
	cr_expect_eq(a.calls, 1, "once per policy");
	cr_expect_eq(sn_spd_queue(spd, p1, &f, pkt(99)), -ENOBUFS);
	cr_expect_eq(p1->ctr[SN_IC_DROP_ACQUIRE_FULL], 1);
	cr_expect_eq(freed, 1);
	cr_assert_eq(sn_spd_queue(spd, p2, &f, pkt(500)), 0);
	cr_expect_eq(a.calls, 2, "another policy acquires on its own");
	cr_expect_eq(a.last_policy, p2->id);
	/* SA installed for p1: the queue drains oldest first. */
	cr_expect_eq(sn_spd_flush(spd, p1, on_send, NULL), SN_SPD_QUEUE_DEFAULT);
	for (int i = 0; i < SN_SPD_QUEUE_DEFAULT; i++)
		cr_expect_eq(sent[i], i);
	cr_expect_eq(sn_spd_flush(spd, p1, on_send, NULL), 0);
	/* Next miss acquires again, and the ring wraps cleanly. */
	for (int i = 0; i < 5; i++)
		cr_assert_eq(sn_spd_queue(spd, p1, &f, pkt(100 + i)), 0);
	cr_expect_eq(a.calls, 3);
	nsent = 0;
	cr_expect_eq(sn_spd_flush(spd, p1, on_send, NULL), 5);
	cr_expect_eq(sent[4], 104);
	/* Acquire failed for p2: dropped and counted. */
	cr_expect_eq(sn_spd_flush(spd, p2, NULL, NULL), 1);
	cr_expect_eq(p2->ctr[SN_IC_DROP_ACQUIRE_FAIL], 1);
	cr_expect_eq(p1->ctr[SN_IC_ACQUIRES], 2);
	cr_expect_eq(freed, 2);
	sn_spd_free(spd);
}

Test(spd, handler_error_and_teardown_free_packets)
{
	struct sn_spd *spd = new_spd(4);
	struct sn_pol_conf c = pol("10.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 0, SN_POL_PROTECT);
	struct sn_pol_conf c2 = pol("12.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 0, SN_POL_PROTECT);
	struct sn_flow f = flow("10.0.0.1", "1.1.1.1", 6, 1, 2);
	struct sn_policy *p, *p2;
	struct acq a = { .rc = -EHOSTUNREACH };

	freed = 0;
	cr_assert_eq(sn_spd_add(spd, &c, &p), 0);
	cr_assert_eq(sn_spd_add(spd, &c2, &p2), 0);
	sn_spd_set_acquire(spd, on_acquire, &a);
	cr_expect_eq(sn_spd_queue(spd, p, &f, pkt(1)), -EHOSTUNREACH);
	cr_expect_eq(sn_spd_queue(spd, p, &f, pkt(2)), -EHOSTUNREACH);
	cr_expect_eq(a.calls, 2, "a failed acquire is retried by the next packet");
	cr_expect_eq(p->ctr[SN_IC_DROP_ACQUIRE_FAIL], 2);
	cr_expect_eq(freed, 2);
	a.rc = 0;
	cr_assert_eq(sn_spd_queue(spd, p, &f, pkt(3)), 0);
	cr_assert_eq(sn_spd_queue(spd, p, &f, pkt(4)), 0);
	cr_assert_eq(sn_spd_queue(spd, p2, &f, pkt(5)), 0);
	cr_expect_eq(sn_spd_del(spd, p->id), 0);
	cr_expect_eq(freed, 4, "deleting a policy frees what it held");
	sn_spd_free(spd);
	cr_expect_eq(freed, 5, "so does freeing the SPD");
}

static int collect(const struct sn_policy *p, void *ctx)
{
	uint32_t **out = ctx;

	*(*out)++ = p->id;
	return 0;
}

Test(spd, foreach_in_lookup_order_and_bind)
{
	struct sn_spd *spd = new_spd(8);
	uint32_t a = add(spd, pol("1.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 7, SN_POL_BYPASS));
	uint32_t b = add(spd, pol("2.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 3, SN_POL_BYPASS));
	uint32_t c = add(spd, pol("3.0.0.0/8", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 7, SN_POL_BYPASS));
	uint32_t ids[4] = { 0 }, *w = ids;
	struct sn_sa_ref ref = { 3, 9 };

	cr_assert_eq(sn_spd_foreach(spd, SN_DIR_OUT, collect, &w), 0);
	cr_expect_eq(ids[0], b);
	cr_expect_eq(ids[1], a);
	cr_expect_eq(ids[2], c);
	cr_expect_eq(ids[3], 0);
	sn_spd_bind_sa(sn_spd_get(spd, a), ref);
	cr_expect_eq(sn_spd_get(spd, a)->sa.gen, 9);
	cr_expect_null(sn_spd_get(spd, 0));
	cr_expect_eq(sn_spd_foreach(spd, 9, collect, &w), -EINVAL);
	sn_spd_free(spd);
}

/* ---- Differential ------------------------------------------------------------------------ */

struct naive {
	struct sn_pol_conf conf;
	uint32_t id;
	unsigned order;
	bool live;
};

static bool bits_match(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	for (unsigned i = 0; i < plen; i++) {
		unsigned byte = i / 8, bit = 7 - i % 8;

		if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1))
			return false;
	}
	return true;
}

static bool naive_match(const struct sn_pol_conf *c, const struct sn_flow *f)
{
	const struct sn_selector *s = &c->sel;

	return s->src.family == f->family && bits_match(s->src.addr, f->src, s->src_plen) &&
	       bits_match(s->dst.addr, f->dst, s->dst_plen) &&
	       (s->proto == 0 || s->proto == f->proto) &&
	       (s->sport == 0 || s->sport == f->sport) && (s->dport == 0 || s->dport == f->dport);
}

static uint32_t naive_lookup(const struct naive *t, size_t n, enum sn_pol_dir dir,
			     const struct sn_flow *f)
{
	const struct naive *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct naive *p = &t[i];

		if (!p->live || p->conf.dir != dir || !naive_match(&p->conf, f))
			continue;
		if (!best || p->conf.priority < best->conf.priority ||
		    (p->conf.priority == best->conf.priority && p->order < best->order))
			best = p;
	}
	return best ? best->id : 0;
}

/* Addresses from a small space so that prefixes overlap often. */
static void rand_addr(uint8_t family, uint8_t a[16])
{
	memset(a, 0, 16);
	for (unsigned i = 0; i < (family == AF_INET6 ? 16u : 4u); i++)
		a[i] = (uint8_t)(rand() % 4 == 0 ? rand() : (rand() % 3) * 0x40);
}

static uint8_t rand_proto(void)
{
	static const uint8_t p[] = { 0, 0, 6, 17, 1, 50 };

	return p[rand() % 6];
}

static uint16_t rand_port(void)
{
	static const uint16_t p[] = { 0, 0, 0, 53, 80, 443 };

	return p[rand() % 6];
}

static struct sn_pol_conf rand_policy(void)
{
	struct sn_pol_conf c = { 0 };
	uint8_t fam = rand() % 3 ? AF_INET : AF_INET6;
	unsigned bits = fam == AF_INET6 ? 128 : 32;

	c.sel.src.family = c.sel.dst.family = fam;
	rand_addr(fam, c.sel.src.addr);
	rand_addr(fam, c.sel.dst.addr);
	c.sel.src_plen = (uint8_t)(rand() % 4 ? rand() % (bits / 2 + 1) : rand() % (bits + 1));
	c.sel.dst_plen = (uint8_t)(rand() % 4 ? rand() % (bits / 2 + 1) : rand() % (bits + 1));
	c.sel.proto = rand_proto();
	if (c.sel.proto == 6 || c.sel.proto == 17) {
		c.sel.sport = rand_port();
		c.sel.dport = rand_port();
	}
	c.dir = (enum sn_pol_dir)(rand() % 3);
	c.priority = (uint32_t)(rand() % 16);
	c.action = (enum sn_pol_action)(rand() % 2 + 1);
	return c;
}

static struct sn_flow rand_flow(void)
{
	struct sn_flow f = { 0 };

	f.family = rand() % 3 ? AF_INET : AF_INET6;
	rand_addr(f.family, f.src);
	rand_addr(f.family, f.dst);
	f.proto = rand_proto();
	if (f.proto == 6 || f.proto == 17) {
		f.sport = rand_port();
		f.dport = rand_port();
	}
	return f;
}

Test(spd, differential_against_linear_scan)
{
	enum { POLICIES = 3000, PACKETS = 20000 };
	static struct naive t[POLICIES];
	struct sn_spd *spd = new_spd(POLICIES);
	size_t n = 0;
	unsigned order = 0, hits = 0, deleted = 0;

	srand(42);
	while (n < POLICIES) {
		struct sn_pol_conf c = rand_policy();
		struct sn_policy *p;
		int rc = sn_spd_add(spd, &c, &p);

		cr_assert(rc == 0 || rc == -EEXIST, "rc %d", rc);
		if (rc)
			continue;       /* same selector and direction as an earlier one */
		t[n] = (struct naive){ .conf = c, .id = p->id, .order = order++, .live = true };
		n++;
	}
	for (unsigned i = 0; i < PACKETS; i++) {
		struct sn_flow f = rand_flow();
		enum sn_pol_dir dir = (enum sn_pol_dir)(rand() % 3);
		uint32_t want = naive_lookup(t, n, dir, &f);
		uint32_t got = lookup_id(spd, dir, f);

		cr_assert_eq(got, want, "packet %u: policy %u, the scan says %u", i, got, want);
		hits += want != 0;
		if (i % 20 == 0) {      /* delete one now and then */
			size_t k = (size_t)rand() % n;

			if (t[k].live) {
				cr_assert_eq(sn_spd_del(spd, t[k].id), 0);
				t[k].live = false;
				deleted++;
			}
		}
	}
	cr_expect_gt(hits, PACKETS / 4, "only %u packets matched a policy", hits);
	cr_expect_gt(deleted, 100);
	sn_spd_free(spd);
}

/* Socket-tier policies: looked up before every configured one whatever the
 * priorities; exact 5-tuples (connected sockets) live in a hash that must
 * behave as the sorted scan would, through adds and deletes. */
Test(spd, socket_tier_first_and_exact_hash)
{
	struct sn_spd *spd = new_spd(4096);
	struct sn_pol_conf g = pol("0.0.0.0/0", "0.0.0.0/0", 0, 0, 0, SN_DIR_OUT, 0,
				   SN_POL_BYPASS);
	struct sn_pol_conf any = pol("0.0.0.0/0", "0.0.0.0/0", 6, 443, 0, SN_DIR_OUT, 1,
				     SN_POL_PROTECT);
	uint32_t gid = add(spd, g), anyid, ids[2000];
	char dst[32];

	any.socket_tier = true;
	anyid = add(spd, any);
	for (int i = 0; i < 2000; i++) {
		struct sn_pol_conf c;

		snprintf(dst, sizeof(dst), "192.0.2.%d", 1 + i % 250);
		c = pol("198.51.100.1", dst, 6, 443, (uint16_t)(1024 + i), SN_DIR_OUT, 0,
			SN_POL_PROTECT);
		c.socket_tier = true;
		ids[i] = add(spd, c);
		cr_assert_eq(sn_spd_add(spd, &c, NULL), -EEXIST, "duplicate exact %d", i);
	}
	cr_assert_eq(sn_spd_count(spd, SN_DIR_OUT), 2002);
	for (int i = 0; i < 2000; i++) {
		snprintf(dst, sizeof(dst), "192.0.2.%d", 1 + i % 250);
		cr_assert_eq(lookup_id(spd, SN_DIR_OUT, flow("198.51.100.1", dst, 6, 443,
							       (uint16_t)(1024 + i))), ids[i]);
	}
	for (int i = 0; i < 2000; i += 2)
		cr_assert_eq(sn_spd_del(spd, ids[i]), 0);
	for (int i = 0; i < 2000; i++) {
		snprintf(dst, sizeof(dst), "192.0.2.%d", 1 + i % 250);
		cr_assert_eq(lookup_id(spd, SN_DIR_OUT, flow("198.51.100.1", dst, 6, 443,
							       (uint16_t)(1024 + i))),
			     i % 2 ? ids[i] : anyid, "flow %d", i);
	}
	/* Not port 443: the configured bypass, though it has priority 0. */
	cr_assert_eq(lookup_id(spd, SN_DIR_OUT, flow("198.51.100.1", "192.0.2.1", 6, 80, 1)), gid);
	cr_assert_eq(sn_spd_count(spd, SN_DIR_OUT), 1002);
	sn_spd_free(spd);
}
