/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SAD: slots, an inbound hash on (SPI, dst, proto), outbound hashes on
 * reqid and on the (src, dst) pair, a free-slot stack. See sad.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sad.h"

#define NIL UINT32_MAX

struct sn_sad {
	struct sn_sad_hooks hooks;
	uint32_t max, count;
	uint32_t bucket_mask;
	uint32_t *spi_head, *reqid_head;        /* bucket_mask + 1 each */
	uint32_t *pair_head;
	uint32_t *free_stack, nfree;
	uint64_t serial;
	uint64_t ctr[SN_IC_MAX];
	struct sn_sa *sa;                       /* max slots */
};

/* ---- Keys ------------------------------------------------------------------------ */

static unsigned ip_len(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

bool sn_ip_equal(const struct sn_ip *a, const struct sn_ip *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, ip_len(a->family)) == 0;
}

static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	return h ^ (h >> 16);
}

static uint32_t spi_hash(uint32_t spi, const struct sn_ip *dst, uint8_t proto)
{
	uint32_t h = mix32(spi ^ (uint32_t)proto << 24 ^ dst->family);

	for (unsigned i = 0; i < ip_len(dst->family); i += 4) {
		uint32_t w;

		memcpy(&w, dst->addr + i, 4);
		h = mix32(h ^ w);
	}
	return h;
}

static uint32_t pair_hash(const struct sn_ip *src, const struct sn_ip *dst)
{
	uint32_t h = mix32(src->family);

	for (unsigned i = 0; i < ip_len(src->family); i += 4) {
		uint32_t a, b;

		memcpy(&a, src->addr + i, 4);
		memcpy(&b, dst->addr + i, 4);
		h = mix32(h ^ a);
		h = mix32(h ^ b);
	}
	return h;
}

static bool spi_key_eq(const struct sn_sa *sa, uint32_t spi, const struct sn_ip *dst,
		       uint8_t proto)
{
	return sa->conf.spi == spi && sa->conf.proto == proto && sn_ip_equal(&sa->conf.dst, dst);
}

/* ---- Create and free ------------------------------------------------------------------ */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	return p;
}

static int sad_alloc(struct sn_sad *sad, uint32_t max)
{
	uint32_t buckets = pow2_at_least(2 * max);

	sad->max = max;
	sad->bucket_mask = buckets - 1;
	sad->spi_head = malloc(buckets * sizeof(uint32_t));
	sad->reqid_head = malloc(buckets * sizeof(uint32_t));
	sad->pair_head = malloc(buckets * sizeof(uint32_t));
	sad->free_stack = malloc(max * sizeof(uint32_t));
	sad->sa = calloc(max, sizeof(struct sn_sa));
	if (!sad->spi_head || !sad->reqid_head || !sad->pair_head || !sad->free_stack ||
	    !sad->sa)
		return -ENOMEM;
	memset(sad->spi_head, 0xff, buckets * sizeof(uint32_t));
	memset(sad->reqid_head, 0xff, buckets * sizeof(uint32_t));
	memset(sad->pair_head, 0xff, buckets * sizeof(uint32_t));
	for (uint32_t i = 0; i < max; i++) {
		sad->free_stack[i] = max - 1 - i;       /* slot 0 first */
		sad->sa[i].idx = i;
		sad->sa[i].gen = 1;
	}
	sad->nfree = max;
	return 0;
}

static void sad_release(struct sn_sad *sad)
{
	free(sad->spi_head);
	free(sad->reqid_head);
	free(sad->pair_head);
	free(sad->free_stack);
	free(sad->sa);
	free(sad);
}

int sn_sad_create(struct sn_sad **out, uint32_t max_sas, const struct sn_sad_hooks *hooks)
{
	struct sn_sad *sad;

	if (!out || max_sas == 0 || max_sas > SN_SAD_MAX_SAS)
		return -EINVAL;
	*out = NULL;
	sad = calloc(1, sizeof(*sad));
	if (!sad)
		return -ENOMEM;
	if (hooks)
		sad->hooks = *hooks;
	if (sad_alloc(sad, max_sas)) {
		sad_release(sad);
		return -ENOMEM;
	}
	*out = sad;
	return 0;
}

