import ClickLanguage
import ClickRuntime

/// StoreData(OFFSET, DATA)
///
/// Changes packet data starting at byte OFFSET to DATA (a string, `\<hex>` for bytes).
/// Only what fits is written: a packet shorter than OFFSET + DATA keeps its length, and one
/// no longer than OFFSET passes unchanged, as in Click.
///
/// Ports: 1 input, 1 output, agnostic.
public final class StoreData: Element, PacketAction {
    var offset = 0
    /// DATA, in plain memory for the per-packet copy.
    var data = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    deinit { data.deallocate() }

    public override func configure(_ args: inout Arguments) {
        offset = args.mandatory("OFFSET", .unsignedInteger) ?? 0
        let bytes = args.mandatory("DATA", .bytes) ?? []
        data.deallocate()
        data = .allocate(byteCount: bytes.count, alignment: 8)
        data.copyBytes(from: bytes)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.length > offset, let source = data.baseAddress else { return 0 }
        (p.data + offset).copyMemory(from: source, byteCount: Swift.min(data.count, p.length - offset))
        return 0
    }
}
