// SPDX-License-Identifier: BSD-3-Clause
/*
 * The IKE SA table: a hash on our own SPI (the one the peer puts in its
 * messages for us, 2.6: SPIi when we initiated, SPIr when we responded),
 * so ike_input finds an SA in O(1); SPIs carry their owner in their top
 * IKE_SPI_OWNER_BITS bits (ike.h).
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ike_sa.h"

int ike_random(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? 0 : -EIO;
}

static unsigned hash_of(uint64_t spi)
{
	uint64_t h = spi * 0x9e3779b97f4a7c15ull;

	return (unsigned)(h >> (64 - IKE_SA_HASH_BITS));
}

/* 64-bit SPIs: never 0 (2.6), owner in the top bits. */
uint64_t ike_spi64(const struct ike *ike)
{
	uint64_t v = 0;

	while (v == 0 || ike_sa_find(ike, v)) {
		if (ike_random(&v, sizeof(v)) != 0)
			v = (uint64_t)rand() << 32 | (uint64_t)rand();
		v = (v >> IKE_SPI_OWNER_BITS) | (uint64_t)ike->owner << (64 - IKE_SPI_OWNER_BITS);
	}
	return v;
}

/* ESP/AH SPIs: above 255 (RFC 4303 2.1), owner in the top bits. */
uint32_t ike_spi32(const struct ike *ike)
{
	uint32_t v = 0;

	while (v <= 255) {
		if (ike_random(&v, sizeof(v)) != 0)
			v = (uint32_t)rand();
		v = (v >> IKE_SPI_OWNER_BITS) | (uint32_t)ike->owner << (32 - IKE_SPI_OWNER_BITS);
	}
	return v;
}

uint64_t ike_sa_our_spi(const struct ike_ikesa *sa)
{
	return sa->initiator ? sa->spi_i : sa->spi_r;
}

struct ike_ikesa *ike_sa_alloc(struct ike *ike, bool initiator)
{
	struct ike_ikesa *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->ike = ike;
	sa->initiator = initiator;
	if (initiator)
		sa->spi_i = ike_spi64(ike);
	else
		sa->spi_r = ike_spi64(ike);
	unsigned h = hash_of(ike_sa_our_spi(sa));

	sa->hnext = ike->hash[h];
	ike->hash[h] = sa;
	sa->lnext = ike->list;
	ike->list = sa;
	ike->n_sas++;
	sa->created_ms = ike->ops.now_ms(ike->ops.ctx);
	return sa;
}

struct ike_ikesa *ike_sa_find(const struct ike *ike, uint64_t our_spi)
{
	struct ike_ikesa *sa = ike->hash[hash_of(our_spi)];

	while (sa && ike_sa_our_spi(sa) != our_spi)
		sa = sa->hnext;
	return sa;
}

static bool ip_eq(const struct sn_ip *a, const struct sn_ip *b)
{
	size_t n = a->family == b->family && a->family ? (a->family == AF_INET ? 4 : 16) : 0;

	return n && memcmp(a->addr, b->addr, n) == 0;
}

/* Reuse: an established SA with this peer (acquires join it). */
struct ike_ikesa *ike_sa_find_peer(const struct ike *ike, const struct sn_ip *peer)
{
	for (struct ike_ikesa *sa = ike->list; sa; sa = sa->lnext)
		if (sa->state != IKE_ST_DEAD && ip_eq(&sa->remote.ip, peer))
			return sa;
	return NULL;
}

struct ike_ikesa *ike_sa_find_halfopen(const struct ike *ike, uint64_t spi_i,
				       const struct sn_ip *peer)
{
	for (struct ike_ikesa *sa = ike->list; sa; sa = sa->lnext)
		if (!sa->initiator && sa->spi_i == spi_i && ip_eq(&sa->remote.ip, peer))
			return sa;
	return NULL;
}

void ike_msgcopy_set(struct ike_msgcopy *c, const uint8_t *p, size_t len)
{
	ike_msgcopy_free(c);
	c->p = malloc(len);
	if (c->p) {
		memcpy(c->p, p, len);
		c->len = len;
	}
}

void ike_msgcopy_free(struct ike_msgcopy *c)
{
	if (c->p)
		ike_wipe(c->p, c->len);
	free(c->p);
	c->p = NULL;
	c->len = 0;
}

static void unlink_sa(struct ike_ikesa *sa)
{
	struct ike *ike = sa->ike;
	struct ike_ikesa **pp = &ike->hash[hash_of(ike_sa_our_spi(sa))];

	while (*pp && *pp != sa)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = sa->hnext;
	for (pp = &ike->list; *pp && *pp != sa; pp = &(*pp)->lnext)
		;
	if (*pp)
		*pp = sa->lnext;
	ike->n_sas--;
}

/* Every secret of the SA wiped here, on the one way out. */
void ike_sa_free(struct ike_ikesa *sa)
{
	if (!sa)
		return;
	unlink_sa(sa);
	if (sa->halfopen) {
		sa->ike->n_halfopen--;
		ike_halfopen_del(&sa->ike->halfopen, &sa->remote.ip);
	}
	ike_child_del_all(sa);
	ike_dh_free(&sa->dh);
	ike_sa_keys_wipe(&sa->keys);
	ike_sk_key_wipe(&sa->sk_in);
	ike_sk_key_wipe(&sa->sk_out);
	ike_msgcopy_free(&sa->init_i);
	ike_msgcopy_free(&sa->init_r);
	ike_msgcopy_free(&sa->req);
	ike_msgcopy_free(&sa->resp);
	ike_wipe(sa, sizeof(*sa));
	free(sa);
}

/* A negotiation failed: the acquirer is told, the reason kept. */
void ike_sa_fail(struct ike_ikesa *sa, enum ike_fail f, uint16_t notify, const char *why)
{
	struct ike_result r = { .fail = f, .notify = notify };

	snprintf(r.why, sizeof(r.why), "%s", why);
	ike_store_result(sa->ike, &sa->remote.ip, &r);
	if (sa->has_acq) {
		sa->has_acq = false;
		IKE_CTR(sa->ike, acquire_failed);
		sa->ike->ops.acquire_done(sa->ike->ops.ctx, sa->acq.token,
					  f == IKE_FAIL_TIMEOUT ? -ETIMEDOUT :
					  f == IKE_FAIL_AUTH || f == IKE_FAIL_PEER_AUTH ||
					  f == IKE_FAIL_ID_MISMATCH ? -EACCES : -ECONNREFUSED, &r);
	}
	sa->state = IKE_ST_DEAD;
}

void ike_sa_delete(struct ike_ikesa *sa)
{
	if (sa->has_acq)
		ike_sa_fail(sa, IKE_FAIL_DELETED, 0, "the IKE SA was deleted");
	ike_sa_free(sa);
}
