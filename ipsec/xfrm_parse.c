/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `ip xfrm state add` / `ip xfrm policy add` lines into struct sn_sa_conf
 * and struct sn_pol_conf (grammar in xfrm_parse.h, after ip-xfrm(8) and
 * iproute2's ip/xfrm_state.c, ip/xfrm_policy.c).
 *
 * Every word is validated before it is used; the first bad word rejects
 * the line with "WORD VALUE: why". Key material never appears in an error
 * message. Where sealnet is stricter than iproute2 the message says so:
 * odd-length hex keys (iproute2 pads a zero nibble), leading-zero numbers
 * (iproute2 reads them as octal), confidentiality-only ESP, ICVs other
 * than the backends' 96/128 bits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "xfrm_parse.h"

/* ---- Words and errors ------------------------------------------------------ */

struct words {
	/* Each word takes at most the input bytes it came from plus a NUL and
	 * words are separated by at least one byte, so the line's own size
	 * (checked < SN_XFRM_LINE_MAX) bounds the buffer. */
	char buf[SN_XFRM_LINE_MAX];
	const char *w[SN_XFRM_WORDS_MAX];
	int n;
};

struct px {
	const struct words *ws;
	int i;                          /* next word */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct px *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *peek(const struct px *p)
{
	return p->i < p->ws->n ? p->ws->w[p->i] : NULL;
}

/* The value after keyword kw, or NULL with the error set. */
static const char *arg(struct px *p, const char *kw, const char *what)
{
	const char *v = peek(p);

	if (!v) {
		fail(p, "%s: needs %s", kw, what);
		return NULL;
	}
	p->i++;
	return v;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool word_in(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(w, *list) == 0)
			return true;
	return false;
}

/* ---- Shell-like splitting ------------------------------------------------------- */

static int copy_single(struct px *p, const char **sp, char **op)
{
	const char *s = *sp + 1;
	char *o = *op;

	while (*s && *s != '\'')
		*o++ = *s++;
	if (!*s)
		return fail(p, "unterminated single quote");
	*sp = s + 1;
	*op = o;
	return 0;
}

/* Inside double quotes a backslash escapes only \ " $ ` (POSIX sh). */
static int copy_double(struct px *p, const char **sp, char **op)
{
	const char *s = *sp + 1;
	char *o = *op;

	while (*s && *s != '"') {
		if (s[0] == '\\' && s[1] && strchr("\\\"$`", s[1]))
			s++;
		*o++ = *s++;
	}
	if (!*s)
		return fail(p, "unterminated double quote");
	*sp = s + 1;
	*op = o;
	return 0;
}

static int split_word(struct px *p, const char **sp, char **op)
{
	int rc = 0;

	while (**sp && !is_space(**sp) && rc == 0) {
		if (**sp == '\'') {
			rc = copy_single(p, sp, op);
		} else if (**sp == '"') {
			rc = copy_double(p, sp, op);
		} else if (**sp == '\\') {
			if (!(*sp)[1] || (*sp)[1] == '\n')
				return fail(p, "backslash at the end of the line: "
					    "continued lines are not supported");
			*(*op)++ = (*sp)[1];
			*sp += 2;
		} else {
			*(*op)++ = *(*sp)++;
		}
	}
	*(*op)++ = '\0';
	return rc;
}

static int split_words(struct px *p, const char *line, struct words *ws)
{
	const char *s = line;
	char *o = ws->buf;

	if (strnlen(line, SN_XFRM_LINE_MAX) >= SN_XFRM_LINE_MAX)
		return fail(p, "line is longer than %d characters", SN_XFRM_LINE_MAX - 1);
	ws->n = 0;
	for (;;) {
		while (is_space(*s))
			s++;
		if (*s == '\0' || *s == '#')
			return 0;
		if (ws->n == SN_XFRM_WORDS_MAX)
			return fail(p, "more than %d words", SN_XFRM_WORDS_MAX);
		ws->w[ws->n++] = o;
		int rc = split_word(p, &s, &o);
		if (rc)
			return rc;
	}
}

/* ---- Numbers, addresses, keys -------------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_hex_prefix(const char *s)
{
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

/* Decimal or 0x hex, no sign, no octal. Returns NULL or why not. */
static const char *num_scan(const char *s, uint64_t *out)
{
	unsigned base = is_hex_prefix(s) ? 16 : 10;
	uint64_t v = 0;

	if (base == 16)
		s += 2;
	if (!*s)
		return "not a number";
	if (base == 10 && s[0] == '0' && s[1])
		return "leading zero (ip would read it as octal)";
	for (; *s; s++) {
		int d = hex_digit(*s);

		if (d < 0 || (unsigned)d >= base)
			return "not a number";
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return "too large";
		v = v * base + (unsigned)d;
	}
	*out = v;
	return NULL;
}

static int num(struct px *p, const char *kw, const char *s, uint64_t min, uint64_t max,
	       uint64_t *out)
{
	const char *why = num_scan(s, out);

	if (why)
		return fail(p, "%s %s: %s", kw, s, why);
	if (*out < min || *out > max)
		return fail(p, "%s %s: must be %llu-%llu", kw, s, (unsigned long long)min,
			    (unsigned long long)max);
	return 0;
}

static int kw_num(struct px *p, const char *kw, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *v = arg(p, kw, "a number");

	return v ? num(p, kw, v, min, max, out) : -EINVAL;
}

static int kw_u32(struct px *p, const char *kw, uint32_t *out)
{
	uint64_t v;
	int rc = kw_num(p, kw, 0, UINT32_MAX, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int kw_port(struct px *p, const char *kw, uint64_t min, uint16_t *out)
{
	uint64_t v;
	int rc = kw_num(p, kw, min, UINT16_MAX, &v);

	if (rc == 0)
		*out = (uint16_t)v;
	return rc;
}

static unsigned ip_bits(const struct sn_ip *ip)
{
	return ip->family == AF_INET6 ? 128 : 32;
}

/* An address alone; s may not carry a prefix. */
static bool addr_scan(const char *s, size_t len, struct sn_ip *ip)
{
	char tmp[INET6_ADDRSTRLEN];

	memset(ip, 0, sizeof(*ip));
	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	ip->family = memchr(tmp, ':', len) ? AF_INET6 : AF_INET;
	return inet_pton(ip->family, tmp, ip->addr) == 1;
}

static void ip_mask(struct sn_ip *ip, unsigned plen)
{
	for (unsigned b = 0; b < 16; b++) {
		if (plen >= 8 * (b + 1))
			continue;
		ip->addr[b] &= plen > 8 * b ? (uint8_t)(0xff00 >> (plen - 8 * b)) : 0;
	}
}

/* ADDR[/PLEN]; host bits beyond the prefix are cleared, as the kernel
 * ignores them when matching. */
static int prefix_parse(struct px *p, const char *kw, const char *s, struct sn_ip *ip,
			uint8_t *plen)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t len;

	if (!addr_scan(s, alen, ip))
		return fail(p, "%s %s: not an IPv4 or IPv6 address", kw, s);
	len = ip_bits(ip);
	if (slash && num(p, kw, slash + 1, 0, ip_bits(ip), &len))
		return fail(p, "%s %s: prefix length must be 0-%u", kw, s, ip_bits(ip));
	*plen = (uint8_t)len;
	ip_mask(ip, *plen);
	return 0;
}

/* An SA or template endpoint: one address, a full-length prefix at most. */
static int kw_addr(struct px *p, const char *kw, struct sn_ip *ip)
{
	const char *v = arg(p, kw, "an address");
	uint8_t plen;

	if (!v || prefix_parse(p, kw, v, ip, &plen))
		return -EINVAL;
	if (plen != ip_bits(ip))
		return fail(p, "%s %s: an SA address takes no prefix", kw, v);
	return 0;
}

static int key_hex(struct px *p, const char *alg, const char *hex, uint8_t *key,
		   uint8_t *len)
{
	size_t n = strlen(hex);

	if (n == 0)
		return fail(p, "key for %s: 0x with no hex digits", alg);
	if (n % 2)
		return fail(p, "key for %s: odd number of hex digits (%zu)", alg, n);
	if (n / 2 > SN_IPSEC_MAX_KEY)
		return fail(p, "key for %s: %zu bytes, at most %d", alg, n / 2,
			    SN_IPSEC_MAX_KEY);
	for (size_t i = 0; i < n; i++)
		if (hex_digit(hex[i]) < 0)
			return fail(p, "key for %s: character %zu is not a hex digit", alg,
				    i + 3);
	for (size_t i = 0; i < n / 2; i++)
		key[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
	*len = (uint8_t)(n / 2);
	return 0;
}

/* 0xHEX, or (as iproute2) the bytes of the word itself: "" for no key. */
static int key_parse(struct px *p, const char *alg, const char *s, uint8_t *key,
		     uint8_t *len)
{
	size_t n;

	if (is_hex_prefix(s))
		return key_hex(p, alg, s + 2, key, len);
	n = strlen(s);
	if (n > SN_IPSEC_MAX_KEY)
		return fail(p, "key for %s: %zu bytes, at most %d", alg, n, SN_IPSEC_MAX_KEY);
	memcpy(key, s, n);
	*len = (uint8_t)n;
	return 0;
}

/* ---- Algorithms ------------------------------------------------------------------------ */

enum alg_slot { SLOT_ENC, SLOT_AUTH, SLOT_AEAD };
static const char *const slot_names[] = { "enc", "auth", "aead" };

struct alg {
	const char *name, *compat;      /* the kernel's name and its old alias */
	enum alg_slot slot;
	int id;                         /* enum sn_enc_alg or enum sn_auth_alg */
	uint8_t key_lens[2], nkeys;     /* bytes, AEAD salt included */
	uint16_t icv_default;           /* bits, for `auth` */
	uint16_t icv_bits[2];           /* allowed truncations / AEAD ICVs */
};

/* hmac(sha256) through `auth` gets the kernel's icv_truncbits, 96: Linux
 * kept the pre-RFC 4868 draft's truncation for compatibility. Only
 * `auth-trunc 'hmac(sha256)' KEY 128` gives RFC 4868's 128 bits. */
static const struct alg algs[] = {
	{ "rfc4106(gcm(aes))", NULL, SLOT_AEAD, SN_ENC_AES_GCM, { 20, 36 }, 2, 0, { 128, 128 } },
	{ "rfc7539esp(chacha20,poly1305)", NULL, SLOT_AEAD, SN_ENC_CHACHA20_POLY1305,
	  { 36, 36 }, 1, 0, { 128, 128 } },
	{ "cbc(aes)", "aes", SLOT_ENC, SN_ENC_AES_CBC, { 16, 32 }, 2, 0, { 0, 0 } },
	{ "ecb(cipher_null)", "cipher_null", SLOT_ENC, SN_ENC_NULL, { 0, 0 }, 1, 0, { 0, 0 } },
	{ "hmac(sha1)", "sha1", SLOT_AUTH, SN_AUTH_HMAC_SHA1_96, { 20, 20 }, 1, 96, { 96, 96 } },
	{ "hmac(sha256)", "sha256", SLOT_AUTH, SN_AUTH_HMAC_SHA256_128, { 32, 32 }, 1, 96,
	  { 96, 128 } },
};

static const struct alg *alg_find(struct px *p, const char *name, enum alg_slot slot)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		const struct alg *a = &algs[i];

		if (strcmp(name, a->name) && !(a->compat && strcmp(name, a->compat) == 0))
			continue;
		if (a->slot == slot)
			return a;
		fail(p, "%s '%s': an %s algorithm, not %s", slot_names[slot], name,
		     slot_names[a->slot], slot_names[slot]);
		return NULL;
	}
	fail(p, "%s: unknown algorithm '%s'", slot_names[slot], name);
	return NULL;
}

static int alg_key(struct px *p, const struct alg *a, const char *s, uint8_t *key,
		   uint8_t *len)
{
	int rc = key_parse(p, a->name, s, key, len);

	if (rc)
		return rc;
	for (unsigned i = 0; i < a->nkeys; i++)
		if (*len == a->key_lens[i])
			return 0;
	if (a->nkeys == 1)
		return fail(p, "key is %u bytes, %s needs %u", *len, a->name, a->key_lens[0]);
	return fail(p, "key is %u bytes, %s needs %u or %u", *len, a->name, a->key_lens[0],
		    a->key_lens[1]);
}

static int alg_icv(struct px *p, const struct alg *a, const char *s, uint8_t *icv_len)
{
	uint64_t bits;

	if (num(p, "ICV", s, 0, UINT16_MAX, &bits))
		return -EINVAL;
	if (bits != a->icv_bits[0] && bits != a->icv_bits[1]) {
		if (a->icv_bits[0] == a->icv_bits[1])
			return fail(p, "%s ICV %s bits: only %u is supported", a->name, s,
				    a->icv_bits[0]);
		return fail(p, "%s ICV %s bits: only %u or %u is supported", a->name, s,
			    a->icv_bits[0], a->icv_bits[1]);
	}
	*icv_len = (uint8_t)(bits / 8);
	return 0;
}

/* NAME KEY for enc, auth; NAME KEY BITS for auth-trunc, aead. */
static const struct alg *alg_args(struct px *p, const char *kw, enum alg_slot slot,
				  uint8_t *key, uint8_t *len)
{
	const char *name = arg(p, kw, "an algorithm name");
	const char *k = name ? arg(p, kw, "a key after the algorithm name") : NULL;
	const struct alg *a = k ? alg_find(p, name, slot) : NULL;

	if (!a || alg_key(p, a, k, key, len))
		return NULL;
	return a;
}

/* ---- Selectors ---------------------------------------------------------------------------- */

enum { S_SRC = 1, S_DST = 2, S_PROTO = 4, S_SPORT = 8, S_DPORT = 16 };

struct proto_name {
	const char *name;
	uint8_t num;
	bool ports;
};

static const struct proto_name protos[] = {
	{ "icmp", 1, false }, { "tcp", 6, true }, { "udp", 17, true }, { "dccp", 33, true },
	{ "gre", 47, false }, { "esp", 50, false }, { "ah", 51, false },
	{ "ipv6-icmp", 58, false }, { "sctp", 132, true },
};

static bool proto_has_ports(uint8_t num)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].num == num)
			return protos[i].ports;
	return false;
}

