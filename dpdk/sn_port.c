/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One ethdev port with one RX/TX queue pair used from the calling lcore:
 * mempools, MTU, offloads the port has, start/stop, bursts and counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_bus.h>
#include <rte_dev.h>

#include "sn_capture.h"
#include "sn_dev.h"
#include "sn_memif_guard.h"
#include "sn_netdev.h"

#define NB_MBUFS      32767   /* 2^n - 1: the ring's best size */
#define NB_EXT_MBUFS  16383
#define MBUF_CACHE    256
#define NB_RXD        1024
#define NB_TXD        1024

static int fail(char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "%s: %s", what, strerror(rc < 0 ? -rc : rc));
	return -1;
}

/* Data room for a whole frame of the MTU in one mbuf where possible. */
static uint16_t data_room(uint16_t mtu)
{
	uint32_t frame = (uint32_t)mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN +
			 RTE_ETHER_CRC_LEN;
	uint32_t room = frame < 2048 ? 2048 : (frame + 1023) & ~1023u;

	return (uint16_t)(room + RTE_PKTMBUF_HEADROOM);
}

static int make_pools(struct sn_port *p, uint16_t mtu, char *err, size_t errlen)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	int socket = rte_socket_id();

	snprintf(name, sizeof(name), "sn_rx_%u", p->port_id);
	p->pool = rte_pktmbuf_pool_create(name, NB_MBUFS, MBUF_CACHE,
					  SN_MBUF_PRIV_SIZE, data_room(mtu),
					  socket);
	if (!p->pool)
		return fail(err, errlen, "mbuf pool", rte_errno);
	snprintf(name, sizeof(name), "sn_ext_%u", p->port_id);
	p->ext_pool = rte_pktmbuf_pool_create(name, NB_EXT_MBUFS, MBUF_CACHE,
					      SN_MBUF_PRIV_SIZE, 0, socket);
	if (!p->ext_pool)
		return fail(err, errlen, "external-buffer mbuf pool", rte_errno);
	return 0;
}

/* Offloads: enable what helps and what the port really has. TX TCP
 * checksums only on hardware: software PMDs (tap, virtio-user) would just
 * move the same work, and vhost peers do not all honour the flag. */
static void choose_offloads(struct sn_port *p, const struct rte_eth_dev_info *di,
			    struct rte_eth_conf *conf)
{
	const struct rte_bus *bus = di->device ? rte_dev_bus(di->device) : NULL;
	bool hw = bus && !strcmp(rte_bus_name(bus), "pci");

