/* The public IPsec configuration calls, and the snctl commands for IPsec. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sealnet/ipsec.h"
#include "sn_ipsec_api.h"
#include "sn_ctl.h"
#include "sn_api.h"

int sn_ipsec_xfrm(const char *line, char *err, size_t errlen)
{
	char tmp[SN_IPSEC_ERR_MAX];
	int rc;

	if (!line)
		return sn_err(EFAULT);
	rc = sn_ipsec_apply_line(line, err ? err : tmp, err ? errlen : sizeof(tmp));
	return rc ? sn_err(-rc) : 0;
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

/* snctl xfrm state add ... | xfrm policy add ... (one line, as ip xfrm) */
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
	if (sn_ipsec_apply_line(line, err, sizeof(err))) {
		fprintf(out, "error: %s\n", err);
		return -1;
	}
	return 0;
}

void sn_ipsec_api_register(void)
{
	sn_ctl_register("ipsec", cmd_ipsec, NULL, "ipsec sa | policy | sockets: SAs, policies (counters), secured sockets");
	sn_ctl_register("xfrm", cmd_xfrm, NULL, "xfrm state add ... | xfrm policy add ... (ip xfrm grammar)");
}
