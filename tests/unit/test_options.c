/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command-line options (api/options.c) and --dev values (dpdk/sn_dev.c):
 * pure parsing, no EAL. Numbered tables of good and bad values; every
 * error message names its option.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "sealnet/stack.h"
#include "sn_dev.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *repeat(char c, size_t n)
{
	static char buf[512];

	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ---- --dev ------------------------------------------------------------------ */

struct dev_case {
	const char *in;
	int ok;
	enum sn_dev_kind kind;
	const char *arg;
	bool server;
	const char *why;   /* part of the error message */
};

static const struct dev_case dev_cases[] = {
	/*  0 */ { "null", 1, SN_DEV_NULL, "", false, NULL },
	/*  1 */ { "tap:sn0", 1, SN_DEV_TAP, "sn0", false, NULL },
	/*  2 */ { "tap:a.b-c_D9", 1, SN_DEV_TAP, "a.b-c_D9", false, NULL },
	/*  3 */ { "tap:abcdefghijklmno", 1, SN_DEV_TAP, "abcdefghijklmno", false, NULL },
	/*  4 */ { "tap:abcdefghijklmnop", 0, 0, NULL, false, "1-15" },
	/*  5 */ { "tap:", 0, 0, NULL, false, "1-15" },
	/*  6 */ { "tap:bad/name", 0, 0, NULL, false, "character" },
	/*  7 */ { "tap:bad name", 0, 0, NULL, false, "character" },
	/*  8 */ { "tap:x;rm", 0, 0, NULL, false, "character" },
	/*  9 */ { "tap:a,b", 0, 0, NULL, false, "character" },
	/* 10 */ { "memif:/tmp/m.sock", 1, SN_DEV_MEMIF, "/tmp/m.sock", false, NULL },
	/* 11 */ { "memif:/tmp/m.sock,server", 1, SN_DEV_MEMIF, "/tmp/m.sock", true, NULL },
	/* 12 */ { "memif:/tmp/m.sock,client", 1, SN_DEV_MEMIF, "/tmp/m.sock", false, NULL },
	/* 13 */ { "memif:/tmp/m.sock,bogus", 0, 0, NULL, false, "server or client" },
	/* 14 */ { "memif:/tmp/m.sock,", 0, 0, NULL, false, "server or client" },
	/* 15 */ { "memif:/tmp/m.sock,server,x", 0, 0, NULL, false, "server or client" },
	/* 16 */ { "memif:", 0, 0, NULL, false, "missing socket path" },
	/* 17 */ { "memif:,server", 0, 0, NULL, false, "missing socket path" },
	/* 18 */ { "memif:/tmp/a=b", 0, 0, NULL, false, "must not contain" },
	/* 19 */ { "memif:/tmp/a b", 0, 0, NULL, false, "must not contain" },
	/* 20 */ { "vhost:/tmp/v.sock", 1, SN_DEV_VHOST, "/tmp/v.sock", false, NULL },
	/* 21 */ { "vhost:/tmp/a,b", 0, 0, NULL, false, "must not contain" },
	/* 22 */ { "vhost:/tmp/a=b", 0, 0, NULL, false, "must not contain" },
	/* 23 */ { "vhost:", 0, 0, NULL, false, "missing socket path" },
	/* 24 */ { "virtio:/dev/vhost-net", 1, SN_DEV_VIRTIO, "/dev/vhost-net", false, NULL },
	/* 25 */ { "virtio:/tmp/x,queues=2", 0, 0, NULL, false, "must not contain" },
	/* 26 */ { "virtio:", 0, 0, NULL, false, "missing socket path" },
	/* 27 */ { "pci:0000:03:00.0", 1, SN_DEV_PCI, "0000:03:00.0", false, NULL },
	/* 28 */ { "pci:03:00.0", 1, SN_DEV_PCI, "03:00.0", false, NULL },
	/* 29 */ { "pci:00ff:af:1f.7", 1, SN_DEV_PCI, "00ff:af:1f.7", false, NULL },
	/* 30 */ { "pci:0000:03:00.8", 0, 0, NULL, false, "PCI address" },
	/* 31 */ { "pci:0000:3:00.0", 0, 0, NULL, false, "PCI address" },
	/* 32 */ { "pci:03:00", 0, 0, NULL, false, "PCI address" },
	/* 33 */ { "pci:03:00.0x", 0, 0, NULL, false, "PCI address" },
	/* 34 */ { "pci:zz:00.0", 0, 0, NULL, false, "PCI address" },
	/* 35 */ { "pci:00000:03:00.0", 0, 0, NULL, false, "PCI address" },
	/* 36 */ { "pci:0000:03:0g.0", 0, 0, NULL, false, "PCI address" },
	/* 37 */ { "pci:00:00:00.0", 0, 0, NULL, false, "PCI address" },
	/* 38 */ { "pci:", 0, 0, NULL, false, "PCI address" },
	/* 39 */ { "", 0, 0, NULL, false, "missing device" },
	/* 40 */ { "bogus:x", 0, 0, NULL, false, "unknown device" },
	/* 41 */ { "nul", 0, 0, NULL, false, "unknown device" },
	/* 42 */ { "null:x", 0, 0, NULL, false, "unknown device" },
	/* 43 */ { "TAP:x", 0, 0, NULL, false, "unknown device" },
	/* 44 */ { "tap", 0, 0, NULL, false, "unknown device" },
};

Test(dev, parse_table)
{
	for (size_t i = 0; i < N(dev_cases); i++) {
		const struct dev_case *c = &dev_cases[i];
		struct sn_dev_spec spec;
		char err[256] = "";
		int rc = sn_dev_parse(c->in, &spec, err, sizeof(err));

		if (c->ok) {
			cr_expect_eq(rc, 0, "case %zu '%s': rejected: %s", i, c->in, err);
			cr_expect_eq(spec.kind, c->kind, "case %zu '%s': kind", i, c->in);
			cr_expect_str_eq(spec.arg, c->arg, "case %zu '%s': arg", i, c->in);
			cr_expect_eq(spec.server, c->server, "case %zu '%s': role", i, c->in);
		} else {
			cr_expect_eq(rc, -1, "case %zu '%s': accepted", i, c->in);
			cr_expect(strstr(err, c->why), "case %zu '%s': error '%s' lacks '%s'",
				  i, c->in, err, c->why);
		}
	}
}

/* sun_path holds 107 bytes and a NUL. */
Test(dev, socket_path_length_limit)
{
	char dev[600], err[256];
	struct sn_dev_spec spec;

	snprintf(dev, sizeof(dev), "memif:/%s", repeat('p', 106));
	cr_assert_eq(sn_dev_parse(dev, &spec, err, sizeof(err)), 0, "107 bytes: %s", err);
	cr_assert_eq(strlen(spec.arg), 107);
	snprintf(dev, sizeof(dev), "memif:/%s,server", repeat('p', 107));
	cr_assert_eq(sn_dev_parse(dev, &spec, err, sizeof(err)), -1, "108 bytes accepted");
	cr_assert(strstr(err, "107"), "error: %s", err);
	snprintf(dev, sizeof(dev), "vhost:/%s", repeat('v', 107));
	cr_assert_eq(sn_dev_parse(dev, &spec, err, sizeof(err)), -1, "108 bytes accepted");
	snprintf(dev, sizeof(dev), "virtio:/%s", repeat('v', 250));
	cr_assert_eq(sn_dev_parse(dev, &spec, err, sizeof(err)), -1, "251 bytes accepted");
}

Test(dev, parse_null_and_check)
{
	struct sn_dev_spec spec;
	char err[256] = "";

	cr_assert_eq(sn_dev_parse(NULL, &spec, err, sizeof(err)), -1);
	cr_assert_eq(sn_dev_check(NULL, err, sizeof(err)), -1);
	cr_assert_eq(sn_dev_check("null", err, sizeof(err)), 0);
	cr_assert_eq(sn_dev_check("tap:", err, sizeof(err)), -1);
	/* Longer than struct sn_config.dev can hold. */
	cr_assert_eq(sn_dev_check(repeat('x', SN_DEV_MAX), err, sizeof(err)), -1);
	cr_assert(strstr(err, "too long"), "error: %s", err);
}

/* A short error buffer is filled, terminated and not overrun. */
Test(dev, short_error_buffer)
{
	struct sn_dev_spec spec;
	char err[8 + 1];

	err[8] = 'Z';
	cr_assert_eq(sn_dev_parse("bogus:x", &spec, err, 8), -1);
	cr_assert_eq(strlen(err), 7);
	cr_assert_eq(err[8], 'Z');
}

/* ---- Common options one at a time ------------------------------------------------ */

struct opt_case {
	const char *name, *value;
	int rc;             /* sn_parse_common's return */
};

static const struct opt_case addr_cases[] = {
	/*  0 */ { "addr", "10.0.0.1/24", 1 },
	/*  1 */ { "addr", "10.0.0.1/32", 1 },
	/*  2 */ { "addr", "10.0.0.1/1", 1 },
	/*  3 */ { "addr", "fd00::1/64", 1 },
	/*  4 */ { "addr", "fd00::1/128", 1 },
	/*  5 */ { "addr", "2001:db8::1/8", 1 },
	/*  6 */ { "addr", "10.0.0.1", -1 },           /* missing prefix */
	/*  7 */ { "addr", "10.0.0.1/", -1 },
	/*  8 */ { "addr", "10.0.0.1/0", -1 },         /* prefix out of range */
	/*  9 */ { "addr", "10.0.0.1/33", -1 },
	/* 10 */ { "addr", "10.0.0.1/24x", -1 },
	/* 11 */ { "addr", "10.0.0.1/-1", -1 },
	/* 12 */ { "addr", "10.0.0.1/+24", -1 },
	/* 13 */ { "addr", "fd00::1/129", -1 },
	/* 14 */ { "addr", "fd00::1/7", -1 },
	/* 15 */ { "addr", "fd00::1", -1 },
	/* 16 */ { "addr", "224.0.0.1/24", -1 },       /* multicast */
	/* 17 */ { "addr", "239.255.255.250/24", -1 },
	/* 18 */ { "addr", "127.0.0.1/8", -1 },        /* loopback */
	/* 19 */ { "addr", "0.0.0.0/24", -1 },         /* unspecified */
	/* 20 */ { "addr", "255.255.255.255/24", -1 }, /* broadcast */
	/* 21 */ { "addr", "ff02::1/64", -1 },         /* multicast */
	/* 22 */ { "addr", "::1/128", -1 },            /* loopback */
	/* 23 */ { "addr", "::/64", -1 },              /* unspecified */
	/* 24 */ { "addr", "fe80::1/64", -1 },         /* link-local */
	/* 25 */ { "addr", "10.0.0.256/24", -1 },
	/* 26 */ { "addr", "hello/24", -1 },
	/* 27 */ { "addr", "", -1 },
	/* 28 */ { "addr", "/24", -1 },
	/* 29 */ { "addr", "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa/64", -1 },
	/* 30 */ { "gw", "10.0.0.254", 1 },
	/* 31 */ { "gw", "fd00::fe", 1 },
	/* 32 */ { "gw", "10.0.0.254/24", -1 },
	/* 33 */ { "gw", "224.0.0.1", -1 },
	/* 34 */ { "gw", "garbage", -1 },
	/* 35 */ { "gw", "", -1 },
	/* 36 */ { "mtu", "575", -1 },
	/* 37 */ { "mtu", "576", 1 },
	/* 38 */ { "mtu", "1500", 1 },
	/* 39 */ { "mtu", "9000", 1 },
	/* 40 */ { "mtu", "9001", -1 },
	/* 41 */ { "mtu", "abc", -1 },
	/* 42 */ { "mtu", "", -1 },
	/* 43 */ { "mtu", "-1500", -1 },
	/* 44 */ { "mtu", "+1500", -1 },
	/* 45 */ { "mtu", "1500x", -1 },
	/* 46 */ { "mtu", " +1500", -1 },           /* as strict as "+1500" */
	/* 47 */ { "mtu", "99999999999999999999999", -1 },
	/* 48 */ { "mtu", "65536", -1 },              /* would wrap a uint16_t */
	/* 49 */ { "lcore", "0", 1 },                /* CPU 0: this test runs pinned to it (below) */
	/* 50 */ { "lcore", "1023", -1 },             /* a CPU this machine does not give us */
	/* 51 */ { "lcore", "1024", -1 },
	/* 52 */ { "lcore", "x", -1 },
	/* 53 */ { "stats", NULL, 1 },
	/* 54 */ { "dev", "null", 1 },
	/* 55 */ { "dev", "tap:", -1 },
	/* 56 */ { "port", "80", 0 },                 /* not a common option */
	/* 57 */ { "help", NULL, 0 },
};

/* The table's lcore rows assume the process may run on CPU 0 only. */
static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

Test(common, value_table, .init = pin_cpu0)
{
	for (size_t i = 0; i < N(addr_cases); i++) {
		const struct opt_case *c = &addr_cases[i];
		struct sn_config cfg;
		char err[256] = "";
		int rc;

		sn_config_init(&cfg, "prog");
		rc = sn_parse_common(&cfg, c->name, c->value, err, sizeof(err));
		cr_expect_eq(rc, c->rc, "case %zu --%s '%s': %d, expected %d (%s)", i,
			     c->name, c->value ? c->value : "(null)", rc, c->rc, err);
		if (rc < 0)
			cr_expect(err[0], "case %zu: no error message", i);
	}
}

Test(common, values_are_stored, .init = pin_cpu0)
{
	struct sn_config cfg;
	char err[256];

	sn_config_init(&cfg, "prog");
	cr_assert_eq(cfg.mtu, 1500);
	cr_assert_eq(sn_parse_common(&cfg, "addr", "10.1.2.3/16", err, sizeof(err)), 1);
	cr_assert_eq(sn_parse_common(&cfg, "addr", "fd00::7/64", err, sizeof(err)), 1);
	cr_assert_eq(sn_parse_common(&cfg, "gw", "10.1.0.1", err, sizeof(err)), 1);
	cr_assert_eq(sn_parse_common(&cfg, "gw", "fd00::1", err, sizeof(err)), 1);
	cr_assert_eq(sn_parse_common(&cfg, "mtu", "9000", err, sizeof(err)), 1);
	cr_assert_eq(sn_parse_common(&cfg, "lcore", "0", err, sizeof(err)), 1);
	cfg.lcore = 3;
	cr_assert_eq(sn_parse_common(&cfg, "stats", NULL, err, sizeof(err)), 1);
	cr_assert_eq(sn_parse_common(&cfg, "dev", "tap:sn0", err, sizeof(err)), 1);
	cr_assert_eq(cfg.naddrs, 2);
	cr_assert_eq(cfg.addrs[0].family, AF_INET);
	cr_assert_eq(cfg.addrs[0].addr.v4.s_addr, htonl(0x0a010203));
	cr_assert_eq(cfg.addrs[0].prefix, 16);
	cr_assert_eq(cfg.addrs[1].family, AF_INET6);
	cr_assert_eq(cfg.addrs[1].prefix, 64);
	cr_assert_eq(cfg.addrs[1].addr.v6.s6_addr[15], 7);
	cr_assert_eq(cfg.gw4.family, AF_INET);
	cr_assert_eq(cfg.gw4.addr.v4.s_addr, htonl(0x0a010001));
	cr_assert_eq(cfg.gw6.family, AF_INET6);
	cr_assert_eq(cfg.mtu, 9000);
	cr_assert_eq(cfg.lcore, 3);
	cr_assert(cfg.stats);
	cr_assert_str_eq(cfg.dev, "tap:sn0");
}

Test(common, one_ipv4_address)
{
	struct sn_config cfg;
	char err[256];

	sn_config_init(&cfg, "prog");
	cr_assert_eq(sn_parse_common(&cfg, "addr", "10.0.0.1/24", err, sizeof(err)), 1);
	cr_assert_eq(sn_parse_common(&cfg, "addr", "10.0.0.2/24", err, sizeof(err)), -1);
	cr_assert(strstr(err, "one IPv4"), "error: %s", err);
	cr_assert_eq(cfg.naddrs, 1);
}

Test(common, at_most_max_addresses)
{
	struct sn_config cfg;
	char err[256], a[64];

	sn_config_init(&cfg, "prog");
	cr_assert_eq(sn_parse_common(&cfg, "addr", "10.0.0.1/24", err, sizeof(err)), 1);
	for (int i = 1; i < SN_MAX_ADDRS; i++) {
		snprintf(a, sizeof(a), "fd00::%d/64", i);
		cr_assert_eq(sn_parse_common(&cfg, "addr", a, err, sizeof(err)), 1, "%s: %s", a, err);
	}
	cr_assert_eq(cfg.naddrs, SN_MAX_ADDRS);
	cr_assert_eq(sn_parse_common(&cfg, "addr", "fd00::99/64", err, sizeof(err)), -1);
	cr_assert(strstr(err, "at most"), "error: %s", err);
	cr_assert_eq(cfg.naddrs, SN_MAX_ADDRS);
}

/* sn_parse_common is public ("for tests and for snctl"): a missing value
 * is a bad value and must fail with a message, not crash. */
static void expect_missing_value_fails(const char *name)
{
	struct sn_config cfg;
	char err[256] = "";

	sn_config_init(&cfg, "prog");
	cr_expect_eq(sn_parse_common(&cfg, name, NULL, err, sizeof(err)), -1,
		     "--%s without a value accepted", name);
	cr_expect(err[0], "--%s: no message", name);
}

Test(common, missing_value_dev_mtu_lcore)
{
	expect_missing_value_fails("dev");
	expect_missing_value_fails("mtu");
	expect_missing_value_fails("lcore");
}

Test(common, missing_value_addr)
{
	expect_missing_value_fails("addr");
}

Test(common, missing_value_gw)
{
	expect_missing_value_fails("gw");
}

/* ---- Whole command lines ---------------------------------------------------------------- */

enum { OPT_PORT = 1, OPT_VERBOSE, OPT_LEVEL };

static const struct sn_opt prog_opts[] = {
	{ "port", SN_OPT_REQUIRED, OPT_PORT, "N   port" },
	{ "verbose", SN_OPT_NONE, OPT_VERBOSE, "more output" },
	{ "level", SN_OPT_OPTIONAL, OPT_LEVEL, "[=N]   level" },
	{ NULL, 0, 0, NULL },
};

struct seen {
	int port_calls, verbose_calls, level_calls;
	char port[32], level[32];
	bool level_null, verbose_null;
	char positional[4][32];
	int npos;
};

static int handler(void *ctx, const struct sn_opt *opt, const char *value,
		   char *err, size_t errlen)
{
	struct seen *s = ctx;

	if (!opt) {
		if (!strcmp(value, "reject"))
			return snprintf(err, errlen, "not wanted"), -1;
		if (s->npos < 4)
			snprintf(s->positional[s->npos++], 32, "%s", value);
		return 0;
	}
	switch (opt->id) {
	case OPT_PORT:
		s->port_calls++;
		snprintf(s->port, sizeof(s->port), "%s", value);
		if (atoi(value) >= 100)
			return snprintf(err, errlen, "must be below 100"), -1;
		if (!strcmp(value, "0"))
			return -1;   /* no reason given */
		return 0;
	case OPT_VERBOSE:
		s->verbose_calls++;
		s->verbose_null = value == NULL;
		return 0;
	case OPT_LEVEL:
		s->level_calls++;
		s->level_null = value == NULL;
		snprintf(s->level, sizeof(s->level), "%s", value ? value : "");
		return 0;
	}
	return -1;
}

#define MAXARGS 16

/* Parse a command line given as one string (split at spaces). */
static int parse(const char *line, struct sn_config *cfg, struct seen *seen,
		 char *err, size_t errlen)
{
	static char buf[1024];
	char *argv[MAXARGS + 1];
	int argc = 0;

	snprintf(buf, sizeof(buf), "prog %s", line);
	for (char *t = strtok(buf, " "); t && argc < MAXARGS; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	memset(seen, 0, sizeof(*seen));
	sn_config_init(cfg, "prog");
	err[0] = '\0';
	return sn_parse_args(cfg, argc, argv, prog_opts, handler, seen, "[options]",
			     err, errlen);
}

struct line_case {
	const char *line;
	int rc;
	const char *err;    /* exact message for rc -1 */
};

#define BASE "--dev null --addr 10.0.0.1/24 "

static const struct line_case line_cases[] = {
	/*  0 */ { BASE, 0, NULL },
	/*  1 */ { "--dev=null --addr=10.0.0.1/24", 0, NULL },
	/*  2 */ { BASE "--mtu", -1, "prog: --mtu: missing value" },
	/*  3 */ { BASE "--bogus", -1, "prog: --bogus: unknown option" },
	/*  4 */ { BASE "--bogus=1", -1, "prog: --bogus: unknown option" },
	/*  5 */ { BASE "--stats=1", -1, "prog: --stats: takes no value" },
	/*  6 */ { BASE "--verbose=1", -1, "prog: --verbose: takes no value" },
	/*  7 */ { "--addr 10.0.0.1/24", -1, "prog: --dev: required" },
	/*  8 */ { "--dev null", -1, "prog: --addr: at least one address is required" },
	/*  9 */ { BASE "--mtu 9001", -1, "prog: --mtu: '9001' is not a number in 576-9000" },
	/* 10 */ { BASE "--mtu=575", -1, "prog: --mtu: '575' is not a number in 576-9000" },
	/* 11 */ { BASE "--mtu=", -1, "prog: --mtu: '' is not a number in 576-9000" },
	/* 12 */ { "--dev null --addr fd00::1/64 --mtu 1279", -1, "prog: --mtu: IPv6 needs at least 1280" },
	/* 13 */ { "--dev null --addr fd00::1/64 --mtu 1280", 0, NULL },
	/* 14 */ { "--dev null --addr 10.0.0.1/24 --mtu 576", 0, NULL },
	/* 15 */ { BASE "--port 100", -1, "prog: --port: must be below 100" },
	/* 16 */ { BASE "--port=0", -1, "prog: --port: invalid value" },
	/* 17 */ { BASE "--port", -1, "prog: --port: missing value" },
	/* 18 */ { BASE "reject", -1, "prog: 'reject': not wanted" },
	/* 19 */ { "--dev tap: --addr 10.0.0.1/24", -1, "prog: --dev: interface name '' must be 1-15 characters" },
	/* 20 */ { BASE "--addr 10.0.0.2/24", -1, "prog: --addr: only one IPv4 address is supported" },
	/* 21 */ { BASE "--addr 10.0.0.2", -1, "prog: --addr: '10.0.0.2' is not IP/PREFIX" },
	/* 22 */ { BASE "--addr fd00::1/200", -1, "prog: --addr: bad prefix length '200'" },
	/* 23 */ { BASE "--addr fe80::1/64", -1, "prog: --addr: 'fe80::1' is not a usable unicast address" },
	/* 24 */ { BASE "--gw 10.0.0.0/8", -1, "prog: --gw: '10.0.0.0/8' is not a usable unicast address" },
	/* 25 */ { BASE "--lcore 5000", -1, "prog: --lcore: '5000' is not a number in 0-1023" },
	/* 26 */ { BASE "--help", 1, NULL },
	/* 27 */ { "--help", 1, NULL },     /* before the checks of a full config */
	/* 28 */ { BASE "--help=x", -1, "prog: --help: takes no value" },
	/* 29 */ { BASE "--=1", -1, "prog: --: unknown option" },
	/* 30 */ { BASE "-h", 1, NULL },
	/* 31 */ { "-h", 1, NULL },
	/* 32 */ { "--version", 1, NULL },
	/* 33 */ { BASE "--version=1", -1, "prog: --version: takes no value" },
	/* 34 */ { BASE "--lcore 99", -1,
		   "prog: --lcore: CPU 99 is not one this process may run on (1 allowed; see nproc, taskset -p)" },
	/* 35 */ { BASE "--lcore 0", 0, NULL },
	/* 36 */ { BASE "--peer-name 10.0.0.2=a.example", -1, "prog: --peer-name: needs --secure" },
	/* 37 */ { BASE "--peer-name 10.0.0.2=a.example --secure", 0, NULL },
};

static void pin_cpu0_quiet(void)
{
	pin_cpu0();
	cr_redirect_stdout();
}

/* Each line parses to its rc, with exactly its message when it fails. */
static void expect_lines(const struct line_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct line_case *c = &t[i];
		struct sn_config cfg;
		struct seen seen;
		char err[256];
		int rc = parse(c->line, &cfg, &seen, err, sizeof(err));

		cr_expect_eq(rc, c->rc, "case %zu '%s': %d, expected %d (%s)", i, c->line,
			     rc, c->rc, err);
		if (c->rc == -1 && rc == -1)
			cr_expect_str_eq(err, c->err, "case %zu '%s'", i, c->line);
	}
}

Test(args, line_table, .init = pin_cpu0_quiet)
{
	expect_lines(line_cases, N(line_cases));
}

Test(args, program_options_reach_the_handler)
{
	struct sn_config cfg;
	struct seen s;
	char err[256];

	cr_assert_eq(parse(BASE "--port 42 --verbose --level file1 --level=7 file2",
			   &cfg, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.port_calls, 1);
	cr_assert_str_eq(s.port, "42");
	cr_assert_eq(s.verbose_calls, 1);
	cr_assert(s.verbose_null);
	cr_assert_eq(s.level_calls, 2);
	cr_assert_str_eq(s.level, "7");
	/* An optional value comes only with '=': "file1" is positional. */
	cr_assert_eq(s.npos, 2);
	cr_assert_str_eq(s.positional[0], "file1");
	cr_assert_str_eq(s.positional[1], "file2");
	cr_assert_str_eq(cfg.dev, "null");

	cr_assert_eq(parse(BASE "--port=43 --level", &cfg, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.port, "43");
	cr_assert(s.level_null);
}

Test(args, positional_without_handler_is_an_error)
{
	struct sn_config cfg;
	char err[256];
	char *argv[] = { "prog", "--dev", "null", "--addr", "10.0.0.1/24", "extra", NULL };

	sn_config_init(&cfg, "prog");
	cr_assert_eq(sn_parse_args(&cfg, 6, argv, NULL, NULL, NULL, NULL, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "prog: 'extra': unexpected argument");
}

Test(args, help_prints_every_option, .init = cr_redirect_stdout)
{
	struct sn_config cfg;
	struct seen s;
	char err[256];

	cr_assert_eq(parse("--help", &cfg, &s, err, sizeof(err)), 1);
	fflush(stdout);
	cr_assert_stdout_neq_str("");
}

Test(args, short_help_prints_usage, .init = cr_redirect_stdout)
{
	struct sn_config cfg;
	struct seen s;
	char err[256];

	char line[256] = "";
	FILE *out;

	cr_assert_eq(parse("-h", &cfg, &s, err, sizeof(err)), 1);
	fflush(stdout);
	out = cr_get_redirected_stdout();
	cr_assert(fgets(line, sizeof(line), out));
	cr_assert_str_eq(line, "usage: prog [options]\n");
}

Test(args, version_names_program_and_sealnet, .init = cr_redirect_stdout)
{
	struct sn_config cfg;
	struct seen s;
	char err[256], want[64];

	cr_assert_eq(parse("--version", &cfg, &s, err, sizeof(err)), 1);
	fflush(stdout);
	snprintf(want, sizeof(want), "prog sealnet %s\n", SN_VERSION);
	cr_assert_stdout_eq_str(want);
}

/* The default is the first CPU the process may run on, not CPU 0 blindly. */
Test(common, default_lcore_is_an_allowed_cpu)
{
	struct sn_config cfg;
	cpu_set_t set;
	int last = -1;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			last = i;
	CPU_ZERO(&set);
	CPU_SET(last, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
	sn_config_init(&cfg, "prog");
	cr_assert_eq(cfg.lcore, last);
}

Test(args, the_value_after_an_option_is_taken_as_is)
{
	struct sn_config cfg;
	struct seen s;
	char err[256];

	/* "--port --verbose": --verbose is --port's value (as getopt does). */
	cr_assert_eq(parse(BASE "--port --verbose", &cfg, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(s.port, "--verbose");
	cr_assert_eq(s.verbose_calls, 0);
}

/* ---- --pcap, --pcap-max ------------------------------------------------------- */

static const struct line_case pcap_cases[] = {
	/*  0 */ { BASE "--pcap /tmp/x.pcapng", 0, NULL },
	/*  1 */ { BASE "--pcap=rel.pcapng --pcap-max 0", 0, NULL },
	/*  2 */ { BASE "--pcap-max 1048576", 0, NULL },
	/*  3 */ { BASE "--pcap", -1, "prog: --pcap: missing value" },
	/*  4 */ { BASE "--pcap=", -1, "prog: --pcap: file name empty or longer than 255 bytes" },
	/*  5 */ { BASE "--pcap-max", -1, "prog: --pcap-max: missing value" },
	/*  6 */ { BASE "--pcap-max 1048577", -1, "prog: --pcap-max: '1048577' is not a number in 0-1048576" },
	/*  7 */ { BASE "--pcap-max -1", -1, "prog: --pcap-max: '-1' is not a number in 0-1048576" },
	/*  8 */ { BASE "--pcap-max 10MB", -1, "prog: --pcap-max: '10MB' is not a number in 0-1048576" },
};

Test(pcap, line_table, .init = cr_redirect_stdout)
{
	expect_lines(pcap_cases, N(pcap_cases));
}

Test(pcap, values_are_stored)
{
	struct sn_config cfg;
	struct seen seen;
	char err[256];

	cr_assert_eq(parse(BASE, &cfg, &seen, err, sizeof(err)), 0);
	cr_expect_str_eq(cfg.pcap, "", "no capture unless asked");
	cr_expect_eq(cfg.pcap_max_mb, 100, "default limit 100 MB");
	cr_assert_eq(parse(BASE "--pcap /tmp/a.pcapng --pcap-max 7", &cfg, &seen, err,
			   sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(cfg.pcap, "/tmp/a.pcapng");
	cr_expect_eq(cfg.pcap_max_mb, 7);
	cr_assert_eq(parse(BASE "--pcap-max=0", &cfg, &seen, err, sizeof(err)), 0);
	cr_expect_eq(cfg.pcap_max_mb, 0, "0 = no limit");
}

Test(pcap, help_lists_both)
{
	struct sn_config cfg;
	struct seen seen;
	char err[256], out[8192] = "";
	FILE *f = tmpfile();
	int saved = dup(1);
	size_t n;

	cr_assert(f && saved >= 0);
	fflush(stdout);
	dup2(fileno(f), 1);
	cr_assert_eq(parse("--help", &cfg, &seen, err, sizeof(err)), 1);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	cr_expect(strstr(out, "--pcap ") && strstr(out, "--pcap-max"), "help: %s", out);
}
