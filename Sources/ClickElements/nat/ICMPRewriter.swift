import ClickLanguage
import ClickRuntime

/// ICMPRewriter(MAPS [, *keywords* DST_ANNO])
///
/// Rewrites ICMP error messages (destination unreachable, source quench, redirect, time
/// exceeded, parameter problem) about flows that the rewriters named in MAPS (IPRewriter,
/// TCPRewriter, UDPRewriter, ICMPPingRewriter, IPAddrRewriter, IPAddrPairRewriter;
/// space-separated) translate, so that they reach the host that sent the offending
/// packet. The packet embedded in the error is rewritten as the rewriter would have
/// rewritten a reply's reverse: addresses, ports or echo identifier. The outer source or
/// destination address that named a translated host is rewritten to match. The embedded
/// IP and transport checksums, the ICMP checksum and the outer IP checksum are fixed.
/// Rewritten packets leave on output 0; others on output 1, or are dropped.
///
/// Ports: 1 input, 1 or 2 outputs, push.
public final class ICMPRewriter: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/h" }
    var mapNames: [String] = []
    var maps: [IPRewriter] = []
    var dstAnno = true

    public override func configure(_ args: inout Arguments) {
        let names = args.mandatory("MAPS", .string) ?? ""
        mapNames = names.split(whereSeparator: \.isWhitespace).map(String.init)
        dstAnno = args.keyword("DST_ANNO", .bool) ?? true
        if mapNames.isEmpty { args.error("expected at least one rewriter", keyword: "MAPS") }
    }

    public override func initialize() throws(ElementError) {
        maps = []
        for name in mapNames {
            guard let e = router.element(named: name) else { throw ElementError("no element named '\(name)'") }
            guard let rw = e as? IPRewriter else { throw ElementError("'\(name)' is not a rewriter element") }
            maps.append(rw)
        }
    }

    static let errorTypes: Set<UInt8> = [3, 4, 5, 11, 12]

    @inline(__always) public func action(_ p: Packet) -> Int {
        let miss = noutputs > 1 ? 1 : -1
        guard let ip = p.networkHeader, p.networkLength >= 20, ip.byte(9) == 1,
              ip.be16(IPv4Header.fragment) & 0x1FFF == 0, let icmp = p.transportHeader else { return miss }
        let icmpLength = p.length - (p.transportHeaderOffset ?? p.length)
        guard icmpLength >= 8 + 20 + 8, Self.errorTypes.contains(icmp.byte(0)) else { return miss }
        let inner = icmp + 8
        let innerHL = Int(inner.byte(0) & 0x0F) << 2
        guard inner.byte(0) >> 4 == 4, innerHL >= 20, icmpLength >= 8 + innerHL + 8 else { return miss }
        let proto = inner.byte(9)
        let t = inner + innerHL
        var e = FlowID(saddr: inner.be32(12), sport: 0, daddr: inner.be32(16), dport: 0, proto: proto)
        switch proto {
        case 6, 17:
            e.sport = t.be16(0)
            e.dport = t.be16(2)
        case 1:
            switch t.byte(0) {
            case 8: e.sport = t.be16(4)
            case 0: e.dport = t.be16(4)
            default: break
            }
        default: break
        }
        for rw in maps {
            guard let (n, _) = rw.embeddedMapping(for: e) else { continue }
            rewriteEmbedded(inner, t, proto: proto, from: e, to: n, innerAvailable: icmpLength - 8)
            // The outer address that named the translated host follows it.
            if ip.be32(16) == e.saddr && n.saddr != e.saddr { ip.setBE32(16, n.saddr) }
            if ip.be32(12) == e.daddr && n.daddr != e.daddr { ip.setBE32(12, n.daddr) }
            setIPChecksum(ip)
            icmp.setBE16(2, 0)
            icmp.setBE16(2, internetChecksum(icmp, icmpLength))
            if dstAnno { p.destinationIPAnnotation = ip.be32(16) }
            return 0
        }
        return miss
    }

    /// Rewrites the embedded header from flow `a` to `b`, fixing its checksums.
    func rewriteEmbedded(_ inner: UnsafeMutableRawPointer, _ t: UnsafeMutableRawPointer, proto: UInt8, from a: FlowID, to b: FlowID, innerAvailable: Int) {
        let innerHL = Int(inner.byte(0) & 0x0F) << 2
        var pseudoDelta: UInt32 = 0
        func change(_ old: UInt32, _ new: UInt32) -> UInt32 {
            UInt32(~UInt16(old >> 16)) &+ UInt32(UInt16(new >> 16)) &+ UInt32(~UInt16(old & 0xFFFF)) &+ UInt32(UInt16(new & 0xFFFF))
        }
        if a.saddr != b.saddr {
            pseudoDelta &+= change(a.saddr, b.saddr)
            inner.setBE32(12, b.saddr)
        }
        if a.daddr != b.daddr {
            pseudoDelta &+= change(a.daddr, b.daddr)
            inner.setBE32(16, b.daddr)
        }
        if pseudoDelta != 0 {
            inner.setBE16(10, ~foldChecksum(UInt32(~inner.be16(10)) &+ pseudoDelta))
        }
        switch proto {
        case 6, 17:
            var delta = pseudoDelta
            if a.sport != b.sport {
                delta &+= UInt32(~a.sport) &+ UInt32(b.sport)
                t.setBE16(0, b.sport)
            }
            if a.dport != b.dport {
                delta &+= UInt32(~a.dport) &+ UInt32(b.dport)
                t.setBE16(2, b.dport)
            }
            // The transport checksum, when the error quotes it.
            let offset = proto == 6 ? 16 : 6
            if delta != 0, innerAvailable >= innerHL + offset + 2 {
                let c = t.be16(offset)
                if !(proto == 17 && c == 0) {
                    var n = ~foldChecksum(UInt32(~c) &+ delta)
                    if proto == 17 && n == 0 { n = 0xFFFF }
                    t.setBE16(offset, n)
                }
            }
        case 1:
            let oldID = t.be16(4)
            let newID = t.byte(0) == 8 ? b.sport : t.byte(0) == 0 ? b.dport : oldID
            if newID != oldID {
                t.setBE16(4, newID)
                t.setBE16(2, updatedChecksum(t.be16(2), old: oldID, new: newID))
            }
        default: break
        }
    }

}
