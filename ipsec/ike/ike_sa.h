/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's internal state (not a contract for other parts): struct
 * ike (one per process), struct ike_ikesa (an IKE SA, either role),
 * struct ike_child (a child SA pair it installed), the message-ID window
 * of RFC 7296 2.3 (window 1) and the retransmission state of 2.1. The
 * files beside this one each do one exchange or step:
 *   ike_sa.c      the SA table (hash by our SPI), SPI allocation
 *   ike_engine.c  ike_new/free, ike_input: header, SA, window, SK, dispatch
 *   ike_init.c    IKE_SA_INIT, both roles
 *   ike_auth.c    IKE_AUTH, both roles: IDs, AUTH (2.15)
 *   ike_child.c   the child SA in IKE_AUTH: SA, TS, transport mode, install
 *   ike_info.c    INFORMATIONAL, snctl's views, the counters
 *   ike_timers.c  retransmission, half-open expiry
 */
#ifndef SN_IKE_SA_H
#define SN_IKE_SA_H

#include "ike.h"
#include "ike_build.h"
#include "ike_counters.h"
#include "ike_crypto.h"
#include "ike_neg.h"
#include "ike_parse.h"
#include "ike_sk.h"

#define IKE_ENG_FN __attribute__((warn_unused_result))

#define IKE_SA_HASH_BITS        12
#define IKE_SA_HASH_SIZE        (1u << IKE_SA_HASH_BITS)
#define IKE_NONCE_LEN           32      /* ours: 256 bits, 2.10 wants half the PRF key at least */
#define IKE_BUF_MAX             8192    /* a message we build */
#define IKE_MAX_RESULTS         16      /* peers whose last failure we keep */

/* Defaults where the settings hold 0 (ike_conf.h names them). */
#define IKE_DEF_RTX_MS          500
#define IKE_DEF_RTX_TRIES       5
#define IKE_DEF_HALFOPEN_S      30

enum ike_state {
	IKE_ST_INIT_SENT,               /* initiator: IKE_SA_INIT request out */
	IKE_ST_INIT_DONE,               /* responder: answered IKE_SA_INIT, half-open */
	IKE_ST_AUTH_SENT,               /* initiator: IKE_AUTH request out */
	IKE_ST_ESTABLISHED,
	IKE_ST_DEAD,                    /* being torn down */
};

struct ike_child {
	struct ike_child *next;
	uint64_t handle;
	uint32_t spi_in, spi_out;       /* host order */
	struct ike_chosen chosen;
	uint32_t life_s, rekey_s;
	uint64_t established_ms;
	bool transport;
};

/* A message kept for retransmission (ours) or for a duplicate (cached). */
struct ike_msgcopy {
	uint8_t *p;
	size_t len;
};

/* The child SA the initiator asked for in IKE_AUTH, until answered. */
struct ike_child_req {
	uint32_t spi_in;
	struct ike_sa offer;
	struct ike_ts_set tsi, tsr;
	const struct ike_conf_child *conf;
	struct ike_conf_props props;    /* the acquirer's, or the child's */
	bool transport;
};

struct ike_ikesa {
	struct ike_ikesa *hnext;        /* hash chain by our SPI */
	struct ike_ikesa *lnext;        /* the list of every SA */
	struct ike *ike;
	bool initiator;
	enum ike_state state;
	uint64_t spi_i, spi_r;          /* host order */
	struct ike_addr local, remote;
	bool encap;
	const struct ike_conf_conn *conn;
	struct ike_chosen chosen;
	uint16_t dh_group;
	struct ike_dh dh;
	uint8_t ni[IKE_NONCE_MAX], nr[IKE_NONCE_MAX];
	size_t ni_len, nr_len;
	struct ike_sa_keys keys;
	struct ike_sk_key sk_in, sk_out;
	bool keyed;
	bool halfopen;                  /* counted in ike->n_halfopen */
	bool deleting;                  /* our Delete of the IKE SA is out */
	struct ike_msgcopy init_i, init_r;      /* both IKE_SA_INIT messages (2.15) */
	/* 2.3, window 1: as requester and as responder. */
	uint32_t next_req_id;           /* our next request's ID */
	struct ike_msgcopy req;         /* our outstanding request, len 0: none */
	uint32_t req_id;
	uint8_t req_exch;
	uint64_t rtx_due;
	uint32_t rtx_ms, rtx_count;
	uint32_t expect_id;             /* the peer's next request ID */
	struct ike_msgcopy resp;        /* our last response, for a duplicate */
	bool has_resp;
	/* The acquire this SA answers (initiator). */
	bool has_acq;
	struct ike_acquire acq;         /* pointers cleared; strings below */
	char target[IKE_CONF_ID_MAX + 1];
	struct ike_child_req creq;
	/* Identities. */
	char local_id[IKE_CONF_ID_MAX + 1], peer_id[IKE_CONF_ID_MAX + 1];
	uint8_t peer_auth;              /* IKE_AUTH_* the peer used */
	uint64_t created_ms, established_ms;
	struct ike_child *children;
	uint32_t n_children;
};

