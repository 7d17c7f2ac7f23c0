import ClickLanguage
import ClickRuntime

/// SetIPDSCP(DSCP)
///
/// Sets the DSCP field (the top six bits of the TOS byte) of IP packets and fixes the
/// checksum.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `dscp` (read/write).
public final class SetIPDSCP: Element, PacketAction {
    var dscp: UInt8 = 0

    public override func configure(_ args: inout Arguments) {
        if let d = args.mandatory("DSCP", .bounded(0, 63)) { dscp = UInt8(d) }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return 0 }
        setIPTOS(ip, dscp << 2 | (ip.byte(1) & 3))
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("dscp", get: { [unowned self] in Int(self.dscp) }, set: { [unowned self] v throws(ElementError) in
            guard (0...63).contains(v) else { throw ElementError("out of range") }
            self.dscp = UInt8(v)
        })
    }
}
