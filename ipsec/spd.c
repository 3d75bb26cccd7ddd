/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPD: policy slots, and per direction an array of match rules sorted by
 * (priority, insertion). See spd.h.
 *
 * A connected socket's own policies (socket tier, both hosts and ports
 * exact) go into a hash by 5-tuple instead: a server with thousands of
 * secured connections must not scan thousands of rules per packet. They
 * come first in lookup order anyway (socket tier, priority 0), so a hit
 * there is the answer and a miss falls through to the sorted scan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spd.h"

#define NDIR 3

/* What a lookup reads, packed: 80 bytes per policy. */
struct rule {
	uint64_t src_net[2], src_mask[2];
	uint64_t dst_net[2], dst_mask[2];
	uint8_t family, proto;
	uint16_t sport, dport;
	uint32_t slot;
	uint64_t priority;              /* socket tier first, then priority */
};

struct sn_spd {
	struct sn_spd_conf conf;
	sn_acquire_fn acquire;
	void *acquire_ctx;
	struct sn_policy *pol;                  /* conf.max_policies slots */
	uint32_t *free_stack, nfree;
	struct rule *rules[NDIR];               /* sorted, n[dir] used */
	uint32_t n[NDIR];
	uint32_t next_id;
	uint64_t next_order;
	uint64_t ctr[SN_IC_MAX];
	/* Exact socket policies: chains by 5-tuple hash, per direction. */
	uint32_t *hhead[NDIR], *hnext;
	struct rule *hrule;                     /* by slot */
	bool *hashed;                           /* by slot */
	uint32_t hmask, nh[NDIR];
};

#define NIL UINT32_MAX

/* ---- Create and free ----------------------------------------------------------------- */

static void spd_release(struct sn_spd *spd)
{
	for (int d = 0; d < NDIR; d++) {
		free(spd->rules[d]);
		free(spd->hhead[d]);
	}
	free(spd->hnext);
	free(spd->hrule);
	free(spd->hashed);
	free(spd->free_stack);
	free(spd->pol);
	free(spd);
}

static int spd_alloc(struct sn_spd *spd)
{
	uint32_t max = spd->conf.max_policies;

	spd->pol = calloc(max, sizeof(*spd->pol));
	spd->free_stack = malloc(max * sizeof(uint32_t));
	for (int d = 0; d < NDIR; d++)
		spd->rules[d] = malloc(max * sizeof(struct rule));
	if (!spd->pol || !spd->free_stack || !spd->rules[0] || !spd->rules[1] || !spd->rules[2])
		return -ENOMEM;
	for (spd->hmask = 1; spd->hmask < max; spd->hmask <<= 1)
		;
	for (int d = 0; d < NDIR; d++) {
		spd->hhead[d] = malloc(spd->hmask * sizeof(uint32_t));
		if (!spd->hhead[d])
			return -ENOMEM;
		memset(spd->hhead[d], 0xff, spd->hmask * sizeof(uint32_t));
	}
	spd->hmask--;
	spd->hnext = malloc(max * sizeof(uint32_t));
	spd->hrule = malloc(max * sizeof(struct rule));
	spd->hashed = calloc(max, sizeof(bool));
	if (!spd->hnext || !spd->hrule || !spd->hashed)
		return -ENOMEM;
	for (uint32_t i = 0; i < max; i++)
		spd->free_stack[i] = max - 1 - i;
	spd->nfree = max;
	return 0;
}

int sn_spd_create(struct sn_spd **out, const struct sn_spd_conf *conf)
{
	struct sn_spd *spd;

	if (!out || !conf || conf->max_policies == 0 ||
	    conf->max_policies > SN_SPD_MAX_POLICIES || conf->queue_len > SN_SPD_QUEUE_MAX)
		return -EINVAL;
	*out = NULL;
	spd = calloc(1, sizeof(*spd));
	if (!spd)
		return -ENOMEM;
	spd->conf = *conf;
	if (!spd->conf.queue_len)
		spd->conf.queue_len = SN_SPD_QUEUE_DEFAULT;
	spd->next_id = 1;
	if (spd_alloc(spd)) {
		spd_release(spd);
		return -ENOMEM;
	}
	*out = spd;
	return 0;
}

