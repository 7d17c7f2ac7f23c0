import ClickLanguage
import ClickRuntime

/// Idle
///
/// Has any number of inputs and outputs; never emits a packet and discards what it
/// receives. Useful to close ports that must be connected.
///
/// Ports: any / any, agnostic; flow code `x/y` (inputs reach no outputs).
public final class Idle: Element {
    public override var className: String { "Idle" }
    public override var portCount: String { "-/-" }
    public override var processing: String { "a/a" }
    public override var flowCode: String { "x/y" }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        batch.killAll()
    }
}
