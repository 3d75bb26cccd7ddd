/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test harness: the stack over a fake port (struct sn_netdev) whose RX
 * returns frames the test injects and whose TX captures what the stack
 * sends. The EAL runs without huge pages, PCI or devices (and without
 * --in-memory, which DPDK 22.11 refuses next to --no-huge); lwIP and the
 * socket layer are the real ones.
 *
 *     test --h_inject()--> [fake rx_burst] --> sn_stack_poll() --> lwIP
 *     test <--h_tx_find()-- [fake tx_burst] <----------------------'
 *
 * Packets a socket sends to the interface's own addresses loop back inside
 * lwIP (LWIP_NETIF_LOOPBACK), so socket tests need no peer at all.
 *
 * Failures in set-up abort the process (the test fails with it). No
 * Criterion here: the fuzzer links this file too.
 */
#ifndef H_HARNESS_H
#define H_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "frames.h"

struct rte_mempool;

extern struct rte_mempool *h_pool;      /* RX frames and TX copies */
extern struct rte_mempool *h_ext_pool;  /* data-less, zero-copy TX */

/* EAL (--no-huge --no-pci --no-shconf --iova-mode=va) and the two pools,
 * once per process. */
void h_eal_init(void);
void h_pools_create(void);

/* Start the stack over the fake port: 10.0.0.1/24 and fd00::1, MTU 1500,
 * with caps (SN_CAP_*) as the port's offloads; then the socket layer. */
void h_stack_start_caps(uint32_t caps);
void h_stack_start(void);  /* caps: zero-copy TX, multi-segment */
/* Close every socket, stop the stack, drop queued frames; returns how
 * many mbufs are still taken from the pools (0 unless something leaked). */
unsigned h_stack_stop(void);
/* The same for a Criterion .fini: a leak aborts the test process with a
 * message (Criterion ignores failed assertions in .fini, not a crash). */
void h_stack_stop_checked(void);

/* mbufs taken from both pools right now. */
unsigned h_in_use(void);

/* Run the poll loop n times. */
void h_poll(int n);

/* Queue a frame for the next RX burst. h_inject_trunc copies len bytes
 * into the mbuf but tells the stack only visible of them were received:
 * what follows is stale data a length check must not trust. 0 or -1. */
int h_inject(const void *frame, size_t len);
int h_inject_trunc(const void *frame, size_t len, size_t visible);
/* Queue a frame as a chain of mbufs of at most seg bytes each, the first
 * with its data headroom bytes into its buffer, the others at offset 0:
 * how net_tap's scattered receive lays out a frame larger than one mbuf
 * (seg 0: one mbuf). 0 or -1. */
int h_inject_segs(const void *frame, size_t len, size_t seg, uint16_t headroom);

/* Captured TX frames, oldest first. h_tx_find takes the first frame of
 * ethertype (and IP protocol or ICMP type where >= 0: for ARP the opcode)
 * out of the capture, returns its length or 0. */
unsigned h_tx_count(void);      /* frames sent since start */
size_t h_tx_find(uint16_t ethertype, int proto, uint8_t *buf, size_t cap);
void h_tx_clear(void);

/* Make the fake port's TX take nothing (a full ring) until unblocked. */
void h_tx_block(bool blocked);

/* A counter as --stats names it; aborts when the name is unknown. */
uint64_t h_stat(const char *name);

/* Let the stack learn the peer's MAC (ARP request / neighbour
 * solicitation from the peer); the replies are taken out of the capture. */
void h_learn_peer4(void);
void h_learn_peer6(void);

/* ---- Socket helpers over the public API (non-blocking sockets) ---------- */

/* sockaddr for one of our addresses (family AF_INET: H_IP4_US, else
 * H_IP6_US) and port; returns its length. */
socklen_t h_addr(int family, uint16_t port, struct sockaddr_storage *ss);
/* The same for the peer's address (H_IP4_PEER / H_IP6_PEER). */
socklen_t h_peer_addr(int family, uint16_t port, struct sockaddr_storage *ss);

/* A non-blocking listener on our address and port. -1 on failure. */
int h_listen(int family, uint16_t port);

/* Connect a new non-blocking socket to our own listener and accept it:
 * 0 with *client and *server set, or -1. */
int h_tcp_pair(int family, uint16_t port, int *client, int *server);

/* Poll until the call succeeds or polls run out (bounded): the whole
 * buffer is sent / len bytes are received. Returns bytes moved. */
size_t h_send_all(int fd, const void *buf, size_t len);
size_t h_recv_all(int fd, void *buf, size_t len);

/* Poll until recv() returns something other than EAGAIN; returns that
 * result (errno set as recv left it). */
long h_recv_wait(int fd, void *buf, size_t len);

#endif
