/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Link modes (--dev) and the DPDK side of a port: EAL start-up, mempools,
 * one RX/TX queue pair, bursts, link state, MTU, offloads.
 */
#ifndef SN_DEV_H
#define SN_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_mempool;
struct rte_mbuf;

enum sn_dev_kind {
	SN_DEV_TAP,      /* tap:IFNAME         net_tap */
	SN_DEV_MEMIF,    /* memif:PATH[,server|client] net_memif */
	SN_DEV_VHOST,    /* vhost:PATH         net_vhost (vhost-user back end) */
	SN_DEV_VIRTIO,   /* virtio:PATH        net_virtio_user (front end) */
	SN_DEV_PCI,      /* pci:BDF            a NIC bound to vfio-pci */
	SN_DEV_NULL,     /* null               net_null */
};

#define SN_DEV_ARG_MAX 200

struct sn_dev_spec {
	enum sn_dev_kind kind;
	char arg[SN_DEV_ARG_MAX];  /* IFNAME, PATH or BDF */
	bool server;               /* memif role (default: client) */
};

/* Parse a --dev value. 0, or -1 with a reason in err. Pure: no side
 * effects, so it is unit-tested alone. */
int sn_dev_parse(const char *s, struct sn_dev_spec *out, char *err, size_t errlen);

/* EAL arguments for spec (vdev or allow-list entry); the caller's argv
 * array gets pointers into buf. Returns argc or -1 with err. */
struct sn_eal_conf {
	const struct sn_dev_spec *dev;
	int lcore;
	const char *prog;
	uint16_t mtu;
};

/* Start the EAL for conf: own file prefix, main lcore, huge pages reserved
 * when running as root (else --no-huge). 0 or -1 with err. */
int sn_eal_start(const struct sn_eal_conf *conf, char *err, size_t errlen);
void sn_eal_stop(void);

struct sn_port {
	uint16_t port_id;
	uint16_t mtu;
	uint8_t mac[6];
	uint32_t caps;                 /* SN_CAP_* from stack/sn_netdev.h */
	struct rte_mempool *pool;      /* rx and copied tx frames */
	struct rte_mempool *ext_pool;  /* data-less mbufs for zero-copy tx */
	bool started;
	bool stopped;
	/* Frames and bytes the port gave the stack and took from it: counted
	 * here, since some PMDs lose theirs (memif's server side reports
	 * zero once the client has gone, so --stats at exit showed none). */
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	/* memif: bursts run under dpdk/sn_memif_guard.c; how many a fault
	 * (the peer's regions unmapped under them) cut short. */
	bool memif_guard;
	uint64_t memif_faults;
};

/* Configure and start the EAL's port with one queue pair on the calling
 * lcore. 0 or -1 with err. */
int sn_port_open(struct sn_port *p, uint16_t mtu, char *err, size_t errlen);
/* Stop RX/TX (releasing mbufs the port holds), then close and free. */
void sn_port_stop(struct sn_port *p);
void sn_port_close(struct sn_port *p);

uint16_t sn_port_rx(void *port, struct rte_mbuf **pkts, uint16_t n);
uint16_t sn_port_tx(void *port, struct rte_mbuf **pkts, uint16_t n);
int sn_port_link_up(void *port);

/* Wait up to ms for the link to come up; 1 if up. */
int sn_port_wait_link(struct sn_port *p, unsigned ms);

struct sn_port_stats {
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed, ierrors, oerrors, rx_nombuf;
	uint64_t memif_fault;   /* bursts cut short by a fault (sn_memif_guard.c) */
};
int sn_port_stats(const struct sn_port *p, struct sn_port_stats *st);

/* Prepare a TCP frame for the port's TX checksum offload. */
void sn_mbuf_tx_tcp_cksum(struct rte_mbuf *m);

#endif
