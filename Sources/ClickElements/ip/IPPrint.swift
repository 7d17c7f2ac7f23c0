import ClickLanguage
import ClickRuntime
#if canImport(Glibc)
import Glibc
#endif

/// IPPrint([LABEL, *keywords* CONTENTS, PAYLOAD, MAXLENGTH, ID, TTL, TOS, LENGTH, TIMESTAMP, AGGREGATE, PAINT, SWAP, OUTFILE, ACTIVE])
///
/// Prints a tcpdump-like line per IP packet to the router's chatter (or OUTFILE), worded
/// as Click's IPPrint: `LABEL: TIMESTAMP: `, then `#AGG`/`paint N` and `: ` when AGGREGATE
/// or PAINT, then optional `id N `, `ttl N `, `tos N `, `length N `; then for TCP
/// `SRC.SPORT > DST.DPORT: FLAGS SEQ:END(SEQLEN,PKTLEN,IPLEN) ack N win N`, for UDP
/// `SRC.SPORT > DST.DPORT: udp LEN`, for ICMP `SRC > DST: icmp echo (ID, SEQ)`, `icmp
/// echo-reply (ID, SEQ)`, `icmp DST unreachable CODE [PROTO/PORT]` or `icmp TYPE CODE`,
/// otherwise `SRC > DST: ip-proto-N`; short headers print as `truncated-tcp` and the
/// like; fragments add ` (frag ID:LEN@OFFSET[+])`. CONTENTS (hex or ascii) dumps up to
/// MAXLENGTH bytes (default 1500) of the packet, PAYLOAD of what follows the transport
/// header, on following lines. SWAP byte-swaps ICMP identifiers and sequence numbers.
/// Packets pass through.
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

    /// Click's IP protocol names (`unparse_proto`).
    static func protocolName(_ proto: UInt8, prepend: Bool) -> String {
        switch proto {
        case 1: return "icmp"
        case 2: return "igmp"
        case 4: return "ipip"
        case 6: return "tcp"
        case 17: return "udp"
        case 33: return "dccp"
        case 47: return "gre"
        case 132: return "sctp"
        default: return prepend ? "protocol \(proto)" : "\(proto)"
        }
    }

    /// The line IPPrint prints for `p` (without a final newline), as Click's
    /// `IPPrint::simple_action` words it.
    public func line(for p: Packet) -> String {
        var s = label.isEmpty ? "" : label + ": "
        if printTimestamp { s += formatTimestamp(p.timestamp) + ": " }
        if printAggregate { s += "#\(p.annotation32(Annotation.aggregate))" }
        if printPaint { s += (printAggregate ? "." : "paint ") + "\(p.paint)" }
        if printAggregate || printPaint { s += ": " }
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return s + "truncated-ip" }
        let src = IPv4Address(ip.be32(12)), dst = IPv4Address(ip.be32(16))
        let ipLength = Int(ip.be16(2))
        let hl = Int(ip.byte(0) & 0x0F) << 2
        let payloadLength = ipLength - hl
        let transportLength = min(p.transportHeaderOffset.map { p.length - $0 } ?? 0, payloadLength)
        if printID { s += "id \(ip.be16(4)) " }
        if printTTL { s += "ttl \(ip.byte(8)) " }
        if printTOS { s += "tos \(ip.byte(1)) " }
        if printLength { s += "length \(ipLength) " }
        let proto = ip.byte(9)
        let fragment = ip.be16(6)
        let first = fragment & 0x1FFF == 0
        let t = p.transportHeader ?? (ip + hl)
        switch proto {
        case 6:
            if transportLength < 4 || !first {
                s += "\(src) > \(dst): " + (first ? "truncated-tcp" : "tcp")
                break
            }
            s += "\(src).\(t.be16(0)) > \(dst).\(t.be16(2)): "
            guard transportLength >= 14 else { s += "truncated-tcp"; break }
            let transportHeaderLength = Int(t.byte(12) >> 4) << 2
            let flags = t.byte(13)
            var seqLength = UInt32(truncatingIfNeeded: payloadLength - transportHeaderLength)
            if flags & 0x02 != 0 { s += "S"; seqLength &+= 1 }
            if flags & 0x01 != 0 { s += "F"; seqLength &+= 1 }
            if flags & 0x04 != 0 { s += "R" }
            if flags & 0x08 != 0 { s += "P" }
            if flags & 0x0F == 0 { s += "." }
            let seq = t.be32(4)
            s += " \(seq):\(seq &+ seqLength)(\(Int32(bitPattern: seqLength)),\(p.length),\(ipLength))"
            if flags & 0x10 != 0 { s += " ack \(t.be32(8))" }
            guard transportLength >= 16 else { s += "truncated-tcp"; break }
            s += " win \(t.be16(14))"
        case 17:
            if transportLength < 4 || !first {
                s += "\(src) > \(dst): " + (first ? "truncated-udp" : "udp")
                break
            }
            s += "\(src).\(t.be16(0)) > \(dst).\(t.be16(2)): "
            guard transportLength >= 8 else { s += "truncated-udp"; break }
            s += "udp \(t.be16(4))"
        case 1:
            s += "\(src) > \(dst): "
            icmpLine(&s, t, transportLength, first: first)
        default:
            s += "\(src) > \(dst): ip-proto-\(proto)"
        }
        if fragment & 0x3FFF != 0 {
            s += " (frag \(ip.be16(4)):\(payloadLength)@\(Int(fragment & 0x1FFF) << 3)\(fragment & 0x2000 != 0 ? "+" : ""))"
        }
        if contents != 0 {
            // The payload starts after the TCP or UDP header of a first fragment, else at
            // the transport header (Click's PAYLOAD); CONTENTS starts at the packet's data.
            let transportOffset = p.transportHeaderOffset ?? ((p.networkHeaderOffset ?? 0) + hl)
            var start = 0
            if payloadOnly {
                start = transportOffset
                if first && proto == 6 && transportLength >= 13 { start += Int(t.byte(12) >> 4) << 2 }
                if first && proto == 17 { start += 8 }
            }
            let n = start >= p.length ? 0 : min(p.length - start, maxLength)
            let d = p.data + start
            for i in 0..<n {
                let b = d.byte(i)
                if contents == 1 {
                    if i % 24 == 0 { s += "\n  " } else if i % 4 == 0 { s += " " }
                    s += (b < 16 ? "0" : "") + String(b, radix: 16)
                } else {
                    if i % 48 == 0 { s += "\n  " } else if i % 8 == 0 { s += " " }
                    s.append(b >= 32 && b < 127 ? Character(Unicode.Scalar(b)) : ".")
                }
            }
        }
        return s
    }

    /// Click's `icmp_line`, after the address pair.
    func icmpLine(_ s: inout String, _ t: UnsafeMutableRawPointer, _ length: Int, first: Bool) {
        guard first else { s += "icmp"; return }
        guard length >= 2 else { s += "truncated-icmp"; return }
        let type = t.byte(0), code = t.byte(1)
        let codeName = ICMPError.codes[type]?.first(where: { $0.value == code })?.key
        switch type {
        case 0, 8:
            s += type == 0 ? "icmp echo-reply " : "icmp echo "
            guard length >= 8 else { s += "truncated-icmp"; return }
            var id = t.be16(4), seq = t.be16(6)
            if swap { (id, seq) = (id.byteSwapped, seq.byteSwapped) }
            s += "(\(id), \(seq))"
        case 3:
            let name = codeName ?? "code \(code)"
            let quotedLength = length - 8
            guard quotedLength >= 20 else { s += "icmp unreachable \(name) truncated-icmp"; return }
            let inner = t + 8
            let innerHL = Int(inner.byte(0) & 0x0F) << 2
            s += "icmp \(IPv4Address(inner.be32(16))) unreachable \(name)"
            switch code {
            case 2: s += " " + Self.protocolName(inner.byte(9), prepend: false)
            case 3:
                s += " " + Self.protocolName(inner.byte(9), prepend: true)
                guard quotedLength - innerHL >= 4 else { s += "truncated-icmp"; return }
                s += "/\((inner + innerHL).be16(2))"
            case 4:
                if t.be16(6) != 0 { s += " (mtu \(t.be16(6)))" }
            default: break
            }
        default:
            s += "icmp " + (SummaryField.icmpTypeNames[type] ?? "type \(type)")
            if let codeName { s += " " + codeName } else if code != 0 { s += " code \(code)" }
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        // As Click's, a packet without a network header passes without a line.
        guard active, p.networkHeader != nil else { return 0 }
        let text = line(for: p)
        if let outfile { fputs(text + "\n", outfile) } else { router.chatter(text) }
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in self.active = v })
    }
}
