import ClickLanguage
import ClickRuntime

/// One field of Click's IPSummaryDump text format: its canonical name, how it is written
/// from a packet, and how it is read into a packet under construction.
enum SummaryField: String, CaseIterable, Sendable {
    case timestamp, tsSec = "ts_sec", tsUsec = "ts_usec"
    case ipSrc = "ip_src", ipDst = "ip_dst", ipProto = "ip_proto", ipLen = "ip_len", ipHL = "ip_hl"
    case ipID = "ip_id", ipTOS = "ip_tos", ipDSCP = "ip_dscp", ipECN = "ip_ecn", ipTTL = "ip_ttl"
    case ipSum = "ip_sum", ipFrag = "ip_frag", ipFragOff = "ip_fragoff", ipCaptureLen = "ip_capture_len"
    case sport, dport, udpLen = "udp_len"
    case tcpSeq = "tcp_seq", tcpAck = "tcp_ack", tcpOff = "tcp_off", tcpFlags = "tcp_flags"
    case tcpWindow = "tcp_window", tcpUrp = "tcp_urp"
    case icmpType = "icmp_type", icmpCode = "icmp_code", icmpTypeName = "icmp_type_name"
    case icmpFlowID = "icmp_flowid", icmpSeq = "icmp_seq"
    case ipOpt = "ip_opt", tcpOpt = "tcp_opt", tcpNtopt = "tcp_ntopt", tcpSack = "tcp_sack"
    case payload, payloadLen = "payload_len", payloadMD5 = "payload_md5", payloadMD5Hex = "payload_md5_hex"
    case count, link, direction, aggregate
    case firstTimestamp = "first_timestamp", ethSrc = "eth_src", ethDst = "eth_dst", wireLen = "wire_len"

    static let synonyms: [String: String] = [
        "length": "ip_len", "ip_p": "ip_proto", "ts": "timestamp", "agg": "aggregate",
        "ether_src": "eth_src", "ether_dst": "eth_dst", "tcp_win": "tcp_window", "paint": "link",
        "sec": "ts_sec", "usec": "ts_usec", "utime": "timestamp",
        "first_ts": "first_timestamp", "packet_count": "count", "pkt_count": "count",
        "icmp_id": "icmp_flowid", "ip_sport": "sport", "ip_dport": "dport", "tcp_sport": "sport",
        "tcp_dport": "dport", "udp_sport": "sport", "udp_dport": "dport", "ip_capture_length": "ip_capture_len",
        "tcp_seqno": "tcp_seq", "tcp_ackno": "tcp_ack", "payload_length": "payload_len",
    ]

    /// The field a name in a `!data` line or a FIELDS argument means: spaces become `_`, a
    /// name without `_` may take an `ip_` prefix (`src`, `len`), and synonyms apply.
    /// Fields written on output but not read back on input.
    static let ignoredOnInput: Set<SummaryField> = [.ipSum, .ipCaptureLen, .ethSrc, .ethDst, .wireLen, .payloadMD5, .payloadMD5Hex]

    static func named(_ raw: String) -> SummaryField? {
        var name = String(raw.lowercased().map { $0 == " " ? "_" : $0 })
        if let s = synonyms[name] { name = s }
        if let f = SummaryField(rawValue: name) { return f }
        if !name.contains("_") {
            let prefixed = "ip_" + name
            if let f = SummaryField(rawValue: synonyms[prefixed] ?? prefixed) { return f }
        }
        return nil
    }

    static let icmpTypeNames: [UInt8: String] = [
        0: "echo-reply", 3: "unreachable", 4: "sourcequench", 5: "redirect", 8: "echo", 9: "routeradvert",
        10: "routersolicit", 11: "timeexceeded", 12: "parameterproblem", 13: "timestamp",
        14: "timestamp-reply", 15: "inforeq", 16: "inforeq-reply", 17: "maskreq", 18: "maskreq-reply",
    ]
    static let tcpFlagLetters: [(Character, UInt16)] = [
        ("F", 0x01), ("S", 0x02), ("R", 0x04), ("P", 0x08), ("A", 0x10), ("U", 0x20), ("E", 0x40), ("C", 0x80), ("N", 0x100),
    ]
}

