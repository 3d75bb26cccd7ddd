/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hex for the IKE unit tests: "0a0b 0c" (spaces ignored) and "ab*16"
 * (the byte 0xab sixteen times), so tables read like the RFC's figures.
 */
#ifndef SN_TEST_IKE_HEX_H
#define SN_TEST_IKE_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static inline int ike_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Returns the number of bytes written to out (at most cap), or SIZE_MAX on
 * a malformed string. */
static inline size_t ike_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		int hi = ike_hex_nibble(s[0]), lo = s[1] ? ike_hex_nibble(s[1]) : -1;

		if (hi < 0 || lo < 0)
			return SIZE_MAX;
		uint8_t v = (uint8_t)(hi << 4 | lo);
		size_t rep = 1;

		s += 2;
		if (*s == '*') {
			char *end;

			rep = strtoul(s + 1, &end, 10);
			s = end;
		}
		if (rep > cap - n)
			return SIZE_MAX;
		memset(out + n, v, rep);
		n += rep;
	}
	return n;
}

#endif
