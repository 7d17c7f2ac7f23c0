import ClickLanguage
import ClickRuntime
#if canImport(Glibc)
import Glibc
#endif

/// IPPrint([LABEL, *keywords* CONTENTS, PAYLOAD, MAXLENGTH, ID, TTL, TOS, LENGTH, TIMESTAMP, AGGREGATE, PAINT, SWAP, OUTFILE, ACTIVE])
///
/// Prints a tcpdump-like line per IP packet to the router's chatter (or OUTFILE):
/// `LABEL: TIMESTAMP: ` then optional `id N `, `agg N `, `paint N `, `ttl N `, `tos N `,
/// `length N `, then for TCP `SRC.SPORT > DST.DPORT: FLAGS SEQ:END(SEQLEN,PKTLEN,IPLEN)
/// ack N win N`, for UDP `SRC.SPORT > DST.DPORT: udp LEN`, for ICMP `SRC > DST: icmp:
/// echo request (ID, SEQ)` / `echo reply` / `type N`, otherwise `SRC > DST: ip-proto-N`;
/// fragments add ` (frag ID:LEN@OFFSET[+])`. CONTENTS (hex or ascii) or PAYLOAD dumps up
/// to MAXLENGTH bytes (default 1500) of the packet or its payload on following lines.
/// SWAP byte-swaps ICMP identifiers and sequence numbers. Packets pass through.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `active` (read/write).
public final class IPPrint: Element, PacketAction {
    var label = ""
    var contents = 0  // 0 none, 1 hex, 2 ascii
    var payloadOnly = false
    var maxLength = 1500
    var printID = false, printTTL = false, printTOS = false, printLength = false
    var printTimestamp = true, printAggregate = false, printPaint = false, swap = false
    var active = true
    var outfileName: String?
    var outfile: UnsafeMutablePointer<FILE>?

    static func contentsMode(_ word: String) -> Int? {
        switch word.lowercased() {
        case "false", "no", "none", "0": return 0
        case "true", "yes", "hex", "1": return 1
        case "ascii": return 2
        default: return nil
        }
    }

    public override func configure(_ args: inout Arguments) {
        label = args.positional("LABEL", .string) ?? ""
        if let c = args.keyword("CONTENTS", .word) {
            if let m = Self.contentsMode(c) { contents = m } else { args.error("bad contents value '\(c)'", keyword: "CONTENTS") }
        }
        if let c = args.keyword("PAYLOAD", .word) {
            if let m = Self.contentsMode(c) {
                if m != 0 {
                    contents = m
                    payloadOnly = true
                }
            } else {
                args.error("bad payload value '\(c)'", keyword: "PAYLOAD")
            }
        }
        maxLength = args.keyword("MAXLENGTH", .unsignedInteger) ?? 1500
        printID = args.keyword("ID", .bool) ?? false
        printTTL = args.keyword("TTL", .bool) ?? false
        printTOS = args.keyword("TOS", .bool) ?? false
        printLength = args.keyword("LENGTH", .bool) ?? false
        printTimestamp = args.keyword("TIMESTAMP", .bool) ?? true
        printAggregate = args.keyword("AGGREGATE", .bool) ?? false
        printPaint = args.keyword("PAINT", .bool) ?? false
        swap = args.keyword("SWAP", .bool) ?? false
        outfileName = args.keyword("OUTFILE", .string)
        active = args.keyword("ACTIVE", .bool) ?? true
    }

    public override func initialize() throws(ElementError) {
        if let outfileName {
            outfile = fopen(outfileName, "w")
            if outfile == nil { throw ElementError("\(outfileName): \(String(cString: strerror(errno)))") }
        }
    }

    public override func cleanup() {
        if let outfile { fclose(outfile) }
        outfile = nil
    }

    static func protocolName(_ proto: UInt8) -> String {
        switch proto {
        case 6: return "tcp"
        case 17: return "udp"
        case 1: return "icmp"
        default: return "ip-proto-\(proto)"
        }
    }