static void drop_queue(struct sn_spd *spd, struct sn_policy *pol)
{
	uint32_t n = sn_spd_flush(spd, pol, NULL, NULL);

	(void)n;
	free(pol->queue);
	pol->queue = NULL;
}

void sn_spd_free(struct sn_spd *spd)
{
	if (!spd)
		return;
	for (uint32_t i = 0; i < spd->conf.max_policies; i++)
		if (spd->pol[i].in_use)
			drop_queue(spd, &spd->pol[i]);
	spd_release(spd);
}

/* ---- Rules ---------------------------------------------------------------------------- */

static unsigned addr_bits(uint8_t family)
{
	return family == AF_INET6 ? 128 : 32;
}

static void mask_bytes(uint8_t plen, uint8_t m[16])
{
	for (unsigned b = 0; b < 16; b++)
		m[b] = plen >= 8 * (b + 1) ? 0xff
		     : plen > 8 * b ? (uint8_t)(0xff00 >> (plen - 8 * b)) : 0;
}

/* Masks the selector's address in place and gives the words to match. */
static void prefix_words(struct sn_ip *ip, uint8_t plen, uint64_t net[2], uint64_t mask[2])
{
	uint8_t m[16];

	mask_bytes(plen, m);
	for (unsigned b = 0; b < 16; b++)
		ip->addr[b] &= m[b];
	memcpy(mask, m, 16);
	memcpy(net, ip->addr, 16);
}

static void rule_build(struct rule *r, struct sn_policy *pol, uint32_t slot)
{
	struct sn_selector *s = &pol->conf.sel;

	memset(r, 0, sizeof(*r));
	prefix_words(&s->src, s->src_plen, r->src_net, r->src_mask);
	prefix_words(&s->dst, s->dst_plen, r->dst_net, r->dst_mask);
	r->family = s->src.family;
	r->proto = s->proto;
	r->sport = s->sport;
	r->dport = s->dport;
	r->priority = (uint64_t)!pol->conf.socket_tier << 32 | pol->conf.priority;
	r->slot = slot;
}

static bool rule_match(const struct rule *r, const struct sn_flow *f, const uint64_t s[2],
		       const uint64_t d[2])
{
	return r->family == f->family &&
	       ((s[0] & r->src_mask[0]) == r->src_net[0]) &&
	       ((s[1] & r->src_mask[1]) == r->src_net[1]) &&
	       ((d[0] & r->dst_mask[0]) == r->dst_net[0]) &&
	       ((d[1] & r->dst_mask[1]) == r->dst_net[1]) &&
	       (!r->proto || r->proto == f->proto) &&
	       (!r->sport || r->sport == f->sport) && (!r->dport || r->dport == f->dport);
}

/* After every rule of priority <= prio: ties stay in insertion order. */
static uint32_t insert_pos(const struct rule *rules, uint32_t n, uint64_t prio)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rules[mid].priority <= prio)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- The exact-match hash --------------------------------------------------------------- */

static bool same_selector(const struct rule *a, const struct rule *b);

static bool exact(const struct sn_pol_conf *c)
{
	const struct sn_selector *s = &c->sel;
	unsigned full = addr_bits(s->src.family);

	return c->socket_tier && s->src_plen == full && s->dst_plen == full && s->proto &&
	       s->sport && s->dport;
}

static uint32_t hash_words(uint8_t proto, const uint64_t s[2], const uint64_t d[2],
			   uint16_t sport, uint16_t dport, uint32_t mask)
{
	uint64_t h = s[0] ^ (s[1] * 0x9e3779b97f4a7c15ull) ^ (d[0] * 0xc2b2ae3d27d4eb4full) ^
		     (d[1] * 0x165667b19e3779f9ull) ^
		     ((uint64_t)sport << 24 | (uint64_t)dport << 8 | proto);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h & mask;
}

