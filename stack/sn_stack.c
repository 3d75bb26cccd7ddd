/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-process stack: lwIP over one port, its addresses, and the body of
 * the poll loop (RX burst, timers from the TSC, TX flush).
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>

#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/nd6.h"
#include "sn_stack.h"
#include "sn_netif.h"
#include "sn_mem.h"
#include "sn_sys.h"
#include "sn_counters.h"
#include "sn_hooks.h"

/* Default TIME_WAIT cap: lwIP keeps TIME_WAIT pcbs on a list it scans
 * linearly for every SYN and every ephemeral port choice; at 2,048 entries
 * that scan was over half of a tcp-crr server's profile. 128 keeps the
 * scan short; the connections ended early are counted (tcp_tw_recycled).
 * A hashed TIME_WAIT table would lift this limit. */
#define SN_TW_MAX_DEFAULT 128

sn_ip_input_hook_fn sn_ip_input_hook;
sn_rx_done_hook_fn sn_rx_done_hook;
static int running;
static unsigned tw_max;
static ip6_addr_t gw6;
static int has_gw6;
static uint64_t next_timer_tsc, timer_period_tsc;
static uint64_t next_tw_tsc, tw_period_tsc;

const ip6_addr_t *sn_nd6_get_gw(struct netif *netif, const ip6_addr_t *dest)
{
	(void)netif;
	(void)dest;
	return has_gw6 ? &gw6 : NULL;
}

static int add_ip6(const ip6_addr_t *a)
{
	s8_t idx;

	if (netif_add_ip6_address(&sn_netif, a, &idx) != ERR_OK)
		return -ENOSPC;
	netif_ip6_addr_set_state(&sn_netif, idx, IP6_ADDR_PREFERRED);
	return 0;
}

static int add_addresses(const struct sn_stack_conf *c)
{
	int rc;

	/* The link-local address from the MAC (RFC 4862), needed for
	 * neighbour discovery, then the static ones. */
	netif_create_ip6_linklocal_address(&sn_netif, 1);
	netif_ip6_addr_set_state(&sn_netif, 0, IP6_ADDR_PREFERRED);
	for (int i = 0; i < c->nip6; i++) {
		rc = add_ip6(&c->ip6[i]);
		if (rc)
			return rc;
	}
	has_gw6 = c->has_gw6;
	ip6_addr_copy(gw6, c->gw6);
	return 0;
}

int sn_stack_init(struct sn_netdev *dev, const struct sn_stack_conf *conf)
{
	uint64_t hz = rte_get_tsc_hz();
	int rc;

	if (running)
		return -EALREADY;
	rc = sn_heap_init();
	if (rc)
		return rc;
	lwip_init();
	rc = sn_netif_init(dev, &conf->ip4, &conf->mask4, &conf->gw4);
	if (rc) {
		sn_heap_fini();
		return rc;
	}
	rc = add_addresses(conf);
	if (rc) {
		sn_netif_fini();
		sn_heap_fini();
		return rc;
	}
	netif_set_link_up(&sn_netif);
	netif_set_up(&sn_netif);
	tw_max = conf->tw_max ? conf->tw_max : SN_TW_MAX_DEFAULT;
	/* lwIP's finest timer is 100 ms (ARP/ND) and 250 ms (TCP); checking
	 * every millisecond keeps them on time at no measurable cost. */
	timer_period_tsc = hz ? hz / 1000 : 1;
	tw_period_tsc = hz ? hz / 100 : 1;
	next_timer_tsc = next_tw_tsc = 0;
	running = 1;
	return 0;
}

/* End the oldest TIME_WAIT connections beyond tw_max. New pcbs are pushed
 * at the head of tcp_tw_pcbs, so the oldest are at its tail. */
static void tw_trim(void)
{
	struct tcp_pcb *pcb = tcp_tw_pcbs, *next;
	unsigned n = 0;

	while (pcb && ++n < tw_max)
		pcb = pcb->next;
	if (!pcb)
		return;
	next = pcb->next;
	pcb->next = NULL;
	for (pcb = next; pcb; pcb = next) {
		next = pcb->next;
		/* Already unlinked from the list: free it directly. */
		pcb->next = NULL;
		tcp_free(pcb);
		sn_count(SN_C_TCP_TW_RECYCLED, 1);
	}
}

static void run_timers(void)
{
	uint64_t now = rte_rdtsc();

	if (now >= next_timer_tsc) {
		sys_check_timeouts();
		next_timer_tsc = now + timer_period_tsc;
	}
	if (now >= next_tw_tsc) {
		tw_trim();
		next_tw_tsc = now + tw_period_tsc;
	}
}

int sn_stack_poll(void)
{
	int n;

	sn_netif_flush();
	n = sn_netif_rx();
	netif_poll(&sn_netif);
	if (sn_rx_done_hook)
		sn_rx_done_hook();
	run_timers();
	sn_netif_flush();
	return n;
}

void sn_stack_fini(void)
{
	if (!running)
		return;
	/* Connections still in TIME_WAIT hold no application state; closed
	 * ones still finishing their FIN exchange after the linger have no
	 * owner either. Both go silently (what is attached to a pcb, such as
	 * its socket security policy, goes with it), so that nothing of this
	 * stack outlives it into the next one. */
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
	while (tcp_active_pcbs)
		tcp_abandon(tcp_active_pcbs, 0);
	sn_netif_fini();
	sn_heap_fini();
	running = 0;
}

int sn_stack_running(void)
{
	return running;
}
