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
#include "sockpol.h"
#include "sn_ipsec_api.h"
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

static int add_sa(const struct sn_sa_conf *conf, char *err, size_t errlen)
{
	struct sn_sa *sa;
	int rc;

	install_why[0] = '\0';
	rc = sn_sad_add(sn_ipsec.sad, conf, sn_ipsec_now_s(), &sa);
	if (rc) {
		snprintf(err, errlen, "state add: %s", install_why[0] ? install_why :
			 rc == -EEXIST ? "an SA with this SPI, destination and protocol exists" :
			 strerror(-rc));
		return rc;
	}
	sn_spd_foreach(sn_ipsec.spd, SN_DIR_OUT, refresh_one, NULL);
	return 0;
}

static int add_policy(const struct sn_pol_conf *conf, char *err, size_t errlen)
{
	struct sn_policy *pol;
	int rc = sn_spd_add(sn_ipsec.spd, conf, &pol);

	if (rc)
		snprintf(err, errlen, "policy add: %s", rc == -EEXIST ?
			 "a policy with this selector and direction exists" : strerror(-rc));
	return rc;
}

int sn_ipsec_apply(const struct sn_xfrm_entry *e, char *err, size_t errlen)
{
	if (!sn_ipsec.up) {
		snprintf(err, errlen, "IPsec is not running (start the stack first)");
		return -ENETDOWN;
	}
	switch (e->kind) {
	case SN_XFRM_SA:
		return add_sa(&e->sa, err, errlen);
	case SN_XFRM_POLICY:
		return add_policy(&e->pol, err, errlen);
	case SN_XFRM_EMPTY:
		return 0;
	}
	return -EINVAL;
}

int sn_ipsec_apply_line(const char *line, char *err, size_t errlen)
{
	struct sn_xfrm_entry e;
	int rc = sn_xfrm_parse_line(line, &e, err, errlen);

	if (rc == 0)
		rc = sn_ipsec_apply(&e, err, errlen);
	memset(&e, 0, sizeof(e));       /* keys */
	return rc;
}

struct load_ctx {
	char *err;
	size_t errlen;
};

static int load_entry(const struct sn_xfrm_entry *e, unsigned line, void *ctx)
{
	struct load_ctx *l = ctx;
	char why[SN_IPSEC_ERR_MAX];
	int rc = sn_ipsec_apply(e, why, sizeof(why));

	if (rc)
		snprintf(l->err, l->errlen, "line %u: %s", line, why);
	return rc;
}

int sn_ipsec_load(const char *path, char *err, size_t errlen)
{
	struct load_ctx l = { err, errlen };
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	rc = sn_xfrm_parse_file(f, load_entry, &l, err, errlen);
	fclose(f);
	return rc < 0 ? rc : 0;
}

/* Check a file without a running stack (option parsing). */
static int check_entry(const struct sn_xfrm_entry *e, unsigned line, void *ctx)
{
	return 0;
}

int sn_ipsec_check_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = sn_xfrm_parse_file(f, check_entry, NULL, err, errlen);
	fclose(f);
	return rc < 0 ? -1 : 0;
}
