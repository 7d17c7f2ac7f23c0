import ClickLanguage
import ClickRuntime

/// CheckARPHeader([OFFSET, *keywords* VERBOSE, DETAILS])
///
/// Checks the ARP header that starts OFFSET bytes into each packet (default 0): at least
/// 8 bytes, room for both address pairs, 6-byte hardware addresses for Ethernet and 4- or
/// 16-byte protocol addresses for IPv4 or IPv6. A good packet gets its network header
/// annotation on the ARP header; a bad one goes to output 1 (or is dropped), the first
/// reported ("ARP header check failed: bad hardware type/length"), every one with
/// VERBOSE. DETAILS counts drops by reason. As Click's.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `drops` (read);
/// `drop_details` (read, with DETAILS).
public final class CheckARPHeader: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    static let reasons = ["tiny packet", "too small for addresses", "bad hardware type/length", "bad protocol type/length"]
    var offset = 0
    var verbose = false
    public private(set) var drops = 0
    var reasonDrops: [Int]?

    public override func configure(_ args: inout Arguments) {
        offset = args.positional("OFFSET", .unsignedInteger) ?? 0
        verbose = args.keyword("VERBOSE", .bool) ?? false
        if args.keyword("DETAILS", .bool) ?? false { reasonDrops = [0, 0, 0, 0] }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let available = p.length - offset
        guard available >= 8 else { return bad(0) }
        let a = p.data + offset
        let hardwareLength = Int(a.byte(4)), protocolLength = Int(a.byte(5))
        let headerLength = 8 + 2 * hardwareLength + 2 * protocolLength
        if available < headerLength { return bad(1) }
        if a.be16(0) == 1 && hardwareLength != 6 { return bad(2) }
        let proto = a.be16(2)
        if (proto == 0x0800 && protocolLength != 4) || (proto == 0x86DD && protocolLength != 16) { return bad(3) }
        p.setNetworkHeader(at: offset, headerLength: headerLength)
        return 0
    }

    func bad(_ reason: Int) -> Int {
        if drops == 0 || verbose { router.chatter("ARP header check failed: \(Self.reasons[reason])") }
        drops &+= 1
        reasonDrops?[reason] += 1
        return 1
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("drops", get: { [unowned self] in self.drops })
        if reasonDrops != nil {
            h.read("drop_details") { [unowned self] in dropDetails(self.reasonDrops ?? [], Self.reasons) }
        }
    }
}
