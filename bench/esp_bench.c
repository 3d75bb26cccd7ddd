/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * esp-bench: per-packet ESP seal and open for 64, 512 and 1400-byte
 * payloads, each crypto backend and each AEAD, against the raw
 * intel-ipsec-mb AES-128-GCM encryption of the same bytes, all in one run
 * (absolute times drift on shared machines; ratios hold).
 *
 *   esp-bench [seconds per figure, default 0.5]
 *
 * Seal is sn_esp_seal() (IV = sequence number, as on the datapath). Open is
 * measured as seal + open of the same buffer minus seal, since open
 * decrypts in place. Every figure is the best of ROUNDS interleaved rounds,
 * so a burst of load from a neighbour does not land on one figure only. Prints a table, then one JSON line; the figure the
 * issue asks for is "esp_gcm128_1400_vs_raw": ESP seal throughput over raw
 * cipher throughput at 1400 bytes (target >= 0.8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <intel-ipsec-mb.h>

#include "../ipsec/esp.h"

#define NSIZES 3
#define NALGS 3
#define BUF 2048
#define ROUNDS 5

static const size_t sizes[NSIZES] = { 64, 512, 1400 };

static const struct {
	const char *name;
	enum sn_enc_alg enc;
	size_t key_len;
} algs[NALGS] = {
	{ "aes128-gcm", SN_ENC_AES_GCM, 20 },
	{ "aes256-gcm", SN_ENC_AES_GCM, 36 },
	{ "chacha20-poly1305", SN_ENC_CHACHA20_POLY1305, 36 },
};

static double seconds = 0.5;     /* per figure, over all rounds */
static volatile uint64_t sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* What one measurement runs, n times. */
struct job {
	struct sn_crypto *c;
	IMB_MGR *mgr;
	struct gcm_key_data *gk;
	uint8_t *buf;
	size_t len;
	int what;                       /* 0 seal, 1 seal+open, 2 raw GCM */
};

static void run(struct job *j, uint64_t n)
{
	struct sn_esp_payload p;
	uint8_t iv[12] = { 1 }, aad[8] = { 2 }, tag[16];
	struct gcm_context_data ctx;

	for (uint64_t i = 0; i < n; i++) {
		if (j->what == 2) {
			IMB_AES128_GCM_ENC(j->mgr, j->gk, &ctx, j->buf, j->buf, j->len,
					   iv, aad, sizeof(aad), tag, sizeof(tag));
			sink += tag[0];
			continue;
		}
		int len = sn_esp_seal(j->c, 0x1000, i + 1, false, 4, j->buf, BUF,
				      j->len);
		if (j->what == 1 &&
		    sn_esp_open(j->c, i + 1, false, j->buf, (size_t)len, &p) != 0)
			abort();
		sink += (uint64_t)len;
	}
}

/* Nanoseconds per call: calibrate, then run for about `seconds`. */
static double measure(struct job *j)
{
	uint64_t n = 1000;
	double t0, dt;

	for (;;) {
		t0 = now();
		run(j, n);
		dt = now() - t0;
		if (dt > seconds / ROUNDS / 10)
			break;
		n *= 4;
	}
	n = (uint64_t)((double)n * seconds / ROUNDS / dt) + 1;
	t0 = now();
	run(j, n);
	return (now() - t0) * 1e9 / (double)n;
}

static double gbps(size_t bytes, double ns)
{
	return (double)bytes * 8 / ns;
}

struct result {
	double seal_ns, open_ns, both_ns;       /* best of the rounds */
};

static struct result res[SN_CRYPTO_NBACKENDS][NALGS][NSIZES];
static double raw_ns[NSIZES];

static void keep_min(double *best, double v)
{
	if (*best == 0 || v < *best)
		*best = v;
}

static void bench_alg(enum sn_crypto_backend be, int a, uint8_t *buf)
{
	uint8_t key[64];
	struct sn_crypto *c;

	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 11 + 3);
	if (sn_crypto_new(&c, be, algs[a].enc, key, algs[a].key_len,
			  SN_AUTH_NONE, NULL, 0, 0, NULL) != 0) {
		fprintf(stderr, "esp-bench: %s on %s unavailable\n", algs[a].name,
			sn_crypto_backend_name(be));
		exit(1);
	}
	for (int s = 0; s < NSIZES; s++) {
		struct job j = { .c = c, .buf = buf, .len = sizes[s] };
		struct result *r = &res[be][a][s];

		j.what = 0;
		keep_min(&r->seal_ns, measure(&j));
		j.what = 1;
		keep_min(&r->both_ns, measure(&j));
		r->open_ns = r->both_ns - r->seal_ns;
	}
	sn_crypto_free(c);
}

static void bench_raw(uint8_t *buf)
{
	uint8_t key[16] = { 7 };
	IMB_MGR *m = alloc_mb_mgr(0);
	struct gcm_key_data *gk = aligned_alloc(64, sizeof(*gk) + 64);

	init_mb_mgr_auto(m, NULL);
	IMB_AES128_GCM_PRE(m, key, gk);
	for (int s = 0; s < NSIZES; s++) {
		struct job j = { .mgr = m, .gk = gk, .buf = buf, .len = sizes[s],
				 .what = 2 };

		keep_min(&raw_ns[s], measure(&j));
	}
	free(gk);
	free_mb_mgr(m);
}

