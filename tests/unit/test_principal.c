/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Principals (api/principal.c): a numbered table of map files, good and
 * bad, each bad one naming its line; lookups, accessors and tokens; and,
 * as root, impersonation judged by the kernel itself: open() on files of
 * known modes, and the ids /proc/thread-self/status reports per thread.
 * No stack, no EAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sealnet/security.h"
#include "sn_principal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 16, 255 and 256 bytes of identity. */
#define X16 "xxxxxxxxxxxxxxxx"
#define X240 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16
#define X255 X240 "xxxxxxxxxxxxxxx"
#define X256 X240 X16

/* Who the tests map to: root and nobody exist on any system they run on. */
#define NOBODY "nobody"

static char dir[] = "/tmp/sn_principal.XXXXXX";
static char map_path[64], secret_path[64], public_path[64], group_path[64];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	/* nobody must reach the files inside to be refused by their modes. */
	cr_assert_eq(chmod(dir, 0755), 0);
	snprintf(map_path, sizeof(map_path), "%s/map", dir);
	snprintf(secret_path, sizeof(secret_path), "%s/secret", dir);
	snprintf(public_path, sizeof(public_path), "%s/public", dir);
	snprintf(group_path, sizeof(group_path), "%s/group", dir);
}

static void teardown(void)
{
	sn_principal_map_clear();
	unlink(map_path);
	unlink(secret_path);
	unlink(public_path);
	unlink(group_path);
	rmdir(dir);
}

TestSuite(principal, .init = setup, .fini = teardown);