void sn_sad_free(struct sn_sad *sad)
{
	if (!sad)
		return;
	for (uint32_t i = 0; i < sad->max; i++)
		if (sad->sa[i].in_use)
			sn_sad_remove(sad, &sad->sa[i]);
	sad_release(sad);
}

/* ---- Conf validation ------------------------------------------------------------------------ */

static bool family_ok(uint8_t f)
{
	return f == AF_INET || f == AF_INET6;
}

static bool algs_ok(const struct sn_sa_conf *c)
{
	if (c->enc_key_len > SN_IPSEC_MAX_KEY || c->auth_key_len > SN_IPSEC_MAX_KEY ||
	    c->icv_len > SN_IPSEC_MAX_ICV || c->enc > SN_ENC_CHACHA20_POLY1305 ||
	    c->auth > SN_AUTH_HMAC_SHA256_128)
		return false;
	if (c->proto == SN_IPPROTO_AH)
		return c->enc == SN_ENC_NONE && c->auth != SN_AUTH_NONE && c->icv_len;
	if (sn_enc_is_aead(c->enc))
		return c->auth == SN_AUTH_NONE && c->icv_len == 16;
	return c->enc != SN_ENC_NONE && c->auth != SN_AUTH_NONE && c->icv_len;
}

static bool sel_ok(const struct sn_selector *s)
{
	if (!s->src.family && !s->dst.family)
		return true;            /* no inner selector */
	return family_ok(s->src.family) && s->src.family == s->dst.family &&
	       s->src_plen <= 8 * ip_len(s->src.family) &&
	       s->dst_plen <= 8 * ip_len(s->dst.family);
}

/* An SA may come from the API as well as from the parser: check it all. */
static int conf_check(const struct sn_sa_conf *c)
{
	if (c->proto != SN_IPPROTO_ESP && c->proto != SN_IPPROTO_AH)
		return -EINVAL;
	/* RFC 4303 2.1: 0 is never an SA's; 1-255 are reserved by IANA but
	 * the kernel installs them (its selftests use spi 1): the parser
	 * warns about them. */
	if (c->spi == 0 || !family_ok(c->dst.family) || c->src.family != c->dst.family)
		return -EINVAL;
	if (c->mode != SN_MODE_TRANSPORT && c->mode != SN_MODE_TUNNEL)
		return -EINVAL;
	if (c->flags & ~(uint32_t)(SN_SA_F_ESN | SN_SA_F_NO_REPLAY))
		return -EINVAL;
	if ((c->flags & SN_SA_F_NO_REPLAY) && ((c->flags & SN_SA_F_ESN) || c->replay_window))
		return -EINVAL;         /* ESN infers from the window (RFC 4303 A2) */
	if (c->encap && (c->proto != SN_IPPROTO_ESP || !c->encap_sport || !c->encap_dport))
		return -EINVAL;
	return algs_ok(c) && sel_ok(&c->sel) ? 0 : -EINVAL;
}

/* ---- Add and delete ---------------------------------------------------------------------------- */

static uint32_t reqid_bucket(const struct sn_sad *sad, uint32_t reqid)
{
	return mix32(reqid) & sad->bucket_mask;
}

/* The pair index: the SAs from one address to another, newest first. */
static void link_pair(struct sn_sad *sad, struct sn_sa *sa)
{
	uint32_t b = pair_hash(&sa->conf.src, &sa->conf.dst) & sad->bucket_mask;

	sa->next_pair = sad->pair_head[b];
	sad->pair_head[b] = sa->idx;
}

static void unlink_pair(struct sn_sad *sad, struct sn_sa *sa)
{
	uint32_t *p = &sad->pair_head[pair_hash(&sa->conf.src, &sa->conf.dst) & sad->bucket_mask];

	while (*p != NIL && *p != sa->idx)
		p = &sad->sa[*p].next_pair;
	if (*p != NIL)
		*p = sa->next_pair;
}

static void link_sa(struct sn_sad *sad, struct sn_sa *sa)
{
	uint32_t b = spi_hash(sa->conf.spi, &sa->conf.dst, sa->conf.proto) & sad->bucket_mask;
	uint32_t r = reqid_bucket(sad, sa->conf.reqid);

	sa->next_spi = sad->spi_head[b];
	sad->spi_head[b] = sa->idx;
	sa->next_reqid = sad->reqid_head[r];
	sad->reqid_head[r] = sa->idx;
	link_pair(sad, sa);
	sa->in_use = true;
	sad->count++;
}

