/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The security association database (RFC 4301 4.4.2).
 *
 * SAs live in a fixed array of slots sized at creation (no allocation
 * after sn_sad_create). Inbound lookup by (SPI, destination, protocol) is
 * a hash probe, O(1): an SPI alone is not unique across destinations
 * (RFC 4301 4.1). Outbound SAs are found through a policy's template by
 * reqid (a second hash) or, without one, by their (source, destination)
 * pair (a third hash), never by a scan; policies cache them as a struct sn_sa_ref: a
 * slot index and its generation, which turns stale once the SA is deleted,
 * so a policy never follows a dangling SA.
 *
 * Deleting an SA calls the destroy hook (free sa->crypto, wipe its keys)
 * and then wipes the whole slot, keys in the conf included, at once: keys
 * are gone when the SA is, not when the last user lets go.
 *
 * Single-threaded, as the datapath (one SAD per lcore/process).
 */
#ifndef SN_SAD_H
#define SN_SAD_H

#include <stdbool.h>
#include <stdint.h>

#include "ipsec_counters.h"
#include "lifetime.h"
#include "replay.h"
#include "sn_ipsec.h"

#ifndef SN_MUST_CHECK
#define SN_MUST_CHECK __attribute__((warn_unused_result))
#endif

#define SN_SAD_MAX_SAS (1u << 20)       /* largest max_sas accepted */

struct sn_crypto;                       /* ipsec/crypto.h: keys and backend state */
struct sn_sad;

/* A reference that outlives nothing: {0, 0} is "no SA". */
struct sn_sa_ref {
	uint32_t idx;
	uint32_t gen;
};

struct sn_sa {
	struct sn_sa_conf conf;         /* as installed (keys included) */
	struct sn_crypto *crypto;       /* set by the install hook, freed by destroy */
	struct sn_replay replay;        /* inbound */
	uint64_t seq_out;               /* last outbound sequence number used */
	uint64_t seq_limit;             /* 2^32-1, or 2^64-1 with ESN */
	struct sn_life life;
	uint64_t ctr[SN_IC_MAX];
	uint64_t serial;                /* install order: a newer SA wins a template */
	uint64_t hard_at;               /* seconds: first seen hard (timers.c), 0 = not */
	uint64_t km_pair;               /* the key manager's pair (keymgr.c), 0 = manual */
	/* SAD's own: */
	uint32_t idx, gen;
	uint32_t next_spi, next_reqid;  /* hash chains */
	uint32_t next_pair;
	bool in_use;
};

struct sn_sad_hooks {
	/* After the SA is built, before it is visible: e.g. create sa->crypto
	 * from sa->conf. A negative return fails sn_sad_add with it; the hook
	 * cleans up after itself (destroy is not called). May be NULL. */
	int (*install)(struct sn_sa *sa, void *ctx);
	/* When the SA is deleted: free sa->crypto, wipe its keys. May be NULL. */
	void (*destroy)(struct sn_sa *sa, void *ctx);
	void *ctx;
};

/* max_sas 1..SN_SAD_MAX_SAS; hooks may be NULL. 0, -EINVAL or -ENOMEM. */
SN_MUST_CHECK int sn_sad_create(struct sn_sad **out, uint32_t max_sas,
				const struct sn_sad_hooks *hooks);
/* Deletes every SA (destroy hook for each), then the SAD. NULL is fine. */
void sn_sad_free(struct sn_sad *sad);

/* Validates conf, then installs it at time `now` (seconds, for lifetimes).
 * -EINVAL (bad conf), -EEXIST (same SPI, dst, proto), -ENOSPC (full), or
 * the install hook's error. *out (may be NULL) gets the SA. */
SN_MUST_CHECK int sn_sad_add(struct sn_sad *sad, const struct sn_sa_conf *conf,
			     uint64_t now, struct sn_sa **out);
/* Replace the SA with conf's (SPI, dst, proto) by conf, as `ip xfrm state
 * update`: a new slot (so every reference to the old one turns stale and
 * its users choose again) that keeps the old one's sequence numbers,
 * replay window (same size), lifetime use and counters. -ENOENT if there
 * is none, -EINVAL, -ENOSPC (no free slot for the swap), or the install
 * hook's error: the old SA then stays as it was. */
SN_MUST_CHECK int sn_sad_update(struct sn_sad *sad, const struct sn_sa_conf *conf,
				uint64_t now, struct sn_sa **out);
/* -ENOENT if there is no such SA. */
SN_MUST_CHECK int sn_sad_del(struct sn_sad *sad, uint32_t spi, const struct sn_ip *dst,
			     uint8_t proto);
void sn_sad_remove(struct sn_sad *sad, struct sn_sa *sa);

/* Inbound: spi in host order. NULL if none. */
struct sn_sa *sn_sad_lookup(const struct sn_sad *sad, uint32_t spi, const struct sn_ip *dst,
			    uint8_t proto);

/* Outbound: the newest SA, not hard-expired, that the template accepts:
 * same proto and mode, reqid and spi if the template gives them, and the
 * template's endpoints, or (where it gives none, transport mode) the
 * packet's src and dst (NULL: not compared). */
struct sn_sa *sn_sad_find_tmpl(const struct sn_sad *sad, const struct sn_pol_tmpl *t,
			       const struct sn_ip *src, const struct sn_ip *dst);

struct sn_sa_ref sn_sa_ref(const struct sn_sa *sa);
struct sn_sa *sn_sad_get(const struct sn_sad *sad, struct sn_sa_ref ref);

/* Each SA from src to dst (the pair index: no scan) until fn returns
 * non-zero, which is returned. Newest first. */
int sn_sad_foreach_pair(const struct sn_sad *sad, const struct sn_ip *src,
			const struct sn_ip *dst, int (*fn)(const struct sn_sa *sa, void *ctx),
			void *ctx);

/* Each SA in slot order until fn returns non-zero, which is returned. */
int sn_sad_foreach(const struct sn_sad *sad, int (*fn)(const struct sn_sa *sa, void *ctx),
		   void *ctx);
uint32_t sn_sad_count(const struct sn_sad *sad);
/* Grows with every SA added: a cached choice made at an older value may
 * not be the best one any more. */
uint64_t sn_sad_serial(const struct sn_sad *sad);
/* Counters that belong to no SA (drop_unknown_spi). */
uint64_t *sn_sad_counters(struct sn_sad *sad);

/* Lifetimes at `now`: fn sees each SA that turned SOFT (rekey) or is HARD;
 * HARD SAs are deleted after fn returns. Returns how many were deleted. */
uint32_t sn_sad_sweep(struct sn_sad *sad, uint64_t now,
		      void (*fn)(struct sn_sa *sa, enum sn_life_state st, void *ctx), void *ctx);

/* The next outbound sequence number, or -EOVERFLOW when the counter
 * would cycle: the SA must not send again (RFC 4303 3.3.3). The caller
 * counts the drop (drop_seq_overflow), once. */
SN_MUST_CHECK int sn_sa_next_seq(struct sn_sa *sa, uint64_t *seq);

static inline void sn_sa_count(struct sn_sa *sa, enum sn_ic_id id, uint64_t n)
{
	sa->ctr[id] += n;
}

bool sn_ip_equal(const struct sn_ip *a, const struct sn_ip *b);

#endif
