import ClickLanguage
import ClickRuntime

/// SetIPAddress(IPADDR [, ANNO])
///
/// Sets the destination address annotation (or annotation ANNO) to IPADDR.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `addr` (read/write).
public final class SetIPAddress: Element, PacketAction {
    var address = IPv4Address(0)
    var anno = Annotation.destinationIP

    public override func configure(_ args: inout Arguments) {
        address = args.mandatory("IPADDR", .ipv4Address) ?? address
        if let a = annotationOffset(args.positional("ANNO", .word), default: Annotation.destinationIP, size: 4) { anno = a } else { args.error("parse error", keyword: "ANNO") }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.setAnnotation32(anno, address.value.bigEndian)
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.readWrite("addr", read: { [unowned self] in self.address.description }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(t.trimmingCharacters()) else { throw ElementError("expected IP address") }
            self.address = a
        })
    }
}
