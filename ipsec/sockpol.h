/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket policies: what sn_set_socket_security asks for, enforced by the
 * datapath (DESIGN.md, "Datapath": a socket's own policy first, then the
 * global one).
 *
 * A struct sn_sec_conf holds a socket's requirements: flags, the
 * proposals it accepts (most preferred first), target names, credentials.
 * A listener and the connections it accepts share one (refcounted).
 *
 * A struct sn_sockpol instantiates a conf for one flow: an outbound and an
 * inbound SPD entry in the socket tier, scoped to the socket's local port
 * (and, once connected, to its peer), whose `owner` points back here. The
 * datapath asks it:
 *   outbound  which SA protects this packet (sn_sockpol_output): the most
 *             preferred proposal any installed SA to the peer matches, with
 *             the target name checked; none: hold for the acquire hook, or
 *             drop and fail the socket (refused outright when SAs exist but
 *             prove another identity and no key manager could do better),
 *             or (allow insecure) send in clear; the choice is cached until
 *             the SAD or the conf's target names change;
 *   inbound   may this SA, or the clear, deliver to the socket
 *             (sn_sockpol_input_sa, sn_sockpol_input_clear).
 * Failures reach the socket layer through a deferred notification
 * (sn_sockpol_deliver, sn_sockpol_tick), never from inside lwIP's output path.
 *
 * Nothing here assumes manual keys: SAs IKEv2 installs for an acquire are
 * found the same way, and the acquire handler sees pol->owner->conf.
 */
#ifndef SN_SOCKPOL_H
#define SN_SOCKPOL_H

#include <stdbool.h>
#include <stdint.h>

#include "sad.h"
#include "spd.h"
#include "sn_ipsec.h"

#ifndef SN_MUST_CHECK
#define SN_MUST_CHECK __attribute__((warn_unused_result))
#endif

/* Flags, with the public API's values (sealnet/security.h). */
#define SN_SEC_ENCRYPT          0x1     /* GUARANTEE_ENCRYPTION */
#define SN_SEC_INSECURE_OK      0x2     /* ALLOW_INSECURE */
#define SN_SEC_SKIP_FILTERS     0x1     /* ipsec_flags: SKIP_FILTER_INSTANTIATION */
#define SN_SEC_NAME_OPTIONAL    0x2     /* OPTIONAL_PEER_NAME_VERIFICATION */
#define SN_SEC_FIRST_CLEAR      0x4     /* ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED */
#define SN_SEC_NAME_RAW         0x8     /* PEER_NAME_IS_RAW_FORMAT */

#define SN_SEC_MAX_PROPOSALS    8
#define SN_SEC_MAX_NAMES        16
#define SN_SEC_MAX_CREDS        1024
/* Peers whose first cleartext packet a FIRST_CLEAR socket took. */
#define SN_SEC_FIRST_PEERS      64

struct sn_target {
	struct sn_ip addr;              /* family 0: any peer */
	uint16_t port;                  /* host order, 0: any */
	uint16_t len;
	char name[SN_IPSEC_ID_MAX + 1];
};

struct sn_sec_conf {
	uint32_t refs;
	uint32_t flags, ipsec_flags;
	uint32_t n_props;
	struct sn_proposal props[SN_SEC_MAX_PROPOSALS];
	uint8_t mm_key[16];             /* main-mode policy for IKEv2, zero = default */
	uint32_t n_names;
	struct sn_target names[SN_SEC_MAX_NAMES];
	/* Bumped by every name set or delete: an SA chosen under other names
	 * is chosen again (the cache below keeps the generation it saw). */
	uint32_t names_gen;
	uint32_t creds_len;             /* user, domain, password, for IKEv2 */
	uint32_t user_len, domain_len, password_len;
	uint8_t creds[SN_SEC_MAX_CREDS];
};

/* The flow a socket policy covers: its local end, and its peer unless
 * any (a listener, an unconnected UDP socket). Addresses may be all-zero
 * ("any"); ports are host order. */
struct sn_sock_flow {
	uint8_t family, proto;
	struct sn_ip local, remote;
	uint16_t lport, rport;
	bool remote_any;
};

typedef void (*sn_sockpol_notify_fn)(void *owner, int err);

struct sn_sockpol {
	struct sn_sec_conf *conf;
	struct sn_sock_flow sf;
	uint32_t pol_out, pol_in;       /* SPD ids, 0 with SKIP_FILTERS */
	/* The SA pair in use (connected flows), and its peer's cache key. */
	struct sn_sa_ref out_sa, in_sa;
	struct sn_ip cache_peer;
	uint64_t cache_serial;
	uint32_t cache_names_gen;
	bool clear_out, clear_in;       /* traffic went in the clear */
	int last_error;                 /* errno of the last failure, 0 */
	/* EACCES: the identity the peer's SAs prove instead of its name. */
	char refused_id[SN_IPSEC_ID_MAX + 1];
	bool waiting;                   /* packets held for an acquire */
	uint64_t wait_since;            /* seconds, since when */
	uint32_t n_first;
	struct { struct sn_ip ip; uint16_t port; } first[SN_SEC_FIRST_PEERS];
	sn_sockpol_notify_fn notify;
	void *owner;
	/* sockpol.c's own */
	struct sn_sockpol *next, *prev; /* every live one */
	bool fail_pending;
};

