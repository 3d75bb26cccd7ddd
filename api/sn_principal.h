/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The principal map and per-thread impersonation (api/principal.c), as seen
 * by the rest of api/: the socket calls (sn_impersonate_socket_peer, the
 * query's tokens) hold a proven peer identity as bytes and a length, not a
 * C string. Not installed.
 */
#ifndef SN_PRINCIPAL_H
#define SN_PRINCIPAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sealnet/security.h"

/* Longest line of a principal map file, its newline not counted. */
#define SN_PRINCIPAL_LINE_MAX 1024

/*
 * The principal mapped from identity[0..len) (exact bytes; the identity
 * need not be NUL-terminated). A new handle the caller owns: release it
 * with sn_principal_release. It stays valid after the map is reloaded or
 * cleared. NULL with errno EINVAL for a NULL identity, ENOENT when nothing
 * maps from it (including len 0 or len > SN_IDENTITY_MAX).
 * Safe to call from any thread.
 */
struct sn_principal *sn_principal_lookup_n(const char *identity, size_t len);

/* Whether the calling thread impersonates a principal now (between a
 * successful sn_impersonate_principal and sn_revert_impersonation). */
bool sn_impersonating(void);

#endif
