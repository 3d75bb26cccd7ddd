/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data patterns sn-perf sends and verifies (formats in proto.h).
 *
 * A TCP stream is a sequence of 8-byte little-endian words, word k equal to
 * k ^ seed, so any corrupted, lost, duplicated or reordered byte changes
 * what the receiver sees at some offset. Receives end anywhere, so the
 * check handles a ragged head and tail byte by byte and the aligned middle
 * as whole words, in a loop without branches that the compiler vectorises.
 */
#ifndef SN_PERF_PATTERN_H
#define SN_PERF_PATTERN_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static inline uint8_t pat_byte(uint64_t off, uint64_t seed)
{
	return (uint8_t)(((off >> 3) ^ seed) >> (8 * (off & 7)));
}

/* Words that differ from the pattern in n words starting at word k. */
static inline uint64_t pat_count_words(const uint8_t *p, size_t n, uint64_t k,
				       uint64_t seed)
{
	uint64_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, p + 8 * i, 8);
		bad += (le64toh(v) ^ (k + i) ^ seed) != 0;
	}
	return bad;
}

/* Fast path: all-or-nothing over whole words; counts only when it fails. */
static inline uint64_t pat_check_words(const uint8_t *p, size_t n, uint64_t k,
				       uint64_t seed)
{
	uint64_t acc = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, p + 8 * i, 8);
		acc |= le64toh(v) ^ (k + i) ^ seed;
	}
	return acc ? pat_count_words(p, n, k, seed) : 0;
}

/* Check len bytes received at stream offset off; returns how many words
 * (or edge bytes) did not match. */
static inline uint64_t pat_check(const uint8_t *p, size_t len, uint64_t off,
				 uint64_t seed)
{
	uint64_t bad = 0;
	size_t n;

	for (; len && (off & 7); p++, off++, len--)
		bad += *p != pat_byte(off, seed);
	n = len / 8;
	bad += pat_check_words(p, n, off / 8, seed);
	p += 8 * n;
	off += 8 * n;
	len -= 8 * n;
	for (; len; p++, off++, len--)
		bad += *p != pat_byte(off, seed);
	return bad;
}

/*
 * A sender's view of its stream: a buffer holding the pattern for the chunk
 * [off, off + chunk) (words from off rounded down), handed out until the
 * stack has taken all of it, then refilled from the new offset.
 */
struct pat_gen {
	uint64_t *words;
	size_t chunk;
	uint64_t seed;
	uint64_t off;               /* stream offset of the next byte to send */
	size_t pos, end;            /* unsent bytes: (uint8_t *)words + [pos, end) */
};

static inline int pat_gen_init(struct pat_gen *g, size_t chunk, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	g->words = malloc(chunk + 16);
	g->chunk = chunk;
	g->seed = seed;
	return g->words ? 0 : -1;
}

static inline void pat_gen_free(struct pat_gen *g)
{
	free(g->words);
	g->words = NULL;
}

/* The next bytes to send; *len > 0 always. */
static inline const uint8_t *pat_gen_next(struct pat_gen *g, size_t *len)
{
	if (g->pos == g->end) {
		uint64_t k = g->off / 8;
		size_t head = (size_t)(g->off & 7);
		size_t nw = (head + g->chunk + 7) / 8;

		for (size_t i = 0; i < nw; i++)
			g->words[i] = htole64((k + i) ^ g->seed);
		g->pos = head;
		g->end = head + g->chunk;
	}
	*len = g->end - g->pos;
	return (const uint8_t *)g->words + g->pos;
}

static inline void pat_gen_sent(struct pat_gen *g, size_t n)
{
	g->pos += n;
	g->off += n;
}

/* udp-stream datagram: seed and sequence number, then a per-session fill
 * that does not depend on seq, so the sender builds it once. */
static inline void pat_dgram_fill(uint8_t *d, size_t size, uint64_t seed)
{
	perf_put64(d, seed);
	for (size_t i = PERF_DGRAM_HDR; i < size; i++)
		d[i] = (uint8_t)(seed + i);
}

/* 1 when the payload after the header matches the fill. */
static inline int pat_dgram_ok(const uint8_t *d, size_t size, uint64_t seed)
{
	uint8_t acc = 0;

	for (size_t i = PERF_DGRAM_HDR; i < size; i++)
		acc |= (uint8_t)(d[i] ^ (uint8_t)(seed + i));
	return acc == 0;
}

#endif
