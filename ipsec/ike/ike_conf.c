/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The --ike-conf parser: swanctl.conf's syntax for the subset ike_conf.h
 * lists. Pure: text in, struct ike_conf out. Line based: "NAME {", "}",
 * "key = value[, value...]", "#" comments outside quotes.
 */
#include "ike_conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_wire.h"

#define LINE_MAX_LEN 1024
#define MAX_DEPTH    6
#define MAX_ITEMS    16
#define IKE_UDP_PORT 500      /* RFC 7296 2 */
#define IKE_UDP_PORT_NATT 4500 /* RFC 3948 */

enum sect { S_ROOT, S_CONNS, S_CONN, S_LROUND, S_RROUND, S_CHILDREN, S_CHILD,
	    S_SECRETS, S_SECRET, S_AUTHS, S_AUTH, S_SEALNET, S_COUNT };

static const char *const sect_names[S_COUNT] = {
	"top level", "connections", "connection", "local", "remote", "children",
	"child", "secrets", "secret", "authorities", "authority", "sealnet",
};

struct pctx {
	struct ike_conf *c;
	const char *name;
	int line;
	char *err;
	size_t errlen;
	int depth;
	enum sect stack[MAX_DEPTH];
	struct ike_conf_conn *conn;
	struct ike_conf_round *round;
	struct ike_conf_child *child;
	struct ike_conf_secret *sec;
	struct ike_conf_authority *auth;
	const char *key;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct pctx *x, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (x->err && x->errlen)
		snprintf(x->err, x->errlen, "%s:%d: %s", x->name, x->line, why);
	return -EINVAL;
}

__attribute__((format(printf, 3, 4)))
static int perr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- Proposals ------------------------------------------------------------ */

enum { T_ENCR, T_AEAD, T_PRF, T_INTEG, T_DH, T_ESN };

struct prop_tok { const char *name; uint8_t kind; uint16_t id, keylen; };

static const struct prop_tok prop_toks[] = {
	{ "aes128gcm16", T_AEAD, IKE_ENCR_AES_GCM_16, 128 },
	{ "aes192gcm16", T_AEAD, IKE_ENCR_AES_GCM_16, 192 },
	{ "aes256gcm16", T_AEAD, IKE_ENCR_AES_GCM_16, 256 },
	{ "aes128gcm12", T_AEAD, IKE_ENCR_AES_GCM_12, 128 },
	{ "aes192gcm12", T_AEAD, IKE_ENCR_AES_GCM_12, 192 },
	{ "aes256gcm12", T_AEAD, IKE_ENCR_AES_GCM_12, 256 },
	{ "aes128gcm8", T_AEAD, IKE_ENCR_AES_GCM_8, 128 },
	{ "aes192gcm8", T_AEAD, IKE_ENCR_AES_GCM_8, 192 },
	{ "aes256gcm8", T_AEAD, IKE_ENCR_AES_GCM_8, 256 },
	{ "chacha20poly1305", T_AEAD, IKE_ENCR_CHACHA20_POLY1305, 0 },
	{ "aes128", T_ENCR, IKE_ENCR_AES_CBC, 128 },
	{ "aes192", T_ENCR, IKE_ENCR_AES_CBC, 192 },
	{ "aes256", T_ENCR, IKE_ENCR_AES_CBC, 256 },
	{ "aes128ctr", T_ENCR, IKE_ENCR_AES_CTR, 128 },
	{ "aes192ctr", T_ENCR, IKE_ENCR_AES_CTR, 192 },
	{ "aes256ctr", T_ENCR, IKE_ENCR_AES_CTR, 256 },
	{ "null", T_ENCR, IKE_ENCR_NULL, 0 },
	{ "sha1", T_INTEG, IKE_INTEG_HMAC_SHA1_96, 0 },
	{ "sha256", T_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0 },
	{ "sha384", T_INTEG, IKE_INTEG_HMAC_SHA2_384_192, 0 },
	{ "sha512", T_INTEG, IKE_INTEG_HMAC_SHA2_512_256, 0 },
	{ "prfsha1", T_PRF, IKE_PRF_HMAC_SHA1, 0 },
	{ "prfsha256", T_PRF, IKE_PRF_HMAC_SHA2_256, 0 },
	{ "prfsha384", T_PRF, IKE_PRF_HMAC_SHA2_384, 0 },
	{ "prfsha512", T_PRF, IKE_PRF_HMAC_SHA2_512, 0 },
	{ "x25519", T_DH, IKE_DH_CURVE25519, 0 },
	{ "curve25519", T_DH, IKE_DH_CURVE25519, 0 },
	{ "ecp256", T_DH, IKE_DH_ECP_256, 0 },
	{ "ecp384", T_DH, IKE_DH_ECP_384, 0 },
	{ "ecp521", T_DH, IKE_DH_ECP_521, 0 },
	{ "modp2048", T_DH, IKE_DH_MODP_2048, 0 },
	{ "esn", T_ESN, IKE_ESN_YES, 0 },
	{ "noesn", T_ESN, IKE_ESN_NO, 0 },
};

/* strongSwan: with no PRF given, the PRF follows the integrity algorithm. */
static uint16_t prf_of_integ(uint16_t integ)
{
	switch (integ) {
	case IKE_INTEG_HMAC_SHA1_96: return IKE_PRF_HMAC_SHA1;
	case IKE_INTEG_HMAC_SHA2_256_128: return IKE_PRF_HMAC_SHA2_256;
	case IKE_INTEG_HMAC_SHA2_384_192: return IKE_PRF_HMAC_SHA2_384;
	case IKE_INTEG_HMAC_SHA2_512_256: return IKE_PRF_HMAC_SHA2_512;
	default: return 0;
	}
}

static const struct prop_tok *prop_tok_find(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(prop_toks) / sizeof(prop_toks[0]); i++)
		if (strlen(prop_toks[i].name) == n && !strncmp(prop_toks[i].name, s, n))
			return &prop_toks[i];
	return NULL;
}

static int prop_add(const struct prop_tok *t, struct ike_conf_prop *p, bool *aead)
{
	uint8_t *n = NULL;
	uint16_t *arr = NULL;

	switch (t->kind) {
	case T_AEAD: *aead = true; /* fall through */
	case T_ENCR:
		if (p->n_encr >= IKE_CONF_MAX_XF)
			return -E2BIG;
		p->encr[p->n_encr].id = t->id;
		p->encr[p->n_encr++].keylen = t->keylen;
		return 0;
	case T_PRF: n = &p->n_prf; arr = p->prf; break;
	case T_INTEG: n = &p->n_integ; arr = p->integ; break;
	case T_DH: n = &p->n_dh; arr = p->dh; break;
	default:
		if (p->n_esn >= 2)
			return -E2BIG;
		p->esn[p->n_esn++] = t->id;
		return 0;
	}
	if (*n >= IKE_CONF_MAX_XF)
		return -E2BIG;
	arr[(*n)++] = t->id;
	return 0;
}

