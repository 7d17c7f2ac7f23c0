import ClickLanguage
import ClickRuntime

/// Bypass([ACTIVE, *keywords* INLINE])
///
/// Path switching. Inactive (ACTIVE false, the default), a push Bypass emits packets on
/// output 0, like Null; active, it emits packets from input 0 on output 1 (when there is
/// one). Packets arriving on input 1 always leave by output 0, so that output 1 can lead
/// through a detour back into the Bypass. In pull context the same holds for pulls: an
/// active Bypass pulls output 0's packets from input 1, an inactive one from input 0.
/// (Click also splices an inactive Bypass out of the path for zero overhead unless
/// INLINE is true; here it always stays in the path, with the same packets as a result.)
///
/// Ports: 1 or 2 inputs, 1 or 2 outputs, agnostic.
///
/// Handlers: `active` (read/write).
public final class Bypass: Element {
    public override var portCount: String { "1-2/1-2" }
    public override var flowCode: String { "xy/[xy]x" }
    var active = false

    public override func configure(_ args: inout Arguments) {
        active = args.positional("ACTIVE", .bool) ?? false
        _ = args.keyword("INLINE", .bool)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        output(active && port == 0 && noutputs > 1 ? 1 : 0, &batch)
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        input(active && port == 0 && ninputs > 1 ? 1 : 0, into: &batch, max: max)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in self.active = v })
    }
}
