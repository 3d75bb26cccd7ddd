/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sealnet's lwIP configuration: the one home of every stack option.
 *
 * lwIP 2.1.3 is compiled by our Makefile with this file (third_party/lwip is
 * unpacked from Debian's source package and never committed). Each option
 * carries the reason for its value; the #error checks at the end make sure
 * options that depend on each other agree.
 *
 * Sizing target: one lcore moving 10 Gbit/s of TCP at 1500-byte MTU, and
 * thousands of concurrent connections. At 10 Gbit/s and a 100 us RTT the
 * bandwidth-delay product is 125 kB; windows of 1 MiB leave room for
 * 1 ms of RTT or bursts from the peer.
 */
#ifndef SN_LWIPOPTS_H
#define SN_LWIPOPTS_H

/* ---- System ------------------------------------------------------------ */

/* Run to completion on one lcore from the poll loop: no threads, no
 * semaphores, no sequential/socket API of lwIP (ours is in api/). */
#define NO_SYS                          1
#define LWIP_NETCONN                    0
#define LWIP_SOCKET                     0
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_TIMERS                     1
/* htons() and friends come from the C library (DPDK headers need them). */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

/* Callbacks from the stack (recv/sent/err/accept) drive the socket layer. */
#define LWIP_CALLBACK_API               1

/* ---- Memory -------------------------------------------------------------- */

/* x86-64: keep every pbuf payload 8-byte aligned so headers can be read
 * through aligned locals and checksums run on aligned words. */
#define MEM_ALIGNMENT                   8

/* lwIP's heap backs PBUF_RAM pbufs: every TCP segment built by tcp_write()
 * (the one copy of sent data), ACKs and UDP datagrams. It is our own
 * size-class allocator over a DPDK memzone (stack/sn_mem.c), so a segment
 * can be handed to the NIC as an external mbuf buffer without a second
 * copy, and allocation is O(1) (lwIP's first-fit heap was a quarter of a
 * bulk sender's profile). 128 MiB: 1,000 connections each with 128 KiB
 * queued, or 64 bulk connections with full 1 MiB send queues. */
#define MEM_LIBC_MALLOC                 1
#define MEM_SIZE                        (128u * 1024u * 1024u)
#ifndef __ASSEMBLER__
#include <stddef.h>
void *sn_mem_malloc(size_t size);
void sn_mem_free(void *p);
void *sn_mem_calloc(size_t n, size_t size);
#endif
#define mem_clib_malloc                 sn_mem_malloc
#define mem_clib_free                   sn_mem_free
#define mem_clib_calloc                 sn_mem_calloc
/* lwIP would otherwise turn its heap statistics off with MEM_LIBC_MALLOC. */
#define MEM_STATS                       1

/* Overflow checks cost a memset per allocation: only in debug builds. */
#define MEMP_OVERFLOW_CHECK             0
#define MEM_OVERFLOW_CHECK              0

/* Received frames never use lwIP's pool: an mbuf becomes a custom pbuf
 * (stack/sn_pbuf.c). PBUF_POOL is only used by IP reassembly and by
 * ICMP errors, so a small pool is enough. */
#define PBUF_POOL_SIZE                  256
#define PBUF_POOL_BUFSIZE               2048
#define LWIP_SUPPORT_CUSTOM_PBUF        1

/* Room in front of every PBUF_RAM/TRANSPORT pbuf for the Ethernet header,
 * so a TCP segment is one contiguous buffer all the way to the NIC, and for
 * the ESP header and IV that a later issue inserts in front of the payload. */
#define PBUF_LINK_HLEN                  14
#define PBUF_LINK_ENCAPSULATION_HLEN    64

/* ---- Pools sized for thousands of connections ----------------------------- */

#define MEMP_NUM_PBUF                   4096  /* PBUF_REF/ROM headers */
#define MEMP_NUM_RAW_PCB                8
#define MEMP_NUM_UDP_PCB                512
#define MEMP_NUM_TCP_PCB                8192
#define MEMP_NUM_TCP_PCB_LISTEN         256
/* Segments queued for (re)transmission across all connections: 1,000
 * connections with 64 segments in flight each. */
#define MEMP_NUM_TCP_SEG                65535  /* memp counts are u16_t */
#define MEMP_NUM_REASSDATA              64
#define MEMP_NUM_FRAG_PBUF              256
#define MEMP_NUM_ARP_QUEUE              256
#define MEMP_NUM_ND6_QUEUE              256
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* ---- Link, IPv4 ------------------------------------------------------------ */

#define LWIP_ETHERNET                   1
#define LWIP_ARP                        1
/* lwIP indexes the ARP and ND tables with 8-bit signed integers: at most
 * 127 entries. One link with a few peers (or a gateway) needs far fewer. */
#define ARP_TABLE_SIZE                  64
/* Packets sent while ARP resolves wait instead of being dropped. */
#define ARP_QUEUEING                    1
#define ETHARP_TRUST_IP_MAC             0
#define ETHARP_SUPPORT_STATIC_ENTRIES   1

#define LWIP_IPV4                       1
#define IP_FORWARD                      0
#define IP_REASSEMBLY                   1
#define IP_FRAG                         1
/* Frames up to 9000 bytes of MTU can be reassembled from 64 KiB datagrams. */
#define IP_REASS_MAX_PBUFS              128
#define IP_DEFAULT_TTL                  64
#define LWIP_ICMP                       1
/* Raw pcbs receive ESP (50) and AH (51) after lwIP's IP checks and
 * reassembly (ipsec/ipsec_in.c). */
#define LWIP_RAW                        1
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
#define LWIP_DNS                        0

/* ---- IPv6 ------------------------------------------------------------------- */

#define LWIP_IPV6                       1
/* The stack's own link-local address plus up to four static ones. */
#define LWIP_IPV6_NUM_ADDRESSES         5
#define LWIP_IPV6_AUTOCONFIG            0
#define LWIP_IPV6_DHCP6                 0
#define LWIP_IPV6_MLD                   1
#define LWIP_IPV6_FRAG                  1
#define LWIP_IPV6_REASS                 1
/* 64-bit pointers do not fit in the fragment header: copy it aside. */
#define IPV6_FRAG_COPYHEADER            1
#define LWIP_ICMP6                      1
#define LWIP_ND6_QUEUEING               1
#define LWIP_ND6_NUM_NEIGHBORS          64
#define LWIP_ND6_NUM_DESTINATIONS       64
/* Static addresses are usable at once: the test peers are our own hosts,
 * and duplicate address detection would delay every start by a second. */
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS   0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT   0
#define LWIP_ND6_ALLOW_RA_UPDATES       0

/* ---- UDP ---------------------------------------------------------------------- */

#define LWIP_UDP                        1
#define LWIP_UDPLITE                    0

/* ---- TCP ---------------------------------------------------------------------- */

#define LWIP_TCP                        1
/* The largest segment any netif can carry (9000-byte MTU); the effective
 * MSS is lowered per connection to what the route's MTU allows. */
#undef TCP_MSS  /* <netinet/tcp.h> defines one for the socket API */
#define TCP_MSS                         8960
#define TCP_CALCULATE_EFF_SEND_MSS      1
/* Window scaling (RFC 7323): shift 5 allows windows up to 2 MiB. */
#define LWIP_WND_SCALE                  1
#define TCP_RCV_SCALE                   5
#define TCP_WND                         (1024u * 1024u)
/* Send buffer per connection: a full window in flight plus headroom. */
#define TCP_SND_BUF                     (1024u * 1024u)
/* Segments per send queue: enough for TCP_SND_BUF in 1460-byte segments,
 * each possibly a chain of two pbufs. */
#define TCP_SND_QUEUELEN                ((4u * TCP_SND_BUF) / 1460u)
#define TCP_SNDLOWAT                    (TCP_SND_BUF / 4u)
#define TCP_SNDQUEUELOWAT               (TCP_SND_QUEUELEN / 4u)
/* lwIP's sanity checks assume 16-bit send buffers and PBUF_POOL receive
 * buffers; neither holds here (window scaling; receive uses mbufs). The
 * checks that matter are repeated at the end of this file. */
#define LWIP_DISABLE_TCP_SANITY_CHECKS  1
#define TCP_QUEUE_OOSEQ                 1
#define TCP_OOSEQ_MAX_PBUFS             512
#define LWIP_TCP_SACK_OUT               1
#define LWIP_TCP_TIMESTAMPS             0
/* SO_REUSEADDR: a restarted server can bind a port with TIME_WAIT pcbs. */
#define SO_REUSE                        1
#define TCP_LISTEN_BACKLOG              1
/* One slot per pcb for the socket security policy (api/security.c): it
 * must live exactly as long as the pcb (TIME_WAIT included, so the last
 * ACK is protected too), and it must reach connections a listener spawns
 * before their SYN-ACK is sent; lwIP's ext-arg destroy and passive_open
 * callbacks give both. */
#define LWIP_TCP_PCB_NUM_EXT_ARGS       1
#define TCP_DEFAULT_LISTEN_BACKLOG      0xff
/* Build segments in pbufs sized for the MSS so that later writes fill the
 * tail of the last one instead of chaining small pbufs. */
#define TCP_OVERSIZE                    TCP_MSS
/* Compute the checksum while copying the application's data in: one pass
 * over the payload instead of two when the port has no TX offload. */
#define LWIP_CHECKSUM_ON_COPY           1
#define LWIP_TCP_KEEPALIVE              1
#define TCP_MAXRTX                      12
#define TCP_SYNMAXRTX                   6
/* Thousands of short connections per second leave TIME_WAIT pcbs behind;
 * lwIP recycles the oldest when the pool runs out. */
#define TCP_TTL                         255

/* ---- Checksums ------------------------------------------------------------------ */

/* Per-netif control: the netif turns generation or checking off where the
 * port offloads it (stack/sn_netif.c). */
#define LWIP_CHECKSUM_CTRL_PER_NETIF    1
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_UDP                1
#define CHECKSUM_GEN_TCP                1
#define CHECKSUM_GEN_ICMP               1
#define CHECKSUM_GEN_ICMP6              1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define CHECKSUM_CHECK_TCP              1
#define CHECKSUM_CHECK_ICMP             1
#define CHECKSUM_CHECK_ICMP6            1
/* DPDK's checksum is several times faster than lwIP's portable loop. */
#define LWIP_CHKSUM                     sn_chksum
#ifndef __ASSEMBLER__
#include <stdint.h>
uint16_t sn_chksum(const void *data, int len);
#endif

/* ---- Netif -------------------------------------------------------------------------- */

#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0
#define LWIP_SINGLE_NETIF               0
#define LWIP_NETIF_TX_SINGLE_PBUF       0
#define LWIP_HAVE_LOOPIF                0
/* Packets to the interface's own addresses loop back inside the stack
 * (netif_poll() from the poll loop): a program can talk to itself, and the
 * socket tests need no peer. */
#define LWIP_NETIF_LOOPBACK             1
#define LWIP_LOOPBACK_MAX_PBUFS         1024

/* ---- Statistics and debugging ----------------------------------------------------------- */

/* lwIP's own counters feed `--stats` next to ours: protocol errors,
 * checksum failures and drops per protocol. */
#define LWIP_STATS                      1
/* 32-bit counters: 16-bit ones wrap within milliseconds at line rate. */
#define LWIP_STATS_LARGE                1
#define LWIP_STATS_DISPLAY              0
#define LINK_STATS                      1
#define ETHARP_STATS                    1
#define IP_STATS                        1
#define IPFRAG_STATS                    1
#define ICMP_STATS                      1
#define UDP_STATS                       1
#define TCP_STATS                       1
#define MEMP_STATS                      1
#define IP6_STATS                       1
#define ICMP6_STATS                     1
#define IP6_FRAG_STATS                  1
#define ND6_STATS                       1
#define MLD6_STATS                      1
#define SYS_STATS                       0

/* LWIP_DEBUG stays undefined: debug output costs a branch per packet.
 * Assertions stay on and abort with file and line (arch/cc.h). */

/* ---- Hooks ---------------------------------------------------------------------------------- */

/* Initial sequence numbers from a keyed hash (RFC 6528), not lwIP's
 * predictable counter. */
#define LWIP_HOOK_FILENAME              "sn_hooks.h"
#define LWIP_HOOK_TCP_ISN(lip, lport, rip, rport) \
	sn_tcp_isn((lip), (lport), (rip), (rport))
/* A static IPv6 default router (--gw), since autoconfiguration is off. */
#define LWIP_HOOK_ND6_GET_GW(netif, dest) sn_nd6_get_gw((netif), (dest))
/* Inbound IPsec policy: cleartext packets a policy wants protected are
 * dropped before lwIP delivers them (ipsec/ sets the hook). */
#define LWIP_HOOK_IP4_INPUT(p, inp) \
	(sn_ip_input_hook ? sn_ip_input_hook((p), (inp)) : 0)
#define LWIP_HOOK_IP6_INPUT(p, inp) \
	(sn_ip_input_hook ? sn_ip_input_hook((p), (inp)) : 0)

/* ---- Consistency checks -------------------------------------------------------------------------- */

#if TCP_WND > (0xffffu << TCP_RCV_SCALE)
#error "TCP_WND does not fit the window scale: raise TCP_RCV_SCALE"
#endif
#if TCP_SND_QUEUELEN > 0xffffu
#error "TCP_SND_QUEUELEN must fit lwIP's u16_t queue length"
#endif
#if MEMP_NUM_TCP_SEG > 0xffff || MEMP_NUM_TCP_PCB > 0xffff || MEMP_NUM_PBUF > 0xffff
#error "memp pool sizes are u16_t"
#endif
#if MEMP_NUM_TCP_SEG < TCP_SND_QUEUELEN
#error "MEMP_NUM_TCP_SEG must hold at least one full send queue"
#endif
#if TCP_SND_QUEUELEN < (2 * (TCP_SND_BUF / 1460))
#error "TCP_SND_QUEUELEN must hold TCP_SND_BUF in 1460-byte segments twice"
#endif
#if TCP_SNDQUEUELOWAT >= TCP_SND_QUEUELEN
#error "TCP_SNDQUEUELOWAT must be below TCP_SND_QUEUELEN"
#endif
#if ARP_TABLE_SIZE > 127 || LWIP_ND6_NUM_NEIGHBORS > 127 || LWIP_ND6_NUM_DESTINATIONS > 127
#error "lwIP's ARP and ND tables are indexed by s8_t: at most 127 entries"
#endif
#if TCP_SNDLOWAT >= TCP_SND_BUF
#error "TCP_SNDLOWAT must be below TCP_SND_BUF"
#endif
#if PBUF_LINK_ENCAPSULATION_HLEN % MEM_ALIGNMENT
#error "PBUF_LINK_ENCAPSULATION_HLEN must keep headers aligned"
#endif

#endif /* SN_LWIPOPTS_H */
