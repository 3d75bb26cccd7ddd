/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec counters as data: every packet an SA or a policy passes and every
 * drop, with a name (what snctl prints), a severity and a reason. Each SA
 * holds one array of these (struct sn_sa.ctr), each policy one
 * (struct sn_policy.ctr), and the SAD and SPD one each for what belongs to
 * no SA or no policy (an unknown SPI, cleartext where protection is
 * required). Tests of attacks assert that the named counter moved.
 */
#ifndef SN_IPSEC_COUNTERS_H
#define SN_IPSEC_COUNTERS_H

#include <stdint.h>

enum sn_ic_severity { SN_IC_INFO = 0, SN_IC_WARN, SN_IC_ERROR };

/* X(id, name, severity, description) */
#define SN_IPSEC_COUNTER_LIST(X)                                                          \
	X(IN_PACKETS,       "in_packets",       INFO,  "packets decapsulated and accepted")  \
	X(IN_BYTES,         "in_bytes",         INFO,  "inner bytes accepted")                \
	X(OUT_PACKETS,      "out_packets",      INFO,  "packets encapsulated")                \
	X(OUT_BYTES,        "out_bytes",        INFO,  "inner bytes encapsulated")            \
	X(NAT_KEEPALIVE,    "nat_keepalive",    INFO,  "NAT keep-alives received (RFC 3948 2.3)") \
	X(NAT_KEEPALIVE_SENT,"nat_keepalive_sent",INFO, "NAT keep-alives sent (RFC 3948 4)") \
	X(EXPIRED_SOFT,     "expired_soft",     INFO,  "SAs past their soft lifetime (rekey due)") \
	X(EXPIRED_HARD,     "expired_hard",     INFO,  "SAs deleted at their hard lifetime")  \
	X(DUMMY,            "dummy",            INFO,  "TFC dummy packets (next header 59) discarded (RFC 4303 2.6)") \
	X(DROP_UNKNOWN_SPI, "drop_unknown_spi", WARN,  "no SA for this SPI, destination and protocol") \
	X(DROP_TRUNCATED,   "drop_truncated",   ERROR, "shorter than header, IV and ICV, or a length field beyond the data") \
	X(DROP_REPLAY,      "drop_replay",      WARN,  "sequence number already seen (RFC 4303 3.4.3)") \
	X(DROP_REPLAY_OLD,  "drop_replay_old",  WARN,  "sequence number left of the window, or 0") \
	X(DROP_AUTH,        "drop_auth",        ERROR, "ICV did not verify")                  \
	X(DROP_BAD_LEN,     "drop_bad_len",     ERROR, "ciphertext not a multiple of the block size") \
	X(DROP_BAD_PAD,     "drop_bad_pad",     ERROR, "padding length or contents wrong (RFC 4303 2.4)") \
	X(DROP_BAD_HEADER,  "drop_bad_header",  ERROR, "AH length or reserved field, or next header, invalid") \
	X(DROP_SELECTOR,    "drop_selector",    ERROR, "inner packet outside the SA's selectors (RFC 4301 5.2)") \
	X(DROP_EXPIRED,     "drop_expired",     WARN,  "SA past its hard lifetime")           \
	X(DROP_SEQ_OVERFLOW,"drop_seq_overflow",WARN,  "outbound sequence number would cycle (RFC 4303 3.3.3)") \
	X(DROP_CRYPTO,      "drop_crypto",      ERROR, "crypto backend failed")               \
	X(DROP_NOMEM,       "drop_nomem",       WARN,  "no buffer or headroom for the transform") \
	X(DROP_TOOBIG,      "drop_toobig",      WARN,  "too big for the path MTU after encapsulation, DF set") \
	X(DROP_ENCAP,       "drop_encap",       ERROR, "UDP encapsulation invalid (RFC 3948)") \
	X(DROP_NATT_IKE,    "drop_natt_ike",    INFO,  "IKE (non-ESP marker) on UDP 4500 with no IKE endpoint to take it (RFC 3948 2.2)") \
	X(DROP_NATT_SHORT,  "drop_natt_short",  ERROR, "UDP 4500 payload shorter than an SPI or marker, not a keep-alive (RFC 3948 2.2)") \
	X(DROP_ECN,         "drop_ecn",         WARN,  "outer header CE with a Not-ECT inner packet (RFC 6040 4.2)") \
	X(DROP_NESTING,     "drop_nesting",     WARN,  "ESP/AH nested deeper than SN_IPSEC_MAX_DEPTH") \
	X(DROP_CLEARTEXT,   "drop_cleartext",   WARN,  "cleartext where the SPD requires protection") \
	X(DROP_POLICY,      "drop_policy",      INFO,  "discarded by a policy (action block)") \
	X(DROP_NO_SA,       "drop_no_sa",       WARN,  "protect policy without an SA and no acquire handler") \
	X(DROP_ACQUIRE_FULL,"drop_acquire_full",WARN,  "acquire queue full while an SA is negotiated") \
	X(DROP_ACQUIRE_FAIL,"drop_acquire_fail",WARN,  "acquire failed; packets held for it dropped") \
	X(ACQUIRES,         "acquires",         INFO,  "acquire handler calls")               \
	X(DROP_SOCKET_SA,   "drop_socket_sa",   WARN,  "arrived through an SA the socket's policy does not accept") \
	X(DROP_PEER_NAME,   "drop_peer_name",   WARN,  "the SA's proven identity is not the socket's target name") \
	X(DROP_PEER_NAME_OUT,"drop_peer_name_out",WARN, "outbound: the SAs to the peer prove another identity than the socket's target name") \
	X(CLEAR_IN_ALLOWED, "clear_in_allowed", INFO,  "cleartext accepted by a socket (allow insecure, first packet)") \
	X(CLEAR_OUT_ALLOWED,"clear_out_allowed",INFO,  "sent in the clear by a socket allowing insecure, no SA")

enum sn_ic_id {
#define SN_X(id, name, sev, desc) SN_IC_##id,
	SN_IPSEC_COUNTER_LIST(SN_X)
#undef SN_X
	SN_IC_MAX
};

/*
 * A datapath verdict (STYLE.md habit 14): SN_V_PASS, or why the packet is
 * discarded, one value per counter (SN_V_DROP_AUTH for SN_IC_DROP_AUTH).
 * The function that decides returns it; exactly one place, the step's
 * entry (ipsec_in.c, ipsec_out.c), counts it, with sn_v_counter().
 */
enum sn_verdict {
	SN_V_PASS = 0,
#define SN_X(id, name, sev, desc) SN_V_##id,
	SN_IPSEC_COUNTER_LIST(SN_X)
#undef SN_X
};

static inline enum sn_ic_id sn_v_counter(enum sn_verdict v)
{
	return (enum sn_ic_id)(v - 1);
}

struct sn_ic_desc {
	const char *name;
	enum sn_ic_severity severity;
	const char *desc;
};

/* Header-only table, so every user sees the same data without a .c file. */
static const struct sn_ic_desc sn_ic_descs[SN_IC_MAX] __attribute__((unused)) = {
#define SN_X(id, nm, sev, d) [SN_IC_##id] = { .name = nm, .severity = SN_IC_##sev, .desc = d },
	SN_IPSEC_COUNTER_LIST(SN_X)
#undef SN_X
};

#endif