static int kw_upper_proto(struct px *p, uint8_t *out)
{
	const char *v = arg(p, "proto", "a protocol");
	uint64_t n;

	if (!v)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(v, protos[i].name) == 0) {
			*out = protos[i].num;
			return 0;
		}
	if (num_scan(v, &n) || n > 255)
		return fail(p, "proto %s: not a protocol name or number 0-255", v);
	*out = (uint8_t)n;
	return 0;
}

static const char *const sel_unsupported[] = { "dev", "type", "code", "key", NULL };

/* One selector word. Returns 1 if taken, 0 if not a selector word, or
 * -EINVAL. */
static int sel_word(struct px *p, struct sn_selector *s, unsigned *seen)
{
	static const char *const names[] = { "src", "dst", "proto", "sport", "dport" };
	const char *w = peek(p);
	unsigned bit = 0;
	int rc;

	for (unsigned i = 0; w && i < 5; i++)
		if (strcmp(w, names[i]) == 0)
			bit = 1u << i;
	if (w && word_in(w, sel_unsupported))
		return fail(p, "%s: selecting by %s is not supported", w, w);
	if (!bit)
		return 0;
	if (*seen & bit)
		return fail(p, "%s: given twice", w);
	*seen |= bit;
	p->i++;
	if (bit == S_SRC || bit == S_DST) {
		const char *v = arg(p, w, "a prefix");

		rc = v ? prefix_parse(p, w, v, bit == S_SRC ? &s->src : &s->dst,
				      bit == S_SRC ? &s->src_plen : &s->dst_plen) : -EINVAL;
	} else if (bit == S_PROTO) {
		rc = kw_upper_proto(p, &s->proto);
	} else {
		rc = kw_port(p, w, 0, bit == S_SPORT ? &s->sport : &s->dport);
	}
	return rc ? rc : 1;
}

