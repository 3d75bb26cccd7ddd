/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control channel `snctl` talks to: a Unix stream socket per running
 * program, /run/sealnet/PROG.PID.sock (SN_RUNDIR overrides the folder),
 * looked at from the poll loop every few milliseconds. One command line
 * in, a text answer out, then the connection closes.
 *
 * Commands are served on the lcore between two poll iterations, so a
 * handler may read stack state without locks. A slow or silent client is
 * cut off after SN_CTL_TIMEOUT_MS so the datapath never waits long.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sealnet/stack.h"
#include "sn_ctl.h"
#include "sn_capture.h"

#define SN_CTL_LINE_MAX 4096
#define SN_CTL_TIMEOUT_MS 200
#define SN_CTL_MAX_CMDS 16

struct ctl_cmd {
	const char *word;
	sn_ctl_fn fn;
	void *ctx;
	const char *help;
};

static int lfd = -1;
static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct ctl_cmd cmds[SN_CTL_MAX_CMDS];
static int ncmds;

static const char *run_dir(void)
{
	const char *d = getenv("SN_RUNDIR");

	return d && *d ? d : "/run/sealnet";
}

int sn_ctl_register(const char *word, sn_ctl_fn fn, void *ctx, const char *help)
{
	for (int i = 0; i < ncmds; i++)
		if (!strcmp(cmds[i].word, word)) {
			cmds[i] = (struct ctl_cmd){ word, fn, ctx, help };
			return 0;
		}
	if (ncmds == SN_CTL_MAX_CMDS)
		return -ENOSPC;
	cmds[ncmds++] = (struct ctl_cmd){ word, fn, ctx, help };
	return 0;
}

static int cmd_help(FILE *out, int argc, char **argv, void *ctx)
{
	for (int i = 0; i < ncmds; i++)
		fprintf(out, "%-10s %s\n", cmds[i].word, cmds[i].help);
	return 0;
}

static int cmd_stats(FILE *out, int argc, char **argv, void *ctx)
{
	sn_stats_print(out);
	return 0;
}

static void capture_status(FILE *out)
{
	static const char *const ifs[SN_CAPTURE_IF_MAX] = { "wire", "inner" };
	struct sn_capture_stats st;
	const char *p = sn_capture_path();

	sn_capture_get_stats(&st);
	fprintf(out, "capture %s%s: %s, %llu bytes\n", p ? p : "(none)",
		st.full ? " (limit reached)" : "", st.running ? "running" : "stopped",
		(unsigned long long)st.bytes);
	for (int i = 0; i < SN_CAPTURE_IF_MAX; i++)
		fprintf(out, "  %-5s seen %llu written %llu dropped %llu\n", ifs[i],
			(unsigned long long)st.ifs[i].seen,
			(unsigned long long)st.ifs[i].written,
			(unsigned long long)st.ifs[i].dropped);
}

/* capture start FILE [MAX_MB] | capture stop | capture [status] */
static int cmd_capture(FILE *out, int argc, char **argv, void *ctx)
{
	char err[512];
	long mb = SN_CAPTURE_MAX_MB_DEFAULT;
	char *end = NULL;

	if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "start")) {
		if (argc == 4 && ((mb = strtol(argv[3], &end, 10)) < 0 || *end ||
				  mb > (1 << 20))) {
			fprintf(out, "error: capture start: '%s' is not a size in MB (0-%d)\n",
				argv[3], 1 << 20);
			return -1;
		}
		if (sn_stack_capture_start(argv[2], (uint32_t)mb, err, sizeof(err))) {
			fprintf(out, "error: capture start: %s\n", err);
			return -1;
		}
		capture_status(out);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "stop")) {
		if (sn_capture_stop()) {
			fprintf(out, "error: capture stop: no capture is running\n");
			return -1;
		}
		capture_status(out);
		return 0;
	}
	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "status"))) {
		capture_status(out);
		return 0;
	}
	fprintf(out, "error: usage: capture start FILE [MAX_MB] | capture stop | capture status\n");
	return -1;
}

