/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The pbuf <-> mbuf glue (stack/sn_pbuf.c) with real mempools: receive
 * wraps mbufs without copying, send attaches heap buffers or copies once,
 * and every path gives each mbuf and each heap byte back.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>

#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "sn_mem.h"
#include "sn_netdev.h"
#include "sn_pbuf.h"
#include "harness.h"

static struct sn_netdev dev;

static void setup_heap(void)
{
	h_pools_create();
	cr_assert_eq(sn_heap_init(), 0);
	lwip_init();
	dev = (struct sn_netdev){ NULL, NULL, h_pool, h_ext_pool, 1500, { 0 },
				  SN_CAP_TX_EXTBUF | SN_CAP_TX_MULTI_SEG };
}

/* Without a memzone for the heap (taken already), lwIP's heap is plain
 * memory: the port cannot use it, every frame is copied. */
static void setup_malloc_heap(void)
{
	h_pools_create();
	cr_assert(rte_memzone_reserve("sn_lwip_heap", 64, SOCKET_ID_ANY, 0));
	setup_heap();
	cr_assert(!sn_heap_dma_capable());
}

/* Nothing left behind: no mbuf out of either pool, no heap bytes, no pbuf. */
static void check_clean(void)
{
	cr_assert_eq(h_in_use(), 0, "%u mbufs still in use", h_in_use());
	cr_assert_eq(lwip_stats.mem.used, 0, "%u heap bytes still used",
		     (unsigned)lwip_stats.mem.used);
	cr_assert_eq(lwip_stats.memp[MEMP_PBUF]->used, 0, "pbuf headers still used");
}

TestSuite(pbuf, .init = setup_heap, .timeout = 60);
TestSuite(pbuf_malloc_heap, .init = setup_malloc_heap, .timeout = 60);

static struct rte_mbuf *mbuf_with(uint16_t len, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h_pool);
	char *d;

	cr_assert(m);
	d = rte_pktmbuf_append(m, len);
	cr_assert(d);
	memset(d, fill, len);
	return m;
}

static struct pbuf *ram_pbuf(u16_t len, uint8_t fill)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);

	cr_assert(p);
	memset(p->payload, fill, len);
	return p;
}

/* The bytes of mbuf chain m equal those of pbuf chain p. */
static void assert_same_bytes(struct rte_mbuf *m, struct pbuf *p)
{
	static uint8_t a[70000], b[70000];
	const void *d;

	cr_assert_eq(rte_pktmbuf_pkt_len(m), p->tot_len);
	d = rte_pktmbuf_read(m, 0, p->tot_len, a);
	cr_assert(d);
	cr_assert_eq(pbuf_copy_partial(p, b, p->tot_len, 0), p->tot_len);
	cr_assert_eq(memcmp(d, b, p->tot_len), 0, "frame bytes differ");
}

/* ---- Receive -------------------------------------------------------------------- */

Test(pbuf, from_single_mbuf_wraps_without_copy)
{
	struct rte_mbuf *m = mbuf_with(100, 0xab);
	struct pbuf *p = sn_pbuf_from_mbuf(m);

	cr_assert(p);
	cr_assert_eq(p->payload, rte_pktmbuf_mtod(m, void *));
	cr_assert_eq(p->len, 100);
	cr_assert_eq(p->tot_len, 100);
	cr_assert_null(p->next);
	cr_assert(sn_pbuf_is_mbuf(p));
	cr_assert_eq(h_in_use(), 1);
	pbuf_free(p);
	check_clean();
}

