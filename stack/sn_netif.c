/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lwIP netif over a port (struct sn_netdev): frames in from RX bursts,
 * frames out through a TX queue flushed once per poll iteration (and when
 * a burst's worth is waiting), checksum offloads where the port has them.
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "lwip/netif.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/ip.h"
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "netif/ethernet.h"
#include "sn_netif.h"
#include "sn_pbuf.h"
#include "sn_counters.h"
#include "sn_rxcheck.h"
#include "sn_hooks.h"
#include "sn_dev.h"

#define SN_ETH_HLEN 14

#define SN_RX_BURST 32
#define SN_TX_BURST 32
/* Frames waiting for the port: enough for a full TCP window burst of
 * 1460-byte segments at 1 MiB before lwIP sees back-pressure. */
#define SN_TXQ_LEN 1024

struct sn_txq {
	struct rte_mbuf *m[SN_TXQ_LEN];
	unsigned head;  /* oldest frame */
	unsigned count;
};

static struct sn_netdev *dev;
static struct sn_txq txq;
/* sn_netif_defer_frag: nesting depth, and the MTU while lwIP sees 0. */
static unsigned frag_deferred;
static u16_t frag_mtu;

struct netif sn_netif;

/* ---- Transmit ---------------------------------------------------------- */

void sn_netif_flush(void)
{
	while (txq.count) {
		unsigned n = txq.count;
		uint16_t sent;

		/* Send the contiguous run from head; wrap on the next turn. */
		if (txq.head + n > SN_TXQ_LEN)
			n = SN_TXQ_LEN - txq.head;
		sent = dev->ops->tx_burst(dev->ctx, &txq.m[txq.head], (uint16_t)n);
		txq.head = (txq.head + sent) % SN_TXQ_LEN;
		txq.count -= sent;
		if (sent < n)
			return; /* port full: keep the rest for the next poll */
	}
}

static int txq_push(struct rte_mbuf *m)
{
	if (txq.count == SN_TXQ_LEN) {
		sn_netif_flush();
		if (txq.count == SN_TXQ_LEN)
			return -1;
	}
	txq.m[(txq.head + txq.count) % SN_TXQ_LEN] = m;
	txq.count++;
	if (txq.count >= SN_TX_BURST)
		sn_netif_flush();
	return 0;
}

static err_t linkoutput(struct netif *nif, struct pbuf *p)
{
	struct rte_mbuf *m;
	bool zc;

	/* The port's MTU, not nif->mtu: that is 0 while fragmentation is
	 * deferred to the output hook (sn_netif_defer_frag). */
	if (p->tot_len > dev->mtu + SN_ETH_HLEN) {
		sn_count(SN_C_DROP_TX_TOOBIG, 1);
		return ERR_VAL;
	}
	m = sn_mbuf_from_pbuf(p, dev, &zc);
	if (!m) {
		sn_count(SN_C_DROP_TX_NOMBUF, 1);
		return ERR_MEM;
	}
	if (dev->caps & SN_CAP_TX_L4_CKSUM)
		sn_mbuf_tx_tcp_cksum(m);
	if (txq_push(m) < 0) {
		rte_pktmbuf_free(m);
		sn_count(SN_C_DROP_TX_FULL, 1);
		return ERR_MEM;
	}
	sn_count(zc ? SN_C_TX_ZEROCOPY : SN_C_TX_COPIED, 1);
	sn_count(SN_C_TX_FRAMES, 1);
	sn_count(SN_C_TX_BYTES, p->tot_len);
	return ERR_OK;
}

struct pbuf *sn_netif_alloc_ip(u16_t len)
{
	struct pbuf *p = dev ? sn_pbuf_alloc_mbuf(dev->pool, len) : NULL;

	return p ? p : pbuf_alloc(PBUF_IP, len, PBUF_RAM);
}

/* ---- Receive ------------------------------------------------------------ */

/* Where the port verified checksums, tell lwIP (per frame: processing is
 * synchronous inside netif->input) not to verify them again; frames the
 * port found bad are dropped here. Returns false to drop. */
static bool rx_cksum_flags(const struct rte_mbuf *m)
{
	uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	uint16_t skip = 0;

	if (dev->caps & SN_CAP_RX_IPV4_CKSUM) {
		if (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			return false;
		if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
			skip |= NETIF_CHECKSUM_CHECK_IP;
	}
	if (dev->caps & SN_CAP_RX_L4_CKSUM) {
		if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			return false;
		if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			skip |= NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP;
	}
	sn_netif.chksum_flags = (u16_t)((sn_netif.chksum_flags |
		NETIF_CHECKSUM_CHECK_IP | NETIF_CHECKSUM_CHECK_TCP |
		NETIF_CHECKSUM_CHECK_UDP) & ~skip);
	return true;
}

static void rx_one(struct rte_mbuf *m)
{
	struct pbuf *p;

	sn_count(SN_C_RX_FRAMES, 1);
	sn_count(SN_C_RX_BYTES, m->pkt_len);
	if (m->pkt_len < SN_ETH_HLEN || m->data_len < SN_ETH_HLEN) {
		sn_count(SN_C_DROP_RX_RUNT, 1);
		rte_pktmbuf_free(m);
		return;
	}
	/* MTU plus Ethernet and one VLAN tag; lwIP's pbuf lengths are 16-bit. */
	if (m->pkt_len > (uint32_t)sn_netif_mtu() + SN_ETH_HLEN + 4) {
		sn_count(SN_C_DROP_RX_OVERSIZE, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (!rx_cksum_flags(m)) {
		sn_count(SN_C_DROP_RX_BAD_CKSUM, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (!sn_rx_check(m)) {
		rte_pktmbuf_free(m);
		return;
	}
	p = sn_pbuf_from_mbuf(m);
	if (!p) {
		sn_count(SN_C_DROP_RX_INPUT, 1);
		return;
	}
	if (sn_netif.input(p, &sn_netif) != ERR_OK) {
		sn_count(SN_C_DROP_RX_INPUT, 1);
		pbuf_free(p);
	}
	if (sn_rx_done_hook)
		sn_rx_done_hook();
}

int sn_netif_rx(void)
{
	struct rte_mbuf *pkts[SN_RX_BURST];
	uint16_t n = dev->ops->rx_burst(dev->ctx, pkts, SN_RX_BURST);

	for (uint16_t i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		rx_one(pkts[i]);
	}
	return n;
}

/* ---- What other layers may change ---------------------------------------- */

void sn_netif_set_output_hook(netif_output_fn out4, netif_output_ip6_fn out6)
{
	sn_netif.output = out4 ? out4 : etharp_output;
	sn_netif.output_ip6 = out6 ? out6 : ethip6_output;
}

err_t sn_netif_link_output4(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst)
{
	return etharp_output(nif, p, dst);
}

err_t sn_netif_link_output6(struct netif *nif, struct pbuf *p, const ip6_addr_t *dst)
{
	return ethip6_output(nif, p, dst);
}

void sn_netif_defer_frag(bool on)
{
	if (on && frag_deferred++ == 0) {
		frag_mtu = sn_netif.mtu;
		sn_netif.mtu = 0;
	} else if (!on && frag_deferred && --frag_deferred == 0) {
		sn_netif.mtu = frag_mtu;
	}
}

u16_t sn_netif_mtu(void)
{
	return frag_deferred ? frag_mtu : sn_netif.mtu;
}

/* lwIP's fragmenters size fragments by nif->mtu: the real one for the
 * duration of the call, whatever lwIP's IP output is told meanwhile. */
err_t sn_netif_frag_output(struct netif *nif, struct pbuf *p, const ip_addr_t *dst)
{
	u16_t saved = nif->mtu;
	err_t e;

	nif->mtu = sn_netif_mtu();
	e = IP_IS_V4(dst) ? ip4_frag(p, nif, ip_2_ip4(dst)) : ip6_frag(p, nif, ip_2_ip6(dst));
	nif->mtu = saved;
	return e;
}

err_t sn_netif_input_verified(struct pbuf *p, struct netif *inp, u16_t verified)
{
	u16_t flags = inp->chksum_flags;
	err_t e;

	inp->chksum_flags = (u16_t)(flags & ~verified);
	e = ip_input(p, inp);
	inp->chksum_flags = flags;
	return e;
}

/* ---- Set-up -------------------------------------------------------------- */

static err_t netif_init_cb(struct netif *nif)
{
	nif->name[0] = 's';
	nif->name[1] = 'n';
	nif->mtu = dev->mtu;
	nif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(nif->hwaddr, dev->mac, ETH_HWADDR_LEN);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		     NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
	nif->output = etharp_output;
	nif->output_ip6 = ethip6_output;
	nif->linkoutput = linkoutput;
	/* TCP checksums go to the port when it can fill them; everything else
	 * (IPv4 header, UDP, ICMP) is cheap or may be fragmented in software. */
	NETIF_SET_CHECKSUM_CTRL(nif, NETIF_CHECKSUM_ENABLE_ALL);
	if (dev->caps & SN_CAP_TX_L4_CKSUM)
		NETIF_SET_CHECKSUM_CTRL(nif, NETIF_CHECKSUM_ENABLE_ALL &
					~NETIF_CHECKSUM_GEN_TCP);
	return ERR_OK;
}

int sn_netif_init(struct sn_netdev *d, const ip4_addr_t *ip,
		  const ip4_addr_t *mask, const ip4_addr_t *gw)
{
	dev = d;
	memset(&txq, 0, sizeof(txq));
	frag_deferred = 0;
	if (!netif_add(&sn_netif, ip, mask, gw, NULL, netif_init_cb,
		       ethernet_input))
		return -EINVAL;
	netif_set_default(&sn_netif);
	return 0;
}

void sn_netif_fini(void)
{
	sn_netif_flush();
	/* Frames the port never took are released, not leaked. */
	while (txq.count) {
		rte_pktmbuf_free(txq.m[txq.head]);
		txq.head = (txq.head + 1) % SN_TXQ_LEN;
		txq.count--;
	}
	netif_remove(&sn_netif);
	dev = NULL;
}

unsigned sn_netif_tx_pending(void)
{
	return txq.count;
}
