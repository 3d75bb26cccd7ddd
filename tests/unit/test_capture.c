/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's capture (dpdk/sn_capture.c) on a net_null port, the file read
 * back with a small pcapng reader of our own: the blocks and their order,
 * both interfaces, directions, the bytes, the statistics blocks, the size
 * limit and its drop counts, a write error, the start/stop errors, and no
 * mbuf kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "harness.h"
#include "sn_capture.h"
#include "ipsec_capture.h"
#include "lwip/pbuf.h"

#define SNAP 1518
#define MAXB 64

/* ---- A pcapng reader --------------------------------------------------- */

struct blk {
	uint32_t type;
	uint32_t ifid;          /* EPB, ISB */
	uint16_t link;          /* IDB */
	uint32_t caplen, origlen, flags;
	uint8_t data[2048];
	uint64_t recv, drop;    /* ISB */
};

struct file {
	struct blk b[MAXB];
	int n;
	long size;
};

static uint32_t u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint64_t u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Options of one block, from o to its trailing length. */
static void read_opts(struct blk *b, const uint8_t *d, size_t o, size_t end)
{
	while (o + 4 <= end) {
		uint16_t code = u16(d + o), len = u16(d + o + 2);

		cr_assert_leq(o + 4 + len, end, "option past its block");
		if (code == 0)
			return;
		if (b->type == 6 && code == 2 && len == 4)
			b->flags = u32(d + o + 4);
		if (b->type == 5 && code == 4)
			b->recv = u64(d + o + 4);
		if (b->type == 5 && code == 5)
			b->drop = u64(d + o + 4);
		o += 4 + ((len + 3u) & ~3u);
	}
}

static void read_block(struct blk *b, const uint8_t *d, size_t len)
{
	b->type = u32(d);
	if (b->type == 1) {
		b->link = u16(d + 8);
		read_opts(b, d, 16, len - 4);
	} else if (b->type == 6) {
		b->ifid = u32(d + 8);
		b->caplen = u32(d + 20);
		b->origlen = u32(d + 24);
		cr_assert_leq(28 + b->caplen, len - 4);
		memcpy(b->data, d + 28, RTE_MIN(b->caplen, (uint32_t)sizeof(b->data)));
		read_opts(b, d, 28 + ((b->caplen + 3u) & ~3u), len - 4);
	} else if (b->type == 5) {
		b->ifid = u32(d + 8);
		read_opts(b, d, 20, len - 4);
	}
}

static void read_file(const char *path, struct file *f)
{
	static uint8_t d[1 << 20];
	FILE *fp = fopen(path, "rb");
	size_t n, o = 0;

	cr_assert(fp, "%s", path);
	n = fread(d, 1, sizeof(d), fp);
	fclose(fp);
	memset(f, 0, sizeof(*f));
	f->size = (long)n;
	while (o + 12 <= n) {
		uint32_t len = u32(d + o + 4);

		cr_assert(len >= 12 && len % 4 == 0 && o + len <= n, "block at %zu", o);
		cr_assert_eq(u32(d + o + len - 4), len, "trailing length at %zu", o);
		cr_assert_lt(f->n, MAXB);
		read_block(&f->b[f->n++], d + o, len);
		o += len;
	}
	cr_assert_eq(o, n, "bytes after the last block");
}

static int count(const struct file *f, uint32_t type, int ifid)
{
	int k = 0;

	for (int i = 0; i < f->n; i++)
		k += f->b[i].type == type && (ifid < 0 || f->b[i].ifid == (uint32_t)ifid);
	return k;
}

/* ---- Set-up ---------------------------------------------------------------- */

static uint16_t port;
static char path[64];

static void null_port(void)
{
	struct rte_eth_conf conf = { 0 };

	h_pools_create();
	cr_assert_eq(rte_dev_probe("net_null0"), 0, "net_null");
	cr_assert_eq(rte_eth_dev_get_port_by_name("net_null0", &port), 0);
	cr_assert_eq(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	cr_assert_eq(rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL, h_pool), 0);
	cr_assert_eq(rte_eth_tx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL), 0);
	cr_assert_eq(rte_eth_dev_start(port), 0);
	snprintf(path, sizeof(path), "/tmp/sn-test-capture-%d.pcapng", (int)getpid());
}

static void cleanup(void)
{
	sn_capture_stop();
	unlink(path);
}

static void start(uint64_t max_bytes)
{
	struct sn_capture_conf c = { path, max_bytes, port, SNAP };
	char err[256] = "";

	cr_assert_eq(sn_capture_start(&c, err, sizeof(err)), 0, "%s", err);
	cr_assert(sn_capture_on);
}

/* n frames of len bytes, byte i of frame k = k + i. */
static void frames(struct rte_mbuf **m, int n, uint16_t len, int first)
{
	for (int k = 0; k < n; k++) {
		uint8_t *p;

		m[k] = rte_pktmbuf_alloc(h_pool);
		cr_assert(m[k]);
		p = (uint8_t *)rte_pktmbuf_append(m[k], len);
		for (int i = 0; i < len; i++)
			p[i] = (uint8_t)(first + k + i);
	}
}

