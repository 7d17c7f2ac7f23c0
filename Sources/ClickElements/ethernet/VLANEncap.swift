import ClickLanguage
import ClickRuntime

/// VLANEncap(VLAN_ID [, VLAN_PCP, *keywords* ETHERTYPE])
///
/// Inserts an 802.1Q tag (ID and priority; ID `ANNO` takes the VLAN_TCI annotation) after
/// the Ethernet addresses. The tag's protocol identifier is ETHERTYPE (default 0x8100;
/// 0x88A8 for a QinQ service tag).
///
/// Ports: 1 input, 1 output, agnostic.
public final class VLANEncap: Element, PacketAction {
    var tci: UInt16 = 0
    var fromAnno = false
    /// The tag's protocol identifier (ETHERTYPE; 0x88A8 for a QinQ service tag).
    var ethertype: UInt16 = 0x8100

    public override func configure(_ args: inout Arguments) {
        let id = args.mandatory("VLAN_ID", .raw) ?? "0"
        let pcp = args.positional("VLAN_PCP", .unsignedInteger) ?? 0
        let type = args.keyword("ETHERTYPE", .unsignedInteger) ?? 0x8100
        if type > 0xFFFF { args.error("out of range", keyword: "ETHERTYPE") }
        ethertype = UInt16(truncatingIfNeeded: type)
        if id == "ANNO" {
            fromAnno = true
        } else if let v = IntegerValue.parse(id), v >= 0, v < 4096, pcp < 8 {
            tci = UInt16(v) | UInt16(pcp) << 13
        } else {
            args.error("VLAN_ID must be 0-4095 and VLAN_PCP 0-7")
        }
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.length >= 14, p.push(4) else { return -1 }
        let d = p.data
        (d).copyMemory(from: d + 4, byteCount: 12)
        d.setBE16(12, ethertype)
        d.setBE16(14, fromAnno ? UInt16(bigEndian: p.annotation16(Annotation.vlanTCI)) : tci)
        p.setMACHeader(at: 0)
        return 0
    }

}