static int prop_check(uint8_t proto, struct ike_conf_prop *p, bool aead, bool plain,
		      char *err, size_t errlen)
{
	if (aead && plain)
		return perr(err, errlen, "an AEAD and a non-AEAD cipher in one proposal");
	if (aead && p->n_integ)
		return perr(err, errlen, "an AEAD cipher with an integrity algorithm");
	if (proto == IKE_PROTO_AH) {
		if (p->n_encr || p->n_prf)
			return perr(err, errlen, "AH takes no encryption or PRF");
		if (!p->n_integ)
			return perr(err, errlen, "AH proposal lacks an integrity algorithm");
		return 0;
	}
	if (!p->n_encr)
		return perr(err, errlen, "proposal lacks an encryption algorithm");
	if (!aead && !p->n_integ)
		return perr(err, errlen, "proposal lacks an integrity algorithm");
	if (proto != IKE_PROTO_IKE) {
		if (p->n_prf)
			return perr(err, errlen, "a PRF in an ESP proposal");
		return 0;
	}
	if (p->n_esn)
		return perr(err, errlen, "esn in an IKE proposal");
	for (uint8_t i = 0; !p->n_prf && i < p->n_integ; i++)
		if (prf_of_integ(p->integ[i]))
			p->prf[p->n_prf++] = prf_of_integ(p->integ[i]);
	if (!p->n_prf)
		return perr(err, errlen, "IKE proposal lacks a PRF");
	if (!p->n_dh)
		return perr(err, errlen, "IKE proposal lacks a key exchange method");
	return 0;
}

static void default_prop(uint8_t proto, struct ike_conf_prop *p)
{
	struct ike_conf_props ps;

	if (proto == IKE_PROTO_IKE)
		ike_conf_default_ike_props(&ps);
	else if (proto == IKE_PROTO_ESP)
		ike_conf_default_esp_props(&ps);
	else {
		memset(&ps, 0, sizeof(ps));
		ps.p[0].n_integ = 1;
		ps.p[0].integ[0] = IKE_INTEG_HMAC_SHA2_256_128;
	}
	*p = ps.p[0];
}

int ike_conf_prop_parse(const char *s, uint8_t proto, struct ike_conf_prop *p,
			char *err, size_t errlen)
{
	bool aead = false, plain = false;

	memset(p, 0, sizeof(*p));
	if (proto != IKE_PROTO_IKE && proto != IKE_PROTO_ESP && proto != IKE_PROTO_AH)
		return perr(err, errlen, "unknown protocol %u", proto);
	if (!strcmp(s, "default")) {
		default_prop(proto, p);
		return 0;
	}
	while (*s) {
		size_t n = strcspn(s, "-");
		const struct prop_tok *t = prop_tok_find(s, n);

		if (!t)
			return perr(err, errlen, "unknown proposal token '%.*s'", (int)(n > 40 ? 40 : n), s);
		if (t->kind == T_ENCR)
			plain = true;
		if (prop_add(t, p, &aead))
			return perr(err, errlen, "too many transforms of one kind (limit %d)",
				    IKE_CONF_MAX_XF);
		s += n;
		if (*s == '-' && !*++s)
			return perr(err, errlen, "proposal ends with '-'");
	}
	return prop_check(proto, p, aead, plain, err, errlen);
}

void ike_conf_default_ike_props(struct ike_conf_props *p)
{
	memset(p, 0, sizeof(*p));
	p->n = 2;
	p->p[0].n_encr = 1; p->p[0].encr[0].id = IKE_ENCR_AES_GCM_16; p->p[0].encr[0].keylen = 128;
	p->p[0].n_prf = 1; p->p[0].prf[0] = IKE_PRF_HMAC_SHA2_256;
	p->p[0].n_dh = 1; p->p[0].dh[0] = IKE_DH_CURVE25519;
	p->p[1].n_encr = 1; p->p[1].encr[0].id = IKE_ENCR_AES_CBC; p->p[1].encr[0].keylen = 128;
	p->p[1].n_prf = 1; p->p[1].prf[0] = IKE_PRF_HMAC_SHA2_256;
	p->p[1].n_integ = 1; p->p[1].integ[0] = IKE_INTEG_HMAC_SHA2_256_128;
	p->p[1].n_dh = 1; p->p[1].dh[0] = IKE_DH_ECP_256;
}

void ike_conf_default_esp_props(struct ike_conf_props *p)
{
	memset(p, 0, sizeof(*p));
	p->n = 2;
	p->p[0].n_encr = 1; p->p[0].encr[0].id = IKE_ENCR_AES_GCM_16; p->p[0].encr[0].keylen = 128;
	p->p[1].n_encr = 1; p->p[1].encr[0].id = IKE_ENCR_AES_CBC; p->p[1].encr[0].keylen = 128;
	p->p[1].n_integ = 1; p->p[1].integ[0] = IKE_INTEG_HMAC_SHA2_256_128;
}

/* ---- Value kinds ------------------------------------------------------------ */

/* Split a value on commas outside quotes into trimmed, unquoted items (in place). */
static int split_list(struct pctx *x, char *v, char **items, int max)
{
	int n = 0;

	for (;;) {
		while (isspace((unsigned char)*v))
			v++;
		char *start = v, *end;
		bool q = false;

		for (; *v && (q || *v != ','); v++)
			if (*v == '"')
				q = !q;
		if (q)
			return fail(x, "unterminated quote in '%s'", x->key);
		end = v;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		if (end - start >= 2 && *start == '"' && end[-1] == '"') {
			start++;
			end--;
		} else if (memchr(start, '"', (size_t)(end - start)))
			return fail(x, "stray quote in '%s'", x->key);
		if (n >= max)
			return fail(x, "too many items in '%s' (limit %d)", x->key, max);
		bool last = !*v;
		*end = 0;
		if (!*start)
			return fail(x, "empty item in '%s'", x->key);
		items[n++] = start;
		if (last)
			return n;
		v++;
	}
}

static int one_value(struct pctx *x, char *v, char **out)
{
	char *items[1];
	int n = split_list(x, v, items, 1);

	if (n < 0)
		return n;
	*out = items[0];
	return 0;
}

