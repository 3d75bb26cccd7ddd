/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's counters as data (VPP's way): one list, name and meaning.
 * ike_stats() walks it; the glue prints each as "ike.NAME". The gauges
 * (sas, halfopen, children) are computed, the rest only ever increase.
 */
#ifndef SN_IKE_COUNTERS_H
#define SN_IKE_COUNTERS_H

#define IKE_COUNTERS(X) \
	X(init_received, "IKE_SA_INIT requests received") \
	X(init_sent, "IKE_SA_INIT requests sent") \
	X(auth_ok, "IKE_AUTH exchanges that authenticated the peer") \
	X(auth_failed, "IKE_AUTH exchanges that failed authentication (either side)") \
	X(cookie_sent, "COOKIE notifies sent (responder under load)") \
	X(cookie_received, "COOKIE notifies received (initiator retried)") \
	X(invalid_ke_sent, "INVALID_KE_PAYLOAD notifies sent") \
	X(invalid_ke_received, "INVALID_KE_PAYLOAD notifies received (retried with the group)") \
	X(retransmit_sent, "requests retransmitted after a timeout") \
	X(retransmit_answered, "duplicate requests answered from the cached response") \
	X(drop_malformed, "messages dropped: a header or payload failed to parse") \
	X(drop_msgid, "messages dropped: message ID outside the window") \
	X(drop_no_sa, "messages dropped: no IKE SA for the SPIs") \
	X(drop_decrypt, "messages dropped: SK payload failed its ICV or decryption") \
	X(unsupported_critical, "messages refused for an unknown critical payload") \
	X(halfopen_refused, "IKE_SA_INIT requests refused over the half-open limits") \
	X(no_proposal, "NO_PROPOSAL_CHOSEN, sent or received") \
	X(ts_unacceptable, "TS_UNACCEPTABLE, sent or received") \
	X(idr_mismatch, "peers that proved another identity than the one required") \
	X(cert_revoked, "peer certificates refused as revoked") \
	X(child_added, "child SA pairs installed") \
	X(child_deleted, "child SA pairs deleted") \
	X(child_rekeyed, "child SAs rekeyed") \
	X(ike_rekeyed, "IKE SAs rekeyed") \
	X(delete_sent, "Delete payloads sent") \
	X(delete_received, "Delete payloads received") \
	X(dpd_sent, "liveness checks sent") \
	X(dpd_dead, "peers declared dead (no answer to a request)") \
	X(frag_sent, "IKE fragments sent") \
	X(frag_reassembled, "fragmented messages reassembled") \
	X(frag_dropped, "IKE fragments dropped") \
	X(acquire_received, "acquires received from the datapath") \
	X(acquire_failed, "acquires answered with an error")

enum ike_counter {
#define IKE_CTR_ENUM(name, desc) IKE_CTR_##name,
	IKE_COUNTERS(IKE_CTR_ENUM)
#undef IKE_CTR_ENUM
	IKE_CTR__COUNT
};

#endif
