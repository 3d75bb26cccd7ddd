/*
 * lwIP's heap, placed in DPDK memory (LWIP_RAM_HEAP_POINTER) so that
 * PBUF_RAM buffers, which hold every TCP segment and UDP datagram we build,
 * can be given to the port as external mbuf buffers without a copy.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <rte_eal.h>
#include <rte_memzone.h>

#include "lwip/opt.h"
#include "lwip/mem.h"
#include "sn_mem.h"

unsigned char *sn_ram_heap;

static const struct rte_memzone *heap_mz;
static void *heap_malloced;
static size_t heap_len;
static bool heap_dma;

/* mem.c aligns the pointer and needs the struct mem trailer: reserve a
 * little more than MEM_SIZE. */
#define SN_HEAP_LEN (MEM_SIZE + 4096u)

int sn_heap_init(void)
{
	heap_len = SN_HEAP_LEN;
	heap_mz = rte_memzone_reserve_aligned("sn_lwip_heap", heap_len,
					      SOCKET_ID_ANY, 0, 4096);
	if (heap_mz) {
		sn_ram_heap = heap_mz->addr;
		/* Frames point into the heap by virtual address; a port can use
		 * them directly only when IOVA equals VA. */
		heap_dma = rte_eal_iova_mode() == RTE_IOVA_VA;
		return 0;
	}
	/* Without an EAL (unit tests), or when DPDK memory is short: plain
	 * memory, every frame is then copied into an mbuf. */
	heap_malloced = aligned_alloc(4096, heap_len);
	if (!heap_malloced)
		return -ENOMEM;
	sn_ram_heap = heap_malloced;
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
	sn_ram_heap = NULL;
	heap_dma = false;
}

bool sn_heap_dma_capable(void)
{
	return heap_dma;
}

bool sn_heap_contains(const void *p, size_t len)
{
	const unsigned char *c = p;

	return sn_ram_heap && c >= sn_ram_heap &&
	       c + len <= sn_ram_heap + heap_len;
}
