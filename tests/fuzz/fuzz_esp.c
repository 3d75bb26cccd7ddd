/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for inbound IPsec (ipsec/ipsec_in.c, esp_in.c, ah_in.c,
 * flow.c) in the running stack over the harness's fake port. SAs and
 * policies as a peer 10.0.0.2 / fd00::2 would have them:
 *
 *   SPI 0x2001  ESP AES-GCM-128 transport, IPv4   (policy: UDP to 9999)
 *   SPI 0x2002  ESP AES-GCM-128 tunnel 6-in-6      (policy: IPv6 UDP)
 *   SPI 0x3001  AH HMAC-SHA1 transport, IPv4       (policy: TCP)
 *   SPI 0x4001  ESP AES-GCM-256 in UDP 4500, IPv4  (policy: UDP to 9998)
 *   and outbound SAs for the replies (ICMP errors, RSTs, ...).
 *
 * Input: a selector byte, then bytes:
 *   0  IPv4 ESP: the bytes are the ESP part (SPI onwards) of a valid IPv4
 *      packet from the peer          1  the same over IPv6
 *   2  IPv4 UDP 4500: the bytes are the UDP payload (ESP in UDP)
 *   3  IPv4 AH: the bytes follow the IPv4 header (AH onwards)
 *   4  IPv6 AH
 *   5  sealed: byte 1 is the next header, the rest the payload, sealed
 *      correctly under SPI 0x2001 (the decrypt, rebuild and re-injection
 *      of arbitrary inner data)   6  the rest is the inner packet of the
 *      6-in-6 tunnel (next header from byte 1: 4, 41 or as given)
 *   7  sealed under the AH SA     8  sealed under the ESP-in-UDP SA
 *   9  a valid UDP datagram to 9999 carrying the rest, sealed (0x2001):
 *      must be delivered         10 the same inside the 6-in-6 tunnel
 *  11  up to SEQ_MAX packets one after the other, each as a selector
 *      byte (0-10), a length byte and its bytes: a TCP handshake under
 *      AH and its data, replays, ... (sequence numbers go on from one
 *      packet to the next)
 *
 * Raw inputs (0-4) can never authenticate: in_packets must not move and
 * nothing may reach a socket. No input may leak an mbuf or crash;
 * sanitizers catch the rest.
 *
 * Every input starts from the same state (fuzz_reset.h): the clock stands
 * still, connections, fragments and the neighbour caches are reset, and
 * each SA is put back as installed (replay window, sequence numbers,
 * lifetime use), so the peer's sequence numbers start again at 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "lwip/netif.h"
#include "sn_netif.h"
#include "harness.h"
#include "sn_ipsec_api.h"
#include "xfrm_parse.h"
#include "esp.h"
#include "ipsec_counters.h"
#include "ah.h"
#include "ipsec_dp.h"
#include "sad.h"
#include "fuzz_reset.h"

#define PORT_UDP   9999
#define PORT_ENCAP_UDP 9998
#define PEER_PORT  6000
#define NMODES     12
#define MODE_SEQ   11
#define SEQ_MAX    8

#define GCM16 "0x0102030405060708090a0b0c0d0e0f1011121314"
#define GCM32 "0x2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041424344"
#define SHA1K "0x5152535455565758595a5b5c5d5e5f6061626364"

static const char *const conf[] = {
	/* inbound SAs (the peer seals with these) */
	"state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x2001 mode transport reqid 2 "
	"aead 'rfc4106(gcm(aes))' " GCM16 " 128",
	"state add src fd00::2 dst fd00::1 proto esp spi 0x2002 mode tunnel reqid 12 "
	"aead 'rfc4106(gcm(aes))' " GCM16 " 128",
	"state add src 10.0.0.2 dst 10.0.0.1 proto ah spi 0x3001 mode transport reqid 3 "
	"auth 'hmac(sha1)' " SHA1K,
	"state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x4001 mode transport reqid 4 "
	"aead 'rfc4106(gcm(aes))' " GCM32 " 128 encap espinudp 4500 4500 0.0.0.0",
	/* outbound */
	"state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1001 mode transport reqid 1 "
	"aead 'rfc4106(gcm(aes))' " GCM16 " 128",
	"state add src fd00::1 dst fd00::2 proto esp spi 0x1002 mode tunnel reqid 11 "
	"aead 'rfc4106(gcm(aes))' " GCM16 " 128",
	"state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x1003 mode transport reqid 5 "
	"auth 'hmac(sha1)' " SHA1K,
	"policy add src 10.0.0.2/32 dst 10.0.0.1/32 proto udp dport 9999 dir in "
	"tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode transport reqid 2",
	"policy add src 10.0.0.2/32 dst 10.0.0.1/32 proto udp dport 9998 dir in "
	"tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode transport reqid 4",
	"policy add src 10.0.0.2/32 dst 10.0.0.1/32 proto tcp dir in "
	"tmpl src 10.0.0.2 dst 10.0.0.1 proto ah mode transport reqid 3",
	"policy add src fd00::2/128 dst fd00::1/128 proto udp dir in "
	"tmpl src fd00::2 dst fd00::1 proto esp mode tunnel reqid 12",
	"policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dir out "
	"tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode transport reqid 1",
	"policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto icmp dir out "
	"tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode transport reqid 1",
	"policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto tcp dir out "
	"tmpl src 10.0.0.1 dst 10.0.0.2 proto ah mode transport reqid 5",
	"policy add src fd00::1/128 dst fd00::2/128 proto udp dir out "
	"tmpl src fd00::1 dst fd00::2 proto esp mode tunnel reqid 11",
};

