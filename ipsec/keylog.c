/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * keylog.h: Wireshark's esp_sa lines. The algorithm names are the ones
 * its ESP dissector's table accepts (Wireshark 4.0); an SA whose
 * algorithm it cannot decrypt (ChaCha20-Poly1305) gets a comment line
 * instead, so the file still loads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipsec_dp.h"
#include "keylog.h"
#include "sad.h"

static FILE *kl;

bool sn_keylog_active(void)
{
	return kl != NULL;
}

static const char *enc_name(const struct sn_sa_conf *c)
{
	switch (c->enc) {
	case SN_ENC_NULL:
		return "NULL";
	case SN_ENC_AES_CBC:
		return "AES-CBC [RFC3602]";
	case SN_ENC_AES_GCM:
		return c->icv_len == 8 ? "AES-GCM with 8 octet ICV [RFC4106]" :
		       c->icv_len == 12 ? "AES-GCM with 12 octet ICV [RFC4106]" :
		       "AES-GCM with 16 octet ICV [RFC4106]";
	default:
		return NULL;
	}
}

static const char *auth_name(enum sn_auth_alg a)
{
	switch (a) {
	case SN_AUTH_HMAC_SHA1_96:
		return "HMAC-SHA-1-96 [RFC2404]";
	case SN_AUTH_HMAC_SHA256_128:
		return "HMAC-SHA-256-128 [RFC4868]";
	default:
		return "NULL";
	}
}

static void hex(const uint8_t *k, unsigned n)
{
	fputs(n ? "\"0x" : "\"", kl);
	for (unsigned i = 0; i < n; i++)
		fprintf(kl, "%02x", k[i]);
	fputc('"', kl);
}

void sn_keylog_sa(const struct sn_sa_conf *c)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const char *enc;

	if (!kl || c->proto != SN_IPPROTO_ESP)
		return;
	inet_ntop(c->src.family, c->src.addr, src, sizeof(src));
	inet_ntop(c->dst.family, c->dst.addr, dst, sizeof(dst));
	if (!(enc = enc_name(c))) {
		fprintf(kl, "# %s -> %s SPI 0x%08x: an algorithm this table cannot name\n", src,
			dst, c->spi);
		fflush(kl);
		return;
	}
	fprintf(kl, "\"%s\",\"%s\",\"%s\",\"0x%08x\",\"%s\",", c->src.family == AF_INET ? "IPv4" :
		"IPv6", src, dst, c->spi, enc);
	hex(c->enc_key, c->enc == SN_ENC_NULL ? 0 : c->enc_key_len);
	fprintf(kl, ",\"%s\",", auth_name(c->auth));
	hex(c->auth_key, c->auth == SN_AUTH_NONE ? 0 : c->auth_key_len);
	fputc('\n', kl);
	fflush(kl);
}

static int one(const struct sn_sa *sa, void *ctx)
{
	(void)ctx;
	sn_keylog_sa(&sa->conf);
	return 0;
}

void sn_keylog_close(void)
{
	if (kl)
		fclose(kl);
	kl = NULL;
}

int sn_keylog_open(const char *path)
{
	int fd;

	sn_keylog_close();
	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* An existing file keeps its mode through O_CREAT: make it ours. */
	if (fchmod(fd, 0600) || !(kl = fdopen(fd, "w"))) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (sn_ipsec.sad)
		sn_sad_foreach(sn_ipsec.sad, one, NULL);
	fflush(kl);
	return 0;
}
