/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AH outbound (RFC 4302 3.3) and the ICV computation both directions use:
 * find the AH header, copy the packet, zero the mutable fields, zero the
 * ICV field, append seq_hi when ESN, HMAC.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ah.h"

#define IP6_NH_HOPOPTS  0
#define IP6_NH_ROUTING  43
#define IP6_NH_DSTOPTS  60
#define IP6_OPT_PAD1    0
#define IP6_OPT_MUTABLE 0x20            /* RFC 8200 4.2: may change en route */
#define IP4_MF_OFFSET   0x3fffu         /* MF flag and fragment offset */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t sn_ah_len(const struct sn_crypto *c, int family)
{
	size_t a = family == AF_INET6 ? SN_AH_ALIGN6 : SN_AH_ALIGN4;

	return (SN_AH_HDR_LEN + c->icv_len + a - 1) / a * a;
}

/* ---- Finding the AH header ------------------------------------------------------ */

static int locate4(const uint8_t *p, size_t len, struct sn_ah_info *out)
{
	size_t ihl = (size_t)(p[0] & 0x0f) * 4, tot;

	if (ihl < SN_IPV4_HDR_MIN || ihl > len)
		return ihl < SN_IPV4_HDR_MIN ? SN_AH_EHDR : SN_AH_ETRUNC;
	tot = get16(p + 2);
	if (tot > len)
		return SN_AH_ETRUNC;
	if (tot < ihl || (get16(p + 6) & IP4_MF_OFFSET) != 0)
		return SN_AH_EHDR;      /* AH protects whole datagrams only */
	if (p[9] != SN_IPPROTO_AH)
		return SN_AH_EHDR;
	*out = (struct sn_ah_info){ .family = AF_INET, .pkt_len = tot,
				    .ah_off = ihl };
	return 0;
}

/* Zeroes the data of options marked mutable (RFC 4302 3.3.3.1.2.2). */
static int ip6_opts(uint8_t *o, size_t elen, bool zero)
{
	size_t i = 2;

	while (i < elen) {
		size_t olen;

		if (o[i] == IP6_OPT_PAD1) {
			i++;
			continue;
		}
		if (i + 2 > elen)
			return SN_AH_EHDR;
		olen = o[i + 1];
		if (olen > elen - i - 2)
			return SN_AH_EHDR;
		if (zero && (o[i] & IP6_OPT_MUTABLE))
			memset(o + i + 2, 0, olen);
		i += 2 + olen;
	}
	return 0;
}

/* One extension header before AH: its length, after checks. */
static int ip6_ext(uint8_t *p, size_t off, size_t plen, uint8_t nh,
		   bool zero, size_t *elen)
{
	if (off + 8 > plen)
		return SN_AH_ETRUNC;
	*elen = ((size_t)p[off + 1] + 1) * 8;
	if (*elen > plen - off)
		return SN_AH_ETRUNC;
	if (nh == IP6_NH_HOPOPTS || nh == IP6_NH_DSTOPTS)
		return ip6_opts(p + off, *elen, zero);
	if (nh == IP6_NH_ROUTING)       /* mutable but predictable: not done */
		return p[off + 3] == 0 ? 0 : SN_AH_ENOTSUP;
	return SN_AH_EHDR;              /* fragment, ESP, upper layer, ... */
}

/* Walks the extension headers up to AH; zeroes mutable option data when
 * zero is set (p is then a private copy). */
static int ip6_walk(uint8_t *p, size_t plen, size_t *ah_off, bool zero)
{
	uint8_t nh = p[6];
	size_t off = SN_IPV6_HDR_LEN, elen;

	while (nh != SN_IPPROTO_AH) {
		int rc = ip6_ext(p, off, plen, nh, zero, &elen);

		if (rc != 0)
			return rc;
		nh = p[off];
		off += elen;
	}
	*ah_off = off;
	return 0;
}

static int locate6(const uint8_t *p, size_t len, struct sn_ah_info *out)
{
	size_t plen;

	if (len < SN_IPV6_HDR_LEN)
		return SN_AH_ETRUNC;
	plen = SN_IPV6_HDR_LEN + get16(p + 4);
	if (plen > len)
		return SN_AH_ETRUNC;
	*out = (struct sn_ah_info){ .family = AF_INET6, .pkt_len = plen };
	/* read-only walk: zero is false, so nothing is written */
	return ip6_walk((uint8_t *)p, plen, &out->ah_off, false);
}

int sn_ah_locate(const uint8_t *pkt, size_t len, struct sn_ah_info *out)
{
	if (len < 1)
		return SN_AH_ETRUNC;
	if (pkt[0] >> 4 == 4)
		return len < SN_IPV4_HDR_MIN ? SN_AH_ETRUNC : locate4(pkt, len, out);
	if (pkt[0] >> 4 == 6)
		return locate6(pkt, len, out);
	return SN_AH_EHDR;
}

