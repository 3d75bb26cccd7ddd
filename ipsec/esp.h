/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP (RFC 4303) transforms on flat buffers: esp_out.c seals, esp_in.c
 * opens. Pure: bytes in, bytes out; the SA's sequence numbers, replay
 * window and counters live with the caller (SAD, replay.c).
 *
 * Layout of an ESP packet (after the IP header, or the UDP header, RFC 3948):
 *
 *   [SPI 4][seq 4][IV iv_len][payload][padding][pad_len 1][next_hdr 1][ICV]
 *   |<- sn_esp_hdr_len() ->|           |<------ sn_esp_trailer_len() ------>|
 *                           |<----- ciphertext (block-aligned) ---->|
 *
 * IV: AES-GCM / ChaCha20-Poly1305 carry the 64-bit sequence number as their
 * explicit IV (RFC 4106 3.1, RFC 7634 2: unique per key); AES-CBC a random
 * 16-byte IV from the instance's CSPRNG (RFC 3602 2.4); NULL none.
 * Padding is 1, 2, 3, ... (RFC 4303 2.4) to the cipher's block (16 for
 * CBC) or to 4 bytes.
 */
#ifndef SN_ESP_H
#define SN_ESP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "sn_ipsec.h"

#define SN_ESP_HDR_LEN      8u          /* SPI + sequence number */
#define SN_ESP_TRAILER_LEN  2u          /* pad length + next header */
#define SN_ESP_MAX_PAD      255u
#define SN_ESP_MAX_OVERHEAD (SN_ESP_HDR_LEN + SN_IPSEC_MAX_IV + \
			     SN_AES_BLOCK - 1 + SN_ESP_TRAILER_LEN + SN_IPSEC_MAX_ICV)
#define SN_ESP_ESN_HI_LEN   4u          /* seq_hi appended for the ICV */
#define SN_ESP_MIN_ICV      12u         /* HMAC-SHA1-96 */
_Static_assert(SN_ESP_HDR_LEN == sizeof(struct sn_esp_hdr), "ESP header");
_Static_assert(SN_ESP_TRAILER_LEN == sizeof(struct sn_esp_trailer), "trailer");
/* seq_hi is placed where the ICV goes while the ICV is computed. */
_Static_assert(SN_ESP_ESN_HI_LEN <= SN_ESP_MIN_ICV, "seq_hi fits the ICV field");

/*
 * Drop reasons: distinct negative errno values, one per counter, so the
 * caller can count each by name (sn_esp_strerror()).
 */
#define SN_ESP_ETRUNC  (-EMSGSIZE)      /* shorter than header+IV+block+ICV */
#define SN_ESP_EBLOCK  (-EPROTO)        /* ciphertext not block-aligned */
#define SN_ESP_EICV    (-EBADMSG)       /* ICV / AEAD tag does not verify */
#define SN_ESP_EPAD    (-EILSEQ)        /* pad length or pad bytes wrong */
#define SN_ESP_ENOSPC  (-ENOSPC)        /* seal: buffer too small */
#define SN_ESP_ENORNG  (-EIO)           /* seal: CBC IV generator failed */

/* "truncated", "bad-block-length", "bad-icv", "bad-padding", ... */
const char *sn_esp_strerror(int err);

/* Result of sn_esp_open(): where the decrypted payload is in the packet. */
struct sn_esp_payload {
	size_t off;                     /* from the start of the ESP header */
	size_t len;
	uint8_t next_header;
	uint8_t pad_len;
};

/* Bytes before the payload: ESP header and IV. */
static inline size_t sn_esp_hdr_len(const struct sn_crypto *c)
{
	return SN_ESP_HDR_LEN + c->iv_len;
}

/* Bytes after a payload of this length: padding, trailer, ICV. */
static inline size_t sn_esp_trailer_len(const struct sn_crypto *c,
					size_t payload_len)
{
	size_t blk = c->block;
	size_t ct = (payload_len + SN_ESP_TRAILER_LEN + blk - 1) / blk * blk;

	return ct - payload_len + c->icv_len;
}

