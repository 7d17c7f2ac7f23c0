import ClickLanguage
import ClickRuntime

/// Discard([ACTIVE, BURST])
///
/// Drops every packet it receives. In pull context it runs a task that pulls whenever
/// upstream says packets are available (BURST per run, default 1; ACTIVE default true).
///
/// Ports: 1 input, agnostic; no outputs.
///
/// Handlers: `count` (read), `reset_counts` (write), `active` (read/write, only when
/// pulling).
public final class Discard: Element {
    public override var portCount: String { "1/0" }
    public override var processing: String { "a/a" }

    public private(set) var count = 0
    var active = true
    var burst = 1
    var task: Task?
    var signal: UpstreamSignal?
    let storage = BatchStorage()

    public override func configure(_ args: inout Arguments) {
        active = args.keyword("ACTIVE", .bool) ?? true
        burst = args.keyword("BURST", .unsignedInteger) ?? 1
        if burst < 1 { args.error("must be at least 1", keyword: "BURST") }
    }

    public override func initialize() throws(ElementError) {
        if inputIsPull(0) {
            (task, signal) = startPulling(scheduled: active)
        }
    }

    public override func cleanup() {
        task?.unschedule()
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        count &+= batch.count
        batch.killAll()
    }

    public override func runTask(_ task: Task) -> Bool {
        // A notifier may wake an inactive Discard: it goes back to sleep without pulling.
        guard active else {
            task.unschedule()
            return false
        }
        var batch = storage.batch()
        input(0, into: &batch, max: min(burst, storage.capacity))
        let got = batch.count
        count &+= got
        batch.killAll()
        if got == 0, let signal, !signal.isActive { task.unschedule() }
        return got > 0
    }

    public override func takeState(from old: Element) {
        if let old = old as? Discard { count = old.count }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.write("reset_counts") { [unowned self] _ in self.count = 0 }
        if inputIsPull(0) {
            h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
                self.active = v
                if v { self.task?.schedule() }
            })
        }
    }
}
