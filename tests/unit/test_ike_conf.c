/* SPDX-License-Identifier: BSD-3-Clause */
/* ike_conf.c: a full good file, a numbered table of bad ones, proposals, lookups. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../ipsec/ike/ike_conf.h"
#include "../../ipsec/ike/ike_wire.h"

static const char good[] =
	"# a gateway and a default\n"
	"connections {\n"
	"  gw {\n"
	"    remote_addrs = 192.0.2.1, 2001:db8::1\n"
	"    local_addrs = 192.0.2.2\n"
	"    proposals = aes128gcm16-prfsha256-x25519, default\n"
	"    version = 2\n"
	"    rekey_time = 2h\n"
	"    dpd_delay = 30s\n"
	"    fragmentation = force\n"
	"    send_cert = always\n"
	"    unique = replace\n"
	"    local { auth = psk\n id = \"gw.example\"\n }\n"
	"    remote-2 {\n auth = rsa/pss\n id = peer@example\n certs = a.pem, b.pem\n }\n"
	"    children {\n"
	"      net {\n"
	"        local_ts = 10.0.0.0/24[tcp/80]\n"
	"        remote_ts = 10.1.0.1-10.1.0.9, dynamic[udp/1000-2000]\n"
	"        esp_proposals = aes256gcm16-esn, aes128-sha256-ecp256\n"
	"        mode = transport\n"
	"        start_action = trap\n"
	"        dpd_action = restart\n"
	"        life_bytes = 2M\n"
	"      }\n"
	"    }\n"
	"  }\n"
	"  any {\n    remote_addrs = %any\n  }\n"
	"}\n"
	"secrets {\n"
	"  ike-1 { id = gw.example\n id-2 = peer@example\n secret = 0x00ff10 }\n"
	"  ike-any { secret = \"plain text\" }\n"
	"  eap-u { id = user\n secret = 0sYWJjZA== }\n"
	"  private-k { file = key.pem }\n"
	"}\n"
	"authorities { ca { cacert = ca.pem\n crl_uris = file:///x.crl, y.crl }\n }\n"
	"sealnet { cookie_threshold = 3\n retransmit_timeout = 1.5\n port_nat_t = 14500 }\n";

static struct ike_conf *parse(const char *t, char *err, int *rc)
{
	struct ike_conf *c = ike_conf_new();

	cr_assert(c);
	*rc = ike_conf_parse(c, t, strlen(t), "t.conf", err, 256);
	return c;
}

Test(ike_conf, good_file)
{
	char err[256] = "";
	int rc;
	struct ike_conf *c = parse(good, err, &rc);

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(c->n_conns, 2);
	const struct ike_conf_conn *gw = ike_conf_conn_by_name(c, "gw");
	cr_assert(gw);
	cr_assert_eq(gw->n_remote_addrs, 2);
	cr_assert_not(gw->remote_any);
	cr_assert_eq(gw->remote_addrs[1].family, AF_INET6);
	cr_assert_eq(gw->props.n, 3);
	cr_assert_eq(gw->props.p[0].encr[0].id, IKE_ENCR_AES_GCM_16);
	cr_assert_eq(gw->rekey_time, 7200);
	cr_assert_eq(gw->over_time, 720);
	cr_assert_eq(gw->dpd_delay, 30);
	cr_assert_eq(gw->fragmentation, IKE_FRAG_FORCE);
	cr_assert_eq(gw->send_cert, IKE_SEND_CERT_ALWAYS);
	cr_assert_eq(gw->local[0].auth, IKE_CAUTH_PSK);
	cr_assert_str_eq(gw->local[0].id, "gw.example");
	cr_assert_eq(gw->remote[0].sig_flags, IKE_CSIG_RSA_PSS);
	cr_assert_eq(gw->remote[0].n_certs, 2);
	const struct ike_conf_child *ch = &gw->children[0];
	cr_assert_eq(gw->n_children, 1);
	cr_assert_eq(ch->local_ts[0].proto, 6);
	cr_assert_eq(ch->local_ts[0].port_lo, 80);
	cr_assert_eq(ch->local_ts[0].end[3], 255);
	cr_assert_eq(ch->remote_ts[0].end[3], 9);
	cr_assert(ch->remote_ts[1].dynamic);
	cr_assert_eq(ch->remote_ts[1].port_hi, 2000);
	cr_assert_eq(ch->props.p[0].esn[0], IKE_ESN_YES);
	cr_assert_eq(ch->mode, SN_MODE_TRANSPORT);
	cr_assert_eq(ch->start_action, IKE_START_TRAP);
	cr_assert_eq(ch->dpd_action, IKE_CLOSE_START);
	cr_assert_eq(ch->life_bytes, 2u << 20);
	cr_assert_eq(ch->rekey_time, 3600);
	cr_assert_eq(ch->life_time, 3960);
	cr_assert_eq(ch->rand_time, 360);
	cr_assert(c->conns[1].remote_any);
	cr_assert_eq(c->conns[1].rekey_time, 14400);
	cr_assert_eq(c->n_secrets, 4);
	cr_assert_eq(c->secrets[0].len, 3);
	cr_assert_eq(c->secrets[0].n_ids, 2);
	cr_assert_eq(c->secrets[2].len, 4);
	cr_assert_eq(memcmp(c->secrets[2].secret, "abcd", 4), 0);
	cr_assert_str_eq(c->secrets[3].file, "key.pem");
	cr_assert_str_eq(c->authorities[0].crls[0], "/x.crl");
	cr_assert_eq(c->settings.cookie_threshold, 3);
	cr_assert_eq(c->settings.retransmit_timeout_ms, 1500);
	cr_assert_eq(c->settings.port_natt, 14500);

	struct ike_conf_secret const *s;
	s = ike_conf_find_secret(c, IKE_SECRET_IKE, "gw.example", "peer@example");
	cr_assert_eq(s, &c->secrets[0]);
	s = ike_conf_find_secret(c, IKE_SECRET_IKE, "other", "nobody");
	cr_assert_eq(s, &c->secrets[1]);
	struct sn_ip r = { AF_INET, { 192, 0, 2, 1 } }, o = { AF_INET, { 198, 51, 100, 1 } };
	cr_assert_eq(ike_conf_find_conn(c, NULL, &r), gw);
	cr_assert_eq(ike_conf_find_conn(c, NULL, &o), &c->conns[1]);
	ike_conf_free(c);
}

static const struct { const char *text, *why; } bad[] = {
	/*  0 */ { "connections {\n c {\n  bogus = 1\n }\n}\n", "3: unknown key 'bogus' in connection" },
	/*  1 */ { "connections {\n c {\n  remote_addrs = 1.2.3\n }\n}\n", "3: 'remote_addrs': bad address" },
	/*  2 */ { "connections { c { children { x {\nlocal_ts = 10.0.0.0/33\n}}}}\n", "2: 'local_ts': bad prefix" },
	/*  3 */ { "connections { c { children { x {\nlocal_ts = 10.0.0.0/8[tcp/90-80]\n}}}}\n", "2: 'local_ts': port range 90-80" },
	/*  4 */ { "connections {\n c {\n proposals = aes128-foo-x25519\n}}\n", "3: 'proposals': unknown proposal token 'foo'" },
	/*  5 */ { "connections {\n c {\n proposals = aes128gcm16-sha256-x25519\n}}\n", "AEAD cipher with an integrity" },
	/*  6 */ { "connections {\n c {\n rekey_time = 4x\n}}\n", "3: 'rekey_time': bad suffix" },
	/*  7 */ { "connections {\n c {\n", "2: unterminated section" },
	/*  8 */ { "}\n", "1: '}' without a matching" },
	/*  9 */ { "secrets {\n ike-1 {\n secret = 0x0g\n}}\n", "3: bad hex" },
	/* 10 */ { "secrets {\n ike-1 {\n secret = 0s!!!!\n}}\n", "3: bad base64" },
	/* 11 */ { "connections {\n c {\n version = 1\n}}\n", "3: version 1: only IKEv2" },
	/* 12 */ { "connections {\n c {\n proposals = aes128gcm16-x25519\n}}\n", "lacks a PRF" },
	/* 13 */ { "connections {\n c {\n proposals = aes128-prfsha256-x25519\n}}\n", "lacks an integrity" },
	/* 14 */ { "foo {\n}\n", "1: unknown section 'foo'" },
	/* 15 */ { "connections { c { children { x {\nmode = tunel\n}}}}\n", "2: 'mode': unknown value 'tunel'" },
};

