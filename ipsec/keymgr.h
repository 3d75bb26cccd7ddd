/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the datapath offers a key manager (IKEv2 in ipsec/ike/), in the
 * spirit of PF_KEY (RFC 2367) and XFRM's netlink messages, as direct calls:
 *
 *   down (key manager -> datapath): install and delete SA pairs, with SPD
 *        entries for configured connections; send datagrams from UDP 500
 *        or 4500; answer an acquire (send the held packets, or fail them
 *        and the sockets waiting for them);
 *   up   (datapath -> key manager, through the ops registered here, never
 *        through an include): an acquire (a policy has no SA), a datagram
 *        on the IKE ports (500, and 4500 with the non-ESP marker), an SA
 *        pair's soft or hard lifetime.
 *
 * IKE's own datagrams bypass every policy both ways (RFC 4301 5.2: the
 * key manager's traffic is not subject to the SPD it serves) while a key
 * manager is registered.
 */
#ifndef SN_KEYMGR_H
#define SN_KEYMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sn_ipsec.h"
#include "sockpol.h"
#include "spd.h"

#define SN_IKE_PORT             500
#define SN_KEYMGR_MAX_SEL       16      /* SPD entries per direction of one SA pair */

/* What a policy without SA needs: given to ops->acquire. */
struct sn_keymgr_acquire {
	uint32_t pol_id;                /* the token: sn_keymgr_acquire_done(pol_id, ...) */
	struct sn_flow flow;            /* the packet that triggered it */
	const struct sn_sec_conf *sec;  /* a socket's requirements; NULL: a configured policy */
	const struct sn_target *target; /* the name the peer must prove, or NULL */
	struct sn_pol_tmpl tmpl;        /* the policy's template (reqid names a configured child) */
};

enum sn_keymgr_ev { SN_KM_SOFT, SN_KM_HARD };

struct sn_keymgr_ops {
	int (*acquire)(void *ctx, const struct sn_keymgr_acquire *a);
	/* A datagram for port 500 (encap false), or for 4500 after the
	 * non-ESP marker (encap true). buf is flat and lives for the call. */
	void (*input)(void *ctx, const struct sn_ip *local, uint16_t lport,
		      const struct sn_ip *remote, uint16_t rport, const uint8_t *buf,
		      size_t len, bool encap);
	/* A pair's SA reached its soft lifetime (once), or went hard (the
	 * datapath deletes the pair right after the call). */
	void (*pair_event)(void *ctx, uint64_t pair, enum sn_keymgr_ev ev);
	void *ctx;
};

/* Register (opens UDP port `port` for both families, sets the SPD's
 * acquire hook) and unregister. -EALREADY, -ENETDOWN (IPsec not up),
 * -EADDRINUSE, -ENOMEM. */
__attribute__((warn_unused_result))
int sn_keymgr_register(const struct sn_keymgr_ops *ops, uint16_t port);
void sn_keymgr_unregister(void);
bool sn_keymgr_active(void);

/* A datagram from (src, sport) to (dst, dport): sport is the registered
 * IKE port or 4500. 0 or a negative errno. */
__attribute__((warn_unused_result))
int sn_keymgr_send(const struct sn_ip *src, uint16_t sport, const struct sn_ip *dst,
		   uint16_t dport, const void *buf, size_t len);

/* Install out and in (both must be accepted, or neither stays) and, for
 * a configured connection, SPD entries for each selector (local ->
 * remote) out and in, shared with other pairs of the same selectors (a
 * rekey's pair; an equal entry not the key manager's, such as a trap
 * policy, is used as it is). *pair names them. Packets held for the new SAs are sent
 * by sn_keymgr_acquire_done, not here. */
__attribute__((warn_unused_result))
int sn_keymgr_pair_add(const struct sn_sa_conf *out, const struct sn_sa_conf *in,
		       const struct sn_selector *sel, unsigned n_sel, uint64_t *pair);
/* Deletes both SAs (keys wiped) and the SPD entries no other pair uses. */
void sn_keymgr_pair_del(uint64_t pair);
/* Seconds (sn_ipsec_now_s) since either SA last moved a packet, as far
 * as this call can tell (it samples the counters), or -1 if no such pair. */
int64_t sn_keymgr_pair_idle_s(uint64_t pair);
uint32_t sn_keymgr_pair_count(void);

/* Configured policies without SA (start_action = trap): their first
 * packet acquires with tmpl's reqid. Returns the SPD ids through ids. */
__attribute__((warn_unused_result))
int sn_keymgr_trap_add(const struct sn_selector *sel, unsigned n_sel,
		       const struct sn_pol_tmpl *tmpl, uint32_t *ids);
void sn_keymgr_trap_del(const uint32_t *ids, unsigned n);

/* The acquire with this token is over: err 0 sends the held packets
 * through the SAs now installed; otherwise they are dropped and counted,
 * and the socket waiting for them fails with -err. */
void sn_keymgr_acquire_done(uint32_t pol_id, int err);

/* The datapath side: is this UDP flow the key manager's own (bypass)? */
bool sn_keymgr_is_ike(const struct sn_flow *f, bool inbound);
/* ipsec_in.c: a datagram on 4500 with the non-ESP marker. p's payload is
 * the UDP payload; consumed. */
struct pbuf;
void sn_keymgr_natt_input(struct pbuf *p, const struct sn_ip *src, uint16_t sport,
			  const struct sn_ip *dst);
/* timers.c: an SA's lifetime state. */
struct sn_sa;
void sn_keymgr_sa_soft(struct sn_sa *sa);
void sn_keymgr_sa_hard(struct sn_sa *sa);

#endif
