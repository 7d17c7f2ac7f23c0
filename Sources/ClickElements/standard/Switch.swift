import ClickLanguage
import ClickRuntime

/// Switch([OUTPUT])
///
/// Sends every packet to output OUTPUT (default 0); -1 drops them. The `switch` handler
/// changes the output while running.
///
/// Ports: 1 input, any number of outputs, push. Handlers: `switch` (read/write).
public final class Switch: Element {
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.positional("OUTPUT", .integer) ?? 0
        if chosen >= noutputs { chosen = -1 }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        if chosen >= 0 && chosen < noutputs { output(chosen, &batch) } else { batch.killAll() }
    }

    public override var canLiveReconfigure: Bool { true }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("switch", get: { [unowned self] in self.chosen }, set: { [unowned self] v in
            self.chosen = v < self.noutputs ? v : -1
        })
    }
}
