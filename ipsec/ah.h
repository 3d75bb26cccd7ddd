/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AH (RFC 4302) on a whole IP packet, IPv4 or IPv6; transport or tunnel
 * mode is the caller's concern (it builds the packet with the AH header in
 * place). ah_out.c computes the ICV and fills the header, ah_in.c checks
 * the header and the ICV. Pure: bytes in, bytes out.
 *
 * The ICV covers a copy of the packet with the mutable fields zeroed
 * (RFC 4302 3.3.3.1): IPv4 TOS, flags + fragment offset, TTL, checksum and
 * mutable options (Appendix A.1: all but EOL, NOP, Security, Extended and
 * Commercial Security, Router Alert, SDMDD; a source route's final
 * destination stands in for the destination address, as Linux does);
 * IPv6 traffic class, flow label, hop limit and the data of options whose
 * type has the "may change" bit (0x20) in hop-by-hop and destination
 * options headers. The AH ICV field is zeroed, its padding kept, and
 * seq_hi appended when ESN (RFC 4302 3.3.3.2 / 2.5.1).
 */
#ifndef SN_AH_H
#define SN_AH_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "sn_ipsec.h"

#define SN_AH_HDR_LEN   12u             /* before the ICV */
#define SN_AH_ALIGN4    4u              /* IPv4: 32-bit multiple, RFC 4302 2.2 */
#define SN_AH_ALIGN6    8u              /* IPv6: 64-bit multiple */
#define SN_IPV4_HDR_MIN 20u
#define SN_IPV6_HDR_LEN 40u
#define SN_AH_COPY_STACK 2048u          /* larger packets: a heap copy */
_Static_assert(SN_AH_HDR_LEN == sizeof(struct sn_ah_hdr), "AH header");

/* Drop reasons, one per counter (sn_ah_strerror()). */
#define SN_AH_ETRUNC   (-EMSGSIZE)      /* packet shorter than its headers */
#define SN_AH_ELEN     (-ERANGE)        /* AH length field wrong for the SA */
#define SN_AH_EHDR     (-EPROTO)        /* malformed IP header, option, ext
					 * header; fragment; AH not found */
#define SN_AH_EICV     (-EBADMSG)       /* ICV does not verify */
#define SN_AH_ENOTSUP  (-EOPNOTSUPP)    /* IPv6 routing header with
					 * segments left */
#define SN_AH_ENOMEM   (-ENOMEM)

const char *sn_ah_strerror(int err);

/* Where the AH header is, and what it says (host order). */
struct sn_ah_info {
	int family;                     /* AF_INET or AF_INET6 */
	size_t pkt_len;                 /* from the IP header's length field */
	size_t ah_off;                  /* from the start of the IP header */
	size_t ah_len;                  /* (payload_len + 2) * 4 */
	uint8_t next_header;
	uint32_t spi;
	uint32_t seq_lo;
};

/* AH header length for this SA: 12 + ICV, aligned for the family. */
size_t sn_ah_len(const struct sn_crypto *c, int family);

/*
 * Finds the AH header (IPv4: right after the header, protocol 51; IPv6:
 * after hop-by-hop, destination options and routing headers) and reads
 * it, checking each length against what remains before reading. For the
 * SA lookup and replay check before sn_ah_open().
 */
int sn_ah_parse(const uint8_t *pkt, size_t len, struct sn_ah_info *out)
	SN_CRYPTO_MUST;

/*
 * ICV of the packet (AH header in place, its length field set) as RFC 4302
 * 3.3.3 says; icv gets c->icv_len bytes. pkt is not modified.
 */
int sn_ah_icv(struct sn_crypto *c, const uint8_t *pkt, size_t len,
	      uint64_t seq, bool esn, uint8_t *icv) SN_CRYPTO_MUST;

/*
 * Outbound (ah_out.c): the caller built the packet with sn_ah_len() bytes
 * for AH after the IP header (and any extension headers), protocol /
 * next header 51 and the IP length fields final. Fills next header,
 * payload length, SPI, the low 32 bits of seq and the ICV (padding
 * zeroed). The IPv4 header checksum is the caller's. Returns 0 or < 0.
 */
int sn_ah_seal(struct sn_crypto *c, uint8_t *pkt, size_t len,
	       uint8_t next_header, uint32_t spi, uint64_t seq, bool esn)
	SN_CRYPTO_MUST;

/*
 * Inbound (ah_in.c): parses, checks the AH length field against the SA's
 * ICV length and the family's alignment (RFC 4302 2.2) before reading the
 * ICV, recomputes it and compares in constant time. seq is the full
 * sequence number the replay code reconstructed. Returns 0 and *out, or
 * SN_AH_ETRUNC, _ELEN, _EHDR, _EICV, _ENOTSUP, _ENOMEM.
 */
int sn_ah_open(struct sn_crypto *c, const uint8_t *pkt, size_t len,
	       uint64_t seq, bool esn, struct sn_ah_info *out) SN_CRYPTO_MUST;

/* ---- Shared by ah_out.c and ah_in.c ----------------------------------------- */

/* Finds the AH header without reading it: sets family, pkt_len, ah_off. */
int sn_ah_locate(const uint8_t *pkt, size_t len, struct sn_ah_info *out)
	SN_CRYPTO_MUST;

#endif
