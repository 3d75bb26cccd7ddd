/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IKEv2 wire formats and limits (RFC 7296 section 3), in one place, as
 * WireGuard's messages.h: every header a parser or builder touches, packed,
 * with its size checked at compile time, and every limit the parsers enforce
 * as a named constant. Multi-byte fields are big-endian on the wire; the
 * structs are only ever memcpy'd to or from aligned locals.
 *
 * Also here: the SKF header of RFC 7383, the AUTH method of RFC 7427, NULL
 * authentication of RFC 7619, and the IANA numbers the algorithms
 * and notifies use.
 */
#ifndef SN_IKE_WIRE_H
#define SN_IKE_WIRE_H

#include <stdint.h>

/* ---- IKE header (RFC 7296 3.1) ------------------------------------------ */

#define IKE_SPI_LEN             8
#define IKE_VERSION_2_0         0x20    /* major 2, minor 0 */
#define IKE_MAJOR(v)            ((uint8_t)((v) >> 4))
#define IKE_MINOR(v)            ((uint8_t)((v) & 0x0f))

/* Flags: only these three are defined; the rest MUST be ignored on receipt. */
#define IKE_FLAG_INITIATOR      0x08
#define IKE_FLAG_VERSION        0x10    /* sender can speak a higher major version */
#define IKE_FLAG_RESPONSE       0x20

/* Exchange types (3.1) */
#define IKE_EXCH_SA_INIT        34
#define IKE_EXCH_AUTH           35
#define IKE_EXCH_CREATE_CHILD   36
#define IKE_EXCH_INFORMATIONAL  37

struct ike_hdr {
	uint8_t  ispi[IKE_SPI_LEN];
	uint8_t  rspi[IKE_SPI_LEN];
	uint8_t  next;                  /* type of the first payload */
	uint8_t  version;
	uint8_t  exchange;
	uint8_t  flags;
	uint32_t msgid;
	uint32_t length;                /* whole message, header included */
} __attribute__((packed));
#define IKE_HDR_LEN             28
_Static_assert(sizeof(struct ike_hdr) == IKE_HDR_LEN, "IKE header");

/* ---- Generic payload header (3.2) ---------------------------------------- */

#define IKE_CRITICAL            0x80    /* the only defined bit of the flags octet */

struct ike_gen_hdr {
	uint8_t  next;
	uint8_t  flags;                 /* C bit, then 7 reserved bits */
	uint16_t length;                /* payload, this header included */
} __attribute__((packed));
#define IKE_GEN_HDR_LEN         4
_Static_assert(sizeof(struct ike_gen_hdr) == IKE_GEN_HDR_LEN, "generic header");

/* Payload types (3.2); 53 from RFC 7383 2.5. */
#define IKE_PL_NONE             0
#define IKE_PL_SA               33
#define IKE_PL_KE               34
#define IKE_PL_IDI              35
#define IKE_PL_IDR              36
#define IKE_PL_CERT             37
#define IKE_PL_CERTREQ          38
#define IKE_PL_AUTH             39
#define IKE_PL_NONCE            40
#define IKE_PL_NOTIFY           41
#define IKE_PL_DELETE           42
#define IKE_PL_VENDOR           43
#define IKE_PL_TSI              44
#define IKE_PL_TSR              45
#define IKE_PL_SK               46
#define IKE_PL_CP               47
#define IKE_PL_EAP              48
#define IKE_PL_SKF              53

/* ---- Security Association payload (3.3) ----------------------------------- */

/* "Last Substructure" values (3.3.1, 3.3.2) */
#define IKE_LAST                0
#define IKE_MORE_PROPOSALS      2
#define IKE_MORE_TRANSFORMS     3

/* Protocol IDs (3.3.1) */
#define IKE_PROTO_IKE           1
#define IKE_PROTO_AH            2
#define IKE_PROTO_ESP           3

