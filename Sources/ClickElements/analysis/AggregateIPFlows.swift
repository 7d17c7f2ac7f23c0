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
/// later packet starts a new flow. Other packets, and later fragments unless FRAGMENTS is
/// true (then they get aggregate 0), go to output 1 or are dropped.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `count` (live
/// flows), `next` (the next flow number) (read); `clear` (write).
public final class AggregateIPFlows: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var tcpTimeout: Int64 = 86_400_000_000_000
    var tcpDoneTimeout: Int64 = 30_000_000_000
    var udpTimeout: Int64 = 60_000_000_000
    var handleICMP = false
    var passFragments = false
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
        unsupportedKeywords(&args, ["FRAGMENT_TIMEOUT"])
        handleICMP = args.keyword("ICMP", .bool) ?? false
        passFragments = args.keyword("FRAGMENTS", .bool) ?? false
    }

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
        if ip.be16(IPv4Header.fragment) & 0x1FFF != 0 {
            guard passFragments else { return other(p) }
            p.setAnnotation32(Annotation.aggregate, 0)
            return 0
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
        return 0
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
        now = router.clock.now()
        pushThrough(&batch)
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        now = router.clock.now()
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
        h.write("clear") { [unowned self] _ in
            self.table = FlowTable(capacity: 8192)
            self.nextAggregate = 1
        }
    }
}
