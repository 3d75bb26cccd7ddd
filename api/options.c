/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command-line options common to every program (--dev, --addr, --gw, --mtu,
 * --lcore, --stats, --help, -h, --version) and the walk over argv that hands
 * the rest to the program's own handler. Pure parsing: nothing is started
 * here (--lcore looks at the CPUs the process may run on, which starts
 * nothing either).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealnet/stack.h"
#include "sn_dev.h"
#include "sn_capture.h"
#include "sn_ipsec_api.h"
#include "ike/ike_dp.h"
#include "sealnet/security.h"
#include <arpa/inet.h>

#define SN_MTU_MIN 576
#define SN_MTU_MIN6 1280
#define SN_MTU_MAX 9000
#ifndef SN_VERSION          /* from the Makefile's VERSION */
#define SN_VERSION "unknown"
#endif

static const struct sn_opt common_opts[] = {
	{ "dev", SN_OPT_REQUIRED, 0, "DEV   tap:IF | memif:PATH[,server|client] | vhost:PATH | virtio:PATH | pci:BDF | null" },
	{ "addr", SN_OPT_REQUIRED, 0, "IP/PREFIX   interface address (one IPv4, IPv6 repeatable)" },
	{ "gw", SN_OPT_REQUIRED, 0, "IP   default gateway (IPv4 or IPv6)" },
	{ "mtu", SN_OPT_REQUIRED, 0, "N   link MTU, 576-9000 (default 1500)" },
	{ "lcore", SN_OPT_REQUIRED, 0, "N   lcore (CPU) to run on (default: the first this process may use)" },
	{ "stats", SN_OPT_NONE, 0, "print port, stack and drop counters at exit" },
	{ "ipsec-conf", SN_OPT_REQUIRED, 0, "FILE   IPsec SAs and policies, one `ip xfrm` line each" },
	{ "secure", SN_OPT_OPTIONAL, 0, "[=encrypt|insecure-ok]   IPsec on every socket the program opens (default policy)" },
	{ "peer-name", SN_OPT_REQUIRED, 0, "ADDR=ID   identity the peer at ADDR must prove (repeatable; with --secure)" },
	{ "ike-conf", SN_OPT_REQUIRED, 0, "FILE   IKEv2: identities, credentials, connections (swanctl.conf syntax)" },
	{ "keylog", SN_OPT_REQUIRED, 0, "DIR   IKE and ESP keys for Wireshark: WIRESHARK_CONFIG_DIR=DIR tshark" },
	{ "principals", SN_OPT_REQUIRED, 0, "FILE   map of peer identities to local users (impersonation)" },
	{ "pcap", SN_OPT_REQUIRED, 0, "FILE   capture the port's frames and IPsec's inner packets (pcapng)" },
	{ "pcap-max", SN_OPT_REQUIRED, 0, "MB   size limit of the --pcap file (default 100, 0 = none)" },
	{ "help", SN_OPT_NONE, 0, "show this help (also -h)" },
	{ "version", SN_OPT_NONE, 0, "show the program's name and sealnet's version" },
	{ NULL, 0, 0, NULL },
};

/* The first CPU the process may run on (taskset, cgroups), else 0. */
static int first_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				return i;
	return 0;
}

void sn_config_init(struct sn_config *cfg, const char *prog)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->pcap_max_mb = SN_CAPTURE_MAX_MB_DEFAULT;
	cfg->lcore = first_cpu();
	cfg->prog = prog ? prog : "sealnet";
}

