/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AH inbound (RFC 4302 3.4): find and read the header, check its length
 * field against the SA's ICV length and the family's alignment before the
 * ICV is read, recompute the ICV and compare in constant time.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "ah.h"

const char *sn_ah_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case SN_AH_ETRUNC: return "truncated";
	case SN_AH_ELEN: return "bad-ah-length";
	case SN_AH_EHDR: return "bad-ip-header";
	case SN_AH_EICV: return "bad-icv";
	case SN_AH_ENOTSUP: return "unsupported-routing-header";
	case SN_AH_ENOMEM: return "no-memory";
	default: return "error";
	}
}

int sn_ah_parse(const uint8_t *pkt, size_t len, struct sn_ah_info *out)
{
	struct sn_ah_hdr h;
	int rc = sn_ah_locate(pkt, len, out);

	if (rc != 0)
		return rc;
	if (out->pkt_len - out->ah_off < sizeof(h))
		return SN_AH_ETRUNC;
	memcpy(&h, pkt + out->ah_off, sizeof(h));      /* aligned local copy */
	out->ah_len = ((size_t)h.payload_len + 2) * 4;
	if (out->ah_len > out->pkt_len - out->ah_off)
		return SN_AH_ETRUNC;
	out->next_header = h.next_header;
	out->spi = ntohl(h.spi);
	out->seq_lo = ntohl(h.seq);
	return 0;
}

/* RFC 4302 2.2: 12 + ICV, padded to 8 bytes for IPv6 and to 4 for IPv4
 * (where, as Linux does, the 8-byte padded length is accepted too). */
static bool ah_len_ok(const struct sn_crypto *c, const struct sn_ah_info *ai)
{
	size_t raw = SN_AH_HDR_LEN + c->icv_len;
	size_t a8 = (raw + SN_AH_ALIGN6 - 1) / SN_AH_ALIGN6 * SN_AH_ALIGN6;
	size_t a4 = (raw + SN_AH_ALIGN4 - 1) / SN_AH_ALIGN4 * SN_AH_ALIGN4;

	if (ai->family == AF_INET6)
		return ai->ah_len == a8;
	return ai->ah_len == a4 || ai->ah_len == a8;
}

int sn_ah_open(struct sn_crypto *c, const uint8_t *pkt, size_t len,
	       uint64_t seq, bool esn, struct sn_ah_info *out)
{
	uint8_t want[SN_HMAC_MAX_DIGEST], got[SN_HMAC_MAX_DIGEST];
	int rc = sn_ah_parse(pkt, len, out);

	if (rc != 0)
		return rc;
	if (!ah_len_ok(c, out))
		return SN_AH_ELEN;
	memcpy(want, pkt + out->ah_off + SN_AH_HDR_LEN, c->icv_len);
	rc = sn_ah_icv(c, pkt, len, seq, esn, got);
	if (rc != 0)
		return rc;
	return sn_crypto_memneq(want, got, c->icv_len) ? SN_AH_EICV : 0;
}
