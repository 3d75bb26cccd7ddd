/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine on the datapath (ike_dp.h): struct ike_ops over keymgr.h,
 * and keymgr.h's upcalls into the engine. Acquires are queued here and
 * handed to the engine from the poll loop: they arrive from inside the
 * output path of the packet that raised them, where sending IKE's own
 * datagram would re-enter it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_dp.h"
#include "ike_crypto.h"
#include "ike_neg.h"
#include "ipsec_dp.h"
#include "keymgr.h"
#include "sn_sys.h"
#include "sockpol.h"

#define ACQ_QUEUE       64              /* acquires between two polls */
#define TRAPS_MAX       (IKE_CONF_MAX_CONNS * 2)
#define TRAP_REQID_BASE 0x10000u        /* reqids of configured children */
#define CRED_MAX        256
#define IDLE_TICK_MS    100             /* the longest ike_tick waits */

/* An acquire waiting for the poll loop: a copy of what the engine reads,
 * since the socket may go before then. */
struct acq {
	uint32_t pol_id;
	struct sn_flow flow;
	struct sn_sec_conf *sec;        /* a reference, NULL: a configured policy */
	struct sn_pol_tmpl tmpl;
	char target[SN_IPSEC_ID_MAX + 1];
	bool has_target;
};

struct trap {
	uint32_t reqid;
	uint16_t conn, child;           /* indexes into the conf */
	unsigned n_ids;
	uint32_t ids[2 * SN_KEYMGR_MAX_SEL];
};

static struct {
	bool running;
	struct ike *ike;
	const struct ike_conf *conf;    /* the engine's */
	struct acq q[ACQ_QUEUE];
	unsigned q_n;
	struct trap traps[TRAPS_MAX];
	unsigned n_traps;
	struct sn_ip self[8];
	unsigned n_self;
	uint64_t next_due;
	struct ike_dp_stats st;
} dp;

struct ike *ike_dp_engine(void)
{
	return dp.running ? dp.ike : NULL;
}

bool ike_dp_running(void)
{
	return dp.running;
}

const struct ike_dp_stats *ike_dp_stats(void)
{
	return &dp.st;
}

/* ---- struct ike_ops: the engine's view of the datapath ----------------------------- */

static uint64_t dp_now_ms(void *ctx)
{
	(void)ctx;
	return sn_sys_now_us() / 1000;
}

static int dp_send(void *ctx, const struct ike_addr *local, const struct ike_addr *remote,
		   const uint8_t *msg, size_t len)
{
	(void)ctx;
	return sn_keymgr_send(&local->ip, local->port, &remote->ip, remote->port, msg, len);
}

static int dp_child_add(void *ctx, const struct ike_child_install *c, uint64_t *handle)
{
	struct sn_sa_conf out = c->out, in = c->in;
	int rc;

	(void)ctx;
	if (c->reqid)
		out.reqid = in.reqid = c->reqid;
	rc = sn_keymgr_pair_add(&out, &in, c->sel, c->n_sel, handle);
	ike_wipe(&out, sizeof(out));
	ike_wipe(&in, sizeof(in));
	return rc;
}

static void dp_child_del(void *ctx, uint64_t handle)
{
	(void)ctx;
	sn_keymgr_pair_del(handle);
}

static uint64_t dp_child_last_used(void *ctx, uint64_t handle)
{
	int64_t idle = sn_keymgr_pair_idle_s(handle);
	uint64_t now = dp_now_ms(ctx);

	if (idle < 0 || (uint64_t)idle * 1000 > now)
		return 0;
	return now - (uint64_t)idle * 1000;
}

static void dp_acquire_done(void *ctx, uint64_t token, int err, const struct ike_result *r)
{
	(void)ctx;
	(void)r;                        /* kept by the engine: ike_peer_result */
	if (err)
		dp.st.acquires_failed++;
	sn_keymgr_acquire_done((uint32_t)token, err);
}

/* A child SA request for traffic no configured child covers: accepted
 * when a secured socket holds our end's port (a listener, a bound UDP
 * socket), else TS_UNACCEPTABLE. */
