/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL start-up from a program's options: the device as a vdev (or a PCI
 * allow-list entry), the main lcore, a file prefix of the instance's own so
 * two run side by side, and huge pages.
 *
 * Memory: --in-memory keeps no hugepage files behind. Huge pages are
 * reserved when running as root and too few are free (and given back at
 * stop); otherwise the EAL runs with --no-huge. What a process added to
 * nr_hugepages is recorded in RUN_DIR/hugepages.PID, so that the next start
 * gives back what a killed process could not.
 *
 * The EAL still makes an (empty) runtime directory, /var/run/dpdk/snPID:
 * it is removed at stop, and those of dead processes at start.
 *
 * DPDK logs errors only unless SN_LOG_LEVEL says otherwise; a failed start
 * says to set it.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
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
/* Records of the huge pages each running process added (root only). */
#define RUN_DIR "/run/sealnet"
#define HUGE_RECORD RUN_DIR "/hugepages."
#define LOG_HINT "SN_LOG_LEVEL=debug shows DPDK's messages"

static long huge_added;
static int eal_up;
static char runtime_dir[256];

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

/* A process id from a name "PREFIX<digits>", or -1. */
static long pid_of(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long pid;

	if (strncmp(name, prefix, n) || name[n] < '1' || name[n] > '9')
		return -1;
	errno = 0;
	pid = strtol(name + n, &end, 10);
	return errno || *end || pid > 0x7fffffff ? -1 : pid;
}

static bool pid_gone(long pid)
{
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static void record_path(char *buf, size_t len, long pid)
{
	snprintf(buf, len, HUGE_RECORD "%ld", pid);
}

/* What this process added to nr_hugepages, for the next start to give
 * back if it dies without sn_eal_stop. Best effort: no record, no reclaim. */
static void huge_record(long pages)
{
	char path[64];

	record_path(path, sizeof(path), (long)getpid());
	if (pages <= 0) {
		unlink(path);
		return;
	}
	if (mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST)
		return;
	write_long(path, pages);
}

/* Give back the pages of one dead process's record. Whoever unlinks the
 * record first does it, so two processes starting at once never both do. */
static void huge_reclaim_one(const char *prog, const char *name, long pid)
{
	char path[300];
	long pages, total;

	snprintf(path, sizeof(path), RUN_DIR "/%s", name);
	pages = read_long(path);
	if (unlink(path) < 0 || pages <= 0)
		return;
	total = read_long(NR_HUGE);
	if (total < 0)
		return;
	write_long(NR_HUGE, total > pages ? total - pages : 0);
	fprintf(stderr, "%s: gave back %ld huge pages that process %ld reserved and did not release (it was killed)\n",
		prog, pages, pid);
}

static void huge_reclaim_dead(const char *prog)
{
	DIR *d = opendir(RUN_DIR);
	struct dirent *e;
	long pid;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		pid = pid_of(e->d_name, "hugepages.");
		if (pid > 0 && pid_gone(pid))
			huge_reclaim_one(prog, e->d_name, pid);
	}
	closedir(d);
}

/* Remove an EAL runtime directory: its files (none with --in-memory,
 * sockets otherwise), then itself. */
