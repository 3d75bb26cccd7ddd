/* SPDX-License-Identifier: BSD-3-Clause */
/* Listings and counters of the IPsec instance (snctl, --stats). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "ipsec_dp.h"
#include "sockpol.h"
#include "sn_ipsec_api.h"
#include "xfrm_apply.h"

static const char *ip_str(const struct sn_ip *ip, char *buf, size_t len)
{
	if (!ip->family)
		return "any";
	return inet_ntop(ip->family, ip->addr, buf, (socklen_t)len) ? buf : "?";
}

static const char *enc_name(enum sn_enc_alg a)
{
	static const char *const n[] = { "none", "ecb(cipher_null)", "cbc(aes)",
		"rfc4106(gcm(aes))", "rfc7539esp(chacha20,poly1305)" };

	return (unsigned)a < sizeof(n) / sizeof(n[0]) ? n[a] : "?";
}

static const char *auth_name(enum sn_auth_alg a)
{
	static const char *const n[] = { "none", "hmac(sha1)", "hmac(sha256)" };

	return (unsigned)a < sizeof(n) / sizeof(n[0]) ? n[a] : "?";
}

static void counters(FILE *out, const uint64_t *ctr)
{
	for (int i = 0; i < SN_IC_MAX; i++)
		if (ctr[i])
			fprintf(out, " %s %" PRIu64, sn_ic_descs[i].name, ctr[i]);
	fputc('\n', out);
}

/* ---- SAs as `ip [-s] xfrm state` prints them -------------------------------------- */

/* Keys are never printed (not even to the control socket): their length. */
static void sa_algs(FILE *out, const struct sn_sa_conf *c)
{
	if (sn_enc_is_aead(c->enc)) {
		fprintf(out, "\taead %s [%u-bit key] %u\n", enc_name(c->enc), c->enc_key_len * 8u,
			c->icv_len * 8u);
		return;
	}
	if (c->enc != SN_ENC_NONE)
		fprintf(out, "\tenc %s [%u-bit key]\n", enc_name(c->enc), c->enc_key_len * 8u);
	if (c->auth != SN_AUTH_NONE)
		fprintf(out, "\tauth-trunc %s [%u-bit key] %u\n", auth_name(c->auth),
			c->auth_key_len * 8u, c->icv_len * 8u);
}

static void sa_sel(FILE *out, const struct sn_selector *sel)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	if (!sel->src.family && !sel->dst.family)
		return;
	fprintf(out, "\tsel src %s/%u dst %s/%u", ip_str(&sel->src, s, sizeof(s)), sel->src_plen,
		ip_str(&sel->dst, d, sizeof(d)), sel->dst_plen);
	if (sel->proto)
		fprintf(out, " proto %u sport %u dport %u", sel->proto, sel->sport, sel->dport);
	fputc('\n', out);
}

static bool seen_at(const struct sn_replay *r, uint64_t seq)
{
	return r->bits[(seq >> 6) & r->word_mask] >> (seq & 63) & 1;
}

/* The window as 32-bit words, newest first: bit b of word w is sequence
 * number seq - 32w - b (seq being the highest one accepted). */
static void replay_bitmap(FILE *out, const struct sn_replay *r)
{
	unsigned words = (r->window + 31) / 32;

	fprintf(out, "\t replay-window %u, bitmap-length %u", r->window, words);
	for (unsigned w = 0; w < words; w++) {
		uint32_t v = 0;

		for (unsigned b = 0; b < 32; b++) {
			uint64_t back = 32ull * w + b;

			if (back < r->window && back < r->top && seen_at(r, r->top - back))
				v |= 1u << b;
		}
		fprintf(out, "%s%08x", w % 8 ? " " : "\n\t ", v);
	}
	fputc('\n', out);
}

static void sa_replay(FILE *out, const struct sn_sa *sa)
{
	const struct sn_replay *r = &sa->replay;

	fprintf(out, "\tanti-replay%s context: seq-hi 0x%x, seq 0x%x, oseq-hi 0x%x, oseq 0x%x\n",
		sa->conf.flags & SN_SA_F_ESN ? " esn" : "", (uint32_t)(r->top >> 32),
		(uint32_t)r->top, (uint32_t)(sa->seq_out >> 32), (uint32_t)sa->seq_out);
	if (r->off)
		fputs("\t replay-window 0: anti-replay off, every sequence number accepted\n", out);
	else
		replay_bitmap(out, r);
}

static void limit_pair(FILE *out, const char *what, uint64_t soft, uint64_t hard,
		       const char *unit)
{
	fprintf(out, "\t  %s: soft ", what);
	fprintf(out, soft ? "%" PRIu64 : "(INF)", soft);
	fprintf(out, "(%s), hard ", unit);
	fprintf(out, hard ? "%" PRIu64 : "(INF)", hard);
	fprintf(out, "(%s)\n", unit);
}

