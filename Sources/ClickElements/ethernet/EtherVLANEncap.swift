import ClickLanguage
import ClickRuntime

/// EtherVLANEncap(ETHERTYPE, SRC, DST [, VLAN_ID, VLAN_PCP])
///
/// Prepends a tagged Ethernet header: SRC and DST addresses, an 802.1Q tag with VLAN_ID
/// and VLAN_PCP, and ETHERTYPE.
///
/// Ports: 1 input, 1 output, agnostic.
public final class EtherVLANEncap: Element, PacketAction {
    var header: [UInt8] = []

    public override func configure(_ args: inout Arguments) {
        let type = args.mandatory("ETHERTYPE", .unsignedInteger) ?? 0
        let src = args.mandatory("SRC", .etherAddress) ?? EtherAddress(0)
        let dst = args.mandatory("DST", .etherAddress) ?? EtherAddress(0)
        let id = args.positional("VLAN_ID", .unsignedInteger) ?? 0
        let pcp = args.positional("VLAN_PCP", .unsignedInteger) ?? 0
        if type > 0xFFFF || id > 4095 || pcp > 7 { args.error("ETHERTYPE, VLAN_ID or VLAN_PCP out of range") }
        let tci = UInt16(id & 0xFFF) | UInt16(pcp & 7) << 13
        header = dst.bytes + src.bytes + [0x81, 0x00, UInt8(tci >> 8), UInt8(tci & 0xFF), UInt8(type >> 8 & 0xFF), UInt8(type & 0xFF)]
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.push(18) else { return -1 }
        header.withUnsafeBytes { if let base = $0.baseAddress { p.data.copyMemory(from: base, byteCount: 18) } }
        p.setMACHeader(at: 0)
        return 0
    }

}