struct ike_peer_result {
	struct sn_ip peer;
	struct ike_result r;
};

struct ike {
	struct ike_conf *conf;
	struct ike_ops ops;
	unsigned owner;
	uint64_t ctr[IKE_CTR__COUNT];
	struct ike_ikesa *hash[IKE_SA_HASH_SIZE];
	struct ike_ikesa *list;
	uint32_t n_sas, n_halfopen, n_children;
	struct ike_peer_result results[IKE_MAX_RESULTS];
	unsigned next_result;
	struct ike_halfopen halfopen;
	uint64_t next_handle_hint;
};

#define IKE_CTR(ike, name) ((ike)->ctr[IKE_CTR_##name]++)

/* ike_sa.c */
IKE_ENG_FN struct ike_ikesa *ike_sa_alloc(struct ike *ike, bool initiator);
void ike_sa_free(struct ike_ikesa *sa);
struct ike_ikesa *ike_sa_find(const struct ike *ike, uint64_t our_spi);
struct ike_ikesa *ike_sa_find_peer(const struct ike *ike, const struct sn_ip *peer);
/* The responder's duplicate IKE_SA_INIT: the SA with this SPIi and peer. */
struct ike_ikesa *ike_sa_find_halfopen(const struct ike *ike, uint64_t spi_i,
				       const struct sn_ip *peer);
uint64_t ike_sa_our_spi(const struct ike_ikesa *sa);
uint64_t ike_spi64(const struct ike *ike);
uint32_t ike_spi32(const struct ike *ike);
IKE_ENG_FN int ike_random(void *p, size_t n);
void ike_msgcopy_set(struct ike_msgcopy *c, const uint8_t *p, size_t len);
void ike_msgcopy_free(struct ike_msgcopy *c);
void ike_sa_fail(struct ike_ikesa *sa, enum ike_fail f, uint16_t notify, const char *why);
void ike_sa_delete(struct ike_ikesa *sa);

/* ike_engine.c: sending */
void ike_send_raw(struct ike_ikesa *sa, const uint8_t *msg, size_t len);
/* Our request: kept for retransmission, sent, timer armed. */
void ike_send_request(struct ike_ikesa *sa, const uint8_t *msg, size_t len, uint8_t exch);
/* Our response: cached for a duplicate, sent. */
void ike_send_response(struct ike_ikesa *sa, const uint8_t *msg, size_t len);
struct ike_header ike_hdr_for(const struct ike_ikesa *sa, uint8_t exch, bool response,
			      uint32_t msgid);
/* Seal `inner` into an SK message of exch and send it as request/response. */
IKE_ENG_FN int ike_send_sk(struct ike_ikesa *sa, uint8_t exch, bool response, uint32_t msgid,
			   const struct ike_buf *inner);
const struct ike_conf_conn *ike_find_conn(const struct ike *ike, const struct sn_ip *local,
					  const struct sn_ip *remote);
const struct ike_conf_conn *ike_find_conn_name(const struct ike *ike, const char *name);
const struct ike_conf_secret *ike_find_secret(const struct ike *ike, const char *a,
					      const char *b);
uint32_t ike_set_rtx(const struct ike *ike);
void ike_store_result(struct ike *ike, const struct sn_ip *peer, const struct ike_result *r);

/* ike_init.c */
IKE_ENG_FN int ike_init_start(struct ike_ikesa *sa);
void ike_init_request(struct ike *ike, const struct ike_addr *local, const struct ike_addr *remote,
		      const struct ike_msg *m, const uint8_t *raw, size_t len, bool encap);
void ike_init_response(struct ike_ikesa *sa, const struct ike_msg *m, const uint8_t *raw,
		       size_t len);

/* ike_auth.c */
IKE_ENG_FN int ike_auth_start(struct ike_ikesa *sa);
void ike_auth_request(struct ike_ikesa *sa, const struct ike_chain *in, uint32_t msgid);
void ike_auth_response(struct ike_ikesa *sa, const struct ike_chain *in);
/* A notify type among an inner chain's error notifies, 0 none. */
uint16_t ike_error_notify(const struct ike_chain *in);

/* ike_child.c */
IKE_ENG_FN int ike_child_offer(struct ike_ikesa *sa, struct ike_buf *inner);
/* Responder: answers the child part of a request into `inner`, installs.
 * Returns 0 or the error notify to send instead (the IKE SA stays). */
uint16_t ike_child_answer(struct ike_ikesa *sa, const struct ike_chain *in,
			  struct ike_buf *inner);
/* Initiator: checks the answer, installs. 0 or the ike_fail. */
enum ike_fail ike_child_finish(struct ike_ikesa *sa, const struct ike_chain *in);
void ike_child_del_all(struct ike_ikesa *sa);

/* ike_info.c */
void ike_info_request(struct ike_ikesa *sa, const struct ike_chain *in, uint32_t msgid);
void ike_info_response(struct ike_ikesa *sa, const struct ike_chain *in);
IKE_ENG_FN int ike_sa_liveness(struct ike_ikesa *sa);

/* ike_timers.c */
void ike_timers_sa(struct ike_ikesa *sa, uint64_t now);

#endif