static uint32_t rule_hash(const struct sn_spd *spd, const struct rule *r)
{
	return hash_words(r->proto, r->src_net, r->dst_net, r->sport, r->dport, spd->hmask);
}

static bool hash_duplicate(const struct sn_spd *spd, enum sn_pol_dir dir, const struct rule *r)
{
	for (uint32_t i = spd->hhead[dir][rule_hash(spd, r)]; i != NIL; i = spd->hnext[i])
		if (same_selector(&spd->hrule[i], r))
			return true;
	return false;
}

static void hash_insert(struct sn_spd *spd, enum sn_pol_dir dir, const struct rule *r)
{
	uint32_t b = rule_hash(spd, r);

	spd->hrule[r->slot] = *r;
	spd->hashed[r->slot] = true;
	spd->hnext[r->slot] = spd->hhead[dir][b];
	spd->hhead[dir][b] = r->slot;
	spd->nh[dir]++;
}

static void hash_remove(struct sn_spd *spd, enum sn_pol_dir dir, uint32_t slot)
{
	uint32_t *link = &spd->hhead[dir][rule_hash(spd, &spd->hrule[slot])];

	while (*link != slot)
		link = &spd->hnext[*link];
	*link = spd->hnext[slot];
	spd->hashed[slot] = false;
	spd->nh[dir]--;
}

static struct sn_policy *hash_lookup(const struct sn_spd *spd, enum sn_pol_dir dir,
				     const struct sn_flow *f, const uint64_t s[2],
				     const uint64_t d[2])
{
	uint32_t b = hash_words(f->proto, s, d, f->sport, f->dport, spd->hmask);

	for (uint32_t i = spd->hhead[dir][b]; i != NIL; i = spd->hnext[i])
		if (rule_match(&spd->hrule[i], f, s, d))
			return &spd->pol[i];
	return NULL;
}

/* ---- Add and delete ---------------------------------------------------------------------- */

static bool family_ok(uint8_t f)
{
	return f == AF_INET || f == AF_INET6;
}

static bool tmpl_ok(const struct sn_pol_tmpl *t)
{
	if (t->proto != SN_IPPROTO_ESP && t->proto != SN_IPPROTO_AH)
		return false;
	if (t->mode == SN_MODE_TRANSPORT)
		return true;
	return t->mode == SN_MODE_TUNNEL && family_ok(t->src.family) &&
	       t->src.family == t->dst.family;
}

static int conf_check(const struct sn_pol_conf *c)
{
	const struct sn_selector *s = &c->sel;

	if ((unsigned)c->dir >= NDIR || (unsigned)c->action > SN_POL_DISCARD)
		return -EINVAL;
	if (!family_ok(s->src.family) || s->src.family != s->dst.family)
		return -EINVAL;
	if (s->src_plen > addr_bits(s->src.family) || s->dst_plen > addr_bits(s->dst.family))
		return -EINVAL;
	return c->action != SN_POL_PROTECT || tmpl_ok(&c->tmpl) ? 0 : -EINVAL;
}

static bool same_selector(const struct rule *a, const struct rule *b)
{
	return a->family == b->family && a->proto == b->proto && a->sport == b->sport &&
	       a->dport == b->dport && memcmp(a->src_net, b->src_net, 16) == 0 &&
	       memcmp(a->src_mask, b->src_mask, 16) == 0 &&
	       memcmp(a->dst_net, b->dst_net, 16) == 0 &&
	       memcmp(a->dst_mask, b->dst_mask, 16) == 0;
}

static bool duplicate(const struct sn_spd *spd, enum sn_pol_dir dir, const struct rule *r)
{
	for (uint32_t i = 0; i < spd->n[dir]; i++)
		if (same_selector(&spd->rules[dir][i], r) &&
		    spd->rules[dir][i].priority >> 32 == r->priority >> 32)
			return true;
	return false;
}

