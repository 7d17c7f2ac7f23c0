import ClickLanguage
import ClickRuntime

/// RoundRobinSwitch
///
/// Sends packets to its outputs in turn.
///
/// Ports: 1 input, 1 or more outputs, push.
public final class RoundRobinSwitch: Element, PacketAction {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }
    var next = 0

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        let o = next
        next += 1
        if next >= noutputs { next = 0 }
        return o
    }

}
