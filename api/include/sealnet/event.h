/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sealnet events: an epoll-like readiness API over sealnet sockets.
 *
 * Level-triggered by default, edge-triggered with SN_EPOLLET. A socket can
 * be registered with one epoll instance at a time. sn_epoll_wait drives the
 * poll loop itself while it waits, so a server's main loop is just
 * sn_epoll_wait plus non-blocking calls.
 */
#ifndef SEALNET_EVENT_H
#define SEALNET_EVENT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same values as Linux's EPOLL* constants. */
#define SN_EPOLLIN     0x001u
#define SN_EPOLLOUT    0x004u
#define SN_EPOLLERR    0x008u
#define SN_EPOLLHUP    0x010u
#define SN_EPOLLRDHUP  0x2000u
#define SN_EPOLLET     (1u << 31)

#define SN_EPOLL_CTL_ADD 1
#define SN_EPOLL_CTL_DEL 2
#define SN_EPOLL_CTL_MOD 3

struct sn_epoll_event {
	uint32_t events;
	union {
		void *ptr;
		int fd;
		uint32_t u32;
		uint64_t u64;
	} data;
};

/* A new epoll instance (a sealnet descriptor; close it with sn_close).
 * EINVAL for size <= 0, EMFILE when the table is full. */
int sn_epoll_create(int size);

/* Add, modify or delete fd's registration. EBADF for a bad epfd or fd,
 * EINVAL when epfd is not an epoll instance or fd is epfd, ENOTSOCK when
 * fd is not a socket, EEXIST (ADD of a registered fd; also when fd is
 * registered with another instance), ENOENT (MOD/DEL of an unregistered
 * fd), EFAULT for a NULL event on ADD/MOD. SN_EPOLLERR and SN_EPOLLHUP
 * are always reported. */
int sn_epoll_ctl(int epfd, int op, int fd, struct sn_epoll_event *ev);

/* Wait up to timeout_ms (-1: forever, 0: one poll) for events; returns
 * how many were stored, 0 on timeout. EINTR once sn_stop() was called,
 * EINVAL for maxevents <= 0, EFAULT for a NULL events array. */
int sn_epoll_wait(int epfd, struct sn_epoll_event *events, int maxevents,
		  int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
