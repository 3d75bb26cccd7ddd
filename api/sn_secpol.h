/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registered main-mode and quick-mode policies (api/secpolicy.c), for the
 * socket security calls (api/security.c). Internal.
 */
#ifndef SN_SECPOL_H
#define SN_SECPOL_H

#include "sealnet/security.h"

struct sn_sec_conf;

/* Fill c's proposals from the quick-mode policy qm (zero key or NULL: the
 * default policy) honouring c->flags, and record mm. c->flags must be
 * set. -EINVAL for an unknown key, a key of the other type, or no
 * proposal left once encryption is guaranteed. */
int sn_secpol_fill(struct sn_sec_conf *c, const struct sn_policy_key *mm,
		   const struct sn_policy_key *qm);

#endif
