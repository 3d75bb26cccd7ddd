/* SPDX-License-Identifier: BSD-3-Clause */
/* Each fuzz input from the same state (see fuzz_reset.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/memp.h"
#include "lwip/mld6.h"
#include "lwip/nd6.h"
#include "lwip/priv/nd6_priv.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "netif/etharp.h"
#include "sn_netif.h"
#include "harness.h"
#include "fuzz_reset.h"

static unsigned baseline;
static void (*target_reset)(void);

/* The neighbour state inputs may change (neighbour and destination
 * caches with their path MTUs, prefixes, routers), as fz_init() found it. */
static struct {
	struct nd6_neighbor_cache_entry nc[LWIP_ND6_NUM_NEIGHBORS];
	struct nd6_destination_cache_entry dc[LWIP_ND6_NUM_DESTINATIONS];
	struct nd6_prefix_list_entry pl[LWIP_ND6_NUM_PREFIXES];
	struct nd6_router_list_entry rl[LWIP_ND6_NUM_ROUTERS];
	u32_t reachable, retrans;
} nd6_start;

/* What an MLD query moves (a report's timer: timers stand still) and the
 * addresses' states, as fz_init() found them. */
#define FZ_MAX_GROUPS 16
static struct {
	struct mld_group *g[FZ_MAX_GROUPS], copy[FZ_MAX_GROUPS];
	int n;
	u8_t addr_state[LWIP_IPV6_NUM_ADDRESSES];
} if_start;

static void die(const char *who, const char *what)
{
	fprintf(stderr, "%s: %s\n", who, what);
	abort();
}

/* The peer's ARP entry as a static one: it never ages, and an input
 * cannot move it (etharp.c leaves static entries alone). The table changes
 * only when an ARP packet comes in or a request goes out for an address
 * not in it (the clock stands still): otherwise it is left as it is. */
static u32_t arp_rx, arp_tx;

static void arp_reset(void)
{
	ip4_addr_t ip;
	struct eth_addr mac;

	if (lwip_stats.etharp.recv == arp_rx && lwip_stats.etharp.xmit == arp_tx)
		return;
	etharp_cleanup_netif(&sn_netif);
	ip4_addr_set_u32(&ip, h_ip4(H_IP4_PEER));
	memcpy(mac.addr, h_mac_peer, 6);
	if (etharp_add_static_entry(&ip, &mac) != ERR_OK)
		die("fuzz", "static ARP entry for the peer");
	arp_rx = lwip_stats.etharp.recv;
	arp_tx = lwip_stats.etharp.xmit;
}

static bool nd6_changed(void)
{
	return memcmp(neighbor_cache, nd6_start.nc, sizeof(nd6_start.nc)) ||
	       memcmp(destination_cache, nd6_start.dc, sizeof(nd6_start.dc)) ||
	       memcmp(prefix_list, nd6_start.pl, sizeof(nd6_start.pl)) ||
	       memcmp(default_router_list, nd6_start.rl, sizeof(nd6_start.rl)) ||
	       reachable_time != nd6_start.reachable || retrans_timer != nd6_start.retrans;
}

static void nd6_reset(void)
{
	if (!nd6_changed())
		return;
	nd6_cleanup_netif(&sn_netif);   /* frees what waits on an entry */
	memcpy(neighbor_cache, nd6_start.nc, sizeof(nd6_start.nc));
	memcpy(destination_cache, nd6_start.dc, sizeof(nd6_start.dc));
	memcpy(prefix_list, nd6_start.pl, sizeof(nd6_start.pl));
	memcpy(default_router_list, nd6_start.rl, sizeof(nd6_start.rl));
	reachable_time = nd6_start.reachable;
	retrans_timer = nd6_start.retrans;
}

static void if_init(void)
{
	for (struct mld_group *g = netif_mld6_data(&sn_netif); g; g = g->next) {
		if (if_start.n == FZ_MAX_GROUPS)
			die("fuzz", "more MLD groups than FZ_MAX_GROUPS");
		if_start.g[if_start.n] = g;
		if_start.copy[if_start.n++] = *g;
	}
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		if_start.addr_state[i] = netif_ip6_addr_state(&sn_netif, i);
}

static void if_reset(void)
{
	int n = 0;

	for (struct mld_group *g = netif_mld6_data(&sn_netif); g; g = g->next, n++)
		if (n == if_start.n || g != if_start.g[n])
			die("fuzz", "the MLD groups changed during an input");
	if (n != if_start.n)
		die("fuzz", "the MLD groups changed during an input");
	for (int i = 0; i < n; i++) {
		if_start.g[i]->last_reporter_flag = if_start.copy[i].last_reporter_flag;
		if_start.g[i]->group_state = if_start.copy[i].group_state;
		if_start.g[i]->timer = if_start.copy[i].timer;
	}
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		if (netif_ip6_addr_state(&sn_netif, i) != if_start.addr_state[i])
			netif_ip6_addr_set_state(&sn_netif, i, if_start.addr_state[i]);
}