/* A missing side is "any" in the other side's family. */
static int sel_finish(struct px *p, const char *what, struct sn_selector *s, unsigned seen)
{
	if (!(seen & (S_SRC | S_DST)))
		return fail(p, "%s: missing src and dst (the family comes from them)", what);
	if (!(seen & S_SRC))
		s->src.family = s->dst.family;
	if (!(seen & S_DST))
		s->dst.family = s->src.family;
	if (s->src.family != s->dst.family)
		return fail(p, "%s: src and dst families differ", what);
	if ((s->sport || s->dport) && !proto_has_ports(s->proto))
		return fail(p, "%s: sport/dport need proto tcp, udp, sctp or dccp", what);
	return 0;
}

/* ---- state add ------------------------------------------------------------------------------ */

enum {
	K_SRC, K_DST, K_PROTO, K_SPI, K_MODE, K_REQID, K_WINDOW, K_FLAG, K_ENC, K_AUTH,
	K_AEAD, K_ENCAP, K_SEL, K_PEERID, K_RSEQ, K_ROSEQ, K_RSEQHI, K_ROSEQHI, K_DIR, K_PRIO, K_ACTION, K_TMPL, K_PTYPE,
	K_LIMIT0,                       /* + index into limit_names */
};

struct sa_px {
	struct sn_sa_conf *sa;
	unsigned *warn;                 /* SN_XFRM_WARN_* */
	uint64_t seen;                  /* 1 << K_* */
	bool window_zero;               /* replay-window 0 given */
};

static int kw_mode(struct px *p, enum sn_sa_mode *mode)
{
	const char *v = arg(p, "mode", "transport or tunnel");

	if (!v)
		return -EINVAL;
	if (strcmp(v, "transport") == 0)
		*mode = SN_MODE_TRANSPORT;
	else if (strcmp(v, "tunnel") == 0)
		*mode = SN_MODE_TUNNEL;
	else
		return fail(p, "mode %s: not supported (transport or tunnel)", v);
	return 0;
}

static int kw_xfrm_proto(struct px *p, uint8_t *proto)
{
	const char *v = arg(p, "proto", "esp or ah");

	if (!v)
		return -EINVAL;
	if (strcmp(v, "esp") == 0)
		*proto = SN_IPPROTO_ESP;
	else if (strcmp(v, "ah") == 0)
		*proto = SN_IPPROTO_AH;
	else
		return fail(p, "proto %s: not supported (esp or ah)", v);
	return 0;
}

/* RFC 4303 2.1, RFC 4302 2.4: 1-255 reserved by IANA, 0 for local use.
 * The kernel installs 1-255 (its own selftests use spi 1), so they are
 * accepted with a warning (*reserved set). A template's spi 0 is "any". */
static int kw_spi(struct px *p, bool zero_ok, uint32_t *spi, bool *reserved)
{
	const char *v = peek(p);
	int rc = kw_u32(p, "spi", spi);

	if (rc || (*spi == 0 && zero_ok))
		return rc;
	if (*spi == 0)
		return fail(p, "spi %s: SPI 0 is reserved (RFC 4303 2.1)", v);
	*reserved = *spi < 256;
	return 0;
}

