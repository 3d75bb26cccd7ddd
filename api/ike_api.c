/* SPDX-License-Identifier: BSD-3-Clause */
/* IKEv2 in the running program: start from --ike-conf, the snctl commands
 * (`ike sa|stats|initiate|terminate|rekey`, `keylog`), and its counters in
 * --stats and sn_stats_get ("ike.NAME"). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/socket.h>

#include "sealnet/stack.h"
#include "sn_api.h"
#include "sn_ctl.h"
#include "sealnet/security.h"
#include "sn_principal.h"
#include "keylog.h"
#include "ike/ike_dp.h"
#include "ike/ike_neg.h"
#include "ike/ike_wire.h"

/* ---- Counters -------------------------------------------------------------------- */

struct prefixed {
	void (*fn)(void *ctx, const char *name, uint64_t v);
	void *ctx;
};

static void one_prefixed(void *ctx, const char *name, uint64_t v)
{
	struct prefixed *p = ctx;
	char n[96];

	snprintf(n, sizeof(n), "ike.%s", name);
	p->fn(p->ctx, n, v);
}

void sn_ike_stats(void (*fn)(void *ctx, const char *name, uint64_t v), void *ctx)
{
	const struct ike_dp_stats *st = ike_dp_stats();
	struct ike *ike = ike_dp_engine();
	struct prefixed p = { fn, ctx };

	if (!ike)
		return;
	ike_stats(ike, one_prefixed, &p);
	fn(ctx, "ike.dp_acquires", st->acquires);
	fn(ctx, "ike.dp_acquire_queue_full", st->acquires_queued_full);
	fn(ctx, "ike.dp_acquires_failed", st->acquires_failed);
}

/* ---- snctl ---------------------------------------------------------------------- */

static void print_stat(void *ctx, const char *name, uint64_t v)
{
	fprintf(ctx, "%-28s %llu\n", name, (unsigned long long)v);
}

static int by_name(FILE *out, struct ike *ike, const char *verb, const char *what)
{
	int rc;

	if (!strcmp(verb, "initiate"))
		rc = ike_initiate(ike, what);
	else if (!strcmp(verb, "terminate"))
		rc = ike_terminate(ike, what);
	else
		rc = ike_rekey(ike, what);
	if (rc) {
		fprintf(out, "error: ike %s %s: %s\n", verb, what,
			rc == -ENOENT ? "no such connection, child or peer" : strerror(-rc));
		return -1;
	}
	fprintf(out, "ike %s %s: started\n", verb, what);
	return 0;
}

static int cmd_ike(FILE *out, int argc, char **argv, void *ctx)
{
	struct ike *ike = ike_dp_engine();

	(void)ctx;
	if (!ike) {
		fprintf(out, "error: IKE is not running (start the program with --ike-conf)\n");
		return -1;
	}
	if (argc == 2 && !strcmp(argv[1], "sa")) {
		ike_list_sas(ike, out);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "stats")) {
		sn_ike_stats(print_stat, out);
		return 0;
	}
	if (argc == 3 && (!strcmp(argv[1], "initiate") || !strcmp(argv[1], "terminate") ||
			  !strcmp(argv[1], "rekey")))
		return by_name(out, ike, argv[1], argv[2]);
	fprintf(out, "error: usage: ike sa | stats | initiate|terminate|rekey NAME-OR-PEER\n");
	return -1;
}

/* --keylog DIR: a Wireshark configuration directory (WIRESHARK_CONFIG_DIR
 * =DIR tshark -r CAPTURE decrypts IKE and ESP): Wireshark keeps its two
 * key tables in two files, ikev2_decryption_table and esp_sa, and ESP
 * decryption is a preference that is off by default. */
static int keylog_prefs(const char *dir)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/preferences", dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# written by sealnet --keylog\n"
		"esp.enable_encryption_decode: TRUE\n"
		"esp.enable_authentication_check: TRUE\n");
	return fclose(f) ? -errno : 0;
}

