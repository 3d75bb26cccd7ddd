/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 message building (RFC 7296 3). Payload builders validate their
 * input with the same rules the parsers apply, write through the checked
 * primitives below, and roll the buffer back on any failure.
 */
#include <arpa/inet.h>
#include <string.h>

#include "ike_build.h"

const char *ike_build_strerror(enum ike_build_res r)
{
	switch (r) {
	case IKE_B_OK: return "ok";
	case IKE_B_NOSPACE: return "no-space";
	case IKE_B_INVALID: return "invalid";
	default: return "unknown";
	}
}

void ike_build_init(struct ike_buf *b, uint8_t *mem, size_t cap)
{
	*b = (struct ike_buf){ .p = mem, .cap = cap, .link = IKE_NO_LINK };
}

enum ike_build_res ike_build_bytes(struct ike_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len)
		return IKE_B_NOSPACE;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return IKE_B_OK;
}

static void wr64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

enum ike_build_res ike_build_header(struct ike_buf *b, const struct ike_header *h)
{
	struct ike_hdr w = {
		.next = IKE_PL_NONE,
		.version = (uint8_t)(h->major << 4 | (h->minor & 0x0f)),
		.exchange = h->exchange,
		.flags = h->flags,
		.msgid = htonl(h->msgid),
		.length = htonl(IKE_HDR_LEN),
	};

	if (b->len != 0 || h->major > 15)
		return IKE_B_INVALID;
	wr64(w.ispi, h->ispi);
	wr64(w.rspi, h->rspi);
	if (ike_build_bytes(b, &w, sizeof(w)) != IKE_B_OK)
		return IKE_B_NOSPACE;
	b->has_hdr = true;
	b->link = offsetof(struct ike_hdr, next);
	return IKE_B_OK;
}

enum ike_build_res ike_build_finish(struct ike_buf *b)
{
	uint32_t len = htonl((uint32_t)b->len);

	if (!b->has_hdr || b->len > IKE_MSG_MAX)
		return IKE_B_INVALID;
	memcpy(b->p + offsetof(struct ike_hdr, length), &len, sizeof(len));
	return IKE_B_OK;
}

static void set_link(struct ike_buf *b, uint8_t type)
{
	if (b->link == IKE_NO_LINK)
		b->first = type;
	else
		b->p[b->link] = type;
}

enum ike_build_res ike_build_begin(struct ike_buf *b, uint8_t type,
				   bool critical, size_t *start)
{
	struct ike_gen_hdr g = { IKE_PL_NONE, critical ? IKE_CRITICAL : 0, 0 };

	*start = b->len;
	if (ike_build_bytes(b, &g, sizeof(g)) != IKE_B_OK)
		return IKE_B_NOSPACE;
	set_link(b, type);
	b->link = *start + offsetof(struct ike_gen_hdr, next);
	return IKE_B_OK;
}

enum ike_build_res ike_build_end(struct ike_buf *b, size_t start)
{
	size_t len = b->len - start;
	uint16_t be;

	if (len > UINT16_MAX)
		return IKE_B_INVALID;
	be = htons((uint16_t)len);
	memcpy(b->p + start + offsetof(struct ike_gen_hdr, length), &be, sizeof(be));
	return IKE_B_OK;
}

/* ---- One payload, all or nothing ----------------------------------------- */

struct mark { size_t len, link; uint8_t link_val, first; };

static struct mark mark(const struct ike_buf *b)
{
	return (struct mark){ b->len, b->link,
		b->link == IKE_NO_LINK ? 0 : b->p[b->link], b->first };
}

static enum ike_build_res rollback(struct ike_buf *b, struct mark m,
				   enum ike_build_res r)
{
	if (r != IKE_B_OK) {
		b->len = m.len;
		b->link = m.link;
		b->first = m.first;
		if (m.link != IKE_NO_LINK)
			b->p[m.link] = m.link_val;
	}
	return r;
}

