/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket security calls (sealnet/security.h) and their hooks in the
 * socket layer: settings are checked and kept with the socket, then
 * instantiated as socket policies (ipsec/sockpol.h) when the socket's
 * flow is known: a server's at bind, a client's just before its SYN, a
 * UDP socket's at bind or its first send. A TCP socket's policy hangs on
 * its pcb (lwIP ext arg), so it lives exactly as long as the connection,
 * and a listener hands one to each connection before the SYN-ACK.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sealnet/security.h"
#include "sealnet/socket.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/udp.h"
#include "sn_api.h"
#include "sn_secpol.h"
#include "ipsec_dp.h"
#include "sockpol.h"

static u8_t ext_id = LWIP_TCP_PCB_NUM_EXT_ARG_ID_INVALID;

/* ---- Helpers --------------------------------------------------------------- */

static void ip_from_lwip(const ip_addr_t *a, struct sn_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (IP_IS_V6(a)) {
		ip->family = AF_INET6;
		memcpy(ip->addr, ip_2_ip6(a)->addr, 16);
	} else {
		ip->family = AF_INET;
		memcpy(ip->addr, &ip_2_ip4(a)->addr, 4);
	}
}

static void flow_of(struct sn_sock *s, struct sn_sock_flow *sf, const ip_addr_t *lip,
		    u16_t lport, const ip_addr_t *rip, u16_t rport)
{
	memset(sf, 0, sizeof(*sf));
	sf->family = (uint8_t)s->family;
	sf->proto = s->kind == SN_FD_TCP ? IP_PROTO_TCP : IP_PROTO_UDP;
	ip_from_lwip(lip, &sf->local);
	sf->local.family = (uint8_t)s->family;
	sf->lport = lport;
	if (rip) {
		ip_from_lwip(rip, &sf->remote);
		sf->rport = rport;
	} else {
		sf->remote.family = (uint8_t)s->family;
		sf->remote_any = true;
	}
}

/* A sockaddr of the socket's family: address and port. Shorter than its
 * family's sockaddr is "a buffer passed was too small" (EMSGSIZE, as for
 * the other structures); any other failure is a bad argument. */
static int peer_from_sockaddr(const struct sn_sock *s, const struct sockaddr *sa, size_t len,
			      struct sn_ip *ip, uint16_t *port)
{
	size_t need = s->family == AF_INET6 ? sizeof(struct sockaddr_in6)
					    : sizeof(struct sockaddr_in);
	ip_addr_t a;

	if (len < sizeof(sa_family_t))
		return -EMSGSIZE;
	if (sa->sa_family == s->family && len < need)
		return -EMSGSIZE;
	if (len > sizeof(struct sockaddr_storage) ||
	    sn_sockaddr_to_ip(s, sa, (socklen_t)len, &a, port))
		return -EINVAL;
	ip_from_lwip(&a, ip);
	return 0;
}

static struct sn_sockpol *tcp_sp(const struct tcp_pcb *pcb)
{
	if (!pcb || ext_id == LWIP_TCP_PCB_NUM_EXT_ARG_ID_INVALID)
		return NULL;
	return tcp_ext_arg_get(pcb, ext_id);
}

static struct sn_sockpol *sock_sp(const struct sn_sock *s)
{
	return s->kind == SN_FD_TCP ? tcp_sp(s->pcb.tcp) : s->usp;
}

/* ---- TCP pcb attachment ------------------------------------------------------------ */

static void sp_destroyed(u8_t id, void *data)
{
	(void)id;
	sn_sockpol_free(data);
}

static err_t sp_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb);

static const struct tcp_ext_arg_callbacks sp_callbacks = {
	.destroy = sp_destroyed,
	.passive_open = sp_passive_open,
};

/* Why a secured exchange with the peer failed, in words: the query's
 * last_error_text and the log line of a failed connect. */
