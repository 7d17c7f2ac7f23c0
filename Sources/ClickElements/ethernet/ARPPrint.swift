import ClickLanguage
import ClickRuntime

/// ARPPrint([LABEL, *keywords* TIMESTAMP, ETHER, ACTIVE])
///
/// Prints a line per ARP packet to the router's chatter: `LABEL: TIMESTAMP: ` then
/// `arp who-has TPA tell SPA` for requests, `arp reply SPA is-at SHA` for replies,
/// `arp opcode N` otherwise, `truncated-arp (LEN)` for short packets. With ETHER true
/// the Ethernet addresses come first (`SRC > DST: `). Packets may start with an Ethernet
/// header (type 0806) or with the ARP header. They pass through unchanged.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `active` (read/write).
public final class ARPPrint: Element, PacketAction {
    var label = ""
    var printTimestamp = true
    var printEther = false
    var active = true

    public override func configure(_ args: inout Arguments) {
        label = args.positional("LABEL", .string) ?? ""
        printTimestamp = args.keyword("TIMESTAMP", .bool) ?? true
        printEther = args.keyword("ETHER", .bool) ?? false
        active = args.keyword("ACTIVE", .bool) ?? true
    }

    static func ether(_ d: UnsafeMutableRawPointer) -> String {
        var v: UInt64 = 0
        for i in 0..<6 { v = v << 8 | UInt64(d.byte(i)) }
        return EtherAddress(v).description
    }

    /// The line ARPPrint prints for `p`.
    public func line(for p: Packet) -> String {
        var s = label.isEmpty ? "" : label + ": "
        if printTimestamp { s += formatTimestamp(p.timestamp) + ": " }
        var arpOffset = 0
        let mac = p.macHeaderOffset ?? 0
        if p.length >= mac + 14, p.data.be16(mac + 12) == 0x0806 {
            arpOffset = mac + 14
            if printEther { s += "\(Self.ether(p.data + mac + 6)) > \(Self.ether(p.data + mac)): " }
        }
        let n = p.length - arpOffset
        guard n >= 28 else { return s + "truncated-arp (\(max(n, 0)))" }
        let a = p.data + arpOffset
        let spa = IPv4Address(a.be32(14)), tpa = IPv4Address(a.be32(24))
        switch a.be16(6) {
        case 1: s += "arp who-has \(tpa) tell \(spa)"
        case 2: s += "arp reply \(spa) is-at \(Self.ether(a + 8))"
        default: s += "arp opcode \(a.be16(6))"
        }
        return s
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if active { router.chatter(line(for: p)) }
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in self.active = v })
    }
}
