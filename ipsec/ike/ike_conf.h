/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKE configuration: what `--ike-conf FILE` holds, in the syntax of
 * strongSwan's swanctl.conf (sections, `key = value`, braces) for the
 * subset sealnet supports. ike_conf.c parses it; the engine (ike_sa.c and
 * its neighbours) only reads these structs, so tests may fill them in C.
 *
 *   connections { NAME { local_addrs remote_addrs proposals version
 *                        rekey_time reauth_time over_time dpd_delay
 *                        dpd_timeout fragmentation childless encap
 *                        send_certreq send_cert keyingtries unique
 *                        local[-N] { auth id certs cacerts eap_id }
 *                        remote[-N] { auth id certs cacerts eap_id }
 *                        children { NAME { local_ts remote_ts
 *                            esp_proposals ah_proposals mode start_action
 *                            close_action dpd_action rekey_time life_time
 *                            rand_time rekey_bytes life_bytes } } } }
 *   secrets { ike-X { id[-N] secret } eap-X { id secret }
 *             private-X { file secret } ecdsa-X rsa-X }
 *   authorities { NAME { cacert crl_uris } }
 *   sealnet { ... }   sealnet's own settings (strongswan.conf's names)
 *
 * A connection whose remote_addrs is %any (or absent) is the default that
 * every secured socket uses (issue 9).
 */
#ifndef SN_IKE_CONF_H
#define SN_IKE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sn_ipsec.h"

#define IKE_CONF_NAME_MAX       63      /* section names */
#define IKE_CONF_ID_MAX         255     /* an identity as text */
#define IKE_CONF_PATH_MAX       255
#define IKE_CONF_MAX_CONNS      64
#define IKE_CONF_MAX_CHILDREN   8       /* per connection */
#define IKE_CONF_MAX_PROPS      8       /* proposals per list */
#define IKE_CONF_MAX_XF         8       /* transforms of one kind per proposal */
#define IKE_CONF_MAX_ADDRS      4       /* local_addrs, remote_addrs */
#define IKE_CONF_MAX_TS         4       /* local_ts, remote_ts */
#define IKE_CONF_MAX_ROUNDS     2       /* local, local-2 (RFC 4739) */
#define IKE_CONF_MAX_CERTS      4       /* certs, cacerts per round */
#define IKE_CONF_MAX_SECRETS    64
#define IKE_CONF_MAX_SECRET_IDS 4
#define IKE_CONF_SECRET_MAX     256     /* octets */
#define IKE_CONF_MAX_AUTHORITIES 16

/* One proposal: every transform of each kind the proposal offers, in
 * order (RFC 7296 3.3: any combination of one per kind). For ESP/AH,
 * n_dh 0 means no PFS; n_esn 0 means ESN "no" only. */
struct ike_conf_prop {
	uint8_t n_encr, n_prf, n_integ, n_dh, n_esn;
	struct { uint16_t id, keylen; } encr[IKE_CONF_MAX_XF];  /* keylen in bits, 0 = none */
	uint16_t prf[IKE_CONF_MAX_XF];
	uint16_t integ[IKE_CONF_MAX_XF];
	uint16_t dh[IKE_CONF_MAX_XF];
	uint16_t esn[2];                /* IKE_ESN_NO / IKE_ESN_YES */
};

struct ike_conf_props {
	uint8_t n;
	struct ike_conf_prop p[IKE_CONF_MAX_PROPS];
};

enum ike_conf_auth_kind {
	IKE_CAUTH_NONE = 0,             /* unset */
	IKE_CAUTH_PSK,                  /* auth = psk */
	IKE_CAUTH_PUBKEY,               /* auth = pubkey (also ecdsa, rsa, rsa/pss) */
	IKE_CAUTH_NULL,                 /* auth = null (RFC 7619) */
	IKE_CAUTH_EAP_MSCHAPV2,         /* auth = eap-mschapv2 */
};

/* Signature scheme constraints on auth = pubkey (rsa/pss, ecdsa-256...). */
#define IKE_CSIG_RSA_PSS        0x1

struct ike_conf_round {                 /* local[-N] or remote[-N] */
	enum ike_conf_auth_kind auth;
	uint32_t sig_flags;             /* IKE_CSIG_* */
	char id[IKE_CONF_ID_MAX + 1];   /* "" or "%any": any (remote) / our address (local) */
	char eap_id[IKE_CONF_ID_MAX + 1];
	uint8_t n_certs, n_cacerts;
	char certs[IKE_CONF_MAX_CERTS][IKE_CONF_PATH_MAX + 1];
	char cacerts[IKE_CONF_MAX_CERTS][IKE_CONF_PATH_MAX + 1];
};

