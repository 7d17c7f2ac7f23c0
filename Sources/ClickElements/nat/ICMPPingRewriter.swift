import ClickLanguage
import ClickRuntime

/// ICMPPingRewriter(INPUTSPEC_0, ..., INPUTSPEC_N-1 [, *keywords* TIMEOUT, GUARANTEE,
/// REAP_INTERVAL, REAP_TIME, MAPPING_CAPACITY, CAPACITY, DST_ANNO, REPLY_ANNO])
///
/// Rewrites ICMP echo requests and replies as IPRewriter rewrites TCP and UDP, as Click's
/// ICMPPingRewriter: the echo identifier plays the part of the port. The input specs are
/// IPRewriter's; a pattern is `pattern SADDR DADDR IDENT FOUT ROUT` (IDENT `-`, a
/// value or a range `L-H`, with `#` or `?` as IPRewriter's ports) or `pattern SADDR SPORT
/// DADDR DPORT FOUT ROUT`. Echo requests of new flows get a flow per the spec; echo replies
/// of no flow, and other packets, follow `pass` or are dropped. Flows are guaranteed for
/// GUARANTEE seconds (default 5) after each packet and expire TIMEOUT after it (default 5
/// minutes).
///
/// Ports: N inputs, any number of outputs, push.
///
/// Handlers: `table` (read: `(SADDR, DADDR, IDENT) => (...) [FOUT ROUT] iINPUT
/// expSECONDS`); `table_size`, `nmappings`, `mapping_failures`, `size`, `patterns` (read);
/// `capacity` (read/write); `clear` (write); for the inputs, `pattern0`, `pattern1`...
/// (read/write).
public final class ICMPPingRewriter: IPRewriter {
    override var flavor: Flavor { .icmpPing }

    override func readKeywords(_ args: inout Arguments) {
        readAnnotationKeywords(&args, destination: true)
    }

    override func addTableHandlers(_ h: inout HandlerSet) {
        h.read("table") { [unowned self] in self.unparseTable { _ in true } }
    }

    /// Click keys an echo flow on the identifier in network byte order plus one on the
    /// far side (`icmp_identifier + 1` on the raw field, on the little-endian hosts this
    /// runs on); these flows are keyed the same way so that they print and collide alike.
    @inline(__always) static func bumped(_ id: UInt16) -> UInt16 { (id.byteSwapped &+ 1).byteSwapped }

    override func unparseFlow(_ m: FlowMapping) -> String {
        "(\(IPv4Address(m.key.saddr)), \(IPv4Address(m.key.daddr)), \(m.key.sport)) => (\(IPv4Address(m.rewritten.saddr)), \(IPv4Address(m.rewritten.daddr)), \(m.rewritten.sport))"
    }

    override func finishRewritten(_ key: FlowID, _ rewritten: inout FlowID) -> Bool {
        rewritten.dport = Self.bumped(rewritten.sport)
        return Self.bumped(key.sport) == key.dport
    }

    /// Flows keyed differently: no lookahead.
    override var looksAhead: Bool { false }

    override func process(_ p: Packet, port: Int, now: Int64, hint: Int32 = -1) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20, ip.byte(IPv4Header.proto) == 1,
              ip.be16(IPv4Header.fragment) & 0x1FFF == 0, let t = p.transportHeader,
              p.length - (p.transportHeaderOffset ?? p.length) >= 6 else { return passOrDrop(port) }
        let type = t.byte(0)
        guard type == 8 || type == 0 else { return passOrDrop(port) }
        let echo = type == 8
        let id = t.be16(4)
        let key = FlowID(saddr: ip.be32(IPv4Header.source), sport: echo ? id : Self.bumped(id),
                         daddr: ip.be32(IPv4Header.destination), dport: echo ? Self.bumped(id) : id, proto: 1)
        var m = table.find(key)
        if m < 0 {
            guard echo else { return passOrDrop(port) }
            let (made, output) = newFlow(key, port: port, now: now)
            guard let made else { return output }
            m = made
            if let replyAnno { table.mappings[Int(m)].replyAnnotation = p.annotation8(replyAnno) }
        }
        let mapping = table.mappings[Int(m)]
        let flow = mapping.isReply ? mapping.partner : m
        let newID = mapping.isReply ? mapping.rewritten.dport : mapping.rewritten.sport
        var from = mapping.key, to = mapping.rewritten
        (from.sport, from.dport, to.sport, to.dport) = (0, 0, 0, 0)
        rewrite(ip, nil, from: from, to: to, proto: 1)
        if newID != id {
            t.setBE16(4, newID)
            let length = p.length - (p.transportHeaderOffset ?? p.length)
            t.setBE16(2, updatedChecksum(t.be16(2), old: id, new: newID))
            fixZeroChecksum(at: 2, t, length)
        }
        annotate(p, mapping, flow: flow)
        refresh(flow, proto: 1, now: now)
        return Int(mapping.output)
    }
}