/* The most sn_esp_trailer_len() can be, for MTU and tail-room sizing. */
static inline size_t sn_esp_trailer_max(const struct sn_crypto *c)
{
	return c->block - 1u + SN_ESP_TRAILER_LEN + c->icv_len;
}

/* Header + IV + trailer: the bytes ESP adds to a payload of this length. */
static inline size_t sn_esp_overhead(const struct sn_crypto *c,
				     size_t payload_len)
{
	return sn_esp_hdr_len(c) + sn_esp_trailer_len(c, payload_len);
}

/*
 * Seal in place. The caller has put payload_len bytes of payload at
 * buf + sn_esp_hdr_len(c); buf_len is the room from buf on. Writes the
 * header (spi and the low 32 bits of seq, both host order here), the IV,
 * padding, trailer, encrypts and appends the ICV (AEAD AAD: SPI || seq,
 * or SPI || seq_hi || seq_lo with ESN, RFC 4106 5 / RFC 7634 2.1; HMAC over
 * header..trailer with seq_hi appended when ESN, RFC 4303 2.2.1).
 * Returns the ESP length (header through ICV) or SN_ESP_ENOSPC / _ENORNG.
 */
int sn_esp_seal(struct sn_crypto *c, uint32_t spi, uint64_t seq, bool esn,
		uint8_t next_header, uint8_t *buf, size_t buf_len,
		size_t payload_len) SN_CRYPTO_MUST;

/*
 * The same with an explicit IV (iv_len bytes) instead of the sequence
 * number (AEAD) or a random one (CBC): for published vectors and tests
 * that need both backends to see the same bytes. Never for traffic: an
 * AEAD IV must never repeat under a key.
 */
int sn_esp_seal_iv(struct sn_crypto *c, uint32_t spi, uint64_t seq, bool esn,
		   uint8_t next_header, uint8_t *buf, size_t buf_len,
		   size_t payload_len, const uint8_t *iv) SN_CRYPTO_MUST;

/*
 * Open in place. pkt[0..len) is the ESP packet, header through ICV; seq is
 * the full 64-bit sequence number the replay code reconstructed from the
 * header's low 32 bits. Order: lengths, then the ICV (constant time,
 * before decrypting, for HMAC; within the AEAD open), then decryption,
 * then the padding. Returns 0 and *out, or SN_ESP_ETRUNC, _EBLOCK, _EICV,
 * _EPAD. pkt is modified either way (decrypted, or scratch on failure).
 */
int sn_esp_open(struct sn_crypto *c, uint64_t seq, bool esn, uint8_t *pkt,
		size_t len, struct sn_esp_payload *out) SN_CRYPTO_MUST;

/*
 * SPI and low sequence number of an ESP packet, for the SA lookup and the
 * replay check that come before sn_esp_open(). Host order.
 * Returns 0 or SN_ESP_ETRUNC.
 */
int sn_esp_peek(const uint8_t *pkt, size_t len, uint32_t *spi,
		uint32_t *seq_lo) SN_CRYPTO_MUST;

/* ---- Shared by esp_out.c and esp_in.c -------------------------------------- */

/*
 * HMAC ICV over pkt[0..auth_len) (header through trailer), with seq_hi
 * appended when ESN (RFC 4303 2.2.1): seq_hi is written at pkt + auth_len,
 * in the ICV field, which must be writable. icv gets c->icv_len bytes.
 */
void sn_esp_icv(struct sn_crypto *c, uint8_t *pkt, size_t auth_len,
		uint64_t seq, bool esn, uint8_t *icv);

/* AAD of an AEAD SA: SPI || seq_lo, or SPI || seq_hi || seq_lo with ESN
 * (RFC 4106 5, RFC 7634 2.1). SPI and seq_lo are taken from the header as
 * on the wire (hdr), seq_hi from seq. Returns its length, 8 or 12. */
size_t sn_esp_aad(uint8_t aad[12], const uint8_t *hdr, uint64_t seq, bool esn);

#endif
