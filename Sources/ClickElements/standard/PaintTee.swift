import ClickLanguage
import ClickRuntime

/// PaintTee(COLOR [, ANNO])
///
/// Every packet goes to output 0; a copy also goes to output 1 when its paint annotation
/// equals COLOR (used for ICMP redirects).
///
/// Ports: 1 input, 2 outputs, push. Handlers: `color` (read/write).
public final class PaintTee: Element {
    public override var portCount: String { "1/2" }
    public override var processing: String { "h/h" }
    var color: UInt8 = 0
    var offset = Annotation.paint

    public override func configure(_ args: inout Arguments) {
        if let c = args.mandatory("COLOR", .uint8) { color = UInt8(c) }
        if let o = annotationOffset(args.positional("ANNO", .word), default: Annotation.paint) { offset = o } else { args.error("parse error", keyword: "ANNO") }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        withScratchBatch { copies in
            for i in 0..<batch.count where batch[i].annotation8(offset) == color {
                if let c = batch[i].clone() { copies.append(c) }
            }
            output(1, &copies)
        }
        output(0, &batch)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("color", get: { [unowned self] in Int(self.color) }, set: { [unowned self] v in self.color = UInt8(truncatingIfNeeded: v) })
    }
}
