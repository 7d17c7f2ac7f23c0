import ClickLanguage
import ClickRuntime

/// IPEncap(PROTO, SRC, DST [, *keywords* TTL, DSCP, ECT, CE, TOS, DF])
///
/// Prepends a 20-byte IPv4 header (from headroom) with protocol PROTO (a number or `tcp`,
/// `udp`, `icmp`...), source SRC and destination DST (`DST_ANNO` takes the destination
/// annotation). TTL defaults to 250. Sets the network header and destination annotation.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `src`, `dst` (read/write).
public final class IPEncap: Element, PacketAction {
    var proto: UInt8 = 0
    var src: UInt32 = 0
    var dst: UInt32 = 0
    var dstFromAnno = false
    var ttl: UInt8 = 250
    var tos: UInt8 = 0
    var df = false
    var id: UInt16 = 0

    public override func configure(_ args: inout Arguments) {
        if let p = args.mandatory("PROTO", .word) {
            if let n = FilterNames.protocols[p].map(UInt8.init) ?? UInt8(p) { proto = n } else { args.error("unknown protocol", keyword: "PROTO") }
        }
        src = args.mandatory("SRC", .ipv4Address)?.value ?? 0
        if let d = args.mandatory("DST", .raw) {
            if d == "DST_ANNO" {
                dstFromAnno = true
            } else if let a = ValueType<IPv4Address>.ipv4Address.parse(d, args.context) {
                dst = a.value
            } else {
                args.error("expected IP address", keyword: "DST")
            }
        }
        ttl = UInt8(args.keyword("TTL", .uint8) ?? 250)
        // TOS and DSCP are Click `int`s, checked against their fields' ranges after.
        let dscp = args.keyword("DSCP", .integer)
        let ect = args.keyword("ECT", .bool) == true
        let ce = args.keyword("CE", .bool) == true
        let tosValue = args.keyword("TOS", .integer)
        if tosValue != nil && dscp != nil {
            args.error("cannot set both TOS and DSCP")
        } else if tosValue != nil && (ect || ce) {
            args.error("cannot set both TOS and ECN bits")
        } else if let t = tosValue, t < 0 || t > 255 {
            args.error("TOS too large; max 255")
        } else if let d = dscp, d < 0 || d > 63 {
            args.error("DSCP too large; max 63")
        }
        if let d = dscp, d >= 0, d <= 63 { tos = UInt8(d) << 2 }
        if ect { tos |= 2 }
        if ce { tos |= 3 }
        if let t = tosValue, t >= 0, t <= 255 { tos = UInt8(t) }
        df = args.keyword("DF", .bool) ?? false
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let destination = dstFromAnno ? p.destinationIPAnnotation : dst
        guard p.push(20) else { return -1 }
        let ip = p.data
        ip.setByte(0, 0x45)
        ip.setByte(1, tos)
        ip.setBE16(2, UInt16(clamping: p.length))
        ip.setBE16(4, id)
        id &+= 1
        ip.setBE16(6, df ? 0x4000 : 0)
        ip.setByte(8, ttl)
        ip.setByte(9, proto)
        ip.setBE32(IPv4Header.source, src)
        ip.setBE32(IPv4Header.destination, destination)
        setIPChecksum(ip)
        p.setNetworkHeader(at: 0, headerLength: 20)
        p.destinationIPAnnotation = destination
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.readWrite("src", read: { [unowned self] in "\(IPv4Address(self.src))" }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
            self.src = a.value
        })
        h.readWrite("dst", read: { [unowned self] in self.dstFromAnno ? "DST_ANNO" : "\(IPv4Address(self.dst))" }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
            self.dst = a.value
            self.dstFromAnno = false
        })
    }
}

