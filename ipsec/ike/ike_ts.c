/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Traffic selectors (RFC 7296 2.9, 3.13): from configuration and from a
 * socket's flow, the responder's narrowing, the initiator's check that
 * the answer only narrowed, flow lookup, and the SPD's prefix selectors.
 * Pure functions over struct ike_ts_set (ike_parse.h).
 *
 * A selector is an address range, a protocol (0: any) and a port range;
 * addresses compare as big-endian octet strings (4 for IPv4, 16 for
 * IPv6, the selector's type says which). A selector whose start is past
 * its end (RFC 4301's OPAQUE ports, or a malformed one) is empty: it
 * intersects nothing, is inside nothing and holds nothing.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_neg.h"

#define PORT_ANY_LO     0
#define PORT_ANY_HI     65535

static size_t ts_alen(uint8_t type)
{
	return type == IKE_TS_IPV4_ADDR_RANGE ? 4 : type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 0;
}

static uint8_t ts_type_of(uint8_t family)
{
	return family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE :
	       family == AF_INET6 ? IKE_TS_IPV6_ADDR_RANGE : 0;
}

static bool ts_empty(const struct ike_ts *t)
{
	size_t n = ts_alen(t->type);

	return n == 0 || t->start_port > t->end_port || memcmp(t->start, t->end, n) > 0;
}

/* One address, all ports, any protocol (proto, ports narrowed after). */
static void ts_single(struct ike_ts *t, const struct sn_ip *ip)
{
	size_t n = ts_alen(ts_type_of(ip->family));

	memset(t, 0, sizeof(*t));
	t->type = ts_type_of(ip->family);
	t->end_port = PORT_ANY_HI;
	memcpy(t->start, ip->addr, n);
	memcpy(t->end, ip->addr, n);
}

/* ---- From configuration and from a flow -------------------------------------- */

static int ts_from_one(const struct ike_conf_ts *c, const struct sn_ip *self, struct ike_ts *t)
{
	uint8_t type;

	if (c->dynamic) {
		if (!self || ts_type_of(self->family) == 0)
			return -EINVAL;
		ts_single(t, self);
	} else {
		type = ts_type_of(c->family);
		if (type == 0)
			return -EINVAL;
		memset(t, 0, sizeof(*t));
		t->type = type;
		memcpy(t->start, c->start, ts_alen(type));
		memcpy(t->end, c->end, ts_alen(type));
	}
	t->proto = c->proto;
	/* 0-0 is how a conf struct filled in C says "any"; port 0 itself
	 * is no TCP or UDP port. */
	t->start_port = c->port_lo;
	t->end_port = c->port_lo == 0 && c->port_hi == 0 ? PORT_ANY_HI : c->port_hi;
	return ts_empty(t) ? -EINVAL : 0;
}

int ike_ts_from_conf(const struct ike_conf_ts *ts, unsigned n, const struct sn_ip *self,
		     struct ike_ts_set *out)
{
	static const struct ike_conf_ts dynamic = { .dynamic = true };

	memset(out, 0, sizeof(*out));
	if (n > IKE_MAX_TS || (n && !ts))
		return -EINVAL;
	if (n == 0) {
		ts = &dynamic;
		n = 1;
	}
	for (unsigned i = 0; i < n; i++) {
		int rc = ts_from_one(&ts[i], self, &out->ts[i]);

		if (rc != 0) {
			memset(out, 0, sizeof(*out));
			return rc;
		}
	}
	out->n = (uint8_t)n;
	return 0;
}

int ike_ts_from_flow(const struct sn_ip *addr, uint8_t proto, uint16_t port,
		     struct ike_ts_set *out)
{
	memset(out, 0, sizeof(*out));
	if (!addr || ts_type_of(addr->family) == 0)
		return -EINVAL;
	ts_single(&out->ts[0], addr);
	out->ts[0].proto = proto;
	if (port != 0) {
		out->ts[0].start_port = port;
		out->ts[0].end_port = port;
	}
	out->n = 1;
	return 0;
}

/* ---- Narrowing and containment ------------------------------------------------- */

static const uint8_t *max_addr(const uint8_t *a, const uint8_t *b, size_t n)
{
	return memcmp(a, b, n) >= 0 ? a : b;
}

static const uint8_t *min_addr(const uint8_t *a, const uint8_t *b, size_t n)
{
	return memcmp(a, b, n) <= 0 ? a : b;
}

/* The intersection of two selectors; false when it is empty. */
static bool ts_intersect(const struct ike_ts *a, const struct ike_ts *b, struct ike_ts *out)
{
	size_t n = ts_alen(a->type);

	if (a->type != b->type || ts_empty(a) || ts_empty(b))
		return false;
	if (a->proto && b->proto && a->proto != b->proto)
		return false;
	memset(out, 0, sizeof(*out));
	out->type = a->type;
	out->proto = a->proto ? a->proto : b->proto;
	out->start_port = a->start_port > b->start_port ? a->start_port : b->start_port;
	out->end_port = a->end_port < b->end_port ? a->end_port : b->end_port;
	memcpy(out->start, max_addr(a->start, b->start, n), n);
	memcpy(out->end, min_addr(a->end, b->end, n), n);
	return !ts_empty(out);
}

static bool ts_same(const struct ike_ts *a, const struct ike_ts *b)
{
	size_t n = ts_alen(a->type);

	return a->type == b->type && a->proto == b->proto && a->start_port == b->start_port &&
	       a->end_port == b->end_port && memcmp(a->start, b->start, n) == 0 &&
	       memcmp(a->end, b->end, n) == 0;
}

static bool set_has(const struct ike_ts_set *s, const struct ike_ts *t)
{
	for (unsigned i = 0; i < s->n; i++)
		if (ts_same(&s->ts[i], t))
			return true;
	return false;
}

/* 2.9: in the proposer's order, so the triggering packet's selector (the
 * first) stays first; duplicates once; at most IKE_MAX_TS, the rest
 * narrowed away (the answer may be smaller than what both allow). */
int ike_ts_narrow(const struct ike_ts_set *proposed, const struct ike_ts_set *ours,
		  struct ike_ts_set *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < proposed->n && i < IKE_MAX_TS; i++) {
		for (unsigned j = 0; j < ours->n && j < IKE_MAX_TS; j++) {
			struct ike_ts t;

			if (out->n == IKE_MAX_TS)
				return 0;
			if (ts_intersect(&proposed->ts[i], &ours->ts[j], &t) && !set_has(out, &t))
				out->ts[out->n++] = t;
		}
	}
	return out->n ? 0 : -ENOENT;
}

static bool ts_inside(const struct ike_ts *in, const struct ike_ts *out)
{
	size_t n = ts_alen(in->type);

	return in->type == out->type && !ts_empty(in) && !ts_empty(out) &&
	       (out->proto == 0 || out->proto == in->proto) &&
	       in->start_port >= out->start_port && in->end_port <= out->end_port &&
	       memcmp(in->start, out->start, n) >= 0 && memcmp(in->end, out->end, n) <= 0;
}

bool ike_ts_subset(const struct ike_ts_set *answer, const struct ike_ts_set *proposed)
{
	if (answer->n == 0 || answer->n > IKE_MAX_TS)
		return false;           /* 3.13: at least one selector */
	for (unsigned i = 0; i < answer->n; i++) {
		bool found = false;

		for (unsigned j = 0; !found && j < proposed->n && j < IKE_MAX_TS; j++)
			found = ts_inside(&answer->ts[i], &proposed->ts[j]);
		if (!found)
			return false;
	}
	return true;
}

bool ike_ts_contains(const struct ike_ts_set *set, const struct sn_ip *addr, uint8_t proto,
		     uint16_t port)
{
	struct ike_ts one;

	if (ts_type_of(addr->family) == 0)
		return false;
	ts_single(&one, addr);
	one.proto = proto;
	one.start_port = one.end_port = port;
	for (unsigned i = 0; i < set->n && i < IKE_MAX_TS; i++)
		if (ts_inside(&one, &set->ts[i]))
			return true;
	return false;
}

/* ---- SPD selectors ------------------------------------------------------------ */

typedef unsigned __int128 u128;

static u128 addr_to_u(const uint8_t *a, size_t n)
{
	u128 v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | a[i];
	return v;
}

static void u_to_addr(u128 v, uint8_t a[16], size_t n)
{
	for (size_t i = 0; i < n && i < 16; i++)
		a[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

struct prefix { u128 base; uint8_t plen; };

/* Does a block of 2^k addresses from lo stay within hi? */
static bool block_fits(u128 lo, u128 hi, unsigned k)
{
	return k == 128 ? lo == 0 && hi == ~(u128)0 : hi - lo >= ((u128)1 << k) - 1;
}

/* A range as the fewest prefixes that cover it exactly, lowest first: the
 * largest aligned block that starts at lo and does not pass hi, then the
 * same from the address after it (next_start). */
static struct prefix first_prefix(u128 lo, u128 hi, unsigned width)
{
	unsigned k = 0;

	while (k < width && !(lo >> k & 1) && block_fits(lo, hi, k + 1))
		k++;
	return (struct prefix){ lo, (uint8_t)(width - k) };
}

static bool next_start(struct prefix p, u128 hi, unsigned width, u128 *lo)
{
	unsigned k = width - p.plen;
	u128 last;

	if (k == 128)
		return false;           /* ::/0 */
	last = p.base + (((u128)1 << k) - 1);
	if (last >= hi)
		return false;
	*lo = last + 1;
	return true;
}

/* sn_selector's port: one port, or 0 for all of them. */
static int sel_port(const struct ike_ts *t, uint16_t *port)
{
	if (t->start_port == PORT_ANY_LO && t->end_port == PORT_ANY_HI)
		*port = 0;
	else if (t->start_port == t->end_port && t->start_port != 0)
		*port = t->start_port;
	else
		return -ENOTSUP;        /* a range sn_selector cannot say */
	return 0;
}

static void sel_ip(struct sn_ip *ip, uint8_t type, u128 base)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6;
	u_to_addr(base, ip->addr, ts_alen(type));
}

/* The selectors of one local prefix with each of the remote side's. */
static int row_selectors(const struct ike_ts *l, struct prefix lp, const struct ike_ts *r,
			 struct sn_selector *out, unsigned cap, unsigned *count)
{
	size_t n = ts_alen(r->type);
	unsigned w = (unsigned)(8 * n);
	u128 hi = addr_to_u(r->end, n), b = addr_to_u(r->start, n);
	uint16_t sport, dport;
	int rc;

	if ((rc = sel_port(l, &sport)) != 0 || (rc = sel_port(r, &dport)) != 0)
		return rc;
	for (;;) {
		struct prefix rp = first_prefix(b, hi, w);
		struct sn_selector *s = &out[*count];

		if (*count == cap)
			return -E2BIG;
		memset(s, 0, sizeof(*s));
		sel_ip(&s->src, l->type, lp.base);
		sel_ip(&s->dst, r->type, rp.base);
		s->src_plen = lp.plen;
		s->dst_plen = rp.plen;
		s->proto = l->proto ? l->proto : r->proto;
		s->sport = sport;
		s->dport = dport;
		(*count)++;
		if (!next_start(rp, hi, w, &b))
			return 0;
	}
}

/* One pair (local x remote): the cross product of both sides' prefixes. */
static int pair_selectors(const struct ike_ts *l, const struct ike_ts *r,
			  struct sn_selector *out, unsigned cap, unsigned *count)
{
	size_t n = ts_alen(l->type);
	unsigned w = (unsigned)(8 * n);
	u128 hi = addr_to_u(l->end, n), a = addr_to_u(l->start, n);

	for (;;) {
		struct prefix lp = first_prefix(a, hi, w);
		int rc = row_selectors(l, lp, r, out, cap, count);

		if (rc != 0)
			return rc;
		if (!next_start(lp, hi, w, &a))
			return 0;
	}
}

int ike_ts_to_selectors(const struct ike_ts_set *local, const struct ike_ts_set *remote,
			struct sn_selector *out, unsigned cap)
{
	unsigned count = 0;

	for (unsigned i = 0; i < local->n && i < IKE_MAX_TS; i++) {
		for (unsigned j = 0; j < remote->n && j < IKE_MAX_TS; j++) {
			const struct ike_ts *l = &local->ts[i], *r = &remote->ts[j];
			int rc;

			if (l->type != r->type || (l->proto && r->proto && l->proto != r->proto))
				continue;       /* no packet matches both */
			if (ts_empty(l) || ts_empty(r))
				return -EINVAL;
			rc = pair_selectors(l, r, out, cap, &count);
			if (rc != 0)
				return rc;
		}
	}
	return (int)count;
}
