#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Hostile IKEv2 input for ike_attack.sh (scapy.contrib.ikev2), sent on the
kernel end of sealnet's TAP.

  ike_attack.py IFACE DST_MAC DST_IP flood N        N IKE_SA_INIT requests, each
                                                    from its own source address
  ike_attack.py IFACE DST_MAC DST_IP malformed      truncated, lengths that
                                                    disagree, zero length, an
                                                    unknown critical payload
  ike_attack.py IFACE DST_MAC DST_IP replay         one IKE_SA_INIT three times,
                                                    then out-of-window message IDs
Prints one line per kind sent: "sent KIND COUNT".
"""
import os
import sys

from scapy.all import Ether, IP, UDP, Raw, sendp  # noqa: E402
from scapy.contrib.ikev2 import (IKEv2, IKEv2_payload_SA, IKEv2_payload_Proposal,  # noqa: E402
                                 IKEv2_payload_Transform, IKEv2_payload_KE,
                                 IKEv2_payload_Nonce)


def init_req(spi=None, mid=0):
    """A well-formed IKE_SA_INIT request: AES-GCM-16-128, PRF-SHA256, X25519."""
    spi = spi or os.urandom(8)
    tr = (IKEv2_payload_Transform(transform_type="Encryption", transform_id=20, length=12,
                                  key_length=0x800e0080, next_payload="Transform")
          / IKEv2_payload_Transform(transform_type="PRF", transform_id=5, next_payload="Transform")
          / IKEv2_payload_Transform(transform_type="GroupDesc", transform_id=31))
    prop = IKEv2_payload_Proposal(proposal=1, proto=1, trans_nb=3, trans=tr)
    return (IKEv2(init_SPI=spi, next_payload="SA", exch_type="IKE_SA_INIT", flags="Initiator", id=mid)
            / IKEv2_payload_SA(next_payload="KE", prop=prop)
            / IKEv2_payload_KE(next_payload="Nonce", group=31, load=os.urandom(32))
            / IKEv2_payload_Nonce(next_payload="None", load=os.urandom(32)))


def frame(mac, src, dst, ike, sport=500):
    return Ether(dst=mac) / IP(src=src, dst=dst) / UDP(sport=sport, dport=500) / ike


def main():
    iface, mac, dst, mode = sys.argv[1:5]
    frames = []
    if mode == "flood":
        n = int(sys.argv[5])
        for i in range(n):
            src = "198.18.%d.%d" % ((i >> 8) & 255, (i & 255) or 1)
            frames.append(frame(mac, src, dst, init_req()))
        sendp(frames, iface=iface, verbose=False)
        print("sent flood %d" % n)
        return
    src = "192.0.2.1"
    if mode == "malformed":
        good = bytes(init_req())
        kinds = {
            "truncated-header": good[:20],
            "truncated-payload": good[:40],
            "length-too-long": good[:24] + (len(good) + 100).to_bytes(4, "big") + good[28:],
            "length-too-short": good[:24] + (28).to_bytes(4, "big") + good[28:],
            # first payload's length zero
            "zero-payload-length": good[:30] + b"\x00\x00" + good[32:],
            # next payload 200 (unknown), critical bit set, as the first payload
            "unknown-critical": (good[:16] + bytes([200]) + good[17:28] + bytes([33, 0x80]) + good[30:]),
            "bad-version": good[:17] + bytes([0x30]) + good[18:],
        }
        for k, b in kinds.items():
            sendp(frame(mac, src, dst, Raw(b)), iface=iface, verbose=False)
            print("sent %s 1" % k)
        return
    if mode == "replay":
        req = init_req()
        sendp([frame(mac, src, dst, req)] * 3, iface=iface, verbose=False)
        print("sent replayed-init 3")
        for mid in (5, 7, 0xFFFFFFFF):
            r = IKEv2(init_SPI=os.urandom(8), resp_SPI=os.urandom(8), next_payload="None",
                      exch_type="INFORMATIONAL", flags="Initiator", id=mid)
            sendp(frame(mac, src, dst, r, sport=500), iface=iface, verbose=False)
        print("sent out-of-window 3")
        return
    sys.exit("unknown mode %s" % mode)


if __name__ == "__main__":
    main()
