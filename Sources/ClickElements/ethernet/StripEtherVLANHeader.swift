import ClickLanguage
import ClickRuntime

/// StripEtherVLANHeader([NATIVE_VLAN])
///
/// Removes an Ethernet header, tagged or not. A tagged frame's TCI goes into the VLAN_TCI
/// annotation; an untagged frame gets NATIVE_VLAN (default 0) there, or with NATIVE_VLAN
/// -1 goes to output 1 (or is dropped).
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
public final class StripEtherVLANHeader: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    /// The VLAN TCI annotation given to untagged frames; nil (NATIVE_VLAN -1) sends them
    /// to output 1 instead.
    var nativeVLAN: UInt16? = 0

    public override func configure(_ args: inout Arguments) {
        let native = args.positional("NATIVE_VLAN", .integer) ?? 0
        if native > 0xFFF { args.error("bad NATIVE_VLAN") }
        nativeVLAN = native >= 0 ? UInt16(truncatingIfNeeded: native) : nil
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.length >= 14 else { return -1 }
        if p.load16(12) == 0x8100 {
            guard p.length >= 18 else { return -1 }
            p.setAnnotation16(Annotation.vlanTCI, p.load16(14).bigEndian)
            p.pull(18)
        } else if let nativeVLAN {
            p.setAnnotation16(Annotation.vlanTCI, nativeVLAN)
            p.pull(14)
        } else {
            return 1
        }
        return 0
    }

}
