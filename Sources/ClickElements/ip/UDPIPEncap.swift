import ClickLanguage
import ClickRuntime

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

    /// A UDP port: a number, a PortInfo name, or a name from the services list.
    static let portType = ValueType<UInt16>("port") { text, context in
        let t = ConfigText.unquote(text)
        if let n = UInt16(t) { return n }
        return (context.addressNames.port(t, protocol: "udp", context: context.elementName) ?? ServiceNames.port(t, protocol: "udp")).flatMap { UInt16(exactly: $0) }
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

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

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
