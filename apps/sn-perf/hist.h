/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Latency histogram for tcp-rr: log-linear buckets over nanoseconds, 64 per
 * power of two, so every value is kept to within 1/64 (1.6 %) and values
 * below 128 ns exactly, in a fixed 24 KiB whatever the run length.
 */
#ifndef SN_PERF_HIST_H
#define SN_PERF_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS  6
#define HIST_SUB       (1u << HIST_SUB_BITS)
#define HIST_BUCKETS   (HIST_SUB * 48u)   /* up to 2^47 ns, about 39 hours */

struct hist {
	uint64_t count;
	uint64_t max_ns;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t ns);
/* The value at quantile q (0..1) in nanoseconds, 0 when empty. */
double hist_quantile_ns(const struct hist *h, double q);

#endif
