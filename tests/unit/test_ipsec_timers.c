/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/timers.c through the harness: SAs past a hard lifetime are
 * deleted one tick after they are first seen hard (a packet in between
 * still counts drop_expired), and outbound SAs in UDP send a NAT
 * keep-alive (a UDP datagram of one 0xff byte, RFC 3948 2.3) every 20 s.
 * Time is handed to sn_ipsec_timers() directly.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "harness.h"
#include "ipsec_dp.h"
#include "sn_ipsec_api.h"

static void start(void)
{
	h_stack_start();
	cr_assert_eq(sn_ipsec_start(), 0);
}

static void stop(void)
{
	sn_ipsec_stop();
	h_stack_stop_checked();
}

TestSuite(ipsec_timers, .init = start, .fini = stop, .timeout = 60);

#define GCM "aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e0f10111213 128"

static void apply(const char *line)
{
	char err[256];

	cr_assert_eq(sn_ipsec_xfrm(line, err, sizeof(err)), 0, "%s: %s", line, err);
}

static uint64_t sas(void)
{
	return h_stat("ipsec.sas");
}

Test(ipsec_timers, hard_expired_sa_deleted_one_tick_later)
{
	uint64_t now = sn_ipsec_now_s();

	apply("state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x3001 mode transport " GCM
	      " limit time-hard 5");
	apply("state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x3002 mode transport " GCM);
	cr_assert_eq(sas(), 2);
	sn_ipsec_timers(now + 1);
	cr_expect_eq(sas(), 2, "alive");
	sn_ipsec_timers(now + 6);
	cr_expect_eq(sas(), 2, "hard, first seen: kept one more tick");
	sn_ipsec_timers(now + 7);
	cr_expect_eq(sas(), 1, "deleted");
	cr_expect_eq(h_stat("ipsec.expired_hard"), 1);
	sn_ipsec_timers(now + 8);
	cr_expect_eq(sas(), 1, "the other SA stays");
}

/* The first UDP datagram of the capture that carries exactly one byte. */
static bool keepalive_seen(uint16_t *dport)
{
	uint8_t f[H_FRAME_MAX];
	size_t n;

	while ((n = h_tx_find(H_ETH_IP4, H_PROTO_UDP, f, sizeof(f))) > 0) {
		const uint8_t *udp = f + H_ETH_HLEN + H_IP4_HLEN;

		if (n == H_ETH_HLEN + H_IP4_HLEN + 8 + 1 && udp[8] == 0xff &&
		    udp[0] == 0x11 && udp[1] == 0x94) {             /* from 4500 */
			*dport = (uint16_t)(udp[2] << 8 | udp[3]);
			return true;
		}
	}
	return false;
}

Test(ipsec_timers, nat_keepalive_every_20s_for_used_outbound_encap_sa)
{
	uint64_t now = sn_ipsec_now_s();
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t dport = 0;
	int fd;

	h_learn_peer4();
	apply("state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x4001 mode transport " GCM
	      " encap espinudp 4500 4501 0.0.0.0");
	apply("policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dir out tmpl src 10.0.0.1 "
	      "dst 10.0.0.2 proto esp mode transport");
	sn_ipsec_timers(now + 1);               /* arms the keep-alive clock */
	sn_ipsec_timers(now + 30);
	h_poll(4);
	cr_expect_not(keepalive_seen(&dport), "an SA never used sends none");
	/* One protected datagram makes the SA an outbound one in use. */
	fd = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fd, 0);
	len = h_peer_addr(AF_INET, 9, &ss);
	cr_assert_eq(sn_sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len), 1);
	h_poll(4);
	h_tx_clear();
	sn_ipsec_timers(now + 40);
	h_poll(4);
	cr_expect_not(keepalive_seen(&dport), "not before 20 s have passed");
	sn_ipsec_timers(now + 51);
	h_poll(4);
	cr_expect(keepalive_seen(&dport), "keep-alive after 20 s");
	cr_expect_eq(dport, 4501);
	cr_expect_eq(h_stat("ipsec.nat_keepalive_sent"), 1);
	sn_close(fd);
}

/* The soft lifetime is reported once, by the timer (where a rekey will
 * start), also when packets flowed past it: the datapath's per-packet
 * check asks about the hard limit only. */
Test(ipsec_timers, soft_expiry_reported_once_by_the_timer)
{
	uint64_t now = sn_ipsec_now_s();
	struct sn_sa *sa;
	struct sn_ip dst = { .family = AF_INET, .addr = { 10, 0, 0, 1 } };

	apply("state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x3003 mode transport " GCM
	      " limit time-soft 3 limit time-hard 100");
	sa = sn_sad_lookup(sn_ipsec.sad, 0x3003, &dst, 50);
	cr_assert_not_null(sa);
	cr_expect_not(sn_life_hard(&sa->life, now + 4), "past soft, not hard");
	sn_ipsec_timers(now + 1);
	cr_expect_eq(h_stat("ipsec.expired_soft"), 0);
	sn_ipsec_timers(now + 4);
	cr_expect_eq(h_stat("ipsec.expired_soft"), 1);
	sn_ipsec_timers(now + 5);
	cr_expect_eq(h_stat("ipsec.expired_soft"), 1, "once");
	cr_expect_eq(sas(), 1);
}