static int copy_str(struct pctx *x, char *v, char *dst, size_t cap)
{
	char *s;
	int rc = one_value(x, v, &s);

	if (rc)
		return rc;
	if (strlen(s) >= cap)
		return fail(x, "'%s' too long (limit %zu)", x->key, cap - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int parse_u64(struct pctx *x, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return fail(x, "'%s': '%s' is not a number", x->key, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return fail(x, "'%s': '%s' out of range (0-%llu)", x->key, s,
			    (unsigned long long)max);
	*out = v;
	return 0;
}

static int val_u32(struct pctx *x, char *v, uint32_t *out)
{
	char *s;
	uint64_t n = 0;
	int rc = one_value(x, v, &s);

	if (!rc)
		rc = parse_u64(x, s, UINT32_MAX, &n);
	if (!rc)
		*out = (uint32_t)n;
	return rc;
}

static int val_u16(struct pctx *x, char *v, uint16_t *out)
{
	char *s;
	uint64_t n = 0;
	int rc = one_value(x, v, &s);

	if (!rc)
		rc = parse_u64(x, s, UINT16_MAX, &n);
	if (!rc)
		*out = (uint16_t)n;
	return rc;
}

/* A number with an optional suffix: mult[] gives each suffix's factor. */
static int val_suffixed(struct pctx *x, char *v, const char *sfx, const uint64_t *mult,
			uint64_t max, uint64_t *out)
{
	char *s, *p;
	uint64_t m = 1, n = 0;
	int rc = one_value(x, v, &s);

	if (rc)
		return rc;
	p = s + strlen(s) - 1;
	if (*s && !isdigit((unsigned char)*p)) {
		const char *f = strchr(sfx, *p);

		if (!f)
			return fail(x, "'%s': bad suffix in '%s'", x->key, s);
		m = mult[f - sfx];
		*p = 0;
	}
	rc = parse_u64(x, s, max, &n);
	if (rc)
		return rc;
	if (n > max / m)
		return fail(x, "'%s' out of range", x->key);
	*out = n * m;
	return 0;
}

static int val_dur(struct pctx *x, char *v, uint32_t *out)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400 };
	uint64_t n = 0;
	int rc = val_suffixed(x, v, "smhd", mult, UINT32_MAX, &n);

	if (!rc)
		*out = (uint32_t)n;
	return rc;
}

static int val_bytes(struct pctx *x, char *v, uint64_t *out)
{
	static const uint64_t mult[] = { 1ull << 10, 1ull << 20, 1ull << 30 };

	return val_suffixed(x, v, "KMG", mult, UINT64_MAX, out);
}

/* Seconds with an optional fraction, as strongSwan's retransmit_timeout. */
static int val_ms(struct pctx *x, char *v, uint32_t *out)
{
	char *s, *end;
	double d;
	int rc = one_value(x, v, &s);

	if (rc)
		return rc;
	d = strtod(s, &end);
	if (!isdigit((unsigned char)*s) || *end || !(d >= 0 && d <= 4e6))
		return fail(x, "'%s': bad number of seconds '%s'", x->key, s);
	*out = (uint32_t)(d * 1000 + 0.5);
	return 0;
}

struct name_val { const char *name; int val; };

static int val_enum(struct pctx *x, char *v, const struct name_val *t, int *out)
{
	char *s;
	int rc = one_value(x, v, &s);

	if (rc)
		return rc;
	for (; t->name; t++)
		if (!strcmp(t->name, s)) {
			*out = t->val;
			return 0;
		}
	return fail(x, "'%s': unknown value '%s'", x->key, s);
}

static const struct name_val bools[] = {
	{ "yes", 1 }, { "true", 1 }, { "no", 0 }, { "false", 0 }, { NULL, 0 } };

static int val_bool(struct pctx *x, char *v, bool *out)
{
	int b = 0;
	int rc = val_enum(x, v, bools, &b);

	if (!rc)
		*out = b;
	return rc;
}

static int parse_ip(const char *s, struct sn_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->addr) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static int val_addrs(struct pctx *x, char *v, struct sn_ip *ips, uint8_t *n, bool *any)
{
	char *items[MAX_ITEMS];
	int k = split_list(x, v, items, IKE_CONF_MAX_ADDRS);

	if (k < 0)
		return k;
	*n = 0;
	for (int i = 0; i < k; i++) {
		if (!strcmp(items[i], "%any")) {
			if (!any)
				continue;
			*any = true;
			continue;
		}
		if (parse_ip(items[i], &ips[*n]))
			return fail(x, "'%s': bad address '%s'", x->key, items[i]);
		(*n)++;
	}
	if (any && *n)
		*any = false;
	return 0;
}

static int val_props(struct pctx *x, char *v, uint8_t proto, struct ike_conf_props *ps)
{
	char *items[MAX_ITEMS];
	char why[160];
	int k = split_list(x, v, items, IKE_CONF_MAX_PROPS);

	if (k < 0)
		return k;
	ps->n = 0;
	for (int i = 0; i < k; i++) {
		if (!strcmp(items[i], "default")) {
			struct ike_conf_props d;

			if (proto == IKE_PROTO_IKE)
				ike_conf_default_ike_props(&d);
			else
				ike_conf_default_esp_props(&d);
			for (uint8_t j = 0; j < d.n && proto != IKE_PROTO_AH; j++) {
				if (ps->n >= IKE_CONF_MAX_PROPS)
					return fail(x, "too many proposals in '%s' (limit %d)",
						    x->key, IKE_CONF_MAX_PROPS);
				ps->p[ps->n++] = d.p[j];
			}
			if (proto != IKE_PROTO_AH)
				continue;
		}
		if (ps->n >= IKE_CONF_MAX_PROPS)
			return fail(x, "too many proposals in '%s' (limit %d)", x->key,
				    IKE_CONF_MAX_PROPS);
		if (ike_conf_prop_parse(items[i], proto, &ps->p[ps->n], why, sizeof(why)))
			return fail(x, "'%s': %s", x->key, why);
		ps->n++;
	}
	return 0;
}

static int val_paths(struct pctx *x, char *v, char (*dst)[IKE_CONF_PATH_MAX + 1],
		     uint8_t *n, bool uri)
{
	char *items[MAX_ITEMS];
	int k = split_list(x, v, items, IKE_CONF_MAX_CERTS);

	if (k < 0)
		return k;
	for (int i = 0; i < k; i++) {
		const char *s = items[i];

		if (uri && !strncmp(s, "file://", 7))
			s += 7;
		else if (uri && strstr(s, "://"))
			return fail(x, "'%s': only file:// URIs are supported", x->key);
		if (strlen(s) > IKE_CONF_PATH_MAX)
			return fail(x, "'%s': path too long (limit %d)", x->key, IKE_CONF_PATH_MAX);
		strcpy(dst[i], s);
	}
	*n = (uint8_t)k;
	return 0;
}

/* ---- Traffic selectors ------------------------------------------------------ */

static const struct name_val ts_protos[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "ipv6-icmp", 58 }, { "icmpv6", 58 },
	{ "sctp", 132 }, { "any", 0 }, { NULL, 0 } };

