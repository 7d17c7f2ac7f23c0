import ClickLanguage
import ClickRuntime

/// InputSwitch([INPUT])
///
/// Only packets from input INPUT pass (to output 0); others are dropped (-1: none pass).
///
/// Ports: any number of inputs, 1 output, push. Handlers: `switch` (read/write).
public final class InputSwitch: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "h/h" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.positional("INPUT", .integer) ?? 0
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        if port == chosen { output(0, &batch) } else { batch.killAll() }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("switch", get: { [unowned self] in self.chosen }, set: { [unowned self] v in self.chosen = v })
    }
}
