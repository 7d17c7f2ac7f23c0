import ClickLanguage
import ClickRuntime

/// DelayShaper(DELAY)
///
/// A pull element that lets each packet through no earlier than its timestamp plus DELAY
/// seconds (a packet without a timestamp gets the current time when pulled); the packet's
/// timestamp becomes the delayed time. Holds at most one packet. It is an empty notifier:
/// inactive while the held packet is not yet due, so the puller sleeps until it is.
///
/// Ports: 1 pull input, 1 pull output. Handlers: `delay` (read/write).
public final class DelayShaper: Element, EmptyNotifier {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/l" }
    public let emptySignal = NotifierSignal(active: true)
    var delay: Int64 = 0
    var held: Packet?
    var timer: Timer?
    var upstream: UpstreamSignal?

    public override func configure(_ args: inout Arguments) {
        delay = args.mandatory("DELAY", .timestamp) ?? 0
    }

    public override func initialize() throws(ElementError) {
        timer = makeTimer()
        upstream = upstreamEmptySignal(0)
        upstream?.addDependent(emptySignal)
    }

    public override func cleanup() {
        timer?.unschedule()
        held?.kill()
        held = nil
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let now = routerNow()
        var got = 0
        while got < max && !batch.isFull {
            if held == nil {
                let before = batch.count
                input(0, into: &batch, max: 1)
                guard batch.count > before else { break }
                let p = batch[before]
                batch.count = before
                // As Click's: a timestamp in the first second counts as unset.
                if p.timestamp < 1_000_000_000 { p.timestamp = now }
                p.timestamp = p.timestamp.saturatingAdd(delay)
                held = p
            }
            guard let p = held else { break }
            if p.timestamp > now {
                timer?.schedule(at: p.timestamp)
                emptySignal.set(false)
                return
            }
            held = nil
            batch.append(p)
            got += 1
        }
        if got == 0, held == nil, let upstream, !upstream.isActive { emptySignal.set(false) }
    }

    public override func runTimer(_ timer: Timer) { emptySignal.set(true) }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.interval("delay", get: { [unowned self] in self.delay }, set: { [unowned self] v in self.delay = v })
    }
}
