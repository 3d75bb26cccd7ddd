/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/xfrm_parse.c: `ip xfrm state add` / `policy add` lines. Numbered
 * tables of lines that must be accepted (with the fields they set) and
 * lines that must be rejected (with part of the reason), then the
 * selector, limit and key details, then the file loader.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "../../ipsec/xfrm_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define K16 "0x000102030405060708090a0b0c0d0e0f"
#define K20 "0x000102030405060708090a0b0c0d0e0f10111213"
#define K32 "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K36 K32 "20212223"
#define ID4 "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 "
#define ID6 "state add src fd00::1 dst fd00::2 proto esp spi 4096 "
#define GCM "aead 'rfc4106(gcm(aes))' " K20 " 128"

/* ---- Accepted states ------------------------------------------------------------ */

struct sa_case {
	const char *line;
	uint8_t proto;
	uint32_t spi;
	enum sn_sa_mode mode;
	enum sn_enc_alg enc;
	uint8_t enc_key_len;
	enum sn_auth_alg auth;
	uint8_t auth_key_len, icv_len;
	uint32_t flags, window, reqid;
};

static const struct sa_case sa_ok[] = {
	/*  0 */ { ID4 GCM, 50, 0x1000, SN_MODE_TRANSPORT, SN_ENC_AES_GCM, 20, SN_AUTH_NONE, 0, 16, 0, 0, 0 },
	/*  1 */ { "ip xfrm " ID4 GCM " mode tunnel reqid 7", 50, 0x1000, SN_MODE_TUNNEL, SN_ENC_AES_GCM, 20, 0, 0, 16, 0, 0, 7 },
	/*  2 */ { ID6 "aead \"rfc4106(gcm(aes))\" " K36 " 128 replay-window 4096 flag esn", 50, 4096, 0, SN_ENC_AES_GCM, 36, 0, 0, 16, SN_SA_F_ESN, 4096, 0 },
	/*  3 */ { ID4 "aead rfc7539esp(chacha20,poly1305) " K36 " 128", 50, 0x1000, 0, SN_ENC_CHACHA20_POLY1305, 36, 0, 0, 16, 0, 0, 0 },
	/*  4 */ { ID4 "enc 'cbc(aes)' " K16 " auth 'hmac(sha1)' " K20, 50, 0x1000, 0, SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA1_96, 20, 12, 0, 0, 0 },
	/*  5 */ { ID4 "enc 'cbc(aes)' " K32 " auth-trunc 'hmac(sha256)' " K32 " 128", 50, 0x1000, 0, SN_ENC_AES_CBC, 32, SN_AUTH_HMAC_SHA256_128, 32, 16, 0, 0, 0 },
	/*  6 */ { ID4 "enc 'cbc(aes)' " K32 " auth 'hmac(sha256)' " K32, 50, 0x1000, 0, SN_ENC_AES_CBC, 32, SN_AUTH_HMAC_SHA256_128, 32, 12, 0, 0, 0 },
	/*  7 */ { ID4 "enc 'ecb(cipher_null)' \"\" auth 'hmac(sha1)' " K20, 50, 0x1000, 0, SN_ENC_NULL, 0, SN_AUTH_HMAC_SHA1_96, 20, 12, 0, 0, 0 },
	/*  8 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 300 auth-trunc 'hmac(sha256)' " K32 " 128", 51, 300, 0, 0, 0, SN_AUTH_HMAC_SHA256_128, 32, 16, 0, 0, 0 },
	/*  9 */ { "state add proto ah spi 0xFFFFFFFF auth sha1 " K20 " dst 10.0.0.2 src 10.0.0.1", 51, 0xffffffff, 0, 0, 0, SN_AUTH_HMAC_SHA1_96, 20, 12, 0, 0, 0 },
	/* 10 */ { ID4 "enc aes " K16 " auth-trunc hmac(sha1) " K20 " 96 replay-window 32", 50, 0x1000, 0, SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA1_96, 20, 12, 0, 32, 0 },
	/* 11 */ { "  ip xfrm " ID4 GCM " replay-window 8192   # trailing comment", 50, 0x1000, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, 0, 8192, 0 },
	/* 12 */ { ID4 GCM " replay-window 100", 50, 0x1000, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, 0, 100, 0 },
	/* 13 */ { ID4 "enc cipher_null '' auth-trunc 'hmac(sha256)' " K32 " 96", 50, 0x1000, 0, SN_ENC_NULL, 0, SN_AUTH_HMAC_SHA256_128, 32, 12, 0, 0, 0 },
	/* 14 */ { ID4 "enc 'cbc(aes)' 0123456789abcdef auth 'hmac(sha1)' " K20, 50, 0x1000, 0, SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA1_96, 20, 12, 0, 0, 0 },
	/* 15 */ { ID4 GCM " flag esn", 50, 0x1000, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, SN_SA_F_ESN, 0, 0 },
	/* 16 */ { ID4 GCM " reqid 4294967295 mode transport", 50, 0x1000, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, 0, 0, 0xffffffff },
	/* 17 */ { "state add src 10.0.0.1/32 dst 10.0.0.2 proto esp spi 256 " GCM, 50, 256, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, 0, 0, 0 },
	/* 18 */ { ID4 GCM " replay-window 0", 50, 0x1000, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, SN_SA_F_NO_REPLAY, 0, 0 },
	/* 19 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 1 " GCM, 50, 1, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, 0, 0, 0 },
	/* 20 */ { ID4 GCM " flag af-unspec", 50, 0x1000, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, 0, 0, 0 },
	/* 21 */ { ID4 GCM " flag esn af-unspec", 50, 0x1000, 0, SN_ENC_AES_GCM, 20, 0, 0, 16, SN_SA_F_ESN, 0, 0 },
	/* 22 */ { ID4 "enc 'cbc(aes)' " K16 " auth sha256 " K32, 50, 0x1000, 0, SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA256_128, 32, 12, 0, 0, 0 },
};