static int ts_port(struct pctx *x, char *s, struct ike_conf_ts *ts)
{
	char *dash = strchr(s, '-');
	uint64_t lo = 0, hi = 0;

	if (!strcmp(s, "%any"))
		return 0;
	if (dash)
		*dash = 0;
	if (parse_u64(x, s, 65535, &lo))
		return -EINVAL;
	hi = lo;
	if (dash && parse_u64(x, dash + 1, 65535, &hi))
		return -EINVAL;
	if (hi < lo)
		return fail(x, "'%s': port range %llu-%llu is backwards", x->key,
			    (unsigned long long)lo, (unsigned long long)hi);
	ts->port_lo = (uint16_t)lo;
	ts->port_hi = (uint16_t)hi;
	return 0;
}

static int ts_proto_port(struct pctx *x, char *s, struct ike_conf_ts *ts)
{
	char *slash = strchr(s, '/');
	uint64_t n = 0;

	if (slash)
		*slash = 0;
	for (const struct name_val *t = ts_protos; t->name; t++)
		if (!strcmp(t->name, s)) {
			ts->proto = (uint8_t)t->val;
			goto port;
		}
	if (parse_u64(x, s, 255, &n))
		return -EINVAL;
	ts->proto = (uint8_t)n;
port:
	return slash ? ts_port(x, slash + 1, ts) : 0;
}

static void ts_prefix(struct ike_conf_ts *ts, unsigned plen)
{
	unsigned bits = ts->family == AF_INET ? 32 : 128;

	for (unsigned i = 0; i < bits; i++) {
		uint8_t bit = (uint8_t)(0x80 >> (i % 8));

		if (i >= plen) {
			ts->start[i / 8] &= (uint8_t)~bit;
			ts->end[i / 8] |= bit;
		}
	}
}

static int ts_addr(struct pctx *x, char *s, struct ike_conf_ts *ts)
{
	char *dash = strchr(s, '-'), *slash = strchr(s, '/');
	struct sn_ip a = { 0 }, b = { 0 };
	uint64_t plen = 0;
	size_t alen;

	if (dash)
		*dash = 0;
	if (slash)
		*slash = 0;
	if (parse_ip(s, &a) || (dash && parse_ip(dash + 1, &b)) ||
	    (dash && (slash || b.family != a.family)))
		return fail(x, "'%s': bad traffic selector address", x->key);
	ts->family = a.family;
	alen = a.family == AF_INET ? 4 : 16;
	memcpy(ts->start, a.addr, alen);
	memcpy(ts->end, dash ? b.addr : a.addr, alen);
	if (dash && memcmp(ts->start, ts->end, alen) > 0)
		return fail(x, "'%s': address range is backwards", x->key);
	if (slash) {
		if (parse_u64(x, slash + 1, alen * 8, &plen))
			return fail(x, "'%s': bad prefix length", x->key);
		ts_prefix(ts, (unsigned)plen);
	}
	return 0;
}

static int ts_parse(struct pctx *x, char *s, struct ike_conf_ts *ts)
{
	char *br = strchr(s, '[');

	memset(ts, 0, sizeof(*ts));
	ts->port_hi = 65535;
	if (br) {
		size_t n = strlen(br);

		if (n < 2 || br[n - 1] != ']')
			return fail(x, "'%s': unterminated '['", x->key);
		br[n - 1] = 0;
		*br = 0;
		if (ts_proto_port(x, br + 1, ts))
			return -EINVAL;
	}
	if (!strcmp(s, "dynamic")) {
		ts->dynamic = true;
		return 0;
	}
	return ts_addr(x, s, ts);
}

static int val_ts(struct pctx *x, char *v, struct ike_conf_ts *ts, uint8_t *n)
{
	char *items[MAX_ITEMS];
	int k = split_list(x, v, items, IKE_CONF_MAX_TS);

	if (k < 0)
		return k;
	for (int i = 0; i < k; i++)
		if (ts_parse(x, items[i], &ts[i]))
			return -EINVAL;
	*n = (uint8_t)k;
	return 0;
}

/* ---- Secrets' encodings ------------------------------------------------------ */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	return -1;
}

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+') return 62;
	if (ch == '/') return 63;
	return -1;
}

static int dec_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);

	if (n == 0 || n % 2)
		return -EINVAL;
	if (n / 2 > cap)
		return -E2BIG;
	for (size_t i = 0; i < n; i += 2) {
		int h = hexval((unsigned char)s[i]), l = hexval((unsigned char)s[i + 1]);

		if (h < 0 || l < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(h << 4 | l);
	}
	*len = n / 2;
	return 0;
}

static int dec_b64(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s), o = 0, pad = 0;
	uint32_t acc = 0;

	while (n && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n == 0 || (n + pad) % 4 || n % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3 || i == n - 1) {
			size_t k = i % 4;       /* 3: 3 octets, 2: 2, 1: 1 */
			uint32_t full = acc << (6 * (3 - k));

			if (o + k > cap)
				return -E2BIG;
			for (size_t j = 0; j < k; j++)
				out[o++] = (uint8_t)(full >> (16 - 8 * j));
			acc = 0;
		}
	}
	*len = o;
	return 0;
}

static int val_secret(struct pctx *x, char *v, struct ike_conf_secret *s)
{
	char *str;
	size_t len = 0;
	int rc = one_value(x, v, &str);

	if (rc)
		return rc;
	if (!strncmp(str, "0x", 2))
		rc = dec_hex(str + 2, s->secret, sizeof(s->secret), &len);
	else if (!strncmp(str, "0s", 2))
		rc = dec_b64(str + 2, s->secret, sizeof(s->secret), &len);
	else if ((len = strlen(str)) > sizeof(s->secret))
		rc = -E2BIG;
	else
		memcpy(s->secret, str, len);
	if (rc == -E2BIG)
		return fail(x, "secret too long (limit %d octets)", IKE_CONF_SECRET_MAX);
	if (rc)
		return fail(x, "bad %s encoding in secret", str[1] == 'x' ? "hex" : "base64");
	s->len = (uint16_t)len;
	return 0;
}

/* ---- Key handlers, one table per section kind ---------------------------------- */

typedef int (*key_fn)(struct pctx *x, char *v);
struct key_ent { const char *name; key_fn fn; };

#define CONN_U32(f, kind) \
	static int k_conn_##f(struct pctx *x, char *v) { return kind(x, v, &x->conn->f); }
