/*
 * sealnet IPsec configuration: manual SAs and policies in the grammar of
 * Linux's `ip xfrm` (what follows `ip xfrm` on a command line), e.g.
 *
 *   state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 mode transport
 *         reqid 1 aead 'rfc4106(gcm(aes))' 0x<key and 4-byte salt> 128
 *   policy add src 192.0.2.2/32 dst 192.0.2.1/32 dir out
 *         tmpl src 192.0.2.2 dst 192.0.2.1 proto esp mode transport reqid 1
 *
 * Every program reads a file of such lines with --ipsec-conf FILE; snctl
 * sends single lines to a running program (`snctl xfrm state add ...`).
 * Call after sn_start(). Errors: -1 and errno, with a sentence in err.
 */
#ifndef SEALNET_IPSEC_H
#define SEALNET_IPSEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Apply one line: EINVAL for a line that cannot be used (err says which
 * word and why), EEXIST for a duplicate SA or policy, ENOSPC when full. */
int sn_ipsec_xfrm(const char *line, char *err, size_t errlen);

/* Apply every line of a file; stops at the first bad one ("line N: ..."). */
int sn_ipsec_xfrm_file(const char *path, char *err, size_t errlen);

/* Delete the SA (spi, destination address, IPPROTO_ESP or IPPROTO_AH);
 * its keys are wiped. family is AF_INET or AF_INET6, dst 4 or 16 bytes in
 * network order. ENOENT when there is none. */
int sn_ipsec_sa_delete(uint32_t spi, int family, const void *dst, uint8_t proto);

#ifdef __cplusplus
}
#endif

#endif
