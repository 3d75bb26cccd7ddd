/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IKEv2 engine (RFC 7296): one instance per stack process, driven by
 * the poll loop (no threads). It sees the world through struct ike_ops:
 * datagrams out, child SAs installed and deleted, acquires answered, the
 * clock. ike_dp.c gives it the real ones (lwIP UDP pcbs on 500/4500, the
 * SAD and SPD of ipsec/); unit tests give it two engines wired back to
 * back, or a scripted peer.
 *
 *   in:  ike_input (a datagram on 500, or on 4500 after the non-ESP
 *        marker), ike_acquire (a policy has no SA), ike_tick (time),
 *        ike_child_event (a child SA's soft or hard lifetime, idleness),
 *        ike_initiate / ike_terminate / ike_rekey (snctl, start_action)
 *   out: ops->send, ops->child_add, ops->child_del, ops->acquire_done
 *
 * Errors: 0 or a negative errno.
 */
#ifndef SN_IKE_H
#define SN_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ike_conf.h"
#include "sn_ipsec.h"

#define IKE_MUST_CHECK __attribute__((warn_unused_result))

struct ike;

struct ike_addr {
	struct sn_ip ip;
	uint16_t port;                  /* host order */
};

/* A child SA pair to install: both directions, keys filled, lifetimes
 * filled (negotiated SAs always have one, unlike manual ones). */
struct ike_child_install {
	struct sn_sa_conf out, in;
	/* Configured connections (gateway use, start_action): SPD entries
	 * for these selectors, out and in. Sockets' acquires: n_sel 0, the
	 * socket's own policy finds the SA by its peer and proposals. */
	uint8_t n_sel;
	struct sn_selector sel[IKE_CONF_MAX_TS * IKE_CONF_MAX_TS];  /* local -> remote */
	uint32_t reqid;
};

/* Why a negotiation failed, for the acquirer (the socket's query). */
enum ike_fail {
	IKE_FAIL_NONE = 0,
	IKE_FAIL_TIMEOUT,               /* no answer after every retransmission */
	IKE_FAIL_AUTH,                  /* we could not verify the peer */
	IKE_FAIL_PEER_AUTH,             /* the peer sent AUTHENTICATION_FAILED */
	IKE_FAIL_NO_PROPOSAL,           /* NO_PROPOSAL_CHOSEN, either side */
	IKE_FAIL_TS,                    /* TS_UNACCEPTABLE, either side */
	IKE_FAIL_ID_MISMATCH,           /* the peer proved another identity than the target name */
	IKE_FAIL_NOTIFY,                /* another error notify: see notify */
	IKE_FAIL_DELETED,               /* the IKE SA went (delete, liveness) */
	IKE_FAIL_LOCAL,                 /* out of memory, no credentials, ... */
	IKE_FAIL__COUNT
};

const char *ike_fail_str(enum ike_fail f);

struct ike_result {
	enum ike_fail fail;
	uint16_t notify;                /* the peer's error notify, 0 = none */
	char why[128];                  /* one sentence for last_error_text */
};

struct ike_ops {
	/* A datagram from local to remote; on port 4500 the engine adds the
	 * non-ESP marker itself. 0 or a negative errno (counted, retried by
	 * the retransmission timer). */
	int (*send)(void *ctx, const struct ike_addr *local, const struct ike_addr *remote,
		    const uint8_t *msg, size_t len);
	/* Install a child SA pair; *handle names it later. The keys in c are
	 * wiped by the engine after the call. */
	int (*child_add)(void *ctx, const struct ike_child_install *c, uint64_t *handle);
	/* Delete the pair (and its SPD entries); its keys are wiped. */
	void (*child_del)(void *ctx, uint64_t handle);
	/* When the pair last carried a packet, in ms on now_ms's clock (0:
	 * never); NULL: not known, children are never idle. */
	uint64_t (*child_last_used)(void *ctx, uint64_t handle);
	/* An ike_acquire finished: err 0 (the child SA is installed: send
	 * the held packets now) or a negative errno with why. */
	void (*acquire_done)(void *ctx, uint64_t token, int err, const struct ike_result *r);
	/* Milliseconds, monotonic. */
	uint64_t (*now_ms)(void *ctx);
	void *ctx;
	/* Added (engine): a responder asked for a child SA that no
	 * configured child covers: does a secured local policy (a listening
	 * socket's) want this flow protected? Ports 0: any. NULL: never, the
	 * request gets TS_UNACCEPTABLE. */
	bool (*flow_secured)(void *ctx, const struct sn_ip *local, const struct sn_ip *remote,
			     uint8_t proto, uint16_t lport, uint16_t rport);
};

/* The conf is the engine's from now on (ike_free frees it). */
IKE_MUST_CHECK int ike_new(struct ike **out, struct ike_conf *conf, const struct ike_ops *ops,
			   char *err, size_t errlen);
/* Deletes every child SA through ops, wipes every key, frees. NULL ok. */
void ike_free(struct ike *ike);

/* A datagram for IKE: on port 500, or on 4500 with the non-ESP marker
 * already removed (encap true). Everything in it is untrusted. */
void ike_input(struct ike *ike, const struct ike_addr *local, const struct ike_addr *remote,
	       const uint8_t *msg, size_t len, bool encap);

/* Timers: retransmission, rekey, expiry, liveness, idle deletion. Call
 * every few ms from the poll loop; cheap when nothing is due. */
void ike_tick(struct ike *ike);
/* The earliest time (now_ms clock) ike_tick has work, UINT64_MAX none. */
uint64_t ike_next_due(const struct ike *ike);

/* A packet needs an SA that does not exist (the datapath's acquire). */
struct ike_acquire {
	uint64_t token;                 /* given back to acquire_done */
	struct ike_addr local, remote;  /* IKE endpoints (ports 0: 500) */
	/* The flow that triggered it, for narrowing (RFC 7296 2.9). */
	uint8_t family, proto;
	uint16_t lport, rport;          /* 0: any */
	/* A socket's requirements (NULL props: the connection's own). */
	const struct sn_proposal *props;
	uint8_t n_props;
	uint32_t flags;                 /* SN_SEC_ENCRYPT, SN_SEC_INSECURE_OK (sockpol.h) */
	uint32_t ipsec_flags;           /* SN_SEC_NAME_OPTIONAL, ... */
	const char *target;             /* the name the peer must prove (IDr), NULL none */
	const char *user, *domain, *password;   /* EAP round, NULL none */
	const uint8_t *mm_key;          /* 16 octets: a registered main-mode policy, NULL default */
	/* A configured connection's child (reqid policies), NULL for sockets. */
	const char *conn, *child;
	bool transport;                 /* ask USE_TRANSPORT_MODE (tunnel if refused) */
};

/* 0: a negotiation started or joined (acquire_done follows, perhaps
 * before this returns), -EAGAIN: an identical acquire is pending, or a
 * negative errno. */
IKE_MUST_CHECK int ike_acquire(struct ike *ike, const struct ike_acquire *a);
/* A token's acquirer gave up (its socket closed): no acquire_done. */
void ike_acquire_cancel(struct ike *ike, uint64_t token);

enum ike_child_ev {
	IKE_CHILD_SOFT,                 /* soft lifetime (bytes or packets): rekey */
	IKE_CHILD_HARD,                 /* hard lifetime: the datapath deleted it */
	IKE_CHILD_UNUSED,               /* no socket uses it any more: delete it */
};
void ike_child_event(struct ike *ike, uint64_t handle, enum ike_child_ev ev);

/* snctl ike initiate|terminate|rekey: a connection name, a connection's
 * child name, or a peer address. */
IKE_MUST_CHECK int ike_initiate(struct ike *ike, const char *what);
IKE_MUST_CHECK int ike_terminate(struct ike *ike, const char *what);
IKE_MUST_CHECK int ike_rekey(struct ike *ike, const char *what);

/* What a negotiated child SA rests on, for sn_query_socket_security:
 * found by the inbound SPI (host order) and the local address. */
struct ike_child_info {
	uint8_t auth_method;            /* IKE_AUTH_* the peer used in the first round */
	char peer_id[IKE_CONF_ID_MAX + 1];      /* machine token: first round */
	char eap_id[IKE_CONF_ID_MAX + 1];       /* user token: the EAP round, "" none */
	char cert_subject[256], cert_issuer[256];       /* "" without certificates */
	uint16_t encr, encr_keylen, prf, integ, dh;     /* the IKE SA's transforms */
	uint64_t ike_spi_i, ike_spi_r;
	uint32_t spi_in, spi_out;
	uint32_t life_s, rekey_s;       /* the child SA's */
	uint64_t established_ms;
};
IKE_MUST_CHECK int ike_child_info(const struct ike *ike, uint32_t spi_in,
				  struct ike_child_info *info);

/* The reason the last negotiation with peer failed, or NULL. */
const struct ike_result *ike_peer_result(const struct ike *ike, const struct sn_ip *peer);

/* snctl ike sa / ike stats, and --stats ("ike.NAME"). */
void ike_list_sas(const struct ike *ike, FILE *out);
void ike_stats(const struct ike *ike, void (*fn)(void *ctx, const char *name, uint64_t v),
	       void *ctx);
uint32_t ike_sa_count(const struct ike *ike);

/* --keylog FILE / snctl keylog FILE: IKE SA keys in Wireshark's
 * ikev2_decryption_table format, from now on (NULL: stop). */
IKE_MUST_CHECK int ike_keylog(struct ike *ike, const char *path);

/* SPIs (IKE and child) carry their owner (the worker) in their top
 * IKE_SPI_OWNER_BITS bits (issue 11); today the owner is 0. */
#define IKE_SPI_OWNER_BITS      4
void ike_set_owner(struct ike *ike, unsigned owner);

#endif
