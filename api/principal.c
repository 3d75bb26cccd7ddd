/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Principals: the map from a peer's proven identity to a local Linux user,
 * the tokens handed out from it, and per-thread impersonation of one.
 *
 * A map is immutable once built. Loading builds a whole new map and swaps
 * it in under the lock, so a bad file leaves the old map in place and a
 * lookup never sees half of one. Principals are reference counted: a
 * token keeps its principal alive after the map that held it is gone.
 *
 * Impersonation changes only the calling thread's filesystem credentials
 * (fsuid, fsgid, supplementary groups). The kernel keeps credentials per
 * thread, but glibc's setgroups() (like setuid()) signals every thread of
 * the process to make the change on each, as POSIX wants process-wide ids;
 * so the system calls are made directly.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sn_principal.h"

/* 32-bit x86 and ARM keep 16-bit ids under the plain names and full ones
 * under the *32 names; 64-bit targets have only the plain names. */
#ifdef SYS_setfsuid32
#define SN_SYS_SETFSUID  SYS_setfsuid32
#define SN_SYS_SETFSGID  SYS_setfsgid32
#define SN_SYS_SETGROUPS SYS_setgroups32
#define SN_SYS_GETGROUPS SYS_getgroups32
#else
#define SN_SYS_SETFSUID  SYS_setfsuid
#define SN_SYS_SETFSGID  SYS_setfsgid
#define SN_SYS_SETGROUPS SYS_setgroups
#define SN_SYS_GETGROUPS SYS_getgroups
#endif

/* getpw*_r need a buffer of a size nothing bounds: grown on ERANGE up to
 * this. */
#define PW_BUF_MAX (1u << 20)
/* The kernel's NGROUPS_MAX: a user in more groups could not be
 * impersonated, so the map refuses it at load time. */
#define SN_GROUPS_MAX 65536
/* A new map's slots; it doubles when half full. */
#define PMAP_MIN_SLOTS 16

struct sn_principal {
	unsigned refs;                  /* atomic: the map's and each token's */
	unsigned line;                  /* in the map file: duplicate reports */
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t *groups;                  /* as initgroups(3) sets them */
	char *user;
	size_t id_len;
	char identity[SN_IDENTITY_MAX + 1];
};

/* Open addressing with linear probing, never more than half full, so a
 * probe always ends at an empty slot. */
struct pmap {
	size_t cap;                     /* a power of two */
	size_t n;
	struct sn_principal **slot;
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pmap *map;                /* under map_lock; NULL: empty */

static int fail_errno(int e)
{
	errno = e;
	return -1;
}

/* ---- Principals ------------------------------------------------------------ */

static void principal_free(struct sn_principal *p)
{
	free(p->groups);
	free(p->user);
	free(p);
}

static struct sn_principal *principal_ref(struct sn_principal *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void sn_principal_release(struct sn_principal *p)
{
	if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		principal_free(p);
}

/* ---- The map ---------------------------------------------------------------- */

/* FNV-1a. The keys come from the administrator's file, not from peers, so
 * nothing stronger against chosen collisions is needed. */
static uint64_t id_hash(const char *id, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)id[i]) * 0x100000001b3ull;
	return h;
}

/* The slot holding the identity, or the empty slot where it would go. */
static struct sn_principal **pmap_slot(const struct pmap *m, const char *id, size_t len)
{
	size_t mask = m->cap - 1;

	for (size_t i = id_hash(id, len) & mask;; i = (i + 1) & mask) {
		struct sn_principal *p = m->slot[i];

		if (!p || (p->id_len == len && memcmp(p->identity, id, len) == 0))
			return &m->slot[i];
	}
}

static int pmap_resize(struct pmap *m, size_t cap)
{
	struct pmap big = { cap, m->n, calloc(cap, sizeof(*m->slot)) };

	if (!big.slot)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct sn_principal *p = m->slot[i];

		if (p)
			*pmap_slot(&big, p->identity, p->id_len) = p;
	}
	free(m->slot);
	*m = big;
	return 0;
}