Test(xfrm_state, accepted_table)
{
	for (size_t i = 0; i < N(sa_ok); i++) {
		const struct sa_case *c = &sa_ok[i];
		struct sn_xfrm_entry e;
		char err[256];
		int rc = sn_xfrm_parse_line(c->line, &e, err, sizeof(err));

		cr_assert_eq(rc, 0, "case %zu: rc %d: %s", i, rc, err);
		cr_assert_eq(e.kind, SN_XFRM_SA, "case %zu", i);
		cr_expect_eq(e.sa.proto, c->proto, "case %zu proto", i);
		cr_expect_eq(e.sa.spi, c->spi, "case %zu spi", i);
		cr_expect_eq(e.sa.mode, c->mode, "case %zu mode", i);
		cr_expect_eq(e.sa.enc, c->enc, "case %zu enc", i);
		cr_expect_eq(e.sa.enc_key_len, c->enc_key_len, "case %zu enc key", i);
		cr_expect_eq(e.sa.auth, c->auth, "case %zu auth", i);
		cr_expect_eq(e.sa.auth_key_len, c->auth_key_len, "case %zu auth key", i);
		cr_expect_eq(e.sa.icv_len, c->icv_len, "case %zu icv", i);
		cr_expect_eq(e.sa.flags, c->flags, "case %zu flags", i);
		cr_expect_eq(e.sa.replay_window, c->window, "case %zu window", i);
		cr_expect_eq(e.sa.reqid, c->reqid, "case %zu reqid", i);
		cr_expect_eq(e.sa.src.family, e.sa.dst.family, "case %zu family", i);
	}
}

/* ---- Rejected lines ------------------------------------------------------------------ */

struct bad_case {
	const char *line;
	const char *why;                /* part of the message */
};