static int st_src(struct px *p, struct sa_px *s) { return kw_addr(p, "src", &s->sa->src); }
static int st_dst(struct px *p, struct sa_px *s) { return kw_addr(p, "dst", &s->sa->dst); }
static int st_proto(struct px *p, struct sa_px *s) { return kw_xfrm_proto(p, &s->sa->proto); }
static int st_spi(struct px *p, struct sa_px *s)
{
	bool reserved = false;
	int rc = kw_spi(p, false, &s->sa->spi, &reserved);

	if (reserved)
		*s->warn |= SN_XFRM_WARN_SPI_RESERVED;
	return rc;
}

static int st_mode(struct px *p, struct sa_px *s) { return kw_mode(p, &s->sa->mode); }
static int st_reqid(struct px *p, struct sa_px *s) { return kw_u32(p, "reqid", &s->sa->reqid); }

/* 0 turns anti-replay off, as in the kernel (its default, and the only
 * way a restarted peer, which starts again at 1, is not taken for a
 * replay); it is warned about. Omitted: sealnet's default window. */
static int st_window(struct px *p, struct sa_px *s)
{
	const char *v = peek(p);
	uint64_t n;

	if (kw_num(p, "replay-window", 0, UINT32_MAX, &n))
		return -EINVAL;
	if (n == 0) {
		s->window_zero = true;
		s->sa->flags |= SN_SA_F_NO_REPLAY;
		*s->warn |= SN_XFRM_WARN_NO_REPLAY;
		return 0;
	}
	if (n < 32)
		return fail(p, "replay-window %s: below the minimum of 32 (RFC 4303 3.4.3)", v);
	if (n > SN_REPLAY_MAX)
		return fail(p, "replay-window %s: above the maximum of %d", v, SN_REPLAY_MAX);
	s->sa->replay_window = (uint32_t)n;
	return 0;
}

static const char *const state_flags[] = {
	"esn", "noecn", "decap-dscp", "nopmtudisc", "wildrecv", "icmp", "af-unspec",
	"align4", NULL,
};

/* flag FLAG [FLAG...]: words are taken while they name a flag. */
static int st_flag(struct px *p, struct sa_px *s)
{
	const char *v = arg(p, "flag", "a flag name");

	if (!v)
		return -EINVAL;
	if (!word_in(v, state_flags))
		return fail(p, "flag %s: not a state flag", v);
	do {
		/* af-unspec (strongSwan sets it on every SA) only lets the kernel
		 * take selectors of another family: nothing to do here. */
		if (strcmp(v, "esn") != 0 && strcmp(v, "af-unspec") != 0)
			return fail(p, "flag %s: not supported (esn, af-unspec)", v);
		if (strcmp(v, "esn") == 0)
			s->sa->flags |= SN_SA_F_ESN;
		v = peek(p) && word_in(peek(p), state_flags) ? p->ws->w[p->i++] : NULL;
	} while (v);
	return 0;
}

static int st_enc(struct px *p, struct sa_px *s)
{
	const struct alg *a = alg_args(p, "enc", SLOT_ENC, s->sa->enc_key,
				       &s->sa->enc_key_len);

	if (!a)
		return -EINVAL;
	s->sa->enc = (enum sn_enc_alg)a->id;
	return 0;
}

static int auth_common(struct px *p, struct sa_px *s, const char *kw, bool trunc)
{
	const struct alg *a = alg_args(p, kw, SLOT_AUTH, s->sa->auth_key,
				       &s->sa->auth_key_len);
	const char *bits = a && trunc ? arg(p, kw, "a truncation length in bits") : NULL;

	if (!a || (trunc && (!bits || alg_icv(p, a, bits, &s->sa->icv_len))))
		return -EINVAL;
	if (!trunc)
		s->sa->icv_len = (uint8_t)(a->icv_default / 8);
	s->sa->auth = (enum sn_auth_alg)a->id;
	return 0;
}

static int st_auth(struct px *p, struct sa_px *s) { return auth_common(p, s, "auth", false); }
static int st_auth_trunc(struct px *p, struct sa_px *s)
{
	return auth_common(p, s, "auth-trunc", true);
}

static int st_aead(struct px *p, struct sa_px *s)
{
	const struct alg *a = alg_args(p, "aead", SLOT_AEAD, s->sa->enc_key,
				       &s->sa->enc_key_len);
	const char *bits = a ? arg(p, "aead", "an ICV length in bits") : NULL;

	if (!bits || alg_icv(p, a, bits, &s->sa->icv_len))
		return -EINVAL;
	s->sa->enc = (enum sn_enc_alg)a->id;
	return 0;
}

/* RFC 3948: ESP in UDP. OADDR (NAT-OA, for transport-mode checksum fix-up)
 * is validated and not kept: sealnet recomputes inner checksums. */
static int st_encap(struct px *p, struct sa_px *s)
{
	const char *type = arg(p, "encap", "espinudp SPORT DPORT OADDR");
	struct sn_ip oa;

	if (!type)
		return -EINVAL;
	if (strcmp(type, "espinudp") != 0)
		return fail(p, "encap %s: not supported (espinudp, RFC 3948)", type);
	if (kw_port(p, "encap sport", 1, &s->sa->encap_sport) ||
	    kw_port(p, "encap dport", 1, &s->sa->encap_dport) ||
	    kw_addr(p, "encap oaddr", &oa))
		return -EINVAL;
	s->sa->encap = true;
	return 0;
}

static int st_sel(struct px *p, struct sa_px *s)
{
	unsigned seen = 0;
	int rc;

	while ((rc = sel_word(p, &s->sa->sel, &seen)) == 1)
		;
	return rc ? rc : sel_finish(p, "sel", &s->sa->sel, seen);
}

static const char *const limit_names[] = {
	"time-soft", "time-hard", "time-use-soft", "time-use-hard",
	"byte-soft", "byte-hard", "packet-soft", "packet-hard", NULL,
};

static const size_t limit_off[] = {
	offsetof(struct sn_lifetime, soft_add_s), offsetof(struct sn_lifetime, hard_add_s),
	offsetof(struct sn_lifetime, soft_use_s), offsetof(struct sn_lifetime, hard_use_s),
	offsetof(struct sn_lifetime, soft_bytes), offsetof(struct sn_lifetime, hard_bytes),
	offsetof(struct sn_lifetime, soft_packets), offsetof(struct sn_lifetime, hard_packets),
};

static uint64_t *limit_field(struct sn_lifetime *l, unsigned i)
{
	return (uint64_t *)((char *)l + limit_off[i]);
}

static uint64_t limit_get(const struct sn_lifetime *l, unsigned i)
{
	return *(const uint64_t *)((const char *)l + limit_off[i]);
}

/* limit LIMIT [LIMIT...]: iproute2 takes one LIMIT per `limit`; several
 * after one `limit` are accepted too. */
