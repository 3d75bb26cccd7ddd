/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP outbound (RFC 4303 3.3): header, IV, padding, trailer, encryption,
 * ICV, in place in the caller's buffer. One seal function per kind of SA,
 * picked by the kind fixed when the SA's crypto was made.
 */
#include <string.h>

#include "esp.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t sn_esp_aad(uint8_t aad[12], const uint8_t *hdr, uint64_t seq, bool esn)
{
	if (!esn) {
		memcpy(aad, hdr, SN_ESP_HDR_LEN);       /* SPI || seq */
		return SN_ESP_HDR_LEN;
	}
	memcpy(aad, hdr, 4);                            /* SPI */
	put32(aad + 4, (uint32_t)(seq >> 32));          /* seq_hi */
	memcpy(aad + 8, hdr + 4, 4);                    /* seq_lo as sent */
	return SN_ESP_HDR_LEN + SN_ESP_ESN_HI_LEN;
}

void sn_esp_icv(struct sn_crypto *c, uint8_t *pkt, size_t auth_len,
		uint64_t seq, bool esn, uint8_t *icv)
{
	uint8_t out[SN_HMAC_MAX_DIGEST];

	if (esn)
		put32(pkt + auth_len, (uint32_t)(seq >> 32));
	sn_crypto_hmac(c, pkt, auth_len + (esn ? SN_ESP_ESN_HI_LEN : 0), out);
	memcpy(icv, out, c->icv_len);
}

/* What one seal needs; ct is the ciphertext length (payload..trailer). */
struct seal {
	uint8_t *buf;
	size_t hl, ct;
	uint64_t seq;
	bool esn;
	const uint8_t *iv;              /* explicit IV, or NULL */
};

/* RFC 4106 3.1 / RFC 7634 2: the explicit IV is the 64-bit sequence
 * number, which never repeats under a key. */
static int seal_aead(struct sn_crypto *c, const struct seal *s)
{
	uint8_t *iv = s->buf + SN_ESP_HDR_LEN, aad[12];
	size_t aad_len;

	if (s->iv) {
		memcpy(iv, s->iv, SN_AEAD_IV_LEN);
	} else {
		put32(iv, (uint32_t)(s->seq >> 32));
		put32(iv + 4, (uint32_t)s->seq);
	}
	aad_len = sn_esp_aad(aad, s->buf, s->seq, s->esn);
	sn_crypto_aead_seal(c, iv, aad, aad_len, s->buf + s->hl, s->ct,
			    s->buf + s->hl + s->ct);
	return 0;
}

/* RFC 3602 2.4: a random, unpredictable IV; then encrypt-then-MAC. */
static int seal_cbc(struct sn_crypto *c, const struct seal *s)
{
	uint8_t *iv = s->buf + SN_ESP_HDR_LEN;

	if (s->iv)
		memcpy(iv, s->iv, SN_CBC_IV_LEN);
	else if (sn_crypto_random(c, iv, SN_CBC_IV_LEN) != 0)
		return SN_ESP_ENORNG;
	sn_crypto_cbc_encrypt(c, iv, s->buf + s->hl, s->ct);
	sn_esp_icv(c, s->buf, s->hl + s->ct, s->seq, s->esn,
		   s->buf + s->hl + s->ct);
	return 0;
}

/* RFC 2410: NULL encryption, integrity only. */
static int seal_hmac(struct sn_crypto *c, const struct seal *s)
{
	sn_esp_icv(c, s->buf, s->hl + s->ct, s->seq, s->esn,
		   s->buf + s->hl + s->ct);
	return 0;
}

static int (*const seal_fns[SN_CK_NKINDS])(struct sn_crypto *,
					   const struct seal *) = {
	[SN_CK_AEAD] = seal_aead,
	[SN_CK_CBC_HMAC] = seal_cbc,
	[SN_CK_HMAC] = seal_hmac,
};

/* RFC 4303 2.4: padding bytes 1, 2, 3, ... up to the block; then the
 * pad length and next header. p is the payload; returns the ciphertext
 * length. */
static size_t put_trailer(uint8_t *p, size_t payload_len, size_t block,
			  uint8_t next_header)
{
	size_t ct = (payload_len + SN_ESP_TRAILER_LEN + block - 1) / block * block;
	size_t pad = ct - payload_len - SN_ESP_TRAILER_LEN;

	for (size_t i = 0; i < pad; i++)
		p[payload_len + i] = (uint8_t)(i + 1);
	p[ct - 2] = (uint8_t)pad;
	p[ct - 1] = next_header;
	return ct;
}

int sn_esp_seal_iv(struct sn_crypto *c, uint32_t spi, uint64_t seq, bool esn,
		   uint8_t next_header, uint8_t *buf, size_t buf_len,
		   size_t payload_len, const uint8_t *iv)
{
	struct seal s = { .buf = buf, .hl = sn_esp_hdr_len(c), .seq = seq,
			  .esn = esn, .iv = iv };
	size_t total;
	int rc;

	if (payload_len > buf_len)
		return SN_ESP_ENOSPC;
	total = s.hl + payload_len + sn_esp_trailer_len(c, payload_len);
	if (total > buf_len || total > INT32_MAX)
		return SN_ESP_ENOSPC;
	put32(buf, spi);
	put32(buf + 4, (uint32_t)seq);          /* RFC 4303 2.2: low 32 bits */
	s.ct = put_trailer(buf + s.hl, payload_len, c->block, next_header);
	rc = seal_fns[c->kind](c, &s);
	return rc != 0 ? rc : (int)total;
}

int sn_esp_seal(struct sn_crypto *c, uint32_t spi, uint64_t seq, bool esn,
		uint8_t next_header, uint8_t *buf, size_t buf_len,
		size_t payload_len)
{
	return sn_esp_seal_iv(c, spi, seq, esn, next_header, buf, buf_len,
			      payload_len, NULL);
}
