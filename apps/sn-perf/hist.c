/* SPDX-License-Identifier: BSD-3-Clause */
/* Log-linear latency histogram (see hist.h). */
#include <math.h>

#include "hist.h"

static unsigned hist_index(uint64_t v)
{
	unsigned msb, shift, idx;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	/* (v >> shift) is in [HIST_SUB, 2 * HIST_SUB): one of 64 steps. */
	idx = shift * HIST_SUB + (unsigned)(v >> shift);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The lowest value and the width of bucket idx. */
static void hist_bounds(unsigned idx, uint64_t *low, uint64_t *width)
{
	unsigned shift;

	if (idx < 2 * HIST_SUB) {
		*low = idx;
		*width = 1;
		return;
	}
	shift = idx / HIST_SUB - 1;
	*low = (uint64_t)(idx - shift * HIST_SUB) << shift;
	*width = (uint64_t)1 << shift;
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->bucket[hist_index(ns)]++;
	h->count++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

double hist_quantile_ns(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, low, width;

	if (!h->count)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			hist_bounds(i, &low, &width);
			/* The middle of the bucket, but never above the maximum seen. */
			double mid = (double)low + (double)(width - 1) / 2.0;
			return mid < (double)h->max_ns ? mid : (double)h->max_ns;
		}
	}
	return (double)h->max_ns;
}