static void sa_lifetime(FILE *out, const struct sn_sa *sa, uint64_t now)
{
	const struct sn_life *l = &sa->life;
	const struct sn_lifetime *m = &l->lim;
	uint64_t dl = sn_life_deadline(l);

	fputs("\tlifetime config:\n", out);
	limit_pair(out, "limit", m->soft_bytes, m->hard_bytes, "bytes");
	limit_pair(out, "limit", m->soft_packets, m->hard_packets, "packets");
	limit_pair(out, "expire add", m->soft_add_s, m->hard_add_s, "sec");
	limit_pair(out, "expire use", m->soft_use_s, m->hard_use_s, "sec");
	fprintf(out, "\tlifetime current:\n\t  %" PRIu64 "(bytes), %" PRIu64 "(packets)\n",
		l->bytes, l->packets);
	fprintf(out, "\t  add %" PRIu64 "s ago, use ", now - l->added);
	if (l->used)
		fprintf(out, "%" PRIu64 "s ago", now - l->first_use);
	else
		fputc('-', out);
	if (dl == UINT64_MAX)
		fputs(", time left (INF)", out);
	else
		fprintf(out, ", next limit in %" PRIu64 "s", dl > now ? dl - now : 0);
	fprintf(out, "%s\n", l->hard ? " (hard expired)" : l->soft_reported ? " (soft expired)" : "");
}

static void sa_stats(FILE *out, const struct sn_sa *sa)
{
	uint64_t drops = 0;

	for (int i = 0; i < SN_IC_MAX; i++)
		if (!strncmp(sn_ic_descs[i].name, "drop_", 5))
			drops += sa->ctr[i];
	fprintf(out, "\tstats:\n\t  in %" PRIu64 "(packets) %" PRIu64 "(bytes), out %" PRIu64
		"(packets) %" PRIu64 "(bytes), drops %" PRIu64 "\n",
		sa->ctr[SN_IC_IN_PACKETS], sa->ctr[SN_IC_IN_BYTES], sa->ctr[SN_IC_OUT_PACKETS],
		sa->ctr[SN_IC_OUT_BYTES], drops);
	for (int i = 0; i < SN_IC_MAX; i++)
		if (sa->ctr[i]) {
			fputs("\t ", out);
			counters(out, sa->ctr);
			break;
		}
}

void sn_xfrm_print_sa(FILE *out, const struct sn_sa *sa, uint64_t now, bool stats)
{
	const struct sn_sa_conf *c = &sa->conf;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	fprintf(out, "src %s dst %s\n", ip_str(&c->src, s, sizeof(s)), ip_str(&c->dst, d, sizeof(d)));
	fprintf(out, "\tproto %s spi 0x%08x reqid %u mode %s\n",
		c->proto == SN_IPPROTO_ESP ? "esp" : "ah", c->spi, c->reqid,
		c->mode == SN_MODE_TUNNEL ? "tunnel" : "transport");
	fprintf(out, "\treplay-window %u%s%s\n", sa->replay.off ? 0 : sa->replay.window,
		sa->replay.off ? " (anti-replay off)" : "", c->flags & SN_SA_F_ESN ? " flag esn" : "");
	sa_algs(out, c);
	if (c->encap)
		fprintf(out, "\tencap type espinudp sport %u dport %u\n", c->encap_sport,
			c->encap_dport);
	sa_sel(out, &c->sel);
	if (c->peer_id[0])
		fprintf(out, "\tpeer-id %s\n", c->peer_id);
	if (!stats)
		return;
	fprintf(out, "\tbackend %s\n", sa->crypto ? sn_crypto_backend_name(sa->crypto->backend) : "-");
	sa_replay(out, sa);
	sa_lifetime(out, sa, now);
	sa_stats(out, sa);
}

static int show_sa(const struct sn_sa *sa, void *ctx)
{
	sn_xfrm_print_sa(ctx, sa, sn_ipsec_now_s(), true);
	return 0;
}

void sn_ipsec_list_sas(FILE *out)
{
	if (sn_ipsec.sad)
		sn_sad_foreach(sn_ipsec.sad, show_sa, out);
}

/* ---- Policies as `ip [-s] xfrm policy` prints them ----------------------------------- */

static const char *const dir_names[] = { "in", "out", "fwd" };

static void pol_tmpl(FILE *out, const struct sn_pol_tmpl *t)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	fprintf(out, "\ttmpl src %s dst %s\n\t\tproto %s spi 0x%08x reqid %u mode %s%s\n",
		t->src.family ? ip_str(&t->src, s, sizeof(s)) : "0.0.0.0",
		t->dst.family ? ip_str(&t->dst, d, sizeof(d)) : "0.0.0.0",
		t->proto == SN_IPPROTO_AH ? "ah" : "esp", t->spi, t->reqid,
		t->mode == SN_MODE_TUNNEL ? "tunnel" : "transport", t->optional ? " level use" : "");
}

