import ClickLanguage
import ClickRuntime

/// PaintSwitch([ANNO])
///
/// Sends each packet to the output numbered by its paint annotation; 255 means every
/// output (copies); a paint with no matching output drops the packet.
///
/// Ports: 1 input, any number of outputs, push.
public final class PaintSwitch: Element, PacketAction {
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }
    var offset = Annotation.paint

    public override func configure(_ args: inout Arguments) {
        if let o = annotationOffset(args.positional("ANNO", .word), default: Annotation.paint) { offset = o } else { args.error("parse error", keyword: "ANNO") }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        let c = Int(packet.annotation8(offset))
        if c == 255 && noutputs > 1 {
            for o in 1..<noutputs { if let copy = packet.clone() { output(o, single: copy) } }
            return 0
        }
        return c
    }

}
