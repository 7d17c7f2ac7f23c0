import ClickLanguage
import ClickRuntime

/// The primitives of the filter language: what follows `host`, `net`, `port`, `ip`, `tcp`,
/// `udp`, `icmp`, `ether` and the bracketed byte ranges, with Click's abbreviations.
extension FilterParser {
    // MARK: Primitives

    static func test(_ base: FilterNode.Base, _ offset: Int, _ length: Int, _ op: FilterNode.Op = .eq, value: UInt32, mask: UInt32 = 0xFFFF_FFFF, proto: Int16 = -1) -> FilterExpression {
        let full: UInt32 = length >= 4 ? 0xFFFF_FFFF : (1 << (8 * UInt32(length))) - 1
        return .test(FilterNode(base: base, offset: Int32(offset), length: UInt8(length), op: op, mask: mask & full, value: value, proto: proto, yes: 0, no: 0))
    }

    mutating func parseOp() -> FilterNode.Op? {
        switch peek() {
        case "==", "=": position += 1; return .eq
        case "!=": position += 1; return .ne
        case "<": position += 1; return .lt
        case ">": position += 1; return .gt
        case "<=": position += 1; return .le
        case ">=": position += 1; return .ge
        default: return nil
        }
    }

    func number(_ text: String) -> UInt32? {
        IntegerValue.parse(text, signed: false).flatMap { UInt32(exactly: $0) }
    }

    func portNumber(_ text: String) -> UInt32? {
        if let n = number(text), n <= 65535 { return n }
        // PortInfo's names first, then the services list, as Click's NameInfo asks them.
        return context.addressNames.port(text, context: context.elementName).map { UInt32($0) } ?? FilterNames.ports[text]
    }

    func isValueToken(_ t: String) -> Bool {
        if number(t) != nil || IPv4Address.parse(t) != nil || IPv4Prefix.parse(t) != nil || portNumber(t) != nil { return true }
        return context.addressNames.ipv4(t, context: context.elementName) != nil || context.addressNames.ipv4Prefix(t, context: context.elementName) != nil
    }

    /// The kind a bare value implies: a prefix is a net, an address (or an AddressInfo
    /// name) a host, a number or port name a port.
    func impliedKind(_ t: String) -> Kind {
        var kind: Kind = IPv4Prefix.parse(t) != nil ? .net : (IPv4Address.parse(t) != nil ? .host : (portNumber(t) != nil ? .port : .host))
        if kind == .host, context.addressNames.ipv4(t, context: context.elementName) == nil,
            context.addressNames.ipv4Prefix(t, context: context.elementName) != nil
        {
            kind = .net
        }
        return kind
    }

