/* Listings and counters of the IPsec instance (snctl, --stats). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "ipsec_dp.h"
#include "sockpol.h"
#include "sn_ipsec_api.h"

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

static int show_sa(const struct sn_sa *sa, void *ctx)
{
	const struct sn_sa_conf *c = &sa->conf;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	FILE *out = ctx;

	fprintf(out, "src %s dst %s proto %s spi 0x%08x reqid %u mode %s%s%s\n",
		ip_str(&c->src, s, sizeof(s)), ip_str(&c->dst, d, sizeof(d)),
		c->proto == SN_IPPROTO_ESP ? "esp" : "ah", c->spi, c->reqid,
		c->mode == SN_MODE_TUNNEL ? "tunnel" : "transport",
		c->flags & SN_SA_F_ESN ? " flag esn" : "", c->encap ? " encap espinudp" : "");
	fprintf(out, "\tenc %s auth %s icv %u backend %s seq_out %" PRIu64 "%s%s\n\t",
		enc_name(c->enc), auth_name(c->auth), c->icv_len * 8u,
		sa->crypto ? sn_crypto_backend_name(sa->crypto->backend) : "-", sa->seq_out,
		c->peer_id[0] ? " peer-id " : "", c->peer_id);
	counters(out, sa->ctr);
	return 0;
}

void sn_ipsec_list_sas(FILE *out)
{
	if (sn_ipsec.sad)
		sn_sad_foreach(sn_ipsec.sad, show_sa, out);
}

static const char *const dir_names[] = { "in", "out", "fwd" };
static const char *const act_names[] = { "protect", "allow", "block" };

static int show_pol(const struct sn_policy *p, void *ctx)
{
	const struct sn_selector *sel = &p->conf.sel;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	FILE *out = ctx;

	fprintf(out, "src %s/%u dst %s/%u proto %u sport %u dport %u dir %s priority %u action %s",
		ip_str(&sel->src, s, sizeof(s)), sel->src_plen,
		ip_str(&sel->dst, d, sizeof(d)), sel->dst_plen, sel->proto, sel->sport,
		sel->dport, dir_names[p->conf.dir % 3], p->conf.priority,
		act_names[p->conf.action % 3]);
	if (p->conf.action == SN_POL_PROTECT)
		fprintf(out, " tmpl proto %s mode %s reqid %u",
			p->conf.tmpl.proto == SN_IPPROTO_AH ? "ah" : "esp",
			p->conf.tmpl.mode == SN_MODE_TUNNEL ? "tunnel" : "transport",
			p->conf.tmpl.reqid);
	fprintf(out, " held %u%s\n\t", p->qlen, p->owner ? " socket" : "");
	counters(out, p->ctr);
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
