import ClickLanguage
import ClickRuntime

/// A rewrite pattern, as Click's `IPRewriterPattern` (`elements/ip/iprwpattern.cc`):
/// `SADDR SPORT DADDR DPORT` (NAPT: addresses and ports), or `SADDR DADDR` (addresses only,
/// for IPAddrRewriter), or a name from IPRewriterPatterns. A field is `-` (unchanged) or a
/// value. One field may vary: SPORT as a range `L-H`, or (without ports) SADDR as a range
/// `A-B` or a prefix `A/len` (the network and broadcast addresses left out, unless len is
/// 31 or 32). A variable field tries the flow's own value first when it is in range and
/// free, then a random one and onwards; `#` after it takes values in sequence instead, `?`
/// starts at random without trying the flow's own. A value is free when the reply flow it
/// makes is not in use, so one external port serves many destinations.
public final class RewritePattern {
    var saddr: UInt32 = 0
    var sport: UInt16 = 0
    var daddr: UInt32 = 0
    var dport: UInt16 = 0
    /// The pattern has ports (SADDR SPORT DADDR DPORT); the port varies, not the address.
    var isNAPT = false
    var sequential = false
    var sameFirst = true
    /// How many values above the base the variable field may take (0: it does not vary).
    var variationTop: UInt32 = 0
    var nextVariation: UInt32 = 0
    /// Flows whose every value was found taken, with the table's removal count then:
    /// until a flow is removed, the same search fails at once instead of scanning the
    /// whole range again (an exhausted NAT must not cost a full scan per packet).
    var exhausted: [FlowID: (table: ObjectIdentifier, removals: Int)] = [:]

    /// Click's messages for a bad pattern.
    public enum PatternError: Error, CustomStringConvertible {
        case syntax, noSuchPattern(String), badSourceAddress, badSourcePort, badDestinationAddress, badDestinationPort
        public var description: String {
            switch self {
            case .syntax: return "syntax error"
            case .noSuchPattern(let name): return "no such pattern '\(name)'"
            case .badSourceAddress: return "bad source address"
            case .badSourcePort: return "bad source port"
            case .badDestinationAddress: return "bad destination address"
            case .badDestinationPort: return "bad destination port"
            }
        }
    }

    /// Parses one to four words; one word names a pattern of an IPRewriterPatterns element.
    static func parse(_ words: [String], context: ValueContext, named: (String) -> RewritePattern?) -> Result<RewritePattern, PatternError> {
        guard (1...4).contains(words.count) else { return .failure(.syntax) }
        if words.count == 1 {
            guard let p = named(words[0]) else { return .failure(.noSuchPattern(words[0])) }
            return .success(p)
        }
        let p = RewritePattern()
        var variation: UInt32 = 0
        // Source address.
        if words[0] != "-" {
            if let a = ValueType<IPv4Address>.ipv4Address.parse(words[0], context) {
                p.saddr = a.value
            } else if let (a, v) = addressVariation(words[0], p, context) {
                p.saddr = a
                variation = v
            } else {
                return .failure(.badSourceAddress)
            }
        }
        // Source port: the second word of four, the third of three.
        if words.count >= 3 {
            let w = words[words.count == 3 ? 2 : 1]
            if w != "-" {
                if let v = Int(w), v > 0, v < 65536 {
                    p.sport = UInt16(v)
                } else if let (port, v) = portVariation(w, p) {
                    p.sport = port
                    variation = v
                } else {
                    return .failure(.badSourcePort)
                }
            }
        }
        // Destination address: the second word of two or three, the third of four.
        let d = words[words.count == 4 ? 2 : 1]
        if d != "-" {
            guard let a = ValueType<IPv4Address>.ipv4Address.parse(d, context) else { return .failure(.badDestinationAddress) }
            p.daddr = a.value
        }
        if words.count == 4, words[3] != "-" {
            guard let v = Int(words[3]), v > 0, v < 65536 else { return .failure(.badDestinationPort) }
            p.dport = UInt16(v)
        }
        p.isNAPT = words.count >= 3
        p.variationTop = variation
        return .success(p)
    }

    /// A trailing `#` (sequential) or `?` (not the flow's own first) on a variable field.
    private static func order(_ text: String, _ p: RewritePattern) -> Substring {
        var s = Substring(text)
        if s.last == "#" {
            p.sequential = true
            p.sameFirst = false
            s = s.dropLast()
        } else if s.last == "?" {
            p.sameFirst = false
            s = s.dropLast()
        }
        return s
    }