static struct pmap *pmap_new(void)
{
	struct pmap *m = calloc(1, sizeof(*m));

	if (m && pmap_resize(m, PMAP_MIN_SLOTS) < 0) {
		free(m);
		return NULL;
	}
	return m;
}

static void pmap_free(struct pmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		sn_principal_release(m->slot[i]);
	free(m->slot);
	free(m);
}

/* Take p (the map owns its reference from now on, also on error).
 * -EEXIST with *dup the principal already mapped from its identity. */
static int pmap_add(struct pmap *m, struct sn_principal *p, const struct sn_principal **dup)
{
	struct sn_principal **s;

	if (2 * (m->n + 1) > m->cap && pmap_resize(m, 2 * m->cap) < 0) {
		sn_principal_release(p);
		return -ENOMEM;
	}
	s = pmap_slot(m, p->identity, p->id_len);
	if (*s) {
		*dup = *s;
		sn_principal_release(p);
		return -EEXIST;
	}
	*s = p;
	m->n++;
	return 0;
}

/* Install m (NULL: none) and drop the map it replaces. */
static void map_swap(struct pmap *m)
{
	struct pmap *old;

	pthread_mutex_lock(&map_lock);
	old = map;
	map = m;
	pthread_mutex_unlock(&map_lock);
	pmap_free(old);
}

void sn_principal_map_clear(void)
{
	map_swap(NULL);
}

/* ---- Loading: users ------------------------------------------------------------ */

/* One load: where it is, for messages, and what it builds. */
struct loader {
	const char *path;
	unsigned line;                  /* 0: not reading lines yet */
	char *err;
	size_t errlen;
	struct pmap *m;
};

