/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * epoll over sealnet sockets. A socket whose state may have changed is put
 * on its instance's ready list (sn_ev_notify, called from the lwIP
 * callbacks); sn_epoll_wait polls the stack and then walks only that list,
 * so a wait costs O(ready), not O(registered). Level-triggered sockets that
 * are still ready go back on the list after being reported.
 */
#include <errno.h>
#include <stdlib.h>

#include "sealnet/socket.h"  /* before lwIP: <netinet/tcp.h> names TCP_MSS too */
#include "sealnet/event.h"
#include "sealnet/stack.h"
#include "sn_api.h"

#define SN_EV_ALWAYS (SN_EPOLLERR | SN_EPOLLHUP)
#define SN_EV_VALID (SN_EPOLLIN | SN_EPOLLOUT | SN_EPOLLERR | SN_EPOLLHUP | \
		     SN_EPOLLRDHUP | SN_EPOLLET)

static void ready_push(struct sn_epoll *ep, struct sn_sock *s)
{
	s->ep_next = NULL;
	s->ep_queued = true;
	if (ep->ready_tail)
		ep->ready_tail->ep_next = s;
	else
		ep->ready_head = s;
	ep->ready_tail = s;
}

static struct sn_sock *ready_pop(struct sn_epoll *ep)
{
	struct sn_sock *s = ep->ready_head;

	if (!s)
		return NULL;
	ep->ready_head = s->ep_next;
	if (!ep->ready_head)
		ep->ready_tail = NULL;
	s->ep_next = NULL;
	s->ep_queued = false;
	return s;
}

/* Remove s from the ready list (O(n) walk; only on DEL or close). */
static void ready_remove(struct sn_epoll *ep, struct sn_sock *s)
{
	struct sn_sock **pp = &ep->ready_head, *prev = NULL;

	if (!s->ep_queued)
		return;
	while (*pp && *pp != s) {
		prev = *pp;
		pp = &(*pp)->ep_next;
	}
	if (*pp) {
		*pp = s->ep_next;
		if (ep->ready_tail == s)
			ep->ready_tail = prev;
	}
	s->ep_next = NULL;
	s->ep_queued = false;
}

void sn_ev_notify(struct sn_sock *s)
{
	if (s->ep && !s->ep_queued)
		ready_push(s->ep, s);
}

void sn_ev_forget(struct sn_sock *s)
{
	if (!s->ep)
		return;
	ready_remove(s->ep, s);
	s->ep->nregistered--;
	s->ep = NULL;
}

static uint32_t sock_events(const struct sn_sock *s)
{
	return s->kind == SN_FD_TCP ? sn_tcp_events(s) : sn_udp_events(s);
}

int sn_epoll_create(int size)
{
	struct sn_epoll *ep;
	int fd;

	if (size <= 0)
		return sn_err(EINVAL);
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return sn_err(ENOMEM);
	ep->kind = SN_FD_EPOLL;
	fd = sn_fd_alloc(ep, SN_FD_EPOLL);
	if (fd < 0) {
		free(ep);
		return sn_err(-fd);
	}
	ep->fd = fd;
	return fd;
}

/* Sockets registered with ep are found through the descriptor table. */
void sn_epoll_destroy(struct sn_epoll *ep)
{
	for (int fd = 0; fd < SN_MAX_FDS && ep->nregistered; fd++) {
		enum sn_fd_kind kind;
		struct sn_sock *s = sn_fd_get(fd, &kind);

		if (s && (kind == SN_FD_TCP || kind == SN_FD_UDP) && s->ep == ep)
			sn_ev_forget(s);
	}
	free(ep);
}

static struct sn_epoll *epoll_get(int epfd)
{
	enum sn_fd_kind kind;
	struct sn_epoll *ep = sn_fd_get(epfd, &kind);

	if (!ep) {
		errno = EBADF;
		return NULL;
	}
	if (kind != SN_FD_EPOLL) {
		errno = EINVAL;
		return NULL;
	}
	return ep;
}

static int ctl_add_mod(struct sn_epoll *ep, struct sn_sock *s, int op,
		       const struct sn_epoll_event *ev)
{
	if (!ev)
		return sn_err(EFAULT);
	if (ev->events & ~SN_EV_VALID)
		return sn_err(EINVAL);
	if (op == SN_EPOLL_CTL_ADD) {
		if (s->ep)
			return sn_err(EEXIST);
		s->ep = ep;
		ep->nregistered++;
	} else if (s->ep != ep) {
		return sn_err(ENOENT);
	}
	s->ep_events = ev->events | SN_EV_ALWAYS;
	s->ep_data = ev->data.u64;
	/* Report what is already true, also for edge-triggered sockets. */
	sn_ev_notify(s);
	return 0;
}

int sn_epoll_ctl(int epfd, int op, int fd, struct sn_epoll_event *ev)
{
	struct sn_epoll *ep = epoll_get(epfd);
	enum sn_fd_kind kind;
	struct sn_sock *s;

	if (!ep)
		return -1;
	if (fd == epfd)
		return sn_err(EINVAL);
	s = sn_fd_get(fd, &kind);
	if (!s)
		return sn_err(EBADF);
	if (kind != SN_FD_TCP && kind != SN_FD_UDP)
		return sn_err(ENOTSOCK);
	switch (op) {
	case SN_EPOLL_CTL_ADD:
	case SN_EPOLL_CTL_MOD:
		return ctl_add_mod(ep, s, op, ev);
	case SN_EPOLL_CTL_DEL:
		if (s->ep != ep)
			return sn_err(ENOENT);
		sn_ev_forget(s);
		return 0;
	}
	return sn_err(EINVAL);
}

/* Report up to max ready sockets; each socket on the list is looked at
 * once per call. */
static int collect(struct sn_epoll *ep, struct sn_epoll_event *out, int max)
{
	struct sn_sock *last = ep->ready_tail, *s;
	int n = 0;

	while (n < max && (s = ready_pop(ep))) {
		uint32_t ev = sock_events(s) & s->ep_events;
		bool was_last = s == last;

		if (ev) {
			out[n].events = ev & ~SN_EPOLLET;
			out[n].data.u64 = s->ep_data;
			n++;
			if (!(s->ep_events & SN_EPOLLET))
				ready_push(ep, s);
		}
		if (was_last)
			break;
	}
	return n;
}

int sn_epoll_wait(int epfd, struct sn_epoll_event *events, int maxevents,
		  int timeout_ms)
{
	struct sn_epoll *ep = epoll_get(epfd);
	uint64_t deadline;
	int n;

	if (!ep)
		return -1;
	if (!events)
		return sn_err(EFAULT);
	if (maxevents <= 0)
		return sn_err(EINVAL);
	deadline = timeout_ms < 0 ? 0 : sn_now_us() + (uint64_t)timeout_ms * 1000u;
	for (;;) {
		if (sn_stopping())
			return sn_err(EINTR);
		/* Always one poll: RX and TX progress even when sockets are
		 * ready all the time. */
		sn_poll();
		n = collect(ep, events, maxevents);
		if (n || (timeout_ms >= 0 && sn_now_us() >= deadline))
			return n;
	}
}
