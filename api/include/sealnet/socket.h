/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sealnet sockets: BSD socket calls on the userspace stack.
 *
 * Descriptors are small integers of sealnet's own (not kernel fds). Calls
 * return -1 and set errno as a BSD socket user expects. Non-blocking
 * sockets (sn_fcntl O_NONBLOCK) used from the poll loop are the fast path;
 * on a blocking socket a call that has to wait drives the poll loop itself
 * until it can complete, fails (EINTR once sn_stop() was called), or its
 * SO_RCVTIMEO/SO_SNDTIMEO runs out (EAGAIN).
 *
 * Supported: AF_INET and AF_INET6; SOCK_STREAM (TCP) and SOCK_DGRAM (UDP).
 * An AF_INET6 socket talks IPv6 only.
 */
#ifndef SEALNET_SOCKET_H
#define SEALNET_SOCKET_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most descriptors (sockets and epoll instances) open at once. */
#define SN_MAX_FDS 16384

/* A new socket. EAFNOSUPPORT for a family other than AF_INET/AF_INET6,
 * EPROTOTYPE/EPROTONOSUPPORT for other types or protocols, EMFILE when
 * the table is full, ENOBUFS when the stack is out of memory, ENETDOWN
 * before sn_start(). SOCK_NONBLOCK may be or'ed into type. */
int sn_socket(int domain, int type, int protocol);

/* Bind to a local address and port (port 0: pick one). EADDRINUSE when
 * taken (SO_REUSEADDR lets a TIME_WAIT port be reused), EADDRNOTAVAIL for
 * an address the interface does not have, EINVAL when already bound,
 * EAFNOSUPPORT for an address of the wrong family. */
int sn_bind(int fd, const struct sockaddr *addr, socklen_t len);

/* Start listening (TCP). backlog <= 0 or > 255 is clamped to 255.
 * EOPNOTSUPP on UDP, EINVAL when connected. */
int sn_listen(int fd, int backlog);

/* Take a connection from the listen queue. Non-blocking and empty: EAGAIN.
 * EINVAL when not listening. SOCK_NONBLOCK in flags sets it on the new
 * socket (sn_accept4 semantics). */
int sn_accept(int fd, struct sockaddr *addr, socklen_t *len);
int sn_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/* Connect. TCP blocking: waits for the handshake (ECONNREFUSED on RST,
 * ETIMEDOUT when SYNs go unanswered). Non-blocking: EINPROGRESS, then
 * EPOLLOUT, then SO_ERROR tells the result. EISCONN when connected,
 * EALREADY while in progress. UDP: sets the default peer. */
int sn_connect(int fd, const struct sockaddr *addr, socklen_t len);

/* Send; returns bytes taken (TCP may take fewer than len when the send
 * buffer fills). EAGAIN (non-blocking, buffer full), ENOTCONN, EPIPE after
 * shutdown(SHUT_WR) or a reset, EMSGSIZE for a UDP datagram over 65507
 * bytes, ENOBUFS when the stack has no memory, EDESTADDRREQ (UDP, no peer).
 * flags: MSG_DONTWAIT, MSG_MORE (TCP: hold for more data). */
ssize_t sn_send(int fd, const void *buf, size_t len, int flags);
ssize_t sn_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *to, socklen_t tolen);

/* Receive; 0 at end of stream (TCP). EAGAIN when nothing is there
 * (non-blocking), ENOTCONN, ECONNRESET. UDP: one datagram per call,
 * truncated to len (MSG_TRUNC in flags returns its real length).
 * flags: MSG_DONTWAIT, MSG_PEEK. */
ssize_t sn_recv(int fd, void *buf, size_t len, int flags);
ssize_t sn_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen);

/* SHUT_RD, SHUT_WR or SHUT_RDWR. ENOTCONN when not connected. */
int sn_shutdown(int fd, int how);

/* Close. TCP: queued data is still sent, then FIN (SO_LINGER with a zero
 * timeout sends a reset instead). The descriptor is free at once. */
int sn_close(int fd);

/*
 * Options. SOL_SOCKET: SO_REUSEADDR, SO_KEEPALIVE, SO_ERROR (get),
 * SO_TYPE (get), SO_RCVBUF and SO_SNDBUF (get), SO_RCVTIMEO, SO_SNDTIMEO,
 * SO_LINGER. IPPROTO_TCP: TCP_NODELAY (on by default, see README),
 * TCP_MAXSEG (get), TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT.
 * ENOPROTOOPT for others, EINVAL for a short optlen.
 */
int sn_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int sn_getsockopt(int fd, int level, int name, void *val, socklen_t *len);

/* Local and peer address. ENOTCONN for the peer of an unconnected socket. */
int sn_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int sn_getpeername(int fd, struct sockaddr *addr, socklen_t *len);

/* F_GETFL and F_SETFL with O_NONBLOCK; EINVAL for other commands. */
int sn_fcntl(int fd, int cmd, ...);

#ifdef __cplusplus
}
#endif

#endif
