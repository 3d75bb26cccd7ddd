/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless cookies and the half-open counts behind them (RFC 7296 2.6).
 *
 * COOKIE = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>), with
 * SHA-256 as the hash and a 4-octet version; the secret changes every
 * lifetime_ms and the previous one is still accepted for one more
 * lifetime, so an initiator that got its cookie just before the change
 * is not turned away (2.6: "the responder ... should accept cookies
 * generated with the previous secret"). Nothing is stored per initiator.
 *
 * Half-open IKE SAs are counted per source address in hashed buckets,
 * the hash keyed with a random key (SipHash-2-4, Aumasson and Bernstein)
 * so a sender cannot aim many addresses at one bucket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ike_crypto.h"
#include "ike_neg.h"

#define COOKIE_VERSION_LEN      4
#define COOKIE_HASH_LEN         32      /* SHA-256 */
_Static_assert(IKE_COOKIE_LEN == COOKIE_VERSION_LEN + COOKIE_HASH_LEN, "cookie layout");
_Static_assert(IKE_COOKIE_LEN <= IKE_COOKIE_MAX, "2.6: at most 64 octets");

static size_t ip_len(const struct sn_ip *ip)
{
	return ip->family == AF_INET ? 4 : ip->family == AF_INET6 ? 16 : 0;
}

static int fresh(uint8_t *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : -EIO;
}

int ike_cookies_init(struct ike_cookies *c, uint64_t now_ms, uint32_t lifetime_ms)
{
	memset(c, 0, sizeof(*c));
	if (lifetime_ms == 0)
		return -EINVAL;
	/* No previous secret yet: a random one nobody has, never version 0. */
	if (fresh(c->secret, sizeof(c->secret)) != 0 ||
	    fresh(c->old_secret, sizeof(c->old_secret)) != 0) {
		ike_cookies_wipe(c);
		return -EIO;
	}
	c->version = 1;
	c->changed_ms = now_ms;
	c->lifetime_ms = lifetime_ms;
	return 0;
}

/* After two lifetimes without a tick the old secret is too old as well:
 * both are replaced. A failed RAND_bytes leaves the secrets as they were
 * (the next tick tries again). */
void ike_cookies_tick(struct ike_cookies *c, uint64_t now_ms)
{
	uint8_t next[sizeof(c->secret)], old[sizeof(c->secret)];
	uint64_t age = now_ms - c->changed_ms;

	if (now_ms < c->changed_ms || age < c->lifetime_ms)
		return;
	memcpy(old, c->secret, sizeof(old));
	if (fresh(next, sizeof(next)) != 0 ||
	    (age >= 2ull * c->lifetime_ms && fresh(old, sizeof(old)) != 0))
		goto out;
	memcpy(c->old_secret, old, sizeof(old));
	memcpy(c->secret, next, sizeof(next));
	c->version++;
	if (c->version == 0)
		c->version = 1;         /* 0 would read as "before the first" */
	c->changed_ms = now_ms;
out:
	ike_wipe(next, sizeof(next));
	ike_wipe(old, sizeof(old));
}

void ike_cookies_wipe(struct ike_cookies *c)
{
	ike_wipe(c, sizeof(*c));
}

/* SHA-256(Ni | IPi | SPIi | secret); SPIi in network order. */
static int cookie_hash(const uint8_t *secret, const uint8_t *ni, size_t ni_len,
		       const struct sn_ip *ipi, uint64_t spi_i, uint8_t out[COOKIE_HASH_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t spi[8];
	unsigned int len = 0;
	int ok;

	for (int i = 7; i >= 0; i--, spi_i >>= 8)
		spi[i] = (uint8_t)spi_i;
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, ni, ni_len) == 1 &&
	     EVP_DigestUpdate(ctx, ipi->addr, ip_len(ipi)) == 1 &&
	     EVP_DigestUpdate(ctx, spi, sizeof(spi)) == 1 &&
	     EVP_DigestUpdate(ctx, secret, 32) == 1 &&
	     EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == COOKIE_HASH_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

static bool inputs_ok(const uint8_t *ni, size_t ni_len, const struct sn_ip *ipi)
{
	return ni && ni_len >= IKE_NONCE_MIN && ni_len <= IKE_NONCE_MAX && ipi &&
	       ip_len(ipi) != 0;
}

int ike_cookie_make(const struct ike_cookies *c, const uint8_t *ni, size_t ni_len,
		    const struct sn_ip *ipi, uint64_t spi_i, uint8_t *out, size_t cap,
		    size_t *len)
{
	uint32_t v = htonl(c->version);
	int rc;

	if (!inputs_ok(ni, ni_len, ipi))
		return -EINVAL;
	if (cap < IKE_COOKIE_LEN)
		return -ENOSPC;
	memcpy(out, &v, sizeof(v));
	rc = cookie_hash(c->secret, ni, ni_len, ipi, spi_i, out + COOKIE_VERSION_LEN);
	*len = rc == 0 ? IKE_COOKIE_LEN : 0;
	return rc;
}

bool ike_cookie_check(const struct ike_cookies *c, const uint8_t *data, size_t len,
		      const uint8_t *ni, size_t ni_len, const struct sn_ip *ipi, uint64_t spi_i)
{
	uint8_t want[COOKIE_HASH_LEN];
	const uint8_t *secret;
	uint32_t v;
	bool ok;

	if (!data || len != IKE_COOKIE_LEN || !inputs_ok(ni, ni_len, ipi))
		return false;
	memcpy(&v, data, sizeof(v));
	v = ntohl(v);
	if (v == c->version)
		secret = c->secret;
	else if (c->version > 1 && v == c->version - 1)
		secret = c->old_secret;
	else
		return false;
	ok = cookie_hash(secret, ni, ni_len, ipi, spi_i, want) == 0 &&
	     CRYPTO_memcmp(want, data + COOKIE_VERSION_LEN, COOKIE_HASH_LEN) == 0;
	ike_wipe(want, sizeof(want));
	return ok;
}

/* ---- Half-open counts ---------------------------------------------------------- */

static uint64_t rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-2-4 of up to 16 + 1 octets (an address and its family). */
static uint64_t siphash(const uint8_t key[16], const uint8_t *in, size_t n)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
			  k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull };
	uint8_t last[8] = { 0 };
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		sip_block(v, le64(in + i));
	memcpy(last, in + i, n - i);
	last[7] = (uint8_t)n;
	sip_block(v, le64(last));
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static unsigned bucket_of(const struct ike_halfopen *h, const struct sn_ip *src)
{
	uint8_t in[1 + 16];
	size_t n = ip_len(src);

	in[0] = src->family;
	memcpy(in + 1, src->addr, n);
	return (unsigned)(siphash(h->key, in, 1 + n) % IKE_HALFOPEN_BUCKETS);
}

int ike_halfopen_init(struct ike_halfopen *h)
{
	memset(h, 0, sizeof(*h));
	return fresh(h->key, sizeof(h->key));
}

/* Counts saturate rather than wrap; a bucket that saturated undercounts
 * after its deletions, which only ever loosens the limit on that bucket. */
void ike_halfopen_add(struct ike_halfopen *h, const struct sn_ip *src)
{
	uint16_t *b = &h->per_src[bucket_of(h, src)];

	if (h->total < UINT32_MAX)
		h->total++;
	if (*b < UINT16_MAX)
		(*b)++;
}

void ike_halfopen_del(struct ike_halfopen *h, const struct sn_ip *src)
{
	uint16_t *b = &h->per_src[bucket_of(h, src)];

	if (h->total)
		h->total--;
	if (*b)
		(*b)--;
}

uint32_t ike_halfopen_of(const struct ike_halfopen *h, const struct sn_ip *src)
{
	return h->per_src[bucket_of(h, src)];
}
