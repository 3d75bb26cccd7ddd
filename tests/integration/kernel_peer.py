#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Kernel-side peers for sealnet's TAP tests: the Linux kernel's own TCP and UDP,
driven from Python's socket module, against sn-echo.

  kernel_peer.py tcp-bulk HOST PORT MIB       send MIB MiB of random bytes, read the
                                              echo concurrently, compare SHA-256
  kernel_peer.py udp-echo HOST PORT SIZE...   one datagram per size, each tagged,
                                              compare the echo byte for byte
  kernel_peer.py many-conns HOST PORT N       N connections open at once, each echoes
                                              a distinct message

Exit 0 iff every byte came back as sent. Each command bounds its own time, and the
calling script wraps it in `timeout` as well.
"""
import asyncio
import hashlib
import os
import resource
import socket
import sys
import threading
import time

CHUNK = 256 * 1024


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def tcp_bulk(host, port, mib):
    total = int(mib) * 1024 * 1024
    s = socket.create_connection((host, int(port)), timeout=10)
    s.settimeout(60)
    sent_hash = hashlib.sha256()
    send_err = []
    sent = [0]

    def sender():
        # Random data, so a stack that drops, repeats or reorders a segment fails.
        try:
            left = total
            while left:
                buf = os.urandom(min(CHUNK, left))
                sent_hash.update(buf)
                s.sendall(buf)
                left -= len(buf)
                sent[0] += len(buf)
        except OSError as e:
            send_err.append(e)

    t = threading.Thread(target=sender, daemon=True)
    start = time.monotonic()
    t.start()
    got = 0
    recv_hash = hashlib.sha256()
    while got < total:
        try:
            buf = s.recv(CHUNK)
        except socket.timeout:
            print(f"stalled: nothing received for 60s; sent {sent[0]} of {total} bytes, "
                  f"received {got} back")
            return 1
        if not buf:
            print(f"connection closed after {got} of {total} bytes echoed")
            return 1
        recv_hash.update(buf)
        got += len(buf)
    t.join(30)
    s.close()
    secs = time.monotonic() - start
    if send_err:
        print(f"send failed: {send_err[0]}")
        return 1
    if got != total or recv_hash.digest() != sent_hash.digest():
        print(f"mismatch: sent {total} sha256 {sent_hash.hexdigest()}, "
              f"received {got} sha256 {recv_hash.hexdigest()}")
        return 1
    print(f"{total} bytes echoed intact in {secs:.2f}s "
          f"({total * 8 / secs / 1e6:.0f} Mbit/s each way), sha256 {sent_hash.hexdigest()}")
    return 0


def udp_echo(host, port, *sizes):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.connect((host, int(port)))
    bad = 0
    for i, size in enumerate(int(x) for x in sizes):
        # A tag in the first bytes tells a late echo of an earlier try from this one.
        body = (b"%08d" % i + os.urandom(max(0, size - 8)))[:size]
        for attempt in range(3):  # the first datagram may wait for ARP/ND
            s.send(body)
            try:
                while True:
                    echo = s.recv(65535)
                    if echo[:8] == body[:8] or size < 8:
                        break
            except socket.timeout:
                continue
            break
        else:
            print(f"size {size}: no echo after 3 tries")
            bad += 1
            continue
        if echo != body:
            print(f"size {size}: echo differs (got {len(echo)} bytes)")
            bad += 1
        else:
            print(f"size {size}: ok")
    return 1 if bad else 0


async def many_conns(host, port, n):
    n = int(n)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 256)), hard))
    # Open gradually (at most 100 handshakes in flight) so a full accept backlog
    # is not what we measure; every connection then stays open until the end.
    gate = asyncio.Semaphore(100)

    async def open_one(i):
        async with gate:
            for attempt in range(3):
                try:
                    return await asyncio.wait_for(asyncio.open_connection(host, int(port)), 15)
                except (OSError, asyncio.TimeoutError) as e:
                    err = e
            raise ConnectionError(f"connection {i}: {err!r}")

    t0 = time.monotonic()
    conns = await asyncio.gather(*(open_one(i) for i in range(n)), return_exceptions=True)
    failed = [c for c in conns if isinstance(c, BaseException)]
    ok = [c for c in conns if not isinstance(c, BaseException)]
    print(f"{len(ok)} of {n} connections open in {time.monotonic() - t0:.2f}s")
    for e in failed[:5]:
        print(f"  {e}")

    async def echo_one(i, rw):
        r, w = rw
        msg = b"conn %06d %s\n" % (i, os.urandom(8 + i % 64).hex().encode())
        w.write(msg)
        await w.drain()
        back = await asyncio.wait_for(r.readexactly(len(msg)), 20)
        return back == msg

    t0 = time.monotonic()
    res = await asyncio.gather(*(echo_one(i, c) for i, c in enumerate(ok)), return_exceptions=True)
    good = sum(1 for r in res if r is True)
    for r in [r for r in res if r is not True][:5]:
        print(f"  echo failed: {r!r}")
    print(f"{good} of {n} distinct messages echoed correctly in {time.monotonic() - t0:.2f}s "
          f"with all connections open")
    for r, w in ok:
        w.close()
    await asyncio.gather(*(w.wait_closed() for r, w in ok), return_exceptions=True)
    return 0 if good == n else 1


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "tcp-bulk":
        return tcp_bulk(*args)
    if cmd == "udp-echo":
        return udp_echo(*args)
    if cmd == "many-conns":
        return asyncio.run(many_conns(*args))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