/* A payload whose body is a fixed header and one value: the common shape. */
static enum ike_build_res simple(struct ike_buf *b, uint8_t type,
				 const void *hdr, size_t hlen,
				 const uint8_t *data, size_t dlen)
{
	struct mark m = mark(b);
	size_t start;
	enum ike_build_res r = ike_build_begin(b, type, false, &start);

	if (r == IKE_B_OK)
		r = ike_build_bytes(b, hdr, hlen);
	if (r == IKE_B_OK)
		r = ike_build_bytes(b, data, dlen);
	if (r == IKE_B_OK)
		r = ike_build_end(b, start);
	return rollback(b, m, r);
}

/* ---- SA (3.3) ------------------------------------------------------------- */

static enum ike_build_res put16(struct ike_buf *b, uint16_t v)
{
	uint16_t be = htons(v);

	return ike_build_bytes(b, &be, sizeof(be));
}

static void patch16(struct ike_buf *b, size_t off, uint16_t v)
{
	uint16_t be = htons(v);

	memcpy(b->p + off, &be, sizeof(be));
}

static enum ike_build_res put_transform(struct ike_buf *b,
					const struct ike_transform *x, bool last)
{
	size_t start = b->len;
	struct ike_xform_hdr t = {
		.last = last ? IKE_LAST : IKE_MORE_TRANSFORMS,
		.type = x->type, .id = htons(x->id),
	};
	enum ike_build_res r = ike_build_bytes(b, &t, sizeof(t));

	if (r == IKE_B_OK && x->keylen != 0) {
		r = put16(b, IKE_ATTR_AF | IKE_ATTR_KEY_LENGTH);
		if (r == IKE_B_OK)
			r = put16(b, x->keylen);
	}
	if (r == IKE_B_OK)
		patch16(b, start + offsetof(struct ike_xform_hdr, length),
			(uint16_t)(b->len - start));
	return r;
}

static bool proposal_ok(const struct ike_proposal *p)
{
	bool spi_ok = p->proto == IKE_PROTO_IKE ?
		(p->spi_size == 0 || p->spi_size == IKE_SPI_LEN) :
		((p->proto == IKE_PROTO_ESP || p->proto == IKE_PROTO_AH) &&
		 p->spi_size == IKE_CHILD_SPI_LEN);

	if (!spi_ok || p->ntransforms == 0 || p->ntransforms > IKE_MAX_TRANSFORMS)
		return false;
	for (unsigned i = 0; i < p->ntransforms; i++)
		if (p->xf[i].unknown_attr)
			return false;   /* nothing to write it from */
	return true;
}

static enum ike_build_res put_proposal(struct ike_buf *b,
				       const struct ike_proposal *p, bool last)
{
	size_t start = b->len;
	struct ike_prop_hdr h = {
		.last = last ? IKE_LAST : IKE_MORE_PROPOSALS,
		.num = p->num, .proto = p->proto,
		.spi_size = p->spi_size, .ntransforms = p->ntransforms,
	};
	enum ike_build_res r = ike_build_bytes(b, &h, sizeof(h));

	if (r == IKE_B_OK)
		r = ike_build_bytes(b, p->spi, p->spi_size);
	for (unsigned i = 0; r == IKE_B_OK && i < p->ntransforms; i++)
		r = put_transform(b, &p->xf[i], i + 1 == p->ntransforms);
	if (r == IKE_B_OK && b->len - start > UINT16_MAX)
		r = IKE_B_INVALID;
	if (r == IKE_B_OK)
		patch16(b, start + offsetof(struct ike_prop_hdr, length),
			(uint16_t)(b->len - start));
	return r;
}

/* 3.3.1: numbers start at 1 and grow by 0 or 1. */
static bool sa_ok(const struct ike_sa *sa)
{
	if (sa->nprops == 0 || sa->nprops > IKE_MAX_PROPOSALS)
		return false;
	for (unsigned i = 0; i < sa->nprops; i++) {
		uint8_t num = sa->prop[i].num, prev = i ? sa->prop[i - 1].num : 0;

		/* An answer's one proposal keeps the number it accepted. */
		if (!proposal_ok(&sa->prop[i]) ||
		    (i == 0 ? num == 0 || (num != 1 && sa->nprops > 1) :
		     num != prev && num != (uint8_t)(prev + 1)))
			return false;
	}
	return true;
}