static void unlink_chain(struct sn_sad *sad, uint32_t *head, uint32_t idx, bool spi_chain)
{
	for (uint32_t *p = head; *p != NIL;) {
		struct sn_sa *s = &sad->sa[*p];
		uint32_t *next = spi_chain ? &s->next_spi : &s->next_reqid;

		if (*p == idx) {
			*p = *next;
			return;
		}
		p = next;
	}
}

static void unlink_sa(struct sn_sad *sad, struct sn_sa *sa)
{
	uint32_t b = spi_hash(sa->conf.spi, &sa->conf.dst, sa->conf.proto) & sad->bucket_mask;

	unlink_chain(sad, &sad->spi_head[b], sa->idx, true);
	unlink_chain(sad, &sad->reqid_head[reqid_bucket(sad, sa->conf.reqid)], sa->idx, false);
	unlink_pair(sad, sa);
	sa->in_use = false;
	sad->count--;
}

/* The slot keeps its index and a new generation; everything else,
 * keys included, is wiped. */
static void slot_put(struct sn_sad *sad, struct sn_sa *sa)
{
	uint32_t idx = sa->idx, gen = sa->gen + 1;

	explicit_bzero(sa, sizeof(*sa));
	sa->idx = idx;
	sa->gen = gen ? gen : 1;
	sad->free_stack[sad->nfree++] = idx;
}

static int slot_init(struct sn_sad *sad, struct sn_sa *sa, const struct sn_sa_conf *conf,
		     uint64_t now)
{
	int rc = 0;

	sa->conf = *conf;
	sa->seq_limit = conf->flags & SN_SA_F_ESN ? UINT64_MAX : UINT32_MAX;
	sa->serial = ++sad->serial;
	if (conf->flags & SN_SA_F_NO_REPLAY)
		sn_replay_init_off(&sa->replay);
	else
		rc = sn_replay_init(&sa->replay, conf->replay_window);
	/* Taken over mid-stream (replay-seq, replay-oseq): the window's top
	 * is the last number seen, nothing in it seen yet. */
	sa->replay.top = conf->seq_in;
	sa->seq_out = conf->seq_out;
	if (rc == 0)
		rc = sn_life_init(&sa->life, &conf->life, now);
	if (rc == 0 && sad->hooks.install)
		rc = sad->hooks.install(sa, sad->hooks.ctx);
	return rc;
}

/* A free slot set up from conf, not yet linked into the hashes. */
static int take_slot(struct sn_sad *sad, const struct sn_sa_conf *conf, uint64_t now,
		     struct sn_sa **out)
{
	struct sn_sa *sa;
	int rc;

	if (sad->nfree == 0)
		return -ENOSPC;
	sa = &sad->sa[sad->free_stack[--sad->nfree]];
	rc = slot_init(sad, sa, conf, now);
	if (rc) {
		slot_put(sad, sa);
		return rc < 0 ? rc : -EINVAL;
	}
	*out = sa;
	return 0;
}

int sn_sad_add(struct sn_sad *sad, const struct sn_sa_conf *conf, uint64_t now,
	       struct sn_sa **out)
{
	struct sn_sa *sa;
	int rc;

	if (!sad || !conf || conf_check(conf))
		return -EINVAL;
	if (sn_sad_lookup(sad, conf->spi, &conf->dst, conf->proto))
		return -EEXIST;
	rc = take_slot(sad, conf, now, &sa);
	if (rc)
		return rc;
	link_sa(sad, sa);
	if (out)
		*out = sa;
	return 0;
}

/* What an SA has lived through goes with it to its replacement: sequence
 * numbers (the peer's window has seen them), the replay window if its
 * size is unchanged, lifetime use, counters. */
