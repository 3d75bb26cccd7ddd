/* SPDX-License-Identifier: BSD-3-Clause */
/* The public IPsec configuration calls, and the snctl commands for IPsec. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "sealnet/ipsec.h"
#include "sn_ipsec_api.h"
#include "sn_ctl.h"
#include "sn_api.h"

int sn_ipsec_xfrm_out(const char *line, FILE *out, char *err, size_t errlen)
{
	char tmp[SN_IPSEC_ERR_MAX];
	int rc;

	if (!line)
		return sn_err(EFAULT);
	rc = sn_ipsec_apply_line_out(line, out, err ? err : tmp, err ? errlen : sizeof(tmp));
	return rc ? sn_err(-rc) : 0;
}

int sn_ipsec_xfrm(const char *line, char *err, size_t errlen)
{
	return sn_ipsec_xfrm_out(line, stdout, err, errlen);
}

static int xfrm_words(const char *line)
{
	char err[SN_IPSEC_ERR_MAX];
	int rc = sn_ipsec_apply_line(line, err, sizeof(err));

	return rc ? sn_err(-rc) : 0;
}

int sn_ipsec_sa_flush(uint8_t proto)
{
	if (proto == 0)
		return xfrm_words("state flush");
	if (proto != IPPROTO_ESP && proto != IPPROTO_AH)
		return sn_err(EPROTONOSUPPORT);
	return xfrm_words(proto == IPPROTO_ESP ? "state flush proto esp" : "state flush proto ah");
}

int sn_ipsec_policy_flush(void)
{
	return xfrm_words("policy flush");
}

int sn_ipsec_xfrm_file(const char *path, char *err, size_t errlen)
{
	char tmp[SN_IPSEC_ERR_MAX];
	int rc;

	if (!path)
		return sn_err(EFAULT);
	rc = sn_ipsec_load(path, err ? err : tmp, err ? errlen : sizeof(tmp));
	return rc ? sn_err(-rc) : 0;
}

int sn_ipsec_sa_delete(uint32_t spi, int family, const void *dst, uint8_t proto)
{
	int rc;

	if (!dst)
		return sn_err(EFAULT);
	if (family != AF_INET && family != AF_INET6)
		return sn_err(EAFNOSUPPORT);
	rc = sn_ipsec_sa_del(spi, family, dst, proto);
	return rc ? sn_err(-rc) : 0;
}

/* snctl ipsec sa | policy */
static int cmd_ipsec(FILE *out, int argc, char **argv, void *ctx)
{
	if (argc == 2 && !strcmp(argv[1], "sa")) {
		sn_ipsec_list_sas(out);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "policy")) {
		sn_ipsec_list_policies(out);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "sockets")) {
		sn_ipsec_list_sockets(out);
		return 0;
	}
	fprintf(out, "error: usage: ipsec sa | ipsec policy | ipsec sockets\n");
	return -1;
}

/* snctl xfrm state|policy COMMAND ... (one line, as ip xfrm): get and
 * list print in ip xfrm's form; an error is one "error: why" line. */
static int cmd_xfrm(FILE *out, int argc, char **argv, void *ctx)
{
	char line[4096] = "", err[SN_IPSEC_ERR_MAX];
	size_t off = 0;

	for (int i = 1; i < argc; i++) {
		int n = snprintf(line + off, sizeof(line) - off, "%s'%s'", i > 1 ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(line) - off) {
			fprintf(out, "error: line too long\n");
			return -1;
		}
		off += (size_t)n;
	}
	if (sn_ipsec_apply_line_out(line, out, err, sizeof(err))) {
		fprintf(out, "error: %s\n", err);
		return -1;
	}
	return 0;
}

void sn_ipsec_api_register(void)
{
	sn_ctl_register("ipsec", cmd_ipsec, NULL, "ipsec sa | policy | sockets: SAs, policies (counters), secured sockets");
	sn_ctl_register("xfrm", cmd_xfrm, NULL, "xfrm state|policy add|update|delete|get|deleteall|list|flush ... (ip xfrm grammar)");
}
