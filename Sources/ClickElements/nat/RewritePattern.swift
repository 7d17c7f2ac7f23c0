import ClickLanguage
import ClickRuntime

/// A rewrite pattern `SADDR SPORT DADDR DPORT` (`elements/ip/iprwpattern.cc`): each field
/// `-` (unchanged) or a value; SADDR may be a range `A1-A2` or a prefix `A/len` (network
/// and broadcast addresses excluded unless len is 31 or 32); SPORT may be a range `L-H`,
/// suffixed `#` (allocate sequentially) or `?` (randomly, without trying the original).
public final class RewritePattern {
    var saddr: ClosedRange<UInt32>?
    var sport: ClosedRange<UInt16>?
    var daddr: UInt32?
    var dport: UInt16?
    var sequential = false
    var random = false
    /// Where the next sequential search starts (offset in the address × port space).
    var cursor = 0
    /// Destinations whose whole space was found in use, with the table's removal count
    /// then: until a flow is removed, new flows to them fail at once instead of scanning
    /// every address and port again (an exhausted NAT must not cost a full scan per packet).
    var exhausted: [FlowID: (table: ObjectIdentifier, removals: Int)] = [:]
    let text: String

    init(text: String) { self.text = text }

    /// Parses the four fields; on failure returns the field's name for the error message.
    static func parse(_ words: [String], context: ValueContext) -> Result<RewritePattern, PatternError> {
        guard words.count == 4 else { return .failure(.wrongFieldCount) }
        let p = RewritePattern(text: words.joined(separator: " "))
        // Source address.
        let sa = words[0]
        if sa != "-" {
            if let dash = sa.firstIndex(of: "-"), let (lo, _) = IPv4Address.parse(String(sa[..<dash])),
                let (hi, _) = IPv4Address.parse(String(sa[sa.index(after: dash)...])), lo.value <= hi.value
            {
                p.saddr = lo.value...hi.value
            } else if sa.contains("/"), let prefix = IPv4Prefix.parse(sa) ?? context.addressNames.ipv4Prefix(sa, context: context.elementName),
                let length = prefix.length
            {
                let net = prefix.network.value, bcast = prefix.broadcast.value
                p.saddr = length >= 31 ? net...bcast : (net + 1)...(bcast - 1)
            } else if let a = ValueType<IPv4Address>.ipv4Address.parse(sa, context) {
                p.saddr = a.value...a.value
            } else {
                return .failure(.badSourceAddress)
            }
        }
        // Source port.
        var sp = Substring(words[1])
        if sp != "-" {
            if sp.hasSuffix("#") {
                p.sequential = true
                sp = sp.dropLast()
            } else if sp.hasSuffix("?") {
                p.random = true
                sp = sp.dropLast()
            }
            if let dash = sp.firstIndex(of: "-"), let lo = UInt16(sp[..<dash]), let hi = UInt16(sp[sp.index(after: dash)...]), lo >= 1, lo <= hi {
                p.sport = lo...hi
            } else if let v = UInt16(sp), v >= 1 {
                p.sport = v...v
            } else {
                return .failure(.badSourcePort)
            }
        }
        if words[2] != "-" {
            guard let a = ValueType<IPv4Address>.ipv4Address.parse(words[2], context) else { return .failure(.badDestinationAddress) }
            p.daddr = a.value
        }
        if words[3] != "-" {
            guard let v = UInt16(words[3]), v >= 1 else { return .failure(.badDestinationPort) }
            p.dport = v
        }
        return .success(p)
    }

    public enum PatternError: Error, CustomStringConvertible {
        case wrongFieldCount, badSourceAddress, badSourcePort, badDestinationAddress, badDestinationPort
        public var description: String {
            switch self {
            case .wrongFieldCount: return "bad pattern: expected 'SADDR SPORT DADDR DPORT'"
            case .badSourceAddress: return "bad source address"
            case .badSourcePort: return "bad source port"
            case .badDestinationAddress: return "bad destination address"
            case .badDestinationPort: return "bad destination port"
            }
        }
    }

    /// Click's `patterns` text: `1.0.0.1 1024-65535 - -`.
    public var description: String {
        func range(_ r: ClosedRange<UInt32>?) -> String {
            guard let r else { return "-" }
            return r.lowerBound == r.upperBound ? "\(IPv4Address(r.lowerBound))" : "\(IPv4Address(r.lowerBound))-\(IPv4Address(r.upperBound))"
        }
        var port = "-"
        if let s = sport { port = s.lowerBound == s.upperBound ? "\(s.lowerBound)" : "\(s.lowerBound)-\(s.upperBound)" }
        if sequential { port += "#" } else if random { port += "?" }
        return "\(range(saddr)) \(port) \(daddr.map { "\(IPv4Address($0))" } ?? "-") \(dport.map(String.init) ?? "-")"
    }

    /// Chooses the rewritten flow for `flow`: a source address and port from the ranges
    /// whose reply flow is not in `table`. Nil when the space is exhausted.
    func allocate(for flow: FlowID, in table: FlowTable, using generator: inout RandomSource) -> FlowID? {
        var result = flow
        if let daddr { result.daddr = daddr }
        if let dport { result.dport = dport }
        let addrLow = saddr?.lowerBound ?? flow.saddr
        let addrCount = Int(saddr.map { $0.upperBound - $0.lowerBound } ?? 0) + 1
        let portLow = sport?.lowerBound ?? flow.sport
        let portCount = Int(sport.map { $0.upperBound - $0.lowerBound } ?? 0) + 1
        let space = addrCount * portCount
        func candidate(_ k: Int) -> FlowID {
            var c = result
            c.saddr = addrLow &+ UInt32(k / portCount)
            c.sport = portLow &+ UInt16(k % portCount)
            return c
        }
        func free(_ c: FlowID) -> Bool { table.find(c.reversed) < 0 }
        // By default keep the original address and port when they fit and are free.
        if !sequential && !random {
            let a = saddr.map { $0.contains(flow.saddr) ? flow.saddr : $0.lowerBound } ?? flow.saddr
            let pt = sport.map { $0.contains(flow.sport) ? flow.sport : $0.lowerBound } ?? flow.sport
            var c = result
            c.saddr = a
            c.sport = pt
            if (sport == nil || sport?.contains(flow.sport) == true) && free(c) { return c }
        }
        var destination = result
        destination.saddr = 0
        destination.sport = 0
        if let seen = exhausted[destination] {
            if seen.table == ObjectIdentifier(table) && seen.removals == table.removals { return nil }
            exhausted[destination] = nil
        }
        var start: Int
        if sequential {
            start = cursor % space
        } else {
            start = Int.random(in: 0..<space, using: &generator)
        }
        for step in 0..<space {
            let k = (start + step) % space
            let c = candidate(k)
            if free(c) {
                if sequential { cursor = k + 1 }
                return c
            }
        }
        if exhausted.count > 4096 { exhausted.removeAll() }
        exhausted[destination] = (ObjectIdentifier(table), table.removals)
        return nil
    }
}

/// Parses `SADDR SPORT DADDR DPORT FOUT ROUT` for the mappers.
func parseMapperPattern(_ words: [String], context: ValueContext) -> (RewritePattern, Int, Int)? {
    guard words.count >= 6, case .success(let p) = RewritePattern.parse(Array(words[0..<4]), context: context),
        let f = Int(words[4]), let r = Int(words[5]), f >= 0, r >= 0
    else { return nil }
    return (p, f, r)
}
