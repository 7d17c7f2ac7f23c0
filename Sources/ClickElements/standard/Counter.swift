import ClickLanguage
import ClickRuntime

/// Counter([*keywords* COUNT_CALL, BYTE_COUNT_CALL])
///
/// Counts the packets and bytes passing through. The rates are exponentially weighted
/// moving averages over one-second periods, updated once per batch. COUNT_CALL `N HANDLER
/// [VALUE]` calls a write handler when the count reaches N (before the Nth packet goes
/// on); BYTE_COUNT_CALL likewise for bytes.
///
/// Ports: 1 input, 1 output, agnostic.
///
/// Handlers: `count`, `byte_count`, `rate` (packets/s), `bit_rate`, `byte_rate` (read);
/// `reset_counts`, `reset` (write; `reset` re-arms the calls); `count_call`,
/// `byte_count_call` (read: the trigger count; write: a new `N HANDLER [VALUE]`).
public final class Counter: Element, PacketAction {
    public override var portCount: String { "1/1" }

    public private(set) var count = 0
    public private(set) var byteCount = 0
    /// COUNT_CALL and BYTE_COUNT_CALL: the count that triggers the call, and the call.
    /// A trigger fires once; `reset` (and setting the call again) re-arms it.
    var countCall: (at: Int, call: HandlerCall)? = nil
    var byteCountCall: (at: Int, call: HandlerCall)? = nil
    var countTriggered = false
    var byteCountTriggered = false
    /// True while a call is waiting for its count: the per-packet path checks only this.
    var callsArmed = false
    var rate = RateEstimator()
    var byteRate = RateEstimator()

    /// Parses `N HANDLER [VALUE]`.
    static func parseCall(_ text: String) -> (at: Int, call: HandlerCall)? {
        let (n, rest) = ConfigText.firstWord(text)
        guard let at = IntegerValue.parse(n, signed: false), let call = HandlerCall(rest) else { return nil }
        return (Int(at), call)
    }

    public override func configure(_ args: inout Arguments) {
        if let text = args.keyword("COUNT_CALL", .raw) {
            if let call = Self.parseCall(text) { countCall = call } else { args.error("expected 'N HANDLER [VALUE]'", keyword: "COUNT_CALL") }
        }
        if let text = args.keyword("BYTE_COUNT_CALL", .raw) {
            if let call = Self.parseCall(text) { byteCountCall = call } else { args.error("expected 'N HANDLER [VALUE]'", keyword: "BYTE_COUNT_CALL") }
        }
    }

    /// The calls' handlers must exist and be writable (Click checks them here too).
    public override func initialize() throws(ElementError) {
        try countCall?.call.initialize(in: router, context: self, write: true)
        try byteCountCall?.call.initialize(in: router, context: self, write: true)
        rearm()
    }

    private func rearm() {
        callsArmed = (countCall != nil && !countTriggered) || (byteCountCall != nil && !byteCountTriggered)
    }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        count &+= 1
        byteCount &+= packet.length
        if callsArmed { checkCalls() }
        return 0
    }

    /// Calls a handler when its count is reached, as Click does: the packet count must
    /// reach N exactly, the byte count N or more; a failing call is reported.
    private func checkCalls() {
        if let c = countCall, !countTriggered, count == c.at {
            countTriggered = true
            if let error = c.call.callWrite(in: router) { router.chatter("\(declaration): COUNT_CALL: \(error.message)") }
        }
        if let c = byteCountCall, !byteCountTriggered, byteCount >= c.at {
            byteCountTriggered = true
            if let error = c.call.callWrite(in: router) { router.chatter("\(declaration): BYTE_COUNT_CALL: \(error.message)") }
        }
        rearm()
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        let before = count, beforeBytes = byteCount
        pushThroughCounting(&batch)
        let now = recentRouterTime()
        rate.add(count - before, at: now)
        byteRate.add(byteCount - beforeBytes, at: now)
    }

    /// The counting loop, kept separate so that the common case stays tight.
    @inline(__always) func pushThroughCounting(_ batch: inout PacketBatch) {
        if !callsArmed {
            var bytes = 0
            for i in 0..<batch.count { bytes &+= batch[i].length }
            count &+= batch.count
            byteCount &+= bytes
            output(0, &batch)
        } else {
            pushThrough(&batch)
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let before = count, beforeBytes = byteCount
        pullThrough(into: &batch, max: max)
        if count != before {
            let now = recentRouterTime()
            rate.add(count - before, at: now)
            byteRate.add(byteCount - beforeBytes, at: now)
        }
    }

    public override func takeState(from old: Element) {
        guard let old = old as? Counter else { return }
        count = old.count
        byteCount = old.byteCount
        rate = old.rate
        byteRate = old.byteRate
    }

    func reset() {
        count = 0
        byteCount = 0
        rate = RateEstimator()
        byteRate = RateEstimator()
        countTriggered = false
        byteCountTriggered = false
        rearm()
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.integer("byte_count", get: { [unowned self] in self.byteCount })
        h.read("rate") { [unowned self] in self.rate.text(now: self.routerNow()) }
        h.read("byte_rate") { [unowned self] in self.byteRate.text(now: self.routerNow()) }
        h.read("bit_rate") { [unowned self] in self.byteRate.text(now: self.routerNow(), scale: 8) }
        h.write("reset_counts") { [unowned self] _ in self.reset() }
        h.write("reset") { [unowned self] _ in self.reset() }
        h.read("count_call") { [unowned self] in self.countCall.map { "\($0.at)" } ?? "" }
        h.read("byte_count_call") { [unowned self] in self.byteCountCall.map { "\($0.at)" } ?? "" }
        h.write("count_call") { [unowned self] (text: String) throws(ElementError) in
            guard var call = Self.parseCall(text) else { throw ElementError("expected 'N HANDLER [VALUE]'") }
            try call.call.initialize(in: self.router, context: self, write: true)
            self.countCall = call
            self.countTriggered = false
            self.rearm()
        }
        h.write("byte_count_call") { [unowned self] (text: String) throws(ElementError) in
            guard var call = Self.parseCall(text) else { throw ElementError("expected 'N HANDLER [VALUE]'") }
            try call.call.initialize(in: self.router, context: self, write: true)
            self.byteCountCall = call
            self.byteCountTriggered = false
            self.rearm()
        }
    }
}

/// A rate estimate: counts per one-second period, folded into an exponentially weighted
/// average (weight 1/4 for the newest period) when a period ends.
public struct RateEstimator: Sendable {
    static let period: Int64 = 1_000_000_000
    var periodStart: Int64 = 0
    var inPeriod = 0
    var average = 0.0
    var started = false

    public init() {}

    public mutating func add(_ n: Int, at now: Int64) {
        if !started {
            started = true
            periodStart = now
        }
        roll(now)
        inPeriod += n
    }

    mutating func roll(_ now: Int64) {
        guard now - periodStart >= Self.period else { return }
        let periods = (now - periodStart) / Self.period
        average += (Double(inPeriod) - average) / 4
        for _ in 1..<min(periods, 64) { average -= average / 4 }
        inPeriod = 0
        periodStart += periods * Self.period
    }

    /// The rate per second, as Click prints it (integer when whole).
    public func value(now: Int64) -> Double {
        var copy = self
        copy.roll(now)
        return copy.average
    }

    func text(now: Int64, scale: Double = 1) -> String {
        let v = value(now: now) * scale
        return v == v.rounded() ? String(Int(v)) : String(format2(v))
    }
}
