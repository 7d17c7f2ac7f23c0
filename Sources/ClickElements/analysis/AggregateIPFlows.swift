import ClickLanguage
import ClickRuntime

/// AggregateIPFlows([*keywords* TCP_TIMEOUT, TCP_DONE_TIMEOUT, UDP_TIMEOUT, ICMP, FRAGMENTS,
/// REAP, FRAGMENT_TIMEOUT])
///
/// Numbers TCP and UDP flows: each packet's AGGREGATE annotation is set to its flow's
/// number (1, 2, ... in order of first appearance), the same for both directions, and its
/// PAINT annotation to 0 for the direction seen first and 1 for the other. With ICMP true,
/// ICMP errors get the number of the flow they quote, and the paint of the direction that
/// flow's reply would have. A flow is forgotten after TCP_TIMEOUT (default 24 hours),
/// TCP_DONE_TIMEOUT after a FIN or RST (30 s), or UDP_TIMEOUT (60 s) without packets; a
/// later packet starts a new flow. With FRAGMENTS true (the default when pushed; refused
/// when pulled) fragments get their datagram's flow: from a fragment on, a host pair's
/// packets are held, in order, until the fragments of a datagram meet (by IP ID) or are
/// FRAGMENT_TIMEOUT seconds (default 30) older than the newest packet, or 1,024 packets are
/// held; a later fragment whose first fragment never came is dropped. Other packets (and, with FRAGMENTS false,
/// later fragments) go to output 1 or are dropped.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `count` (live
/// flows), `next` (the next flow number) (read); `clear` (write: lets out every held
/// packet and forgets every flow; numbering carries on).
public final class AggregateIPFlows: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var tcpTimeout: Int64 = 86_400_000_000_000
    var tcpDoneTimeout: Int64 = 30_000_000_000
    var udpTimeout: Int64 = 60_000_000_000
    var handleICMP = false
    /// FRAGMENTS: nil until initialize decides (true when pushed, as Click's default).
    var fragmentsSetting: Bool?
    var fragments = false
    var fragmentTimeout: Int64 = 30
    /// Per host pair (protocol and the two addresses, lower first), the packets held while
    /// a fragmented datagram may still learn its flow, in arrival order.
    var held: [HostPair: [Packet]] = [:]
    var heldCount = 0
    /// The newest packet's second, for the fragment timeout.
    var activeSecond: Int64 = 0

    /// Click's HostPairInfo key.
    struct HostPair: Hashable {
        var proto: UInt8
        var a: UInt32
        var b: UInt32
    }
    /// Forward and reply entries; a mapping's `output` field holds the flow number and
    /// `tcpState` bit 1 marks a FIN or RST seen.
    var table = FlowTable(capacity: 8192)
    var nextAggregate: UInt32 = 1
    /// The router time for the batch being handled (read once per batch).
    var now: Int64 = 0

    public override func configure(_ args: inout Arguments) {
        // Click reads the TCP timeouts as plain unsigned counts of seconds and the others
        // with time units (SecondsArg).
        let seconds = { (n: Int) in Int64(n) * 1_000_000_000 }
        tcpTimeout = args.keyword("TCP_TIMEOUT", .unsignedInteger).map(seconds) ?? tcpTimeout
        tcpDoneTimeout = args.keyword("TCP_DONE_TIMEOUT", .unsignedInteger).map(seconds) ?? tcpDoneTimeout
        udpTimeout = args.keyword("UDP_TIMEOUT", .wholeSeconds) ?? udpTimeout
        unsupportedKeywords(&args, ["REAP"], because: "flows expire by their own timeouts, checked as packets arrive")
        fragmentTimeout = (args.keyword("FRAGMENT_TIMEOUT", .wholeSeconds) ?? 30_000_000_000) / 1_000_000_000
        handleICMP = args.keyword("ICMP", .bool) ?? false
        fragmentsSetting = args.keyword("FRAGMENTS", .bool)
    }

    public override func initialize() throws(ElementError) {
        let pulled = inputIsPull(0)
        if fragmentsSetting == true && pulled {
            throw ElementError("'FRAGMENTS true' is incompatible with pull; run this element in a push context")
        }
        fragments = fragmentsSetting ?? !pulled
    }

    public override func cleanup() {
        for (_, packets) in held { for p in packets { p.kill() } }
        held = [:]
        heldCount = 0
    }

    /// What `classify` answers for a packet it kept (a fragment, or any packet behind one
    /// of its host pair's).
    static let heldPacket = -2

    /// The most packets held at once: beyond it the oldest of the arriving packet's host
    /// pair go on (or are dropped) at once, so a flood of fragments whose first never comes
    /// cannot take the packet pool.
    static let maximumHeld = 1024

    func other(_ p: Packet) -> Int { noutputs > 1 ? 1 : -1 }

    /// The flow entry for `key`, creating the flow if `create`; nil if unknown.
    func entry(_ key: FlowID, now: Int64, create: Bool) -> Int32? {
        var m = table.find(key)
        if m >= 0 && table.mappings[Int(m)].expiry <= now {
            table.remove(m)
            m = -1
        }
        if m >= 0 || !create { return m >= 0 ? m : nil }
        if table.isFull {
            for f in table.forwardMappings where table.mappings[Int(f)].expiry <= now { table.remove(f) }
            if table.isFull {
                let bigger = FlowTable(capacity: table.mappingCapacity * 2)
                for f in table.forwardMappings {
                    let old = table.mappings[Int(f)]
                    if let n = bigger.add(forward: old.key, rewritten: old.key, output: Int(old.output), replyOutput: Int(old.output), expiry: old.expiry) {
                        bigger.mappings[Int(n)].tcpState = old.tcpState
                        bigger.mappings[Int(bigger.mappings[Int(n)].partner)].tcpState = old.tcpState
                    }
                }
                table = bigger
            }
        }
        let aggregate = Int(nextAggregate)
        nextAggregate &+= 1
        return table.add(forward: key, rewritten: key, output: aggregate, replyOutput: aggregate, expiry: now)
    }

    @inline(__always) func classify(_ p: Packet, now: Int64) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return other(p) }
        let proto = ip.byte(IPv4Header.proto)
        let hl = Int(ip.byte(0) & 0x0F) << 2
        let fragment = ip.be16(IPv4Header.fragment)
        if fragment & 0x1FFF != 0 {
            // A later fragment: no ports. Held, with its host pair's paint, until a first
            // fragment with its IP ID gives it a flow (Click's FRAGMENTS).
            guard fragments, proto == 6 || proto == 17 else { return other(p) }
            let (src, dst) = (ip.be32(IPv4Header.source), ip.be32(IPv4Header.destination))
            p.setAnnotation32(Annotation.aggregate, 0)
            p.paint = src > dst ? 1 : 0
            return Self.heldPacket
        }
        let available = p.networkLength - hl
        if proto == 1 && handleICMP {
            return classifyICMPError(p, ip + hl, available: available, now: now)
        }
        guard proto == 6 || proto == 17, available >= 4, let t = p.transportHeader else { return other(p) }
        let key = FlowID(saddr: ip.be32(IPv4Header.source), sport: t.be16(0), daddr: ip.be32(IPv4Header.destination), dport: t.be16(2), proto: proto)
        guard let m = entry(key, now: now, create: true) else { return other(p) }
        let mapping = table.mappings[Int(m)]
        var state = mapping.tcpState | table.mappings[Int(mapping.partner)].tcpState
        if proto == 6 && available >= 14 && t.byte(13) & 0x05 != 0 { state |= 1 }
        let life = proto == 17 ? udpTimeout : (state & 1 != 0 ? tcpDoneTimeout : tcpTimeout)
        for i in [Int(m), Int(mapping.partner)] {
            table.mappings[i].tcpState = state
            table.mappings[i].expiry = now.saturatingAdd(life)
        }
        p.setAnnotation32(Annotation.aggregate, UInt32(truncatingIfNeeded: mapping.output))
        p.paint = mapping.isReply ? 1 : 0
        // A first fragment, or a packet behind a held one of its host pair, waits its turn.
        if fragments && (fragment & 0x2000 != 0 || (heldCount > 0 && held[hostPair(p)] != nil)) { return Self.heldPacket }
        return 0
    }

    func hostPair(_ p: Packet) -> HostPair {
        guard let ip = p.networkHeader else { return HostPair(proto: 0, a: 0, b: 0) }
        let (src, dst) = (ip.be32(IPv4Header.source), ip.be32(IPv4Header.destination))
        return HostPair(proto: ip.byte(IPv4Header.proto), a: min(src, dst), b: max(src, dst))
    }

    static func isFragment(_ p: Packet) -> Bool { (p.networkHeader?.be16(IPv4Header.fragment) ?? 0) & 0x3FFF != 0 }

    /// Holds `p` behind its host pair's packets, then lets out, in order, the held packets
    /// that need not wait: those that are not fragments, and fragments older than
    /// FRAGMENT_TIMEOUT (or all, with `flush`).
    func hold(_ p: Packet?, key: HostPair, into out: inout PacketBatch, flush: Bool = false) {
        var queue = held[key] ?? []
        if let p {
            queue.append(p)
            heldCount += 1
            activeSecond = p.timestamp / 1_000_000_000
        }
        while let head = queue.first,
              flush || heldCount > Self.maximumHeld || head.timestamp / 1_000_000_000 < activeSecond - fragmentTimeout
                || !Self.isFragment(head) {
            queue.removeFirst()
            heldCount -= 1
            guard let id = head.networkHeader?.be16(IPv4Header.id) else {
                head.kill()
                continue
            }
            // The datagram's flow: from the head to its fellow fragments, or the other way.
            let aggregate = head.annotation32(Annotation.aggregate)
            if aggregate != 0 {
                for q in queue where q.networkHeader?.be16(IPv4Header.id) == id {
                    q.setAnnotation32(Annotation.aggregate, aggregate)
                    q.paint = head.paint
                }
            } else if let known = queue.first(where: { $0.networkHeader?.be16(IPv4Header.id) == id && $0.annotation32(Annotation.aggregate) != 0 }) {
                head.setAnnotation32(Annotation.aggregate, known.annotation32(Annotation.aggregate))
                head.paint = known.paint
            } else {
                head.kill()
                continue
            }
            if out.isFull {
                output(0, &out)
                out.count = 0
            }
            out.append(head)
        }
        held[key] = queue.isEmpty ? nil : queue
    }

    /// An ICMP error quoting a known flow: that flow's number, reply-direction paint.
    func classifyICMPError(_ p: Packet, _ icmp: UnsafeMutableRawPointer, available: Int, now: Int64) -> Int {
        guard available >= 8 + 20 + 4, [3, 4, 5, 11, 12].contains(icmp.byte(0)) else { return other(p) }
        let inner = icmp + 8
        let ihl = Int(inner.byte(0) & 0x0F) << 2
        let proto = inner.byte(9)
        guard ihl >= 20, available >= 8 + ihl + 4, proto == 6 || proto == 17 else { return other(p) }
        let t = inner + ihl
        let quoted = FlowID(saddr: inner.be32(12), sport: t.be16(0), daddr: inner.be32(16), dport: t.be16(2), proto: proto)
        guard let m = entry(quoted, now: now, create: false) else { return other(p) }
        let mapping = table.mappings[Int(m)]
        p.setAnnotation32(Annotation.aggregate, UInt32(truncatingIfNeeded: mapping.output))
        p.paint = mapping.isReply ? 0 : 1
        return 0
    }

    @inline(__always) public func action(_ p: Packet) -> Int { classify(p, now: now) }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        now = routerNow()
        guard fragments else { return pushThrough(&batch) }
        withScratchBatch { out in
            for i in 0..<batch.count {
                let p = batch[i]
                switch classify(p, now: now) {
                case 0:
                    if out.isFull {
                        output(0, &out)
                        out.count = 0
                    }
                    out.append(p)
                case Self.heldPacket:
                    hold(p, key: hostPair(p), into: &out)
                default:
                    if noutputs > 1 { output(1, single: p) } else { p.kill() }
                }
            }
            batch.count = 0
            if out.count > 0 { output(0, &out) }
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        now = routerNow()
        pullThrough(into: &batch, max: max)
    }

    public override func takeState(from old: Element) {
        guard let old = old as? AggregateIPFlows else { return }
        table = old.table
        nextAggregate = old.nextAggregate
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.table.count / 2 })
        h.integer("next", get: { [unowned self] in Int(self.nextAggregate) })
        // As Click's: every held packet goes out (or is dropped), every flow is forgotten,
        // and numbering carries on.
        h.write("clear") { [unowned self] _ in
            self.withScratchBatch { out in
                for key in Array(self.held.keys) { self.hold(nil, key: key, into: &out, flush: true) }
                if out.count > 0 { self.output(0, &out) }
            }
            self.table = FlowTable(capacity: 8192)
        }
    }
}
