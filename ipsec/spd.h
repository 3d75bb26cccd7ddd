/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The security policy database (RFC 4301 4.4.1): per direction (in, out,
 * fwd), policies ordered by priority (lower first, as ip xfrm) and, among
 * equal priorities, by insertion. A lookup returns the first policy whose
 * selector matches the packet's 5-tuple.
 *
 * Each direction keeps a compact array of precomputed match rules
 * (masked addresses as 64-bit words, protocol, ports) sorted by
 * (priority, insertion); the policies themselves live in fixed slots.
 *
 * Acquire (RFC 4301 5.2, the hook IKEv2 implements): when a protect
 * policy has no usable SA, the datapath hands the packet to
 * sn_spd_queue. The first packet calls the acquire handler, once per
 * policy until sn_spd_flush; packets wait in a bounded per-policy queue.
 * With no handler, or a full queue, the packet is freed and counted.
 *
 * Single-threaded, as the datapath.
 */
#ifndef SN_SPD_H
#define SN_SPD_H

#include <stdbool.h>
#include <stdint.h>

#include "ipsec_counters.h"
#include "sad.h"
#include "sn_ipsec.h"

#ifndef SN_MUST_CHECK
#define SN_MUST_CHECK __attribute__((warn_unused_result))
#endif

#define SN_SPD_QUEUE_DEFAULT 32         /* packets held per policy during acquire */
#define SN_SPD_QUEUE_MAX     4096
#define SN_SPD_MAX_POLICIES  (1u << 20)

/* A packet's selector fields. */
struct sn_flow {
	uint8_t family;                 /* AF_INET or AF_INET6 */
	uint8_t proto;
	uint16_t sport, dport;          /* host order; 0 where the protocol has none */
	uint8_t src[16], dst[16];       /* network order; IPv4 in the first 4 */
};

struct sn_sockpol;                      /* ipsec/sockpol.h */

struct sn_policy {
	struct sn_pol_conf conf;        /* selector addresses masked to their prefix */
	struct sn_sockpol *owner;       /* a socket's own policy, or NULL */
	uint32_t id;                    /* from sn_spd_add, never 0 */
	uint64_t order;                 /* insertion order */
	struct sn_sa_ref sa;            /* outbound SA: bound, or cached by the datapath */
	uint64_t ctr[SN_IC_MAX];
	/* SPD's own: */
	void **queue;                   /* acquire queue, allocated on first use */
	uint32_t qhead, qlen;
	bool acquiring;                 /* handler called, no flush yet */
	struct sn_flow acq_flow;        /* the packet that acquired (keymgr.c) */
	bool in_use;
};

struct sn_spd;

struct sn_spd_conf {
	uint32_t max_policies;          /* 1..SN_SPD_MAX_POLICIES */
	uint32_t queue_len;             /* 0 = SN_SPD_QUEUE_DEFAULT; at most SN_SPD_QUEUE_MAX */
	void (*pkt_free)(void *pkt, void *ctx); /* frees a packet the SPD drops */
	void *pkt_ctx;
};

/* Called once per policy per acquire; a negative return drops the packet
 * that triggered it (counted drop_acquire_fail) and the next packet asks
 * again. */
typedef int (*sn_acquire_fn)(struct sn_policy *pol, const struct sn_flow *flow, void *ctx);

SN_MUST_CHECK int sn_spd_create(struct sn_spd **out, const struct sn_spd_conf *conf);
/* Frees every queued packet, then the SPD. NULL is fine. */
void sn_spd_free(struct sn_spd *spd);

/* Validates conf, then adds it. -EINVAL, -EEXIST (same selector and
 * direction, as the kernel), -ENOSPC. *out (may be NULL) gets the policy. */
SN_MUST_CHECK int sn_spd_add(struct sn_spd *spd, const struct sn_pol_conf *conf,
			     struct sn_policy **out);
/* Frees its queued packets. -ENOENT if there is no such policy. */
SN_MUST_CHECK int sn_spd_del(struct sn_spd *spd, uint32_t id);
struct sn_policy *sn_spd_get(const struct sn_spd *spd, uint32_t id);

/* The first matching policy of direction dir, or NULL. */
struct sn_policy *sn_spd_lookup(const struct sn_spd *spd, enum sn_pol_dir dir,
				const struct sn_flow *flow);

/* Protect with this SA rather than one found through the template. */
void sn_spd_bind_sa(struct sn_policy *pol, struct sn_sa_ref ref);

bool sn_spd_has_acquire(const struct sn_spd *spd);
/* fn NULL: no handler (packets for protect policies without SA are dropped). */
void sn_spd_set_acquire(struct sn_spd *spd, sn_acquire_fn fn, void *ctx);

/* Hold pkt until pol has an SA. 0: queued (the SPD owns it). Otherwise the
 * packet was freed and counted: -ENOENT (no handler: drop_no_sa), -ENOBUFS
 * (queue full: drop_acquire_full), -ENOMEM, or the handler's error
 * (drop_acquire_fail); -EINVAL (bad arguments: not freed). */
SN_MUST_CHECK int sn_spd_queue(struct sn_spd *spd, struct sn_policy *pol,
			       const struct sn_flow *flow, void *pkt);

/* An SA is there (send != NULL): each held packet, oldest first, goes to
 * send, which owns it. Acquire failed (send NULL): they are freed and
 * counted drop_acquire_fail. Either way the next sn_spd_queue acquires
 * again. Returns how many packets were handled. */
uint32_t sn_spd_flush(struct sn_spd *spd, struct sn_policy *pol,
		      void (*send)(void *pkt, void *ctx), void *ctx);

/* Direction dir in lookup order until fn returns non-zero (returned). */
int sn_spd_foreach(const struct sn_spd *spd, enum sn_pol_dir dir,
		   int (*fn)(const struct sn_policy *pol, void *ctx), void *ctx);
uint32_t sn_spd_count(const struct sn_spd *spd, enum sn_pol_dir dir);
/* Counters that belong to no policy (drop_cleartext, for the datapath). */
uint64_t *sn_spd_counters(struct sn_spd *spd);

#endif
