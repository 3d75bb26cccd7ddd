/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/ike/ike_prop.c: the responder's choice as a numbered table (peer
 * order, partial matches, unknown attributes and types, AEAD with and
 * without INTEG NONE, ESN, PFS, key lengths, AH, what the datapath cannot
 * run), offer -> reply -> check_reply round trips through the real
 * builder and parser, the initiator's refusals, names, socket proposals.
 *
 * Proposals are written in a small notation, one proposal per "|":
 * "esp: E20/128 I12 D19 N0" is ESP with ENCR 20 (128-bit key), INTEG 12,
 * DH 19, ESN 0; P is a PRF, Xt:i a transform of type t; a trailing "!"
 * marks a transform with an unknown attribute; "esp#1:" sets the number.
 */
#include <errno.h>

#include <criterion/criterion.h>

#include "../../ipsec/ike/ike_build.h"
#include "../../ipsec/ike/ike_neg.h"
#include "ike_hex.h"

/* ---- The notation ----------------------------------------------------------- */

static uint8_t proto_of(const char **s)
{
	static const struct { const char *w; uint8_t p; } words[] = {
		{ "ike", IKE_PROTO_IKE }, { "esp", IKE_PROTO_ESP }, { "ah", IKE_PROTO_AH },
	};

	while (**s == ' ')
		(*s)++;
	for (size_t i = 0; i < N(words); i++)
		if (strncmp(*s, words[i].w, strlen(words[i].w)) == 0) {
			*s += strlen(words[i].w);
			return words[i].p;
		}
	cr_assert_fail("no protocol at \"%s\"", *s);
	return 0;
}

static uint8_t type_of(char c)
{
	switch (c) {
	case 'E': return IKE_XF_ENCR;
	case 'P': return IKE_XF_PRF;
	case 'I': return IKE_XF_INTEG;
	case 'D': return IKE_XF_DH;
	case 'N': return IKE_XF_ESN;
	default: cr_assert_fail("bad transform letter %c", c); return 0;
	}
}

/* One transform token; *s is at its letter. */
static struct ike_transform xf_of(const char **s)
{
	struct ike_transform x = { 0 };
	char *end;

	if (**s == 'X') {
		x.type = (uint8_t)strtoul(*s + 1, &end, 10);
		cr_assert_eq(*end, ':');
		*s = end + 1;
	} else {
		x.type = type_of(**s);
		(*s)++;
	}
	x.id = (uint16_t)strtoul(*s, &end, 10);
	if (*end == '/')
		x.keylen = (uint16_t)strtoul(end + 1, &end, 10);
	if (*end == '!') {
		x.unknown_attr = true;
		end++;
	}
	*s = end;
	return x;
}

/* A peer's SA payload as parsed. */
static struct ike_sa sa_of(const char *s)
{
	struct ike_sa sa = { 0 };
	uint8_t num = 0;

	while (*s) {
		struct ike_proposal *p = &sa.prop[sa.nprops++];

		p->proto = proto_of(&s);
		p->num = ++num;
		if (*s == '#') {
			p->num = num = (uint8_t)strtoul(s + 1, (char **)&s, 10);
		}
		cr_assert_eq(*s, ':');
		s++;
		p->spi_size = p->proto == IKE_PROTO_IKE ? 0 : 4;
		memset(p->spi, 0xa0 + sa.nprops, p->spi_size);
		while (*s && *s != '|') {
			if (*s == ' ') {
				s++;
				continue;
			}
			p->xf[p->ntransforms++] = xf_of(&s);
		}
		if (*s == '|')
			s++;
	}
	return sa;
}

/* Our proposals in the same notation, without protocols: "E20/128 N0 | ...". */
static struct ike_conf_props props_of(const char *s)
{
	struct ike_conf_props ps = { 0 };

	while (*s) {
		struct ike_conf_prop *q = &ps.p[ps.n++];

		while (*s && *s != '|') {
			struct ike_transform x;

			if (*s == ' ') {
				s++;
				continue;
			}
			x = xf_of(&s);
			switch (x.type) {
			case IKE_XF_ENCR:
				q->encr[q->n_encr].id = x.id;
				q->encr[q->n_encr++].keylen = x.keylen;
				break;
			case IKE_XF_PRF: q->prf[q->n_prf++] = x.id; break;
			case IKE_XF_INTEG: q->integ[q->n_integ++] = x.id; break;
			case IKE_XF_DH: q->dh[q->n_dh++] = x.id; break;
			default: q->esn[q->n_esn++] = x.id; break;
			}
		}
		if (*s == '|')
			s++;
	}
	return ps;
}

/* ---- The responder's choice ------------------------------------------------- */

struct sel_case {
	const char *peer;
	const char *ours;               /* NULL: the defaults */
	uint8_t proto;
	int ke;                         /* -1: need_dh false; 0: need_dh true; else the KE group */
	int want_num;                   /* 0: -ENOENT */
	const char *want;               /* ike_chosen_str */
};