/// UDPIPEncap(SRC, SPORT, DST, DPORT [, CHECKSUM])
///
/// Prepends UDP and IPv4 headers (28 bytes of headroom): from SRC:SPORT to DST:DPORT
/// (ports may be named, `DST_ANNO` takes the destination annotation), computing the UDP
/// checksum unless CHECKSUM is false.
///
/// Ports: 1 input, 1 output, agnostic.
public final class UDPIPEncap: Element, PacketAction {
    var src: UInt32 = 0
    var sport: UInt16 = 0
    var dst: UInt32 = 0
    var dport: UInt16 = 0
    var dstFromAnno = false
    var checksum = true
    var id: UInt16 = 0

    static let portType = ValueType<UInt16>("port") { text, _ in
        let t = ConfigText.unquote(text)
        if let n = UInt16(t) { return n }
        return FilterNames.ports[t].map { UInt16($0) }
    }

    public override func configure(_ args: inout Arguments) {
        src = args.mandatory("SRC", .ipv4Address)?.value ?? 0
        sport = args.mandatory("SPORT", Self.portType) ?? 0
        if let d = args.mandatory("DST", .raw) {
            if d == "DST_ANNO" { dstFromAnno = true } else if let a = ValueType<IPv4Address>.ipv4Address.parse(d, args.context) { dst = a.value } else { args.error("expected IP address", keyword: "DST") }
        }
        dport = args.mandatory("DPORT", Self.portType) ?? 0
        checksum = args.positional("CHECKSUM", .bool) ?? true
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let destination = dstFromAnno ? p.destinationIPAnnotation : dst
        guard p.push(28) else { return -1 }
        let ip = p.data
        let total = p.length
        ip.setByte(0, 0x45)
        ip.setByte(1, 0)
        ip.setBE16(2, UInt16(clamping: total))
        ip.setBE16(4, id)
        id &+= 1
        ip.setBE16(6, 0)
        ip.setByte(8, 250)
        ip.setByte(9, 17)
        ip.setBE32(IPv4Header.source, src)
        ip.setBE32(IPv4Header.destination, destination)
        setIPChecksum(ip)
        let udp = ip + 20
        udp.setBE16(0, sport)
        udp.setBE16(2, dport)
        udp.setBE16(4, UInt16(clamping: total - 20))
        udp.setBE16(6, 0)
        if checksum { udp.setBE16(6, transportChecksum(ip, proto: 17, transport: udp, length: total - 20)) }
        p.setNetworkHeader(at: 0, headerLength: 20)
        p.destinationIPAnnotation = destination
        return 0
    }

}

/// The TCP/UDP checksum over the pseudo-header and `length` bytes at `transport`.
func transportChecksum(_ ip: UnsafeMutableRawPointer, proto: UInt8, transport: UnsafeMutableRawPointer, length: Int) -> UInt16 {
    var pseudo = UInt32(ip.be16(12)) &+ UInt32(ip.be16(14)) &+ UInt32(ip.be16(16)) &+ UInt32(ip.be16(18))
    pseudo &+= UInt32(proto) &+ UInt32(length)
    let c = internetChecksum(transport, length, initial: pseudo)
    return proto == 17 && c == 0 ? 0xFFFF : c
}

/// StripIPHeader — and UnstripIPHeader
///
/// StripIPHeader removes everything up to the end of the IP header (network header
/// annotation and header length); UnstripIPHeader puts the IP header back.
///
/// Ports: 1 input, 1 output, agnostic.
public final class StripIPHeader: Element, PacketAction {

    @inline(__always) public func action(_ p: Packet) -> Int {
        if let o = p.transportHeaderOffset, o > 0, o <= p.length { p.pull(o) }
        return 0
    }

}

public final class UnstripIPHeader: Element, PacketAction {

    @inline(__always) public func action(_ p: Packet) -> Int {
        if let o = p.networkHeaderOffset, o < 0 { p.push(-o) }
        return 0
    }

}

