/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing of --dev values: pure, no EAL needed. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sn_dev.h"

#define IFNAME_MAX 15   /* IFNAMSIZ - 1 */
#define PATH_MAX_UNIX 107 /* sizeof(sun_path) - 1 */

static int fail(char *err, size_t errlen, const char *msg, const char *arg)
{
	snprintf(err, errlen, msg, arg);
	return -1;
}

static int check_ifname(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n > IFNAME_MAX)
		return fail(err, errlen, "interface name '%s' must be 1-15 characters", s);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-.", s[i]))
			return fail(err, errlen, "interface name '%s' has a character other than letters, digits, '_', '-', '.'", s);
	return 0;
}

/* Paths become DPDK device arguments, where ',' and '=' separate fields. */
static int check_path(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0)
		return fail(err, errlen, "%smissing socket path", "");
	if (n > PATH_MAX_UNIX)
		return fail(err, errlen, "socket path '%s' is longer than 107 bytes", s);
	if (strpbrk(s, ",= \t\n"))
		return fail(err, errlen, "socket path '%s' must not contain ',', '=' or spaces", s);
	return 0;
}

static int hexfield(const char *s, size_t n)
{
	if (strlen(s) < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* DDDD:BB:DD.F or BB:DD.F (domain 0). */
static int check_bdf(const char *s, char *err, size_t errlen)
{
	const char *p = s;

	if (hexfield(p, 4) && p[4] == ':')
		p += 5;
	if (!(hexfield(p, 2) && p[2] == ':' && hexfield(p + 3, 2) && p[5] == '.' &&
	      p[6] >= '0' && p[6] <= '7' && p[7] == '\0'))
		return fail(err, errlen, "PCI address '%s' is not DDDD:BB:DD.F", s);
	return 0;
}

static int copy_arg(struct sn_dev_spec *out, const char *s, size_t n,
		    char *err, size_t errlen)
{
	if (n >= sizeof(out->arg))
		return fail(err, errlen, "%sdevice argument too long", "");
	memcpy(out->arg, s, n);
	out->arg[n] = '\0';
	return 0;
}

static int parse_memif(const char *s, struct sn_dev_spec *out, char *err,
		       size_t errlen)
{
	const char *comma = strchr(s, ',');
	size_t n = comma ? (size_t)(comma - s) : strlen(s);

	if (copy_arg(out, s, n, err, errlen))
		return -1;
	out->server = false;
	if (comma) {
		if (!strcmp(comma + 1, "server"))
			out->server = true;
		else if (strcmp(comma + 1, "client"))
			return fail(err, errlen, "memif role '%s' is not server or client", comma + 1);
	}
	return check_path(out->arg, err, errlen);
}

int sn_dev_parse(const char *s, struct sn_dev_spec *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return fail(err, errlen, "%smissing device", "");
	if (!strcmp(s, "null")) {
		out->kind = SN_DEV_NULL;
		return 0;
	}
	if (!strncmp(s, "tap:", 4)) {
		out->kind = SN_DEV_TAP;
		return copy_arg(out, s + 4, strlen(s + 4), err, errlen) ||
		       check_ifname(out->arg, err, errlen) ? -1 : 0;
	}
	if (!strncmp(s, "memif:", 6)) {
		out->kind = SN_DEV_MEMIF;
		return parse_memif(s + 6, out, err, errlen);
	}
	if (!strncmp(s, "vhost:", 6) || !strncmp(s, "virtio:", 7)) {
		out->kind = s[1] == 'h' ? SN_DEV_VHOST : SN_DEV_VIRTIO;
		s = strchr(s, ':') + 1;
		return copy_arg(out, s, strlen(s), err, errlen) ||
		       check_path(out->arg, err, errlen) ? -1 : 0;
	}
	if (!strncmp(s, "pci:", 4)) {
		out->kind = SN_DEV_PCI;
		return copy_arg(out, s + 4, strlen(s + 4), err, errlen) ||
		       check_bdf(out->arg, err, errlen) ? -1 : 0;
	}
	return fail(err, errlen, "unknown device '%s' (expected tap:IF, memif:PATH[,server|client], vhost:PATH, virtio:PATH, pci:BDF or null)", s);
}
