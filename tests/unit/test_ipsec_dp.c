/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPsec datapath inside the running stack (ipsec/ipsec_in.c,
 * ipsec_out.c, flow.c, ipsec.c) through the harness's fake port: the test
 * plays the peer, sealing ESP/AH packets with the library's transforms on
 * the *other* crypto backend (sn_esp_seal, sn_ah_seal; the peer's SA conf
 * parsed from the same `ip xfrm` line), injecting them, and opening what
 * the stack sends.
 *
 *   peer (this file)                       stack (10.0.0.1, fd00::1)
 *   seal(SA 0x2001) --frame--> fake RX --> ipsec_in --> UDP socket :5000
 *   open(SA 0x1001) <--frame-- fake TX <-- ipsec_out <-- sn_sendto reply
 *
 *   1. every algorithm x transport/tunnel x IPv4/IPv6/4in6/6in4, plus
 *      ESP in UDP: delivered with the right source, reply protected;
 *   2. attacks: each dropped, nothing delivered, the named counter +1 and
 *      no other drop counter moved;
 *   3. outbound: no SA, block, fragmentation after ESP, TCP MSS;
 *   4. teardown: every SA's crypto freed by sn_ipsec_stop, deleted SA
 *      slots wiped, no mbuf leaked.
 *
 * Matrix tests loop over their cases inside one process (IPsec is stopped
 * and started between cases, which resets the SAD and SPD) and report
 * every failing case before failing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "harness.h"
#include "ipsec_dp.h"
#include "ipsec_counters.h"
#include "sn_ipsec_api.h"
#include "xfrm_parse.h"
#include "esp.h"
#include "ah.h"

#include <mbedtls/md.h>

#define US_PORT   5000
#define PEER_PORT 6000
#define SPI_OUT   0x1001u       /* us -> peer */
#define SPI_IN    0x2001u       /* peer -> us */
#define NH_IPV4   4
#define NH_IPV6   41
#define NH_NONE   59
#define PROTO_ESP 50
#define PROTO_AH  51
#define ENCAP_PORT 4500

/* ---- Failure reporting: every case runs, all failures are listed -------- */

static int nfail;
static const char *cur_case = "";

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL [%s]: ", cur_case);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	nfail++;
}

#define CHECK(cond, ...) do { if (!(cond)) { fail(__VA_ARGS__); } } while (0)

/* ---- Algorithms and cases -------------------------------------------------- */

struct alg {
	const char *name;
	bool ah;
	const char *aead;               /* AEAD name, or NULL */
	const char *enc;                /* else encryption name (NULL for AH) */
	int enc_klen;                   /* bytes; AEAD: salt included */
	const char *auth;
	int auth_klen;
	int trunc;                      /* auth-trunc bits, 0 for plain auth */
};

