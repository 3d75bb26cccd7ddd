/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/sad.c: add, inbound lookup by (SPI, dst, proto), duplicates,
 * bounds, the install and destroy hooks (keys wiped), references that
 * turn stale, outbound template lookup, sequence number overflow,
 * lifetime sweep, and a differential test of the hash against a list.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "../../ipsec/sad.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct sn_ip ip4(const char *s)
{
	struct sn_ip ip = { .family = AF_INET };

	cr_assert_eq(inet_pton(AF_INET, s, ip.addr), 1);
	return ip;
}

static struct sn_ip ip6(const char *s)
{
	struct sn_ip ip = { .family = AF_INET6 };

	cr_assert_eq(inet_pton(AF_INET6, s, ip.addr), 1);
	return ip;
}

static struct sn_sa_conf gcm_conf(uint32_t spi, const char *dst)
{
	struct sn_sa_conf c = { 0 };

	c.src = ip4("10.0.0.1");
	c.dst = ip4(dst);
	c.proto = SN_IPPROTO_ESP;
	c.spi = spi;
	c.enc = SN_ENC_AES_GCM;
	c.enc_key_len = 20;
	memset(c.enc_key, 0xa5, 20);
	c.icv_len = 16;
	return c;
}

struct hooks_seen {
	int installs, destroys;
	int install_rc;
	bool key_present_at_destroy;
};

static int on_install(struct sn_sa *sa, void *ctx)
{
	struct hooks_seen *h = ctx;

	h->installs++;
	if (h->install_rc)
		return h->install_rc;
	sa->crypto = (struct sn_crypto *)malloc(8);     /* stands in for sn_crypto */
	return sa->crypto ? 0 : -ENOMEM;
}

static void on_destroy(struct sn_sa *sa, void *ctx)
{
	struct hooks_seen *h = ctx;

	h->destroys++;
	h->key_present_at_destroy = sa->conf.enc_key[0] == 0xa5;
	free(sa->crypto);
	sa->crypto = NULL;
}

static struct sn_sad *new_sad(uint32_t max, struct hooks_seen *h)
{
	struct sn_sad_hooks hooks = { on_install, on_destroy, h };
	struct sn_sad *sad;

	cr_assert_eq(sn_sad_create(&sad, max, h ? &hooks : NULL), 0);
	return sad;
}

Test(sad, create_bounds)
{
	struct sn_sad *sad;

	cr_expect_eq(sn_sad_create(&sad, 0, NULL), -EINVAL);
	cr_expect_eq(sn_sad_create(&sad, SN_SAD_MAX_SAS + 1, NULL), -EINVAL);
	cr_expect_eq(sn_sad_create(NULL, 4, NULL), -EINVAL);
	cr_assert_eq(sn_sad_create(&sad, 1, NULL), 0);
	sn_sad_free(sad);
	sn_sad_free(NULL);
}

