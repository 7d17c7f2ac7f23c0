import ClickLanguage
import ClickRuntime

/// A token bucket over router time: `rate` tokens per second, at most `capacity` banked.
struct TokenBucket {
    var rate: Double
    var capacity: Double
    var tokens: Double
    var last: Int64

    init(rate: Double, capacity: Double, now: Int64) {
        self.rate = rate
        self.capacity = max(capacity, 1)
        self.tokens = min(1, self.capacity)
        self.last = now
    }

    mutating func refill(_ now: Int64) {
        if now > last {
            tokens = min(capacity, tokens + Double(now - last) * rate / 1e9)
            last = now
        }
    }

    /// Nanoseconds until `n` tokens are available (Int64.max at a rate of 0: never).
    func wait(for n: Double) -> Int64 {
        if tokens >= n { return 0 }
        if rate <= 0 { return Int64.max }
        return ClickRanges.nanoseconds(seconds: ((n - tokens) / rate).nextUp)
    }
}

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

extension HandlerSet {
    /// A read/write handler for a rate: packets per second (an unsigned 32-bit integer,
    /// as in Click) or, with `bandwidth`, bytes per second in bandwidth syntax.
    mutating func rate(_ name: String, bandwidth: Bool, get: @escaping () -> Double, set: @escaping (Double) -> Void) {
        readWrite(name, read: { formatNumber(get()) }, write: { (t: String) throws(ElementError) in
            set(bandwidth ? try ValueType.bandwidth.written(t) : Double(try ValueType.unsignedInteger.written(t)))
        })
    }

    /// A read/write handler for an Ethernet address.
    mutating func etherAddress(_ name: String, get: @escaping () -> EtherAddress, set: @escaping (EtherAddress) -> Void) {
        readWrite(name, read: { get().description }, write: { (t: String) throws(ElementError) in
            guard let a = EtherAddress.parse(t.trimmingCharacters()) else { throw ElementError("expected Ethernet address") }
            set(a)
        })
    }
}

func formatNumber(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}

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
            p.timestamp = router.clock.now()
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
        // As Click: a burst given as a duration (milliseconds in 32 bits) or as a size in
        // tokens (BURST_BYTES for the bandwidth variant), not both.
        let duration = args.keyword("BURST_DURATION", .seconds(fractionDigits: 3))
        let size = args.keyword(isBandwidth ? "BURST_BYTES" : "BURST_SIZE", .unsignedInteger)
        if duration != nil && size != nil {
            args.error("cannot specify both BURST_DURATION and \(isBandwidth ? "BURST_BYTES" : "BURST_SIZE")")
        }
        let tokens = size.map(Double.init) ?? (rate * Double(duration ?? 20_000_000) / 1e9).rounded(.down)
        burstSize = min(max(1, tokens), Double(UInt32.max))
    }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: burstSize, now: router.clock.now())
        let t = makeTask()
        task = t
        timer = makeTimer()
        signal = upstreamEmptySignal(0)
        signal?.addListener(t)
        t.schedule()
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

extension Element {
    /// The mandatory RATE of the rated elements: packets per second as an unsigned 32-bit
    /// integer, or bytes per second in bandwidth syntax.
    func readRate(_ args: inout Arguments, bandwidth: Bool) -> Double {
        bandwidth ? args.mandatory("RATE", .bandwidth) ?? 0 : Double(args.mandatory("RATE", .unsignedInteger) ?? 0)
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

/// Shaper(RATE) — and BandwidthShaper(RATE)
///
/// A pull element that lets at most RATE packets per second (BandwidthShaper: bytes per
/// second) through: a pull when no token is available returns nothing.
///
/// Ports: 1 pull input, 1 pull output. Handlers: `rate` (read/write).
public class Shaper: Element {
    public override var portCount: String { "1/1" }
    public override var processing: String { "l/l" }
    var rate = 0.0
    var bucket = TokenBucket(rate: 1, capacity: 1, now: 0)
    func cost(_ p: Packet) -> Double { 1 }
    var isBandwidth: Bool { false }

    public override func configure(_ args: inout Arguments) {
        rate = readRate(&args, bandwidth: isBandwidth)
    }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: max(1, rate / 50), now: router.clock.now())
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        bucket.refill(router.clock.now())
        var n = 0
        while n < max && bucket.tokens >= 1 && !batch.isFull {
            let before = batch.count
            input(0, into: &batch, max: 1)
            if batch.count == before { return }
            bucket.tokens -= cost(batch[before])
            n += 1
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.rate("rate", bandwidth: isBandwidth, get: { [unowned self] in self.rate }, set: { [unowned self] r in
            self.rate = r
            self.bucket.rate = r
        })
    }
}

public final class BandwidthShaper: Shaper {
    override func cost(_ p: Packet) -> Double { Double(p.length) }
    override var isBandwidth: Bool { true }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: max(2048, rate / 50), now: router.clock.now())
    }
}

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

/// RoundRobinSched — and PrioSched
///
/// Pull schedulers over any number of inputs: RoundRobinSched pulls from each input in
/// turn (starting after the last that gave a packet); PrioSched always tries input 0
/// first, then 1, and so on.
///
/// Ports: any number of pull inputs, 1 pull output.
public final class RoundRobinSched: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "l/l" }
    var next = 0

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        guard ninputs > 0 else { return }
        var got = 0
        var tried = 0
        while got < max && tried < ninputs && !batch.isFull {
            let before = batch.count
            input(next, into: &batch, max: 1)
            next = (next + 1) % ninputs
            if batch.count > before {
                got += 1
                tried = 0
            } else {
                tried += 1
            }
        }
    }
}

public final class PrioSched: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "l/l" }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        for i in 0..<ninputs {
            let before = batch.count
            input(i, into: &batch, max: max)
            if batch.count > before { return }
        }
    }
}
