/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPsec wire formats, limits and the configuration types shared by the
 * parser (xfrm_parse.c), the SAD/SPD, the crypto backends and ESP/AH.
 * Every size comes from a named constant; struct sizes are asserted.
 *
 * RFC 4303 (ESP), RFC 4302 (AH), RFC 4106 (AES-GCM in ESP), RFC 7634
 * (ChaCha20-Poly1305 in ESP), RFC 3602 (AES-CBC), RFC 2404 (HMAC-SHA1-96),
 * RFC 4868 (HMAC-SHA-256-128), RFC 2410 (NULL encryption), RFC 4304 (ESN),
 * RFC 3948 (UDP encapsulation).
 */
#ifndef SN_IPSEC_H
#define SN_IPSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Wire formats ------------------------------------------------------ */

#define SN_IPPROTO_ESP 50
#define SN_IPPROTO_AH  51
#define SN_UDP_ENCAP_PORT 4500          /* RFC 3948 */

struct sn_esp_hdr {                     /* RFC 4303 section 2 */
	uint32_t spi;                   /* network order */
	uint32_t seq;                   /* low 32 bits, network order */
};
_Static_assert(sizeof(struct sn_esp_hdr) == 8, "ESP header is 8 bytes");

struct sn_esp_trailer {                 /* after the padding */
	uint8_t pad_len;
	uint8_t next_header;
};
_Static_assert(sizeof(struct sn_esp_trailer) == 2, "ESP trailer is 2 bytes");

struct sn_ah_hdr {                      /* RFC 4302 section 2 */
	uint8_t next_header;
	uint8_t payload_len;            /* in 32-bit words, minus 2 */
	uint16_t reserved;
	uint32_t spi;
	uint32_t seq;
	/* ICV follows, padded to 4 (IPv4) or 8 (IPv6) bytes */
};
_Static_assert(sizeof(struct sn_ah_hdr) == 12, "AH header is 12 bytes");

/* ---- Limits -------------------------------------------------------------- */

#define SN_IPSEC_MAX_KEY      64        /* bytes, any key (HMAC keys included) */
#define SN_IPSEC_MAX_ICV      16        /* bytes: 12 (SHA1-96) or 16 */
#define SN_IPSEC_MAX_IV       16        /* bytes: 16 (CBC) or 8 (GCM, ChaCha) */
#define SN_IPSEC_SALT_LEN     4         /* RFC 4106 / RFC 7634 nonce salt */
#define SN_REPLAY_DEFAULT     1024      /* packets */
#define SN_REPLAY_MAX         8192      /* packets; a multiple of 64 */
/* Default lifetimes, from the seed's default policy (1 hour, 55 GB). */
#define SN_LIFETIME_SECONDS_DEFAULT 3600u
#define SN_LIFETIME_BYTES_DEFAULT   (55ull * 1000 * 1000 * 1000)
/* A peer's proven identity as a string (IKEv2 ID payload), NUL excluded. */
#define SN_IPSEC_ID_MAX       255

/* ---- Algorithms ------------------------------------------------------------ */

enum sn_enc_alg {
	SN_ENC_NONE = 0,                /* AH, or not set */
	SN_ENC_NULL,                    /* ecb(cipher_null), RFC 2410 */
	SN_ENC_AES_CBC,                 /* cbc(aes), 16 or 32-byte key */
	SN_ENC_AES_GCM,                 /* rfc4106(gcm(aes)), key + 4-byte salt, ICV 16 */
	SN_ENC_CHACHA20_POLY1305,       /* rfc7539esp(chacha20,poly1305), 32 + 4, ICV 16 */
};

enum sn_auth_alg {
	SN_AUTH_NONE = 0,               /* AEAD SAs */
	SN_AUTH_HMAC_SHA1_96,           /* hmac(sha1), 20-byte key, 12-byte ICV */
	SN_AUTH_HMAC_SHA256_128,        /* hmac(sha256), 32-byte key, 16-byte ICV */
};

static inline bool sn_enc_is_aead(enum sn_enc_alg a)
{
	return a == SN_ENC_AES_GCM || a == SN_ENC_CHACHA20_POLY1305;
}

/* ---- Addresses and selectors ----------------------------------------------- */

struct sn_ip {
	uint8_t family;                 /* AF_INET, AF_INET6, 0 = unset */
	uint8_t addr[16];               /* network order; IPv4 in the first 4 */
};