CONN_U32(rekey_time, val_dur)
CONN_U32(reauth_time, val_dur)
CONN_U32(over_time, val_dur)
CONN_U32(dpd_delay, val_dur)
CONN_U32(dpd_timeout, val_dur)
CONN_U32(keyingtries, val_u32)
CONN_U32(local_port, val_u16)
CONN_U32(remote_port, val_u16)
CONN_U32(send_certreq, val_bool)
CONN_U32(encap, val_bool)

#define ENUM_FIELD(fn, obj, field, table) \
	static int fn(struct pctx *x, char *v) \
	{ int e = 0; int rc = val_enum(x, v, table, &e); if (!rc) x->obj->field = e; return rc; }

static const struct name_val frags[] = { { "yes", IKE_FRAG_YES }, { "accept", IKE_FRAG_ACCEPT },
	{ "force", IKE_FRAG_FORCE }, { "no", IKE_FRAG_NO }, { NULL, 0 } };
static const struct name_val childless[] = { { "allow", IKE_CHILDLESS_ALLOW },
	{ "never", IKE_CHILDLESS_NEVER }, { "force", IKE_CHILDLESS_FORCE }, { NULL, 0 } };
static const struct name_val send_cert[] = { { "ifasked", IKE_SEND_CERT_IFASKED },
	{ "always", IKE_SEND_CERT_ALWAYS }, { "never", IKE_SEND_CERT_NEVER }, { NULL, 0 } };
static const struct name_val uniques[] = { { "no", 0 }, { "never", 0 }, { "keep", 0 },
	{ "replace", 0 }, { NULL, 0 } };
ENUM_FIELD(k_fragmentation, conn, fragmentation, frags)
ENUM_FIELD(k_childless, conn, childless, childless)
ENUM_FIELD(k_send_cert, conn, send_cert, send_cert)

static int k_unique(struct pctx *x, char *v)
{
	int e = 0;

	return val_enum(x, v, uniques, &e);     /* accepted; one SA per peer anyway */
}

static int k_version(struct pctx *x, char *v)
{
	uint32_t n = 0;
	int rc = val_u32(x, v, &n);

	if (rc)
		return rc;
	if (n != 2)
		return fail(x, "version %u: only IKEv2 (version = 2) is supported", n);
	return 0;
}

static int k_local_addrs(struct pctx *x, char *v)
{
	return val_addrs(x, v, x->conn->local_addrs, &x->conn->n_local_addrs, NULL);
}

static int k_remote_addrs(struct pctx *x, char *v)
{
	x->conn->remote_any = false;
	return val_addrs(x, v, x->conn->remote_addrs, &x->conn->n_remote_addrs,
			 &x->conn->remote_any);
}

static int k_proposals(struct pctx *x, char *v)
{
	return val_props(x, v, IKE_PROTO_IKE, &x->conn->props);
}

static const struct key_ent conn_keys[] = {
	{ "local_addrs", k_local_addrs }, { "remote_addrs", k_remote_addrs },
	{ "proposals", k_proposals }, { "version", k_version },
	{ "rekey_time", k_conn_rekey_time }, { "reauth_time", k_conn_reauth_time },
	{ "over_time", k_conn_over_time }, { "dpd_delay", k_conn_dpd_delay },
	{ "dpd_timeout", k_conn_dpd_timeout }, { "fragmentation", k_fragmentation },
	{ "childless", k_childless }, { "encap", k_conn_encap },
	{ "send_certreq", k_conn_send_certreq }, { "send_cert", k_send_cert },
	{ "keyingtries", k_conn_keyingtries }, { "unique", k_unique },
	{ "local_port", k_conn_local_port }, { "remote_port", k_conn_remote_port },
	{ NULL, NULL } };

static const struct name_val auths[] = {
	{ "psk", IKE_CAUTH_PSK }, { "pubkey", IKE_CAUTH_PUBKEY }, { "ecdsa", IKE_CAUTH_PUBKEY },
	{ "rsa", IKE_CAUTH_PUBKEY }, { "rsa/pss", IKE_CAUTH_PUBKEY | 0x100 },
	{ "null", IKE_CAUTH_NULL }, { "eap-mschapv2", IKE_CAUTH_EAP_MSCHAPV2 },
	{ "eap", IKE_CAUTH_EAP_MSCHAPV2 }, { NULL, 0 } };

static int k_auth(struct pctx *x, char *v)
{
	int e = 0;
	int rc = val_enum(x, v, auths, &e);

	if (rc)
		return rc;
	x->round->auth = (enum ike_conf_auth_kind)(e & 0xff);
	if (e & 0x100)
		x->round->sig_flags |= IKE_CSIG_RSA_PSS;
	return 0;
}

static int k_id(struct pctx *x, char *v)
{
	return copy_str(x, v, x->round->id, sizeof(x->round->id));
}

static int k_eap_id(struct pctx *x, char *v)
{
	return copy_str(x, v, x->round->eap_id, sizeof(x->round->eap_id));
}

static int k_certs(struct pctx *x, char *v)
{
	return val_paths(x, v, x->round->certs, &x->round->n_certs, false);
}

static int k_cacerts(struct pctx *x, char *v)
{
	return val_paths(x, v, x->round->cacerts, &x->round->n_cacerts, false);
}

static const struct key_ent round_keys[] = {
	{ "auth", k_auth }, { "id", k_id }, { "eap_id", k_eap_id }, { "certs", k_certs },
	{ "cacerts", k_cacerts }, { NULL, NULL } };

static int k_local_ts(struct pctx *x, char *v)
{
	return val_ts(x, v, x->child->local_ts, &x->child->n_local_ts);
}

static int k_remote_ts(struct pctx *x, char *v)
{
	return val_ts(x, v, x->child->remote_ts, &x->child->n_remote_ts);
}

static int k_esp_proposals(struct pctx *x, char *v)
{
	x->child->proto = SN_IPPROTO_ESP;
	return val_props(x, v, IKE_PROTO_ESP, &x->child->props);
}

static int k_ah_proposals(struct pctx *x, char *v)
{
	x->child->proto = SN_IPPROTO_AH;
	return val_props(x, v, IKE_PROTO_AH, &x->child->props);
}

static const struct name_val modes[] = { { "tunnel", SN_MODE_TUNNEL },
	{ "transport", SN_MODE_TRANSPORT }, { NULL, 0 } };
static const struct name_val starts[] = { { "none", IKE_START_NONE },
	{ "start", IKE_START_START }, { "trap", IKE_START_TRAP }, { NULL, 0 } };
static const struct name_val closes[] = { { "none", IKE_CLOSE_NONE },
	{ "clear", IKE_CLOSE_CLEAR }, { "trap", IKE_CLOSE_TRAP }, { "start", IKE_CLOSE_START },
	{ "restart", IKE_CLOSE_START }, { NULL, 0 } };
