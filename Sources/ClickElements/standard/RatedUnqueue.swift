import ClickLanguage
import ClickRuntime

/// RatedUnqueue(RATE [, *keywords* BURST_DURATION, BURST_SIZE])
///
/// Pulls packets from its input and pushes them out at no more than RATE packets per
/// second, one per task run, with Click's token bucket: it holds BURST_SIZE tokens
/// (default: BURST_DURATION, 20 ms, of RATE) and refills every millisecond. Sleeps while
/// upstream is empty and until the next token.
///
/// Ports: 1 pull input, 1 push output.
///
/// Handlers: `rate` (read/write), `count` (read), `calls` (read: task runs, empty runs,
/// pushes and failed pulls), `active` (read/write), `scheduled` (read).
public class RatedUnqueue: Element {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/h" }
    var burst = RatedBurst()
    public private(set) var count = 0
    var bucket = TokenBucket()
    var task: Task?
    var timer: Timer?
    var signal: UpstreamSignal?
    var active = true
    var runs = 0, emptyRuns = 0, failedPulls = 0

    var isBandwidth: Bool { false }
    /// The tokens the bucket must hold before a pull.
    var threshold: UInt32 { 1 }
    /// Tokens per packet: 1, or the packet length for the bandwidth variant.
    func cost(_ p: Packet) -> UInt32 { 1 }

    public override func configure(_ args: inout Arguments) {
        let rate = UInt32(clamping: UInt64(max(0, min(readRate(&args, bandwidth: isBandwidth), 4e9))))
        burst = readBurst(&args, bandwidth: isBandwidth)
        bucket.assign(rate: rate, capacity: burst.capacity(rate: rate))
    }

    public override func initialize() throws(ElementError) {
        timer = makeTimer()
        (task, signal) = startPulling()
    }

    public override func cleanup() {
        task?.unschedule()
        timer?.unschedule()
    }

    public override func runTask(_ task: Task) -> Bool {
        runs &+= 1
        guard active else {
            task.unschedule()
            return false
        }
        bucket.refill(at: TokenBucket.jiffies(routerNow()))
        guard bucket.contains(threshold) else {
            task.unschedule()
            timer?.schedule(after: Int64(bucket.timeUntilContains(threshold)) * 1_000_000)
            emptyRuns &+= 1
            return false
        }
        var worked = false
        withScratchBatch { batch in
            input(0, into: &batch, max: 1)
            if batch.count > 0 {
                bucket.remove(cost(batch[0]))
                count &+= 1
                worked = true
                output(0, &batch)
            }
        }
        if !worked {
            failedPulls &+= 1
            emptyRuns &+= 1
            if let signal, !signal.isActive { task.unschedule() }
        }
        return worked
    }

    public override func runTimer(_ timer: Timer) { task?.schedule() }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.read("calls") { [unowned self] in
            "\(self.runs) calls to run_task()\n\(self.emptyRuns) empty runs\n\(self.count) pushes\n\(self.failedPulls) failed pulls\n"
        }
        h.bucketRate(bandwidth: isBandwidth, get: { [unowned self] in self.bucket.rate }, set: { [unowned self] r in
            self.bucket.assign(rate: r, capacity: self.burst.capacity(rate: r))
        })
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            if v { self.task?.schedule() }
        })
        h.boolean("scheduled", get: { [unowned self] in self.task?.isScheduled ?? false })
    }
}

/// BandwidthRatedUnqueue(RATE [, *keywords* BURST_DURATION, BURST_BYTES])
///
/// RatedUnqueue with RATE in bytes per second (bandwidth syntax, e.g. `1Mbps`), each
/// packet costing its length. As in Click, a packet goes while the bucket holds 128 kB
/// (131072 bytes), which the bucket holds beyond BURST_BYTES (default: BURST_DURATION of
/// RATE).
///
/// Ports: 1 pull input, 1 push output.
///
/// Handlers: `rate` (read/write), `count` (read), `calls` (read), `active` (read/write),
/// `scheduled` (read).
public final class BandwidthRatedUnqueue: RatedUnqueue {
    override func cost(_ p: Packet) -> UInt32 { UInt32(p.length) }
    override var threshold: UInt32 { RatedBurst.bandwidthThreshold }
    override var isBandwidth: Bool { true }
}
