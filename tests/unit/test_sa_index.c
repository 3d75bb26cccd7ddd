/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound SA choice is indexed, not a scan (STYLE.md habit 16):
 *
 *   1. sn_sad_find_tmpl against a naive linear reference (habit 11) over
 *      thousands of random SAs and templates, with deletions, re-adds and
 *      hard-expired SAs in between;
 *   2. the socket policies' choice (sn_sockpol_output: a UDP server
 *      answering many peers, its one-entry cache missing every time)
 *      against a naive reference over every SA;
 *   3. what a datagram costs with the SA found through a subnet policy
 *      (which cannot cache it) next to a host-pair policy (which does),
 *      and a socket's choice among many peers: printed, not asserted
 *      (these machines are shared; the figures go in the report).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"
#include "harness.h"
#include "ipsec_dp.h"
#include "sockpol.h"
#include "sn_ipsec_api.h"

#define NADDR 48                /* address pool of the random SAs */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state % n);
}

static struct sn_ip pool_ip(unsigned i)
{
	struct sn_ip ip = { 0 };

	if (i % 4 == 3) {
		ip.family = AF_INET6;
		ip.addr[0] = 0xfd;
		ip.addr[15] = (uint8_t)i;
	} else {
		ip.family = AF_INET;
		ip.addr[0] = 10;
		ip.addr[2] = (uint8_t)(i % 4);
		ip.addr[3] = (uint8_t)i;
	}
	return ip;
}

/* An address of the same family as a (i picks which). */
static struct sn_ip pool_same(const struct sn_ip *a, unsigned i)
{
	struct sn_ip ip;

	do
		ip = pool_ip(i++ % NADDR);
	while (ip.family != a->family);
	return ip;
}

static struct sn_sa_conf rand_conf(uint32_t spi)
{
	struct sn_sa_conf c = { 0 };

	c.src = pool_ip(rnd(NADDR));
	c.dst = pool_same(&c.src, rnd(NADDR));
	c.spi = spi;
	c.mode = rnd(3) ? SN_MODE_TRANSPORT : SN_MODE_TUNNEL;
	c.reqid = rnd(4) ? 0 : 1 + rnd(6);
	if (rnd(5)) {
		c.proto = SN_IPPROTO_ESP;
		c.enc = SN_ENC_AES_GCM;
		c.enc_key_len = 20;
		c.icv_len = 16;
	} else {
		c.proto = SN_IPPROTO_AH;
		c.auth = SN_AUTH_HMAC_SHA1_96;
		c.auth_key_len = 20;
		c.icv_len = 12;
	}
	return c;
}

/* ---- 1. The template lookup against a linear scan -------------------------- */

struct naive {
	const struct sn_pol_tmpl *t;
	const struct sn_ip *src, *dst;
	const struct sn_sa *best;
};