static const struct alg algs[] = {
	{ "gcm128", false, "rfc4106(gcm(aes))", NULL, 20, NULL, 0, 0 },
	{ "gcm256", false, "rfc4106(gcm(aes))", NULL, 36, NULL, 0, 0 },
	{ "chacha", false, "rfc7539esp(chacha20,poly1305)", NULL, 36, NULL, 0, 0 },
	{ "cbc128-sha1", false, NULL, "cbc(aes)", 16, "hmac(sha1)", 20, 0 },
	{ "cbc256-sha1", false, NULL, "cbc(aes)", 32, "hmac(sha1)", 20, 0 },
	{ "cbc128-sha256", false, NULL, "cbc(aes)", 16, "hmac(sha256)", 32, 128 },
	{ "cbc256-sha256", false, NULL, "cbc(aes)", 32, "hmac(sha256)", 32, 128 },
	{ "null-sha1", false, NULL, "ecb(cipher_null)", 0, "hmac(sha1)", 20, 0 },
	{ "null-sha256", false, NULL, "ecb(cipher_null)", 0, "hmac(sha256)", 32, 128 },
	{ "ah-sha1", true, NULL, NULL, 0, "hmac(sha1)", 20, 0 },
	{ "ah-sha256", true, NULL, NULL, 0, "hmac(sha256)", 32, 128 },
	/* `auth hmac(sha256)` / `auth sha256`: Linux's 96-bit truncation */
	{ "cbc128-sha256-96", false, NULL, "cbc(aes)", 16, "hmac(sha256)", 32, 0 },
	{ "null-sha256-96", false, NULL, "ecb(cipher_null)", 0, "sha256", 32, 0 },
	{ "ah-sha256-96", true, NULL, NULL, 0, "sha256", 32, 0 },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

enum { A_GCM128, A_GCM256, A_CHACHA, A_CBC128_SHA1, A_CBC256_SHA1, A_CBC128_SHA256,
       A_CBC256_SHA256, A_NULL_SHA1, A_NULL_SHA256, A_AH_SHA1, A_AH_SHA256,
       A_CBC128_SHA256_96, A_NULL_SHA256_96, A_AH_SHA256_96 };

struct cfg {
	const struct alg *alg;
	bool tunnel;
	int inner, outer;               /* AF_INET / AF_INET6 */
	bool encap;
	const char *pol_proto;          /* "udp" unless given */
	const char *sa_in_extra;        /* appended to the inbound SA line */
	const char *in_pol_extra;       /* appended to the inbound policy's selector */
	bool esn;                       /* the peer seals with 64-bit sequence numbers */
	const char *sa_out_extra;       /* appended to the outbound SA line */
};

static const char *us_str(int fam) { return fam == AF_INET ? H_IP4_US : H_IP6_US; }
static const char *peer_str(int fam) { return fam == AF_INET ? H_IP4_PEER : H_IP6_PEER; }
static int plen(int fam) { return fam == AF_INET ? 32 : 128; }

static void hexkey(char *out, int n, unsigned seed)
{
	out += sprintf(out, "0x");
	for (int i = 0; i < n; i++)
		out += sprintf(out, "%02x", (unsigned)((seed * 37 + i * 11 + 5) & 0xff));
	if (!n)
		sprintf(out - 2, "\"\"");
}

static void alg_words(const struct alg *a, unsigned seed, char *out)
{
	char k1[160], k2[160];

	hexkey(k1, a->enc_klen, seed);
	hexkey(k2, a->auth_klen, seed + 100);
	if (a->aead)
		sprintf(out, "aead '%s' %s 128", a->aead, k1);
	else if (a->ah && a->trunc)
		sprintf(out, "auth-trunc '%s' %s %d", a->auth, k2, a->trunc);
	else if (a->ah)
		sprintf(out, "auth '%s' %s", a->auth, k2);
	else if (a->trunc)
		sprintf(out, "enc '%s' %s auth-trunc '%s' %s %d", a->enc, k1, a->auth, k2, a->trunc);
	else
		sprintf(out, "enc '%s' %s auth '%s' %s", a->enc, k1, a->auth, k2);
}

/* ---- The peer ------------------------------------------------------------------ */

struct peer {
	struct cfg c;
	struct sn_crypto *seal;         /* the stack's inbound SA, SPI_IN */
	struct sn_crypto *open;         /* the stack's outbound SA, SPI_OUT */
	uint64_t seq;                   /* last sequence number sealed */
	int fd4, fd6;                   /* the stack's UDP sockets */
};

static void sa_line(const struct cfg *c, bool in, char *out)
{
	char w[600];
	int o = c->outer;

	alg_words(c->alg, in ? 2 : 1, w);
	sprintf(out, "state add src %s dst %s proto %s spi 0x%x mode %s reqid %d %s%s%s %s %s",
		in ? peer_str(o) : us_str(o), in ? us_str(o) : peer_str(o),
		c->alg->ah ? "ah" : "esp", in ? SPI_IN : SPI_OUT,
		c->tunnel ? "tunnel" : "transport", in ? 2 : 1, w,
		c->encap ? " encap espinudp 4500 4500 " : "",
		c->encap ? (o == AF_INET ? "0.0.0.0" : "::") : "",
		in && c->sa_in_extra ? c->sa_in_extra : "",
		!in && c->sa_out_extra ? c->sa_out_extra : "");
}

static void pol_line(const struct cfg *c, bool in, char *out)
{
	int i = c->inner, o = c->outer;

	sprintf(out, "policy add src %s/%d dst %s/%d proto %s %s dir %s tmpl src %s dst %s "
		"proto %s mode %s reqid %d",
		in ? peer_str(i) : us_str(i), plen(i), in ? us_str(i) : peer_str(i), plen(i),
		c->pol_proto ? c->pol_proto : "udp",
		in && c->in_pol_extra ? c->in_pol_extra : "", in ? "in" : "out",
		in ? peer_str(o) : us_str(o), in ? us_str(o) : peer_str(o),
		c->alg->ah ? "ah" : "esp", c->tunnel ? "tunnel" : "transport", in ? 2 : 1);
}

static void apply(const char *line)
{
	char err[SN_IPSEC_ERR_MAX] = "";
	int rc = sn_ipsec_apply_line(line, err, sizeof(err));

	cr_assert_eq(rc, 0, "[%s] %s: %s", cur_case, line, err);
}

/* The peer uses the backend the stack does not: two implementations. */
static enum sn_crypto_backend peer_backend(void)
{
	if (sn_crypto_default() == SN_CRYPTO_MB)
		return SN_CRYPTO_MBEDTLS;
	return sn_crypto_mb_usable() ? SN_CRYPTO_MB : SN_CRYPTO_MBEDTLS;
}

static struct sn_crypto *crypto_for(const char *line)
{
	struct sn_xfrm_entry e;
	struct sn_crypto *c = NULL;
	char err[128];
	const char *why = NULL;

	cr_assert_eq(sn_xfrm_parse_line(line, &e, err, sizeof(err)), 0, "%s: %s", line, err);
	cr_assert_eq(sn_crypto_new_conf(&c, peer_backend(), &e.sa, &why), 0, "%s",
		     why ? why : "crypto");
	memset(&e, 0, sizeof(e));
	return c;
}

static void peer_free(struct peer *p)
{
	sn_crypto_free(p->seal);
	sn_crypto_free(p->open);
	p->seal = p->open = NULL;
}

/* Fresh IPsec state with the SAs and policies of c. */
static void peer_setup(struct peer *p, const struct cfg *c, bool policies, bool sas)
{
	char l[1200];

	peer_free(p);
	sn_ipsec_stop();
	cr_assert_eq(sn_ipsec_start(), 0);
	p->c = *c;
	p->seq = 0;
	sa_line(c, true, l);
	p->seal = crypto_for(l);
	if (sas)
		apply(l);
	sa_line(c, false, l);
	p->open = crypto_for(l);
	if (sas)
		apply(l);
	if (!policies)
		return;
	pol_line(c, true, l);
	apply(l);
	pol_line(c, false, l);
	apply(l);
}

/* ---- Building packets as the peer ------------------------------------------------- */

static void addr_of(int fam, bool us, uint8_t *out)
{
	if (fam == AF_INET) {
		uint32_t a = h_ip4(us ? H_IP4_US : H_IP4_PEER);

		memcpy(out, &a, 4);
	} else {
		h_ip6(us ? H_IP6_US : H_IP6_PEER, out);
	}
}

/* An IP packet (no Ethernet) of family fam carrying l4 (checksum filled in
 * by the frame builders), from src to dst. */
static size_t ip_pkt(int fam, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		     const void *l4, size_t l4len, uint8_t *out)
{
	uint8_t f[H_FRAME_MAX + 64];
	size_t n;

	if (fam == AF_INET) {
		uint32_t s, d;

		memcpy(&s, src, 4);
		memcpy(&d, dst, 4);
		n = h_ipv4(f, proto, s, d, l4, l4len);
	} else {
		n = h_ipv6(f, proto, src, dst, l4, l4len);
		f[H_ETH_HLEN + 7] = 64;
	}
	memcpy(out, f + H_ETH_HLEN, n - H_ETH_HLEN);
	return n - H_ETH_HLEN;
}

/* Cleartext UDP from the peer to us, as an IP packet of family fam. */
static size_t udp_pkt(int fam, uint16_t sport, uint16_t dport, const void *d, size_t dl,
		      uint8_t *out)
{
	uint8_t b[H_FRAME_MAX], s[16], t[16];

	addr_of(fam, false, s);
	addr_of(fam, true, t);
	return ip_pkt(fam, H_PROTO_UDP, s, t, b, h_udp_dgram(b, sport, dport, d, dl), out);
}

static size_t ip_hlen(const uint8_t *ip)
{
	return (ip[0] >> 4) == 4 ? (size_t)(ip[0] & 15) * 4 : H_IP6_HLEN;
}

/* ESP as the peer: payload sealed under SA_IN at seq. Returns the ESP length. */
static size_t seal_esp(struct peer *p, const void *pl, size_t len, uint8_t nh,
		       uint64_t seq, uint8_t *esp)
{
	int n;

	memcpy(esp + sn_esp_hdr_len(p->seal), pl, len);
	n = sn_esp_seal(p->seal, SPI_IN, seq, p->c.esn, nh, esp, H_FRAME_MAX, len);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

/* Outer frame around an ESP (or, with encap, UDP+ESP) body. */
static size_t esp_frame(const struct peer *p, const uint8_t *esp, size_t len, uint8_t *f)
{
	uint8_t body[H_FRAME_MAX + 64], s[16], d[16], ip[H_FRAME_MAX + 64];
	int o = p->c.outer;
	size_t n = len, iplen;
	uint8_t proto = PROTO_ESP;

	addr_of(o, false, s);
	addr_of(o, true, d);
	if (p->c.encap) {
		h_udp_dgram(body, ENCAP_PORT, ENCAP_PORT, esp, len);
		n += 8;
		proto = H_PROTO_UDP;
	} else {
		memcpy(body, esp, len);
	}
	iplen = ip_pkt(o, proto, s, d, body, n, ip);
	h_eth(f, h_mac_us, h_mac_peer, o == AF_INET ? H_ETH_IP4 : H_ETH_IP6);
	memcpy(f + H_ETH_HLEN, ip, iplen);
	return H_ETH_HLEN + iplen;
}

static void ip4_csum(uint8_t *ip)
{
	h_put16(ip + 10, 0);
	h_put16(ip + 10, h_fold(h_sum(ip, ip_hlen(ip), 0)));
}

/* AH as the peer: outer header (family outer), AH, payload; a frame. */
static size_t ah_frame(struct peer *p, const void *pl, size_t len, uint8_t nh,
		       uint64_t seq, uint8_t *f)
{
	int o = p->c.outer;
	size_t hl = o == AF_INET ? H_IP4_HLEN : H_IP6_HLEN, ah = sn_ah_len(p->seal, o);
	size_t tot = hl + ah + len;
	uint8_t *ip = f + h_eth(f, h_mac_us, h_mac_peer, o == AF_INET ? H_ETH_IP4 : H_ETH_IP6);

	memset(ip, 0, hl + ah);
	if (o == AF_INET) {
		ip[0] = 0x45;
		h_put16(ip + 2, (uint16_t)tot);
		h_put16(ip + 4, 0x4321);
		ip[8] = 64;
		ip[9] = PROTO_AH;
		addr_of(o, false, ip + 12);
		addr_of(o, true, ip + 16);
	} else {
		ip[0] = 0x60;
		h_put16(ip + 4, (uint16_t)(tot - H_IP6_HLEN));
		ip[6] = PROTO_AH;
		ip[7] = 64;
		addr_of(o, false, ip + 8);
		addr_of(o, true, ip + 24);
	}
	memcpy(ip + hl + ah, pl, len);
	cr_assert_eq(sn_ah_seal(p->seal, ip, tot, nh, SPI_IN, seq, false), 0);
	if (o == AF_INET)
		ip4_csum(ip);
	return H_ETH_HLEN + tot;
}

/* The inner IP packet protected as the peer's SA says: a whole frame. */
static size_t protect_seq(struct peer *p, const uint8_t *ip, size_t iplen, uint64_t seq,
			  uint8_t *f)
{
	uint8_t esp[H_FRAME_MAX + 64];
	size_t hl = p->c.tunnel ? 0 : ip_hlen(ip);
	uint8_t nh = p->c.tunnel ? (p->c.inner == AF_INET ? NH_IPV4 : NH_IPV6)
				 : ip[(ip[0] >> 4) == 4 ? 9 : 6];

	if (p->c.alg->ah)
		return ah_frame(p, ip + hl, iplen - hl, nh, seq, f);
	return esp_frame(p, esp, seal_esp(p, ip + hl, iplen - hl, nh, seq, esp), f);
}

static size_t protect(struct peer *p, const uint8_t *ip, size_t iplen, uint8_t *f)
{
	return protect_seq(p, ip, iplen, ++p->seq, f);
}

static void inject(const uint8_t *f, size_t n)
{
	cr_assert_eq(h_inject(f, n), 0);
	h_poll(4);
}

/* ---- Sockets ------------------------------------------------------------------------- */

static int udp_sock(int fam, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(fam, port, &ss);
	int fd = sn_socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(sn_bind(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

/* A datagram waiting on fd, or -1. */
static long sock_take(int fd, void *buf, size_t cap, struct sockaddr_storage *from)
{
	socklen_t fl = sizeof(*from);

	memset(from, 0, sizeof(*from));
	return (long)sn_recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &fl);
}

static bool from_peer(int fam, const struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_storage want;

	h_peer_addr(fam, port, &want);
	if (ss->ss_family != fam)
		return false;
	if (fam == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss, *b = (const void *)&want;

		return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *a = (const void *)ss, *b = (const void *)&want;

	return a->sin6_port == b->sin6_port &&
	       !memcmp(&a->sin6_addr, &b->sin6_addr, 16);
}

/* Nothing waits on either socket. */
static bool nothing_delivered(const struct peer *p)
{
	uint8_t b[2048];
	struct sockaddr_storage ss;
	bool none = true;

	while (sock_take(p->fd4, b, sizeof(b), &ss) >= 0)
		none = false;
	while (sock_take(p->fd6, b, sizeof(b), &ss) >= 0)
		none = false;
	return none;
}

/* ---- Opening what the stack sends ------------------------------------------------------ */

/* The next captured frame of family fam whose IP protocol (or IPv6 next
 * header) is proto; other frames of the family are discarded. */
static size_t tx_take(int fam, uint8_t proto, uint8_t *buf)
{
	uint16_t et = fam == AF_INET ? H_ETH_IP4 : H_ETH_IP6;
	size_t n;

	while ((n = h_tx_find(et, -1, buf, H_FRAME_MAX)) != 0) {
		const uint8_t *ip = buf + H_ETH_HLEN;

		if ((fam == AF_INET ? ip[9] : ip[6]) == proto)
			return n;
	}
	return 0;
}

struct opened {
	uint8_t nh;
	const uint8_t *pl;
	size_t len;
	uint64_t seq;
};

/* Open an ESP/AH IP packet from the stack in place (peer's view). */
static int open_ip(struct peer *p, uint8_t *ip, size_t iplen, struct opened *o)
{
	size_t hl = ip_hlen(ip);

	if (p->c.alg->ah) {
		struct sn_ah_info ai;

		if (sn_ah_parse(ip, iplen, &ai) || ai.spi != SPI_OUT)
			return -1;
		o->seq = ai.seq_lo;
		if (sn_ah_open(p->open, ip, iplen, ai.seq_lo, false, &ai))
			return -2;
		o->nh = ai.next_header;
		o->pl = ip + ai.ah_off + ai.ah_len;
		o->len = ai.pkt_len - ai.ah_off - ai.ah_len;
		return 0;
	}
	uint8_t *esp = ip + hl;
	size_t len = iplen - hl;
	uint32_t spi, seq;
	struct sn_esp_payload pl;

	if (p->c.encap) {
		if (len < 8 || h_be16(esp) != ENCAP_PORT || h_be16(esp + 2) != ENCAP_PORT ||
		    h_be16(esp + 4) != len)
			return -3;
		esp += 8;
		len -= 8;
	}
	if (sn_esp_peek(esp, len, &spi, &seq) || spi != SPI_OUT)
		return -1;
	o->seq = seq;
	if (sn_esp_open(p->open, seq, false, esp, len, &pl))
		return -2;
	o->nh = pl.next_header;
	o->pl = esp + pl.off;
	o->len = pl.len;
	return 0;
}

static size_t ip_total(const uint8_t *ip)
{
	return (ip[0] >> 4) == 4 ? h_be16(ip + 2) : H_IP6_HLEN + (size_t)h_be16(ip + 4);
}

/* UDP checksum over the pseudo header of src/dst (v4: 0 is allowed). */
static bool udp_csum_ok(int fam, const uint8_t *src, const uint8_t *dst,
			const uint8_t *u, size_t len)
{
	uint32_t s = h_sum(src, fam == AF_INET ? 4 : 16, 0);

	if (fam == AF_INET && h_be16(u + 6) == 0)
		return true;
	s = h_sum(dst, fam == AF_INET ? 4 : 16, s) + H_PROTO_UDP + (uint32_t)len;
	return h_be16(u + 6) != 0 && h_fold(h_sum(u, len, s)) == 0;
}

/* The stack's reply (us:5000 -> peer:6000, data) protected as c says. */
static void check_reply(struct peer *p, const void *data, size_t dlen)
{
	uint8_t f[H_FRAME_MAX], *ip = f + H_ETH_HLEN, s[16], d[16];
	uint8_t proto = p->c.alg->ah ? PROTO_AH : p->c.encap ? H_PROTO_UDP : PROTO_ESP;
	size_t n = tx_take(p->c.outer, proto, f);
	struct opened o;
	const uint8_t *u;
	int fam = p->c.inner, rc;

	CHECK(n, "no protected reply on TX (family %d proto %u)", p->c.outer, proto);
	if (!n)
		return;
	CHECK(p->c.outer != AF_INET || h_ip4_hdr_ok(f, n), "outer IPv4 checksum");
	CHECK(ip_total(ip) + H_ETH_HLEN <= n, "outer length %zu beyond frame %zu",
	      ip_total(ip), n);
	addr_of(p->c.outer, true, s);
	addr_of(p->c.outer, false, d);
	CHECK(!memcmp(ip + (p->c.outer == AF_INET ? 12 : 8), s, p->c.outer == AF_INET ? 4 : 16) &&
	      !memcmp(ip + (p->c.outer == AF_INET ? 16 : 24), d, p->c.outer == AF_INET ? 4 : 16),
	      "outer addresses");
	rc = open_ip(p, ip, ip_total(ip), &o);
	CHECK(rc == 0, "reply does not open as the peer (%d)", rc);
	if (rc)
		return;
	addr_of(fam, true, s);
	addr_of(fam, false, d);
	if (p->c.tunnel) {
		const uint8_t *in = o.pl;

		CHECK(o.nh == (fam == AF_INET ? NH_IPV4 : NH_IPV6), "tunnel next header %u", o.nh);
		CHECK(o.len >= ip_total(in) && (in[0] >> 4) == (fam == AF_INET ? 4 : 6),
		      "inner packet");
		CHECK(!memcmp(in + (fam == AF_INET ? 12 : 8), s, fam == AF_INET ? 4 : 16) &&
		      !memcmp(in + (fam == AF_INET ? 16 : 24), d, fam == AF_INET ? 4 : 16),
		      "inner addresses");
		CHECK((fam == AF_INET ? in[9] : in[6]) == H_PROTO_UDP, "inner protocol");
		u = in + ip_hlen(in);
		n = ip_total(in) - ip_hlen(in);
	} else {
		CHECK(o.nh == H_PROTO_UDP, "transport next header %u", o.nh);
		u = o.pl;
		n = o.len;
	}
	CHECK(n == 8 + dlen && h_be16(u + 4) == n, "UDP length %zu, want %zu", n, 8 + dlen);
	if (n != 8 + dlen)
		return;
	CHECK(h_be16(u) == US_PORT && h_be16(u + 2) == PEER_PORT, "UDP ports");
	CHECK(!memcmp(u + 8, data, dlen), "reply payload differs");
	CHECK(udp_csum_ok(fam, s, d, u, n), "inner UDP checksum");
}

/* ---- Counters ------------------------------------------------------------------------------ */

struct snap {
	uint64_t v[SN_IC_MAX];
};

static void snap(struct snap *s)
{
	char n[80];

	for (int i = 0; i < SN_IC_MAX; i++) {
		snprintf(n, sizeof(n), "ipsec.%s", sn_ic_descs[i].name);
		s->v[i] = h_stat(n);
	}
}

static bool is_drop(int i)
{
	return !strncmp(sn_ic_descs[i].name, "drop_", 5);
}

/* Since b: counter id moved by exactly one and no other drop counter moved
 * (id may be a non-drop counter: then no drop counter moved at all). */
static bool expect_drop(const struct snap *b, enum sn_ic_id id, const char *what)
{
	struct snap a;
	uint64_t drops = 0;

	snap(&a);
	for (int i = 0; i < SN_IC_MAX; i++)
		if (is_drop(i))
			drops += a.v[i] - b->v[i];
	if (a.v[id] - b->v[id] == 1 && drops == (is_drop(id) ? 1u : 0u))
		return true;
	fail("%s: want %s +1 only; got", what, sn_ic_descs[id].name);
	for (int i = 0; i < SN_IC_MAX; i++)
		if (a.v[i] != b->v[i])
			fprintf(stderr, "    %s +%llu\n", sn_ic_descs[i].name,
				(unsigned long long)(a.v[i] - b->v[i]));
	return false;
}

/* expect_drop, and also: in_packets did not move, nothing reached a
 * socket. */
static bool expect_only(struct peer *p, const struct snap *b, enum sn_ic_id id,
			const char *what)
{
	struct snap a;
	bool ok = expect_drop(b, id, what);

	snap(&a);
	if (a.v[SN_IC_IN_PACKETS] != b->v[SN_IC_IN_PACKETS]) {
		fail("%s: in_packets moved", what);
		ok = false;
	}
	if (!nothing_delivered(p)) {
		fail("%s: data reached a socket", what);
		ok = false;
	}
	return ok;
}

/* ---- Fixture -------------------------------------------------------------------------------- */

static struct peer P;

static void start(void)
{
	h_stack_start();
	h_learn_peer4();
	h_learn_peer6();
	h_tx_clear();
	cr_assert_eq(sn_ipsec_start(), 0);
	memset(&P, 0, sizeof(P));
	P.fd4 = udp_sock(AF_INET, US_PORT);
	P.fd6 = udp_sock(AF_INET6, US_PORT);
	nfail = 0;
}

static void stop(void)
{
	peer_free(&P);
	sn_ipsec_stop();
	h_stack_stop_checked();
}

TestSuite(ipsec_dp, .init = start, .fini = stop, .timeout = 240);

/* ---- 1. Every algorithm, mode and family -------------------------------------------------- */

static const char msg[] = "protected datagram from the peer 0123456789";
static const char rep[] = "protected reply from sealnet";

/* One exchange: deliver a protected datagram, check it, reply, open it. */
static void exchange(struct peer *p)
{
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128], b[2048];
	struct sockaddr_storage from, to;
	int fam = p->c.inner, fd = fam == AF_INET ? p->fd4 : p->fd6;
	size_t n = udp_pkt(fam, PEER_PORT, US_PORT, msg, sizeof(msg), ip);
	struct snap s0, s1;
	long got;

	snap(&s0);
	inject(f, protect(p, ip, n, f));
	got = sock_take(fd, b, sizeof(b), &from);
	snap(&s1);
	CHECK(got == (long)sizeof(msg) && !memcmp(b, msg, sizeof(msg)),
	      "datagram not delivered (got %ld)", got);
	CHECK(got < 0 || from_peer(fam, &from, PEER_PORT), "wrong source address");
	CHECK(s1.v[SN_IC_IN_PACKETS] - s0.v[SN_IC_IN_PACKETS] == 1, "in_packets +%llu",
	      (unsigned long long)(s1.v[SN_IC_IN_PACKETS] - s0.v[SN_IC_IN_PACKETS]));
	for (int i = 0; i < SN_IC_MAX; i++)
		if (is_drop(i) && s1.v[i] != s0.v[i])
			fail("drop counter %s moved on a good packet", sn_ic_descs[i].name);
	h_tx_clear();
	cr_assert_eq(sn_sendto(fd, rep, sizeof(rep), 0, (struct sockaddr *)&to,
			       h_peer_addr(fam, PEER_PORT, &to)), (ssize_t)sizeof(rep));
	h_poll(4);
	check_reply(p, rep, sizeof(rep));
	snap(&s0);
	CHECK(s0.v[SN_IC_OUT_PACKETS] - s1.v[SN_IC_OUT_PACKETS] == 1, "out_packets");
}

static void run_matrix(bool tunnel, int inner, int outer, bool encap_only)
{
	char name[96];

	for (size_t a = 0; a < NALGS; a++) {
		struct cfg c = { &algs[a], tunnel, inner, outer, false, NULL, NULL, NULL, false, NULL };

		if (encap_only)
			continue;
		snprintf(name, sizeof(name), "%zu %s %s %s-in-%s", a + 1, algs[a].name,
			 tunnel ? "tunnel" : "transport", inner == AF_INET ? "4" : "6",
			 outer == AF_INET ? "4" : "6");
		cur_case = name;
		peer_setup(&P, &c, true, true);
		exchange(&P);
		exchange(&P);   /* a second sequence number each way */
	}
}

Test(ipsec_dp, transport_ipv4_every_alg) { run_matrix(false, AF_INET, AF_INET, false); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, transport_ipv6_every_alg) { run_matrix(false, AF_INET6, AF_INET6, false); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, tunnel_4in4_every_alg) { run_matrix(true, AF_INET, AF_INET, false); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, tunnel_6in6_every_alg) { run_matrix(true, AF_INET6, AF_INET6, false); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, tunnel_4in6_every_alg) { run_matrix(true, AF_INET, AF_INET6, false); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, tunnel_6in4_every_alg) { run_matrix(true, AF_INET6, AF_INET, false); cr_assert_eq(nfail, 0); }

/* ESP in UDP (RFC 3948) for a few algorithms, modes and families. */
static const struct { int alg; bool tunnel; int inner, outer; } encap_cases[] = {
	/* 1 */ { A_GCM128, false, AF_INET, AF_INET },
	/* 2 */ { A_CHACHA, false, AF_INET6, AF_INET6 },
	/* 3 */ { A_CBC128_SHA256, true, AF_INET, AF_INET },
	/* 4 */ { A_GCM256, true, AF_INET6, AF_INET6 },
	/* 5 */ { A_NULL_SHA1, true, AF_INET6, AF_INET },
	/* 6 */ { A_CBC256_SHA1, true, AF_INET, AF_INET6 },
};

Test(ipsec_dp, esp_in_udp)
{
	char name[96];

	for (size_t i = 0; i < sizeof(encap_cases) / sizeof(encap_cases[0]); i++) {
		struct cfg c = { &algs[encap_cases[i].alg], encap_cases[i].tunnel,
				 encap_cases[i].inner, encap_cases[i].outer, true, NULL, NULL, NULL, false, NULL };

		snprintf(name, sizeof(name), "encap %zu %s", i + 1, c.alg->name);
		cur_case = name;
		peer_setup(&P, &c, true, true);
		exchange(&P);
		exchange(&P);
	}
	cr_assert_eq(nfail, 0);
}

/* ---- 2. Attacks ---------------------------------------------------------------------------- */

static const char amsg[] = "attack payload";

/* ESP bytes (not yet framed) of a datagram sealed at seq. */
static size_t esp_of(struct peer *p, uint64_t seq, uint8_t nh, uint8_t *esp)
{
	uint8_t ip[H_FRAME_MAX];
	size_t n = udp_pkt(p->c.inner, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
	size_t hl = p->c.tunnel ? 0 : ip_hlen(ip);

	if (p->c.tunnel)
		nh = p->c.inner == AF_INET ? NH_IPV4 : NH_IPV6;
	return seal_esp(p, ip + hl, n - hl, nh, seq, esp);
}

static bool delivered_once(struct peer *p)
{
	uint8_t b[2048];
	struct sockaddr_storage ss;
	int fd = p->c.inner == AF_INET ? p->fd4 : p->fd6;
	long n = sock_take(fd, b, sizeof(b), &ss);

	return n == (long)sizeof(amsg) && !memcmp(b, amsg, sizeof(amsg)) && nothing_delivered(p);
}

/* Every single-bit flip of the ESP part: SPI bits -> unknown SPI, the rest
 * (sequence number, IV, ciphertext, ICV) -> ICV. The unmodified packet is
 * accepted afterwards: failures left the replay window alone. */
static void esp_bitflips(const struct cfg *c)
{
	uint8_t esp[H_FRAME_MAX], t[H_FRAME_MAX], f[H_FRAME_MAX + 128];
	struct snap s;
	char what[64];
	size_t n;

	peer_setup(&P, c, true, true);
	n = esp_of(&P, 5, H_PROTO_UDP, esp);
	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(t, esp, n);
		t[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		snprintf(what, sizeof(what), "flip byte %zu bit %zu", bit / 8, bit % 8);
		snap(&s);
		inject(f, esp_frame(&P, t, n, f));
		expect_only(&P, &s, bit < 32 ? SN_IC_DROP_UNKNOWN_SPI : SN_IC_DROP_AUTH, what);
	}
	inject(f, esp_frame(&P, esp, n, f));
	CHECK(delivered_once(&P), "the original packet is not delivered after the flips");
}

Test(ipsec_dp, esp_every_bit_flip)
{
	static const struct { int alg; bool tunnel; int fam; bool encap; } cases[] = {
		/* 1 */ { A_GCM128, false, AF_INET, false },
		/* 2 */ { A_CHACHA, false, AF_INET6, false },
		/* 3 */ { A_CBC128_SHA256, true, AF_INET, false },
		/* 4 */ { A_CBC256_SHA1, false, AF_INET6, false },
		/* 5 */ { A_NULL_SHA1, false, AF_INET, false },
		/* 6 */ { A_GCM256, false, AF_INET, true },
	};
	char name[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg c = { &algs[cases[i].alg], cases[i].tunnel, cases[i].fam,
				 cases[i].fam, cases[i].encap, NULL, NULL, NULL, false, NULL };

		snprintf(name, sizeof(name), "flips %zu %s", i + 1, c.alg->name);
		cur_case = name;
		esp_bitflips(&c);
	}
	cr_assert_eq(nfail, 0);
}

/* AH: every bit of the AH header and payload, and the immutable IP header
 * fields that reach AH (IPv4 ID and source; IPv6 source). Flips of mutable
 * fields (TOS, TTL / traffic class, hop limit) still verify. */
static void ah_bitflips(int fam)
{
	struct cfg c = { &algs[A_AH_SHA256], false, fam, fam, false, NULL, NULL, NULL, false, NULL };
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128], t[H_FRAME_MAX + 128];
	size_t hl = fam == AF_INET ? H_IP4_HLEN : H_IP6_HLEN, n, ipn;
	size_t src = fam == AF_INET ? 12 : 8, alen = fam == AF_INET ? 4 : 16;
	struct snap s;
	char what[80];

	peer_setup(&P, &c, true, true);
	ipn = udp_pkt(fam, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
	n = ah_frame(&P, ip + hl, ipn - hl, H_PROTO_UDP, 7, f);
	for (size_t off = 0; off < n - H_ETH_HLEN; off++) {
		bool id = fam == AF_INET && (off == 4 || off == 5);
		bool is_src = off >= src && off < src + alen;

		if (off < hl && !id && !is_src)
			continue;
		for (int bit = 0; bit < 8; bit++) {
			size_t ah = off - hl;
			enum sn_ic_id want = SN_IC_DROP_AUTH;

			memcpy(t, f, n);
			t[H_ETH_HLEN + off] ^= (uint8_t)(1u << bit);
			if (fam == AF_INET)
				ip4_csum(t + H_ETH_HLEN);
			if (off >= hl && ah >= 4 && ah < 8)
				want = SN_IC_DROP_UNKNOWN_SPI;
			if (off >= hl && ah == 1)       /* the length field */
				want = (t[H_ETH_HLEN + off] + 2u) * 4 > n - H_ETH_HLEN - hl
				       ? SN_IC_DROP_TRUNCATED : SN_IC_DROP_BAD_HEADER;
			snprintf(what, sizeof(what), "AH flip IP offset %zu bit %d", off, bit);
			snap(&s);
			inject(t, n);
			if (fam == AF_INET6 && off == src && t[H_ETH_HLEN + off] == 0xff)
				/* a multicast source: IPv6 input drops it before AH */
				CHECK(nothing_delivered(&P), "%s: delivered", what);
			else
				expect_only(&P, &s, want, what);
		}
	}
	/* Mutable fields: each with its own sequence number, all delivered. */
	static const size_t mut4[] = { 1, 8 }, mut6[] = { 1, 2, 7 };
	const size_t *mut = fam == AF_INET ? mut4 : mut6;
	size_t nmut = fam == AF_INET ? 2 : 3;

	for (size_t i = 0; i < nmut; i++) {
		n = ah_frame(&P, ip + hl, ipn - hl, H_PROTO_UDP, 100 + i, f);
		f[H_ETH_HLEN + mut[i]] ^= 0x04;
		if (fam == AF_INET)
			ip4_csum(f + H_ETH_HLEN);
		inject(f, n);
		CHECK(delivered_once(&P), "mutable field at %zu flipped: not delivered", mut[i]);
	}
	n = ah_frame(&P, ip + hl, ipn - hl, H_PROTO_UDP, 7, f);
	inject(f, n);
	CHECK(delivered_once(&P), "the original AH packet is not delivered after the flips");
}

Test(ipsec_dp, ah_every_bit_flip_ipv4) { cur_case = "ah flips v4"; ah_bitflips(AF_INET); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, ah_every_bit_flip_ipv6) { cur_case = "ah flips v6"; ah_bitflips(AF_INET6); cr_assert_eq(nfail, 0); }

static const struct cfg gcm4 = { &algs[A_GCM128], false, AF_INET, AF_INET, false, NULL, NULL, NULL, false, NULL };

static size_t good_frame(struct peer *p, uint64_t seq, uint8_t *f)
{
	uint8_t ip[H_FRAME_MAX];
	size_t n = udp_pkt(p->c.inner, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);

	return protect_seq(p, ip, n, seq, f);
}

Test(ipsec_dp, replay_old_and_unknown_spi)
{
	uint8_t f[H_FRAME_MAX + 128], esp[H_FRAME_MAX];
	struct snap s;
	size_t n;

	cur_case = "replay";
	peer_setup(&P, &gcm4, true, true);
	/* 1. a replayed packet */
	n = good_frame(&P, 10, f);
	inject(f, n);
	cr_assert(delivered_once(&P));
	snap(&s);
	inject(f, n);
	expect_only(&P, &s, SN_IC_DROP_REPLAY, "replayed");
	/* 2. left of the window (default 1024): seq 2000 then 900 */
	inject(f, good_frame(&P, 2000, f));
	cr_assert(delivered_once(&P));
	snap(&s);
	inject(f, good_frame(&P, 900, f));
	expect_only(&P, &s, SN_IC_DROP_REPLAY_OLD, "left of the window");
	/* 3. inside the window, not seen: accepted */
	inject(f, good_frame(&P, 1999, f));
	CHECK(delivered_once(&P), "seq 1999 inside the window");
	/* 4. sequence number 0 */
	snap(&s);
	inject(f, good_frame(&P, 0, f));
	expect_only(&P, &s, SN_IC_DROP_REPLAY_OLD, "seq 0");
	/* 5. unknown SPI */
	n = esp_of(&P, 3000, H_PROTO_UDP, esp);
	h_put32(esp, 0x9999);
	snap(&s);
	inject(f, esp_frame(&P, esp, n, f));
	expect_only(&P, &s, SN_IC_DROP_UNKNOWN_SPI, "unknown SPI");
	cr_assert_eq(nfail, 0);
}

/* ESP cut short at every length from 0 to header + IV + ICV. */
Test(ipsec_dp, esp_truncated_every_length)
{
	static const int cases[] = { A_GCM128, A_CBC128_SHA1, A_NULL_SHA256, A_CHACHA };
	uint8_t f[H_FRAME_MAX + 128], esp[H_FRAME_MAX];
	struct snap s;
	char what[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg c = gcm4;

		c.alg = &algs[cases[i]];
		cur_case = c.alg->name;
		peer_setup(&P, &c, true, true);
		size_t full = esp_of(&P, 7, H_PROTO_UDP, esp);
		size_t max = sn_esp_hdr_len(P.seal) + P.seal->icv_len;

		cr_assert_gt(full, max);
		for (size_t len = 0; len <= max; len++) {
			snprintf(what, sizeof(what), "ESP of %zu bytes", len);
			snap(&s);
			inject(f, esp_frame(&P, esp, len, f));
			expect_only(&P, &s, SN_IC_DROP_TRUNCATED, what);
		}
		/* Not a whole number of blocks (CBC: 16; others: 4). */
		if (P.seal->block > 1) {
			snap(&s);
			inject(f, esp_frame(&P, esp, full - 1, f));
			expect_only(&P, &s, SN_IC_DROP_BAD_LEN, "one byte short");
		}
	}
	cr_assert_eq(nfail, 0);
}

/* AH cut short: the IP length says so, AH at every length below its own. */
Test(ipsec_dp, ah_truncated_every_length)
{
	struct cfg c = { &algs[A_AH_SHA1], false, AF_INET, AF_INET, false, NULL, NULL, NULL, false, NULL };
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128], t[H_FRAME_MAX + 128];
	struct snap s;
	char what[64];

	cur_case = "ah truncated";
	peer_setup(&P, &c, true, true);
	size_t n = udp_pkt(AF_INET, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
	size_t fn = ah_frame(&P, ip + 20, n - 20, H_PROTO_UDP, 3, f);
	size_t ah = sn_ah_len(P.seal, AF_INET);

	for (size_t len = 0; len < ah; len++) {
		memcpy(t, f, fn);
		h_put16(t + H_ETH_HLEN + 2, (uint16_t)(20 + len));
		ip4_csum(t + H_ETH_HLEN);
		snprintf(what, sizeof(what), "AH of %zu bytes", len);
		snap(&s);
		inject(t, H_ETH_HLEN + 20 + len);
		expect_only(&P, &s, SN_IC_DROP_TRUNCATED, what);
	}
	cr_assert_eq(nfail, 0);
}

/*
 * Wrong padding (RFC 4303 2.4), authenticated correctly so that only the
 * padding check can catch it: the plaintext (payload, padding, pad length,
 * next header) is written here and sealed with the library's primitives.
 */
static size_t seal_raw(struct peer *p, const uint8_t *pt, size_t ptlen, uint64_t seq,
		       uint8_t *esp)
{
	struct sn_crypto *c = p->seal;
	size_t hl = sn_esp_hdr_len(c);

	h_put32(esp, SPI_IN);
	h_put32(esp + 4, (uint32_t)seq);
	memcpy(esp + hl, pt, ptlen);
	if (c->kind == SN_CK_AEAD) {
		uint8_t aad[12], iv[8];
		size_t al;

		for (int i = 0; i < 8; i++)
			iv[i] = (uint8_t)(seq >> (56 - 8 * i));
		memcpy(esp + 8, iv, 8);
		al = sn_esp_aad(aad, esp, seq, false);
		sn_crypto_aead_seal(c, iv, aad, al, esp + hl, ptlen, esp + hl + ptlen);
	} else {
		if (c->kind == SN_CK_CBC_HMAC) {
			memset(esp + 8, 0xa5, 16);
			sn_crypto_cbc_encrypt(c, esp + 8, esp + hl, ptlen);
		}
		sn_esp_icv(c, esp, hl + ptlen, seq, false, esp + hl + ptlen);
	}
	return hl + ptlen + c->icv_len;
}

Test(ipsec_dp, wrong_padding)
{
	static const int cases[] = { A_NULL_SHA1, A_CBC128_SHA256, A_GCM128, A_CHACHA };
	uint8_t ip[H_FRAME_MAX], pt[256], esp[H_FRAME_MAX], f[H_FRAME_MAX + 128];
	struct snap s;
	char what[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg c = gcm4;

		c.alg = &algs[cases[i]];
		cur_case = c.alg->name;
		peer_setup(&P, &c, true, true);
		size_t n = udp_pkt(AF_INET, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip) - 20;
		size_t blk = P.seal->block, ct = (n + 2 + blk - 1) / blk * blk;
		uint8_t pad = (uint8_t)(ct - n - 2);

		if (pad < 2) {                  /* room for a wrong second pad byte */
			ct += blk;
			pad = (uint8_t)(ct - n - 2);
		}
		for (int k = 0; k < 4; k++) {
			memcpy(pt, ip + 20, n);
			for (int j = 0; j < pad; j++)
				pt[n + j] = (uint8_t)(j + 1);
			pt[ct - 2] = pad;
			pt[ct - 1] = H_PROTO_UDP;
			switch (k) {
			case 0: break;                                  /* control: good */
			case 1: pt[n + pad - 1] ^= 0x40; break;         /* last pad byte */
			case 2: pt[n] = 0; break;                       /* first pad byte */
			case 3: pt[ct - 2] = (uint8_t)(ct - 1); break;  /* longer than ct */
			}
			snprintf(what, sizeof(what), "padding case %d", k);
			snap(&s);
			inject(f, esp_frame(&P, esp, seal_raw(&P, pt, ct, 40 + (unsigned)k, esp), f));
			if (k == 0)
				CHECK(delivered_once(&P), "good hand-sealed packet not delivered");
			else
				expect_only(&P, &s, SN_IC_DROP_BAD_PAD, what);
		}
	}
	cr_assert_eq(nfail, 0);
}

Test(ipsec_dp, cleartext_where_protection_is_required)
{
	struct cfg c = gcm4;
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128];
	struct snap s;
	size_t n;

	cur_case = "cleartext";
	c.in_pol_extra = "dport 5000";
	peer_setup(&P, &c, true, true);
	for (int fam = 0; fam < 2; fam++) {
		int af = fam ? AF_INET6 : AF_INET;

		if (af == AF_INET6) {           /* an IPv6 policy too */
			struct cfg c6 = c;

			c6.inner = c6.outer = AF_INET6;
			char l[600];

			pol_line(&c6, true, l);
			apply(l);
		}
		n = udp_pkt(af, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
		h_eth(f, h_mac_us, h_mac_peer, af == AF_INET ? H_ETH_IP4 : H_ETH_IP6);
		memcpy(f + H_ETH_HLEN, ip, n);
		snap(&s);
		inject(f, H_ETH_HLEN + n);
		expect_only(&P, &s, SN_IC_DROP_CLEARTEXT, af == AF_INET ? "cleartext v4" : "cleartext v6");
	}
	/* A port the policy does not cover passes in the clear. */
	int fd = udp_sock(AF_INET, 5001);
	uint8_t b[256];
	struct sockaddr_storage ss;

	n = udp_pkt(AF_INET, PEER_PORT, 5001, amsg, sizeof(amsg), ip);
	h_eth(f, h_mac_us, h_mac_peer, H_ETH_IP4);
	memcpy(f + H_ETH_HLEN, ip, n);
	inject(f, H_ETH_HLEN + n);
	CHECK(sock_take(fd, b, sizeof(b), &ss) == (long)sizeof(amsg), "bypass port not delivered");
	sn_close(fd);
	cr_assert_eq(nfail, 0);
}

/* RFC 4301 5.2 step 4: the inner packet must be one the SA may carry. */
Test(ipsec_dp, inner_packet_outside_selectors)
{
	struct cfg c = gcm4;
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128];
	struct snap s;
	size_t n;

	/* 1. transport SA with a selector: the datagram goes to another port */
	cur_case = "selector 1";
	c.sa_in_extra = "sel src 10.0.0.2/32 dst 10.0.0.1/32 proto udp dport 5000";
	peer_setup(&P, &c, true, true);
	int fd = udp_sock(AF_INET, 5001);

	n = udp_pkt(AF_INET, PEER_PORT, 5001, amsg, sizeof(amsg), ip);
	snap(&s);
	inject(f, protect(&P, ip, n, f));
	expect_only(&P, &s, SN_IC_DROP_SELECTOR, "SA selector: other port");
	uint8_t b[256];
	struct sockaddr_storage ss;

	CHECK(sock_take(fd, b, sizeof(b), &ss) < 0, "delivered to port 5001");
	sn_close(fd);
	n = udp_pkt(AF_INET, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
	inject(f, protect(&P, ip, n, f));
	CHECK(delivered_once(&P), "inside the selector: not delivered");

	/* 2. tunnel SA (no SA selector) whose policy covers 10.0.0.2 only; the
	 * inner packet claims another source that another peer's policy
	 * (reqid 3) protects */
	cur_case = "selector 2";
	c = gcm4;
	c.tunnel = true;
	peer_setup(&P, &c, true, true);
	apply("policy add src 10.0.0.3/32 dst 10.0.0.1/32 proto udp dir in tmpl src 10.0.0.3 "
	      "dst 10.0.0.1 proto esp mode tunnel reqid 3");
	uint8_t s3[4], us[4];
	uint8_t l4[256];
	uint32_t a3 = h_ip4("10.0.0.3");

	memcpy(s3, &a3, 4);
	addr_of(AF_INET, true, us);
	n = ip_pkt(AF_INET, H_PROTO_UDP, s3, us, l4,
		   h_udp_dgram(l4, PEER_PORT, US_PORT, amsg, sizeof(amsg)), ip);
	snap(&s);
	inject(f, protect(&P, ip, n, f));
	expect_only(&P, &s, SN_IC_DROP_SELECTOR, "tunnel: inner source of another SA's policy");

	/* 3. the same SA, an inner source no inbound policy names at all: what
	 * the SA was negotiated for is 10.0.0.2 -> 10.0.0.1 (its policy); RFC
	 * 4301 5.2 step 4 and Linux (no policy for a tunnel-mode secpath:
	 * XfrmInNoPols) drop it */
	cur_case = "selector 3";
	a3 = h_ip4("10.0.0.77");
	memcpy(s3, &a3, 4);
	n = ip_pkt(AF_INET, H_PROTO_UDP, s3, us, l4,
		   h_udp_dgram(l4, PEER_PORT, US_PORT, amsg, sizeof(amsg)), ip);
	snap(&s);
	inject(f, protect(&P, ip, n, f));
	expect_only(&P, &s, SN_IC_DROP_SELECTOR, "tunnel: inner source no policy covers");
	cr_assert_eq(nfail, 0);
}

Test(ipsec_dp, hard_expired_sa)
{
	struct cfg c = gcm4;
	uint8_t f[H_FRAME_MAX + 128];
	struct snap s;

	cur_case = "packet-hard 3";
	c.sa_in_extra = "limit packet-hard 3";
	peer_setup(&P, &c, true, true);
	for (int i = 1; i <= 3; i++) {
		inject(f, good_frame(&P, (uint64_t)i, f));
		CHECK(delivered_once(&P), "packet %d of 3 not delivered", i);
	}
	h_poll(50);
	snap(&s);
	inject(f, good_frame(&P, 4, f));
	expect_only(&P, &s, SN_IC_DROP_EXPIRED, "4th packet");
	cr_assert_eq(nfail, 0);
}

Test(ipsec_dp, encapsulation_mismatch)
{
	struct cfg c = gcm4;
	uint8_t esp[H_FRAME_MAX], f[H_FRAME_MAX + 128];
	struct snap s;
	size_t n;

	/* 1. plain ESP on an SA configured for UDP encapsulation */
	cur_case = "encap 1";
	c.encap = true;
	peer_setup(&P, &c, true, true);
	n = esp_of(&P, 1, H_PROTO_UDP, esp);
	P.c.encap = false;
	snap(&s);
	inject(f, esp_frame(&P, esp, n, f));
	expect_only(&P, &s, SN_IC_DROP_ENCAP, "ESP on an encap SA");
	/* 2. ESP in UDP 4500 on an SA without encap */
	cur_case = "encap 2";
	c.encap = false;
	peer_setup(&P, &c, true, true);
	n = esp_of(&P, 1, H_PROTO_UDP, esp);
	P.c.encap = true;
	snap(&s);
	inject(f, esp_frame(&P, esp, n, f));
	expect_only(&P, &s, SN_IC_DROP_ENCAP, "ESP-in-UDP on a plain SA");
	/* 3. NAT keep-alive (RFC 3948 2.3), v4 and v6 */
	cur_case = "keepalive";
	for (int v6 = 0; v6 < 2; v6++) {
		uint8_t ka = 0xff, ip[128], l4[16];
		int af = v6 ? AF_INET6 : AF_INET;

		n = udp_pkt(af, ENCAP_PORT, ENCAP_PORT, &ka, 1, ip);
		(void)l4;
		h_eth(f, h_mac_us, h_mac_peer, v6 ? H_ETH_IP6 : H_ETH_IP4);
		memcpy(f + H_ETH_HLEN, ip, n);
		snap(&s);
		inject(f, H_ETH_HLEN + n);
		expect_only(&P, &s, SN_IC_NAT_KEEPALIVE, v6 ? "keep-alive v6" : "keep-alive v4");
	}
	cr_assert_eq(nfail, 0);
}

/* RFC 4303 2.6: next header 59 is a dummy packet, discarded and counted. */
Test(ipsec_dp, tfc_dummy_packet)
{
	static const int cases[] = { A_GCM128, A_CBC128_SHA1 };
	uint8_t esp[H_FRAME_MAX], f[H_FRAME_MAX + 128];
	struct snap s;

	for (size_t i = 0; i < 2; i++) {
		for (int tun = 0; tun < 2; tun++) {
			struct cfg c = gcm4;

			c.alg = &algs[cases[i]];
			c.tunnel = tun;
			cur_case = c.alg->name;
			peer_setup(&P, &c, true, true);
			uint8_t junk[40];

			memset(junk, 0x5a, sizeof(junk));
			size_t n = seal_esp(&P, junk, sizeof(junk), NH_NONE, 1, esp);

			snap(&s);
			inject(f, esp_frame(&P, esp, n, f));
			expect_only(&P, &s, SN_IC_DUMMY, tun ? "dummy, tunnel" : "dummy, transport");
		}
	}
	cr_assert_eq(nfail, 0);
}

/* RFC 6040 4.2: CE outside and Not-ECT inside is dropped; it is no policy
 * drop (it was counted drop_policy), so it has a counter of its own. */
Test(ipsec_dp, ecn_ce_over_not_ect_has_its_own_counter)
{
	struct cfg c = { &algs[A_GCM128], true, AF_INET, AF_INET, false, NULL, NULL, NULL, false, NULL };
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128];
	struct snap s;
	size_t n;

	cur_case = "ecn";
	peer_setup(&P, &c, true, true);
	n = udp_pkt(AF_INET, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);  /* Not-ECT */
	n = protect(&P, ip, n, f);
	f[H_ETH_HLEN + 1] |= 0x03;                                    /* outer CE */
	ip4_csum(f + H_ETH_HLEN);
	snap(&s);
	inject(f, n);
	expect_only(&P, &s, SN_IC_DROP_ECN, "CE over Not-ECT");
	/* CE over ECT(0): delivered, marked. */
	n = udp_pkt(AF_INET, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
	ip[1] = 0x02;
	ip4_csum(ip);
	n = protect(&P, ip, n, f);
	f[H_ETH_HLEN + 1] |= 0x03;
	ip4_csum(f + H_ETH_HLEN);
	inject(f, n);
	CHECK(delivered_once(&P), "CE over ECT(0) not delivered");
	cr_assert_eq(nfail, 0);
}

/* What arrives on UDP 4500 and is not ESP: each kind its own counter. */
static const struct {
	const char *name;
	uint8_t body[8];
	size_t len;
	enum sn_ic_id want;
} natt_kinds[] = {
	/* 1 */ { "keep-alive", { 0xff }, 1, SN_IC_NAT_KEEPALIVE },
	/* 2 */ { "IKE (non-ESP marker)", { 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44 }, 8, SN_IC_DROP_NATT_IKE },
	/* 3 */ { "bare non-ESP marker", { 0, 0, 0, 0 }, 4, SN_IC_DROP_NATT_IKE },
	/* 4 */ { "one byte, not 0xff", { 0x12 }, 1, SN_IC_DROP_NATT_SHORT },
	/* 5 */ { "three bytes", { 1, 2, 3 }, 3, SN_IC_DROP_NATT_SHORT },
	/* 6 */ { "empty", { 0 }, 0, SN_IC_DROP_NATT_SHORT },
};

Test(ipsec_dp, natt_non_esp_has_named_counters)
{
	uint8_t ip[128], f[H_FRAME_MAX];
	struct snap s;

	peer_setup(&P, &gcm4, true, true);
	for (size_t i = 0; i < sizeof(natt_kinds) / sizeof(natt_kinds[0]); i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			int af = v6 ? AF_INET6 : AF_INET;
			size_t n = udp_pkt(af, ENCAP_PORT, ENCAP_PORT, natt_kinds[i].body,
					   natt_kinds[i].len, ip);

			cur_case = natt_kinds[i].name;
			h_eth(f, h_mac_us, h_mac_peer, v6 ? H_ETH_IP6 : H_ETH_IP4);
			memcpy(f + H_ETH_HLEN, ip, n);
			snap(&s);
			inject(f, H_ETH_HLEN + n);
			expect_only(&P, &s, natt_kinds[i].want, v6 ? "v6" : "v4");
		}
	}
	cr_assert_eq(nfail, 0);
}

/* ESP in ESP in ESP: two decapsulations are allowed (SN_IPSEC_MAX_DEPTH),
 * the third is drop_nesting, not a bad header. */
Test(ipsec_dp, nesting_too_deep_has_its_own_counter)
{
	struct cfg c = { &algs[A_GCM128], true, AF_INET, AF_INET, false, "0", NULL, NULL, false, NULL };
	uint8_t l0[H_FRAME_MAX], l1[H_FRAME_MAX], l2[H_FRAME_MAX], esp[H_FRAME_MAX];
	uint8_t f[H_FRAME_MAX + 128], s4[16], d4[16];
	struct snap s, a;
	size_t n;

	cur_case = "nesting";
	peer_setup(&P, &c, true, true);     /* inbound policy: any protocol */
	addr_of(AF_INET, false, s4);
	addr_of(AF_INET, true, d4);
	n = udp_pkt(AF_INET, PEER_PORT, US_PORT, amsg, sizeof(amsg), l0);
	n = ip_pkt(AF_INET, PROTO_ESP, s4, d4, esp, seal_esp(&P, l0, n, NH_IPV4, 1, esp), l1);
	n = ip_pkt(AF_INET, PROTO_ESP, s4, d4, esp, seal_esp(&P, l1, n, NH_IPV4, 2, esp), l2);
	n = esp_frame(&P, esp, seal_esp(&P, l2, n, NH_IPV4, 3, esp), f);
	snap(&s);
	inject(f, n);
	expect_drop(&s, SN_IC_DROP_NESTING, "third level");
	snap(&a);
	CHECK(a.v[SN_IC_IN_PACKETS] - s.v[SN_IC_IN_PACKETS] == 2, "in_packets +%llu, want 2",
	      (unsigned long long)(a.v[SN_IC_IN_PACKETS] - s.v[SN_IC_IN_PACKETS]));
	CHECK(nothing_delivered(&P), "the innermost datagram was delivered");
	cr_assert_eq(nfail, 0);
}

/* ---- IPv6 neighbour discovery under a policy for every protocol ---------------------------- */

/* The one predicate both directions use: ND and MLD only. */
Test(ipsec_dp, nd_and_mld_are_the_only_icmpv6_that_bypass)
{
	static const struct { uint8_t type; bool nd; } types[] = {
		{ 1, false }, { 2, false }, { 3, false }, { 4, false },     /* errors */
		{ 128, false }, { 129, false },                             /* echo */
		{ 130, true }, { 131, true }, { 132, true },                /* MLD */
		{ 133, true }, { 134, true }, { 135, true }, { 136, true }, { 137, true },
		{ 138, false }, { 143, true }, { 144, false }, { 255, false },
	};
	uint8_t s6[16], d6[16], body[24] = { 0 }, ip[128];

	addr_of(AF_INET6, false, s6);
	addr_of(AF_INET6, true, d6);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n;
		struct pbuf *p;
		struct sn_pkt_info pi;

		body[0] = types[i].type;
		n = ip_pkt(AF_INET6, H_PROTO_ICMP6, s6, d6, body, sizeof(body), ip);
		p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
		cr_assert_not_null(p);
		memcpy(p->payload, ip, n);
		cr_assert_eq(sn_pkt_parse(p, &pi), 0);
		cr_expect_eq(sn_pkt_is_nd(&pi), types[i].nd, "ICMPv6 type %u", types[i].type);
		pbuf_free(p);
	}
	/* A UDP datagram whose first payload byte is 136 is no ND. */
	{
		uint8_t na = 136;
		size_t n = udp_pkt(AF_INET6, PEER_PORT, US_PORT, &na, 1, ip);
		struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
		struct sn_pkt_info pi;

		cr_assert_not_null(p);
		memcpy(p->payload, ip, n);
		cr_assert_eq(sn_pkt_parse(p, &pi), 0);
		cr_expect(!sn_pkt_is_nd(&pi));
		pbuf_free(p);
	}
}

/* Neighbour advertisement from peer (its link-layer address option), the
 * answer to the stack's solicitation for it. */
static size_t nd6_na(uint8_t *f, const uint8_t peer[16], const uint8_t us[16])
{
	uint8_t na[32] = { 136, 0, 0, 0, 0x60 };      /* solicited, override */

	memcpy(na + 8, peer, 16);
	na[24] = 2;                                    /* target link-layer address */
	na[25] = 1;
	memcpy(na + 26, h_mac_peer, 6);
	return h_ipv6(f, H_PROTO_ICMP6, peer, us, na, sizeof(na));
}

/*
 * A policy pair between two IPv6 hosts for every protocol, and a peer the
 * stack has not resolved yet: the stack's solicitation leaves in the clear,
 * the peer's advertisement (cleartext, as ND is) comes in, and the datagram
 * that waited for it leaves ESP-protected. The advertisement was dropped as
 * cleartext (outbound let every ICMPv6 message through, inbound none).
 */
Test(ipsec_dp, nd_resolves_a_peer_under_a_policy_for_every_protocol)
{
	const char *sa_out = "state add src fd00::1 dst fd00::3 proto esp spi 0x3001 mode transport "
		"reqid 31 aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128";
	const char *sa_in = "state add src fd00::3 dst fd00::1 proto esp spi 0x3002 mode transport "
		"reqid 32 aead 'rfc4106(gcm(aes))' 0x1102030405060708090a0b0c0d0e0f1011121314 128";
	uint8_t f[H_FRAME_MAX], peer3[16], us[16];
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(PEER_PORT) };
	struct sn_crypto *open = crypto_for(sa_out);
	struct sn_esp_payload pl;
	struct snap s, a;
	uint32_t spi, seq;
	size_t n;

	cur_case = "nd";
	peer_free(&P);
	sn_ipsec_stop();
	cr_assert_eq(sn_ipsec_start(), 0);
	apply(sa_out);
	apply(sa_in);
	apply("policy add src fd00::1/128 dst fd00::3/128 dir out tmpl src fd00::1 dst fd00::3 "
	      "proto esp mode transport reqid 31");
	apply("policy add src fd00::3/128 dst fd00::1/128 dir in tmpl src fd00::3 dst fd00::1 "
	      "proto esp mode transport reqid 32");
	h_ip6("fd00::3", peer3);
	h_ip6(H_IP6_US, us);
	memcpy(&to.sin6_addr, peer3, 16);
	h_tx_clear();
	snap(&s);
	cr_assert_eq(sn_sendto(P.fd6, rep, sizeof(rep), 0, (struct sockaddr *)&to, sizeof(to)),
		     (ssize_t)sizeof(rep));
	h_poll(4);
	CHECK(h_tx_find(H_ETH_IP6, 135, f, sizeof(f)), "no neighbour solicitation in the clear");
	CHECK(!tx_take(AF_INET6, PROTO_ESP, f), "ESP left before the peer was resolved");
	inject(f, nd6_na(f, peer3, us));
	snap(&a);
	for (int i = 0; i < SN_IC_MAX; i++)
		if (is_drop(i) && a.v[i] != s.v[i])
			fail("%s +%llu", sn_ic_descs[i].name, (unsigned long long)(a.v[i] - s.v[i]));
	n = tx_take(AF_INET6, PROTO_ESP, f);
	CHECK(n, "the datagram that waited for the advertisement did not leave as ESP");
	if (n) {
		uint8_t *esp = f + H_ETH_HLEN + H_IP6_HLEN;
		size_t len = n - H_ETH_HLEN - H_IP6_HLEN;

		CHECK(!sn_esp_peek(esp, len, &spi, &seq) && spi == 0x3001, "SPI 0x%x", spi);
		int rc = sn_esp_open(open, seq, false, esp, len, &pl);

		CHECK(rc == 0 && pl.next_header == H_PROTO_UDP,
		      "does not open as the peer (%d, next header %u, %zu bytes)", rc,
		      pl.next_header, len);
	}
	CHECK(!tx_take(AF_INET6, H_PROTO_UDP, f), "the datagram left in the clear");
	sn_crypto_free(open);
	cr_assert_eq(nfail, 0);
}

/* ---- 3. Outbound ------------------------------------------------------------------------- */

/* sendto the peer: it succeeds (err 0) or fails with errno err. */
static void send_expect(int fd, int fam, uint16_t port, const void *d, size_t len, int err)
{
	struct sockaddr_storage to;
	ssize_t n = sn_sendto(fd, d, len, 0, (struct sockaddr *)&to, h_peer_addr(fam, port, &to));

	if (err)
		CHECK(n == -1 && errno == err, "sendto: %zd (%s), want %s", n,
		      n < 0 ? strerror(errno) : "sent", strerror(err));
	else
		CHECK(n == (ssize_t)len, "sendto: %zd (%s)", n, n < 0 ? strerror(errno) : "short");
	h_poll(4);
}

static void send_to_peer(int fd, int fam, uint16_t port, const void *d, size_t len)
{
	send_expect(fd, fam, port, d, len, 0);
}

Test(ipsec_dp, outbound_no_sa_then_sa_added)
{
	uint8_t f[H_FRAME_MAX];
	struct snap s, a;
	char l[1200];

	cur_case = "no SA";
	peer_setup(&P, &gcm4, true, false);
	h_tx_clear();
	snap(&s);
	/* No SA and no key manager: no route, as lwIP says (EHOSTUNREACH). */
	send_expect(P.fd4, AF_INET, PEER_PORT, rep, sizeof(rep), EHOSTUNREACH);
	snap(&a);
	CHECK(a.v[SN_IC_DROP_NO_SA] - s.v[SN_IC_DROP_NO_SA] == 1, "drop_no_sa +%llu",
	      (unsigned long long)(a.v[SN_IC_DROP_NO_SA] - s.v[SN_IC_DROP_NO_SA]));
	CHECK(!tx_take(AF_INET, H_PROTO_UDP, f), "cleartext UDP went out");
	CHECK(!tx_take(AF_INET, PROTO_ESP, f), "ESP went out without an SA");
	/* Now the SAs: later sends go out protected. */
	sa_line(&gcm4, false, l);
	apply(l);
	sa_line(&gcm4, true, l);
	apply(l);
	h_tx_clear();
	send_to_peer(P.fd4, AF_INET, PEER_PORT, rep, sizeof(rep));
	check_reply(&P, rep, sizeof(rep));
	cr_assert_eq(nfail, 0);
}

Test(ipsec_dp, outbound_block_policy)
{
	uint8_t f[H_FRAME_MAX];
	struct snap s, a;

	cur_case = "block";
	peer_setup(&P, &gcm4, false, true);
	apply("policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dport 7000 dir out "
	      "action block");
	h_tx_clear();
	snap(&s);
	send_expect(P.fd4, AF_INET, 7000, rep, sizeof(rep), EHOSTUNREACH);
	snap(&a);
	CHECK(a.v[SN_IC_DROP_POLICY] - s.v[SN_IC_DROP_POLICY] == 1, "drop_policy");
	CHECK(!tx_take(AF_INET, H_PROTO_UDP, f) && !tx_take(AF_INET, PROTO_ESP, f),
	      "a blocked datagram went out");
	/* Another port: no policy, bypass in the clear. */
	send_to_peer(P.fd4, AF_INET, 7001, rep, sizeof(rep));
	CHECK(tx_take(AF_INET, H_PROTO_UDP, f), "port 7001 did not go out in the clear");
	cr_assert_eq(nfail, 0);
}

/*
 * Every outbound drop moves exactly one counter by exactly one, and the
 * sender learns of it (lwIP's convention: EHOSTUNREACH where no SA or
 * policy lets the packet go). Sequence overflow was counted twice (by the
 * SAD and by the datapath) and the sender was told nothing.
 */
static const struct {
	const char *name;
	const char *sa_out_extra;       /* on the outbound SA */
	bool block, no_sa;
	int before;                     /* datagrams that still go out */
	enum sn_ic_id want;
} out_drops[] = {
	/* 1 */ { "block policy", NULL, true, false, 0, SN_IC_DROP_POLICY },
	/* 2 */ { "no SA, no key manager", NULL, false, true, 0, SN_IC_DROP_NO_SA },
	/* 3 */ { "sequence number would cycle", "replay-oseq 0xffffffff", false, false, 0,
		  SN_IC_DROP_SEQ_OVERFLOW },
	/* 4 */ { "sequence number 2^32-2 then cycle", "replay-oseq 0xfffffffe", false, false, 1,
		  SN_IC_DROP_SEQ_OVERFLOW },
	/* 5 */ { "hard packet limit", "limit packet-hard 2", false, false, 2,
		  SN_IC_DROP_EXPIRED },
};

Test(ipsec_dp, outbound_drops_count_once_and_tell_the_sender)
{
	uint8_t f[H_FRAME_MAX];
	struct snap s;

	for (size_t i = 0; i < sizeof(out_drops) / sizeof(out_drops[0]); i++) {
		struct cfg c = gcm4;

		cur_case = out_drops[i].name;
		c.sa_out_extra = out_drops[i].sa_out_extra;
		peer_setup(&P, &c, !out_drops[i].block, !out_drops[i].no_sa);
		if (out_drops[i].block)
			apply("policy add src 10.0.0.1/32 dst 10.0.0.2/32 dir out action block");
		for (int k = 0; k < out_drops[i].before; k++) {
			h_tx_clear();
			send_to_peer(P.fd4, AF_INET, PEER_PORT, rep, sizeof(rep));
			CHECK(tx_take(AF_INET, PROTO_ESP, f), "datagram %d did not go out", k + 1);
		}
		h_tx_clear();
		snap(&s);
		send_expect(P.fd4, AF_INET, PEER_PORT, rep, sizeof(rep), EHOSTUNREACH);
		expect_only(&P, &s, out_drops[i].want, out_drops[i].name);
		CHECK(!tx_take(AF_INET, PROTO_ESP, f) && !tx_take(AF_INET, H_PROTO_UDP, f),
		      "the dropped datagram went out");
		/* A second one: +1 again, not +2 (an expired SA may be swept
		 * by the 1 s timer meanwhile: then it is drop_no_sa). */
		if (out_drops[i].want == SN_IC_DROP_EXPIRED)
			continue;
		snap(&s);
		send_expect(P.fd4, AF_INET, PEER_PORT, rep, sizeof(rep), EHOSTUNREACH);
		expect_only(&P, &s, out_drops[i].want, out_drops[i].name);
	}
	cr_assert_eq(nfail, 0);
}

/*
 * Reassemble the protected packet from the fragments on TX (outer family
 * fam): checks the fragment headers (same ID, contiguous offsets, MF on all
 * but the last, each frame within the MTU). Returns the IP packet length
 * (rebuilt with an unfragmented header in out) or 0.
 */
static size_t reassemble(int fam, uint8_t *out, int *nfrags)
{
	uint8_t f[H_FRAME_MAX];
	size_t n, have = 0, hl = fam == AF_INET ? H_IP4_HLEN : H_IP6_HLEN;
	uint32_t id = 0;
	bool more = true;

	*nfrags = 0;
	while (more && (n = tx_take(fam, fam == AF_INET ? PROTO_ESP : 44, f)) != 0) {
		const uint8_t *ip = f + H_ETH_HLEN;
		size_t off, len;
		uint32_t fid;

		CHECK(n - H_ETH_HLEN <= 1500, "fragment of %zu bytes over the MTU", n - H_ETH_HLEN);
		if (fam == AF_INET) {
			uint16_t fo = h_be16(ip + 6);

			off = (size_t)(fo & 0x1fff) * 8;
			more = fo & 0x2000;
			fid = h_be16(ip + 4);
			len = h_be16(ip + 2) - hl;
			if (!*nfrags)
				memcpy(out, ip, hl);
			memcpy(out + hl + off, ip + hl, len);
		} else {
			const uint8_t *fh = ip + H_IP6_HLEN;

			off = h_be16(fh + 2) & 0xfff8;
			more = h_be16(fh + 2) & 1;
			fid = h_be32(fh + 4);
			len = h_be16(ip + 4) - 8;
			CHECK(fh[0] == PROTO_ESP, "fragment header's next header %u", fh[0]);
			if (!*nfrags) {
				memcpy(out, ip, hl);
				out[6] = fh[0];
			}
			memcpy(out + hl + off, fh + 8, len);
		}
		if (fam == AF_INET)
			fprintf(stderr, "  [%s] TX fragment: id 0x%x offset %zu MF %d payload %zu\n",
				cur_case, fid, off, more, len);
		else
			fprintf(stderr, "  [%s] TX fragment: id 0x%x offset %zu M %d payload %zu "
				"(fragment header's next header %u)\n",
				cur_case, fid, off, more, len, ip[H_IP6_HLEN]);
		CHECK(*nfrags == 0 || fid == id, "fragment ID changes");
		CHECK(off == have, "fragment at %zu, expected %zu", off, have);
		id = fid;
		have = off + len;
		(*nfrags)++;
	}
	CHECK(!more, "last fragment missing");
	if (fam == AF_INET) {
		h_put16(out + 2, (uint16_t)(hl + have));
		h_put16(out + 6, 0);
		ip4_csum(out);
	} else {
		h_put16(out + 4, (uint16_t)have);
	}
	return hl + have;
}

static void frag_case(int fam, size_t dlen, int want_frags)
{
	struct cfg c = { &algs[A_GCM128], false, fam, fam, false, NULL, NULL, NULL, false, NULL };
	static uint8_t data[4000], pkt[8192];
	struct opened o;
	int nf;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	peer_setup(&P, &c, true, true);
	h_tx_clear();
	send_to_peer(fam == AF_INET ? P.fd4 : P.fd6, fam, PEER_PORT, data, dlen);
	size_t n = reassemble(fam, pkt, &nf);

	CHECK(nf == want_frags, "%d fragments, expected %d", nf, want_frags);
	/* One datagram: one ESP packet, nothing else on TX. */
	uint8_t extra[H_FRAME_MAX];
	int more = 0;

	while (tx_take(fam, fam == AF_INET ? PROTO_ESP : 44, extra) ||
	       tx_take(fam, PROTO_ESP, extra))
		more++;
	CHECK(!more, "%d more ESP frames after the first packet's fragments", more);
	if (!n)
		return;
	int rc = open_ip(&P, pkt, n, &o);

	CHECK(rc == 0, "reassembled packet does not open (%d)", rc);
	if (rc)
		return;
	/* RFC 4301 7: a transport-mode SA carries whole datagrams only. */
	CHECK(o.nh == H_PROTO_UDP && o.len == 8 + dlen,
	      "ESP carries %zu bytes (nh %u), want the whole %zu-byte datagram",
	      o.len, o.nh, 8 + dlen);
	if (o.len == 8 + dlen)
		CHECK(!memcmp(o.pl + 8, data, dlen), "payload differs");
}

/* The datagram fits the MTU in the clear, not after ESP. */
Test(ipsec_dp, fragments_after_esp_ipv4) { cur_case = "frag v4"; frag_case(AF_INET, 1460, 2); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, fragments_after_esp_ipv6) { cur_case = "frag v6"; frag_case(AF_INET6, 1440, 2); cr_assert_eq(nfail, 0); }
/* Larger than the MTU before ESP: still one ESP packet of the whole
 * datagram, fragmented after the transform (RFC 4301 7 and 8.1). */
Test(ipsec_dp, datagram_over_mtu_ipv4) { cur_case = "big v4"; frag_case(AF_INET, 3000, 3); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, datagram_over_mtu_ipv6) { cur_case = "big v6"; frag_case(AF_INET6, 3000, 3); cr_assert_eq(nfail, 0); }

/* ---- TCP MSS through a protected policy --------------------------------------------------- */

#define TCP_PEER_PORT 7100

/* A TCP segment from the peer (with an MSS option on SYN), protected. */
static void tcp_from_peer(struct peer *p, uint16_t dport, uint32_t seq, uint32_t ack,
			  uint8_t flags, uint16_t mss)
{
	uint8_t seg[64], ip[256], f[H_FRAME_MAX + 128], s[4], d[4];
	size_t n = h_tcp_seg(seg, TCP_PEER_PORT, dport, seq, ack, flags, NULL, 0);

	if (mss) {
		seg[12] = 6 << 4;
		seg[20] = 2;
		seg[21] = 4;
		h_put16(seg + 22, mss);
		n = 24;
	}
	addr_of(AF_INET, false, s);
	addr_of(AF_INET, true, d);
	n = ip_pkt(AF_INET, H_PROTO_TCP, s, d, seg, n, ip);
	inject(f, protect(p, ip, n, f));
}

/* Open the next protected TCP segment on TX: its TCP header, or NULL. */
static const uint8_t *tcp_to_peer(struct peer *p, uint8_t *f, size_t *seglen, size_t *flen)
{
	struct opened o;
	size_t n = tx_take(AF_INET, PROTO_ESP, f);

	*flen = n;
	if (!n)
		return NULL;
	CHECK((h_be16(f + H_ETH_HLEN + 6) & 0x3fff) == 0, "TCP over ESP fragmented");
	if (open_ip(p, f + H_ETH_HLEN, n - H_ETH_HLEN, &o) || o.nh != H_PROTO_TCP) {
		fail("a TX frame does not open as ESP/TCP");
		return NULL;
	}
	*seglen = o.len;
	return o.pl;
}

Test(ipsec_dp, tcp_mss_fits_mtu_after_esp)
{
	static const int cases[] = { A_GCM128, A_CBC256_SHA256 };
	static uint8_t data[65536];
	uint8_t f[H_FRAME_MAX];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	for (size_t ci = 0; ci < 2; ci++) {
		struct cfg c = gcm4;
		struct sockaddr_storage to;
		const uint8_t *t;
		size_t sl, fl, sent = 0, maxseg = 0, maxframe = 0;
		uint32_t iss, una, hi;
		int fd, mss = 0;
		socklen_t ml = sizeof(mss);

		c.alg = &algs[cases[ci]];
		c.pol_proto = "tcp";
		cur_case = c.alg->name;
		peer_setup(&P, &c, true, true);
		h_tx_clear();
		fd = sn_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		cr_assert_geq(fd, 0);
		errno = 0;
		cr_assert_eq(sn_connect(fd, (struct sockaddr *)&to,
					h_peer_addr(AF_INET, TCP_PEER_PORT, &to)), -1);
		cr_assert_eq(errno, EINPROGRESS);
		h_poll(4);
		t = tcp_to_peer(&P, f, &sl, &fl);
		cr_assert(t, "[%s] no protected SYN", cur_case);
		cr_assert_eq(t[13] & (H_SYN | H_ACK), H_SYN);
		uint16_t lport = h_be16(t);

		iss = h_be32(t + 4);
		tcp_from_peer(&P, lport, 5000, iss + 1, H_SYN | H_ACK, 1460);
		h_poll(4);
		cr_assert_eq(sn_getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml), 0);
		una = hi = iss + 1;
		for (int round = 0; round < 20000 && (una - iss - 1) < sizeof(data); round++) {
			ssize_t k = sent < sizeof(data) ? sn_send(fd, data + sent, sizeof(data) - sent, 0) : 0;

			if (k > 0)
				sent += (size_t)k;
			h_poll(2);
			while ((t = tcp_to_peer(&P, f, &sl, &fl)) != NULL) {
				size_t th = (size_t)(t[12] >> 4) * 4, dl = sl - th;
				uint32_t end = h_be32(t + 4) + (uint32_t)dl;

				if (dl > maxseg)
					maxseg = dl;
				if (fl - H_ETH_HLEN > maxframe)
					maxframe = fl - H_ETH_HLEN;
				if ((int32_t)(end - hi) > 0)
					hi = end;
			}
			if (hi != una) {
				una = hi;
				tcp_from_peer(&P, lport, 5001, una, H_ACK, 0);
			}
		}
		CHECK(una - iss - 1 == sizeof(data), "only %u of 64 KiB acknowledged", una - iss - 1);
		CHECK(mss > 536 && mss < 1460, "TCP_MAXSEG %d not lowered for ESP", mss);
		CHECK(maxseg == (size_t)mss, "largest segment %zu, MSS %d", maxseg, mss);
		CHECK(maxframe <= 1500, "an ESP packet of %zu bytes exceeds the MTU", maxframe);
		CHECK(maxframe > 1400, "segments (largest ESP packet %zu bytes) much smaller than the MTU",
		      maxframe);
		fprintf(stderr, "[%s] MSS %d, largest segment %zu, largest ESP packet %zu\n",
			cur_case, mss, maxseg, maxframe);
		struct linger lg = { 1, 0 };

		sn_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		sn_close(fd);
		h_poll(4);
	}
	cr_assert_eq(nfail, 0);
}

/* ---- 4. Teardown ------------------------------------------------------------------------- */

/* Each SA's crypto instance gets an ops table whose free() counts calls
 * before the real one runs (white box: struct sn_crypto is in crypto.h). */
#define MAX_TABLES 8
static struct { const struct sn_crypto_ops *orig; struct sn_crypto_ops fake; } tables[MAX_TABLES];
static int ntables;
static void *freed_be[16];
static int nfreed;

/* Every table of one backend shares its free (checked in hook_sa). */
static void fake_free(void *be)
{
	if (nfreed < 16)
		freed_be[nfreed] = be;
	nfreed++;
	tables[0].orig->free(be);
}

static int hook_sa(const struct sn_sa *sa, void *ctx)
{
	int *n = ctx;
	int i;

	for (i = 0; i < ntables && tables[i].orig != sa->crypto->ops; i++)
		;
	if (i == ntables) {
		cr_assert_lt(ntables, MAX_TABLES);
		tables[i].orig = sa->crypto->ops;
		tables[i].fake = *sa->crypto->ops;
		tables[i].fake.free = fake_free;
		ntables++;
	}
	/* One backend (the stack's) for every SA: one free function. */
	cr_assert_eq(tables[i].orig->free, tables[0].orig->free);
	sa->crypto->ops = &tables[i].fake;
	(*n)++;
	return 0;
}

Test(ipsec_dp, stop_frees_every_sa_and_delete_wipes_the_slot)
{
	struct cfg c = gcm4;
	uint8_t f[H_FRAME_MAX + 128];
	struct snap s;
	char l[1200];
	int hooked = 0;

	cur_case = "teardown";
	peer_setup(&P, &c, true, true);
	c.alg = &algs[A_CBC128_SHA1];
	c.tunnel = true;
	c.inner = c.outer = AF_INET6;
	sa_line(&c, true, l);
	apply(l);
	sa_line(&c, false, l);
	apply(l);
	cr_assert_eq(sn_sad_count(sn_ipsec.sad), 4);

	/* Deleting one SA: lookup fails, the slot (keys included) is zero. */
	struct sn_ip dst = { .family = AF_INET6 };

	h_ip6(H_IP6_US, dst.addr);
	struct sn_sa *sa = sn_sad_lookup(sn_ipsec.sad, SPI_IN, &dst, PROTO_ESP);

	cr_assert(sa);
	cr_assert_eq(sn_ipsec_sa_del(SPI_IN, AF_INET6, dst.addr, PROTO_ESP), 0);
	cr_assert_null(sn_sad_lookup(sn_ipsec.sad, SPI_IN, &dst, PROTO_ESP));
	static const uint8_t zero[sizeof(sa->conf)];

	CHECK(!memcmp(&sa->conf, zero, sizeof(sa->conf)), "deleted SA's conf (keys) not wiped");
	CHECK(sa->crypto == NULL, "deleted SA still has a crypto instance");
	CHECK(!sa->in_use, "deleted slot still in use");

	/* The IPv4 inbound SA still works, and its sequence moves on. */
	inject(f, good_frame(&P, 1, f));
	CHECK(delivered_once(&P), "remaining SA stopped working");
	snap(&s);

	/* sn_ipsec_stop: every remaining SA's crypto is freed (wiped). */
	cr_assert_eq(sn_sad_foreach(sn_ipsec.sad, hook_sa, &hooked), 0);
	cr_assert_eq(hooked, 3);
	nfreed = 0;
	sn_ipsec_stop();
	CHECK(nfreed == 3, "sn_ipsec_stop freed %d of 3 SA crypto instances", nfreed);
	CHECK(!sn_ipsec.up && !sn_ipsec.sad && !sn_ipsec.spd, "IPsec state left after stop");
	/* Protected traffic is no longer accepted: nothing listens for ESP. */
	inject(f, good_frame(&P, 2, f));
	CHECK(nothing_delivered(&P), "ESP delivered after sn_ipsec_stop");
	/* Restart for the fixture's own stop. */
	cr_assert_eq(sn_ipsec_start(), 0);
	cr_assert_eq(nfail, 0);
}

/* Many exchanges then teardown: the pools are whole again (the fixture's
 * h_stack_stop_checked aborts on a leak; here it is counted explicitly). */
Test(ipsec_dp, no_mbuf_leak_after_traffic_and_attacks)
{
	uint8_t f[H_FRAME_MAX + 128], esp[H_FRAME_MAX];
	unsigned base;

	cur_case = "leak";
	peer_setup(&P, &gcm4, true, true);
	h_poll(10);
	h_tx_clear();
	base = h_in_use();
	for (int i = 0; i < 200; i++) {
		exchange(&P);
		size_t n = esp_of(&P, 100000 + (unsigned)i, H_PROTO_UDP, esp);

		esp[n - 1] ^= 1;
		inject(f, esp_frame(&P, esp, n, f));
		inject(f, esp_frame(&P, esp, (size_t)i % 20, f));
		h_tx_clear();
	}
	h_poll(10);
	CHECK(h_in_use() == base, "%u mbufs in use after traffic, %u before", h_in_use(), base);
	peer_free(&P);
	sn_ipsec_stop();
	CHECK(h_in_use() == base, "%u mbufs in use after sn_ipsec_stop, %u before", h_in_use(), base);
	cr_assert_eq(sn_ipsec_start(), 0);
	cr_assert_eq(nfail, 0);
}

/*
 * Decapsulation re-enters lwIP's IP input from inside a raw pcb's receive
 * callback. An inner packet that is itself ESP/AH reaches raw_input again
 * while the outer raw_input is still walking raw_pcbs; both move "their"
 * pcb to the front of the list, and the outer one does so with a stale
 * `prev`, unlinking other pcbs. Here: a 6-in-4 tunnel packet (esp4 pcb)
 * whose inner IPv6 packet is ESP (esp6 pcb, unknown SPI); afterwards a
 * valid IPv4 AH packet must still be processed and delivered.
 */
Test(ipsec_dp, nested_esp_keeps_every_protocol_listening)
{
	struct cfg c = { &algs[A_GCM128], true, AF_INET6, AF_INET, false, NULL, NULL, NULL, false, NULL };
	struct cfg ca = { &algs[A_AH_SHA1], false, AF_INET, AF_INET, false, NULL, NULL, NULL, false, NULL };
	struct peer q = { 0 };
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128], junk[48], s[16], d[16];
	char l[1200];
	size_t n;

	cur_case = "nested";
	peer_setup(&P, &c, true, true);
	q.c = ca;
	q.fd4 = P.fd4;
	q.fd6 = P.fd6;
	sa_line(&ca, true, l);          /* AH, SPI 0x2001 (SPIs are per protocol) */
	apply(l);
	q.seal = crypto_for(l);
	/* An SA without selectors carries what an inbound policy names it for. */
	pol_line(&ca, true, l);
	apply(l);
	/* 1. the nested packet: inner IPv6 ESP with an unknown SPI */
	memset(junk, 0x33, sizeof(junk));
	h_put32(junk, 0x7777);
	h_put32(junk + 4, 1);
	addr_of(AF_INET6, false, s);
	addr_of(AF_INET6, true, d);
	n = ip_pkt(AF_INET6, PROTO_ESP, s, d, junk, sizeof(junk), ip);
	inject(f, protect(&P, ip, n, f));
	/* 2. a valid AH packet */
	n = udp_pkt(AF_INET, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
	inject(f, protect(&q, ip, n, f));
	CHECK(delivered_once(&q), "AH no longer processed after a nested ESP packet "
	      "(lwIP raw pcb list corrupted by re-entrant raw_input)");
	/* 3. and ESP over IPv4 still works */
	n = udp_pkt(AF_INET6, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
	inject(f, protect(&P, ip, n, f));
	CHECK(delivered_once(&P), "IPv4 ESP no longer processed after a nested ESP packet");
	peer_free(&q);
	cr_assert_eq(nfail, 0);
}

/* ---- Fragmented ESP from the peer ------------------------------------------------------------- */

/* Split the IP packet in frame f (length n) into two frames a (offset 0,
 * more fragments) and b at byte `at` of its payload (a multiple of 8), as
 * the peer's IP layer would; their lengths in *na, *nb. IPv6 fragments get
 * a Fragment header with identification id; IPv4 ones keep the packet's
 * own (AH covers it). */
static void split_fragments(const uint8_t *f, size_t n, size_t at, uint32_t id,
			    uint8_t *a, size_t *na, uint8_t *b, size_t *nb)
{
	const uint8_t *ip = f + H_ETH_HLEN;
	size_t iplen = n - H_ETH_HLEN, hl = (ip[0] >> 4) == 4 ? (size_t)(ip[0] & 15) * 4 : 40;
	size_t pl = iplen - hl, fh = (ip[0] >> 4) == 4 ? 0 : 8;

	memcpy(a, f, H_ETH_HLEN + hl);
	memcpy(b, f, H_ETH_HLEN + hl);
	if (fh) {
		uint8_t nh = ip[6];

		a[H_ETH_HLEN + 6] = b[H_ETH_HLEN + 6] = 44;
		uint8_t fa[8] = { nh, 0, 0, 1 };                        /* offset 0, M */
		uint8_t fb[8] = { nh, 0, (uint8_t)(at >> 8), (uint8_t)(at & 0xf8) };
		h_put32(fa + 4, id);
		h_put32(fb + 4, id);
		memcpy(a + H_ETH_HLEN + hl, fa, 8);
		memcpy(b + H_ETH_HLEN + hl, fb, 8);
		h_put16(a + H_ETH_HLEN + 4, (uint16_t)(8 + at));
		h_put16(b + H_ETH_HLEN + 4, (uint16_t)(8 + pl - at));
	} else {
		h_put16(a + H_ETH_HLEN + 2, (uint16_t)(hl + at));
		h_put16(b + H_ETH_HLEN + 2, (uint16_t)(hl + pl - at));
		h_put16(a + H_ETH_HLEN + 6, 0x2000);                    /* MF */
		h_put16(b + H_ETH_HLEN + 6, (uint16_t)(at / 8));
		ip4_csum(a + H_ETH_HLEN);
		ip4_csum(b + H_ETH_HLEN);
	}
	memcpy(a + H_ETH_HLEN + hl + fh, ip + hl, at);
	memcpy(b + H_ETH_HLEN + hl + fh, ip + hl + at, pl - at);
	*na = H_ETH_HLEN + hl + fh + at;
	*nb = H_ETH_HLEN + hl + fh + pl - at;
}

/* The two fragments of the IP packet in frame f, second first unless
 * first_first, each in its own RX burst. */
static void inject_fragmented(const uint8_t *f, size_t n, size_t at, bool first_first)
{
	uint8_t a[H_FRAME_MAX + 128], b[H_FRAME_MAX + 128];
	size_t na, nb;

	split_fragments(f, n, at, 0x1234, a, &na, b, &nb);
	if (first_first)
		inject(a, na);
	inject(b, nb);
	if (!first_first)
		inject(a, na);
}

static void frag_in_case(int fam)
{
	struct cfg c = { &algs[A_GCM128], false, fam, fam, false, NULL, NULL, NULL, false, NULL };
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128], big[1618], b[2048];
	struct sockaddr_storage ss;
	int fd = fam == AF_INET ? P.fd4 : P.fd6;
	size_t n;

	peer_setup(&P, &c, true, true);
	n = udp_pkt(fam, PEER_PORT, US_PORT, amsg, sizeof(amsg), ip);
	n = protect(&P, ip, n, f);
	inject_fragmented(f, n, 24, false);
	CHECK(delivered_once(&P), "a protected datagram that arrived in two fragments was not delivered");
	/* A larger one, cut where a 1000-byte-MTU link would cut it. */
	memset(big, 0x5a, sizeof(big));
	for (int order = 0; order < 2; order++) {
		n = udp_pkt(fam, PEER_PORT, US_PORT, big, sizeof(big), ip);
		n = protect(&P, ip, n, f);
		inject_fragmented(f, n, 952, order);
		CHECK(sock_take(fd, b, sizeof(b), &ss) == (long)sizeof(big) &&
		      !memcmp(b, big, sizeof(big)),
		      "a 1618-byte protected datagram in two fragments (first fragment %s) "
		      "was not delivered", order ? "first" : "last");
	}
}

Test(ipsec_dp, fragmented_esp_in_ipv4) { cur_case = "frag in v4"; frag_in_case(AF_INET); cr_assert_eq(nfail, 0); }
Test(ipsec_dp, fragmented_esp_in_ipv6) { cur_case = "frag in v6"; frag_in_case(AF_INET6); cr_assert_eq(nfail, 0); }

/*
 * One over-MTU protected datagram, its outer packet cut in two where a
 * 1000-byte link cuts it (as scapy's fragment6(p, 1000) does in
 * tests/integration/esp_peer.py), in every way a port can hand the
 * fragments over: net_tap gives a frame in one mbuf 128 bytes into its
 * buffer or, past its data room, as a chain whose later segments start at
 * offset 0; the two fragments come in one RX burst or in two, in either
 * order, and the kernel side of a TAP sends its own frames (neighbour
 * discovery, MLD) in between. lwIP's IPv6 reassembly writes its helper
 * over the 4 bytes before each fragment header (IPV6_FRAG_COPYHEADER) and
 * shortens the payload length field by 8; ipsec_in.c must see the
 * datagram exactly as sealed whatever the layout: ESP's ICV covers the
 * payload, AH's the outer header too.
 */
struct rx_layout {
	const char *name;
	size_t seg;             /* bytes per mbuf segment; 0: one mbuf */
	uint16_t headroom;      /* where the first segment's data starts */
	bool one_burst;         /* both fragments in one RX burst */
	bool last_first;        /* the fragment at the higher offset first */
	bool noise;             /* a neighbour solicitation between them */
};

static const struct rx_layout rx_layouts[] = {
	{ "one mbuf each, one burst", 0, 128, true, false, false },
	{ "one mbuf each, two bursts", 0, 128, false, false, false },
	{ "one mbuf each, one burst, last first", 0, 128, true, true, false },
	{ "one mbuf each, two bursts, last first", 0, 128, false, true, false },
	{ "two bursts, a neighbour solicitation between", 0, 128, false, false, true },
	{ "one burst, a neighbour solicitation between", 0, 128, true, true, true },
	{ "no headroom", 0, 0, false, false, false },
	{ "odd headroom", 0, 3, true, false, false },
	{ "headers alone in the first segment", 62, 128, false, false, false },
	{ "headers alone in the first segment, last first", 62, 128, true, true, false },
	{ "64-byte segments", 64, 128, true, false, false },
	{ "512-byte segments, last first", 512, 128, false, true, true },
	{ "1000-byte segments", 1000, 128, false, false, false },
	{ "last segment of one byte", 1013, 128, true, false, false },
};

static void queue_frame(const struct rx_layout *l, const uint8_t *f, size_t n)
{
	cr_assert_eq(h_inject_segs(f, n, l->seg, l->headroom), 0);
	if (!l->one_burst)
		h_poll(4);
}

static void inject_layout(const struct rx_layout *l, const uint8_t *f, size_t n, uint32_t id)
{
	uint8_t a[H_FRAME_MAX + 128], b[H_FRAME_MAX + 128], ns[H_FRAME_MAX], us[16];
	size_t na, nb;

	split_fragments(f, n, 952, id, a, &na, b, &nb);
	queue_frame(l, l->last_first ? b : a, l->last_first ? nb : na);
	if (l->noise) {
		h_ip6(H_IP6_US, us);
		queue_frame(l, ns, h_nd6_ns(ns, us));
	}
	queue_frame(l, l->last_first ? a : b, l->last_first ? na : nb);
	h_poll(4);
	h_tx_clear();
}

static void frag_layouts_case(const struct cfg *c, const char *what)
{
	uint8_t ip[H_FRAME_MAX], f[H_FRAME_MAX + 128], big[1618], b[2048];
	struct sockaddr_storage ss;
	int fd = c->inner == AF_INET ? P.fd4 : P.fd6;
	char name[160];
	struct snap s0, s1;
	size_t n;
	long got;

	peer_setup(&P, c, true, true);
	for (size_t i = 0; i < sizeof(rx_layouts) / sizeof(rx_layouts[0]); i++) {
		const struct rx_layout *l = &rx_layouts[i];

		/* lwIP's udp_input wants the UDP header in the first pbuf: ESP
		 * in UDP behind a segment boundary right after the IP headers is
		 * dropped there (udp.lenerr) like any UDP datagram so laid out;
		 * net_tap's first segment holds 2 KB. ESP and AH are flattened. */
		if (c->encap && l->seg && l->seg < 128)
			continue;
		snprintf(name, sizeof(name), "%s: %s", what, l->name);
		cur_case = name;
		for (size_t k = 0; k < sizeof(big); k++)
			big[k] = (uint8_t)(k * 7 + i * 13);
		n = udp_pkt(c->inner, PEER_PORT, US_PORT, big, sizeof(big), ip);
		n = protect(&P, ip, n, f);
		CHECK(n > H_ETH_HLEN + 1000, "the protected packet (%zu bytes) needs no fragments", n);
		snap(&s0);
		inject_layout(l, f, n, 0x5eed0000u + (uint32_t)i);
		got = sock_take(fd, b, sizeof(b), &ss);
		snap(&s1);
		CHECK(got == (long)sizeof(big) && !memcmp(b, big, sizeof(big)),
		      "the datagram was not delivered intact (got %ld bytes)", got);
		for (int k = 0; k < SN_IC_MAX; k++)
			if (is_drop(k) && s1.v[k] != s0.v[k])
				fail("drop counter %s +%llu", sn_ic_descs[k].name,
				     (unsigned long long)(s1.v[k] - s0.v[k]));
		CHECK(nothing_delivered(&P), "more than one datagram delivered");
	}
}

Test(ipsec_dp, fragmented_in_every_rx_layout)
{
	static const struct { int alg; bool tunnel; int inner, outer; bool encap; const char *what; } cs[] = {
		{ A_GCM128, false, AF_INET6, AF_INET6, false, "gcm128 transport 6" },
		{ A_CBC128_SHA256, true, AF_INET6, AF_INET6, false, "cbc128-sha256 tunnel 6" },
		{ A_NULL_SHA1, true, AF_INET, AF_INET6, false, "null-sha1 tunnel 4in6" },
		{ A_AH_SHA256, false, AF_INET6, AF_INET6, false, "ah-sha256 transport 6" },
		{ A_GCM128, false, AF_INET6, AF_INET6, true, "gcm128 transport 6 encap" },
		{ A_GCM128, false, AF_INET, AF_INET, false, "gcm128 transport 4" },
		{ A_AH_SHA256, true, AF_INET6, AF_INET, false, "ah-sha256 tunnel 6in4" },
	};

	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		struct cfg c = { &algs[cs[i].alg], cs[i].tunnel, cs[i].inner, cs[i].outer,
				 cs[i].encap, NULL, NULL, NULL, false, NULL };

		frag_layouts_case(&c, cs[i].what);
	}
	cr_assert_eq(nfail, 0, "%d checks failed", nfail);
}

