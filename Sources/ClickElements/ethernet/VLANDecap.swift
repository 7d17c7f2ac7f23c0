import ClickLanguage
import ClickRuntime

/// VLANDecap([ANNO])
///
/// Removes an 802.1Q tag from tagged Ethernet frames and, unless ANNO is false, keeps its
/// TCI in the VLAN_TCI annotation. Untagged frames pass unchanged.
///
/// Ports: 1 input, 1 output, agnostic.
public final class VLANDecap: Element, PacketAction {
    /// ANNO: whether the tag goes into the VLAN TCI annotation.
    var setAnnotation = true

    public override func configure(_ args: inout Arguments) {
        setAnnotation = args.positional("ANNO", .bool) ?? true
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.length >= 18, p.load16(12) == 0x8100 else { return 0 }
        let d = p.data
        if setAnnotation { p.setAnnotation16(Annotation.vlanTCI, d.be16(14).bigEndian) }
        (d + 4).copyMemory(from: d, byteCount: 12)
        p.pull(4)
        p.setMACHeader(at: 0)
        return 0
    }

}