static void rule_insert(struct sn_spd *spd, enum sn_pol_dir dir, const struct rule *r)
{
	struct rule *rules = spd->rules[dir];
	uint32_t at = insert_pos(rules, spd->n[dir], r->priority);

	memmove(&rules[at + 1], &rules[at], (spd->n[dir] - at) * sizeof(*rules));
	rules[at] = *r;
	spd->n[dir]++;
}

int sn_spd_add(struct sn_spd *spd, const struct sn_pol_conf *conf, struct sn_policy **out)
{
	struct sn_policy tmp = { 0 }, *pol;
	struct rule r;
	uint32_t slot;

	if (!spd || !conf || conf_check(conf))
		return -EINVAL;
	if (spd->nfree == 0)
		return -ENOSPC;
	tmp.conf = *conf;
	slot = spd->free_stack[spd->nfree - 1];
	rule_build(&r, &tmp, slot);
	if (exact(conf) ? hash_duplicate(spd, conf->dir, &r) : duplicate(spd, conf->dir, &r))
		return -EEXIST;
	spd->nfree--;
	pol = &spd->pol[slot];
	*pol = tmp;
	pol->id = spd->next_id++;
	if (spd->next_id == 0)
		spd->next_id = 1;
	pol->order = spd->next_order++;
	pol->in_use = true;
	if (exact(conf))
		hash_insert(spd, conf->dir, &r);
	else
		rule_insert(spd, conf->dir, &r);
	if (out)
		*out = pol;
	return 0;
}

struct sn_policy *sn_spd_get(const struct sn_spd *spd, uint32_t id)
{
	if (!spd || id == 0)
		return NULL;
	for (uint32_t i = 0; i < spd->conf.max_policies; i++)
		if (spd->pol[i].in_use && spd->pol[i].id == id)
			return &spd->pol[i];
	return NULL;
}

int sn_spd_del(struct sn_spd *spd, uint32_t id)
{
	struct sn_policy *pol = sn_spd_get(spd, id);
	uint32_t slot, dir, i;
	struct rule *rules;

	if (!pol)
		return spd ? -ENOENT : -EINVAL;
	slot = (uint32_t)(pol - spd->pol);
	dir = pol->conf.dir;
	rules = spd->rules[dir];
	if (spd->hashed[slot]) {
		hash_remove(spd, dir, slot);
	} else {
		for (i = 0; i < spd->n[dir] && rules[i].slot != slot; i++)
			;
		memmove(&rules[i], &rules[i + 1], (spd->n[dir] - i - 1) * sizeof(*rules));
		spd->n[dir]--;
	}
	drop_queue(spd, pol);
	/* Its counters stay in the totals (--stats, snctl stats). */
	for (int i = 0; i < SN_IC_MAX; i++)
		spd->ctr[i] += pol->ctr[i];
	memset(pol, 0, sizeof(*pol));
	spd->free_stack[spd->nfree++] = slot;
	return 0;
}

/* ---- Lookup ------------------------------------------------------------------------------- */

struct sn_policy *sn_spd_lookup(const struct sn_spd *spd, enum sn_pol_dir dir,
				const struct sn_flow *flow)
{
	uint64_t s[2], d[2];
	const struct rule *rules;

	if (!spd || !flow || (unsigned)dir >= NDIR)
		return NULL;
	memcpy(s, flow->src, 16);
	memcpy(d, flow->dst, 16);
	if (spd->nh[dir]) {
		struct sn_policy *pol = hash_lookup(spd, dir, flow, s, d);

		if (pol)
			return pol;
	}
	rules = spd->rules[dir];
	for (uint32_t i = 0; i < spd->n[dir]; i++)
		if (rule_match(&rules[i], flow, s, d))
			return &spd->pol[rules[i].slot];
	return NULL;
}

void sn_spd_bind_sa(struct sn_policy *pol, struct sn_sa_ref ref)
{
	if (pol)
		pol->sa = ref;
}

/* ---- Acquire ------------------------------------------------------------------------------- */