/*
 * The headline ratio: raw cipher, ESP seal and ESP seal+open at 1400 bytes
 * measured in tight alternation (PAIRS times, best of each), so that load
 * from neighbours hits all three alike.
 */
#define PAIRS 20
static double pair_raw, pair_seal, pair_both;

static void bench_pairs(uint8_t *buf)
{
	uint8_t key[20] = { 7 };
	IMB_MGR *m = alloc_mb_mgr(0);
	struct gcm_key_data *gk = aligned_alloc(64, sizeof(*gk) + 64);
	struct sn_crypto *c;
	double keep = seconds;

	init_mb_mgr_auto(m, NULL);
	IMB_AES128_GCM_PRE(m, key, gk);
	if (sn_crypto_new(&c, SN_CRYPTO_MB, SN_ENC_AES_GCM, key, 20, SN_AUTH_NONE,
			  NULL, 0, 0, NULL) != 0)
		exit(1);
	seconds = keep * ROUNDS / PAIRS / 2;    /* measure() divides by ROUNDS */
	for (int i = 0; i < PAIRS; i++) {
		struct job raw = { .mgr = m, .gk = gk, .buf = buf, .len = 1400,
				   .what = 2 };
		struct job esp = { .c = c, .buf = buf, .len = 1400, .what = 0 };

		keep_min(&pair_raw, measure(&raw));
		keep_min(&pair_seal, measure(&esp));
		esp.what = 1;
		keep_min(&pair_both, measure(&esp));
	}
	seconds = keep;
	sn_crypto_free(c);
	free(gk);
	free_mb_mgr(m);
}

static void print_table(void)
{
	printf("%-9s %-18s %6s %10s %10s %10s %10s\n", "backend", "aead", "bytes",
	       "seal ns", "seal Gb/s", "open ns", "open Gb/s");
	for (int be = 0; be < SN_CRYPTO_NBACKENDS; be++)
		for (int a = 0; a < NALGS; a++)
			for (int s = 0; s < NSIZES; s++) {
				struct result *r = &res[be][a][s];

				printf("%-9s %-18s %6zu %10.1f %10.2f %10.1f %10.2f\n",
				       sn_crypto_backend_name(be), algs[a].name, sizes[s],
				       r->seal_ns, gbps(sizes[s], r->seal_ns), r->open_ns,
				       gbps(sizes[s], r->open_ns));
			}
	for (int s = 0; s < NSIZES; s++)
		printf("%-9s %-18s %6zu %10.1f %10.2f\n", "raw-imb", "aes128-gcm",
		       sizes[s], raw_ns[s], gbps(sizes[s], raw_ns[s]));
}

static void print_json(double ratio_seal, double ratio_open)
{
	printf("{\"bench\":\"esp\",\"unit\":\"ns_per_packet\",\"results\":[");
	for (int be = 0; be < SN_CRYPTO_NBACKENDS; be++)
		for (int a = 0; a < NALGS; a++)
			for (int s = 0; s < NSIZES; s++)
				printf("%s{\"backend\":\"%s\",\"aead\":\"%s\",\"bytes\":%zu,"
				       "\"seal_ns\":%.1f,\"open_ns\":%.1f}",
				       be + a + s ? "," : "", sn_crypto_backend_name(be),
				       algs[a].name, sizes[s], res[be][a][s].seal_ns,
				       res[be][a][s].open_ns);
	printf("],\"raw_imb_aes128_gcm_ns\":{\"64\":%.1f,\"512\":%.1f,\"1400\":%.1f},",
	       raw_ns[0], raw_ns[1], raw_ns[2]);
	printf("\"esp_gcm128_1400_vs_raw\":%.3f,\"esp_open_gcm128_1400_vs_raw\":%.3f,"
	       "\"target\":0.8}\n", ratio_seal, ratio_open);
}

int main(int argc, char **argv)
{
	static uint8_t buf[BUF] __attribute__((aligned(64)));
	double ratio_seal, ratio_open;

	if (argc > 1)
		seconds = atof(argv[1]);
	if (!(seconds > 0))
		seconds = 0.5;
	for (int round = 0; round < ROUNDS; round++) {
		bench_raw(buf);
		for (int be = 0; be < SN_CRYPTO_NBACKENDS; be++)
			for (int a = 0; a < NALGS; a++)
				bench_alg((enum sn_crypto_backend)be, a, buf);
	}
	bench_pairs(buf);
	print_table();
	ratio_seal = pair_raw / pair_seal;
	ratio_open = pair_raw / (pair_both - pair_seal);
	printf("ESP AES-128-GCM 1400 B / raw cipher (alternated, best of %d): "
	       "raw %.1f ns, seal %.1f ns, open %.1f ns; ratio seal %.2f, "
	       "open %.2f (target >= 0.80)\n", PAIRS, pair_raw, pair_seal,
	       pair_both - pair_seal, ratio_seal, ratio_open);
	print_json(ratio_seal, ratio_open);
	return 0;
}
