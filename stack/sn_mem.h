/* SPDX-License-Identifier: BSD-3-Clause */
/* lwIP's heap in DPDK memory (stack/sn_mem.c). */
#ifndef SN_MEM_H
#define SN_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Reserve the heap; before lwip_init(). 0 or -ENOMEM. */
int sn_heap_init(void);
void sn_heap_fini(void);

/* True when heap buffers can be handed to the port as they are. */
bool sn_heap_dma_capable(void);

/* True when [p, p+len) lies inside the heap. */
bool sn_heap_contains(const void *p, size_t len);

/* lwIP's mem_malloc/mem_free/mem_calloc (MEM_LIBC_MALLOC, see lwipopts.h). */
void *sn_mem_malloc(size_t size);
void sn_mem_free(void *p);
void *sn_mem_calloc(size_t n, size_t size);

/* Bytes of the heap handed out to size classes so far. */
size_t sn_heap_carved(void);

#endif