/* Parse a decimal integer within [lo, hi]; 0 or -1. */
static int parse_uint(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_ip(const char *s, struct sn_ifaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->addr.v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->addr.v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

static int addr_usable(const struct sn_ifaddr *a)
{
	if (a->family == AF_INET) {
		uint32_t h = ntohl(a->addr.v4.s_addr);

		return h != 0 && h != 0xffffffffu && (h >> 28) != 0xe &&
		       (h >> 24) != 127;
	}
	return !IN6_IS_ADDR_UNSPECIFIED(&a->addr.v6) &&
	       !IN6_IS_ADDR_MULTICAST(&a->addr.v6) &&
	       !IN6_IS_ADDR_LOOPBACK(&a->addr.v6) &&
	       !IN6_IS_ADDR_LINKLOCAL(&a->addr.v6);
}

static int opt_addr(struct sn_config *c, const char *v, char *err, size_t errlen)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(v, '/');
	struct sn_ifaddr a;
	long prefix;

	if (!slash || (size_t)(slash - v) >= sizeof(ip)) {
		snprintf(err, errlen, "'%s' is not IP/PREFIX", v);
		return -1;
	}
	memcpy(ip, v, (size_t)(slash - v));
	ip[slash - v] = '\0';
	if (parse_ip(ip, &a) || !addr_usable(&a)) {
		snprintf(err, errlen, "'%s' is not a usable unicast address", ip);
		return -1;
	}
	if (parse_uint(slash + 1, a.family == AF_INET ? 1 : 8,
		       a.family == AF_INET ? 32 : 128, &prefix)) {
		snprintf(err, errlen, "bad prefix length '%s'", slash + 1);
		return -1;
	}
	a.prefix = (uint8_t)prefix;
	for (int i = 0; i < c->naddrs; i++)
		if (a.family == AF_INET && c->addrs[i].family == AF_INET) {
			snprintf(err, errlen, "only one IPv4 address is supported");
			return -1;
		}
	if (c->naddrs == SN_MAX_ADDRS) {
		snprintf(err, errlen, "at most %d addresses", SN_MAX_ADDRS);
		return -1;
	}
	c->addrs[c->naddrs++] = a;
	return 0;
}

static int opt_gw(struct sn_config *c, const char *v, char *err, size_t errlen)
{
	struct sn_ifaddr a;

	if (parse_ip(v, &a) || !addr_usable(&a)) {
		snprintf(err, errlen, "'%s' is not a usable unicast address", v);
		return -1;
	}
	if (a.family == AF_INET)
		c->gw4 = a;
	else
		c->gw6 = a;
	return 0;
}

static int opt_number(const char *v, long lo, long hi, long *out, char *err,
		      size_t errlen)
{
	if (parse_uint(v, lo, hi, out)) {
		snprintf(err, errlen, "'%s' is not a number in %ld-%ld", v ? v : "", lo, hi);
		return -1;
	}
	return 0;
}

/* Checked here, not by the EAL: an lcore the process may not run on would
 * otherwise print DPDK's whole usage text and exit 1. */
static int opt_lcore(struct sn_config *c, const char *v, char *err, size_t errlen)
{
	cpu_set_t set;
	long n;

	if (opt_number(v, 0, 1023, &n, err, errlen))
		return -1;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    (n >= CPU_SETSIZE || !CPU_ISSET((int)n, &set))) {
		snprintf(err, errlen, "CPU %ld is not one this process may run on (%d allowed; see nproc, taskset -p)",
			 n, CPU_COUNT(&set));
		return -1;
	}
	c->lcore = (int)n;
	return 0;
}

static int opt_secure(struct sn_config *c, const char *v, char *err, size_t errlen)
{
	c->secure = true;
	c->secure_flags = 0;
	if (!v || !strcmp(v, "require"))
		return 0;
	if (!strcmp(v, "encrypt")) {
		c->secure_flags = SN_SETTINGS_GUARANTEE_ENCRYPTION;
		return 0;
	}
	if (!strcmp(v, "insecure-ok")) {
		c->secure_flags = SN_SETTINGS_ALLOW_INSECURE;
		return 0;
	}
	snprintf(err, errlen, "'%s': expected encrypt or insecure-ok", v);
	return -1;
}

static int opt_peer_name(struct sn_config *c, const char *v, char *err, size_t errlen)
{
	const char *eq = strchr(v, '=');
	struct sn_peer_name_opt *pn;
	struct in6_addr a;
	char addr[48];

	if (c->npeer_names == SN_MAX_PEER_NAMES) {
		snprintf(err, errlen, "at most %d", SN_MAX_PEER_NAMES);
		return -1;
	}
	if (!eq || eq == v || (size_t)(eq - v) >= sizeof(addr) || !eq[1] ||
	    strlen(eq + 1) > SN_IDENTITY_MAX) {
		snprintf(err, errlen, "'%s': expected ADDR=ID (ID 1-%d bytes)", v, SN_IDENTITY_MAX);
		return -1;
	}
	memcpy(addr, v, (size_t)(eq - v));
	addr[eq - v] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1 && inet_pton(AF_INET6, addr, &a) != 1) {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
		return -1;
	}
	pn = &c->peer_names[c->npeer_names++];
	snprintf(pn->addr, sizeof(pn->addr), "%s", addr);
	snprintf(pn->id, sizeof(pn->id), "%s", eq + 1);
	return 0;
}

/* Loaded now: a bad map stops the program before it starts (exit 2). */
static int opt_principals(struct sn_config *c, const char *v, char *err, size_t errlen)
{
	if (strlen(v) >= sizeof(c->principals)) {
		snprintf(err, errlen, "path longer than %zu bytes", sizeof(c->principals) - 1);
		return -1;
	}
	if (sn_principal_map_load(v, err, errlen))
		return -1;
	snprintf(c->principals, sizeof(c->principals), "%s", v);
	return 0;
}