static bool frame_is(const struct blk *b, int k, uint16_t len)
{
	if (b->caplen != len || b->origlen != len)
		return false;
	for (int i = 0; i < len; i++)
		if (b->data[i] != (uint8_t)(k + i))
			return false;
	return true;
}

/* The writer is a thread: wait until it has taken everything seen. */
static void settle(void)
{
	for (int i = 0; i < 200; i++) {
		struct sn_capture_stats st;

		sn_capture_get_stats(&st);
		if (st.ifs[0].written + st.ifs[0].dropped == st.ifs[0].seen &&
		    st.ifs[1].written + st.ifs[1].dropped == st.ifs[1].seen)
			return;
		usleep(10000);
	}
	cr_assert_fail("the writer did not catch up");
}

TestSuite(capture, .init = null_port, .fini = cleanup);

/* ---- Tests ------------------------------------------------------------------- */

Test(capture, both_interfaces_directions_bytes_and_statistics)
{
	struct rte_mbuf *rx[3], *tx[2];
	uint8_t a[40], b[60];
	struct sn_capture_seg segs[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct sn_capture_stats st;
	struct file f;

	memset(a, 0x45, sizeof(a));
	memset(b, 0x99, sizeof(b));
	start(0);
	frames(rx, 3, 60, 0);
	frames(tx, 2, 1514, 3);
	sn_capture_rx(rx, 3);
	cr_assert_eq(sn_capture_tx(port, tx, 2), 2, "net_null takes both");
	sn_capture_inner(segs, 2, SN_CAPTURE_OUT);
	rte_pktmbuf_free_bulk(rx, 3);
	cr_assert_eq(sn_capture_stop(), 0);
	cr_assert_not(sn_capture_on);
	cr_expect_eq(h_in_use(), 0, "the capture keeps no frame of the port's pool");

	read_file(path, &f);
	cr_assert_eq(f.b[0].type, 0x0a0d0d0a, "section header first");
	cr_assert_eq(f.b[1].type, 1);
	cr_expect_eq(f.b[1].link, 1, "interface 0: Ethernet");
	cr_assert_eq(f.b[2].type, 1);
	cr_expect_eq(f.b[2].link, 101, "interface 1: raw IP");
	cr_assert_eq(count(&f, 6, -1), 6);
	for (int k = 0; k < 5; k++) {
		cr_expect_eq(f.b[3 + k].ifid, 0, "frame %d on the wire", k);
		cr_expect_eq(f.b[3 + k].flags & 3, k < 3 ? 1u : 2u, "frame %d direction", k);
		cr_expect(frame_is(&f.b[3 + k], k, k < 3 ? 60 : 1514), "frame %d bytes", k);
	}
	cr_expect_eq(f.b[8].ifid, 1, "inner packet on interface 1");
	cr_expect_eq(f.b[8].flags & 3, 2u, "outbound");
	cr_expect_eq(f.b[8].caplen, 100);
	cr_expect(!memcmp(f.b[8].data, a, 40) && !memcmp(f.b[8].data + 40, b, 60));
	cr_assert_eq(count(&f, 5, -1), 2, "one statistics block per interface");
	cr_expect_eq(f.b[9].ifid, 0);
	cr_expect_eq(f.b[9].recv, 5);
	cr_expect_eq(f.b[9].drop, 0);
	cr_expect_eq(f.b[10].ifid, 1);
	cr_expect_eq(f.b[10].recv, 1);
	sn_capture_get_stats(&st);
	cr_expect_eq(st.ifs[0].written, 5);
	cr_expect_eq(st.ifs[1].written, 1);
	cr_expect_eq((long)st.bytes, f.size, "capture.bytes is the file size");
}

Test(capture, size_limit_stops_writing_and_counts_drops)
{
	struct rte_mbuf *rx[20];
	struct sn_capture_stats st;
	struct file f;
	struct stat s;

	start(8192);
	frames(rx, 20, 1000, 0);
	sn_capture_rx(rx, 20);
	settle();
	sn_capture_get_stats(&st);
	cr_assert(st.full, "8 KB cannot take 20 KB of frames");
	cr_assert_lt(st.ifs[0].written, 20);
	cr_assert_eq(st.ifs[0].dropped, 20 - st.ifs[0].written);
	/* Past the limit, frames are only counted. */
	sn_capture_rx(rx, 20);
	rte_pktmbuf_free_bulk(rx, 20);
	sn_capture_get_stats(&st);
	cr_expect_eq(st.ifs[0].seen, 40);
	cr_expect_eq(st.ifs[0].dropped, 40 - st.ifs[0].written);
	cr_assert_eq(sn_capture_stop(), 0);
	cr_assert_eq(stat(path, &s), 0);
	cr_expect_leq(s.st_size, 8192, "the file stays within its limit");
	read_file(path, &f);
	cr_expect_eq(count(&f, 6, 0), (int)st.ifs[0].written);
	for (int i = 0; i < f.n; i++)
		if (f.b[i].type == 5 && f.b[i].ifid == 0) {
			cr_expect_eq(f.b[i].recv, 40);
			cr_expect_eq(f.b[i].drop, 40 - st.ifs[0].written);
		}
	cr_expect_eq(h_in_use(), 0);
}

Test(capture, many_frames_every_one_written_or_counted)
{
	struct rte_mbuf *rx[64];
	struct sn_capture_stats st;

	start(0);
	frames(rx, 64, 1500, 0);
	for (int i = 0; i < 200; i++)
		sn_capture_rx(rx, 64);   /* 12,800 frames: more than the ring holds */
	rte_pktmbuf_free_bulk(rx, 64);
	settle();
	cr_assert_eq(sn_capture_stop(), 0);
	sn_capture_get_stats(&st);
	cr_expect_eq(st.ifs[0].seen, 12800);
	cr_expect_eq(st.ifs[0].written + st.ifs[0].dropped, 12800);
	cr_expect_gt(st.ifs[0].written, 0);
	cr_expect_eq(h_in_use(), 0);
}

Test(capture, start_and_stop_errors)
{
	struct sn_capture_conf bad_port = { path, 0, 99, SNAP };
	struct sn_capture_conf bad_path = { "/nonexistent/dir/x.pcapng", 0, port, SNAP };
	struct sn_capture_stats st;
	struct rte_mbuf *rx[1];
	char err[256] = "";

	cr_expect_eq(sn_capture_stop(), -1, "nothing to stop");
	cr_expect_eq(sn_capture_start(&bad_port, err, sizeof(err)), -1);
	cr_expect(strstr(err, "no port 99"), "%s", err);
	start(0);
	frames(rx, 1, 64, 0);
	sn_capture_rx(rx, 1);
	rte_pktmbuf_free(rx[0]);
	cr_expect_eq(sn_capture_start(&bad_path, err, sizeof(err)), -1, "one at a time");
	cr_expect(strstr(err, "running already"), "%s", err);
	cr_assert_eq(sn_capture_stop(), 0);
	cr_expect_eq(sn_capture_start(&bad_path, err, sizeof(err)), -1);
	cr_expect(strstr(err, "No such file"), "%s", err);
	cr_expect_not(sn_capture_on);
	sn_capture_get_stats(&st);
	cr_expect_eq(st.ifs[0].written, 1, "a failed start keeps the last figures");
	cr_expect_str_eq(sn_capture_path(), path);
}

Test(capture, inner_packet_from_a_pbuf_chain)
{
	struct pbuf *p, *q;
	struct file f;

	h_stack_start();
	start(0);
	p = pbuf_alloc(PBUF_RAW, 20, PBUF_RAM);
	q = pbuf_alloc(PBUF_RAW, 30, PBUF_RAM);
	cr_assert(p && q);
	memset(p->payload, 0x45, 20);
	memset(q->payload, 0x77, 30);
	pbuf_cat(p, q);
	sn_ipsec_capture(p, SN_CAPTURE_IN);
	pbuf_free(p);
	cr_assert_eq(sn_capture_stop(), 0);
	sn_ipsec_capture(p = pbuf_alloc(PBUF_RAW, 20, PBUF_RAM), SN_CAPTURE_IN);
	pbuf_free(p);   /* off: not captured */
	read_file(path, &f);
	cr_assert_eq(count(&f, 6, 1), 1);
	for (int i = 0; i < f.n; i++)
		if (f.b[i].type == 6) {
			cr_expect_eq(f.b[i].caplen, 50);
			cr_expect_eq(f.b[i].flags & 3, 1u, "inbound");
			cr_expect_eq(f.b[i].data[0], 0x45);
			cr_expect_eq(f.b[i].data[49], 0x77);
		}
	h_stack_stop_checked();
}

Test(capture, write_error_stops_writing_and_counts_drops)
{
	struct rlimit lim = { 4096, 4096 };
	struct rte_mbuf *rx[20];
	struct sn_capture_stats st;
	struct stat s;

	/* A file system that is full: writes past 4 KB fail (EFBIG). */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	start(0);
	frames(rx, 20, 1000, 0);
	sn_capture_rx(rx, 20);
	rte_pktmbuf_free_bulk(rx, 20);
	settle();
	sn_capture_get_stats(&st);
	cr_expect(st.full, "a failed write ends the writing");
	cr_expect_lt(st.ifs[0].written, 20);
	cr_expect_eq(st.ifs[0].written + st.ifs[0].dropped, 20);
	sn_capture_poll();      /* says so, once */
	cr_assert_eq(sn_capture_stop(), 0);
	cr_assert_eq(stat(path, &s), 0);
	cr_expect_leq(s.st_size, 4096);
	cr_expect_eq(h_in_use(), 0);
}
