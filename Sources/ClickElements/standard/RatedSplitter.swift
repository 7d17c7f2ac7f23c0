import ClickLanguage
import ClickRuntime

/// RatedSplitter(RATE [, *keywords* BURST_DURATION, BURST_SIZE])
///
/// Sends at most RATE packets per second to output 0 and the rest to output 1 (dropped
/// when there is none), with Click's token bucket: it starts full, holds BURST_SIZE
/// tokens (default: BURST_DURATION, 20 ms, of RATE) and refills every millisecond.
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `rate` (read/write).
public class RatedSplitter: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/h" }
    var burst = RatedBurst()
    var bucket = TokenBucket()
    var isBandwidth: Bool { false }

    public override func configure(_ args: inout Arguments) {
        let rate = UInt32(clamping: UInt64(max(0, min(readRate(&args, bandwidth: isBandwidth), 4e9))))
        burst = readBurst(&args, bandwidth: isBandwidth)
        bucket.assign(rate: rate, capacity: burst.capacity(rate: rate))
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        bucket.removeIf(1) ? 0 : 1
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        bucket.refill(at: TokenBucket.jiffies(routerNow()))
        pushThrough(&batch)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.bucketRate(bandwidth: isBandwidth, get: { [unowned self] in self.bucket.rate }, set: { [unowned self] r in
            self.bucket.assign(rate: r, capacity: self.burst.capacity(rate: r))
        })
    }
}

/// BandwidthRatedSplitter(RATE [, *keywords* BURST_DURATION, BURST_BYTES])
///
/// RatedSplitter with RATE in bytes per second (bandwidth syntax), each packet costing its
/// length. As in Click, a packet goes to output 0 while the bucket holds 128 kB (131072
/// bytes), which the bucket holds beyond BURST_BYTES (default: BURST_DURATION of RATE).
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `rate` (read/write).
public final class BandwidthRatedSplitter: RatedSplitter {
    override var isBandwidth: Bool { true }

    @inline(__always) public override func action(_ p: Packet) -> Int {
        guard bucket.contains(RatedBurst.bandwidthThreshold) else { return 1 }
        bucket.remove(UInt32(p.length))
        return 0
    }
}