/// SetTCPChecksum — and SetUDPChecksum
///
/// Recomputes the TCP (or UDP) checksum of IP packets (network header set). Packets of
/// another protocol, or too short, are dropped.
///
/// Ports: 1 input, 1 output, agnostic.
public class SetTransportChecksum: Element, PacketAction {
    var proto: UInt8 { 6 }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20, ip.byte(9) == proto, let t = p.transportHeader, let o = p.transportHeaderOffset else { return -1 }
        let length = min(Int(ip.be16(2)) - (Int(ip.byte(0) & 0x0F) << 2), p.length - o)
        let offset = proto == 6 ? 16 : 6
        guard length >= offset + 2 else { return -1 }
        t.setBE16(offset, 0)
        t.setBE16(offset, transportChecksum(ip, proto: proto, transport: t, length: length))
        return 0
    }

}

public final class SetTCPChecksum: SetTransportChecksum {
}

public final class SetUDPChecksum: SetTransportChecksum {
    override var proto: UInt8 { 17 }
}

/// CheckTCPHeader — CheckUDPHeader — CheckICMPHeader ([*keywords* VERBOSE, DETAILS])
///
/// Check the transport header of IP packets: the right protocol, enough bytes (TCP: the
/// data offset within the packet), and a correct checksum. Bad packets go to output 1, or
/// are dropped. The first bad packet is reported ("TCP header check failed: bad TCP
/// checksum"); with VERBOSE every one is. DETAILS counts drops by reason.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `drops` (read);
/// `drop_details` (read, with DETAILS: count and reason per line).
public class CheckTransportHeader: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var proto: UInt8 { 6 }
    var protocolName: String { "TCP" }
    public private(set) var drops = 0
    var verbose = false
    /// Drops by reason (not this protocol, bad length, bad checksum), with DETAILS.
    var reasonDrops: [Int]? = nil

    public override func configure(_ args: inout Arguments) {
        verbose = args.keyword("VERBOSE", .bool) ?? false
        if args.keyword("DETAILS", .bool) ?? false { reasonDrops = [0, 0, 0] }
    }

    func reasonText(_ reason: Int) -> String {
        switch reason {
        case 0: "not \(protocolName)"
        case 1: "bad packet length"
        default: "bad \(protocolName) checksum"
        }
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20, ip.byte(9) == proto, let t = p.transportHeader, let o = p.transportHeaderOffset,
            ip.be16(IPv4Header.fragment) & 0x1FFF == 0
        else { return bad(0) }
        let length = min(Int(ip.be16(2)) - (Int(ip.byte(0) & 0x0F) << 2), p.length - o)
        switch proto {
        case 6:
            guard length >= 20, Int(t.byte(12) >> 4) * 4 >= 20, Int(t.byte(12) >> 4) * 4 <= length else { return bad(1) }
            let c = internetChecksum(t, length, initial: pseudoSum(ip, length))
            if c != 0 { return bad(2) }
        case 17:
            guard length >= 8, Int(t.be16(4)) <= length, t.be16(4) >= 8 else { return bad(1) }
            if t.be16(6) != 0, internetChecksum(t, Int(t.be16(4)), initial: pseudoSum(ip, Int(t.be16(4)))) != 0 { return bad(2) }
        default:
            guard length >= 4 else { return bad(1) }
            guard internetChecksum(t, length) == 0 else { return bad(2) }
        }
        return 0
    }

    func pseudoSum(_ ip: UnsafeMutableRawPointer, _ length: Int) -> UInt32 {
        UInt32(ip.be16(12)) &+ UInt32(ip.be16(14)) &+ UInt32(ip.be16(16)) &+ UInt32(ip.be16(18)) &+ UInt32(proto) &+ UInt32(length)
    }

    /// Counts a bad packet (reporting it as Click does) and sends it to output 1.
    func bad(_ reason: Int) -> Int {
        if drops == 0 || verbose {
            // Click's CheckUDPHeader names no element in its message.
            let prefix = proto == 17 ? "" : "\(declaration): "
            router.chatter("\(prefix)\(protocolName) header check failed: \(reasonText(reason))")
        }
        drops &+= 1
        reasonDrops?[reason] += 1
        return 1
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("drops", get: { [unowned self] in self.drops })
        if reasonDrops != nil {
            h.read("drop_details") { [unowned self] in
                (0..<3).map { "\(self.reasonDrops?[$0] ?? 0)\t\(self.reasonText($0))\n" }.joined()
            }
        }
    }
}