Test(ike_conf, bad_table)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		int rc;
		struct ike_conf *c = parse(bad[i].text, err, &rc);

		cr_expect_eq(rc, -EINVAL, "case %zu", i);
		cr_expect(strstr(err, bad[i].why), "case %zu: '%s' lacks '%s'", i, err, bad[i].why);
		ike_conf_free(c);
	}
}

static char *repeat(const char *head, const char *fmt, int n, const char *tail)
{
	static char buf[65536];
	size_t o = (size_t)snprintf(buf, sizeof(buf), "%s", head);

	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, fmt, i);
	snprintf(buf + o, sizeof(buf) - o, "%s", tail);
	return buf;
}

Test(ike_conf, limits)
{
	char err[256] = "", big[700];
	int rc;
	struct ike_conf *c;

	c = parse(repeat("connections {\n", "c%d {\n}\n", IKE_CONF_MAX_CONNS + 1, "}\n"), err, &rc);
	cr_expect(rc == -EINVAL && strstr(err, "too many connections (limit 64)"), "%s", err);
	ike_conf_free(c);
	c = parse(repeat("connections { c { children {\n", "x%d {\n}\n", 9, "}}}\n"), err, &rc);
	cr_expect(rc == -EINVAL && strstr(err, "too many children"), "%s", err);
	ike_conf_free(c);
	c = parse(repeat("secrets {\n", "ike-%d {\n}\n", 65, "}\n"), err, &rc);
	cr_expect(rc == -EINVAL && strstr(err, "too many secrets (limit 64)"), "%s", err);
	ike_conf_free(c);
	c = parse(repeat("connections { c {\nproposals = default", ", aes128-sha1-modp2048%.0d", 8, "\n}}\n"), err, &rc);
	cr_expect(rc == -EINVAL && strstr(err, "too many"), "%s", err);
	ike_conf_free(c);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	c = parse(repeat("secrets { ike-1 {\nsecret = ", "%.0d", 0, big), err, &rc);
	cr_expect(rc == -EINVAL && strstr(err, "secret too long"), "%s", err);
	ike_conf_free(c);
}

