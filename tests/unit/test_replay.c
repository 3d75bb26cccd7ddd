/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/replay.c: the anti-replay window (RFC 4303 3.4.3, Appendix A).
 * Edge tables (first packet, in order, duplicates, window edges, far jump,
 * ESN wrap), then a differential test against a naive reference that
 * keeps every number it has seen in a plain array.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../ipsec/replay.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Check then update, as the datapath does once the ICV verified. */
static int accept_seq(struct sn_replay *r, uint32_t lo, bool esn, uint64_t *full)
{
	uint64_t f = 0;
	int rc = sn_replay_check(r, lo, esn, &f);

	if (full)
		*full = f;
	return rc ? rc : sn_replay_update(r, f);
}

static struct sn_replay *new_replay(uint32_t window)
{
	static struct sn_replay r;

	cr_assert_eq(sn_replay_init(&r, window), 0, "window %u", window);
	return &r;
}

Test(replay, init_bounds)
{
	static const struct { uint32_t window; int rc; uint32_t got; } cases[] = {
		/* 0 */ { 0, 0, SN_REPLAY_DEFAULT },
		/* 1 */ { 31, -EINVAL, 0 },
		/* 2 */ { 32, 0, 32 },
		/* 3 */ { 64, 0, 64 },
		/* 4 */ { 100, 0, 100 },
		/* 5 */ { 8192, 0, 8192 },
		/* 6 */ { 8193, -EINVAL, 0 },
		/* 7 */ { UINT32_MAX, -EINVAL, 0 },
	};
	struct sn_replay r;

	for (size_t i = 0; i < N(cases); i++) {
		cr_expect_eq(sn_replay_init(&r, cases[i].window), cases[i].rc, "case %zu", i);
		if (cases[i].rc == 0)
			cr_expect_eq(r.window, cases[i].got, "case %zu", i);
	}
	cr_expect_eq(sn_replay_init(NULL, 64), -EINVAL);
}

/* One step of a scripted sequence. */
struct step {
	uint32_t lo;
	int rc;                 /* of check+update */
	uint64_t full;          /* expected reconstruction when rc == 0 */
};

static void run_steps(uint32_t window, bool esn, const struct step *s, size_t n, uint64_t start)
{
	struct sn_replay *r = new_replay(window);

	if (start) {
		cr_assert_eq(sn_replay_update(r, start), 0);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t full;
		int rc = accept_seq(r, s[i].lo, esn, &full);

		cr_expect_eq(rc, s[i].rc, "step %zu (seq %u): rc %d, wanted %d", i, s[i].lo, rc,
			     s[i].rc);
		if (s[i].rc == 0)
			cr_expect_eq(full, s[i].full, "step %zu: full 0x%llx", i,
				     (unsigned long long)full);
	}
}

Test(replay, first_in_order_duplicates_edges)
{
	static const struct step s[] = {
		/*  0 */ { 0, -ERANGE, 0 },              /* 0 is never valid */
		/*  1 */ { 1, 0, 1 },                    /* first packet */
		/*  2 */ { 1, -EALREADY, 0 },
		/*  3 */ { 2, 0, 2 },
		/*  4 */ { 3, 0, 3 },
		/*  5 */ { 100, 0, 100 },                /* top 100, window 64: 37..100 */
		/*  6 */ { 37, 0, 37 },                  /* exactly window-1 behind */
		/*  7 */ { 36, -ERANGE, 0 },             /* exactly window behind */
		/*  8 */ { 37, -EALREADY, 0 },
		/*  9 */ { 99, 0, 99 },
		/* 10 */ { 99, -EALREADY, 0 },
		/* 11 */ { 3, -ERANGE, 0 },              /* was seen, now too old */
		/* 12 */ { 101, 0, 101 },                /* slide by one: 38..101 */
		/* 13 */ { 37, -ERANGE, 0 },
		/* 14 */ { 38, 0, 38 },
		/* 15 */ { 0, -ERANGE, 0 },
	};

	run_steps(64, false, s, N(s), 0);
}

