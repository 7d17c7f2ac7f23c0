import ClickLanguage
import ClickRuntime

/// EtherRewrite(SRC, DST)
///
/// Rewrites the source and destination Ethernet addresses of the MAC header (the data
/// start when none is marked), keeping the type.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `src`, `dst` (read/write).
public final class EtherRewrite: Element, PacketAction {
    var src = EtherAddress(0)
    var dst = EtherAddress(0)

    public override func configure(_ args: inout Arguments) {
        src = args.mandatory("SRC", .etherAddress) ?? src
        dst = args.mandatory("DST", .etherAddress) ?? dst
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        // The MAC header where one is marked (as Click), else the data start.
        let offset = p.macHeaderOffset ?? 0
        guard offset >= 0, p.length - offset >= 12 else { return -1 }
        let d = p.data + offset
        for i in 0..<6 {
            d.storeBytes(of: UInt8(truncatingIfNeeded: dst.value >> UInt64(40 - 8 * i)), toByteOffset: i, as: UInt8.self)
            d.storeBytes(of: UInt8(truncatingIfNeeded: src.value >> UInt64(40 - 8 * i)), toByteOffset: 6 + i, as: UInt8.self)
        }
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.etherAddress("src", get: { [unowned self] in self.src }, set: { [unowned self] a in self.src = a })
        h.etherAddress("dst", get: { [unowned self] in self.dst }, set: { [unowned self] a in self.dst = a })
    }
}
