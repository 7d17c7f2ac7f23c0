import ClickLanguage
import ClickRuntime

/// SetAnnoByte(ANNO, VALUE)
///
/// Sets the one-byte annotation ANNO (a name such as PAINT, or a byte offset) of each
/// packet to VALUE. Obsolete in Click, which warns so ("use Paint(VALUE, ANNO) instead"),
/// and so does this one; it still works.
///
/// Ports: 1 input, 1 output, agnostic.
public final class SetAnnoByte: Element, PacketAction {
    var offset = Annotation.paint
    var value: UInt8 = 0

    public override func configure(_ args: inout Arguments) {
        args.warning("warning: SetAnnoByte(ANNO, VALUE) is obsolete, use Paint(VALUE, ANNO) instead")
        let anno = args.mandatory("ANNO", .word)
        value = args.mandatory("VALUE", .uint8).map { UInt8($0) } ?? 0
        if let anno {
            if let o = annotationOffset(anno, default: Annotation.paint) { offset = o } else { args.error("parse error", keyword: "ANNO") }
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.setAnnotation8(offset, value)
        return 0
    }
}
