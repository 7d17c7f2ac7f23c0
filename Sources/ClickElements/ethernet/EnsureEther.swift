import ClickLanguage
import ClickRuntime

/// EnsureEther([ETHERTYPE, SRC, DST])
///
/// Makes sure each IP packet (network header set) starts with an Ethernet header, as
/// Click's: one already there (14 bytes before the IP header, type IPv4 or IPv6) stays;
/// one stripped just before it (still in the headroom) is put back; otherwise anything
/// before the IP header goes and a header ETHERTYPE (default 0x0800) from SRC (default
/// 01:01:01:01:01:01) to DST (default 02:02:02:02:02:02) is prepended. Packets without a
/// network header pass unchanged.
///
/// Ports: 1 input, 1 output, agnostic.
public final class EnsureEther: Element, PacketAction {
    /// The header to prepend, in wire order, in plain memory for the per-packet copy.
    let header = UnsafeMutableRawPointer.allocate(byteCount: 14, alignment: 8)

    public required init() {
        header.initializeMemory(as: UInt8.self, repeating: 0, count: 14)
        super.init()
    }

    deinit { header.deallocate() }

    public override func configure(_ args: inout Arguments) {
        let type = args.positional("ETHERTYPE", .unsignedInteger) ?? 0x0800
        let src = args.positional("SRC", .etherAddress)?.bytes ?? [UInt8](repeating: 1, count: 6)
        let dst = args.positional("DST", .etherAddress)?.bytes ?? [UInt8](repeating: 2, count: 6)
        if type > 0xFFFF { return args.error("argument 1 (Ethernet encapsulation type) must be <= 0xFFFF") }
        for (k, byte) in (dst + src + [UInt8(type >> 8), UInt8(type & 0xFF)]).enumerated() { header.storeBytes(of: byte, toByteOffset: k, as: UInt8.self) }
    }

    @inline(__always) static func isIP(_ type: UInt16) -> Bool { type == 0x0800 || type == 0x86DD }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let offset = p.networkHeaderOffset, offset >= 0 else { return 0 }
        if offset == 14, Self.isIP(p.data.be16(12)) { return 0 }
        if offset == 0, p.headroom >= 14, Self.isIP((p.data - 14).be16(12)) {
            p.push(14)
            return 0
        }
        p.pull(offset)
        guard p.push(14) else { return -1 }
        p.data.copyMemory(from: header, byteCount: 14)
        return 0
    }
}
