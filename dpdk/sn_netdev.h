/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The small interface through which stack/ sees a port: bursts of mbufs in
 * and out, the MTU, the MAC and the offloads. dpdk/ provides one per ethdev
 * port (wired up in api/); tests provide their own, so the stack can be
 * unit-tested without an EAL device.
 */
#ifndef SN_NETDEV_H
#define SN_NETDEV_H

#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

/* Offload capabilities the port has (and has enabled). */
#define SN_CAP_RX_IPV4_CKSUM  (1u << 0) /* rx: ol_flags tell IPv4 header checksum state */
#define SN_CAP_RX_L4_CKSUM    (1u << 1) /* rx: ol_flags tell TCP/UDP checksum state */
#define SN_CAP_TX_IPV4_CKSUM  (1u << 2) /* tx: the port fills the IPv4 header checksum */
#define SN_CAP_TX_L4_CKSUM    (1u << 3) /* tx: the port fills TCP/UDP checksums */
#define SN_CAP_TX_MULTI_SEG   (1u << 4) /* tx: chained mbufs are accepted */
#define SN_CAP_TX_EXTBUF      (1u << 5) /* tx: mbufs may point at external (heap) buffers */

struct sn_netdev_ops {
	/* Both return how many mbufs were taken; the caller owns the rest. */
	uint16_t (*rx_burst)(void *ctx, struct rte_mbuf **pkts, uint16_t n);
	uint16_t (*tx_burst)(void *ctx, struct rte_mbuf **pkts, uint16_t n);
	/* 1 when the link is up. */
	int (*link_up)(void *ctx);
};

struct sn_netdev {
	const struct sn_netdev_ops *ops;
	void *ctx;
	/* Received mbufs come from this pool; its private area (at least
	 * SN_MBUF_PRIV_SIZE bytes) holds the pbuf that wraps the mbuf. TX
	 * copies are allocated from it too. */
	struct rte_mempool *pool;
	/* Data-less mbufs that carry lwIP heap buffers to the port without a
	 * copy (SN_CAP_TX_EXTBUF); NULL means every frame is copied. */
	struct rte_mempool *ext_pool;
	uint16_t mtu;
	uint8_t mac[6];
	uint32_t caps;
};

/* Private area of every mbuf in sn_netdev.pool and .ext_pool. */
#define SN_MBUF_PRIV_SIZE 64

#endif