static int st_limit(struct px *p, struct sa_px *s)
{
	bool first = true;
	const char *w;

	while ((w = peek(p)) && (first || word_in(w, limit_names))) {
		unsigned i = 0;

		while (limit_names[i] && strcmp(w, limit_names[i]))
			i++;
		if (!limit_names[i])
			return fail(p, "limit %s: not a limit (time-soft, byte-hard, ...)", w);
		if (s->seen & (1ull << (K_LIMIT0 + i)))
			return fail(p, "limit %s: given twice", w);
		s->seen |= 1ull << (K_LIMIT0 + i);
		p->i++;
		if (kw_num(p, w, 0, UINT64_MAX, limit_field(&s->sa->life, i)))
			return -EINVAL;
		first = false;
	}
	return first ? fail(p, "limit: needs a limit name") : 0;
}

/* sealnet's own keyword (not ip xfrm's): the identity whoever holds this
 * manual SA's keys is taken to be, what the socket security API reports
 * and checks target names against. Printable, no spaces. */
static int st_peer_id(struct px *p, struct sa_px *s)
{
	const char *v = arg(p, "peer-id", "an identity");
	size_t n;

	if (!v)
		return -EINVAL;
	n = strlen(v);
	if (n == 0 || n > SN_IPSEC_ID_MAX)
		return fail(p, "peer-id: 1-%d bytes", SN_IPSEC_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] == 0x7f)
			return fail(p, "peer-id: control character or space");
	memcpy(s->sa->peer_id, v, n + 1);
	return 0;
}

/* Where the sequence numbers start (ip xfrm's replay-seq/-oseq and their
 * -hi halves for ESN): the last inbound number seen and the last outbound
 * one sent, e.g. to take over an SA or to test the 2^32 wrap. */
static int seq_half(struct px *p, const char *kw, uint64_t *field, bool hi)
{
	uint32_t v;

	if (kw_u32(p, kw, &v))
		return -EINVAL;
	*field = hi ? (*field & UINT32_MAX) | (uint64_t)v << 32
		    : (*field & ~(uint64_t)UINT32_MAX) | v;
	return 0;
}

static int st_rseq(struct px *p, struct sa_px *s)
{
	return seq_half(p, "replay-seq", &s->sa->seq_in, false);
}

static int st_roseq(struct px *p, struct sa_px *s)
{
	return seq_half(p, "replay-oseq", &s->sa->seq_out, false);
}

static int st_rseq_hi(struct px *p, struct sa_px *s)
{
	return seq_half(p, "replay-seq-hi", &s->sa->seq_in, true);
}

static int st_roseq_hi(struct px *p, struct sa_px *s)
{
	return seq_half(p, "replay-oseq-hi", &s->sa->seq_out, true);
}

struct state_kw {
	const char *name;
	int bit;
	int (*fn)(struct px *p, struct sa_px *s);
};

static const struct state_kw state_kws[] = {
	{ "src", K_SRC, st_src }, { "dst", K_DST, st_dst }, { "proto", K_PROTO, st_proto },
	{ "spi", K_SPI, st_spi }, { "mode", K_MODE, st_mode }, { "reqid", K_REQID, st_reqid },
	{ "replay-window", K_WINDOW, st_window }, { "flag", K_FLAG, st_flag },
	{ "enc", K_ENC, st_enc }, { "auth", K_AUTH, st_auth },
	{ "auth-trunc", K_AUTH, st_auth_trunc }, { "aead", K_AEAD, st_aead },
	{ "encap", K_ENCAP, st_encap }, { "sel", K_SEL, st_sel }, { "limit", -1, st_limit },
	{ "peer-id", K_PEERID, st_peer_id },
	{ "replay-seq", K_RSEQ, st_rseq }, { "replay-oseq", K_ROSEQ, st_roseq },
	{ "replay-seq-hi", K_RSEQHI, st_rseq_hi }, { "replay-oseq-hi", K_ROSEQHI, st_roseq_hi },
};

static const char *const state_unsupported[] = {
	"mark", "seq", "coa", "ctx", "extra-flag", "output-mark", "if_id", "tfcpad", "comp", "offload",
	"dir", "nat-keepalive-interval", NULL,
};

static int state_word(struct px *p, struct sa_px *s)
{
	const char *w = p->ws->w[p->i];

	for (size_t i = 0; i < sizeof(state_kws) / sizeof(state_kws[0]); i++) {
		const struct state_kw *k = &state_kws[i];

		if (strcmp(w, k->name) != 0)
			continue;
		if (k->bit >= 0 && (s->seen & (1ull << k->bit)))
			return fail(p, "%s: given twice", w);
		if (k->bit >= 0)
			s->seen |= 1ull << k->bit;
		p->i++;
		return k->fn(p, s);
	}
	if (word_in(w, state_unsupported))
		return fail(p, "%s: not supported by sealnet", w);
	return fail(p, "unknown keyword '%s'", w);
}

static bool seen(const struct sa_px *s, int bit)
{
	return s->seen & (1ull << bit);
}

static int sa_check_id(struct px *p, const struct sa_px *s)
{
	static const struct { int bit; const char *name; } need[] = {
		{ K_SRC, "src" }, { K_DST, "dst" }, { K_PROTO, "proto" }, { K_SPI, "spi" },
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!seen(s, need[i].bit))
			return fail(p, "missing %s", need[i].name);
	if (s->sa->src.family != s->sa->dst.family)
		return fail(p, "src and dst families differ");
	return 0;
}

static int sa_check_algs(struct px *p, const struct sa_px *s)
{
	const struct sn_sa_conf *sa = s->sa;

	if (sa->proto == SN_IPPROTO_AH) {
		if (seen(s, K_ENC) || seen(s, K_AEAD))
			return fail(p, "proto ah: takes auth or auth-trunc only (RFC 4302)");
		if (!seen(s, K_AUTH))
			return fail(p, "proto ah: missing auth or auth-trunc");
		return 0;
	}
	if (seen(s, K_AEAD) && (seen(s, K_ENC) || seen(s, K_AUTH)))
		return fail(p, "aead: cannot be combined with enc or auth");
	if (seen(s, K_AEAD))
		return 0;
	if (!seen(s, K_ENC))
		return fail(p, "proto esp: missing aead or enc (for integrity only: "
			    "enc 'ecb(cipher_null)' \"\" with auth)");
	if (!seen(s, K_AUTH))
		return fail(p, "enc without auth: confidentiality-only ESP is not supported "
			    "(RFC 8221 5)");
	return 0;
}

