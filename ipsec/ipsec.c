/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPsec instance of the process: SAD and SPD, their attachment to the
 * stack (ipsec_in.c, ipsec_out.c), configuration in the `ip xfrm` grammar
 * (from a file, the C API or snctl), listing and counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "lwip/pbuf.h"
#include "sn_netif.h"
#include "sn_sys.h"
#include "ipsec_dp.h"
#include "keymgr.h"
#include "sockpol.h"
#include "sn_ipsec_api.h"
#include "xfrm_apply.h"
#include "xfrm_parse.h"

struct sn_ipsec sn_ipsec;

uint64_t sn_ipsec_now_s(void)
{
	return sn_sys_now_us() / 1000000u;
}

static int sa_install(struct sn_sa *sa, void *ctx)
{
	const char *why = NULL;
	int rc = sn_crypto_new_conf(&sa->crypto, sn_ipsec.backend, &sa->conf, &why);

	if (rc && why)
		snprintf(ctx, SN_IPSEC_ERR_MAX, "%s", why);
	return rc;
}

static void sa_destroy(struct sn_sa *sa, void *ctx)
{
	sn_crypto_free(sa->crypto);
	sa->crypto = NULL;
}

static void pkt_free(void *pkt, void *ctx)
{
	pbuf_free(pkt);
}

static char install_why[SN_IPSEC_ERR_MAX];

static int make_tables(void)
{
	struct sn_sad_hooks hooks = { sa_install, sa_destroy, install_why };
	struct sn_spd_conf sc = { .max_policies = SN_IPSEC_MAX_POLICIES,
				  .pkt_free = pkt_free };
	int rc = sn_sad_create(&sn_ipsec.sad, SN_IPSEC_MAX_SAS, &hooks);

	if (rc)
		return rc;
	rc = sn_spd_create(&sn_ipsec.spd, &sc);
	if (rc) {
		sn_sad_free(sn_ipsec.sad);
		sn_ipsec.sad = NULL;
	}
	return rc;
}

int sn_ipsec_start(void)
{
	int rc;

	if (sn_ipsec.up)
		return -EALREADY;
	sn_ipsec.backend = sn_crypto_default();
	rc = make_tables();
	if (rc)
		return rc;
	rc = sn_ipsec_in_attach();
	if (rc) {
		sn_spd_free(sn_ipsec.spd);
		sn_sad_free(sn_ipsec.sad);
		memset(&sn_ipsec, 0, sizeof(sn_ipsec));
		return rc;
	}
	sn_netif_set_output_hook(sn_ipsec_output4, sn_ipsec_output6);
	sn_ipsec.up = true;
	sn_ipsec_timers_start();
	return 0;
}

void sn_ipsec_stop(void)
{
	if (!sn_ipsec.up)
		return;
	sn_keymgr_unregister();
	sn_netif_set_output_hook(NULL, NULL);
	sn_ipsec_in_detach();
	sn_sockpol_detach_all();
	sn_ipsec_timers_stop();
	/* Held packets are freed; every SA's keys are wiped by sa_destroy. */
	sn_spd_free(sn_ipsec.spd);
	sn_sad_free(sn_ipsec.sad);
	memset(&sn_ipsec, 0, sizeof(sn_ipsec));
}

/* A new SA may serve policies better than the one they cached (a rekey:
 * the newest SA for a template wins), and policies that hold packets can
 * send them now. */
static int refresh_one(const struct sn_policy *cpol, void *ctx)
{
	struct sn_policy *pol = (struct sn_policy *)cpol;

	/* (No policy binds an SA explicitly yet; when sockets do, keep
	 * bound ones here.) */
	pol->sa = (struct sn_sa_ref){ 0 };
	if (pol->qlen)
		sn_ipsec_flush_held(pol);
	return 0;
}

/* Deleted SAs need nothing here: policies and sockets hold references
 * with generations (sad.h), which turn stale, so their next packet looks
 * for another SA, or is held or dropped: never sent in the clear. */
static int apply_live(const struct sn_xfrm_entry *e, FILE *out, char *err, size_t errlen)
{
	struct sn_xfrm_db db = { sn_ipsec.sad, sn_ipsec.spd, sn_ipsec_now_s(), out,
				 install_why, 0, 0 };
	int rc;

	if (!sn_ipsec.up) {
		snprintf(err, errlen, "IPsec is not running (start the stack first)");
		return -ENETDOWN;
	}
	install_why[0] = '\0';
	rc = sn_xfrm_apply(&db, e, err, errlen);
	if (db.sas_added)
		sn_spd_foreach(sn_ipsec.spd, SN_DIR_OUT, refresh_one, NULL);
	return rc;
}

