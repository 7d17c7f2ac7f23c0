import ClickLanguage
import ClickRuntime

/// RandomSample([P, *keywords* SAMPLE, DROP])
///
/// Passes each packet with probability P (SAMPLE; default 0.5); the others go to output 1
/// or are dropped. With DROP, P is the probability of dropping instead.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `sampling_prob`.
public final class RandomSample: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var threshold: UInt32 = UInt32.max / 2

    public override func configure(_ args: inout Arguments) {
        // Click's sampling probabilities: fixed point with 28 fraction bits.
        let probability = ValueType<Double>.fixedPoint(fractionBits: 28)
        var p = args.positional("P", probability) ?? args.keyword("SAMPLE", probability) ?? 0.5
        if let d = args.keyword("DROP", probability) { p = 1 - d }
        if p < 0 || p > 1 { args.error("sampling probability must be between 0 and 1") }
        threshold = UInt32(clamping: Int64((max(0, min(1, p)) * Double(UInt32.max)).rounded()))
    }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        UInt32.random(in: 0...UInt32.max, using: &router.random) <= threshold && threshold > 0 ? 0 : 1
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("sampling_prob") { [unowned self] in formatNumber(Double(self.threshold) / Double(UInt32.max)) }
    }
}
