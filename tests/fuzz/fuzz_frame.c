/*
 * libFuzzer target: each input is one Ethernet frame received by the
 * stack (the unit tests' harness: a fake port, no EAL device). A TCP
 * listener and UDP sockets on IPv4 and IPv6 give the frames somewhere to
 * go, and the peer's MAC is known so replies go out at once.
 *
 * After each input every mbuf must be back in the pool, except while IP
 * reassembly holds fragments (they wait for the rest or their timeout).
 * Sanitizers catch the rest.
 */
#include <stdio.h>
#include <stdlib.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "harness.h"

#define FUZZ_PORT_TCP 80
#define FUZZ_PORT_UDP 9999

static int socks[4], nsocks;
static unsigned baseline;

static int udp_socket(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(family, FUZZ_PORT_UDP, &ss);
	int fd = sn_socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || sn_bind(fd, (struct sockaddr *)&ss, len))
		abort();
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	h_stack_start();
	socks[nsocks++] = h_listen(AF_INET, FUZZ_PORT_TCP);
	socks[nsocks++] = h_listen(AF_INET6, FUZZ_PORT_TCP);
	socks[nsocks++] = udp_socket(AF_INET);
	socks[nsocks++] = udp_socket(AF_INET6);
	if (socks[0] < 0 || socks[1] < 0)
		abort();
	h_learn_peer4();
	h_learn_peer6();
	h_tx_clear();
	baseline = h_in_use();
	return 0;
}

/* Read what reached the sockets; close what was accepted. */
static void drain(void)
{
	char buf[2048];
	int fd;

	for (int i = 0; i < nsocks; i++) {
		while (sn_recv(socks[i], buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			;
		while ((fd = sn_accept(socks[i], NULL, NULL)) >= 0)
			sn_close(fd);
	}
}

static bool reassembly_idle(void)
{
	return lwip_stats.memp[MEMP_REASSDATA]->used == 0 &&
	       lwip_stats.memp[MEMP_IP6_REASSDATA]->used == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > H_FRAME_MAX)
		return -1;   /* larger than an mbuf's data room: not a frame we get */
	if (h_inject(data, size))
		abort();
	h_poll(2);
	drain();
	h_tx_clear();
	if (reassembly_idle() && h_in_use() != baseline) {
		fprintf(stderr, "fuzz_frame: %u mbufs kept after the frame (baseline %u)\n",
			h_in_use(), baseline);
		abort();
	}
	return 0;
}