static bool dp_flow_secured(void *ctx, const struct sn_ip *local, const struct sn_ip *remote,
			    uint8_t proto, uint16_t lport, uint16_t rport)
{
	(void)ctx;
	(void)remote;
	(void)rport;
	return lport && sn_sockpol_port_held(local->family, proto, lport);
}

static const struct ike_ops dp_ops = {
	.flow_secured = dp_flow_secured,
	.send = dp_send,
	.child_add = dp_child_add,
	.child_del = dp_child_del,
	.child_last_used = dp_child_last_used,
	.acquire_done = dp_acquire_done,
	.now_ms = dp_now_ms,
};

/* ---- keymgr.h's upcalls -------------------------------------------------------------- */

static int km_acquire(void *ctx, const struct sn_keymgr_acquire *a)
{
	struct acq *q;

	(void)ctx;
	if (dp.q_n == ACQ_QUEUE) {
		dp.st.acquires_queued_full++;
		return -ENOBUFS;        /* back-pressure: the next packet asks again */
	}
	q = &dp.q[dp.q_n++];
	memset(q, 0, sizeof(*q));
	q->pol_id = a->pol_id;
	q->flow = a->flow;
	q->tmpl = a->tmpl;
	q->sec = a->sec ? sn_sec_conf_ref((struct sn_sec_conf *)a->sec) : NULL;
	if (a->target && a->target->len && a->target->len <= SN_IPSEC_ID_MAX) {
		memcpy(q->target, a->target->name, a->target->len);
		q->target[a->target->len] = '\0';
		q->has_target = true;
	}
	return 0;
}

static void km_input(void *ctx, const struct sn_ip *local, uint16_t lport,
		     const struct sn_ip *remote, uint16_t rport, const uint8_t *buf, size_t len,
		     bool encap)
{
	struct ike_addr l = { *local, lport }, r = { *remote, rport };

	(void)ctx;
	ike_input(dp.ike, &l, &r, buf, len, encap);
	dp.next_due = 0;                /* the engine may have armed a timer */
}

static void km_pair_event(void *ctx, uint64_t pair, enum sn_keymgr_ev ev)
{
	(void)ctx;
	ike_child_event(dp.ike, pair, ev == SN_KM_SOFT ? IKE_CHILD_SOFT : IKE_CHILD_HARD);
	dp.next_due = 0;
}

static const struct sn_keymgr_ops km_ops = {
	.acquire = km_acquire,
	.input = km_input,
	.pair_event = km_pair_event,
};

/* ---- Acquires, from the poll loop ------------------------------------------------------ */

/* The settings' credentials: user, domain, password back to back. */
struct creds {
	char user[CRED_MAX], domain[CRED_MAX], password[CRED_MAX];
};