Test(sad, lookup_key_is_spi_dst_proto)
{
	struct hooks_seen h = { 0 };
	struct sn_sad *sad = new_sad(8, &h);
	struct sn_sa_conf a = gcm_conf(0x1000, "10.0.0.2"), b = gcm_conf(0x1000, "10.0.0.3");
	struct sn_sa_conf ah = a, v6 = a;
	struct sn_sa *sa_a, *sa_b, *sa_ah, *sa_v6;
	struct sn_ip d2 = ip4("10.0.0.2"), d3 = ip4("10.0.0.3"), d9 = ip4("10.0.0.9");

	ah.proto = SN_IPPROTO_AH;
	ah.enc = SN_ENC_NONE;
	ah.enc_key_len = 0;
	ah.auth = SN_AUTH_HMAC_SHA1_96;
	ah.auth_key_len = 20;
	ah.icv_len = 12;
	v6.src = ip6("fd00::1");
	v6.dst = ip6("fd00::2");
	cr_assert_eq(sn_sad_add(sad, &a, 0, &sa_a), 0);
	cr_assert_eq(sn_sad_add(sad, &b, 0, &sa_b), 0, "same SPI, other destination");
	cr_assert_eq(sn_sad_add(sad, &ah, 0, &sa_ah), 0, "same SPI and dst, other protocol");
	cr_assert_eq(sn_sad_add(sad, &v6, 0, &sa_v6), 0);
	cr_expect_eq(sn_sad_add(sad, &a, 0, NULL), -EEXIST);
	cr_expect_eq(sn_sad_count(sad), 4);
	cr_expect_eq(h.installs, 4);
	cr_expect_eq(sn_sad_lookup(sad, 0x1000, &d2, SN_IPPROTO_ESP), sa_a);
	cr_expect_eq(sn_sad_lookup(sad, 0x1000, &d3, SN_IPPROTO_ESP), sa_b);
	cr_expect_eq(sn_sad_lookup(sad, 0x1000, &d2, SN_IPPROTO_AH), sa_ah);
	cr_expect_eq(sn_sad_lookup(sad, 0x1000, &v6.dst, SN_IPPROTO_ESP), sa_v6);
	cr_expect_null(sn_sad_lookup(sad, 0x1000, &d9, SN_IPPROTO_ESP));
	cr_expect_null(sn_sad_lookup(sad, 0x1001, &d2, SN_IPPROTO_ESP));
	cr_expect_null(sn_sad_lookup(sad, 0x1000, NULL, SN_IPPROTO_ESP));
	cr_expect_eq(sa_a->replay.window, SN_REPLAY_DEFAULT);
	cr_expect_eq(sa_a->life.lim.hard_add_s, 0, "a manual SA: no lifetime unless given");
	cr_expect_eq(sa_a->life.lim.hard_bytes, 0);
	sn_sad_free(sad);
	cr_expect_eq(h.destroys, 4, "free deletes every SA through the hook");
}

Test(sad, delete_runs_hook_and_wipes_keys)
{
	struct hooks_seen h = { 0 };
	struct sn_sad *sad = new_sad(4, &h);
	struct sn_sa_conf c = gcm_conf(0x2000, "10.0.0.2");
	struct sn_sa *sa;
	struct sn_sa_ref ref;

	cr_assert_eq(sn_sad_add(sad, &c, 0, &sa), 0);
	cr_assert_not_null(sa->crypto);
	ref = sn_sa_ref(sa);
	cr_expect_eq(sn_sad_get(sad, ref), sa);
	cr_expect_eq(sn_sad_del(sad, 0x2000, &c.dst, SN_IPPROTO_ESP), 0);
	cr_expect_eq(h.destroys, 1);
	cr_expect(h.key_present_at_destroy, "hook ran before the wipe");
	/* The slot is still memory of the SAD: everything secret is zero. */
	for (size_t i = 0; i < sizeof(sa->conf.enc_key); i++)
		cr_assert_eq(sa->conf.enc_key[i], 0, "key byte %zu", i);
	cr_expect_null(sa->crypto);
	cr_expect_null(sn_sad_get(sad, ref), "reference stale after delete");
	cr_expect_null(sn_sad_lookup(sad, 0x2000, &c.dst, SN_IPPROTO_ESP));
	cr_expect_eq(sn_sad_del(sad, 0x2000, &c.dst, SN_IPPROTO_ESP), -ENOENT);
	cr_expect_eq(sn_sad_del(NULL, 0x2000, &c.dst, SN_IPPROTO_ESP), -EINVAL);
	/* The slot comes back with a new generation. */
	cr_assert_eq(sn_sad_add(sad, &c, 0, &sa), 0);
	cr_expect_null(sn_sad_get(sad, ref));
	cr_expect_eq(sn_sad_get(sad, sn_sa_ref(sa)), sa);
	cr_expect_null(sn_sad_get(sad, (struct sn_sa_ref){ 0, 0 }));
	cr_expect_null(sn_sad_get(sad, (struct sn_sa_ref){ 99, 1 }));
	sn_sad_free(sad);
	cr_expect_eq(h.destroys, 2);
}

Test(sad, install_failure_unwinds)
{
	struct hooks_seen h = { .install_rc = -ENOTSUP };
	struct sn_sad *sad = new_sad(1, &h);
	struct sn_sa_conf c = gcm_conf(0x3000, "10.0.0.2");

	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), -ENOTSUP, "the hook's error comes up");
	cr_expect_eq(sn_sad_count(sad), 0);
	cr_expect_null(sn_sad_lookup(sad, 0x3000, &c.dst, SN_IPPROTO_ESP));
	cr_expect_eq(h.destroys, 0);
	h.install_rc = 0;
	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), 0, "the slot was given back");
	sn_sad_free(sad);
}