static const struct bad_case bad[] = {
	/*  0 */ { ID4 "", "missing aead or enc" },
	/*  1 */ { ID4 GCM " flag align4", "flag align4: not supported (esn, af-unspec)" },
	/*  2 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0 " GCM, "spi 0: SPI 0 is reserved" },
	/*  3 */ { ID4 "aead 'gcm(aes)' " K20 " 128", "unknown algorithm 'gcm(aes)'" },
	/*  4 */ { ID4 "aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e 128", "key is 15 bytes, rfc4106(gcm(aes)) needs 20 or 36" },
	/*  5 */ { "state add src 10.0.0.1 proto esp spi 4096 " GCM, "missing dst" },
	/*  6 */ { "state add dst 10.0.0.1 proto esp spi 4096 " GCM, "missing src" },
	/*  7 */ { "state add src 10.0.0.1 dst 10.0.0.2 spi 4096 " GCM, "missing proto" },
	/*  8 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto esp " GCM, "missing spi" },
	/*  9 */ { "state add src 10.0.0.1 dst fd00::2 proto esp spi 4096 " GCM, "src and dst families differ" },
	/* 10 */ { ID4 GCM " flag esn replay-window 0", "esn needs replay-window > 0" },
	/* 11 */ { ID4 GCM " replay-window -1", "replay-window -1: not a number" },
	/* 12 */ { ID4 GCM " replay-window 16", "below the minimum of 32" },
	/* 13 */ { ID4 GCM " replay-window 8193", "above the maximum of 8192" },
	/* 14 */ { ID4 GCM " spi 5000", "spi: given twice" },
	/* 15 */ { ID4 "aead 'rfc4106(gcm(aes))' " K20 " 96", "ICV 96 bits: only 128" },
	/* 16 */ { ID4 "aead 'rfc4106(gcm(aes))' 0x0001020304050607080910111213141516171819z 128", "odd number of hex digits" },
	/* 17 */ { ID4 "aead 'rfc4106(gcm(aes))' 0x00010203040506070809101112131415161718zz 128", "not a hex digit" },
	/* 18 */ { ID4 "aead 'rfc4106(gcm(aes))' 0x 128", "0x with no hex digits" },
	/* 19 */ { ID4 "enc 'cbc(aes)' " K16, "confidentiality-only ESP" },
	/* 20 */ { ID4 "auth 'hmac(sha1)' " K20, "missing aead or enc" },
	/* 21 */ { ID4 GCM " enc 'cbc(aes)' " K16, "aead: cannot be combined" },
	/* 22 */ { ID4 "enc 'cbc(aes)' " K20 " auth 'hmac(sha1)' " K20, "key is 20 bytes, cbc(aes) needs 16 or 32" },
	/* 23 */ { ID4 "enc 'cbc(aes)' " K16 " auth 'hmac(sha1)' " K16, "key is 16 bytes, hmac(sha1) needs 20" },
	/* 24 */ { ID4 "enc 'cbc(aes)' " K16 " auth-trunc 'hmac(sha1)' " K20 " 128", "only 96 is supported" },
	/* 25 */ { ID4 "enc 'cbc(aes)' " K16 " auth-trunc 'hmac(sha256)' " K32 " 256", "only 96 or 128" },
	/* 26 */ { ID4 "enc 'rfc4106(gcm(aes))' " K20, "an aead algorithm, not enc" },
	/* 27 */ { ID4 "enc 'cbc(des3_ede)' " K16, "unknown algorithm 'cbc(des3_ede)'" },
	/* 28 */ { ID4 "enc 'ecb(cipher_null)' " K16 " auth sha1 " K20, "needs 0" },
	/* 29 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 4096 " GCM, "takes auth or auth-trunc only" },
	/* 30 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 4096", "missing auth" },
	/* 31 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto comp spi 4096", "proto comp: not supported" },
	/* 32 */ { ID4 GCM " mode beet", "mode beet: not supported" },
	/* 33 */ { ID4 GCM " spi", "" },
	/* 34 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 4096 " GCM " spi 0x1zz", "" },
	/* 35 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100000000 " GCM, "must be 0-4294967295" },
	/* 36 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0400 " GCM, "leading zero" },
	/* 37 */ { "state add src 10.0.0.256 dst 10.0.0.2 proto esp spi 4096 " GCM, "src 10.0.0.256: not an IPv4 or IPv6 address" },
	/* 38 */ { "state add src 10.0.0.1/24 dst 10.0.0.2 proto esp spi 4096 " GCM, "takes no prefix" },
	/* 39 */ { ID4 GCM " encap espinudp 4500 4500 0.0.0.0 encap espinudp 1 1 0.0.0.0", "encap: given twice" },
	/* 40 */ { ID4 GCM " encap espintcp 4500 4500 0.0.0.0", "encap espintcp: not supported" },
	/* 41 */ { ID4 GCM " encap espinudp 0 4500 0.0.0.0", "must be 1-65535" },
	/* 42 */ { ID4 GCM " encap espinudp 4500 4500", "needs an address" },
	/* 43 */ { "state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 4096 auth sha1 " K20 " encap espinudp 4500 4500 0.0.0.0", "UDP encapsulation is for ESP only" },
	/* 44 */ { ID4 GCM " flag noecn", "flag noecn: not supported" },
	/* 45 */ { ID4 GCM " flag bogus", "flag bogus: not a state flag" },
	/* 46 */ { ID4 GCM " mark 7", "mark: not supported by sealnet" },
	/* 47 */ { ID4 GCM " frobnicate", "unknown keyword 'frobnicate'" },
	/* 48 */ { ID4 GCM " limit time-soft 100 time-hard 50", "limit time-soft 100: above time-hard 50" },
	/* 49 */ { ID4 GCM " limit time-hard 5 limit time-hard 6", "limit time-hard: given twice" },
	/* 50 */ { ID4 GCM " limit bananas 5", "limit bananas: not a limit" },
	/* 51 */ { ID4 GCM " limit", "limit: needs a limit name" },
	/* 52 */ { ID4 GCM " limit byte-soft -1", "not a number" },
	/* 53 */ { ID4 GCM " sel src 10.1.0.0/16 dst fd00::/8", "sel: src and dst families differ" },
	/* 54 */ { ID4 GCM " sel src 10.1.0.0/33", "prefix length must be 0-32" },
	/* 55 */ { ID4 GCM " sel src 10.1.0.0/16 proto icmp sport 5", "sport/dport need proto tcp" },
	/* 56 */ { ID4 GCM " sel src fd00::/8", "family differs from the SA's in transport mode" },
	/* 57 */ { ID4 GCM " sel src 10.1.0.0/16 dev eth0", "dev: selecting by dev is not supported" },
	/* 58 */ { ID4 GCM " sel proto tcp", "sel: missing src and dst" },
	/* 59 */ { ID4 "aead 'rfc4106(gcm(aes)) " K20 " 128", "unterminated single quote" },
	/* 60 */ { ID4 "aead \"rfc4106(gcm(aes)) " K20 " 128", "unterminated double quote" },
	/* 61 */ { ID4 GCM " \\", "backslash at the end" },
	/* 62 */ { "ip route add 10.0.0.0/8 dev eth0", "only 'ip xfrm' lines" },
	/* 63 */ { "state delete src 10.0.0.1 dst 10.0.0.2 proto esp", "needs dst, proto and spi" },
	/* 64 */ { "monitor", "needs a command" },
	/* 65 */ { "route add", "route: expected state or policy" },
	/* 66 */ { "ip xfrm", "needs state or policy" },
	/* 67 */ { ID4 "aead 'rfc4106(gcm(aes))'", "needs a key" },
	/* 68 */ { ID4 "aead 'rfc4106(gcm(aes))' " K20, "needs an ICV length" },
	/* 69 */ { ID4 "aead 'rfc4106(gcm(aes))' " K20 " 128x", "ICV 128x: not a number" },
	/* 70 */ { ID4 "enc 'cbc(aes)' 0x" "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
		   "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f00 auth sha1 " K20, "65 bytes, at most 64" },
	/* 71 */ { "policy add src 10.0.0.0/8 dst 10.1.0.0/16", "missing dir" },
	/* 72 */ { "policy add dir out", "policy: missing src and dst" },
	/* 73 */ { "policy add src 10.0.0.0/8 dir sideways", "dir sideways: in, out or fwd" },
	/* 74 */ { "policy add src 10.0.0.0/8 dir out action block tmpl proto esp", "a discard policy takes no tmpl" },
	/* 75 */ { "policy add src 10.0.0.0/8 dir out tmpl proto esp tmpl proto ah", "tmpl: given twice (SA bundles" },
	/* 76 */ { "policy add src 10.0.0.0/8 dir out tmpl reqid 1", "tmpl: missing proto" },
	/* 77 */ { "policy add src 10.0.0.0/8 dir out tmpl proto esp mode tunnel", "mode tunnel needs src and dst" },
	/* 78 */ { "policy add src 10.0.0.0/8 dir out tmpl src 1.1.1.1 dst fd00::1 proto esp mode tunnel", "tmpl: src and dst families differ" },
	/* 79 */ { "policy add src 10.0.0.0/8 dir out tmpl proto esp level maybe", "level maybe" },
	/* 80 */ { "policy add src 10.0.0.0/8 dir out action deny", "action deny: allow or block" },
	/* 81 */ { "policy add src 10.0.0.0/8 dir out priority -3", "not a number" },
	/* 82 */ { "policy add src 10.0.0.0/8 dir out index 8", "index: not supported" },
	/* 83 */ { "policy add src 10.0.0.0/8 dir out ptype sub", "ptype sub: only main" },
	/* 84 */ { "policy add src 10.0.0.0/8 dir out dir in", "dir: given twice" },
	/* 85 */ { "policy add src 10.0.0.0/8 src 10.0.0.0/8 dir out", "src: given twice" },
	/* 86 */ { "policy add src 10.0.0.0/8 proto tcp sport 70000 dir out", "must be 0-65535" },
	/* 87 */ { "policy add src 10.0.0.0/8 proto nosuch dir out", "proto nosuch: not a protocol" },
	/* 88 */ { "policy add src 10.0.0.0/8 proto 256 dir out", "proto 256" },
	/* 89 */ { "policy add src 10.0.0.0/8 proto icmp type 8 dir out", "type: selecting by type" },
	/* 90 */ { "policy add src 10.0.0.0/8 dir out tmpl proto esp spi 0x100000000", "must be 0-4294967295" },
	/* 91 */ { "policy add src 10.0.0.0/8 dir out bogus", "unknown keyword 'bogus'" },
	/* 92 */ { "policy add src ::/0 dst 10.0.0.0/8 dir out", "policy: src and dst families differ" },
	/* 93 */ { "policy add src fd00::/129 dir out", "prefix length must be 0-128" },
};