ENUM_FIELD(k_mode, child, mode, modes)
ENUM_FIELD(k_start_action, child, start_action, starts)
ENUM_FIELD(k_close_action, child, close_action, closes)
ENUM_FIELD(k_dpd_action, child, dpd_action, closes)

#define CHILD_FIELD(f, kind) \
	static int k_child_##f(struct pctx *x, char *v) { return kind(x, v, &x->child->f); }
CHILD_FIELD(rekey_time, val_dur)
CHILD_FIELD(life_time, val_dur)
CHILD_FIELD(rand_time, val_dur)
CHILD_FIELD(rekey_bytes, val_bytes)
CHILD_FIELD(life_bytes, val_bytes)
CHILD_FIELD(replay_window, val_u32)

static const struct key_ent child_keys[] = {
	{ "local_ts", k_local_ts }, { "remote_ts", k_remote_ts },
	{ "esp_proposals", k_esp_proposals }, { "ah_proposals", k_ah_proposals },
	{ "mode", k_mode }, { "start_action", k_start_action },
	{ "close_action", k_close_action }, { "dpd_action", k_dpd_action },
	{ "rekey_time", k_child_rekey_time }, { "life_time", k_child_life_time },
	{ "rand_time", k_child_rand_time }, { "rekey_bytes", k_child_rekey_bytes },
	{ "life_bytes", k_child_life_bytes }, { "replay_window", k_child_replay_window },
	{ NULL, NULL } };

static int k_sec_id(struct pctx *x, char *v)
{
	struct ike_conf_secret *s = x->sec;

	if (s->n_ids >= IKE_CONF_MAX_SECRET_IDS)
		return fail(x, "too many ids in secret '%s' (limit %d)", s->name,
			    IKE_CONF_MAX_SECRET_IDS);
	if (s->kind == IKE_SECRET_PRIVATE)
		return fail(x, "unknown key 'id' in section '%s'", s->name);
	int rc = copy_str(x, v, s->ids[s->n_ids], sizeof(s->ids[0]));

	if (!rc)
		s->n_ids++;
	return rc;
}

static int k_sec_secret(struct pctx *x, char *v)
{
	return val_secret(x, v, x->sec);
}

static int k_sec_file(struct pctx *x, char *v)
{
	if (x->sec->kind != IKE_SECRET_PRIVATE)
		return fail(x, "unknown key 'file' in section '%s'", x->sec->name);
	return copy_str(x, v, x->sec->file, sizeof(x->sec->file));
}

static const struct key_ent secret_keys[] = {
	{ "id", k_sec_id }, { "secret", k_sec_secret }, { "file", k_sec_file },
	{ NULL, NULL } };

static int k_cacert(struct pctx *x, char *v)
{
	return copy_str(x, v, x->auth->cacert, sizeof(x->auth->cacert));
}

static int k_crl_uris(struct pctx *x, char *v)
{
	return val_paths(x, v, x->auth->crls, &x->auth->n_crls, true);
}

static const struct key_ent auth_keys[] = {
	{ "cacert", k_cacert }, { "crl_uris", k_crl_uris }, { NULL, NULL } };

#define SET_FIELD(f, kind) \
	static int k_set_##f(struct pctx *x, char *v) { return kind(x, v, &x->c->settings.f); }
SET_FIELD(cookie_threshold, val_u32)
SET_FIELD(block_threshold, val_u32)
SET_FIELD(half_open_max, val_u32)
SET_FIELD(fragment_size, val_u32)
SET_FIELD(retransmit_timeout_ms, val_ms)
SET_FIELD(retransmit_tries, val_u32)
SET_FIELD(retransmit_max_ms, val_ms)
SET_FIELD(half_open_timeout_s, val_dur)
SET_FIELD(idle_timeout_s, val_dur)
SET_FIELD(max_ike_sas, val_u32)
SET_FIELD(port, val_u16)
SET_FIELD(port_natt, val_u16)

static int k_keylog(struct pctx *x, char *v)
{
	return copy_str(x, v, x->c->settings.keylog, sizeof(x->c->settings.keylog));
}

static int k_eap_users(struct pctx *x, char *v)
{
	return copy_str(x, v, x->c->settings.eap_users, sizeof(x->c->settings.eap_users));
}

static const struct key_ent sealnet_keys[] = {
	{ "cookie_threshold", k_set_cookie_threshold },
	{ "block_threshold", k_set_block_threshold },
	{ "half_open_max", k_set_half_open_max }, { "fragment_size", k_set_fragment_size },
	{ "retransmit_timeout", k_set_retransmit_timeout_ms },
	{ "retransmit_tries", k_set_retransmit_tries },
	{ "retransmit_limit", k_set_retransmit_max_ms },
	{ "half_open_timeout", k_set_half_open_timeout_s },
	{ "idle_timeout", k_set_idle_timeout_s }, { "max_ike_sas", k_set_max_ike_sas },
	{ "port", k_set_port }, { "port_nat_t", k_set_port_natt },
	{ "keylog", k_keylog }, { "eap_users", k_eap_users }, { NULL, NULL } };

static const struct key_ent *const sect_keys[S_COUNT] = {
	[S_CONN] = conn_keys, [S_LROUND] = round_keys, [S_RROUND] = round_keys,
	[S_CHILD] = child_keys, [S_SECRET] = secret_keys, [S_AUTH] = auth_keys,
	[S_SEALNET] = sealnet_keys,
};

/* ---- Sections ------------------------------------------------------------------ */

static void conn_defaults(struct ike_conf_conn *cn)
{
	memset(cn, 0, sizeof(*cn));
	cn->remote_any = true;
	cn->local_port = cn->remote_port = IKE_UDP_PORT;
	cn->rekey_time = 4 * 3600;      /* swanctl.conf: 4h */
	cn->keyingtries = 1;
	cn->send_certreq = true;
	cn->over_time = UINT32_MAX;     /* "10% of the longer of rekey/reauth", at close */
}

static void child_defaults(struct ike_conf_child *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->proto = SN_IPPROTO_ESP;
	ch->mode = SN_MODE_TUNNEL;
	ch->rekey_time = 3600;          /* swanctl.conf: 1h */
	ch->life_time = ch->rand_time = UINT32_MAX;     /* derived at close */
}

static void child_finish(struct ike_conf_child *ch)
{
	if (ch->life_time == UINT32_MAX)
		ch->life_time = (uint32_t)((uint64_t)ch->rekey_time * 11 / 10);
	if (ch->rand_time == UINT32_MAX)
		ch->rand_time = ch->life_time > ch->rekey_time ? ch->life_time - ch->rekey_time : 0;
}

static void conn_finish(struct ike_conf_conn *cn)
{
	uint32_t longer = cn->rekey_time > cn->reauth_time ? cn->rekey_time : cn->reauth_time;

	if (cn->over_time == UINT32_MAX)
		cn->over_time = longer / 10;
}

