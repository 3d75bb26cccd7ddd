/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP SA keys for Wireshark (--keylog, snctl keylog): one line per SA in
 * the format of Wireshark's `esp_sa` table (its ESP preferences, "ESP
 * SAs"), for every SA installed when the file opens and every one after,
 * manual and negotiated alike. Off by default; the file is created mode
 * 0600. AH SAs need no key to be read and are not written.
 */
#ifndef SN_KEYLOG_H
#define SN_KEYLOG_H

#include "sn_ipsec.h"

/* Open (truncate) path and write every SA of the SAD; NULL closes.
 * 0 or a negative errno. */
__attribute__((warn_unused_result))
int sn_keylog_open(const char *path);
void sn_keylog_close(void);
bool sn_keylog_active(void);
/* An SA was just installed (xfrm_apply.c, keymgr.c). */
void sn_keylog_sa(const struct sn_sa_conf *c);

#endif
