/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stack control: start (EAL, port, lwIP), the poll loop, stop, counters.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "lwip/stats.h"
#include "lwip/memp.h"
#include "lwip/priv/memp_priv.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "sealnet/stack.h"
#include "sn_capture.h"
#include "sn_dev.h"
#include "sn_netdev.h"
#include "sn_stack.h"
#include "sn_sys.h"
#include "sn_counters.h"
#include "sn_api.h"
#include "sn_ctl.h"
#include "sn_ipsec_api.h"

/* After the last close, keep polling this long so FINs and the data still
 * queued reach the peer before the port goes away. */
#define SN_LINGER_MS 300

static struct sn_port port;
static struct sn_netdev netdev;
static struct sn_config config;
static volatile sig_atomic_t stop_flag;
static int started;      /* 0 none, 1 EAL up, 2 port up, 3 stack up, 4 IPsec up */
static uint64_t next_ctl_tsc, ctl_period_tsc;

static const struct sn_netdev_ops port_ops = {
	.rx_burst = sn_port_rx,
	.tx_burst = sn_port_tx,
	.link_up = sn_port_link_up,
};

static void ip4_from_prefix(uint8_t prefix, ip4_addr_t *mask)
{
	uint32_t m = prefix ? 0xffffffffu << (32 - prefix) : 0;

	ip4_addr_set_u32(mask, lwip_htonl(m));
}

static void stack_conf(const struct sn_config *c, struct sn_stack_conf *sc)
{
	memset(sc, 0, sizeof(*sc));
	for (int i = 0; i < c->naddrs; i++) {
		const struct sn_ifaddr *a = &c->addrs[i];

		if (a->family == AF_INET) {
			ip4_addr_set_u32(&sc->ip4, a->addr.v4.s_addr);
			ip4_from_prefix(a->prefix, &sc->mask4);
		} else if (sc->nip6 < SN_STACK_MAX_IP6) {
			memcpy(sc->ip6[sc->nip6].addr, &a->addr.v6, 16);
			ip6_addr_clear_zone(&sc->ip6[sc->nip6]);
			sc->nip6++;
		}
	}
	if (c->gw4.family == AF_INET)
		ip4_addr_set_u32(&sc->gw4, c->gw4.addr.v4.s_addr);
	if (c->gw6.family == AF_INET6) {
		memcpy(sc->gw6.addr, &c->gw6.addr.v6, 16);
		ip6_addr_clear_zone(&sc->gw6);
		sc->has_gw6 = 1;
	}
}

static int start_fail(int err, const char *what)
{
	fprintf(stderr, "%s: %s\n", config.prog, what);
	sn_cleanup();
	errno = err;
	return -1;
}