static void why_text(const struct sn_sec_conf *c, int err, const char *refused_id,
		     const struct sn_ip *peer, uint16_t port, char *buf, size_t len)
{
	const struct sn_target *t = sn_sec_name_for(c, peer, port);

	/* IKEv2 knows better: the notify the peer sent, or its own cause. */
	if (sn_ike_why(peer, buf, len))
		return;
	switch (err) {
	case EACCES:
		snprintf(buf, len, "peer identity %s is not the target name %s",
			 refused_id && refused_id[0] ? refused_id : "(unknown)",
			 t ? t->name : "(none)");
		break;
	case ECONNREFUSED:
		snprintf(buf, len, "no SA with the peer (none installed and no key manager, "
			 "or negotiation failed)");
		break;
	case ETIMEDOUT:
		snprintf(buf, len, "no SA negotiated within %d s", SN_SECURITY_NEGOTIATE_TIMEOUT_S);
		break;
	default:
		snprintf(buf, len, "%s", strerror(err));
		break;
	}
}

/* The socket keeps why its secured connect failed (the pcb and its policy
 * go now); one log line says it. */
static void connect_failed(struct sn_sock *s, const struct tcp_pcb *pcb,
			   const struct sn_sockpol *sp, int err)
{
	char why[SN_ERROR_TEXT_MAX];
	struct sn_ip peer;

	ip_from_lwip(&pcb->remote_ip, &peer);
	why_text(sp->conf, err, sp->refused_id, &peer, pcb->remote_port, why, sizeof(why));
	fprintf(stderr, "sealnet: secured connect to %s port %u failed: %s\n",
		ipaddr_ntoa(&pcb->remote_ip), pcb->remote_port, why);
	if (!s)
		return;
	s->sec_err = err;
	free(s->sec_why);
	s->sec_why = strdup(why);
}

/* A secured connect that cannot get an SA fails here, from the poll
 * loop (never inside lwIP's output path). Established connections are
 * left to TCP: their data waits, retransmitted, and never leaves clear. */
static void sp_failed(void *owner, int err)
{
	struct tcp_pcb *pcb = owner;

	if (pcb->state == SYN_SENT) {
		connect_failed(pcb->callback_arg, pcb, tcp_sp(pcb), err);
		tcp_abort(pcb);
	} else if (pcb->state == SYN_RCVD) {
		tcp_abort(pcb);
	}
}

static void attach(struct tcp_pcb *pcb, struct sn_sockpol *sp)
{
	sp->owner = pcb;
	tcp_ext_arg_set_callbacks(pcb, ext_id, &sp_callbacks);
	tcp_ext_arg_set(pcb, ext_id, sp);
}

/* lwIP's setter refuses NULL callbacks: clear the slot directly. */
static void detach(struct tcp_pcb *pcb)
{
	pcb->ext_args[ext_id].callbacks = NULL;
	pcb->ext_args[ext_id].data = NULL;
}

static void detach_free(struct tcp_pcb *pcb)
{
	struct sn_sockpol *sp = tcp_sp(pcb);

	if (!sp)
		return;
	detach(pcb);
	sn_sockpol_free(sp);
}

static err_t sp_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
	struct sn_sockpol *lsp = tcp_ext_arg_get((struct tcp_pcb *)lpcb, id), *sp;
	struct sn_sock_flow sf = lsp->sf;

	ip_from_lwip(&cpcb->local_ip, &sf.local);
	ip_from_lwip(&cpcb->remote_ip, &sf.remote);
	sf.lport = cpcb->local_port;
	sf.rport = cpcb->remote_port;
	sf.remote_any = false;
	/* Accepted connections inherit the listener's settings. */
	if (sn_sockpol_create(&sp, lsp->conf, &sf, sp_failed, cpcb))
		return ERR_MEM;
	attach(cpcb, sp);
	return ERR_OK;
}

/* ---- Hooks from the socket layer ----------------------------------------------------- */

void sn_sec_init(void)
{
	/* lwIP hands out ids from a counter that never goes back: one for
	 * the life of the process, across stack restarts. */
	if (ext_id == LWIP_TCP_PCB_NUM_EXT_ARG_ID_INVALID)
		ext_id = tcp_ext_arg_alloc_id();
}

