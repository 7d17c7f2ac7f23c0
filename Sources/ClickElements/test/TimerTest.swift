import ClickLanguage
import ClickRuntime

/// TimerTest([*keywords* DELAY, SCHEDULE, BENCHMARK])
///
/// Click's test of timers: one timer that, when it fires, prints `TIME: NAME :: TimerTest
/// fired` (TIME its expiry). With DELAY (a time) or SCHEDULE true it is scheduled DELAY
/// after configuration. BENCHMARK (Click's timer benchmark count) is accepted and has no
/// effect here; `Benchmarks/` measures this project's timers.
///
/// Ports: none.
///
/// Handlers: `scheduled` (read/write: true schedules the timer at its last expiry, false
/// unschedules it), `expiry` (read: the time it was last scheduled for),
/// `schedule_after` (write: a time from now), `unschedule` (write).
public final class TimerTest: Element {
    public override var portCount: String { "0/0" }
    var delay: Int64 = 0
    var scheduleAtStart = false
    var timer: Timer?

    public override func configure(_ args: inout Arguments) {
        _ = args.keyword("BENCHMARK", .integer)
        delay = args.keyword("DELAY", .timestamp) ?? 0
        scheduleAtStart = args.keyword("SCHEDULE", .bool) ?? false
    }

    public override func initialize() throws(ElementError) {
        let timer = makeTimer()
        self.timer = timer
        if scheduleAtStart || delay > 0 { timer.schedule(after: delay) }
    }

    public override func runTimer(_ timer: Timer) {
        router.chatter("\(formatTimestamp(timer.expiry)): \(declaration) fired")
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.readWrite("scheduled", read: { [unowned self] in (self.timer?.isScheduled ?? false) ? "true" : "false" },
                    write: { [unowned self] (text: String) throws(ElementError) in
            guard let on = BoolValue.parse(text.trimmingCharacters()) else { throw ElementError("syntax error") }
            guard let timer = self.timer else { return }
            if on { timer.schedule(at: timer.expiry) } else { timer.unschedule() }
        })
        h.read("expiry") { [unowned self] in formatTimestamp(self.timer?.expiry ?? 0) }
        h.write("schedule_after") { [unowned self] (text: String) throws(ElementError) in
            guard let delay = ValueType<Int64>.timestamp.parse(text.trimmingCharacters(), ValueContext(elementName: self.name, addressNames: self.router.addressNames))
            else { throw ElementError("syntax error") }
            self.timer?.schedule(after: delay)
        }
        h.write("unschedule") { [unowned self] _ in self.timer?.unschedule() }
    }
}