Test(xfrm_parse, rejected_table)
{
	for (size_t i = 0; i < N(bad); i++) {
		struct sn_xfrm_entry e;
		char err[256] = "untouched";
		int rc = sn_xfrm_parse_line(bad[i].line, &e, err, sizeof(err));
		static const struct sn_xfrm_entry zero;

		cr_expect_eq(rc, -EINVAL, "case %zu: accepted: %s", i, bad[i].line);
		cr_expect(strstr(err, bad[i].why) != NULL, "case %zu: message '%s', wanted '%s'",
			  i, err, bad[i].why);
		cr_expect(err[0] != '\0', "case %zu: empty message", i);
		cr_expect(memcmp(&e, &zero, sizeof(e)) == 0, "case %zu: entry not wiped", i);
	}
}

/* Error messages never carry key material. */
Test(xfrm_parse, errors_do_not_echo_keys)
{
	static const char *const lines[] = {
		ID4 "aead 'rfc4106(gcm(aes))' 0xdeadbeefdeadbeefdeadbeefdeadbeefcafeba 128",
		ID4 "aead 'rfc4106(gcm(aes))' 0xdeadbeefdeadbeefdeadbeefdeadbeefcafebabeq 128",
		ID4 "enc 'cbc(aes)' deadbeefsecret auth sha1 " K20,
	};

	for (size_t i = 0; i < N(lines); i++) {
		struct sn_xfrm_entry e;
		char err[256];

		cr_assert_eq(sn_xfrm_parse_line(lines[i], &e, err, sizeof(err)), -EINVAL);
		cr_expect(strstr(err, "deadbeef") == NULL, "case %zu leaks: %s", i, err);
	}
}

/* ---- Details --------------------------------------------------------------------------- */

static struct sn_xfrm_entry parse_ok(const char *line)
{
	struct sn_xfrm_entry e;
	char err[256];
	int rc = sn_xfrm_parse_line(line, &e, err, sizeof(err));

	cr_assert_eq(rc, 0, "'%s': %s", line, err);
	return e;
}

Test(xfrm_parse, blank_and_comment_lines)
{
	static const char *const lines[] = { "", "   ", "\t\r\n", "# a comment", "  # x 'unterminated" };

	for (size_t i = 0; i < N(lines); i++)
		cr_expect_eq(parse_ok(lines[i]).kind, SN_XFRM_EMPTY, "case %zu", i);
}

Test(xfrm_parse, keys_are_bytes)
{
	struct sn_xfrm_entry e = parse_ok(ID4 "aead 'rfc4106(gcm(aes))' 0xA0b1C2d3E4f5061728394a5b6c7d8e9fF0E1D2C3 128");
	static const uint8_t want[20] = { 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0x06, 0x17, 0x28, 0x39,
					  0x4a, 0x5b, 0x6c, 0x7d, 0x8e, 0x9f, 0xf0, 0xe1, 0xd2, 0xc3 };

	cr_assert_eq(e.sa.enc_key_len, 20);
	cr_expect(memcmp(e.sa.enc_key, want, 20) == 0);
	/* A literal key is its own bytes, as in iproute2. */
	e = parse_ok(ID4 "enc 'cbc(aes)' \"0123456789abcdef\" auth 'hmac(sha1)' " K20);
	cr_expect(memcmp(e.sa.enc_key, "0123456789abcdef", 16) == 0);
	cr_expect_eq(e.sa.auth_key[19], 0x13);
}

Test(xfrm_parse, shell_quoting)
{
	struct sn_xfrm_entry e = parse_ok(ID4 "aead rfc4106'(gcm(aes))' " K20 " 1\"2\"8 replay-window \\6\\4");

	cr_expect_eq(e.sa.enc, SN_ENC_AES_GCM);
	cr_expect_eq(e.sa.icv_len, 16);
	cr_expect_eq(e.sa.replay_window, 64);
	e = parse_ok(ID4 "enc 'cbc(aes)' \"a\\\"b\\\\c 'x' y#zzzz\" auth sha1 " K20);
	cr_expect_eq(e.sa.enc_key_len, 16);
	cr_expect(memcmp(e.sa.enc_key, "a\"b\\c 'x' y#zzzz", 16) == 0);
}

Test(xfrm_state, addresses_and_encap)
{
	struct sn_xfrm_entry e = parse_ok(
		"state add src 192.0.2.1 dst 198.51.100.7 proto esp spi 0x00000201 mode tunnel "
		GCM " encap espinudp 4500 4501 0.0.0.0");
	uint8_t src[4] = { 192, 0, 2, 1 }, dst[4] = { 198, 51, 100, 7 };
	uint8_t v6[16] = { 0xfd, 0, [15] = 2 };

	cr_assert_eq(e.sa.src.family, AF_INET);
	cr_expect(memcmp(e.sa.src.addr, src, 4) == 0);
	cr_expect(memcmp(e.sa.dst.addr, dst, 4) == 0);
	cr_expect_eq(e.sa.spi, 0x201);
	cr_expect(e.sa.encap);
	cr_expect_eq(e.sa.encap_sport, 4500);
	cr_expect_eq(e.sa.encap_dport, 4501);
	cr_expect_eq(e.sa.sel.src.family, 0, "no sel: no inner selector");
	e = parse_ok(ID6 GCM);
	cr_assert_eq(e.sa.dst.family, AF_INET6);
	cr_expect(memcmp(e.sa.dst.addr, v6, 16) == 0);
	cr_expect_eq(e.sa.life.hard_add_s, 0, "no limit: zero, defaults come at install");
}