static int sa_check_limits(struct px *p, const struct sn_lifetime *l)
{
	for (unsigned i = 0; i < 8; i += 2) {
		uint64_t soft = limit_get(l, i), hard = limit_get(l, i + 1);

		if (soft && hard && soft > hard)
			return fail(p, "limit %s %llu: above %s %llu", limit_names[i],
				    (unsigned long long)soft, limit_names[i + 1],
				    (unsigned long long)hard);
	}
	return 0;
}

static int sa_check(struct px *p, const struct sa_px *s)
{
	const struct sn_sa_conf *sa = s->sa;

	if (sa_check_id(p, s) || sa_check_algs(p, s))
		return -EINVAL;
	if ((sa->flags & SN_SA_F_ESN) && s->window_zero)
		return fail(p, "flag esn: esn needs replay-window > 0 (RFC 4303 A2)");
	if (sa->encap && sa->proto != SN_IPPROTO_ESP)
		return fail(p, "encap: UDP encapsulation is for ESP only (RFC 3948)");
	if (!(sa->flags & SN_SA_F_ESN) && (seen(s, K_RSEQHI) || seen(s, K_ROSEQHI)))
		return fail(p, "replay-seq-hi/replay-oseq-hi: need flag esn (RFC 4304)");
	if (sa->sel.src.family && sa->mode == SN_MODE_TRANSPORT &&
	    sa->sel.src.family != sa->src.family)
		return fail(p, "sel: family differs from the SA's in transport mode");
	return sa_check_limits(p, &sa->life);
}

static int parse_state(struct px *p, struct sn_sa_conf *sa, unsigned *warn)
{
	struct sa_px s = { .sa = sa, .warn = warn };
	int rc = 0;

	while (rc == 0 && p->i < p->ws->n)
		rc = state_word(p, &s);
	return rc ? rc : sa_check(p, &s);
}

/* ---- policy add ------------------------------------------------------------------------------ */

struct pol_px {
	struct sn_pol_conf *pol;
	uint64_t seen;
	unsigned sel_seen;
	bool block;
};

enum { T_SRC = 1, T_DST = 2, T_PROTO = 4, T_SPI = 8, T_REQID = 16, T_MODE = 32, T_LEVEL = 64 };

static int tmpl_level(struct px *p, struct sn_pol_tmpl *t)
{
	const char *v = arg(p, "level", "required or use");

	if (!v)
		return -EINVAL;
	if (strcmp(v, "required") && strcmp(v, "use"))
		return fail(p, "level %s: required or use", v);
	t->optional = strcmp(v, "use") == 0;
	return 0;
}

static int tmpl_field(struct px *p, struct sn_pol_tmpl *t, unsigned bit)
{
	switch (bit) {
	case T_SRC: return kw_addr(p, "tmpl src", &t->src);
	case T_DST: return kw_addr(p, "tmpl dst", &t->dst);
	case T_PROTO: return kw_xfrm_proto(p, &t->proto);
	case T_SPI: { bool r; return kw_spi(p, true, &t->spi, &r); }
	case T_REQID: return kw_u32(p, "reqid", &t->reqid);
	case T_MODE: return kw_mode(p, &t->mode);
	default: return tmpl_level(p, t);
	}
}

static int tmpl_check(struct px *p, const struct sn_pol_tmpl *t, unsigned seen)
{
	if (!(seen & T_PROTO))
		return fail(p, "tmpl: missing proto esp|ah");
	if (t->mode == SN_MODE_TUNNEL && (seen & (T_SRC | T_DST)) != (T_SRC | T_DST))
		return fail(p, "tmpl: mode tunnel needs src and dst (the tunnel endpoints)");
	if ((seen & T_SRC) && (seen & T_DST) && t->src.family != t->dst.family)
		return fail(p, "tmpl: src and dst families differ");
	return 0;
}

/* tmpl takes the words that belong to it; the policy resumes after. */
static int pol_tmpl(struct px *p, struct pol_px *s)
{
	static const char *const names[] = { "src", "dst", "proto", "spi", "reqid", "mode",
					     "level" };
	unsigned seen = 0;
	const char *w;

	while ((w = peek(p))) {
		unsigned bit = 0;

		for (unsigned i = 0; i < 7; i++)
			if (strcmp(w, names[i]) == 0)
				bit = 1u << i;
		if (!bit)
			break;
		if (seen & bit)
			return fail(p, "tmpl %s: given twice", w);
		seen |= bit;
		p->i++;
		if (tmpl_field(p, &s->pol->tmpl, bit))
			return -EINVAL;
	}
	return tmpl_check(p, &s->pol->tmpl, seen);
}

static int pol_dir(struct px *p, struct pol_px *s)
{
	static const char *const dirs[] = { "in", "out", "fwd" };
	const char *v = arg(p, "dir", "in, out or fwd");

	for (unsigned i = 0; v && i < 3; i++)
		if (strcmp(v, dirs[i]) == 0) {
			s->pol->dir = (enum sn_pol_dir)i;
			return 0;
		}
	return v ? fail(p, "dir %s: in, out or fwd", v) : -EINVAL;
}

static int pol_prio(struct px *p, struct pol_px *s)
{
	return kw_u32(p, "priority", &s->pol->priority);
}

static int pol_action(struct px *p, struct pol_px *s)
{
	const char *v = arg(p, "action", "allow or block");

	if (!v)
		return -EINVAL;
	if (strcmp(v, "allow") && strcmp(v, "block"))
		return fail(p, "action %s: allow or block", v);
	s->block = strcmp(v, "block") == 0;
	return 0;
}

static int pol_ptype(struct px *p, struct pol_px *s)
{
	const char *v = arg(p, "ptype", "main");

	if (v && strcmp(v, "main"))
		return fail(p, "ptype %s: only main is supported", v);
	return v ? 0 : -EINVAL;
}

struct pol_kw {
	const char *name;
	int bit;
	int (*fn)(struct px *p, struct pol_px *s);
};

static const struct pol_kw pol_kws[] = {
	{ "dir", K_DIR, pol_dir }, { "priority", K_PRIO, pol_prio },
	{ "action", K_ACTION, pol_action }, { "tmpl", K_TMPL, pol_tmpl },
	{ "ptype", K_PTYPE, pol_ptype },
};

static const char *const pol_unsupported[] = {
	"index", "mark", "ctx", "if_id", "flag", "limit", NULL,
};