#define IKE IKE_PROTO_IKE
#define ESP IKE_PROTO_ESP
#define AH IKE_PROTO_AH

static const struct sel_case sel_cases[] = {
	/* 1-3: the peer's order wins, for proposals and transforms */
	{ "ike: E12/128 I12 P5 D19 | ike: E20/128 P5 D31", NULL, IKE, 0, 1,
	  "aes128-sha256-prfsha256-ecp256" },
	{ "ike: E20/128 P5 D31 | ike: E12/128 I12 P5 D19", NULL, IKE, 0, 1,
	  "aes128gcm16-prfsha256-x25519" },
	{ "esp: E12/256 I2 N0 | esp: E12/128 I12 I2 N0", "E12/256 E12/128 I12 I2", ESP, -1, 1,
	  "aes256-sha1-noesn" },
	/* 4-6: partial matches are refused */
	{ "ike: E20/128 P7 D31", NULL, IKE, 0, 0, NULL },
	{ "ike: E12/128 I2 P5 D19", NULL, IKE, 0, 0, NULL },
	{ "ike: E20/128 P5 D20", NULL, IKE, 0, 0, NULL },
	/* 7-9: 3.3.6: a transform with an unknown attribute is not acceptable,
	 * the others of its type are; an unknown type rejects the proposal */
	{ "ike: E20/128! P5 D31", NULL, IKE, 0, 0, NULL },
	{ "ike: E20/128! E20/128 P5 D31", NULL, IKE, 0, 1, "aes128gcm16-prfsha256-x25519" },
	{ "ike: E20/128 P5 D31 X6:1 | ike: E12/128 I12 P5 D19", NULL, IKE, 0, 2,
	  "aes128-sha256-prfsha256-ecp256" },
	/* 10-13: AEAD with INTEG NONE, without INTEG, with a real INTEG */
	{ "ike: E20/128 P5 I0 D31", NULL, IKE, 0, 1, "aes128gcm16-prfsha256-x25519" },
	{ "esp: E20/128 N0", NULL, ESP, -1, 1, "aes128gcm16-noesn" },
	{ "esp: E20/128 I12 N0", NULL, ESP, -1, 0, NULL },
	{ "esp: E20/128 E12/128 I12 N0", NULL, ESP, -1, 1, "aes128-sha256-noesn" },
	/* 14-18: ESN */
	{ "esp: E20/128 N1 N0", NULL, ESP, -1, 1, "aes128gcm16-noesn" },
	{ "esp: E20/128 N1", NULL, ESP, -1, 0, NULL },
	{ "esp: E20/128 N0 N1", "E20/128 N1 N0", ESP, -1, 1, "aes128gcm16-noesn" },
	{ "esp: E20/128 N1 N0", "E20/128 N0 N1", ESP, -1, 1, "aes128gcm16-esn" },
	{ "esp: E20/128", NULL, ESP, -1, 0, NULL },     /* ESN is mandatory */
	/* 19-27: PFS */
	{ "esp: E20/128 D19 N0", "E20/128 D19", ESP, 0, 1, "aes128gcm16-ecp256-noesn" },
	{ "esp: E20/128 N0", "E20/128 D19", ESP, 0, 0, NULL },          /* we want PFS */
	{ "esp: E20/128 D0 N0", "E20/128 D19", ESP, 0, 0, NULL },
	{ "esp: E20/128 D19 N0", NULL, ESP, -1, 0, NULL },      /* forced on us */
	{ "esp: E20/128 D19 D0 N0", NULL, ESP, -1, 1, "aes128gcm16-noesn" },
	{ "esp: E20/128 D19 N0", "E20/128 D19", ESP, -1, 1, "aes128gcm16-noesn" },
	{ "esp: E20/128 D19 D0 N0", NULL, ESP, 0, 1, "aes128gcm16-noesn" },
	{ "esp: E20/128 D19 N0", NULL, ESP, 0, 0, NULL },
	{ "esp: E20/128 D31 D19 N0", "E20/128 D19 D31", ESP, 19, 1, "aes128gcm16-ecp256-noesn" },
	/* 28-31: key lengths must be equal */
	{ "esp: E12/192 I12 N0", NULL, ESP, -1, 0, NULL },
	{ "esp: E12 I12 N0", NULL, ESP, -1, 0, NULL },
	{ "esp: E20/256 N0", NULL, ESP, -1, 0, NULL },
	{ "esp: E28/256 N0", "E28", ESP, -1, 0, NULL },
	/* 32-35: AH */
	{ "ah: I12 N0", NULL, AH, -1, 1, "sha256-noesn" },
	{ "ah: I2 N0", NULL, AH, -1, 0, NULL },
	{ "ah: E12/128 I12 N0", NULL, AH, -1, 0, NULL },
	{ "ah: I2 I12 N0", "I2 I12", AH, -1, 1, "sha1-noesn" },
	/* 36-38: only what the datapath runs */
	{ "esp: E20/192 N0", "E20/192", ESP, -1, 0, NULL },
	{ "esp: E20/192 E20/256 N0", "E20/192 E20/256", ESP, -1, 1, "aes256gcm16-noesn" },
	{ "esp: E12/128 I13 I12 N0", "E12/128 I13 I12", ESP, -1, 1, "aes128-sha256-noesn" },
	/* 39-43: protocols and shapes */
	{ "esp#1: E20/128 N0 | ah#1: I12 N0", NULL, ESP, -1, 0, NULL },  /* an AND */
	{ "esp: E20/128 N0", NULL, IKE, 0, 0, NULL },
	{ "esp: E20/128 P5 N0", NULL, ESP, -1, 0, NULL },        /* PRF in ESP */
	{ "ike: E20/128 P5", NULL, IKE, 0, 0, NULL },            /* no DH */
	{ "ike: E20/128 P5 D31 N0", NULL, IKE, 0, 0, NULL },     /* ESN in IKE */
	/* 44-46: the KE's group is preferred inside the chosen proposal only */
	{ "ike: E20/128 P5 D31 D19", "E20/128 P5 D31 D19", IKE, 19, 1,
	  "aes128gcm16-prfsha256-ecp256" },
	{ "ike: E20/128 P5 D31 D19", "E20/128 P5 D31 D19", IKE, 0, 1,
	  "aes128gcm16-prfsha256-x25519" },
	{ "ike: E20/128 P5 D31 | ike: E20/128 P5 D19", "E20/128 P5 D31 D19", IKE, 19, 1,
	  "aes128gcm16-prfsha256-x25519" },
	/* 47-48: NULL encryption takes an HMAC; a cipher without one is refused */
	{ "esp: E11 I12 N0", "E11 I12", ESP, -1, 1, "null-sha256-noesn" },
	{ "esp: E11 N0", "E11 I12", ESP, -1, 0, NULL },
	/* 49-50: a Key Length on a PRF is no PRF of ours; a transform id we
	 * accept but cannot compute is not chosen */
	{ "ike: E20/128 P5/128 D31", NULL, IKE, 0, 0, NULL },
	{ "ike: E20/128 P5 D77 D31", "E20/128 P5 D77 D31", IKE, 0, 1,
	  "aes128gcm16-prfsha256-x25519" },
	{ "ike: E20/128 P9 P5 D31", "E20/128 P9 P5 D31", IKE, 0, 1,
	  "aes128gcm16-prfsha256-x25519" },
};