static int start_ipsec(const struct sn_config *cfg)
{
	char err[SN_IPSEC_ERR_MAX];
	int rc = sn_ipsec_start();

	if (rc)
		return rc;
	started = 4;
	sn_ipsec_api_register();
	if (!cfg->ipsec_conf[0])
		return 0;
	rc = sn_ipsec_load(cfg->ipsec_conf, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s: --ipsec-conf %s: %s\n", cfg->prog, cfg->ipsec_conf, err);
	return rc;
}

/* IKE after the manual SAs: a configured child may trap traffic that a
 * manual policy already covers, and the manual one wins. */
static int start_keys(const struct sn_config *cfg)
{
	int rc = start_ipsec(cfg);

	return rc ? rc : sn_ike_start(cfg);
}

/* Frames up to the MTU with an Ethernet header and one VLAN tag. */
#define SN_CAPTURE_FRAME_EXTRA 18

int sn_stack_capture_start(const char *path, uint32_t max_mb, char *err, size_t errlen)
{
	struct sn_capture_conf cc = { path, (uint64_t)max_mb << 20, port.port_id,
				      (uint32_t)port.mtu + SN_CAPTURE_FRAME_EXTRA };

	if (started < 2) {
		snprintf(err, errlen, "the port is not up");
		return -1;
	}
	return sn_capture_start(&cc, err, errlen);
}

const struct sn_config *sn_config_current(void)
{
	return started ? &config : NULL;
}

int sn_start(const struct sn_config *cfg)
{
	struct sn_dev_spec spec;
	struct sn_stack_conf sc;
	struct sn_eal_conf ec;
	char err[512];
	int rc;

	if (started) {
		errno = EALREADY;
		return -1;
	}
	config = *cfg;
	if (sn_dev_parse(cfg->dev, &spec, err, sizeof(err))) {
		fprintf(stderr, "%s: --dev: %s\n", cfg->prog, err);
		errno = EINVAL;
		return -1;
	}
	ec = (struct sn_eal_conf){ &spec, cfg->lcore, cfg->prog, cfg->mtu };
	if (sn_eal_start(&ec, err, sizeof(err)))
		return start_fail(ENODEV, err);
	started = 1;
	sn_sys_init(rte_get_tsc_hz());
	if (sn_port_open(&port, cfg->mtu, err, sizeof(err)))
		return start_fail(ENODEV, err);
	started = 2;
	if (cfg->pcap[0] && sn_stack_capture_start(cfg->pcap, cfg->pcap_max_mb, err, sizeof(err))) {
		char why[sizeof(err) + 16];

		snprintf(why, sizeof(why), "--pcap: %s", err);
		return start_fail(EINVAL, why);
	}
	netdev = (struct sn_netdev){ &port_ops, &port, port.pool, port.ext_pool,
				     port.mtu, { 0 }, port.caps };
	memcpy(netdev.mac, port.mac, sizeof(netdev.mac));
	stack_conf(cfg, &sc);
	rc = sn_stack_init(&netdev, &sc);
	if (rc)
		return start_fail(-rc, "stack start failed: bad address set-up");
	started = 3;
	/* A TAP link is up at once; memif and vhost wait for their peer,
	 * which must not hold a server's start. */
	rc = start_keys(cfg);
	if (rc)
		return start_fail(-rc, "IPsec start failed");
	sn_port_wait_link(&port, 200);
	sn_api_init();
	rc = sn_ctl_open(cfg->prog);
	if (rc)
		fprintf(stderr, "%s: no control socket for snctl: %s (snctl cannot reach this program; "
			"SN_RUNDIR names a writable folder for it)\n", cfg->prog, strerror(-rc));
	/* snctl is served between poll iterations, every 5 ms. */
	ctl_period_tsc = rte_get_tsc_hz() / 200;
	next_ctl_tsc = 0;
	return 0;
}

int sn_poll(void)
{
	uint64_t now;

	if (started < 4)
		return 0;
	now = rte_rdtsc();
	if (now >= next_ctl_tsc) {
		next_ctl_tsc = now + ctl_period_tsc;
		sn_ctl_poll();
		sn_capture_poll();
	}
	sn_ike_poll();
	return sn_stack_poll();
}

void sn_stop(void)
{
	stop_flag = 1;
}

bool sn_stopping(void)
{
	return stop_flag != 0;
}

static void on_signal(int sig)
{
	(void)sig;
	sn_stop();
}

void sn_handle_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int sn_run(int (*cb)(void *arg), void *arg)
{
	int rc;

	while (!stop_flag) {
		sn_poll();
		if (cb && (rc = cb(arg)) != 0)
			return rc;
	}
	return 0;
}

uint64_t sn_now_us(void)
{
	return sn_sys_now_us();
}

/* Let queued data and FINs of closed sockets go out, bounded in time. */
static void linger(void)
{
	uint64_t end = sn_sys_now_us() + SN_LINGER_MS * 1000u;

	while (sn_sys_now_us() < end) {
		sn_stack_poll();
		if (!sn_api_busy())
			break;
	}
}

void sn_cleanup(void)
{
	sn_ctl_close();
	if (started >= 3) {
		sn_api_close_all();
		linger();
		sn_api_fini();
		sn_capture_stop();
		if (config.stats)
			sn_stats_print(stdout);
		sn_ike_stop();
		sn_port_stop(&port);
		sn_ipsec_stop();
		sn_stack_fini();
	}
	if (started >= 2) {
		sn_capture_stop();
		sn_port_close(&port);
	}
	if (started >= 1)
		sn_eal_stop();
	started = 0;
	fflush(stdout);
}

/* ---- Counters ------------------------------------------------------------ */

typedef void (*stat_fn)(void *ctx, const char *name, uint64_t value);

static void proto_stats(stat_fn fn, void *ctx, const char *p,
			const struct stats_proto *s)
{
	char n[64];
#define SN_P(field) do { snprintf(n, sizeof(n), "%s.%s", p, #field); \
		fn(ctx, n, s->field); } while (0)
	SN_P(xmit); SN_P(recv); SN_P(fw); SN_P(drop); SN_P(chkerr);
	SN_P(lenerr); SN_P(memerr); SN_P(rterr); SN_P(proterr);
	SN_P(opterr); SN_P(err); SN_P(cachehit);
#undef SN_P
}