enum { SA_ESP4, SA_ESP6, SA_AH4, SA_ENCAP, NSEAL };
static struct sn_crypto *seal[NSEAL];
static const uint32_t spis[NSEAL] = { 0x2001, 0x2002, 0x3001, 0x4001 };
static uint64_t seqs[NSEAL];

static int socks[6], nsocks;
static uint32_t us4, peer4;
static uint8_t us6[16], peer6[16];

static int udp_socket(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(family, port, &ss);
	int fd = sn_socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || sn_bind(fd, (struct sockaddr *)&ss, len))
		abort();
	return fd;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_esp: %s: %s\n", what, err);
	abort();
}

/* Every SA of conf[] (inbound first, as seal[]) and a copy of each as
 * installed, put back after every input. */
#define NSAS 7
static const struct { uint32_t spi; bool v6, ah; } sa_ids[NSAS] = {
	{ 0x2001, false, false }, { 0x2002, true, false }, { 0x3001, false, true },
	{ 0x4001, false, false }, { 0x1001, false, false }, { 0x1002, true, false },
	{ 0x1003, false, true },
};
static struct sn_sa *sas[NSAS];
static struct sn_sa sa_start[NSAS];
static uint64_t sad_serial;

static void sas_init(void)
{
	for (int i = 0; i < NSAS; i++) {
		struct sn_ip dst = { .family = sa_ids[i].v6 ? AF_INET6 : AF_INET };
		bool out = i >= NSEAL;

		if (sa_ids[i].v6)
			h_ip6(out ? H_IP6_PEER : H_IP6_US, dst.addr);
		else {
			uint32_t a = h_ip4(out ? H_IP4_PEER : H_IP4_US);

			memcpy(dst.addr, &a, 4);
		}
		sas[i] = sn_sad_lookup(sn_ipsec.sad, sa_ids[i].spi, &dst, sa_ids[i].ah ? 51 : 50);
		if (!sas[i])
			die("SA not found", "sas_init");
		sa_start[i] = *sas[i];
	}
	sad_serial = sn_sad_serial(sn_ipsec.sad);
}

static void sas_reset(void)
{
	if (sn_sad_serial(sn_ipsec.sad) != sad_serial ||
	    sn_sad_count(sn_ipsec.sad) != NSAS)
		die("the SAD changed during an input", "sas_reset");
	for (int i = 0; i < NSAS; i++)
		*sas[i] = sa_start[i];
	memset(seqs, 0, sizeof(seqs));
}

static struct sn_crypto *peer_crypto(const char *line)
{
	struct sn_xfrm_entry e;
	struct sn_crypto *c = NULL;
	char err[128];
	const char *why = "crypto";

	if (sn_xfrm_parse_line(line, &e, err, sizeof(err)))
		die(line, err);
	if (sn_crypto_new_conf(&c, sn_crypto_default(), &e.sa, &why))
		die(line, why);
	memset(&e, 0, sizeof(e));
	return c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[SN_IPSEC_ERR_MAX];

	sn_sys_harness_reset(FZ_NOW_US);
	h_stack_start();
	h_learn_peer4();
	h_learn_peer6();
	if (sn_ipsec_start())
		die("sn_ipsec_start", "failed");
	for (size_t i = 0; i < sizeof(conf) / sizeof(conf[0]); i++)
		if (sn_ipsec_apply_line(conf[i], err, sizeof(err)))
			die(conf[i], err);
	for (int i = 0; i < NSEAL; i++)
		seal[i] = peer_crypto(conf[i]);
	socks[nsocks++] = h_listen(AF_INET, 80);
	socks[nsocks++] = udp_socket(AF_INET, PORT_UDP);
	socks[nsocks++] = udp_socket(AF_INET, PORT_ENCAP_UDP);
	socks[nsocks++] = udp_socket(AF_INET6, PORT_UDP);
	if (socks[0] < 0)
		abort();
	us4 = h_ip4(H_IP4_US);
	peer4 = h_ip4(H_IP4_PEER);
	h_ip6(H_IP6_US, us6);
	h_ip6(H_IP6_PEER, peer6);
	sas_init();
	fz_init(sas_reset);
	return 0;
}

