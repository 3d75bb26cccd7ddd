#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""An independent IPsec peer for sealnet: scapy's SecurityAssociation on the
kernel side of a TAP device, talking ESP/AH to sn-echo.

  esp_peer.py matrix                          the cases ipsec_scapy.sh runs, one a line
  esp_peer.py conf CASE --out CONF --state STATE [--port P] [--attack]
        pick fresh keys for CASE, write sealnet's --ipsec-conf file (the stack's
        view) and STATE (JSON: everything the peer needs, keys included)
  esp_peer.py confs --dir DIR [--match REGEX] [--port P]   conf for every matrix case
        at once: DIR/NAME.conf and DIR/NAME.json; prints "NAME<TAB>CASE" lines
  esp_peer.py run --state STATE --iface IF    UDP (many sizes) and TCP through the SAs
  esp_peer.py attack --state STATE --iface IF --pid PID [--snctl PATH]
        bit flips, replays, old sequence numbers, unknown SPI, truncation, bad
        padding, cleartext (whole and in fragments), selector mismatch, hard-expired
        SA: nothing delivered,
        and the named drop counter (COUNTERS below) moves by exactly the expected amount
  esp_peer.py pair --state STATE --out-a CONF --out-b CONF --uat FILE [--port P]
        two stacks (198.51.100.1 <-> .2), AES-128-GCM transport, UDP and TCP port P;
        UAT is the esp_sa table for tshark
  esp_peer.py pcap --state STATE --out PCAP   ESP frames encrypted by scapy with a
        pair's keys, for checking the tshark UAT offline
  esp_peer.py selftest [--xfrm-netns NS]      scapy against itself and against our
        own encryptor for every case; config lines checked against the grammar
        (and, with --xfrm-netns, against iproute2's own `ip xfrm` parser)
  esp_peer.py probe --iface IF [--port P]    with a cleartext sn-echo: ARP/ND answered by
        the peer, cleartext echoes reach the peer's MAC
  esp_peer.py counter KEY                     print the snctl name of a counter

CASE is "ALG MODE FAMILY [encap] [esn]": ALG a key of ALGS, MODE transport|tunnel,
FAMILY 4 | 6 | 4in6 | 6in4 (tunnel only: inner in outer).

Addressing (why the peer is not the kernel): the peer has its own MAC (locally
administered, random) and the addresses 192.0.2.1 and 2001:db8::1, which the kernel
does not hold; the peer answers ARP and neighbour solicitations for them itself,
from the sniffer thread. Frames for the peer's MAC reach the kernel as
PACKET_OTHERHOST (the sniffer puts the TAP in promiscuous mode), and ip_rcv and
ipv6_rcv drop those before any protocol sees them. That matters: this kernel has no
ESP (CONFIG_INET_ESP is off, and there is no nft/iptables binary to silence it), so
were the peer's address its own it would answer every ESP/AH packet from the stack
with an ICMP protocol-unreachable and every TCP segment it could see with a RST,
and those cleartext packets would land in the stack's SPD and drop counters. So the
scapy TCP client needs no firewall. (net_tap gives the kernel side of the TAP the
same MAC as the stack's port: frames are told apart by destination, not source.)

Output: one "PASS ..." or "FAIL ..." line per check; exit 0 iff no FAIL.
"""
import argparse
import hashlib
import hmac
import json
import os
import queue
import random
import shlex
import struct
import subprocess
import sys
import threading
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from scapy.all import (ARP, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, IP, IPv6,
                       IPv6ExtHdrFragment, TCP, UDP, AsyncSniffer, Ether, Raw, conf,
                       fragment, fragment6, raw, wrpcap)
from scapy.layers.ipsec import AH, ESP, IPSecIntegrityError, SecurityAssociation

conf.verb = 0

# ---- the one table of counter names (snctl stats: "NAME VALUE") ---------------------
# Keys are what the tests mean; values are what sealnet prints. Adjust here only.
COUNTERS = {
    "auth_failed": "ipsec.drop_auth",           # bad ICV
    "replay": "ipsec.drop_replay",              # sequence number already seen
    "replay_old": "ipsec.drop_replay_old",      # left of the window
    "unknown_spi": "ipsec.drop_unknown_spi",    # no SA for SPI, destination, protocol
    "truncated": "ipsec.drop_truncated",        # shorter than header + IV + ICV
    "bad_len": "ipsec.drop_bad_len",            # ciphertext not a multiple of the block
    "bad_padding": "ipsec.drop_bad_pad",        # pad bytes or pad length wrong
    "cleartext": "ipsec.drop_cleartext",        # cleartext where the SPD requires ESP
    "selector": "ipsec.drop_selector",          # inner packet outside the SA's selectors
    "sa_expired": "ipsec.drop_expired",         # SA past its hard limit
    "rx_packets": "ipsec.in_packets",
    "tx_packets": "ipsec.out_packets",
}
DROP_PREFIX = "ipsec.drop_"     # every counter with this prefix must stay put unless expected

# ---- topology ------------------------------------------------------------------
ADDR = {4: {"peer": "192.0.2.1", "stack": "192.0.2.2", "plen": 24},
        6: {"peer": "2001:db8::1", "stack": "2001:db8::2", "plen": 64}}
PAIR = {"a": "198.51.100.1", "b": "198.51.100.2"}
MTU = 1500
SPI_IN, SPI_OUT = 0x1001, 0x2001     # stack's inbound (peer sends), stack's outbound
SPI_LIMITED = 0x1777                 # attack config: inbound SA with a hard packet limit
#                                      (several bits away from SPI_IN: the SPI bit flips must
#                                      all miss every configured SPI)
SPI_UNKNOWN = 0x1002                 # never configured
HARD_PACKETS = 3
WRAP_START = 0xfffffff8              # "wrap" cases: first sequence number both ways
REPLAY_WINDOW = 1024

# ---- algorithms: scapy names, key sizes (AEAD: salt included), xfrm words ------------
# enc_len/auth_len in bytes; icv in bytes. ah: protocol AH with auth only.
ALGS = {
    "aes-gcm-128": dict(proto="esp", scapy_enc="AES-GCM", enc_len=20, icv=16,
                        xfrm_enc="aead 'rfc4106(gcm(aes))' {ek} 128"),
    "aes-gcm-256": dict(proto="esp", scapy_enc="AES-GCM", enc_len=36, icv=16,
                        xfrm_enc="aead 'rfc4106(gcm(aes))' {ek} 128"),
    "chacha20-poly1305": dict(proto="esp", scapy_enc="CHACHA20-POLY1305", enc_len=36, icv=16,
                              xfrm_enc="aead 'rfc7539esp(chacha20,poly1305)' {ek} 128"),
    "aes-cbc-128-sha1": dict(proto="esp", scapy_enc="AES-CBC", enc_len=16, scapy_auth="HMAC-SHA1-96",
                             auth_len=20, icv=12,
                             xfrm_enc="enc 'cbc(aes)' {ek} auth-trunc 'hmac(sha1)' {ak} 96"),
    "aes-cbc-256-sha1": dict(proto="esp", scapy_enc="AES-CBC", enc_len=32, scapy_auth="HMAC-SHA1-96",
                             auth_len=20, icv=12,
                             xfrm_enc="enc 'cbc(aes)' {ek} auth-trunc 'hmac(sha1)' {ak} 96"),
    "aes-cbc-128-sha256": dict(proto="esp", scapy_enc="AES-CBC", enc_len=16, scapy_auth="SHA2-256-128",
                               auth_len=32, icv=16,
                               xfrm_enc="enc 'cbc(aes)' {ek} auth-trunc 'hmac(sha256)' {ak} 128"),
    "aes-cbc-256-sha256": dict(proto="esp", scapy_enc="AES-CBC", enc_len=32, scapy_auth="SHA2-256-128",
                               auth_len=32, icv=16,
                               xfrm_enc="enc 'cbc(aes)' {ek} auth-trunc 'hmac(sha256)' {ak} 128"),
    "null-sha1": dict(proto="esp", scapy_enc="NULL", enc_len=0, scapy_auth="HMAC-SHA1-96",
                      auth_len=20, icv=12,
                      xfrm_enc="enc 'ecb(cipher_null)' \"\" auth-trunc 'hmac(sha1)' {ak} 96"),
    "null-sha256": dict(proto="esp", scapy_enc="NULL", enc_len=0, scapy_auth="SHA2-256-128",
                        auth_len=32, icv=16,
                        xfrm_enc="enc 'ecb(cipher_null)' \"\" auth-trunc 'hmac(sha256)' {ak} 128"),
    "ah-sha1": dict(proto="ah", scapy_auth="HMAC-SHA1-96", auth_len=20, icv=12,
                    xfrm_enc="auth-trunc 'hmac(sha1)' {ak} 96"),
    "ah-sha256": dict(proto="ah", scapy_auth="SHA2-256-128", auth_len=32, icv=16,
                      xfrm_enc="auth-trunc 'hmac(sha256)' {ak} 128"),
}


def matrix():
    """The cases ipsec_scapy.sh runs: every algorithm in transport and tunnel mode
    over IPv4 and IPv6 (the variants that only recombine tested parts, fewer);
    cross-family tunnels, ESP in UDP and ESN for a few. About 4 s each."""
    out = []
    for alg in ALGS:
        fams = ("transport 4", "transport 6", "tunnel 4", "tunnel 6")
        if alg in ("aes-cbc-256-sha1", "aes-cbc-128-sha256", "null-sha256", "ah-sha1"):
            fams = ("transport 4", "tunnel 6")
        out += [f"{alg} {f}" for f in fams]
    out += ["aes-gcm-128 tunnel 4in6", "aes-gcm-128 tunnel 6in4", "ah-sha256 tunnel 4in6",
            "ah-sha256 tunnel 6in4", "aes-cbc-128-sha256 tunnel 4in6", "null-sha1 tunnel 6in4"]
    out += ["aes-gcm-128 transport 4 encap", "aes-gcm-128 transport 6 encap",
            "chacha20-poly1305 tunnel 6in4 encap", "aes-cbc-128-sha1 transport 4 encap",
            "aes-cbc-256-sha256 tunnel 6 encap"]
    out += ["aes-gcm-128 transport 4 esn", "chacha20-poly1305 tunnel 6 esn",
            "aes-cbc-256-sha256 transport 4 esn", "ah-sha1 transport 4 esn",
            "aes-gcm-256 transport 4 encap esn"]
    # ESN across 2^32 (RFC 4304): both SAs start just below the wrap, so the
    # sequence numbers of both directions cross it during the case.
    out += ["aes-gcm-128 transport 4 esn wrap", "aes-cbc-128-sha256 transport 6 esn wrap"]
    return out


def case_name(spec):
    return spec.replace(" ", "-")


def parse_case(spec):
    w = spec.split()
    if len(w) < 3 or w[0] not in ALGS or w[1] not in ("transport", "tunnel"):
        raise ValueError(f"bad case {spec!r}: want 'ALG transport|tunnel FAMILY [encap] [esn]'")
    fam = {"4": (4, 4), "6": (6, 6), "4in6": (4, 6), "6in4": (6, 4)}.get(w[2])
    if fam is None or (w[1] == "transport" and fam[0] != fam[1]):
        raise ValueError(f"bad family {w[2]!r} for {w[1]} mode")
    extra = set(w[3:])
    if extra - {"encap", "esn", "wrap"}:
        raise ValueError(f"unknown words {sorted(extra - {'encap', 'esn', 'wrap'})} in {spec!r}")
    if "wrap" in extra and ("esn" not in extra or ALGS[w[0]]["proto"] != "esp"):
        raise ValueError("wrap (sequence numbers across 2^32) needs ESP with esn")
    if "encap" in extra and ALGS[w[0]]["proto"] != "esp":
        raise ValueError("encap (ESP in UDP) needs ESP")
    return dict(spec=spec, alg=w[0], mode=w[1], inner=fam[0], outer=fam[1],
                encap="encap" in extra, esn="esn" in extra, wrap="wrap" in extra)


def hexkey(b):
    return "0x" + b.hex() if b else '""'


# ---- configuration: the stack's view ---------------------------------------------

def new_keys(alg):
    a = ALGS[alg]
    return {"enc": os.urandom(a.get("enc_len", 0)).hex(), "auth": os.urandom(a.get("auth_len", 0)).hex()}


def sa_line(c, src, dst, spi, keys, inbound, limit=None, sel=None):
    a = ALGS[c["alg"]]
    w = [f"state add src {src} dst {dst} proto {a['proto']} spi 0x{spi:x} mode {c['mode']} reqid 1"]
    # iproute2 refuses "flag esn" without a replay-window, outbound SAs included.
    if inbound or c["esn"]:
        w.append(f"replay-window {REPLAY_WINDOW}")
    if c["esn"]:
        w.append("flag esn")
    if c.get("wrap"):
        # Last number seen (inbound) / sent (outbound): the next ones wrap soon.
        w.append(f"replay-seq 0x{WRAP_START - 1:x}" if inbound else f"replay-oseq 0x{WRAP_START - 1:x}")
    w.append(a["xfrm_enc"].format(ek=hexkey(bytes.fromhex(keys["enc"])),
                                  ak=hexkey(bytes.fromhex(keys["auth"]))))
    if c["encap"]:
        w.append("encap espinudp 4500 4500 0.0.0.0")
    if sel:
        w.append(f"sel {sel}")
    if limit:
        w.append(f"limit packet-hard {limit}")
    return " ".join(w)


def policy_lines(c, port, local, remote, olocal, oremote, tag="1"):
    """local/remote: inner addresses as the stack sees them; olocal/oremote: outer."""
    proto = ALGS[c["alg"]]["proto"]
    pl = 32 if ":" not in local else 128
    out = []
    for l4 in ("udp", "tcp"):
        out.append(f"policy add src {remote}/{pl} dst {local}/{pl} proto {l4} dport {port} dir in "
                   f"tmpl src {oremote} dst {olocal} proto {proto} mode {c['mode']} reqid {tag}")
        out.append(f"policy add src {local}/{pl} dst {remote}/{pl} proto {l4} sport {port} dir out "
                   f"tmpl src {olocal} dst {oremote} proto {proto} mode {c['mode']} reqid {tag}")
    return out


def make_state(spec, port, attack=False):
    c = parse_case(spec)
    st = dict(case=c, port=port, keys_in=new_keys(c["alg"]), keys_out=new_keys(c["alg"]),
              attack=attack)
    if attack:
        st["keys_limited"] = new_keys(c["alg"])
    return st


def conf_text(st):
    c, port = st["case"], st["port"]
    oi, oo = ADDR[c["inner"]], ADDR[c["outer"]]
    lines = [f"# sealnet --ipsec-conf for case '{c['spec']}', written by esp_peer.py",
             "# inbound SA: what the peer sends with; outbound: what the peer receives",
             sa_line(c, oo["peer"], oo["stack"], SPI_IN, st["keys_in"], True),
             sa_line(c, oo["stack"], oo["peer"], SPI_OUT, st["keys_out"], False)]
    if st.get("attack"):
        # The attack SAs carry UDP to the echo port only, and say so (`sel`), so a
        # packet outside that is an inner-selector mismatch (RFC 4301 5.2), as in
        # Linux's xfrm_policy_check.
        pl = 32 if c["inner"] == 4 else 128
        sel = f"src {oi['peer']}/{pl} dst {oi['stack']}/{pl} proto udp dport {port}"
        lines[2] = sa_line(c, oo["peer"], oo["stack"], SPI_IN, st["keys_in"], True, sel=sel)
        lines.append(sa_line(c, oo["peer"], oo["stack"], SPI_LIMITED, st["keys_limited"], True,
                             limit=HARD_PACKETS, sel=sel))
    lines += policy_lines(c, port, oi["stack"], oi["peer"], oo["stack"], oo["peer"])
    return "\n".join(lines) + "\n"


def pair_state(port):
    c = parse_case("aes-gcm-128 transport 4")
    return dict(case=c, port=port, keys_ab=new_keys(c["alg"]), keys_ba=new_keys(c["alg"]))


def pair_confs(st):
    c, port, a, b = st["case"], st["port"], PAIR["a"], PAIR["b"]
    ab = sa_line(c, a, b, SPI_IN, st["keys_ab"], True)      # A -> B
    ba = sa_line(c, b, a, SPI_OUT, st["keys_ba"], True)     # B -> A
    head = "# sealnet --ipsec-conf for stack {}, AES-128-GCM transport, written by esp_peer.py\n"
    conf_a = head.format("A") + "\n".join([ab, ba] + policy_lines(c, port, a, b, a, b)) + "\n"
    # A is the server (port P), B the client: B sends to dport P and receives from
    # sport P. So B's selectors are the mirror image of A's.
    pol_b = []
    for l4 in ("udp", "tcp"):
        pol_b.append(f"policy add src {a}/32 dst {b}/32 proto {l4} sport {port} dir in "
                     f"tmpl src {a} dst {b} proto esp mode transport reqid 1")
        pol_b.append(f"policy add src {b}/32 dst {a}/32 proto {l4} dport {port} dir out "
                     f"tmpl src {b} dst {a} proto esp mode transport reqid 1")
    conf_b = head.format("B") + "\n".join([ab, ba] + pol_b) + "\n"
    return conf_a, conf_b


def uat_lines(st):
    """tshark's esp_sa table: "IPv4","src","dst","0xSPI","AES-GCM with 16 octet ICV
    [RFC4106]","0xKEY+SALT","NULL","" (Wireshark 4.0; newer versions append SN
    fields that keep their defaults when absent)."""
    a, b = PAIR["a"], PAIR["b"]
    rows = []
    for src, dst, spi, k in ((a, b, SPI_IN, st["keys_ab"]), (b, a, SPI_OUT, st["keys_ba"])):
        rows.append(f'"IPv4","{src}","{dst}","0x{spi:08x}","AES-GCM with 16 octet ICV [RFC4106]",'
                    f'"0x{k["enc"]}","NULL",""')
    return rows


# ---- grammar check of our own config lines -----------------------------------------
# The subset in ipsec/xfrm_parse.h. This checks what we write, not sealnet's parser.

def check_line(line):
    w = shlex.split(line, comments=True)
    if not w:
        return None
    if w[:2] == ["ip", "xfrm"]:
        w = w[2:]
    if w[:2] == ["state", "add"]:
        return _check_state(w[2:])
    if w[:2] == ["policy", "add"]:
        return _check_policy(w[2:])
    return f"not 'state add' or 'policy add': {w[:2]}"


def _hexlen(s):
    if s == "":
        return 0
    if not s.startswith("0x") or len(s) % 2:
        raise ValueError(f"key {s!r} is not 0x followed by whole bytes")
    bytes.fromhex(s[2:])
    return (len(s) - 2) // 2


def _check_state(w):
    need = {"src", "dst", "proto", "spi"}
    keylens = {"rfc4106(gcm(aes))": (20, 36), "rfc7539esp(chacha20,poly1305)": (36,),
               "cbc(aes)": (16, 32), "ecb(cipher_null)": (0,), "hmac(sha1)": (20,),
               "hmac(sha256)": (32,)}
    truncs = {"hmac(sha1)": "96", "hmac(sha256)": "128"}
    i, seen = 0, set()
    try:
        while i < len(w):
            k = w[i]
            seen.add(k)
            if k in ("src", "dst", "proto", "spi", "mode", "reqid", "replay-window", "flag",
                     "replay-seq", "replay-oseq"):
                v = w[i + 1]
                if k == "proto" and v not in ("esp", "ah"):
                    return f"proto {v}"
                if k == "mode" and v not in ("transport", "tunnel"):
                    return f"mode {v}"
                if k == "spi" and int(v, 0) < 256:
                    return f"spi {v} < 256"
                if k == "flag" and v != "esn":
                    return f"flag {v}"
                i += 2
            elif k == "aead":
                alg, key, bits = w[i + 1:i + 4]
                if alg not in ("rfc4106(gcm(aes))", "rfc7539esp(chacha20,poly1305)") or bits != "128":
                    return f"aead {alg} {bits}"
                if _hexlen(key) not in keylens[alg]:
                    return f"aead {alg}: key of {_hexlen(key)} bytes"
                i += 4
            elif k == "enc":
                alg, key = w[i + 1:i + 3]
                if alg not in ("cbc(aes)", "ecb(cipher_null)") or _hexlen(key) not in keylens[alg]:
                    return f"enc {alg} key of {_hexlen(key)} bytes"
                i += 3
            elif k == "auth-trunc":
                alg, key, bits = w[i + 1:i + 4]
                if alg not in truncs or truncs[alg] != bits or _hexlen(key) not in keylens[alg]:
                    return f"auth-trunc {alg} {bits}, key of {_hexlen(key)} bytes"
                i += 4
            elif k == "encap":
                if w[i + 1] != "espinudp" or not (w[i + 2].isdigit() and w[i + 3].isdigit()):
                    return f"encap {w[i + 1:i + 4]}"
                i += 5
            elif k == "sel":
                i += 1
                while i < len(w) and w[i] in ("src", "dst", "proto", "sport", "dport"):
                    i += 2
            elif k == "limit":
                if w[i + 1] not in ("packet-hard", "packet-soft", "byte-hard", "byte-soft",
                                    "time-hard", "time-soft", "time-use-hard", "time-use-soft"):
                    return f"limit {w[i + 1]}"
                int(w[i + 2], 0)
                i += 3
            else:
                return f"unknown word {k!r}"
    except (IndexError, ValueError) as e:
        return f"malformed near {w[i:i + 3]}: {e}"
    if need - seen:
        return f"missing {sorted(need - seen)}"
    if "ah" in w and ("enc" in seen or "aead" in seen):
        return "AH with an encryption algorithm"
    return None


def _check_policy(w):
    i, seen, tmpl = 0, set(), False
    try:
        while i < len(w):
            k = w[i]
            if k == "tmpl":
                tmpl = True
                i += 1
                continue
            seen.add(("t:" if tmpl else "") + k)
            if k in ("src", "dst", "proto", "sport", "dport", "dir", "reqid", "mode", "spi",
                     "priority", "action", "level"):
                if k == "dir" and w[i + 1] not in ("in", "out", "fwd"):
                    return f"dir {w[i + 1]}"
                if k in ("src", "dst") and not tmpl and "/" not in w[i + 1]:
                    return f"selector {k} {w[i + 1]} without a prefix length"
                if k in ("sport", "dport") and "proto" not in seen:
                    return f"{k} before proto"
                i += 2
            else:
                return f"unknown word {k!r}"
    except IndexError:
        return "line ends inside a keyword"
    if "dir" not in seen:
        return "no dir"
    if "t:proto" not in seen:
        return "no tmpl proto"
    return None


def xfrm_accepts(ns, line):
    """iproute2's own parser: a line it cannot parse fails before any netlink
    request. With no ESP/AH in this kernel, a well-formed `state add` may still be
    refused by the kernel; only a parse error counts against us."""
    p = subprocess.run(["ip", "-n", ns, "xfrm"] + shlex.split(line), capture_output=True, text=True)
    if p.returncode == 0:
        return None
    err = (p.stderr + p.stdout).strip()
    kernel = ("RTNETLINK answers", "Protocol not supported", "Requested AEAD algorithm not found",
              "Requested type not found", "Requested authentication algorithm not found",
              "Requested encryption algorithm not found")
    if any(k in err for k in kernel):
        return None                 # parsed; the kernel refused (no esp4/ah4 here)
    return err


# ---- scapy SAs: the peer's side ---------------------------------------------------

class PeerSA:
    """One direction of the peer, on top of scapy's SecurityAssociation.

    scapy 2.5.0 leaves the ESN high bits out of the ICV for ESP with a separate
    HMAC (AuthAlgo.sign/verify are called without esn for ESP); RFC 4303 2.2.1
    appends them. For that combination this class computes the ICV itself."""

    def __init__(self, c, spi, keys, outer_src, outer_dst):
        a = ALGS[c["alg"]]
        self.c, self.spi, self.a = c, spi, a
        self.proto = ESP if a["proto"] == "esp" else AH
        self.auth_key = bytes.fromhex(keys["auth"])
        self.own_icv = c["esn"] and self.proto is ESP and "scapy_auth" in a
        tunnel = None
        if c["mode"] == "tunnel":
            tunnel = IP(src=outer_src, dst=outer_dst) if c["outer"] == 4 else \
                IPv6(src=outer_src, dst=outer_dst)
        kw = dict(spi=spi, tunnel_header=tunnel, esn_en=c["esn"], esn=0)
        if self.proto is ESP:
            kw.update(crypt_algo=a["scapy_enc"], crypt_key=bytes.fromhex(keys["enc"]) or None)
        if "scapy_auth" in a and not self.own_icv:
            kw.update(auth_algo=a["scapy_auth"], auth_key=self.auth_key)
        self.sa = SecurityAssociation(self.proto, **kw)

    def _mac(self, data, hi):
        h = hashlib.sha1 if "SHA1" in self.a["scapy_auth"] else hashlib.sha256
        return hmac.new(self.auth_key, data + struct.pack("!L", hi), h).digest()[:self.a["icv"]]

    def hi_of(self, lo):
        """The ESN high half of a received low half: 0, or past a wrap 1. The
        cases start both directions a few numbers below 2^32, so a small low
        half has wrapped (RFC 4303 A2.2 does this with the replay window)."""
        return 1 if self.c.get("wrap") and lo < 0x80000000 else 0

    def seal(self, inner, seq):
        """inner IP/IPv6 packet -> outer IP/IPv6 packet (ESP or AH, no UDP);
        seq is the full (64-bit with ESN) sequence number."""
        hi, lo = seq >> 32, seq & 0xffffffff
        # scapy takes `seq_num or self.seq_num`: a low half of 0 (legal with
        # ESN, RFC 4304 2) would silently become its own counter.
        self.sa.seq_num = lo
        p = self.sa.encrypt(inner, seq_num=lo, esn_en=self.c["esn"], esn=hi)
        if self.own_icv:
            p[ESP].data += self._mac(raw(p[ESP]), hi)
            p = fix_len(p)
        return p

    def open(self, outer):
        """outer IP/IPv6 with ESP/AH -> inner packet; IPSecIntegrityError on a bad ICV.
        (scapy's decrypt rewrites the packet it is given: work on a copy.)"""
        outer = outer.copy()
        sec = outer[ESP] if ESP in outer else outer[AH]
        hi = self.hi_of(sec.seq)
        if self.own_icv:
            e = raw(outer[ESP])
            n = self.a["icv"]
            if not hmac.compare_digest(self._mac(e[:-n], hi), e[-n:]):
                raise IPSecIntegrityError("ICV (with ESN high bits) does not verify")
            outer[ESP].data = outer[ESP].data[:-n]
        # Re-parse: scapy leaves an AH transport payload as Raw (no AH->UDP binding).
        b = raw(self.sa.decrypt(outer, esn_en=self.c["esn"], esn=hi))
        return IP(b) if b[0] >> 4 == 4 else IPv6(b)


def fix_len(p):
    if p.version == 4:
        del p.len
        del p.chksum
        return IP(raw(p))
    del p.plen
    return IPv6(raw(p))


def udp_encap(outer):
    """IP/ESP -> IP/UDP 4500/ESP (RFC 3948). IPv4: checksum 0 (RFC 3948 3.1.2);
    IPv6: a real checksum (RFC 8200 8.1 forbids 0)."""
    esp = raw(outer[ESP])
    if outer.version == 4:
        h = IP(raw(outer)[:outer.ihl * 4])
        del h.proto, h.len, h.chksum
        return IP(raw(h / UDP(sport=4500, dport=4500, chksum=0) / Raw(esp)))
    h = IPv6(src=outer.src, dst=outer.dst, hlim=outer.hlim)
    return IPv6(raw(h / UDP(sport=4500, dport=4500) / Raw(esp)))


def udp_decap(pkt):
    """IP/UDP 4500/ESP -> IP/ESP; None for a NAT keep-alive (0xFF) or non-ESP marker."""
    body = raw(pkt[UDP].payload)
    if body == b"\xff" or len(body) < 4 or body[:4] == b"\0\0\0\0":
        return None
    if pkt.version == 4:
        return IP(src=pkt.src, dst=pkt.dst, ttl=pkt.ttl, id=pkt.id) / ESP(body)
    return IPv6(src=pkt.src, dst=pkt.dst, hlim=pkt.hlim) / ESP(body)


# ---- our own ESP encryptor (for the bad-padding packets scapy will not build) -------

def seal_raw(c, keys, spi, seq, plaintext, iv=None, hi=0):
    """ESP header + IV + ciphertext + ICV for a plaintext that already carries its
    padding, pad length and next header. Written from RFC 4303/4106/7634/3602,
    not from scapy, so the self-test also cross-checks scapy."""
    a = ALGS[c["alg"]]
    hdr = struct.pack("!LL", spi, seq)
    ek = bytes.fromhex(keys["enc"])
    if a["scapy_enc"] in ("AES-GCM", "CHACHA20-POLY1305"):
        iv = iv or os.urandom(8)
        aead = AESGCM(ek[:-4]) if a["scapy_enc"] == "AES-GCM" else ChaCha20Poly1305(ek[:-4])
        aad = struct.pack("!LLL", spi, hi, seq) if c["esn"] else hdr
        return hdr + iv + aead.encrypt(ek[-4:] + iv, plaintext, aad)
    if a["scapy_enc"] == "AES-CBC":
        iv = iv or os.urandom(16)
        e = Cipher(algorithms.AES(ek), modes.CBC(iv)).encryptor()
        body = hdr + iv + e.update(plaintext) + e.finalize()
    else:
        body = hdr + plaintext
    h = hashlib.sha1 if "SHA1" in a["scapy_auth"] else hashlib.sha256
    tail = struct.pack("!L", hi) if c["esn"] else b""
    return body + hmac.new(bytes.fromhex(keys["auth"]), body + tail, h).digest()[:a["icv"]]


def block_of(c):
    return 16 if ALGS[c["alg"]].get("scapy_enc") == "AES-CBC" else 4


# ---- the link: send frames, sniff replies, answer ARP/ND for the peer ----------------

class Link:
    def __init__(self, iface, st, sa_rx=None):
        self.iface, self.st = iface, st
        self.mac = "02:5e:%02x:%02x:%02x:%02x" % tuple(os.urandom(4))   # the peer's own
        self.sock = conf.L2socket(iface=iface)
        self.lock = threading.Lock()
        self.q = queue.Queue()
        self.leaks, self.bad, self.notes, self.frames = [], [], [], []
        self.stack_mac = None
        self.sa_rx = sa_rx
        self.frags = {}
        self.ready = threading.Event()
        self.arp_seen = threading.Event()
        self.sn = AsyncSniffer(iface=iface, store=False, prn=self._on_frame,
                               started_callback=self.ready.set)
        self.sn.start()
        if not self.ready.wait(5):
            raise RuntimeError(f"sniffer on {iface} did not start")

    def close(self):
        try:
            self.sn.stop()
        except Exception:       # stopping a sniffer that already died is not our failure
            pass
        self.sock.close()

    def send(self, ip_pkt):
        frame = Ether(src=self.mac, dst=self.stack_mac or "ff:ff:ff:ff:ff:ff") / ip_pkt
        with self.lock:
            self.sock.send(frame)

    def send_raw(self, ether_type, payload):
        frame = Ether(src=self.mac, dst=self.stack_mac, type=ether_type) / Raw(payload)
        with self.lock:
            self.sock.send(frame)

    def resolve(self, timeout=5.0):
        """Learn the stack's MAC (and teach it ours) with an ARP request."""
        req = Ether(src=self.mac, dst="ff:ff:ff:ff:ff:ff") / ARP(
            op=1, hwsrc=self.mac, psrc=ADDR[4]["peer"], pdst=ADDR[4]["stack"])
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                self.sock.send(req)
            if self.arp_seen.wait(0.5):
                return True
        return False

    # Runs in the sniffer thread.
    def _on_frame(self, f):
        """Frames for the peer: unicast to its MAC, or ARP/ND asking for its
        addresses. Everything else on the TAP (the kernel's own RS/MLD, our own
        sends, which AF_PACKET shows too) is not ours."""
        if Ether not in f:
            return
        if f[Ether].dst == self.mac:
            if ARP in f:
                self._arp(f)
            elif IP in f or IPv6 in f:
                self._ip(f)
        elif ARP in f and f[ARP].op == 1 and f[ARP].pdst == ADDR[4]["peer"] and f[ARP].hwsrc != self.mac:
            self._arp(f)
        elif IPv6 in f and ICMPv6ND_NS in f and f[Ether].src != self.mac:
            self._ns(f)

    def _arp(self, f):
        a = f[ARP]
        if a.op == 2 and a.psrc == ADDR[4]["stack"]:
            self.stack_mac = a.hwsrc
            self.arp_seen.set()
        elif a.op == 1 and a.pdst == ADDR[4]["peer"]:
            self.stack_mac = self.stack_mac or a.hwsrc
            rep = Ether(src=self.mac, dst=a.hwsrc) / ARP(op=2, hwsrc=self.mac, psrc=a.pdst,
                                                          hwdst=a.hwsrc, pdst=a.psrc)
            with self.lock:
                self.sock.send(rep)

    def _ns(self, f):
        ns = f[ICMPv6ND_NS]
        if ns.tgt != ADDR[6]["peer"]:
            return
        src = f[IPv6].src
        na = Ether(src=self.mac, dst=f[Ether].src) / IPv6(src=ns.tgt, dst=src if src != "::" else "ff02::1",
                                                          hlim=255) / \
            ICMPv6ND_NA(tgt=ns.tgt, R=0, S=1 if src != "::" else 0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=self.mac)
        with self.lock:
            self.sock.send(na)

    def _ip(self, f):
        p = f[IP] if IP in f else f[IPv6]
        p = self._reassemble(p)
        if p is None:
            return
        self.frames.append(len(p))
        outer = p
        if UDP in p and (p[UDP].dport == 4500 or p[UDP].sport == 4500):
            outer = udp_decap(p)
            if outer is None:
                return
            if p.version == 6 and p[UDP].chksum == 0:
                self.bad.append("UDP-encapsulated ESP over IPv6 with a zero UDP checksum")
        nh = outer.proto if outer.version == 4 else outer.nh
        if nh in (50, 51):
            self._protected(outer, len(p))
            return
        if TCP in p or UDP in p:
            l4 = p[TCP] if TCP in p else p[UDP]
            self.leaks.append(f"cleartext {l4.name} {p.src}:{l4.sport} -> {p.dst}:{l4.dport} "
                              f"({len(p)} bytes)")
        else:
            self.notes.append(f"other frame from the stack: {p.summary()}")

    def _protected(self, outer, wire_len):
        spi = outer[ESP].spi if ESP in outer else outer[AH].spi
        if self.sa_rx is None or spi != self.sa_rx.spi:
            self.bad.append(f"protected packet with unexpected SPI 0x{spi:x}")
            return
        c = self.st["case"]
        if self.sa_rx.proto is ESP and ESP not in outer or self.sa_rx.proto is AH and AH not in outer:
            self.bad.append(f"wrong IPsec protocol: {outer.summary()}")
            return
        if c["encap"] != (wire_len != len(outer)) and self.sa_rx.proto is ESP:
            self.bad.append("ESP in UDP expected" if c["encap"] else "plain ESP expected, got ESP in UDP")
        seq = outer[ESP].seq if ESP in outer else outer[AH].seq
        try:
            inner = self.sa_rx.open(outer.copy())
        except IPSecIntegrityError as e:
            self.bad.append(f"reply seq {seq}: ICV does not verify with the peer's SA: {e}")
            return
        except Exception as e:  # noqa: BLE001 (a malformed reply is a finding, not a crash)
            self.bad.append(f"reply seq {seq}: cannot decapsulate: {e!r}")
            return
        self.q.put((inner, wire_len, seq))

    def _reassemble(self, p):
        """Fragments of the stack's replies (IPv4 or IPv6 fragment header)."""
        if p.version == 4:
            if not (p.flags.MF or p.frag):
                return p
            key = (4, p.src, p.dst, p.id)
            off, more, data, hdr = p.frag * 8, bool(p.flags.MF), raw(p.payload), p
        else:
            if IPv6ExtHdrFragment not in p:
                return p
            fh = p[IPv6ExtHdrFragment]
            key = (6, p.src, p.dst, fh.id)
            off, more, data, hdr = fh.offset * 8, bool(fh.m), raw(fh.payload), p
        self.notes.append(f"fragment from the stack: {key} offset {off} more {more}")
        parts = self.frags.setdefault(key, {})
        parts[off] = (data, more, hdr)
        total, pos, out = None, 0, b""
        for o in sorted(parts):
            if o != pos:
                return None
            d, m, _ = parts[o]
            out += d
            pos += len(d)
            if not m:
                total = pos
        if total is None:
            return None
        del self.frags[key]
        first = parts[0][2]
        if key[0] == 4:
            h = IP(raw(first)[:first.ihl * 4])
            h.flags, h.frag, h.len = 0, 0, first.ihl * 4 + len(out)
            del h.chksum
            return IP(raw(h) + out)
        fh = first[IPv6ExtHdrFragment]
        h = IPv6(src=first.src, dst=first.dst, hlim=first.hlim, nh=fh.nh, plen=len(out))
        return IPv6(raw(h) + out)

    def wait(self, want, timeout):
        """Inner packets until want(inner) is True for one (returned), or None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                inner, wlen, seq = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if want(inner, wlen):
                return inner, wlen, seq

    def drain(self, secs):
        end, got = time.monotonic() + secs, []
        while time.monotonic() < end:
            try:
                got.append(self.q.get(timeout=max(0.01, end - time.monotonic())))
            except queue.Empty:
                break
        return got


# ---- checks ------------------------------------------------------------------

class Report:
    def __init__(self):
        self.failed = 0

    def ok(self, cond, desc, detail=""):
        print(("PASS " if cond else "FAIL ") + desc + (f": {detail}" if detail else ""), flush=True)
        if not cond:
            self.failed += 1
        return cond


def endpoints(st):
    c = st["case"]
    oi, oo = ADDR[c["inner"]], ADDR[c["outer"]]
    return oi, oo


def build_sas(st, spi_in=SPI_IN, keys_in=None):
    c = st["case"]
    _, oo = endpoints(st)
    tx = PeerSA(c, spi_in, keys_in or st["keys_in"], oo["peer"], oo["stack"])
    rx = PeerSA(c, SPI_OUT, st["keys_out"], oo["stack"], oo["peer"])
    return tx, rx


def inner_ip(st, l4):
    oi, _ = endpoints(st)
    ip = IP(src=oi["peer"], dst=oi["stack"]) if st["case"]["inner"] == 4 else \
        IPv6(src=oi["peer"], dst=oi["stack"])
    return ip / l4


def wire(st, sa, inner, seq):
    p = sa.seal(inner, seq)
    return udp_encap(p) if st["case"]["encap"] else p


def fragments(p, size=1000):
    """IP packet p cut as a link with a size-byte MTU would cut it."""
    if p.version == 4:
        return fragment(p, fragsize=size)
    return fragment6(IPv6(src=p.src, dst=p.dst, hlim=p.hlim) / IPv6ExtHdrFragment(nh=p.nh) /
                     Raw(raw(p.payload)), size)


def max_udp_payload(st, sa):
    """Largest UDP payload whose protected packet still fits the MTU."""
    for n in range(MTU, 0, -1):
        if len(wire(st, sa, inner_ip(st, UDP(sport=1, dport=1) / Raw(b"x" * n)), 1)) <= MTU:
            return n
    return 0


def is_udp_echo(st, sport, payload):
    oi, _ = endpoints(st)

    def want(inner, _wlen):
        return (UDP in inner and inner.src == oi["stack"] and inner.dst == oi["peer"]
                and inner[UDP].sport == st["port"] and inner[UDP].dport == sport
                and raw(inner[UDP].payload) == payload)
    return want


def l4_checksum_ok(inner):
    l4 = inner[TCP] if TCP in inner else inner[UDP]
    got = l4.chksum
    if UDP in inner and inner.version == 4 and got == 0:
        return True
    c = inner.copy()
    l4c = c[TCP] if TCP in c else c[UDP]
    del l4c.chksum
    return (IP(raw(c)) if c.version == 4 else IPv6(raw(c)))[l4.__class__].chksum == got


class Seq:
    def __init__(self, start=1):
        self.n = start

    def __call__(self):
        self.n += 1
        return self.n - 1


def udp_checks(rep, st, link, tx, seq):
    big = max_udp_payload(st, tx)
    sizes = [0, 1, 3, 64, 255, 1000, big - 1, big]
    got_all = True
    for n in sizes:
        sport = random.randint(20000, 29999)
        payload = os.urandom(n)
        link.send(wire(st, tx, inner_ip(st, UDP(sport=sport, dport=st["port"]) / Raw(payload)), seq()))
        r = link.wait(is_udp_echo(st, sport, payload), 2.0)
        got_all &= rep.ok(r is not None, f"UDP {n}-byte payload echoed through the SA",
                          "" if r else "no protected echo within 2s")
        if r:
            rep.ok(l4_checksum_ok(r[0]), f"UDP {n}-byte echo: inner checksum valid")
            rep.ok(r[1] <= MTU, f"UDP {n}-byte echo fits the MTU", f"{r[1]} bytes on the wire")
    # One datagram too big for one protected packet: the peer fragments the outer
    # packet; the stack must reassemble, and fragment its own reply (issue 3).
    n = big + 200
    sport = random.randint(20000, 29999)
    payload = os.urandom(n)
    p = wire(st, tx, inner_ip(st, UDP(sport=sport, dport=st["port"]) / Raw(payload)), seq())
    for fr in fragments(p):
        link.send(fr)
    r = link.wait(is_udp_echo(st, sport, payload), 2.0)
    rep.ok(r is not None, f"UDP {n}-byte payload (outer packet fragmented both ways) echoed",
           "" if r else "no protected echo within 2s")
    return got_all


def tcp_check(rep, st, link, tx, seq, nbytes=6000):
    """A minimal TCP client in scapy: handshake, data, FIN, every segment through the
    SA. The stack's MSS must leave room for ESP: we advertise the usual 1460/1440 and
    check its protected segments fit the MTU."""
    oi, _ = endpoints(st)
    port, sport = st["port"], random.randint(30000, 39999)
    isn = random.randint(0, 2**31)
    mss = 1460 if st["case"]["inner"] == 4 else 1440

    def seg(flags, s, a, data=b"", opts=None):
        t = TCP(sport=sport, dport=port, flags=flags, seq=s, ack=a, window=65535, options=opts or [])
        link.send(wire(st, tx, inner_ip(st, t / Raw(data)) if data else inner_ip(st, t), seq()))

    def from_stack(inner, _wlen):
        return TCP in inner and inner.src == oi["stack"] and inner[TCP].sport == port \
            and inner[TCP].dport == sport

    seg("S", isn, 0, opts=[("MSS", mss)])
    r = link.wait(from_stack, 3.0)
    if not rep.ok(r is not None and r[0][TCP].flags.S and r[0][TCP].flags.A and r[0][TCP].ack == isn + 1,
                  "TCP: protected SYN-ACK", "none within 3s" if r is None else r[0].summary()):
        return False
    rcv = r[0][TCP].seq + 1
    their_mss = dict((k, v) for k, v in r[0][TCP].options if isinstance(k, str)).get("MSS", 536)
    # Our own segments must fit the MTU after ESP too.
    room = max(1, min(their_mss, max_udp_payload(st, tx) + 8 - 20))
    data = os.urandom(nbytes)
    snd = isn + 1                       # first data byte
    fin_seq = snd + nbytes              # our FIN
    segs = [(snd + i, data[i:i + room]) for i in range(0, nbytes, room)]
    seg("A", snd, rcv)
    got, sizes = b"", []
    acked, our_fin, their_fin, last_send = snd, False, False, 0.0
    end = time.monotonic() + 10
    while time.monotonic() < end and not (their_fin and acked > fin_seq):
        if time.monotonic() - last_send > 0.5:              # send, or resend what is unacked
            for s, d in segs:
                if s + len(d) > acked:
                    seg("PA", s, rcv, d)
            if our_fin and acked <= fin_seq:
                seg("FA", fin_seq, rcv)
            last_send = time.monotonic()
        if not our_fin and len(got) >= nbytes and acked >= fin_seq:
            seg("FA", fin_seq, rcv)
            our_fin, last_send = True, time.monotonic()
        r = link.wait(from_stack, 0.2)
        if r is None:
            continue
        t = r[0][TCP]
        sizes.append(r[1])
        if t.flags.R:
            rep.ok(False, "TCP: connection reset by the stack", r[0].summary())
            return False
        if t.flags.A:
            acked = max(acked, t.ack)
        body = raw(t.payload)
        if body and t.seq == rcv:
            got += body
            rcv += len(body)
        if t.flags.F and t.seq + len(body) == rcv:
            rcv += 1
            their_fin = True
        if body or t.flags.F:
            seg("A", fin_seq + 1 if our_fin else fin_seq, rcv)
    ok = rep.ok(got == data, f"TCP: {nbytes} bytes echoed intact through the SA",
                f"got {len(got)} bytes" + ("" if got == data[:len(got)] else ", contents differ"))
    rep.ok(our_fin and their_fin and acked > fin_seq, "TCP: FIN both ways, protected",
           f"our FIN sent {our_fin}, acked {acked > fin_seq}; the stack's FIN {their_fin}")
    rep.ok(all(s <= MTU for s in sizes), "TCP: every protected segment fits the MTU (MSS accounts for ESP)",
           f"largest {max(sizes or [0])} bytes")
    return ok


def common_tail(rep, link):
    rep.ok(not link.leaks, "no cleartext TCP/UDP from the stack", "; ".join(link.leaks[:5]))
    rep.ok(not link.bad, "every reply protected by the expected SA and verified", "; ".join(link.bad[:5]))
    for n in link.notes[:10]:
        print("note:", n)


def cmd_run(args):
    st = json.load(open(args.state))
    rep = Report()
    tx, rx = build_sas(st)
    link = Link(args.iface, st, rx)
    try:
        if not rep.ok(link.resolve(), "the stack answers ARP for " + ADDR[4]["stack"]):
            return 1
        seq = Seq(WRAP_START if st["case"].get("wrap") else 1)
        udp_checks(rep, st, link, tx, seq)
        tcp_check(rep, st, link, tx, seq)
        link.drain(0.3)
        common_tail(rep, link)
    finally:
        link.close()
    return 1 if rep.failed else 0


# ---- attacks -------------------------------------------------------------------

class Counters:
    def __init__(self, snctl, pid):
        self.cmd = [snctl, "--pid", str(pid), "stats"]

    def read(self):
        p = subprocess.run(self.cmd, capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(self.cmd)}: exit {p.returncode}: {p.stderr.strip()}")
        out = {}
        for line in p.stdout.splitlines():
            w = line.split()
            if len(w) == 2 and w[1].isdigit():
                out[w[0]] = int(w[1])
        return out

    def missing(self):
        have = self.read()
        return [v for v in COUNTERS.values() if v not in have], sorted(k for k in have if "ipsec" in k)


def delta(before, after):
    names = {k for k in list(before) + list(after) if k.startswith(DROP_PREFIX)}
    return {k: after.get(k, 0) - before.get(k, 0) for k in names}


def expect_drops(rep, ctr, before, want, desc, settle=3.0):
    """Wait until the drop counters reach want (a dict key -> count), then check
    they hold exactly want and every other ipsec.drop_* counter is unchanged."""
    full = {COUNTERS[k]: n for k, n in want.items()}
    end = time.monotonic() + settle
    while time.monotonic() < end:
        d = delta(before, ctr.read())
        if all(d.get(k, 0) >= n for k, n in full.items()):
            break
        time.sleep(0.05)
    time.sleep(0.2)                    # anything late would show as an excess
    d = delta(before, ctr.read())
    moved = {k: v for k, v in d.items() if v}
    return rep.ok(moved == full, f"{desc}: counters", f"expected {full}, moved {moved or 'none'}")


def no_echo(rep, st, link, marker, desc, secs=0.5):
    got = [g for g in link.drain(secs) if UDP in g[0] and marker in raw(g[0][UDP].payload)]
    return rep.ok(not got, f"{desc}: nothing delivered", f"{len(got)} echoes came back" if got else "")


def cmd_attack(args):
    st = json.load(open(args.state))
    c = st["case"]
    if ALGS[c["alg"]]["proto"] != "esp" or c["encap"] or c["mode"] != "transport":
        print(f"FAIL attacks are written for ESP transport without encap, not '{c['spec']}'")
        return 1
    rep = Report()
    ctr = Counters(args.snctl, args.pid)
    miss, have = ctr.missing()
    if not rep.ok(not miss, "snctl stats shows the IPsec counters",
                  f"missing {miss}; IPsec names it has: {have}"):
        return 1
    tx, rx = build_sas(st)
    link = Link(args.iface, st, rx)
    try:
        if not rep.ok(link.resolve(), "the stack answers ARP for " + ADDR[4]["stack"]):
            return 1
        _attacks(rep, st, link, tx, ctr)
        link.drain(0.3)
        common_tail(rep, link)
    finally:
        link.close()
    return 1 if rep.failed else 0


def _udp(st, tag, n=24):
    """An inner UDP datagram to the echo port with a recognisable payload."""
    payload = tag.encode().ljust(n, b".")
    sport = random.randint(40000, 49999)
    return inner_ip(st, UDP(sport=sport, dport=st["port"]) / Raw(payload)), sport, payload


def _valid(rep, st, link, tx, seq, desc):
    inner, sport, payload = _udp(st, f"valid seq {seq}")
    link.send(wire(st, tx, inner, seq))
    return rep.ok(link.wait(is_udp_echo(st, sport, payload), 3.0) is not None, f"{desc}: valid packet seq {seq} echoed")


def _attacks(rep, st, link, tx, ctr):
    c = st["case"]
    ip_type = 0x0800 if c["outer"] == 4 else 0x86DD
    for s in (1, 2, 3):
        _valid(rep, st, link, tx, s, "baseline")

    # 1. Every single-bit flip of one protected packet (ESP part only: SPI, sequence
    # number, IV, ciphertext, ICV). A fresh, high sequence number keeps every flipped
    # sequence number ahead of the window's bottom, so each flip reaches the ICV check
    # (or, in the SPI, the SA lookup) and nothing else.
    base_seq = 0x7FFF0000
    inner, _, _ = _udp(st, "bitflip")
    good = wire(st, tx, inner, base_seq)
    hdr_len = len(good) - len(good[ESP])
    esp = bytearray(raw(good[ESP]))
    iv = 8 if ALGS[c["alg"]].get("scapy_enc") in ("AES-GCM", "CHACHA20-POLY1305") else \
        16 if ALGS[c["alg"]].get("scapy_enc") == "AES-CBC" else 0
    icv = ALGS[c["alg"]]["icv"]
    regions = [("SPI", 0, 4, "unknown_spi"), ("sequence number", 4, 8, "auth_failed"),
               ("IV", 8, 8 + iv, "auth_failed"), ("ciphertext", 8 + iv, len(esp) - icv, "auth_failed"),
               ("ICV", len(esp) - icv, len(esp), "auth_failed")]
    head = raw(good)[:hdr_len]
    for name, a, b, key in regions:
        if a == b:
            continue
        before = ctr.read()
        nbits = 0
        for byte in range(a, b):
            for bit in range(8):
                e = bytearray(esp)
                e[byte] ^= 1 << bit
                link.send_raw(ip_type, head + bytes(e))
                nbits += 1
                if nbits % 32 == 0:
                    time.sleep(0.005)       # stay well inside the TAP queue
        no_echo(rep, st, link, b"bitflip", f"{nbits} single-bit flips of the {name}")
        expect_drops(rep, ctr, before, {key: nbits}, f"{nbits} single-bit flips of the {name}")

    # 2. Replay of an accepted packet.
    inner, sport, payload = _udp(st, "replay")
    p = wire(st, tx, inner, 10)
    link.send(p)
    rep.ok(link.wait(is_udp_echo(st, sport, payload), 3.0) is not None, "replay: original seq 10 echoed")
    before = ctr.read()
    link.send(p)
    no_echo(rep, st, link, b"replay", "replay of seq 10")
    expect_drops(rep, ctr, before, {"replay": 1}, "replay of seq 10")

    # 3. A sequence number below the window (never seen, but too old).
    top = 10 + REPLAY_WINDOW + 500
    _valid(rep, st, link, tx, top, "window moves")
    before = ctr.read()
    inner, _, _ = _udp(st, "too old")
    link.send(wire(st, tx, inner, 20))
    no_echo(rep, st, link, b"too old", f"seq 20 after seq {top} (window {REPLAY_WINDOW})")
    expect_drops(rep, ctr, before, {"replay_old": 1}, f"seq 20 after seq {top}")

    # 4. Unknown SPI (a well-formed packet under keys nobody configured).
    other = PeerSA(c, SPI_UNKNOWN, new_keys(c["alg"]), *(lambda o: (o["peer"], o["stack"]))(ADDR[c["outer"]]))
    before = ctr.read()
    inner, _, _ = _udp(st, "unknown spi")
    link.send(wire(st, other, inner, top + 1))
    no_echo(rep, st, link, b"unknown spi", f"unknown SPI 0x{SPI_UNKNOWN:x}")
    expect_drops(rep, ctr, before, {"unknown_spi": 1}, f"unknown SPI 0x{SPI_UNKNOWN:x}")

    # 5. Truncated ESP: shorter than header + IV + ICV -> truncated. Cut by 4
    # bytes but longer than that: AEAD -> the ICV no longer verifies; CBC -> the
    # ciphertext is no longer a whole number of blocks.
    inner, _, _ = _udp(st, "truncated")
    good = wire(st, tx, inner, top + 2)
    esp = raw(good[ESP])
    cuts = sorted({0, 1, 4, 7, 8, 12, 8 + iv, 8 + iv + icv - 1})
    before = ctr.read()
    for n in cuts:
        link.send(fix_len(good.__class__(raw(good)[:hdr_len]) / ESP(esp[:n])) if n >= 8 else
                  _short(good, hdr_len, esp[:n]))
    no_echo(rep, st, link, b"truncated", f"ESP truncated to {cuts} bytes")
    expect_drops(rep, ctr, before, {"truncated": len(cuts)}, f"ESP truncated to {cuts} bytes")
    before = ctr.read()
    link.send(fix_len(good.__class__(raw(good)[:hdr_len]) / ESP(esp[:-4])))
    no_echo(rep, st, link, b"truncated", "ESP missing its last 4 bytes")
    expect_drops(rep, ctr, before, {"bad_len" if block_of(c) > 4 else "auth_failed": 1},
                 "ESP missing its last 4 bytes")

    # 6. Wrong padding under a valid ICV (built by seal_raw, not scapy).
    inner, _, _ = _udp(st, "bad pad bytes")
    body = raw(inner[UDP] if c["mode"] == "transport" else inner)
    nh = 17 if c["mode"] == "transport" else (4 if c["inner"] == 4 else 41)
    blk = block_of(c)
    k = (-(len(body) + 2)) % blk or blk
    if k < 2:
        k += blk
    seqn = top + 3
    for desc, pad, padlen in (
            ("pad bytes not 1, 2, 3, ...", bytes([0xA5] * k), k),
            ("pad length beyond the payload", bytes(range(1, k + 1)), min(255, len(body) + k + 1))):
        pt = body + pad + bytes([padlen, nh])
        esp_bytes = seal_raw(c, st["keys_in"], SPI_IN, seqn, pt)
        seqn += 1
        outer = good.__class__(raw(good)[:hdr_len]) / ESP(esp_bytes)
        before = ctr.read()
        link.send(fix_len(outer))
        no_echo(rep, st, link, b"bad pad", desc)
        expect_drops(rep, ctr, before, {"bad_padding": 1}, desc)

    # 7. Cleartext to the protected port.
    inner, sport, payload = _udp(st, "cleartext")
    before = ctr.read()
    link.send(inner)
    no_echo(rep, st, link, b"cleartext", "cleartext UDP to the protected port")
    expect_drops(rep, ctr, before, {"cleartext": 1}, "cleartext UDP to the protected port")
    # The same datagram cut in fragments: they carry no ports, the policy names one;
    # the stack must judge the reassembled datagram (once).
    inner, sport, payload = _udp(st, "cleartext fragments", n=1600)
    before = ctr.read()
    for fr in fragments(inner):
        link.send(fr)
    no_echo(rep, st, link, b"cleartext fragments", "cleartext UDP to the protected port in fragments")
    expect_drops(rep, ctr, before, {"cleartext": 1}, "cleartext UDP to the protected port in fragments")

    # 8. A valid SA carrying a packet outside its selectors (`sel ... dport P` in the
    # attack config; this is UDP to port P+1): decrypting correctly is not the same
    # as being allowed (RFC 4301 5.2, STYLE.md habit 4).
    inner = inner_ip(st, UDP(sport=45000, dport=st["port"] + 1) / Raw(b"outside selectors"))
    before = ctr.read()
    link.send(wire(st, tx, inner, seqn))
    seqn += 1
    no_echo(rep, st, link, b"outside", "inner UDP to port P+1 through the SA for port P")
    expect_drops(rep, ctr, before, {"selector": 1}, "inner packet outside the SA's selectors")

    # 9. Hard packet limit: the limited SA takes HARD_PACKETS packets, then drops.
    if "keys_limited" in st:
        lim, _ = build_sas(st, SPI_LIMITED, st["keys_limited"])
        for s in range(1, HARD_PACKETS + 1):
            inner, sport, payload = _udp(st, f"limited {s}")
            link.send(wire(st, lim, inner, s))
            rep.ok(link.wait(is_udp_echo(st, sport, payload), 3.0) is not None,
                   f"limited SA 0x{SPI_LIMITED:x}: packet {s} of {HARD_PACKETS} echoed")
        before = ctr.read()
        inner, _, _ = _udp(st, "expired")
        link.send(wire(st, lim, inner, HARD_PACKETS + 1))
        no_echo(rep, st, link, b"expired", f"packet {HARD_PACKETS + 1} on SA with packet-hard {HARD_PACKETS}")
        expect_drops(rep, ctr, before, {"sa_expired": 1}, "packet on a hard-expired SA")

    # The SA still works after all that.
    _valid(rep, st, link, tx, seqn + 10, "after the attacks")


def _short(good, hdr_len, esp_prefix):
    """An IP packet whose ESP payload is shorter than the ESP header."""
    h = good.__class__(raw(good)[:hdr_len])
    return fix_len(h / Raw(esp_prefix))


# ---- probe: the topology works before any IPsec is configured -------------------------

def cmd_probe(args):
    """With a cleartext sn-echo (no IPsec): the stack resolves the peer through our
    ARP/ND responder and its echoes reach the peer's MAC, over IPv4 and IPv6."""
    st = dict(case=parse_case("aes-gcm-128 transport 4"), port=args.port)
    rep = Report()
    link = Link(args.iface, st, None)
    try:
        if not rep.ok(link.resolve(), "the stack answers ARP for " + ADDR[4]["stack"]):
            return 1
        for fam in (4, 6):
            a = ADDR[fam]
            ip = IP(src=a["peer"], dst=a["stack"]) if fam == 4 else IPv6(src=a["peer"], dst=a["stack"])
            link.send(ip / UDP(sport=33333, dport=args.port) / Raw(b"probe"))
            want = f"{a['stack']}:{args.port} -> {a['peer']}:33333"
            end = time.monotonic() + 3
            while time.monotonic() < end and not any(want in x for x in link.leaks):
                time.sleep(0.05)
            got = any(want in x for x in link.leaks)
            rep.ok(got, f"cleartext UDP echo over IPv{fam} reaches the peer's MAC "
                   f"(ARP/ND answered by the peer)", "" if got else f"nothing; notes: {link.notes[:3]}")
        time.sleep(0.3)
        rep.ok(not link.notes, "nothing else sent to the peer", "; ".join(link.notes[:5]))
    finally:
        link.close()
    return 1 if rep.failed else 0


# ---- self-test: no stack needed -----------------------------------------------------

def cmd_selftest(args):
    rep = Report()
    cases = matrix() + ["aes-gcm-128 transport 4"]
    for spec in cases:
        st = make_state(spec, 7, attack=spec == "aes-gcm-128 transport 4")
        c = st["case"]
        # The stack's view, as scapy: it decrypts what the peer sends with keys_in
        # and encrypts replies with keys_out.
        oi, oo = endpoints(st)
        peer_tx, peer_rx = build_sas(st)
        stack_rx = PeerSA(c, SPI_IN, st["keys_in"], oo["peer"], oo["stack"])
        stack_tx = PeerSA(c, SPI_OUT, st["keys_out"], oo["stack"], oo["peer"])
        errs = []
        base = 1 << 32 if c["wrap"] else 0     # past the wrap: high half 1
        for n in (0, 1, 17, 1000):
            inner = inner_ip(st, UDP(sport=1234, dport=7) / Raw(os.urandom(n)))
            w = wire(st, peer_tx, inner, base + n + 1)
            w = (IP if w.version == 4 else IPv6)(raw(w))         # as it would be parsed off the wire
            o = udp_decap(w) if c["encap"] else w
            got = stack_rx.open(o)
            if raw(got[UDP]) != raw(inner[UDP]):
                errs.append(f"peer->stack {n} bytes: inner differs")
            rinner = IP(src=oi["stack"], dst=oi["peer"]) if c["inner"] == 4 else IPv6(src=oi["stack"], dst=oi["peer"])
            rinner = rinner / UDP(sport=7, dport=1234) / Raw(raw(inner[UDP].payload))
            r = wire(st, stack_tx, rinner, base + n + 1)
            r = (IP if r.version == 4 else IPv6)(raw(r))
            got = peer_rx.open(udp_decap(r) if c["encap"] else r)
            if raw(got[UDP]) != raw(rinner[UDP]):
                errs.append(f"stack->peer {n} bytes: inner differs")
            # a flipped bit must not verify
            bad = bytearray(raw(r))
            bad[-1] ^= 1
            try:
                b = (IP if r.version == 4 else IPv6)(bytes(bad))
                peer_rx.open(udp_decap(b) if c["encap"] else b)
                errs.append("a flipped ICV bit verified")
            except IPSecIntegrityError:
                pass
        # Our own encryptor against scapy's decryption (ESP only).
        if ALGS[c["alg"]]["proto"] == "esp":
            inner = inner_ip(st, UDP(sport=1, dport=7) / Raw(b"own encryptor"))
            body = raw(inner[UDP] if c["mode"] == "transport" else inner)
            nh = 17 if c["mode"] == "transport" else (4 if c["inner"] == 4 else 41)
            k = (-(len(body) + 2)) % block_of(c)
            pt = body + bytes(range(1, k + 1)) + bytes([k, nh])
            outer = (IP(src=oo["peer"], dst=oo["stack"]) if c["outer"] == 4 else
                     IPv6(src=oo["peer"], dst=oo["stack"])) / ESP(seal_raw(c, st["keys_in"], SPI_IN, 5, pt,
                                                          hi=1 if c["wrap"] else 0))
            outer = fix_len(outer)
            try:
                got = stack_rx.open(outer)
                if raw(got[UDP].payload) != b"own encryptor":
                    errs.append("own encryptor: scapy decrypts to something else")
            except Exception as e:  # noqa: BLE001
                errs.append(f"own encryptor: scapy rejects it: {e!r}")
        rep.ok(not errs, f"scapy round trip, both directions: {spec}", "; ".join(errs))
        # The config we would hand to sealnet.
        bad = [(ln, e) for ln in conf_text(st).splitlines() if (e := check_line(ln))]
        if args.xfrm_netns:
            bad += [(ln, e) for ln in conf_text(st).splitlines()
                    if ln and not ln.startswith("#") and (e := xfrm_accepts(args.xfrm_netns, ln))]
        rep.ok(not bad, f"config lines well formed: {spec}", "; ".join(f"{e} in {ln!r}" for ln, e in bad[:3]))
    # Bad configs must be caught by the checker (it is not vacuous).
    for ln in ("state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 aead 'rfc4106(gcm(aes))' 0x00 128",
               "policy add src 192.0.2.1 dst 192.0.2.2 dir in tmpl proto esp",
               "state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 7 enc 'cbc(aes)' 0x" + "00" * 16):
        rep.ok(check_line(ln) is not None, f"checker rejects {ln[:60]!r}...")
    st = pair_state(5201)
    a, b = pair_confs(st)
    bad = [(ln, e) for ln in (a + b).splitlines() if (e := check_line(ln))]
    rep.ok(not bad, "pair configs well formed", str(bad[:2]))
    return 1 if rep.failed else 0


# ---- pcap for the tshark UAT check --------------------------------------------------

def cmd_pcap(args):
    st = json.load(open(args.state))
    c, port = st["case"], st["port"]
    a, b = PAIR["a"], PAIR["b"]
    ab = PeerSA(c, SPI_IN, st["keys_ab"], a, b)
    ba = PeerSA(c, SPI_OUT, st["keys_ba"], b, a)
    frames = []
    ma, mb = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
    for i in range(1, 4):
        frames.append(Ether(src=mb, dst=ma) / ba.seal(IP(src=b, dst=a) / UDP(sport=40000, dport=port) /
                                                     Raw(b"udp-%d-sealnet" % i), i))
        frames.append(Ether(src=ma, dst=mb) / ab.seal(IP(src=a, dst=b) / TCP(sport=port, dport=40001, flags="PA") /
                                                     Raw(b"tcp-%d-sealnet" % i), i))
    wrpcap(args.out, frames)
    print(f"wrote {len(frames)} ESP frames to {args.out}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("matrix")
    p = sub.add_parser("conf")
    p.add_argument("case")
    p.add_argument("--out", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--attack", action="store_true")
    p = sub.add_parser("confs")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=7)
    p.add_argument("--match", default="")
    p = sub.add_parser("run")
    p.add_argument("--state", required=True)
    p.add_argument("--iface", required=True)
    p = sub.add_parser("attack")
    p.add_argument("--state", required=True)
    p.add_argument("--iface", required=True)
    p.add_argument("--pid", required=True)
    p.add_argument("--snctl", default="snctl")
    p = sub.add_parser("pair")
    p.add_argument("--state", required=True)
    p.add_argument("--out-a", required=True)
    p.add_argument("--out-b", required=True)
    p.add_argument("--uat", required=True)
    p.add_argument("--port", type=int, default=5201)
    p = sub.add_parser("pcap")
    p.add_argument("--state", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--iface", required=True)
    p.add_argument("--port", type=int, default=7)
    p = sub.add_parser("selftest")
    p.add_argument("--xfrm-netns", default=None)
    p = sub.add_parser("counter")
    p.add_argument("key", choices=sorted(COUNTERS))
    args = ap.parse_args()

    if args.cmd == "matrix":
        print("\n".join(matrix()))
        return 0
    if args.cmd == "counter":
        print(COUNTERS[args.key])
        return 0
    if args.cmd == "conf":
        st = make_state(args.case, args.port, args.attack)
        with open(args.out, "w") as f:
            f.write(conf_text(st))
        with open(args.state, "w") as f:
            json.dump(st, f, indent=1)
        return 0
    if args.cmd == "confs":
        # Every matrix case (optionally those matching a regex) at once: one python
        # start instead of one per case. Prints "NAME<TAB>CASE" per case.
        import re
        for spec in matrix():
            if args.match and not re.search(args.match, spec):
                continue
            st = make_state(spec, args.port)
            base = os.path.join(args.dir, case_name(spec))
            with open(base + ".conf", "w") as f:
                f.write(conf_text(st))
            with open(base + ".json", "w") as f:
                json.dump(st, f, indent=1)
            print(f"{case_name(spec)}\t{spec}")
        return 0
    if args.cmd == "pair":
        st = pair_state(args.port)
        ca, cb = pair_confs(st)
        for path, text in ((args.out_a, ca), (args.out_b, cb), (args.uat, "\n".join(uat_lines(st)) + "\n")):
            with open(path, "w") as f:
                f.write(text)
        with open(args.state, "w") as f:
            json.dump(st, f, indent=1)
        return 0
    return {"run": cmd_run, "attack": cmd_attack, "selftest": cmd_selftest, "pcap": cmd_pcap,
            "probe": cmd_probe}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
