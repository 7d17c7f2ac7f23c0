import ClickLanguage
import ClickRuntime

/// TimedSink([INTERVAL])
///
/// Pulls one packet every INTERVAL seconds (default 0.5) and drops it.
///
/// Ports: 1 pull input. Handlers: `count` (read), `interval` (read/write).
public final class TimedSink: Element {
    public override var portCount: String { "1/0" }
    public override var processing: String { "l/a" }
    var interval: Int64 = 500_000_000
    public private(set) var count = 0
    var timer: Timer?

    public override func configure(_ args: inout Arguments) {
        interval = args.positional("INTERVAL", .timestamp) ?? 500_000_000
        if interval <= 0 { args.error("must be positive", keyword: "INTERVAL") }
    }

    public override func initialize() throws(ElementError) {
        let t = makeTimer()
        timer = t
        t.schedule(after: interval)
    }

    public override func cleanup() { timer?.unschedule() }

    public override func runTimer(_ timer: Timer) {
        withScratchBatch { batch in
            input(0, into: &batch, max: 1)
            count &+= batch.count
            batch.killAll()
        }
        timer.schedule(after: interval)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.positiveInterval("interval", get: { [unowned self] in self.interval }, set: { [unowned self] v in self.interval = v })
    }
}