int sn_ipsec_apply(const struct sn_xfrm_entry *e, char *err, size_t errlen)
{
	return apply_live(e, NULL, err, errlen);
}

static void warn_to(FILE *out, const char *where, unsigned warn)
{
	for (unsigned bit = 1; bit && warn; bit <<= 1)
		if (warn & bit)
			fprintf(out, "%s%s\n", where, sn_xfrm_warning(bit));
}

int sn_ipsec_apply_line_out(const char *line, FILE *out, char *err, size_t errlen)
{
	struct sn_xfrm_entry e;
	int rc = sn_xfrm_parse_line(line, &e, err, errlen);

	if (rc == 0)
		rc = apply_live(&e, out, err, errlen);
	if (rc == 0 && out)
		warn_to(out, "warning: ", e.warn);
	explicit_bzero(&e, sizeof(e));  /* keys */
	return rc;
}

int sn_ipsec_apply_line(const char *line, char *err, size_t errlen)
{
	return sn_ipsec_apply_line_out(line, NULL, err, errlen);
}

struct load_ctx {
	const char *path;
};

/* At start, on stderr: each reserved SPI, and anti-replay off once (it is
 * the same sentence for every such SA). */
static void load_warnings(const char *path, unsigned line, unsigned warn)
{
	static bool replay_warned;
	char where[300];

	if (warn & SN_XFRM_WARN_NO_REPLAY) {
		if (replay_warned)
			warn &= ~(unsigned)SN_XFRM_WARN_NO_REPLAY;
		replay_warned = true;
	}
	snprintf(where, sizeof(where), "sealnet: warning: %s:%u: ", path, line);
	warn_to(stderr, where, warn);
}

static int load_entry(const struct sn_xfrm_entry *e, unsigned line, void *ctx, char *why,
		      size_t whylen)
{
	struct load_ctx *l = ctx;
	int rc = apply_live(e, NULL, why, whylen);

	if (rc == 0)
		load_warnings(l->path, line, e->warn);
	return rc;
}

int sn_ipsec_load(const char *path, char *err, size_t errlen)
{
	struct load_ctx l = { path };
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	rc = sn_xfrm_parse_file(f, path, load_entry, &l, err, errlen);
	fclose(f);
	return rc < 0 ? rc : 0;
}

/* ---- Checking a file before start ---------------------------------------------- */

/* The install check without keeping the keys: the backend is asked to
 * make the SA's crypto, which is freed at once. */
static int check_install(struct sn_sa *sa, void *ctx)
{
	struct sn_crypto *c = NULL;
	const char *why = NULL;
	int rc = sn_crypto_new_conf(&c, sn_crypto_default(), &sa->conf, &why);

	if (rc && why)
		snprintf(ctx, SN_IPSEC_ERR_MAX, "%s", why);
	sn_crypto_free(c);
	return rc;
}

static int check_entry(const struct sn_xfrm_entry *e, unsigned line, void *ctx, char *why,
		       size_t whylen)
{
	struct sn_xfrm_db *db = ctx;

	((char *)db->install_why)[0] = '\0';
	return sn_xfrm_apply(db, e, why, whylen);
}

/* Every line is parsed and applied to scratch tables, as at start: a line
 * that would not install (a duplicate SA, a bad combination) stops the
 * program before anything starts, with PATH:LINE: why. */
int sn_ipsec_check_file(const char *path, char *err, size_t errlen)
{
	char why[SN_IPSEC_ERR_MAX] = "";
	struct sn_sad_hooks hooks = { check_install, NULL, why };
	struct sn_spd_conf sc = { .max_policies = SN_IPSEC_MAX_POLICIES };
	struct sn_xfrm_db db = { .install_why = why };
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = sn_sad_create(&db.sad, SN_IPSEC_MAX_SAS, &hooks);
	if (rc == 0)
		rc = sn_spd_create(&db.spd, &sc);
	if (rc == 0)
		rc = sn_xfrm_parse_file(f, path, check_entry, &db, err, errlen);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	fclose(f);
	sn_spd_free(db.spd);
	sn_sad_free(db.sad);
	return rc < 0 ? -1 : 0;
}
