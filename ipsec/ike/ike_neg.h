/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Negotiation as pure functions (no state, no I/O): proposals (RFC 7296
 * 2.7, 3.3), traffic selectors and their narrowing (2.9), child SA keys
 * and the datapath SA pair they make (2.17), and stateless cookies (2.6).
 * The state machine (ike_sa.c and its neighbours) calls these; each has
 * a table test of its own.
 *
 *   ike_prop.c    our proposals as an SA payload; the responder's choice;
 *                 the initiator's check of the answer
 *   ike_ts.c      selectors from configuration or from a socket's flow;
 *                 narrowing; selectors for the SPD
 *   ike_childsa.c the chosen ESP/AH proposal plus KEYMAT into a pair of
 *                 struct sn_sa_conf
 *   ike_cookie.c  COOKIE = H(Ni | IPi | SPIi | secret) with a secret
 *                 that changes, and the half-open counts behind it
 */
#ifndef SN_IKE_NEG_H
#define SN_IKE_NEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_conf.h"
#include "ike_parse.h"
#include "sn_ipsec.h"

#define IKE_NEG_FN __attribute__((warn_unused_result))

/* ---- Proposals (ike_prop.c) ------------------------------------------ */

/* One transform of each kind, as chosen (0: the kind is absent). */
struct ike_chosen {
	uint8_t  proto;                 /* IKE_PROTO_IKE, _ESP, _AH */
	uint8_t  num;                   /* the proposal number that was chosen */
	uint16_t encr, encr_keylen;     /* keylen in bits, 0: none */
	uint16_t prf, integ, dh;
	uint16_t esn;                   /* IKE_ESN_NO / IKE_ESN_YES; 0 for IKE */
	uint8_t  spi_size;
	uint8_t  spi[IKE_MAX_IKE_SPI_SIZE];     /* the sender's SPI in that proposal */
};

/* Our offer: every proposal of `ours` (n 0: the defaults of ike_conf.h)
 * as an SA payload, numbered from 1, with our SPI (8 octets for an IKE
 * SA rekey, 4 for ESP/AH, none for IKE_SA_INIT: spi_size 0). with_dh
 * false drops the DH transforms (a child SA in IKE_AUTH, RFC 7296 1.2);
 * true keeps them (PFS). IKE_B_INVALID-like errors: -EINVAL. */
IKE_NEG_FN int ike_prop_offer(const struct ike_conf_props *ours, uint8_t proto,
			      const uint8_t *spi, uint8_t spi_size, bool with_dh,
			      struct ike_sa *out);

/* A socket's proposals (struct sn_proposal, from its quick-mode policy)
 * as ESP/AH conf proposals; lifetimes are the caller's. -EINVAL for an
 * algorithm IKEv2 cannot name. */
IKE_NEG_FN int ike_prop_from_socket(const struct sn_proposal *p, unsigned n,
				    struct ike_conf_props *out);
/* Added (ike_prop.c): ike_prop_from_socket refuses a list that mixes ESP
 * and AH (-EINVAL; one conf list has one protocol). This one takes only
 * the entries of sn_proto (SN_IPPROTO_ESP or _AH) and skips the others;
 * -E2BIG past IKE_CONF_MAX_PROPS. */
IKE_NEG_FN int ike_prop_from_socket_for(const struct sn_proposal *p, unsigned n,
					uint8_t sn_proto, struct ike_conf_props *out);

/* Responder: the first of the peer's proposals (its order, 2.7) that one
 * of ours accepts entirely: every kind present in ours must be offered
 * and matched, no kind ours lacks may be forced on us (a DH in an ESP
 * proposal when we want no PFS is fine only if "NONE" (0) is among its
 * DH transforms or we accept that group), a proposal with an unknown
 * attribute is skipped (3.3.6). need_dh: the exchange carries KE (IKE
 * SA, PFS). 0, or -ENOENT (NO_PROPOSAL_CHOSEN). */
/* As implemented (ike_prop.c): RFC 7296 3.3.6 makes a transform with an
 * unknown attribute unacceptable and lets the others of its type count;
 * a proposal falls only when no transform of a needed type is left (an
 * unknown Transform Type, a type its protocol may not carry, or a
 * missing mandatory type rejects the proposal itself). Only what we can
 * run is chosen (ike_crypto.c for the IKE SA, ike_child_algs for a
 * child). Proposals sharing a number across protocols (an AND) are
 * skipped. */
