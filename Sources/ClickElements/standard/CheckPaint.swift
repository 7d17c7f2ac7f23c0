import ClickLanguage
import ClickRuntime

/// CheckPaint(COLOR [, ANNO])
///
/// Packets painted COLOR go to output 0; others go to output 1, or are dropped if there is
/// no output 1.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic/push on output 1. Handlers: `color`
/// (read/write).
public final class CheckPaint: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var color: UInt8 = 0
    var offset = Annotation.paint

    public override func configure(_ args: inout Arguments) {
        if let c = args.mandatory("COLOR", .uint8) { color = UInt8(c) }
        if let o = annotationOffset(args.positional("ANNO", .word), default: Annotation.paint) { offset = o } else { args.error("parse error", keyword: "ANNO") }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.annotation8(offset) == color ? 0 : 1
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("color", get: { [unowned self] in Int(self.color) }, set: { [unowned self] v in self.color = UInt8(truncatingIfNeeded: v) })
    }
}