enum ike_build_res ike_build_sa(struct ike_buf *b, const struct ike_sa *sa)
{
	struct mark m = mark(b);
	size_t start;
	enum ike_build_res r;

	if (!sa_ok(sa))
		return IKE_B_INVALID;
	r = ike_build_begin(b, IKE_PL_SA, false, &start);
	for (unsigned i = 0; r == IKE_B_OK && i < sa->nprops; i++)
		r = put_proposal(b, &sa->prop[i], i + 1 == sa->nprops);
	if (r == IKE_B_OK)
		r = ike_build_end(b, start);
	return rollback(b, m, r);
}

/* ---- The simple payloads --------------------------------------------------- */

enum ike_build_res ike_build_ke(struct ike_buf *b, const struct ike_ke *ke)
{
	struct ike_ke_hdr h = { htons(ke->group), 0 };

	if (ke->len == 0 || ke->len > IKE_KE_MAX)
		return IKE_B_INVALID;
	return simple(b, IKE_PL_KE, &h, sizeof(h), ke->data, ke->len);
}

enum ike_build_res ike_build_nonce(struct ike_buf *b, const struct ike_nonce *n)
{
	if (n->len < IKE_NONCE_MIN || n->len > IKE_NONCE_MAX)
		return IKE_B_INVALID;
	return simple(b, IKE_PL_NONCE, NULL, 0, n->data, n->len);
}

enum ike_build_res ike_build_id(struct ike_buf *b, uint8_t type, const struct ike_id *id)
{
	struct ike_id_hdr h = { .type = id->type };
	struct ike_id check;
	uint8_t tmp[IKE_ID_HDR_LEN + IKE_ID_MAX];

	if ((type != IKE_PL_IDI && type != IKE_PL_IDR) || id->len > IKE_ID_MAX)
		return IKE_B_INVALID;
	memcpy(tmp, &h, sizeof(h));
	if (id->len)
		memcpy(tmp + sizeof(h), id->data, id->len);
	if (ike_parse_id(tmp, sizeof(h) + id->len, &check) != IKE_P_OK)
		return IKE_B_INVALID;   /* the parser's rules, exactly */
	return simple(b, type, &h, sizeof(h), id->data, id->len);
}

enum ike_build_res ike_build_auth(struct ike_buf *b, const struct ike_auth *a)
{
	struct ike_auth_hdr h = { .method = a->method };

	if (a->len == 0)
		return IKE_B_INVALID;
	if (a->method == IKE_AUTH_DIGITAL_SIG &&
	    (a->data[0] == 0 || 1u + a->data[0] >= a->len || a->data[1] != 0x30))
		return IKE_B_INVALID;
	return simple(b, IKE_PL_AUTH, &h, sizeof(h), a->data, a->len);
}

enum ike_build_res ike_build_cert(struct ike_buf *b, uint8_t type, const struct ike_cert *c)
{
	struct ike_cert_hdr h = { c->encoding };

	if (type == IKE_PL_CERT ? c->len == 0 :
	    type != IKE_PL_CERTREQ ||
	    (c->encoding == IKE_CERT_X509_SIG && c->len % IKE_CERTREQ_HASH_LEN))
		return IKE_B_INVALID;
	return simple(b, type, &h, sizeof(h), c->data, c->len);
}

enum ike_build_res ike_build_vendor(struct ike_buf *b, const struct ike_vendor *v)
{
	if (v->len == 0)
		return IKE_B_INVALID;
	return simple(b, IKE_PL_VENDOR, NULL, 0, v->data, v->len);
}

