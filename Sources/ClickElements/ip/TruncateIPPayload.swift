import ClickLanguage
import ClickRuntime

/// TruncateIPPayload([LENGTH, TRANSPORT, *keywords* EXTRA_LENGTH])
///
/// Cuts each IP packet down to its headers plus at most LENGTH bytes (default 0) of
/// payload. The headers are the IP header and, with TRANSPORT (default true), the TCP
/// header (its data offset), the UDP header or the ICMP header (20 bytes for timestamps, 8
/// otherwise). A packet without a network header keeps its first LENGTH bytes. With
/// EXTRA_LENGTH (default true) the bytes removed are added to the EXTRA_LENGTH annotation,
/// so dumps still record the original length. As Click's.
///
/// Ports: 1 input, 1 output, agnostic.
public final class TruncateIPPayload: Element, PacketAction {
    var length = 0
    var transport = true
    var extraLength = true

    public override func configure(_ args: inout Arguments) {
        length = args.positional("LENGTH", .integer(bits: 16, signed: false)) ?? 0
        transport = args.positional("TRANSPORT", .bool) ?? true
        extraLength = args.keyword("EXTRA_LENGTH", .bool) ?? true
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        var keep = length
        let removed: Int
        if let ip = p.networkHeader, let nh = p.networkHeaderOffset {
            let networkLength = p.length - nh
            let hl = networkLength >= 1 ? Int(ip.byte(0) & 0x0F) << 2 : 0
            if hl < 20 {
                keep += 20   // a broken header counts as the minimum
            } else {
                keep += hl
                if transport && networkLength >= 10 {
                    let transportLength = networkLength - hl
                    switch ip.byte(9) {
                    case 6:
                        let offset = transportLength >= 13 ? Int(ip.byte(hl + 12) >> 4) : 0
                        keep += transportLength >= 12 && offset >= 5 ? offset << 2 : 20
                    case 17:
                        keep += 8
                    case 1:
                        if transportLength >= 8 { keep += ip.byte(hl) == 13 || ip.byte(hl) == 14 ? 20 : 8 }
                    default:
                        break
                    }
                }
            }
            guard networkLength > keep else { return 0 }
            removed = networkLength - keep
        } else {
            guard p.length > keep else { return 0 }
            removed = p.length - keep
        }
        if extraLength {
            p.setAnnotation32(Annotation.extraLength, p.annotation32(Annotation.extraLength) &+ UInt32(truncatingIfNeeded: removed))
        }
        p.take(removed)
        return 0
    }
}