Test(pbuf, from_chained_mbufs)
{
	static const uint16_t lens[] = { 100, 1, 1500, 300 };
	struct rte_mbuf *segs[4], *m;
	struct pbuf *p, *q;
	int i;

	for (i = 0; i < 4; i++)
		segs[i] = mbuf_with(lens[i], (uint8_t)i);
	m = segs[0];
	for (i = 1; i < 4; i++)
		cr_assert_eq(rte_pktmbuf_chain(m, segs[i]), 0);
	cr_assert_eq(m->pkt_len, 1901);
	p = sn_pbuf_from_mbuf(m);
	cr_assert(p);
	cr_assert_eq(p->tot_len, 1901);
	for (q = p, i = 0; q; q = q->next, i++) {
		cr_assert_lt(i, 4);
		cr_assert_eq(q->payload, rte_pktmbuf_mtod(segs[i], void *), "segment %d", i);
		cr_assert_eq(q->len, lens[i], "segment %d", i);
		cr_assert(sn_pbuf_is_mbuf(q), "segment %d", i);
	}
	cr_assert_eq(i, 4);
	cr_assert_eq(h_in_use(), 4);
	/* As ethernet_input does: strip the header, then free the chain. */
	cr_assert_eq(pbuf_remove_header(p, 14), 0);
	cr_assert_eq(p->tot_len, 1901 - 14);
	pbuf_free(p);
	check_clean();
}

/* lwIP may free the head of a chain and keep the rest (pbuf_realloc,
 * TCP trimming): each mbuf goes back as its pbuf goes. */
Test(pbuf, chain_freed_in_parts)
{
	struct rte_mbuf *m = mbuf_with(200, 1);
	struct pbuf *p, *rest;

	cr_assert_eq(rte_pktmbuf_chain(m, mbuf_with(300, 2)), 0);
	p = sn_pbuf_from_mbuf(m);
	cr_assert(p && p->next);
	rest = p->next;
	pbuf_ref(rest);
	pbuf_free(p);           /* head freed, tail held by our reference */
	cr_assert_eq(h_in_use(), 1);
	pbuf_free(rest);
	check_clean();
}

Test(pbuf, ram_pbuf_is_not_mbuf)
{
	struct pbuf *p = ram_pbuf(10, 0);

	cr_assert(!sn_pbuf_is_mbuf(p));
	pbuf_free(p);
	check_clean();
}

/* ---- Send: zero copy -------------------------------------------------------------- */

Test(pbuf, heap_is_a_dma_capable_memzone)
{
	/* EAL with --iova-mode=va: heap buffers can go to the port as they are. */
	cr_assert(sn_heap_dma_capable());
}

Test(pbuf, zero_copy_holds_a_reference_until_the_mbuf_is_freed)
{
	struct pbuf *p = ram_pbuf(200, 0x5a);
	struct rte_mbuf *m;
	bool zc = false;

	m = sn_mbuf_from_pbuf(p, &dev, &zc);
	cr_assert(m);
	cr_assert(zc);
	cr_assert_eq(rte_pktmbuf_mtod(m, void *), p->payload, "not attached in place");
	cr_assert(RTE_MBUF_HAS_EXTBUF(m));
	cr_assert_eq(m->pkt_len, 200);
	cr_assert_eq(p->ref, 2);
	assert_same_bytes(m, p);
	pbuf_free(p);           /* lwIP is done with it; the port is not */
	cr_assert_gt(lwip_stats.mem.used, 0, "heap buffer freed under the port");
	rte_pktmbuf_free(m);    /* the port is done: the last reference goes */
	check_clean();
}

Test(pbuf, zero_copy_chain_multi_seg)
{
	struct pbuf *p = ram_pbuf(54, 1);
	struct rte_mbuf *m;
	bool zc = false;

	pbuf_cat(p, ram_pbuf(1400, 2));
	m = sn_mbuf_from_pbuf(p, &dev, &zc);
	cr_assert(m && zc);
	cr_assert_eq(m->nb_segs, 2);
	cr_assert_eq(m->pkt_len, 1454);
	cr_assert_eq(rte_pktmbuf_mtod(m->next, void *), p->next->payload);
	assert_same_bytes(m, p);
	pbuf_free(p);
	rte_pktmbuf_free(m);
	check_clean();
}

