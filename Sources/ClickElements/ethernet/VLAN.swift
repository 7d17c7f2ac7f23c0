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

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.setAnnotation16(Annotation.vlanTCI, tci.bigEndian)
        return 0
    }

}

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