/* A traffic selector as swanctl writes it: CIDR or range, [proto/port]. */
struct ike_conf_ts {
	bool dynamic;                   /* "dynamic": the IKE SA's own address */
	uint8_t family;                 /* AF_INET, AF_INET6; 0 with dynamic */
	uint8_t start[16], end[16];     /* an address range, network order */
	uint8_t proto;                  /* 0 = any */
	uint16_t port_lo, port_hi;      /* host order; 0-65535 = any */
};

enum ike_conf_start { IKE_START_NONE = 0, IKE_START_START, IKE_START_TRAP };
enum ike_conf_close { IKE_CLOSE_NONE = 0, IKE_CLOSE_CLEAR, IKE_CLOSE_TRAP, IKE_CLOSE_START };
enum ike_conf_frag { IKE_FRAG_YES = 0, IKE_FRAG_ACCEPT, IKE_FRAG_FORCE, IKE_FRAG_NO };
enum ike_conf_childless { IKE_CHILDLESS_ALLOW = 0, IKE_CHILDLESS_NEVER, IKE_CHILDLESS_FORCE };
enum ike_conf_send_cert { IKE_SEND_CERT_IFASKED = 0, IKE_SEND_CERT_ALWAYS, IKE_SEND_CERT_NEVER };

struct ike_conf_child {
	char name[IKE_CONF_NAME_MAX + 1];
	uint8_t n_local_ts, n_remote_ts;        /* 0: one "dynamic" each */
	struct ike_conf_ts local_ts[IKE_CONF_MAX_TS], remote_ts[IKE_CONF_MAX_TS];
	uint8_t proto;                  /* SN_IPPROTO_ESP (esp_proposals) or SN_IPPROTO_AH */
	struct ike_conf_props props;    /* n 0: the default */
	enum sn_sa_mode mode;           /* swanctl's default: tunnel */
	enum ike_conf_start start_action;
	enum ike_conf_close close_action, dpd_action;
	uint32_t rekey_time, life_time, rand_time;      /* seconds; swanctl defaults */
	uint64_t rekey_bytes, life_bytes;               /* 0 = none */
	uint32_t replay_window;         /* 0 = SN_REPLAY_DEFAULT */
};

struct ike_conf_conn {
	char name[IKE_CONF_NAME_MAX + 1];
	uint8_t n_local_addrs, n_remote_addrs;
	struct sn_ip local_addrs[IKE_CONF_MAX_ADDRS];   /* none: any of ours */
	struct sn_ip remote_addrs[IKE_CONF_MAX_ADDRS];  /* none: %any */
	bool remote_any;                /* remote_addrs absent or %any */
	uint16_t local_port, remote_port;               /* default 500 */
	struct ike_conf_props props;    /* n 0: the default */
	uint8_t n_local, n_remote;      /* authentication rounds */
	struct ike_conf_round local[IKE_CONF_MAX_ROUNDS], remote[IKE_CONF_MAX_ROUNDS];
	uint8_t n_children;
	struct ike_conf_child children[IKE_CONF_MAX_CHILDREN];
	uint32_t rekey_time, reauth_time, over_time;    /* seconds */
	uint32_t dpd_delay, dpd_timeout;                /* seconds, 0 = off */
	uint32_t keyingtries;           /* 0 = forever */
	enum ike_conf_frag fragmentation;
	enum ike_conf_childless childless;
	enum ike_conf_send_cert send_cert;
	bool send_certreq;              /* default yes */
	bool encap;                     /* force UDP encapsulation */
	int line;                       /* where it began, for messages */
};

enum ike_conf_secret_kind {
	IKE_SECRET_IKE = 1,             /* ike-X: a pre-shared key */
	IKE_SECRET_EAP,                 /* eap-X: a user's password */
	IKE_SECRET_PRIVATE,             /* private-X, ecdsa-X, rsa-X: a key file */
};

struct ike_conf_secret {
	enum ike_conf_secret_kind kind;
	char name[IKE_CONF_NAME_MAX + 1];
	uint8_t n_ids;                  /* 0: any identity */
	char ids[IKE_CONF_MAX_SECRET_IDS][IKE_CONF_ID_MAX + 1];
	uint16_t len;
	uint8_t secret[IKE_CONF_SECRET_MAX];    /* "0x..." and "0s..." decoded */
	char file[IKE_CONF_PATH_MAX + 1];       /* private keys */
};