static void carry_over(struct sn_sa *to, struct sn_sa *from)
{
	if (to->seq_out < from->seq_out)
		to->seq_out = from->seq_out;
	if (to->replay.window == from->replay.window && to->replay.off == from->replay.off &&
	    to->replay.top <= from->replay.top)
		to->replay = from->replay;
	to->life.first_use = from->life.first_use;
	to->life.bytes = from->life.bytes;
	to->life.packets = from->life.packets;
	to->life.used = from->life.used;
	to->life.added = from->life.added;
	memcpy(to->ctr, from->ctr, sizeof(to->ctr));
	memset(from->ctr, 0, sizeof(from->ctr));       /* counted once, in to */
}

int sn_sad_update(struct sn_sad *sad, const struct sn_sa_conf *conf, uint64_t now,
		  struct sn_sa **out)
{
	struct sn_sa *old, *sa;
	int rc;

	if (!sad || !conf || conf_check(conf))
		return -EINVAL;
	old = sn_sad_lookup(sad, conf->spi, &conf->dst, conf->proto);
	if (!old)
		return -ENOENT;
	rc = take_slot(sad, conf, now, &sa);
	if (rc)
		return rc;
	carry_over(sa, old);
	sn_sad_remove(sad, old);
	link_sa(sad, sa);
	if (out)
		*out = sa;
	return 0;
}

void sn_sad_remove(struct sn_sad *sad, struct sn_sa *sa)
{
	if (!sad || !sa || sa < sad->sa || sa >= sad->sa + sad->max || !sa->in_use)
		return;
	unlink_sa(sad, sa);
	/* Its counters stay in the totals (--stats, snctl stats). */
	for (int i = 0; i < SN_IC_MAX; i++)
		sad->ctr[i] += sa->ctr[i];
	if (sad->hooks.destroy)
		sad->hooks.destroy(sa, sad->hooks.ctx);
	slot_put(sad, sa);
}

int sn_sad_del(struct sn_sad *sad, uint32_t spi, const struct sn_ip *dst, uint8_t proto)
{
	struct sn_sa *sa = sn_sad_lookup(sad, spi, dst, proto);

	if (!sa)
		return sad && dst ? -ENOENT : -EINVAL;
	sn_sad_remove(sad, sa);
	return 0;
}

/* ---- Lookups --------------------------------------------------------------------------------------- */

struct sn_sa *sn_sad_lookup(const struct sn_sad *sad, uint32_t spi, const struct sn_ip *dst,
			    uint8_t proto)
{
	uint32_t i;

	if (!sad || !dst)
		return NULL;
	i = sad->spi_head[spi_hash(spi, dst, proto) & sad->bucket_mask];
	for (; i != NIL; i = sad->sa[i].next_spi)
		if (spi_key_eq(&sad->sa[i], spi, dst, proto))
			return &sad->sa[i];
	return NULL;
}

static bool addr_ok(const struct sn_ip *sa_addr, const struct sn_ip *tmpl,
		    const struct sn_ip *pkt)
{
	const struct sn_ip *want = tmpl->family ? tmpl : pkt;

	return !want || sn_ip_equal(sa_addr, want);
}

static bool tmpl_accepts(const struct sn_sa *sa, const struct sn_pol_tmpl *t,
			 const struct sn_ip *src, const struct sn_ip *dst)
{
	const struct sn_sa_conf *c = &sa->conf;

	return !sa->life.hard && c->proto == t->proto && c->mode == t->mode &&
	       (!t->reqid || c->reqid == t->reqid) && (!t->spi || c->spi == t->spi) &&
	       addr_ok(&c->src, &t->src, src) && addr_ok(&c->dst, &t->dst, dst);
}

static struct sn_sa *newer(struct sn_sa *best, struct sn_sa *sa)
{
	return !best || sa->serial > best->serial ? sa : best;
}

