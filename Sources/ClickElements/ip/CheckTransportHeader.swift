import ClickLanguage
import ClickRuntime

/// CheckTCPHeader — CheckUDPHeader — CheckICMPHeader ([*keywords* VERBOSE, DETAILS])
///
/// Check the transport header of IP packets: the right protocol, enough bytes (TCP: the
/// data offset within the packet), and a correct checksum. Bad packets go to output 1, or
/// are dropped. The first bad packet is reported ("TCP header check failed: bad TCP
/// checksum"); with VERBOSE every one is. DETAILS counts drops by reason. A large
/// segment (FromDevice with GSO true) carries an unfinished checksum, which is not
/// checked (as Linux trusts a checksum left to offload).
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `drops` (read);
/// `drop_details` (read, with DETAILS: count and reason per line).
public class CheckTransportHeader: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var proto: UInt8 { 6 }
    var protocolName: String { "TCP" }
    public private(set) var drops = 0
    var verbose = false
    /// Drops by reason (not this protocol, bad length, bad checksum), with DETAILS.
    var reasonDrops: [Int]? = nil

    public override func configure(_ args: inout Arguments) {
        verbose = args.keyword("VERBOSE", .bool) ?? false
        if args.keyword("DETAILS", .bool) ?? false { reasonDrops = [0, 0, 0] }
    }

    func reasonText(_ reason: Int) -> String {
        switch reason {
        case 0: "not \(protocolName)"
        case 1: "bad packet length"
        default: "bad \(protocolName) checksum"
        }
    }

    /// Click's checks, in its order. The transport header is where the IP header says it
    /// ends, fragments included (a later fragment usually fails on length or checksum,
    /// as in Click). TCP: the data offset within the IP length, which the packet holds;
    /// UDP: the UDP length within the packet; ICMP: the rest of the packet, with the
    /// minimum (errors: 36 bytes) or exact (timestamps: 20, information: 8) length of its
    /// type.
    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, let nh = p.networkHeaderOffset, p.length - nh >= 20, ip.byte(9) == proto else { return bad(0) }
        let hl = Int(ip.byte(0) & 0x0F) << 2
        let available = p.length - nh - hl
        let t = ip + hl
        switch proto {
        case 6:
            let length = Int(ip.be16(2)) - hl
            guard length >= 20, available >= length else { return bad(1) }
            let offset = Int(t.byte(12) >> 4) * 4
            guard offset >= 20, offset <= length else { return bad(1) }
            if !p.isLargeSegment, internetChecksum(t, length, initial: pseudoHeaderSum(ip, proto: proto, length: length)) != 0 { return bad(2) }
        case 17:
            guard available >= 8 else { return bad(1) }
            let length = Int(t.be16(4))
            guard length >= 8, available >= length else { return bad(1) }
            if t.be16(6) != 0, !p.isLargeSegment, internetChecksum(t, length, initial: pseudoHeaderSum(ip, proto: proto, length: length)) != 0 { return bad(2) }
        default:
            guard available >= 8 else { return bad(1) }
            switch t.byte(0) {
            case 3, 4, 5, 11, 12: guard available >= 36 else { return bad(1) }
            case 13, 14: guard available == 20 else { return bad(1) }
            case 15, 16: guard available == 8 else { return bad(1) }
            default: break
            }
            guard internetChecksum(t, available) == 0 else { return bad(2) }
        }
        return 0
    }

    /// Counts a bad packet (reporting it as Click does) and sends it to output 1.
    func bad(_ reason: Int) -> Int {
        if drops == 0 || verbose {
            // Click's CheckUDPHeader names no element in its message.
            let prefix = proto == 17 ? "" : "\(declaration): "
            router.chatter("\(prefix)\(protocolName) header check failed: \(reasonText(reason))")
        }
        drops &+= 1
        reasonDrops?[reason] += 1
        return 1
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("drops", get: { [unowned self] in self.drops })
        if reasonDrops != nil {
            h.read("drop_details") { [unowned self] in dropDetails(self.reasonDrops ?? [], (0..<3).map(self.reasonText)) }
        }
    }
}

public final class CheckTCPHeader: CheckTransportHeader {
}

public final class CheckUDPHeader: CheckTransportHeader {
    override var proto: UInt8 { 17 }
    override var protocolName: String { "UDP" }
}

public final class CheckICMPHeader: CheckTransportHeader {
    override var proto: UInt8 { 1 }
    override var protocolName: String { "ICMP" }
}
