// SPDX-License-Identifier: BSD-3-Clause
/*
 * Every timer decided here, from events (STYLE 10): retransmission of
 * our outstanding request (RFC 7296 2.1: from retransmit_timeout_ms,
 * doubling, retransmit_tries times, then the SA is given up), and the
 * half-open timeout of a responder's SA that never saw IKE_AUTH.
 */
#include <stdint.h>

#include "ike_sa.h"

static uint32_t tries(const struct ike *ike)
{
	uint32_t t = ike->conf->settings.retransmit_tries;

	return t ? t : IKE_DEF_RTX_TRIES;
}

static uint64_t halfopen_ms(const struct ike *ike)
{
	uint32_t s = ike->conf->settings.half_open_timeout_s;

	return (uint64_t)(s ? s : IKE_DEF_HALFOPEN_S) * 1000;
}

static void retransmit(struct ike_ikesa *sa, uint64_t now)
{
	struct ike *ike = sa->ike;
	uint32_t cap = ike->conf->settings.retransmit_max_ms;

	if (sa->rtx_count >= tries(ike)) {
		if (sa->state == IKE_ST_ESTABLISHED)
			IKE_CTR(ike, dpd_dead);
		ike_sa_fail(sa, IKE_FAIL_TIMEOUT, 0, "no answer after every retransmission");
		return;
	}
	sa->rtx_count++;
	sa->rtx_ms = sa->rtx_ms > UINT32_MAX / 2 ? UINT32_MAX : sa->rtx_ms * 2;
	if (cap && sa->rtx_ms > cap)
		sa->rtx_ms = cap;
	sa->rtx_due = now + sa->rtx_ms;
	IKE_CTR(ike, retransmit_sent);
	ike_send_raw(sa, sa->req.p, sa->req.len);
}

void ike_timers_sa(struct ike_ikesa *sa, uint64_t now)
{
	if (sa->req.len && now >= sa->rtx_due)
		retransmit(sa, now);
	else if (sa->state == IKE_ST_INIT_DONE && now >= sa->created_ms + halfopen_ms(sa->ike))
		sa->state = IKE_ST_DEAD;
}

void ike_tick(struct ike *ike)
{
	uint64_t now = ike->ops.now_ms(ike->ops.ctx);
	struct ike_ikesa *sa = ike->list, *next;

	for (; sa; sa = next) {
		next = sa->lnext;
		ike_timers_sa(sa, now);
		if (sa->state == IKE_ST_DEAD)
			ike_sa_free(sa);
	}
}

static uint64_t sa_due(const struct ike_ikesa *sa)
{
	if (sa->req.len)
		return sa->rtx_due;
	if (sa->state == IKE_ST_INIT_DONE)
		return sa->created_ms + halfopen_ms(sa->ike);
	return UINT64_MAX;
}

uint64_t ike_next_due(const struct ike *ike)
{
	uint64_t due = UINT64_MAX;

	for (const struct ike_ikesa *sa = ike->list; sa; sa = sa->lnext)
		if (sa_due(sa) < due)
			due = sa_due(sa);
	return due;
}