static void snap(uint64_t *v)
{
	char n[80];

	for (int i = 0; i < SN_IC_MAX; i++) {
		snprintf(n, sizeof(n), "ipsec.%s", sn_ic_descs[i].name);
		v[i] = h_stat(n);
	}
}

/* Which IPsec counters moved since b (for the message of a failure). */
static void print_moved(const uint64_t *b)
{
	uint64_t a[SN_IC_MAX];

	snap(a);
	for (int i = 0; i < SN_IC_MAX; i++)
		if (a[i] != b[i])
			fprintf(stderr, "  ipsec.%s +%llu\n", sn_ic_descs[i].name,
				(unsigned long long)(a[i] - b[i]));
}

/* What the SAs accepted: their own counters (the sum over every SA slot
 * that --stats makes took more time than the input). */
static uint64_t in_packets(void)
{
	uint64_t n = 0;

	for (int i = 0; i < NSAS; i++)
		n += sas[i]->ctr[SN_IC_IN_PACKETS];
	return n;
}

/* ---- Frames -------------------------------------------------------------- */

static size_t frame4(uint8_t *f, uint8_t proto, const uint8_t *b, size_t n)
{
	return h_ipv4(f, proto, peer4, us4, b, n);
}

static size_t frame6(uint8_t *f, uint8_t proto, const uint8_t *b, size_t n)
{
	return h_ipv6(f, proto, peer6, us6, b, n);
}

/* UDP 4500 -> 4500 around b (ESP in UDP). */
static size_t frame_encap(uint8_t *f, const uint8_t *b, size_t n)
{
	uint8_t u[H_FRAME_MAX];

	return frame4(f, H_PROTO_UDP, u, h_udp_dgram(u, 4500, 4500, b, n));
}

/* IPv4 AH packet: header, AH room, payload; sealed when c is given, else
 * the bytes given are AH onwards. */
static size_t frame_ah4(uint8_t *f, struct sn_crypto *c, uint8_t nh, uint64_t seq,
			const uint8_t *b, size_t n)
{
	uint8_t *ip = f + h_eth(f, h_mac_us, h_mac_peer, H_ETH_IP4);
	size_t ah = c ? sn_ah_len(c, AF_INET) : 0, tot = H_IP4_HLEN + ah + n;

	memset(ip, 0, H_IP4_HLEN + ah);
	ip[0] = 0x45;
	h_put16(ip + 2, (uint16_t)tot);
	ip[8] = 64;
	ip[9] = 51;
	memcpy(ip + 12, &peer4, 4);
	memcpy(ip + 16, &us4, 4);
	memcpy(ip + H_IP4_HLEN + ah, b, n);
	if (c && sn_ah_seal(c, ip, tot, nh, spis[SA_AH4], seq, false))
		abort();
	h_put16(ip + 10, h_fold(h_sum(ip, H_IP4_HLEN, 0)));
	return H_ETH_HLEN + tot;
}

static size_t seal_esp(int sa, uint8_t nh, const uint8_t *b, size_t n, uint8_t *esp)
{
	struct sn_crypto *c = seal[sa];
	int len;

	memcpy(esp + sn_esp_hdr_len(c), b, n);
	len = sn_esp_seal(c, spis[sa], ++seqs[sa], false, nh, esp, H_FRAME_MAX, n);
	if (len < 0)
		abort();
	return (size_t)len;
}

/* A valid UDP datagram (v4: to 9999; v6: a whole IPv6 packet) with d. */
static size_t udp4_l4(const uint8_t *d, size_t n, uint8_t *out)
{
	uint8_t u[H_FRAME_MAX], f[H_FRAME_MAX + 64];
	size_t len = frame4(f, H_PROTO_UDP, u, h_udp_dgram(u, PEER_PORT, PORT_UDP, d, n));

	memcpy(out, f + H_ETH_HLEN + H_IP4_HLEN, len - H_ETH_HLEN - H_IP4_HLEN);
	return len - H_ETH_HLEN - H_IP4_HLEN;
}

