/* Each fuzz input from the same state (see fuzz_reset.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "lwip/ip4_frag.h"
#include "lwip/ip6_frag.h"
#include "lwip/memp.h"
#include "lwip/nd6.h"
#include "lwip/priv/nd6_priv.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "netif/etharp.h"
#include "sn_netif.h"
#include "harness.h"
#include "fuzz_reset.h"

static unsigned baseline;

/* The neighbour state inputs may change (neighbour and destination
 * caches with their path MTUs, prefixes, routers), as fz_init() found it. */
static struct {
	struct nd6_neighbor_cache_entry nc[LWIP_ND6_NUM_NEIGHBORS];
	struct nd6_destination_cache_entry dc[LWIP_ND6_NUM_DESTINATIONS];
	struct nd6_prefix_list_entry pl[LWIP_ND6_NUM_PREFIXES];
	struct nd6_router_list_entry rl[LWIP_ND6_NUM_ROUTERS];
	u32_t reachable, retrans;
} nd6_start;

static void die(const char *who, const char *what)
{
	fprintf(stderr, "%s: %s\n", who, what);
	abort();
}

/* The peer's ARP entry as a static one: it never ages, and an input
 * cannot move it (etharp.c leaves static entries alone). */
static void arp_reset(void)
{
	ip4_addr_t ip;
	struct eth_addr mac;

	etharp_cleanup_netif(&sn_netif);
	ip4_addr_set_u32(&ip, h_ip4(H_IP4_PEER));
	memcpy(mac.addr, h_mac_peer, 6);
	if (etharp_add_static_entry(&ip, &mac) != ERR_OK)
		die("fuzz", "static ARP entry for the peer");
}

static void nd6_reset(void)
{
	nd6_cleanup_netif(&sn_netif);   /* frees what waits on an entry */
	memcpy(neighbor_cache, nd6_start.nc, sizeof(nd6_start.nc));
	memcpy(destination_cache, nd6_start.dc, sizeof(nd6_start.dc));
	memcpy(prefix_list, nd6_start.pl, sizeof(nd6_start.pl));
	memcpy(default_router_list, nd6_start.rl, sizeof(nd6_start.rl));
	reachable_time = nd6_start.reachable;
	retrans_timer = nd6_start.retrans;
}

void fz_init(void)
{
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
	h_poll(2);
	h_tx_clear();
	baseline = h_in_use();
}

static unsigned tx_seen;

void fz_trace(const char *who, size_t len, int got)
{
	static int on = -1;

	if (on < 0)
		on = getenv("FUZZ_TRACE") != NULL;
	if (on)
		fprintf(stderr, "%s: packet of %zu bytes: %d delivered, %u frames sent\n",
			who, len, got, h_tx_count() - tx_seen);
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
 * second; the datagrams time out (ICMP time exceeded included). */
static void reass_reset(void)
{
	for (int i = 0; i <= IPV6_REASS_MAXAGE + IP_REASS_MAXAGE &&
	     (lwip_stats.memp[MEMP_REASSDATA]->used ||
	      lwip_stats.memp[MEMP_IP6_REASSDATA]->used); i++) {
		ip_reass_tmr();
		ip6_reass_tmr();
	}
	if (lwip_stats.memp[MEMP_REASSDATA]->used || lwip_stats.memp[MEMP_IP6_REASSDATA]->used)
		die("fuzz", "IP reassembly did not time out");
}

void fz_end(const char *who)
{
	tcp_reset();
	reass_reset();
	arp_reset();
	nd6_reset();
	h_poll(1);              /* what the resets sent goes out */
	h_tx_clear();
	if (h_in_use() != baseline) {
		fprintf(stderr, "%s: %u mbufs kept after the input (baseline %u)\n",
			who, h_in_use(), baseline);
		abort();
	}
}
