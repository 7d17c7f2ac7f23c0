import ClickLanguage
import ClickRuntime

/// VLANEncap(VLAN_TCI [, VLAN_PCP, *keywords* VLAN_ID, NATIVE_VLAN, ETHERTYPE])
///
/// Inserts an 802.1Q tag after the Ethernet addresses. The tag's control information is
/// VLAN_TCI (0-0xFFFF; `ANNO` takes each packet's VLAN_TCI annotation), or else VLAN_ID
/// (0-0xFFF), with the priority VLAN_PCP (0-7) in its top three bits. A packet whose VLAN
/// ID equals NATIVE_VLAN (default 0; -1 for none) is left untagged, as Click does. The
/// tag's protocol identifier is ETHERTYPE (default 0x8100; 0x88A8 for a QinQ service tag).
///
/// Ports: 1 input, 1 output, agnostic.
public final class VLANEncap: Element, PacketAction {
    var tag = VLANTagArguments()
    /// The tag's protocol identifier (ETHERTYPE; 0x88A8 for a QinQ service tag).
    var ethertype: UInt16 = 0x8100

    public override func configure(_ args: inout Arguments) {
        tag = VLANTagArguments(&args)
        let type = args.keyword("ETHERTYPE", .unsignedInteger) ?? 0x8100
        if type > 0xFFFF { args.error("out of range", keyword: "ETHERTYPE") }
        ethertype = UInt16(truncatingIfNeeded: type)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let (t, untagged) = tag.tag(for: p)
        if untagged {
            p.setMACHeader(at: 0)
            return 0
        }
        guard p.length >= 14, p.push(4) else { return -1 }
        let d = p.data
        d.copyMemory(from: d + 4, byteCount: 12)
        d.setBE16(12, ethertype)
        d.setBE16(14, t)
        p.setMACHeader(at: 0)
        return 0
    }

}
