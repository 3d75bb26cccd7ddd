#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send malformed frames to a stack over a kernel interface, with scapy.

  bad_frames.py IFACE DST_MAC DST_IP4 DST_IP6 PORT [ROUNDS]

Every frame is addressed to the stack's MAC, so it reaches the stack's input path.
Cases: truncated, oversized and inconsistent length fields at each layer, bad
checksums, bogus IP/TCP/ND options, nasty fragments, runt frames, and seeded random
garbage. The script only sends; the caller then checks that the stack still answers
(ping, TCP, UDP) and is still running. Bounded: a fixed number of frames.
"""
import random
import sys

from scapy.all import (ARP, ICMP, IP, IPv6, TCP, UDP, Ether, ICMPv6EchoRequest,
                       ICMPv6ND_NS, IPOption, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       Raw, conf, get_if_hwaddr)


def cases(src_mac, dst_mac, ip4, ip6, port):
    eth = Ether(src=src_mac, dst=dst_mac)
    e4 = Ether(src=src_mac, dst=dst_mac, type=0x0800)
    e6 = Ether(src=src_mac, dst=dst_mac, type=0x86DD)
    src4 = ip4.rsplit(".", 1)[0] + ".1"
    src6 = ip6.rsplit(":", 1)[0] + ":1"
    ip = IP(src=src4, dst=ip4)
    ip6h = IPv6(src=src6, dst=ip6)
    tcp_ok = bytes(ip / TCP(sport=40000, dport=port, flags="S", seq=1))

    out = []
    add = lambda name, frame: out.append((name, bytes(frame)))

    # Link layer
    add("runt frame, ethernet header only", e4)
    add("runt frame, 1 byte after header", e4 / b"\x45")
    add("unknown ethertype", Ether(src=src_mac, dst=dst_mac, type=0x88B5) / Raw(b"x" * 50))
    add("VLAN tag with nothing after it", Ether(src=src_mac, dst=dst_mac, type=0x8100) / b"\x00")
    # ARP
    add("ARP truncated", Ether(src=src_mac, dst=dst_mac, type=0x0806) / bytes(ARP(pdst=ip4))[:10])
    add("ARP hlen 0 plen 0", eth / ARP(hwlen=0, plen=0, pdst=ip4))
    add("ARP hlen 255 plen 255", eth / ARP(hwlen=255, plen=255, pdst=ip4))
    # IPv4 header
    add("IPv4 truncated header (10 bytes)", e4 / bytes(ip / ICMP())[:10])
    add("IPv4 ihl 15 but 20 bytes", e4 / (b"\x4f" + bytes(ip / ICMP())[1:20]))
    add("IPv4 ihl 2 (< 5)", e4 / (b"\x42" + bytes(ip / ICMP())[1:]))
    add("IPv4 version 6 in v4 frame", e4 / (b"\x65" + bytes(ip / ICMP())[1:]))
    add("IPv4 total length > frame", e4 / IP(bytes(ip / ICMP()), len=1400))
    add("IPv4 total length 65535", e4 / IP(bytes(ip / ICMP()), len=65535))
    add("IPv4 total length < header", e4 / IP(bytes(ip / ICMP()), len=10))
    add("IPv4 bad header checksum", e4 / IP(bytes(ip / ICMP()), chksum=0x1234))
    add("IPv4 option length 0", e4 / IP(src=src4, dst=ip4, options=[IPOption(b"\x07\x00\x00\x00")]) / ICMP())
    add("IPv4 option length past header",
        e4 / IP(src=src4, dst=ip4, options=[IPOption(b"\x44\x28\x05\x00")]) / ICMP())
    add("IPv4 unknown protocol 253", e4 / IP(src=src4, dst=ip4, proto=253) / Raw(b"z" * 20))
    # IPv4 fragments
    add("fragment offset beyond 64 KiB (ping of death tail)",
        e4 / IP(src=src4, dst=ip4, id=7, flags=0, frag=8189, proto=1) / Raw(b"A" * 100))
    add("tiny first fragment (8 bytes)", e4 / IP(src=src4, dst=ip4, id=8, flags="MF", frag=0, proto=6) / Raw(tcp_ok[20:28]))
    add("overlapping fragment 1", e4 / IP(src=src4, dst=ip4, id=9, flags="MF", frag=0, proto=17) / Raw(b"B" * 64))
    add("overlapping fragment 2", e4 / IP(src=src4, dst=ip4, id=9, flags=0, frag=4, proto=17) / Raw(b"C" * 64))
    add("fragment with zero payload", e4 / IP(src=src4, dst=ip4, id=10, flags="MF", frag=1, proto=17))
    # ICMP / UDP
    add("ICMP echo truncated (2 bytes)", e4 / IP(src=src4, dst=ip4, proto=1) / Raw(b"\x08\x00"))
    add("ICMP echo bad checksum", e4 / ip / ICMP(chksum=0xdead) / Raw(b"p" * 32))
    add("UDP length > IP payload", e4 / ip / UDP(sport=40001, dport=port, len=1000) / Raw(b"u" * 8))
    add("UDP length < 8", e4 / ip / UDP(sport=40001, dport=port, len=3) / Raw(b"u" * 8))
    add("UDP bad checksum", e4 / ip / UDP(sport=40001, dport=port, chksum=0xbeef) / Raw(b"u" * 8))
    add("UDP header truncated", e4 / IP(src=src4, dst=ip4, proto=17) / Raw(b"\x9c\x41\x00"))
    # TCP
    add("TCP header truncated (10 bytes)", e4 / IP(src=src4, dst=ip4, proto=6) / Raw(bytes(TCP(dport=port))[:10]))
    add("TCP data offset 15, 20-byte segment", e4 / ip / TCP(sport=40002, dport=port, flags="S", dataofs=15))
    add("TCP data offset 2 (< 5)", e4 / ip / TCP(sport=40003, dport=port, flags="S", dataofs=2))
    add("TCP option length 0", e4 / ip / TCP(sport=40004, dport=port, flags="S", dataofs=6) / Raw(b"\x02\x00\x05\xb4"))
    add("TCP option length past header", e4 / ip / TCP(sport=40005, dport=port, flags="S", dataofs=6) / Raw(b"\x03\x28\x07\x00"))
    add("TCP window scale 255", e4 / ip / TCP(sport=40006, dport=port, flags="S", options=[("WScale", 255)]))
    add("TCP MSS 0", e4 / ip / TCP(sport=40007, dport=port, flags="S", options=[("MSS", 0)]))
    add("TCP SYN bad checksum", e4 / ip / TCP(sport=40008, dport=port, flags="S", chksum=0x4242))
    add("TCP all flags set", e4 / ip / TCP(sport=40009, dport=port, flags="FSRPAUEC") / Raw(b"x" * 10))
    add("TCP ACK for unknown connection with data", e4 / ip / TCP(sport=40010, dport=port, flags="A", seq=5, ack=99) / Raw(b"x" * 100))
    add("TCP to closed port", e4 / ip / TCP(sport=40011, dport=1, flags="S"))
    # IPv6
    add("IPv6 truncated header (20 bytes)", e6 / bytes(ip6h / ICMPv6EchoRequest())[:20])
    add("IPv6 payload length > frame", e6 / IPv6(bytes(ip6h / ICMPv6EchoRequest()), plen=1400))
    add("IPv6 payload length 0 with payload", e6 / IPv6(bytes(ip6h / ICMPv6EchoRequest()), plen=0))
    add("IPv6 hop-by-hop option overruns", e6 / ip6h / IPv6ExtHdrHopByHop(len=200, nh=58) / ICMPv6EchoRequest())
    add("IPv6 hop-by-hop then garbage next header", e6 / ip6h / IPv6ExtHdrHopByHop(nh=0) / Raw(b"\x00\x00" * 8))
    add("IPv6 fragment header, offset past 64 KiB",
        e6 / ip6h / IPv6ExtHdrFragment(nh=58, offset=8190, m=0, id=11) / Raw(b"D" * 64))
    add("IPv6 atomic fragment of echo", e6 / ip6h / IPv6ExtHdrFragment(nh=58, offset=0, m=0, id=12) / ICMPv6EchoRequest())
    add("ICMPv6 echo bad checksum", e6 / ip6h / ICMPv6EchoRequest(cksum=0x1111))
    # RFC 4861 s4.6: an ND option with length 0 must be dropped (else: endless loop).
    add("ICMPv6 NS option length 0", e6 / IPv6(src=src6, dst=ip6, hlim=255) /
        ICMPv6ND_NS(tgt=ip6) / Raw(b"\x01\x00" + b"\x00" * 6))
    add("ICMPv6 NS option past end", e6 / IPv6(src=src6, dst=ip6, hlim=255) /
        ICMPv6ND_NS(tgt=ip6) / Raw(b"\x01\x40" + b"\x00" * 6))
    add("TCP over IPv6, data offset 15", e6 / ip6h / TCP(sport=40012, dport=port, flags="S", dataofs=15))
    return out


def garbage(src_mac, dst_mac, n, seed=2):
    """Seeded random frames: random ethertype among the ones the stack parses,
    random length, random bytes; and the same with a valid-looking IPv4 start."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        et = rnd.choice([0x0800, 0x86DD, 0x0806])
        body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 200)))
        if et == 0x0800 and body and i % 2:
            body = b"\x45" + body[1:]
        if et == 0x86DD and body and i % 2:
            body = b"\x60" + body[1:]
        out.append((f"garbage {i}", bytes(Ether(src=src_mac, dst=dst_mac, type=et) / Raw(body))))
    return out


def main(argv):
    if len(argv) < 6:
        print(__doc__)
        return 2
    iface, dst_mac, ip4, ip6, port = argv[1:6]
    rounds = int(argv[6]) if len(argv) > 6 else 2
    conf.verb = 0
    src_mac = get_if_hwaddr(iface)
    frames = cases(src_mac, dst_mac, ip4, ip6, int(port)) + garbage(src_mac, dst_mac, 300)
    sock = conf.L2socket(iface=iface)  # one socket: sendp() would open one per frame
    for r in range(rounds):
        for name, f in frames:
            sock.send(f)
    sock.close()
    print(f"sent {len(frames)} malformed frames x {rounds} rounds to {dst_mac} on {iface}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
