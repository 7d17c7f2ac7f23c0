import ClickLanguage
import ClickRuntime

/// StoreEtherAddress(ADDR, OFFSET [, *keywords* ANNO])
///
/// Writes an Ethernet address into each packet at OFFSET (a byte offset, or `src` for 6
/// and `dst` for 0): ADDR, or the 6-byte annotation ANNO (exactly one of them). A packet
/// too short for the address goes to output 1, or is dropped. As Click's.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
public final class StoreEtherAddress: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var offset = 0
    var address = EtherAddress(0)
    /// The annotation to copy from, when ANNO is given.
    var annotation: Int?

    public override func configure(_ args: inout Arguments) {
        let addr = args.positional("ADDR", .etherAddress)
        let off = args.mandatory("OFFSET", .word)
        let anno = args.keyword("ANNO", .word)
        guard args.succeeded, let off else { return }
        guard (addr != nil) != (anno != nil) else { return args.error("must specify exactly one of ADDR/ANNO") }
        if let addr { address = addr }
        if let anno {
            guard let o = annotationOffset(anno, default: 0, size: 6) else { return args.error("parse error", keyword: "ANNO") }
            annotation = o
        }
        switch off.lowercased() {
        case "src": offset = 6
        case "dst": offset = 0
        default:
            guard let n = IntegerValue.parse(off).flatMap({ Int(exactly: $0) }), n >= 0, n <= Int(UInt32.max) - 6 else {
                return args.error("type mismatch: bad OFFSET")
            }
            offset = n
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard offset + 6 <= p.length else { return 1 }
        let d = p.data + offset
        if let annotation {
            for k in 0..<6 { d.storeBytes(of: p.annotation8(annotation + k), toByteOffset: k, as: UInt8.self) }
        } else {
            for k in 0..<6 { d.storeBytes(of: UInt8(truncatingIfNeeded: address.value >> UInt64(40 - 8 * k)), toByteOffset: k, as: UInt8.self) }
        }
        return 0
    }
}
