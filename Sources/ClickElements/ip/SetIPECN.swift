import ClickLanguage
import ClickRuntime

/// SetIPECN(ECN) — also available as SetECN
///
/// Sets the ECN field (the low two bits of the TOS byte) of IP packets to ECN: 0-3 or
/// `no`, `ect1`/`ECT(1)`, `ect2`/`ECT(0)`, `ce`/`CE`; fixes the checksum incrementally.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `ecn` (read/write).
public final class SetIPECN: Element, PacketAction {
    var ecn: UInt8 = 0

    static func parse(_ text: String) -> UInt8? {
        switch text {
        case "no", "NO": return 0
        case "ect1", "ECT(1)": return 1
        case "ect2", "ECT(0)": return 2
        case "ce", "CE": return 3
        default: return UInt8(text).flatMap { $0 <= 3 ? $0 : nil }
        }
    }

    public override func configure(_ args: inout Arguments) {
        if let t = args.mandatory("ECN", .word) {
            if let v = Self.parse(t) { ecn = v } else { args.error("bad ECN value '\(t)'", keyword: "ECN") }
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return 0 }
        setIPTOS(ip, (ip.byte(1) & 0xFC) | ecn)
        return 0
    }

    public override var canLiveReconfigure: Bool { true }
    public override func addHandlers(_ h: inout HandlerSet) {
        h.readWrite("ecn", read: { [unowned self] in String(self.ecn) }, write: { [unowned self] (t: String) throws(ElementError) in
            guard let v = Self.parse(t.trimmingCharacters()) else { throw ElementError("bad ECN value") }
            self.ecn = v
        })
    }
}
