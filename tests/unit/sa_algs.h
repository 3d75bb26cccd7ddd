/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every ESP algorithm combination sealnet supports, with key lengths in
 * bytes (AEAD keys include the 4-byte salt): the table the transform and
 * backend tests walk.
 */
#ifndef H_SA_ALGS_H
#define H_SA_ALGS_H

#include <stddef.h>

#include "sn_ipsec.h"

struct sa_alg {
	const char *name;
	enum sn_enc_alg enc;
	size_t ekl;
	enum sn_auth_alg auth;
	size_t akl;
};

static const struct sa_alg sa_algs[] = {
	{ "aes128-gcm", SN_ENC_AES_GCM, 20, SN_AUTH_NONE, 0 },
	{ "aes256-gcm", SN_ENC_AES_GCM, 36, SN_AUTH_NONE, 0 },
	{ "chacha20-poly1305", SN_ENC_CHACHA20_POLY1305, 36, SN_AUTH_NONE, 0 },
	{ "aes128-cbc-sha1", SN_ENC_AES_CBC, 16, SN_AUTH_HMAC_SHA1_96, 20 },
	{ "aes256-cbc-sha256", SN_ENC_AES_CBC, 32, SN_AUTH_HMAC_SHA256_128, 32 },
	{ "null-sha1", SN_ENC_NULL, 0, SN_AUTH_HMAC_SHA1_96, 20 },
	{ "null-sha256", SN_ENC_NULL, 0, SN_AUTH_HMAC_SHA256_128, 32 },
};
#define N_SA_ALGS (sizeof(sa_algs) / sizeof(sa_algs[0]))

#endif
