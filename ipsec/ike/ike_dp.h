/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine (ike.h) on the stack's datapath (keymgr.h): one instance per
 * stack process, started after IPsec by --ike-conf and run from sn_poll.
 *
 *   datapath -> engine: datagrams on UDP 500 and 4500 (non-ESP marker
 *                       removed), acquires (queued, handed over from the
 *                       poll loop, not from inside the output path that
 *                       raised them), SA pair lifetimes
 *   engine -> datapath: datagrams out, SA pairs in and out, acquires
 *                       answered
 */
#ifndef SN_IKE_DP_H
#define SN_IKE_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ike.h"

/* --ike-conf at option time: the file parses and its credentials load.
 * 0 or -errno with err = "FILE:LINE: reason". */
__attribute__((warn_unused_result))
int ike_dp_check(const char *path, char *err, size_t errlen);

/* After sn_ipsec_start: load, start the engine, register with the
 * datapath, install trap policies and start the start_action = start
 * children. self: our addresses (for "dynamic" selectors). keylog: a
 * file or NULL. 0 or -errno with err. */
__attribute__((warn_unused_result))
int ike_dp_start(const char *path, const char *keylog, const struct sn_ip *self,
		 unsigned n_self, char *err, size_t errlen);
/* Every SA it installed deleted, keys wiped, unregistered. */
void ike_dp_stop(void);
bool ike_dp_running(void);
/* From sn_poll, every iteration: queued acquires, then timers when due. */
void ike_dp_poll(void);

/* For the API (snctl ike, --stats, the socket security query). NULL
 * when IKE is not running. */
struct ike *ike_dp_engine(void);

struct ike_dp_stats {
	uint64_t acquires, acquires_queued_full, acquires_failed;
	uint64_t ticks;
};
const struct ike_dp_stats *ike_dp_stats(void);

#endif
