import ClickLanguage
import ClickRuntime

/// Pad([LENGTH, *keywords* ZERO])
///
/// Extends packets shorter than LENGTH bytes to LENGTH. Without LENGTH (or with 0), each
/// packet is extended by its EXTRA_LENGTH annotation instead, undoing a Truncate. Either
/// way the packet leaves with EXTRA_LENGTH zero. With ZERO true (the default) the added
/// bytes are zero; with ZERO false they are left as the buffer had them. A packet whose
/// buffer has no room for the bytes is dropped.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Pad: Element, PacketAction {
    var length = 0
    var zero = true

    public override func configure(_ args: inout Arguments) {
        length = args.positional("LENGTH", .unsignedInteger) ?? 0
        zero = args.keyword("ZERO", .bool) ?? true
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let added = length > 0 ? Swift.max(length - p.length, 0) : Int(p.annotation32(Annotation.extraLength))
        if added > 0 {
            let old = p.length
            guard p.put(added) else { return -1 }
            if zero { (p.data + old).initializeMemory(as: UInt8.self, repeating: 0, count: added) }
        }
        p.setAnnotation32(Annotation.extraLength, 0)
        return 0
    }
}
