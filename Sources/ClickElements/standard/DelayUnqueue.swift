import ClickLanguage
import ClickRuntime

/// DelayUnqueue(DELAY)
///
/// Pulls packets and pushes each out no earlier than its timestamp plus DELAY seconds
/// (a packet without a timestamp, or one in the first second, gets the current time first); on output the timestamp
/// is the delayed time. Holds at most one packet; sleeps while upstream is empty and
/// until the held packet is due.
///
/// Ports: 1 pull input, 1 push output. Handlers: `delay` (read/write).
public final class DelayUnqueue: Element {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/h" }
    var delay: Int64 = 0
    var held: Packet?
    var task: Task?
    var timer: Timer?
    var signal: UpstreamSignal?

    public override func configure(_ args: inout Arguments) {
        delay = args.mandatory("DELAY", .timestamp) ?? 0
    }

    public override func initialize() throws(ElementError) {
        timer = makeTimer()
        (task, signal) = startPulling()
    }

    public override func cleanup() {
        task?.unschedule()
        timer?.unschedule()
        held?.kill()
        held = nil
    }

    public override func runTask(_ task: Task) -> Bool {
        let now = routerNow()
        var sent = 0
        while sent < 256 {
            if held == nil {
                withScratchBatch { batch in
                    input(0, into: &batch, max: 1)
                    if batch.count == 1 {
                        let p = batch[0]
                        // As Click's: a timestamp in the first second counts as unset.
                        if p.timestamp < 1_000_000_000 { p.timestamp = now }
                        p.timestamp = p.timestamp.saturatingAdd(delay)
                        held = p
                        batch.count = 0
                    }
                }
            }
            guard let p = held else {
                if let signal, !signal.isActive { task.unschedule() }
                return sent > 0
            }
            if p.timestamp > now {
                task.unschedule()
                timer?.schedule(at: p.timestamp)
                return sent > 0
            }
            held = nil
            output(0, single: p)
            sent += 1
        }
        return true
    }

    public override func runTimer(_ timer: Timer) { task?.schedule() }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.interval("delay", get: { [unowned self] in self.delay }, set: { [unowned self] v in self.delay = v })
    }
}
