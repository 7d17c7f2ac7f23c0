import ClickLanguage
import ClickRuntime

/// RandomSwitch
///
/// Sends each packet to an output chosen uniformly at random.
///
/// Ports: 1 input, 1 or more outputs, push.
public final class RandomSwitch: Element, PacketAction {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        Int(router.random.clickRandom(0, UInt32(noutputs - 1)))
    }

}
