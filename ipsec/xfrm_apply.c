/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `ip xfrm state|policy add|update|delete|get|deleteall|list|flush` on a
 * SAD and an SPD (see xfrm_apply.h). Deletions first collect what they
 * delete, then delete it: nothing is removed under a walk.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "keylog.h"
#include "xfrm_apply.h"

__attribute__((format(printf, 3, 4)))
static int say(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return 0;
}

static const char *proto_name(uint8_t proto)
{
	return proto == SN_IPPROTO_AH ? "ah" : "esp";
}

static const char *addr_str(const struct sn_ip *ip, char *buf, size_t len)
{
	if (!ip->family || !inet_ntop(ip->family, ip->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* "spi 0x00001000 dst 192.0.2.2 proto esp": which SA a message is about. */
static const char *sa_id(const struct sn_sa_conf *c, char *buf, size_t len)
{
	char d[INET6_ADDRSTRLEN];

	snprintf(buf, len, "spi 0x%08x dst %s proto %s", c->spi, addr_str(&c->dst, d, sizeof(d)),
		 proto_name(c->proto));
	return buf;
}

/* ---- SAs ------------------------------------------------------------------------ */

static int sa_error(struct sn_xfrm_db *db, const char *cmd, const struct sn_sa_conf *c,
		    int rc, char *why, size_t len)
{
	char id[96];

	sa_id(c, id, sizeof(id));
	if (rc == -EEXIST)
		say(why, len, "state %s: an SA with %s exists (state update replaces it)", cmd, id);
	else if (rc == -ENOENT)
		say(why, len, "state %s: no SA with %s", cmd, id);
	else if (rc == -ENOSPC)
		say(why, len, "state %s: no room for another SA (%u installed)", cmd,
		    sn_sad_count(db->sad));
	else if (db->install_why && db->install_why[0])
		say(why, len, "state %s: %s", cmd, db->install_why);
	else if (rc == -EINVAL)
		say(why, len, "state %s: %s: this combination of fields is not valid", cmd, id);
	else
		say(why, len, "state %s: %s: %s", cmd, id, strerror(-rc));
	return rc;
}

static int sa_add(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e, char *why, size_t len)
{
	bool update = e->op == SN_XFRM_UPDATE;
	int rc = update ? sn_sad_update(db->sad, &e->sa, db->now, NULL)
			: sn_sad_add(db->sad, &e->sa, db->now, NULL);

	if (rc)
		return sa_error(db, update ? "update" : "add", &e->sa, rc, why, len);
	sn_keylog_sa(&e->sa);
	db->sas_added++;
	db->changed++;
	return 0;
}

static bool sa_matches(const struct sn_sa *sa, const struct sn_xfrm_entry *e)
{
	const struct sn_sa_conf *c = &sa->conf, *f = &e->sa;
	uint32_t m = e->match;

	return (!(m & SN_XFRM_M_SRC) || sn_ip_equal(&c->src, &f->src)) &&
	       (!(m & SN_XFRM_M_DST) || sn_ip_equal(&c->dst, &f->dst)) &&
	       (!(m & SN_XFRM_M_PROTO) || c->proto == f->proto) &&
	       (!(m & SN_XFRM_M_SPI) || c->spi == f->spi) &&
	       (!(m & SN_XFRM_M_MODE) || c->mode == f->mode) &&
	       (!(m & SN_XFRM_M_REQID) || c->reqid == f->reqid);
}

/* delete, get: the one SA of the ID (and of src, if given). */
static struct sn_sa *sa_one(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e)
{
	struct sn_sa *sa = sn_sad_lookup(db->sad, e->sa.spi, &e->sa.dst, e->sa.proto);

	return sa && sa_matches(sa, e) ? sa : NULL;
}

struct sa_walk {
	struct sn_xfrm_db *db;
	const struct sn_xfrm_entry *e;
	struct sn_sa_ref *refs;         /* deleteall, flush: what to delete */
	uint32_t n;
};

static int sa_visit(const struct sn_sa *sa, void *ctx)
{
	struct sa_walk *w = ctx;

	if (!sa_matches(sa, w->e))
		return 0;
	if (w->refs)
		w->refs[w->n++] = sn_sa_ref(sa);
	else if (w->db->out)
		sn_xfrm_print_sa(w->db->out, sa, w->db->now, false);
	return 0;
}

static int sa_delete_matching(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e)
{
	struct sa_walk w = { db, e, NULL, 0 };
	uint32_t n = sn_sad_count(db->sad);

	if (n == 0)
		return 0;
	w.refs = malloc(n * sizeof(*w.refs));
	if (!w.refs)
		return -ENOMEM;
	(void)sn_sad_foreach(db->sad, sa_visit, &w);
	for (uint32_t i = 0; i < w.n; i++)
		sn_sad_remove(db->sad, sn_sad_get(db->sad, w.refs[i]));
	db->changed += w.n;
	free(w.refs);
	return 0;
}

static int sa_op(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e, char *why, size_t len)
{
	struct sa_walk w = { db, e, NULL, 0 };
	struct sn_sa *sa;

	switch (e->op) {
	case SN_XFRM_ADD:
	case SN_XFRM_UPDATE:
		return sa_add(db, e, why, len);
	case SN_XFRM_DELETE:
	case SN_XFRM_GET:
		sa = sa_one(db, e);
		if (!sa)
			return sa_error(db, e->op == SN_XFRM_GET ? "get" : "delete", &e->sa,
					-ENOENT, why, len);
		if (e->op == SN_XFRM_GET && db->out)
			sn_xfrm_print_sa(db->out, sa, db->now, false);
		if (e->op == SN_XFRM_DELETE) {
			sn_sad_remove(db->sad, sa);
			db->changed++;
		}
		return 0;
	case SN_XFRM_LIST:
		return sn_sad_foreach(db->sad, sa_visit, &w);
	case SN_XFRM_DELETEALL:
	case SN_XFRM_FLUSH:
		return sa_delete_matching(db, e);
	}
	return -EINVAL;
}

/* ---- Policies ---------------------------------------------------------------------- */

static bool sel_equal(const struct sn_selector *a, const struct sn_selector *b)
{
	return sn_ip_equal(&a->src, &b->src) && sn_ip_equal(&a->dst, &b->dst) &&
	       a->src_plen == b->src_plen && a->dst_plen == b->dst_plen &&
	       a->proto == b->proto && a->sport == b->sport && a->dport == b->dport;
}

/* "allow" in a filter is protect or bypass; "block" is discard. */
static bool action_matches(enum sn_pol_action have, enum sn_pol_action want)
{
	return (have == SN_POL_DISCARD) == (want == SN_POL_DISCARD);
}

static bool pol_matches(const struct sn_policy *p, const struct sn_xfrm_entry *e)
{
	const struct sn_selector *s = &p->conf.sel, *f = &e->pol.sel;
	uint32_t m = e->match;

	if (p->owner)
		return false;           /* a socket's own */
	return (!(m & SN_XFRM_M_SRC) || (sn_ip_equal(&s->src, &f->src) &&
					 s->src_plen == f->src_plen)) &&
	       (!(m & SN_XFRM_M_DST) || (sn_ip_equal(&s->dst, &f->dst) &&
					 s->dst_plen == f->dst_plen)) &&
	       (!(m & SN_XFRM_M_PROTO) || s->proto == f->proto) &&
	       (!(m & SN_XFRM_M_SPORT) || s->sport == f->sport) &&
	       (!(m & SN_XFRM_M_DPORT) || s->dport == f->dport) &&
	       (!(m & SN_XFRM_M_DIR) || p->conf.dir == e->pol.dir) &&
	       (!(m & SN_XFRM_M_INDEX) || p->id == e->index) &&
	       (!(m & SN_XFRM_M_PRIO) || p->conf.priority == e->pol.priority) &&
	       (!(m & SN_XFRM_M_ACTION) || action_matches(p->conf.action, e->pol.action));
}

struct pol_find {
	const struct sn_pol_conf *conf;
	const struct sn_xfrm_entry *e;
	struct sn_policy *found;
};

static int pol_same(const struct sn_policy *p, void *ctx)
{
	struct pol_find *f = ctx;

	if (p->owner || !sel_equal(&p->conf.sel, &f->conf->sel))
		return 0;
	f->found = (struct sn_policy *)p;       /* the SPD is ours to change */
	return 1;
}

/* The configured policy with this selector and direction (add, update,
 * delete and get by SELECTOR dir DIR), or by index. */
static struct sn_policy *pol_one(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e)
{
	struct pol_find f = { &e->pol, e, NULL };
	struct sn_policy *p;

	if (e->match & SN_XFRM_M_INDEX) {
		p = sn_spd_get(db->spd, e->index);
		return p && pol_matches(p, e) ? p : NULL;
	}
	(void)sn_spd_foreach(db->spd, e->pol.dir, pol_same, &f);
	return f.found;
}

static const char *const dir_names[] = { "in", "out", "fwd" };

static int pol_error(const char *cmd, const struct sn_xfrm_entry *e, int rc, char *why,
		     size_t len)
{
	const struct sn_selector *s = &e->pol.sel;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], what[200];

	if (e->match & SN_XFRM_M_INDEX)
		snprintf(what, sizeof(what), "index %u", e->index);
	else
		snprintf(what, sizeof(what), "src %s/%u dst %s/%u proto %u dir %s",
			 addr_str(&s->src, a, sizeof(a)), s->src_plen,
			 addr_str(&s->dst, b, sizeof(b)), s->dst_plen, s->proto,
			 dir_names[e->pol.dir % 3]);
	if (rc == -EEXIST)
		say(why, len, "policy %s: a policy %s exists (policy update replaces it)", cmd, what);
	else if (rc == -ENOENT)
		say(why, len, "policy %s: no policy %s", cmd, what);
	else if (rc == -ENOSPC)
		say(why, len, "policy %s: no room for another policy", cmd);
	else if (rc == -EINVAL)
		say(why, len, "policy %s: %s: this combination of fields is not valid", cmd, what);
	else
		say(why, len, "policy %s: %s: %s", cmd, what, strerror(-rc));
	return rc;
}

/* update: the new policy replaces the old one (its held packets are
 * freed); if the new one cannot be added, the old one is put back. With
 * none, it is added, as the kernel's XFRM_MSG_UPDPOLICY does. */
static int pol_update(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e)
{
	struct sn_policy *old = pol_one(db, e);
	struct sn_pol_conf keep;
	int rc;

	if (!old)
		return sn_spd_add(db->spd, &e->pol, NULL);
	keep = old->conf;
	rc = sn_spd_del(db->spd, old->id);
	if (rc == 0)
		rc = sn_spd_add(db->spd, &e->pol, NULL);
	if (rc && sn_spd_add(db->spd, &keep, NULL) != 0)
		return -EIO;            /* cannot happen: its slot was just freed */
	return rc;
}

struct pol_walk {
	struct sn_xfrm_db *db;
	const struct sn_xfrm_entry *e;
	uint32_t *ids;                  /* deleteall, flush: what to delete */
	uint32_t n;
};

static int pol_visit(const struct sn_policy *p, void *ctx)
{
	struct pol_walk *w = ctx;

	if (!pol_matches(p, w->e))
		return 0;
	if (w->ids)
		w->ids[w->n++] = p->id;
	else if (w->db->out)
		sn_xfrm_print_policy(w->db->out, p, false);
	return 0;
}

static int pol_walk_all(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e, bool del)
{
	struct pol_walk w = { db, e, NULL, 0 };
	uint32_t n = 0;
	int rc = 0;

	for (int d = SN_DIR_IN; d <= SN_DIR_FWD; d++)
		n += sn_spd_count(db->spd, (enum sn_pol_dir)d);
	if (del && n == 0)
		return 0;
	if (del && !(w.ids = malloc(n * sizeof(*w.ids))))
		return -ENOMEM;
	for (int d = SN_DIR_IN; d <= SN_DIR_FWD; d++)
		(void)sn_spd_foreach(db->spd, (enum sn_pol_dir)d, pol_visit, &w);
	for (uint32_t i = 0; i < w.n && rc == 0; i++)
		rc = sn_spd_del(db->spd, w.ids[i]);
	db->changed += w.n;
	free(w.ids);
	return rc;
}

static int pol_op(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e, char *why, size_t len)
{
	static const char *const cmds[] = { "add", "update", "delete", "get" };
	struct sn_policy *p;
	int rc;

	switch (e->op) {
	case SN_XFRM_ADD:
	case SN_XFRM_UPDATE:
		rc = e->op == SN_XFRM_ADD ? sn_spd_add(db->spd, &e->pol, NULL) : pol_update(db, e);
		break;
	case SN_XFRM_DELETE:
	case SN_XFRM_GET:
		p = pol_one(db, e);
		rc = p ? 0 : -ENOENT;
		if (p && e->op == SN_XFRM_GET && db->out)
			sn_xfrm_print_policy(db->out, p, false);
		if (p && e->op == SN_XFRM_DELETE)
			rc = sn_spd_del(db->spd, p->id);
		break;
	default:
		return pol_walk_all(db, e, e->op != SN_XFRM_LIST);
	}
	if (rc)
		return pol_error(cmds[e->op], e, rc, why, len);
	if (e->op != SN_XFRM_GET)
		db->changed++;
	return 0;
}

int sn_xfrm_apply(struct sn_xfrm_db *db, const struct sn_xfrm_entry *e, char *why,
		  size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (!db || !e || !db->sad || !db->spd)
		return -EINVAL;
	switch (e->kind) {
	case SN_XFRM_SA:
		return sa_op(db, e, why, whylen);
	case SN_XFRM_POLICY:
		return pol_op(db, e, why, whylen);
	case SN_XFRM_EMPTY:
		return 0;
	}
	return -EINVAL;
}