struct sn_selector {
	struct sn_ip src, dst;
	uint8_t src_plen, dst_plen;     /* prefix lengths */
	uint8_t proto;                  /* 0 = any */
	uint16_t sport, dport;          /* host order, 0 = any */
};

/* ---- Security association (as configured) ------------------------------------ */

enum sn_sa_mode { SN_MODE_TRANSPORT = 0, SN_MODE_TUNNEL };

#define SN_SA_F_ESN 0x1                 /* 64-bit sequence numbers, RFC 4304 */
#define SN_SA_F_NO_REPLAY 0x2           /* replay-window 0: anti-replay off */

struct sn_lifetime {
	uint64_t soft_bytes, hard_bytes;        /* 0 = no limit */
	uint64_t soft_packets, hard_packets;
	uint64_t soft_add_s, hard_add_s;        /* seconds since install */
	uint64_t soft_use_s, hard_use_s;        /* seconds since first use */
};

struct sn_sa_conf {
	struct sn_ip src, dst;          /* tunnel: outer; transport: the peers */
	uint8_t proto;                  /* SN_IPPROTO_ESP or SN_IPPROTO_AH */
	uint32_t spi;                   /* host order, not 0; 1-255 reserved (RFC 4303 2.1) */
	enum sn_sa_mode mode;
	uint32_t reqid;
	uint32_t replay_window;         /* packets, 0 = default (SN_SA_F_NO_REPLAY: off) */
	uint64_t seq_in;                /* replay-seq(-hi): last inbound seen, 0 = none */
	uint64_t seq_out;               /* replay-oseq(-hi): last outbound sent */
	uint32_t flags;                 /* SN_SA_F_* */
	enum sn_enc_alg enc;
	uint8_t enc_key[SN_IPSEC_MAX_KEY];  /* AEAD: key then 4-byte salt */
	uint8_t enc_key_len;            /* bytes, salt included for AEAD */
	enum sn_auth_alg auth;
	uint8_t auth_key[SN_IPSEC_MAX_KEY];
	uint8_t auth_key_len;
	uint8_t icv_len;                /* bytes */
	bool encap;                     /* ESP in UDP, RFC 3948 */
	uint16_t encap_sport, encap_dport;  /* host order */
	struct sn_selector sel;         /* optional inner selector */
	struct sn_lifetime life;
	/* Who holds the other end of this SA: the identity IKEv2 proved, or
	 * for a manual SA the one its configuration vouches for (sealnet's
	 * `peer-id` keyword). "" = none. */
	char peer_id[SN_IPSEC_ID_MAX + 1];
};

/* ---- Policy (as configured) ---------------------------------------------------- */

enum sn_pol_dir { SN_DIR_IN = 0, SN_DIR_OUT, SN_DIR_FWD };
enum sn_pol_action { SN_POL_PROTECT = 0, SN_POL_BYPASS, SN_POL_DISCARD };

struct sn_pol_tmpl {                    /* what SA a protect policy needs */
	struct sn_ip src, dst;          /* tunnel endpoints; unset in transport */
	uint8_t proto;                  /* ESP or AH */
	enum sn_sa_mode mode;
	uint32_t spi;                   /* 0 = any */
	uint32_t reqid;                 /* 0 = any */
	bool optional;                  /* "level use" */
};

struct sn_pol_conf {
	struct sn_selector sel;
	enum sn_pol_dir dir;
	enum sn_pol_action action;
	uint32_t priority;              /* lower first, as in ip xfrm */
	/* A socket's own policy (sn_set_socket_security): looked up before
	 * every configured one, whatever their priorities. */
	bool socket_tier;
	struct sn_pol_tmpl tmpl;        /* for SN_POL_PROTECT */
};

/* ---- What a socket accepts (the socket security API's proposals) ----------- */

/* One acceptable kind of SA: protocol and algorithms. */
struct sn_proposal {
	uint8_t proto;                  /* SN_IPPROTO_ESP or SN_IPPROTO_AH */
	uint8_t enc;                    /* enum sn_enc_alg; SN_ENC_NULL for ESP auth only */
	uint8_t enc_key_len;            /* bytes without the salt; 0 when no cipher key */
	uint8_t auth;                   /* enum sn_auth_alg */
	uint32_t life_s;                /* for negotiated SAs (IKEv2) */
	uint64_t life_bytes;
};

#endif
