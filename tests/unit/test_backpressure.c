/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resource exhaustion: when the port stops taking frames, sends fail with
 * ENOBUFS (UDP) or stop short (TCP send buffer) instead of losing data
 * silently, the drop is counted, and everything recovers once the port
 * drains; no mbuf is left behind.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "sealnet/sealnet.h"
#include "harness.h"
#include "sn_stack.h"
#include "ipsec_dp.h"
#include "sn_ipsec_api.h"

TestSuite(bp, .init = h_stack_start, .fini = h_stack_stop_checked, .timeout = 60);

static int udp_to_peer(struct sockaddr_in *to)
{
	int u = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(u, 0);
	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	to->sin_port = htons(9);
	inet_pton(AF_INET, H_IP4_PEER, &to->sin_addr);
	return u;
}

/* Send datagrams to the peer until one fails (at most max); returns how
 * many were sent, *err the errno of the failure (0: none failed). */
static int send_until_error(int u, const struct sockaddr_in *to, int max, int *err)
{
	char payload[64] = "x";
	int sent = 0;

	*err = 0;
	for (int i = 0; i < max; i++) {
		if (sn_sendto(u, payload, sizeof(payload), 0, (const struct sockaddr *)to,
			      sizeof(*to)) != sizeof(payload)) {
			*err = errno;
			break;
		}
		sent++;
	}
	return sent;
}

/* Blocked port: the TX queue fills, UDP sends fail with ENOBUFS and the
 * drops are counted; unblocked, the queue drains and sends succeed. With
 * esp, the datagrams go out ESP-protected and the sender sees the same
 * back-pressure (it saw none: the protected output returned ERR_OK). */
static void enobufs_then_recovers(bool esp)
{
	struct sockaddr_in to;
	char payload[64] = "x";
	int u, sent, err;

	h_learn_peer4();
	u = udp_to_peer(&to);
	h_tx_block(true);
	sent = send_until_error(u, &to, 5000, &err);
	cr_assert_eq(err, ENOBUFS, "no back-pressure after %d datagrams (errno %d)", sent, err);
	cr_expect_gt(h_stat("stack.drop_tx_full"), 0);
	cr_expect_gt(sent, 0);
	if (esp)
		cr_expect_geq(h_stat("ipsec.out_packets"), (uint64_t)sent);
	h_tx_block(false);
	h_tx_clear();
	h_poll(5);
	cr_expect_geq(h_tx_count(), (unsigned)sent, "queued datagrams were not sent after the port drained");
	cr_assert_eq(sn_sendto(u, payload, sizeof(payload), 0, (struct sockaddr *)&to,
			       sizeof(to)), (ssize_t)sizeof(payload), "no recovery: %s",
		     strerror(errno));
	sn_close(u);
}

Test(bp, udp_enobufs_then_recovers)
{
	enobufs_then_recovers(false);
}

static void apply(const char *line)
{
	char err[SN_IPSEC_ERR_MAX] = "";

	cr_assert_eq(sn_ipsec_apply_line(line, err, sizeof(err)), 0, "%s: %s", line, err);
}

#define GCM_KEY "aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128"

static void esp_sas(void)
{
	apply("state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1001 mode transport "
	      "reqid 1 " GCM_KEY);
	apply("state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x2001 mode transport "
	      "reqid 2 " GCM_KEY);
}

static void esp_policy_out(void)
{
	apply("policy add src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dir out "
	      "tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode transport reqid 1");
}

Test(bp, esp_udp_enobufs_then_recovers)
{
	cr_assert_eq(sn_ipsec_start(), 0);
	esp_sas();
	esp_policy_out();
	enobufs_then_recovers(true);
	cr_expect_eq(h_stat("ipsec.drop_nomem"), 0);
	sn_ipsec_stop();
}

/* A key manager that starts negotiating and never finishes. */
static int acq_calls;

static int slow_acquire(struct sn_policy *pol, const struct sn_flow *flow, void *ctx)
{
	(void)pol;
	(void)flow;
	(void)ctx;
	acq_calls++;
	return 0;
}

/* While an SA is negotiated, SN_SPD_QUEUE_DEFAULT datagrams wait; the next
 * ones are back-pressure (ENOBUFS, drop_acquire_full), for a configured
 * policy and for a socket's own one, whose socket does not fail for it
 * (it was failed with ECONNREFUSED, and the error was thrown away). Once
 * the SA is there the held ones leave and sending works again. */
static void acquire_queue_full(bool socket_policy)
{
	struct sockaddr_in to;
	int u, sent, err, soerr = -1;
	socklen_t elen = sizeof(soerr);

	cr_assert_eq(sn_ipsec_start(), 0);
	acq_calls = 0;
	sn_spd_set_acquire(sn_ipsec.spd, slow_acquire, NULL);
	h_learn_peer4();
	u = udp_to_peer(&to);
	if (socket_policy)
		cr_assert_eq(sn_set_socket_security(u, NULL, 0), 0, "%s", strerror(errno));
	else
		esp_policy_out();
	sent = send_until_error(u, &to, 100, &err);
	cr_expect_eq(sent, SN_SPD_QUEUE_DEFAULT, "held %d datagrams", sent);
	cr_expect_eq(err, ENOBUFS, "errno %d (%s) when the acquire queue is full", err,
		     strerror(err));
	cr_expect_eq(h_stat("ipsec.drop_acquire_full"), 1);
	cr_expect_eq(acq_calls, 1);
	h_poll(5);
	cr_assert_eq(sn_getsockopt(u, SOL_SOCKET, SO_ERROR, &soerr, &elen), 0);
	cr_expect_eq(soerr, 0, "the socket failed (%s) for a full acquire queue", strerror(soerr));
	h_tx_clear();
	esp_sas();
	h_poll(5);
	cr_expect_geq(h_tx_count(), (unsigned)sent, "held datagrams did not leave");
	sent = send_until_error(u, &to, 3, &err);
	cr_expect_eq(sent, 3, "no recovery: %s", strerror(err));
	sn_close(u);
	sn_ipsec_stop();
}

Test(bp, acquire_queue_full_is_enobufs) { acquire_queue_full(false); }
Test(bp, socket_acquire_queue_full_is_enobufs) { acquire_queue_full(true); }

/* A connection still in its handshake takes no data: EAGAIN, nothing
 * queued or lost. */
Test(bp, tcp_send_during_handshake_is_eagain)
{
	struct sockaddr_in to;
	static char chunk[65536];
	int t = sn_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(t, 0);
	h_learn_peer4();
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(80);
	inet_pton(AF_INET, H_IP4_PEER, &to.sin_addr);
	cr_assert_eq(sn_connect(t, (struct sockaddr *)&to, sizeof(to)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	cr_expect_eq(sn_send(t, chunk, sizeof(chunk), 0), -1);
	cr_expect_eq(errno, EAGAIN);
	sn_close(t);
	h_poll(3);
}
