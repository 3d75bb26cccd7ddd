/* SPDX-License-Identifier: BSD-3-Clause */
/* SHA-256 (FIPS 180-4), small and self-contained, for sn-fetch --sha256. */
#ifndef SN_FETCH_SHA256_H
#define SN_FETCH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	uint8_t block[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
/* 0 when the FIPS 180-2 test vectors hash correctly. */
int sha256_selftest(void);

#endif
