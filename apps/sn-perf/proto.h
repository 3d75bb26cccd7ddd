/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-perf wire formats, all in one place. Every integer is little-endian and
 * is read and written byte by byte, so the structs below are host-order
 * views, never cast onto the wire.
 *
 * Every TCP connection opens with a hello (PERF_HELLO_LEN bytes):
 *
 *   0  u32 magic "SNPH"     4  u16 version   6  u8 mode   7  u8 flags
 *   8  u32 size            12  u32 seconds  16  u64 seed  24  u64 reserved (0)
 *
 * and the server answers, where a mode has something to report, with a
 * result (PERF_RESULT_LEN bytes):
 *
 *   0  u32 magic "SNPR" (or "SNPA": udp-stream session accepted)
 *   4  u32 status (0 ok)    8  u64 bytes    16  u64 count   24  u64 errors
 *
 * tcp-stream:  client -> server: hello, pattern bytes, FIN; server: result
 *              (bytes verified, errors), close.  With PERF_F_REVERSE: client:
 *              hello; server: pattern for `seconds`, FIN; the client verifies.
 *              The pattern: the 8-byte LE word at stream offset 8k is k ^ seed.
 * tcp-rr:      hello, then request of `size` bytes / response of `size` bytes
 *              (the request echoed), back to back; client FIN ends it.
 * tcp-crr:     hello + one request; server: response, close.
 * udp-stream:  TCP control: hello; server: "SNPA"; datagrams to the server's
 *              UDP port: u64 seed, u64 seq, then byte i (i >= 16) equal to
 *              (seed + i) & 0xff; client FIN on control; server: result
 *              (bytes, count = datagrams verified, errors), close.
 */
#ifndef SN_PERF_PROTO_H
#define SN_PERF_PROTO_H

#include <errno.h>
#include <stdint.h>

#define PERF_MAGIC_HELLO   0x48504e53u  /* "SNPH" */
#define PERF_MAGIC_RESULT  0x52504e53u  /* "SNPR" */
#define PERF_MAGIC_ACCEPT  0x41504e53u  /* "SNPA" */
#define PERF_VERSION       1u

#define PERF_HELLO_LEN     32u
#define PERF_RESULT_LEN    32u
#define PERF_DGRAM_HDR     16u

enum perf_mode {
	PERF_TCP_STREAM = 1,
	PERF_UDP_STREAM = 2,
	PERF_TCP_RR     = 3,
	PERF_TCP_CRR    = 4,
};

#define PERF_F_REVERSE     0x01u        /* tcp-stream: server sends */
#define PERF_F_KNOWN       PERF_F_REVERSE

/* Limits, checked by the client's options and by the server's parser. */
#define PERF_SECONDS_MAX   86400u
#define PERF_STREAM_MAX    (16u << 20)  /* send chunk */
#define PERF_RR_MAX        (1u << 20)   /* request = response size */
#define PERF_UDP_MIN       PERF_DGRAM_HDR
#define PERF_UDP_MAX       65507u       /* largest UDP payload over IPv4 */

struct perf_hello {
	uint8_t mode;
	uint8_t flags;
	uint32_t size;
	uint32_t seconds;
	uint64_t seed;
};

struct perf_result {
	uint32_t magic;
	uint32_t status;
	uint64_t bytes;
	uint64_t count;
	uint64_t errors;
};

static inline void perf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void perf_put32(uint8_t *p, uint32_t v)
{
	perf_put16(p, (uint16_t)v);
	perf_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void perf_put64(uint8_t *p, uint64_t v)
{
	perf_put32(p, (uint32_t)v);
	perf_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t perf_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t perf_get32(const uint8_t *p)
{
	return perf_get16(p) | (uint32_t)perf_get16(p + 2) << 16;
}

static inline uint64_t perf_get64(const uint8_t *p)
{
	return perf_get32(p) | (uint64_t)perf_get32(p + 4) << 32;
}

/* The size limits of a mode: 0 when size fits, else -EINVAL. */
static inline int perf_size_ok(uint8_t mode, uint32_t size)
{
	switch (mode) {
	case PERF_TCP_STREAM:
		return size >= 1 && size <= PERF_STREAM_MAX ? 0 : -EINVAL;
	case PERF_UDP_STREAM:
		return size >= PERF_UDP_MIN && size <= PERF_UDP_MAX ? 0 : -EINVAL;
	case PERF_TCP_RR:
	case PERF_TCP_CRR:
		return size >= 1 && size <= PERF_RR_MAX ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static inline void perf_hello_encode(const struct perf_hello *h,
				     uint8_t out[PERF_HELLO_LEN])
{
	perf_put32(out, PERF_MAGIC_HELLO);
	perf_put16(out + 4, PERF_VERSION);
	out[6] = h->mode;
	out[7] = h->flags;
	perf_put32(out + 8, h->size);
	perf_put32(out + 12, h->seconds);
	perf_put64(out + 16, h->seed);
	perf_put64(out + 24, 0);
}

/* Parse and validate a hello: 0, or -EPROTO (not sn-perf or another
 * version) or -EINVAL (a field out of range). */
static inline int perf_hello_decode(const uint8_t in[PERF_HELLO_LEN],
				    struct perf_hello *h)
{
	if (perf_get32(in) != PERF_MAGIC_HELLO || perf_get16(in + 4) != PERF_VERSION)
		return -EPROTO;
	h->mode = in[6];
	h->flags = in[7];
	h->size = perf_get32(in + 8);
	h->seconds = perf_get32(in + 12);
	h->seed = perf_get64(in + 16);
	if (h->flags & ~PERF_F_KNOWN || perf_size_ok(h->mode, h->size) < 0 ||
	    h->seconds < 1 || h->seconds > PERF_SECONDS_MAX)
		return -EINVAL;
	if ((h->flags & PERF_F_REVERSE) && h->mode != PERF_TCP_STREAM)
		return -EINVAL;
	return 0;
}

static inline void perf_result_encode(const struct perf_result *r,
				      uint8_t out[PERF_RESULT_LEN])
{
	perf_put32(out, r->magic);
	perf_put32(out + 4, r->status);
	perf_put64(out + 8, r->bytes);
	perf_put64(out + 16, r->count);
	perf_put64(out + 24, r->errors);
}

/* 0, or -EPROTO for an unknown magic. */
static inline int perf_result_decode(const uint8_t in[PERF_RESULT_LEN],
				     struct perf_result *r)
{
	r->magic = perf_get32(in);
	r->status = perf_get32(in + 4);
	r->bytes = perf_get64(in + 8);
	r->count = perf_get64(in + 16);
	r->errors = perf_get64(in + 24);
	if (r->magic != PERF_MAGIC_RESULT && r->magic != PERF_MAGIC_ACCEPT)
		return -EPROTO;
	return 0;
}

#endif