Test(replay, far_jump_clears_bitmap)
{
	static const struct step s[] = {
		/* 0 */ { 1, 0, 1 }, { 2, 0, 2 }, { 3, 0, 3 },
		/* 3 */ { 1000000, 0, 1000000 },      /* far more than the ring ahead */
		/* 4 */ { 1000000 - 1023, 0, 1000000 - 1023 }, /* its old ring slot held 3? no: clear */
		/* 5 */ { 1000000 - 1, 0, 1000000 - 1 },
		/* 6 */ { 1000000 - 1024, -ERANGE, 0 },
		/* 7 */ { 1000000 + 2048, 0, 1000000 + 2048 }, /* exactly the ring (2048 bits) */
		/* 8 */ { 1000000 + 2048 - 1023, 0, 1000000 + 2048 - 1023 },
		/* 9 */ { 1000000 + 2048 - 1, 0, 1000000 + 2048 - 1 },
	};

	run_steps(1024, false, s, N(s), 0);
}

/* Every slot of the ring: after sliding over numbers whose slots were
 * set a ring ago, none of those bits may make a new number look replayed. */
Test(replay, slide_clears_passed_words)
{
	for (uint32_t w = 32; w <= 512; w += 32) {
		struct sn_replay *r = new_replay(w);
		uint64_t full;

		for (uint32_t s = 1; s < 8 * w; s++)
			cr_assert_eq(accept_seq(r, s, false, NULL), 0, "w %u s %u", w, s);
		for (uint32_t s = 8 * w + 5; s < 40 * w; s += 7) {
			cr_assert_eq(accept_seq(r, s, false, NULL), 0, "w %u s %u", w, s);
			cr_assert_eq(sn_replay_check(r, s - 3, false, &full), 0, "w %u s %u", w, s);
			cr_assert_eq(sn_replay_check(r, s - 7, false, &full), -EALREADY);
		}
	}
}

/* Check writes nothing; update re-checks (a duplicate inside a burst). */
Test(replay, update_rechecks)
{
	struct sn_replay *r = new_replay(64);
	uint64_t a, b;

	cr_assert_eq(sn_replay_check(r, 5, false, &a), 0);
	cr_assert_eq(sn_replay_check(r, 5, false, &b), 0);
	cr_expect_eq(sn_replay_update(r, a), 0);
	cr_expect_eq(sn_replay_update(r, b), -EALREADY);
	cr_expect_eq(sn_replay_update(r, 0), -ERANGE);
	cr_expect_eq(sn_replay_check(NULL, 5, false, &a), -EINVAL);
	cr_expect_eq(sn_replay_check(r, 5, false, NULL), -EINVAL);
	cr_expect_eq(sn_replay_update(NULL, 5), -EINVAL);
}

Test(replay, esn_wrap_and_late_packets)
{
	static const struct step s[] = {
		/* 0 */ { 0xfffffffe, 0, 0xfffffffeull },       /* top at start: 0xfffffff0 */
		/* 1 */ { 0xffffffff, 0, 0xffffffffull },
		/* 2 */ { 0, 0, 0x100000000ull },               /* seq_lo wraps, seq_hi + 1 */
		/* 3 */ { 1, 0, 0x100000001ull },
		/* 4 */ { 0xfffffff8, 0, 0xfffffff8ull },       /* late, previous epoch */
		/* 5 */ { 0xfffffff8, -EALREADY, 0 },
		/* 6 */ { 0xffffffff, -EALREADY, 0 },
		/* 7 */ { 0xffffffc2, 0, 0xffffffc2ull },       /* 63 behind top 0x1_00000001 */
		/* 8 */ { 0xffffffc1, 0, 0x1ffffffc1ull },      /* 64 behind: read as next epoch */
		/* 9 */ { 40, 0, 0x200000028ull },              /* below the window is read as
								 * the next epoch (A2.2 case A):
								 * only the ICV can tell */
	};

	run_steps(64, true, s, N(s), 0xfffffff0ull);
}

