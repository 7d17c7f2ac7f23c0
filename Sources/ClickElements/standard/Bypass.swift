import ClickLanguage
import ClickRuntime

/// Bypass([ACTIVE])
///
/// Packets go to output 1 while ACTIVE (default false), to output 0 otherwise.
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `active` (read/write).
public final class Bypass: Element {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/h" }
    var active = false

    public override func configure(_ args: inout Arguments) {
        active = args.positional("ACTIVE", .bool) ?? false
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        output(active && noutputs > 1 ? 1 : 0, &batch)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in self.active = v })
    }
}
