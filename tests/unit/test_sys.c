/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack/sn_sys.c: the checksum lwIP uses (sn_chksum, over rte_raw_cksum)
 * against a naive reference, SipHash-2-4 against the published vectors,
 * and RFC 6528 initial sequence numbers.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "lwip/ip_addr.h"
#include "lwipopts.h"
#include "sn_sys.h"
#include "sn_hooks.h"

/* What lwIP expects from LWIP_CHKSUM: the folded, not inverted, one's
 * complement sum of 16-bit words as they lie in memory (host order). The
 * reference adds byte pairs one at a time, no word loads, no unrolling. */
static uint16_t ref_chksum(const uint8_t *p, int len)
{
	uint32_t sum = 0;

	for (int i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
	if (len & 1)
		sum += p[len - 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

Test(chksum, random_buffers_all_lengths_and_alignments)
{
	static uint8_t buf[512 + 8];

	srand(1234);
	for (int len = 0; len <= 300; len++)
		for (int align = 0; align < 8; align++) {
			uint8_t *p = buf + align;

			for (int i = 0; i < len; i++)
				p[i] = (uint8_t)rand();
			cr_assert_eq(sn_chksum(p, len), ref_chksum(p, len),
				     "len %d align %d: 0x%04x, reference 0x%04x", len, align,
				     sn_chksum(p, len), ref_chksum(p, len));
		}
}

/* Carries: all-ones data sums to 0xffff at every length; so does a
 * buffer of 0xff00/0x00ff words that wraps the accumulator many times. */
Test(chksum, carry_heavy_buffers)
{
	static uint8_t buf[70000 + 1];
	static const int lens[] = { 1, 2, 3, 64, 65, 1499, 1500, 9000, 65535, 70000 };

	memset(buf, 0xff, sizeof(buf));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int len = lens[i];

		cr_assert_eq(sn_chksum(buf + 1, len), ref_chksum(buf + 1, len),
			     "case %zu: len %d", i, len);
		cr_assert_eq(sn_chksum(buf, len), ref_chksum(buf, len), "case %zu", i);
	}
}

/* A header checksummed with sn_chksum verifies with the reference: the
 * sum of the data plus its stored (inverted) checksum folds to 0xffff. */
Test(chksum, stored_checksum_verifies)
{
	uint8_t ip[20] = { 0x45, 0, 0, 60, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0,
			   10, 0, 0, 1, 10, 0, 0, 2 };
	uint16_t c = (uint16_t)~sn_chksum(ip, 20);

	memcpy(ip + 10, &c, 2);
	cr_assert_eq(ref_chksum(ip, 20), 0xffff);
	cr_assert_eq(sn_chksum(ip, 20), 0xffff);
}

/* Reference vectors of SipHash-2-4 (Aumasson, Bernstein; vectors_sip64 of
 * the reference code): key 00..0f, message 00..len-1. */
static const uint64_t sip_vectors[] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull,
	0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull, 0x18765564cd99a68dull,
	0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull, 0x93f5f5799a932462ull,
	0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull,
	0xa129ca6149be45e5ull, 0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull,
	0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull, 0xbed65cf21aa2ee98ull,
	0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
	0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull,
	0x2f2e6163076bcfadull, 0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull,
	0xad87a3535c49ef28ull, 0x32d892fad841c342ull, 0x7127512f72f27cceull,
};

Test(siphash, reference_vectors)
{
	uint8_t keyb[16], msg[40];
	uint64_t key[2];

	for (int i = 0; i < 16; i++)
		keyb[i] = (uint8_t)i;
	memcpy(key, keyb, 16);   /* k0, k1: little-endian halves of the key */
	for (int i = 0; i < (int)sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (size_t len = 0; len < sizeof(sip_vectors) / sizeof(sip_vectors[0]); len++)
		cr_assert_eq(sn_siphash(key, msg, len), sip_vectors[len],
			     "len %zu: 0x%016llx, expected 0x%016llx", len,
			     (unsigned long long)sn_siphash(key, msg, len),
			     (unsigned long long)sip_vectors[len]);
}

/* The message is read byte-wise: an unaligned copy hashes the same. */
Test(siphash, unaligned_message)
{
	uint8_t keyb[16], buf[48];
	uint64_t key[2];

	for (int i = 0; i < 16; i++)
		keyb[i] = (uint8_t)i;
	memcpy(key, keyb, 16);
	for (int i = 0; i < 40; i++)
		buf[i + 3] = (uint8_t)i;
	cr_assert_eq(sn_siphash(key, buf + 3, 15), 0xa129ca6149be45e5ull);
	cr_assert_eq(sn_siphash(key, buf + 3, 32), 0x7127512f72f27cceull);
}

/* ---- RFC 6528 ISNs ---------------------------------------------------------- */

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

Test(isn, differs_across_four_tuples)
{
	ip_addr_t a, b, a6;
	u32_t base, v[5];

	sn_sys_init(0);
	IP_ADDR4(&a, 10, 0, 0, 1);
	IP_ADDR4(&b, 10, 0, 0, 2);
	IP_ADDR6(&a6, 0xfd000000, 0, 0, 1);
	base = sn_tcp_isn(&a, 80, &b, 40000);
	v[0] = sn_tcp_isn(&b, 80, &b, 40000);   /* local address */
	v[1] = sn_tcp_isn(&a, 81, &b, 40000);   /* local port */
	v[2] = sn_tcp_isn(&a, 80, &a, 40000);   /* remote address */
	v[3] = sn_tcp_isn(&a, 80, &b, 40001);   /* remote port */
	v[4] = sn_tcp_isn(&a6, 80, &b, 40000);  /* IPv6 local address */
	/* Same time (4 us ticks): a change of the hash input moves the ISN
	 * far more than the clock could between calls. */
	for (int i = 0; i < 5; i++) {
		u32_t d = v[i] - base;

		cr_assert(d > 1000 && d < 0u - 1000u, "case %d: ISN %u vs base %u", i, v[i], base);
	}
}

Test(isn, increases_with_time)
{
	ip_addr_t a, b;
	u32_t first, later;

	sn_sys_init(0);
	IP_ADDR4(&a, 10, 0, 0, 1);
	IP_ADDR4(&b, 10, 0, 0, 2);
	first = sn_tcp_isn(&a, 80, &b, 40000);
	sleep_us(20000);
	later = sn_tcp_isn(&a, 80, &b, 40000);
	/* 20 ms at one tick per 4 us: 5000 ticks, allow for a slow machine. */
	cr_assert(later - first >= 4900 && later - first < 5000u * 100,
		  "ISN moved by %u over 20 ms", later - first);
}

/* A new key per process (sn_sys_init): the same tuple gets another ISN. */
Test(isn, keyed_per_init)
{
	ip_addr_t a, b;
	u32_t first, second;

	IP_ADDR4(&a, 10, 0, 0, 1);
	IP_ADDR4(&b, 10, 0, 0, 2);
	sn_sys_init(0);
	first = sn_tcp_isn(&a, 80, &b, 40000);
	sn_sys_init(0);
	second = sn_tcp_isn(&a, 80, &b, 40000);
	cr_assert(second - first > 1000 && second - first < 0u - 1000u,
		  "ISN %u then %u: the key did not change", first, second);
}
