/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket security for programs: the common options (--secure,
 * --peer-name) applied to a socket, and a one-line description of what
 * the query reports, as sn-echo, sn-httpd and sn-perf print it.
 *
 * --secure is the stack's default for every socket the program opens
 * (sn_socket calls sn_sec_socket_default), so a program that never heard
 * of socket security is secured all the same; its settings are marked
 * implicit, and an explicit sn_set_socket_security replaces them, keeping
 * the --peer-name names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealnet/socket.h"
#include "sealnet/security.h"
#include "sealnet/stack.h"
#include "sn_api.h"

static int name_sockaddr(const struct sn_peer_name_opt *pn, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, pn->addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		return AF_INET;
	}
	if (inet_pton(AF_INET6, pn->addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		return AF_INET6;
	}
	return -1;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, 4);
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static int set_name(int fd, const struct sockaddr_storage *ss, const char *id)
{
	size_t n = strlen(id);
	struct sn_socket_peer_target_name *t = calloc(1, sizeof(*t) + n);
	int rc;

	if (!t)
		return sn_err(ENOMEM);
	t->protocol = SN_SECURITY_PROTOCOL_IPSEC;
	t->peer = *ss;
	t->name_len = (uint32_t)n;
	memcpy(t->name, id, n);
	rc = sn_set_socket_peer_target_name(fd, t, sizeof(*t) + n);
	free(t);
	return rc;
}

/* cfg's --peer-name names of the socket's family (only peer's when peer
 * is given) on fd. 0, or -1 with errno. */
static int apply_names(const struct sn_config *cfg, int fd, int family,
		       const struct sockaddr *peer)
{
	struct sockaddr_storage ss;

	for (int i = 0; i < cfg->npeer_names; i++) {
		/* Names of the other family do not concern this socket. */
		if (name_sockaddr(&cfg->peer_names[i], &ss) != family)
			continue;
		if (peer && !same_addr(&ss, peer))
			continue;
		if (set_name(fd, &ss, cfg->peer_names[i].id))
			return -1;
	}
	return 0;
}

int sn_secure_socket(const struct sn_config *cfg, int fd, const struct sockaddr *peer,
		     socklen_t peer_len)
{
	struct sn_socket_security_settings st = { SN_SECURITY_PROTOCOL_DEFAULT, 0 };
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);

	if (!cfg || !cfg->secure)
		return 0;
	st.flags = cfg->secure_flags;
	if (sn_set_socket_security(fd, &st, sizeof(st)) ||
	    sn_getsockname(fd, (struct sockaddr *)&local, &llen))
		return -1;
	(void)peer_len;
	return apply_names(cfg, fd, local.ss_family, peer);
}

/* ---- The stack's default: --secure on every socket ------------------------- */

static const struct sn_config *defaults;

void sn_sec_default_config(const struct sn_config *cfg)
{
	defaults = cfg;
}

int sn_sec_socket_default(struct sn_sock *s)
{
	struct sn_socket_security_settings st = { SN_SECURITY_PROTOCOL_DEFAULT, 0 };

	if (!defaults || !defaults->secure)
		return 0;
	st.flags = defaults->secure_flags;
	if (sn_set_socket_security(s->fd, &st, sizeof(st)) ||
	    apply_names(defaults, s->fd, s->family, NULL))
		return -1;
	s->sec_implicit = true;
	return 0;
}

int sn_sec_default_names(struct sn_sock *s)
{
	if (!defaults || !defaults->secure)
		return 0;
	return apply_names(defaults, s->fd, s->family, NULL) ? -errno : 0;
}

static const char *cipher_name(uint32_t c)
{
	static const char *const n[] = { "null", "aes-gcm-128", "aes-gcm-256",
					 "chacha20-poly1305", "aes-cbc-128", "aes-cbc-256" };

	return c < sizeof(n) / sizeof(n[0]) ? n[c] : "?";
}

static const char *integrity_name(uint32_t i)
{
	static const char *const n[] = { "aead", "hmac-sha1-96", "hmac-sha256-128" };

	return i < sizeof(n) / sizeof(n[0]) ? n[i] : "?";
}

static int describe(const struct sn_socket_security_query_info *q, char *buf, size_t len)
{
	if (!(q->flags & SN_INFO_CONNECTION_SECURED))
		return snprintf(buf, len, "not secured%s%s", q->last_error ? " last_error " : "",
				q->last_error ? strerror(q->last_error) : "");
	return snprintf(buf, len,
			"secured%s %s %s %s %s spi_in 0x%x spi_out 0x%x%s peer %s rekey_in %llus%s",
			q->flags & SN_INFO_CONNECTION_ENCRYPTED ? " encrypted" : "",
			q->transform == SN_TRANSFORM_AH ? "ah" : "esp",
			q->mode == SN_IPSEC_MODE_TUNNEL ? "tunnel" : "transport",
			cipher_name(q->cipher), integrity_name(q->integrity), q->spi_in, q->spi_out,
			q->udp_encap ? " udp-encap" : "",
			q->peer_identity[0] ? q->peer_identity : "(none)",
			(unsigned long long)q->seconds_left,
			q->flags & SN_INFO_CONNECTION_IMPERSONATED ? " mapped" : "");
}

int sn_security_describe(int fd, const struct sockaddr *peer, socklen_t peer_len,
			 char *buf, size_t len)
{
	struct sn_socket_security_query_template t;
	struct sn_socket_security_query_info q;
	size_t qlen = sizeof(q);

	memset(&t, 0, sizeof(t));
	t.protocol = SN_SECURITY_PROTOCOL_IPSEC;
	if (peer && peer_len <= sizeof(t.peer))
		memcpy(&t.peer, peer, peer_len);
	if (sn_query_socket_security(fd, peer ? &t : NULL, sizeof(t), &q, &qlen))
		return -1;
	return describe(&q, buf, len);
}