    mutating func parsePrimitive() throws(FilterSyntaxError) -> FilterExpression {
        guard let first = peek() else { throw error("missing term") }
        switch first {
        case "true", "-", "any", "all":
            position += 1
            return .constant(true)
        case "false":
            position += 1
            return .constant(false)
        default: break
        }
        if first.hasPrefix("ip[") || first.hasPrefix("transp[") || first.hasPrefix("tcp[") || first.hasPrefix("udp[") || first.hasPrefix("icmp[") {
            position += 1
            return try parseBytes(first)
        }
        var q = Qualifiers()
        var sawQualifier = false
        if accept("src") {
            q.direction = .src
            sawQualifier = true
            if accept("or") { guard accept("dst") else { throw error("expected 'dst'") }; q.direction = .srcOrDst }
            else if accept("and") { guard accept("dst") else { throw error("expected 'dst'") }; q.direction = .srcAndDst }
        } else if accept("dst") {
            q.direction = .dst
            sawQualifier = true
        }
        if accept("ether") {
            guard accept("host") else { throw error("expected 'host' after 'ether'") }
            guard let t = take(), let e = EtherAddress.parse(t) ?? context.addressNames.ether(t, context: context.elementName) else {
                throw error("expected Ethernet address")
            }
            return etherHost(e, q.direction)
        }
        if let p = peek(), ["ip", "tcp", "udp", "icmp", "igmp", "ipip", "tcpudp"].contains(p) {
            position += 1
            // `ip` introduces an IP field; a protocol name alone is `ip proto NAME`.
            if p == "ip", let field = peek(), ["vers", "hl", "id", "tos", "dscp", "ttl", "len", "ect", "ce", "frag", "unfrag", "proto", "p"].contains(field) {
                position += 1
                return try parseIPField(field)
            }
            if p == "tcp", accept("opt") { return try tcpOption(take() ?? "") }
            if p == "tcp", accept("win") { return try relation(.transport, 14, 2, proto: 6) }
            if p == "icmp", accept("type") {
                let op = parseOp() ?? .eq
                guard let t = take(), let v = number(t) ?? FilterNames.icmpTypes[t] else { throw error("expected ICMP type") }
                return Self.test(.transport, 0, 1, op, value: v, proto: 1)
            }
            // `icmp NAME`: an ICMP type name after `icmp` is `icmp type NAME`.
            if p == "icmp", let t = peek(), let v = FilterNames.icmpTypes[t] {
                position += 1
                return Self.test(.transport, 0, 1, .eq, value: v, proto: 1)
            }
            if p != "ip" { q.proto = p }
            sawQualifier = true
            if peek() == nil || ![ "host", "net", "port", "src", "dst"].contains(peek() ?? "") {
                if p == "ip" { return .constant(true) }
                guard !(q.direction != .none) else { throw error("expected 'port' after protocol") }
                return protoTest(p)
            }
            if accept("src") { q.direction = .src } else if accept("dst") { q.direction = .dst }
        }
        if accept("host") { q.kind = .host; sawQualifier = true }
        else if accept("net") { q.kind = .net; sawQualifier = true }
        else if accept("port") { q.kind = .port; sawQualifier = true }
        else if accept("proto") { q.kind = .proto; sawQualifier = true }

        if !sawQualifier {
            // Abbreviations and carried-over qualifiers.
            if let t = peek(), FilterNames.tcpFlags[t] != nil {
                position += 1
                return try tcpOption(t)
            }
            // A bare ICMP type name is `icmp type NAME`, unless it names a port too.
            if let t = peek(), let v = FilterNames.icmpTypes[t], last.kind == nil,
                !(position > 0 && ["tcp", "udp", "tcpudp"].contains(tokens[position - 1]) && portNumber(t) != nil)
            {
                if portNumber(t) != nil {
                    throw error("'<none>  \(t)' is ambiguous; try 'port  \(t)', 'port  \(t)', 'icmp type  \(t)'")
                }
                position += 1
                return Self.test(.transport, 0, 1, .eq, value: v, proto: 1)
            }
            if accept("frag") { return Self.test(.network, 6, 2, .ne, value: 0, mask: 0x3FFF) }
            if accept("unfrag") { return Self.test(.network, 6, 2, .eq, value: 0, mask: 0x3FFF) }
            if let t = peek(), isValueToken(t) || parseOpPeek() {
                if last.kind != nil { q = last } else { q.kind = impliedKind(t) }
            } else {
                throw error("unknown term '\(first)'")
            }
        } else if q.kind == nil, q.direction != .none, let t = peek(), isValueToken(t) {
            // A direction with a value and no kind (`src 1.0.0.1`, `dst 10.0.0.0/8`): the
            // kind the value implies, as Click reads it; after a protocol Click wants `port`.
            guard q.proto == nil else { throw error("specify header field or 'port'") }
            q.kind = impliedKind(t)
        }
        q.op = parseOp() ?? (sawQualifier ? .eq : q.op)
        if q.kind == nil {
            if let p = q.proto { return protoTest(p) }
            throw error("expected 'host', 'net' or 'port'")
        }
        guard let valueToken = take() else { throw error("missing value") }
        last = q
        return try value(valueToken, q)
    }

    func parseOpPeek() -> Bool { ["==", "!=", "<", ">", "<=", ">="].contains(peek() ?? "") }

    func protoTest(_ p: String) -> FilterExpression {
        if p == "tcpudp" { return .or(Self.test(.network, 9, 1, value: 6), Self.test(.network, 9, 1, value: 17)) }
        return Self.test(.network, 9, 1, value: FilterNames.protocols[p] ?? 0)
    }

    func tcpOption(_ name: String) throws(FilterSyntaxError) -> FilterExpression {
        guard let flag = FilterNames.tcpFlags[name] else { throw error("unknown TCP option '\(name)'") }
        return Self.test(.transport, 13, 1, .ne, value: 0, mask: flag, proto: 6)
    }

    func etherHost(_ e: EtherAddress, _ d: Direction) -> FilterExpression {
        func at(_ offset: Int) -> FilterExpression {
            .and(Self.test(.mac, offset, 4, value: UInt32(truncatingIfNeeded: e.value >> 16)),
                 Self.test(.mac, offset + 4, 2, value: UInt32(truncatingIfNeeded: e.value & 0xFFFF)))
        }
        switch d {
        case .src: return at(6)
        case .dst: return at(0)
        case .srcAndDst: return .and(at(6), at(0))
        case .none, .srcOrDst: return .or(at(6), at(0))
        }
    }

    mutating func relation(_ base: FilterNode.Base, _ offset: Int, _ length: Int, proto: Int16 = -1, shift: UInt32 = 0, fieldMask: UInt32 = 0xFFFF_FFFF) throws(FilterSyntaxError) -> FilterExpression {
        var mask = fieldMask
        if accept("&") {
            guard let m = take().flatMap(number) else { throw error("expected mask") }
            mask &= m << shift
        }
        let op = parseOp() ?? .eq
        guard let t = take(), let v = number(t) else { throw error("expected number") }
        return Self.test(base, offset, length, op, value: v << shift, mask: mask, proto: proto)
    }