Test(sad, bounded)
{
	struct sn_sad *sad = new_sad(3, NULL);
	struct sn_sa_conf c = gcm_conf(0x4000, "10.0.0.2");

	for (uint32_t i = 0; i < 3; i++) {
		c.spi = 0x4000 + i;
		cr_assert_eq(sn_sad_add(sad, &c, 0, NULL), 0);
	}
	c.spi = 0x5000;
	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), -ENOSPC);
	cr_expect_eq(sn_sad_del(sad, 0x4001, &c.dst, SN_IPPROTO_ESP), 0);
	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), 0);
	sn_sad_free(sad);
}

/* Confs from the API are checked as strictly as the parser's. */
Test(sad, rejects_bad_confs)
{
	struct sn_sad *sad = new_sad(4, NULL);
	struct sn_sa_conf base = gcm_conf(0x6000, "10.0.0.2");
	struct sn_sa_conf c[17];
	size_t n = 0;

	for (size_t i = 0; i < N(c); i++)
		c[i] = base;
	c[n++].spi = 0;                                         /*  0 */
	c[n++].proto = 17;                                      /*  1 */
	c[n++].dst = ip6("fd00::2");                            /*  2 families differ */
	c[n++].dst.family = 0;                                  /*  3 */
	c[n++].mode = 7;                                        /*  4 */
	c[n++].flags = 0x80;                                    /*  5 */
	c[n++].replay_window = 16;                              /*  6 */
	c[n++].replay_window = SN_REPLAY_MAX + 64;              /*  7 */
	c[n++].enc_key_len = SN_IPSEC_MAX_KEY + 1;              /*  8 */
	c[n++].icv_len = 12;                                    /*  9 AEAD needs 16 */
	c[n++].auth = SN_AUTH_HMAC_SHA1_96;                     /* 10 AEAD with auth */
	c[n++].enc = SN_ENC_AES_CBC;                            /* 11 CBC without auth */
	c[n].proto = SN_IPPROTO_AH;                             /* 12 AH with enc */
	n++;
	c[n++].encap = true;                                    /* 13 encap without ports */
	c[n].sel.src = ip4("1.0.0.0");                          /* 14 sel families */
	c[n++].sel.dst = ip6("::");
	c[n].sel.src = c[n].sel.dst = ip4("1.0.0.0");           /* 15 sel plen */
	c[n++].sel.src_plen = 33;
	c[n++].enc = 99;                                        /* 16 */
	cr_assert_eq(n, N(c));
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(sn_sad_add(sad, &c[i], 0, NULL), -EINVAL, "case %zu", i);
	cr_expect_eq(sn_sad_add(NULL, &base, 0, NULL), -EINVAL);
	cr_expect_eq(sn_sad_add(sad, NULL, 0, NULL), -EINVAL);
	cr_expect_eq(sn_sad_count(sad), 0);
	sn_sad_free(sad);
}