void fz_init(void (*reset)(void))
{
	target_reset = reset;
	arp_rx = ~lwip_stats.etharp.recv;       /* reset now */
	arp_reset();
	for (int i = 0; i < LWIP_ND6_NUM_NEIGHBORS; i++)
		if (neighbor_cache[i].q)
			die("fuzz", "a packet waits for neighbour discovery at start");
	memcpy(nd6_start.nc, neighbor_cache, sizeof(nd6_start.nc));
	memcpy(nd6_start.dc, destination_cache, sizeof(nd6_start.dc));
	memcpy(nd6_start.pl, prefix_list, sizeof(nd6_start.pl));
	memcpy(nd6_start.rl, default_router_list, sizeof(nd6_start.rl));
	nd6_start.reachable = reachable_time;
	nd6_start.retrans = retrans_timer;
	if_init();
	h_poll(2);
	h_tx_clear();
	baseline = h_in_use();
}

static unsigned tx_seen;
static int trace = -1, keep_state = -1;

/* What was sent, as "IP protocol/length" per frame (ARP: "arp/length"),
 * by ethertype: taken out of the capture, which is cleared anyway. */
static void trace_sent(void)
{
	static const uint16_t types[] = { H_ETH_ARP, H_ETH_IP4, H_ETH_IP6 };
	uint8_t f[H_FRAME_MAX];
	size_t n;

	for (unsigned t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		while ((n = h_tx_find(types[t], -1, f, sizeof(f)))) {
			if (types[t] == H_ETH_ARP)
				fprintf(stderr, " arp/%zu", n);
			else
				fprintf(stderr, " %u/%zu", n > H_ETH_HLEN + 9 ?
					f[H_ETH_HLEN + (types[t] == H_ETH_IP4 ? 9 : 6)] : 0, n);
		}
}

void fz_trace(const char *who, size_t len, int got)
{
	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;
	if (trace) {
		fprintf(stderr, "%s: packet of %zu bytes: %d delivered, %u frames sent:",
			who, len, got, h_tx_count() - tx_seen);
		trace_sent();
		fputc('\n', stderr);
	}
	tx_seen = h_tx_count();
}

void fz_begin(void)
{
	tx_seen = h_tx_count();
	sn_sys_harness_reset(FZ_NOW_US);
}

int fz_drain(const int *socks, int n)
{
	char buf[2048];
	int fd, got = 0;

	for (int i = 0; i < n; i++) {
		/* A pending socket error (an ICMP error for an earlier reply)
		 * comes out first: read on until EAGAIN, or the same error
		 * twice (a listener's ENOTCONN). */
		for (int k = 0, last = 0; k < 64; k++) {
			if (sn_recv(socks[i], buf, sizeof(buf), MSG_DONTWAIT) >= 0)
				got++;
			else if (errno == EAGAIN || errno == last)
				break;
			else
				last = errno;
		}
		while ((fd = sn_accept(socks[i], NULL, NULL)) >= 0) {
			sn_close(fd);
			got++;
		}
	}
	return got;
}

/* Connections the input opened (half-open ones, closed sockets still in
 * their FIN exchange, TIME_WAIT): gone without a word, as at stack stop.
 * The listeners stay. */
static void tcp_reset(void)
{
	while (tcp_active_pcbs)
		tcp_abandon(tcp_active_pcbs, 0);
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
}

/* Fragments waiting for the rest: each timer tick ages them by one
 * second; the datagrams time out (ICMP time exceeded included). True when
 * there were some. */
static bool reass_reset(void)
{
	if (!lwip_stats.memp[MEMP_REASSDATA]->used && !lwip_stats.memp[MEMP_IP6_REASSDATA]->used)
		return false;
	for (int i = 0; i <= IPV6_REASS_MAXAGE + IP_REASS_MAXAGE &&
	     (lwip_stats.memp[MEMP_REASSDATA]->used ||
	      lwip_stats.memp[MEMP_IP6_REASSDATA]->used); i++) {
		ip_reass_tmr();
		ip6_reass_tmr();
	}
	if (lwip_stats.memp[MEMP_REASSDATA]->used || lwip_stats.memp[MEMP_IP6_REASSDATA]->used)
		die("fuzz", "IP reassembly did not time out");
	return true;
}

void fz_end(const char *who)
{
	if (keep_state < 0)
		keep_state = getenv("FUZZ_KEEP_STATE") != NULL;
	if (keep_state) {       /* as the targets ran before: same_state.sh's own test */
		h_tx_clear();
		return;
	}
	if (target_reset)
		target_reset();
	tcp_reset();
	if (reass_reset())
		h_poll(1);      /* the time-exceeded errors go out */
	arp_reset();
	nd6_reset();
	if_reset();
	h_tx_clear();
	if (h_in_use() != baseline) {
		fprintf(stderr, "%s: %u mbufs kept after the input (baseline %u)\n",
			who, h_in_use(), baseline);
		abort();
	}
}
