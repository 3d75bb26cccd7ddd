/* SPDX-License-Identifier: BSD-3-Clause */
/* pbuf <-> mbuf glue (stack/sn_pbuf.c). */
#ifndef SN_PBUF_H
#define SN_PBUF_H

#include <stdbool.h>
#include <stdint.h>

struct pbuf;
struct rte_mbuf;
struct sn_netdev;

/* Wrap a received mbuf (chain) as a pbuf chain without copying. On NULL
 * the mbuf has been freed. */
struct pbuf *sn_pbuf_from_mbuf(struct rte_mbuf *m);

/* True for a pbuf made by sn_pbuf_from_mbuf(). */
bool sn_pbuf_is_mbuf(const struct pbuf *p);

/*
 * A pbuf of len bytes, with lwIP's PBUF_IP header room in front, whose
 * memory is an mbuf from pool: for packets built in full by the stack
 * (ESP, AH). sn_mbuf_from_pbuf() hands that mbuf to the port without a
 * copy; freeing the pbuf frees the mbuf. NULL when pool is NULL, empty,
 * or its mbufs are too small.
 */
struct rte_mempool;
struct pbuf *sn_pbuf_alloc_mbuf(struct rte_mempool *pool, uint16_t len);

/* An mbuf (chain) carrying frame p for dev: heap buffers attached without a
 * copy where the port allows (*zerocopy set), else one copy. NULL when no
 * mbuf could be had or the frame does not fit one. p is not consumed. */
struct rte_mbuf *sn_mbuf_from_pbuf(struct pbuf *p, const struct sn_netdev *dev,
				   bool *zerocopy);

#endif
