/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ike-bench: IKE SA plus first child SA set-ups, two engines (ike.h) back
 * to back in one process, with the CPU time of each side measured apart
 * around its own calls (ike_acquire, ike_input, ike_tick), so the figure
 * per side is what one lcore of that role would sustain:
 *
 *   initiator (conf A)  --datagrams in memory-->  responder (conf B)
 *
 *   ike-bench CONF_A CONF_B [N [hold]]
 *
 * Each set-up is a new IKE SA to a new peer address (10.x.y.z), so no IKE
 * SA is reused. "hold" keeps every SA pair (N concurrent IKE SAs, each with
 * one child) and reports the memory per pair (RSS growth / N) and the time
 * of a child lookup by SPI among them, early against late. Without it each
 * IKE SA is terminated after its set-up (not timed).
 *
 * The datapath is not here (no SAD, no UDP): engine work only, public-key
 * operations included. Prints a table, then one JSON line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../ipsec/ike/ike.h"

#define QMAX    64
#define MSG_MAX 8192

struct dgram {
	struct ike_addr from, to;
	size_t len;
	uint8_t buf[MSG_MAX];
};

struct side {
	struct ike *ike;
	struct dgram q[QMAX];           /* datagrams for this side */
	unsigned qh, qt;
	double cpu;                     /* seconds inside this side's calls */
	uint64_t children, done_ok, done_fail, next_handle;
	struct side *peer;
};

static struct side A, B;

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t bench_ms(void *ctx)
{
	(void)ctx;
	return (uint64_t)(now_s(CLOCK_MONOTONIC) * 1000);
}

static int bench_send(void *ctx, const struct ike_addr *l, const struct ike_addr *r,
		      const uint8_t *msg, size_t len)
{
	struct side *s = ctx, *p = s->peer;
	struct dgram *d;

	if (len > MSG_MAX || p->qt - p->qh == QMAX)
		return -ENOBUFS;
	d = &p->q[p->qt++ % QMAX];
	d->from = *l;
	d->to = *r;
	d->len = len;
	memcpy(d->buf, msg, len);
	return 0;
}

static int bench_child_add(void *ctx, const struct ike_child_install *c, uint64_t *h)
{
	struct side *s = ctx;

	(void)c;
	s->children++;
	*h = ++s->next_handle;
	return 0;
}

static void bench_child_del(void *ctx, uint64_t h)
{
	(void)ctx;
	(void)h;
}

static void bench_done(void *ctx, uint64_t token, int err, const struct ike_result *r)
{
	struct side *s = ctx;

	(void)token;
	if (err) {
		s->done_fail++;
		fprintf(stderr, "ike-bench: set-up failed: %s\n", r && r->why[0] ? r->why : strerror(-err));
	} else {
		s->done_ok++;
	}
}

/* The responder stands for a host with a secured listener on the port. */
static bool bench_flow_secured(void *ctx, const struct sn_ip *l, const struct sn_ip *r,
			       uint8_t proto, uint16_t lport, uint16_t rport)
{
	return true;
}

static void start(struct side *s, const char *path, struct side *peer)
{
	struct ike_ops ops = { .send = bench_send, .child_add = bench_child_add,
			       .child_del = bench_child_del, .acquire_done = bench_done,
			       .now_ms = bench_ms, .flow_secured = bench_flow_secured,
			       .ctx = s };
	struct ike_conf *c = ike_conf_new();
	char err[512];

	if (!c || ike_conf_load(c, path, err, sizeof(err))) {
		fprintf(stderr, "ike-bench: %s: %s\n", path, c ? err : "out of memory");
		exit(2);
	}
	if (ike_new(&s->ike, c, &ops, err, sizeof(err))) {
		fprintf(stderr, "ike-bench: %s: %s\n", path, err);
		exit(2);
	}
	s->peer = peer;
}

