/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/lifetime.c: soft then hard, in each dimension (seconds since
 * install, seconds since first use, bytes, packets); SOFT reported once;
 * HARD sticky; the default policy when a conf gives no limit.
 */
#include <errno.h>

#include <criterion/criterion.h>

#include "../../ipsec/lifetime.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* An event at time t: bytes >= 0 is one packet of that size; -1 is a look
 * without traffic. The state expected right after. */
struct ev {
	uint64_t t;
	int64_t bytes;
	enum sn_life_state want;
};

struct life_case {
	const char *name;
	struct sn_lifetime lim;
	struct ev ev[8];
	size_t n;
};

static const struct life_case cases[] = {
	/* 0 */ { "add seconds", { .soft_add_s = 10, .hard_add_s = 20 },
		{ { 100, -1, SN_LIFE_ALIVE }, { 109, 50, SN_LIFE_ALIVE }, { 110, -1, SN_LIFE_SOFT },
		  { 111, -1, SN_LIFE_EXPIRING }, { 119, 50, SN_LIFE_EXPIRING },
		  { 120, -1, SN_LIFE_HARD }, { 121, -1, SN_LIFE_HARD } }, 7 },
	/* 1 */ { "use seconds", { .soft_use_s = 5, .hard_use_s = 8 },
		{ { 1000, -1, SN_LIFE_ALIVE }, { 1050, 1, SN_LIFE_ALIVE }, { 1054, -1, SN_LIFE_ALIVE },
		  { 1055, -1, SN_LIFE_SOFT }, { 1057, 1, SN_LIFE_EXPIRING },
		  { 1058, -1, SN_LIFE_HARD } }, 6 },
	/* 2 */ { "bytes", { .soft_bytes = 1000, .hard_bytes = 1500 },
		{ { 100, 999, SN_LIFE_ALIVE }, { 100, 1, SN_LIFE_SOFT }, { 100, 499, SN_LIFE_EXPIRING },
		  { 100, 0, SN_LIFE_EXPIRING }, { 100, 1, SN_LIFE_HARD } }, 5 },
	/* 3 */ { "packets", { .soft_packets = 3, .hard_packets = 5 },
		{ { 100, 0, SN_LIFE_ALIVE }, { 100, 0, SN_LIFE_ALIVE }, { 100, 0, SN_LIFE_SOFT },
		  { 100, 0, SN_LIFE_EXPIRING }, { 100, 0, SN_LIFE_HARD },
		  { 100, -1, SN_LIFE_HARD } }, 6 },
	/* 4 */ { "hard without soft", { .hard_packets = 2 },
		{ { 100, 0, SN_LIFE_ALIVE }, { 100, 0, SN_LIFE_HARD } }, 2 },
	/* 5 */ { "soft and hard at once: hard wins, no SOFT", { .soft_bytes = 10, .hard_bytes = 10 },
		{ { 100, 9, SN_LIFE_ALIVE }, { 100, 5, SN_LIFE_HARD } }, 2 },
	/* 6 */ { "soft only never dies", { .soft_add_s = 1 },
		{ { 100, -1, SN_LIFE_ALIVE }, { 101, -1, SN_LIFE_SOFT },
		  { 1000000, 1000000, SN_LIFE_EXPIRING } }, 3 },
	/* 7 */ { "first of several soft dimensions", { .soft_add_s = 100, .soft_packets = 2, .hard_add_s = 200 },
		{ { 100, 0, SN_LIFE_ALIVE }, { 101, 0, SN_LIFE_SOFT }, { 150, -1, SN_LIFE_EXPIRING },
		  { 300, -1, SN_LIFE_HARD } }, 4 },
	/* 8 */ { "clock going backwards counts as no time", { .hard_add_s = 10 },
		{ { 50, -1, SN_LIFE_ALIVE }, { 109, -1, SN_LIFE_ALIVE }, { 110, -1, SN_LIFE_HARD } }, 3 },
};

Test(lifetime, soft_then_hard_each_dimension)
{
	for (size_t i = 0; i < N(cases); i++) {
		const struct life_case *c = &cases[i];
		struct sn_life l;

		cr_assert_eq(sn_life_init(&l, &c->lim, 100), 0);
		for (size_t j = 0; j < c->n; j++) {
			const struct ev *e = &c->ev[j];
			enum sn_life_state st;

			if (e->bytes >= 0)
				sn_life_used(&l, e->t, (uint64_t)e->bytes);
			st = sn_life_state(&l, e->t);
			cr_expect_eq(st, e->want, "case %zu (%s) event %zu: state %d, wanted %d",
				     i, c->name, j, st, e->want);
		}
	}
}