Test(ike_prop, select_table)
{
	for (size_t i = 0; i < N(sel_cases); i++) {
		const struct sel_case *t = &sel_cases[i];
		struct ike_sa sa = sa_of(t->peer);
		struct ike_conf_props ours = t->ours ? props_of(t->ours) : (struct ike_conf_props){ 0 };
		struct ike_chosen c;
		char name[96];
		int rc = t->ke < 0 ? ike_prop_select(&sa, &ours, t->proto, false, &c) :
			 t->ke == 0 ? ike_prop_select(&sa, &ours, t->proto, true, &c) :
			 ike_prop_select_ke(&sa, &ours, t->proto, (uint16_t)t->ke, &c);

		if (!t->want_num) {
			cr_expect_eq(rc, -ENOENT, "case %zu (%s): %d, %s", i + 1, t->peer, rc,
				     rc ? "" : ike_chosen_str(&c, name, sizeof(name)));
			continue;
		}
		cr_expect_eq(rc, 0, "case %zu (%s): %d", i + 1, t->peer, rc);
		if (rc)
			continue;
		cr_expect_eq(c.num, t->want_num, "case %zu: num %u", i + 1, c.num);
		cr_expect_str_eq(ike_chosen_str(&c, name, sizeof(name)), t->want,
				 "case %zu", i + 1);
		cr_expect_eq(c.spi_size, sa.prop[c.num - 1].spi_size, "case %zu", i + 1);
		cr_expect_arr_eq(c.spi, sa.prop[c.num - 1].spi, c.spi_size, "case %zu", i + 1);
	}
}

/* ---- Offers ----------------------------------------------------------------- */

