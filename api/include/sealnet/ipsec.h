/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sealnet IPsec configuration: manual SAs and policies in the grammar of
 * Linux's `ip xfrm` (what follows `ip xfrm` on a command line), with its
 * meaning: an SA has no lifetime unless a `limit` gives one (0 is no
 * limit), `replay-window 0` turns anti-replay off for that SA. E.g.
 *
 *   state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 mode transport
 *         reqid 1 aead 'rfc4106(gcm(aes))' 0x<key and 4-byte salt> 128
 *   policy add src 192.0.2.2/32 dst 192.0.2.1/32 dir out
 *         tmpl src 192.0.2.2 dst 192.0.2.1 proto esp mode transport reqid 1
 *
 * Every command works, in a file, through these calls and through snctl
 * (`snctl xfrm state delete ...`), while the program runs:
 *
 *   state add|update ID ALGS [...]     install, or replace (keeps seq numbers)
 *   state delete|get [src A] dst B proto esp|ah spi SPI
 *   state deleteall|list [src A] [dst B] [proto P] [spi SPI] [mode M] [reqid N]
 *   state flush [proto esp|ah]
 *   policy add|update SELECTOR dir DIR [priority N] [action allow|block] [tmpl ...]
 *                                      (update adds the policy if it is missing)
 *   policy delete|get SELECTOR dir DIR | index N
 *   policy deleteall|list [SELECTOR] [dir DIR] [index N] [priority N] [action A]
 *   policy flush
 *
 * Deleting an SA that sockets or policies use makes their next packet
 * look for another SA; with none, it is held (acquire) or dropped, never
 * sent in the clear. Socket policies (sn_set_socket_security) are the
 * sockets' own: policy flush/deleteall leave them alone.
 *
 * Every program reads a file of such lines with --ipsec-conf FILE, checked
 * before start: a line that does not parse or would not install stops the
 * program with "FILE:LINE: why" (exit 2). Call after sn_start(). Errors:
 * -1 and errno, with a sentence in err.
 */
#ifndef SEALNET_IPSEC_H
#define SEALNET_IPSEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Apply one line of any command above: EINVAL for a line that cannot be
 * used (err says which word and why), EEXIST for a duplicate SA or policy,
 * ENOENT for a delete, get or update that finds none, ENOSPC when full.
 * get and list print to stdout, warnings ("warning: ...", e.g. for
 * replay-window 0) too. */
int sn_ipsec_xfrm(const char *line, char *err, size_t errlen);

/* The same, printing to out (NULL: nowhere). */
int sn_ipsec_xfrm_out(const char *line, FILE *out, char *err, size_t errlen);

/* Apply every line of a file; stops at the first bad one ("line N: ..."). */
int sn_ipsec_xfrm_file(const char *path, char *err, size_t errlen);

/* Delete the SA (spi, destination address, IPPROTO_ESP or IPPROTO_AH);
 * its keys are wiped. family is AF_INET or AF_INET6, dst 4 or 16 bytes in
 * network order. ENOENT when there is none. */
int sn_ipsec_sa_delete(uint32_t spi, int family, const void *dst, uint8_t proto);

/* Delete every SA (proto 0) or every SA of IPPROTO_ESP or IPPROTO_AH:
 * `state flush [proto P]`. EPROTONOSUPPORT for another protocol. */
int sn_ipsec_sa_flush(uint8_t proto);

/* Delete every configured policy (`policy flush`); sockets keep theirs. */
int sn_ipsec_policy_flush(void);

#ifdef __cplusplus
}
#endif

#endif
