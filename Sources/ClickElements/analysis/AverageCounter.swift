import ClickLanguage
import ClickRuntime

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
        let now = routerNow()
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