IKE_NEG_FN int ike_prop_select(const struct ike_sa *offer, const struct ike_conf_props *ours,
			       uint8_t proto, bool need_dh, struct ike_chosen *out);
/* Added (ike_prop.c): ike_prop_select with the KE payload's group in
 * hand (0: the exchange has no KE, need_dh false). The same choice of
 * proposal; within it, the KE's group is chosen when both sides accept
 * it, so a peer whose KE is for its second group gets no needless
 * INVALID_KE_PAYLOAD round trip. out->dh != ke_group then means
 * INVALID_KE_PAYLOAD naming out->dh (1.2); out->dh 0 for a child with a
 * KE means both allowed NONE and the KE is ignored. */
IKE_NEG_FN int ike_prop_select_ke(const struct ike_sa *offer, const struct ike_conf_props *ours,
				  uint8_t proto, uint16_t ke_group, struct ike_chosen *out);

/* The SA payload of a responder's answer: exactly one proposal, one
 * transform of each kind chosen, the chosen number, our SPI. */
IKE_NEG_FN int ike_prop_reply(const struct ike_chosen *c, const uint8_t *spi,
			      uint8_t spi_size, struct ike_sa *out);

/* Initiator: the answer has exactly one proposal, its number is one we
 * sent and its transforms are a choice among that proposal's. 0 with
 * *out filled (out->spi: the responder's SPI), or -EBADMSG. */
IKE_NEG_FN int ike_prop_check_reply(const struct ike_sa *answer, const struct ike_sa *offer,
				    struct ike_chosen *out);

/* "aes128gcm16-prfsha256-x25519" / "aes128gcm16-esn" in strongSwan's
 * notation, for snctl and logs. Returns buf. */
const char *ike_chosen_str(const struct ike_chosen *c, char *buf, size_t len);

/* The group the peer must use if it sent another (INVALID_KE_PAYLOAD,
 * 1.2): the first DH of our first proposal that accepts the rest. */
uint16_t ike_prop_first_dh(const struct ike_conf_props *ours);

/* ---- Traffic selectors (ike_ts.c) ------------------------------------ */

/* Configured selectors: "dynamic" (or n 0) becomes the single address
 * `self` (proto any, ports any). */
IKE_NEG_FN int ike_ts_from_conf(const struct ike_conf_ts *ts, unsigned n,
				const struct sn_ip *self, struct ike_ts_set *out);

/* A socket's flow: one selector per side, with its protocol and ports
 * (0: any, i.e. 0-65535), as RFC 7296 2.9 wants the first selector to
 * be the packet that triggered the exchange. */
IKE_NEG_FN int ike_ts_from_flow(const struct sn_ip *addr, uint8_t proto, uint16_t port,
				struct ike_ts_set *out);

/* Responder's narrowing (2.9): out = the intersection of each proposed
 * selector with each of ours (none empty); -ENOENT when nothing is left
 * (TS_UNACCEPTABLE). */
IKE_NEG_FN int ike_ts_narrow(const struct ike_ts_set *proposed, const struct ike_ts_set *ours,
			     struct ike_ts_set *out);

/* Initiator's check of an answer: every selector of `answer` lies inside
 * one of `proposed` (the responder may only narrow). */
bool ike_ts_subset(const struct ike_ts_set *answer, const struct ike_ts_set *proposed);

/* Does a selector set hold this one flow (address, proto, port)? */
bool ike_ts_contains(const struct ike_ts_set *set, const struct sn_ip *addr, uint8_t proto,
		     uint16_t port);

/* As implemented (ike_ts.c): src is the local side, dst the remote one
 * (the outbound view; swap for inbound); sport/dport from the local and
 * remote selectors. A port range that is neither one port nor 0-65535
 * gives -ENOTSUP; an empty selector (start past end) -EINVAL; pairs of
 * different families or protocols make no selector. */
/* SPD selectors for a child SA: each pair (local x remote) that can be
 * written as prefix/prefix with one protocol and single ports or any
 * (ranges become the covering prefix only when exact; otherwise the
 * pair is split into prefixes, up to cap). Returns the count or -E2BIG. */
