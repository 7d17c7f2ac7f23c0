import ClickLanguage
import ClickRuntime

/// EtherEncap(ETHERTYPE, SRC, DST)
///
/// Prepends an Ethernet header (from headroom, no copy) with type ETHERTYPE (host order,
/// e.g. 0x0800), source SRC and destination DST (addresses or AddressInfo names).
///
/// Ports: 1 input, 1 output, agnostic.
///
/// Handlers: `src`, `dst`, `ethertype` (read/write; the type reads as decimal).
public final class EtherEncap: Element, PacketAction {
    var header = [UInt8](repeating: 0, count: 14)
    var headerWords: (UInt64, UInt32, UInt16) = (0, 0, 0)
    var src = EtherAddress(0)
    var dst = EtherAddress(0)
    var ethertype: UInt16 = 0

    public override func configure(_ args: inout Arguments) {
        if let t = args.mandatory("ETHERTYPE", .uint16) { ethertype = UInt16(t) }
        src = args.mandatory("SRC", .etherAddress) ?? src
        dst = args.mandatory("DST", .etherAddress) ?? dst
        rebuild()
    }

    public override var canLiveReconfigure: Bool { true }

    func rebuild() {
        header = dst.bytes + src.bytes + [UInt8(ethertype >> 8), UInt8(ethertype & 0xFF)]
        header.withUnsafeBytes { b in
            headerWords = (b.loadUnaligned(fromByteOffset: 0, as: UInt64.self), b.loadUnaligned(fromByteOffset: 8, as: UInt32.self),
                           b.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.push(14) else { return -1 }
        let d = p.data
        d.storeBytes(of: headerWords.0, toByteOffset: 0, as: UInt64.self)
        d.storeBytes(of: headerWords.1, toByteOffset: 8, as: UInt32.self)
        d.storeBytes(of: headerWords.2, toByteOffset: 12, as: UInt16.self)
        p.setMACHeader(at: 0)
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.etherAddress("src", get: { [unowned self] in self.src }, set: { [unowned self] a in
            self.src = a
            self.rebuild()
        })
        h.etherAddress("dst", get: { [unowned self] in self.dst }, set: { [unowned self] a in
            self.dst = a
            self.rebuild()
        })
        h.integer("ethertype", get: { [unowned self] in Int(self.ethertype) }, set: { [unowned self] v throws(ElementError) in
            guard (0...0xFFFF).contains(v) else { throw ElementError("out of range") }
            self.ethertype = UInt16(v)
            self.rebuild()
        })
    }
}