    mutating func parseIPField(_ field: String) throws(FilterSyntaxError) -> FilterExpression {
        switch field {
        case "vers": return try relation(.network, 0, 1, shift: 4, fieldMask: 0xF0)
        case "hl":
            // Header length in bytes; the field counts 32-bit words.
            let op = parseOp() ?? .eq
            guard let t = take(), let v = number(t) else { throw error("expected number") }
            return Self.test(.network, 0, 1, op, value: v / 4, mask: 0x0F)
        case "id": return try relation(.network, 4, 2)
        case "tos": return try relation(.network, 1, 1)
        case "dscp": return try relation(.network, 1, 1, shift: 2, fieldMask: 0xFC)
        case "ttl": return try relation(.network, 8, 1)
        case "len": return try relation(.network, 2, 2)
        case "ect": return Self.test(.network, 1, 1, .ne, value: 0, mask: 0x03)
        case "ce": return Self.test(.network, 1, 1, .eq, value: 3, mask: 0x03)
        case "frag": return Self.test(.network, 6, 2, .ne, value: 0, mask: 0x3FFF)
        case "unfrag": return Self.test(.network, 6, 2, .eq, value: 0, mask: 0x3FFF)
        default:
            let op = parseOp() ?? .eq
            guard let t = take() else { throw error("expected protocol") }
            if t == "tcpudp" { return protoTest("tcpudp") }
            guard let v = FilterNames.protocols[t] ?? number(t) else { throw error("unknown protocol '\(t)'") }
            return Self.test(.network, 9, 1, op, value: v)
        }
    }

    /// `ip[POS:LEN]`, `transp[POS]`, `tcp[...]`... followed by an optional mask and relation.
    mutating func parseBytes(_ token: String) throws(FilterSyntaxError) -> FilterExpression {
        guard let open = token.firstIndex(of: "["), token.hasSuffix("]") else { throw error("bad field '\(token)'") }
        let which = String(token[..<open])
        let inside = token[token.index(after: open)..<token.index(before: token.endIndex)]
        let parts = inside.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let pos = Int(parts[0]), pos >= 0, pos < 65536 else { throw error("bad offset in '\(token)'") }
        let length = parts.count == 2 ? Int(parts[1]) ?? 0 : 1
        guard (1...4).contains(length) else { throw error("field length must be 1 to 4 in '\(token)'") }
        let proto: Int16 = which == "tcp" ? 6 : which == "udp" ? 17 : which == "icmp" ? 1 : -1
        return try relation(which == "ip" ? .network : .transport, pos, length, proto: proto)
    }

    func value(_ t: String, _ q: Qualifiers) throws(FilterSyntaxError) -> FilterExpression {
        switch q.kind {
        case .port:
            guard let p = portNumber(t) else { throw error("bad port '\(t)'") }
            let proto: Int16 = q.proto == "tcp" ? 6 : q.proto == "udp" ? 17 : 256
            func side(_ offset: Int) -> FilterExpression { Self.test(.transport, offset, 2, q.op, value: p, proto: proto) }
            return directional(q.direction, src: side(0), dst: side(2))
        case .proto:
            guard let v = FilterNames.protocols[t] ?? number(t) else { throw error("unknown protocol '\(t)'") }
            return Self.test(.network, 9, 1, q.op, value: v)
        case .host, .net:
            let prefix: IPv4Prefix
            if q.kind == .host {
                if let (a, _) = IPv4Address.parse(t) { prefix = IPv4Prefix(address: a, length: 32) }
                else if let a = context.addressNames.ipv4(t, context: context.elementName) { prefix = IPv4Prefix(address: a, length: 32) }
                else if let p = IPv4Prefix.parse(t) ?? context.addressNames.ipv4Prefix(t, context: context.elementName) { prefix = p }
                else { throw error("bad IP address '\(t)'") }
            } else {
                guard let p = IPv4Prefix.parse(t, allowBare: true) ?? context.addressNames.ipv4Prefix(t, context: context.elementName) else {
                    throw error("bad IP prefix '\(t)'")
                }
                var parsed = p
                // `net A mask M`.
                if peek() == "mask" {
                    throw error("use 'net A/M' instead of 'net A mask M'")
                }
                parsed = IPv4Prefix(address: parsed.network, mask: parsed.mask)
                prefix = parsed
            }
            func side(_ offset: Int) -> FilterExpression {
                Self.test(.network, offset, 4, q.op, value: prefix.address.value & prefix.mask, mask: prefix.mask)
            }
            var e = directional(q.direction, src: side(12), dst: side(16))
            if let p = q.proto { e = .and(protoTest(p), e) }
            return e
        case nil:
            throw error("missing qualifier")
        }
    }

    func directional(_ d: Direction, src: FilterExpression, dst: FilterExpression) -> FilterExpression {
        switch d {
        case .src: return src
        case .dst: return dst
        case .srcAndDst: return .and(src, dst)
        case .none, .srcOrDst: return .or(src, dst)
        }
    }
}
