import ClickLanguage
import ClickRuntime

/// Null
///
/// Passes packets through unchanged.
///
/// Ports: 1 input, 1 output, agnostic.
public class Null: Element {

    public override func push(port: Int, _ batch: inout PacketBatch) { output(0, &batch) }
    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) { input(0, into: &batch, max: max) }
}

/// PushNull
///
/// Null in push context only: passes packets through unchanged.
///
/// Ports: 1 input, 1 output, push.
public final class PushNull: Null {
    public override var processing: String { "h/h" }
}

/// PullNull
///
/// Null in pull context only: passes pulled packets through unchanged.
///
/// Ports: 1 input, 1 output, pull.
public final class PullNull: Null {
    public override var processing: String { "l/l" }
}
