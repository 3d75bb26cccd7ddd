/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's own packet capture (sn_capture.h): copies made on the loop's
 * lcore with rte_pcapng_copy, a bounded single-producer ring, and a writer
 * thread that writes them in batches (one writev per burst).
 *
 * Why a thread, where the stack otherwise has none: write(2) to a file can
 * block for as long as the disk likes, and O_NONBLOCK means nothing for
 * regular files. The thread runs on DPDK's control cores
 * (rte_ctrl_thread_create), never on the loop's lcore.
 *
 * Shared state, one writer each: the loop thread writes sn_capture_on and
 * seen/dropped; the writer thread writes written/wdropped/bytes/full. Each
 * side reads the other's with relaxed atomic loads; stop joins the thread
 * before anything is freed.
 *
 * pcapng (draft-ietf-opsawg-pcapng): rte_pcapng_fdopen writes the Section
 * Header Block and one Interface Description Block per ethdev port; the
 * inner interface's IDB (LINKTYPE_RAW, 101) is written here right after.
 * rte_pcapng_copy builds each Enhanced Packet Block; its interface id and
 * timestamp are set here, and the blocks are written with writev, because
 * rte_pcapng_write_packets maps the interface from the mbuf's port (the
 * inner interface is no port) and the 22.11 stable releases changed how
 * copy and write share the timestamp between them. The Interface
 * Statistics Blocks are written here too, for the same two reasons.
 */
/* rte_pcapng is experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/uio.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include "sn_capture.h"

#define CAP_RING_SIZE   4096            /* copies waiting for the writer */
#define CAP_POOL_BYTES  (16u << 20)     /* memory for those copies */
#define CAP_POOL_MIN    512
#define CAP_BURST       64              /* copies per enqueue and per write */
#define CAP_IDLE_US     1000            /* writer's nap when the ring is empty */
#define CAP_STATS_ROOM  512             /* kept under the limit for the ISBs */

#define PCAPNG_IDB          0x00000001u
#define PCAPNG_ISB          0x00000005u
#define PCAPNG_ISB_START    2
#define PCAPNG_ISB_END      3
#define PCAPNG_ISB_IFRECV   4
#define PCAPNG_ISB_IFDROP   5
#define PCAPNG_LINKTYPE_RAW 101         /* raw IPv4 or IPv6, by version nibble */
#define PCAPNG_OPT_END      0
#define PCAPNG_IF_NAME      2
#define PCAPNG_IF_DESC      3
#define PCAPNG_IF_TSRESOL   9
#define PCAPNG_TSRESOL_NS   9           /* as rte_pcapng's timestamps */
#define EPB_IF_ID_WORD      2           /* type, length, interface id, ts hi, ts lo */
#define EPB_TS_WORD         3
#define CAP_NS_PER_S        1000000000ull

struct capture {
	char path[PATH_MAX];
	rte_pcapng_t *pcapng;
	int fd;
	struct rte_mempool *pool;
	struct rte_ring *ring;
	pthread_t writer;
	uint64_t max_bytes;
	uint64_t start_ns;              /* CLOCK_REALTIME at start */
	uint64_t start_tsc;             /* the TSC at the same moment */
	uint64_t tsc_hz;
	uint32_t snaplen;
	uint16_t port_id;
	uint32_t if_index[SN_CAPTURE_IF_MAX]; /* interface ids in the file */
	unsigned generation;
	/* loop thread */
	uint64_t seen[SN_CAPTURE_IF_MAX];
	uint64_t dropped[SN_CAPTURE_IF_MAX];
	bool running;
	bool reported;
	/* writer thread */
	uint64_t written[SN_CAPTURE_IF_MAX];
	uint64_t wdropped[SN_CAPTURE_IF_MAX];
	uint64_t bytes;
	int write_errno;
	bool full;
	/* loop -> writer */
	bool stop_req;
};

static struct capture cap;
bool sn_capture_on;

