/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pbuf <-> mbuf glue.
 *
 * Receive is zero-copy: each mbuf segment becomes a custom pbuf whose
 * struct lives in the mbuf's private area and whose payload is the mbuf's
 * data; lwIP freeing the pbuf frees the mbuf segment.
 *
 * Send copies at most once: the application's bytes were copied into
 * PBUF_RAM pbufs by tcp_write()/sn_sendto(); those live in lwIP's heap in
 * DPDK memory (sn_mem.c), so each pbuf of a frame is attached to a
 * data-less mbuf as an external buffer, and the mbuf's release drops the
 * pbuf reference. Frames with any other memory are copied into one mbuf.
 *
 * Packets the stack builds itself byte by byte (ESP and AH, ipsec/) are
 * written straight into an mbuf's data room through a pbuf of the same
 * kind as on receive (sn_pbuf_alloc_mbuf): the port gets that mbuf, with
 * no allocation from lwIP's heap and no external-buffer mbuf.
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "lwip/pbuf.h"
#include "sn_netdev.h"
#include "sn_pbuf.h"
#include "sn_mem.h"

struct sn_mbuf_priv {
	union {
		struct pbuf_custom rx;                  /* rx pool mbufs */
		struct rte_mbuf_ext_shared_info shinfo; /* ext pool mbufs */
	};
};
_Static_assert(sizeof(struct sn_mbuf_priv) <= SN_MBUF_PRIV_SIZE,
	       "mbuf private area too small for the pbuf glue");

static inline struct sn_mbuf_priv *mbuf_priv(struct rte_mbuf *m)
{
	return rte_mbuf_to_priv(m);
}

/* The private area directly follows struct rte_mbuf (rte_mbuf_to_priv). */
static inline struct rte_mbuf *priv_mbuf(void *priv)
{
	return (struct rte_mbuf *)((char *)priv - sizeof(struct rte_mbuf));
}

static void rx_pbuf_free(struct pbuf *p)
{
	rte_pktmbuf_free_seg(priv_mbuf(p));
}

/* Which of our kinds of mbuf-backed pbuf p is: its release function, or
 * NULL for any other pbuf. */
static pbuf_free_custom_fn custom_free(const struct pbuf *p)
{
	if (!(p->flags & PBUF_FLAG_IS_CUSTOM))
		return NULL;
	return ((const struct pbuf_custom *)p)->custom_free_function;
}

bool sn_pbuf_is_mbuf(const struct pbuf *p)
{
	return custom_free(p) == rx_pbuf_free;
}

/* A pbuf made by sn_pbuf_alloc_mbuf(): the same release, told apart so
 * that only these are handed to the port as they are. */
static void tx_pbuf_free(struct pbuf *p)
{
	rte_pktmbuf_free_seg(priv_mbuf(p));
}

static bool is_tx_mbuf(const struct pbuf *p)
{
	return custom_free(p) == tx_pbuf_free;
}

struct pbuf *sn_pbuf_alloc_mbuf(struct rte_mempool *pool, uint16_t len)
{
	struct rte_mbuf *m;
	struct pbuf_custom *pc;
	struct pbuf *p;

	if (!pool)
		return NULL;
	m = rte_pktmbuf_alloc(pool);
	if (!m)
		return NULL;
	pc = &mbuf_priv(m)->rx;
	pc->custom_free_function = tx_pbuf_free;
	/* PBUF_RAM: header room in front is usable (pbuf_add_header checks
	 * it against the struct, which lies before buf_addr); custom, so
	 * lwIP never hands the memory to its heap. */
	p = pbuf_alloced_custom(PBUF_IP, len, PBUF_RAM, pc, m->buf_addr, m->buf_len);
	if (!p)
		rte_pktmbuf_free(m);
	return p;
}

static struct pbuf *seg_to_pbuf(struct rte_mbuf *seg)
{
	struct pbuf_custom *pc = &mbuf_priv(seg)->rx;
	uint16_t room = (uint16_t)(seg->buf_len - seg->data_off);

	pc->custom_free_function = rx_pbuf_free;
	return pbuf_alloced_custom(PBUF_RAW, seg->data_len, PBUF_REF, pc,
				   rte_pktmbuf_mtod(seg, void *), room);
}