static int open_conn(struct pctx *x, const char *name)
{
	struct ike_conf *c = x->c;

	if (c->n_conns >= IKE_CONF_MAX_CONNS)
		return fail(x, "too many connections (limit %d)", IKE_CONF_MAX_CONNS);
	if (ike_conf_conn_by_name(c, name))
		return fail(x, "connection '%s' defined twice", name);
	x->conn = &c->conns[c->n_conns++];
	conn_defaults(x->conn);
	strcpy(x->conn->name, name);
	x->conn->line = x->line;
	return S_CONN;
}

/* local, local-N, remote, remote-N: rounds in the order they appear. */
static int open_round(struct pctx *x, const char *name)
{
	bool local = !strncmp(name, "local", 5);
	const char *rest = name + (local ? 5 : 6);
	uint8_t *n = local ? &x->conn->n_local : &x->conn->n_remote;

	if (*rest && (rest[0] != '-' || !rest[1] || strspn(rest + 1, "0123456789") !=
		      strlen(rest + 1)))
		return fail(x, "unknown section '%s' in connection '%s'", name, x->conn->name);
	if (*n >= IKE_CONF_MAX_ROUNDS)
		return fail(x, "too many authentication rounds (limit %d)", IKE_CONF_MAX_ROUNDS);
	x->round = local ? &x->conn->local[(*n)++] : &x->conn->remote[(*n)++];
	return local ? S_LROUND : S_RROUND;
}

static int open_child(struct pctx *x, const char *name)
{
	struct ike_conf_conn *cn = x->conn;

	if (cn->n_children >= IKE_CONF_MAX_CHILDREN)
		return fail(x, "too many children in '%s' (limit %d)", cn->name,
			    IKE_CONF_MAX_CHILDREN);
	x->child = &cn->children[cn->n_children++];
	child_defaults(x->child);
	strcpy(x->child->name, name);
	return S_CHILD;
}

static const struct name_val secret_prefixes[] = {
	{ "ike", IKE_SECRET_IKE }, { "eap", IKE_SECRET_EAP }, { "xauth", IKE_SECRET_EAP },
	{ "private", IKE_SECRET_PRIVATE }, { "ecdsa", IKE_SECRET_PRIVATE },
	{ "rsa", IKE_SECRET_PRIVATE }, { NULL, 0 } };

static int open_secret(struct pctx *x, const char *name)
{
	struct ike_conf *c = x->c;
	size_t n = strcspn(name, "-");

	for (const struct name_val *t = secret_prefixes; t->name; t++) {
		if (strlen(t->name) != n || strncmp(t->name, name, n))
			continue;
		if (c->n_secrets >= IKE_CONF_MAX_SECRETS)
			return fail(x, "too many secrets (limit %d)", IKE_CONF_MAX_SECRETS);
		x->sec = &c->secrets[c->n_secrets++];
		memset(x->sec, 0, sizeof(*x->sec));
		x->sec->kind = (enum ike_conf_secret_kind)t->val;
		strcpy(x->sec->name, name);
		return S_SECRET;
	}
	return fail(x, "unknown secret type '%s' (ike-, eap-, private-, ecdsa-, rsa-)", name);
}

static int open_authority(struct pctx *x, const char *name)
{
	struct ike_conf *c = x->c;

	if (c->n_authorities >= IKE_CONF_MAX_AUTHORITIES)
		return fail(x, "too many authorities (limit %d)", IKE_CONF_MAX_AUTHORITIES);
	x->auth = &c->authorities[c->n_authorities++];
	memset(x->auth, 0, sizeof(*x->auth));
	strcpy(x->auth->name, name);
	return S_AUTH;
}

static int open_root(struct pctx *x, const char *name)
{
	static const struct name_val tops[] = { { "connections", S_CONNS },
		{ "secrets", S_SECRETS }, { "authorities", S_AUTHS }, { "sealnet", S_SEALNET },
		{ NULL, 0 } };

	for (const struct name_val *t = tops; t->name; t++)
		if (!strcmp(t->name, name))
			return t->val;
	return fail(x, "unknown section '%s' at top level", name);
}

static int open_in_conn(struct pctx *x, const char *name)
{
	if (!strcmp(name, "children"))
		return S_CHILDREN;
	if (!strncmp(name, "local", 5) || !strncmp(name, "remote", 6))
		return open_round(x, name);
	return fail(x, "unknown section '%s' in connection '%s'", name, x->conn->name);
}

static int open_section(struct pctx *x, const char *name)
{
	enum sect cur = x->stack[x->depth - 1];

	if (strlen(name) > IKE_CONF_NAME_MAX)
		return fail(x, "section name too long (limit %d)", IKE_CONF_NAME_MAX);
	switch (cur) {
	case S_ROOT: return open_root(x, name);
	case S_CONNS: return open_conn(x, name);
	case S_CONN: return open_in_conn(x, name);
	case S_CHILDREN: return open_child(x, name);
	case S_SECRETS: return open_secret(x, name);
	case S_AUTHS: return open_authority(x, name);
	default:
		return fail(x, "unknown section '%s' in %s", name, sect_names[cur]);
	}
}

static void close_section(struct pctx *x, enum sect s)
{
	if (s == S_CHILD)
		child_finish(x->child);
	else if (s == S_CONN)
		conn_finish(x->conn);
}

/* ---- Lines --------------------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static void strip_comment(char *s)
{
	bool q = false;

	for (; *s; s++) {
		if (*s == '"')
			q = !q;
		else if (*s == '#' && !q) {
			*s = 0;
			return;
		}
	}
}

static bool is_word(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

static int do_key(struct pctx *x, char *l, char *eq)
{
	enum sect cur = x->stack[x->depth - 1];
	const struct key_ent *t = sect_keys[cur];
	char *key, *val;

	*eq = 0;
	key = trim(l);
	val = trim(eq + 1);
	if (!is_word(key, strlen(key)))
		return fail(x, "bad key '%.40s'", key);
	if (!t)
		return fail(x, "unknown key '%s' in %s", key, sect_names[cur]);
	if (!*val)
		return fail(x, "'%s' has no value", key);
	/* id-N in secrets: more identities of one secret */
	if (cur == S_SECRET && !strncmp(key, "id-", 3) && is_word(key + 3, strlen(key + 3)))
		key[2] = 0;
	for (; t->name; t++)
		if (!strcmp(t->name, key)) {
			x->key = key;
			return t->fn(x, val);
		}
	return fail(x, "unknown key '%s' in %s", key, sect_names[cur]);
}