    private static func addressVariation(_ text: String, _ p: RewritePattern, _ context: ValueContext) -> (UInt32, UInt32)? {
        let s = order(text, p)
        if let dash = s.firstIndex(of: "-") {
            guard let lo = ValueType<IPv4Address>.ipv4Address.parse(String(s[..<dash]), context),
                  let hi = ValueType<IPv4Address>.ipv4Address.parse(String(s[s.index(after: dash)...]), context),
                  hi.value >= lo.value else { return nil }
            return (lo.value, hi.value - lo.value)
        }
        guard let prefix = IPv4Prefix.parse(String(s)) ?? context.addressNames.ipv4Prefix(String(s), context: context.elementName),
              let length = prefix.length, prefix.address.value != 0, length > 0 else { return nil }
        let mask = prefix.mask
        if mask == 0xFFFF_FFFF { return (prefix.address.value, 0) }
        if mask == 0xFFFF_FFFE { return (prefix.address.value & mask, 1) }
        // Not PREFIX.0 nor the broadcast address.
        return ((prefix.address.value & mask) | 1, ~mask - 2)
    }

    private static func portVariation(_ text: String, _ p: RewritePattern) -> (UInt16, UInt32)? {
        let s = order(text, p)
        guard let dash = s.firstIndex(of: "-"), let lo = Int(s[..<dash]), let hi = Int(s[s.index(after: dash)...]),
              lo >= 0, hi >= lo, hi < 65536 else { return nil }
        return (UInt16(lo), UInt32(hi - lo))
    }

    /// Click's `patterns` text: `1.0.0.1 1024-65535 - -`, `1.0.0.1-1.0.0.254 -`.
    public var description: String {
        var s: String
        if !isNAPT && variationTop > 0 {
            s = "\(IPv4Address(saddr))-\(IPv4Address(saddr &+ variationTop))"
        } else {
            s = saddr != 0 ? "\(IPv4Address(saddr))" : "-"
        }
        if isNAPT {
            if sport == 0 { s += " -" } else if variationTop > 0 { s += " \(sport)-\(UInt32(sport) + variationTop)" } else { s += " \(sport)" }
        }
        s += daddr != 0 ? " \(IPv4Address(daddr))" : " -"
        if isNAPT { s += dport != 0 ? " \(dport)" : " -" }
        return s
    }

    /// The rewritten flow for `flow`, whose reply flow is not in `replies`; nil when every
    /// value of the variable field is taken (Click's `rewrite_flowid`).
    func rewrite(_ flow: FlowID, replies: FlowTable, random: inout RandomSource) -> FlowID? {
        var rewritten = flow
        if saddr != 0 { rewritten.saddr = saddr }
        if sport != 0 { rewritten.sport = sport }
        if daddr != 0 { rewritten.daddr = daddr }
        if dport != 0 { rewritten.dport = dport }
        guard variationTop > 0 else { return rewritten }
        var lookup = rewritten.reversed
        var searched = lookup
        (searched.daddr, searched.dport) = isNAPT ? (searched.daddr, 0) : (0, searched.dport)
        if let seen = exhausted[searched] {
            if seen.table == ObjectIdentifier(replies) && seen.removals == replies.removals { return nil }
            exhausted[searched] = nil
        }
        let base = isNAPT ? UInt32(sport) : saddr
        @inline(__always) func set(_ v: UInt32) {
            if isNAPT { lookup.dport = UInt16(truncatingIfNeeded: base &+ v) } else { lookup.daddr = base &+ v }
        }
        var val: UInt32
        if sameFirst {
            // Click compares the flow's source port, even for an address variation.
            val = UInt32(flow.sport) &- base
            if val <= variationTop {
                set(val)
                if replies.find(lookup) < 0 { return chosen(val, lookup, rewritten) }
            }
        }
        val = sequential ? (nextVariation > variationTop ? 0 : nextVariation) : random.clickRandom(0, variationTop)
        var count: UInt32 = 0
        while count <= variationTop {
            set(val)
            if replies.find(lookup) < 0 { return chosen(val, lookup, rewritten) }
            count += 1
            val = val == variationTop ? 0 : val + 1
        }
        if exhausted.count > 4096 { exhausted.removeAll() }
        exhausted[searched] = (ObjectIdentifier(replies), replies.removals)
        return nil
    }

    private func chosen(_ val: UInt32, _ lookup: FlowID, _ rewritten: FlowID) -> FlowID {
        var r = rewritten
        if isNAPT { r.sport = lookup.dport } else { r.saddr = lookup.daddr }
        nextVariation = val &+ 1
        return r
    }
}