/// A packet's IP view for the summary writer: the header, what follows it, and whether
/// the transport header is there.
struct SummaryPacketView {
    let packet: Packet
    var ip: UnsafeMutableRawPointer?
    /// Captured bytes from the IP header on.
    var captured = 0
    var headerLength = 0
    var proto: UInt8 = 0
    var firstFragment = false
    var transport: UnsafeMutableRawPointer?
    var transportCaptured = 0

    init(_ p: Packet) {
        packet = p
        guard let nh = p.networkHeaderOffset, p.length >= nh + 20 else { return }
        let ip = p.data + nh
        guard ip.byte(0) >> 4 == 4 else { return }
        self.ip = ip
        captured = p.length - nh
        headerLength = Int(ip.byte(0) & 0x0F) << 2
        proto = ip.byte(9)
        firstFragment = ip.be16(6) & 0x1FFF == 0
        if firstFragment, headerLength >= 20, captured > headerLength {
            transport = ip + headerLength
            transportCaptured = captured - headerLength
        }
    }

    func transportHas(_ n: Int) -> Bool { transport != nil && transportCaptured >= n }
}

/// Writes and reads IPSummaryDump lines.
enum SummaryFormat {
    static func timestamp(_ ns: Int64) -> String { formatTimestamp(ns) }

