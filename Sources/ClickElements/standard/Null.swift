import ClickLanguage
import ClickRuntime

/// Null
///
/// Passes packets through unchanged.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Null: Element {

    public override func push(port: Int, _ batch: inout PacketBatch) { output(0, &batch) }
    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) { input(0, into: &batch, max: max) }
}