struct ike_prop_hdr {
	uint8_t  last;
	uint8_t  reserved;
	uint16_t length;                /* proposal with its transforms */
	uint8_t  num;
	uint8_t  proto;
	uint8_t  spi_size;
	uint8_t  ntransforms;
} __attribute__((packed));          /* then the SPI, then the transforms */
#define IKE_PROP_HDR_LEN        8
_Static_assert(sizeof(struct ike_prop_hdr) == IKE_PROP_HDR_LEN, "proposal");

struct ike_xform_hdr {
	uint8_t  last;
	uint8_t  reserved;
	uint16_t length;                /* transform with its attributes */
	uint8_t  type;
	uint8_t  reserved2;
	uint16_t id;
} __attribute__((packed));
#define IKE_XFORM_HDR_LEN       8
_Static_assert(sizeof(struct ike_xform_hdr) == IKE_XFORM_HDR_LEN, "transform");

/* Transform attributes (3.3.5): AF set = TV (value in the header), else TLV. */
#define IKE_ATTR_AF             0x8000
#define IKE_ATTR_KEY_LENGTH     14      /* TV, in bits */

struct ike_attr_hdr {
	uint16_t type;                  /* AF bit | attribute type */
	uint16_t value;                 /* TV: the value; TLV: the value's length */
} __attribute__((packed));
#define IKE_ATTR_HDR_LEN        4
_Static_assert(sizeof(struct ike_attr_hdr) == IKE_ATTR_HDR_LEN, "attribute");

/* Transform types (3.3.2) */
#define IKE_XF_ENCR             1
#define IKE_XF_PRF              2
#define IKE_XF_INTEG            3
#define IKE_XF_DH               4       /* "Key Exchange Method" since RFC 9370 */
#define IKE_XF_ESN              5

/* ENCR (IANA "Transform Type 1") */
#define IKE_ENCR_3DES           3
#define IKE_ENCR_NULL           11
#define IKE_ENCR_AES_CBC        12      /* RFC 3602; key length attribute required */
#define IKE_ENCR_AES_CTR        13
#define IKE_ENCR_AES_GCM_8      18      /* RFC 4106 / 5282 */
#define IKE_ENCR_AES_GCM_12     19
#define IKE_ENCR_AES_GCM_16     20
#define IKE_ENCR_NULL_AUTH_AES_GMAC 21  /* RFC 4543, ESP only */
#define IKE_ENCR_CHACHA20_POLY1305  28  /* RFC 7634 */

/* PRF (Transform Type 2) */
#define IKE_PRF_HMAC_SHA1       2
#define IKE_PRF_HMAC_SHA2_256   5       /* RFC 4868 */
#define IKE_PRF_HMAC_SHA2_384   6
#define IKE_PRF_HMAC_SHA2_512   7

/* INTEG (Transform Type 3) */
#define IKE_INTEG_NONE          0
#define IKE_INTEG_HMAC_SHA1_96  2
#define IKE_INTEG_AES_XCBC_96   5
#define IKE_INTEG_AES_GMAC_128  9       /* RFC 4543 */
#define IKE_INTEG_AES_GMAC_256  11
#define IKE_INTEG_HMAC_SHA2_256_128 12  /* RFC 4868 */
#define IKE_INTEG_HMAC_SHA2_384_192 13
#define IKE_INTEG_HMAC_SHA2_512_256 14

/* DH / key exchange (Transform Type 4) */
#define IKE_DH_NONE             0
#define IKE_DH_MODP_2048        14      /* RFC 3526 */
#define IKE_DH_ECP_256          19      /* RFC 5903 */
#define IKE_DH_ECP_384          20
#define IKE_DH_ECP_521          21
#define IKE_DH_CURVE25519       31      /* RFC 8031 */

/* ESN (Transform Type 5) */
#define IKE_ESN_NO              0
#define IKE_ESN_YES             1

/* ---- Key Exchange payload (3.4) ---------------------------------------- */