/* ---- Mutable fields ------------------------------------------------------------- */

/* RFC 4302 Appendix A.1: options that are immutable; all else is zeroed. */
static bool ip4_opt_immutable(uint8_t t)
{
	return t == 0 || t == 1 || t == 130 || t == 133 || t == 134 ||
	       t == 148 || t == 149;
}

/* Loose / strict source route: the final destination is predictable. */
static bool ip4_opt_srcroute(uint8_t t)
{
	return t == 131 || t == 137;
}

static int ip4_opts(uint8_t *h, size_t ihl)
{
	size_t i = SN_IPV4_HDR_MIN, olen;

	while (i < ihl && h[i] != 0) {          /* 0: end of options */
		if (h[i] == 1) {                /* no operation */
			i++;
			continue;
		}
		if (i + 2 > ihl || h[i + 1] < 2 || h[i + 1] > ihl - i)
			return SN_AH_EHDR;
		olen = h[i + 1];
		if (ip4_opt_srcroute(h[i]) && olen >= 7)
			memcpy(h + 16, h + i + olen - 4, 4);
		if (!ip4_opt_immutable(h[i]))
			memset(h + i, 0, olen);
		i += olen;
	}
	return 0;
}

static int zero_mutable(uint8_t *p, const struct sn_ah_info *ai)
{
	size_t off;

	if (ai->family == AF_INET) {
		p[1] = 0;                       /* TOS (DSCP, ECN) */
		p[6] = p[7] = 0;                /* flags, fragment offset */
		p[8] = 0;                       /* TTL */
		p[10] = p[11] = 0;              /* header checksum */
		return ip4_opts(p, ai->ah_off);
	}
	p[0] &= 0xf0;                           /* traffic class, */
	p[1] = p[2] = p[3] = 0;                 /* flow label */
	p[7] = 0;                               /* hop limit */
	return ip6_walk(p, ai->pkt_len, &off, true);
}

/* ---- ICV ------------------------------------------------------------------------ */

static int icv_of_copy(struct sn_crypto *c, uint8_t *cp,
		       const struct sn_ah_info *ai, uint64_t seq, bool esn,
		       uint8_t *icv)
{
	uint8_t out[SN_HMAC_MAX_DIGEST];
	size_t n = ai->pkt_len;
	int rc = zero_mutable(cp, ai);

	if (rc != 0)
		return rc;
	memset(cp + ai->ah_off + SN_AH_HDR_LEN, 0, c->icv_len);
	if (esn)
		put32(cp + n, (uint32_t)(seq >> 32));
	sn_crypto_hmac(c, cp, n + (esn ? 4 : 0), out);
	memcpy(icv, out, c->icv_len);
	return 0;
}

int sn_ah_icv(struct sn_crypto *c, const uint8_t *pkt, size_t len,
	      uint64_t seq, bool esn, uint8_t *icv)
{
	uint8_t stack[SN_AH_COPY_STACK], *cp = stack;
	struct sn_ah_info ai;
	int rc = sn_ah_locate(pkt, len, &ai);

	if (rc != 0)
		return rc;
	if (ai.pkt_len - ai.ah_off < SN_AH_HDR_LEN + c->icv_len)
		return SN_AH_ETRUNC;
	if (ai.pkt_len + 4 > sizeof(stack) && !(cp = malloc(ai.pkt_len + 4)))
		return SN_AH_ENOMEM;
	memcpy(cp, pkt, ai.pkt_len);
	rc = icv_of_copy(c, cp, &ai, seq, esn, icv);
	if (cp != stack)
		free(cp);
	return rc;
}

int sn_ah_seal(struct sn_crypto *c, uint8_t *pkt, size_t len,
	       uint8_t next_header, uint32_t spi, uint64_t seq, bool esn)
{
	struct sn_ah_info ai;
	size_t ah_len;
	uint8_t *ah;
	int rc = sn_ah_locate(pkt, len, &ai);

	if (rc != 0)
		return rc;
	ah_len = sn_ah_len(c, ai.family);
	if (ai.pkt_len - ai.ah_off < ah_len)
		return SN_AH_ETRUNC;
	ah = pkt + ai.ah_off;
	ah[0] = next_header;
	ah[1] = (uint8_t)(ah_len / 4 - 2);      /* RFC 4302 2.2 */
	ah[2] = ah[3] = 0;                      /* reserved */
	put32(ah + 4, spi);
	put32(ah + 8, (uint32_t)seq);
	memset(ah + SN_AH_HDR_LEN, 0, ah_len - SN_AH_HDR_LEN);  /* ICV, padding */
	return sn_ah_icv(c, pkt, len, seq, esn, ah + SN_AH_HDR_LEN);
}
