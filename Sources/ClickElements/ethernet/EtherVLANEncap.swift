import ClickLanguage
import ClickRuntime

/// EtherVLANEncap(ETHERTYPE, SRC, DST [, VLAN_TCI, VLAN_PCP, *keywords* VLAN_ID,
/// NATIVE_VLAN])
///
/// Prepends a tagged Ethernet header: DST and SRC addresses, an 802.1Q tag, and
/// ETHERTYPE. The tag is VLAN_TCI (or, with `ANNO`, each packet's VLAN_TCI annotation), or
/// VLAN_ID, with priority VLAN_PCP; a packet on NATIVE_VLAN (default 0; -1 for none) gets
/// an untagged header instead, as in Click.
///
/// Ports: 1 input, 1 output, agnostic.
public final class EtherVLANEncap: Element, PacketAction {
    var tag = VLANTagArguments()
    var ethertype: UInt16 = 0
    var source = EtherAddress(0)
    var destination = EtherAddress(0)

    public override func configure(_ args: inout Arguments) {
        let type = args.mandatory("ETHERTYPE", .unsignedInteger) ?? 0
        source = args.mandatory("SRC", .etherAddress) ?? source
        destination = args.mandatory("DST", .etherAddress) ?? destination
        tag = VLANTagArguments(&args)
        if type > 0xFFFF { args.error("out of range", keyword: "ETHERTYPE") }
        ethertype = UInt16(truncatingIfNeeded: type)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let (t, untagged) = tag.tag(for: p)
        guard p.push(untagged ? 14 : 18) else { return -1 }
        let d = p.data
        for i in 0..<6 {
            d.setByte(i, UInt8(truncatingIfNeeded: destination.value >> UInt64(40 - 8 * i)))
            d.setByte(6 + i, UInt8(truncatingIfNeeded: source.value >> UInt64(40 - 8 * i)))
        }
        if untagged {
            d.setBE16(12, ethertype)
        } else {
            d.setBE16(12, 0x8100)
            d.setBE16(14, t)
            d.setBE16(16, ethertype)
        }
        p.setMACHeader(at: 0)
        return 0
    }
}
