import ClickLanguage
import ClickRuntime

/// ICMPRewriter(MAPS [, *keywords* DST_ANNO, REPLY_ANNO])
///
/// Rewrites ICMP error messages (destination unreachable, source quench, redirect, time
/// exceeded, parameter problem) about flows that the rewriters named in MAPS (IPRewriter,
/// TCPRewriter, UDPRewriter, ICMPPingRewriter, IPAddrRewriter, IPAddrPairRewriter;
/// space-separated, each optionally `NAME:OFFSET`) translate, as Click's ICMPRewriter, so
/// that they reach the host that sent the offending packet. The packet quoted in the error
/// is looked up as a reply to it would be, and rewritten as that reply's flow says:
/// addresses, ports or echo identifier. The outer destination, when it is the quoted
/// packet's source, follows (and with DST_ANNO, default true, the destination
/// annotation); REPLY_ANNO restores the flow's reply annotation. Checksums are updated
/// incrementally. A rewritten error leaves on output 0, or, for a rewriter given as
/// `NAME:OFFSET`, on OFFSET plus the output of the flow's direction; other packets are
/// dropped.
///
/// Ports: 1 input, 1 or more outputs, push.
public final class ICMPRewriter: Element, PacketAction {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }
    var maps: [(rewriter: IPRewriter, offset: Int)] = []
    var dstAnno = true
    var replyAnno: Int?

    public override func configure(_ args: inout Arguments) {
        let names = args.mandatory("MAPS", .string) ?? ""
        dstAnno = args.keyword("DST_ANNO", .bool) ?? true
        if let word = args.keyword("REPLY_ANNO", .word) {
            if let offset = annotationOffset(word, default: 0) { replyAnno = offset } else { args.error("expected annotation", keyword: "REPLY_ANNO") }
        }
        // As Click, the rewriters are found while configuring.
        maps = []
        for word in names.split(whereSeparator: \.isWhitespace).map(String.init) {
            var name = word, offset = -1
            if let colon = word.firstIndex(of: ":") {
                guard let n = Int(word[word.index(after: colon)...]), n >= 0 else {
                    args.error("\(word) not an IP rewriter")
                    continue
                }
                name = String(word[..<colon])
                offset = n
            }
            guard let rw = router.element(named: name, relativeTo: self) as? IPRewriter else {
                args.error("\(word) not an IP rewriter")
                continue
            }
            if offset >= 0 && offset + rw.noutputs > noutputs {
                args.error("\(word) port offset requires more than \(noutputs) \(noutputs == 1 ? "output" : "outputs")")
                continue
            }
            maps.append((rw, offset))
        }
        if maps.isEmpty { args.error("no IP rewriters supplied") }
    }

    static let errorTypes: Set<UInt8> = [3, 4, 5, 11, 12]

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20, ip.byte(9) == 1, let icmp = p.transportHeader else { return -1 }
        let icmpLength = p.length - (p.transportHeaderOffset ?? p.length)
        guard icmpLength >= 8 + 20, Self.errorTypes.contains(icmp.byte(0)) else { return -1 }
        let inner = icmp + 8
        let innerHL = Int(inner.byte(0) & 0x0F) << 2
        guard inner.byte(0) >> 4 == 4, innerHL >= 20 else { return -1 }
        let proto = inner.byte(9)
        let t = inner + innerHL
        let available = icmpLength - 8 - innerHL
        let firstFragment = inner.be16(6) & 0x1FFF == 0
        // The flow a reply to the quoted packet would have.
        var search = FlowID(saddr: inner.be32(16), sport: 0, daddr: inner.be32(12), dport: 0, proto: proto)
        var transport = false
        if proto == 6 || proto == 17 || proto == 33 {
            if available >= 8 && firstFragment {
                search.sport = t.be16(2)
                search.dport = t.be16(0)
                transport = true
            }
        } else if proto == 1, available >= 6, firstFragment, t.byte(0) == 8 {
            // Echo requests are keyed as ICMPPingRewriter keys a reply.
            search.sport = ICMPPingRewriter.bumped(t.be16(4))
            search.dport = t.be16(4)
            transport = true
        }
        for (rw, offset) in maps {
            guard let entry = rw.replyEntry(for: search) else { continue }
            let new = entry.rewritten
            // Snapshot what changes, for the outer ICMP checksum's incremental update.
            let span = min(innerHL + min(available, 20), icmpLength - 8) & ~1
            var before = [UInt16](repeating: 0, count: span / 2)
            for i in before.indices { before[i] = inner.be16(2 * i) }
            if ip.be32(16) == search.daddr {
                let old = ip.be32(16)
                ip.setBE32(16, new.daddr)
                ip.setBE16(10, updatedChecksum(updatedChecksum(ip.be16(10), old: UInt16(old >> 16), new: UInt16(new.daddr >> 16)),
                                               old: UInt16(old & 0xFFFF), new: UInt16(new.daddr & 0xFFFF)))
                if dstAnno { p.destinationIPAnnotation = new.daddr }
            }
            if entry.isReply, let replyAnno {
                p.setAnnotation8(replyAnno, rw.table.mappings[Int(entry.partner)].replyAnnotation)
            }
            let from = FlowID(saddr: inner.be32(12), sport: transport && proto != 1 ? t.be16(0) : 0, daddr: inner.be32(16),
                              dport: transport && proto != 1 ? t.be16(2) : 0, proto: proto)
            var to = FlowID(saddr: new.daddr, sport: new.dport, daddr: new.saddr, dport: new.sport, proto: proto)
            if !transport || proto == 1 { (to.sport, to.dport) = (from.sport, from.dport) }
            rewriteEmbedded(inner, t, proto: proto, from: from, to: to, innerAvailable: innerHL + available)
            if transport && proto == 1 {
                let oldID = t.be16(4)
                t.setBE16(4, new.dport)
                t.setBE16(2, updatedChecksum(t.be16(2), old: oldID, new: new.dport))
            }
            var sum = icmp.be16(2)
            for i in before.indices where before[i] != inner.be16(2 * i) {
                sum = updatedChecksum(sum, old: before[i], new: inner.be16(2 * i))
            }
            icmp.setBE16(2, sum)
            return offset >= 0 ? offset + Int(entry.output) : 0
        }
        return -1
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
        default: break
        }
    }

}