static int opt_pcap(struct sn_config *c, const char *name, const char *v,
		    char *err, size_t errlen)
{
	long n;

	if (!strcmp(name, "pcap-max")) {
		if (opt_number(v, 0, 1 << 20, &n, err, errlen))
			return -1;
		c->pcap_max_mb = (uint32_t)n;
		return 0;
	}
	if (!*v || strlen(v) >= sizeof(c->pcap)) {
		snprintf(err, errlen, "file name empty or longer than %zu bytes",
			 sizeof(c->pcap) - 1);
		return -1;
	}
	snprintf(c->pcap, sizeof(c->pcap), "%s", v);
	return 0;
}

/* --ike-conf is read whole now, credentials too, so a line it cannot
 * use stops the program before anything starts (exit 2, FILE:LINE). */
static int opt_ike(struct sn_config *c, const char *name, const char *v, char *err,
		   size_t errlen)
{
	bool conf = !strcmp(name, "ike-conf");
	char *dst = conf ? c->ike_conf : c->keylog;

	if (!*v || strlen(v) >= sizeof(c->ike_conf)) {
		snprintf(err, errlen, "file name empty or longer than %zu bytes",
			 sizeof(c->ike_conf) - 1);
		return -1;
	}
	if (conf && ike_dp_check(v, err, errlen))
		return -1;
	snprintf(dst, sizeof(c->ike_conf), "%s", v);
	return 0;
}

int sn_parse_common(struct sn_config *c, const char *name, const char *v,
		    char *err, size_t errlen)
{
	long n;

	if (!strcmp(name, "secure"))
		return opt_secure(c, v, err, errlen) ? -1 : 1;
	if (!v && strcmp(name, "stats")) {
		if (strcmp(name, "dev") && strcmp(name, "addr") && strcmp(name, "gw") &&
		    strcmp(name, "mtu") && strcmp(name, "lcore") && strcmp(name, "ipsec-conf") &&
		    strcmp(name, "peer-name") && strcmp(name, "principals") &&
		    strcmp(name, "ike-conf") && strcmp(name, "keylog") &&
		    strcmp(name, "pcap") && strcmp(name, "pcap-max"))
			return 0;
		snprintf(err, errlen, "missing value");
		return -1;
	}
	if (!strcmp(name, "dev")) {
		if (sn_dev_check(v, err, errlen))
			return -1;
		snprintf(c->dev, sizeof(c->dev), "%s", v);
		return 1;
	}
	if (!strcmp(name, "addr"))
		return opt_addr(c, v, err, errlen) ? -1 : 1;
	if (!strcmp(name, "gw"))
		return opt_gw(c, v, err, errlen) ? -1 : 1;
	if (!strcmp(name, "mtu")) {
		if (opt_number(v, SN_MTU_MIN, SN_MTU_MAX, &n, err, errlen))
			return -1;
		c->mtu = (uint16_t)n;
		return 1;
	}
	if (!strcmp(name, "lcore"))
		return opt_lcore(c, v, err, errlen) ? -1 : 1;
	if (!strcmp(name, "stats")) {
		c->stats = true;
		return 1;
	}
	if (!strcmp(name, "ipsec-conf")) {
		if (strlen(v) >= sizeof(c->ipsec_conf)) {
			snprintf(err, errlen, "path longer than %zu bytes", sizeof(c->ipsec_conf) - 1);
			return -1;
		}
		/* Every line is checked now, so a bad file stops the program
		 * before anything starts (exit 2, with the line number). */
		if (sn_ipsec_check_file(v, err, errlen))
			return -1;
		snprintf(c->ipsec_conf, sizeof(c->ipsec_conf), "%s", v);
		return 1;
	}
	if (!strcmp(name, "ike-conf") || !strcmp(name, "keylog"))
		return opt_ike(c, name, v, err, errlen) ? -1 : 1;
	if (!strcmp(name, "peer-name"))
		return opt_peer_name(c, v, err, errlen) ? -1 : 1;
	if (!strcmp(name, "principals"))
		return opt_principals(c, v, err, errlen) ? -1 : 1;
	if (!strcmp(name, "pcap") || !strcmp(name, "pcap-max"))
		return opt_pcap(c, name, v, err, errlen) ? -1 : 1;
	return 0;
}

int sn_dev_check(const char *dev, char *err, size_t errlen)
{
	struct sn_dev_spec spec;

	if (!dev || strlen(dev) >= SN_DEV_MAX) {
		snprintf(err, errlen, "device missing or too long");
		return -1;
	}
	return sn_dev_parse(dev, &spec, err, errlen);
}

