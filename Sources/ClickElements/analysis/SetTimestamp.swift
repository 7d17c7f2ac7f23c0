import ClickLanguage
import ClickRuntime

/// SetTimestamp([TIMESTAMP, *keywords* FIRST])
///
/// Sets each packet's timestamp annotation to TIMESTAMP (`sec.usec`) or, without an
/// argument, to the current router time. With FIRST true, sets the first-timestamp
/// annotation instead (which `SetTimestampDelta(TYPE FIRST)` measures from).
///
/// Ports: 1 input, 1 output, agnostic.
public final class SetTimestamp: Element, PacketAction {
    var fixed: Int64? = nil
    var first = false

    public override func configure(_ args: inout Arguments) {
        if let t = args.positional("TIMESTAMP", .timestamp) { fixed = t }
        first = args.keyword("FIRST", .bool) ?? false
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let t = fixed ?? routerNow()
        if first { p.firstTimestamp = t } else { p.timestamp = t }
        return 0
    }

}