/* Notify: the header, the SPI, the data; data sizes checked by the parser. */
enum ike_build_res ike_build_notify(struct ike_buf *b, const struct ike_notify *n)
{
	uint8_t tmp[IKE_NOTIFY_HDR_LEN + IKE_MAX_IKE_SPI_SIZE];
	struct ike_notify_hdr h = { n->proto, n->spi_size, htons(n->type) };
	struct mark m = mark(b);
	size_t start;
	enum ike_build_res r;

	if (n->spi_size != 0 && n->spi_size != IKE_CHILD_SPI_LEN && n->spi_size != IKE_SPI_LEN)
		return IKE_B_INVALID;
	memcpy(tmp, &h, sizeof(h));
	memcpy(tmp + sizeof(h), n->spi, n->spi_size);
	r = ike_build_begin(b, IKE_PL_NOTIFY, false, &start);
	if (r == IKE_B_OK)
		r = ike_build_bytes(b, tmp, sizeof(h) + n->spi_size);
	if (r == IKE_B_OK)
		r = ike_build_bytes(b, n->data, n->len);
	if (r == IKE_B_OK) {
		struct ike_notify check;

		r = ike_build_end(b, start);
		if (r == IKE_B_OK &&
		    ike_parse_notify(b->p + start + IKE_GEN_HDR_LEN,
				     b->len - start - IKE_GEN_HDR_LEN, &check) != IKE_P_OK)
			r = IKE_B_INVALID;
	}
	return rollback(b, m, r);
}

enum ike_build_res ike_build_delete(struct ike_buf *b, const struct ike_delete *d)
{
	struct ike_delete_hdr h = { d->proto, d->spi_size, htons(d->nspi) };
	bool ok = d->proto == IKE_PROTO_IKE ? d->spi_size == 0 && d->nspi == 0 :
		(d->proto == IKE_PROTO_ESP || d->proto == IKE_PROTO_AH) &&
		d->spi_size == IKE_CHILD_SPI_LEN && d->nspi > 0;

	if (!ok)
		return IKE_B_INVALID;
	return simple(b, IKE_PL_DELETE, &h, sizeof(h), d->spis,
		      (size_t)d->nspi * d->spi_size);
}

/* ---- Traffic selectors (3.13.1) ------------------------------------------ */

static enum ike_build_res put_ts(struct ike_buf *b, const struct ike_ts *ts)
{
	size_t alen = ts->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
	struct ike_ts_hdr h = {
		.type = ts->type, .proto = ts->proto,
		.length = htons((uint16_t)(IKE_TS_HDR_LEN + 2 * alen)),
		.start_port = htons(ts->start_port), .end_port = htons(ts->end_port),
	};
	enum ike_build_res r = ike_build_bytes(b, &h, sizeof(h));

	if (r == IKE_B_OK)
		r = ike_build_bytes(b, ts->start, alen);
	if (r == IKE_B_OK)
		r = ike_build_bytes(b, ts->end, alen);
	return r;
}

enum ike_build_res ike_build_ts(struct ike_buf *b, uint8_t type, const struct ike_ts_set *set)
{
	struct ike_ts_payload_hdr h = { .nts = set->n };
	struct mark m = mark(b);
	size_t start;
	enum ike_build_res r;

	if ((type != IKE_PL_TSI && type != IKE_PL_TSR) || set->n == 0 || set->n > IKE_MAX_TS)
		return IKE_B_INVALID;
	for (unsigned i = 0; i < set->n; i++)
		if (set->ts[i].type != IKE_TS_IPV4_ADDR_RANGE &&
		    set->ts[i].type != IKE_TS_IPV6_ADDR_RANGE)
			return IKE_B_INVALID;
	r = ike_build_begin(b, type, false, &start);
	if (r == IKE_B_OK)
		r = ike_build_bytes(b, &h, sizeof(h));
	for (unsigned i = 0; r == IKE_B_OK && i < set->n; i++)
		r = put_ts(b, &set->ts[i]);
	if (r == IKE_B_OK)
		r = ike_build_end(b, start);
	return rollback(b, m, r);
}
