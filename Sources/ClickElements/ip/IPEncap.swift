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

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

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