int sn_sad_foreach_pair(const struct sn_sad *sad, const struct sn_ip *src,
			const struct sn_ip *dst, int (*fn)(const struct sn_sa *sa, void *ctx),
			void *ctx)
{
	uint32_t i;

	if (!sad || !src || !dst || !fn)
		return -EINVAL;
	i = sad->pair_head[pair_hash(src, dst) & sad->bucket_mask];
	for (; i != NIL; i = sad->sa[i].next_pair) {
		const struct sn_sa *sa = &sad->sa[i];
		int rc;

		if (!sn_ip_equal(&sa->conf.src, src) || !sn_ip_equal(&sa->conf.dst, dst))
			continue;
		rc = fn(sa, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

struct sn_sa *sn_sad_find_tmpl(const struct sn_sad *sad, const struct sn_pol_tmpl *t,
			       const struct sn_ip *src, const struct sn_ip *dst)
{
	/* The addresses the SA must have (tmpl_accepts' addr_ok). */
	const struct sn_ip *ws = t && t->src.family ? &t->src : src;
	const struct sn_ip *wd = t && t->dst.family ? &t->dst : dst;
	struct sn_sa *best = NULL;
	uint32_t i;

	if (!sad || !t)
		return NULL;
	if (t->reqid) {
		i = sad->reqid_head[reqid_bucket(sad, t->reqid)];
		for (; i != NIL; i = sad->sa[i].next_reqid)
			if (tmpl_accepts(&sad->sa[i], t, src, dst))
				best = newer(best, &sad->sa[i]);
		return best;
	}
	if (ws && wd) {
		i = sad->pair_head[pair_hash(ws, wd) & sad->bucket_mask];
		for (; i != NIL; i = sad->sa[i].next_pair)
			if (tmpl_accepts(&sad->sa[i], t, src, dst))
				best = newer(best, &sad->sa[i]);
		return best;
	}
	/* Neither the template nor the caller names both ends: no packet
	 * path asks this (every datapath caller passes the packet's). */
	for (i = 0; i < sad->max; i++)
		if (sad->sa[i].in_use && tmpl_accepts(&sad->sa[i], t, src, dst))
			best = newer(best, &sad->sa[i]);
	return best;
}

struct sn_sa_ref sn_sa_ref(const struct sn_sa *sa)
{
	struct sn_sa_ref r = { 0, 0 };

	if (sa && sa->in_use) {
		r.idx = sa->idx;
		r.gen = sa->gen;
	}
	return r;
}

struct sn_sa *sn_sad_get(const struct sn_sad *sad, struct sn_sa_ref ref)
{
	struct sn_sa *sa;

	if (!sad || ref.gen == 0 || ref.idx >= sad->max)
		return NULL;
	sa = &sad->sa[ref.idx];
	return sa->in_use && sa->gen == ref.gen ? sa : NULL;
}

/* ---- Listing, counters, expiry, sequence numbers ------------------------------------------------------ */

int sn_sad_foreach(const struct sn_sad *sad, int (*fn)(const struct sn_sa *sa, void *ctx),
		   void *ctx)
{
	if (!sad || !fn)
		return -EINVAL;
	for (uint32_t i = 0; i < sad->max; i++) {
		int rc = sad->sa[i].in_use ? fn(&sad->sa[i], ctx) : 0;

		if (rc)
			return rc;
	}
	return 0;
}

uint64_t sn_sad_serial(const struct sn_sad *sad)
{
	return sad ? sad->serial : 0;
}

uint32_t sn_sad_count(const struct sn_sad *sad)
{
	return sad ? sad->count : 0;
}

uint64_t *sn_sad_counters(struct sn_sad *sad)
{
	return sad ? sad->ctr : NULL;
}

uint32_t sn_sad_sweep(struct sn_sad *sad, uint64_t now,
		      void (*fn)(struct sn_sa *sa, enum sn_life_state st, void *ctx), void *ctx)
{
	uint32_t deleted = 0;

	if (!sad)
		return 0;
	for (uint32_t i = 0; i < sad->max; i++) {
		struct sn_sa *sa = &sad->sa[i];
		enum sn_life_state st = sa->in_use ? sn_life_state(&sa->life, now) : SN_LIFE_ALIVE;

		if (fn && (st == SN_LIFE_SOFT || st == SN_LIFE_HARD))
			fn(sa, st, ctx);
		if (st == SN_LIFE_HARD) {
			sn_sad_remove(sad, sa);
			deleted++;
		}
	}
	return deleted;
}

int sn_sa_next_seq(struct sn_sa *sa, uint64_t *seq)
{
	if (!sa || !seq)
		return -EINVAL;
	/* Not counted here: the datapath counts the drop it decides on. */
	if (sa->seq_out >= sa->seq_limit)
		return -EOVERFLOW;
	*seq = ++sa->seq_out;
	return 0;
}