Test(ike_prop, offer_defaults)
{
	struct ike_sa sa;
	static const uint8_t spi[4] = { 0xc0, 0, 0, 7 };

	cr_assert_eq(ike_prop_offer(NULL, IKE_PROTO_IKE, NULL, 0, true, &sa), 0);
	cr_assert_eq(sa.nprops, 2);
	cr_expect_eq(sa.prop[0].num, 1);
	cr_expect_eq(sa.prop[1].num, 2);
	cr_expect_eq(sa.prop[0].ntransforms, 3);        /* GCM, PRF, X25519 */
	cr_expect_eq(sa.prop[0].xf[0].id, IKE_ENCR_AES_GCM_16);
	cr_expect_eq(sa.prop[0].xf[0].keylen, 128);
	cr_expect_eq(sa.prop[0].xf[2].id, IKE_DH_CURVE25519);
	cr_expect_eq(sa.prop[1].ntransforms, 4);        /* CBC, PRF, INTEG, ECP-256 */
	cr_expect_eq(sa.prop[1].xf[3].id, IKE_DH_ECP_256);

	cr_assert_eq(ike_prop_offer(&(struct ike_conf_props){ 0 }, IKE_PROTO_ESP, spi, 4, false,
				    &sa), 0);
	cr_assert_eq(sa.nprops, 2);
	cr_expect_eq(sa.prop[0].ntransforms, 2);        /* GCM, ESN no */
	cr_expect_eq(sa.prop[0].xf[1].type, IKE_XF_ESN);
	cr_expect_eq(sa.prop[0].xf[1].id, IKE_ESN_NO);
	cr_expect_eq(sa.prop[1].ntransforms, 3);        /* CBC, INTEG, ESN no */
	cr_expect_arr_eq(sa.prop[1].spi, spi, 4);
}