    /// The text of field `f` for packet `v`, `-` when it does not apply.
    static func unparse(_ f: SummaryField, _ v: SummaryPacketView) -> String {
        let p = v.packet
        switch f {
        case .timestamp: return timestamp(p.timestamp)
        case .tsSec: return String(p.timestamp / 1_000_000_000)
        case .tsUsec: return String((p.timestamp % 1_000_000_000) / 1000)
        case .count: return String(UInt64(p.annotation32(Annotation.extraPackets)) + 1)
        case .link: return String(p.paint)
        case .direction: return p.paint == 0 ? ">" : p.paint == 1 ? "<" : String(p.paint)
        case .aggregate: return String(p.annotation32(Annotation.aggregate))
        case .firstTimestamp:
            let sec = Int64(p.annotation32(Annotation.firstTimestamp)), usec = Int64(p.annotation32(Annotation.firstTimestamp + 4))
            return timestamp(sec * 1_000_000_000 + usec * 1000)
        case .wireLen: return String(p.length + Int(p.annotation32(Annotation.extraLength)))
        case .ethSrc, .ethDst:
            guard let m = p.macHeaderOffset, p.length >= m + 14 else { return "-" }
            let d = p.data + m + (f == .ethSrc ? 6 : 0)
            var v: UInt64 = 0
            for i in 0..<6 { v = v << 8 | UInt64(d.byte(i)) }
            return EtherAddress(v).description
        case .payloadLen:
            let length = payloadSpan(v).length
            return String(v.ip == nil ? length + Int(p.annotation32(Annotation.extraLength)) : length)
        case .payload, .payloadMD5, .payloadMD5Hex:
            let (offset, length) = payloadSpan(v)
            guard length == 0 || offset < p.length else { return "-" }
            let bytes = UnsafeRawBufferPointer(start: p.data + offset, count: max(0, min(length, p.length - offset)))
            switch f {
            case .payload: return quote(bytes)
            case .payloadMD5: return MD5.textDigest(bytes)
            default: return MD5.hexDigest(bytes)
            }
        default: break
        }
        guard let ip = v.ip else { return "-" }
        switch f {
        case .ipSrc: return IPv4Address(ip.be32(12)).description
        case .ipDst: return IPv4Address(ip.be32(16)).description
        case .ipProto:
            switch v.proto {
            case 6: return "T"
            case 17: return "U"
            case 1: return "I"
            default: return String(v.proto)
            }
        case .ipLen: return String(ip.be16(2))
        case .ipHL: return String(v.headerLength)
        case .ipID: return String(ip.be16(4))
        case .ipTOS: return String(ip.byte(1))
        case .ipDSCP: return String(ip.byte(1) >> 2)
        case .ipECN: return ["no", "ect1", "ect2", "ce"][Int(ip.byte(1) & 3)]
        case .ipTTL: return String(ip.byte(8))
        case .ipSum: return String(ip.be16(10))
        case .ipCaptureLen: return String(v.captured)
        case .ipFrag:
            let off = ip.be16(6)
            if off & 0x2000 != 0 && off & 0x1FFF == 0 { return "F" }
            if off & 0x1FFF != 0 { return "f" }
            return off & 0x4000 != 0 ? "!" : "."
        case .ipFragOff:
            let off = ip.be16(6)
            return String(Int(off & 0x1FFF) * 8) + (off & 0x2000 != 0 ? "+" : "") + (off & 0x4000 != 0 ? "!" : "")
        case .ipOpt:
            guard v.headerLength <= 20 || v.captured >= v.headerLength else { return "-" }
            return v.headerLength <= 20 ? "." : SummaryOptions.unparseIP(UnsafeRawBufferPointer(start: ip + 20, count: v.headerLength - 20))
        default: break
        }
        guard let t = v.transport else { return "-" }
        let tcp = v.proto == 6, udp = v.proto == 17, icmp = v.proto == 1
        switch f {
        case .sport: return (tcp || udp) && v.transportHas(2) ? String(t.be16(0)) : "-"
        case .dport: return (tcp || udp) && v.transportHas(4) ? String(t.be16(2)) : "-"
        case .udpLen: return udp && v.transportHas(6) ? String(t.be16(4)) : "-"
        case .tcpSeq: return tcp && v.transportHas(8) ? String(t.be32(4)) : "-"
        case .tcpAck: return tcp && v.transportHas(12) ? String(t.be32(8)) : "-"
        case .tcpOff: return tcp && v.transportHas(13) ? String(Int(t.byte(12) >> 4) << 2) : "-"
        case .tcpFlags:
            guard tcp && v.transportHas(14) else { return "-" }
            let flags = UInt16(t.byte(13)) | (UInt16(t.byte(12) & 1) << 8)
            let letters = SummaryField.tcpFlagLetters.filter { flags & $0.1 != 0 }.map { String($0.0) }.joined()
            return letters.isEmpty ? "." : letters
        case .tcpWindow: return tcp && v.transportHas(16) ? String(t.be16(14)) : "-"
        case .tcpUrp: return tcp && v.transportHas(20) ? String(t.be16(18)) : "-"
        case .icmpType: return icmp && v.transportHas(1) ? String(t.byte(0)) : "-"
        case .icmpCode: return icmp && v.transportHas(2) ? String(t.byte(1)) : "-"
        case .icmpTypeName:
            guard icmp && v.transportHas(1) else { return "-" }
            return SummaryField.icmpTypeNames[t.byte(0)] ?? String(t.byte(0))
        case .icmpFlowID, .icmpSeq:
            guard icmp && v.transportHas(8), [0, 8, 13, 14, 15, 16, 17, 18].contains(t.byte(0)) else { return "-" }
            return String(t.be16(f == .icmpFlowID ? 4 : 6))
        case .tcpOpt, .tcpNtopt, .tcpSack:
            guard tcp, v.transportHas(13) else { return "-" }
            let offset = Int(t.byte(12) >> 4) << 2
            if f != .tcpOpt, offset == 32, v.transportHas(24), t.be32(20) == 0x0101_080A { return "." }
            guard offset > 20 else { return "." }
            guard v.transportHas(offset) else { return "-" }
            let mask: SummaryOptions.Mask = f == .tcpOpt ? .allButPadding : f == .tcpNtopt ? .noTimestamps : .sack
            return SummaryOptions.unparseTCP(UnsafeRawBufferPointer(start: t + 20, count: offset - 20), mask: mask)
        default: return "-"
        }
    }

    /// Where the payload starts in the packet and how long it is by the headers, as Click's
    /// ipsumdump finds them: after the TCP (by its offset) or UDP header of a first fragment,
    /// else from the IP payload on (ICMP headers are payload); a packet without an IP
    /// header is all payload.
    static func payloadSpan(_ v: SummaryPacketView) -> (offset: Int, length: Int) {
        let p = v.packet
        guard let ip = v.ip, let nh = p.networkHeaderOffset else { return (0, p.length) }
        let ipLength = Int(ip.be16(2))
        let tailpad = max(0, v.captured - ipLength)
        var offset = nh + v.headerLength
        if v.firstFragment {
            switch v.proto {
            case 6:
                let transportLength = v.captured - v.headerLength - tailpad
                let th = transportLength >= 13 ? Int(ip.byte(v.headerLength + 12) >> 4) << 2 : 0
                offset += th >= 20 ? th : 20
            case 17, 136: offset += 8
            default: break
            }
        }
        return (offset, max(0, ipLength - (offset - nh)))
    }

