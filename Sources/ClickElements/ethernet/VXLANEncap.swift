import ClickLanguage
import ClickRuntime

/// VXLANEncap(VNI)
///
/// Prepends a VXLAN header (RFC 7348: flags 0x08 — a valid VNI —, three reserved bytes,
/// the 24-bit VNI, one reserved byte) to each packet, an Ethernet frame to be carried
/// across an IP underlay. Put `UDPIPEncap(SRC, SPORT, DST, 4789)` and an Ethernet header
/// (EtherEncap, or ARPQuerier for the remote end) after it. Packets without 8 bytes of
/// headroom are dropped.
///
/// Ports: 1 input, 1 output, agnostic.
///
/// Keywords: VNI (mandatory, 0 to 16777215).
///
/// Handlers: `vni` (read/write), `count` (read).
///
/// See also: VXLANDecap, UDPIPEncap.
public final class VXLANEncap: Element, PacketAction {
    var vni: UInt32 = 0
    public private(set) var count = 0

    public override func configure(_ args: inout Arguments) {
        vni = UInt32(args.mandatory("VNI", .bounded(0, 0xFF_FFFF)) ?? 0)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.push(8) else { return -1 }
        let h = p.data
        h.setBE32(0, 0x0800_0000)
        h.setBE32(4, vni << 8)
        count &+= 1
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("vni", get: { [unowned self] in Int(self.vni) }, set: { [unowned self] v throws(ElementError) in
            guard v >= 0 && v <= 0xFF_FFFF else { throw ElementError("out of range, bound 16777215") }
            self.vni = UInt32(v)
        })
        h.integer("count", get: { [unowned self] in self.count })
    }
}
