/* SPDX-License-Identifier: BSD-3-Clause */
/* Test harness: the stack over a fake port (see harness.h). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "sn_api.h"
#include "sn_netdev.h"
#include "sn_stack.h"
#include "sn_sys.h"
#include "sockpol.h"
#include "harness.h"

#define H_NB_MBUFS 8191
#define H_RXQ 256
#define H_TXCAP 256
/* Polls a helper waits at most for a loopback exchange: each poll moves
 * every queued packet one step, so a handful would do. */
#define H_MAX_POLLS 20000

struct rte_mempool *h_pool, *h_ext_pool;

static struct rte_mbuf *rxq[H_RXQ];
static unsigned rx_head, rx_count;

struct h_frame {
	uint16_t len;
	uint8_t data[H_FRAME_MAX];
};
static struct h_frame txcap[H_TXCAP];
static unsigned tx_head, tx_count, tx_total;

static struct sn_netdev netdev;

static void die(const char *what)
{
	fprintf(stderr, "harness: %s\n", what);
	abort();
}

/* ---- EAL and pools ------------------------------------------------------ */

void h_eal_init(void)
{
	static int up;
	char lcore[16], prefix[32];
	cpu_set_t set;
	int cpu = 0;

	if (up)
		return;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set))
			cpu++;
	snprintf(lcore, sizeof(lcore), "%d", cpu);
	snprintf(prefix, sizeof(prefix), "snt%d", (int)getpid());
	char *argv[] = { "sn-test", "-l", lcore, "--no-huge", "-m", "512",
			 "--no-pci", "--no-shconf", "--iova-mode=va",
			 "--no-telemetry", "--file-prefix", prefix,
			 "--log-level=error", NULL };
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		die(rte_strerror(rte_errno));
	up = 1;
}

void h_pools_create(void)
{
	if (h_pool)
		return;
	h_eal_init();
	/* No per-lcore cache: in-use counts are exact, so leaks show. */
	h_pool = rte_pktmbuf_pool_create("h_rx", H_NB_MBUFS, 0, SN_MBUF_PRIV_SIZE,
					 2048 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	h_ext_pool = rte_pktmbuf_pool_create("h_ext", H_NB_MBUFS, 0,
					     SN_MBUF_PRIV_SIZE, 0, SOCKET_ID_ANY);
	if (!h_pool || !h_ext_pool)
		die("mbuf pool");
}

unsigned h_in_use(void)
{
	return rte_mempool_in_use_count(h_pool) + rte_mempool_in_use_count(h_ext_pool);
}

/* ---- The fake port -------------------------------------------------------- */

static uint16_t fake_rx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n && rx_count; i++) {
		pkts[i] = rxq[rx_head];
		rx_head = (rx_head + 1) % H_RXQ;
		rx_count--;
	}
	return i;
}

static void capture(struct rte_mbuf *m)
{
	struct h_frame *f;
	uint32_t len = rte_pktmbuf_pkt_len(m);

	if (tx_count == H_TXCAP) {      /* keep the newest */
		tx_head = (tx_head + 1) % H_TXCAP;
		tx_count--;
	}
	f = &txcap[(tx_head + tx_count) % H_TXCAP];
	if (len > sizeof(f->data))
		len = sizeof(f->data);
	f->len = (uint16_t)len;
	const void *src = rte_pktmbuf_read(m, 0, len, f->data);

	if (!src && len)
		die("rte_pktmbuf_read");
	if (len && src != f->data)
		memcpy(f->data, src, len);
	tx_count++;
}

static bool tx_blocked;

void h_tx_block(bool blocked)
{
	tx_blocked = blocked;
}

static uint16_t fake_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	/* A port whose TX ring is full takes nothing. */
	if (tx_blocked)
		return 0;
	for (uint16_t i = 0; i < n; i++) {
		capture(pkts[i]);
		tx_total++;
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

static int fake_link_up(void *ctx)
{
	return 1;
}

static const struct sn_netdev_ops fake_ops = {
	.rx_burst = fake_rx,
	.tx_burst = fake_tx,
	.link_up = fake_link_up,
};

int h_inject_trunc(const void *frame, size_t len, size_t visible)
{
	struct rte_mbuf *m;
	char *d;

	if (rx_count == H_RXQ || visible > len)
		return -1;
	m = rte_pktmbuf_alloc(h_pool);
	if (!m)
		return -1;
	d = rte_pktmbuf_append(m, (uint16_t)len);
	if (!d && len) {
		rte_pktmbuf_free(m);
		return -1;
	}
	memcpy(d, frame, len);
	if (visible < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - visible));
	rxq[(rx_head + rx_count) % H_RXQ] = m;
	rx_count++;
	return 0;
}