struct ike_ke_hdr {
	uint16_t group;
	uint16_t reserved;
} __attribute__((packed));          /* then the public value */
#define IKE_KE_HDR_LEN          4
_Static_assert(sizeof(struct ike_ke_hdr) == IKE_KE_HDR_LEN, "KE");

/* ---- Identification payloads (3.5) --------------------------------------- */

#define IKE_ID_IPV4_ADDR        1
#define IKE_ID_FQDN             2
#define IKE_ID_RFC822_ADDR      3
#define IKE_ID_IPV6_ADDR        5
#define IKE_ID_DER_ASN1_DN      9
#define IKE_ID_DER_ASN1_GN      10
#define IKE_ID_KEY_ID           11
#define IKE_ID_NULL             13      /* RFC 7619 3 */

struct ike_id_hdr {
	uint8_t  type;
	uint8_t  reserved[3];
} __attribute__((packed));          /* then the identification data */
#define IKE_ID_HDR_LEN          4
_Static_assert(sizeof(struct ike_id_hdr) == IKE_ID_HDR_LEN, "ID");

/* ---- Certificate and Certificate Request payloads (3.6, 3.7) ------------- */

#define IKE_CERT_X509_SIG       4
#define IKE_CERT_CRL            7
#define IKE_CERT_RAW_RSA        11
#define IKE_CERT_HASH_URL_X509  12
#define IKE_CERT_HASH_URL_BUNDLE 13
#define IKE_CERTREQ_HASH_LEN    20      /* SHA-1 of a CA's SubjectPublicKeyInfo (3.7) */

struct ike_cert_hdr {
	uint8_t  encoding;
} __attribute__((packed));          /* then the certificate data / CA hashes */
#define IKE_CERT_HDR_LEN        1
_Static_assert(sizeof(struct ike_cert_hdr) == IKE_CERT_HDR_LEN, "CERT");

/* ---- Authentication payload (3.8) ---------------------------------------- */

#define IKE_AUTH_RSA_SIG        1
#define IKE_AUTH_PSK            2       /* Shared Key Message Integrity Code */
#define IKE_AUTH_DSS_SIG        3
#define IKE_AUTH_ECDSA_256      9       /* RFC 4754 */
#define IKE_AUTH_ECDSA_384      10
#define IKE_AUTH_ECDSA_521      11
#define IKE_AUTH_NULL           13      /* RFC 7619 */
#define IKE_AUTH_DIGITAL_SIG    14      /* RFC 7427 */

struct ike_auth_hdr {
	uint8_t  method;
	uint8_t  reserved[3];
} __attribute__((packed));          /* then the authentication data */
#define IKE_AUTH_HDR_LEN        4
_Static_assert(sizeof(struct ike_auth_hdr) == IKE_AUTH_HDR_LEN, "AUTH");

/* RFC 7427 3: method 14's data is a one-octet length, that many octets of
 * DER AlgorithmIdentifier, then the signature. */
#define IKE_SIG_ALGID_LEN_LEN   1

/* RFC 7427 4: hash algorithm identifiers of SIGNATURE_HASH_ALGORITHMS */
#define IKE_HASH_SHA1           1
#define IKE_HASH_SHA2_256       2
#define IKE_HASH_SHA2_384       3
#define IKE_HASH_SHA2_512       4
#define IKE_HASH_IDENTITY       5       /* RFC 8420 */

/* The PSK AUTH computation's pad string (2.15), without its NUL. */
#define IKE_KEYPAD              "Key Pad for IKEv2"
#define IKE_KEYPAD_LEN          17

/* ---- Nonce payload (3.9) ------------------------------------------------- */

#define IKE_NONCE_MIN           16      /* "at least 128 bits" */
#define IKE_NONCE_MAX           256     /* "at most 2048 bits" */

/* ---- Notify payload (3.10) ----------------------------------------------- */

struct ike_notify_hdr {
	uint8_t  proto;
	uint8_t  spi_size;
	uint16_t type;
} __attribute__((packed));          /* then the SPI, then the notification data */
#define IKE_NOTIFY_HDR_LEN      4
_Static_assert(sizeof(struct ike_notify_hdr) == IKE_NOTIFY_HDR_LEN, "Notify");