Test(sad, template_lookup)
{
	struct sn_sad *sad = new_sad(16, NULL);
	struct sn_sa_conf t1 = gcm_conf(0x7001, "192.0.2.2"), t2 = t1, tr = gcm_conf(0x7003, "10.0.0.2");
	struct sn_sa *s1, *s2, *s3;
	struct sn_pol_tmpl tun = { .proto = SN_IPPROTO_ESP, .mode = SN_MODE_TUNNEL, .reqid = 5 };
	struct sn_pol_tmpl trn = { .proto = SN_IPPROTO_ESP, .mode = SN_MODE_TRANSPORT };
	struct sn_ip psrc = ip4("10.0.0.1"), pdst = ip4("10.0.0.2"), other = ip4("10.0.0.3");

	t1.mode = t2.mode = SN_MODE_TUNNEL;
	t1.src = t2.src = ip4("192.0.2.1");
	t1.reqid = t2.reqid = 5;
	t2.spi = 0x7002;
	tun.src = t1.src;
	tun.dst = t1.dst;
	cr_assert_eq(sn_sad_add(sad, &t1, 0, &s1), 0);
	cr_expect_eq(sn_sad_find_tmpl(sad, &tun, &psrc, &pdst), s1);
	cr_assert_eq(sn_sad_add(sad, &t2, 0, &s2), 0);
	cr_expect_eq(sn_sad_find_tmpl(sad, &tun, &psrc, &pdst), s2, "the newer SA (rekey)");
	tun.spi = 0x7001;
	cr_expect_eq(sn_sad_find_tmpl(sad, &tun, &psrc, &pdst), s1, "template names the SPI");
	tun.spi = 0;
	s2->life.hard = true;
	cr_expect_eq(sn_sad_find_tmpl(sad, &tun, &psrc, &pdst), s1, "hard-expired SAs skipped");
	tun.reqid = 6;
	cr_expect_null(sn_sad_find_tmpl(sad, &tun, &psrc, &pdst));
	tun.reqid = 0;
	tun.dst = ip4("192.0.2.9");
	cr_expect_null(sn_sad_find_tmpl(sad, &tun, &psrc, &pdst), "tunnel endpoints compared");
	cr_assert_eq(sn_sad_add(sad, &tr, 0, &s3), 0);
	cr_expect_eq(sn_sad_find_tmpl(sad, &trn, &psrc, &pdst), s3, "transport: packet's addresses");
	cr_expect_null(sn_sad_find_tmpl(sad, &trn, &psrc, &other));
	cr_expect_eq(sn_sad_find_tmpl(sad, &trn, NULL, NULL), s3);
	trn.proto = SN_IPPROTO_AH;
	cr_expect_null(sn_sad_find_tmpl(sad, &trn, &psrc, &pdst));
	sn_sad_free(sad);
}

Test(sad, outbound_sequence_never_cycles)
{
	struct sn_sad *sad = new_sad(2, NULL);
	struct sn_sa_conf c = gcm_conf(0x8000, "10.0.0.2"), e = c;
	struct sn_sa *sa, *esa;
	uint64_t seq;

	e.spi = 0x8001;
	e.flags = SN_SA_F_ESN;
	cr_assert_eq(sn_sad_add(sad, &c, 0, &sa), 0);
	cr_assert_eq(sn_sad_add(sad, &e, 0, &esa), 0);
	cr_expect_eq(sn_sa_next_seq(sa, &seq), 0);
	cr_expect_eq(seq, 1, "the first packet is 1");
	sa->seq_out = UINT32_MAX - 1;
	cr_expect_eq(sn_sa_next_seq(sa, &seq), 0);
	cr_expect_eq(seq, UINT32_MAX);
	cr_expect_eq(sn_sa_next_seq(sa, &seq), -EOVERFLOW);
	cr_expect_eq(sn_sa_next_seq(sa, &seq), -EOVERFLOW);
	/* The datapath counts the drop, not the SAD (once per packet). */
	cr_expect_eq(sa->ctr[SN_IC_DROP_SEQ_OVERFLOW], 0);
	esa->seq_out = UINT32_MAX;
	cr_expect_eq(sn_sa_next_seq(esa, &seq), 0, "ESN goes past 2^32");
	cr_expect_eq(seq, 1ull << 32);
	esa->seq_out = UINT64_MAX - 1;
	cr_expect_eq(sn_sa_next_seq(esa, &seq), 0);
	cr_expect_eq(sn_sa_next_seq(esa, &seq), -EOVERFLOW);
	cr_expect_eq(sn_sa_next_seq(NULL, &seq), -EINVAL);
	sn_sad_free(sad);
}

struct sweep_seen {
	int soft, hard;
};

static void on_sweep(struct sn_sa *sa, enum sn_life_state st, void *ctx)
{
	struct sweep_seen *s = ctx;

	if (st == SN_LIFE_SOFT)
		s->soft++;
	else if (st == SN_LIFE_HARD)
		s->hard++;
}

