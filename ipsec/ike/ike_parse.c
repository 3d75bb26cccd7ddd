/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 payload validators and parsers (RFC 7296 3). Each function checks
 * a length against the bytes that remain before reading any field that
 * length covers, copies fixed headers into aligned locals, and returns a
 * named result; no state outside its output struct is touched, so each can
 * be table-tested and fuzzed alone (tests/unit/test_ike_parse.c,
 * tests/fuzz/fuzz_ike_parse.c).
 */
#include <arpa/inet.h>
#include <string.h>

#include "ike_parse.h"

const char *ike_parse_strerror(enum ike_parse_res r)
{
	static const char *const names[IKE_P__COUNT] = {
		[IKE_P_OK] = "ok",
		[IKE_P_TRUNCATED] = "truncated",
		[IKE_P_LEN_SHORT] = "length-too-small",
		[IKE_P_LEN_OVER] = "length-beyond-data",
		[IKE_P_LEN_MISMATCH] = "lengths-disagree",
		[IKE_P_TOO_LARGE] = "too-large",
		[IKE_P_TOO_MANY] = "too-many-items",
		[IKE_P_BAD_VERSION] = "bad-major-version",
		[IKE_P_CRITICAL] = "unsupported-critical-payload",
		[IKE_P_BAD_SYNTAX] = "bad-syntax",
		[IKE_P_BAD_SIZE] = "bad-value-size",
		[IKE_P_UNSUPPORTED] = "unsupported-type",
		[IKE_P_NOT_LAST] = "encrypted-payload-not-last",
	};

	return (unsigned)r < IKE_P__COUNT ? names[r] : "unknown";
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- Header and chain ---------------------------------------------------- */

/* 3.1. The datagram must be exactly the header's length: a shorter one is
 * truncated, and trailing bytes would escape the ICV. */
enum ike_parse_res ike_parse_header(const uint8_t *buf, size_t len,
				    struct ike_header *h)
{
	struct ike_hdr w;

	memset(h, 0, sizeof(*h));
	if (len < IKE_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&w, buf, sizeof(w));
	h->ispi = rd64(w.ispi);
	h->rspi = rd64(w.rspi);
	h->next = w.next;
	h->major = IKE_MAJOR(w.version);
	h->minor = IKE_MINOR(w.version);
	h->exchange = w.exchange;
	h->flags = w.flags;
	h->msgid = ntohl(w.msgid);
	h->length = ntohl(w.length);
	if (h->major != 2)
		return IKE_P_BAD_VERSION;
	if (h->length < IKE_HDR_LEN)
		return IKE_P_LEN_SHORT;
	if (h->length > IKE_MSG_MAX)
		return IKE_P_TOO_LARGE;
	return h->length == len ? IKE_P_OK : IKE_P_LEN_MISMATCH;
}

static bool known_payload(uint8_t t)
{
	return (t >= IKE_PL_SA && t <= IKE_PL_EAP) || t == IKE_PL_SKF;
}

static bool is_encrypted(uint8_t t)
{
	return t == IKE_PL_SK || t == IKE_PL_SKF;
}

/* 3.2: a payload we do not know is skipped unless its critical bit is set. */
static enum ike_parse_res chain_add(struct ike_chain *c, uint8_t type,
				    const struct ike_gen_hdr *g, const uint8_t *body)
{
	bool critical = (g->flags & IKE_CRITICAL) != 0;

	if (!known_payload(type)) {
		if (critical) {
			c->bad_type = type;
			return IKE_P_CRITICAL;
		}
		c->skipped++;
		return IKE_P_OK;
	}
	if (c->n == IKE_MAX_PAYLOADS)
		return IKE_P_TOO_MANY;
	c->pl[c->n++] = (struct ike_payload){ type, critical,
		(uint16_t)(ntohs(g->length) - IKE_GEN_HDR_LEN), body };
	return IKE_P_OK;
}

/* One step of the walk: the generic header at `off`, checked against what
 * remains; on success *type becomes the next payload's type, or the first
 * inner type after SK/SKF, which ends the walk. */
static enum ike_parse_res chain_step(struct ike_chain *c, const uint8_t *buf,
				     size_t len, size_t *off, uint8_t *type,
				     unsigned flags)
{
	struct ike_gen_hdr g;
	size_t rem = len - *off;
	uint16_t plen;
	enum ike_parse_res r;

	if (rem < IKE_GEN_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&g, buf + *off, sizeof(g));
	plen = ntohs(g.length);
	if (plen < IKE_GEN_HDR_LEN)
		return IKE_P_LEN_SHORT;
	if (plen > rem)
		return IKE_P_LEN_OVER;
	if (is_encrypted(*type) && (flags & IKE_CHAIN_INNER))
		return IKE_P_BAD_SYNTAX;
	if (is_encrypted(*type) && plen != rem)
		return IKE_P_NOT_LAST;          /* 3.14: SK is the last payload */
	r = chain_add(c, *type, &g, buf + *off + IKE_GEN_HDR_LEN);
	if (r != IKE_P_OK)
		return r;
	*off += plen;
	if (is_encrypted(*type)) {
		c->sk_next = g.next;
		*type = IKE_PL_NONE;
	} else {
		*type = g.next;
	}
	return IKE_P_OK;
}

enum ike_parse_res ike_parse_chain(uint8_t first, const uint8_t *buf,
				   size_t len, unsigned flags,
				   struct ike_chain *c)
{
	uint8_t type = first;
	unsigned visited = 0;
	enum ike_parse_res r = IKE_P_OK;

	memset(c, 0, sizeof(*c));
	while (type != IKE_PL_NONE && r == IKE_P_OK) {
		if (++visited > 2 * IKE_MAX_PAYLOADS)   /* skipped ones count too */
			r = IKE_P_TOO_MANY;
		else
			r = chain_step(c, buf, len, &c->err_off, &type, flags);
	}
	if (r == IKE_P_OK && c->err_off != len)
		r = IKE_P_LEN_MISMATCH;                 /* bytes after the last payload */
	return r;
}

enum ike_parse_res ike_parse_message(const uint8_t *buf, size_t len,
				     struct ike_msg *m)
{
	enum ike_parse_res r = ike_parse_header(buf, len, &m->hdr);

	if (r != IKE_P_OK) {
		memset(&m->chain, 0, sizeof(m->chain));
		return r;
	}
	r = ike_parse_chain(m->hdr.next, buf + IKE_HDR_LEN, len - IKE_HDR_LEN, 0,
			    &m->chain);
	m->chain.err_off += IKE_HDR_LEN;
	return r;
}

/* ---- SA payload (3.3) ------------------------------------------------------ */

static enum ike_parse_res parse_attr(const uint8_t *p, size_t rem,
				     struct ike_transform *x, size_t *used)
{
	struct ike_attr_hdr a;
	uint16_t type;

	if (rem < IKE_ATTR_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&a, p, sizeof(a));
	type = ntohs(a.type);
	*used = IKE_ATTR_HDR_LEN;
	if (!(type & IKE_ATTR_AF)) {                    /* TLV */
		if (ntohs(a.value) > rem - IKE_ATTR_HDR_LEN)
			return IKE_P_LEN_OVER;
		*used += ntohs(a.value);
		if (type == IKE_ATTR_KEY_LENGTH)
			return IKE_P_BAD_SYNTAX;        /* 3.3.5: Key Length is TV */
		x->unknown_attr = true;
		return IKE_P_OK;
	}
	if ((type & ~IKE_ATTR_AF) != IKE_ATTR_KEY_LENGTH) {
		x->unknown_attr = true;
		return IKE_P_OK;
	}
	if (x->keylen != 0 || ntohs(a.value) == 0)
		return IKE_P_BAD_SYNTAX;                /* twice, or zero bits */
	x->keylen = ntohs(a.value);
	return IKE_P_OK;
}

static enum ike_parse_res parse_attrs(const uint8_t *p, size_t len,
				      struct ike_transform *x)
{
	unsigned n = 0;

	while (len > 0) {
		size_t used;
		enum ike_parse_res r;

		if (++n > IKE_MAX_ATTRS)
			return IKE_P_TOO_MANY;
		r = parse_attr(p, len, x, &used);
		if (r != IKE_P_OK)
			return r;
		p += used;
		len -= used;
	}
	return IKE_P_OK;
}

/* 3.3.2. `*last` gets the transform's Last Substructure value. */
static enum ike_parse_res parse_transform(const uint8_t *p, size_t rem,
					  struct ike_transform *x,
					  size_t *used, uint8_t *last)
{
	struct ike_xform_hdr t;
	uint16_t tlen;

	if (rem < IKE_XFORM_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&t, p, sizeof(t));
	tlen = ntohs(t.length);
	if (tlen < IKE_XFORM_HDR_LEN)
		return IKE_P_LEN_SHORT;
	if (tlen > rem)
		return IKE_P_LEN_OVER;
	if (t.last != IKE_LAST && t.last != IKE_MORE_TRANSFORMS)
		return IKE_P_BAD_SYNTAX;
	*x = (struct ike_transform){ .type = t.type, .id = ntohs(t.id) };
	*used = tlen;
	*last = t.last;
	return parse_attrs(p + IKE_XFORM_HDR_LEN, tlen - IKE_XFORM_HDR_LEN, x);
}

/* The transforms fill the proposal's body exactly, their count agrees with
 * the header's, and only the final one says "last". */
static enum ike_parse_res parse_transforms(const uint8_t *p, size_t len,
					   struct ike_proposal *pr, uint8_t want)
{
	uint8_t last = IKE_MORE_TRANSFORMS;

	if (want > IKE_MAX_TRANSFORMS)
		return IKE_P_TOO_MANY;
	for (unsigned i = 0; i < want; i++) {
		size_t used;
		enum ike_parse_res r;

		if (last == IKE_LAST)
			return IKE_P_LEN_MISMATCH;      /* "last" before the count */
		r = parse_transform(p, len, &pr->xf[i], &used, &last);
		if (r != IKE_P_OK)
			return r;
		p += used;
		len -= used;
	}
	pr->ntransforms = want;
	if (len != 0 || (want > 0 && last != IKE_LAST))
		return IKE_P_LEN_MISMATCH;
	return IKE_P_OK;
}

/* 3.3.1: IKE SPIs are 8 octets (absent in the first IKE_SA_INIT), ESP and
 * AH SPIs 4. */
static bool spi_size_ok(uint8_t proto, uint8_t size)
{
	if (proto == IKE_PROTO_IKE)
		return size == 0 || size == IKE_SPI_LEN;
	return (proto == IKE_PROTO_ESP || proto == IKE_PROTO_AH) &&
	       size == IKE_CHILD_SPI_LEN;
}

static enum ike_parse_res parse_proposal(const uint8_t *p, size_t rem,
					 struct ike_proposal *pr, size_t *used,
					 uint8_t *last)
{
	struct ike_prop_hdr h;
	uint16_t plen;

	if (rem < IKE_PROP_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, p, sizeof(h));
	plen = ntohs(h.length);
	if (plen < IKE_PROP_HDR_LEN + (size_t)h.spi_size)
		return IKE_P_LEN_SHORT;
	if (plen > rem)
		return IKE_P_LEN_OVER;
	if ((h.last != IKE_LAST && h.last != IKE_MORE_PROPOSALS) ||
	    !spi_size_ok(h.proto, h.spi_size) || h.ntransforms == 0)
		return IKE_P_BAD_SYNTAX;
	memset(pr, 0, sizeof(*pr));
	pr->num = h.num;
	pr->proto = h.proto;
	pr->spi_size = h.spi_size;
	memcpy(pr->spi, p + IKE_PROP_HDR_LEN, h.spi_size);
	*used = plen;
	*last = h.last;
	return parse_transforms(p + IKE_PROP_HDR_LEN + h.spi_size,
				plen - IKE_PROP_HDR_LEN - h.spi_size, pr, h.ntransforms);
}

/* 3.3.1: an offer's first proposal is number 1, each next one the same
 * number (an AND of protocols) or one more; an answer's one proposal
 * carries the number it accepted (checked in ike_parse_sa, at the end). */
static bool prop_num_ok(const struct ike_sa *sa, uint8_t num)
{
	if (sa->nprops == 0)
		return num != 0;
	uint8_t prev = sa->prop[sa->nprops - 1].num;

	return num == prev || num == (uint8_t)(prev + 1);
}

enum ike_parse_res ike_parse_sa(const uint8_t *body, size_t len, struct ike_sa *sa)
{
	uint8_t last = IKE_MORE_PROPOSALS;

	sa->nprops = 0;
	if (len == 0)
		return IKE_P_TRUNCATED;         /* at least one proposal */
	while (len > 0) {
		size_t used;
		enum ike_parse_res r;

		if (last == IKE_LAST)
			return IKE_P_LEN_MISMATCH;      /* bytes after the last one */
		if (sa->nprops == IKE_MAX_PROPOSALS)
			return IKE_P_TOO_MANY;
		r = parse_proposal(body, len, &sa->prop[sa->nprops], &used, &last);
		if (r != IKE_P_OK)
			return r;
		if (!prop_num_ok(sa, sa->prop[sa->nprops].num))
			return IKE_P_BAD_SYNTAX;
		sa->nprops++;
		body += used;
		len -= used;
	}
	if (last != IKE_LAST)
		return IKE_P_TRUNCATED;
	/* More than one proposal (or an AND of them) is an offer. */
	if (sa->nprops > 1 && sa->prop[0].num != 1)
		return IKE_P_BAD_SYNTAX;
	return IKE_P_OK;
}

/* ---- Simple payloads ------------------------------------------------------- */

/* 3.4. Whether the length fits the group is the exchange's check (it
 * answers INVALID_KE_PAYLOAD or INVALID_SYNTAX); here: present and bounded. */
enum ike_parse_res ike_parse_ke(const uint8_t *body, size_t len, struct ike_ke *ke)
{
	struct ike_ke_hdr h;

	memset(ke, 0, sizeof(*ke));
	if (len < IKE_KE_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, body, sizeof(h));
	ke->group = ntohs(h.group);
	if (len == IKE_KE_HDR_LEN)
		return IKE_P_BAD_SIZE;
	if (len - IKE_KE_HDR_LEN > IKE_KE_MAX)
		return IKE_P_TOO_LARGE;
	ke->len = (uint16_t)(len - IKE_KE_HDR_LEN);
	ke->data = body + IKE_KE_HDR_LEN;
	return IKE_P_OK;
}

/* 3.9: 16 to 256 octets. */
enum ike_parse_res ike_parse_nonce(const uint8_t *body, size_t len, struct ike_nonce *n)
{
	memset(n, 0, sizeof(*n));
	if (len < IKE_NONCE_MIN || len > IKE_NONCE_MAX)
		return IKE_P_BAD_SIZE;
	n->len = (uint16_t)len;
	n->data = body;
	return IKE_P_OK;
}

/* 3.5: addresses have their size; names carry no terminators. */
static enum ike_parse_res id_data_ok(uint8_t type, const uint8_t *d, size_t len)
{
	switch (type) {
	case IKE_ID_IPV4_ADDR: return len == 4 ? IKE_P_OK : IKE_P_BAD_SIZE;
	case IKE_ID_IPV6_ADDR: return len == 16 ? IKE_P_OK : IKE_P_BAD_SIZE;
	case IKE_ID_NULL: return len == 0 ? IKE_P_OK : IKE_P_BAD_SIZE;  /* RFC 7619 3 */
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
		if (len == 0)
			return IKE_P_BAD_SIZE;
		return memchr(d, 0, len) ? IKE_P_BAD_SYNTAX : IKE_P_OK;
	case IKE_ID_DER_ASN1_DN:
	case IKE_ID_DER_ASN1_GN:
	case IKE_ID_KEY_ID:
		return len == 0 ? IKE_P_BAD_SIZE : IKE_P_OK;
	default:
		return IKE_P_UNSUPPORTED;
	}
}

enum ike_parse_res ike_parse_id(const uint8_t *body, size_t len, struct ike_id *id)
{
	struct ike_id_hdr h;

	memset(id, 0, sizeof(*id));
	if (len < IKE_ID_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, body, sizeof(h));
	id->type = h.type;
	if (len - IKE_ID_HDR_LEN > IKE_ID_MAX)
		return IKE_P_TOO_LARGE;
	id->len = (uint16_t)(len - IKE_ID_HDR_LEN);
	id->data = body + IKE_ID_HDR_LEN;
	return id_data_ok(id->type, id->data, id->len);
}

/* RFC 7427 3: length octet, AlgorithmIdentifier (a DER SEQUENCE), signature. */
static enum ike_parse_res parse_digital_sig(struct ike_auth *a)
{
	uint8_t alen = a->data[0];

	if (alen == 0)
		return IKE_P_LEN_SHORT;
	if ((size_t)IKE_SIG_ALGID_LEN_LEN + alen >= a->len)
		return IKE_P_LEN_OVER;                  /* no room for a signature */
	if (a->data[1] != 0x30)
		return IKE_P_BAD_SYNTAX;
	a->algid_len = alen;
	a->algid = a->data + IKE_SIG_ALGID_LEN_LEN;
	a->sig = a->algid + alen;
	a->sig_len = (uint16_t)(a->len - IKE_SIG_ALGID_LEN_LEN - alen);
	return IKE_P_OK;
}

enum ike_parse_res ike_parse_auth(const uint8_t *body, size_t len, struct ike_auth *a)
{
	struct ike_auth_hdr h;

	memset(a, 0, sizeof(*a));
	if (len < IKE_AUTH_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, body, sizeof(h));
	a->method = h.method;
	if (len == IKE_AUTH_HDR_LEN)
		return IKE_P_BAD_SIZE;
	a->len = (uint16_t)(len - IKE_AUTH_HDR_LEN);
	a->data = body + IKE_AUTH_HDR_LEN;
	return a->method == IKE_AUTH_DIGITAL_SIG ? parse_digital_sig(a) : IKE_P_OK;
}

static enum ike_parse_res parse_cert_common(const uint8_t *body, size_t len,
					    struct ike_cert *c)
{
	memset(c, 0, sizeof(*c));
	if (len < IKE_CERT_HDR_LEN)
		return IKE_P_TRUNCATED;
	c->encoding = body[0];
	c->len = (uint16_t)(len - IKE_CERT_HDR_LEN);
	c->data = body + IKE_CERT_HDR_LEN;
	return IKE_P_OK;
}

/* 3.6 */
enum ike_parse_res ike_parse_cert(const uint8_t *body, size_t len, struct ike_cert *c)
{
	enum ike_parse_res r = parse_cert_common(body, len, c);

	if (r == IKE_P_OK && c->len == 0)
		return IKE_P_BAD_SIZE;
	return r;
}

/* 3.7: for X.509 signatures, a list of 20-octet SHA-1 hashes (possibly
 * empty: "any CA"). */
enum ike_parse_res ike_parse_certreq(const uint8_t *body, size_t len, struct ike_cert *c)
{
	enum ike_parse_res r = parse_cert_common(body, len, c);

	if (r == IKE_P_OK && c->encoding == IKE_CERT_X509_SIG &&
	    c->len % IKE_CERTREQ_HASH_LEN != 0)
		return IKE_P_BAD_SIZE;
	return r;
}

/* ---- Notify (3.10) --------------------------------------------------------- */

/* The sizes the notifies this implementation acts on must have. */
static enum ike_parse_res notify_data_ok(const struct ike_notify *n)
{
	switch (n->type) {
	case IKE_N_COOKIE:
		return n->len >= IKE_COOKIE_MIN && n->len <= IKE_COOKIE_MAX ?
		       IKE_P_OK : IKE_P_BAD_SIZE;
	case IKE_N_INVALID_KE_PAYLOAD:
		return n->len == IKE_INVALID_KE_DATA_LEN ? IKE_P_OK : IKE_P_BAD_SIZE;
	case IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD:
		return n->len == IKE_UNSUPP_CRIT_DATA_LEN ? IKE_P_OK : IKE_P_BAD_SIZE;
	case IKE_N_NAT_DETECTION_SOURCE_IP:
	case IKE_N_NAT_DETECTION_DESTINATION_IP:
		return n->len == IKE_NAT_HASH_LEN ? IKE_P_OK : IKE_P_BAD_SIZE;
	case IKE_N_SIGNATURE_HASH_ALGORITHMS:
		return n->len > 0 && n->len % IKE_SIGHASH_LEN == 0 ?
		       IKE_P_OK : IKE_P_BAD_SIZE;
	case IKE_N_REKEY_SA:
		return n->spi_size == IKE_CHILD_SPI_LEN ? IKE_P_OK : IKE_P_BAD_SIZE;
	default:
		return IKE_P_OK;
	}
}

enum ike_parse_res ike_parse_notify(const uint8_t *body, size_t len, struct ike_notify *n)
{
	struct ike_notify_hdr h;

	memset(n, 0, sizeof(*n));
	if (len < IKE_NOTIFY_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, body, sizeof(h));
	n->proto = h.proto;
	n->spi_size = h.spi_size;
	n->type = ntohs(h.type);
	if (h.spi_size != 0 && h.spi_size != IKE_CHILD_SPI_LEN && h.spi_size != IKE_SPI_LEN)
		return IKE_P_BAD_SYNTAX;
	if (h.spi_size > len - IKE_NOTIFY_HDR_LEN)
		return IKE_P_LEN_OVER;
	memcpy(n->spi, body + IKE_NOTIFY_HDR_LEN, h.spi_size);
	n->len = (uint16_t)(len - IKE_NOTIFY_HDR_LEN - h.spi_size);
	n->data = body + IKE_NOTIFY_HDR_LEN + h.spi_size;
	return notify_data_ok(n);
}

uint16_t ike_notify_ke_group(const struct ike_notify *n)
{
	return (uint16_t)(n->data[0] << 8 | n->data[1]);
}

uint32_t ike_notify_child_spi(const struct ike_notify *n)
{
	return (uint32_t)n->spi[0] << 24 | (uint32_t)n->spi[1] << 16 |
	       (uint32_t)n->spi[2] << 8 | n->spi[3];
}

/* ---- Delete (3.11) --------------------------------------------------------- */

enum ike_parse_res ike_parse_delete(const uint8_t *body, size_t len, struct ike_delete *d)
{
	struct ike_delete_hdr h;

	memset(d, 0, sizeof(*d));
	if (len < IKE_DELETE_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, body, sizeof(h));
	d->proto = h.proto;
	d->spi_size = h.spi_size;
	d->nspi = ntohs(h.nspi);
	if (h.proto == IKE_PROTO_IKE) {
		if (h.spi_size != 0 || d->nspi != 0)
			return IKE_P_BAD_SYNTAX;        /* the SA it travels in */
	} else if (h.proto != IKE_PROTO_ESP && h.proto != IKE_PROTO_AH) {
		return IKE_P_BAD_SYNTAX;
	} else if (h.spi_size != IKE_CHILD_SPI_LEN || d->nspi == 0) {
		return IKE_P_BAD_SYNTAX;
	}
	if ((size_t)d->nspi * d->spi_size != len - IKE_DELETE_HDR_LEN)
		return IKE_P_LEN_MISMATCH;
	d->spis = body + IKE_DELETE_HDR_LEN;
	return IKE_P_OK;
}

/* 3.12 */
enum ike_parse_res ike_parse_vendor(const uint8_t *body, size_t len, struct ike_vendor *v)
{
	memset(v, 0, sizeof(*v));
	if (len == 0)
		return IKE_P_BAD_SIZE;
	v->len = (uint16_t)len;
	v->data = body;
	return IKE_P_OK;
}

/* ---- Traffic selectors (3.13) ---------------------------------------------- */

static enum ike_parse_res parse_one_ts(const uint8_t *p, size_t rem,
				       struct ike_ts *ts, size_t *used)
{
	struct ike_ts_hdr h;
	uint16_t tlen;
	size_t alen;

	if (rem < IKE_TS_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, p, sizeof(h));
	tlen = ntohs(h.length);
	if (tlen < IKE_TS_HDR_LEN)
		return IKE_P_LEN_SHORT;
	if (tlen > rem)
		return IKE_P_LEN_OVER;
	if (h.type == IKE_TS_IPV4_ADDR_RANGE)
		alen = 4;
	else if (h.type == IKE_TS_IPV6_ADDR_RANGE)
		alen = 16;
	else
		return IKE_P_UNSUPPORTED;
	if (tlen != IKE_TS_HDR_LEN + 2 * alen)
		return IKE_P_LEN_MISMATCH;
	memset(ts, 0, sizeof(*ts));
	ts->type = h.type;
	ts->proto = h.proto;
	ts->start_port = ntohs(h.start_port);
	ts->end_port = ntohs(h.end_port);
	memcpy(ts->start, p + IKE_TS_HDR_LEN, alen);
	memcpy(ts->end, p + IKE_TS_HDR_LEN + alen, alen);
	*used = tlen;
	return IKE_P_OK;
}

enum ike_parse_res ike_parse_ts(const uint8_t *body, size_t len, struct ike_ts_set *set)
{
	struct ike_ts_payload_hdr h;

	set->n = 0;
	if (len < IKE_TS_PAYLOAD_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, body, sizeof(h));
	if (h.nts == 0)
		return IKE_P_BAD_SYNTAX;
	if (h.nts > IKE_MAX_TS)
		return IKE_P_TOO_MANY;
	body += IKE_TS_PAYLOAD_HDR_LEN;
	len -= IKE_TS_PAYLOAD_HDR_LEN;
	for (unsigned i = 0; i < h.nts; i++) {
		size_t used;
		enum ike_parse_res r = parse_one_ts(body, len, &set->ts[i], &used);

		if (r != IKE_P_OK)
			return r;
		body += used;
		len -= used;
		set->n = (uint8_t)(i + 1);
	}
	return len == 0 ? IKE_P_OK : IKE_P_LEN_MISMATCH;
}

/* ---- Encrypted Fragment (RFC 7383 2.5) and EAP (3.16) ---------------------- */

enum ike_parse_res ike_parse_skf(const uint8_t *body, size_t len, struct ike_skf *f)
{
	struct ike_skf_hdr h;

	memset(f, 0, sizeof(*f));
	if (len < IKE_SKF_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, body, sizeof(h));
	f->frag_num = ntohs(h.frag_num);
	f->total = ntohs(h.total);
	if (f->frag_num == 0 || f->total == 0 || f->frag_num > f->total)
		return IKE_P_BAD_SYNTAX;
	if (f->total > IKE_FRAG_MAX)
		return IKE_P_TOO_MANY;
	f->len = (uint16_t)(len - IKE_SKF_HDR_LEN);
	f->data = body + IKE_SKF_HDR_LEN;
	return IKE_P_OK;
}

/* RFC 3748 4: Request and Response carry a type; Success and Failure are
 * the bare 4-octet header. The EAP length must be the payload's. */
enum ike_parse_res ike_parse_eap(const uint8_t *body, size_t len, struct ike_eap *e)
{
	struct ike_eap_hdr h;
	uint16_t elen;

	memset(e, 0, sizeof(*e));
	if (len < IKE_EAP_HDR_LEN)
		return IKE_P_TRUNCATED;
	memcpy(&h, body, sizeof(h));
	elen = ntohs(h.length);
	if (elen != len)
		return IKE_P_LEN_MISMATCH;
	e->code = h.code;
	e->id = h.id;
	e->len = elen;
	e->msg = body;
	switch (h.code) {
	case IKE_EAP_REQUEST:
	case IKE_EAP_RESPONSE:
		if (elen == IKE_EAP_HDR_LEN)
			return IKE_P_TRUNCATED;
		e->type = body[IKE_EAP_HDR_LEN];
		return IKE_P_OK;
	case IKE_EAP_SUCCESS:
	case IKE_EAP_FAILURE:
		return elen == IKE_EAP_HDR_LEN ? IKE_P_OK : IKE_P_LEN_MISMATCH;
	default:
		return IKE_P_BAD_SYNTAX;
	}
}
