import ClickLanguage
import ClickRuntime

/// Strip(LENGTH)
///
/// Removes LENGTH bytes from the front of each packet (no copy). A shorter packet becomes
/// empty.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Strip: Element, PacketAction {
    var amount = 0

    public override func configure(_ args: inout Arguments) {
        amount = args.mandatory("LENGTH", .unsignedInteger) ?? 0
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.pull(min(amount, packet.length))
        return 0
    }

}
