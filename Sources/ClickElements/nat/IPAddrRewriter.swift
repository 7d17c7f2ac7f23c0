import ClickLanguage
import ClickRuntime

/// IPAddrRewriter(INPUTSPEC_0, ..., INPUTSPEC_N-1 [, *keywords* TIMEOUT, GUARANTEE,
/// REAP_INTERVAL, REAP_TIME, MAPPING_CAPACITY, CAPACITY, REPLY_ANNO]) — and
/// IPAddrPairRewriter
///
/// Basic NAT that rewrites addresses only, for every IP protocol, as Click's
/// IPAddrRewriter. A flow is a source address: every packet from it gets the new source
/// address, and packets to the new address get the original back as their destination
/// (IPAddrPairRewriter keys flows on the source and destination pair). The input specs are
/// IPRewriter's, with patterns `pattern SADDR DADDR FOUT ROUT` where DADDR must be `-`:
/// SADDR an address, a range `A-B` or a prefix `A/len` (without its network and broadcast
/// addresses), followed by `#` to take addresses in sequence or `?` to start at random, or
/// `-`. TCP and UDP checksums are fixed for the new pseudo-header. Flows are guaranteed for
/// GUARANTEE seconds (default 5) after each packet and expire TIMEOUT after it (default 2
/// hours). The destination annotation of a rewritten reply is its new destination.
///
/// Ports: N inputs, any number of outputs, push.
///
/// Handlers: `table` (read: `SADDR => NEWADDR [FOUT ROUT] iINPUT expSECONDS`);
/// `table_size`, `nmappings`, `mapping_failures`, `size`, `patterns` (read); `capacity`
/// (read/write); `clear` (write); for the inputs, `pattern0`, `pattern1`... (read/write).
public class IPAddrRewriter: IPRewriter {
    override var flavor: Flavor { .addresses }

    override func readKeywords(_ args: inout Arguments) {
        timeouts.bestEffort = 7200 * Self.second
        readAnnotationKeywords(&args, destination: false)
    }

    override func addTableHandlers(_ h: inout HandlerSet) {
        h.read("table") { [unowned self] in self.unparseTable { _ in true } }
    }

    override func unparseFlow(_ m: FlowMapping) -> String {
        // Click prints the source of this direction and the destination of the other.
        "\(IPv4Address(m.key.saddr)) => \(IPv4Address(m.rewritten.saddr))"
    }

    /// Only the source address may change (Click refuses other rewritten flows).
    override func finishRewritten(_ key: FlowID, _ rewritten: inout FlowID) -> Bool {
        rewritten.sport == 0 && rewritten.dport == 0 && (flavor == .pairs ? rewritten.daddr == key.daddr : rewritten.daddr == 0)
    }

    /// Flows keyed differently: no lookahead.
    override var looksAhead: Bool { false }

    override func process(_ p: Packet, port: Int, now: Int64, hint: Int32 = -1) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return passOrDrop(port) }
        let src = ip.be32(IPv4Header.source), dst = ip.be32(IPv4Header.destination)
        let pairs = flavor == .pairs
        let key = FlowID(saddr: src, sport: 0, daddr: pairs ? dst : 0, dport: 0, proto: 0)
        var m = table.find(key)
        if m < 0 && !pairs { m = table.find(FlowID(saddr: 0, sport: 0, daddr: dst, dport: 0, proto: 0)) }
        if m < 0 {
            let (made, output) = newFlow(key, port: port, now: now)
            guard let made else { return output }
            m = made
            if let replyAnno { table.mappings[Int(m)].replyAnnotation = p.annotation8(replyAnno) }
        }
        let mapping = table.mappings[Int(m)]
        let flow = mapping.isReply ? mapping.partner : m
        // Forward packets change their source, replies their destination.
        var to = FlowID(saddr: src, sport: 0, daddr: dst, dport: 0, proto: 0)
        if pairs {
            to.saddr = mapping.rewritten.saddr
            to.daddr = mapping.rewritten.daddr
        } else if mapping.isReply {
            to.daddr = mapping.rewritten.daddr
        } else {
            to.saddr = mapping.rewritten.saddr
        }
        let proto = ip.byte(IPv4Header.proto)
        var t: UnsafeMutableRawPointer? = nil
        if proto == 6 || proto == 17, ip.be16(IPv4Header.fragment) & 0x1FFF == 0, let th = p.transportHeader,
           p.length - (p.transportHeaderOffset ?? p.length) >= (proto == 6 ? 18 : 8) {
            t = th
        }
        rewrite(ip, t, from: FlowID(saddr: src, sport: 0, daddr: dst, dport: 0, proto: 0), to: to, proto: proto)
        if mapping.isReply {
            if dstAnno { p.destinationIPAnnotation = to.daddr }
            if let replyAnno { p.setAnnotation8(replyAnno, table.mappings[Int(flow)].replyAnnotation) }
        }
        refresh(flow, proto: proto, now: now)
        return Int(mapping.output)
    }

    override func replyEntry(for search: FlowID) -> FlowMapping? {
        // Addresses only: a reply's destination is the translated address.
        let pairs = flavor == .pairs
        var m = table.find(FlowID(saddr: pairs ? search.saddr : 0, sport: 0, daddr: search.daddr, dport: 0, proto: 0))
        if m < 0 && !pairs { m = table.find(FlowID(saddr: search.saddr, sport: 0, daddr: 0, dport: 0, proto: 0)) }
        guard m >= 0 else { return nil }
        var e = table.mappings[Int(m)]
        // Ports and protocol pass through untouched.
        if e.isReply || pairs {
            e.rewritten = FlowID(saddr: pairs ? e.rewritten.saddr : search.saddr, sport: search.sport,
                                 daddr: e.rewritten.daddr, dport: search.dport, proto: search.proto)
        } else {
            e.rewritten = FlowID(saddr: e.rewritten.saddr, sport: search.sport, daddr: search.daddr, dport: search.dport, proto: search.proto)
        }
        return e
    }
}

public final class IPAddrPairRewriter: IPAddrRewriter {
    override var flavor: Flavor { .pairs }
}