/* Write the map file: len bytes of text (it may hold a NUL). */
static void write_map_n(const char *text, size_t len)
{
	FILE *f = fopen(map_path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static int load(const char *text, char *err, size_t errlen)
{
	write_map_n(text, strlen(text));
	return sn_principal_map_load(map_path, err, errlen);
}

static void assert_maps(const char *identity, const char *user)
{
	struct sn_principal *p = sn_principal_lookup(identity);
	struct passwd *pw = getpwnam(user);

	cr_assert_not_null(p, "'%.40s' does not map", identity);
	cr_assert_not_null(pw);
	cr_assert_str_eq(sn_principal_identity(p), identity);
	cr_assert_str_eq(sn_principal_user(p), user);
	cr_assert_eq(sn_principal_uid(p), pw->pw_uid);
	cr_assert_eq(sn_principal_gid(p), pw->pw_gid);
	sn_principal_release(p);
}

static void assert_unmapped(const char *identity)
{
	errno = 0;
	cr_assert_null(sn_principal_lookup(identity), "'%s' maps", identity);
	cr_assert_eq(errno, ENOENT);
}

/* ---- Map files ------------------------------------------------------------------- */

static const char good_map[] =
	"# peers of the test\n"
	"\n"
	"peer@example " NOBODY "\n"
	"  \tPeer@Example\troot   # case matters\n"
	"#commented " NOBODY "\n"
	"a#b " NOBODY "\n"
	"by-uid 0\r\n"
	X255 " " NOBODY "\n"
	"CN=host,O=org " NOBODY;        /* no newline at the end */

Test(principal, good_map)
{
	char err[256] = "";

	cr_assert_eq(load(good_map, err, sizeof(err)), 0, "%s", err);
	assert_maps("peer@example", NOBODY);
	assert_maps("Peer@Example", "root");
	assert_maps("a#b", NOBODY);
	assert_maps("by-uid", "root");
	assert_maps(X255, NOBODY);
	assert_maps("CN=host,O=org", NOBODY);
	assert_unmapped("#commented");
	assert_unmapped("PEER@EXAMPLE");
	assert_unmapped("peer@example ");
	assert_unmapped("a");
	assert_unmapped("");
}

Test(principal, empty_and_comment_only_maps)
{
	cr_assert_eq(load("", NULL, 0), 0);
	cr_assert_eq(load("# nothing\n\n   \n\t# more\n", NULL, 0), 0);
	assert_unmapped("peer@example");
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *why;        /* part of the message */
};

static const struct bad_case bad_cases[] = {
	/*  0 */ { "a " NOBODY "\n# c\n\nlonely\n", 4, "missing user after identity 'lonely'" },
	/*  1 */ { "a " NOBODY "\nb no_such_user_sn\n", 2, "unknown user 'no_such_user_sn'" },
	/*  2 */ { "a " NOBODY " extra\n", 1, "extra word 'extra' after the user" },
	/*  3 */ { "a " NOBODY " # ok\nb " NOBODY " x # y\n", 2, "extra word 'x'" },
	/*  4 */ { "a " NOBODY "\nb root\na root\n", 3, "duplicate identity 'a' (first on line 1)" },
	/*  5 */ { "a " NOBODY "\nA root\n a\t" NOBODY "\n", 3, "duplicate identity 'a'" },
	/*  6 */ { X256 " " NOBODY "\n", 1, "identity longer than 255 bytes" },
	/*  7 */ { "a 4294967295\n", 1, "unknown user '4294967295'" },
	/*  8 */ { "a 99999999999999999999\n", 1, "unknown user '99999999999999999999'" },
	/*  9 */ { "a 4242424\n", 1, "unknown user '4242424'" },
	/* 10 */ { "a\t" NOBODY "\r\n  b   root  \r\nc\r\n", 3, "missing user after identity 'c'" },
	/* 11 */ { "a -1\n", 1, "unknown user '-1'" },
	/* 12 */ { "\n\n\n\n\n\n\n\n\n\nz\n", 11, "missing user" },
	/* 13 */ { "a " NOBODY "\nb " NOBODY "\n" X256 " root # too long\n", 3, "longer than 255" },
};

Test(principal, bad_lines)
{
	for (size_t i = 0; i < N(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		char err[512] = "", want[300];

		errno = 0;
		cr_assert_eq(load(c->text, err, sizeof(err)), -1, "case %zu loaded", i);
		cr_assert_eq(errno, EINVAL, "case %zu: errno %d", i, errno);
		snprintf(want, sizeof(want), "%s:%u: ", map_path, c->line);
		cr_assert(strncmp(err, want, strlen(want)) == 0, "case %zu: '%s', want '%s'", i, err,
			  want);
		cr_assert_not_null(strstr(err, c->why), "case %zu: '%s' lacks '%s'", i, err, c->why);
	}
}

/* A bad file replaces nothing, not even with its own good lines. */
Test(principal, bad_load_keeps_old_map)
{
	char err[256];

	cr_assert_eq(load("old " NOBODY "\n", err, sizeof(err)), 0);
	for (size_t i = 0; i < N(bad_cases); i++) {
		cr_assert_eq(load(bad_cases[i].text, err, sizeof(err)), -1);
		assert_maps("old", NOBODY);
		assert_unmapped("a");
		assert_unmapped("b");
	}
}

Test(principal, reload_replaces)
{
	cr_assert_eq(load("one " NOBODY "\n", NULL, 0), 0);
	cr_assert_eq(load("two root\n", NULL, 0), 0);
	assert_unmapped("one");
	assert_maps("two", "root");
	sn_principal_map_clear();
	assert_unmapped("two");
	sn_principal_map_clear();
}

/* SN_PRINCIPAL_LINE_MAX bytes load; one more is refused, not cut. */
Test(principal, line_length)
{
	static char text[SN_PRINCIPAL_LINE_MAX + 64];
	const char *tail = " " NOBODY "\nnext root\n";
	size_t pad = SN_PRINCIPAL_LINE_MAX - strlen("id") - strlen(" " NOBODY);
	char err[256] = "";

	snprintf(text, sizeof(text), "id%*s%s", (int)pad, "", tail);
	cr_assert_eq(strchr(text, '\n') - text, SN_PRINCIPAL_LINE_MAX);
	cr_assert_eq(load(text, err, sizeof(err)), 0, "%s", err);
	assert_maps("id", NOBODY);
	assert_maps("next", "root");

	snprintf(text, sizeof(text), "# ok\nid%*s%s", (int)pad + 1, "", tail);
	errno = 0;
	cr_assert_eq(load(text, err, sizeof(err)), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_not_null(strstr(err, ":2: line longer than 1024 bytes"), "%s", err);
	assert_maps("id", NOBODY);
}

Test(principal, nul_byte)
{
	static const char text[] = "a " NOBODY "\nb\0c " NOBODY "\n";
	char err[256] = "";

	write_map_n(text, sizeof(text) - 1);
	errno = 0;
	cr_assert_eq(sn_principal_map_load(map_path, err, sizeof(err)), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_not_null(strstr(err, ":2: NUL byte in line"), "%s", err);
	assert_unmapped("b");
}

Test(principal, open_errors)
{
	char err[256] = "";
	char missing[80];

	snprintf(missing, sizeof(missing), "%s/none", dir);
	errno = 0;
	cr_assert_eq(sn_principal_map_load(missing, err, sizeof(err)), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_not_null(strstr(err, missing), "%s", err);
	cr_assert_not_null(strstr(err, strerror(ENOENT)), "%s", err);

	errno = 0;
	cr_assert_eq(sn_principal_map_load(dir, err, sizeof(err)), -1);
	cr_assert_eq(errno, EISDIR, "errno %d: %s", errno, err);

	errno = 0;
	cr_assert_eq(sn_principal_map_load(NULL, err, sizeof(err)), -1);
	cr_assert_eq(errno, EINVAL);
	/* No room for a message is not an error of its own. */
	errno = 0;
	cr_assert_eq(sn_principal_map_load(missing, NULL, 0), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(sn_principal_map_load(missing, err, 1), -1);
	cr_assert_eq(err[0], '\0');
}

/* Messages are cut to fit, never overflow (the canaries stay). */
Test(principal, short_error_buffer)
{
	char buf[16 + 8];

	memset(buf, 'C', sizeof(buf));
	cr_assert_eq(load("a " NOBODY " extra\n", buf, 16), -1);
	cr_assert_eq(strlen(buf), 15);
	for (size_t i = 16; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 'C');
}

/* Enough entries that the table grows several times. */
Test(principal, many_entries)
{
	enum { COUNT = 600 };
	static char text[COUNT * 32];
	char id[32];
	size_t off = 0;

	for (int i = 0; i < COUNT; i++)
		off += snprintf(text + off, sizeof(text) - off, "peer-%d %s\n", i,
				i % 2 ? NOBODY : "root");
	cr_assert_eq(load(text, NULL, 0), 0);
	for (int i = 0; i < COUNT; i++) {
		snprintf(id, sizeof(id), "peer-%d", i);
		assert_maps(id, i % 2 ? NOBODY : "root");
	}
	assert_unmapped("peer-600");
	assert_unmapped("peer-");
}

/* ---- Lookup and tokens -------------------------------------------------------------- */

Test(principal, lookup_n)
{
	struct sn_principal *p;

	cr_assert_eq(load("peer@example " NOBODY "\n" X255 " root\n", NULL, 0), 0);
	/* Not NUL-terminated: only len bytes count. */
	p = sn_principal_lookup_n("peer@example.org", strlen("peer@example"));
	cr_assert_not_null(p);
	cr_assert_str_eq(sn_principal_user(p), NOBODY);
	sn_principal_release(p);

	p = sn_principal_lookup_n(X256, 255);
	cr_assert_not_null(p);
	sn_principal_release(p);

	errno = 0;
	cr_assert_null(sn_principal_lookup_n(X256, 256));
	cr_assert_eq(errno, ENOENT);
	errno = 0;
	cr_assert_null(sn_principal_lookup_n("peer@example\0x", 14));
	cr_assert_eq(errno, ENOENT);
	errno = 0;
	cr_assert_null(sn_principal_lookup_n("peer@example", 0));
	cr_assert_eq(errno, ENOENT);
	errno = 0;
	cr_assert_null(sn_principal_lookup_n(NULL, 3));
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_null(sn_principal_lookup(NULL));
	cr_assert_eq(errno, EINVAL);
}

Test(principal, lookup_without_map)
{
	assert_unmapped("peer@example");
}

Test(principal, groups)
{
	struct passwd *pw = getpwnam(NOBODY);
	gid_t want[64], got[64];
	int nwant = N(want);
	struct sn_principal *p;

	cr_assert_not_null(pw);
	cr_assert_geq(getgrouplist(NOBODY, pw->pw_gid, want, &nwant), 1);
	cr_assert_eq(load("peer@example " NOBODY "\n", NULL, 0), 0);
	p = sn_principal_lookup("peer@example");
	cr_assert_not_null(p);

	cr_assert_eq(sn_principal_groups(p, NULL, 0), nwant);
	memset(got, 0xff, sizeof(got));
	cr_assert_eq(sn_principal_groups(p, got, N(got)), nwant);
	cr_assert_arr_eq(got, want, nwant * sizeof(gid_t));
	/* Only max are copied. */
	memset(got, 0xff, sizeof(got));
	cr_assert_eq(sn_principal_groups(p, got, 1), nwant);
	cr_assert_eq(got[0], want[0]);
	cr_assert_eq(got[1], (gid_t)-1);

	errno = 0;
	cr_assert_eq(sn_principal_groups(p, NULL, 1), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(sn_principal_groups(p, got, -1), -1);
	cr_assert_eq(sn_principal_groups(NULL, got, 1), -1);
	sn_principal_release(p);
}

Test(principal, null_accessors)
{
	errno = 0;
	cr_assert_null(sn_principal_identity(NULL));
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(sn_principal_user(NULL));
	cr_assert_eq(sn_principal_uid(NULL), (uid_t)-1);
	cr_assert_eq(sn_principal_gid(NULL), (gid_t)-1);
	sn_principal_release(NULL);
}

/* A token outlives the map it came from and is the caller's own. */
Test(principal, token_outlives_map)
{
	struct sn_principal *p, *q;

	cr_assert_eq(load("peer@example " NOBODY "\n", NULL, 0), 0);
	p = sn_principal_lookup("peer@example");
	q = sn_principal_lookup("peer@example");
	cr_assert_not_null(p);
	cr_assert_not_null(q);
	cr_assert_eq(load("peer@example root\n", NULL, 0), 0);
	sn_principal_map_clear();
	cr_assert_str_eq(sn_principal_identity(p), "peer@example");
	cr_assert_str_eq(sn_principal_user(p), NOBODY);
	sn_principal_release(p);
	cr_assert_str_eq(sn_principal_user(q), NOBODY);
	sn_principal_release(q);
}

/* ---- Impersonation ---------------------------------------------------------------------- */

/* Up to max numbers of the status line `key` (e.g. "Uid:": real,
 * effective, saved, filesystem) of the calling thread; how many. */
static int thread_ids(const char *key, long *v, int max)
{
	char line[4096];
	FILE *f = fopen("/proc/thread-self/status", "r");
	int n = -1;

	if (!f)
		return -1;
	while (n < 0 && fgets(line, sizeof(line), f)) {
		char *s = line + strlen(key), *end;

		if (strncmp(line, key, strlen(key)) != 0)
			continue;
		for (n = 0; n < max; n++, s = end) {
			v[n] = strtol(s, &end, 10);
			if (end == s)
				break;
		}
	}
	fclose(f);
	return n;
}

static long thread_fsuid(void)
{
	long v[4];

	return thread_ids("Uid:", v, 4) == 4 ? v[3] : -1;
}

static long thread_fsgid(void)
{
	long v[4];

	return thread_ids("Gid:", v, 4) == 4 ? v[3] : -1;
}

static bool can_open(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static void make_file(const char *path, mode_t mode, gid_t gid)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fchown(fd, 0, gid), 0);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* Root-owned files: secret 0600, public 0644, group 0060 for nobody's
 * primary group; the map sends peer@example to nobody. */
static struct sn_principal *root_setup(void)
{
	struct passwd *pw;
	struct sn_principal *p;

	if (geteuid() != 0) {
		teardown();     /* a skipped test's .fini does not run */
		cr_skip_test("impersonation needs root");
	}
	pw = getpwnam(NOBODY);
	cr_assert_not_null(pw);
	make_file(secret_path, 0600, 0);
	make_file(public_path, 0644, 0);
	make_file(group_path, 0060, pw->pw_gid);
	cr_assert_eq(load("peer@example " NOBODY "\n", NULL, 0), 0);
	p = sn_principal_lookup("peer@example");
	cr_assert_not_null(p);
	return p;
}

/* Give the thread a group list of its own, so that revert is seen to
 * restore it rather than some default. */
static const gid_t own_groups[] = { 0, 4242, 4343 };

static void set_own_groups(void)
{
	cr_assert_eq(syscall(SYS_setgroups, (int)N(own_groups), own_groups), 0);
}

static void assert_thread_groups(const gid_t *want, int n)
{
	long got[64];

	cr_assert_eq(thread_ids("Groups:", got, N(got)), n);
	for (int i = 0; i < n; i++)
		cr_assert_eq(got[i], (long)want[i], "group %d: %ld, want %u", i, got[i], want[i]);
}

static void assert_own_creds(void)
{
	cr_assert_eq(thread_fsuid(), 0);
	cr_assert_eq(thread_fsgid(), 0);
	assert_thread_groups(own_groups, N(own_groups));
	cr_assert(!sn_impersonating());
}

Test(principal, impersonate_file_access)
{
	struct sn_principal *p = root_setup();
	gid_t groups[64];
	int ngroups = sn_principal_groups(p, groups, N(groups));

	set_own_groups();
	cr_assert(can_open(secret_path));
	cr_assert_eq(sn_impersonate_principal(p), 0);
	cr_assert(sn_impersonating());
	cr_assert_eq(thread_fsuid(), sn_principal_uid(p));
	cr_assert_eq(thread_fsgid(), sn_principal_gid(p));
	assert_thread_groups(groups, ngroups);
	errno = 0;
	cr_assert(!can_open(secret_path));
	cr_assert_eq(errno, EACCES);
	cr_assert(can_open(public_path));
	cr_assert(can_open(group_path), "fsgid not applied");

	errno = 0;
	cr_assert_eq(sn_impersonate_principal(p), -1);
	cr_assert_eq(errno, EALREADY);
	cr_assert_eq(thread_fsuid(), sn_principal_uid(p));

	cr_assert_eq(sn_revert_impersonation(), 0);
	assert_own_creds();
	cr_assert(can_open(secret_path));
	cr_assert_eq(sn_revert_impersonation(), 0);
	sn_principal_release(p);
}

Test(principal, impersonate_again_after_revert)
{
	struct sn_principal *p = root_setup();

	set_own_groups();
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sn_impersonate_principal(p), 0);
		cr_assert(!can_open(secret_path));
		cr_assert_eq(sn_revert_impersonation(), 0);
		assert_own_creds();
	}
	sn_principal_release(p);
}

Test(principal, impersonate_null)
{
	errno = 0;
	cr_assert_eq(sn_impersonate_principal(NULL), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert(!sn_impersonating());
	cr_assert_eq(sn_revert_impersonation(), 0);
}

/* The token may go while the thread impersonates: the saved credentials
 * are the thread's, not the token's. */
Test(principal, release_while_impersonating)
{
	struct sn_principal *p = root_setup();

	set_own_groups();
	cr_assert_eq(sn_impersonate_principal(p), 0);
	sn_principal_release(p);
	sn_principal_map_clear();
	cr_assert(!can_open(secret_path));
	cr_assert_eq(sn_revert_impersonation(), 0);
	assert_own_creds();
}

/* ---- Impersonation is per thread ---- */

struct worker {
	struct sn_principal *p;
	pthread_barrier_t impersonated, checked;
	int rc, err;
	long fsuid;             /* the worker's, while impersonating */
	bool secret_denied;
	int revert_rc;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->rc = sn_impersonate_principal(w->p);
	w->err = errno;
	w->fsuid = thread_fsuid();
	w->secret_denied = !can_open(secret_path);
	pthread_barrier_wait(&w->impersonated);
	pthread_barrier_wait(&w->checked);
	w->revert_rc = sn_revert_impersonation();
	return NULL;
}

Test(principal, impersonation_is_per_thread)
{
	struct worker w = { .p = root_setup() };
	bool secret_ok, impersonating;
	long fsuid, fsgid, groups[64];
	pthread_t t;
	int ngroups;

	set_own_groups();
	pthread_barrier_init(&w.impersonated, NULL, 2);
	pthread_barrier_init(&w.checked, NULL, 2);
	cr_assert_eq(pthread_create(&t, NULL, worker_main, &w), 0);
	pthread_barrier_wait(&w.impersonated);
	/* The worker is someone else now; this thread is still itself. */
	fsuid = thread_fsuid();
	fsgid = thread_fsgid();
	ngroups = thread_ids("Groups:", groups, N(groups));
	secret_ok = can_open(secret_path);
	impersonating = sn_impersonating();
	pthread_barrier_wait(&w.checked);
	pthread_join(t, NULL);

	cr_assert_eq(w.rc, 0, "worker: %s", strerror(w.err));
	cr_assert_eq(w.fsuid, sn_principal_uid(w.p));
	cr_assert(w.secret_denied);
	cr_assert_eq(w.revert_rc, 0);
	cr_assert_eq(fsuid, 0);
	cr_assert_eq(fsgid, 0);
	cr_assert_eq(ngroups, N(own_groups));
	for (int i = 0; i < ngroups; i++)
		cr_assert_eq(groups[i], (long)own_groups[i]);
	cr_assert(secret_ok);
	cr_assert(!impersonating);
	assert_own_creds();
	pthread_barrier_destroy(&w.impersonated);
	pthread_barrier_destroy(&w.checked);
	sn_principal_release(w.p);
}

/* A thread that ends while impersonating takes its credentials with it
 * (and, under LeakSanitizer, leaks nothing). */
static void *impersonate_and_exit(void *arg)
{
	return (void *)(intptr_t)sn_impersonate_principal(arg);
}

Test(principal, thread_exits_impersonating)
{
	struct sn_principal *p = root_setup();
	pthread_t t;
	void *rc;

	cr_assert_eq(pthread_create(&t, NULL, impersonate_and_exit, p), 0);
	pthread_join(t, &rc);
	cr_assert_eq((intptr_t)rc, 0);
	cr_assert_eq(thread_fsuid(), 0);
	cr_assert(!sn_impersonating());
	sn_principal_release(p);
}

/* ---- A refused switch leaves the thread as it was ---- */

/* Drop one capability from the calling thread's effective set (capset
 * acts on the calling thread only). */
static void drop_effective_cap(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	cr_assert_eq(syscall(SYS_capget, &hdr, data), 0);
	data[cap / 32].effective &= ~(1u << (cap % 32));
	cr_assert_eq(syscall(SYS_capset, &hdr, data), 0);
}

/* Without CAP_SETUID the groups and gid change, then the uid is refused:
 * both must be undone. */
Test(principal, refused_uid_is_undone)
{
	struct sn_principal *p = root_setup();

	set_own_groups();
	drop_effective_cap(CAP_SETUID);
	errno = 0;
	cr_assert_eq(sn_impersonate_principal(p), -1);
	cr_assert_eq(errno, EPERM);
	assert_own_creds();
	cr_assert(can_open(secret_path));
	cr_assert_eq(sn_revert_impersonation(), 0);
	sn_principal_release(p);
}

/* Without CAP_SETGID the first step, the groups, is refused. */
Test(principal, refused_groups)
{
	struct sn_principal *p = root_setup();

	set_own_groups();
	drop_effective_cap(CAP_SETGID);
	errno = 0;
	cr_assert_eq(sn_impersonate_principal(p), -1);
	cr_assert_eq(errno, EPERM);
	assert_own_creds();
	sn_principal_release(p);
}
