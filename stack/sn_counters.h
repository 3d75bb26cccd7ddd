/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack's own counters: every drop has a name, a counter and a reason,
 * declared once here and printed by --stats (api/stack_ctl.c). lwIP's
 * per-protocol statistics (checksum, length and protocol errors) are
 * printed next to these.
 */
#ifndef SN_COUNTERS_H
#define SN_COUNTERS_H

#include <stdint.h>

/* X(id, name, description) */
#define SN_COUNTER_LIST(X)                                                      \
	X(RX_FRAMES,        "rx_frames",        "frames received from the port")      \
	X(RX_BYTES,         "rx_bytes",         "bytes received from the port")       \
	X(TX_FRAMES,        "tx_frames",        "frames handed to the port")          \
	X(TX_BYTES,         "tx_bytes",         "bytes handed to the port")           \
	X(TX_ZEROCOPY,      "tx_zerocopy",      "frames sent from lwIP buffers without a copy") \
	X(TX_COPIED,        "tx_copied",        "frames copied into a new mbuf")      \
	X(DROP_RX_RUNT,     "drop_rx_runt",     "frame shorter than an Ethernet header") \
	X(DROP_RX_OVERSIZE, "drop_rx_oversize", "frame longer than the MTU allows")   \
	X(DROP_RX_BAD_CKSUM,"drop_rx_bad_cksum","the port flagged a bad IPv4 or L4 checksum") \
	X(DROP_RX_INPUT,    "drop_rx_input",    "lwIP refused the frame (netif input error)") \
	X(DROP_TX_NOMBUF,   "drop_tx_nombuf",   "no mbuf for an outgoing frame (pool exhausted)") \
	X(DROP_TX_TOOBIG,   "drop_tx_toobig",   "outgoing frame longer than the port's MTU") \
	X(DROP_TX_FULL,     "drop_tx_full",     "the port's TX queue stayed full")    \
	X(TCP_TW_RECYCLED,  "tcp_tw_recycled",  "TIME_WAIT connections ended early (cap reached)")

enum sn_counter_id {
#define SN_X(id, name, desc) SN_C_##id,
	SN_COUNTER_LIST(SN_X)
#undef SN_X
	SN_C_MAX
};

extern uint64_t sn_counters[SN_C_MAX];

struct sn_counter_desc {
	const char *name;
	const char *desc;
};
extern const struct sn_counter_desc sn_counter_descs[SN_C_MAX];

static inline void sn_count(enum sn_counter_id id, uint64_t n)
{
	sn_counters[id] += n;
}

#endif