/* Deliver what is queued for s; true if anything was. */
static bool drain(struct side *s)
{
	bool any = s->qh != s->qt;
	double t0 = now_s(CLOCK_THREAD_CPUTIME_ID);

	while (s->qh != s->qt) {
		struct dgram *d = &s->q[s->qh++ % QMAX];

		ike_input(s->ike, &d->to, &d->from, d->buf, d->len, false);
	}
	s->cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - t0;
	return any;
}

static struct ike_addr addr4(uint32_t host)
{
	struct ike_addr a = { .ip = { .family = AF_INET }, .port = 500 };

	a.ip.addr[0] = (uint8_t)(host >> 24);
	a.ip.addr[1] = (uint8_t)(host >> 16);
	a.ip.addr[2] = (uint8_t)(host >> 8);
	a.ip.addr[3] = (uint8_t)host;
	return a;
}

static int setup_one(uint32_t i)
{
	struct ike_acquire a = { .token = i + 1, .family = AF_INET, .proto = 6,
				 .lport = 40000, .rport = 5201, .transport = true };
	uint64_t ok = A.done_ok + A.done_fail;
	double t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	int rc;

	a.local = addr4(0xc0000201);                    /* 192.0.2.1 */
	a.remote = addr4(0x0a000000 + i + 1);           /* a new peer each time */
	rc = ike_acquire(A.ike, &a);
	A.cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - t0;
	if (rc)
		return rc;
	for (int rounds = 0; rounds < 16 && A.done_ok + A.done_fail == ok; rounds++)
		if (!drain(&B) & !drain(&A))
			break;
	return A.done_ok + A.done_fail > ok && A.done_fail == 0 ? 0 : -EPROTO;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 2000;
	bool hold = argc > 4 && !strcmp(argv[4], "hold");
	long rss0;
	double wall;

	if (argc < 3) {
		fprintf(stderr, "usage: ike-bench CONF_A CONF_B [N [hold]]\n");
		return 2;
	}
	start(&A, argv[1], &B);
	start(&B, argv[2], &A);
	rss0 = rss_kib();
	wall = now_s(CLOCK_MONOTONIC);
	for (uint32_t i = 0; i < n; i++) {
		if (setup_one(i)) {
			fprintf(stderr, "ike-bench: set-up %u failed\n", i);
			return 1;
		}
		if (!hold) {
			char peer[32];

			snprintf(peer, sizeof(peer), "10.%u.%u.%u", ((i + 1) >> 16) & 0xff,
				 ((i + 1) >> 8) & 0xff, (i + 1) & 0xff);
			if (ike_terminate(A.ike, peer) == 0)
				while (drain(&B) | drain(&A))
					;
		}
	}
	wall = now_s(CLOCK_MONOTONIC) - wall;
	printf("set-ups            %u (%s)\n", n, hold ? "all held" : "each terminated after");
	printf("initiator          %.1f us CPU each: %.0f set-ups/s on one lcore\n",
	       A.cpu / n * 1e6, n / A.cpu);
	printf("responder          %.1f us CPU each: %.0f set-ups/s on one lcore\n",
	       B.cpu / n * 1e6, n / B.cpu);
	printf("both, one thread   %.0f set-ups/s wall\n", n / wall);
	printf("children           initiator %llu, responder %llu\n",
	       (unsigned long long)A.children, (unsigned long long)B.children);
	if (hold) {
		long per = (rss_kib() - rss0) * 1024 / (long)n / 2;

		printf("memory per pair    %ld bytes per side (RSS growth / N / 2)\n", per);
		printf("ike.sas            initiator %u, responder %u\n", ike_sa_count(A.ike),
		       ike_sa_count(B.ike));
	}
	printf("{\"ike_setups\": %u, \"ike_init_per_s\": %.0f, \"ike_resp_per_s\": %.0f, "
	       "\"ike_init_us\": %.1f, \"ike_resp_us\": %.1f, \"ike_rss_kib\": %ld}\n", n,
	       n / A.cpu, n / B.cpu, A.cpu / n * 1e6, B.cpu / n * 1e6, rss_kib() - rss0);
	ike_free(A.ike);
	ike_free(B.ike);
	return A.children == n && B.children == n ? 0 : 1;
}