static bool same_ip(const struct sn_ip *a, const struct sn_ip *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

/* sad.h's contract, written out: the newest SA, not hard-expired, of the
 * template's proto and mode, its reqid and spi where given, its endpoints
 * where given, else the packet's. */
static int naive_one(const struct sn_sa *sa, void *ctx)
{
	struct naive *nv = ctx;
	const struct sn_pol_tmpl *t = nv->t;
	const struct sn_ip *ws = t->src.family ? &t->src : nv->src;
	const struct sn_ip *wd = t->dst.family ? &t->dst : nv->dst;

	if (sa->life.hard || sa->conf.proto != t->proto || sa->conf.mode != t->mode)
		return 0;
	if ((t->reqid && sa->conf.reqid != t->reqid) || (t->spi && sa->conf.spi != t->spi))
		return 0;
	if ((ws && !same_ip(&sa->conf.src, ws)) || (wd && !same_ip(&sa->conf.dst, wd)))
		return 0;
	if (!nv->best || sa->serial > nv->best->serial)
		nv->best = sa;
	return 0;
}

static void rand_tmpl(struct sn_pol_tmpl *t, struct sn_ip *src, struct sn_ip *dst,
		      const struct sn_sa *const *live, unsigned nlive)
{
	/* Half the time the addresses of an SA that exists, so lookups hit. */
	const struct sn_sa *like = nlive && rnd(2) ? live[rnd(nlive)] : NULL;

	memset(t, 0, sizeof(*t));
	t->proto = like ? like->conf.proto : (rnd(5) ? SN_IPPROTO_ESP : SN_IPPROTO_AH);
	t->mode = like ? like->conf.mode : (rnd(3) ? SN_MODE_TRANSPORT : SN_MODE_TUNNEL);
	*src = like ? like->conf.src : pool_ip(rnd(NADDR));
	*dst = like ? like->conf.dst : pool_same(src, rnd(NADDR));
	if (t->mode == SN_MODE_TUNNEL && rnd(4)) {
		t->src = *src;
		t->dst = *dst;
		*src = pool_ip(rnd(NADDR));     /* the inner packet's: not compared */
		*dst = pool_same(src, rnd(NADDR));
	}
	if (!rnd(5))
		t->reqid = like && like->conf.reqid && rnd(2) ? like->conf.reqid : 1 + rnd(6);
	if (like && !rnd(8))
		t->spi = like->conf.spi;
}

static void compare_lookups(struct sn_sad *sad, const struct sn_sa *const *live, unsigned nlive,
			    int rounds, int *hits)
{
	for (int i = 0; i < rounds; i++) {
		struct sn_pol_tmpl t;
		struct sn_ip src, dst;
		struct naive nv = { &t, &src, &dst, NULL };
		struct sn_sa *got;

		rand_tmpl(&t, &src, &dst, live, nlive);
		got = sn_sad_find_tmpl(sad, &t, &src, &dst);
		cr_assert_eq(sn_sad_foreach(sad, naive_one, &nv), 0);
		cr_assert_eq(got, nv.best, "round %d: index gives %p (spi 0x%x), the scan %p (spi 0x%x)",
			     i, (void *)got, got ? got->conf.spi : 0, (void *)nv.best,
			     nv.best ? nv.best->conf.spi : 0);
		*hits += got != NULL;
	}
}

Test(sa_index, find_tmpl_matches_a_linear_scan)
{
	enum { MAX = 4096, N = 3000 };
	static struct sn_sa *live[MAX];
	struct sn_sad *sad;
	unsigned nlive = 0;
	uint32_t spi = 0x1000;
	int hits = 0;

	cr_assert_eq(sn_sad_create(&sad, MAX, NULL), 0);
	for (int i = 0; i < N; i++) {
		struct sn_sa_conf c = rand_conf(spi++);

		cr_assert_eq(sn_sad_add(sad, &c, 0, &live[nlive]), 0);
		nlive++;
	}
	compare_lookups(sad, (const struct sn_sa *const *)live, nlive, 20000, &hits);
	/* Churn: deletions (the chains must unlink), re-adds (newest wins),
	 * hard-expired SAs (skipped). */
	for (int k = 0; k < 1500; k++) {
		unsigned j = rnd(nlive);

		if (rnd(3) == 0) {
			live[j]->life.hard = true;
			continue;
		}
		sn_sad_remove(sad, live[j]);
		live[j] = live[--nlive];
		if (rnd(2)) {
			struct sn_sa_conf c = rand_conf(spi++);

			cr_assert_eq(sn_sad_add(sad, &c, 0, &live[nlive]), 0);
			nlive++;
		}
	}
	compare_lookups(sad, (const struct sn_sa *const *)live, nlive, 20000, &hits);
	cr_expect_gt(hits, 4000, "only %d lookups found an SA: the test does not test", hits);
	sn_sad_free(sad);
}

/* ---- 2. A socket's choice among many peers ----------------------------------- */

TestSuite(sa_sock, .init = h_stack_start, .fini = h_stack_stop_checked, .timeout = 120);

static void apply(const char *line)
{
	char err[SN_IPSEC_ERR_MAX] = "";

	cr_assert_eq(sn_ipsec_apply_line(line, err, sizeof(err)), 0, "%s: %s", line, err);
}

static const char *const alg_words[] = {
	"aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128",
	"enc 'cbc(aes)' 0x0102030405060708090a0b0c0d0e0f10 auth 'hmac(sha1)' "
	"0x0102030405060708090a0b0c0d0e0f1011121314",
	"aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324 128",
};

static void peer_str(unsigned i, char *out)
{
	sprintf(out, "10.%u.%u.%u", 1 + i / 65536 % 200, i / 256 % 256, i % 256);
}

/* SAs between us (10.0.0.1, or another local address 10.0.0.9) and peer
 * i, both ways, with random algorithms; some peers have none. */
static void install_peer(unsigned i, uint32_t *spi)
{
	char l[512], p[32];
	int n = (int)rnd(4);

	peer_str(i, p);
	for (int k = 0; k < n; k++) {
		const char *us = rnd(4) ? "10.0.0.1" : "10.0.0.9";

		snprintf(l, sizeof(l), "state add src %s dst %s proto esp spi 0x%x mode transport %s",
			 us, p, (*spi)++, alg_words[rnd(3)]);
		apply(l);
		snprintf(l, sizeof(l), "state add src %s dst %s proto esp spi 0x%x mode transport %s",
			 p, us, (*spi)++, alg_words[rnd(3)]);
		apply(l);
	}
}

/* The contract, written out over every SA: from the packet's source to the
 * peer, usable, the most preferred proposal, the newest among equals. */
struct sock_naive {
	const struct sn_sec_conf *conf;
	struct sn_ip src, dst;
	const struct sn_sa *best;
	int rank;
};

static int sock_naive_one(const struct sn_sa *sa, void *ctx)
{
	struct sock_naive *nv = ctx;
	int r;

	if (!same_ip(&sa->conf.src, &nv->src) || !same_ip(&sa->conf.dst, &nv->dst) ||
	    !sa->crypto || sa->life.hard)
		return 0;
	r = sn_sec_match(nv->conf, sa);
	if (r < 0)
		return 0;
	if (!nv->best || r < nv->rank || (r == nv->rank && sa->serial > nv->best->serial)) {
		nv->best = sa;
		nv->rank = r;
	}
	return 0;
}

static struct sn_sec_conf *two_proposals(void)
{
	struct sn_sec_conf *c = sn_sec_conf_new();

	cr_assert_not_null(c);
	c->ipsec_flags = SN_SEC_SKIP_FILTERS;   /* no SPD entries: the choice alone */
	c->n_props = 2;
	c->props[0] = (struct sn_proposal){ SN_IPPROTO_ESP, SN_ENC_AES_GCM, 16, SN_AUTH_NONE, 0, 0 };
	c->props[1] = (struct sn_proposal){ SN_IPPROTO_ESP, SN_ENC_AES_CBC, 16,
					    SN_AUTH_HMAC_SHA1_96, 0, 0 };
	return c;
}

static struct sn_flow flow_to(unsigned peer)
{
	struct sn_flow f = { .family = AF_INET, .proto = IP_PROTO_UDP, .sport = 5000,
			     .dport = 6000 };
	char p[32];

	peer_str(peer, p);
	inet_pton(AF_INET, H_IP4_US, f.src);
	inet_pton(AF_INET, p, f.dst);
	return f;
}

static struct sn_sockpol *server_policy(struct sn_sec_conf *conf)
{
	struct sn_sock_flow sf = { .family = AF_INET, .proto = IP_PROTO_UDP, .lport = 5000,
				   .remote_any = true };
	struct sn_sockpol *sp;

	sf.local.family = AF_INET;      /* bound to the wildcard address */
	cr_assert_eq(sn_sockpol_create(&sp, conf, &sf, NULL, NULL), 0);
	return sp;
}

Test(sa_sock, socket_choice_matches_a_linear_scan)
{
	enum { PEERS = 600 };
	struct sn_sec_conf *conf;
	struct sn_sockpol *sp;
	uint32_t spi = 0x10000;
	int found = 0;

	cr_assert_eq(sn_ipsec_start(), 0);
	conf = two_proposals();
	sp = server_policy(conf);
	for (unsigned i = 0; i < PEERS; i++)
		install_peer(i, &spi);
	for (int round = 0; round < 4000; round++) {
		unsigned peer = rnd(PEERS);
		struct sn_flow f = flow_to(peer);
		struct sock_naive nv = { conf, { AF_INET, { 0 } }, { AF_INET, { 0 } }, NULL, 0 };
		struct sn_sa *got = NULL;
		enum sn_sp_verdict v = sn_sockpol_output(sp, &f, &got);

		memcpy(nv.src.addr, f.src, 4);
		memcpy(nv.dst.addr, f.dst, 4);
		cr_assert_eq(sn_sad_foreach(sn_ipsec.sad, sock_naive_one, &nv), 0);
		cr_assert_eq(v == SN_SP_PROTECT ? got : NULL, nv.best,
			     "round %d, peer %u: chose spi 0x%x, the scan 0x%x", round, peer,
			     v == SN_SP_PROTECT && got ? got->conf.spi : 0,
			     nv.best ? nv.best->conf.spi : 0);
		found += nv.best != NULL;
		/* Now and then a newer SA for the peer: it must win its rank. */
		if (round % 97 == 0)
			install_peer(peer, &spi);
	}
	cr_expect_gt(found, 1000, "only %d rounds had an SA: the test does not test", found);
	sn_sockpol_free(sp);
	sn_sec_conf_put(conf);
	sn_ipsec_stop();
}

/* ---- 3. What it costs --------------------------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Other peers' SAs, so a scan has something to scan. */
static void load_sas(unsigned n, uint32_t *spi)
{
	char l[512], p[32];

	for (unsigned i = 0; i < n; i++) {
		peer_str(i, p);
		snprintf(l, sizeof(l), "state add src 10.0.0.1 dst %s proto esp spi 0x%x "
			 "mode transport %s", p, (*spi)++, alg_words[0]);
		apply(l);
	}
}

/* ns per datagram sent to the peer under policy pol: the best of five
 * rounds (the machine is shared). */
static double per_datagram(const char *pol)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(6000) };
	enum { N = 4000, ROUNDS = 5 };
	int u = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	uint64_t out0 = h_stat("ipsec.out_packets");
	double best = 1e12;

	cr_assert_geq(u, 0);
	inet_pton(AF_INET, H_IP4_PEER, &to.sin_addr);
	apply(pol);
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns(), t;

		for (int i = 0; i < N; i++) {
			cr_assert_eq(sn_sendto(u, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
			if (i % 16 == 15)
				h_poll(1);
		}
		t = (now_ns() - t0) / N;
		best = t < best ? t : best;
	}
	h_poll(2);
	cr_expect_eq(h_stat("ipsec.out_packets") - out0, (uint64_t)N * ROUNDS,
		     "not every datagram was protected");
	sn_close(u);
	return best;
}