static int pol_word(struct px *p, struct pol_px *s)
{
	const char *w = p->ws->w[p->i];
	int rc = sel_word(p, &s->pol->sel, &s->sel_seen);

	if (rc)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < sizeof(pol_kws) / sizeof(pol_kws[0]); i++) {
		if (strcmp(w, pol_kws[i].name) != 0)
			continue;
		if (s->seen & (1ull << pol_kws[i].bit))
			return fail(p, "%s: given twice%s", w,
				    pol_kws[i].bit == K_TMPL ? " (SA bundles are not supported)" : "");
		s->seen |= 1ull << pol_kws[i].bit;
		p->i++;
		return pol_kws[i].fn(p, s);
	}
	if (word_in(w, pol_unsupported))
		return fail(p, "%s: not supported by sealnet", w);
	return fail(p, "unknown keyword '%s'", w);
}

/* allow + tmpl = protect; allow alone = bypass; block = discard. */
static int pol_check(struct px *p, struct pol_px *s)
{
	bool tmpl = s->seen & (1ull << K_TMPL);

	if (!(s->seen & (1ull << K_DIR)))
		return fail(p, "missing dir");
	if (sel_finish(p, "policy", &s->pol->sel, s->sel_seen))
		return -EINVAL;
	if (s->block && tmpl)
		return fail(p, "action block: a discard policy takes no tmpl");
	s->pol->action = s->block ? SN_POL_DISCARD : tmpl ? SN_POL_PROTECT : SN_POL_BYPASS;
	return 0;
}

static int parse_policy(struct px *p, struct sn_pol_conf *pol)
{
	struct pol_px s = { .pol = pol };
	int rc = 0;

	while (rc == 0 && p->i < p->ws->n)
		rc = pol_word(p, &s);
	return rc ? rc : pol_check(p, &s);
}

/* ---- Lines and files -------------------------------------------------------------------------------- */

/* ---- delete, get, deleteall, list, flush ---------------------------------------------------- */

/* state delete|get|deleteall|list|flush: the words that select SAs. */
static int state_filter_word(struct px *p, struct sn_xfrm_entry *e, const char *w)
{
	struct sn_sa_conf *sa = &e->sa;
	static const struct { const char *name; uint32_t bit; } kws[] = {
		{ "src", SN_XFRM_M_SRC }, { "dst", SN_XFRM_M_DST }, { "proto", SN_XFRM_M_PROTO },
		{ "spi", SN_XFRM_M_SPI }, { "mode", SN_XFRM_M_MODE }, { "reqid", SN_XFRM_M_REQID },
	};
	uint32_t bit = 0;
	bool r;

	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (strcmp(w, kws[i].name) == 0)
			bit = kws[i].bit;
	if (!bit)
		return fail(p, "%s: not a word of state %s", w,
			    e->op == SN_XFRM_FLUSH ? "flush (proto only)" : "ID");
	if (e->match & bit)
		return fail(p, "%s: given twice", w);
	e->match |= bit;
	p->i++;
	switch (bit) {
	case SN_XFRM_M_SRC: return kw_addr(p, "src", &sa->src);
	case SN_XFRM_M_DST: return kw_addr(p, "dst", &sa->dst);
	case SN_XFRM_M_PROTO: return kw_xfrm_proto(p, &sa->proto);
	case SN_XFRM_M_SPI: return kw_spi(p, false, &sa->spi, &r);
	case SN_XFRM_M_MODE: return kw_mode(p, &sa->mode);
	default: return kw_u32(p, "reqid", &sa->reqid);
	}
}

static int parse_state_select(struct px *p, struct sn_xfrm_entry *e, const char *cmd)
{
	const uint32_t id = SN_XFRM_M_DST | SN_XFRM_M_PROTO | SN_XFRM_M_SPI;
	int rc = 0;

	while (rc == 0 && p->i < p->ws->n) {
		const char *w = p->ws->w[p->i];

		if (e->op == SN_XFRM_FLUSH && strcmp(w, "proto"))
			return fail(p, "state flush: takes proto only, not %s", w);
		rc = state_filter_word(p, e, w);
	}
	if (rc)
		return rc;
	if ((e->op == SN_XFRM_DELETE || e->op == SN_XFRM_GET) && (e->match & id) != id)
		return fail(p, "state %s: needs dst, proto and spi (the SA's ID)", cmd);
	if ((e->match & SN_XFRM_M_SRC) && (e->match & SN_XFRM_M_DST) &&
	    e->sa.src.family != e->sa.dst.family)
		return fail(p, "src and dst families differ");
	return 0;
}

/* policy delete|get|deleteall|list|flush: selector words and the filters. */
static int pol_filter_word(struct px *p, struct sn_xfrm_entry *e, struct pol_px *s,
			   const char *w)
{
	static const struct { const char *name; uint32_t bit; } kws[] = {
		{ "dir", SN_XFRM_M_DIR }, { "index", SN_XFRM_M_INDEX },
		{ "priority", SN_XFRM_M_PRIO }, { "action", SN_XFRM_M_ACTION },
		{ "ptype", 0 },
	};
	int rc = sel_word(p, &e->pol.sel, &s->sel_seen);

	if (rc)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		uint32_t bit = kws[i].bit;

		if (strcmp(w, kws[i].name) != 0)
			continue;
		if (e->match & bit)
			return fail(p, "%s: given twice", w);
		e->match |= bit;
		p->i++;
		switch (bit) {
		case SN_XFRM_M_DIR: return pol_dir(p, s);
		case SN_XFRM_M_INDEX: return kw_u32(p, "index", &e->index);
		case SN_XFRM_M_PRIO: return pol_prio(p, s);
		case SN_XFRM_M_ACTION: return pol_action(p, s);
		default: return pol_ptype(p, s);
		}
	}
	return fail(p, "%s: not a word of policy %s", w,
		    e->op == SN_XFRM_FLUSH ? "flush (ptype only)" : "SELECTOR or filter");
}

static void sel_bits(struct sn_xfrm_entry *e, unsigned seen)
{
	e->match |= (seen & S_SRC ? SN_XFRM_M_SRC : 0) | (seen & S_DST ? SN_XFRM_M_DST : 0) |
		    (seen & S_PROTO ? SN_XFRM_M_PROTO : 0) |
		    (seen & S_SPORT ? SN_XFRM_M_SPORT : 0) | (seen & S_DPORT ? SN_XFRM_M_DPORT : 0);
}

