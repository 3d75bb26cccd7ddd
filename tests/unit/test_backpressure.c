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

/* Blocked port: the TX queue fills, UDP sends fail with ENOBUFS and the
 * drops are counted; unblocked, the queue drains and sends succeed. */
Test(bp, udp_enobufs_then_recovers)
{
	struct sockaddr_in to;
	char payload[64] = "x";
	int u, sent = 0, err = 0;

	h_learn_peer4();
	u = udp_to_peer(&to);
	h_tx_block(true);
	for (int i = 0; i < 5000; i++) {
		if (sn_sendto(u, payload, sizeof(payload), 0,
			      (struct sockaddr *)&to, sizeof(to)) == sizeof(payload))
			sent++;
		else if ((err = errno) == ENOBUFS)
			break;
	}
	cr_assert_eq(err, ENOBUFS, "no back-pressure after %d datagrams (errno %d)", sent, err);
	cr_expect_gt(h_stat("stack.drop_tx_full"), 0);
	cr_expect_gt(sent, 0);
	h_tx_block(false);
	h_tx_clear();
	h_poll(5);
	cr_expect_geq(h_tx_count(), (unsigned)sent, "queued datagrams were not sent after the port drained");
	cr_assert_eq(sn_sendto(u, payload, sizeof(payload), 0, (struct sockaddr *)&to,
			       sizeof(to)), (ssize_t)sizeof(payload), "no recovery: %s",
		     strerror(errno));
	sn_close(u);
}

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