/* ESN across the 2^32 boundary, both ways (RFC 4303 2.2.1, RFC 4304): SAs
 * taken over near the wrap with replay-seq / replay-oseq. Inbound, the
 * stack infers the high half from its window; outbound, it carries on
 * past 2^32-1 and its ICVs cover the high half (opening with the wrong
 * one fails). */
Test(ipsec_dp, esn_wrap_both_ways)
{
	static const struct cfg c = { &algs[A_GCM128], false, AF_INET, AF_INET, false, NULL,
				      "replay-window 64 flag esn replay-seq 0xfffffff0", NULL, true,
				      "replay-window 64 flag esn replay-oseq 0xfffffffe" };
	static const uint64_t in[] = { 0xfffffffdull, 0xffffffffull, 0x100000000ull,
				       0x100000002ull, 0xfffffffeull, 0x100000001ull };
	uint8_t f[H_FRAME_MAX + 128], b[H_FRAME_MAX];
	struct sockaddr_storage to;
	struct snap s;

	cur_case = "esn wrap";
	peer_setup(&P, &c, true, true);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		inject(f, good_frame(&P, in[i], f));
		CHECK(delivered_once(&P), "inbound seq 0x%llx", (unsigned long long)in[i]);
	}
	snap(&s);
	inject(f, good_frame(&P, 0x100000000ull, f));
	expect_only(&P, &s, SN_IC_DROP_REPLAY, "replay after the wrap");
	for (uint64_t want = 0xffffffffull; want <= 0x100000001ull; want++) {
		struct sn_esp_payload pl;
		uint32_t spi, lo;
		uint8_t *esp;
		size_t n;

		h_tx_clear();
		cr_assert_eq(sn_sendto(P.fd4, rep, sizeof(rep), 0, (struct sockaddr *)&to,
				       h_peer_addr(AF_INET, PEER_PORT, &to)), (ssize_t)sizeof(rep));
		h_poll(4);
		n = tx_take(AF_INET, SN_IPPROTO_ESP, b);
		cr_assert_gt(n, 0, "no ESP for seq 0x%llx", (unsigned long long)want);
		esp = b + H_ETH_HLEN + H_IP4_HLEN;
		n -= H_ETH_HLEN + H_IP4_HLEN;
		cr_assert_eq(sn_esp_peek(esp, n, &spi, &lo), 0);
		CHECK(lo == (uint32_t)want, "outbound low half 0x%x, want 0x%llx", lo,
		      (unsigned long long)want);
		uint8_t copy[H_FRAME_MAX];

		memcpy(copy, esp, n);
		CHECK(sn_esp_open(P.open, want ^ (1ull << 32), true, copy, n, &pl) != 0,
		      "ICV verifies with the wrong high half at 0x%llx", (unsigned long long)want);
		CHECK(sn_esp_open(P.open, want, true, esp, n, &pl) == 0 && pl.len == sizeof(rep) + 8,
		      "outbound 0x%llx does not open", (unsigned long long)want);
	}
	cr_expect_eq(nfail, 0, "%d checks failed", nfail);
}


