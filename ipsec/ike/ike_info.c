// SPDX-License-Identifier: BSD-3-Clause
/*
 * INFORMATIONAL (RFC 7296 1.4): Delete of the IKE SA or of child SAs in
 * both directions, the empty request (liveness, 2.4); snctl's views
 * (ike_list_sas, ike_child_info, ike_stats) and its commands.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_sa.h"

static struct ike_child *child_by_spi_out(struct ike_ikesa *sa, uint32_t spi)
{
	for (struct ike_child *c = sa->children; c; c = c->next)
		if (c->spi_out == spi)
			return c;
	return NULL;
}

static void child_remove(struct ike_ikesa *sa, struct ike_child *victim)
{
	struct ike_child **pp = &sa->children;

	while (*pp && *pp != victim)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = victim->next;
	sa->ike->ops.child_del(sa->ike->ops.ctx, victim->handle);
	sa->n_children--;
	sa->ike->n_children--;
	IKE_CTR(sa->ike, child_deleted);
	free(victim);
}

/* 1.4.1: the peer deletes its inbound SAs (our outbound); we answer with
 * the SPIs of our inbound halves. */
static void delete_children(struct ike_ikesa *sa, const struct ike_delete *d, uint8_t *spis,
			    uint16_t *n)
{
	for (uint16_t i = 0; i < d->nspi && *n < 64; i++) {
		const uint8_t *p = d->spis + (size_t)i * 4;
		uint32_t spi = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		struct ike_child *c = child_by_spi_out(sa, spi);

		if (!c)
			continue;
		uint32_t in = c->spi_in;

		spis[*n * 4] = (uint8_t)(in >> 24);
		spis[*n * 4 + 1] = (uint8_t)(in >> 16);
		spis[*n * 4 + 2] = (uint8_t)(in >> 8);
		spis[*n * 4 + 3] = (uint8_t)in;
		(*n)++;
		child_remove(sa, c);
	}
}

void ike_info_request(struct ike_ikesa *sa, const struct ike_chain *in, uint32_t msgid)
{
	uint8_t mem[512], spis[64 * 4];
	uint16_t n = 0;
	bool ike_gone = false;
	struct ike_buf inner;

	for (unsigned i = 0; i < in->n; i++) {
		struct ike_delete d;

		if (in->pl[i].type != IKE_PL_DELETE ||
		    ike_parse_delete(in->pl[i].body, in->pl[i].len, &d) != IKE_P_OK)
			continue;
		IKE_CTR(sa->ike, delete_received);
		if (d.proto == IKE_PROTO_IKE)
			ike_gone = true;
		else if (d.spi_size == 4)
			delete_children(sa, &d, spis, &n);
	}
	ike_build_init(&inner, mem, sizeof(mem));
	if (n) {
		struct ike_delete d = { .proto = IKE_PROTO_ESP, .spi_size = 4, .nspi = n, .spis = spis };

		if (ike_build_delete(&inner, &d) == IKE_B_OK)
			IKE_CTR(sa->ike, delete_sent);
	}
	if (ike_send_sk(sa, IKE_EXCH_INFORMATIONAL, true, msgid, &inner) != 0)
		IKE_CTR(sa->ike, drop_malformed);
	if (ike_gone)
		sa->state = IKE_ST_DEAD;
}

void ike_info_response(struct ike_ikesa *sa, const struct ike_chain *in)
{
	if (sa->deleting)
		sa->state = IKE_ST_DEAD;
}

/* A request of ours: Delete of the IKE SA (everything goes) or empty. */
static int info_send(struct ike_ikesa *sa, bool delete_ike)
{
	uint8_t mem[64];
	struct ike_buf inner;
	struct ike_delete d = { .proto = IKE_PROTO_IKE };

	if (sa->state != IKE_ST_ESTABLISHED || sa->req.len)
		return -EBUSY;
	ike_build_init(&inner, mem, sizeof(mem));
	if (delete_ike) {
		if (ike_build_delete(&inner, &d) != IKE_B_OK)
			return -EMSGSIZE;
		IKE_CTR(sa->ike, delete_sent);
		sa->deleting = true;
	} else {
		IKE_CTR(sa->ike, dpd_sent);
	}
	sa->req_id = sa->next_req_id++;
	return ike_send_sk(sa, IKE_EXCH_INFORMATIONAL, false, sa->req_id, &inner);
}

int ike_sa_liveness(struct ike_ikesa *sa)
{
	return info_send(sa, false);
}

/* ---- snctl ----------------------------------------------------------------- */

static bool matches(const struct ike_ikesa *sa, const char *what)
{
	char ip[INET6_ADDRSTRLEN] = "";

	inet_ntop(sa->remote.ip.family == AF_INET ? AF_INET : AF_INET6, sa->remote.ip.addr, ip,
		  sizeof(ip));
	return strcmp(sa->conn->name, what) == 0 || strcmp(ip, what) == 0;
}