static void cred_copy(char *dst, const uint8_t *src, uint32_t len)
{
	if (len >= CRED_MAX)
		len = 0;                /* sockpol.c bounds them; never truncate a secret */
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool creds_of(const struct sn_sec_conf *sec, struct creds *c)
{
	uint32_t u = sec->user_len, d = sec->domain_len, p = sec->password_len;

	if (!u || (uint64_t)u + d + p > sizeof(sec->creds))
		return false;
	cred_copy(c->user, sec->creds, u);
	cred_copy(c->domain, sec->creds + u, d);
	cred_copy(c->password, sec->creds + u + d, p);
	return true;
}

static bool key_set(const uint8_t *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (k[i])
			return true;
	return false;
}

static const struct trap *trap_of(uint32_t reqid)
{
	for (unsigned i = 0; i < dp.n_traps; i++)
		if (dp.traps[i].reqid == reqid)
			return &dp.traps[i];
	return NULL;
}

static void acquire_sec(struct ike_acquire *ia, const struct sn_sec_conf *sec, struct creds *c)
{
	ia->props = sec->n_props ? sec->props : NULL;
	ia->n_props = (uint8_t)sec->n_props;
	ia->flags = sec->flags;
	ia->ipsec_flags = sec->ipsec_flags;
	ia->mm_key = key_set(sec->mm_key, sizeof(sec->mm_key)) ? sec->mm_key : NULL;
	ia->transport = true;
	if (creds_of(sec, c)) {
		ia->user = c->user;
		ia->domain = c->domain[0] ? c->domain : NULL;
		ia->password = c->password;
	}
}

static void acquire_one(struct acq *q)
{
	struct ike_acquire ia = { .token = q->pol_id };
	const struct trap *t;
	struct creds c;
	int rc;

	sn_flow_ip(&q->flow, true, &ia.local.ip);
	sn_flow_ip(&q->flow, false, &ia.remote.ip);
	ia.family = q->flow.family;
	ia.proto = q->flow.proto;
	ia.lport = q->flow.sport;
	ia.rport = q->flow.dport;
	ia.target = q->has_target ? q->target : NULL;
	if (q->sec) {
		acquire_sec(&ia, q->sec, &c);
	} else if ((t = trap_of(q->tmpl.reqid))) {
		ia.conn = dp.conf->conns[t->conn].name;
		ia.child = dp.conf->conns[t->conn].children[t->child].name;
		ia.transport = dp.conf->conns[t->conn].children[t->child].mode == SN_MODE_TRANSPORT;
	}
	dp.st.acquires++;
	rc = ike_acquire(dp.ike, &ia);
	ike_wipe(&c, sizeof(c));
	if (rc && rc != -EAGAIN) {
		dp.st.acquires_failed++;
		sn_keymgr_acquire_done(q->pol_id, rc);
	}
}

static void acquires_run(void)
{
	unsigned n = dp.q_n;

	/* An acquire may raise another (a held packet flushed at once):
	 * take the batch first. */
	dp.q_n = 0;
	for (unsigned i = 0; i < n; i++) {
		struct acq q = dp.q[i];

		acquire_one(&q);
		if (q.sec)
			sn_sec_conf_put(q.sec);
	}
	if (n)
		dp.next_due = 0;
}

void ike_dp_poll(void)
{
	uint64_t now;

	if (!dp.running)
		return;
	if (dp.q_n)
		acquires_run();
	now = sn_sys_now_us() / 1000;
	if (now < dp.next_due)
		return;
	dp.st.ticks++;
	ike_tick(dp.ike);
	/* snctl's commands reach the engine directly: look again soon. */
	dp.next_due = ike_next_due(dp.ike);
	if (dp.next_due > now + IDLE_TICK_MS)
		dp.next_due = now + IDLE_TICK_MS;
}

/* ---- Configured children: trap policies and start_action = start ----------------------- */

static const struct sn_ip *self_of(uint8_t family)
{
	for (unsigned i = 0; i < dp.n_self; i++)
		if (dp.self[i].family == family)
			return &dp.self[i];
	return NULL;
}

static int trap_sels(const struct ike_conf_conn *cn, const struct ike_conf_child *ch,
		     struct sn_selector *sel, unsigned cap)
{
	const struct sn_ip *peer = cn->n_remote_addrs ? &cn->remote_addrs[0] : NULL;
	const struct sn_ip *self;
	struct ike_ts_set l, r;
	int rc;

	if (!peer || !(self = cn->n_local_addrs ? &cn->local_addrs[0] : self_of(peer->family)))
		return -EDESTADDRREQ;   /* a trap needs both ends known */
	rc = ike_ts_from_conf(ch->local_ts, ch->n_local_ts, self, &l);
	if (!rc)
		rc = ike_ts_from_conf(ch->remote_ts, ch->n_remote_ts, peer, &r);
	return rc ? rc : ike_ts_to_selectors(&l, &r, sel, cap);
}

static int trap_install(uint16_t ci, uint16_t hi, char *err, size_t errlen)
{
	const struct ike_conf_conn *cn = &dp.conf->conns[ci];
	const struct ike_conf_child *ch = &cn->children[hi];
	struct sn_selector sel[SN_KEYMGR_MAX_SEL];
	struct trap *t = &dp.traps[dp.n_traps];
	struct sn_pol_tmpl tmpl = { .proto = ch->proto, .mode = ch->mode };
	int n = trap_sels(cn, ch, sel, SN_KEYMGR_MAX_SEL), rc;

	if (n < 0 || dp.n_traps == TRAPS_MAX) {
		snprintf(err, errlen, "connection %s, child %s: start_action = trap: %s", cn->name,
			 ch->name, n < 0 ? strerror(-n) : "too many trapped children");
		return n < 0 ? n : -ENOSPC;
	}
	tmpl.reqid = TRAP_REQID_BASE + dp.n_traps;
	if (ch->mode == SN_MODE_TUNNEL) {
		tmpl.src = cn->n_local_addrs ? cn->local_addrs[0] : *self_of(cn->remote_addrs[0].family);
		tmpl.dst = cn->remote_addrs[0];
	}
	rc = sn_keymgr_trap_add(sel, (unsigned)n, &tmpl, t->ids);
	if (rc) {
		snprintf(err, errlen, "connection %s, child %s: trap policies: %s", cn->name,
			 ch->name, strerror(-rc));
		return rc;
	}
	t->reqid = tmpl.reqid;
	t->conn = ci;
	t->child = hi;
	t->n_ids = 2 * (unsigned)n;
	dp.n_traps++;
	return 0;
}

static int children_start(char *err, size_t errlen)
{
	for (uint16_t ci = 0; ci < dp.conf->n_conns; ci++) {
		const struct ike_conf_conn *cn = &dp.conf->conns[ci];

		for (uint16_t hi = 0; hi < cn->n_children; hi++) {
			int rc = 0;

			if (cn->children[hi].start_action == IKE_START_TRAP)
				rc = trap_install(ci, hi, err, errlen);
			else if (cn->children[hi].start_action == IKE_START_START &&
				 (rc = ike_initiate(dp.ike, cn->children[hi].name)) != 0)
				snprintf(err, errlen, "connection %s, child %s: start: %s", cn->name,
					 cn->children[hi].name, strerror(-rc));
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- Start and stop ------------------------------------------------------------------ */

static int conf_read(const char *path, struct ike_conf **out, char *err, size_t errlen)
{
	struct ike_conf *c = ike_conf_new();
	int rc;

	if (!c) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	rc = ike_conf_load(c, path, err, errlen);
	if (rc) {
		ike_conf_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* Certificates and keys are not loaded yet (ike_cert.c is not in). */
int ike_dp_check(const char *path, char *err, size_t errlen)
{
	struct ike_conf *c;
	int rc = conf_read(path, &c, err, errlen);

	if (!rc)
		ike_conf_free(c);
	return rc;
}

int ike_dp_start(const char *path, const char *keylog, const struct sn_ip *self,
		 unsigned n_self, char *err, size_t errlen)
{
	struct ike_conf *c;
	int rc;

	if (dp.running)
		return -EALREADY;
	rc = conf_read(path, &c, err, errlen);
	if (rc)
		return rc;
	memset(&dp, 0, sizeof(dp));
	dp.n_self = n_self < 8 ? n_self : 8;
	memcpy(dp.self, self, dp.n_self * sizeof(*self));
	dp.conf = c;
	rc = ike_new(&dp.ike, c, &dp_ops, err, errlen);     /* c is the engine's now */
	if (rc)
		return rc;
	rc = sn_keymgr_register(&km_ops, c->settings.port ? c->settings.port : SN_IKE_PORT);
	if (rc) {
		snprintf(err, errlen, "UDP port %u: %s", c->settings.port, strerror(-rc));
		goto fail;
	}
	dp.running = true;
	if (keylog && *keylog && (rc = ike_keylog(dp.ike, keylog)) != 0) {
		snprintf(err, errlen, "--keylog %s: %s", keylog, strerror(-rc));
		goto fail;
	}
	rc = children_start(err, errlen);
	if (rc)
		goto fail;
	return 0;
fail:
	ike_dp_stop();
	return rc;
}

void ike_dp_stop(void)
{
	for (unsigned i = 0; i < dp.q_n; i++)
		if (dp.q[i].sec)
			sn_sec_conf_put(dp.q[i].sec);
	for (unsigned i = 0; i < dp.n_traps; i++)
		sn_keymgr_trap_del(dp.traps[i].ids, dp.traps[i].n_ids);
	ike_free(dp.ike);               /* deletes its pairs through dp_child_del */
	if (dp.running)
		sn_keymgr_unregister();
	memset(&dp, 0, sizeof(dp));
}