Test(xfrm_state, selector_and_limits)
{
	struct sn_xfrm_entry e = parse_ok(
		ID4 GCM " mode tunnel sel src 10.1.2.3/16 dst 10.9.0.0/24 proto tcp sport 80 dport 0x1bb "
		"limit time-soft 50 time-hard 60 limit time-use-soft 5 time-use-hard 6 "
		"limit byte-soft 1000 byte-hard 2000 packet-soft 10 limit packet-hard 20");
	const struct sn_selector *s = &e.sa.sel;
	const struct sn_lifetime *l = &e.sa.life;
	uint8_t net[4] = { 10, 1, 0, 0 };

	cr_expect_eq(s->src.family, AF_INET);
	cr_expect(memcmp(s->src.addr, net, 4) == 0, "host bits cleared");
	cr_expect_eq(s->src_plen, 16);
	cr_expect_eq(s->dst_plen, 24);
	cr_expect_eq(s->proto, 6);
	cr_expect_eq(s->sport, 80);
	cr_expect_eq(s->dport, 443);
	cr_expect_eq(l->soft_add_s, 50);
	cr_expect_eq(l->hard_add_s, 60);
	cr_expect_eq(l->soft_use_s, 5);
	cr_expect_eq(l->hard_use_s, 6);
	cr_expect_eq(l->soft_bytes, 1000);
	cr_expect_eq(l->hard_bytes, 2000);
	cr_expect_eq(l->soft_packets, 10);
	cr_expect_eq(l->hard_packets, 20);
}

Test(xfrm_state, tunnel_inner_family_may_differ)
{
	struct sn_xfrm_entry e = parse_ok(ID4 GCM " mode tunnel sel src fd00:1::/64 dst ::/0");

	cr_expect_eq(e.sa.sel.src.family, AF_INET6);
	cr_expect_eq(e.sa.sel.dst_plen, 0);
	e = parse_ok(ID4 GCM " mode tunnel sel dst fd00:1::5");
	cr_expect_eq(e.sa.sel.src.family, AF_INET6, "missing side takes the other's family");
	cr_expect_eq(e.sa.sel.src_plen, 0);
	cr_expect_eq(e.sa.sel.dst_plen, 128);
}

/* ---- Policies ---------------------------------------------------------------------------- */

Test(xfrm_policy, actions_and_templates)
{
	struct sn_xfrm_entry e = parse_ok(
		"ip xfrm policy add src 10.0.0.1/32 dst 10.0.0.2 proto udp dport 4789 dir out "
		"priority 100 tmpl src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x300 reqid 9 "
		"mode tunnel level use");
	const struct sn_pol_conf *p = &e.pol;

	cr_assert_eq(e.kind, SN_XFRM_POLICY);
	cr_expect_eq(p->action, SN_POL_PROTECT);
	cr_expect_eq(p->dir, SN_DIR_OUT);
	cr_expect_eq(p->priority, 100);
	cr_expect_eq(p->sel.proto, 17);
	cr_expect_eq(p->sel.dport, 4789);
	cr_expect_eq(p->sel.src_plen, 32);
	cr_expect_eq(p->sel.dst_plen, 32);
	cr_expect_eq(p->tmpl.proto, SN_IPPROTO_ESP);
	cr_expect_eq(p->tmpl.mode, SN_MODE_TUNNEL);
	cr_expect_eq(p->tmpl.spi, 0x300);
	cr_expect_eq(p->tmpl.reqid, 9);
	cr_expect(p->tmpl.optional);
	cr_expect_eq(p->tmpl.dst.family, AF_INET);

	e = parse_ok("policy add dst fd00::/8 dir in");
	cr_expect_eq(e.pol.action, SN_POL_BYPASS);
	cr_expect_eq(e.pol.dir, SN_DIR_IN);
	cr_expect_eq(e.pol.sel.src.family, AF_INET6);
	cr_expect_eq(e.pol.sel.src_plen, 0);
	cr_expect_eq(e.pol.sel.dst_plen, 8);

	e = parse_ok("policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir fwd action block");
	cr_expect_eq(e.pol.action, SN_POL_DISCARD);
	cr_expect_eq(e.pol.dir, SN_DIR_FWD);

	/* transport template: no endpoints; level required; tmpl then more words */
	e = parse_ok("policy add src 10.0.0.1 dst 10.0.0.2 dir out tmpl proto ah reqid 3 "
		     "mode transport priority 7 ptype main");
	cr_expect_eq(e.pol.tmpl.proto, SN_IPPROTO_AH);
	cr_expect_eq(e.pol.tmpl.src.family, 0);
	cr_expect(!e.pol.tmpl.optional);
	cr_expect_eq(e.pol.priority, 7);
	cr_expect_eq(e.pol.action, SN_POL_PROTECT);

	e = parse_ok("policy add src 10.0.0.1 dst 10.0.0.2 proto 47 dir out action allow");
	cr_expect_eq(e.pol.sel.proto, 47);
	cr_expect_eq(e.pol.action, SN_POL_BYPASS);
}

/* ---- Files ---------------------------------------------------------------------------------- */

struct load_ctx {
	int n_sa, n_pol;
	unsigned lines[8];
	int fail_at;                    /* entry index to refuse, -1 none */
	const char *why;                /* the reason given for it, or NULL */
};

