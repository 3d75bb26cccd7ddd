/* SPDX-License-Identifier: BSD-3-Clause */
/* TX checksum offload set-up for frames built by the stack. */
#include <rte_mbuf.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "sn_dev.h"

/*
 * Let the port fill the TCP checksum of m: the stack left the field zero;
 * the port wants the pseudo-header sum there and the header lengths in the
 * mbuf. TCP segments carry all their headers in the first buffer.
 */
void sn_mbuf_tx_tcp_cksum(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_tcp_hdr *tcp;

	if (m->data_len < sizeof(*eth) + sizeof(struct rte_ipv4_hdr) + sizeof(*tcp))
		return;
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		uint16_t hl = rte_ipv4_hdr_len(ip);

		if (ip->next_proto_id != IPPROTO_TCP ||
		    m->data_len < sizeof(*eth) + hl + sizeof(*tcp))
			return;
		tcp = (struct rte_tcp_hdr *)((char *)ip + hl);
		m->l2_len = sizeof(*eth);
		m->l3_len = hl;
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6)) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);

		if (ip6->proto != IPPROTO_TCP ||
		    m->data_len < sizeof(*eth) + sizeof(*ip6) + sizeof(*tcp))
			return;
		tcp = (struct rte_tcp_hdr *)(ip6 + 1);
		m->l2_len = sizeof(*eth);
		m->l3_len = sizeof(*ip6);
		m->ol_flags |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM;
		tcp->cksum = rte_ipv6_phdr_cksum(ip6, m->ol_flags);
	}
}
