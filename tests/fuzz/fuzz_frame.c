/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: each input is one Ethernet frame received by the
 * stack (the unit tests' harness: a fake port, no EAL device), or, when
 * it starts with "SNSQ", up to SEQ_MAX frames received one after the
 * other, each as a 16-bit big-endian length and the frame (what takes more
 * than one frame: fragments, a TCP handshake and its data). A TCP
 * listener and UDP sockets on IPv4 and IPv6 give the frames somewhere to
 * go, and the peer's MAC is known so replies go out at once.
 *
 * After each input every mbuf must be back in the pool. Every input starts
 * from the same state (fuzz_reset.h: the clock stands still; connections,
 * fragments, the ARP and ND caches are reset), so a finding reproduces
 * from its file. Sanitizers catch the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealnet/sealnet.h"   /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "harness.h"
#include "fuzz_reset.h"

#define FUZZ_PORT_TCP 80
#define FUZZ_PORT_UDP 9999
#define SEQ_MAGIC "SNSQ"
#define SEQ_MAX 8

static int socks[4], nsocks;

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
	sn_sys_harness_reset(FZ_NOW_US);
	h_stack_start();
	socks[nsocks++] = h_listen(AF_INET, FUZZ_PORT_TCP);
	socks[nsocks++] = h_listen(AF_INET6, FUZZ_PORT_TCP);
	socks[nsocks++] = udp_socket(AF_INET);
	socks[nsocks++] = udp_socket(AF_INET6);
	if (socks[0] < 0 || socks[1] < 0)
		abort();
	h_learn_peer4();
	h_learn_peer6();
	fz_init(NULL);
	return 0;
}

static void one_frame(const uint8_t *f, size_t len)
{
	if (h_inject(f, len))
		abort();
	h_poll(2);
	fz_trace("fuzz_frame", len, fz_drain(socks, nsocks));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > H_FRAME_MAX)
		return -1;   /* larger than an mbuf's data room: not a frame we get */
	fz_begin();
	if (size >= 4 && !memcmp(data, SEQ_MAGIC, 4)) {
		size_t i = 4;

		for (int k = 0; k < SEQ_MAX && i + 2 <= size; k++) {
			size_t len = (size_t)data[i] << 8 | data[i + 1];

			i += 2;
			if (len > size - i)
				len = size - i;
			one_frame(data + i, len);
			i += len;
		}
	} else {
		one_frame(data, size);
	}
	fz_end("fuzz_frame");
	return 0;
}
