/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lwIP system port for NO_SYS=1: time from the TSC, random numbers,
 * checksums and RFC 6528 initial sequence numbers.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_ip.h>

#include "lwip/sys.h"
#include "lwip/ip_addr.h"
#include "sn_sys.h"
#include "sn_hooks.h"

static uint64_t tsc_start;
static uint64_t tsc_hz;
/* Microseconds per cycle in 32.32 fixed point: the clock is read on every
 * loop iteration, and a 64-bit division per read showed in profiles. */
static uint64_t us_mult;
static uint64_t isn_key[2];
static uint64_t rng_state[4];

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

#ifdef SN_HARNESS_CLOCK
/* Test builds only (the fuzz targets, built with -DSN_HARNESS_CLOCK; never
 * the library): the harness sets the clock and the seeds, so that what the
 * stack does is a function of its input alone and every finding reproduces
 * from its file. The clock stands still until the harness sets it again. */
static bool harness_clock;
static uint64_t harness_us;

void sn_sys_harness_reset(uint64_t now_us)
{
	harness_clock = true;
	harness_us = now_us;
	isn_key[0] = 0x0123456789abcdefull;
	isn_key[1] = 0xfedcba9876543210ull;
	rng_state[0] = 0x9e3779b97f4a7c15ull;
	rng_state[1] = 0xbf58476d1ce4e5b9ull;
	rng_state[2] = 0x94d049bb133111ebull;
	rng_state[3] = 0x2545f4914f6cdd1dull;
}
#endif

/* Fallback clock before the EAL has measured the TSC (unit tests). */
static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sn_sys_init(uint64_t hz)
{
	tsc_hz = hz;
	tsc_start = hz ? rte_rdtsc() : 0;
	us_mult = hz ? (uint64_t)(((unsigned __int128)1000000u << 32) / hz) : 0;
	if (getrandom(isn_key, sizeof(isn_key), 0) != sizeof(isn_key) ||
	    getrandom(rng_state, sizeof(rng_state), 0) != sizeof(rng_state)) {
		/* getrandom() cannot fail on Linux >= 3.17 once seeded; keep a
		 * time-based seed rather than zeros if it ever does. */
		isn_key[0] = rte_rdtsc() ^ 0x9e3779b97f4a7c15ull;
		isn_key[1] = mono_us() * 0xbf58476d1ce4e5b9ull;
		rng_state[0] = isn_key[0];
		rng_state[1] = isn_key[1];
		rng_state[2] = rotl(isn_key[0], 17);
		rng_state[3] = rotl(isn_key[1], 29) | 1;
	}
}

uint64_t sn_sys_now_us(void)
{
#ifdef SN_HARNESS_CLOCK
	if (harness_clock)
		return harness_us;
#endif
	if (!tsc_hz)
		return mono_us();
	return (uint64_t)(((unsigned __int128)(rte_rdtsc() - tsc_start) * us_mult) >> 32);
}

u32_t sys_now(void)
{
	return (u32_t)(sn_sys_now_us() / 1000u);
}

/* xoshiro256**: fast, and seeded from getrandom(). Used for ephemeral
 * ports and IPv6/ARP timers; not for keys. */
unsigned int sn_random32(void)
{
	uint64_t *s = rng_state;
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return (unsigned int)(r >> 32);
}

uint16_t sn_chksum(const void *data, int len)
{
	/* lwIP wants the one's complement sum in network order, not yet
	 * inverted: exactly what rte_raw_cksum returns for in-memory data. */
	return rte_raw_cksum(data, (size_t)len);
}

/* SipHash-2-4 over the connection's 4-tuple (RFC 6528 suggests a keyed
 * hash; SipHash is a PRF designed for this input size). */
#define SIPROUND do {                                                  \
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);     \
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                          \
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                          \
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);     \
} while (0)

uint64_t sn_siphash(const uint64_t key[2], const void *msg, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key[1];
	const uint8_t *p = msg;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

u32_t sn_tcp_isn(const ip_addr_t *local_ip, u16_t local_port,
		 const ip_addr_t *remote_ip, u16_t remote_port)
{
	struct {
		ip_addr_t l, r;
		u16_t lp, rp;
	} t;

	memset(&t, 0, sizeof(t));
	ip_addr_copy(t.l, *local_ip);
	ip_addr_copy(t.r, *remote_ip);
	t.lp = local_port;
	t.rp = remote_port;
	/* RFC 6528 section 3: ISN = M + F(4-tuple, key), M a 4 us timer. */
	return (u32_t)(sn_sys_now_us() / 4u) +
	       (u32_t)sn_siphash(isn_key, &t, sizeof(t));
}
