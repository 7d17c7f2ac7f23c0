import ClickLanguage
import ClickRuntime

/// Idle
///
/// Has any number of inputs and outputs; never emits a packet and discards what it
/// receives. Useful to close ports that must be connected.
///
/// Ports: any / any, agnostic; flow code `x/y` (inputs reach no outputs). Its empty
/// notifier is never active, so pullers downstream sleep.
public final class Idle: Element, EmptyNotifier {
    public override var portCount: String { "-/-" }
    public override var processing: String { "a/a" }
    public override var flowCode: String { "x/y" }
    public let emptySignal = NotifierSignal(active: false)

    public override func push(port: Int, _ batch: inout PacketBatch) {
        batch.killAll()
    }

    /// Never has a packet.
    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {}
}
