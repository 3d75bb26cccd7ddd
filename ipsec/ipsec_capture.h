/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture's inner interface (dpdk/sn_capture.h): the cleartext packet
 * of protected traffic, inbound after decapsulation and outbound before
 * encapsulation. One line at each place: sn_ipsec_capture(p, dir).
 */
#ifndef SN_IPSEC_CAPTURE_H
#define SN_IPSEC_CAPTURE_H

#include "lwip/pbuf.h"
#include "sn_capture.h"

void sn_ipsec_capture_pbuf(const struct pbuf *p, enum sn_capture_dir dir);

static inline void sn_ipsec_capture(const struct pbuf *p, enum sn_capture_dir dir)
{
	if (unlikely(sn_capture_on))
		sn_ipsec_capture_pbuf(p, dir);
}

#endif
