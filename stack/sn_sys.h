/* SPDX-License-Identifier: BSD-3-Clause */
/* Time, randomness and hashing for the stack (stack/sn_sys.c). */
#ifndef SN_SYS_H
#define SN_SYS_H

#include <stddef.h>
#include <stdint.h>

/* Seed the RNG and the ISN key; hz is the TSC rate (0: use the monotonic
 * clock, before or without an EAL). */
void sn_sys_init(uint64_t hz);

/* Microseconds since sn_sys_init(). */
uint64_t sn_sys_now_us(void);

/* SipHash-2-4 of msg under a 128-bit key. */
uint64_t sn_siphash(const uint64_t key[2], const void *msg, size_t len);

#endif
