import ClickLanguage
import ClickRuntime

/// Unqueue([BURST, *keywords* ACTIVE, LIMIT])
///
/// Pulls packets whenever they are available and pushes them out: the pull-to-push
/// converter. Pulls up to BURST packets per task run (default 1; 0 or less means "as
/// many as available"), stops after LIMIT packets if given, and sleeps while upstream is
/// empty.
///
/// Ports: 1 pull input, 1 push output.
///
/// Handlers: `count` (read), `reset` (write), `active`, `burst`, `limit` (read/write).
public final class Unqueue: Element {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/h" }

    var burst = 1
    var active = true
    var limit = -1
    public private(set) var count = 0
    var task: Task?
    var signal: UpstreamSignal?
    let storage = BatchStorage()

    public override func configure(_ args: inout Arguments) {
        burst = args.positional("BURST", .integer) ?? 1
        if burst <= 0 { burst = Int.max }
        active = args.keyword("ACTIVE", .bool) ?? true
        limit = args.keyword("LIMIT", .integer) ?? -1
    }

    public override func initialize() throws(ElementError) {
        (task, signal) = startPulling(scheduled: active)
    }

    public override func cleanup() { task?.unschedule() }

    /// The element's task (tests drive it directly).
    public var taskForTesting: Task? { task }

    public override func runTask(_ task: Task) -> Bool {
        guard active, limit < 0 || count < limit else {
            task.unschedule()
            return false
        }
        var want = burst
        if limit >= 0 { want = min(want, limit - count) }
        var moved = 0
        while want > 0 {
            var batch = storage.batch()
            input(0, into: &batch, max: min(want, batch.capacity))
            let n = batch.count
            if n == 0 { break }
            moved += n
            want -= n
            count &+= n
            output(0, &batch)
        }
        if moved == 0, let signal, !signal.isActive { task.unschedule() }
        return moved > 0
    }

    public override func takeState(from old: Element) {
        if let old = old as? Unqueue { count = old.count }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.write("reset") { [unowned self] _ in self.count = 0; self.task?.schedule() }
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            if v { self.task?.schedule() }
        })
        h.integer("burst", get: { [unowned self] in self.burst == Int.max ? 0 : self.burst }, set: { [unowned self] n in
            self.burst = n <= 0 ? Int.max : n
        })
        h.integer("limit", get: { [unowned self] in self.limit }, set: { [unowned self] n in
            self.limit = n
            self.task?.schedule()
        })
    }
}
