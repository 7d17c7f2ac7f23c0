import ClickLanguage
import ClickRuntime

/// RandomSample([P, *keywords* SAMPLE, DROP, ACTIVE])
///
/// Passes each packet with probability P (or SAMPLE); the others go to output 1 or are
/// dropped. DROP gives the probability of dropping instead (at most one of SAMPLE
/// and DROP). Probabilities are Click's: fixed point with 28 fraction bits, drawn from the
/// router's random generator (RandomSeed makes runs repeat). While ACTIVE is false every
/// packet passes.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
///
/// Handlers: `sampling_prob`, `drop_prob` (read/write: a number between 0 and 1),
/// `active` (read/write), `drops` (read), `config` (read).
public final class RandomSample: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }

    static let shift = 28
    static let one = UInt32(1) << shift
    /// The probability of passing, in 1/2^28.
    var sampling: UInt32 = one
    var active = true
    public private(set) var drops = 0

    static let probability = ValueType<Double>.fixedPoint(fractionBits: shift)

    public override func configure(_ args: inout Arguments) {
        let p = args.positional("P", Self.probability)
        let sample = args.keyword("SAMPLE", Self.probability)
        let drop = args.keyword("DROP", Self.probability)
        active = args.keyword("ACTIVE", .bool) ?? true
        if sample != nil && drop != nil {
            args.error("give at most one of SAMPLE and DROP")
            return
        }
        // As in Click, no probability at all is out of range.
        var raw = (sample ?? p).map { FixedPoint.raw($0, fractionBits: Self.shift) ?? UInt32.max } ?? UInt32.max
        if let drop {
            let d = FixedPoint.raw(drop, fractionBits: Self.shift) ?? UInt32.max
            raw = d <= Self.one ? Self.one - d : UInt32.max
        }
        if raw > Self.one { args.error("sampling probability must be between 0 and 1") }
        sampling = min(raw, Self.one)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        if !active || router.random.clickRandom() & (Self.one - 1) < sampling { return 0 }
        drops &+= 1
        return 1
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.readWrite("sampling_prob", read: { [unowned self] in FixedPoint.unparse(self.sampling, fractionBits: Self.shift) },
                    write: { [unowned self] (t: String) throws(ElementError) in self.sampling = try Self.parseProbability(t) })
        h.readWrite("drop_prob", read: { [unowned self] in FixedPoint.unparse(Self.one - self.sampling, fractionBits: Self.shift) },
                    write: { [unowned self] (t: String) throws(ElementError) in self.sampling = Self.one - (try Self.parseProbability(t)) })
        h.readWrite("active", read: { [unowned self] in String(self.active) }, write: { [unowned self] (t: String) throws(ElementError) in
            self.active = try ValueType.bool.written(t)
        })
        h.integer("drops", get: { [unowned self] in self.drops })
        h.read("config") { [unowned self] in
            "SAMPLE \(FixedPoint.unparse(self.sampling, fractionBits: Self.shift)), ACTIVE \(self.active)"
        }
    }

    static func parseProbability(_ text: String) throws(ElementError) -> UInt32 {
        guard let v = try? Self.probability.written(text), let raw = FixedPoint.raw(v, fractionBits: shift), raw <= one else {
            throw ElementError("Must be given a number between 0.0 and 1.0")
        }
        return raw
    }
}
