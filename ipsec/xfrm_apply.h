/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsed `ip xfrm` entries (xfrm_parse.h) applied to a SAD and an SPD:
 * add, update, delete, get, deleteall, list and flush of SAs and of the
 * configured policies (a socket's own policies belong to the socket and
 * are never touched here). The same code runs on the live instance
 * (ipsec.c) and on scratch tables when a file is checked before start,
 * so both refuse a line for the same reason.
 *
 * Listings are in `ip xfrm state` / `ip xfrm policy` form (ipsec_show.c),
 * with one difference: keys are never printed, only their length.
 */
#ifndef SN_XFRM_APPLY_H
#define SN_XFRM_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sad.h"
#include "spd.h"
#include "xfrm_parse.h"

struct sn_xfrm_db {
	struct sn_sad *sad;
	struct sn_spd *spd;
	uint64_t now;                   /* seconds, for lifetimes */
	FILE *out;                      /* get, list; NULL: printed nowhere */
	const char *install_why;        /* the SAD install hook's reason, or NULL */
	uint32_t sas_added;             /* SAs added or replaced: policies may choose again */
	uint32_t changed;               /* SAs and policies added, replaced or deleted */
};

/* Apply e. 0, or a negative errno with one sentence in why: -EEXIST,
 * -ENOENT (nothing to delete, get or update), -EINVAL, -ENOSPC. */
SN_MUST_CHECK int sn_xfrm_apply(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e,
				char *why, size_t whylen);

/* ipsec_show.c: one SA or policy as `ip xfrm` prints it; with stats, as
 * `ip -s xfrm` does (lifetimes, replay state, counters). */
void sn_xfrm_print_sa(FILE *out, const struct sn_sa *sa, uint64_t now, bool stats);
void sn_xfrm_print_policy(FILE *out, const struct sn_policy *pol, bool stats);

#endif