void sn_xfrm_print_policy(FILE *out, const struct sn_policy *p, bool stats)
{
	const struct sn_selector *sel = &p->conf.sel;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	fprintf(out, "src %s/%u dst %s/%u", ip_str(&sel->src, s, sizeof(s)), sel->src_plen,
		ip_str(&sel->dst, d, sizeof(d)), sel->dst_plen);
	if (sel->proto)
		fprintf(out, " proto %u", sel->proto);
	if (sel->sport)
		fprintf(out, " sport %u", sel->sport);
	if (sel->dport)
		fprintf(out, " dport %u", sel->dport);
	fprintf(out, "\n\tdir %s priority %u ptype main index %u%s%s\n",
		dir_names[p->conf.dir % 3], p->conf.priority, p->id,
		p->conf.action == SN_POL_DISCARD ? " action block" : "", p->owner ? " socket" : "");
	if (p->conf.action == SN_POL_PROTECT)
		pol_tmpl(out, &p->conf.tmpl);
	if (!stats)
		return;
	fprintf(out, "\theld %u\n\t", p->qlen);
	counters(out, p->ctr);
}

static int show_pol(const struct sn_policy *p, void *ctx)
{
	sn_xfrm_print_policy(ctx, p, true);
	return 0;
}

void sn_ipsec_list_policies(FILE *out)
{
	for (int d = SN_DIR_IN; d <= SN_DIR_FWD && sn_ipsec.spd; d++)
		sn_spd_foreach(sn_ipsec.spd, (enum sn_pol_dir)d, show_pol, out);
}

static int show_sock(const struct sn_sockpol *sp, void *ctx)
{
	const struct sn_sock_flow *f = &sp->sf;
	const struct sn_sa *sa = sn_sad_get(sn_ipsec.sad, sp->out_sa);
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	FILE *out = ctx;

	fprintf(out, "%s %s.%u %s.%u flags 0x%x ipsec-flags 0x%x proposals %u names %u",
		f->proto == 6 ? "tcp" : "udp", ip_str(&f->local, l, sizeof(l)), f->lport,
		f->remote_any ? "any" : ip_str(&f->remote, r, sizeof(r)), f->rport,
		sp->conf->flags, sp->conf->ipsec_flags, sp->conf->n_props, sp->conf->n_names);
	if (sa)
		fprintf(out, " spi_out 0x%08x", sa->conf.spi);
	if (sp->clear_out || sp->clear_in)
		fprintf(out, " clear%s%s", sp->clear_out ? " out" : "", sp->clear_in ? " in" : "");
	if (sp->waiting)
		fputs(" waiting-for-sa", out);
	if (sp->last_error)
		fprintf(out, " last_error %s", strerror(sp->last_error));
	fputc('\n', out);
	return 0;
}

void sn_ipsec_list_sockets(FILE *out)
{
	sn_sockpol_foreach(show_sock, out);
}

struct sum_ctx {
	uint64_t sum[SN_IC_MAX];
};

static int sum_sa(const struct sn_sa *sa, void *ctx)
{
	struct sum_ctx *s = ctx;

	for (int i = 0; i < SN_IC_MAX; i++)
		s->sum[i] += sa->ctr[i];
	return 0;
}

static int sum_pol(const struct sn_policy *p, void *ctx)
{
	struct sum_ctx *s = ctx;

	for (int i = 0; i < SN_IC_MAX; i++)
		s->sum[i] += p->ctr[i];
	return 0;
}

void sn_ipsec_stats(void (*fn)(void *ctx, const char *name, uint64_t v), void *ctx)
{
	struct sum_ctx s;
	char n[64];

	memset(&s, 0, sizeof(s));
	if (sn_ipsec.spd) {
		const uint64_t *g = sn_spd_counters(sn_ipsec.spd);

		for (int i = 0; i < SN_IC_MAX; i++)
			s.sum[i] += g[i];
		for (int d = SN_DIR_IN; d <= SN_DIR_FWD; d++)
			sn_spd_foreach(sn_ipsec.spd, (enum sn_pol_dir)d, sum_pol, &s);
	}
	if (sn_ipsec.sad) {
		const uint64_t *g = sn_sad_counters(sn_ipsec.sad);  /* deleted SAs' */

		for (int i = 0; i < SN_IC_MAX; i++)
			s.sum[i] += g[i];
		sn_sad_foreach(sn_ipsec.sad, sum_sa, &s);
	}
	for (int i = 0; i < SN_IC_MAX; i++) {
		snprintf(n, sizeof(n), "ipsec.%s", sn_ic_descs[i].name);
		fn(ctx, n, s.sum[i]);
	}
	fn(ctx, "ipsec.sas", sn_ipsec.sad ? sn_sad_count(sn_ipsec.sad) : 0);
}

int sn_ipsec_sa_del(uint32_t spi, int family, const void *dst, uint8_t proto)
{
	struct sn_ip ip = { .family = (uint8_t)family };

	if (!sn_ipsec.sad)
		return -ENETDOWN;
	memcpy(ip.addr, dst, family == AF_INET ? 4 : 16);
	return sn_sad_del(sn_ipsec.sad, spi, &ip, proto);
}

unsigned sn_ipsec_overhead(int family, const void *src, const void *dst,
			   uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct sn_flow f = { .family = (uint8_t)family, .proto = proto,
			     .sport = sport, .dport = dport };
	size_t n = family == AF_INET ? 4 : 16;

	if (!sn_ipsec.up)
		return 0;
	memcpy(f.src, src, n);
	memcpy(f.dst, dst, n);
	return sn_ipsec_overhead_for(&f);
}
