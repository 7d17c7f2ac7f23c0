import ClickLanguage
import ClickRuntime

/// AdjustTimestamp(TIME)
///
/// Adds TIME (seconds, may be negative) to each packet's timestamp.
///
/// Ports: 1 input, 1 output, agnostic.
public final class AdjustTimestamp: Element, PacketAction {
    var delta: Int64 = 0

    public override func configure(_ args: inout Arguments) {
        delta = args.mandatory("TIME", .signedTimestamp) ?? 0
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.timestamp = p.timestamp.saturatingAdd(delta)
        return 0
    }

}
