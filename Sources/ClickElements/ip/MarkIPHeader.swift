import ClickLanguage
import ClickRuntime

/// MarkIPHeader([OFFSET])
///
/// Sets the network header annotation to the IPv4 header OFFSET bytes in (default 0), and
/// the transport header after it, without checking anything.
///
/// Ports: 1 input, 1 output, agnostic.
public final class MarkIPHeader: Element, PacketAction {
    var offset = 0

    public override func configure(_ args: inout Arguments) {
        offset = args.positional("OFFSET", .unsignedInteger) ?? 0
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.length > offset else { return 0 }
        let hl = Int(p[offset] & 0x0F) << 2
        p.setNetworkHeader(at: offset, headerLength: hl)
        return 0
    }

}