static void port_stats(stat_fn fn, void *ctx)
{
	struct sn_port_stats st;

	if (started < 2 || sn_port_stats(&port, &st))
		return;
	fn(ctx, "port.ipackets", st.ipackets);
	fn(ctx, "port.opackets", st.opackets);
	fn(ctx, "port.ibytes", st.ibytes);
	fn(ctx, "port.obytes", st.obytes);
	fn(ctx, "port.imissed", st.imissed);
	fn(ctx, "port.ierrors", st.ierrors);
	fn(ctx, "port.oerrors", st.oerrors);
	fn(ctx, "port.rx_nombuf", st.rx_nombuf);
	fn(ctx, "port.memif_fault", st.memif_fault);
}

static void capture_stats(stat_fn fn, void *ctx)
{
	static const char *const ifs[SN_CAPTURE_IF_MAX] = { "wire", "inner" };
	struct sn_capture_stats st;
	char n[64];

	sn_capture_get_stats(&st);
	for (int i = 0; i < SN_CAPTURE_IF_MAX; i++) {
		snprintf(n, sizeof(n), "capture.%s_seen", ifs[i]);
		fn(ctx, n, st.ifs[i].seen);
		snprintf(n, sizeof(n), "capture.%s_written", ifs[i]);
		fn(ctx, n, st.ifs[i].written);
		snprintf(n, sizeof(n), "capture.%s_dropped", ifs[i]);
		fn(ctx, n, st.ifs[i].dropped);
	}
	fn(ctx, "capture.bytes", st.bytes);
	fn(ctx, "capture.full", st.full);
}

static const char *const memp_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

static void walk_stats(stat_fn fn, void *ctx)
{
	char n[64];

	port_stats(fn, ctx);
	capture_stats(fn, ctx);
	for (int i = 0; i < SN_C_MAX; i++) {
		snprintf(n, sizeof(n), "stack.%s", sn_counter_descs[i].name);
		fn(ctx, n, sn_counters[i]);
	}
	proto_stats(fn, ctx, "link", &lwip_stats.link);
	proto_stats(fn, ctx, "etharp", &lwip_stats.etharp);
	proto_stats(fn, ctx, "ip", &lwip_stats.ip);
	proto_stats(fn, ctx, "ipfrag", &lwip_stats.ip_frag);
	proto_stats(fn, ctx, "icmp", &lwip_stats.icmp);
	proto_stats(fn, ctx, "udp", &lwip_stats.udp);
	proto_stats(fn, ctx, "tcp", &lwip_stats.tcp);
	proto_stats(fn, ctx, "ip6", &lwip_stats.ip6);
	proto_stats(fn, ctx, "ip6frag", &lwip_stats.ip6_frag);
	proto_stats(fn, ctx, "icmp6", &lwip_stats.icmp6);
	proto_stats(fn, ctx, "nd6", &lwip_stats.nd6);
	fn(ctx, "mem.used", lwip_stats.mem.used);
	fn(ctx, "mem.max", lwip_stats.mem.max);
	fn(ctx, "mem.err", lwip_stats.mem.err);
	for (int i = 0; i < MEMP_MAX; i++) {
		const struct stats_mem *m = memp_pools[i]->stats;

		snprintf(n, sizeof(n), "memp.%s.used", memp_names[i]);
		fn(ctx, n, m->used);
		snprintf(n, sizeof(n), "memp.%s.max", memp_names[i]);
		fn(ctx, n, m->max);
		snprintf(n, sizeof(n), "memp.%s.err", memp_names[i]);
		fn(ctx, n, m->err);
	}
	sn_api_stats(fn, ctx);
	sn_ipsec_stats(fn, ctx);
	sn_ike_stats(fn, ctx);
}

static void print_one(void *ctx, const char *name, uint64_t v)
{
	fprintf(ctx, "%-28s %llu\n", name, (unsigned long long)v);
}

void sn_stats_print(FILE *out)
{
	fprintf(out, "--- %s counters ---\n", config.prog ? config.prog : "sealnet");
	walk_stats(print_one, out);
}

struct lookup {
	const char *name;
	uint64_t value;
	int found;
};

static void find_one(void *ctx, const char *name, uint64_t v)
{
	struct lookup *l = ctx;

	if (!strcmp(l->name, name)) {
		l->value = v;
		l->found = 1;
	}
}

int sn_stats_get(const char *name, uint64_t *value)
{
	struct lookup l = { name, 0, 0 };

	walk_stats(find_one, &l);
	if (!l.found) {
		errno = ENOENT;
		return -1;
	}
	*value = l.value;
	return 0;
}
