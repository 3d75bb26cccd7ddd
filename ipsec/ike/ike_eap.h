/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAP-MSCHAPv2 inside IKE_AUTH (RFC 7296 2.16, RFC 4739 multiple
 * authentication), both ends as pure step functions: an EAP message in,
 * the next EAP message out, no I/O. The MSCHAPv2 computations are RFC
 * 2759's (NtPasswordHash, ChallengeResponse, the authenticator response)
 * and the MSK is RFC 3079's, as strongSwan's eap-mschapv2 derives it.
 * Client identity: "DOMAIN\user" (or "user" without a domain).
 */
#ifndef SN_IKE_EAP_H
#define SN_IKE_EAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_conf.h"

#define IKE_EAP_MSK_LEN         64
#define IKE_EAP_MSG_MAX         1024
#define IKE_EAP_TYPE_IDENTITY   1
#define IKE_EAP_TYPE_MSCHAPV2   26

enum ike_eap_res {
	IKE_EAP_CONTINUE = 0,           /* *out holds the next message to send */
	IKE_EAP_DONE,                   /* success; the MSK is ready (out may hold a last message) */
	IKE_EAP_FAILED,                 /* wrong password, unknown user, refused */
	IKE_EAP_BAD_MSG,                /* malformed or unexpected: drop */
};

struct ike_eap_client {
	char identity[IKE_CONF_ID_MAX + 1];     /* DOMAIN\user */
	uint8_t nt_hash[16];            /* of the password; the password is not kept */
	uint8_t peer_challenge[16], auth_challenge[16];
	uint8_t nt_response[24];
	uint8_t msk[IKE_EAP_MSK_LEN];
	uint8_t ident;
	int state;
};

struct ike_eap_server {
	const struct ike_conf *conf;    /* eap-* secrets */
	char identity[IKE_CONF_ID_MAX + 1];     /* what the client said it is */
	uint8_t auth_challenge[16];
	uint8_t msk[IKE_EAP_MSK_LEN];
	uint8_t ident;
	int state;
};

/* identity: "DOMAIN\user"; the password is hashed and not kept. */
__attribute__((warn_unused_result))
int ike_eap_client_init(struct ike_eap_client *c, const char *identity, const char *password);
/* in: the responder's EAP message (Request/Success/Failure). */
enum ike_eap_res ike_eap_client_step(struct ike_eap_client *c, const uint8_t *in, size_t in_len,
				     uint8_t *out, size_t cap, size_t *out_len);

void ike_eap_server_init(struct ike_eap_server *s, const struct ike_conf *conf);
/* The first message (an EAP-Identity request). */
enum ike_eap_res ike_eap_server_start(struct ike_eap_server *s, uint8_t *out, size_t cap,
				      size_t *out_len);
/* in: the client's Response. */
enum ike_eap_res ike_eap_server_step(struct ike_eap_server *s, const uint8_t *in, size_t in_len,
				     uint8_t *out, size_t cap, size_t *out_len);

void ike_eap_client_wipe(struct ike_eap_client *c);
void ike_eap_server_wipe(struct ike_eap_server *s);

#endif
