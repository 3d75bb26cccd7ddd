/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SA lifetimes: the one place that decides soft (rekey) and hard (delete)
 * expiry from what callers report.
 */
#include <errno.h>
#include <string.h>

#include "lifetime.h"

void sn_life_defaults(struct sn_lifetime *l)
{
	if (!l)
		return;
	memset(l, 0, sizeof(*l));
	l->hard_add_s = SN_LIFETIME_SECONDS_DEFAULT;
	l->soft_add_s = SN_LIFETIME_SECONDS_DEFAULT / 100 * SN_LIFETIME_SOFT_PERCENT;
	l->hard_bytes = SN_LIFETIME_BYTES_DEFAULT;
	l->soft_bytes = SN_LIFETIME_BYTES_DEFAULT / 100 * SN_LIFETIME_SOFT_PERCENT;
}

int sn_life_init(struct sn_life *l, const struct sn_lifetime *conf, uint64_t now)
{
	if (!l)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	if (conf)
		l->lim = *conf;         /* 0 in a field: no limit there */
	l->added = now;
	return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void sn_life_used(struct sn_life *l, uint64_t now, uint64_t bytes)
{
	if (!l)
		return;
	if (!l->used) {
		l->used = true;
		l->first_use = now;
	}
	l->bytes = sat_add(l->bytes, bytes);
	l->packets = sat_add(l->packets, 1);
}

static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* 0 is "no limit" in every dimension. */
static bool reached(const struct sn_life *l, uint64_t now, uint64_t add_s, uint64_t use_s,
		    uint64_t bytes, uint64_t packets)
{
	return (add_s && since(now, l->added) >= add_s) ||
	       (use_s && l->used && since(now, l->first_use) >= use_s) ||
	       (bytes && l->bytes >= bytes) || (packets && l->packets >= packets);
}

bool sn_life_hard(struct sn_life *l, uint64_t now)
{
	const struct sn_lifetime *m;

	if (!l || l->hard)
		return true;
	m = &l->lim;
	if (reached(l, now, m->hard_add_s, m->hard_use_s, m->hard_bytes, m->hard_packets))
		l->hard = true;
	return l->hard;
}

enum sn_life_state sn_life_state(struct sn_life *l, uint64_t now)
{
	const struct sn_lifetime *m;

	if (!l || l->hard)
		return SN_LIFE_HARD;
	m = &l->lim;
	if (reached(l, now, m->hard_add_s, m->hard_use_s, m->hard_bytes, m->hard_packets)) {
		l->hard = true;
		return SN_LIFE_HARD;
	}
	if (l->soft_reported)
		return SN_LIFE_EXPIRING;
	if (!reached(l, now, m->soft_add_s, m->soft_use_s, m->soft_bytes, m->soft_packets))
		return SN_LIFE_ALIVE;
	l->soft_reported = true;
	return SN_LIFE_SOFT;
}

static uint64_t earliest(uint64_t best, uint64_t base, uint64_t after)
{
	uint64_t t;

	if (!after)
		return best;
	t = sat_add(base, after);
	return t < best ? t : best;
}

uint64_t sn_life_deadline(const struct sn_life *l)
{
	uint64_t t = UINT64_MAX;

	if (!l || l->hard)
		return UINT64_MAX;
	t = earliest(t, l->added, l->lim.hard_add_s);
	if (l->used)
		t = earliest(t, l->first_use, l->lim.hard_use_s);
	if (l->soft_reported)
		return t;
	t = earliest(t, l->added, l->lim.soft_add_s);
	if (l->used)
		t = earliest(t, l->first_use, l->lim.soft_use_s);
	return t;
}
