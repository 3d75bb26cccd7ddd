/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn_epoll_* (api/epoll.c) with the stack on the harness's fake port:
 * argument errors, timeouts, level- and edge-triggered readiness of
 * listeners, TCP and UDP sockets over the loopback, and sn_stop().
 *
 * The harness drives the stack with sn_stack_poll() (h_poll) before each
 * sn_epoll_wait: sn_poll(), which sn_epoll_wait calls, only runs the
 * stack that sn_start() started.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "sealnet/sealnet.h"
#include "harness.h"
#include "checks.h"

TestSuite(epoll, .init = h_stack_start, .fini = h_stack_stop_checked, .timeout = 60);

static struct sn_epoll_event ev_of(uint32_t events, uint64_t data)
{
	struct sn_epoll_event ev = { .events = events };

	ev.data.u64 = data;
	return ev;
}

static int add(int ep, int fd, uint32_t events)
{
	struct sn_epoll_event ev = ev_of(events, 1000u + (unsigned)fd);

	return sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, fd, &ev);
}

/* Let the loopback settle, then one non-waiting look. */
static int ready(int ep, struct sn_epoll_event *out, int max)
{
	h_poll(10);
	return sn_epoll_wait(ep, out, max, 0);
}

/* The events reported for fd (registered by add()), 0 when none. */
static uint32_t events_of(int ep, int fd)
{
	struct sn_epoll_event out[16];
	int n = ready(ep, out, 16);
	uint32_t ev = 0;

	cr_assert_geq(n, 0, "epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++)
		if (out[i].data.u64 == 1000u + (unsigned)fd)
			ev |= out[i].events;
	return ev;
}

static int udp_bound(uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = sn_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0);
	*len = h_addr(AF_INET, port, ss);
	cr_assert_eq(sn_bind(fd, (struct sockaddr *)ss, *len), 0);
	return fd;
}

static void send_to(int from, const struct sockaddr_storage *to, socklen_t len)
{
	cr_assert_eq(sn_sendto(from, "ping", 4, 0, (const struct sockaddr *)to, len), 4,
		     "sendto: %s", strerror(errno));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- Errors ------------------------------------------------------------------------ */

Test(epoll, create_size)
{
	ERRNO_IS(sn_epoll_create(0), EINVAL);
	ERRNO_IS(sn_epoll_create(-1), EINVAL);
	cr_assert_geq(sn_epoll_create(1), 0);
}

Test(epoll, ctl_errors)
{
	int ep = sn_epoll_create(1), ep2 = sn_epoll_create(1);
	int s = sn_socket(AF_INET, SOCK_DGRAM, 0);
	struct sn_epoll_event ev = ev_of(SN_EPOLLIN, 0);

	cr_assert(ep >= 0 && ep2 >= 0 && s >= 0);
	ERRNO_IS(sn_epoll_ctl(-1, SN_EPOLL_CTL_ADD, s, &ev), EBADF);
	ERRNO_IS(sn_epoll_ctl(SN_MAX_FDS - 1, SN_EPOLL_CTL_ADD, s, &ev), EBADF);
	ERRNO_IS(sn_epoll_ctl(s, SN_EPOLL_CTL_ADD, s, &ev), EINVAL);   /* epfd not epoll */
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, ep, &ev), EINVAL); /* fd == epfd */
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, 4000, &ev), EBADF);
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, -3, &ev), EBADF);
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, s, NULL), EFAULT);
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_MOD, s, &ev), ENOENT);
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_DEL, s, &ev), ENOENT);
	ERRNO_IS(sn_epoll_ctl(ep, 99, s, &ev), EINVAL);
	cr_assert_eq(sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, s, &ev), 0);
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, s, &ev), EEXIST);
	ERRNO_IS(sn_epoll_ctl(ep2, SN_EPOLL_CTL_ADD, s, &ev), EEXIST); /* other instance */
	ERRNO_IS(sn_epoll_ctl(ep2, SN_EPOLL_CTL_MOD, s, &ev), ENOENT);
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_MOD, s, NULL), EFAULT);
	cr_assert_eq(sn_epoll_ctl(ep, SN_EPOLL_CTL_MOD, s, &ev), 0);
	cr_assert_eq(sn_epoll_ctl(ep, SN_EPOLL_CTL_DEL, s, NULL), 0);
	cr_assert_eq(sn_epoll_ctl(ep2, SN_EPOLL_CTL_ADD, s, &ev), 0);
}

/* event.h: "ENOTSOCK when fd is not a socket". An epoll instance is the
 * one kind of descriptor that is not a socket. */
Test(epoll, ctl_epoll_fd_as_target_is_enotsock)
{
	int ep = sn_epoll_create(1), ep2 = sn_epoll_create(1);
	struct sn_epoll_event ev = ev_of(SN_EPOLLIN, 0);

	cr_assert(ep >= 0 && ep2 >= 0);
	ERRNO_IS(sn_epoll_ctl(ep, SN_EPOLL_CTL_ADD, ep2, &ev), ENOTSOCK);
}