static int parse_policy_select(struct px *p, struct sn_xfrm_entry *e, const char *cmd)
{
	struct pol_px s = { .pol = &e->pol };
	bool exact = e->op == SN_XFRM_DELETE || e->op == SN_XFRM_GET;
	int rc = 0;

	while (rc == 0 && p->i < p->ws->n) {
		const char *w = p->ws->w[p->i];

		if (e->op == SN_XFRM_FLUSH && strcmp(w, "ptype"))
			return fail(p, "policy flush: takes ptype only, not %s", w);
		rc = pol_filter_word(p, e, &s, w);
	}
	if (rc)
		return rc;
	e->pol.action = s.block ? SN_POL_DISCARD : SN_POL_PROTECT;
	/* A filter may name a protocol or port alone; a whole selector (for
	 * delete and get) has the family of its src or dst. */
	if ((s.sel_seen & (S_SRC | S_DST) || (exact && s.sel_seen)) &&
	    sel_finish(p, "policy", &e->pol.sel, s.sel_seen))
		return -EINVAL;
	sel_bits(e, s.sel_seen);
	if (exact && !(e->match & SN_XFRM_M_INDEX) &&
	    (!s.sel_seen || !(e->match & SN_XFRM_M_DIR)))
		return fail(p, "policy %s: needs SELECTOR dir DIR, or index N", cmd);
	if (exact && (e->match & SN_XFRM_M_INDEX) && s.sel_seen)
		return fail(p, "policy %s: SELECTOR or index, not both", cmd);
	return 0;
}

static const char *const ops[] = { "add", "update", "delete", "get", "deleteall", "list",
				   "flush", "show", NULL };

static int parse_op(struct px *p, const char *obj, const char *cmd, struct sn_xfrm_entry *out)
{
	unsigned i = 0;

	while (ops[i] && strcmp(cmd, ops[i]))
		i++;
	if (!ops[i])
		return fail(p, "%s %s: not a command (add, update, delete, get, deleteall, "
			    "list, flush)", obj, cmd);
	out->op = i == 7 ? SN_XFRM_LIST : (enum sn_xfrm_op)i;
	return 0;
}

static int parse_command(struct px *p, struct sn_xfrm_entry *out)
{
	const char *obj, *cmd;
	bool sa;

	if (p->ws->n == 0)
		return 0;
	if (strcmp(p->ws->w[0], "ip") == 0) {
		if (p->ws->n < 2 || strcmp(p->ws->w[1], "xfrm"))
			return fail(p, "ip: only 'ip xfrm' lines are understood");
		p->i = 2;
	}
	obj = arg(p, "line", "state or policy");
	cmd = obj ? arg(p, obj, "a command (add, delete, list, ...)") : NULL;
	if (!cmd)
		return -EINVAL;
	if (strcmp(obj, "state") && strcmp(obj, "policy"))
		return fail(p, "%s: expected state or policy", obj);
	if (parse_op(p, obj, cmd, out))
		return -EINVAL;
	sa = strcmp(obj, "state") == 0;
	out->kind = sa ? SN_XFRM_SA : SN_XFRM_POLICY;
	if (out->op == SN_XFRM_ADD || out->op == SN_XFRM_UPDATE)
		return sa ? parse_state(p, &out->sa, &out->warn) : parse_policy(p, &out->pol);
	return sa ? parse_state_select(p, out, cmd) : parse_policy_select(p, out, cmd);
}

int sn_xfrm_parse_line(const char *line, struct sn_xfrm_entry *out, char *err, size_t errlen)
{
	struct words ws;
	struct px p = { .ws = &ws, .err = err, .errlen = errlen };
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return fail(&p, "no output entry");
	memset(out, 0, sizeof(*out));
	if (!line)
		return fail(&p, "no line");
	rc = split_words(&p, line, &ws);
	if (rc == 0)
		rc = parse_command(&p, out);
	if (rc)
		explicit_bzero(out, sizeof(*out));
	explicit_bzero(&ws, sizeof(ws));        /* the words held the keys */
	return rc;
}

/* Reads one line into buf. Returns 1, 0 at the end, or -EINVAL when the
 * line does not fit (the rest of it is not read). */
static int read_line(FILE *f, char *buf, size_t size)
{
	size_t n;

	if (!fgets(buf, (int)size, f))
		return 0;
	n = strlen(buf);
	if (n == size - 1 && buf[n - 1] != '\n' && !feof(f))
		return -EINVAL;
	return 1;
}

static void where(char *buf, size_t len, const char *name, unsigned lineno)
{
	if (name)
		snprintf(buf, len, "%s:%u", name, lineno);
	else
		snprintf(buf, len, "line %u", lineno);
}

static int load_line(const char *buf, const char *name, unsigned lineno,
		     struct sn_xfrm_entry *e, sn_xfrm_entry_fn fn, void *ctx,
		     char *err, size_t errlen)
{
	char why[256] = "", at[300];
	int rc = sn_xfrm_parse_line(buf, e, why, sizeof(why));

	if (rc == 0 && e->kind == SN_XFRM_EMPTY)
		return 0;
	if (rc == 0) {
		rc = fn(e, lineno, ctx, why, sizeof(why));
		if (rc >= 0)
			return 1;
		if (!why[0])
			snprintf(why, sizeof(why), "%s", strerror(-rc));
	}
	where(at, sizeof(at), name, lineno);
	snprintf(err, errlen, "%s: %s", at, why);
	return rc;
}

int sn_xfrm_parse_file(FILE *f, const char *name, sn_xfrm_entry_fn fn, void *ctx,
		       char *err, size_t errlen)
{
	char buf[SN_XFRM_LINE_MAX], at[300];
	struct sn_xfrm_entry e;
	unsigned lineno = 0;
	int count = 0, rc;

	if (!err || errlen == 0)
		return -EINVAL;
	err[0] = '\0';
	if (!f || !fn) {
		snprintf(err, errlen, "no file or no callback");
		return -EINVAL;
	}
	while ((rc = read_line(f, buf, sizeof(buf))) > 0) {
		rc = load_line(buf, name, ++lineno, &e, fn, ctx, err, errlen);
		if (rc < 0)
			break;
		count += rc;
	}
	where(at, sizeof(at), name, lineno + 1);
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "%s: longer than %d characters", at, SN_XFRM_LINE_MAX - 1);
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: read error", at);
		rc = -EIO;
	}
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&e, sizeof(e));
	return rc < 0 ? rc : count;
}

const char *sn_xfrm_warning(unsigned bit)
{
	switch (bit) {
	case SN_XFRM_WARN_NO_REPLAY:
		return "replay-window 0: anti-replay is off for this SA: replayed packets "
		       "are accepted (and a restarted peer's, from sequence 1 again)";
	case SN_XFRM_WARN_SPI_RESERVED:
		return "spi: SPIs 1-255 are reserved by IANA (RFC 4303 2.1); installed anyway, "
		       "as the kernel does";
	}
	return "";
}