Test(sad, sweep_reports_soft_and_deletes_hard)
{
	struct hooks_seen h = { 0 };
	struct sn_sad *sad = new_sad(4, &h);
	struct sn_sa_conf c = gcm_conf(0x9000, "10.0.0.2");
	struct sweep_seen s = { 0 };

	c.life.soft_add_s = 10;
	c.life.hard_add_s = 20;
	cr_assert_eq(sn_sad_add(sad, &c, 100, NULL), 0);
	c.spi++;
	c.life.hard_add_s = 0;          /* soft only */
	cr_assert_eq(sn_sad_add(sad, &c, 100, NULL), 0);
	cr_expect_eq(sn_sad_sweep(sad, 105, on_sweep, &s), 0);
	cr_expect_eq(s.soft, 0);
	cr_expect_eq(sn_sad_sweep(sad, 110, on_sweep, &s), 0);
	cr_expect_eq(s.soft, 2);
	cr_expect_eq(sn_sad_sweep(sad, 115, on_sweep, &s), 0);
	cr_expect_eq(s.soft, 2, "soft once");
	cr_expect_eq(sn_sad_sweep(sad, 120, on_sweep, &s), 1);
	cr_expect_eq(s.hard, 1);
	cr_expect_eq(h.destroys, 1);
	cr_expect_eq(sn_sad_count(sad), 1);
	sn_sad_free(sad);
}

/* A manual SA with no limit (or `limit time-hard 0 byte-hard 0`) is never
 * swept, however long or however much it carries. */
Test(sad, sa_without_limits_is_never_swept)
{
	struct sn_sad *sad = new_sad(4, NULL);
	struct sn_sa_conf c = gcm_conf(0x9100, "10.0.0.2");
	struct sweep_seen s = { 0 };
	struct sn_sa *sa;

	cr_assert_eq(sn_sad_add(sad, &c, 100, &sa), 0);
	sn_life_used(&sa->life, 101, 60000000000ull);   /* past 55 GB */
	cr_expect_eq(sn_sad_sweep(sad, 100 + 10 * 3600, on_sweep, &s), 0);
	cr_expect_eq(s.soft + s.hard, 0);
	cr_expect_eq(sn_sad_count(sad), 1);
	sn_sad_free(sad);
}

static int count_and_stop(const struct sn_sa *sa, void *ctx)
{
	int *n = ctx;

	return ++*n == 3 ? 42 : 0;
}

Test(sad, foreach_lists_and_stops)
{
	struct sn_sad *sad = new_sad(8, NULL);
	struct sn_sa_conf c = gcm_conf(0xa000, "10.0.0.2");
	int n = 0;

	for (int i = 0; i < 5; i++) {
		c.spi = 0xa000 + (uint32_t)i;
		cr_assert_eq(sn_sad_add(sad, &c, 0, NULL), 0);
	}
	cr_expect_eq(sn_sad_foreach(sad, count_and_stop, &n), 42);
	cr_expect_eq(n, 3);
	cr_expect_eq(sn_sad_foreach(sad, NULL, &n), -EINVAL);
	cr_expect_not_null(sn_sad_counters(sad));
	sn_sad_free(sad);
}

/* The hash against a plain list: random (SPI, dst, proto) keys, many
 * sharing SPIs or destinations, through adds and deletes. */
Test(sad, differential_against_list)
{
	enum { MAX = 2000, KEYS = 3000 };
	static struct sn_sa_conf keys[KEYS];
	static bool present[KEYS];
	struct sn_sad *sad = new_sad(MAX, NULL);
	uint32_t n_in = 0;

	srand(7);
	for (int i = 0; i < KEYS; i++) {
		char dst[32];

		snprintf(dst, sizeof(dst), "10.0.%d.%d", rand() % 4, rand() % 8);
		keys[i] = gcm_conf(256 + (uint32_t)(rand() % 64), dst);
		if (rand() % 4 == 0) {
			keys[i].dst = ip6(rand() % 2 ? "fd00::1" : "fd00::2");
			keys[i].src = ip6("fd00::9");
		}
	}
	for (int round = 0; round < 20000; round++) {
		int k = rand() % KEYS;
		bool dup = false;

		for (int j = 0; j < KEYS && !dup; j++)
			dup = present[j] && keys[j].spi == keys[k].spi &&
			      keys[j].proto == keys[k].proto && sn_ip_equal(&keys[j].dst, &keys[k].dst);
		if (rand() % 2) {
			int rc = sn_sad_add(sad, &keys[k], 0, NULL);
			int want = dup ? -EEXIST : n_in == MAX ? -ENOSPC : 0;

			cr_assert_eq(rc, want, "round %d add key %d: %d, wanted %d", round, k, rc, want);
			if (rc == 0) {
				present[k] = true;
				n_in++;
			}
		} else {
			int rc = sn_sad_del(sad, keys[k].spi, &keys[k].dst, keys[k].proto);

			cr_assert_eq(rc, dup ? 0 : -ENOENT, "round %d del key %d", round, k);
			for (int j = 0; j < KEYS && rc == 0; j++)
				if (present[j] && keys[j].spi == keys[k].spi &&
				    sn_ip_equal(&keys[j].dst, &keys[k].dst)) {
					present[j] = false;
					n_in--;
					break;
				}
		}
		cr_assert_eq(sn_sad_count(sad), n_in);
	}
	for (int j = 0; j < KEYS; j++) {
		struct sn_sa *sa = sn_sad_lookup(sad, keys[j].spi, &keys[j].dst, keys[j].proto);
		bool any = false;

		for (int i = 0; i < KEYS; i++)
			any |= present[i] && keys[i].spi == keys[j].spi &&
			       sn_ip_equal(&keys[i].dst, &keys[j].dst);
		cr_assert_eq(sa != NULL, any, "key %d", j);
	}
	sn_sad_free(sad);
}