int h_inject_segs(const void *frame, size_t len, size_t seg, uint16_t headroom)
{
	const uint8_t *src = frame;
	struct rte_mbuf *head = NULL, *tail = NULL, *m;
	size_t off = 0, n;

	if (rx_count == H_RXQ || !len)
		return -1;
	if (!seg)
		seg = len;
	for (; off < len; off += n, tail = m) {
		n = len - off < seg ? len - off : seg;
		m = rte_pktmbuf_alloc(h_pool);
		if (!m)
			goto fail;
		m->data_off = head ? 0 : headroom;
		if (m->data_off + n > m->buf_len) {
			rte_pktmbuf_free(m);
			goto fail;
		}
		memcpy(rte_pktmbuf_mtod(m, void *), src + off, n);
		m->data_len = (uint16_t)n;
		if (!head) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
		}
		head->pkt_len += (uint32_t)n;
	}
	rxq[(rx_head + rx_count) % H_RXQ] = head;
	rx_count++;
	return 0;
fail:
	rte_pktmbuf_free(head);
	return -1;
}

int h_inject(const void *frame, size_t len)
{
	return h_inject_trunc(frame, len, len);
}

unsigned h_tx_count(void)
{
	return tx_total;
}

void h_tx_clear(void)
{
	tx_head = tx_count = 0;
}

static bool frame_matches(const struct h_frame *f, uint16_t type, int proto)
{
	const uint8_t *l3 = f->data + H_ETH_HLEN;

	if (f->len < H_ETH_HLEN || h_be16(f->data + 12) != type)
		return false;
	if (proto < 0)
		return true;
	switch (type) {
	case H_ETH_ARP:
		return f->len >= H_ETH_HLEN + 8 && h_be16(l3 + 6) == proto;
	case H_ETH_IP4:
		return f->len >= H_ETH_HLEN + H_IP4_HLEN && l3[9] == proto;
	case H_ETH_IP6:
		/* ICMPv6: proto is the ICMPv6 type. */
		return f->len > H_ETH_HLEN + H_IP6_HLEN && l3[6] == H_PROTO_ICMP6 &&
		       l3[H_IP6_HLEN] == proto;
	}
	return false;
}

size_t h_tx_find(uint16_t type, int proto, uint8_t *buf, size_t cap)
{
	for (unsigned i = 0; i < tx_count; i++) {
		unsigned idx = (tx_head + i) % H_TXCAP;
		struct h_frame f = txcap[idx];
		size_t n = f.len < cap ? f.len : cap;

		if (!frame_matches(&f, type, proto))
			continue;
		memcpy(buf, f.data, n);
		/* Close the gap: later frames move one slot towards the head. */
		for (unsigned j = i; j + 1 < tx_count; j++)
			txcap[(tx_head + j) % H_TXCAP] = txcap[(tx_head + j + 1) % H_TXCAP];
		tx_count--;
		return n;
	}
	return 0;
}

/* ---- Stack ------------------------------------------------------------------ */

void h_stack_start_caps(uint32_t caps)
{
	struct sn_stack_conf sc;
	int rc;

	h_pools_create();
	netdev = (struct sn_netdev){ &fake_ops, NULL, h_pool, h_ext_pool, 1500,
				     { 0 }, caps };
	memcpy(netdev.mac, h_mac_us, 6);
	memset(&sc, 0, sizeof(sc));
	ip4_addr_set_u32(&sc.ip4, h_ip4(H_IP4_US));
	ip4_addr_set_u32(&sc.mask4, h_ip4("255.255.255.0"));
	h_ip6(H_IP6_US, (uint8_t *)sc.ip6[0].addr);
	ip6_addr_clear_zone(&sc.ip6[0]);
	sc.nip6 = 1;
	sn_sys_init(rte_get_tsc_hz());
	rc = sn_stack_init(&netdev, &sc);
	if (rc)
		die("sn_stack_init");
	/* The socket layer, as sn_start() would start it. */
	sn_api_init();
	h_poll(2);
}

void h_stack_start(void)
{
	h_stack_start_caps(SN_CAP_TX_EXTBUF | SN_CAP_TX_MULTI_SEG);
}