static bool port_in_use(int family, uint8_t proto, u16_t port)
{
	bool v6 = family == AF_INET6;

	struct tcp_pcb *const *lists[] = { &tcp_bound_pcbs, &tcp_active_pcbs, &tcp_tw_pcbs,
					   (struct tcp_pcb *const *)&tcp_listen_pcbs.pcbs };

	if (proto == IP_PROTO_UDP) {
		for (struct udp_pcb *u = udp_pcbs; u; u = u->next)
			if (u->local_port == port && IP_IS_V6(&u->local_ip) == v6)
				return true;
		return false;
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (const struct tcp_pcb *p = *lists[i]; p; p = p->next)
			if (p->local_port == port && IP_IS_V6(&p->local_ip) == v6)
				return true;
	return false;
}

int sn_sec_bind_check(struct sn_sock *s, u16_t port)
{
	uint8_t proto = s->kind == SN_FD_TCP ? IP_PROTO_TCP : IP_PROTO_UDP;

	if (port == 0)
		return 0;
	if (sn_sockpol_port_held((uint8_t)s->family, proto, port))
		return -EADDRINUSE;
	/* SO_EXCLUSIVEADDRUSE, as WSASetSocketSecurity sets it (per address
	 * family: an IPv6 socket here is IPv6 only). */
	return s->sec && port_in_use(s->family, proto, port) ? -EADDRINUSE : 0;
}

/* The local address traffic to rip gets when the socket's is the
 * wildcard: its route's source address, what tcp_connect will take. A TCP
 * client's flow has it from the start, so the policy, and the query of a
 * SKIP_FILTER_INSTANTIATION socket (which looks configured policies up
 * with it), see the address the packets carry. */
static const ip_addr_t *connect_local(const ip_addr_t *lip, const ip_addr_t *rip)
{
	const ip_addr_t *l = NULL;
	struct netif *n;

	if (!ip_addr_isany(lip))
		return lip;
	n = ip_route(lip, rip);
	if (n)
		l = ip_netif_get_local_ip(n, rip);
	return l ? l : lip;
}

static int instantiate(struct sn_sock *s, const ip_addr_t *rip, u16_t rport)
{
	const ip_addr_t *lip = s->kind == SN_FD_TCP ? &s->pcb.tcp->local_ip
						    : &s->pcb.udp->local_ip;
	u16_t lport = s->kind == SN_FD_TCP ? s->pcb.tcp->local_port : s->pcb.udp->local_port;
	struct sn_sock_flow sf;
	struct sn_sockpol *sp;
	int rc;

	if (s->kind == SN_FD_TCP && rip)
		lip = connect_local(lip, rip);
	flow_of(s, &sf, lip, lport, rip, rport);
	rc = sn_sockpol_create(&sp, s->sec, &sf, s->kind == SN_FD_TCP ? sp_failed : NULL, NULL);
	if (rc)
		return rc;
	if (s->kind == SN_FD_TCP) {
		detach_free(s->pcb.tcp);
		attach(s->pcb.tcp, sp);
	} else {
		sn_sockpol_free(s->usp);
		s->usp = sp;
	}
	return 0;
}

int sn_sec_bound(struct sn_sock *s)
{
	if (!s->sec || sock_sp(s))
		return 0;
	return instantiate(s, NULL, 0);
}

int sn_sec_listen_begin(struct sn_sock *s, void **saved)
{
	struct sn_sockpol *sp;
	int rc;

	/* A secured listener without its policy would accept anything:
	 * make it now (bind could not), or do not listen (fail closed). */
	if (s->sec && !tcp_sp(s->pcb.tcp)) {
		rc = instantiate(s, NULL, 0);
		if (rc)
			return rc;
	}
	/* tcp_listen copies the ext args and then frees the old pcb, which
	 * would call our destroy: take the policy off first. */
	sp = tcp_sp(s->pcb.tcp);
	if (sp)
		detach(s->pcb.tcp);
	*saved = sp;
	return 0;
}

void sn_sec_listen_end(struct sn_sock *s, void *saved)
{
	if (saved && s->pcb.tcp)
		attach(s->pcb.tcp, saved);
}

int sn_sec_tcp_connect(struct sn_sock *s, const ip_addr_t *ip, u16_t port)
{
	err_t e;

	if (!s->sec)
		return 0;
	if (!s->pcb.tcp->local_port) {
		e = tcp_bind(s->pcb.tcp, s->family == AF_INET6 ? IP6_ADDR_ANY : IP4_ADDR_ANY, 0);
		if (e != ERR_OK)
			return -sn_err_from_lwip(e);
	}
	s->sec_err = 0;
	free(s->sec_why);
	s->sec_why = NULL;
	return instantiate(s, ip, port);
}

static void flow_to(const struct sn_sock *s, const ip_addr_t *ip, u16_t port, struct sn_flow *f)
{
	struct sn_ip dst;

	memset(f, 0, sizeof(*f));
	ip_from_lwip(ip, &dst);
	f->family = (uint8_t)s->family;
	f->proto = IP_PROTO_UDP;
	f->sport = s->pcb.udp->local_port;
	f->dport = port;
	memcpy(f->dst, dst.addr, 16);
}

int sn_sec_udp_ready(struct sn_sock *s, const ip_addr_t *ip, u16_t port, bool sending)
{
	struct sn_flow f;
	err_t e;
	int rc;

	if (!s->sec)
		return 0;
	/* lwIP would bind and send in one call: bind first, so the policy
	 * covers the very first datagram. */
	if (!s->pcb.udp->local_port) {
		e = udp_bind(s->pcb.udp, s->family == AF_INET6 ? IP6_ADDR_ANY : IP4_ADDR_ANY, 0);
		if (e != ERR_OK)
			return -sn_err_from_lwip(e);
	}
	if (!s->usp) {
		rc = instantiate(s, NULL, 0);
		if (rc)
			return rc;
	}
	/* Skipped instantiation: configured policies decide, not ours. */
	if (!sending || !ip || (s->sec->ipsec_flags & SN_SEC_SKIP_FILTERS))
		return 0;
	flow_to(s, ip, port, &f);
	return sn_sockpol_sendable(s->usp, &f, sn_ipsec_have_acquire());
}

void sn_sec_sock_free(struct sn_sock *s)
{
	sn_sockpol_free(s->usp);
	s->usp = NULL;
	sn_sec_conf_put(s->sec);
	s->sec = NULL;
	free(s->sec_why);
	s->sec_why = NULL;
}

/* ---- sn_set_socket_security ------------------------------------------------------------- */

static int settings_size_check(const struct sn_socket_security_settings *st, size_t len)
{
	const struct sn_socket_security_settings_ipsec *ip = (const void *)st;
	uint64_t strings;

	if (len < sizeof(*st))
		return -EMSGSIZE;
	if (st->protocol == SN_SECURITY_PROTOCOL_DEFAULT)
		return len == sizeof(*st) ? 0 : -EINVAL;
	if (st->protocol != SN_SECURITY_PROTOCOL_IPSEC)
		return -EINVAL;
	if (len < sizeof(*ip))
		return -EMSGSIZE;
	strings = (uint64_t)ip->user_name_len + ip->domain_name_len + ip->password_len;
	if (strings > SN_CREDENTIALS_MAX || len != sizeof(*ip) + strings)
		return -EINVAL;
	return 0;
}

static bool reserved_zero(const struct sn_socket_security_settings_ipsec *ip)
{
	static const struct sn_policy_key zero;

	return ip->reserved2 == 0 && memcmp(&ip->reserved, &zero, sizeof(zero)) == 0;
}

static int conf_from_ipsec(struct sn_sec_conf *c, const struct sn_socket_security_settings_ipsec *ip)
{
	uint32_t n = ip->user_name_len + ip->domain_name_len + ip->password_len;

	if (ip->ipsec_flags & ~0xfu || !reserved_zero(ip))
		return -EINVAL;
	if (memchr(ip->all_strings, '\0', n))
		return -EINVAL;
	c->ipsec_flags = ip->ipsec_flags;
	c->user_len = ip->user_name_len;
	c->domain_len = ip->domain_name_len;
	c->password_len = ip->password_len;
	c->creds_len = n;
	memcpy(c->creds, ip->all_strings, n);
	return sn_secpol_fill(c, &ip->mm_policy_key, &ip->qm_policy_key);
}

static int conf_from(const struct sn_socket_security_settings *st, size_t len,
		     struct sn_sec_conf **out)
{
	struct sn_sec_conf *c;
	int rc;

	if (st) {
		rc = settings_size_check(st, len);
		if (rc)
			return rc;
		if (st->flags & ~(uint32_t)(SN_SETTINGS_GUARANTEE_ENCRYPTION |
					    SN_SETTINGS_ALLOW_INSECURE))
			return -EINVAL;
	}
	c = sn_sec_conf_new();
	if (!c)
		return -ENOMEM;
	c->flags = st ? st->flags : 0;
	if (st && st->protocol == SN_SECURITY_PROTOCOL_IPSEC)
		rc = conf_from_ipsec(c, (const void *)st);
	else
		rc = sn_secpol_fill(c, NULL, NULL);
	if (rc) {
		sn_sec_conf_put(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int when_check(const struct sn_sock *s)
{
	if (s->kind == SN_FD_TCP) {
		if (s->state == SN_TCP_CONNECTED || s->state == SN_TCP_CONNECTING)
			return -EISCONN;
		if (s->state != SN_TCP_NEW || !s->pcb.tcp || s->pcb.tcp->local_port)
			return -EINVAL;
		return 0;
	}
	if (s->udp_connected)
		return -EISCONN;
	return s->pcb.udp && s->pcb.udp->local_port ? -EINVAL : 0;
}

int sn_set_socket_security(int fd, const struct sn_socket_security_settings *settings,
			   size_t len)
{
	struct sn_sock *s = sn_sock_get(fd);
	struct sn_sec_conf *c;
	int rc;

	if (!s)
		return -1;
	if (s->family != AF_INET && s->family != AF_INET6)
		return sn_err(EAFNOSUPPORT);
	/* Once per socket; the settings --secure gave it implicitly are
	 * replaced (their --peer-name names stay). */
	if (s->sec && !s->sec_implicit)
		return sn_err(EINVAL);
	rc = when_check(s);
	if (!rc)
		rc = conf_from(settings, len, &c);
	if (rc)
		return sn_err(-rc);
	if (s->sec_implicit) {
		sn_sec_conf_put(s->sec);
		s->sec_implicit = false;
		s->sec = c;
		rc = sn_sec_default_names(s);
		return rc ? sn_err(-rc) : 0;
	}
	s->sec = c;
	return 0;
}

/* ---- Target names ------------------------------------------------------------------------ */

static int target_check(const struct sn_sock *s, const struct sn_socket_peer_target_name *t,
			size_t len)
{
	if (len < sizeof(*t))
		return -EMSGSIZE;
	if (t->name_len == 0 || t->name_len > SN_IDENTITY_MAX || len != sizeof(*t) + t->name_len)
		return -EINVAL;
	if (t->protocol != SN_SECURITY_PROTOCOL_DEFAULT && t->protocol != SN_SECURITY_PROTOCOL_IPSEC)
		return -EINVAL;
	if (memchr(t->name, '\0', t->name_len) || !s->sec)
		return -EINVAL;
	/* WSASetSocketPeerTargetName: not on a connected socket, whether
	 * connection-oriented or connectionless. */
	if (s->kind == SN_FD_TCP && (s->state == SN_TCP_CONNECTED || s->state == SN_TCP_CONNECTING))
		return -EISCONN;
	if (s->kind == SN_FD_UDP && s->udp_connected)
		return -EISCONN;
	return 0;
}

int sn_set_socket_peer_target_name(int fd, const struct sn_socket_peer_target_name *target,
				   size_t len)
{
	struct sn_sock *s = sn_sock_get(fd);
	struct sn_target t;
	int rc;

	if (!s)
		return -1;
	if (!target)
		return sn_err(EFAULT);
	rc = target_check(s, target, len);
	if (rc)
		return sn_err(-rc);
	memset(&t, 0, sizeof(t));
	if (peer_from_sockaddr(s, (const struct sockaddr *)&target->peer, sizeof(target->peer),
			       &t.addr, &t.port))
		return sn_err(EINVAL);
	if (s->kind == SN_FD_UDP && sn_ip_is_any(&t.addr) && t.port == 0)
		return sn_err(EINVAL);
	t.len = (uint16_t)target->name_len;
	memcpy(t.name, target->name, t.len);
	rc = sn_sec_name_set(s->sec, &t);
	return rc ? sn_err(-rc) : 0;
}

int sn_delete_socket_peer_target_name(int fd, const struct sockaddr *peer_addr,
				      socklen_t addr_len)
{
	struct sn_sock *s = sn_sock_get(fd);
	struct sn_ip ip;
	uint16_t port;
	int rc;

	if (!s)
		return -1;
	if (!peer_addr)
		return sn_err(EFAULT);
	rc = peer_from_sockaddr(s, peer_addr, addr_len, &ip, &port);
	if (rc)
		return sn_err(-rc);
	if (!s->sec)
		return sn_err(EINVAL);
	rc = sn_sec_name_del(s->sec, &ip, port);
	return rc ? sn_err(-rc) : 0;
}

/* ---- Query ------------------------------------------------------------------------------- */

static uint32_t cipher_of(const struct sn_sa_conf *c)
{
	uint8_t key = c->enc_key_len - (sn_enc_is_aead(c->enc) ? SN_IPSEC_SALT_LEN : 0);

	switch (c->enc) {
	case SN_ENC_AES_GCM:
		return key == 32 ? SN_CIPHER_AES_GCM_256 : SN_CIPHER_AES_GCM_128;
	case SN_ENC_CHACHA20_POLY1305:
		return SN_CIPHER_CHACHA20_POLY1305;
	case SN_ENC_AES_CBC:
		return key == 32 ? SN_CIPHER_AES_CBC_256 : SN_CIPHER_AES_CBC_128;
	default:
		return SN_CIPHER_NONE;
	}
}

static uint32_t integrity_of(const struct sn_sa_conf *c)
{
	return c->auth == SN_AUTH_HMAC_SHA1_96 ? SN_INTEGRITY_HMAC_SHA1_96
	     : c->auth == SN_AUTH_HMAC_SHA256_128 ? SN_INTEGRITY_HMAC_SHA256_128
	     : SN_INTEGRITY_NONE;
}

static uint64_t left(uint64_t limit, uint64_t used)
{
	if (!limit)
		return UINT64_MAX;
	return used >= limit ? 0 : limit - used;
}

static void lifetimes(const struct sn_sa *sa, struct sn_socket_security_query_info *info)
{
	const struct sn_life *l = &sa->life;
	uint64_t now = sn_ipsec_now_s(), age = now - l->added;

	info->seconds_left = left(l->lim.soft_add_s, age);
	if (l->used && l->lim.soft_use_s) {
		uint64_t u = left(l->lim.soft_use_s, now - l->first_use);

		info->seconds_left = u < info->seconds_left ? u : info->seconds_left;
	}
	info->bytes_left = left(l->lim.soft_bytes, l->bytes);
}

static void fill_sa(const struct sn_sa *out, const struct sn_sa *in,
		    struct sn_socket_security_query_info *info)
{
	const struct sn_sa_conf *c = &out->conf;
	const char *id = in && in->conf.peer_id[0] ? in->conf.peer_id : c->peer_id;

	info->flags |= SN_INFO_CONNECTION_SECURED;
	if (c->proto == SN_IPPROTO_ESP && c->enc != SN_ENC_NULL)
		info->flags |= SN_INFO_CONNECTION_ENCRYPTED;
	info->transform = c->proto == SN_IPPROTO_AH ? SN_TRANSFORM_AH : SN_TRANSFORM_ESP;
	info->mode = c->mode == SN_MODE_TUNNEL ? SN_IPSEC_MODE_TUNNEL : SN_IPSEC_MODE_TRANSPORT;
	info->cipher = cipher_of(c);
	info->integrity = integrity_of(c);
	info->spi_out = c->spi;
	info->spi_in = in ? in->conf.spi : 0;
	info->udp_encap = c->encap;
	snprintf(info->peer_identity, sizeof(info->peer_identity), "%s", id);
	lifetimes(out, info);
}

static void fill_tokens(const struct sn_socket_security_query_template *t,
			struct sn_socket_security_query_info *info)
{
	struct sn_principal *p;

	if (!info->peer_identity[0])
		return;
	p = sn_principal_lookup(info->peer_identity);
	if (!p)
		return;
	/* The peer's identity maps to a local principal it can be
	 * impersonated as. */
	info->flags |= SN_INFO_CONNECTION_IMPERSONATED;
	if (!t || !t->token_access_mask) {
		sn_principal_release(p);
		return;
	}
	info->peer_machine_token = p;
	/* The user an EAP round proved, where it maps; else the machine. */
	if (info->peer_user_identity[0])
		info->peer_application_token = sn_principal_lookup(info->peer_user_identity);
	if (!info->peer_application_token)
		info->peer_application_token = sn_principal_lookup(info->peer_identity);
}

/* The peer a query or impersonation is about: TCP's own, UDP's from addr. */
static int query_peer(const struct sn_sock *s, const struct sockaddr *addr, size_t len,
		      struct sn_ip *ip, uint16_t *port)
{
	if (s->kind == SN_FD_TCP) {
		/* A reset connection says so, as sn_recv does (and keeps
		 * saying it, as WSAQuerySocketSecurity does). */
		if (s->state == SN_TCP_CLOSED && s->closed_err)
			return -s->closed_err;
		if (s->state != SN_TCP_CONNECTED || !s->pcb.tcp)
			return -ENOTCONN;
		ip_from_lwip(&s->pcb.tcp->remote_ip, ip);
		*port = s->pcb.tcp->remote_port;
		return 0;
	}
	if (!addr)
		return -EINVAL;
	return peer_from_sockaddr(s, addr, len, ip, port);
}

static int query_check(const struct sn_sock *s, const struct sn_socket_security_query_template *t,
		       size_t tlen, struct sn_socket_security_query_info *info, size_t *info_len)
{
	if (!info_len)
		return -EFAULT;
	if (!info || *info_len < sizeof(*info)) {
		*info_len = sizeof(*info);
		return -EMSGSIZE;
	}
	if (t && tlen < sizeof(*t))
		return -EMSGSIZE;
	if (t && t->protocol != SN_SECURITY_PROTOCOL_DEFAULT &&
	    t->protocol != SN_SECURITY_PROTOCOL_IPSEC)
		return -EINVAL;
	if (s->kind == SN_FD_UDP && !t)
		return -EINVAL;
	return 0;
}

static void ip_to_lwip(const struct sn_ip *ip, ip_addr_t *a)
{
	if (ip->family == AF_INET6) {
		IP_ADDR6(a, 0, 0, 0, 0);
		memcpy(ip_2_ip6(a)->addr, ip->addr, 16);
	} else {
		uint32_t v4;

		memcpy(&v4, ip->addr, 4);
		ip_addr_set_ip4_u32_val(*a, v4);
	}
}

/* SKIP_FILTER_INSTANTIATION, UDP bound to the wildcard: configured
 * policies protect its datagrams by the source address each one gets, so
 * the query looks them up with the address a datagram to peer would
 * carry (as a TCP client's flow has it from its connect). */
static struct sn_sa *udp_skip_out_sa(const struct sn_sock *s, const struct sn_sockpol *sp,
				     const struct sn_ip *peer, uint16_t port)
{
	struct sn_sock_flow sf = sp->sf;
	ip_addr_t rip;

	ip_to_lwip(peer, &rip);
	ip_from_lwip(connect_local(&s->pcb.udp->local_ip, &rip), &sf.local);
	return sn_ipsec_global_out_sa(&sf, peer, port);
}

static void query_fill(struct sn_sock *s, const struct sn_ip *peer, uint16_t port,
		       const struct sn_socket_security_query_template *t,
		       struct sn_socket_security_query_info *info)
{
	struct sn_sockpol *sp = sock_sp(s);
	struct sn_sa *out = NULL, *in = NULL;

	info->protocol = SN_SECURITY_PROTOCOL_IPSEC;
	info->seconds_left = info->bytes_left = UINT64_MAX;
	info->last_error = sn_sockpol_peer_error(peer);
	if (sp && sp->last_error)
		info->last_error = sp->last_error;
	if (info->last_error)
		why_text(s->sec, info->last_error, sp ? sp->refused_id : NULL, peer, port,
			 info->last_error_text, sizeof(info->last_error_text));
	if (!sp)
		return;
	sn_sockpol_resolve(sp, peer, port, &out, &in);
	if (s->kind == SN_FD_UDP && (sp->conf->ipsec_flags & SN_SEC_SKIP_FILTERS) &&
	    sn_ip_is_any(&sp->sf.local))
		out = udp_skip_out_sa(s, sp, peer, port);
	if (!out || !in)
		return;
	fill_sa(out, in, info);
	sn_ike_query_fill(in->conf.spi, info);
	fill_tokens(t, info);
}

int sn_query_socket_security(int fd, const struct sn_socket_security_query_template *tmpl,
			     size_t tlen, struct sn_socket_security_query_info *info,
			     size_t *info_len)
{
	struct sn_sock *s = sn_sock_get(fd);
	struct sn_ip peer;
	uint16_t port = 0;
	int rc;

	if (!s)
		return -1;
	rc = query_check(s, tmpl, tlen, info, info_len);
	if (rc)
		return sn_err(-rc);
	memset(info, 0, sizeof(*info));
	*info_len = sizeof(*info);
	if (!s->sec)
		return 0;
	if (s->kind == SN_FD_TCP && s->sec_err && s->state != SN_TCP_CONNECTED) {
		/* A secured connect that failed: say why. */
		info->protocol = SN_SECURITY_PROTOCOL_IPSEC;
		info->last_error = s->sec_err;
		snprintf(info->last_error_text, sizeof(info->last_error_text), "%s",
			 s->sec_why ? s->sec_why : strerror(s->sec_err));
		return 0;
	}
	rc = query_peer(s, tmpl ? (const struct sockaddr *)&tmpl->peer : NULL,
			sizeof(tmpl->peer), &peer, &port);
	if (rc)
		return sn_err(-rc);
	query_fill(s, &peer, port, tmpl, info);
	return 0;
}

/* ---- Impersonation ------------------------------------------------------------------------- */

int sn_impersonate_socket_peer(int fd, const struct sockaddr *peer_addr, socklen_t addr_len)
{
	struct sn_sock *s = sn_sock_get(fd);
	struct sn_sa *out = NULL, *in = NULL;
	struct sn_principal *p;
	struct sn_sockpol *sp;
	struct sn_ip peer;
	uint16_t port;
	const char *id;
	int rc;

	if (!s)
		return -1;
	if (s->kind == SN_FD_UDP && !peer_addr)
		return sn_err(EFAULT);
	if (!s->sec)
		return sn_err(EINVAL);
	rc = query_peer(s, peer_addr, addr_len, &peer, &port);
	if (rc)
		return sn_err(-rc);
	sp = sock_sp(s);
	if (sp)
		sn_sockpol_resolve(sp, &peer, port, &out, &in);
	if (!out || !in)
		return sn_err(EACCES);
	id = in->conf.peer_id[0] ? in->conf.peer_id : out->conf.peer_id;
	/* The user token if an EAP round proved one, else the machine's. */
	p = sn_ike_user_principal(in->conf.spi);
	if (!p)
		p = id[0] ? sn_principal_lookup(id) : NULL;
	if (!p)
		return sn_err(EACCES);
	rc = sn_impersonate_principal(p);
	sn_principal_release(p);
	return rc;
}