Test(epoll, wait_errors)
{
	int ep = sn_epoll_create(1), s = sn_socket(AF_INET, SOCK_DGRAM, 0);
	struct sn_epoll_event out[2];

	ERRNO_IS(sn_epoll_wait(ep, out, 0, 0), EINVAL);
	ERRNO_IS(sn_epoll_wait(ep, out, -1, 0), EINVAL);
	ERRNO_IS(sn_epoll_wait(ep, NULL, 2, 0), EFAULT);
	ERRNO_IS(sn_epoll_wait(ep + 100, out, 2, 0), EBADF);
	ERRNO_IS(sn_epoll_wait(s, out, 2, 0), EINVAL);
}

/* ---- Timeouts ------------------------------------------------------------------------ */

Test(epoll, timeout_zero_returns_at_once)
{
	int ep = sn_epoll_create(1);
	struct sn_epoll_event out[2];
	uint64_t t0 = now_ms();

	cr_assert_eq(sn_epoll_wait(ep, out, 2, 0), 0);
	cr_assert_lt(now_ms() - t0, 20);
}

Test(epoll, timeout_50ms)
{
	int ep = sn_epoll_create(1);
	struct sn_epoll_event out[2];
	uint64_t t0 = now_ms(), dt;

	cr_assert_eq(sn_epoll_wait(ep, out, 2, 50), 0);
	dt = now_ms() - t0;
	cr_assert_geq(dt, 50, "returned after %llu ms", (unsigned long long)dt);
	cr_assert_lt(dt, 1000, "returned after %llu ms", (unsigned long long)dt);
}

/* ---- Readiness --------------------------------------------------------------------------- */

Test(epoll, listener_readable_after_connect)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(AF_INET, 8100, &ss);
	int ep = sn_epoll_create(1), l = h_listen(AF_INET, 8100);
	int c = sn_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	cr_assert(ep >= 0 && l >= 0 && c >= 0);
	cr_assert_eq(add(ep, l, SN_EPOLLIN), 0);
	cr_assert_eq(events_of(ep, l), 0, "listener ready before any connection");
	ERRNO_IS(sn_connect(c, (struct sockaddr *)&ss, len), EINPROGRESS);
	cr_assert_eq(events_of(ep, l), SN_EPOLLIN);
	cr_assert_eq(events_of(ep, l), SN_EPOLLIN, "level-triggered: still ready");
	cr_assert_geq(sn_accept(l, NULL, NULL), 0);
	cr_assert_eq(events_of(ep, l), 0, "ready after the queue was emptied");
}

Test(epoll, udp_level_triggered)
{
	struct sockaddr_storage sa, sb;
	socklen_t la, lb;
	int ep = sn_epoll_create(1), a = udp_bound(8200, &sa, &la), b = udp_bound(8201, &sb, &lb);
	char buf[16];

	cr_assert_eq(add(ep, b, SN_EPOLLIN), 0);
	cr_assert_eq(events_of(ep, b), 0);
	send_to(a, &sb, lb);
	cr_assert_eq(events_of(ep, b), SN_EPOLLIN);
	cr_assert_eq(events_of(ep, b), SN_EPOLLIN, "unread datagram no longer reported");
	cr_assert_eq(sn_recv(b, buf, sizeof(buf), 0), 4);
	cr_assert_eq(events_of(ep, b), 0, "reported after it was read");
}

Test(epoll, udp_edge_triggered_reports_once)
{
	struct sockaddr_storage sa, sb;
	socklen_t la, lb;
	int ep = sn_epoll_create(1), a = udp_bound(8202, &sa, &la), b = udp_bound(8203, &sb, &lb);

	cr_assert_eq(add(ep, b, SN_EPOLLIN | SN_EPOLLET), 0);
	send_to(a, &sb, lb);
	cr_assert_eq(events_of(ep, b), SN_EPOLLIN);
	cr_assert_eq(events_of(ep, b), 0, "edge-triggered: reported twice");
	send_to(a, &sb, lb);       /* a new edge */
	cr_assert_eq(events_of(ep, b), SN_EPOLLIN);
	cr_assert_eq(events_of(ep, b), 0);
}

Test(epoll, udp_always_writable)
{
	struct sockaddr_storage sa;
	socklen_t la;
	int ep = sn_epoll_create(1), a = udp_bound(8204, &sa, &la);

	cr_assert_eq(add(ep, a, SN_EPOLLOUT | SN_EPOLLIN), 0);
	cr_assert_eq(events_of(ep, a), SN_EPOLLOUT);
}