unsigned h_stack_stop(void)
{
	sn_api_close_all();
	h_poll(50);
	sn_api_fini();
	sn_stack_fini();
	while (rx_count) {
		rte_pktmbuf_free(rxq[rx_head]);
		rx_head = (rx_head + 1) % H_RXQ;
		rx_count--;
	}
	h_tx_clear();
	if (sn_sockpol_count()) {
		fprintf(stderr, "LEAK: %u socket policies still live after teardown\n",
			sn_sockpol_count());
		abort();
	}
	return h_in_use();
}

void h_stack_stop_checked(void)
{
	unsigned left = h_stack_stop();

	if (left) {
		fprintf(stderr, "LEAK: %u mbufs still taken from the pools after teardown\n",
			left);
		abort();
	}
}

void h_poll(int n)
{
	for (int i = 0; i < n; i++)
		sn_stack_poll();
}

uint64_t h_stat(const char *name)
{
	uint64_t v;

	if (sn_stats_get(name, &v)) {
		fprintf(stderr, "harness: no counter '%s'\n", name);
		abort();
	}
	return v;
}

void h_learn_peer4(void)
{
	uint8_t f[H_FRAME_MAX];
	static const uint8_t zero[6];

	h_inject(f, h_arp(f, 1, h_mac_peer, h_ip4(H_IP4_PEER), zero, h_ip4(H_IP4_US)));
	h_poll(2);
	h_tx_find(H_ETH_ARP, 2, f, sizeof(f));
}

void h_learn_peer6(void)
{
	uint8_t f[H_FRAME_MAX], target[16];

	h_ip6(H_IP6_US, target);
	h_inject(f, h_nd6_ns(f, target));
	h_poll(2);
	h_tx_find(H_ETH_IP6, 136, f, sizeof(f));
}

/* ---- Sockets ------------------------------------------------------------------- */

static socklen_t addr_of(int family, const char *v4, const char *v6, uint16_t port,
			 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = h_ip4(v4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	h_ip6(v6, in6->sin6_addr.s6_addr);
	return sizeof(*in6);
}

socklen_t h_addr(int family, uint16_t port, struct sockaddr_storage *ss)
{
	return addr_of(family, H_IP4_US, H_IP6_US, port, ss);
}

socklen_t h_peer_addr(int family, uint16_t port, struct sockaddr_storage *ss)
{
	return addr_of(family, H_IP4_PEER, H_IP6_PEER, port, ss);
}

int h_listen(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(family, port, &ss);
	int fd = sn_socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (sn_bind(fd, (struct sockaddr *)&ss, len) || sn_listen(fd, 16)) {
		sn_close(fd);
		return -1;
	}
	return fd;
}

int h_tcp_pair(int family, uint16_t port, int *client, int *server)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(family, port, &ss);
	int l = h_listen(family, port), c, a = -1, err = -1;
	socklen_t elen = sizeof(err);

	if (l < 0)
		return -1;
	c = sn_socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c < 0 || sn_connect(c, (struct sockaddr *)&ss, len) == 0 ||
	    errno != EINPROGRESS)
		goto fail;
	for (int i = 0; i < H_MAX_POLLS && a < 0; i++) {
		sn_stack_poll();
		a = sn_accept4(l, NULL, NULL, SOCK_NONBLOCK);
	}
	h_poll(4);
	if (a < 0 || sn_getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen) || err)
		goto fail;
	sn_close(l);
	*client = c;
	*server = a;
	return 0;
fail:
	if (a >= 0)
		sn_close(a);
	if (c >= 0)
		sn_close(c);
	sn_close(l);
	return -1;
}

size_t h_send_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < H_MAX_POLLS && done < len; i++) {
		ssize_t n = sn_send(fd, (const char *)buf + done, len - done, 0);

		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;
		sn_stack_poll();
	}
	return done;
}

size_t h_recv_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	for (int i = 0; i < H_MAX_POLLS && done < len; i++) {
		ssize_t n = sn_recv(fd, (char *)buf + done, len - done, 0);

		if (n > 0)
			done += (size_t)n;
		else if (n == 0 || errno != EAGAIN)
			break;
		sn_stack_poll();
	}
	return done;
}

long h_recv_wait(int fd, void *buf, size_t len)
{
	ssize_t n = -1;

	for (int i = 0; i < H_MAX_POLLS; i++) {
		n = sn_recv(fd, buf, len, 0);
		if (n >= 0 || errno != EAGAIN)
			break;
		sn_stack_poll();
	}
	return (long)n;
}
