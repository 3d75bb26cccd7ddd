/*
 * EAL start-up from a program's options: the device as a vdev (or a PCI
 * allow-list entry), the main lcore, a file prefix of the instance's own so
 * two run side by side, and huge pages.
 *
 * Memory: --in-memory keeps no runtime files or hugepage files behind, so a
 * killed instance leaves nothing to clean. Huge pages are reserved when
 * running as root and too few are free (and given back at stop); otherwise
 * the EAL runs with --no-huge.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "sn_dev.h"

#define NR_HUGE "/proc/sys/vm/nr_hugepages"
#define FREE_HUGE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
/* 2 MiB pages per instance: lwIP heap (128 MiB), mbuf pools (about 90 MiB
 * at 1500 MTU, 160 MiB for jumbo frames) and the EAL's own. */
#define HUGE_PAGES_NEEDED 256
#define NO_HUGE_MB "1024"

static long huge_added;
static int eal_up;

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* 1 when enough 2 MiB pages are free (reserving more if we may). */
static int huge_pages_ready(void)
{
	long free_pages = read_long(FREE_HUGE), total = read_long(NR_HUGE);
	const char *env = getenv("SN_HUGE");

	/* SN_HUGE=0 forces --no-huge (tests of that path, hosts without
	 * huge pages to spare). */
	if (env && !strcmp(env, "0"))
		return 0;
	if (free_pages < 0 || total < 0)
		return 0;
	if (free_pages >= HUGE_PAGES_NEEDED)
		return 1;
	if (geteuid() != 0)
		return 0;
	if (write_long(NR_HUGE, total + HUGE_PAGES_NEEDED - free_pages) < 0)
		return 0;
	huge_added = read_long(NR_HUGE) - total;
	if (huge_added < 0)
		huge_added = 0;
	return read_long(FREE_HUGE) >= HUGE_PAGES_NEEDED;
}

static void huge_pages_release(void)
{
	long total;

	if (huge_added <= 0)
		return;
	total = read_long(NR_HUGE);
	if (total >= huge_added)
		write_long(NR_HUGE, total - huge_added);
	huge_added = 0;
}

static int dev_args(const struct sn_dev_spec *d, char *buf, size_t len,
		    const char **flag)
{
	*flag = "--vdev";
	switch (d->kind) {
	case SN_DEV_TAP:
		return snprintf(buf, len, "net_tap0,iface=%s", d->arg);
	case SN_DEV_MEMIF:
		return snprintf(buf, len,
				"net_memif0,role=%s,socket=%s,socket-abstract=no",
				d->server ? "server" : "client", d->arg);
	case SN_DEV_VHOST:
		return snprintf(buf, len, "net_vhost0,iface=%s,queues=1", d->arg);
	case SN_DEV_VIRTIO:
		return snprintf(buf, len,
				"virtio_user0,path=%s,queues=1,queue_size=1024",
				d->arg);
	case SN_DEV_PCI:
		*flag = "-a";
		return snprintf(buf, len, "%s", d->arg);
	case SN_DEV_NULL:
		return snprintf(buf, len, "net_null0");
	}
	return -1;
}

int sn_eal_start(const struct sn_eal_conf *c, char *err, size_t errlen)
{
	char lcore[16], prefix[64], devbuf[SN_DEV_ARG_MAX + 96];
	const char *argv[24], *devflag, *log = getenv("SN_LOG_LEVEL");
	int argc = 0, rc;

	if (dev_args(c->dev, devbuf, sizeof(devbuf), &devflag) >= (int)sizeof(devbuf)) {
		snprintf(err, errlen, "device argument too long");
		return -1;
	}
	snprintf(lcore, sizeof(lcore), "%d", c->lcore);
	snprintf(prefix, sizeof(prefix), "sn%d", (int)getpid());
	argv[argc++] = c->prog ? c->prog : "sealnet";
	argv[argc++] = "-l";
	argv[argc++] = lcore;
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "--log-level";
	argv[argc++] = log ? log : "warning";
	if (huge_pages_ready()) {
		argv[argc++] = "--in-memory";
		/* One file (memfd) per memory segment list: a vhost-user back
		 * end maps at most 8 regions, and page-sized segments overflow
		 * that. */
		argv[argc++] = "--single-file-segments";
	} else {
		/* --no-huge is legacy memory, which --in-memory refuses; no
		 * shared config keeps runtime files away all the same. */
		argv[argc++] = "--no-huge";
		argv[argc++] = "--no-shconf";
		argv[argc++] = "-m";
		argv[argc++] = NO_HUGE_MB;
	}
	if (c->dev->kind != SN_DEV_PCI) {
		argv[argc++] = "--no-pci";
		/* Virtual ports use virtual addresses: then lwIP's heap buffers
		 * can be handed to them without a copy (stack/sn_pbuf.c). */
		argv[argc++] = "--iova-mode=va";
	}
	argv[argc++] = devflag;
	argv[argc++] = devbuf;
	argv[argc] = NULL;

	rc = rte_eal_init(argc, (char **)argv);
	if (rc < 0) {
		snprintf(err, errlen, "DPDK EAL start failed: %s%s",
			 rte_strerror(rte_errno),
			 huge_added == 0 && geteuid() != 0 ?
			 " (not root: reserve huge pages in " NR_HUGE " or run as root)" : "");
		huge_pages_release();
		return -1;
	}
	eal_up = 1;
	return 0;
}

void sn_eal_stop(void)
{
	if (eal_up)
		rte_eal_cleanup();
	eal_up = 0;
	huge_pages_release();
}
