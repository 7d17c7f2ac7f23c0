import ClickLanguage
import ClickRuntime

/// Reads Click's `ANNO` argument: an annotation name (`PAINT`) or a byte offset.
func annotationOffset(_ text: String?, default d: Int, size: Int = 1) -> Int? {
    guard let text else { return d }
    if let named = Annotation.names[text], named.size >= size { return named.offset }
    if let n = IntegerValue.parse(text), n >= 0, Int(n) + size <= Annotation.size { return Int(n) }
    return nil
}

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
        if let o = annotationOffset(anno, default: Annotation.paint) { offset = o } else { args.error("bad annotation", keyword: "ANNO") }
    }

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
        if let o = annotationOffset(args.positional("ANNO", .word), default: Annotation.paint) { offset = o } else { args.error("bad annotation", keyword: "ANNO") }
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
        if let o = annotationOffset(args.positional("ANNO", .word), default: Annotation.paint) { offset = o } else { args.error("bad annotation", keyword: "ANNO") }
    }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        let c = Int(packet.annotation8(offset))
        if c == 255 && noutputs > 1 {
            for o in 1..<noutputs { if let copy = packet.clone() { output(o, single: copy) } }
            return 0
        }
        return c
    }

}

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
        if let o = annotationOffset(args.positional("ANNO", .word), default: Annotation.paint) { offset = o } else { args.error("bad annotation", keyword: "ANNO") }
    }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        packet.annotation8(offset) == color ? 0 : 1
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("color", get: { [unowned self] in Int(self.color) }, set: { [unowned self] v in self.color = UInt8(truncatingIfNeeded: v) })
    }
}
