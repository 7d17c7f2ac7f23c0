import ClickLanguage
import ClickRuntime

/// GetIPAddress(OFFSET [, ANNO]) / GetIPAddress(IP src|dst)
///
/// Copies the 4-byte IP address at OFFSET in the packet (16 is an IP header's destination)
/// into the destination address annotation (or annotation ANNO); `IP src` and `IP dst`
/// read the network header's fields.
///
/// Ports: 1 input, 1 output, agnostic.
public final class GetIPAddress: Element, PacketAction {
    var offset = 16
    var fromHeader = false
    var anno = Annotation.destinationIP

    public override func configure(_ args: inout Arguments) {
        if let field = args.keyword("IP", .word) {
            fromHeader = true
            switch field {
            case "src": offset = IPv4Header.source
            case "dst": offset = IPv4Header.destination
            default: args.error("expected 'src' or 'dst'", keyword: "IP")
            }
        } else {
            offset = args.mandatory("OFFSET", .unsignedInteger) ?? 16
        }
        if let a = annotationOffset(args.positional("ANNO", .word), default: Annotation.destinationIP, size: 4) { anno = a } else { args.error("parse error", keyword: "ANNO") }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let base: UnsafeMutableRawPointer
        if fromHeader {
            guard let ip = p.networkHeader else { return 0 }
            base = ip
        } else {
            guard p.length >= offset + 4 else { return 0 }
            base = p.data
        }
        p.setAnnotation32(anno, base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        return 0
    }

}