/* A port without multi-segment TX gets one copied mbuf for a chain. */
Test(pbuf, chain_copied_without_multi_seg)
{
	struct pbuf *p = ram_pbuf(54, 1);
	struct rte_mbuf *m;
	bool zc = true;

	pbuf_cat(p, ram_pbuf(1400, 2));
	dev.caps = SN_CAP_TX_EXTBUF;
	m = sn_mbuf_from_pbuf(p, &dev, &zc);
	cr_assert(m);
	cr_assert(!zc);
	cr_assert_eq(m->nb_segs, 1);
	cr_assert(!RTE_MBUF_HAS_EXTBUF(m));
	assert_same_bytes(m, p);
	cr_assert_eq(p->ref, 1);
	pbuf_free(p);
	rte_pktmbuf_free(m);
	check_clean();
}

struct copy_case {
	const char *name;
	uint32_t caps;
	bool no_ext_pool;
};

/* Each of these must copy: ROM/REF memory outside the heap, a port
 * without external buffers, no data-less pool. */
Test(pbuf, copied_when_zero_copy_is_not_possible)
{
	static const uint8_t rom[300] = { 7, 7, 7 };
	static const struct copy_case cases[] = {
		{ "rom in chain", SN_CAP_TX_EXTBUF | SN_CAP_TX_MULTI_SEG, false },
		{ "no extbuf cap", SN_CAP_TX_MULTI_SEG, false },
		{ "no ext pool", SN_CAP_TX_EXTBUF | SN_CAP_TX_MULTI_SEG, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pbuf *p = ram_pbuf(54, 3), *r;
		struct rte_mbuf *m;
		bool zc = true;

		if (i == 0) {
			r = pbuf_alloc(PBUF_RAW, sizeof(rom), PBUF_ROM);
			cr_assert(r);
			r->payload = (void *)rom;
		} else {
			r = ram_pbuf(300, 4);
		}
		pbuf_cat(p, r);
		dev.caps = cases[i].caps;
		dev.ext_pool = cases[i].no_ext_pool ? NULL : h_ext_pool;
		m = sn_mbuf_from_pbuf(p, &dev, &zc);
		cr_assert(m, "case %zu %s: no mbuf", i, cases[i].name);
		cr_assert(!zc, "case %zu %s: zero copy", i, cases[i].name);
		cr_assert_eq(m->nb_segs, 1, "case %zu", i);
		assert_same_bytes(m, p);
		pbuf_free(p);
		rte_pktmbuf_free(m);
		check_clean();
	}
}

/* A zero-length pbuf in a chain (lwIP makes them) cannot be attached. */
Test(pbuf, zero_length_segment_is_copied)
{
	struct pbuf *p = ram_pbuf(60, 1);
	struct rte_mbuf *m;
	bool zc = true;

	pbuf_cat(p, pbuf_alloc(PBUF_RAW, 0, PBUF_RAM));
	m = sn_mbuf_from_pbuf(p, &dev, &zc);
	cr_assert(m);
	cr_assert(!zc);
	assert_same_bytes(m, p);
	pbuf_free(p);
	rte_pktmbuf_free(m);
	check_clean();
}

/* Larger than one mbuf's data room, no zero copy possible: NULL, and
 * nothing taken from the pool; p is not consumed. */
Test(pbuf, frame_larger_than_data_room)
{
	struct pbuf *p = ram_pbuf(2049, 1);
	struct rte_mbuf *m;
	bool zc = true;

	dev.caps = 0;
	m = sn_mbuf_from_pbuf(p, &dev, &zc);
	cr_assert_null(m);
	cr_assert_eq(h_in_use(), 0);
	cr_assert_eq(p->ref, 1);
	pbuf_free(p);
	check_clean();
}

Test(pbuf, frame_exactly_data_room)
{
	struct pbuf *p = ram_pbuf(2048, 1);
	struct rte_mbuf *m;
	bool zc = true;

	dev.caps = 0;
	m = sn_mbuf_from_pbuf(p, &dev, &zc);
	cr_assert(m);
	assert_same_bytes(m, p);
	pbuf_free(p);
	rte_pktmbuf_free(m);
	check_clean();
}

/* Pool exhausted: NULL, and the references taken for a partly attached
 * chain are given back. */
Test(pbuf, ext_pool_exhausted_mid_chain)
{
	struct rte_mbuf *held[8192];
	unsigned n = 0;
	struct pbuf *p = ram_pbuf(100, 1);
	struct rte_mbuf *m;
	bool zc;

	pbuf_cat(p, ram_pbuf(100, 2));
	/* Leave one data-less mbuf: the first segment attaches, the second
	 * cannot; the copy pool is empty as well. */
	while ((held[n] = rte_pktmbuf_alloc(h_ext_pool)) != NULL)
		n++;
	rte_pktmbuf_free(held[--n]);
	struct rte_mbuf *copies[8192];
	unsigned nc = 0;

	while ((copies[nc] = rte_pktmbuf_alloc(h_pool)) != NULL)
		nc++;
	m = sn_mbuf_from_pbuf(p, &dev, &zc);
	cr_assert_null(m);
	cr_assert_eq(p->ref, 1, "reference of the attached segment not given back");
	cr_assert_eq(p->next->ref, 1);
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(held[i]);
	for (unsigned i = 0; i < nc; i++)
		rte_pktmbuf_free(copies[i]);
	pbuf_free(p);
	check_clean();
}

/* ---- Heap in plain memory ------------------------------------------------------------ */

Test(pbuf_malloc_heap, every_frame_is_copied)
{
	struct pbuf *p = ram_pbuf(500, 9);
	struct rte_mbuf *m;
	bool zc = true;

	cr_assert(sn_heap_contains(p->payload, p->len));
	m = sn_mbuf_from_pbuf(p, &dev, &zc);
	cr_assert(m);
	cr_assert(!zc);
	cr_assert(!RTE_MBUF_HAS_EXTBUF(m));
	assert_same_bytes(m, p);
	cr_assert_eq(p->ref, 1);
	pbuf_free(p);
	rte_pktmbuf_free(m);
	check_clean();
}

/* ---- Packets the stack writes itself (ESP, AH) ---------------------------------- */

/* An mbuf-backed buffer takes headers in front like a PBUF_RAM one, is
 * handed to the port as the very same mbuf (no extbuf, no copy), and goes
 * back to its pool only when both lwIP and the port are done with it, in
 * either order. */
Test(pbuf, stack_built_frame_is_its_own_mbuf)
{
	for (int order = 0; order < 2; order++) {
		struct pbuf *p = sn_pbuf_alloc_mbuf(h_pool, 1400);
		struct rte_mbuf *m;
		bool zc = false;

		cr_assert(p);
		cr_assert_eq(p->tot_len, 1400);
		cr_assert(!sn_pbuf_is_mbuf(p), "not taken for a received frame");
		memset(p->payload, 0x3c, 1400);
		cr_assert_eq(pbuf_add_header(p, 14), 0, "no room for the Ethernet header");
		pbuf_realloc(p, 1000);
		cr_assert_eq(p->tot_len, 1000);
		m = sn_mbuf_from_pbuf(p, &dev, &zc);
		cr_assert(m);
		cr_assert(zc);
		cr_assert(!RTE_MBUF_HAS_EXTBUF(m));
		cr_assert_eq(rte_pktmbuf_mtod(m, void *), p->payload);
		cr_assert_eq(m->pkt_len, 1000);
		cr_assert_eq(m->nb_segs, 1);
		cr_assert_eq(rte_mbuf_refcnt_read(m), 2);
		assert_same_bytes(m, p);
		if (order == 0) {
			pbuf_free(p);
			cr_assert_eq(h_in_use(), 1, "mbuf freed under the port");
			rte_pktmbuf_free(m);
		} else {
			rte_pktmbuf_free(m);
			cr_assert_eq(h_in_use(), 1, "mbuf freed under lwIP");
			pbuf_free(p);
		}
		check_clean();
	}
}

/* Too big for an mbuf, or no pool: NULL (the caller uses lwIP's heap). */
Test(pbuf, stack_built_frame_needs_a_pool_with_room)
{
	cr_assert_null(sn_pbuf_alloc_mbuf(NULL, 100));
	cr_assert_null(sn_pbuf_alloc_mbuf(h_pool, 60000));
	check_clean();
}
