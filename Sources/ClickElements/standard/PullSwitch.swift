import ClickLanguage
import ClickRuntime

/// PullSwitch([INPUT]) — and SimplePullSwitch([INPUT])
///
/// Pulls only from input INPUT (-1: none).
///
/// Ports: any number of pull inputs, 1 pull output. Handlers: `switch` (read/write).
public class PullSwitch: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "l/l" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.positional("INPUT", .integer) ?? 0
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        if chosen >= 0 && chosen < ninputs { input(chosen, into: &batch, max: max) }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("switch", get: { [unowned self] in self.chosen }, set: { [unowned self] v in self.chosen = v })
    }
}

public final class SimplePullSwitch: PullSwitch {
}