    /// The line IPPrint prints for `p` (without a final newline).
    public func line(for p: Packet) -> String {
        var s = label.isEmpty ? "" : label + ": "
        if printTimestamp { s += formatTimestamp(p.timestamp) + ": " }
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return s + "(Not an IP packet)" }
        let src = IPv4Address(ip.be32(12)), dst = IPv4Address(ip.be32(16))
        let ipLength = Int(ip.be16(2))
        let hl = Int(ip.byte(0) & 0x0F) << 2
        let payloadLength = ipLength - hl
        if printID { s += "id \(ip.be16(4)) " }
        if printAggregate { s += "agg \(p.annotation32(Annotation.aggregate)) " }
        if printPaint { s += "paint \(p.paint) " }
        if printTTL { s += "ttl \(ip.byte(8)) " }
        if printTOS { s += "tos \(ip.byte(1)) " }
        if printLength { s += "length \(ipLength) " }
        let proto = ip.byte(9)
        let fragment = ip.be16(6)
        let available = p.networkLength - hl
        var transportHeaderLength = 0
        if fragment & 0x1FFF == 0, let t = p.transportHeader {
            switch proto {
            case 6 where available >= 20:
                let sport = t.be16(0), dport = t.be16(2), seq = t.be32(4), ack = t.be32(8), win = t.be16(14)
                let flags = t.byte(13)
                transportHeaderLength = Int(t.byte(12) >> 4) << 2
                var seqLength = UInt32(truncatingIfNeeded: payloadLength - transportHeaderLength)
                s += "\(src).\(sport) > \(dst).\(dport): "
                if flags & 0x02 != 0 { s += "S"; seqLength &+= 1 }
                if flags & 0x01 != 0 { s += "F"; seqLength &+= 1 }
                if flags & 0x04 != 0 { s += "R" }
                if flags & 0x08 != 0 { s += "P" }
                if flags & 0x0F == 0 { s += "." }
                s += " \(seq):\(seq &+ seqLength)(\(seqLength),\(p.length),\(ipLength))"
                if flags & 0x10 != 0 { s += " ack \(ack)" }
                s += " win \(win)"
            case 17 where available >= 8:
                transportHeaderLength = 8
                s += "\(src).\(t.be16(0)) > \(dst).\(t.be16(2)): udp \(t.be16(4))"
            case 1 where available >= 8:
                transportHeaderLength = 8
                s += "\(src) > \(dst): icmp"
                var id = t.be16(4), seq = t.be16(6)
                if swap {
                    id = id.byteSwapped
                    seq = seq.byteSwapped
                }
                switch t.byte(0) {
                case 0: s += ": echo reply (\(id), \(seq))"
                case 8: s += ": echo request (\(id), \(seq))"
                default: s += ": type \(t.byte(0))"
                }
            default:
                let name = Self.protocolName(proto)
                s += "\(src) > \(dst): " + (name.hasPrefix("ip-proto") ? name : "truncated-" + name)
            }
        } else {
            s += "\(src) > \(dst): " + Self.protocolName(proto)
        }
        if fragment & 0x3FFF != 0 {
            s += " (frag \(ip.be16(4)):\(payloadLength)@\(Int(fragment & 0x1FFF) << 3)\(fragment & 0x2000 != 0 ? "+" : ""))"
        }
        if contents != 0 {
            let start = payloadOnly ? min(p.length, (p.networkHeaderOffset ?? 0) + hl + transportHeaderLength) : 0
            let n = min(p.length - start, maxLength)
            s += "\n  "
            let d = p.data + start
            for i in 0..<n {
                let b = d.byte(i)
                if contents == 1 {
                    s += (b < 16 ? "0" : "") + String(b, radix: 16)
                    if i % 24 == 23 && i + 1 < n { s += "\n  " } else if i % 4 == 3 && i + 1 < n { s += " " }
                } else {
                    s.append(b >= 32 && b < 127 ? Character(Unicode.Scalar(b)) : ".")
                    if i % 48 == 47 && i + 1 < n { s += "\n  " } else if i % 8 == 7 && i + 1 < n { s += " " }
                }
            }
        }
        return s
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard active else { return 0 }
        let text = line(for: p)
        if let outfile { fputs(text + "\n", outfile) } else { router.chatter(text) }
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in self.active = v })
    }
}