    /// A payload as a double-quoted string with C escapes (`"Hi\000"`).
    static func quote(_ bytes: UnsafeRawBufferPointer) -> String {
        var out = "\""
        for b in bytes {
            switch b {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let o = String(b, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - o.count) + o
            }
        }
        return out + "\""
    }

    /// Splits a line into fields: whitespace-separated, with double-quoted strings kept
    /// whole (escapes included).
    static func tokens(_ line: Substring) -> [Substring] {
        var result: [Substring] = []
        var i = line.startIndex
        while i < line.endIndex {
            while i < line.endIndex, line[i].isWhitespace { i = line.index(after: i) }
            guard i < line.endIndex else { break }
            let start = i
            if line[i] == "\"" {
                i = line.index(after: i)
                while i < line.endIndex, line[i] != "\"" {
                    if line[i] == "\\" { i = line.index(after: i) }
                    if i < line.endIndex { i = line.index(after: i) }
                }
                if i < line.endIndex { i = line.index(after: i) }
            }
            while i < line.endIndex, !line[i].isWhitespace { i = line.index(after: i) }
            result.append(line[start..<i])
        }
        return result
    }

    /// Decodes a double-quoted C string (`\n`, `\t`, `\r`, `\\`, `\"`, octal `\ooo`,
    /// hex `\xHH`); nil if it is not one.
    static func unquote(_ text: Substring) -> [UInt8]? {
        let b = Array(text.utf8)
        guard b.count >= 2, b.first == 0x22, b.last == 0x22 else { return nil }
        var out: [UInt8] = []
        var i = 1
        while i < b.count - 1 {
            let c = b[i]
            guard c == 0x5C, i + 1 < b.count - 1 else {
                out.append(c)
                i += 1
                continue
            }
            let e = b[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = Int(e - 48)
                var k = 0
                while k < 2, i < b.count - 1, (48...55).contains(b[i]) {
                    v = v * 8 + Int(b[i] - 48)
                    i += 1
                    k += 1
                }
                out.append(UInt8(truncatingIfNeeded: v))
            case UInt8(ascii: "x"):
                var v = 0
                var k = 0
                while k < 2, i < b.count - 1, let d = hexDigit(b[i]) {
                    v = v * 16 + d
                    i += 1
                    k += 1
                }
                out.append(UInt8(v))
            default: out.append(e)
            }
        }
        return out
    }

    static func hexDigit(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: return Int(c - 48)
        case 65...70: return Int(c - 55)
        case 97...102: return Int(c - 87)
        default: return nil
        }
    }

    /// Parses a timestamp `sec[.frac]` into nanoseconds (microsecond precision and beyond).
    static func parseTimestamp(_ s: Substring) -> Int64? {
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let secText = parts[0]
        guard let sec = secText.isEmpty ? 0 : Int64(secText), sec >= 0 else { return nil }
        var ns: Int64 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard frac.utf8.allSatisfy({ (48...57).contains($0) }), !(secText.isEmpty && frac.isEmpty) else { return nil }
            var digits = 0
            for c in frac.utf8 where digits < 9 {
                ns = ns * 10 + Int64(c - 48)
                digits += 1
            }
            while digits < 9 {
                ns *= 10
                digits += 1
            }
        }
        return sec * 1_000_000_000 + ns
    }

    /// An unsigned number in C notation (decimal, `0x` hex, leading-0 octal).
    static func number(_ s: Substring, max: UInt64) -> UInt64? {
        var v: UInt64?
        if s.hasPrefix("0x") || s.hasPrefix("0X") {
            v = UInt64(s.dropFirst(2), radix: 16)
        } else if s.count > 1 && s.hasPrefix("0") {
            v = UInt64(s.dropFirst(), radix: 8)
        } else {
            v = UInt64(s)
        }
        guard let v, v <= max else { return nil }
        return v
    }
}