/* A cleartext datagram the peer fragments meets the inbound SPD whole: a
 * policy that protects a port (its fragments carry none) drops it, once,
 * as cleartext, and delivers what it does not cover; so does a policy
 * without ports. (Judged per fragment, the first slipped through.) */
Test(ipsec_dp, cleartext_fragments_meet_the_policy)
{
	uint8_t f[H_FRAME_MAX + 128], big[1618], b[2048];
	struct sockaddr_storage ss;
	char name[64];
	struct snap s;
	size_t n;

	memset(big, 0x42, sizeof(big));
	for (int v6 = 0; v6 < 2; v6++) {
		int fam = v6 ? AF_INET6 : AF_INET;

		for (int ports = 0; ports < 2; ports++) {
			struct cfg c = { &algs[A_GCM128], false, fam, fam, false, NULL, NULL,
					 ports ? "dport 5000" : NULL, false, NULL };

			snprintf(name, sizeof(name), "cleartext fragments v%d, policy %s", v6 ? 6 : 4,
				 ports ? "with dport" : "without ports");
			cur_case = name;
			peer_setup(&P, &c, true, true);
			h_eth(f, h_mac_us, h_mac_peer, v6 ? H_ETH_IP6 : H_ETH_IP4);
			n = udp_pkt(fam, PEER_PORT, US_PORT, big, sizeof(big), f + H_ETH_HLEN);
			snap(&s);
			inject_fragmented(f, H_ETH_HLEN + n, 952, ports);
			expect_only(&P, &s, SN_IC_DROP_CLEARTEXT, "a fragmented cleartext datagram");
			if (!ports)
				continue;
			int other = udp_sock(fam, US_PORT + 1);

			n = udp_pkt(fam, PEER_PORT, US_PORT + 1, big, sizeof(big), f + H_ETH_HLEN);
			snap(&s);
			inject_fragmented(f, H_ETH_HLEN + n, 952, true);
			CHECK(sock_take(other, b, sizeof(b), &ss) == (long)sizeof(big),
			      "a fragmented datagram to a port no policy covers was not delivered");
			sn_close(other);
			struct snap a;

			snap(&a);
			for (int k = 0; k < SN_IC_MAX; k++)
				CHECK(!is_drop(k) || a.v[k] == s.v[k], "uncovered port: %s +%llu",
				      sn_ic_descs[k].name, (unsigned long long)(a.v[k] - s.v[k]));
		}
	}
	cr_assert_eq(nfail, 0, "%d checks failed", nfail);
}

