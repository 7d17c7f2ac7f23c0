import ClickLanguage
import ClickRuntime

/// VLANDecap([ANNO, *keywords* ETHERTYPE])
///
/// Removes the VLAN tag (protocol identifier ETHERTYPE, default 0x8100) from tagged
/// Ethernet frames and, unless ANNO is false, keeps its TCI in the VLAN_TCI annotation;
/// untagged frames pass unchanged with a zero VLAN_TCI annotation, as in Click.
///
/// Ports: 1 input, 1 output, agnostic.
public final class VLANDecap: Element, PacketAction {
    /// ANNO: whether the tag goes into the VLAN TCI annotation.
    var setAnnotation = true
    /// The tag's protocol identifier (0x88A8 for a QinQ service tag).
    var ethertype: UInt16 = 0x8100

    public override func configure(_ args: inout Arguments) {
        setAnnotation = args.positional("ANNO", .bool) ?? true
        let type = args.keyword("ETHERTYPE", .unsignedInteger) ?? 0x8100
        if type > 0xFFFF { args.error("out of range", keyword: "ETHERTYPE") }
        ethertype = UInt16(truncatingIfNeeded: type)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        // As Click: an untagged frame passes with a zero VLAN_TCI annotation.
        guard p.length >= 18, p.load16(12) == ethertype else {
            if setAnnotation { p.setAnnotation16(Annotation.vlanTCI, 0) }
            p.setMACHeader(at: 0)
            return 0
        }
        let d = p.data
        if setAnnotation { p.setAnnotation16(Annotation.vlanTCI, d.be16(14).bigEndian) }
        (d + 4).copyMemory(from: d, byteCount: 12)
        p.pull(4)
        p.setMACHeader(at: 0)
        return 0
    }

}
