import ClickLanguage
import ClickRuntime

/// Shaper(RATE) — and BandwidthShaper(RATE)
///
/// A pull element that lets at most RATE packets per second (BandwidthShaper: bytes per
/// second) through output 0: a pull there when no token is available returns nothing. As
/// in Click, a pull on output 1 gets a packet exactly when output 0 would not.
///
/// Ports: 1 pull input, 1 or 2 pull outputs. Handlers: `rate` (read/write).
public class Shaper: Element {
    public override var portCount: String { "1/1-2" }
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
        if port == 1 {
            // Output 1 takes one packet while output 0 is held back.
            if bucket.tokens < 1 { input(0, into: &batch, max: 1) }
            return
        }
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