static int keylog_start(const char *dir, char *err, size_t errlen)
{
	struct ike *ike = ike_dp_engine();
	char path[PATH_MAX];
	int rc;

	if (!dir) {
		sn_keylog_close();
		return ike ? ike_keylog(ike, NULL) : 0;
	}
	if (strlen(dir) > PATH_MAX - 32) {
		snprintf(err, errlen, "%s: name too long", dir);
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	rc = keylog_prefs(dir);
	snprintf(path, sizeof(path), "%s/esp_sa", dir);
	if (!rc)
		rc = sn_keylog_open(path);
	snprintf(path, sizeof(path), "%s/ikev2_decryption_table", dir);
	if (!rc && ike && (rc = ike_keylog(ike, path)) == -ENOTSUP) {
		/* The engine does not write its table yet: ESP keys only. */
		fprintf(stderr, "sealnet: --keylog %s: IKE SA keys not written (not supported yet); "
			"ESP SA keys are\n", dir);
		rc = 0;
	}
	if (rc)
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
	return rc;
}

static int cmd_keylog(FILE *out, int argc, char **argv, void *ctx)
{
	char err[PATH_MAX + 64];

	(void)ctx;
	if (argc != 2) {
		fprintf(out, "error: usage: keylog DIR | keylog off\n");
		return -1;
	}
	if (keylog_start(strcmp(argv[1], "off") ? argv[1] : NULL, err, sizeof(err))) {
		fprintf(out, "error: keylog %s\n", err);
		return -1;
	}
	return 0;
}

/* ---- Start and stop ---------------------------------------------------------------- */

static unsigned self_addrs(const struct sn_config *cfg, struct sn_ip *self, unsigned cap)
{
	unsigned n = 0;

	for (int i = 0; i < cfg->naddrs && n < cap; i++) {
		const struct sn_ifaddr *a = &cfg->addrs[i];

		memset(&self[n], 0, sizeof(self[n]));
		self[n].family = (uint8_t)a->family;
		memcpy(self[n].addr, &a->addr, a->family == AF_INET ? 4 : 16);
		n++;
	}
	return n;
}

int sn_ike_start(const struct sn_config *cfg)
{
	struct sn_ip self[8];
	unsigned n = self_addrs(cfg, self, 8);
	char err[512] = "";
	int rc;

	sn_ctl_register("keylog", cmd_keylog, NULL,
			"keylog DIR|off: IKE and ESP keys for Wireshark (WIRESHARK_CONFIG_DIR=DIR)");
	if (cfg->ike_conf[0]) {
		rc = ike_dp_start(cfg->ike_conf, NULL, self, n, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "%s: --ike-conf %s: %s\n", cfg->prog, cfg->ike_conf,
				err[0] ? err : strerror(-rc));
			return rc;
		}
		sn_ctl_register("ike", cmd_ike, NULL,
				"ike sa | stats | initiate|terminate|rekey NAME-OR-PEER: IKEv2 SAs");
	}
	if (cfg->keylog[0] && (rc = keylog_start(cfg->keylog, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s: --keylog %s\n", cfg->prog, err);
		return rc;
	}
	return 0;
}

void sn_ike_stop(void)
{
	ike_dp_stop();
	sn_keylog_close();
}

void sn_ike_poll(void)
{
	ike_dp_poll();
}

/* ---- The socket security query ------------------------------------------------------- */

bool sn_ike_why(const struct sn_ip *peer, char *buf, size_t len)
{
	struct ike *ike = ike_dp_engine();
	const struct ike_result *r = ike ? ike_peer_result(ike, peer) : NULL;

	if (!r || r->fail == IKE_FAIL_NONE)
		return false;
	snprintf(buf, len, "IKEv2: %s", r->why[0] ? r->why : ike_fail_str(r->fail));
	return true;
}

static uint32_t auth_kind(uint8_t method)
{
	switch (method) {
	case IKE_AUTH_PSK:
		return SN_IKE_AUTH_PSK;
	case IKE_AUTH_NULL:
		return SN_IKE_AUTH_NULL;
	case IKE_AUTH_RSA_SIG:
	case IKE_AUTH_ECDSA_256:
	case IKE_AUTH_ECDSA_384:
	case IKE_AUTH_ECDSA_521:
	case IKE_AUTH_DIGITAL_SIG:
		return SN_IKE_AUTH_CERTIFICATE;
	default:
		return SN_IKE_AUTH_NONE;
	}
}

static void ike_proposal_of(const struct ike_child_info *ci, char *buf, size_t len)
{
	struct ike_chosen c = { .proto = IKE_PROTO_IKE, .encr = ci->encr,
				.encr_keylen = ci->encr_keylen, .prf = ci->prf,
				.integ = ci->integ, .dh = ci->dh };

	ike_chosen_str(&c, buf, len);
}

void sn_ike_query_fill(uint32_t spi_in, struct sn_socket_security_query_info *info)
{
	struct ike *ike = ike_dp_engine();
	struct ike_child_info ci;

	if (!ike || ike_child_info(ike, spi_in, &ci))
		return;
	info->ike_auth = auth_kind(ci.auth_method);
	snprintf(info->peer_user_identity, sizeof(info->peer_user_identity), "%s", ci.eap_id);
	snprintf(info->peer_cert_subject, sizeof(info->peer_cert_subject), "%s", ci.cert_subject);
	snprintf(info->peer_cert_issuer, sizeof(info->peer_cert_issuer), "%s", ci.cert_issuer);
	ike_proposal_of(&ci, info->ike_proposal, sizeof(info->ike_proposal));
	info->ike_spi_i = ci.ike_spi_i;
	info->ike_spi_r = ci.ike_spi_r;
	info->child_lifetime_s = ci.life_s;
}

struct sn_principal *sn_ike_user_principal(uint32_t spi_in)
{
	struct ike *ike = ike_dp_engine();
	struct ike_child_info ci;

	if (!ike || ike_child_info(ike, spi_in, &ci) || !ci.eap_id[0])
		return NULL;
	return sn_principal_lookup(ci.eap_id);
}
