/* SPDX-License-Identifier: BSD-3-Clause */
/* lwIP architecture port for sealnet: Linux, x86-64/arm64, GCC or clang. */
#ifndef SN_ARCH_CC_H
#define SN_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <errno.h>

/* Use the system's errno values so lwIP's err_t maps onto what socket users
 * expect (api/ converts with err_to_errno()). */
#define LWIP_ERRNO_STDINCLUDE 1
/* struct timeval comes from sys/time.h. */
#define LWIP_TIMEVAL_PRIVATE 0


#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do {                                          \
		fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n",    \
			x, __FILE__, __LINE__);                                \
		abort();                                                       \
	} while (0)

/* Random numbers for ports, IPv6 and ARP: from the process' CSPRNG state
 * (stack/sn_sys.c), not rand(). */
unsigned int sn_random32(void);
#define LWIP_RAND() ((u32_t)sn_random32())

#endif
