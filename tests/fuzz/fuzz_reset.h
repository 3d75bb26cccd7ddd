/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every fuzz target does around one input so that each input starts
 * from the same state and a finding reproduces from its file alone
 * (tests/fuzz/fuzz_reset.c):
 *
 *   fz_init()    once, after the stack, the sockets and the peer's ARP/ND
 *                entries are set up: the state every input starts from;
 *                reset (or NULL) puts back the target's own state.
 *   fz_begin()   before each input: the clock (it stands still) and the
 *                random seeds back to where fz_init() left them.
 *   fz_drain()   read what reached the sockets, accept and close
 *                connections; returns how many datagrams/connections.
 *   fz_end()     after each input: the target's reset, then TCP
 *                connections, IP reassembly, the ARP and ND caches, MLD
 *                report timers and address states back to the start; then
 *                every mbuf must be back in the pool (aborts with who's
 *                name if not).
 *
 * The clock is the harness's (stack/sn_sys.c, built with
 * -DSN_HARNESS_CLOCK): no lwIP or IPsec timer fires during an input, and
 * nothing an input leaves behind ages into the next one.
 */
#ifndef FUZZ_RESET_H
#define FUZZ_RESET_H

#include <stddef.h>
#include <stdint.h>

/* stack/sn_sys.c under SN_HARNESS_CLOCK: the clock reads now_us until set
 * again; the RNG and the ISN key get fixed seeds. */
void sn_sys_harness_reset(uint64_t now_us);

/* The harness's time: any fixed value will do. */
#define FZ_NOW_US (1000u * 1000000ull)

void fz_init(void (*reset)(void));
void fz_begin(void);
int fz_drain(const int *socks, int n);
void fz_end(const char *who);
/* With FUZZ_TRACE set in the environment: one line per packet of an
 * input on stderr (length, deliveries, frames sent), to read a finding
 * (and tests/fuzz/same_state.sh compares them). FUZZ_KEEP_STATE: fz_end()
 * resets nothing and checks nothing (as the targets ran before issue 10),
 * to see that same_state.sh catches what an input leaves behind. */
void fz_trace(const char *who, size_t len, int got);

#endif
