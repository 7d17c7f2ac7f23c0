import ClickLanguage
import ClickRuntime

/// Truncate(LENGTH [, *keywords* EXTRA_LENGTH])
///
/// Shortens packets longer than LENGTH bytes to LENGTH. With EXTRA_LENGTH (default true),
/// the bytes removed are added to the EXTRA_LENGTH annotation, so that ToDump and
/// ToIPSummaryDump still record the original length.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `length` (read/write).
public final class Truncate: Element, PacketAction {
    var length = 0
    var extraLength = true

    public override func configure(_ args: inout Arguments) {
        length = args.mandatory("LENGTH", .unsignedInteger) ?? 0
        extraLength = args.keyword("EXTRA_LENGTH", .bool) ?? true
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if p.length > length {
            let removed = p.length - length
            if extraLength {
                p.setAnnotation32(Annotation.extraLength, p.annotation32(Annotation.extraLength) &+ UInt32(truncatingIfNeeded: removed))
            }
            p.take(removed)
        }
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("length", get: { [unowned self] in self.length }, set: { [unowned self] v in self.length = Swift.max(0, v) })
    }
}

/// AverageCounter([*keywords* IGNORE])
///
/// Counts packets and bytes, and reports their average rate from the first packet (after
/// the first IGNORE seconds) to the most recent one.
///
/// Ports: 1 input, 1 output, agnostic.
///
/// Handlers: `count`, `byte_count`, `rate`, `byte_rate`, `bit_rate` (read); `reset` (write).
public final class AverageCounter: Element, PacketAction {
    var ignore: Int64 = 0
    var count = 0
    var bytes = 0
    var first: Int64 = 0
    var last: Int64 = 0

    public override func configure(_ args: inout Arguments) {
        ignore = args.keyword("IGNORE", .timestamp) ?? 0
    }

    @inline(__always) public func action(_ p: Packet) -> Int { 0 }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        note(batch, from: 0)
        output(0, &batch)
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let start = batch.count
        input(0, into: &batch, max: max)
        note(batch, from: start)
    }

    func note(_ batch: PacketBatch, from start: Int) {
        guard batch.count > start else { return }
        let now = router.clock.now()
        if first == 0 { first = now }
        if now - first < ignore { return }
        last = now
        count &+= batch.count - start
        for i in start..<batch.count { bytes &+= batch[i].length }
    }

    func rate(_ n: Int) -> String {
        let span = Double(last - first - ignore) / 1e9
        return span > 0 ? formatNumber((Double(n) / span * 100).rounded() / 100) : "0"
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.integer("byte_count", get: { [unowned self] in self.bytes })
        h.read("rate") { [unowned self] in self.rate(self.count) }
        h.read("byte_rate") { [unowned self] in self.rate(self.bytes) }
        h.read("bit_rate") { [unowned self] in self.rate(self.bytes * 8) }
        h.write("reset") { [unowned self] _ in
            self.count = 0
            self.bytes = 0
            self.first = 0
            self.last = 0
        }
    }
}

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
