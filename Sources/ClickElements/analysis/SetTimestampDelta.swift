import ClickLanguage
import ClickRuntime

/// SetTimestampDelta([*keywords* TYPE])
///
/// Replaces each packet's (non-zero) timestamp by a difference. TYPE RANGE (the default):
/// the distance from the first timestamped packet's timestamp; TYPE NOW: the time from the
/// timestamp to now; TYPE FIRST: the distance from the packet's first-timestamp annotation
/// (set by `SetTimestamp(FIRST true)`).
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `first` (read: the first timestamp, RANGE);
/// `reset` (write: forget it).
public final class SetTimestampDelta: Element, PacketAction {
    enum Kind { case range, now, first }
    var kind = Kind.range
    var first: Int64 = 0

    public override func configure(_ args: inout Arguments) {
        switch args.keyword("TYPE", .word) ?? "RANGE" {
        case "RANGE": kind = .range
        case "NOW": kind = .now
        case "FIRST": kind = .first
        default: args.error("bad TYPE")
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let t = p.timestamp
        guard t != 0 else { return 0 }
        switch kind {
        case .range:
            if first == 0 { first = t }
            p.timestamp = t.saturatingSubtract(first)
        case .now:
            p.timestamp = routerNow().saturatingSubtract(t)
        case .first:
            p.timestamp = t.saturatingSubtract(p.firstTimestamp)
        }
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("first") { [unowned self] in formatTimestamp(self.first) + "\n" }
        h.write("reset") { [unowned self] _ in self.first = 0 }
    }
}
