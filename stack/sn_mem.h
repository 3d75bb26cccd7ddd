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

#endif
