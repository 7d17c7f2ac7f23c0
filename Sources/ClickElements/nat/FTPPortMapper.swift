import ClickLanguage
import ClickRuntime
#if canImport(Glibc)
import Glibc
#endif

/// FTPPortMapper(CONTROL_REWRITER, DATA_REWRITER, DATA_REWRITER_INPUT)
///
/// Makes active FTP work through a NAT, as Click's FTPPortMapper. Expects FTP control
/// packets (TCP, with their IP and transport headers set) on their way to
/// CONTROL_REWRITER, a TCPRewriter or IPRewriter downstream that already has a mapping
/// for the control connection. A packet whose payload starts with a complete
/// `PORT h1,h2,h3,h4,p1,p2` command (ended by CR or LF) gets a mapping for the data
/// connection it announces, from that address and port to the control connection's
/// destination at port (control port − 1), made in DATA_REWRITER as if its first packet
/// arrived on input DATA_REWRITER_INPUT (usually a pattern). The command is rewritten to
/// name the mapped address and port, the IP length and checksum and the TCP checksum
/// are fixed, and CONTROL_REWRITER is told that the connection's sequence numbers move
/// by the change in length from the end of this packet on (so later segments, their
/// acknowledgements and SACK blocks are shifted). The data flow takes the control
/// flow's reply annotation. Other packets, and commands that do not parse, pass
/// unchanged. Addresses and ports of the control packet itself are not changed.
///
/// Ports: 1 input, 1 output, agnostic.
///
/// Warns at initialization when CONTROL_REWRITER is not downstream.
public final class FTPPortMapper: Element, PacketAction {
    public override var portCount: String { "1/1" }
    var control: IPRewriter?
    var data: IPRewriter?
    var dataInput = 0

    public override func configure(_ args: inout Arguments) {
        let controlName = args.mandatory("CONTROL_REWRITER", .string)
        let dataName = args.mandatory("DATA_REWRITER", .string)
        let input = args.mandatory("DATA_REWRITER_INPUT", .integer)
        if let controlName {
            switch router.element(named: controlName, relativeTo: self) {
            case nil: args.error("does not name an element", keyword: "CONTROL_REWRITER")
            case let rw as IPRewriter where rw.flavor == .tcpOnly || rw.flavor == .tcpAndUDP: control = rw
            default: args.error("element type mismatch, expected TCPRewriter", keyword: "CONTROL_REWRITER")
            }
        }
        if let dataName {
            switch router.element(named: dataName, relativeTo: self) {
            case nil: args.error("does not name an element", keyword: "DATA_REWRITER")
            case let rw as IPRewriter: data = rw
            default: args.error("element type mismatch, expected IPRewriterBase", keyword: "DATA_REWRITER")
            }
        }
        if let input, let data, args.succeeded {
            if input < 0 || input >= data.ninputs { args.error("DATA_REWRITER_INPUT out of range") } else { dataInput = input }
        }
    }

    public override func initialize() throws(ElementError) {
        guard let control else { return }
        let downstream = router.neighborhood(of: self, forward: true, port: 0, diameter: router.elements.count)
        if !downstream.contains(where: { $0 === control }) {
            router.chatter("\(landmark): While initializing '\(declaration)':\n  warning: control packet rewriter '\(control.declaration)' is not downstream")
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    public func action(_ p: Packet) -> Int {
        guard let control, let data, let ip = p.networkHeader, let toff = p.transportHeaderOffset, p.length >= toff + 20,
            ip.byte(9) == 6
        else { return 0 }
        let t = p.data + toff
        let dataOffset = toff + (Int(t.byte(12) >> 4) << 2)
        guard p.length >= dataOffset + 5 else { return 0 }
        let len = p.length - dataOffset
        let d = p.data + dataOffset
        guard d.byte(0) | 0x20 == UInt8(ascii: "p"), d.byte(1) | 0x20 == UInt8(ascii: "o"), d.byte(2) | 0x20 == UInt8(ascii: "r"),
            d.byte(3) | 0x20 == UInt8(ascii: "t"), d.byte(4) == 0x20
        else { return 0 }
        let controlFlow = FlowID(saddr: ip.be32(12), sport: t.be16(0), daddr: ip.be32(16), dport: t.be16(2), proto: 6)
        guard let controlMapping = control.existingMapping(controlFlow) else { return 0 }

        // PORT, spaces, then six decimal numbers separated by commas, then CR or LF.
        var pos = 5
        while pos < len && d.byte(pos) == 0x20 { pos += 1 }
        let argumentOffset = pos
        var numbers = [UInt32](repeating: 0, count: 6)
        var which = 0
        while pos < len && which < 6 {
            let c = d.byte(pos)
            if c >= 48 && c <= 57 {
                numbers[which] = numbers[which] &* 10 &+ UInt32(c - 48)
            } else if c == UInt8(ascii: ",") {
                which += 1
            } else {
                break
            }
            pos += 1
        }
        guard which == 5, pos < len, d.byte(pos) == 13 || d.byte(pos) == 10, numbers.allSatisfy({ $0 < 256 }) else { return 0 }
        let announced = numbers[0] << 24 | numbers[1] << 16 | numbers[2] << 8 | numbers[3]
        let dataFlow = FlowID(saddr: announced, sport: UInt16(numbers[4] << 8 | numbers[5]), daddr: ip.be32(16),
                              dport: t.be16(2) &- 1, proto: 6)
        guard let forward = data.mapping(for: dataFlow, input: dataInput) else { return 0 }
        let mapped = data.table.mappings[Int(forward)].rewritten
        let a = mapped.saddr
        let text = Array("\(a >> 24),\(a >> 16 & 255),\(a >> 8 & 255),\(a & 255),\(mapped.sport >> 8),\(mapped.sport & 255)".utf8)

        // Replace the argument, moving what follows it.
        let argumentLength = pos - argumentOffset
        let grow = text.count - argumentLength
        if grow > 0 {
            guard p.put(grow) else { return 0 }
        }
        let rest = d + argumentOffset + argumentLength
        (d + argumentOffset + text.count).copyMemory(from: rest, byteCount: len - pos)
        if grow < 0 { p.take(-grow) }
        for (k, b) in text.enumerated() { d.setByte(argumentOffset + k, b) }

        // IP length and checksum (RFC 1624), then the TCP checksum over the whole segment.
        let oldLength = ip.be16(2)
        let newLength = UInt16(truncatingIfNeeded: p.length - (p.networkHeaderOffset ?? 0))
        ip.setBE16(2, newLength)
        ip.setBE16(10, ~foldChecksum(UInt32(~ip.be16(10)) &+ UInt32(~oldLength) &+ UInt32(newLength)))
        let trigger = t.be32(4) &+ UInt32(truncatingIfNeeded: len)
        control.addSequenceDelta(mapping: controlMapping, trigger: trigger, delta: Int32(grow))
        let controlForward = control.table.mappings[Int(controlMapping)].isReply ? control.table.mappings[Int(controlMapping)].partner : controlMapping
        let dataForward = data.table.mappings[Int(forward)].isReply ? data.table.mappings[Int(forward)].partner : forward
        data.table.mappings[Int(dataForward)].replyAnnotation = control.table.mappings[Int(controlForward)].replyAnnotation
        t.setBE16(16, 0)
        t.setBE16(16, transportChecksum(ip, proto: 6, transport: t, length: p.length - toff))
        return 0
    }
}
