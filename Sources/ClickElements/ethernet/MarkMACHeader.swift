import ClickLanguage
import ClickRuntime

/// MarkMACHeader([OFFSET, LENGTH])
///
/// Sets the MAC header annotation OFFSET bytes into the packet (default 0).
///
/// Ports: 1 input, 1 output, agnostic.
public final class MarkMACHeader: Element, PacketAction {
    var offset = 0

    public override func configure(_ args: inout Arguments) {
        offset = args.positional("OFFSET", .unsignedInteger) ?? 0
        if (args.positional("LENGTH", .unsignedInteger) ?? 0) != 0 {
            configurationWarning("LENGTH is not supported and has no effect (the MAC header is known by where it starts)")
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.setMACHeader(at: min(offset, p.length))
        return 0
    }

}
