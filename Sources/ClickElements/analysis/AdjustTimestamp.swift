import ClickLanguage
import ClickRuntime

/// AdjustTimestamp([TIME, *keywords* FIRST, ALL])
///
/// Adds TIME (seconds, may be negative; default 0) to each packet's timestamp annotation,
/// or with FIRST true to its first-timestamp annotation (the one SetTimestamp(FIRST true)
/// and AggregateIPFlows set). As in Click, an unset (zero) timestamp is left alone unless
/// ALL is true.
///
/// Ports: 1 input, 1 output, agnostic.
public final class AdjustTimestamp: Element, PacketAction {
    var delta: Int64 = 0
    var first = false
    var all = false

    public override func configure(_ args: inout Arguments) {
        delta = args.positional("TIME", .signedTimestamp) ?? 0
        first = args.keyword("FIRST", .bool) ?? false
        all = args.keyword("ALL", .bool) ?? false
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if first {
            let t = p.firstTimestamp
            if t != 0 || all { p.firstTimestamp = t.saturatingAdd(delta) }
        } else {
            let t = p.timestamp
            if t != 0 || all { p.timestamp = t.saturatingAdd(delta) }
        }
        return 0
    }
}