Test(ike_prop, offer_shapes)
{
	struct ike_conf_props mixed = props_of("E12/128 E20/128 I12 D19 N0 N1");
	struct ike_conf_props ike = props_of("E20/128 P5 D31");
	struct ike_sa sa;
	static const uint8_t spi[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	/* A cipher list that mixes classes becomes two proposals (RFC 5282 8),
	 * in the order of its first cipher; PFS only with_dh. */
	cr_assert_eq(ike_prop_offer(&mixed, IKE_PROTO_ESP, spi, 4, true, &sa), 0);
	cr_assert_eq(sa.nprops, 2);
	cr_expect_eq(sa.prop[0].ntransforms, 5);        /* CBC I12 D19 N0 N1 */
	cr_expect_eq(sa.prop[1].ntransforms, 4);        /* GCM D19 N0 N1 */
	cr_expect_eq(sa.prop[1].xf[0].id, IKE_ENCR_AES_GCM_16);
	cr_expect_eq(sa.prop[1].xf[1].type, IKE_XF_DH);
	cr_assert_eq(ike_prop_offer(&mixed, IKE_PROTO_ESP, spi, 4, false, &sa), 0);
	cr_expect_eq(sa.prop[0].ntransforms, 4);
	cr_expect_eq(sa.prop[1].ntransforms, 3);

	/* SPI sizes: IKE 0 or 8, ESP/AH 4; an IKE SA always has a group. */
	cr_expect_eq(ike_prop_offer(&ike, IKE_PROTO_IKE, spi, 8, true, &sa), 0);
	cr_expect_eq(sa.prop[0].spi_size, 8);
	cr_expect_eq(ike_prop_offer(&ike, IKE_PROTO_IKE, spi, 4, true, &sa), -EINVAL);
	cr_expect_eq(ike_prop_offer(&ike, IKE_PROTO_IKE, NULL, 0, false, &sa), -EINVAL);
	cr_expect_eq(ike_prop_offer(NULL, IKE_PROTO_ESP, spi, 8, false, &sa), -EINVAL);
	cr_expect_eq(ike_prop_offer(NULL, IKE_PROTO_ESP, NULL, 4, false, &sa), -EINVAL);
	cr_expect_eq(ike_prop_offer(NULL, 9, spi, 4, false, &sa), -EINVAL);
	/* What a protocol's proposal cannot hold */
	struct ike_conf_props bad[] = {
		props_of("E12/128 P5 D19"),     /* IKE: a CBC without INTEG */
		props_of("E20/128 D19"),        /* IKE: no PRF */
		props_of("E20/128 P5 D19 N0"),  /* IKE: an ESN */
	};
	for (size_t i = 0; i < N(bad); i++)
		cr_expect_eq(ike_prop_offer(&bad[i], IKE_PROTO_IKE, NULL, 0, true, &sa), -EINVAL,
			     "bad %zu", i);
	struct ike_conf_props esp_prf = props_of("E20/128 P5"), ah_enc = props_of("E12/128 I12");
	cr_expect_eq(ike_prop_offer(&esp_prf, IKE_PROTO_ESP, spi, 4, false, &sa), -EINVAL);
	cr_expect_eq(ike_prop_offer(&ah_enc, IKE_PROTO_AH, spi, 4, false, &sa), -EINVAL);
	struct ike_conf_props over = ike;
	over.p[0].n_dh = IKE_CONF_MAX_XF + 1;
	cr_expect_eq(ike_prop_offer(&over, IKE_PROTO_IKE, NULL, 0, true, &sa), -EINVAL);
}

/* ---- Round trips through the wire ------------------------------------------ */

/* build then parse, as the peer sees it */
static struct ike_sa wire(const struct ike_sa *sa)
{
	static uint8_t mem[8192];
	struct ike_buf b;
	struct ike_chain ch;
	struct ike_sa out;

	ike_build_init(&b, mem, sizeof(mem));
	cr_assert_eq(ike_build_sa(&b, sa), IKE_B_OK);
	cr_assert_eq(ike_parse_chain(b.first, mem, b.len, 0, &ch), IKE_P_OK);
	cr_assert_eq(ch.n, 1);
	cr_assert_eq(ike_parse_sa(ch.pl[0].body, ch.pl[0].len, &out), IKE_P_OK);
	return out;
}

struct trip {
	const char *init, *resp;        /* NULL: defaults */
	uint8_t proto;
	bool with_dh;
	const char *want;
};

static const struct trip trips[] = {
	{ NULL, NULL, IKE_PROTO_IKE, true, "aes128gcm16-prfsha256-x25519" },
	{ NULL, "E12/128 I12 P5 D19", IKE_PROTO_IKE, true, "aes128-sha256-prfsha256-ecp256" },
	{ NULL, NULL, IKE_PROTO_ESP, false, "aes128gcm16-noesn" },
	{ "E12/256 E20/256 I2 I12 D19 N1 N0", "E20/256 D19 N1", IKE_PROTO_ESP, true,
	  "aes256gcm16-ecp256-esn" },
	{ "E12/256 E20/256 I2 I12 D19 N1 N0", "E12/256 I12", IKE_PROTO_ESP, false,
	  "aes256-sha256-noesn" },
	{ "E28 | E20/128", "E20/128 | E28", IKE_PROTO_ESP, false, "chacha20poly1305-noesn" },
	{ "I2 I12", "I12", IKE_PROTO_AH, false, "sha256-noesn" },
};

Test(ike_prop, offer_reply_check)
{
	static const uint8_t ispi[4] = { 0xc1, 1, 1, 1 }, rspi[4] = { 0xc2, 2, 2, 2 };

	for (size_t i = 0; i < N(trips); i++) {
		const struct trip *t = &trips[i];
		struct ike_conf_props in = t->init ? props_of(t->init) : (struct ike_conf_props){ 0 };
		struct ike_conf_props re = t->resp ? props_of(t->resp) : (struct ike_conf_props){ 0 };
		uint8_t sz = t->proto == IKE_PROTO_IKE ? 0 : 4;
		struct ike_sa offer, got, reply, back;
		struct ike_chosen rc, ic;
		char name[96];

		cr_assert_eq(ike_prop_offer(&in, t->proto, ispi, sz, t->with_dh, &offer), 0, "%zu", i);
		got = wire(&offer);
		cr_assert_eq(ike_prop_select(&got, &re, t->proto, t->with_dh, &rc), 0, "%zu", i);
		cr_expect_str_eq(ike_chosen_str(&rc, name, sizeof(name)), t->want, "trip %zu", i);
		cr_expect_arr_eq(rc.spi, ispi, sz);
		cr_assert_eq(ike_prop_reply(&rc, rspi, sz, &reply), 0);
		/* ike_build_sa and ike_parse_sa want a payload's first proposal
		 * to be number 1 (3.3.1 for offers), so an answer that accepts
		 * proposal 2 (whose number must be 2, 3.3.6) cannot be built or
		 * parsed yet: such answers are checked as structs. */
		back = rc.num == 1 ? wire(&reply) : reply;
		cr_assert_eq(ike_prop_check_reply(&back, &offer, &ic), 0, "trip %zu", i);
		cr_expect_eq(ic.num, rc.num);
		cr_expect_eq(ic.encr, rc.encr);
		cr_expect_eq(ic.encr_keylen, rc.encr_keylen);
		cr_expect_eq(ic.prf, rc.prf);
		cr_expect_eq(ic.integ, rc.integ);
		cr_expect_eq(ic.dh, rc.dh);
		cr_expect_eq(ic.esn, rc.esn);
		cr_expect_eq(ic.spi_size, sz);
		cr_expect_arr_eq(ic.spi, rspi, sz);
	}
}

/* The initiator's refusals: each answer against the same offer. */
struct chk_case {
	const char *answer;
	int want;
	const char *want_str;
};

static const char chk_offer[] =
	"esp: E20/128 D19 D0 N0 N1 | esp: E12/128 I12 D19 D0 N0 | esp: E28 D31 N0";

static const struct chk_case chk_cases[] = {
	{ "esp#1: E20/128 D19 N0", 0, "aes128gcm16-ecp256-noesn" },
	{ "esp#1: E20/128 N1", 0, "aes128gcm16-esn" },          /* we offered NONE */
	{ "esp#1: E20/128 I0 D0 N0", 0, "aes128gcm16-noesn" },  /* NONE spelt out */
	{ "esp#2: E12/128 I12 D19 N0", 0, "aes128-sha256-ecp256-noesn" },
	{ "esp#1: E20/128 N0 | esp#2: E12/128 I12 N0", -EBADMSG, NULL },  /* two */
	{ "esp#4: E20/128 N0", -EBADMSG, NULL },                /* a number we never sent */
	{ "esp#1: E20/256 N0", -EBADMSG, NULL },                /* never offered */
	{ "esp#1: E12/128 I12 N0", -EBADMSG, NULL },            /* proposal 2's cipher */
	{ "esp#1: E20/128 I12 N0", -EBADMSG, NULL },            /* INTEG with an AEAD */
	{ "esp#1: E20/128 D31 N0", -EBADMSG, NULL },            /* a group not in 1 */
	{ "esp#3: E28 N0", -EBADMSG, NULL },                    /* PFS refused */
	{ "esp#2: E12/128 N0", -EBADMSG, NULL },                /* INTEG missing */
	{ "esp#2: E12/128 I0 N0", -EBADMSG, NULL },             /* INTEG NONE with CBC */
	{ "esp#1: E20/128", -EBADMSG, NULL },                   /* ESN missing */
	{ "esp#1: E20/128 N0 N1", -EBADMSG, NULL },             /* two of a type */
	{ "esp#1: E20/128! N0", -EBADMSG, NULL },               /* unknown attribute */
	{ "esp#1: E20/128 N0 X6:1", -EBADMSG, NULL },           /* unknown type */
	{ "ah#1: I12 N0", -EBADMSG, NULL },                     /* another protocol */
	{ "esp#1: N0", -EBADMSG, NULL },                        /* no cipher */
};

Test(ike_prop, check_reply_table)
{
	struct ike_sa offer = sa_of(chk_offer);

	for (size_t i = 0; i < N(chk_cases); i++) {
		struct ike_sa ans = sa_of(chk_cases[i].answer);
		struct ike_chosen c;
		char name[96];
		int rc = ike_prop_check_reply(&ans, &offer, &c);

		cr_expect_eq(rc, chk_cases[i].want, "case %zu (%s): %d", i + 1,
			     chk_cases[i].answer, rc);
		if (rc == 0 && chk_cases[i].want == 0)
			cr_expect_str_eq(ike_chosen_str(&c, name, sizeof(name)),
					 chk_cases[i].want_str, "case %zu", i + 1);
	}
	/* The SPI size must be the offer's */
	struct ike_sa ans = sa_of("esp#1: E20/128 N0");
	struct ike_chosen c;
	ans.prop[0].spi_size = 8;
	cr_expect_eq(ike_prop_check_reply(&ans, &offer, &c), -EBADMSG);
	ans.nprops = 0;
	cr_expect_eq(ike_prop_check_reply(&ans, &offer, &c), -EBADMSG);
}

Test(ike_prop, reply_refuses)
{
	struct ike_sa out;
	static const uint8_t spi[4] = { 0xc0, 0, 0, 1 };
	struct ike_chosen esp = { .proto = IKE_PROTO_ESP, .num = 1, .encr = IKE_ENCR_AES_GCM_16,
				  .encr_keylen = 128 };
	struct ike_chosen c = esp;

	cr_expect_eq(ike_prop_reply(&esp, spi, 4, &out), 0);
	cr_expect_eq(out.prop[0].ntransforms, 2);
	cr_expect_eq(ike_prop_reply(&esp, spi, 0, &out), -EINVAL);
	c.num = 0;
	cr_expect_eq(ike_prop_reply(&c, spi, 4, &out), -EINVAL);
	c = esp;
	c.encr = 0;
	cr_expect_eq(ike_prop_reply(&c, spi, 4, &out), -EINVAL);
	c = (struct ike_chosen){ .proto = IKE_PROTO_IKE, .num = 1, .encr = IKE_ENCR_AES_GCM_16,
				 .encr_keylen = 128, .prf = IKE_PRF_HMAC_SHA2_256 };
	cr_expect_eq(ike_prop_reply(&c, NULL, 0, &out), -EINVAL);      /* no DH */
	c.dh = IKE_DH_CURVE25519;
	cr_expect_eq(ike_prop_reply(&c, NULL, 0, &out), 0);
	cr_expect_eq(out.prop[0].ntransforms, 3);
}

/* ---- Names, the INVALID_KE group, sockets ----------------------------------- */

Test(ike_prop, names)
{
	char buf[96], tiny[8];
	struct ike_chosen c = { .proto = IKE_PROTO_IKE, .encr = IKE_ENCR_AES_CBC,
				.encr_keylen = 256, .integ = IKE_INTEG_HMAC_SHA2_384_192,
				.prf = IKE_PRF_HMAC_SHA2_384, .dh = IKE_DH_ECP_384 };

	cr_expect_str_eq(ike_chosen_str(&c, buf, sizeof(buf)), "aes256-sha384-prfsha384-ecp384");
	c = (struct ike_chosen){ .proto = IKE_PROTO_ESP, .encr = 999, .integ = 77, .dh = 99,
				 .esn = IKE_ESN_YES };
	cr_expect_str_eq(ike_chosen_str(&c, buf, sizeof(buf)), "encr999-integ77-dh99-esn");
	c = (struct ike_chosen){ .proto = IKE_PROTO_ESP, .encr = IKE_ENCR_CHACHA20_POLY1305 };
	cr_expect_str_eq(ike_chosen_str(&c, tiny, sizeof(tiny)), "chacha2");   /* truncated */
}

Test(ike_prop, select_refuses_bad_input)
{
	struct ike_sa sa = sa_of("esp: E20/128 N0");
	struct ike_conf_props many = { .n = IKE_CONF_MAX_PROPS + 1 };
	struct ike_chosen c;

	cr_expect_eq(ike_prop_select(&sa, NULL, 9, false, &c), -EINVAL);
	cr_expect_eq(ike_prop_select(&sa, &many, IKE_PROTO_ESP, false, &c), -EINVAL);
	cr_expect_eq(ike_prop_offer(&many, IKE_PROTO_ESP, (const uint8_t *)"\xc0\0\0\1", 4,
				    false, &sa), -EINVAL);
}

Test(ike_prop, every_name)
{
	static const struct { uint16_t encr, bits, integ, prf, dh; const char *want; } names[] = {
		{ IKE_ENCR_AES_CTR, 128, IKE_INTEG_AES_XCBC_96, IKE_PRF_HMAC_SHA1, IKE_DH_MODP_2048,
		  "aes128ctr-aesxcbc-prfsha1-modp2048" },
		{ IKE_ENCR_AES_GCM_8, 256, 0, IKE_PRF_HMAC_SHA2_512, IKE_DH_ECP_521,
		  "aes256gcm8-prfsha512-ecp521" },
		{ IKE_ENCR_AES_GCM_12, 192, 0, 99, 0, "aes192gcm12-prf99" },
		{ IKE_ENCR_NULL_AUTH_AES_GMAC, 128, 0, 0, 0, "aes128gmac" },
		{ IKE_ENCR_3DES, 0, IKE_INTEG_AES_GMAC_128, 0, 0, "3des-aes128gmac" },
		{ IKE_ENCR_NULL, 0, IKE_INTEG_AES_GMAC_256, 0, 0, "null-aes256gmac" },
		{ IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_512_256, 0, 0, "aes128-sha512" },
	};
	char buf[96];

	for (size_t i = 0; i < N(names); i++) {
		struct ike_chosen c = { .proto = IKE_PROTO_IKE, .encr = names[i].encr,
					.encr_keylen = names[i].bits, .integ = names[i].integ,
					.prf = names[i].prf, .dh = names[i].dh };

		cr_expect_str_eq(ike_chosen_str(&c, buf, sizeof(buf)), names[i].want);
	}
	cr_expect_null(ike_chosen_str(&(struct ike_chosen){ 0 }, NULL, 0));
}

Test(ike_prop, first_dh)
{
	struct ike_conf_props p = props_of("E20/128 P5 | E20/128 P5 D20 D19");

	cr_expect_eq(ike_prop_first_dh(NULL), IKE_DH_CURVE25519);
	cr_expect_eq(ike_prop_first_dh(&p), IKE_DH_ECP_384);
	p = props_of("E20/128 P5 D77");
	cr_expect_eq(ike_prop_first_dh(&p), IKE_DH_NONE);       /* none we can compute */
}

Test(ike_prop, from_socket)
{
	struct sn_proposal sp[] = {
		{ .proto = SN_IPPROTO_ESP, .enc = SN_ENC_AES_GCM },             /* any size */
		{ .proto = SN_IPPROTO_ESP, .enc = SN_ENC_AES_CBC, .enc_key_len = 32,
		  .auth = SN_AUTH_HMAC_SHA1_96 },
		{ .proto = SN_IPPROTO_ESP, .enc = SN_ENC_NULL, .auth = SN_AUTH_HMAC_SHA256_128 },
		{ .proto = SN_IPPROTO_ESP, .enc = SN_ENC_CHACHA20_POLY1305 },
		{ .proto = SN_IPPROTO_AH, .auth = SN_AUTH_HMAC_SHA256_128 },
	};
	struct ike_conf_props out;
	struct ike_sa offer, got;
	struct ike_chosen c;
	char name[64];

	cr_assert_eq(ike_prop_from_socket(sp, 4, &out), 0);
	cr_assert_eq(out.n, 4);
	cr_expect_eq(out.p[0].n_encr, 2);
	cr_expect_eq(out.p[0].encr[0].keylen, 128);
	cr_expect_eq(out.p[0].encr[1].keylen, 256);
	cr_expect_eq(out.p[0].n_integ, 0);
	cr_expect_eq(out.p[1].encr[0].keylen, 256);
	cr_expect_eq(out.p[1].integ[0], IKE_INTEG_HMAC_SHA1_96);
	cr_expect_eq(out.p[2].encr[0].id, IKE_ENCR_NULL);
	cr_expect_eq(out.p[3].encr[0].id, IKE_ENCR_CHACHA20_POLY1305);
	cr_expect_eq(ike_prop_from_socket(sp, 5, &out), -EINVAL);       /* ESP and AH */
	cr_assert_eq(ike_prop_from_socket_for(sp, 5, SN_IPPROTO_AH, &out), 0);
	cr_expect_eq(out.n, 1);
	cr_expect_eq(out.p[0].n_encr, 0);

	/* what a socket accepts, offered, is what the datapath runs */
	cr_assert_eq(ike_prop_from_socket(sp, 4, &out), 0);
	cr_assert_eq(ike_prop_offer(&out, IKE_PROTO_ESP, (const uint8_t *)"\xc0\0\0\1", 4, false,
				    &offer), 0);
	got = wire(&offer);
	struct ike_conf_props resp = props_of("E12/256 I2");
	cr_assert_eq(ike_prop_select(&got, &resp, IKE_PROTO_ESP, false, &c), 0);
	cr_expect_str_eq(ike_chosen_str(&c, name, sizeof(name)), "aes256-sha1-noesn");

	struct sn_proposal bad[] = {
		{ .proto = SN_IPPROTO_ESP, .enc = SN_ENC_AES_GCM, .auth = SN_AUTH_HMAC_SHA1_96 },
		{ .proto = SN_IPPROTO_ESP, .enc = SN_ENC_AES_CBC },             /* no HMAC */
		{ .proto = SN_IPPROTO_ESP, .enc = SN_ENC_AES_CBC, .enc_key_len = 24,
		  .auth = SN_AUTH_HMAC_SHA1_96 },
		{ .proto = SN_IPPROTO_ESP, .enc = 42, .auth = SN_AUTH_HMAC_SHA1_96 },
		{ .proto = SN_IPPROTO_AH, .enc = SN_ENC_AES_CBC, .auth = SN_AUTH_HMAC_SHA1_96 },
		{ .proto = SN_IPPROTO_AH },
		{ .proto = 17, .enc = SN_ENC_AES_GCM },
	};
	for (size_t i = 0; i < N(bad); i++)
		cr_expect_eq(ike_prop_from_socket(&bad[i], 1, &out), -EINVAL, "bad %zu", i);
	struct sn_proposal many[IKE_CONF_MAX_PROPS + 1];
	for (size_t i = 0; i < N(many); i++)
		many[i] = sp[3];
	cr_expect_eq(ike_prop_from_socket(many, N(many), &out), -E2BIG);
}

/* Structs no parser would make (counts past their arrays, any byte
 * anywhere): nothing is read out of bounds (run under ASan), nothing is
 * chosen that the rules refuse. */
Test(ike_prop, garbage_structs)
{
	static struct ike_sa sa, offer;
	uint32_t x = 0x9e3779b9;
	struct ike_chosen c;

	cr_assert_eq(ike_prop_offer(NULL, IKE_PROTO_ESP, (const uint8_t *)"\xc0\0\0\1", 4, false,
				    &offer), 0);
	for (unsigned iter = 0; iter < 300; iter++) {
		uint8_t *b = (uint8_t *)&sa;

		for (size_t i = 0; i < sizeof(sa); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b[i] = (uint8_t)x;
		}
		for (unsigned k = 0; k < IKE_MAX_PROPOSALS; k++)       /* valid bools */
			for (unsigned t = 0; t < IKE_MAX_TRANSFORMS; t++)
				sa.prop[k].xf[t].unknown_attr = (k + t + iter) % 7 == 0;
		if (iter % 2) {         /* plausible shapes, random content */
			sa.nprops = (uint8_t)(1 + x % 3);
			for (unsigned k = 0; k < sa.nprops; k++) {
				sa.prop[k].proto = (uint8_t)(1 + (x >> k) % 3);
				sa.prop[k].spi_size = 4;
				sa.prop[k].num = 1;
				sa.prop[k].ntransforms = (uint8_t)(x >> (8 + k) & 7);
				for (unsigned t = 0; t < IKE_MAX_TRANSFORMS; t++) {
					sa.prop[k].xf[t].type = (uint8_t)(1 + sa.prop[k].xf[t].type % 6);
					sa.prop[k].xf[t].id %= 32;
					sa.prop[k].xf[t].keylen = sa.prop[k].xf[t].keylen % 2 ? 128 : 0;
				}
			}
		}
		for (uint8_t proto = 1; proto <= 3; proto++)
			if (ike_prop_select(&sa, NULL, proto, iter % 3 == 0, &c) == 0) {
				cr_expect_eq(c.proto, proto);
				cr_expect(c.encr || proto == IKE_PROTO_AH);
			}
		if (ike_prop_check_reply(&sa, &offer, &c) == 0)
			cr_expect_eq(c.num, sa.prop[0].num);
	}
}