/* "PATH:LINE: reason" (or "PATH: reason") into err; returns rc. */
__attribute__((format(printf, 3, 4)))
static int fail(struct loader *l, int rc, const char *fmt, ...)
{
	size_t n;
	int k;
	va_list ap;

	if (l->line)
		k = snprintf(l->err, l->errlen, "%s:%u: ", l->path, l->line);
	else
		k = snprintf(l->err, l->errlen, "%s: ", l->path);
	n = k < 0 ? 0 : (size_t)k;
	if (n < l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->errlen - n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A word of digits names a uid (shadow's useradd refuses such user
 * names). 1: *uid set; 0: not digits; -1: digits, but no valid uid. */
static int parse_uid(const char *s, uid_t *uid)
{
	unsigned long long v = 0;

	if (!*s)
		return 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return 0;
		v = v * 10 + (unsigned)(*c - '0');
		if (v >= (uid_t)-1)     /* (uid_t)-1 means "no change", not a uid */
			return -1;
	}
	*uid = (uid_t)v;
	return 1;
}

/* The passwd entry of a user name or uid, its strings in *buf (the
 * caller frees). 0, -ENOENT if there is no such user, or -errno. */
static int user_find(const char *word, struct passwd *pw, char **buf)
{
	struct passwd *res = NULL;
	size_t size = 1024;
	uid_t uid = 0;
	int numeric = parse_uid(word, &uid), rc;

	if (numeric < 0)
		return -ENOENT;
	for (;;) {
		char *b = realloc(*buf, size);

		if (!b)
			return -ENOMEM;
		*buf = b;
		rc = numeric ? getpwuid_r(uid, pw, b, size, &res)
			     : getpwnam_r(word, pw, b, size, &res);
		if (rc != ERANGE || size >= PW_BUF_MAX)
			break;
		size *= 2;
	}
	if (res)
		return 0;
	/* getpw*_r(3): "not found" is 0, or one of these from some sources. */
	if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
		return -ENOENT;
	return -rc;
}

/* The user's groups as initgroups(3) would set them (its primary group
 * included). getgrouplist() says how many there are when the array is
 * too small. */
static int user_groups(struct sn_principal *p)
{
	int cap = 16, n;

	for (;;) {
		gid_t *g = realloc(p->groups, (size_t)cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		p->groups = g;
		n = cap;
		if (getgrouplist(p->user, p->gid, g, &n) >= 0)
			break;
		if (cap >= SN_GROUPS_MAX)
			return -E2BIG;
		cap = n > cap ? n : 2 * cap;
		if (cap > SN_GROUPS_MAX)
			cap = SN_GROUPS_MAX;
	}
	p->ngroups = n;
	return 0;
}

/* Fill in p's user from the word naming it. */
static int user_resolve(struct loader *l, struct sn_principal *p, const char *word)
{
	struct passwd pw;
	char *buf = NULL;
	int rc = user_find(word, &pw, &buf);

	if (rc == 0) {
		p->uid = pw.pw_uid;
		p->gid = pw.pw_gid;
		p->user = strdup(pw.pw_name);
		rc = p->user ? user_groups(p) : -ENOMEM;
	}
	free(buf);
	if (rc == -ENOENT)
		return fail(l, -EINVAL, "unknown user '%s'", word);
	if (rc == -E2BIG)
		return fail(l, -EINVAL, "user '%s' is in more than %d groups", word,
			    SN_GROUPS_MAX);
	if (rc < 0)
		return fail(l, rc, "looking up user '%s': %s", word, strerror(-rc));
	return 0;
}

/* ---- Loading: lines ------------------------------------------------------------- */

/* Split line in place into up to max words: blanks separate them, and a
 * '#' that starts a word starts a comment (so "a#b" is one word, as in a
 * shell). Returns how many were found. */
static int split_words(char *line, char **w, int max)
{
	static const char blank[] = " \t\r\v\f";
	char *s = line;
	int n = 0;

	while (n < max) {
		s += strspn(s, blank);
		if (!*s || *s == '#')
			break;
		w[n++] = s;
		s += strcspn(s, blank);
		if (*s)
			*s++ = '\0';
	}
	return n;
}

/* One line of the file: a mapping, or nothing (blank or comment). */
static int load_line(struct loader *l, char *line)
{
	const struct sn_principal *dup = NULL;
	struct sn_principal *p;
	char *w[3];
	size_t len;
	int n = split_words(line, w, 3), rc;

	if (n == 0)
		return 0;
	if (n == 1)
		return fail(l, -EINVAL, "missing user after identity '%s'", w[0]);
	if (n == 3)
		return fail(l, -EINVAL, "extra word '%s' after the user", w[2]);
	len = strlen(w[0]);
	if (len > SN_IDENTITY_MAX)
		return fail(l, -EINVAL, "identity longer than %d bytes", SN_IDENTITY_MAX);
	p = calloc(1, sizeof(*p));
	if (!p)
		return fail(l, -ENOMEM, "out of memory");
	p->refs = 1;
	p->line = l->line;
	p->id_len = len;
	memcpy(p->identity, w[0], len);
	rc = user_resolve(l, p, w[1]);
	if (rc < 0) {
		principal_free(p);
		return rc;
	}
	rc = pmap_add(l->m, p, &dup);
	if (rc == -EEXIST)
		return fail(l, -EINVAL, "duplicate identity '%s' (first on line %u)", w[0],
			    dup->line);
	return rc < 0 ? fail(l, rc, "out of memory") : 0;
}

/* One line into buf (size bytes), its newline dropped. 1: a line; 0: end
 * of file; -E2BIG: longer than size - 1; -EILSEQ: a NUL byte, which would
 * cut the line short unseen; or the read's -errno (-EISDIR for a
 * directory, which fopen() opens). */
static int read_line(FILE *f, char *buf, size_t size)
{
	size_t n = 0;
	int c;

	errno = 0;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (n + 1 >= size)
			return -E2BIG;
		if (c == '\0')
			return -EILSEQ;
		buf[n++] = (char)c;
	}
	if (c == EOF && ferror(f))
		return errno ? -errno : -EIO;
	buf[n] = '\0';
	return c == EOF && n == 0 ? 0 : 1;
}

static int load_file(FILE *f, struct loader *l)
{
	char buf[SN_PRINCIPAL_LINE_MAX + 1];
	int rc;

	for (;;) {
		l->line++;
		rc = read_line(f, buf, sizeof(buf));
		if (rc <= 0)
			break;
		rc = load_line(l, buf);
		if (rc < 0)
			return rc;
	}
	if (rc == -E2BIG)
		return fail(l, -EINVAL, "line longer than %d bytes", SN_PRINCIPAL_LINE_MAX);
	if (rc == -EILSEQ)
		return fail(l, -EINVAL, "NUL byte in line");
	if (rc < 0)
		return fail(l, rc, "read error: %s", strerror(-rc));
	return 0;
}

int sn_principal_map_load(const char *path, char *err, size_t errlen)
{
	char none[1];
	struct loader l = { path ? path : "(null)", 0, err, errlen, NULL };
	FILE *f;
	int rc;

	if (!err || errlen == 0) {
		l.err = none;
		l.errlen = sizeof(none);
	}
	l.err[0] = '\0';
	if (!path)
		return fail_errno(-fail(&l, -EINVAL, "no path given"));
	f = fopen(path, "re");
	if (!f)
		return fail_errno(-fail(&l, -errno, "%s", strerror(errno)));
	l.m = pmap_new();
	rc = l.m ? load_file(f, &l) : fail(&l, -ENOMEM, "out of memory");
	fclose(f);
	if (rc < 0) {
		pmap_free(l.m);
		return fail_errno(-rc);
	}
	map_swap(l.m);
	return 0;
}

/* ---- Lookup and tokens ------------------------------------------------------------- */

struct sn_principal *sn_principal_lookup_n(const char *identity, size_t len)
{
	struct sn_principal *p = NULL;

	if (!identity) {
		errno = EINVAL;
		return NULL;
	}
	if (len > 0 && len <= SN_IDENTITY_MAX) {
		pthread_mutex_lock(&map_lock);
		if (map)
			p = *pmap_slot(map, identity, len);
		if (p)
			principal_ref(p);
		pthread_mutex_unlock(&map_lock);
	}
	if (!p)
		errno = ENOENT;
	return p;
}

struct sn_principal *sn_principal_lookup(const char *identity)
{
	if (!identity) {
		errno = EINVAL;
		return NULL;
	}
	return sn_principal_lookup_n(identity, strlen(identity));
}

const char *sn_principal_identity(const struct sn_principal *p)
{
	if (!p)
		errno = EINVAL;
	return p ? p->identity : NULL;
}

const char *sn_principal_user(const struct sn_principal *p)
{
	if (!p)
		errno = EINVAL;
	return p ? p->user : NULL;
}

uid_t sn_principal_uid(const struct sn_principal *p)
{
	if (!p)
		errno = EINVAL;
	return p ? p->uid : (uid_t)-1;
}

gid_t sn_principal_gid(const struct sn_principal *p)
{
	if (!p)
		errno = EINVAL;
	return p ? p->gid : (gid_t)-1;
}

int sn_principal_groups(const struct sn_principal *p, gid_t *groups, int max)
{
	int n;

	if (!p || max < 0 || (max > 0 && !groups))
		return fail_errno(EINVAL);
	n = p->ngroups < max ? p->ngroups : max;
	if (n > 0)
		memcpy(groups, p->groups, (size_t)n * sizeof(*groups));
	return p->ngroups;
}

/* ---- Impersonation ------------------------------------------------------------------ */

/* The thread's own filesystem credentials, kept while it impersonates. */
struct saved_creds {
	bool active;
	uid_t fsuid;
	gid_t fsgid;
	int ngroups;
	gid_t *groups;
};

static __thread struct saved_creds saved;

/* A thread that ends while impersonating would leak its saved group
 * list (__thread data has no destructor); a key's destructor frees it. */
static pthread_key_t saved_key;
static bool saved_key_ok;
static pthread_once_t saved_once = PTHREAD_ONCE_INIT;

static void saved_key_init(void)
{
	saved_key_ok = pthread_key_create(&saved_key, free) == 0;
}

/* setfsuid() and setfsgid() report no error: they return the previous id
 * whether or not it changed. Asking again with -1, an id that is never
 * valid and so changes nothing, shows whether the change took. */
static bool set_fsuid(uid_t uid)
{
	syscall(SN_SYS_SETFSUID, uid);
	return (uid_t)syscall(SN_SYS_SETFSUID, (uid_t)-1) == uid;
}

static bool set_fsgid(gid_t gid)
{
	syscall(SN_SYS_SETFSGID, gid);
	return (gid_t)syscall(SN_SYS_SETFSGID, (gid_t)-1) == gid;
}

static bool set_groups(int n, const gid_t *groups)
{
	return syscall(SN_SYS_SETGROUPS, n, groups) == 0;
}

static void creds_forget(void)
{
	if (saved_key_ok)
		pthread_setspecific(saved_key, NULL);
	free(saved.groups);
	memset(&saved, 0, sizeof(saved));
}

static int creds_save(void)
{
	long n = syscall(SN_SYS_GETGROUPS, 0, NULL);

	pthread_once(&saved_once, saved_key_init);
	if (n < 0)
		return -errno;
	saved.groups = calloc(n > 0 ? (size_t)n : 1, sizeof(gid_t));
	if (!saved.groups)
		return -ENOMEM;
	if (saved_key_ok)
		pthread_setspecific(saved_key, saved.groups);
	n = syscall(SN_SYS_GETGROUPS, n, saved.groups);
	if (n < 0)
		return -errno;
	saved.ngroups = (int)n;
	saved.fsuid = (uid_t)syscall(SN_SYS_SETFSUID, (uid_t)-1);
	saved.fsgid = (gid_t)syscall(SN_SYS_SETFSGID, (gid_t)-1);
	return 0;
}

/* Groups and gid first, while the thread's own fsuid still holds; the
 * uid last. On failure, whatever changed goes back. */
static int creds_enter(const struct sn_principal *p)
{
	if (!set_groups(p->ngroups, p->groups))
		return -EPERM;
	if (set_fsgid(p->gid) && set_fsuid(p->uid))
		return 0;
	(void)set_fsuid(saved.fsuid);
	(void)set_fsgid(saved.fsgid);
	(void)set_groups(saved.ngroups, saved.groups);
	return -EPERM;
}

int sn_impersonate_principal(const struct sn_principal *p)
{
	int rc;

	if (!p)
		return fail_errno(EINVAL);
	if (saved.active)
		return fail_errno(EALREADY);
	rc = creds_save();
	if (rc == 0)
		rc = creds_enter(p);
	if (rc < 0) {
		creds_forget();
		return fail_errno(-rc);
	}
	saved.active = true;
	return 0;
}

/* The uid first: going back to fsuid 0 restores the capabilities
 * (CAP_DAC_OVERRIDE and the rest, capabilities(7)) that leaving it
 * cleared. A failed step leaves the thread impersonating, so a retry
 * runs them all again. */
int sn_revert_impersonation(void)
{
	if (!saved.active)
		return 0;
	if (!set_fsuid(saved.fsuid) || !set_fsgid(saved.fsgid) ||
	    !set_groups(saved.ngroups, saved.groups))
		return fail_errno(EPERM);
	creds_forget();
	return 0;
}

bool sn_impersonating(void)
{
	return saved.active;
}
