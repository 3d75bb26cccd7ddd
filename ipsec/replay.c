/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window: RFC 4303 3.4.3 (the window), Appendix A2.2 (the
 * high half of an extended sequence number inferred from the window).
 */
#include <errno.h>
#include <string.h>

#include "replay.h"

static uint32_t ring_words(uint32_t window)
{
	uint32_t need = (window + 63) / 64 + 1, words = 1;

	while (words < need)
		words <<= 1;
	return words;
}

int sn_replay_init(struct sn_replay *r, uint32_t window)
{
	if (!r)
		return -EINVAL;
	if (window == 0)
		window = SN_REPLAY_DEFAULT;
	if (window < SN_REPLAY_MIN || window > SN_REPLAY_MAX)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->window = window;
	r->word_mask = ring_words(window) - 1;
	return 0;
}

void sn_replay_init_off(struct sn_replay *r)
{
	if (!r)
		return;
	memset(r, 0, sizeof(*r));
	r->off = true;
}

static bool bit_seen(const struct sn_replay *r, uint64_t seq)
{
	return r->bits[(seq >> 6) & r->word_mask] >> (seq & 63) & 1;
}

/* RFC 4303 A2.2. Tl, Th: the halves of the top; W: the window. Case A:
 * the window lies in one 2^32 subspace; case B: it straddles two. */
static int esn_infer(const struct sn_replay *r, uint32_t seql, uint64_t *seq)
{
	uint32_t tl = (uint32_t)r->top, th = (uint32_t)(r->top >> 32);
	uint32_t w = r->window, low_edge = tl - w + 1;  /* mod 2^32 in case B */
	uint32_t sh = th;

	if (tl >= w - 1 && seql < low_edge) {
		if (th == UINT32_MAX)
			return -ERANGE;         /* 2^64 numbers: the SA is long dead */
		sh = th + 1;
	} else if (tl < w - 1 && seql >= low_edge) {
		if (th == 0)
			return -ERANGE;         /* before the first epoch */
		sh = th - 1;
	}
	*seq = (uint64_t)sh << 32 | seql;
	return 0;
}

static int window_check(const struct sn_replay *r, uint64_t seq)
{
	if (seq == 0)
		return -ERANGE;                 /* never sent: the first packet is 1 */
	if (seq > r->top)
		return 0;
	if (r->top - seq >= r->window)
		return -ERANGE;
	return bit_seen(r, seq) ? -EALREADY : 0;
}

int sn_replay_check(const struct sn_replay *r, uint32_t seq_lo, bool esn, uint64_t *seq_full)
{
	uint64_t seq = seq_lo;

	if (r && seq_full && r->off && !esn) {
		*seq_full = seq;
		return 0;
	}
	if (!r || !seq_full || r->window == 0)
		return -EINVAL;
	if (esn && esn_infer(r, seq_lo, &seq))
		return -ERANGE;
	*seq_full = seq;
	return window_check(r, seq);
}

/* Words between the old top's word and the new one hold numbers from a
 * ring ago, all left of the new window: clear them, the whole ring at most. */
static void slide(struct sn_replay *r, uint64_t seq)
{
	uint64_t from = (r->top >> 6) + 1, to = seq >> 6;
	uint64_t words = (uint64_t)r->word_mask + 1;

	if (to >= from + words) {
		memset(r->bits, 0, words * sizeof(r->bits[0]));
	} else {
		for (uint64_t w = from; w <= to; w++)
			r->bits[w & r->word_mask] = 0;
	}
	r->top = seq;
}

int sn_replay_update(struct sn_replay *r, uint64_t seq_full)
{
	int rc;

	if (r && r->off) {
		r->top = seq_full > r->top ? seq_full : r->top;
		return 0;
	}
	if (!r || r->window == 0)
		return -EINVAL;
	rc = window_check(r, seq_full);
	if (rc)
		return rc;
	if (seq_full > r->top)
		slide(r, seq_full);
	r->bits[(seq_full >> 6) & r->word_mask] |= 1ull << (seq_full & 63);
	return 0;
}
