/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An inner IP packet (a pbuf chain) to the capture's inner interface. A
 * chain longer than SN_CAPTURE_MAX_SEGS is captured up to that many pieces.
 */
#include "ipsec_capture.h"

void sn_ipsec_capture_pbuf(const struct pbuf *p, enum sn_capture_dir dir)
{
	struct sn_capture_seg s[SN_CAPTURE_MAX_SEGS];
	unsigned n = 0;

	for (const struct pbuf *q = p; q && n < SN_CAPTURE_MAX_SEGS; q = q->next)
		if (q->len)
			s[n++] = (struct sn_capture_seg){ q->payload, q->len };
	sn_capture_inner(s, n, dir);
}
