/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP's heap (mem_malloc, which backs every PBUF_RAM pbuf: each TCP
 * segment built by tcp_write, ACKs, UDP datagrams) in DPDK memory, so those
 * buffers can be handed to the port as external mbuf buffers without a
 * second copy.
 *
 * lwIP's own heap is first-fit over one list: with a 1 MiB send window of
 * 1.5 KiB segments the search dominated the sender's profile. This is a
 * size-class allocator instead: power-of-two classes from 64 B to 128 KiB,
 * each a free list, carved on demand from one memzone; O(1) both ways.
 * Blocks are never split or merged, as with lwIP's memp pools.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <rte_eal.h>
#include <rte_memzone.h>

#include "lwip/opt.h"
#include "sn_mem.h"

#define SN_MEM_MIN_SHIFT 6                    /* 64 bytes */
#define SN_MEM_MAX_SHIFT 17                   /* 128 KiB */
#define SN_MEM_CLASSES (SN_MEM_MAX_SHIFT - SN_MEM_MIN_SHIFT + 1)
/* Block header: the class, padded so payloads stay 16-byte aligned. */
#define SN_MEM_HDR 16

_Static_assert(SN_MEM_HDR % MEM_ALIGNMENT == 0, "header breaks alignment");

struct sn_free_block {
	struct sn_free_block *next;
};

static const struct rte_memzone *heap_mz;
static unsigned char *heap_base, *heap_end, *heap_brk;
static void *heap_malloced;
static bool heap_dma;
static struct sn_free_block *free_lists[SN_MEM_CLASSES];
static uint64_t class_allocs[SN_MEM_CLASSES];

static size_t heap_len(void)
{
	return MEM_SIZE;
}

static void reset_lists(unsigned char *base, size_t len)
{
	heap_base = heap_brk = base;
	heap_end = base + len;
	memset(free_lists, 0, sizeof(free_lists));
	memset(class_allocs, 0, sizeof(class_allocs));
}

int sn_heap_init(void)
{
	heap_mz = rte_memzone_reserve_aligned("sn_lwip_heap", heap_len(),
					      SOCKET_ID_ANY, 0, 4096);
	if (heap_mz) {
		reset_lists(heap_mz->addr, heap_len());
		/* Frames point into the heap by virtual address; a port can use
		 * them directly only when IOVA equals VA. */
		heap_dma = rte_eal_iova_mode() == RTE_IOVA_VA;
		return 0;
	}
	/* Without an EAL (unit tests), or when DPDK memory is short: plain
	 * memory, every frame is then copied into an mbuf. */
	heap_malloced = aligned_alloc(4096, heap_len());
	if (!heap_malloced)
		return -ENOMEM;
	reset_lists(heap_malloced, heap_len());
	heap_dma = false;
	return 0;
}

void sn_heap_fini(void)
{
	if (heap_mz)
		rte_memzone_free(heap_mz);
	free(heap_malloced);
	heap_mz = NULL;
	heap_malloced = NULL;
	heap_base = heap_end = heap_brk = NULL;
	heap_dma = false;
}

bool sn_heap_dma_capable(void)
{
	return heap_dma;
}

bool sn_heap_contains(const void *p, size_t len)
{
	const unsigned char *c = p;

	return heap_base && c >= heap_base && c + len <= heap_end;
}

static int size_class(size_t size)
{
	size_t total = size + SN_MEM_HDR;
	int shift = SN_MEM_MIN_SHIFT;

	while (((size_t)1 << shift) < total) {
		if (++shift > SN_MEM_MAX_SHIFT)
			return -1;
	}
	return shift - SN_MEM_MIN_SHIFT;
}

void *sn_mem_malloc(size_t size)
{
	int c = size_class(size);
	unsigned char *blk;
	size_t bsize;

	if (c < 0 || !heap_base)
		return NULL;
	if (free_lists[c]) {
		blk = (unsigned char *)free_lists[c];
		free_lists[c] = free_lists[c]->next;
	} else {
		bsize = (size_t)1 << (c + SN_MEM_MIN_SHIFT);
		if ((size_t)(heap_end - heap_brk) < bsize)
			return NULL;
		blk = heap_brk;
		heap_brk += bsize;
	}
	class_allocs[c]++;
	*(uint32_t *)blk = (uint32_t)c;
	return blk + SN_MEM_HDR;
}

void sn_mem_free(void *p)
{
	unsigned char *blk;
	uint32_t c;

	if (!p)
		return;
	blk = (unsigned char *)p - SN_MEM_HDR;
	c = *(uint32_t *)blk;
	if (c >= SN_MEM_CLASSES || !sn_heap_contains(blk, SN_MEM_HDR))
		abort(); /* not ours: a double free or a wild pointer */
	((struct sn_free_block *)blk)->next = free_lists[c];
	free_lists[c] = (struct sn_free_block *)blk;
}

void *sn_mem_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	p = sn_mem_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

size_t sn_heap_carved(void)
{
	return (size_t)(heap_brk - heap_base);
}
