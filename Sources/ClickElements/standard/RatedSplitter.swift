import ClickLanguage
import ClickRuntime

/// RatedSplitter(RATE [, *keywords* BURST_DURATION, BURST_SIZE])
///
/// Sends at most RATE packets per second to output 0 and the rest to output 1 (dropped
/// when there is none). The token bucket starts full and holds BURST_DURATION worth of
/// RATE (default 20 ms) or BURST_SIZE tokens.
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `rate` (read/write).
public class RatedSplitter: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/h" }
    var rate = 0.0
    var burstSize = 1.0
    var bucket = TokenBucket(rate: 1, capacity: 1, now: 0)
    var now: Int64 = 0
    func cost(_ p: Packet) -> Double { 1 }
    var isBandwidth: Bool { false }

    public override func configure(_ args: inout Arguments) {
        rate = readRate(&args, bandwidth: isBandwidth)
        burstSize = readBurst(&args, rate: rate, bandwidth: isBandwidth)
    }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: burstSize, now: router.clock.now())
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let c = cost(p)
        if bucket.tokens >= c || (bucket.tokens >= 1 && c > bucket.capacity) {
            bucket.tokens -= c
            return 0
        }
        return 1
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        bucket.refill(router.clock.now())
        pushThrough(&batch)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.rate("rate", bandwidth: isBandwidth, get: { [unowned self] in self.rate }, set: { [unowned self] r in
            self.rate = r
            self.bucket.rate = r
        })
    }
}

/// BandwidthRatedSplitter(RATE [, *keywords* BURST_DURATION, BURST_BYTES])
///
/// RatedSplitter with RATE in bytes per second (bandwidth syntax), each packet costing its
/// length; the bucket holds BURST_BYTES (default: BURST_DURATION worth).
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `rate` (read/write).
public final class BandwidthRatedSplitter: RatedSplitter {
    override func cost(_ p: Packet) -> Double { Double(p.length) }
    override var isBandwidth: Bool { true }
}
