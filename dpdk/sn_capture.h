/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture written by the stack itself (--pcap FILE, `snctl capture`):
 * dpdk-dumpcap and dpdk-pdump need a primary process to attach to, which an
 * --in-memory program is not.
 *
 * One pcapng file (rte_pcapng) with two interfaces:
 *   0 "wire"  (Ethernet)  every frame the port received or sent;
 *   1 "inner" (raw IP)    the inner packets of protected traffic, inbound
 *                         after decapsulation and outbound before
 *                         encapsulation (ipsec/ipsec_capture.h).
 *
 * The loop only copies: a copy goes to a bounded ring that a writer thread
 * (on DPDK's control cores) empties into the file in batches, so a slow
 * disk never holds the loop. When the ring or the copy pool is full, or the
 * file reached its size limit, the packet is counted as dropped; the counts
 * go into the file's interface statistics blocks when it is closed, and
 * into --stats (capture.*). Off, each hook costs one predictable branch on
 * sn_capture_on.
 *
 * Everything except the writer thread runs on the loop's lcore.
 */
#ifndef SN_CAPTURE_H
#define SN_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

struct rte_mbuf;

/* Values of enum rte_pcapng_direction. */
enum sn_capture_dir { SN_CAPTURE_IN = 1, SN_CAPTURE_OUT = 2 };

/* The file's interfaces, in the order of their description blocks. */
enum sn_capture_if { SN_CAPTURE_IF_WIRE, SN_CAPTURE_IF_INNER, SN_CAPTURE_IF_MAX };

#define SN_CAPTURE_MAX_MB_DEFAULT 100

struct sn_capture_conf {
	const char *path;
	uint64_t max_bytes;     /* file size limit; 0 = none */
	uint16_t port_id;
	uint32_t snaplen;       /* bytes kept of each packet */
};

/* Per interface, since the capture started. */
struct sn_capture_if_stats {
	uint64_t seen;          /* packets offered to the capture */
	uint64_t written;       /* in the file */
	uint64_t dropped;       /* seen, not written: ring or pool full, limit */
};

struct sn_capture_stats {
	struct sn_capture_if_stats ifs[SN_CAPTURE_IF_MAX];
	uint64_t bytes;         /* file size */
	bool running;
	bool full;              /* the size limit was reached */
};

/* Written only by sn_capture_start/stop; read by the hooks. */
extern bool sn_capture_on;

/* 0, or -1 with a reason in err (the file is not created then). */
int sn_capture_start(const struct sn_capture_conf *c, char *err, size_t errlen);
/* Write what is queued and the statistics, close the file. 0, or -1 when
 * no capture ran. */
int sn_capture_stop(void);
/* From the loop, now and then: says once when the limit was reached. */
void sn_capture_poll(void);
void sn_capture_get_stats(struct sn_capture_stats *st);
const char *sn_capture_path(void);

/* The hooks; call only when sn_capture_on. */
void sn_capture_rx(struct rte_mbuf **pkts, uint16_t n);
/* rte_eth_tx_burst on the port, capturing what the port took. */
uint16_t sn_capture_tx(uint16_t port_id, struct rte_mbuf **pkts, uint16_t n);

/* An inner IP packet given as pieces of memory (a pbuf chain). */
struct sn_capture_seg {
	const void *data;
	uint16_t len;
};
#define SN_CAPTURE_MAX_SEGS 16
void sn_capture_inner(const struct sn_capture_seg *segs, unsigned nseg,
		      enum sn_capture_dir dir);

#endif
