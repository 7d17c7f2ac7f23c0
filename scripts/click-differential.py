#!/usr/bin/env python3
"""Differential test of clickos-vm against Click's userlevel driver.

Usage: scripts/click-differential.py CLICK [--ours PATH] [--cases N] [--seed S]
                                      [--family NAME] [--keep DIR] [--jobs J]

Each case is a random configuration of one family of elements (IPFilter, IPClassifier,
Classifier, the rewriters and mappers, ICMPError, IPFragmenter/IPReassembler, ARPQuerier
and ARPResponder, and a chain of the small IP elements) fed a random packet trace from a
pcap file. Both drivers run the same configuration in a scratch directory; the case passes
when every output file (pcap, byte for byte), standard output, standard error and the exit
status are identical. A failing case is kept (config, trace, both outputs) in --keep.

Click's binary is never in the repository or in CI: build it yourself from kohler/click by
its README and pass its `bin/click`. Every difference found becomes a regular test with the
expected output written down.
"""

import argparse
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

# --------------------------------------------------------------------------- packets

INSIDE = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.7"]
OUTSIDE = ["18.26.4.9", "18.26.4.10", "192.168.5.7", "1.0.0.9"]
PUBLIC = "1.0.0.1"
PORTS = [20, 21, 22, 53, 80, 137, 443, 1023, 1024, 5000, 8080, 65535]
NAT_PORTS = list(range(50000, 50006))
MACS = ["00:11:22:33:44:55", "00:aa:bb:cc:dd:01", "02:00:00:00:00:02", "ff:ff:ff:ff:ff:ff"]


def ip_bytes(a):
    return bytes(int(x) for x in a.split("."))


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def transport(rng, proto, src, dst, sport, dport, payload):
    if proto == 6:
        flags = rng.choice([0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x01, rng.randrange(64)])
        opts = b""
        if rng.random() < 0.2:
            opts = b"\x02\x04\x05\xb4\x01\x01\x04\x02"  # MSS, NOP, NOP, SACK-permitted
        off = (20 + len(opts)) // 4
        hdr = struct.pack("!HHIIBBHHH", sport, dport, rng.randrange(1 << 32), rng.randrange(1 << 32),
                          off << 4, flags, rng.choice([0, 512, 65535]), 0, 0) + opts
        seg = hdr + payload
        pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack("!BBH", 0, 6, len(seg))
        c = checksum(pseudo + seg)
        return seg[:16] + struct.pack("!H", c) + seg[18:]
    if proto == 17:
        seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack("!BBH", 0, 17, len(seg))
        c = checksum(pseudo + seg) or 0xFFFF
        if rng.random() < 0.1:
            c = 0
        return seg[:6] + struct.pack("!H", c) + seg[8:]
    if proto == 1:
        t, code = rng.choice([(8, 0), (0, 0), (3, 1), (3, 3), (3, 4), (11, 0), (5, 1), (12, 0), (13, 0), (8, 0)])
        ident = rng.choice([1, 2, 0x1234])
        seq = rng.randrange(4)
        body = struct.pack("!HH", ident, seq) + payload
        if t in (3, 11, 5, 12):
            inner = ip_header(rng, rng.choice([6, 17]), dst, src, 28, 64)
            body = (struct.pack("!I", 0) if t != 5 else ip_bytes(rng.choice(INSIDE))) + inner + \
                struct.pack("!HHHH", rng.choice(PORTS + NAT_PORTS), rng.choice(PORTS), 8, 0)
        msg = struct.pack("!BBH", t, code, 0) + body
        c = checksum(msg)
        return msg[:2] + struct.pack("!H", c) + msg[4:]
    return payload


def ip_header(rng, proto, src, dst, total, ttl, ident=None, frag=0, options=b"", tos=0):
    hl = (20 + len(options)) // 4
    ident = rng.randrange(1 << 16) if ident is None else ident
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hl, tos, total, ident, frag, ttl, proto, 0,
                    ip_bytes(src), ip_bytes(dst)) + options
    c = checksum(h)
    return h[:10] + struct.pack("!H", c) + h[12:]


