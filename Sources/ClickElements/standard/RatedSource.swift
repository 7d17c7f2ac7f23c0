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
    var rate = 10.0
    var limit = -1
    var active = true
    var stop = false
    public private(set) var count = 0
    var bucket = TokenBucket(rate: 10, capacity: 1, now: 0)
    var timer: Timer?

    public override func configure(_ args: inout Arguments) {
        var d = args.positional("DATA", .bytes) ?? InfiniteSource.defaultData
        let r = args.positional("RATE", .unsignedInteger)
        limit = args.positional("LIMIT", .integer) ?? -1
        active = args.positional("ACTIVE", .bool) ?? true
        if let length = args.keyword("LENGTH", .integer) { d = InfiniteSource.resized(d, to: length, &args) }
        stop = args.keyword("STOP", .bool) ?? false
        let bandwidth = args.keyword("BANDWIDTH", .bandwidth)
        data = d
        if let bandwidth, bandwidth > 0 { rate = (bandwidth / Double(max(d.count, 1))).rounded(.down) } else if let r { rate = Double(r) }
    }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: max(1, rate / 50), now: router.clock.now())
        if outputIsPush(0) {
            let t = makeTimer()
            timer = t
            if active { t.schedule(after: 0) }
        }
    }

    public override func cleanup() { timer?.unschedule() }

    func make() -> Packet? {
        guard let p = pool.make(data) else { return nil }
        p.timestamp = router.clock.now()
        return p
    }

    public override func runTimer(_ timer: Timer) {
        guard active else { return }
        if limit >= 0 && count >= limit {
            if stop { router.requestStop() }
            return
        }
        let now = router.clock.now()
        bucket.refill(now)
        withScratchBatch { batch in
            while bucket.tokens >= 1 && !batch.isFull && (limit < 0 || count < limit), let p = make() {
                bucket.tokens -= 1
                batch.append(p)
                count &+= 1
            }
            output(0, &batch)
        }
        if limit >= 0 && count >= limit {
            // As with InfiniteSource, the stop comes one step after the last packet.
            timer.schedule(after: 0)
        } else {
            // At high rates, wake once per ~50 µs worth of tokens rather than per packet:
            // the average rate is kept and the thread is not woken 100,000 times a second.
            timer.schedule(after: max(bucket.wait(for: min(bucket.capacity, max(1, rate * 50e-6))), 1_000))
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        guard active, limit < 0 || count < limit else { return }
        bucket.refill(router.clock.now())
        if bucket.tokens >= 1, !batch.isFull, let p = make() {
            bucket.tokens -= 1
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
            self.timer?.schedule(after: 0)
        }
        h.readWrite("rate", read: { [unowned self] in formatNumber(self.rate) }, write: { [unowned self] (t: String) throws(ElementError) in
            let r = Double(try ValueType.unsignedInteger.written(t))
            self.rate = r
            self.bucket.rate = r
            self.bucket.capacity = Swift.max(1, r / 50)
            self.timer?.schedule(after: 0)
        })
        h.integer("limit", get: { [unowned self] in self.limit }, set: { [unowned self] n in
            self.limit = n
            self.timer?.schedule(after: 0)
        })
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            if v { self.timer?.schedule(after: 0) }
        })
        h.readWrite("data", read: { [unowned self] in String(decoding: self.data, as: UTF8.self) }, write: { [unowned self] t in
            self.data = ConfigText.unquoteBytes(t)
        })
        h.integer("length", get: { [unowned self] in self.data.count })
    }
}
