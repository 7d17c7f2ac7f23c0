import ClickLanguage
import ClickRuntime

/// TimedSource([INTERVAL, DATA, *keywords* LIMIT, STOP, ACTIVE])
///
/// Pushes one packet with contents DATA (default "Random bullshit in a packet.") every
/// INTERVAL seconds (default 0.5), until LIMIT packets; then, with STOP true, stops the
/// driver.
///
/// Ports: no inputs, 1 output, push. Handlers: `count` (read), `interval`, `active`
/// (read/write).
public final class TimedSource: Element {
    public override var portCount: String { "0/1" }
    public override var processing: String { "h/h" }
    var intervalNanoseconds: Int64 = 500_000_000
    var data = Array("Random bullshit in a packet.".utf8)
    var limit = -1
    var stop = false
    var active = true
    public private(set) var count = 0
    var timer: Timer?

    public override func configure(_ args: inout Arguments) {
        intervalNanoseconds = args.positional("INTERVAL", .timestamp) ?? 500_000_000
        data = args.positional("DATA", .bytes) ?? data
        limit = args.keyword("LIMIT", .integer) ?? -1
        stop = args.keyword("STOP", .bool) ?? false
        active = args.keyword("ACTIVE", .bool) ?? true
        if intervalNanoseconds <= 0 { args.error("must be positive", keyword: "INTERVAL") }
    }

    public override func initialize() throws(ElementError) {
        let t = makeTimer()
        timer = t
        if active { t.schedule(after: intervalNanoseconds) }
    }

    public override func cleanup() { timer?.unschedule() }

    public override func runTimer(_ timer: Timer) {
        guard active else { return }
        if limit >= 0 && count >= limit {
            if stop { router.requestStop() }
            return
        }
        if let p = pool.make(data) {
            p.timestamp = routerNow()
            count &+= 1
            output(0, single: p)
        }
        timer.schedule(after: limit >= 0 && count >= limit ? 0 : intervalNanoseconds)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.positiveInterval("interval", get: { [unowned self] in self.intervalNanoseconds }, set: { [unowned self] v in
            self.intervalNanoseconds = v
        })
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            if v { self.timer?.schedule(after: self.intervalNanoseconds) }
        })
    }
}