static int on_entry(const struct sn_xfrm_entry *e, unsigned line, void *ctx, char *why,
		    size_t whylen)
{
	struct load_ctx *c = ctx;
	int i = c->n_sa + c->n_pol;

	if (i == c->fail_at && c->why)
		snprintf(why, whylen, "%s", c->why);
	if (i == c->fail_at)
		return -EEXIST;
	if (i < 8)
		c->lines[i] = line;
	if (e->kind == SN_XFRM_SA)
		c->n_sa++;
	else
		c->n_pol++;
	return 0;
}

static FILE *file_of(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	cr_assert_not_null(f);
	return f;
}

Test(xfrm_file, loads_every_line_with_numbers)
{
	const char *text =
		"# sealnet test config\n"
		"\n"
		"ip xfrm " ID4 GCM "\n"
		"policy add src 10.0.0.1 dst 10.0.0.2 dir out tmpl proto esp\n"
		"   # indented comment\n"
		ID6 GCM;                /* no newline at the end */
	struct load_ctx c = { .fail_at = -1 };
	char err[256];
	FILE *f = file_of(text);
	int rc = sn_xfrm_parse_file(f, NULL, on_entry, &c, err, sizeof(err));

	fclose(f);
	cr_assert_eq(rc, 3, "rc %d: %s", rc, err);
	cr_expect_eq(c.n_sa, 2);
	cr_expect_eq(c.n_pol, 1);
	cr_expect_eq(c.lines[0], 3);
	cr_expect_eq(c.lines[1], 4);
	cr_expect_eq(c.lines[2], 6);
}

Test(xfrm_file, bad_line_stops_with_its_number)
{
	const char *text = "# one\n" ID4 GCM "\n\n\n\n\n" "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0 " GCM "\n" ID6 GCM "\n";
	struct load_ctx c = { .fail_at = -1 };
	char err[256];
	FILE *f = file_of(text);
	int rc = sn_xfrm_parse_file(f, NULL, on_entry, &c, err, sizeof(err));

	fclose(f);
	cr_expect_eq(rc, -EINVAL);
	cr_expect_str_eq(err, "line 7: spi 0: SPI 0 is reserved (RFC 4303 2.1)");
	cr_expect_eq(c.n_sa, 1);
}

Test(xfrm_file, callback_error_and_long_line)
{
	static char text[SN_XFRM_LINE_MAX + 200];
	struct load_ctx c = { .fail_at = 1 };
	char err[256];
	FILE *f = file_of(ID4 GCM "\n" ID6 GCM "\n");
	int rc = sn_xfrm_parse_file(f, NULL, on_entry, &c, err, sizeof(err));

	fclose(f);
	cr_expect_eq(rc, -EEXIST);
	cr_expect_str_eq(err, "line 2: File exists", "no reason given: the errno's text");

	/* The callback's reason, with the file's name: one line, the same
	 * shape as a parse error (it was "not installed: File exists"). */
	f = file_of(ID4 GCM "\n" ID6 GCM "\n");
	c = (struct load_ctx){ .fail_at = 1, .why = "state add: an SA with spi 0x1000 exists" };
	rc = sn_xfrm_parse_file(f, "sas.conf", on_entry, &c, err, sizeof(err));
	fclose(f);
	cr_expect_eq(rc, -EEXIST);
	cr_expect_str_eq(err, "sas.conf:2: state add: an SA with spi 0x1000 exists");
	f = file_of("\n" ID4 "spi 9");
	rc = sn_xfrm_parse_file(f, "sas.conf", on_entry, &c, err, sizeof(err));
	fclose(f);
	cr_expect_eq(rc, -EINVAL);
	cr_expect_str_eq(err, "sas.conf:2: spi: given twice");

	memset(text, 'a', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "# ", 2);
	f = file_of(text);
	c = (struct load_ctx){ .fail_at = -1 };
	rc = sn_xfrm_parse_file(f, NULL, on_entry, &c, err, sizeof(err));
	fclose(f);
	cr_expect_eq(rc, -EINVAL);
	cr_expect(strstr(err, "line 1: longer than") != NULL, "%s", err);
}

