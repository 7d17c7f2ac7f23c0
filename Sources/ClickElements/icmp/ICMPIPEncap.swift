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

/// Clipboard(RANGE_1, ..., RANGE_N)
///
/// Copies bytes from one packet to another: packets on input 0 have the bytes at each
/// RANGE (`OFFSET/LENGTH`) copied to the clipboard and leave on output 0; packets on
/// input 1 get the clipboard pasted at the same ranges and leave on output 1. Ranges a
/// packet is too short for are skipped. Before anything is copied the clipboard holds
/// zeros.
///
/// Ports: 2 inputs, 2 outputs, agnostic; flow code `#/#`.
public final class Clipboard: Element {
    public override var portCount: String { "2/2" }
    public override var flowCode: String { "#/#" }
    var ranges: [(offset: Int, length: Int)] = []
    var clipboard: [UInt8] = []

    public override func configure(_ args: inout Arguments) {
        ranges = []
        for text in args.remaining() {
            let parts = ConfigText.unquote(text).split(separator: "/")
            guard parts.count == 2, let o = Int(parts[0]), let l = Int(parts[1]), o >= 0, l >= 0 else {
                args.error("bad range '\(text)', expected OFFSET/LENGTH")
                continue
            }
            ranges.append((o, l))
        }
        if ranges.isEmpty && args.succeeded { args.error("expected at least one range") }
        clipboard = [UInt8](repeating: 0, count: ranges.reduce(0) { $0 + $1.length })
    }

    func copy(_ p: Packet, paste: Bool) {
        var k = 0
        for r in ranges {
            defer { k += r.length }
            guard p.length >= r.offset + r.length else { continue }
            for i in 0..<r.length {
                if paste { p.data.setByte(r.offset + i, clipboard[k + i]) } else { clipboard[k + i] = p.data.byte(r.offset + i) }
            }
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        for i in 0..<batch.count { copy(batch[i], paste: port == 1) }
        output(port, &batch)
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let before = batch.count
        input(port, into: &batch, max: max)
        for i in before..<batch.count { copy(batch[i], paste: port == 1) }
    }
}
