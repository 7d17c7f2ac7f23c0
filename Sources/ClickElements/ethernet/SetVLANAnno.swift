import ClickLanguage
import ClickRuntime

/// SetVLANAnno(VLAN_ID [, VLAN_PCP])
///
/// Sets the VLAN_TCI annotation of every packet to VLAN_ID (0-4095) and priority
/// VLAN_PCP (0-7).
///
/// Ports: 1 input, 1 output, agnostic.
public final class SetVLANAnno: Element, PacketAction {
    var tci: UInt16 = 0

    public override func configure(_ args: inout Arguments) {
        let id = args.mandatory("VLAN_ID", .unsignedInteger) ?? 0
        let pcp = args.positional("VLAN_PCP", .unsignedInteger) ?? 0
        if id > 4095 || pcp > 7 { args.error("VLAN_ID must be 0-4095 and VLAN_PCP 0-7") }
        tci = UInt16(id & 0xFFF) | UInt16(pcp & 7) << 13
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.setAnnotation16(Annotation.vlanTCI, tci.bigEndian)
        return 0
    }

}