struct pbuf *sn_pbuf_from_mbuf(struct rte_mbuf *m)
{
	struct pbuf *head = NULL, *p;
	struct rte_mbuf *seg, *next;

	for (seg = m; seg; seg = next) {
		next = seg->next;
		seg->next = NULL;
		seg->nb_segs = 1;
		seg->pkt_len = seg->data_len;
		p = seg_to_pbuf(seg);
		if (!p) {
			/* Cannot happen for a well-formed mbuf (data_len fits its
			 * room); release what is left and fail the frame. */
			rte_pktmbuf_free_seg(seg);
			if (next)
				rte_pktmbuf_free(next);
			if (head)
				pbuf_free(head);
			return NULL;
		}
		if (head)
			pbuf_cat(head, p);
		else
			head = p;
	}
	return head;
}

/* ---- Transmit ---------------------------------------------------------- */

static void ext_free(void *addr, void *opaque)
{
	(void)addr;
	pbuf_free(opaque);
}

static struct rte_mbuf *attach_one(struct pbuf *q, struct rte_mempool *pool)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_mbuf_ext_shared_info *sh;

	if (!m)
		return NULL;
	sh = &mbuf_priv(m)->shinfo;
	sh->free_cb = ext_free;
	sh->fcb_opaque = q;
	rte_mbuf_ext_refcnt_set(sh, 1);
	pbuf_ref(q);
	rte_pktmbuf_attach_extbuf(m, q->payload,
				  (rte_iova_t)(uintptr_t)q->payload, q->len, sh);
	m->data_len = q->len;
	m->pkt_len = q->len;
	return m;
}

static bool can_attach(const struct pbuf *p, uint32_t caps)
{
	unsigned n = 0;

	if (!(caps & SN_CAP_TX_EXTBUF) || !sn_heap_dma_capable())
		return false;
	for (const struct pbuf *q = p; q; q = q->next, n++)
		if (q->len == 0 || !sn_heap_contains(q->payload, q->len))
			return false;
	return n == 1 || (caps & SN_CAP_TX_MULTI_SEG);
}

static struct rte_mbuf *attach_chain(struct pbuf *p, struct rte_mempool *pool)
{
	struct rte_mbuf *head = NULL, *tail = NULL, *m;

	for (struct pbuf *q = p; q; q = q->next) {
		m = attach_one(q, pool);
		if (!m) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (!head) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += m->data_len;
		}
		tail = m;
	}
	return head;
}

static struct rte_mbuf *copy_frame(struct pbuf *p, struct rte_mempool *pool)
{
	struct rte_mbuf *m;
	char *dst;

	if (p->tot_len > rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM)
		return NULL;
	m = rte_pktmbuf_alloc(pool);
	if (!m)
		return NULL;
	dst = rte_pktmbuf_append(m, p->tot_len);
	pbuf_copy_partial(p, dst, p->tot_len, 0);
	return m;
}

/* The mbuf under a one-piece sn_pbuf_alloc_mbuf() frame, with a reference
 * of its own: lwIP still frees the pbuf (the other reference) when the
 * caller is done with it. Ports therefore must not run with
 * RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE (which assumes a reference count of 1;
 * the external-buffer mbufs rule it out as well). */
static struct rte_mbuf *own_mbuf(struct pbuf *p)
{
	struct rte_mbuf *m = priv_mbuf(p);

	m->data_off = (uint16_t)((char *)p->payload - (char *)m->buf_addr);
	m->data_len = p->len;
	m->pkt_len = p->len;
	rte_mbuf_refcnt_update(m, 1);
	return m;
}

struct rte_mbuf *sn_mbuf_from_pbuf(struct pbuf *p, const struct sn_netdev *dev,
				   bool *zerocopy)
{
	struct rte_mbuf *m;

	if (!p->next && is_tx_mbuf(p)) {
		*zerocopy = true;
		return own_mbuf(p);
	}

	if (dev->ext_pool && can_attach(p, dev->caps)) {
		m = attach_chain(p, dev->ext_pool);
		if (m) {
			*zerocopy = true;
			return m;
		}
	}
	*zerocopy = false;
	return copy_frame(p, dev->pool);
}