def random_options(rng):
    kind = rng.randrange(5)
    if kind == 0:
        return b"\x01\x01\x01\x00"                          # NOPs, end
    if kind == 1:
        return b"\x07\x0b\x04" + b"\0" * 8 + b"\x00"        # record route, 2 slots
    if kind == 2:
        return b"\x83\x0b\x04" + ip_bytes(rng.choice(OUTSIDE)) + ip_bytes(rng.choice(INSIDE)) + b"\x00"  # LSRR
    if kind == 3:
        return b"\x01" * 4                                  # NOPs (a timestamp option would hold the time of day)
    return b"\x94\x04\x00\x00"                              # router alert


def random_ip_packet(rng, toward_public=False):
    proto = rng.choice([6, 6, 17, 17, 1, 1, rng.choice([2, 4, 47, 132])])
    if toward_public:
        src, dst = rng.choice(OUTSIDE), PUBLIC
        sport, dport = rng.choice(PORTS), rng.choice(NAT_PORTS)
    else:
        src, dst = rng.choice(INSIDE + OUTSIDE), rng.choice(INSIDE + OUTSIDE + [PUBLIC])
        sport, dport = rng.choice(PORTS), rng.choice(PORTS)
    payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 4, 12, 40, 200, 600])))
    seg = transport(rng, proto, src, dst, sport, dport, payload)
    options = random_options(rng) if rng.random() < 0.12 else b""
    frag = 0
    r = rng.random()
    if r < 0.15:
        frag = 0x4000                                       # DF
    elif r < 0.2:
        frag = 0x2000                                       # MF, first fragment
    elif r < 0.25:
        frag = rng.randrange(1, 200)                        # a later fragment
        seg = seg[: max(8, len(seg) // 8 * 8)]
    ttl = rng.choice([0, 1, 2, 3, 64, 255])
    tos = rng.choice([0, 0, 0, 0x10, 0xb8, 0x03, 0x01])
    total = 20 + len(options) + len(seg)
    h = ip_header(rng, proto, src, dst, total, ttl, frag=frag, options=options, tos=tos)
    packet = h + seg
    r = rng.random()
    if r < 0.04:
        packet = packet[:10] + bytes([packet[10] ^ 0x55]) + packet[11:]   # bad IP checksum
    elif r < 0.06:
        packet = packet[: rng.randrange(1, len(packet))]                   # truncated
    elif r < 0.08:
        packet = packet + bytes(rng.randrange(1, 9))                       # link padding
    return packet


def ether(dst, src, etype, payload):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac_bytes(sha) + ip_bytes(spa) + mac_bytes(tha) + ip_bytes(tpa)


def write_pcap(path, frames, linktype=1):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for n, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1000 + n // 10, (n % 10) * 100000, len(frame), len(frame)))
            f.write(frame)


def ip_trace(rng, count, public_share=0.0):
    frames = []
    for _ in range(count):
        p = random_ip_packet(rng, toward_public=rng.random() < public_share)
        frames.append(ether(MACS[0], MACS[1], 0x0800, p))
    return frames

# --------------------------------------------------------------------------- filters

def address_primitive(rng):
    q = rng.choice(["", "src ", "dst ", "src or dst ", "src and dst "])
    k = rng.randrange(4)
    if k == 0:
        return q + "host " + rng.choice(INSIDE + OUTSIDE)
    if k == 1:
        return q + "net " + rng.choice(["10.0.0.0/24", "10.0.0.0/16", "18.26.4.8/31", "0.0.0.0/0", "192.168.0.0/16"])
    if k == 2:
        return q + "net " + rng.choice(["10.0.0.0 mask 255.255.0.0", "18.26.4.0 mask 255.255.255.0"])
    return q + rng.choice(["", "tcp ", "udp "]) + "port " + rng.choice(
        [str(rng.choice(PORTS)), "www", "ssh", "dns", "netbios-ns", "ftp", "ftp-data"])


def relation(rng):
    return rng.choice(["", "", "== ", "!= ", "< ", "> ", "<= ", ">= "])


def field_primitive(rng):
    k = rng.randrange(12)
    if k == 0:
        return "ip proto " + rng.choice(["tcp", "udp", "icmp", "tcpudp", "igmp", "47", "4"])
    if k == 1:
        return rng.choice(["tcp", "udp", "icmp", "ip frag", "ip unfrag", "ip ect", "ip ce", "true", "false"])
    if k == 2:
        return "ip ttl " + relation(rng) + str(rng.choice([0, 1, 2, 3, 64, 200]))
    if k == 3:
        return "ip " + rng.choice(["tos", "dscp", "hl", "vers", "id", "len"]) + " " + relation(rng) + str(rng.choice([0, 4, 5, 16, 46, 60, 1000]))
    if k == 4:
        return "tcp opt " + rng.choice(["syn", "ack", "fin", "rst", "psh", "urg"])
    if k == 5:
        return "icmp type " + rng.choice(["echo", "echo-reply", "unreachable", "timeexceeded", "redirect", "8", "0", "3"])
    if k == 6:
        return "tcp win " + relation(rng) + str(rng.choice([0, 512, 65535]))
    if k == 7:
        off = rng.choice([0, 1, 8, 9, 12, 16])
        ln = rng.choice([1, 2, 4])
        mask = " & " + hex(rng.randrange(1, 256)) if rng.random() < 0.3 else ""
        return "ip[%d:%d]%s %s%d" % (off, ln, mask, relation(rng), rng.randrange(256))
    if k == 8:
        return "transp[%d:%d] %s%d" % (rng.choice([0, 2, 4, 13]), rng.choice([1, 2]), relation(rng), rng.randrange(256))
    if k == 9:
        return rng.choice(["src", "dst"]) + " port " + relation(rng) + str(rng.choice(PORTS))
    return address_primitive(rng)


def expression(rng, depth=0):
    if depth > 2 or rng.random() < 0.45:
        return field_primitive(rng)
    k = rng.randrange(5)
    a, b = expression(rng, depth + 1), expression(rng, depth + 1)
    if k == 0:
        return "%s and %s" % (a, b)
    if k == 1:
        return "(%s) or (%s)" % (a, b)
    if k == 2:
        return "not (%s)" % a
    if k == 3:
        return "%s && !%s" % (a, b) if " " not in b else "%s && !(%s)" % (a, b)
    return "(%s) || %s" % (a, b)


IP_INPUT = "FromDump(in.pcap, STOP true, TIMING false) -> Strip(14) -> CheckIPHeader(VERBOSE false)"


def outputs(n, prefix="o"):
    return "".join("%s[%d] -> ToDump(out%d.pcap, ENCAP IP);\n" % (prefix, i, i) for i in range(n))


def case_ipfilter(rng):
    n = rng.randrange(1, 4)
    rules = []
    for _ in range(rng.randrange(1, 5)):
        action = rng.choice(["allow", "deny", "drop"] + [str(i) for i in range(n)])
        rules.append(action + " " + expression(rng))
    if rng.random() < 0.5:
        rules.append(rng.choice(["allow all", "deny all", "%d -" % (n - 1)]))
    config = IP_INPUT + " -> o :: IPFilter(%s);\n" % ", ".join(rules) + outputs(n)
    return config, ip_trace(rng, 60)


def case_ipclassifier(rng):
    exprs = [expression(rng) for _ in range(rng.randrange(1, 4))]
    if rng.random() < 0.5:
        exprs.append("-")
    config = IP_INPUT + " -> o :: IPClassifier(%s);\n" % ", ".join(exprs) + outputs(len(exprs))
    return config, ip_trace(rng, 60)


def case_classifier(rng):
    patterns = []
    for _ in range(rng.randrange(1, 4)):
        parts = []
        for _ in range(rng.randrange(1, 3)):
            off = rng.choice([12, 14, 20, 22, 23, 26, 30, 34, 36, 47])
            ln = rng.choice([1, 2, 4])
            value = "".join(rng.choice("0123456789abcdef") for _ in range(2 * ln))
            if rng.random() < 0.4:
                value = value[:-1] + "?"
            mask = "%" + "".join(rng.choice("0f0ff0") for _ in range(2 * ln)) if rng.random() < 0.3 else ""
            neg = "!" if rng.random() < 0.2 else ""
            parts.append("%s%d/%s%s" % (neg, off, value, mask))
        patterns.append(" ".join(parts))
    patterns.insert(rng.randrange(len(patterns) + 1), rng.choice(["12/0800", "12/0806", "23/06", "23/11", "12/0800 23/01"]))
    if rng.random() < 0.5:
        patterns.append("-")
    config = "FromDump(in.pcap, STOP true, TIMING false) -> o :: Classifier(%s);\n" % ", ".join(patterns)
    config += "".join("o[%d] -> ToDump(out%d.pcap);\n" % (i, i) for i in range(len(patterns)))
    frames = ip_trace(rng, 40) + [ether("ff:ff:ff:ff:ff:ff", MACS[1], 0x0806, arp(1, MACS[1], "10.0.0.1", "00:00:00:00:00:00", "10.0.0.2"))]
    rng.shuffle(frames)
    return config, frames


def rewriter_spec(rng, outs):
    k = rng.randrange(7)
    fo, ro = rng.randrange(outs), rng.randrange(outs)
    if k == 0:
        # Click picks a port of a plain range at random; `#` makes the choice sequential.
        return "pattern %s %s - - %d %d" % (PUBLIC, rng.choice(["50000-50005#", "50000", "-"]), fo, ro)
    if k == 1:
        return "pattern - - %s %s %d %d" % (rng.choice(OUTSIDE), rng.choice(["80", "-", "8080"]), fo, ro)
    if k == 2:
        return "pass %d" % fo
    if k == 3:
        return rng.choice(["drop", "discard"])
    if k == 4:
        return "keep %d %d" % (fo, ro)
    if k == 5:
        return "pattern %s 50000-50005# %s - %d %d" % (PUBLIC, rng.choice(OUTSIDE), fo, ro)
    return "rr"


def case_rewriter(rng):
    kind = rng.choice(["IPRewriter", "IPRewriter", "TCPRewriter", "UDPRewriter"])
    outs = rng.randrange(1, 3)
    specs = [rewriter_spec(rng, outs), rewriter_spec(rng, outs)]
    head = ""
    for i, s in enumerate(specs):
        if s == "rr":
            pats = ", ".join("%s 50000-50005# %s - %d %d" % (PUBLIC, rng.choice(OUTSIDE + ["-"]), rng.randrange(outs), rng.randrange(outs))
                             for _ in range(rng.randrange(1, 4)))
            head += "m%d :: RoundRobinIPMapper(%s);\n" % (i, pats)
            specs[i] = "m%d" % i
    keywords = rng.choice(["", ", MAPPING_CAPACITY 3", ", DST_ANNO false", ", REAP_INTERVAL 1s"])
    if kind == "TCPRewriter" and rng.random() < 0.3:
        keywords = ", TCP_DONE_TIMEOUT 10"
    config = head + IP_INPUT + " -> c :: IPClassifier(dst host %s, -);\n" % PUBLIC
    config += "c[1] -> [0] o :: %s(%s%s);\nc[0] -> [1] o;\n" % (kind, ", ".join(specs), keywords)
    config += outputs(outs)
    return config, ip_trace(rng, 80, public_share=0.35)


def case_icmp_rewriters(rng):
    kind = rng.choice(["ping", "icmp"])
    if kind == "ping":
        config = IP_INPUT + " -> c :: IPClassifier(dst host %s, -);\n" % PUBLIC
        config += "c[1] -> [0] o :: ICMPPingRewriter(pattern %s - - - 0 1, %s);\nc[0] -> [1] o;\n" % (
            PUBLIC, rng.choice(["drop", "pass 1"]))
        config += outputs(2)
    else:
        config = IP_INPUT + " -> c :: IPClassifier(dst host %s, -);\n" % PUBLIC
        config += "rw :: IPRewriter(pattern %s 50000-50005# - - 0 1, pass 1);\n" % PUBLIC
        config += "c[1] -> IPClassifier(icmp type unreachable or icmp type timeexceeded, -) => [0] i :: ICMPRewriter(rw, %s), [0] rw;\n" % rng.choice(["drop", "pass 1"])
        config += "c[0] -> [1] rw;\ni[0] -> ToDump(out0.pcap, ENCAP IP);\ni[1] -> ToDump(out1.pcap, ENCAP IP);\n"
        config += "rw[0] -> ToDump(out2.pcap, ENCAP IP);\nrw[1] -> ToDump(out3.pcap, ENCAP IP);\n"
    return config, ip_trace(rng, 80, public_share=0.35)


def case_icmperror(rng):
    t, code = rng.choice([("unreachable", "needfrag"), ("unreachable", "host"), ("3", "3"), ("timeexceeded", "0"),
                          ("redirect", "host"), ("parameterproblem", "0"), ("12", "1"), ("sourcequench", "0")])
    extra = ""
    if rng.random() < 0.4:
        extra += ", BADADDRS 18.26.4.255 10.0.0.255"
    if code == "needfrag" and rng.random() < 0.5:
        extra += ", MTU 576"
    if rng.random() < 0.3:
        extra += ", USE_FIXED_SRC " + rng.choice(["true", "false"])
    anno = rng.choice(["", "-> SetIPAddress(18.26.4.1) ", "-> Paint(2) "])
    config = IP_INPUT + " %s-> o :: ICMPError(%s, %s, %s%s);\n" % (anno, rng.choice(["10.0.0.254", "18.26.4.1"]), t, code, extra)
    config += "o -> ToDump(out0.pcap, ENCAP IP);\n"
    if rng.random() < 0.5:
        config = config.replace("o -> ToDump", "o -> IPPrint(err, CONTENTS true, LENGTH true, TTL true, ID true) -> ToDump")
    return config, ip_trace(rng, 40)


def case_fragment(rng):
    mtu = rng.choice([28, 68, 100, 296, 576, 1500])
    honor = rng.choice(["true", "false"])
    if rng.random() < 0.5:
        config = IP_INPUT + " -> o :: IPFragmenter(%d, HONOR_DF %s, VERBOSE true);\n" % (mtu, honor)
        config += "o[0] -> ToDump(out0.pcap, ENCAP IP);\no[1] -> ToDump(out1.pcap, ENCAP IP);\n"
    else:
        config = IP_INPUT + " -> IPFragmenter(%d, HONOR_DF %s) -> IPReassembler -> ToDump(out0.pcap, ENCAP IP);\n" % (mtu, honor)
    return config, ip_trace(rng, 40)


def case_arp(rng):
    me_ip, me_eth = "10.0.0.254", "00:aa:bb:cc:dd:fe"
    frames = []
    for _ in range(60):
        k = rng.randrange(4)
        host = rng.choice(INSIDE + ["10.0.0.77"])
        if k == 0:
            frames.append(ether(me_eth, rng.choice(MACS[:3]), 0x0806, arp(2, rng.choice(MACS[:3]), host, me_eth, me_ip)))
        elif k == 1:
            frames.append(ether("ff:ff:ff:ff:ff:ff", MACS[1], 0x0806, arp(1, MACS[1], host, "00:00:00:00:00:00", rng.choice([me_ip, "10.0.0.3", "10.0.0.9"]))))
        else:
            p = random_ip_packet(rng)
            p = p[:16] + ip_bytes(host) + p[20:] if len(p) >= 20 else p
            frames.append(ether(me_eth, MACS[1], 0x0800, p))
    if rng.random() < 0.5:
        config = "FromDump(in.pcap, STOP true, TIMING false) -> c :: Classifier(12/0806 20/0002, 12/0806 20/0001, 12/0800);\n"
        config += "c[2] -> Strip(14) -> CheckIPHeader -> GetIPAddress(16) -> [0] q :: ARPQuerier(%s, %s%s);\n" % (
            me_ip, me_eth, rng.choice(["", ", CAPACITY 4", ", ENTRY_CAPACITY 2", ", BROADCAST 10.0.0.255"]))
        config += "c[0] -> [1] q;\nc[1] -> Discard;\nq[0] -> ToDump(out0.pcap);\n"
    else:
        config = "FromDump(in.pcap, STOP true, TIMING false) -> c :: Classifier(12/0806 20/0001, -);\n"
        config += "c[0] -> r :: ARPResponder(%s %s, 10.0.0.3/32 %s, 10.0.0.9 %s) -> ToDump(out0.pcap);\nc[1] -> Discard;\n" % (
            me_ip, me_eth, MACS[2], MACS[0])
    return config, frames


SMALL = ["DecIPTTL", "IPGWOptions(10.0.0.254)", "FixIPSrc(10.0.0.254)", "SetIPChecksum", "IPMirror",
         "CheckTCPHeader", "CheckUDPHeader", "CheckICMPHeader", "SetTCPChecksum", "SetUDPChecksum",
         "SetIPDSCP(46)", "MarkIPCE", "SetIPAddress(1.2.3.4)", "StoreIPAddress(12)", "StoreIPAddress(4.3.2.1, 16)",
         "IPAddrRewriter(pattern 1.0.0.1 - 0 0)", "IPOutputCombo(3, 10.0.0.254, 576)", "CheckPaint(2)",
         "IPPrint(x, PAYLOAD hex, TOS true, TTL true, ID true, LENGTH true)", "SetIPChecksum -> CheckIPHeader(VERBOSE true)"]


def case_small(rng):
    chain = [rng.choice(SMALL) for _ in range(rng.randrange(1, 4))]
    body = " -> ".join(chain)
    config = IP_INPUT + " -> Paint(%d) -> %s -> ToDump(out0.pcap, ENCAP IP);\n" % (rng.randrange(3), body)
    return config, ip_trace(rng, 40)


FAMILIES = {
    "ipfilter": case_ipfilter,
    "ipclassifier": case_ipclassifier,
    "classifier": case_classifier,
    "rewriter": case_rewriter,
    "icmp-rewriter": case_icmp_rewriters,
    "icmperror": case_icmperror,
    "fragment": case_fragment,
    "arp": case_arp,
    "small": case_small,
}

# --------------------------------------------------------------------------- running


def run(binary, config, directory):
    try:
        p = subprocess.run([binary, "-e", config], cwd=directory, capture_output=True, timeout=30)
        status, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        status, out, err = "timeout", b"", b""
    # Click's debugging remark about a reallocation is not part of any element's output.
    err = b"".join(line for line in err.splitlines(keepends=True) if not line.startswith(b"expensive Packet::"))
    # Packets an element creates (ICMPError's errors) carry the current time in both
    # drivers; trace times are around 1000 s. Current times compare as equal.
    err = NOW_TEXT.sub(b"<now>", err)
    out = NOW_TEXT.sub(b"<now>", out)
    files = {}
    for name in sorted(os.listdir(directory)):
        if name.startswith("out"):
            with open(os.path.join(directory, name), "rb") as f:
                files[name] = without_current_times(f.read())
    return status, out, err, files


NOW_TEXT = re.compile(rb"\b1[6-9]\d{8}\.\d{6,9}\b")


def without_current_times(pcap):
    """The pcap file with every record stamped after 2020 stamped 0xffffffff.0 instead."""
    if len(pcap) < 24 or pcap[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return pcap
    data = bytearray(pcap)
    i = 24
    while i + 16 <= len(data):
        sec, _, caplen, _ = struct.unpack_from("<IIII", data, i)
        if sec > 1_600_000_000:
            struct.pack_into("<II", data, i, 0xFFFFFFFF, 0)
        i += 16 + caplen
    return bytes(data)


def one_case(args, index):
    rng = random.Random("%d/%d" % (args.seed, index))
    family = args.family or rng.choice(sorted(FAMILIES))
    config, frames = FAMILIES[family](rng)
    # Both drivers draw random numbers from the C library's generator: seeded alike, the
    # choices Click makes at random (a DF packet's new IP ID, ...) compare too.
    config = "RandomSeed(1);\n" + config
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for side, binary in (("click", args.click), ("ours", args.ours)):
            d = os.path.join(scratch, side)
            os.mkdir(d)
            write_pcap(os.path.join(d, "in.pcap"), frames)
            results.append(run(binary, config, d))
        # Click failing an assertion (a negative status) is Click's bug, not a difference.
        crashed = isinstance(results[0][0], int) and results[0][0] < 0
        same = crashed or results[0] == results[1]
        if not same and args.keep:
            dest = os.path.join(args.keep, "case-%d-%s" % (index, family))
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(scratch, dest)
            with open(os.path.join(dest, "config.click"), "w") as f:
                f.write(config)
            for side, r in zip(("click", "ours"), results):
                with open(os.path.join(dest, side, "stderr"), "wb") as f:
                    f.write(r[2])
                with open(os.path.join(dest, side, "stdout"), "wb") as f:
                    f.write(r[1])
    return index, family, same, config, results


def describe(results):
    (s1, o1, e1, f1), (s2, o2, e2, f2) = results
    parts = []
    if s1 != s2:
        parts.append("status %s vs %s" % (s1, s2))
    if o1 != o2:
        parts.append("stdout differs")
    if e1 != e2:
        parts.append("stderr differs: click %r | ours %r" % (e1[:160], e2[:160]))
    for name in sorted(set(f1) | set(f2)):
        if f1.get(name) != f2.get(name):
            parts.append("%s differs (%s vs %s bytes)" % (name, len(f1.get(name, b"")), len(f2.get(name, b""))))
    return "; ".join(parts)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("click", help="Click's userlevel driver (bin/click)")
    parser.add_argument("--ours", default=os.path.join(here, "..", ".build", "release", "clickos-vm"))
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, default=0, help="index of the first case")
    parser.add_argument("--family", choices=sorted(FAMILIES))
    parser.add_argument("--keep", help="directory for failing cases")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    args.click, args.ours = os.path.abspath(args.click), os.path.abspath(args.ours)
    if not os.access(args.ours, os.X_OK):
        sys.exit("no clickos-vm at %s (build it, or pass --ours)" % args.ours)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    counts, failures = {}, {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for index, family, same, config, results in pool.map(lambda i: one_case(args, i), range(args.first, args.first + args.cases)):
            total, bad = counts.get(family, (0, 0))
            counts[family] = (total + 1, bad + (0 if same else 1))
            if not same:
                failures.setdefault(family, 0)
                failures[family] += 1
                if not args.quiet:
                    print("case %d (%s): %s\n  %s" % (index, family, describe(results), config.replace("\n", "\n  ")), flush=True)
    print("\n%-14s %7s %7s" % ("family", "cases", "differ"))
    for family in sorted(counts):
        print("%-14s %7d %7d" % (family, counts[family][0], counts[family][1]))
    total = sum(c for c, _ in counts.values())
    bad = sum(b for _, b in counts.values())
    print("%-14s %7d %7d" % ("all", total, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