struct ike_conf_authority {
	char name[IKE_CONF_NAME_MAX + 1];
	char cacert[IKE_CONF_PATH_MAX + 1];
	uint8_t n_crls;
	char crls[IKE_CONF_MAX_CERTS][IKE_CONF_PATH_MAX + 1];  /* file paths */
};

/* sealnet { } : strongswan.conf's charon.* names where one exists. */
struct ike_conf_settings {
	uint32_t cookie_threshold;      /* half-open SAs before cookies; default 10 */
	uint32_t block_threshold;       /* half-open SAs per source address; default 5 */
	uint32_t half_open_max;         /* all half-open SAs; default 10000 */
	uint32_t init_limit_half_open;  /* unused = 0 */
	uint32_t fragment_size;         /* octets of an IKE datagram; default 1280 */
	uint32_t retransmit_timeout_ms; /* first retransmission; default 500 */
	uint32_t retransmit_tries;      /* default 5 */
	uint32_t retransmit_max_ms;     /* back-off cap; default 0 = none */
	uint32_t half_open_timeout_s;   /* default 30 */
	uint32_t idle_timeout_s;        /* an IKE SA with no child SA: default 600 */
	uint32_t max_ike_sas;           /* default 100000 */
	uint16_t port, port_natt;       /* 500, 4500 */
	char keylog[IKE_CONF_PATH_MAX + 1];
	char eap_users[IKE_CONF_PATH_MAX + 1];  /* responder's credentials file; "" = secrets only */
};

struct ike_conf {
	uint32_t n_conns, n_secrets, n_authorities;
	struct ike_conf_conn conns[IKE_CONF_MAX_CONNS];
	struct ike_conf_secret secrets[IKE_CONF_MAX_SECRETS];
	struct ike_conf_authority authorities[IKE_CONF_MAX_AUTHORITIES];
	struct ike_conf_settings settings;
	char path[IKE_CONF_PATH_MAX + 1];
};

/* A conf with every default filled in and nothing configured, or NULL. */
struct ike_conf *ike_conf_new(void);
/* Wipes the secrets, frees. NULL is fine. */
void ike_conf_free(struct ike_conf *c);

/* Parse a file (or text, named `name` in messages) into c, which holds
 * the defaults from ike_conf_new(). 0, or -EINVAL with err =
 * "PATH:LINE: why" (-errno of the open with "PATH: why"). */
__attribute__((warn_unused_result))
int ike_conf_load(struct ike_conf *c, const char *path, char *err, size_t errlen);
__attribute__((warn_unused_result))
int ike_conf_parse(struct ike_conf *c, const char *text, size_t len, const char *name,
		   char *err, size_t errlen);

/* A proposal string in strongSwan's notation ("aes128gcm16-prfsha256-x25519",
 * "aes128-sha256-ecp256", "default"); proto IKE_PROTO_IKE, _ESP or _AH.
 * "default" gives the defaults below. 0 or -EINVAL with a reason. */
__attribute__((warn_unused_result))
int ike_conf_prop_parse(const char *s, uint8_t proto, struct ike_conf_prop *p,
			char *err, size_t errlen);

/* The defaults (issue 9): IKE: AES-GCM-16-128, PRF-HMAC-SHA2-256,
 * Curve25519, then AES-CBC-128 with HMAC-SHA2-256-128 and ECP-256. ESP:
 * AES-GCM-16-128, then AES-CBC-128 with HMAC-SHA2-256-128. */
void ike_conf_default_ike_props(struct ike_conf_props *p);
void ike_conf_default_esp_props(struct ike_conf_props *p);

/* The connection a peer at `remote` (local address `local`) uses: the
 * first with that remote address, else the first %any one, else NULL. */
const struct ike_conf_conn *ike_conf_find_conn(const struct ike_conf *c,
					       const struct sn_ip *local,
					       const struct sn_ip *remote);
const struct ike_conf_conn *ike_conf_conn_by_name(const struct ike_conf *c, const char *name);

/* The secret of kind k that best matches both identities, strongSwan's
 * way: a secret naming both beats one naming one beats one naming none;
 * NULL if none. Either id may be "" (unknown). */
const struct ike_conf_secret *ike_conf_find_secret(const struct ike_conf *c,
						   enum ike_conf_secret_kind k,
						   const char *local_id, const char *remote_id);

#endif
