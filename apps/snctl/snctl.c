/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * snctl: talk to a running sealnet program through its control socket
 * (/run/sealnet/PROG.PID.sock, or $SN_RUNDIR).
 *
 *   snctl list                         running programs
 *   snctl [--pid PID | --sock PATH] COMMAND [ARGS...]
 *   snctl capture start FILE [MAX_MB] | capture stop | capture status
 *
 * With neither --pid nor --sock, the one running program is used. The
 * exit status is 0 when the program answered "ok", 1 on an error answer,
 * 2 for a usage error, 3 when no program could be reached.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

static const char *run_dir(void)
{
	const char *d = getenv("SN_RUNDIR");

	return d && *d ? d : "/run/sealnet";
}

static int usage(void)
{
	fprintf(stderr, "usage: snctl list\n"
		"       snctl [--pid PID | --sock PATH] COMMAND [ARGS...]\n"
		"commands: help, stats, capture start FILE [MAX_MB] | stop | status\n"
		"          (more with IPsec: see 'snctl help')\n");
	return 2;
}

/* Sockets in the run folder whose program is still alive. */
static int find_sockets(char found[][512], int max, const char *pid)
{
	DIR *d = opendir(run_dir());
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		const char *dot = strrchr(e->d_name, '.');
		char *p, want[32];
		long id;

		if (!dot || strcmp(dot, ".sock"))
			continue;
		p = strchr(e->d_name, '.');
		id = p ? strtol(p + 1, NULL, 10) : 0;
		if (id <= 0 || kill((pid_t)id, 0) < 0)
			continue;
		snprintf(want, sizeof(want), "%ld", id);
		if (pid && strcmp(pid, want))
			continue;
		snprintf(found[n++], 512, "%s/%s", run_dir(), e->d_name);
	}
	closedir(d);
	return n;
}

static int talk(const char *path, int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[LINE_MAX_LEN] = "", buf[4096], last[256] = "";
	size_t off = 0;
	ssize_t n;
	int fd;

	for (int i = 0; i < argc; i++)
		off += (size_t)snprintf(line + off, off < sizeof(line) ? sizeof(line) - off : 0,
					i ? " '%s'" : "%s", argv[i]);
	if (off + 1 >= sizeof(line)) {
		fprintf(stderr, "snctl: command longer than %d bytes\n", LINE_MAX_LEN);
		return 2;
	}
	line[off++] = '\n';
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "snctl: %s: %s\n", path, strerror(errno));
		return 3;
	}
	if (write(fd, line, off) != (ssize_t)off) {
		fprintf(stderr, "snctl: %s: write failed\n", path);
		close(fd);
		return 3;
	}
	shutdown(fd, SHUT_WR);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		snprintf(last, sizeof(last), "%.*s", (int)(n > 255 ? 255 : n), buf + (n > 255 ? n - 255 : 0));
	}
	close(fd);
	return strstr(last, "ok\n") && (strlen(last) == 3 || strstr(last, "\nok\n")) ? 0 : 1;
}

/* `capture start FILE`: the program writes FILE from its own working
 * folder, so a relative name is made absolute here, where the user is. */
static char capture_path[PATH_MAX + 1];

static void capture_absolute(int argc, char **argv)
{
	char cwd[PATH_MAX];

	if (argc < 3 || strcmp(argv[0], "capture") || strcmp(argv[1], "start") ||
	    argv[2][0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return;
	if ((size_t)snprintf(capture_path, sizeof(capture_path), "%s/%s", cwd, argv[2]) <
	    sizeof(capture_path))
		argv[2] = capture_path;
}

int main(int argc, char **argv)
{
	char found[16][512];
	const char *pid = NULL, *sock = NULL;
	int i = 1, n;

	if (argc > 1 && !strcmp(argv[1], "-h"))
		return usage() == 2 ? 0 : 0;
	for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--help"))
			return usage() == 2 ? 0 : 0;
		if (!strcmp(argv[i], "--version")) {
			printf("snctl sealnet %s\n", SN_VERSION);   /* the Makefile's VERSION */
			return 0;
		}
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--pid"))
			pid = argv[i + 1];
		else if (!strcmp(argv[i], "--sock"))
			sock = argv[i + 1];
		else {
			fprintf(stderr, "snctl: %s: unknown option\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc)
		return usage();
	n = find_sockets(found, 16, pid);
	if (!strcmp(argv[i], "list")) {
		for (int k = 0; k < n; k++)
			printf("%s\n", found[k]);
		return 0;
	}
	capture_absolute(argc - i, argv + i);
	if (sock)
		return talk(sock, argc - i, argv + i);
	if (n != 1) {
		fprintf(stderr, "snctl: %s; use --pid or --sock (see 'snctl list')\n",
			n ? "several sealnet programs are running" : "no sealnet program is running");
		return 3;
	}
	return talk(found[0], argc - i, argv + i);
}