Test(epoll, tcp_writable_then_rdhup_after_peer_shutdown)
{
	int ep = sn_epoll_create(1), c, s;

	cr_assert_eq(h_tcp_pair(AF_INET, 8300, &c, &s), 0);
	cr_assert_eq(add(ep, c, SN_EPOLLIN | SN_EPOLLOUT | SN_EPOLLRDHUP), 0);
	cr_assert_eq(events_of(ep, c), SN_EPOLLOUT);
	cr_assert_eq(h_send_all(s, "data", 4), 4);
	cr_assert_eq(events_of(ep, c), SN_EPOLLOUT | SN_EPOLLIN);
	cr_assert_eq(sn_shutdown(s, SHUT_WR), 0);
	cr_assert_eq(events_of(ep, c), SN_EPOLLOUT | SN_EPOLLIN | SN_EPOLLRDHUP);
}

Test(epoll, rdhup_only_when_asked)
{
	int ep = sn_epoll_create(1), c, s;

	cr_assert_eq(h_tcp_pair(AF_INET6, 8301, &c, &s), 0);
	cr_assert_eq(add(ep, c, SN_EPOLLIN), 0);
	cr_assert_eq(sn_shutdown(s, SHUT_WR), 0);
	cr_assert_eq(events_of(ep, c), SN_EPOLLIN);
}

Test(epoll, connect_refused_reports_err_hup)
{
	struct sockaddr_storage ss;
	socklen_t len = h_addr(AF_INET, 8302, &ss);
	int ep = sn_epoll_create(1), c = sn_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	cr_assert_eq(add(ep, c, SN_EPOLLOUT), 0);
	ERRNO_IS(sn_connect(c, (struct sockaddr *)&ss, len), EINPROGRESS);
	/* ERR and HUP are reported without being asked for. */
	cr_assert_eq(events_of(ep, c) & (SN_EPOLLERR | SN_EPOLLHUP | SN_EPOLLOUT),
		     SN_EPOLLERR | SN_EPOLLHUP | SN_EPOLLOUT);
}

Test(epoll, closed_socket_leaves_the_ready_list)
{
	struct sockaddr_storage sa, sb;
	socklen_t la, lb;
	int ep = sn_epoll_create(1), a = udp_bound(8205, &sa, &la), b = udp_bound(8206, &sb, &lb);
	struct sn_epoll_event out[4];

	cr_assert_eq(add(ep, b, SN_EPOLLIN), 0);
	cr_assert_eq(add(ep, a, SN_EPOLLIN), 0);
	send_to(a, &sb, lb);
	h_poll(10);
	cr_assert_eq(sn_close(b), 0);      /* queued on the ready list */
	cr_assert_eq(ready(ep, out, 4), 0);
	/* DEL takes a ready socket off too. */
	send_to(b = udp_bound(8206, &sb, &lb), &sa, la);
	h_poll(10);
	cr_assert_eq(sn_epoll_ctl(ep, SN_EPOLL_CTL_DEL, a, NULL), 0);
	cr_assert_eq(ready(ep, out, 4), 0);
}

/* Closing the instance unregisters its sockets: they can join another. */
Test(epoll, closing_the_instance_frees_its_sockets)
{
	struct sockaddr_storage sa;
	socklen_t la;
	int ep = sn_epoll_create(1), a = udp_bound(8207, &sa, &la), ep2;

	cr_assert_eq(add(ep, a, SN_EPOLLOUT), 0);
	cr_assert_eq(sn_close(ep), 0);
	ep2 = sn_epoll_create(1);
	cr_assert_eq(add(ep2, a, SN_EPOLLOUT), 0, "still registered: %s", strerror(errno));
	cr_assert_eq(events_of(ep2, a), SN_EPOLLOUT);
}

/* More ready sockets than maxevents: the rest come in the next call, and
 * the user data comes back as given. */
Test(epoll, maxevents_smaller_than_ready)
{
	struct sockaddr_storage ss[3];
	socklen_t len[3];
	int ep = sn_epoll_create(1), fd[3];
	struct sn_epoll_event out[3];
	uint64_t seen = 0;

	for (int i = 0; i < 3; i++) {
		fd[i] = udp_bound((uint16_t)(8210 + i), &ss[i], &len[i]);
		cr_assert_eq(add(ep, fd[i], SN_EPOLLOUT | SN_EPOLLET), 0);
	}
	h_poll(2);
	cr_assert_eq(sn_epoll_wait(ep, out, 2, 0), 2);
	for (int i = 0; i < 2; i++)
		seen |= 1u << (out[i].data.u64 - 1000u - (unsigned)fd[0]);
	cr_assert_eq(sn_epoll_wait(ep, out, 2, 0), 1);
	seen |= 1u << (out[0].data.u64 - 1000u - (unsigned)fd[0]);
	cr_assert_eq(seen, 7, "not every socket reported once: mask %llx",
		     (unsigned long long)seen);
	cr_assert_eq(sn_epoll_wait(ep, out, 3, 0), 0);
}

Test(epoll, wait_after_stop_is_eintr)
{
	int ep = sn_epoll_create(1);
	struct sn_epoll_event out[2];
	uint64_t t0 = now_ms();

	sn_stop();
	ERRNO_IS(sn_epoll_wait(ep, out, 2, -1), EINTR);
	cr_assert_lt(now_ms() - t0, 1000);
}
