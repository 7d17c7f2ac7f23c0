import ClickLanguage
import ClickRuntime

/// ICMPIPEncap(SRC, DST, TYPE [, CODE, *keywords* IDENTIFIER])
///
/// Encapsulates each packet in an ICMP header of type TYPE (a number or a name such as
/// `echo`, `unreachable`) and code CODE (default 0), then an IP header from SRC to DST
/// (TTL 255, the destination annotation set). For echo and echo-reply the identifier is
/// IDENTIFIER (default 0) and the sequence number counts up from 0. The ICMP and IP
/// checksums are set.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `src`, `dst` (read/write).
public final class ICMPIPEncap: Element, PacketAction {
    var src: UInt32 = 0
    var dst: UInt32 = 0
    var type: UInt8 = 0
    var code: UInt8 = 0
    var identifier: UInt16 = 0
    var sequence: UInt16 = 0
    var ipID: UInt16 = 0

    public override func configure(_ args: inout Arguments) {
        src = args.mandatory("SRC", .ipv4Address)?.value ?? 0
        dst = args.mandatory("DST", .ipv4Address)?.value ?? 0
        if let t = args.mandatory("TYPE", .word) {
            if let v = FilterNames.icmpTypes[t].map(UInt8.init) ?? UInt8(t) { type = v } else { args.error("unknown ICMP type '\(t)'", keyword: "TYPE") }
        }
        if let c = args.positional("CODE", .unsignedInteger) {
            if c <= 255 { code = UInt8(c) } else { args.error("out of range", keyword: "CODE") }
        }
        identifier = UInt16(args.keyword("IDENTIFIER", .uint16) ?? 0)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.push(28) else { return -1 }
        let ip = p.data
        ip.setByte(0, 0x45)
        ip.setByte(1, 0)
        ip.setBE16(2, UInt16(clamping: p.length))
        ip.setBE16(4, ipID)
        ipID &+= 1
        ip.setBE16(6, 0)
        ip.setByte(8, 255)
        ip.setByte(9, 1)
        ip.setBE32(IPv4Header.source, src)
        ip.setBE32(IPv4Header.destination, dst)
        setIPChecksum(ip)
        let icmp = ip + 20
        icmp.setByte(0, type)
        icmp.setByte(1, code)
        icmp.setBE16(2, 0)
        if type == 0 || type == 8 {
            icmp.setBE16(4, identifier)
            icmp.setBE16(6, sequence)
            sequence &+= 1
        } else {
            icmp.setBE32(4, 0)
        }
        icmp.setBE16(2, internetChecksum(icmp, p.length - 20))
        p.setNetworkHeader(at: 0, headerLength: 20)
        p.destinationIPAnnotation = dst
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        for (name, keyPath) in [("src", \ICMPIPEncap.src), ("dst", \ICMPIPEncap.dst)] {
            h.readWrite(name, read: { [unowned self] in "\(IPv4Address(self[keyPath: keyPath]))" }, write: { [unowned self] (t: String) throws(ElementError) in
                guard let (a, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
                self[keyPath: keyPath] = a.value
            })
        }
    }
}