bool sn_spd_has_acquire(const struct sn_spd *spd)
{
	return spd && spd->acquire;
}

void sn_spd_set_acquire(struct sn_spd *spd, sn_acquire_fn fn, void *ctx)
{
	if (!spd)
		return;
	spd->acquire = fn;
	spd->acquire_ctx = ctx;
}

static int drop(struct sn_spd *spd, struct sn_policy *pol, void *pkt, enum sn_ic_id why,
		int rc)
{
	if (spd->conf.pkt_free)
		spd->conf.pkt_free(pkt, spd->conf.pkt_ctx);
	pol->ctr[why]++;
	return rc;
}

static int enqueue(struct sn_spd *spd, struct sn_policy *pol, void *pkt)
{
	uint32_t cap = spd->conf.queue_len;

	if (!pol->queue)
		pol->queue = calloc(cap, sizeof(void *));
	if (!pol->queue)
		return drop(spd, pol, pkt, SN_IC_DROP_NOMEM, -ENOMEM);
	if (pol->qlen == cap)
		return drop(spd, pol, pkt, SN_IC_DROP_ACQUIRE_FULL, -ENOBUFS);
	pol->queue[(pol->qhead + pol->qlen++) % cap] = pkt;
	return 0;
}

int sn_spd_queue(struct sn_spd *spd, struct sn_policy *pol, const struct sn_flow *flow,
		 void *pkt)
{
	int rc;

	if (!spd || !pol || !flow || !pkt || !pol->in_use)
		return -EINVAL;
	if (!spd->acquire)
		return drop(spd, pol, pkt, SN_IC_DROP_NO_SA, -ENOENT);
	if (!pol->acquiring) {
		pol->ctr[SN_IC_ACQUIRES]++;
		rc = spd->acquire(pol, flow, spd->acquire_ctx);
		if (rc < 0)
			return drop(spd, pol, pkt, SN_IC_DROP_ACQUIRE_FAIL, rc);
		pol->acquiring = true;
	}
	return enqueue(spd, pol, pkt);
}

uint32_t sn_spd_flush(struct sn_spd *spd, struct sn_policy *pol,
		      void (*send)(void *pkt, void *ctx), void *ctx)
{
	uint32_t n = 0;

	if (!spd || !pol)
		return 0;
	for (; pol->qlen; pol->qlen--, n++) {
		void *pkt = pol->queue[pol->qhead];

		pol->qhead = (pol->qhead + 1) % spd->conf.queue_len;
		if (send)
			send(pkt, ctx);
		else
			drop(spd, pol, pkt, SN_IC_DROP_ACQUIRE_FAIL, 0);
	}
	pol->qhead = 0;
	pol->acquiring = false;
	return n;
}

/* ---- Listing ------------------------------------------------------------------------------- */

int sn_spd_foreach(const struct sn_spd *spd, enum sn_pol_dir dir,
		   int (*fn)(const struct sn_policy *pol, void *ctx), void *ctx)
{
	if (!spd || !fn || (unsigned)dir >= NDIR)
		return -EINVAL;
	/* Exact socket policies first, as lookups see them. */
	for (uint32_t i = 0; spd->nh[dir] && i < spd->conf.max_policies; i++) {
		int rc;

		if (!spd->hashed[i] || spd->pol[i].conf.dir != dir)
			continue;
		rc = fn(&spd->pol[i], ctx);
		if (rc)
			return rc;
	}
	for (uint32_t i = 0; i < spd->n[dir]; i++) {
		int rc = fn(&spd->pol[spd->rules[dir][i].slot], ctx);

		if (rc)
			return rc;
	}
	return 0;
}

uint32_t sn_spd_count(const struct sn_spd *spd, enum sn_pol_dir dir)
{
	return spd && (unsigned)dir < NDIR ? spd->n[dir] + spd->nh[dir] : 0;
}

uint64_t *sn_spd_counters(struct sn_spd *spd)
{
	return spd ? spd->ctr : NULL;
}