/* `auth sha256 KEY` (and 'hmac(sha256)') is Linux's HMAC-SHA-256 cut to 96
 * bits: the ICV on the wire is the first 12 bytes of the HMAC over the ESP
 * header and payload, computed here with mbedTLS directly, not through
 * sealnet's crypto code. */
Test(ipsec_dp, esp_auth_sha256_is_truncated_to_96_bits)
{
	struct cfg c = { &algs[A_NULL_SHA256_96], false, AF_INET, AF_INET, false, NULL, NULL,
			 NULL, false, NULL };
	uint8_t f[H_FRAME_MAX], key[32], mac[32];
	struct sockaddr_storage to;
	size_t n, hl, len;
	const uint8_t *esp;

	cur_case = "sha256-96";
	peer_setup(&P, &c, true, true);
	exchange(&P);           /* both ways, opened by the other backend */
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)((101 * 37 + i * 11 + 5) & 0xff);     /* hexkey(seed 101) */
	h_tx_clear();
	cr_assert_eq(sn_sendto(P.fd4, rep, sizeof(rep), 0, (struct sockaddr *)&to,
			       h_peer_addr(AF_INET, PEER_PORT, &to)), (ssize_t)sizeof(rep));
	h_poll(4);
	n = tx_take(AF_INET, PROTO_ESP, f);
	cr_assert_gt(n, 0, "no ESP sent");
	hl = ip_hlen(f + H_ETH_HLEN);
	esp = f + H_ETH_HLEN + hl;
	len = ip_total(f + H_ETH_HLEN) - hl;
	/* header 8, UDP 8 + data, padding to 4 with its 2 trailer bytes, ICV 12 */
	cr_expect_eq(len, 8 + ((8 + sizeof(rep) + 2 + 3) & ~(size_t)3) + 12, "ESP length %zu", len);
	cr_assert_eq(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, 32, esp,
				     len - 12, mac), 0);
	cr_expect_eq(memcmp(esp + len - 12, mac, 12), 0, "ICV is not HMAC-SHA-256 cut to 96 bits");
	cr_assert_eq(nfail, 0, "%d checks failed", nfail);
}