/* Error types (3.10.1): below 16384 */
#define IKE_N_ERROR_MAX                 16383
#define IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD 1
#define IKE_N_INVALID_IKE_SPI           4
#define IKE_N_INVALID_MAJOR_VERSION     5
#define IKE_N_INVALID_SYNTAX            7
#define IKE_N_INVALID_MESSAGE_ID        9
#define IKE_N_INVALID_SPI               11
#define IKE_N_NO_PROPOSAL_CHOSEN        14
#define IKE_N_INVALID_KE_PAYLOAD        17
#define IKE_N_AUTHENTICATION_FAILED     24
#define IKE_N_SINGLE_PAIR_REQUIRED      34
#define IKE_N_NO_ADDITIONAL_SAS         35
#define IKE_N_INTERNAL_ADDRESS_FAILURE  36
#define IKE_N_FAILED_CP_REQUIRED        37
#define IKE_N_TS_UNACCEPTABLE           38
#define IKE_N_INVALID_SELECTORS         39
#define IKE_N_TEMPORARY_FAILURE         43      /* 2.25 */
#define IKE_N_CHILD_SA_NOT_FOUND        44      /* 2.25 */

/* Status types (3.10.1 and later RFCs) */
#define IKE_N_INITIAL_CONTACT           16384
#define IKE_N_SET_WINDOW_SIZE           16385
#define IKE_N_ADDITIONAL_TS_POSSIBLE    16386
#define IKE_N_IPCOMP_SUPPORTED          16387
#define IKE_N_NAT_DETECTION_SOURCE_IP   16388
#define IKE_N_NAT_DETECTION_DESTINATION_IP 16389
#define IKE_N_COOKIE                    16390
#define IKE_N_USE_TRANSPORT_MODE        16391
#define IKE_N_HTTP_CERT_LOOKUP_SUPPORTED 16392
#define IKE_N_REKEY_SA                  16393
#define IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED 16394
#define IKE_N_NON_FIRST_FRAGMENTS_ALSO  16395
#define IKE_N_MULTIPLE_AUTH_SUPPORTED   16404   /* RFC 4739 */
#define IKE_N_ANOTHER_AUTH_FOLLOWS      16405   /* RFC 4739 */
#define IKE_N_CHILDLESS_IKEV2_SUPPORTED 16418   /* RFC 6023 */
#define IKE_N_IKEV2_FRAGMENTATION_SUPPORTED 16430 /* RFC 7383 */
#define IKE_N_SIGNATURE_HASH_ALGORITHMS 16431   /* RFC 7427 */

/* Notification data sizes the parser checks (the notify's own section). */
#define IKE_COOKIE_MIN          1       /* 2.6: 1 to 64 octets */
#define IKE_COOKIE_MAX          64
#define IKE_NAT_HASH_LEN        20      /* 2.23: SHA-1(SPIi | SPIr | IP | port) */
#define IKE_INVALID_KE_DATA_LEN 2       /* 1.3: the accepted group */
#define IKE_UNSUPP_CRIT_DATA_LEN 1      /* 3.10.1: the payload type */
#define IKE_SIGHASH_LEN         2       /* RFC 7427 4: one per hash */

/* ---- Delete payload (3.11) ----------------------------------------------- */

struct ike_delete_hdr {
	uint8_t  proto;
	uint8_t  spi_size;
	uint16_t nspi;
} __attribute__((packed));          /* then nspi SPIs of spi_size octets */
#define IKE_DELETE_HDR_LEN      4
_Static_assert(sizeof(struct ike_delete_hdr) == IKE_DELETE_HDR_LEN, "Delete");

#define IKE_CHILD_SPI_LEN       4       /* ESP and AH SPIs (3.3.1) */

/* ---- Vendor ID payload (3.12): opaque data after the generic header ------ */