/* The socket files of programs that were killed (PROG.PID.sock whose PID
 * no longer exists): nobody else removes them. */
static void sweep_dead_sockets(void)
{
	char p[sizeof(path)];
	struct dirent *e;
	DIR *d = opendir(run_dir());

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char *dot, *end;
		long pid;

		if (n < 6 || strcmp(e->d_name + n - 5, ".sock"))
			continue;
		e->d_name[n - 5] = '\0';
		dot = strrchr(e->d_name, '.');
		if (!dot)
			continue;
		errno = 0;
		pid = strtol(dot + 1, &end, 10);
		if (errno || *end || pid <= 0 || pid > 0x7fffffff || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s.sock", run_dir(), e->d_name) < sizeof(p))
			unlink(p);
	}
	closedir(d);
}

int sn_ctl_open(const char *prog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	int fd;

	sn_ctl_register("help", cmd_help, NULL, "list commands");
	sn_ctl_register("stats", cmd_stats, NULL, "port, stack, protocol and drop counters");
	sn_ctl_register("capture", cmd_capture, NULL,
			"capture start FILE [MAX_MB] | stop | status: pcapng of the port and IPsec's inner packets");
	if (mkdir(run_dir(), 0700) < 0 && errno != EEXIST)
		return -errno;
	sweep_dead_sockets();
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.%d.sock", run_dir(), base,
			     (int)getpid()) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, sizeof(path));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	chmod(path, 0600);
	lfd = fd;
	/* A client that goes away mid-answer must not kill the program;
	 * a handler the program installed itself is left alone. */
	{
		struct sigaction old;

		if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
			signal(SIGPIPE, SIG_IGN);
	}
	return 0;
}

void sn_ctl_close(void)
{
	if (lfd >= 0) {
		close(lfd);
		unlink(path);
	}
	lfd = -1;
	ncmds = 0;
}

const char *sn_ctl_path(void)
{
	return lfd >= 0 ? path : NULL;
}

/* Read one line (up to '\n' or EOF) within the timeout. */
static ssize_t read_line(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n < len - 1) {
		ssize_t r;

		if (poll(&p, 1, SN_CTL_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n))
			break;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return (ssize_t)n;
}

/* Split on blanks, honouring single and double quotes. */
static int split(char *s, char **argv, int max)
{
	int argc = 0;

	while (*s && argc < max) {
		char q = 0, *out;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		argv[argc++] = out = s;
		for (; *s && (q || (*s != ' ' && *s != '\t')); s++) {
			if (!q && (*s == '\'' || *s == '"'))
				q = *s;
			else if (q && *s == q)
				q = 0;
			else
				*out++ = *s;
		}
		if (*s)
			s++;
		*out = '\0';
	}
	return argc;
}

static void dispatch(FILE *out, char *line)
{
	char *argv[64];
	int argc = split(line, argv, 64);

	if (argc == 0) {
		fprintf(out, "error: empty command (try 'help')\n");
		return;
	}
	for (int i = 0; i < ncmds; i++)
		if (!strcmp(cmds[i].word, argv[0])) {
			if (cmds[i].fn(out, argc, argv, cmds[i].ctx) == 0)
				fprintf(out, "ok\n");
			return;
		}
	fprintf(out, "error: unknown command '%s' (try 'help')\n", argv[0]);
}

static void serve(int fd)
{
	char line[SN_CTL_LINE_MAX];
	FILE *out;
	int wfd;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (read_line(fd, line, sizeof(line)) < 0) {
		close(fd);
		return;
	}
	wfd = dup(fd);
	out = wfd >= 0 ? fdopen(wfd, "w") : NULL;
	if (out) {
		dispatch(out, line);
		fclose(out);
	} else if (wfd >= 0) {
		close(wfd);
	}
	close(fd);
}

void sn_ctl_poll(void)
{
	int fd;

	if (lfd < 0)
		return;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		serve(fd);
}
