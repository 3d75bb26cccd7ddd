/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SA lifetimes: soft and hard limits in seconds since install, seconds
 * since first use, bytes and packets (RFC 4301 4.4.2.1).
 *
 * Timers as events: the datapath reports what happened (sn_life_used, per
 * packet), the key manager and the poll loop ask one function what it
 * means (sn_life_state). Time is whatever seconds clock the caller uses,
 * passed in: nothing here reads a clock.
 *
 * A limit of 0 is no limit, and a conf with none at all lives until it is
 * deleted: a manual SA means what `ip xfrm` means (no key manager rekeys
 * it). The socket security policy's defaults (hard at 1 hour and 55 GB,
 * soft at 90% of each) are for negotiated SAs: the key manager fills
 * conf.life with sn_life_defaults() or the proposal's lifetimes.
 */
#ifndef SN_LIFETIME_H
#define SN_LIFETIME_H

#include <stdbool.h>
#include <stdint.h>

#include "sn_ipsec.h"

#ifndef SN_MUST_CHECK
#define SN_MUST_CHECK __attribute__((warn_unused_result))
#endif

/* Soft limits of the default policy, percent of the hard ones. */
#define SN_LIFETIME_SOFT_PERCENT 90u

enum sn_life_state {
	SN_LIFE_ALIVE = 0,              /* no limit reached */
	SN_LIFE_SOFT,                   /* a soft limit was just reached: rekey (once) */
	SN_LIFE_EXPIRING,               /* soft reached earlier; still usable */
	SN_LIFE_HARD,                   /* a hard limit reached: the SA must die (sticky) */
};

struct sn_life {
	struct sn_lifetime lim;
	uint64_t added;                 /* seconds at install */
	uint64_t first_use;             /* seconds at the first packet, if used */
	uint64_t bytes, packets;
	bool used;
	bool soft_reported;
	bool hard;
};

/* Fill *l with the default policy's limits (for negotiated SAs). */
void sn_life_defaults(struct sn_lifetime *l);

/* conf NULL or all zero: no limit. Returns 0 or -EINVAL. */
SN_MUST_CHECK int sn_life_init(struct sn_life *l, const struct sn_lifetime *conf,
			       uint64_t now);

/* One packet of `bytes` went through the SA at `now`. Counts saturate. */
void sn_life_used(struct sn_life *l, uint64_t now, uint64_t bytes);

/* Has a hard limit been reached at `now`? (The datapath's per-packet
 * question; it leaves the one-time soft event to sn_life_state.) */
bool sn_life_hard(struct sn_life *l, uint64_t now);

/* What the limits say at `now`; SN_LIFE_SOFT is returned once, on the
 * call that first sees a soft limit reached (unless hard is reached too). */
enum sn_life_state sn_life_state(struct sn_life *l, uint64_t now);

/* The next time at which sn_life_state may change through time alone
 * (a timer to arm), or UINT64_MAX if none. */
uint64_t sn_life_deadline(const struct sn_life *l);

#endif