public final class CheckTCPHeader: CheckTransportHeader {
}

public final class CheckUDPHeader: CheckTransportHeader {
    override var proto: UInt8 { 17 }
    override var protocolName: String { "UDP" }
}

public final class CheckICMPHeader: CheckTransportHeader {
    override var proto: UInt8 { 1 }
    override var protocolName: String { "ICMP" }
}

/// ICMPPingResponder
///
/// Turns ICMP echo requests into echo replies in place (addresses swapped, type 0, TTL
/// 255, checksums fixed) on output 0; other packets go to output 1, or are dropped.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
public final class ICMPPingResponder: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 28, ip.byte(9) == 1, let t = p.transportHeader, t.byte(0) == 8,
            ip.be16(IPv4Header.fragment) & 0x3FFF == 0
        else { return 1 }
        let src = ip.be32(12)
        ip.setBE32(12, ip.be32(16))
        ip.setBE32(16, src)
        ip.setByte(8, 255)
        setIPChecksum(ip)
        t.setByte(0, 0)
        // The type word drops by 0x0800: adjust the checksum incrementally.
        t.setBE16(2, updatedChecksum(t.be16(2), old: 0x0800 | UInt16(t.byte(1)), new: UInt16(t.byte(1))))
        p.destinationIPAnnotation = src
        return 0
    }

}

/// SetIPDSCP(DSCP)
///
/// Sets the DSCP field (the top six bits of the TOS byte) of IP packets and fixes the
/// checksum.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `dscp` (read/write).
public final class SetIPDSCP: Element, PacketAction {
    var dscp: UInt8 = 0

    public override func configure(_ args: inout Arguments) {
        if let d = args.mandatory("DSCP", .bounded(0, 63)) { dscp = UInt8(d) }
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return 0 }
        setIPTOS(ip, dscp << 2 | (ip.byte(1) & 3))
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("dscp", get: { [unowned self] in Int(self.dscp) }, set: { [unowned self] v throws(ElementError) in
            guard (0...63).contains(v) else { throw ElementError("out of range") }
            self.dscp = UInt8(v)
        })
    }
}

/// SetIPECN(ECN) — also available as SetECN
///
/// Sets the ECN field (the low two bits of the TOS byte) of IP packets to ECN: 0-3 or
/// `no`, `ect1`/`ECT(1)`, `ect2`/`ECT(0)`, `ce`/`CE`; fixes the checksum incrementally.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `ecn` (read/write).
public final class SetIPECN: Element, PacketAction {
    var ecn: UInt8 = 0

    static func parse(_ text: String) -> UInt8? {
        switch text {
        case "no", "NO": return 0
        case "ect1", "ECT(1)": return 1
        case "ect2", "ECT(0)": return 2
        case "ce", "CE": return 3
        default: return UInt8(text).flatMap { $0 <= 3 ? $0 : nil }
        }
    }

    public override func configure(_ args: inout Arguments) {
        if let t = args.mandatory("ECN", .word) {
            if let v = Self.parse(t) { ecn = v } else { args.error("bad ECN value '\(t)'", keyword: "ECN") }
        }
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return 0 }
        setIPTOS(ip, (ip.byte(1) & 0xFC) | ecn)
        return 0
    }

    public override var canLiveReconfigure: Bool { true }
    public override func addHandlers(_ h: inout HandlerSet) {
        h.readWrite("ecn", read: { [unowned self] in String(self.ecn) }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let v = Self.parse(t.trimmingCharacters()) else { throw ElementError("bad ECN value") }
            self.ecn = v
        })
    }
}
