import ClickLanguage
import ClickRuntime

/// CheckLength(LENGTH)
///
/// Sends packets longer than LENGTH bytes to output 1 (or drops them without output 1);
/// the others go on to output 0.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
public final class CheckLength: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var maximum = 0

    public override func configure(_ args: inout Arguments) {
        maximum = args.mandatory("LENGTH", .unsignedInteger) ?? 0
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.length > maximum ? 1 : 0
    }
}
