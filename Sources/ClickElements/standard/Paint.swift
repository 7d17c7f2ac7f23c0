import ClickLanguage
import ClickRuntime

/// Paint(COLOR [, ANNO])
///
/// Sets the one-byte annotation ANNO (default PAINT, offset 16) to COLOR (0-255).
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `color` (read/write).
public final class Paint: Element, PacketAction {
    var color: UInt8 = 0
    var offset = Annotation.paint

    public override func configure(_ args: inout Arguments) {
        let c = args.mandatory("COLOR", .uint8)
        let anno = args.positional("ANNO", .word)
        if let c { color = UInt8(c) }
        if let o = annotationOffset(anno, default: Annotation.paint) { offset = o } else { args.error("parse error", keyword: "ANNO") }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.setAnnotation8(offset, color)
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("color", get: { [unowned self] in Int(self.color) }, set: { [unowned self] v throws(ElementError) in
            guard (0...255).contains(v) else { throw ElementError("color out of range") }
            self.color = UInt8(v)
        })
    }
}
