import ClickLanguage
import ClickRuntime

/// RatedUnqueue(RATE [, *keywords* BURST_DURATION, BURST_SIZE])
///
/// Pulls packets from its input and pushes them out at no more than RATE packets per
/// second, with a token bucket holding BURST_SIZE tokens (default: BURST_DURATION, 20 ms,
/// worth of tokens). Sleeps while upstream is empty and between tokens.
///
/// Ports: 1 pull input, 1 push output. Handlers: `rate` (read/write), `count` (read).
public class RatedUnqueue: Element {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/h" }
    var rate = 0.0
    var burstSize = 0.0
    public private(set) var count = 0
    var bucket = TokenBucket(rate: 1, capacity: 1, now: 0)
    var task: Task?
    var timer: Timer?
    var signal: UpstreamSignal?
    /// Tokens per packet: 1, or the packet length for the bandwidth variant.
    func cost(_ p: Packet) -> Double { 1 }

    var isBandwidth: Bool { false }

    public override func configure(_ args: inout Arguments) {
        rate = readRate(&args, bandwidth: isBandwidth)
        burstSize = readBurst(&args, rate: rate, bandwidth: isBandwidth)
    }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: burstSize, now: router.clock.now())
        timer = makeTimer()
        (task, signal) = startPulling()
    }

    public override func cleanup() {
        task?.unschedule()
        timer?.unschedule()
    }

    public override func runTask(_ task: Task) -> Bool {
        bucket.refill(router.clock.now())
        var moved = 0
        withScratchBatch { batch in
            while bucket.tokens >= 1 && !batch.isFull {
                let before = batch.count
                input(0, into: &batch, max: 1)
                if batch.count == before { break }
                bucket.tokens -= cost(batch[batch.count - 1])
                moved += 1
            }
            count &+= batch.count
            output(0, &batch)
        }
        if bucket.tokens < 1 {
            task.unschedule()
            timer?.schedule(after: max(bucket.wait(for: 1), 1_000))
        } else if moved == 0, let signal, !signal.isActive {
            task.unschedule()
        }
        return moved > 0
    }

    public override func runTimer(_ timer: Timer) { task?.schedule() }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.rate("rate", bandwidth: isBandwidth, get: { [unowned self] in self.rate }, set: { [unowned self] r in
            self.rate = r
            self.bucket.rate = r
        })
    }
}

/// BandwidthRatedUnqueue(RATE [, *keywords* BURST_DURATION, BURST_BYTES])
///
/// RatedUnqueue with RATE in bytes per second (bandwidth syntax, e.g. `1Mbps`), each
/// packet costing its length; the bucket holds BURST_BYTES (default: BURST_DURATION worth).
///
/// Ports: 1 pull input, 1 push output. Handlers: `rate` (read/write), `count` (read).
public final class BandwidthRatedUnqueue: RatedUnqueue {
    override func cost(_ p: Packet) -> Double { Double(p.length) }
    override var isBandwidth: Bool { true }
}
