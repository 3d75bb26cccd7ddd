/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP inbound (RFC 4303 3.4): lengths first, then the ICV (before any
 * decryption for HMAC SAs; inside the AEAD open otherwise), then decryption
 * in place, then the padding. Each failure has its own error code, so the
 * caller counts each drop by name.
 */
#include <arpa/inet.h>
#include <string.h>

#include "esp.h"

const char *sn_esp_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case SN_ESP_ETRUNC: return "truncated";
	case SN_ESP_EBLOCK: return "bad-block-length";
	case SN_ESP_EICV: return "bad-icv";
	case SN_ESP_EPAD: return "bad-padding";
	case SN_ESP_ENOSPC: return "no-room";
	case SN_ESP_ENORNG: return "rng-failure";
	default: return "error";
	}
}

int sn_esp_peek(const uint8_t *pkt, size_t len, uint32_t *spi,
		uint32_t *seq_lo)
{
	struct sn_esp_hdr h;

	if (len < sizeof(h))
		return SN_ESP_ETRUNC;
	memcpy(&h, pkt, sizeof(h));     /* aligned local copy */
	*spi = ntohl(h.spi);
	*seq_lo = ntohl(h.seq);
	return 0;
}

/* Ciphertext length from the packet length: at least one block (16 for
 * CBC, RFC 3602 2.4; the 4-byte alignment otherwise, RFC 4303 2.4) and a
 * whole number of them. */
static int ct_len(const struct sn_crypto *c, size_t len, size_t *ct)
{
	size_t fixed = sn_esp_hdr_len(c) + c->icv_len;

	if (len < fixed + c->block)
		return SN_ESP_ETRUNC;
	*ct = len - fixed;
	if ((*ct & (c->block - 1u)) != 0)       /* block is a power of two */
		return SN_ESP_EBLOCK;
	return 0;
}

/* RFC 4303 3.4.4.1: recompute, compare in constant time. */
static int verify_icv(struct sn_crypto *c, uint8_t *pkt, size_t auth_len,
		      uint64_t seq, bool esn)
{
	uint8_t want[SN_HMAC_MAX_DIGEST], got[SN_HMAC_MAX_DIGEST];

	memcpy(want, pkt + auth_len, c->icv_len);       /* before seq_hi */
	sn_esp_icv(c, pkt, auth_len, seq, esn, got);
	return sn_crypto_memneq(want, got, c->icv_len) ? SN_ESP_EICV : 0;
}

static int open_aead(struct sn_crypto *c, uint64_t seq, bool esn,
		     uint8_t *pkt, size_t hl, size_t ct)
{
	uint8_t aad[12];
	size_t aad_len = sn_esp_aad(aad, pkt, seq, esn);

	if (sn_crypto_aead_open(c, pkt + SN_ESP_HDR_LEN, aad, aad_len,
				pkt + hl, ct, pkt + hl + ct) != 0)
		return SN_ESP_EICV;
	return 0;
}

static int open_cbc(struct sn_crypto *c, uint64_t seq, bool esn,
		    uint8_t *pkt, size_t hl, size_t ct)
{
	int rc = verify_icv(c, pkt, hl + ct, seq, esn);

	if (rc == 0)
		sn_crypto_cbc_decrypt(c, pkt + SN_ESP_HDR_LEN, pkt + hl, ct);
	return rc;
}

static int open_hmac(struct sn_crypto *c, uint64_t seq, bool esn,
		     uint8_t *pkt, size_t hl, size_t ct)
{
	return verify_icv(c, pkt, hl + ct, seq, esn);
}

static int (*const open_fns[SN_CK_NKINDS])(struct sn_crypto *, uint64_t, bool,
					   uint8_t *, size_t, size_t) = {
	[SN_CK_AEAD] = open_aead,
	[SN_CK_CBC_HMAC] = open_cbc,
	[SN_CK_HMAC] = open_hmac,
};

/* RFC 4303 2.4: the pad length must fit, and the receiver may check the
 * default padding 1, 2, 3, ...; we do. The data is authentic by now, so
 * branching on it leaks nothing. p is the decrypted payload..trailer. */
static int check_trailer(const uint8_t *p, size_t ct,
			 struct sn_esp_payload *out)
{
	size_t pad = p[ct - 2];
	const uint8_t *q;

	if (pad + SN_ESP_TRAILER_LEN > ct)
		return SN_ESP_EPAD;
	q = p + ct - SN_ESP_TRAILER_LEN - pad;
	for (size_t i = 0; i < pad; i++)
		if (q[i] != (uint8_t)(i + 1))
			return SN_ESP_EPAD;
	out->len = ct - SN_ESP_TRAILER_LEN - pad;
	out->pad_len = (uint8_t)pad;
	out->next_header = p[ct - 1];
	return 0;
}

int sn_esp_open(struct sn_crypto *c, uint64_t seq, bool esn, uint8_t *pkt,
		size_t len, struct sn_esp_payload *out)
{
	size_t hl = sn_esp_hdr_len(c), ct;
	int rc = ct_len(c, len, &ct);

	if (rc == 0)
		rc = open_fns[c->kind](c, seq, esn, pkt, hl, ct);
	if (rc == 0)
		rc = check_trailer(pkt + hl, ct, out);
	if (rc == 0)
		out->off = hl;
	return rc;
}