/* Unset, or the unspecified address (0.0.0.0, ::): "any". */
bool sn_ip_is_any(const struct sn_ip *ip);

/* ---- Conf -------------------------------------------------------------- */

/* A new conf (refs 1) or NULL. */
struct sn_sec_conf *sn_sec_conf_new(void);
struct sn_sec_conf *sn_sec_conf_ref(struct sn_sec_conf *c);
/* Drops a reference; the last one wipes the credentials and frees. */
void sn_sec_conf_put(struct sn_sec_conf *c);
/* Add or replace the target name for (addr, port). -ENOSPC, -EINVAL. */
SN_MUST_CHECK int sn_sec_name_set(struct sn_sec_conf *c, const struct sn_target *t);
SN_MUST_CHECK int sn_sec_name_del(struct sn_sec_conf *c, const struct sn_ip *addr,
				  uint16_t port);
/* The name the peer at (addr, port) must prove, or NULL. */
const struct sn_target *sn_sec_name_for(const struct sn_sec_conf *c, const struct sn_ip *addr,
					uint16_t port);
/* The rank (0 = most preferred) of the first proposal sa matches, or -1. */
int sn_sec_match(const struct sn_sec_conf *c, const struct sn_sa *sa);

/* ---- Socket policies ---------------------------------------------------------- */

/* Instantiate conf for flow (SPD entries unless SKIP_FILTERS): priority 0
 * for a connected flow, 1 for one with any peer, so a connection's own
 * entries win over its listener's. -EINVAL, -EEXIST, -ENOSPC, -ENOMEM. */
SN_MUST_CHECK int sn_sockpol_create(struct sn_sockpol **out, struct sn_sec_conf *conf,
				    const struct sn_sock_flow *sf, sn_sockpol_notify_fn notify,
				    void *owner);
/* Removes its SPD entries (their held packets are dropped), releases the
 * conf. NULL is fine. */
void sn_sockpol_free(struct sn_sockpol *sp);
/* Is (family, proto, port) held by a live socket policy with any peer (a
 * secured server's exclusive port)? */
bool sn_sockpol_port_held(uint8_t family, uint8_t proto, uint16_t port);

enum sn_sp_verdict {
	SN_SP_PROTECT,                  /* *sa set */
	SN_SP_CLEAR,                    /* allowed in the clear (insecure ok) */
	SN_SP_HOLD,                     /* no SA: hold for acquire (or drop) */
	/* SAs to the peer prove another identity than its target name and
	 * no key manager could negotiate one that does: drop (count
	 * drop_peer_name_out); the socket fails with EACCES. */
	SN_SP_REFUSE,
};

/* Outbound: what to do with a packet of flow f matched by the socket's
 * outbound entry. */
enum sn_sp_verdict sn_sockpol_output(struct sn_sockpol *sp, const struct sn_flow *f,
				     struct sn_sa **sa);
/* The held packet could not be queued; rc is sn_spd_queue's error. No
 * acquire handler (-ENOENT): the socket fails with ECONNREFUSED, or with
 * EACCES when the SAs there were of another identity; the handler's error:
 * with that errno; a full queue or no buffer (-ENOBUFS, -ENOMEM) is
 * back-pressure, not a failure (the sender sees ENOBUFS). */
void sn_sockpol_no_sa(struct sn_sockpol *sp, const struct sn_flow *f, int rc);
/* Could a packet to the peer of f leave now, or wait for an acquire?
 * 0, -ECONNREFUSED (no SA, no acquire handler, clear not allowed) or
 * -EACCES (the SAs to the peer prove another identity than its name). */
int sn_sockpol_sendable(struct sn_sockpol *sp, const struct sn_flow *f, bool have_acquire);

/* Inbound, after decapsulation: SN_V_PASS when sa may deliver f to the
 * socket, else why not (the caller counts it). */
enum sn_verdict sn_sockpol_input_sa(struct sn_sockpol *sp, const struct sn_flow *f,
				    struct sn_sa *sa);
/* Inbound in the clear: SN_V_PASS to accept, else why not. */
enum sn_verdict sn_sockpol_input_clear(struct sn_sockpol *sp, const struct sn_flow *f);

/* The SAs protecting traffic with peer (remote address; port for names):
 * *out and *in get them or NULL; in NULL: the outbound one only. */
void sn_sockpol_resolve(struct sn_sockpol *sp, const struct sn_ip *peer, uint16_t port,
			struct sn_sa **out, struct sn_sa **in);

/* The errno of the last failed negotiation with peer, or 0. */
int sn_sockpol_peer_error(const struct sn_ip *peer);
void sn_sockpol_set_peer_error(const struct sn_ip *peer, int err);

/* Once a second (timers.c): fail sockets whose acquire outlived
 * timeout_s, then deliver. */
void sn_sockpol_tick(uint64_t now_s, uint64_t timeout_s);
/* After each received frame: deliver pending failure notifications (a
 * counter test when there are none). */
void sn_sockpol_deliver(void);
/* Each live socket policy until fn returns non-zero (returned). */
int sn_sockpol_foreach(int (*fn)(const struct sn_sockpol *sp, void *ctx), void *ctx);
/* Live socket policies (teardown checks). */
uint32_t sn_sockpol_count(void);
/* The SPD is going (IPsec stops): forget its entries; the socket
 * policies themselves go with their pcbs. */
void sn_sockpol_detach_all(void);

#endif