/* ns per template lookup without a reqid (what a subnet policy does for
 * every packet), the best of five rounds. */
static double per_lookup(void)
{
	struct sn_pol_tmpl t = { .proto = SN_IPPROTO_ESP, .mode = SN_MODE_TRANSPORT };
	struct sn_ip src = { AF_INET, { 10, 0, 0, 1 } }, dst = { AF_INET, { 10, 0, 0, 2 } };
	enum { N = 20000 };
	double best = 1e12;

	for (int r = 0; r < 5; r++) {
		double t0 = now_ns(), dt;

		for (int i = 0; i < N; i++)
			cr_assert_not_null(sn_sad_find_tmpl(sn_ipsec.sad, &t, &src, &dst));
		dt = (now_ns() - t0) / N;
		best = dt < best ? dt : best;
	}
	return best;
}

Test(sa_sock, cost_per_datagram_and_per_choice)
{
	enum { LOAD = 4000, PEERS = 256, CHOICES = 50000 };
	const char *sa_out = "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1001 mode "
		"transport aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128";
	struct sn_sec_conf *conf;
	struct sn_sockpol *sp;
	uint32_t spi = 0x100000;
	double pair, subnet, lookup, choice, t0;

	h_learn_peer4();
	cr_assert_eq(sn_ipsec_start(), 0);
	apply(sa_out);
	load_sas(LOAD, &spi);
	pair = per_datagram("policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dport 6000 "
			    "dir out tmpl proto esp mode transport");
	sn_ipsec_stop();
	cr_assert_eq(sn_ipsec_start(), 0);
	apply(sa_out);
	load_sas(LOAD, &spi);
	subnet = per_datagram("policy add src 10.0.0.0/24 dst 10.0.0.0/24 proto udp dport 6000 "
			      "dir out tmpl proto esp mode transport");
	lookup = per_lookup();
	/* A server answering PEERS peers in turn: its cache misses every time. */
	conf = two_proposals();
	sp = server_policy(conf);
	t0 = now_ns();
	for (int i = 0; i < CHOICES; i++) {
		struct sn_flow f = flow_to((unsigned)i % PEERS);
		struct sn_sa *sa;

		cr_assert_eq(sn_sockpol_output(sp, &f, &sa), SN_SP_PROTECT);
	}
	choice = (now_ns() - t0) / CHOICES;
	fprintf(stderr, "[sa_index] %u SAs: %.0f ns/datagram with a host-pair policy (cached SA), "
		"%.0f ns/datagram with a subnet policy (no cache), %.0f ns per template lookup "
		"without reqid, %.0f ns per socket SA choice (%u peers, cache missing)\n",
		LOAD + 1, pair, subnet, lookup, choice, PEERS);
	sn_sockpol_free(sp);
	sn_sec_conf_put(conf);
	sn_ipsec_stop();
}
