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

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

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
