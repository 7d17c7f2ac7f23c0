import ClickLanguage
import ClickRuntime

/// Unstrip(LENGTH)
///
/// Puts LENGTH bytes back at the front of each packet, from its headroom (no copy): the
/// inverse of Strip. A packet without that much headroom is dropped.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Unstrip: Element, PacketAction {
    var amount = 0

    public override func configure(_ args: inout Arguments) {
        amount = args.mandatory("LENGTH", .unsignedInteger) ?? 0
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.push(amount) ? 0 : -1
    }

}
