import ClickLanguage
import ClickRuntime

/// RatedSplitter(RATE) — and BandwidthRatedSplitter(RATE)
///
/// Sends at most RATE packets per second (BandwidthRatedSplitter: bytes per second) to
/// output 0 and the rest to output 1.
///
/// Ports: 1 input, 2 outputs, push. Handlers: `rate` (read/write).
public class RatedSplitter: Element, PacketAction {
    public override var portCount: String { "1/2" }
    public override var processing: String { "h/h" }
    var rate = 0.0
    var bucket = TokenBucket(rate: 1, capacity: 1, now: 0)
    var now: Int64 = 0
    func cost(_ p: Packet) -> Double { 1 }
    var isBandwidth: Bool { false }

    public override func configure(_ args: inout Arguments) {
        rate = readRate(&args, bandwidth: isBandwidth)
    }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: max(1, rate / 50), now: router.clock.now())
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

public final class BandwidthRatedSplitter: RatedSplitter {
    override func cost(_ p: Packet) -> Double { Double(p.length) }
    override var isBandwidth: Bool { true }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: max(2048, rate / 50), now: router.clock.now())
    }
}