static void remove_runtime_dir(const char *dir)
{
	char path[600];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* The runtime directories next to ours of sealnet processes that are
 * gone: snPID (programs) and sntPID (unit tests). */
static void sweep_dead_runtime_dirs(void)
{
	char parent[256], path[600];
	char *slash;
	struct dirent *e;
	DIR *d;
	long pid;

	snprintf(parent, sizeof(parent), "%s", runtime_dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return;
	*slash = '\0';
	d = opendir(parent);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		pid = pid_of(e->d_name, "snt");
		if (pid < 0)
			pid = pid_of(e->d_name, "sn");
		if (pid < 0 || pid == (long)getpid() || !pid_gone(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		remove_runtime_dir(path);
	}
	closedir(d);
}

/* Pages to have free: HUGE_PAGES_NEEDED, or more when SN_HUGE_PAGES says
 * so (a test that must see a reservation made). */
static long pages_wanted(void)
{
	const char *env = getenv("SN_HUGE_PAGES");
	long n = env ? strtol(env, NULL, 10) : 0;

	return n > HUGE_PAGES_NEEDED && n < 1L << 20 ? n : HUGE_PAGES_NEEDED;
}

static void huge_pages_release(void);

/* 1 when enough 2 MiB pages are free (reserving more if we may). */
static int huge_pages_ready(const char *prog)
{
	long free_pages = read_long(FREE_HUGE), total = read_long(NR_HUGE);
	long want = pages_wanted();
	const char *env = getenv("SN_HUGE");

	/* SN_HUGE=0 forces --no-huge (tests of that path, hosts without
	 * huge pages to spare). */
	if (env && !strcmp(env, "0"))
		return 0;
	if (free_pages < 0 || total < 0)
		return 0;
	if (free_pages >= want)
		return 1;
	if (geteuid() != 0)
		return 0;
	/* Recorded before the write: a kill in between leaves a record
	 * that is at most too large, which the reclaim clamps. */
	huge_record(want - free_pages);
	if (write_long(NR_HUGE, total + want - free_pages) < 0) {
		huge_record(0);
		return 0;
	}
	huge_added = read_long(NR_HUGE) - total;
	if (huge_added < 0)
		huge_added = 0;
	huge_record(huge_added);
	free_pages = read_long(FREE_HUGE);
	if (free_pages >= want)
		return 1;
	/* The kernel found too few: give back what it did find. */
	huge_pages_release();
	fprintf(stderr, "%s: only %ld of %ld huge pages (2 MiB) free even after raising " NR_HUGE
		": running without huge pages (slower); reserve them early (sysctl vm.nr_hugepages, or hugepages= at boot)\n",
		prog, free_pages < 0 ? 0 : free_pages, want);
	return 0;
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
	huge_record(0);
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
	if (geteuid() == 0)
		huge_reclaim_dead(c->prog ? c->prog : "sealnet");
	snprintf(lcore, sizeof(lcore), "%d", c->lcore);
	snprintf(prefix, sizeof(prefix), "sn%d", (int)getpid());
	argv[argc++] = c->prog ? c->prog : "sealnet";
	argv[argc++] = "-l";
	argv[argc++] = lcore;
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc++] = "--log-level";
	argv[argc++] = log ? log : "error";
	if (!log && c->dev->kind == SN_DEV_TAP) {
		/* net_tap reports as errors what costs us nothing: no multiq
		 * qdisc in the kernel (rte_flow, unused here, is off) and no
		 * secondary process to tell about start (there are none). A
		 * TAP that cannot be made still fails the start, with the
		 * hint to set SN_LOG_LEVEL. */
		argv[argc++] = "--log-level";
		argv[argc++] = "pmd.net.tap:critical";
	}
	if (huge_pages_ready(c->prog ? c->prog : "sealnet")) {
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
		snprintf(err, errlen, "DPDK EAL start failed: %s%s%s",
			 rte_strerror(rte_errno),
			 huge_added == 0 && geteuid() != 0 ?
			 " (not root: reserve huge pages in " NR_HUGE " or run as root)" : "",
			 log ? "" : "; " LOG_HINT);
		/* Made before the failure, if it got that far. */
		if (rte_eal_get_runtime_dir()[0])
			remove_runtime_dir(rte_eal_get_runtime_dir());
		huge_pages_release();
		return -1;
	}
	eal_up = 1;
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	sweep_dead_runtime_dirs();
	return 0;
}

void sn_eal_stop(void)
{
	if (eal_up) {
		rte_eal_cleanup();
		if (runtime_dir[0])
			remove_runtime_dir(runtime_dir);
		runtime_dir[0] = '\0';
	}
	eal_up = 0;
	huge_pages_release();
}