Test(ike_conf, proposals)
{
	struct ike_conf_prop p;
	char err[128];

	cr_assert_eq(ike_conf_prop_parse("aes128-sha256-ecp256", IKE_PROTO_IKE, &p, err, sizeof(err)), 0);
	cr_assert_eq(p.prf[0], IKE_PRF_HMAC_SHA2_256);   /* follows the integrity */
	cr_assert_eq(ike_conf_prop_parse("aes256gcm16-aes128gcm16-prfsha384-ecp384-x25519",
					 IKE_PROTO_IKE, &p, err, sizeof(err)), 0);
	cr_assert_eq(p.n_encr, 2);
	cr_assert_eq(p.n_dh, 2);
	cr_assert_eq(ike_conf_prop_parse("chacha20poly1305-noesn", IKE_PROTO_ESP, &p, err, sizeof(err)), 0);
	cr_assert_eq(ike_conf_prop_parse("sha256", IKE_PROTO_AH, &p, err, sizeof(err)), 0);
	cr_assert_eq(ike_conf_prop_parse("null-sha1", IKE_PROTO_ESP, &p, err, sizeof(err)), 0);
	cr_assert_eq(ike_conf_prop_parse("aes128-", IKE_PROTO_ESP, &p, err, sizeof(err)), -EINVAL);
	cr_assert_eq(ike_conf_prop_parse("", IKE_PROTO_ESP, &p, err, sizeof(err)), -EINVAL);
	cr_assert_eq(ike_conf_prop_parse("default", IKE_PROTO_IKE, &p, err, sizeof(err)), 0);
	cr_assert_eq(p.dh[0], IKE_DH_CURVE25519);
}

Test(ike_conf, load_missing)
{
	struct ike_conf *c = ike_conf_new();
	char err[256];

	cr_assert_eq(ike_conf_load(c, "/nonexistent/x.conf", err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/x.conf: No such file"));
	ike_conf_free(c);
}