static size_t udp6_ip(const uint8_t *d, size_t n, uint8_t *out)
{
	uint8_t u[H_FRAME_MAX], f[H_FRAME_MAX + 64];
	size_t len = frame6(f, H_PROTO_UDP, u, h_udp_dgram(u, PEER_PORT, PORT_UDP, d, n));

	f[H_ETH_HLEN + 7] = 64;
	memcpy(out, f + H_ETH_HLEN, len - H_ETH_HLEN);
	return len - H_ETH_HLEN;
}

static uint8_t tunnel_nh(uint8_t b)
{
	return b < 128 ? 41 : b < 192 ? 4 : b;
}

/* The frame for one input, or 0. *raw: no valid ICV is possible. */
static size_t build(unsigned mode, const uint8_t *d, size_t n, uint8_t *f, bool *raw)
{
	uint8_t esp[H_FRAME_MAX + 64], in[H_FRAME_MAX + 64];

	*raw = mode <= 4;
	if (n > 1400)
		return 0;               /* room for headers in one frame */
	switch (mode) {
	case 0: return frame4(f, 50, d, n);
	case 1: return frame6(f, 50, d, n);
	case 2: return frame_encap(f, d, n);
	case 3: return frame4(f, 51, d, n);
	case 4: return frame6(f, 51, d, n);
	}
	if (n < 1)
		return 0;
	switch (mode) {
	case 5: return frame4(f, 50, esp, seal_esp(SA_ESP4, d[0], d + 1, n - 1, esp));
	case 6: return frame6(f, 50, esp, seal_esp(SA_ESP6, tunnel_nh(d[0]), d + 1, n - 1, esp));
	case 7: return frame_ah4(f, seal[SA_AH4], d[0], ++seqs[SA_AH4], d + 1, n - 1);
	case 8: return frame_encap(f, esp, seal_esp(SA_ENCAP, d[0], d + 1, n - 1, esp));
	case 9:
		n = udp4_l4(d + 1, n - 1, in);
		return frame4(f, 50, esp, seal_esp(SA_ESP4, 17, in, n, esp));
	case 10:
		n = udp6_ip(d + 1, n - 1, in);
		return frame6(f, 50, esp, seal_esp(SA_ESP6, 41, in, n, esp));
	}
	return 0;
}

/* One packet: inject, run, read what reached the sockets, check. false
 * when no frame could be built from the bytes. */
static bool one_packet(unsigned mode, const uint8_t *d, size_t size)
{
	uint8_t f[H_FRAME_MAX + 256];
	uint64_t before, ctr[SN_IC_MAX];
	size_t n;
	bool raw;
	int got;
	/* Full snapshots are slow (every counter walks the SAD): only with
	 * FUZZ_ESP_DEBUG, for the messages below. */
	static int debug = -1;

	n = build(mode, d, size, f, &raw);
	if (!n || n > H_FRAME_MAX)
		return false;
	if (debug < 0)
		debug = getenv("FUZZ_ESP_DEBUG") != NULL;
	if (debug)
		snap(ctr);
	before = in_packets();
	if (h_inject(f, n))
		abort();
	h_poll(3);
	got = fz_drain(socks, nsocks);
	fz_trace("fuzz_esp", n, got);
	if (raw && (got || in_packets() != before)) {
		fprintf(stderr, "fuzz_esp: unauthenticated input accepted (%d delivered, "
			"in_packets +%llu)\n", got, (unsigned long long)(in_packets() - before));
		if (debug)
			print_moved(ctr);
		abort();
	}
	if (mode >= 9 && got != 1) {
		fprintf(stderr, "fuzz_esp: a valid sealed datagram was not delivered (%d; "
			"fd00::1 state 0x%x)\n", got, netif_ip6_addr_state(&sn_netif, 0));
		if (debug)
			print_moved(ctr);
		if (debug)
			sn_stats_print(stderr);
		abort();
	}
	if (sn_ipsec.rq_count)
		die("decapsulated packets still wait to re-enter lwIP", "after the input");
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool built = false;

	if (size < 1)
		return 0;
	fz_begin();
	if (data[0] % NMODES == MODE_SEQ) {
		size_t i = 1;

		for (int k = 0; k < SEQ_MAX && i + 2 <= size; k++) {
			size_t len = data[i + 1];
			unsigned mode = data[i] % MODE_SEQ;

			i += 2;
			if (len > size - i)
				len = size - i;
			built |= one_packet(mode, data + i, len);
			i += len;
		}
	} else {
		built = one_packet(data[0] % NMODES, data + 1, size - 1);
	}
	fz_end("fuzz_esp");
	return built ? 0 : -1;
}