/* replay-window 0 (ip xfrm's default for manual SAs): anti-replay off for
 * that SA. A peer that restarted and seals from sequence 1 again is heard
 * (with a window it is dropped as left of it), and so is a copy; nothing
 * is counted as a replay. */
Test(ipsec_dp, replay_window_zero_accepts_a_restarted_peer)
{
	struct cfg c = gcm4;
	uint8_t f[H_FRAME_MAX + 128];
	struct snap s;
	size_t n;

	cur_case = "replay-window 0";
	c.sa_in_extra = " replay-window 0";
	peer_setup(&P, &c, true, true);
	inject(f, good_frame(&P, 5000, f));
	CHECK(delivered_once(&P), "seq 5000");
	snap(&s);
	inject(f, good_frame(&P, 1, f));
	CHECK(delivered_once(&P), "a restarted peer's seq 1 after 5000");
	n = good_frame(&P, 2, f);
	inject(f, n);
	CHECK(delivered_once(&P), "seq 2");
	inject(f, n);
	CHECK(delivered_once(&P), "a copy of seq 2: no anti-replay on this SA");
	struct snap a;

	snap(&a);
	CHECK(a.v[SN_IC_DROP_REPLAY] == s.v[SN_IC_DROP_REPLAY] &&
	      a.v[SN_IC_DROP_REPLAY_OLD] == s.v[SN_IC_DROP_REPLAY_OLD], "replay counted");

	/* Control: the default window drops the restarted peer's seq 1. */
	cur_case = "default window";
	peer_setup(&P, &gcm4, true, true);
	inject(f, good_frame(&P, 5000, f));
	CHECK(delivered_once(&P), "seq 5000");
	snap(&s);
	inject(f, good_frame(&P, 1, f));
	expect_only(&P, &s, SN_IC_DROP_REPLAY_OLD, "seq 1 after 5000, window 1024");
	cr_assert_eq(nfail, 0, "%d checks failed", nfail);
}
