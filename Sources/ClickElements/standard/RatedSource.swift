import ClickLanguage
import ClickRuntime

/// RatedSource([DATA, RATE, LIMIT, ACTIVE, *keywords* LENGTH, STOP, BANDWIDTH])
///
/// Generates packets with contents DATA at RATE packets per second (default 10), or at
/// BANDWIDTH (bytes per second) if given, until LIMIT packets (default no limit); then,
/// with STOP true, stops the driver. Timer-driven: between packets the router sleeps.
/// In pull context it answers pulls no faster than the rate.
///
/// Ports: no inputs, 1 output, agnostic.
///
/// Handlers: `count` (read), `reset` (write), `rate`, `limit`, `active`, `data`, `length`
/// (read/write).
public final class RatedSource: Element {
    public override var portCount: String { "0/1" }
    public override var processing: String { "a/a" }

    var data = InfiniteSource.defaultData
    var rate: UInt32 = 10
    var limit = -1
    var active = true
    var stop = false
    public private(set) var count = 0
    var bucket = TokenBucket()
    var timer: Timer?

    public override func configure(_ args: inout Arguments) {
        var d = args.positional("DATA", .bytes) ?? InfiniteSource.defaultData
        let r = args.positional("RATE", .unsignedInteger)
        limit = args.positional("LIMIT", .integer) ?? -1
        active = args.positional("ACTIVE", .bool) ?? true
        let lengthGiven = args.keyword("LENGTH", .integer)
        if let length = lengthGiven { d = InfiniteSource.resized(d, to: length, &args) }
        stop = args.keyword("STOP", .bool) ?? false
        let bandwidth = args.keyword("BANDWIDTH", .bandwidth)
        data = d
        if let r { rate = UInt32(clamping: r) }
        var burst = Self.burst(rate)
        if let bandwidth, bandwidth >= 1 {
            // As Click: the rate in whole packets, a burst of at least two packets' bytes.
            rate = UInt32(clamping: UInt64(min(bandwidth, 4e9)) / UInt64(max(d.count, 1)))
            burst = Self.burst(rate)
            if let length = lengthGiven, burst < 2 * length { burst = UInt32(clamping: 2 * length) }
        }
        bucket.assign(rate: rate, capacity: burst)
    }

    /// Click's burst for a packet rate: two packets, or 10 ms of the rate.
    static func burst(_ rate: UInt32) -> UInt32 { rate < 200 ? 2 : rate / 100 }

    public override func initialize() throws(ElementError) {
        bucket.set(1)
        if outputIsPush(0) {
            let t = makeTimer()
            timer = t
            if active { t.schedule(after: 0) }
        }
    }

    public override func cleanup() { timer?.unschedule() }

    func make() -> Packet? {
        guard let p = pool.make(data) else { return nil }
        p.timestamp = routerNow()
        return p
    }

    public override func runTimer(_ timer: Timer) {
        guard active else { return }
        if limit >= 0 && count >= limit {
            if stop { router.requestStop() }
            return
        }
        bucket.refill(at: TokenBucket.jiffies(routerNow()))
        withScratchBatch { batch in
            while !batch.isFull && (limit < 0 || count < limit) && bucket.removeIf(1), let p = make() {
                batch.append(p)
                count &+= 1
            }
            output(0, &batch)
        }
        if limit >= 0 && count >= limit {
            // As with InfiniteSource, the stop comes one step after the last packet.
            timer.schedule(after: 0)
        } else if bucket.contains(1) {
            timer.schedule(after: 0)
        } else {
            let wait = bucket.timeUntilContains(1)
            if wait != .max { timer.schedule(after: Int64(wait) * 1_000_000) }
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        guard active, limit < 0 || count < limit else { return }
        bucket.refill(at: TokenBucket.jiffies(routerNow()))
        if !batch.isFull, bucket.removeIf(1), let p = make() {
            batch.append(p)
            count &+= 1
        }
    }

    public override func takeState(from old: Element) {
        if let old = old as? RatedSource { count = old.count }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.write("reset") { [unowned self] _ in
            self.count = 0
            self.bucket.set(1)
            self.timer?.schedule(after: 0)
        }
        h.readWrite("rate", read: { [unowned self] in "\(self.bucket.rate)" }, write: { [unowned self] (t: String) throws(ElementError) in
            let r = UInt32(clamping: try ValueType.unsignedInteger.written(t))
            self.rate = r
            self.bucket.assignAdjusting(rate: r, capacity: Self.burst(r))
            self.timer?.schedule(after: 0)
        })
        h.integer("limit", get: { [unowned self] in self.limit }, set: { [unowned self] n in
            self.limit = n
            self.timer?.schedule(after: 0)
        })
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            if v, !self.active || !(self.timer?.isScheduled ?? true) { self.bucket.set(1) }
            self.active = v
            if v { self.timer?.schedule(after: 0) }
        })
        h.readWrite("data", read: { [unowned self] in String(decoding: self.data, as: UTF8.self) }, write: { [unowned self] t in
            self.data = ConfigText.unquoteBytes(t)
        })
        h.integer("length", get: { [unowned self] in self.data.count })
    }
}