Test(xfrm_parse, null_arguments)
{
	struct sn_xfrm_entry e;
	char err[64];

	cr_expect_eq(sn_xfrm_parse_line(NULL, &e, err, sizeof(err)), -EINVAL);
	cr_expect_eq(sn_xfrm_parse_line("state add", NULL, err, sizeof(err)), -EINVAL);
	cr_expect_eq(sn_xfrm_parse_line("state add", &e, NULL, 0), -EINVAL);
	cr_expect_eq(sn_xfrm_parse_file(NULL, NULL, on_entry, NULL, err, sizeof(err)), -EINVAL);
	cr_expect_eq(sn_xfrm_parse_file(stdin, NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	cr_expect_eq(sn_xfrm_parse_file(stdin, NULL, on_entry, NULL, NULL, 0), -EINVAL);
}

Test(xfrm_parse, too_many_words_and_truncated_error_buffer)
{
	static char line[SN_XFRM_LINE_MAX];
	struct sn_xfrm_entry e;
	char err[8];
	size_t n = 0;

	for (int i = 0; i <= SN_XFRM_WORDS_MAX; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "x ");
	cr_expect_eq(sn_xfrm_parse_line(line, &e, err, sizeof(err)), -EINVAL);
	cr_expect_eq(strlen(err), sizeof(err) - 1, "message truncated, terminated");
}

/* sealnet's own peer-id keyword: the identity a manual SA's key holder
 * is taken to be (the socket security API reports it). */
Test(xfrm_state, peer_id)
{
	static const char *const bad[] = {
		ID4 GCM " peer-id",
		ID4 GCM " peer-id ''",
		ID4 GCM " peer-id a peer-id b",
		ID4 GCM " peer-id 'two words'",
		ID4 GCM " peer-id 'tab\there'",
	};
	struct sn_xfrm_entry e;
	char err[256], line[1024], id[300];

	cr_assert_eq(sn_xfrm_parse_line(ID4 GCM " peer-id client@example.org", &e, err,
					sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(e.sa.peer_id, "client@example.org");
	cr_assert_eq(sn_xfrm_parse_line(ID4 GCM, &e, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(e.sa.peer_id, "");
	memset(id, 'x', 255);
	id[255] = '\0';
	snprintf(line, sizeof(line), ID4 GCM " peer-id %s", id);
	cr_assert_eq(sn_xfrm_parse_line(line, &e, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(strlen(e.sa.peer_id), 255);
	snprintf(line, sizeof(line), ID4 GCM " peer-id %sx", id);
	cr_expect_eq(sn_xfrm_parse_line(line, &e, err, sizeof(err)), -EINVAL);
	for (size_t i = 0; i < N(bad); i++) {
		cr_expect_eq(sn_xfrm_parse_line(bad[i], &e, err, sizeof(err)), -EINVAL, "%s", bad[i]);
		cr_expect(strstr(err, "peer-id") != NULL, "%s: %s", bad[i], err);
	}
}

/* Where sequence numbers start: replay-seq/-oseq, with -hi halves for ESN. */
Test(xfrm_state, replay_seq_start)
{
	struct sn_xfrm_entry e;
	char err[256];

	cr_assert_eq(sn_xfrm_parse_line(ID4 GCM " replay-window 64 flag esn replay-oseq 0xfffffffe "
					"replay-oseq-hi 2 replay-seq 7 replay-seq-hi 1",
					&e, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(e.sa.seq_out, 0x2fffffffeull);
	cr_expect_eq(e.sa.seq_in, 0x100000007ull);
	cr_assert_eq(sn_xfrm_parse_line(ID4 GCM " replay-oseq 5", &e, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(e.sa.seq_out, 5);
	cr_expect_eq(sn_xfrm_parse_line(ID4 GCM " replay-oseq-hi 1", &e, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "need flag esn") != NULL, "%s", err);
	cr_expect_eq(sn_xfrm_parse_line(ID4 GCM " replay-seq 0x100000000", &e, err, sizeof(err)),
		     -EINVAL);
}

/* Lines the kernel takes that sealnet takes with a warning: replay-window
 * 0 (anti-replay off) and SPIs 1-255 (reserved by IANA). */
Test(xfrm_state, warnings_for_accepted_lines)
{
	struct sn_xfrm_entry e;
	char err[256];

	cr_assert_eq(sn_xfrm_parse_line(ID4 GCM " replay-window 0", &e, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(e.warn, SN_XFRM_WARN_NO_REPLAY);
	cr_expect(strstr(sn_xfrm_warning(SN_XFRM_WARN_NO_REPLAY), "anti-replay is off") != NULL);
	cr_assert_eq(sn_xfrm_parse_line("state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 255 " GCM
					" replay-window 0", &e, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(e.warn, SN_XFRM_WARN_NO_REPLAY | SN_XFRM_WARN_SPI_RESERVED);
	cr_expect(strstr(sn_xfrm_warning(SN_XFRM_WARN_SPI_RESERVED), "RFC 4303 2.1") != NULL);
	cr_assert_eq(sn_xfrm_parse_line(ID4 GCM, &e, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(e.warn, 0);
	cr_expect_eq(e.sa.flags, 0);
	cr_assert_eq(sn_xfrm_parse_line("policy add src 10.0.0.0/8 dir out tmpl proto esp spi 17",
					&e, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(e.pol.tmpl.spi, 17);
	cr_expect_str_eq(sn_xfrm_warning(0x80), "");
}

/* ---- Runtime commands: update, delete, get, deleteall, list, flush ---------------------- */

struct cmd_case {
	const char *line;
	enum sn_xfrm_kind kind;
	enum sn_xfrm_op op;
	uint32_t match;
};

#define M_ID (SN_XFRM_M_DST | SN_XFRM_M_PROTO | SN_XFRM_M_SPI)

static const struct cmd_case cmd_ok[] = {
	/*  0 */ { "state update src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 ", SN_XFRM_SA, SN_XFRM_UPDATE, 0 },
	/*  1 */ { "state delete src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000", SN_XFRM_SA, SN_XFRM_DELETE, M_ID | SN_XFRM_M_SRC },
	/*  2 */ { "ip xfrm state delete dst 10.0.0.2 proto ah spi 4096", SN_XFRM_SA, SN_XFRM_DELETE, M_ID },
	/*  3 */ { "state get dst fd00::2 proto esp spi 1", SN_XFRM_SA, SN_XFRM_GET, M_ID },
	/*  4 */ { "state flush", SN_XFRM_SA, SN_XFRM_FLUSH, 0 },
	/*  5 */ { "state flush proto esp", SN_XFRM_SA, SN_XFRM_FLUSH, SN_XFRM_M_PROTO },
	/*  6 */ { "state list", SN_XFRM_SA, SN_XFRM_LIST, 0 },
	/*  7 */ { "state show reqid 7 mode tunnel", SN_XFRM_SA, SN_XFRM_LIST, SN_XFRM_M_REQID | SN_XFRM_M_MODE },
	/*  8 */ { "state deleteall src 10.0.0.1", SN_XFRM_SA, SN_XFRM_DELETEALL, SN_XFRM_M_SRC },
	/*  9 */ { "policy update src 10.0.0.1/32 dst 10.0.0.2/32 dir out", SN_XFRM_POLICY, SN_XFRM_UPDATE, 0 },
	/* 10 */ { "policy delete src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dir out", SN_XFRM_POLICY, SN_XFRM_DELETE, SN_XFRM_M_SRC | SN_XFRM_M_DST | SN_XFRM_M_PROTO | SN_XFRM_M_DIR },
	/* 11 */ { "policy delete index 12", SN_XFRM_POLICY, SN_XFRM_DELETE, SN_XFRM_M_INDEX },
	/* 12 */ { "policy get index 12 dir in", SN_XFRM_POLICY, SN_XFRM_GET, SN_XFRM_M_INDEX | SN_XFRM_M_DIR },
	/* 13 */ { "policy flush", SN_XFRM_POLICY, SN_XFRM_FLUSH, 0 },
	/* 14 */ { "policy flush ptype main", SN_XFRM_POLICY, SN_XFRM_FLUSH, 0 },
	/* 15 */ { "policy list dir out", SN_XFRM_POLICY, SN_XFRM_LIST, SN_XFRM_M_DIR },
	/* 16 */ { "policy deleteall dst 10.0.0.0/8 action block priority 5", SN_XFRM_POLICY, SN_XFRM_DELETEALL, SN_XFRM_M_DST | SN_XFRM_M_ACTION | SN_XFRM_M_PRIO },
	/* 17 */ { "policy list src fd00::/64 proto tcp dport 443", SN_XFRM_POLICY, SN_XFRM_LIST, SN_XFRM_M_SRC | SN_XFRM_M_PROTO | SN_XFRM_M_DPORT },
	/* 18 */ { "policy deleteall proto udp", SN_XFRM_POLICY, SN_XFRM_DELETEALL, SN_XFRM_M_PROTO },
};

Test(xfrm_cmd, accepted_table)
{
	for (size_t i = 0; i < N(cmd_ok); i++) {
		const struct cmd_case *c = &cmd_ok[i];
		char line[600], err[256];
		struct sn_xfrm_entry e;
		int rc;

		snprintf(line, sizeof(line), "%s%s", c->line, i == 0 ? GCM : "");
		rc = sn_xfrm_parse_line(line, &e, err, sizeof(err));
		cr_assert_eq(rc, 0, "case %zu: %s", i, err);
		cr_expect_eq(e.kind, c->kind, "case %zu kind", i);
		cr_expect_eq(e.op, c->op, "case %zu op %d", i, e.op);
		cr_expect_eq(e.match, c->match, "case %zu match 0x%x", i, e.match);
	}
}

Test(xfrm_cmd, fields_of_selecting_lines)
{
	struct sn_xfrm_entry e;
	char err[256];

	cr_assert_eq(sn_xfrm_parse_line("state delete dst 10.0.0.2 proto ah spi 0x2001", &e, err,
					sizeof(err)), 0, "%s", err);
	cr_expect_eq(e.sa.spi, 0x2001);
	cr_expect_eq(e.sa.proto, SN_IPPROTO_AH);
	cr_expect_eq(e.sa.dst.family, AF_INET);
	cr_assert_eq(sn_xfrm_parse_line("policy delete index 12", &e, err, sizeof(err)), 0);
	cr_expect_eq(e.index, 12);
	cr_assert_eq(sn_xfrm_parse_line("policy delete dst 10.0.0.9/24 dir fwd", &e, err,
					sizeof(err)), 0, "%s", err);
	cr_expect_eq(e.pol.dir, SN_DIR_FWD);
	cr_expect_eq(e.pol.sel.dst_plen, 24);
	cr_expect_eq(e.pol.sel.dst.addr[3], 0, "masked to the prefix, as stored");
	cr_expect_eq(e.pol.sel.src.family, AF_INET, "missing side: any of the family");
	cr_expect_eq(e.pol.sel.src_plen, 0);
	cr_assert_eq(sn_xfrm_parse_line("policy list action block", &e, err, sizeof(err)), 0);
	cr_expect_eq(e.pol.action, SN_POL_DISCARD);
}

static const struct bad_case cmd_bad[] = {
	/*  0 */ { "state remove dst 10.0.0.2 proto esp spi 1", "state remove: not a command" },
	/*  1 */ { "state delete dst 10.0.0.2 spi 1", "needs dst, proto and spi" },
	/*  2 */ { "state get src 10.0.0.1 proto esp spi 1", "needs dst, proto and spi" },
	/*  3 */ { "state delete dst 10.0.0.2 proto esp spi 1 reqid", "reqid: needs a number" },
	/*  4 */ { "state delete dst 10.0.0.2 proto esp spi 1 enc aes 0x00", "enc: not a word of state ID" },
	/*  5 */ { "state flush src 10.0.0.1", "state flush: takes proto only" },
	/*  6 */ { "state list spi 0", "SPI 0 is reserved" },
	/*  7 */ { "state list dst 10.0.0.2 dst 10.0.0.3", "dst: given twice" },
	/*  8 */ { "state list src 10.0.0.1 dst fd00::1", "families differ" },
	/*  9 */ { "policy delete src 10.0.0.1/32 dst 10.0.0.2/32", "needs SELECTOR dir DIR, or index N" },
	/* 10 */ { "policy delete dir out", "needs SELECTOR dir DIR, or index N" },
	/* 11 */ { "policy get index 3 src 10.0.0.1/32", "SELECTOR or index, not both" },
	/* 12 */ { "policy flush dir out", "policy flush: takes ptype only" },
	/* 13 */ { "policy list tmpl proto esp", "tmpl: not a word of policy" },
	/* 14 */ { "policy delete index x", "index x: not a number" },
	/* 15 */ { "policy list ptype sub", "ptype sub: only main" },
	/* 16 */ { "state update src 10.0.0.1 dst 10.0.0.2 proto esp spi 1", "missing aead or enc" },
	/* 17 */ { "policy delete proto udp dir out", "missing src and dst" },
};

Test(xfrm_cmd, rejected_table)
{
	for (size_t i = 0; i < N(cmd_bad); i++) {
		struct sn_xfrm_entry e;
		char err[256];

		cr_expect_eq(sn_xfrm_parse_line(cmd_bad[i].line, &e, err, sizeof(err)), -EINVAL,
			     "case %zu accepted", i);
		cr_expect(strstr(err, cmd_bad[i].why) != NULL, "case %zu: '%s' lacks '%s'", i, err,
			  cmd_bad[i].why);
	}
}
