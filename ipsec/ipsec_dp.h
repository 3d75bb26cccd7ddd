/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPsec datapath inside the stack (internal): the SAD and SPD of the
 * process, the lwIP attachment points, and the packet helpers shared by
 * ipsec_in.c and ipsec_out.c.
 *
 *   inbound:  port -> lwIP IP input -> raw pcb (protocol 50/51) or UDP 4500
 *             -> ipsec_in.c: SA, replay, ICV, decrypt, selectors
 *             -> ip_input(inner), its TCP/UDP checksums marked verified
 *             every cleartext packet: sn_ip_input_hook -> inbound SPD check
 *             (TCP/UDP fragments: after reassembly, raw pcbs 6 and 17)
 *   outbound: lwIP IP output -> the netif's output hook (sn_netif.h) -> SPD
 *             -> ipsec_out.c: ESP/AH, tunnel or transport, UDP encap,
 *                fragmentation -> sn_netif_link_output4/6
 */
#ifndef SN_IPSEC_DP_H
#define SN_IPSEC_DP_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "lwip/raw.h"
#include "lwip/udp.h"
#include "crypto.h"
#include "sad.h"
#include "spd.h"
#include "sn_ipsec.h"

#define SN_IPSEC_MAX_SAS      4096
#define SN_IPSEC_MAX_POLICIES 4096
/* ESP inside ESP at most this deep (tunnel in tunnel). */
#define SN_IPSEC_MAX_DEPTH    2
/* Decapsulated packets of one received frame (IP reassembly can complete
 * several datagrams with one frame only in theory; one is the norm). */
#define SN_IPSEC_REINJECT_MAX 64
/* A secured connect waiting this long for an SA fails (ETIMEDOUT); the
 * public SN_SECURITY_NEGOTIATE_TIMEOUT_S. */
#define SN_SOCKPOL_TIMEOUT_S  10
/* RFC 3948 4: a NAT keep-alive every 20 seconds by default. */
#define SN_NATT_KEEPALIVE_S   20

struct sn_ipsec {
	bool up;
	struct sn_sad *sad;
	struct sn_spd *spd;
	enum sn_crypto_backend backend;
	struct raw_pcb *esp4, *esp6, *ah4, *ah6;
	struct udp_pcb *natt4, *natt6;
	/* TCP and UDP after IP reassembly (both families): the inbound SPD
	 * check of datagrams that arrived in fragments (ipsec_in.c). */
	struct raw_pcb *reass_tcp, *reass_udp;
	/* The packet in lwIP's IP input is a TCP/UDP fragment whose policy
	 * check waits for the reassembled datagram. */
	bool clear_check_deferred;
	/* Set while our own output (encapsulated packets, fragments) goes
	 * through netif->output: no second policy lookup. */
	int out_bypass;
	/* Fragmentation is deferred to us (sn_netif_defer_frag) for the
	 * datagram being sent. */
	bool frag_deferred;
	/* Decapsulated packets waiting to re-enter lwIP (ipsec_in.c). */
	struct sn_reinject {
		struct pbuf *p;
		struct netif *inp;
		struct sn_sa_ref sa;
		uint8_t depth;
	} rq[SN_IPSEC_REINJECT_MAX];
	unsigned rq_head, rq_count;
	uint8_t cur_depth;
};

extern struct sn_ipsec sn_ipsec;

/* Counters of the datapath that belong to no SA or policy. */
static inline void sn_ipsec_count(enum sn_ic_id id)
{
	if (sn_ipsec.spd)
		sn_spd_counters(sn_ipsec.spd)[id]++;
}

static inline bool sn_ipsec_have_acquire(void)
{
	return sn_spd_has_acquire(sn_ipsec.spd);
}

/* Seconds on the stack's clock (lifetimes). */
uint64_t sn_ipsec_now_s(void);

/* ---- flow.c: IP packet helpers shared by ipsec_in.c and ipsec_out.c ------ */

/* Total length field and header checksum of an IPv4 header. */
void sn_ip4_set_len(uint8_t *ip, size_t hlen, size_t tot);
/* Payload length field of an IPv6 header for a packet of tot bytes. */
void sn_ip6_set_len(uint8_t *ip, size_t tot);

struct sn_pkt_info {
	struct sn_flow flow;
	uint16_t ip_hlen;       /* IP header chain: IPv4 header, or IPv6 + ext */
	uint16_t ip_len;        /* whole packet per its header */
	uint16_t nh_off;        /* offset of the byte naming the upper protocol */
	bool fragment;          /* not the whole datagram: no ports */
	uint8_t tos;            /* IPv4 TOS / IPv6 traffic class */
	bool icmp6;             /* an ICMPv6 message, its type read: */
	uint8_t icmp6_type;
};

/* Parse the IP packet at the start of p (checking every length before
 * reading). 0 or -EINVAL. */
int sn_pkt_parse(const struct pbuf *p, struct sn_pkt_info *pi);

/* IPv6 neighbour discovery or MLD (RFC 4861 types 133-137; RFC 2710,
 * 3810: 130-132, 143), which goes in the clear both ways. */
bool sn_pkt_is_nd(const struct sn_pkt_info *pi);

/* The flow's source (src true) or destination address. */
void sn_flow_ip(const struct sn_flow *f, bool src, struct sn_ip *ip);

/* Does flow match selector s (addresses by prefix, protocol, ports)? */
bool sn_sel_match(const struct sn_selector *s, const struct sn_flow *flow);

/* ---- ipsec_in.c / ipsec_out.c -------------------------------------------- */

int sn_ipsec_in_attach(void);
/* Feed decapsulated packets to lwIP (stack's sn_rx_done_hook). */
void sn_ipsec_rx_done(void);
void sn_ipsec_in_detach(void);
int sn_ip_input_policy(struct pbuf *p, struct netif *inp);

err_t sn_ipsec_output4(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst);
err_t sn_ipsec_output6(struct netif *nif, struct pbuf *p, const ip6_addr_t *dst);
/* Send packets a policy held while its SA was missing. */
void sn_ipsec_flush_held(struct sn_policy *pol);

/* timers.c: hard expiry, NAT keep-alives, socket policy timeouts, once a
 * second from an lwIP timeout armed at start and cancelled at stop;
 * sn_ipsec_timers does one round at now_s (tests call it directly). */
void sn_ipsec_timers(uint64_t now_s);
void sn_ipsec_timers_start(void);
void sn_ipsec_timers_stop(void);

/* The SA the configured (not a socket's own) outbound policy uses for a
 * socket's packets to peer, or NULL: what protects a socket that skipped
 * filter instantiation. */
struct sn_sock_flow;
struct sn_sa *sn_ipsec_global_out_sa(const struct sn_sock_flow *sf, const struct sn_ip *peer,
				     uint16_t port);

/* Bytes ESP/AH add to packets of flow (for the TCP MSS); 0 if none. */
unsigned sn_ipsec_overhead_for(const struct sn_flow *flow);

#endif