/* replay-window 0 (SN_SA_F_NO_REPLAY): anti-replay off for that SA only.
 * A restarted peer's sequence 1 after 2000 is accepted, and so is a copy;
 * the top still follows the highest number, for listings. Not with ESN. */
Test(sad, replay_window_zero_turns_anti_replay_off)
{
	struct sn_sad *sad = new_sad(4, NULL);
	struct sn_sa_conf c = gcm_conf(0x9200, "10.0.0.2");
	struct sn_sa *off, *on;
	uint64_t seq;

	c.flags = SN_SA_F_NO_REPLAY;
	cr_assert_eq(sn_sad_add(sad, &c, 0, &off), 0);
	c.flags = 0;
	c.spi++;
	cr_assert_eq(sn_sad_add(sad, &c, 0, &on), 0);
	cr_expect(off->replay.off);
	cr_expect_not(on->replay.off);
	for (int i = 0; i < 2; i++) {
		struct sn_sa *sa = i ? on : off;

		cr_assert_eq(sn_replay_check(&sa->replay, 2000, false, &seq), 0);
		cr_assert_eq(sn_replay_update(&sa->replay, seq), 0);
	}
	cr_expect_eq(sn_replay_check(&off->replay, 1, false, &seq), 0, "restarted peer");
	cr_expect_eq(seq, 1);
	cr_expect_eq(sn_replay_update(&off->replay, seq), 0);
	cr_expect_eq(sn_replay_check(&off->replay, 2000, false, &seq), 0, "a copy: no check");
	cr_expect_eq(sn_replay_update(&off->replay, 2000), 0);
	cr_expect_eq(sn_replay_check(&off->replay, 0, false, &seq), 0);
	cr_expect_eq(off->replay.top, 2000);
	cr_expect_eq(sn_replay_check(&on->replay, 1, false, &seq), -ERANGE, "window on");
	cr_expect_eq(sn_replay_check(&on->replay, 2000, false, &seq), -EALREADY);

	c.spi++;
	c.flags = SN_SA_F_NO_REPLAY | SN_SA_F_ESN;
	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), -EINVAL, "ESN infers from the window");
	c.flags = SN_SA_F_NO_REPLAY;
	c.replay_window = 64;
	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), -EINVAL, "off and a window");
	sn_sad_free(sad);
}

/* SPI 0 is never an SA's; 1-255 are reserved (RFC 4303 2.1) but the
 * kernel installs them, and so does sealnet. */
Test(sad, reserved_spis_are_installed)
{
	struct sn_sad *sad = new_sad(4, NULL);
	struct sn_sa_conf c = gcm_conf(1, "10.0.0.2");
	struct sn_ip d = ip4("10.0.0.2");

	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), 0);
	c.spi = 255;
	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), 0);
	cr_expect_not_null(sn_sad_lookup(sad, 1, &d, SN_IPPROTO_ESP));
	c.spi = 0;
	cr_expect_eq(sn_sad_add(sad, &c, 0, NULL), -EINVAL);
	sn_sad_free(sad);
}