Test(replay, esn_first_epoch)
{
	struct sn_replay *r = new_replay(64);
	uint64_t full;

	/* Nothing received: a number "just below" 2^32 would be epoch -1. */
	cr_expect_eq(sn_replay_check(r, 0xffffffff, true, &full), -ERANGE);
	cr_expect_eq(sn_replay_check(r, 0, true, &full), -ERANGE);
	cr_expect_eq(accept_seq(r, 1, true, &full), 0);
	cr_expect_eq(full, 1);
	/* Top 1, window 64: 0xffffffc2.. reads as the window's part in epoch
	 * -1 (A2.2 case B), which does not exist; just below is epoch 0. */
	cr_expect_eq(sn_replay_check(r, 0xffffffc2, true, &full), -ERANGE);
	cr_expect_eq(accept_seq(r, 0xffffffc1, true, &full), 0, "far ahead, same epoch");
	cr_expect_eq(full, 0xffffffc1ull);
}

/* ---- Differential ------------------------------------------------------------------ */

#define SPAN (1u << 24)         /* numbers the generator may send, from base */

struct ref {
	uint8_t *seen;          /* plain array, one byte per number since base */
	uint64_t base, top;
	uint32_t window;
};

static bool ref_accept(struct ref *f, uint64_t s)
{
	if (s == 0)
		return false;
	if (s <= f->top && (f->top - s >= f->window || f->seen[s - f->base]))
		return false;
	f->seen[s - f->base] = 1;
	if (s > f->top)
		f->top = s;
	return true;
}

/* The sender's true number; only its own 32 bits travel. The ICV would
 * verify only if the receiver's reconstruction is that number. */
static bool impl_accept(struct sn_replay *r, uint64_t s, bool esn)
{
	uint64_t full;

	if (sn_replay_check(r, (uint32_t)s, esn, &full) || full != s)
		return false;
	return sn_replay_update(r, full) == 0;
}

static uint64_t next_seq(uint64_t top, uint64_t base, uint32_t w)
{
	int k = rand() % 100;
	int64_t d;

	if (k < 50)
		d = 1 + rand() % 3;                             /* in order */
	else if (k < 85)
		d = -(int64_t)(rand() % (w + w / 2 + 1));       /* late, some too late */
	else if (k < 95)
		d = 0;                                          /* duplicate of the top */
	else
		d = (int64_t)(w / 2 + rand() % (3 * w));        /* jump */
	if ((int64_t)(top - base) + d < 1)
		d = 1;
	return top + (uint64_t)d;
}

static void differential(uint32_t w, bool esn, uint64_t base, unsigned seed)
{
	struct sn_replay *r = new_replay(w);
	struct ref f = { .base = base, .top = base ? base : 0, .window = w };
	unsigned acc = 0, rej = 0;

	f.seen = calloc(SPAN + 16 * SN_REPLAY_MAX, 1);
	cr_assert_not_null(f.seen);
	srand(seed);
	if (base) {     /* start both at base */
		cr_assert_eq(sn_replay_update(r, base), 0);
		f.seen[0] = 1;
	}
	for (unsigned i = 0; i < 200000 && f.top - base < SPAN; i++) {
		uint64_t s = next_seq(f.top, base, w);
		bool want = ref_accept(&f, s), got = impl_accept(r, s, esn);

		cr_assert_eq(got, want, "w %u esn %d step %u seq 0x%llx top 0x%llx: got %d", w,
			     esn, i, (unsigned long long)s, (unsigned long long)f.top, got);
		*(want ? &acc : &rej) += 1;
	}
	cr_expect_gt(acc, 1000, "w %u: %u accepted", w, acc);
	cr_expect_gt(rej, 1000, "w %u: %u rejected", w, rej);
	free(f.seen);
}

Test(replay, differential_32bit)
{
	static const uint32_t windows[] = { 32, 64, 100, 1024, 4096, 8192 };

	for (size_t i = 0; i < N(windows); i++)
		differential(windows[i], false, 0, 1000 + (unsigned)i);
}

Test(replay, differential_esn_across_wraps)
{
	static const uint32_t windows[] = { 32, 64, 100, 1024, 4096, 8192 };

	for (size_t i = 0; i < N(windows); i++) {
		differential(windows[i], true, 0xffffffffull - 200000, 2000 + (unsigned)i);
		differential(windows[i], true, 0x5ffffffffull - 100000, 3000 + (unsigned)i);
		differential(windows[i], true, 0, 4000 + (unsigned)i);
	}
}