int ike_terminate(struct ike *ike, const char *what)
{
	int found = -ENOENT;

	for (struct ike_ikesa *sa = ike->list; sa; sa = sa->lnext)
		if (matches(sa, what) && sa->state == IKE_ST_ESTABLISHED && !sa->deleting)
			found = info_send(sa, true);
	return found;
}

int ike_initiate(struct ike *ike, const char *what)
{
	const struct ike_conf_conn *cc = ike_find_conn_name(ike, what);
	struct ike_acquire a = { .token = 0, .conn = what };

	if (!cc || cc->n_remote_addrs == 0)
		return -ENOENT;
	a.remote.ip = cc->remote_addrs[0];
	if (cc->n_local_addrs)
		a.local.ip = cc->local_addrs[0];
	return ike_acquire(ike, &a);
}

int ike_rekey(struct ike *ike, const char *what)
{
	return -ENOTSUP;        /* CREATE_CHILD_SA: not yet */
}

void ike_child_event(struct ike *ike, uint64_t handle, enum ike_child_ev ev)
{
	(void)ike;
	(void)handle;
	(void)ev;               /* rekey and idle deletion: not yet */
}

int ike_keylog(struct ike *ike, const char *path)
{
	return path ? -ENOTSUP : 0;
}

static const char *state_str(enum ike_state s)
{
	static const char *const n[] = { "CONNECTING", "CONNECTING", "CONNECTING", "ESTABLISHED",
					 "DELETING" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

static void list_children(const struct ike_ikesa *sa, FILE *out, uint64_t now)
{
	char buf[96];

	for (const struct ike_child *c = sa->children; c; c = c->next)
		fprintf(out, "  child: %s, %s, SPIs %08x_i %08x_o, %s, age %llus\n",
			ike_chosen_str(&c->chosen, buf, sizeof(buf)),
			c->transport ? "TRANSPORT" : "TUNNEL", c->spi_in, c->spi_out,
			"INSTALLED", (unsigned long long)((now - c->established_ms) / 1000));
}

void ike_list_sas(const struct ike *ike, FILE *out)
{
	uint64_t now = ike->ops.now_ms(ike->ops.ctx);
	char ip[INET6_ADDRSTRLEN], buf[96];

	for (const struct ike_ikesa *sa = ike->list; sa; sa = sa->lnext) {
		inet_ntop(sa->remote.ip.family == AF_INET ? AF_INET : AF_INET6, sa->remote.ip.addr,
			  ip, sizeof(ip));
		fprintf(out, "%s: #%016llx_i%s %016llx_r%s, %s, peer %s[%u]\n", sa->conn->name,
			(unsigned long long)sa->spi_i, sa->initiator ? "*" : "",
			(unsigned long long)sa->spi_r, sa->initiator ? "" : "*", state_str(sa->state),
			ip, sa->remote.port);
		fprintf(out, "  local '%s' remote '%s' auth %s, %s, age %llus, rekey in -\n",
			sa->local_id, sa->peer_id, sa->peer_auth == IKE_AUTH_NULL ? "null" : "psk",
			ike_chosen_str(&sa->chosen, buf, sizeof(buf)),
			(unsigned long long)((now - sa->created_ms) / 1000));
		list_children(sa, out, now);
	}
}

int ike_child_info(const struct ike *ike, uint32_t spi_in, struct ike_child_info *info)
{
	for (const struct ike_ikesa *sa = ike->list; sa; sa = sa->lnext)
		for (const struct ike_child *c = sa->children; c; c = c->next) {
			if (c->spi_in != spi_in)
				continue;
			memset(info, 0, sizeof(*info));
			info->auth_method = sa->peer_auth;
			snprintf(info->peer_id, sizeof(info->peer_id), "%s", sa->peer_id);
			info->encr = sa->chosen.encr;
			info->encr_keylen = sa->chosen.encr_keylen;
			info->prf = sa->chosen.prf;
			info->integ = sa->chosen.integ;
			info->dh = sa->chosen.dh;
			info->ike_spi_i = sa->spi_i;
			info->ike_spi_r = sa->spi_r;
			info->spi_in = c->spi_in;
			info->spi_out = c->spi_out;
			info->life_s = c->life_s;
			info->rekey_s = c->rekey_s;
			info->established_ms = c->established_ms;
			return 0;
		}
	return -ENOENT;
}

static const char *const ctr_names[IKE_CTR__COUNT] = {
#define IKE_CTR_NAME(name, desc) #name,
	IKE_COUNTERS(IKE_CTR_NAME)
#undef IKE_CTR_NAME
};

void ike_stats(const struct ike *ike, void (*fn)(void *ctx, const char *name, uint64_t v),
	       void *ctx)
{
	fn(ctx, "sas", ike->n_sas);
	fn(ctx, "halfopen", ike->n_halfopen);
	fn(ctx, "children", ike->n_children);
	for (unsigned i = 0; i < IKE_CTR__COUNT; i++)
		fn(ctx, ctr_names[i], ike->ctr[i]);
}
