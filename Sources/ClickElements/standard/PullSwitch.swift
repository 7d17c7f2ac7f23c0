import ClickLanguage
import ClickRuntime

/// PullSwitch([INPUT]) — and SimplePullSwitch([INPUT])
///
/// Pulls only from input INPUT (-1: none). PullSwitch is an empty notifier, as Click's: its
/// signal follows the chosen input's upstream notifiers (always active when that input has
/// none, never with -1), so a puller behind it sleeps while the chosen input is empty and
/// wakes when the switch or the input changes. SimplePullSwitch has no notifier.
///
/// Ports: any number of pull inputs, 1 pull output. Handlers: `switch` (read/write).
public class SimplePullSwitch: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "l/l" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.positional("INPUT", .integer) ?? 0
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        if chosen >= 0 && chosen < ninputs { input(chosen, into: &batch, max: max) }
    }

    /// A new choice (the `switch` handler).
    func choose(_ input: Int) { chosen = input }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("switch", get: { [unowned self] in self.chosen }, set: { [unowned self] v in self.choose(v) })
    }
}

public final class PullSwitch: SimplePullSwitch, EmptyNotifier {
    public let emptySignal = NotifierSignal(active: true)
    /// Per input, its upstream notifiers (nil: it may always have packets).
    var upstream: [UpstreamSignal?] = []

    public override func initialize() throws(ElementError) {
        upstream = (0..<ninputs).map { upstreamEmptySignal($0) }
        // Any input waking wakes the puller, which finds out by pulling.
        for s in upstream { s?.addDependent(emptySignal) }
        // As Click's: active with an input chosen, until a pull finds it empty.
        emptySignal.set(chosen >= 0 && chosen < ninputs)
    }

    var chosenMayHavePackets: Bool {
        guard chosen >= 0 && chosen < ninputs else { return false }
        return upstream[chosen]?.isActive ?? true
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let before = batch.count
        super.pull(port: port, into: &batch, max: max)
        if batch.count == before && !chosenMayHavePackets { emptySignal.set(false) }
    }

    override func choose(_ input: Int) {
        super.choose(input)
        emptySignal.set(chosenMayHavePackets)
    }
}