/* ---- Traffic Selector payloads (3.13) ------------------------------------ */

#define IKE_TS_IPV4_ADDR_RANGE  7
#define IKE_TS_IPV6_ADDR_RANGE  8

struct ike_ts_payload_hdr {
	uint8_t  nts;
	uint8_t  reserved[3];
} __attribute__((packed));          /* then nts traffic selectors */
#define IKE_TS_PAYLOAD_HDR_LEN  4
_Static_assert(sizeof(struct ike_ts_payload_hdr) == IKE_TS_PAYLOAD_HDR_LEN, "TS payload");

struct ike_ts_hdr {
	uint8_t  type;
	uint8_t  proto;                 /* IP protocol, 0 = any */
	uint16_t length;                /* selector, this header included */
	uint16_t start_port;
	uint16_t end_port;
} __attribute__((packed));          /* then the start and end addresses */
#define IKE_TS_HDR_LEN          8
_Static_assert(sizeof(struct ike_ts_hdr) == IKE_TS_HDR_LEN, "TS");

#define IKE_TS_IPV4_LEN         (IKE_TS_HDR_LEN + 2 * 4)        /* 16 */
#define IKE_TS_IPV6_LEN         (IKE_TS_HDR_LEN + 2 * 16)       /* 40 */

/* ---- Encrypted payload (3.14) and Encrypted Fragment (RFC 7383 2.5) ------- */

/* SK: the generic header (next = the first inner payload), then IV,
 * ciphertext of the inner payloads, padding and pad length, then the ICV. */
#define IKE_SK_PAD_LEN_LEN      1

struct ike_skf_hdr {
	uint16_t frag_num;              /* 1 .. total */
	uint16_t total;
} __attribute__((packed));          /* after the generic header; then IV, ciphertext, ICV */
#define IKE_SKF_HDR_LEN         4
_Static_assert(sizeof(struct ike_skf_hdr) == IKE_SKF_HDR_LEN, "SKF");

/* ---- EAP payload (3.16; RFC 3748 4) -------------------------------------- */

#define IKE_EAP_REQUEST         1
#define IKE_EAP_RESPONSE        2
#define IKE_EAP_SUCCESS         3
#define IKE_EAP_FAILURE         4

struct ike_eap_hdr {
	uint8_t  code;
	uint8_t  id;
	uint16_t length;                /* the EAP message: equals the payload's body */
} __attribute__((packed));          /* Request/Response: then one type octet and data */
#define IKE_EAP_HDR_LEN         4
_Static_assert(sizeof(struct ike_eap_hdr) == IKE_EAP_HDR_LEN, "EAP");

/* ---- Limits the parsers enforce ----------------------------------------- */

/* A message fits one UDP datagram over IPv4 (65535 - 20 IP - 8 UDP), so the
 * 32-bit header length is capped well below its range. RFC 7296 2: every
 * implementation handles messages of up to 1280 octets; larger ones are
 * fragmented by IP or, with RFC 7383, by IKE. */
#define IKE_MSG_MAX             65507
#define IKE_MSG_MIN             IKE_HDR_LEN
/* Payloads in one message (or one decrypted SK payload): a generous bound
 * for IKE_AUTH with certificates, CERTREQs and status notifies. */
#define IKE_MAX_PAYLOADS        48
#define IKE_MAX_PROPOSALS       16      /* per SA payload */
#define IKE_MAX_TRANSFORMS      32      /* per proposal */
#define IKE_MAX_ATTRS           4       /* per transform; only Key Length is defined */
#define IKE_MAX_TS              16      /* per TS payload */
#define IKE_MAX_IKE_SPI_SIZE    8
#define IKE_KE_MAX              1024    /* MODP-8192's public value; ECP-521 is 132 */
#define IKE_ID_MAX              1024    /* a DER DN; longer ones are refused */
#define IKE_FRAG_MAX            64      /* total fragments accepted (RFC 7383 2.6) */

#endif