	p->caps = SN_CAP_TX_EXTBUF;
	if (di->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		p->caps |= SN_CAP_TX_MULTI_SEG;
	}
	if (hw && (di->tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)) {
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		p->caps |= SN_CAP_TX_L4_CKSUM;
	}
	if (di->rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		p->caps |= SN_CAP_RX_IPV4_CKSUM;
	}
	if ((di->rx_offload_capa & (RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				    RTE_ETH_RX_OFFLOAD_UDP_CKSUM)) ==
	    (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM)) {
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
					 RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
		p->caps |= SN_CAP_RX_L4_CKSUM;
	}
	/* Frames larger than one mbuf arrive as chains where supported. */
	if (di->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
}

/* Largest MTU the port takes: its own limit and its frame limit less the
 * Ethernet header and CRC (DPDK's frame overhead). */
static uint16_t max_mtu(const struct rte_eth_dev_info *di)
{
	uint32_t by_frame = di->max_rx_pktlen > RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN ?
		di->max_rx_pktlen - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN : 0;

	return (uint16_t)RTE_MIN((uint32_t)di->max_mtu, by_frame);
}

static int set_mtu(struct sn_port *p, const struct rte_eth_dev_info *di,
		   uint16_t mtu, char *err, size_t errlen)
{
	int rc = rte_eth_dev_set_mtu(p->port_id, mtu);

	/* Some virtual ports cannot change their MTU but carry any frame up
	 * to max_mtu; accept those. */
	if (rc == -ENOTSUP && di->max_mtu >= mtu)
		rc = 0;
	if (rc) {
		snprintf(err, errlen, "port cannot use MTU %u (range %u-%u): %s",
			 mtu, di->min_mtu, di->max_mtu, strerror(-rc));
		return -1;
	}
	p->mtu = mtu;
	return 0;
}

static int setup_queues(struct sn_port *p, struct rte_eth_conf *conf,
			char *err, size_t errlen)
{
	uint16_t nb_rxd = NB_RXD, nb_txd = NB_TXD;
	int socket = rte_eth_dev_socket_id(p->port_id);
	int rc;

	rc = rte_eth_dev_configure(p->port_id, 1, 1, conf);
	if (rc)
		return fail(err, errlen, "port configure", rc);
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	if (rc)
		return fail(err, errlen, "descriptor counts", rc);
	rc = rte_eth_rx_queue_setup(p->port_id, 0, nb_rxd, socket, NULL, p->pool);
	if (rc)
		return fail(err, errlen, "RX queue", rc);
	rc = rte_eth_tx_queue_setup(p->port_id, 0, nb_txd, socket, NULL);
	if (rc)
		return fail(err, errlen, "TX queue", rc);
	return 0;
}

int sn_port_open(struct sn_port *p, uint16_t mtu, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info di;
	struct rte_ether_addr mac;
	uint16_t pid;
	int rc;

	memset(p, 0, sizeof(*p));
	if (rte_eth_dev_count_avail() != 1) {
		snprintf(err, errlen, "expected one port, found %u: the --dev device could not be made "
			 "or found (a PCI NIC must be bound to vfio-pci; SN_LOG_LEVEL=debug shows DPDK's reasons)",
			 rte_eth_dev_count_avail());
		return -1;
	}
	RTE_ETH_FOREACH_DEV(pid)
		p->port_id = pid;
	rc = rte_eth_dev_info_get(p->port_id, &di);
	if (rc)
		return fail(err, errlen, "port info", rc);
	if (mtu > max_mtu(&di) || mtu < di.min_mtu) {
		snprintf(err, errlen, "the %s port carries MTU %u to %u, not %u",
			 di.driver_name, di.min_mtu, max_mtu(&di), mtu);
		return -1;
	}
	if (make_pools(p, mtu, err, errlen))
		return -1;
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = mtu;
	choose_offloads(p, &di, &conf);
	if (setup_queues(p, &conf, err, errlen))
		return -1;
	if (set_mtu(p, &di, mtu, err, errlen))
		return -1;
	/* memif bursts race its interrupt thread's unmap when the peer goes:
	 * guarded, see sn_memif_guard.c. */
	if (!strcmp(di.driver_name, "net_memif")) {
		if (sn_memif_guard_install())
			return fail(err, errlen, "memif fault guard", errno);
		p->memif_guard = true;
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc)
		return fail(err, errlen, "port start", rc);
	p->started = true;
	rte_eth_macaddr_get(p->port_id, &mac);
	memcpy(p->mac, mac.addr_bytes, sizeof(p->mac));
	return 0;
}

void sn_port_stop(struct sn_port *p)
{
	/* Stopping releases the mbufs the port still holds for TX; those may
	 * carry lwIP heap buffers, so this comes before the stack goes. */
	if (p->started && !p->stopped)
		rte_eth_dev_stop(p->port_id);
	p->stopped = true;
}

void sn_port_close(struct sn_port *p)
{
	if (p->started) {
		sn_port_stop(p);
		/* Closing the port removes the TAP device and the memif or
		 * vhost-user socket file it created. */
		rte_eth_dev_close(p->port_id);
		p->started = false;
	}
	if (p->memif_guard)
		sn_memif_guard_remove();
	p->memif_guard = false;
	rte_mempool_free(p->ext_pool);
	rte_mempool_free(p->pool);
	p->ext_pool = p->pool = NULL;
}

uint16_t sn_port_rx(void *port, struct rte_mbuf **pkts, uint16_t n)
{
	struct sn_port *p = port;
	uint16_t k = p->memif_guard ?
		sn_memif_guarded_rx(p->port_id, pkts, n, &p->memif_faults) :
		rte_eth_rx_burst(p->port_id, 0, pkts, n);
	uint64_t bytes = 0;

	for (uint16_t i = 0; i < k; i++)
		bytes += pkts[i]->pkt_len;
	p->rx_pkts += k;
	p->rx_bytes += bytes;
	if (unlikely(sn_capture_on) && k)
		sn_capture_rx(pkts, k);
	return k;
}

uint16_t sn_port_tx(void *port, struct rte_mbuf **pkts, uint16_t n)
{
	struct sn_port *p = port;
	uint64_t bytes = 0, faults = p->memif_faults;
	uint16_t k;

	/* Summed before the burst: the PMD may free what it sent at once. */
	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	if (p->memif_guard)
		k = sn_memif_guarded_tx(p->port_id, pkts, n,
					unlikely(sn_capture_on) ? sn_capture_tx : NULL,
					&p->memif_faults);
	else if (unlikely(sn_capture_on))
		k = sn_capture_tx(p->port_id, pkts, n);
	else
		k = rte_eth_tx_burst(p->port_id, 0, pkts, n);
	/* A burst cut short by the memif guard took all: none were sent. */
	if (unlikely(p->memif_faults != faults))
		return k;
	/* What it did not take is still ours to read. */
	for (uint16_t i = k; i < n; i++)
		bytes -= pkts[i]->pkt_len;
	p->tx_pkts += k;
	p->tx_bytes += bytes;
	return k;
}

int sn_port_link_up(void *port)
{
	struct rte_eth_link link;

	if (rte_eth_link_get_nowait(((struct sn_port *)port)->port_id, &link))
		return 0;
	return link.link_status == RTE_ETH_LINK_UP;
}

int sn_port_wait_link(struct sn_port *p, unsigned ms)
{
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;

	while (!sn_port_link_up(p)) {
		if (rte_get_timer_cycles() >= end)
			return 0;
		rte_delay_ms(10);
	}
	return 1;
}

int sn_port_stats(const struct sn_port *p, struct sn_port_stats *st)
{
	struct rte_eth_stats s;
	int rc = rte_eth_stats_get(p->port_id, &s);

	memset(st, 0, sizeof(*st));
	if (rc)
		return rc;
	/* Frames and bytes: ours (see struct sn_port); drops and errors
	 * only the PMD knows. */
	st->ipackets = p->rx_pkts;
	st->opackets = p->tx_pkts;
	st->ibytes = p->rx_bytes;
	st->obytes = p->tx_bytes;
	st->imissed = s.imissed;
	st->ierrors = s.ierrors;
	st->oerrors = s.oerrors;
	st->rx_nombuf = s.rx_nombuf;
	st->memif_fault = p->memif_faults;
	return 0;
}