static uint64_t rd(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void wr(uint64_t *v, uint64_t x)
{
	__atomic_store_n(v, x, __ATOMIC_RELAXED);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * CAP_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Nanoseconds since 1970 of a TSC value (seconds first: no overflow). */
static uint64_t tsc_ns(uint64_t tsc)
{
	uint64_t d = tsc - cap.start_tsc;

	return cap.start_ns + d / cap.tsc_hz * CAP_NS_PER_S +
	       d % cap.tsc_hz * CAP_NS_PER_S / cap.tsc_hz;
}

static void put_ts(uint8_t *b, uint64_t ns)
{
	uint32_t w[2] = { (uint32_t)(ns >> 32), (uint32_t)ns };

	memcpy(b, w, sizeof(w));
}

static int fail(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -1;
}

/* ---- The file ------------------------------------------------------------ */

static size_t put_opt(uint8_t *b, uint16_t code, const void *v, uint16_t len)
{
	size_t padded = (len + 3u) & ~3u;

	memcpy(b, &code, 2);
	memcpy(b + 2, &len, 2);
	memset(b + 4, 0, padded);
	if (len)
		memcpy(b + 4, v, len);
	return 4 + padded;
}

/* Type and length in front, length again behind the o bytes of b. */
static int write_block(int fd, uint8_t *b, size_t o, uint32_t type)
{
	uint32_t len = (uint32_t)(o + 4);

	memcpy(b, &type, 4);
	memcpy(b + 4, &len, 4);
	memcpy(b + o, &len, 4);
	return write(fd, b, len) == (ssize_t)len ? 0 : -1;
}

/* The inner interface's Interface Description Block (pcapng 4.2). */
static int write_inner_idb(int fd, uint32_t snaplen)
{
	static const char name[] = "inner";
	static const char desc[] = "ipsec-decrypted: inner packets of protected traffic";
	uint8_t b[256], res = PCAPNG_TSRESOL_NS;
	uint32_t type = PCAPNG_IDB;
	uint16_t link = PCAPNG_LINKTYPE_RAW, zero = 0;
	size_t o = 8;

	memcpy(b + o, &link, 2);
	memcpy(b + o + 2, &zero, 2);
	memcpy(b + o + 4, &snaplen, 4);
	o += 8;
	o += put_opt(b + o, PCAPNG_IF_NAME, name, sizeof(name) - 1);
	o += put_opt(b + o, PCAPNG_IF_DESC, desc, sizeof(desc) - 1);
	o += put_opt(b + o, PCAPNG_IF_TSRESOL, &res, 1);
	o += put_opt(b + o, PCAPNG_OPT_END, NULL, 0);
	return write_block(fd, b, o, type);
}

/* rte_pcapng_fdopen describes every port in RTE_ETH_FOREACH_DEV order;
 * the inner interface comes after them. */
static int number_interfaces(uint16_t port_id)
{
	uint16_t pid;
	uint32_t n = 0;
	int found = -1;

	RTE_ETH_FOREACH_DEV(pid) {
		if (pid == port_id) {
			cap.if_index[SN_CAPTURE_IF_WIRE] = n;
			found = 0;
		}
		n++;
	}
	cap.if_index[SN_CAPTURE_IF_INNER] = n;
	return found;
}

static int open_file(const struct sn_capture_conf *c, char *err, size_t errlen)
{
	int fd;
	off_t end;

	if (!rte_eth_dev_is_valid_port(c->port_id)) {
		snprintf(err, errlen, "no port %u to capture", c->port_id);
		return -1;
	}
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(err, errlen, c->path, errno);
	cap.pcapng = rte_pcapng_fdopen(fd, NULL, NULL, "sealnet", NULL);
	if (!cap.pcapng) {
		close(fd);
		return fail(err, errlen, "pcapng header", rte_errno);
	}
	(void)number_interfaces(c->port_id);   /* the port is valid: found */
	end = write_inner_idb(fd, c->snaplen) ? -1 : lseek(fd, 0, SEEK_CUR);
	if (end < 0) {
		int e = errno;

		rte_pcapng_close(cap.pcapng);
		cap.pcapng = NULL;
		return fail(err, errlen, "pcapng inner interface", e);
	}
	cap.fd = fd;
	cap.bytes = (uint64_t)end;
	return 0;
}

/* ---- Writer thread ------------------------------------------------------- */

static enum sn_capture_if epb_if(const struct rte_mbuf *m)
{
	const uint32_t *epb = rte_pktmbuf_mtod(m, const uint32_t *);

	return epb[EPB_IF_ID_WORD] == cap.if_index[SN_CAPTURE_IF_WIRE] ?
		SN_CAPTURE_IF_WIRE : SN_CAPTURE_IF_INNER;
}

/* How many of the n copies fit under the limit. */
static unsigned fitting(struct rte_mbuf **b, unsigned n)
{
	uint64_t size = cap.bytes + CAP_STATS_ROOM;
	unsigned k = 0;

	if (__atomic_load_n(&cap.full, __ATOMIC_RELAXED))
		return 0;
	for (; k < n; k++) {
		size += rte_pktmbuf_pkt_len(b[k]);
		if (cap.max_bytes && size > cap.max_bytes)
			break;
	}
	return k;
}

/* The blocks of k copies in one writev; bytes written or -1. */
static ssize_t write_blocks(struct rte_mbuf **b, unsigned k)
{
	struct iovec iov[CAP_BURST * 4];
	size_t want = 0;
	int cnt = 0;
	ssize_t w;

	for (unsigned i = 0; i < k; i++)
		for (struct rte_mbuf *s = b[i]; s; s = s->next) {
			if (cnt == (int)RTE_DIM(iov))
				return errno = E2BIG, -1;
			iov[cnt++] = (struct iovec){ rte_pktmbuf_mtod(s, void *), s->data_len };
			want += s->data_len;
		}
	w = cnt ? writev(cap.fd, iov, cnt) : 0;
	if (w >= 0 && (size_t)w != want)
		return errno = ENOSPC, -1;
	return w;
}

static void write_batch(struct rte_mbuf **b, unsigned n)
{
	unsigned k = fitting(b, n);
	ssize_t w = write_blocks(b, k);

	if (w < 0) {
		cap.write_errno = errno ? errno : EIO;
		k = 0;
	}
	if (k < n)
		__atomic_store_n(&cap.full, true, __ATOMIC_RELEASE);
	wr(&cap.bytes, cap.bytes + (uint64_t)(w > 0 ? w : 0));
	for (unsigned i = 0; i < n; i++) {
		enum sn_capture_if f = epb_if(b[i]);

		if (i < k)
			wr(&cap.written[f], cap.written[f] + 1);
		else
			wr(&cap.wdropped[f], cap.wdropped[f] + 1);
	}
	rte_pktmbuf_free_bulk(b, n);
}

/* Interface Statistics Blocks (pcapng 4.6): what each interface saw and
 * what the capture dropped, then close. The loop is waiting in join. */
static void write_isb(enum sn_capture_if f, uint64_t end)
{
	uint64_t recv = rd(&cap.seen[f]), drop = rd(&cap.dropped[f]) + cap.wdropped[f];
	uint8_t b[128], ts[8];
	size_t o = 20;

	memcpy(b + 8, &cap.if_index[f], 4);
	put_ts(b + 12, end);
	put_ts(ts, cap.start_ns);
	o += put_opt(b + o, PCAPNG_ISB_START, ts, 8);
	put_ts(ts, end);
	o += put_opt(b + o, PCAPNG_ISB_END, ts, 8);
	o += put_opt(b + o, PCAPNG_ISB_IFRECV, &recv, 8);
	o += put_opt(b + o, PCAPNG_ISB_IFDROP, &drop, 8);
	o += put_opt(b + o, PCAPNG_OPT_END, NULL, 0);
	if (write_block(cap.fd, b, o, PCAPNG_ISB) == 0)
		wr(&cap.bytes, cap.bytes + o + 4);
}

static void write_stats(void)
{
	uint64_t end = now_ns();

	/* After a failed write the file may end in a partial block. */
	for (int f = 0; f < SN_CAPTURE_IF_MAX && !cap.write_errno; f++)
		write_isb((enum sn_capture_if)f, end);
	rte_pcapng_close(cap.pcapng);   /* closes the file too */
	cap.pcapng = NULL;
}

static void *writer_main(void *arg)
{
	struct rte_mbuf *b[CAP_BURST];

	(void)arg;
	for (;;) {
		bool stop = __atomic_load_n(&cap.stop_req, __ATOMIC_ACQUIRE);
		unsigned n = rte_ring_sc_dequeue_burst(cap.ring, (void **)b, CAP_BURST, NULL);

		if (n)
			write_batch(b, n);
		else if (stop)
			break;
		else
			usleep(CAP_IDLE_US);
	}
	write_stats();
	return NULL;
}

/* ---- Start and stop ------------------------------------------------------ */

static int make_queue(uint32_t snaplen, char *err, size_t errlen)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t room = rte_pcapng_mbuf_size(snaplen);
	uint32_t n = CAP_POOL_BYTES / (room + sizeof(struct rte_mbuf));

	n = RTE_MAX(RTE_MIN(n, (uint32_t)CAP_RING_SIZE), (uint32_t)CAP_POOL_MIN);
	snprintf(name, sizeof(name), "sn_cap_%u", cap.generation);
	cap.pool = rte_pktmbuf_pool_create(name, n, 0, 0, (uint16_t)room, rte_socket_id());
	if (!cap.pool)
		return fail(err, errlen, "capture mbuf pool", rte_errno);
	snprintf(name, sizeof(name), "sn_capq_%u", cap.generation);
	cap.ring = rte_ring_create(name, CAP_RING_SIZE, rte_socket_id(),
				   RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!cap.ring)
		return fail(err, errlen, "capture ring", rte_errno);
	return 0;
}

static void free_queue(void)
{
	void *m;

	while (cap.ring && rte_ring_dequeue(cap.ring, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(cap.ring);
	rte_mempool_free(cap.pool);
	cap.ring = NULL;
	cap.pool = NULL;
}

static void reset(const struct sn_capture_conf *c)
{
	unsigned gen = cap.generation + 1;

	memset(&cap, 0, sizeof(cap));
	cap.generation = gen;
	snprintf(cap.path, sizeof(cap.path), "%s", c->path);
	cap.max_bytes = c->max_bytes;
	cap.snaplen = c->snaplen;
	cap.port_id = c->port_id;
	cap.tsc_hz = rte_get_tsc_hz();
	cap.start_tsc = rte_get_tsc_cycles();
	cap.start_ns = now_ns();
}

/* A start that failed leaves the last capture's figures as they were. */
static int undo_start(const struct capture *prev)
{
	unsigned gen = cap.generation;

	free_queue();
	cap = *prev;
	cap.generation = gen;
	return -1;
}

int sn_capture_start(const struct sn_capture_conf *c, char *err, size_t errlen)
{
	struct capture prev;
	int rc;

	if (cap.running) {
		snprintf(err, errlen, "a capture is running already (%s)", cap.path);
		return -1;
	}
	if (strlen(c->path) >= sizeof(cap.path) || !c->path[0]) {
		snprintf(err, errlen, "capture file name empty or too long");
		return -1;
	}
	prev = cap;
	reset(c);
	if (make_queue(c->snaplen, err, errlen) || open_file(c, err, errlen))
		return undo_start(&prev);
	rc = rte_ctrl_thread_create(&cap.writer, "sn-capture", NULL, writer_main, NULL);
	if (rc) {
		fail(err, errlen, "capture writer thread", rc < 0 ? -rc : rc);
		rte_pcapng_close(cap.pcapng);
		cap.pcapng = NULL;
		return undo_start(&prev);
	}
	cap.running = true;
	sn_capture_on = true;
	return 0;
}

int sn_capture_stop(void)
{
	if (!cap.running)
		return -1;
	sn_capture_on = false;
	__atomic_store_n(&cap.stop_req, true, __ATOMIC_RELEASE);
	pthread_join(cap.writer, NULL);
	free_queue();
	cap.running = false;
	return 0;
}

void sn_capture_poll(void)
{
	if (!cap.running || cap.reported || !__atomic_load_n(&cap.full, __ATOMIC_ACQUIRE))
		return;
	cap.reported = true;
	if (cap.write_errno)
		fprintf(stderr, "sealnet: capture %s: write failed (%s); no more packets are "
			"written, they are counted as dropped\n", cap.path,
			strerror(cap.write_errno));
	else
		fprintf(stderr, "sealnet: capture %s: reached its limit of %llu MB; no more "
			"packets are written, they are counted as dropped (raise --pcap-max)\n",
			cap.path, (unsigned long long)(cap.max_bytes >> 20));
}

void sn_capture_get_stats(struct sn_capture_stats *st)
{
	for (int f = 0; f < SN_CAPTURE_IF_MAX; f++) {
		st->ifs[f].seen = cap.seen[f];
		st->ifs[f].written = rd(&cap.written[f]);
		st->ifs[f].dropped = cap.dropped[f] + rd(&cap.wdropped[f]);
	}
	st->bytes = rd(&cap.bytes);
	st->running = cap.running;
	st->full = __atomic_load_n(&cap.full, __ATOMIC_RELAXED);
}

const char *sn_capture_path(void)
{
	return cap.path[0] ? cap.path : NULL;
}

/* ---- The loop's side ----------------------------------------------------- */

static struct rte_mbuf *copy_one(const struct rte_mbuf *m, enum sn_capture_if f,
				 uint64_t tsc, enum sn_capture_dir dir)
{
	struct rte_mbuf *c = rte_pcapng_copy(cap.port_id, 0, m, cap.pool, cap.snaplen,
					     tsc, (enum rte_pcapng_direction)dir);

	if (c) {
		uint32_t *epb = rte_pktmbuf_mtod(c, uint32_t *);

		epb[EPB_IF_ID_WORD] = cap.if_index[f];
		put_ts((uint8_t *)&epb[EPB_TS_WORD], tsc_ns(tsc));
	}
	return c;
}

/* out[i] is the copy of pkts[i], NULL where the pool was empty. */
static void copy_burst(struct rte_mbuf *const *pkts, unsigned n, enum sn_capture_if f,
		       enum sn_capture_dir dir, struct rte_mbuf **out)
{
	uint64_t tsc = rte_get_tsc_cycles();

	for (unsigned i = 0; i < n; i++)
		out[i] = copy_one(pkts[i], f, tsc, dir);
}

/* Hand the copies of the first keep of n packets to the writer and free
 * the others; a kept packet without a place in the ring is dropped. */
static void enqueue(struct rte_mbuf **c, unsigned keep, unsigned n, enum sn_capture_if f)
{
	unsigned k = 0, q;

	for (unsigned i = 0; i < n; i++) {
		if (c[i] && i < keep)
			c[k++] = c[i];
		else if (c[i])
			rte_pktmbuf_free(c[i]);
	}
	q = rte_ring_sp_enqueue_burst(cap.ring, (void **)c, k, NULL);
	if (q < k)
		rte_pktmbuf_free_bulk(c + q, k - q);
	cap.seen[f] += keep;
	cap.dropped[f] += keep - q;
}

/* Past the size limit (or a write error) packets are only counted. */
static bool is_full(void)
{
	return __atomic_load_n(&cap.full, __ATOMIC_RELAXED);
}

static void count_dropped(unsigned n, enum sn_capture_if f)
{
	cap.seen[f] += n;
	cap.dropped[f] += n;
}

static void capture(struct rte_mbuf *const *pkts, unsigned n, enum sn_capture_if f,
		    enum sn_capture_dir dir)
{
	struct rte_mbuf *c[CAP_BURST];

	while (n) {
		unsigned chunk = RTE_MIN(n, (unsigned)CAP_BURST);

		if (is_full()) {
			count_dropped(chunk, f);
		} else {
			copy_burst(pkts, chunk, f, dir, c);
			enqueue(c, chunk, chunk, f);
		}
		pkts += chunk;
		n -= chunk;
	}
}

void sn_capture_rx(struct rte_mbuf **pkts, uint16_t n)
{
	capture(pkts, n, SN_CAPTURE_IF_WIRE, SN_CAPTURE_IN);
}

/* Copies are made before the burst (the port may free a frame the moment
 * it takes it) and kept only for the frames it took: the rest stay with
 * the caller, who offers them again. */
uint16_t sn_capture_tx(uint16_t port_id, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *c[CAP_BURST];
	uint16_t sent = 0;

	while (sent < n) {
		unsigned chunk = RTE_MIN((unsigned)(n - sent), (unsigned)CAP_BURST);
		bool full = is_full();
		uint16_t s;

		if (!full)
			copy_burst(pkts + sent, chunk, SN_CAPTURE_IF_WIRE, SN_CAPTURE_OUT, c);
		s = rte_eth_tx_burst(port_id, 0, pkts + sent, (uint16_t)chunk);
		if (full)
			count_dropped(s, SN_CAPTURE_IF_WIRE);
		else
			enqueue(c, s, chunk, SN_CAPTURE_IF_WIRE);
		sent += s;
		if (s < chunk)
			break;
	}
	return sent;
}

/* An mbuf header over memory the capture does not own, for
 * rte_pcapng_copy; never freed. */
static void borrow(struct rte_mbuf *m, const struct sn_capture_seg *s)
{
	memset(m, 0, sizeof(*m));
	m->buf_addr = (void *)(uintptr_t)s->data;
	m->buf_len = s->len;
	m->data_len = s->len;
	m->nb_segs = 1;
	rte_mbuf_refcnt_set(m, 1);
}

void sn_capture_inner(const struct sn_capture_seg *segs, unsigned nseg,
		      enum sn_capture_dir dir)
{
	struct rte_mbuf m[SN_CAPTURE_MAX_SEGS], *head = &m[0];
	uint32_t total = 0;

	nseg = RTE_MIN(nseg, (unsigned)SN_CAPTURE_MAX_SEGS);
	if (!nseg)
		return;
	for (unsigned i = 0; i < nseg; i++) {
		borrow(&m[i], &segs[i]);
		if (i)
			m[i - 1].next = &m[i];
		total += segs[i].len;
	}
	head->nb_segs = (uint16_t)nseg;
	head->pkt_len = total;
	capture(&head, 1, SN_CAPTURE_IF_INNER, dir);
}