Test(lifetime, defaults_from_the_seed_policy_for_negotiated_sas)
{
	struct sn_lifetime d;
	struct sn_life l;

	sn_life_defaults(&d);
	cr_assert_eq(sn_life_init(&l, &d, 0), 0);
	cr_expect_eq(l.lim.hard_add_s, 3600);
	cr_expect_eq(l.lim.soft_add_s, 3240);
	cr_expect_eq(l.lim.hard_bytes, 55000000000ull);
	cr_expect_eq(l.lim.soft_bytes, 49500000000ull);
	cr_expect_eq(l.lim.hard_packets, 0);
	cr_expect_eq(sn_life_state(&l, 3239), SN_LIFE_ALIVE);
	cr_expect_eq(sn_life_state(&l, 3240), SN_LIFE_SOFT);
	cr_expect_eq(sn_life_state(&l, 3599), SN_LIFE_EXPIRING);
	cr_expect_eq(sn_life_state(&l, 3600), SN_LIFE_HARD);

	cr_assert_eq(sn_life_init(&l, &d, 0), 0);
	sn_life_used(&l, 1, 55000000000ull);
	cr_expect_eq(sn_life_state(&l, 2), SN_LIFE_HARD, "55 GB");
}

/* A manual SA lives until it is deleted unless a limit says otherwise
 * (ip xfrm's semantics): no limit given, or every limit 0, is none. */
Test(lifetime, no_limit_given_is_no_limit)
{
	struct sn_lifetime zero = { 0 };
	struct sn_life l;

	cr_assert_eq(sn_life_init(&l, &zero, 0), 0);
	cr_expect_eq(l.lim.hard_add_s, 0);
	cr_expect_eq(l.lim.hard_bytes, 0);
	sn_life_used(&l, 1, 100000000000000ull);
	cr_expect_eq(sn_life_state(&l, 100000000), SN_LIFE_ALIVE, "100 TB, 3 years");
	cr_expect_not(sn_life_hard(&l, 100000000));
	cr_expect_eq(sn_life_deadline(&l), UINT64_MAX);

	cr_assert_eq(sn_life_init(&l, NULL, 0), 0);
	sn_life_used(&l, 1, 55000000000ull);
	cr_expect_eq(sn_life_state(&l, 4000), SN_LIFE_ALIVE);
	cr_expect_eq(sn_life_deadline(&l), UINT64_MAX);
/* Any limit given: only what is given. */
	struct sn_lifetime one = { .hard_packets = 7 };

	cr_assert_eq(sn_life_init(&l, &one, 0), 0);
	cr_expect_eq(l.lim.hard_add_s, 0);
	cr_expect_eq(sn_life_state(&l, 1000000), SN_LIFE_ALIVE);
}

Test(lifetime, deadline_for_timers)
{
	struct sn_lifetime lim = { .soft_add_s = 30, .hard_add_s = 60, .soft_use_s = 5,
				   .hard_use_s = 100 };
	struct sn_life l;

	cr_assert_eq(sn_life_init(&l, &lim, 1000), 0);
	cr_expect_eq(sn_life_deadline(&l), 1030);
	sn_life_used(&l, 1010, 10);
	cr_expect_eq(sn_life_deadline(&l), 1015, "first use + soft use");
	cr_expect_eq(sn_life_state(&l, 1015), SN_LIFE_SOFT);
	cr_expect_eq(sn_life_deadline(&l), 1060, "soft done: the hard add limit");
	cr_expect_eq(sn_life_state(&l, 1060), SN_LIFE_HARD);
	cr_expect_eq(sn_life_deadline(&l), UINT64_MAX);

	struct sn_lifetime counts = { .hard_bytes = 5 };

	cr_assert_eq(sn_life_init(&l, &counts, 0), 0);
	cr_expect_eq(sn_life_deadline(&l), UINT64_MAX, "no time limit");
}

Test(lifetime, saturation_and_null)
{
	struct sn_lifetime lim = { .hard_bytes = UINT64_MAX };
	struct sn_life l;

	cr_assert_eq(sn_life_init(&l, &lim, 0), 0);
	sn_life_used(&l, 0, UINT64_MAX - 1);
	sn_life_used(&l, 0, 10);
	cr_expect_eq(l.bytes, UINT64_MAX, "saturates, no wrap to a small count");
	cr_expect_eq(sn_life_state(&l, 0), SN_LIFE_HARD);
	cr_expect_eq(sn_life_init(NULL, &lim, 0), -EINVAL);
	cr_expect_eq(sn_life_state(NULL, 0), SN_LIFE_HARD);
	sn_life_used(NULL, 0, 1);
	cr_expect_eq(sn_life_deadline(NULL), UINT64_MAX);
}
