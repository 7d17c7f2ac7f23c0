import ClickLanguage
import ClickRuntime

/// Shaper(RATE) — and BandwidthShaper(RATE)
///
/// A pull element that lets at most RATE packets per second (BandwidthShaper: bytes per
/// second) through output 0, spread evenly over each second, as Click's (its GapRate): a
/// pull when the rate is ahead returns nothing. As in Click, Shaper's output 1 gets a
/// packet exactly when output 0 would not.
///
/// Ports: 1 pull input, 1 or 2 pull outputs (BandwidthShaper: 1).
///
/// Handlers: `rate` (read/write), `reset` (write: start counting afresh).
public class Shaper: Element {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "l/l" }
    var rate = 0.0
    var gapRate = GapRate()
    func cost(_ p: Packet) -> Int { 1 }
    var isBandwidth: Bool { false }

    public override func configure(_ args: inout Arguments) {
        rate = readRate(&args, bandwidth: isBandwidth)
        if rate > Double(GapRate.maximumRate) { args.error("rate too large; lowered to \(GapRate.maximumRate)") }
    }

    public override func initialize() throws(ElementError) {
        gapRate = GapRate(rate: UInt32(min(rate, Double(GapRate.maximumRate))))
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let ready = gapRate.needUpdate(routerNow())
        if port == 1 {
            if !ready { input(0, into: &batch, max: 1) }
            return
        }
        guard ready else { return }
        let before = batch.count
        input(0, into: &batch, max: 1)
        if batch.count > before { gapRate.update(cost(batch[before])) }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.rate("rate", bandwidth: isBandwidth, get: { [unowned self] in self.rate }, set: { [unowned self] r in
            self.rate = r
            self.gapRate.setRate(UInt32(min(r, Double(GapRate.maximumRate))), now: self.routerNow())
        })
        h.write("reset") { [unowned self] _ in self.gapRate.reset() }
    }
}

public final class BandwidthShaper: Shaper {
    public override var portCount: String { "1/1" }
    override func cost(_ p: Packet) -> Int { p.length }
    override var isBandwidth: Bool { true }
}