static int do_open(struct pctx *x, char *l)
{
	char *name = trim(l);
	int s;

	if (!is_word(name, strlen(name)))
		return fail(x, "bad section name '%.40s'", name);
	if (x->depth >= MAX_DEPTH)
		return fail(x, "sections nested too deep (limit %d)", MAX_DEPTH - 1);
	s = open_section(x, name);
	if (s < 0)
		return s;
	x->stack[x->depth++] = (enum sect)s;
	return 0;
}

static int do_close(struct pctx *x)
{
	if (x->depth <= 1)
		return fail(x, "'}' without a matching '{'");
	close_section(x, x->stack[--x->depth]);
	return 0;
}

static int do_stmt(struct pctx *x, char *s)
{
	char *eq;

	s = trim(s);
	if (!*s)
		return 0;
	eq = strchr(s, '=');
	if (eq)
		return do_key(x, s, eq);
	return fail(x, "expected 'key = value', 'name {' or '}' at '%.40s'", s);
}

/* The next '{' or '}' outside quotes, or NULL. */
static char *next_brace(char *s)
{
	bool q = false;

	for (; *s; s++) {
		if (*s == '"')
			q = !q;
		else if (!q && (*s == '{' || *s == '}'))
			return s;
	}
	return NULL;
}

/* A line may hold several statements: "a { b = 1 }" (swanctl allows it). */
static int do_line(struct pctx *x, char *l)
{
	char *b;
	int rc = 0;

	strip_comment(l);
	while (!rc && (b = next_brace(l))) {
		char ch = *b;

		*b = 0;
		rc = ch == '{' ? do_open(x, l) : do_stmt(x, l);
		if (!rc && ch == '}')
			rc = do_close(x);
		l = b + 1;
	}
	return rc ? rc : do_stmt(x, l);
}

int ike_conf_parse(struct ike_conf *c, const char *text, size_t len, const char *name,
		   char *err, size_t errlen)
{
	struct pctx x = { .c = c, .name = name ? name : "-", .err = err, .errlen = errlen,
			  .depth = 1, .stack = { S_ROOT } };
	char buf[LINE_MAX_LEN];
	size_t pos = 0;
	int rc = 0;

	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		x.line++;
		if (n >= sizeof(buf))
			rc = fail(&x, "line too long (limit %d)", LINE_MAX_LEN - 1);
		else if (memchr(text + pos, 0, n))
			rc = fail(&x, "NUL byte in line");
		else {
			memcpy(buf, text + pos, n);
			buf[n] = 0;
			rc = do_line(&x, buf);
		}
		pos += n + 1;
	}
	explicit_bzero(buf, sizeof(buf));
	if (!rc && x.depth > 1)
		rc = fail(&x, "unterminated section '%s' (missing '}')",
			  sect_names[x.stack[x.depth - 1]]);
	return rc;
}

int ike_conf_load(struct ike_conf *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;
	int rc;

	if (!f) {
		rc = -errno;
		perr(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1 << 22) ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return perr(err, errlen, "%s: unreadable or larger than 4 MiB", path);
	}
	text = malloc((size_t)n + 1);
	if (!text) {
		fclose(f);
		return -ENOMEM;
	}
	n = (long)fread(text, 1, (size_t)n, f);
	fclose(f);
	snprintf(c->path, sizeof(c->path), "%s", path);
	rc = ike_conf_parse(c, text, (size_t)n, path, err, errlen);
	explicit_bzero(text, (size_t)n);
	free(text);
	return rc;
}

/* ---- New, free, lookups --------------------------------------------------------- */

struct ike_conf *ike_conf_new(void)
{
	struct ike_conf *c = calloc(1, sizeof(*c));
	struct ike_conf_settings *s;

	if (!c)
		return NULL;
	s = &c->settings;
	s->cookie_threshold = 10;
	s->block_threshold = 5;
	s->half_open_max = 10000;
	s->fragment_size = 1280;
	s->retransmit_timeout_ms = IKE_UDP_PORT;
	s->retransmit_tries = 5;
	s->half_open_timeout_s = 30;
	s->idle_timeout_s = 600;
	s->max_ike_sas = 100000;
	s->port = IKE_UDP_PORT;
	s->port_natt = IKE_UDP_PORT_NATT;
	return c;
}

void ike_conf_free(struct ike_conf *c)
{
	if (!c)
		return;
	explicit_bzero(c->secrets, sizeof(c->secrets));
	free(c);
}

static bool ip_eq(const struct sn_ip *a, const struct sn_ip *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && !memcmp(a->addr, b->addr, n);
}

static bool addr_in(const struct sn_ip *ips, uint8_t n, const struct sn_ip *ip)
{
	for (uint8_t i = 0; i < n; i++)
		if (ip && ip_eq(&ips[i], ip))
			return true;
	return false;
}

const struct ike_conf_conn *ike_conf_find_conn(const struct ike_conf *c,
					       const struct sn_ip *local,
					       const struct sn_ip *remote)
{
	const struct ike_conf_conn *any = NULL;

	for (uint32_t i = 0; i < c->n_conns; i++) {
		const struct ike_conf_conn *cn = &c->conns[i];

		if (local && cn->n_local_addrs && !addr_in(cn->local_addrs, cn->n_local_addrs, local))
			continue;
		if (addr_in(cn->remote_addrs, cn->n_remote_addrs, remote))
			return cn;
		if (cn->remote_any && !any)
			any = cn;
	}
	return any;
}

const struct ike_conf_conn *ike_conf_conn_by_name(const struct ike_conf *c, const char *name)
{
	for (uint32_t i = 0; i < c->n_conns; i++)
		if (!strcmp(c->conns[i].name, name))
			return &c->conns[i];
	return NULL;
}

/* How well s matches: 2 both ids named, 1 one, 0 none named (any); -1 ids named
 * but neither matches. */
static int secret_score(const struct ike_conf_secret *s, const char *l, const char *r)
{
	bool lm = false, rm = false;

	if (!s->n_ids)
		return 0;
	for (uint8_t i = 0; i < s->n_ids; i++) {
		lm |= l && *l && !strcmp(s->ids[i], l);
		rm |= r && *r && !strcmp(s->ids[i], r);
	}
	if (!lm && !rm)
		return -1;
	return lm + rm;
}

const struct ike_conf_secret *ike_conf_find_secret(const struct ike_conf *c,
						   enum ike_conf_secret_kind k,
						   const char *local_id, const char *remote_id)
{
	const struct ike_conf_secret *best = NULL;
	int best_score = -1;

	for (uint32_t i = 0; i < c->n_secrets; i++) {
		const struct ike_conf_secret *s = &c->secrets[i];
		int sc;

		if (s->kind != k)
			continue;
		sc = secret_score(s, local_id, remote_id);
		if (sc > best_score) {
			best = s;
			best_score = sc;
		}
	}
	return best;
}
