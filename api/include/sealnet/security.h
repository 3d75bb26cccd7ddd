/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sealnet socket security: turn on, inspect and use IPsec per socket, after
 * the Winsock secure socket extensions of Windows (Microsoft's "Winsock
 * Secure Socket Extensions" documentation, and its pages on
 * WSASetSocketSecurity, SOCKET_SECURITY_SETTINGS_IPSEC and the functions
 * below). One function for each of the six Winsock functions:
 *
 *   sn_set_socket_security             WSASetSocketSecurity
 *   sn_set_socket_peer_target_name     WSASetSocketPeerTargetName
 *   sn_delete_socket_peer_target_name  WSADeleteSocketPeerTargetName
 *   sn_query_socket_security           WSAQuerySocketSecurity
 *   sn_impersonate_socket_peer         WSAImpersonateSocketPeer
 *   sn_revert_impersonation            WSARevertImpersonation
 *
 * plus sn_policy_add/sn_policy_del (custom main-mode and quick-mode
 * policies: what Windows registers with FwpmProviderContextAdd0 and names
 * in SOCKET_SECURITY_SETTINGS_IPSEC's AuthipMMPolicyKey and
 * AuthipQMPolicyKey), a principal
 * map (peer identity -> local Linux user) and the tokens the query hands
 * out. Every function returns 0, or -1 with errno.
 *
 * What the stack guarantees for a socket with security (and without
 * SN_SETTINGS_ALLOW_INSECURE): nothing of its traffic leaves or is
 * accepted in the clear. Outbound packets wait for an SA (the acquire hook,
 * which IKEv2 implements) or are dropped; inbound packets are checked
 * after decapsulation against the socket's policy, and those that arrive
 * in the clear or through an SA the socket would not use are dropped and
 * counted (snctl ipsec counters: drop_cleartext, drop_socket_sa).
 *
 * Connection failures a secured TCP socket reports (connect, SO_ERROR):
 *   ECONNREFUSED  no usable SA can be had: none installed and no key
 *                 manager, or negotiation failed (counted: drop_no_sa,
 *                 drop_acquire_fail);
 *   EACCES        SAs to the peer exist, but the identity they prove is
 *                 not the peer's target name, and no key manager could
 *                 negotiate one that is (counted: drop_peer_name_out);
 *   ETIMEDOUT     negotiation did not finish within
 *                 SN_SECURITY_NEGOTIATE_TIMEOUT_S seconds.
 * Each failed secured connect writes one line to stderr ("sealnet:
 * secured connect to ADDR port N failed: REASON"), and the query's
 * last_error and last_error_text say the same afterwards.
 * A secured UDP socket's send fails with ECONNREFUSED or EACCES in the
 * first two cases.
 */
#ifndef SEALNET_SECURITY_H
#define SEALNET_SECURITY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How long a secured connect waits for an SA to be negotiated. */
#define SN_SECURITY_NEGOTIATE_TIMEOUT_S 10
/* Longest peer identity (IKEv2 ID payload as a string), without the NUL. */
#define SN_IDENTITY_MAX 255
/* Room for the query's last_error_text (two identities and some words). */
#define SN_ERROR_TEXT_MAX 576

/* ---- Custom policies: sn_policy_add -------------------------------------- */

/* A policy's key, as the GUIDs of SOCKET_SECURITY_SETTINGS_IPSEC
 * (AuthipMMPolicyKey, AuthipQMPolicyKey): all zero means "none". */
struct sn_policy_key {
	uint8_t b[16];
};

enum sn_ipsec_transform {
	SN_TRANSFORM_ESP = 1,           /* encryption and/or integrity */
	SN_TRANSFORM_AH = 2,            /* integrity only */
};

enum sn_cipher {
	SN_CIPHER_NONE = 0,             /* AH, or ESP authentication only (NULL) */
	SN_CIPHER_AES_GCM_128,          /* RFC 4106, 16-byte ICV */
	SN_CIPHER_AES_GCM_256,
	SN_CIPHER_CHACHA20_POLY1305,    /* RFC 7634 */
	SN_CIPHER_AES_CBC_128,          /* RFC 3602, with an integrity algorithm */
	SN_CIPHER_AES_CBC_256,
};

enum sn_integrity {
	SN_INTEGRITY_NONE = 0,          /* AEAD ciphers */
	SN_INTEGRITY_HMAC_SHA1_96,      /* RFC 2404 */
	SN_INTEGRITY_HMAC_SHA256_128,   /* RFC 4868 */
};

/* One quick-mode (child SA) proposal. */
struct sn_qm_proposal {
	uint32_t transform;             /* enum sn_ipsec_transform */
	uint32_t cipher;                /* enum sn_cipher; NONE for AH */
	uint32_t integrity;             /* enum sn_integrity */
	uint32_t pfs_group;             /* IKEv2 DH group for rekeys, 0 = no PFS */
	uint32_t lifetime_seconds;      /* 0 = the default, 3600 */
	uint64_t lifetime_bytes;        /* 0 = the default, 55 GB */
};

#define SN_MAX_PROPOSALS 8

/* Quick mode: how the socket's traffic may be protected, most preferred
 * first. An SA is usable when it matches one of the proposals. */
struct sn_qm_policy {
	uint32_t n_proposals;           /* 1..SN_MAX_PROPOSALS */
	struct sn_qm_proposal proposals[SN_MAX_PROPOSALS];
};

enum sn_auth_method {
	SN_AUTH_PSK = 1,                /* pre-shared key (IKEv2 auth method 2) */
	SN_AUTH_CERT = 2,               /* X.509 signature */
	SN_AUTH_ANONYMOUS = 3,          /* IKE_ANONYMOUS of WSASetSocketSecurity's default policy */
};

/* One main-mode (IKE SA) proposal: IKEv2 transform IDs (RFC 7296 3.3.2,
 * IANA "Transform Type" registries). */
struct sn_mm_proposal {
	uint16_t encr;                  /* e.g. 20 = AES-GCM-16, 12 = AES-CBC */
	uint16_t encr_key_bits;         /* 128 or 256 */
	uint16_t integ;                 /* e.g. 12 = HMAC-SHA2-256-128, 0 for AEAD */
	uint16_t prf;                   /* e.g. 5 = PRF-HMAC-SHA2-256 */
	uint16_t dh_group;              /* e.g. 19 = ECP-256, 31 = Curve25519 */
	uint32_t lifetime_seconds;      /* 0 = the default, 7200 */
};

/* Main mode: how the IKE SA with the peer is negotiated. */
struct sn_mm_policy {
	uint32_t auth_method;           /* enum sn_auth_method */
	uint32_t n_proposals;           /* 1..SN_MAX_PROPOSALS */
	struct sn_mm_proposal proposals[SN_MAX_PROPOSALS];
};

enum sn_policy_type {
	SN_POLICY_MAIN_MODE = 1,
	SN_POLICY_QUICK_MODE = 2,
};

struct sn_security_policy {
	uint32_t type;                  /* enum sn_policy_type */
	union {
		struct sn_mm_policy mm;
		struct sn_qm_policy qm;
	} u;
};

/* Register a policy; *key gets its new, random, non-zero key. EINVAL for
 * a bad type, count, algorithm or combination (AH with a cipher, ESP with
 * neither cipher nor integrity, CBC without integrity, AEAD with one),
 * EFAULT for NULL pointers, ENOSPC when SN_MAX_POLICIES are registered. */
#define SN_MAX_POLICIES 256
int sn_policy_add(const struct sn_security_policy *policy, struct sn_policy_key *key);
/* Forget it. Sockets already using it keep their copy. ENOENT if unknown,
 * EINVAL for the zero key. Registered policies belong to the process, not
 * to a running stack: they survive sn_cleanup() and a restart. */
int sn_policy_del(const struct sn_policy_key *key);

/* ---- Settings: sn_set_socket_security ----------------------------------------- */

typedef enum sn_security_protocol {
	SN_SECURITY_PROTOCOL_DEFAULT = 0,
	SN_SECURITY_PROTOCOL_IPSEC = 1,
} sn_security_protocol;

#define SN_SETTINGS_GUARANTEE_ENCRYPTION 0x1    /* no AH, no ESP-NULL */
#define SN_SETTINGS_ALLOW_INSECURE       0x2    /* clear text when no SA */

struct sn_socket_security_settings {
	sn_security_protocol protocol;
	uint32_t flags;                 /* SN_SETTINGS_* */
};

/* Policies exist already (configured SPD entries): instantiate none. The
 * query then reports the SA those policies choose for the addresses the
 * socket's packets carry (for one bound to the wildcard: the source
 * address its route to the peer gives). */
#define SN_SETTINGS_IPSEC_SKIP_FILTER_INSTANTIATION      0x1
/* A proven identity that differs from the target name is accepted. */
#define SN_SETTINGS_IPSEC_OPTIONAL_PEER_NAME_VERIFICATION 0x2
/* A server accepts the first packet from a peer in the clear. */
#define SN_SETTINGS_IPSEC_ALLOW_FIRST_INBOUND_PKT_UNENCRYPTED 0x4
/* Target names are compared byte for byte, not case-folded. */
#define SN_SETTINGS_IPSEC_PEER_NAME_IS_RAW_FORMAT        0x8

/* protocol must be SN_SECURITY_PROTOCOL_IPSEC. The strings (UTF-8, no
 * NULs) follow the structure: user name, domain, password, in that order;
 * the settings' length is sizeof(struct) plus their three lengths. They
 * are kept for IKE authentication and wiped when the socket goes. */
struct sn_socket_security_settings_ipsec {
	sn_security_protocol protocol;
	uint32_t flags;                 /* SN_SETTINGS_* */
	uint32_t ipsec_flags;           /* SN_SETTINGS_IPSEC_* */
	struct sn_policy_key mm_policy_key;     /* zero: the default */
	struct sn_policy_key qm_policy_key;     /* zero: the default */
	struct sn_policy_key reserved;          /* must be zero */
	uint64_t reserved2;                     /* must be zero */
	uint32_t user_name_len;         /* bytes */
	uint32_t domain_name_len;
	uint32_t password_len;
	char all_strings[];
};

/* Most credential bytes accepted in all. */
#define SN_CREDENTIALS_MAX 1024

/*
 * Turn on security for a socket; NULL settings (len ignored) apply the
 * default policy: ESP AES-GCM-128, then ESP AES-CBC-128 + HMAC-SHA-256,
 * then (unless encryption is guaranteed) ESP-NULL + HMAC-SHA-256 and AH
 * HMAC-SHA-256; lifetimes 1 hour and 55 GB.
 *
 * When: TCP client before connect, TCP server before bind, UDP right
 * after sn_socket (before bind, connect or send). Once per socket.
 * A secured socket that binds takes its port exclusively: no other socket
 * (secured or not) of its address family may bind it, and it cannot bind
 * a port in use.
 * Accepted sockets inherit the listener's settings. Policies go away when
 * the socket's connection is gone (for TCP, after its last segment).
 *
 * Errors: ENOTSOCK (not a sealnet socket), EAFNOSUPPORT (not AF_INET or
 * AF_INET6), EINVAL (not TCP/UDP, a bad protocol, flags or reserved field,
 * a length that does not match the structure and its strings, an unknown
 * policy key or one of the wrong type, a second call, a socket already
 * bound), EISCONN (connected or connecting), EMSGSIZE (len smaller than
 * the structure).
 */
int sn_set_socket_security(int fd, const struct sn_socket_security_settings *settings,
			   size_t len);

/* ---- Peer target names --------------------------------------------------- */

struct sn_socket_peer_target_name {
	sn_security_protocol protocol;  /* DEFAULT or IPSEC */
	struct sockaddr_storage peer;   /* sockaddr_in or sockaddr_in6 */
	uint32_t name_len;              /* bytes, 1..SN_IDENTITY_MAX */
	char name[];                    /* not NUL-terminated */
};

/* The identity the peer at `peer` must prove. TCP: before connect (client)
 * or accept (server; the address may be the unspecified one, meaning any
 * peer; port 0 means any port). UDP: before connect, one name per peer
 * address and port, up to SN_MAX_TARGET_NAMES; a second call for the same
 * peer replaces it.
 * A name set, replaced or deleted on a UDP socket that has already sent
 * to that peer applies to its next datagram: the SA chosen before is
 * forgotten and chosen again under the names as they are now (a datagram
 * already handed to the stack left on the SA it had).
 * Errors: EFAULT (NULL target), EMSGSIZE (len below the structure), EINVAL
 * (len != structure + name_len, empty or too long name, bad protocol,
 * address of another family, UDP peer with zero address and port, socket
 * without security), EISCONN (the socket is connected, TCP or UDP, as
 * WSASetSocketPeerTargetName says; TCP also while connecting), ENOSPC
 * (table full), ENOTSOCK, EBADF. */
#define SN_MAX_TARGET_NAMES 16
int sn_set_socket_peer_target_name(int fd, const struct sn_socket_peer_target_name *target,
				   size_t len);
/* Forget the name set for that peer (address and port as given when set);
 * from the next datagram on, as above. Allowed on a connected socket.
 * EFAULT (NULL address), EMSGSIZE (addr_len below the family's sockaddr),
 * EINVAL (address of another family, socket without security), ENOENT
 * (none). */
int sn_delete_socket_peer_target_name(int fd, const struct sockaddr *peer_addr,
				      socklen_t addr_len);

/* ---- Principals -------------------------------------------------------------- */

/* A local principal: a peer identity mapped to a Linux user. Handles
 * returned by the query are the caller's, released with
 * sn_principal_release. */
struct sn_principal;

/* Load the principal map (replacing the one loaded before): one mapping
 * per line, "IDENTITY USER", '#' starts a comment. The user must exist;
 * its uid, primary gid and supplementary groups are read at load time.
 * EINVAL with "PATH:LINE: reason" in err for a bad line (nothing is
 * replaced), or the errno of opening the file. */
int sn_principal_map_load(const char *path, char *err, size_t errlen);
/* Drop the map. */
void sn_principal_map_clear(void);

/* The principal mapped from an identity, or NULL (errno ENOENT). */
struct sn_principal *sn_principal_lookup(const char *identity);
const char *sn_principal_identity(const struct sn_principal *p);
const char *sn_principal_user(const struct sn_principal *p);
uid_t sn_principal_uid(const struct sn_principal *p);
gid_t sn_principal_gid(const struct sn_principal *p);
/* Supplementary groups: how many there are; up to max copied to groups. */
int sn_principal_groups(const struct sn_principal *p, gid_t *groups, int max);
void sn_principal_release(struct sn_principal *p);

/* ---- Query -------------------------------------------------------------------- */

struct sn_socket_security_query_template {
	sn_security_protocol protocol;  /* DEFAULT or IPSEC */
	struct sockaddr_storage peer;   /* UDP: the peer asked about; TCP: ignored */
	uint32_t token_access_mask;     /* 0: no tokens are returned */
};

#define SN_INFO_CONNECTION_SECURED      0x1     /* an SA protects both directions */
#define SN_INFO_CONNECTION_ENCRYPTED    0x2     /* and it encrypts (not AH, not ESP-NULL) */
/* The peer's proven identity maps to a local principal (--principals), so
 * sn_impersonate_socket_peer can take it on. */
#define SN_INFO_CONNECTION_IMPERSONATED 0x4

enum sn_ipsec_mode { SN_IPSEC_MODE_TRANSPORT = 0, SN_IPSEC_MODE_TUNNEL = 1 };

/* How the peer proved peer_identity in IKEv2's first round. */
enum sn_ike_auth {
	SN_IKE_AUTH_NONE = 0,           /* not negotiated: a manual SA */
	SN_IKE_AUTH_PSK,                /* a pre-shared key bound to the identity */
	SN_IKE_AUTH_CERTIFICATE,        /* a signature with a certificate that chains to a CA */
	SN_IKE_AUTH_NULL,               /* RFC 7619: no identity proven (SN_AUTH_ANONYMOUS) */
};

struct sn_socket_security_query_info {
	sn_security_protocol protocol;
	uint32_t flags;                 /* SN_INFO_* */
	/* The peer's principals (NULL without a mapping or with an access
	 * mask of 0): the application and machine principal. With manual SAs
	 * and IKEv2 there is one proven identity, and both map from it. */
	struct sn_principal *peer_application_token;
	struct sn_principal *peer_machine_token;
	/* Beyond WSAQuerySocketSecurity's SOCKET_SECURITY_QUERY_INFO: what
	 * protects the traffic now. */
	char peer_identity[SN_IDENTITY_MAX + 1];        /* "" if none proven */
	uint32_t transform;             /* enum sn_ipsec_transform; 0 in the clear */
	uint32_t mode;                  /* enum sn_ipsec_mode */
	uint32_t cipher;                /* enum sn_cipher */
	uint32_t integrity;             /* enum sn_integrity */
	uint32_t spi_in, spi_out;       /* host order; 0 if none */
	uint32_t udp_encap;             /* 1: ESP inside UDP (RFC 3948) */
	uint64_t seconds_left;          /* before the SA's rekey (soft) time; UINT64_MAX: no limit */
	uint64_t bytes_left;            /* before its soft byte limit; UINT64_MAX: no limit */
	int32_t last_error;             /* errno of the last failed negotiation with the peer, 0 */
	/* last_error in words: "peer identity X is not the target name Y"
	 * (EACCES), "no SA with the peer ..." (ECONNREFUSED), ...; "" if 0. */
	char last_error_text[SN_ERROR_TEXT_MAX];
	/* An SA that IKEv2 negotiated (0 and "" for manual SAs). The machine
	 * token maps from peer_identity (the first round), the application
	 * token from peer_user_identity when an EAP round proved one. */
	uint32_t ike_auth;              /* enum sn_ike_auth */
	char peer_user_identity[SN_IDENTITY_MAX + 1];   /* EAP-MSCHAPv2: DOMAIN\user */
	char peer_cert_subject[SN_IDENTITY_MAX + 1];    /* RFC 2253 */
	char peer_cert_issuer[SN_IDENTITY_MAX + 1];
	char ike_proposal[96];          /* the IKE SA's: "aes128gcm16-prfsha256-x25519" */
	uint64_t ike_spi_i, ike_spi_r;  /* the IKE SA's SPIs, host order */
	uint64_t child_lifetime_s;      /* the child SA's hard lifetime; its rekey: seconds_left */
};

/*
 * What protects the socket's traffic. TCP: after connect or accept
 * (template may be NULL). UDP: the template names the peer. A socket
 * without security, or a secured one whose traffic flows in the clear
 * (ALLOW_INSECURE), gets success without SN_INFO_CONNECTION_SECURED.
 * A TCP socket whose secured connect failed gets success with no flags
 * and last_error (and last_error_text) set.
 * Errors: EFAULT (NULL info_len), EMSGSIZE (NULL info or *info_len too
 * small: *info_len is set to the size needed; or tlen below the
 * template), EINVAL (UDP without template, bad protocol or family),
 * ENOTCONN (TCP not connected), ECONNRESET, ETIMEDOUT, ECONNABORTED (TCP:
 * the error that ended the connection, as sn_recv reported it; the query
 * keeps reporting it), ENOTSOCK, EBADF.
 */
int sn_query_socket_security(int fd, const struct sn_socket_security_query_template *tmpl,
			     size_t tlen, struct sn_socket_security_query_info *info,
			     size_t *info_len);

/* ---- Impersonation ---------------------------------------------------------------- */

/*
 * The calling thread takes on the local principal mapped from the peer's
 * proven identity: its filesystem uid, gid and supplementary groups
 * (per thread, through raw setfsuid/setfsgid/setgroups system calls; the
 * process needs CAP_SETUID and CAP_SETGID). TCP: peer_addr is ignored;
 * UDP: it names the peer. Errors: EACCES (no proven identity, or one the
 * map does not know), ENOTCONN (TCP not connected), ECONNRESET and the
 * like (TCP: as the query), EFAULT (UDP without an address), EMSGSIZE
 * (addr_len below the family's sockaddr), EINVAL (address of another
 * family, socket without security), EALREADY (the thread impersonates
 * already), EPERM (the switch was refused).
 */
int sn_impersonate_socket_peer(int fd, const struct sockaddr *peer_addr, socklen_t addr_len);
/* Back to the thread's own credentials. 0 also when not impersonating. */
int sn_revert_impersonation(void);
/* Impersonate a principal directly (the socket call above resolves one). */
int sn_impersonate_principal(const struct sn_principal *p);

/* ---- For programs: the common options --secure, --peer-name ---------------- */

struct sn_config;

/* Apply --secure[=encrypt|insecure-ok] and the --peer-name options that
 * concern this socket (for a client connecting to `peer`, the one for that
 * address; for a listener or UDP socket (peer NULL), all of them). Call
 * where sn_set_socket_security would be. 0 without --secure.
 * With --secure every socket sn_socket makes already has these settings
 * and all the names of its family; they count as not set, so one explicit
 * sn_set_socket_security (this call's, or the program's own) replaces
 * them, keeping the names. */
int sn_secure_socket(const struct sn_config *cfg, int fd, const struct sockaddr *peer,
		     socklen_t peer_len);
/* One line saying what sn_query_socket_security reports for fd (and, for
 * UDP, peer), e.g. "secured encrypted esp transport aes-gcm-128 spi_in
 * 0x1001 spi_out 0x1002 peer client.example rekey_in 3599s". Returns
 * the length (snprintf rules) or -1 with errno. */
int sn_security_describe(int fd, const struct sockaddr *peer, socklen_t peer_len,
			 char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
