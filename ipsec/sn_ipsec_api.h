/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What ipsec/ offers the layers above it (api/: stack start and stop, the
 * public C API, snctl, --stats). Errors: 0 or a negative errno, with a
 * sentence in err where one is given.
 */
#ifndef SN_IPSEC_API_H
#define SN_IPSEC_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SN_IPSEC_ERR_MAX 256

struct sn_xfrm_entry;
struct sn_flow;

/* Attach to the running stack (after sn_stack_init) and detach (before
 * sn_stack_fini; wipes every key). */
int sn_ipsec_start(void);
void sn_ipsec_stop(void);

/* Apply one parsed entry, one line of `ip xfrm` grammar (any command:
 * add, update, delete, get, deleteall, list, flush), or a file. get and
 * list print to out (NULL: nowhere), and so do the line's warnings
 * ("warning: ..."). A file's errors are "PATH:LINE: why"; its warnings go
 * to stderr. */
int sn_ipsec_apply(const struct sn_xfrm_entry *e, char *err, size_t errlen);
int sn_ipsec_apply_line(const char *line, char *err, size_t errlen);
int sn_ipsec_apply_line_out(const char *line, FILE *out, char *err, size_t errlen);
int sn_ipsec_load(const char *path, char *err, size_t errlen);
/* Parse a file and apply it to scratch tables (crypto checked, nothing
 * kept): -1 with "PATH:LINE: why" for the first line that would fail at
 * start, whether it does not parse or would not install. */
int sn_ipsec_check_file(const char *path, char *err, size_t errlen);

/* Delete an SA by (SPI, destination, protocol): its keys are wiped. */
int sn_ipsec_sa_del(uint32_t spi, int family, const void *dst, uint8_t proto);

/* snctl listings. */
void sn_ipsec_list_sas(FILE *out);
void sn_ipsec_list_policies(FILE *out);
/* Secured sockets: flow, flags, SA in use, last error. */
void sn_ipsec_list_sockets(FILE *out);

/* Counters for --stats: "ipsec.NAME" summed over the datapath, every SA
 * and every policy. */
void sn_ipsec_stats(void (*fn)(void *ctx, const char *name, uint64_t v), void *ctx);

/*
 * lwIP fragments a datagram larger than the MTU before its output reaches
 * the SPD, and fragments carry no ports to match policies on. Around a
 * send that would be fragmented, the socket layer defers fragmentation to
 * ipsec/: the SPD then sees the whole datagram, protects it, and the
 * protected packet is fragmented (RFC 4303 3.3.4, 3.3.5). Cleartext ones
 * are fragmented as lwIP would have. No-ops while no policy exists.
 */
void sn_ipsec_frag_defer_begin(void);
void sn_ipsec_frag_defer_end(void);

/* Bytes IPsec adds to TCP segments of this flow (MSS sizing); 0 if none. */
unsigned sn_ipsec_overhead(int family, const void *src, const void *dst,
			   uint8_t proto, uint16_t sport, uint16_t dport);

#endif