static const struct sn_opt *find_opt(const struct sn_opt *t, const char *name,
				     size_t len)
{
	for (; t && t->name; t++)
		if (strlen(t->name) == len && !strncmp(t->name, name, len))
			return t;
	return NULL;
}

static void print_opts(FILE *out, const struct sn_opt *t)
{
	for (; t && t->name; t++)
		fprintf(out, "  --%-10s %s\n", t->name, t->help ? t->help : "");
}

static void print_help(const struct sn_config *c, const struct sn_opt *opts,
		       const char *usage)
{
	printf("usage: %s %s\n\noptions:\n", c->prog, usage ? usage : "[options]");
	print_opts(stdout, opts);
	printf("\ncommon options:\n");
	print_opts(stdout, common_opts);
}

/* Checks that need all options: a device, an address, MTU vs IPv6. */
static int check_config(const struct sn_config *c, char *err, size_t errlen)
{
	if (!c->dev[0]) {
		snprintf(err, errlen, "%s: --dev: required", c->prog);
		return -1;
	}
	if (c->naddrs == 0) {
		snprintf(err, errlen, "%s: --addr: at least one address is required", c->prog);
		return -1;
	}
	/* A name is checked only on a secured socket: alone it would do
	 * nothing. */
	if (c->npeer_names && !c->secure) {
		snprintf(err, errlen, "%s: --peer-name: needs --secure", c->prog);
		return -1;
	}

	for (int i = 0; i < c->naddrs; i++)
		if (c->addrs[i].family == AF_INET6 && c->mtu < SN_MTU_MIN6) {
			snprintf(err, errlen, "%s: --mtu: IPv6 needs at least %d",
				 c->prog, SN_MTU_MIN6);
			return -1;
		}
	return 0;
}

struct arg_walk {
	struct sn_config *cfg;
	const struct sn_opt *opts;
	sn_opt_handler handler;
	void *ctx;
	char *err;
	size_t errlen;
};

/* Apply one --name[=value] option; *i advances past a separate value. */
static int one_option(struct arg_walk *w, int argc, char **argv, int *i)
{
	const char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
	const struct sn_opt *o = find_opt(w->opts, name, nlen);
	const struct sn_opt *co = o ? NULL : find_opt(common_opts, name, nlen);
	const char *val = eq ? eq + 1 : NULL;
	char why[256] = "";
	int rc;

	if (!o && !co) {
		snprintf(w->err, w->errlen, "%s: --%.*s: unknown option",
			 w->cfg->prog, (int)nlen, name);
		return -1;
	}
	if (!o)
		o = co;
	if (o->arg == SN_OPT_NONE && val) {
		snprintf(w->err, w->errlen, "%s: --%s: takes no value", w->cfg->prog, o->name);
		return -1;
	}
	if (o->arg == SN_OPT_REQUIRED && !val) {
		if (*i + 1 >= argc) {
			snprintf(w->err, w->errlen, "%s: --%s: missing value", w->cfg->prog, o->name);
			return -1;
		}
		val = argv[++*i];
	}
	if (co && !strcmp(co->name, "help"))
		return 1;
	if (co && !strcmp(co->name, "version"))
		return 2;
	rc = co ? (sn_parse_common(w->cfg, co->name, val, why, sizeof(why)) < 0 ? -1 : 0)
		: w->handler(w->ctx, o, val, why, sizeof(why));
	if (rc) {
		snprintf(w->err, w->errlen, "%s: --%s: %s", w->cfg->prog, o->name,
			 why[0] ? why : "invalid value");
		return -1;
	}
	return 0;
}

static int positional(struct arg_walk *w, const char *arg)
{
	char why[256] = "";

	if (!w->handler || w->handler(w->ctx, NULL, arg, why, sizeof(why))) {
		snprintf(w->err, w->errlen, "%s: '%s': %s", w->cfg->prog, arg,
			 why[0] ? why : "unexpected argument");
		return -1;
	}
	return 0;
}

int sn_parse_args(struct sn_config *cfg, int argc, char **argv,
		  const struct sn_opt *opts, sn_opt_handler handler, void *ctx,
		  const char *usage, char *err, size_t errlen)
{
	struct arg_walk w = { cfg, opts, handler, ctx, err, errlen };
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h")) {
			print_help(cfg, opts, usage);
			return 1;
		}
		if (strncmp(argv[i], "--", 2) || !argv[i][2]) {
			if (positional(&w, argv[i]))
				return -1;
			continue;
		}
		rc = one_option(&w, argc, argv, &i);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			print_help(cfg, opts, usage);
			return 1;
		}
		if (rc == 2) {
			printf("%s sealnet %s\n", cfg->prog, SN_VERSION);
			return 1;
		}
	}
	return check_config(cfg, err, errlen);
}
