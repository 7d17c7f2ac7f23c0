import ClickLanguage
import ClickRuntime

/// HostEtherFilter(ETHER [, DROP_OWN, DROP_OTHER, *keywords* OFFSET])
///
/// Acts like Ethernet input hardware for address ETHER: sets the packet type annotation
/// (HOST, BROADCAST, MULTICAST, OTHERHOST) and keeps frames on output 0. Frames for other
/// hosts go to output 1, or are dropped (unless DROP_OTHER is false, default true); with
/// DROP_OWN (default false), so do frames sent by ETHER. The Ethernet header starts OFFSET
/// bytes in (default 0).
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
public final class HostEtherFilter: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var ether: UInt64 = 0
    var dropOwn = false
    var dropOther = true
    var offset = 0

    public override func configure(_ args: inout Arguments) {
        ether = args.mandatory("ETHER", .etherAddress)?.value ?? 0
        dropOwn = args.positional("DROP_OWN", .bool) ?? false
        dropOther = args.positional("DROP_OTHER", .bool) ?? true
        offset = args.keyword("OFFSET", .unsignedInteger) ?? 0
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.length >= offset + 14 else { return -1 }
        let d = p.data + offset
        let dst = UInt64(d.be32(0)) << 16 | UInt64(d.be16(4))
        let src = UInt64(d.be32(6)) << 16 | UInt64(d.be16(10))
        if dropOwn && src == ether { return 1 }
        if dst == ether { p.meta.pointee.packetType = PacketType.host; return 0 }
        if dst == 0xFFFF_FFFF_FFFF { p.meta.pointee.packetType = PacketType.broadcast; return 0 }
        if dst & 0x0100_0000_0000 != 0 { p.meta.pointee.packetType = PacketType.multicast; return 0 }
        p.meta.pointee.packetType = PacketType.otherHost
        return dropOther ? 1 : 0
    }

}
