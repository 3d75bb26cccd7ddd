/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window (RFC 4303 3.4.3) with 64-bit extended sequence
 * numbers (RFC 4303 Appendix A, RFC 4304).
 *
 * The bitmap is a ring of 64-bit words, one bit per sequence number at
 * (seq mod ring bits). The ring holds at least window + 64 bits, so the
 * word the newest number lands in never aliases a number still inside the
 * window. Sliding right clears only the words the slide passes over (at
 * most the ring), so each packet costs O(1) amortised.
 *
 * As in DPDK's lib/ipsec: check before crypto (sn_replay_check, which
 * writes nothing), advance after the ICV verified (sn_replay_update, which
 * checks again: two copies of one packet in one burst both pass the check,
 * only the first passes the update).
 */
#ifndef SN_REPLAY_H
#define SN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "sn_ipsec.h"

#ifndef SN_MUST_CHECK
#define SN_MUST_CHECK __attribute__((warn_unused_result))
#endif

#define SN_REPLAY_MIN   32              /* RFC 4303 3.4.3: at least 32 */
/* Ring words for the largest window: a power of two >= SN_REPLAY_MAX/64 + 1. */
#define SN_REPLAY_WORDS 256
_Static_assert(SN_REPLAY_WORDS * 64 >= SN_REPLAY_MAX + 64, "ring too small");
_Static_assert((SN_REPLAY_WORDS & (SN_REPLAY_WORDS - 1)) == 0, "ring not a power of 2");

struct sn_replay {
	uint64_t top;                   /* highest number accepted; 0 = none yet */
	uint32_t window;                /* packets */
	uint32_t word_mask;             /* ring words - 1 */
	bool off;                       /* replay-window 0: nothing is checked */
	uint64_t bits[SN_REPLAY_WORDS];
};

/* window 0 = SN_REPLAY_DEFAULT; otherwise SN_REPLAY_MIN..SN_REPLAY_MAX.
 * Returns 0 or -EINVAL. */
SN_MUST_CHECK int sn_replay_init(struct sn_replay *r, uint32_t window);

/* Anti-replay off (ip xfrm's replay-window 0, the kernel's default for
 * manual SAs): every number is accepted, a restarted peer's 1 included;
 * top still follows the highest number seen, for listings. Not with ESN
 * (the high half is inferred from the window, RFC 4303 A2). */
void sn_replay_init_off(struct sn_replay *r);

/* Is seq_lo (the header's 32 bits) acceptable? With esn, the high half is
 * inferred as RFC 4303 A2.2 says. Returns 0 and the full number in
 * *seq_full, -EALREADY (seen), -ERANGE (left of the window, or 0, or from
 * before the first ESN epoch) or -EINVAL (bad arguments). */
SN_MUST_CHECK int sn_replay_check(const struct sn_replay *r, uint32_t seq_lo, bool esn,
				  uint64_t *seq_full);

/* Record seq_full after its ICV verified: 0, or -EALREADY / -ERANGE if it
 * became unacceptable since the check (an earlier packet of the burst). */
SN_MUST_CHECK int sn_replay_update(struct sn_replay *r, uint64_t seq_full);

#endif
