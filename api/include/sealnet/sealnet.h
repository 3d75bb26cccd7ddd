/* SPDX-License-Identifier: BSD-3-Clause */
/* sealnet: a userspace TCP/IP stack with IPsec built in. One include for
 * all of the public API. */
#ifndef SEALNET_H
#define SEALNET_H

#include <sealnet/stack.h>
#include <sealnet/socket.h>
#include <sealnet/event.h>
#include <sealnet/ipsec.h>
#include <sealnet/security.h>

#endif