IKE_NEG_FN int ike_ts_to_selectors(const struct ike_ts_set *local, const struct ike_ts_set *remote,
				   struct sn_selector *out, unsigned cap);

/* ---- Child SA keys (ike_childsa.c) ----------------------------------- */

/* The datapath algorithms for a chosen ESP/AH proposal: -ENOTSUP when
 * the datapath has none for it. */
IKE_NEG_FN int ike_child_algs(const struct ike_chosen *c, enum sn_enc_alg *enc,
			      uint8_t *enc_key_len, enum sn_auth_alg *auth,
			      uint8_t *auth_key_len, uint8_t *icv_len);

/* KEYMAT octets the chosen proposal needs for both directions (2.17). */
size_t ike_child_keymat_len(const struct ike_chosen *c);

/* Both SAs of a child from KEYMAT (2.17: initiator-to-responder keys
 * first, encryption before integrity in each direction). initiator: our
 * role in the exchange that made the child. spi_in is ours, spi_out the
 * peer's. src/dst: the SAs' outer addresses (local, peer). Every
 * other field of out/in (mode, encap, lifetimes, selectors, peer_id) is
 * the caller's. */
IKE_NEG_FN int ike_child_confs(const struct ike_chosen *c, const uint8_t *keymat, size_t len,
			       bool initiator, uint32_t spi_in, uint32_t spi_out,
			       const struct sn_ip *local, const struct sn_ip *peer,
			       struct sn_sa_conf *out, struct sn_sa_conf *in);

/* Lifetimes as sealnet's SAs carry them, from a child's configuration:
 * soft at rekey_time (minus a random part of rand_time from rnd), hard at
 * life_time; bytes likewise. */
void ike_life_from(const struct ike_conf_child *ch, uint32_t rnd, struct sn_lifetime *life);

/* ---- Cookies and half-open SAs (ike_cookie.c) ------------------------ */

#define IKE_COOKIE_LEN          36      /* a 4-octet secret version, then SHA-256 (2.6) */
#define IKE_HALFOPEN_BUCKETS    4096

struct ike_cookies {
	uint8_t  secret[32], old_secret[32];
	uint32_t version;               /* bumped with each new secret */
	uint64_t changed_ms;
	uint32_t lifetime_ms;           /* a secret's life; the old one is accepted one more */
};

/* A fresh secret (RAND_bytes). */
IKE_NEG_FN int ike_cookies_init(struct ike_cookies *c, uint64_t now_ms, uint32_t lifetime_ms);
/* Rotates the secret when its time is up. */
void ike_cookies_tick(struct ike_cookies *c, uint64_t now_ms);
void ike_cookies_wipe(struct ike_cookies *c);
/* The COOKIE notify data for an initiator: version (4 octets, network
 * order) | SHA-256(Ni | IPi | SPIi | secret). *len gets 4 + 32. */
IKE_NEG_FN int ike_cookie_make(const struct ike_cookies *c, const uint8_t *ni, size_t ni_len,
			       const struct sn_ip *ipi, uint64_t spi_i, uint8_t *out, size_t cap,
			       size_t *len);
/* True when data is a cookie we made with the current or previous
 * secret for these values (constant-time compare). */
bool ike_cookie_check(const struct ike_cookies *c, const uint8_t *data, size_t len,
		      const uint8_t *ni, size_t ni_len, const struct sn_ip *ipi, uint64_t spi_i);

/* Half-open IKE SAs per source address, hashed into buckets (a count per
 * bucket, so a flood from many addresses costs no memory): */
struct ike_halfopen {
	uint32_t total;
	uint16_t per_src[IKE_HALFOPEN_BUCKETS];
	uint8_t  key[16];               /* hash key, random */
};
IKE_NEG_FN int ike_halfopen_init(struct ike_halfopen *h);
void ike_halfopen_add(struct ike_halfopen *h, const struct sn_ip *src);
void ike_halfopen_del(struct ike_halfopen *h, const struct sn_ip *src);
uint32_t ike_halfopen_of(const struct ike_halfopen *h, const struct sn_ip *src);

#endif
