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
        if let n = number(text) { return n }
        // PortInfo's names first, then the services list, as Click's NameInfo asks them.
        return (context.addressNames.port(text, context: context.elementName) ?? ServiceNames.port(text)).map { UInt32($0) }
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
            if p == "tcp", accept("win") { return try relation(Field(name: "tcp win", base: .transport, offset: 14, length: 2, full: 0xFFFF, proto: 6)) }
            if p == "icmp", accept("type") {
                let op = parseOp() ?? .eq
                guard let t = take(), let v = number(t) ?? FilterNames.icmpTypes[t] else { throw error("'icmp type': value missing") }
                return try compare(Field(name: "icmp type", base: .transport, offset: 0, length: 1, full: 0xFF, proto: 1), op, v, mask: nil)
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

    /// A header field a relation compares: `length` bytes at `offset` of `base`, of which
    /// the value is the bits `full << shift` (`ip vers` is 4 bits above the low 4).
    struct Field {
        var name: String
        var base: FilterNode.Base
        var offset: Int
        var length: Int
        var shift: UInt32 = 0
        var full: UInt32
        var proto: Int16 = -1
    }

    /// `FIELD [& MASK] [OP] VALUE` after the field's name.
    mutating func relation(_ field: Field) throws(FilterSyntaxError) -> FilterExpression {
        var provided: UInt32? = nil
        if accept("&") {
            guard let m = take().flatMap(number) else { throw error("expected mask") }
            provided = m
        }
        let op = parseOp() ?? .eq
        guard let t = take(), let v = number(t) else { throw error("'\(field.name)': value missing") }
        return try compare(field, op, v, mask: provided)
    }

    /// Click's `Primitive::set_mask`: a mask wider than the field is an error; an order
    /// relation that no value of the field can change is a warning and a constant (`ip ttl
    /// > 255` is always false); a value wider than the field is an error.
    mutating func compare(_ field: Field, _ op: FilterNode.Op, _ value: UInt32, mask provided: UInt32?) throws(FilterSyntaxError) -> FilterExpression {
        let mask = provided.flatMap { $0 == 0 ? nil : $0 } ?? field.full
        // Range errors are noted and parsing goes on, as Click reports every one.
        guard mask & field.full == mask else {
            notes.append((true, "'\(field.name)': mask out of range, bound 0x\(String(field.full, radix: 16, uppercase: true))"))
            return .constant(false)
        }
        let below = op == .lt || op == .ge   // Click's OP_LT, negated for >=
        let above = op == .gt || op == .le   // OP_GT, negated for <=
        if (below && (value == 0 || value > mask)) || (above && value >= mask) {
            let negated = op == .ge || op == .le
            let always = below && value > mask ? !negated : negated
            let spelled = [FilterNode.Op.lt: "<", .ge: ">=", .gt: ">", .le: "<="][op] ?? "="
            notes.append((false, "warning: relation '\(spelled) \(value)' is always \(always) (range 0-\(mask))"))
            // The comparison goes, the field stays: `dst port <= 65535` still wants a TCP
            // or UDP packet, as in Click (`(x & 0) == 0` holds wherever the field exists).
            return Self.test(field.base, field.offset, field.length, always ? .eq : .ne, value: 0, mask: 0, proto: field.proto)
        }
        if below || above {
            // As Click compiles it: `x < v` is `!(x > v - 1)`, and a value with bits the
            // mask lacks is raised to the equivalent one that has only mask bits
            // (`tcp[0] & 5 > 2` is `> 1`).
            var u = below ? value - 1 : value
            let low: UInt32 = (1 << field.shift) - 1
            u = u << field.shift | low
            let m = mask << field.shift | low
            if u & m != u {
                let missing = (u & m) ^ (u & (field.full << field.shift | low))
                // Click shifts by ffs_msb(missing), which is 32 for the lowest bit; on x86
                // a shift by 32 shifts by nothing, so `ip[0:4] & 0xde > 7` becomes `> 0xde`,
                // never true. `&>>` masks the shift the same way.
                let below = missing == 0 ? UInt32.max : UInt32.max &>> UInt32(missing.leadingZeroBitCount + 1)
                u = (u | below) & m
            }
            let negated = op == .lt || op == .le
            return Self.test(field.base, field.offset, field.length, negated ? .le : .gt, value: u, mask: m, proto: field.proto)
        }
        if value > field.full {
            notes.append((true, "'\(field.name)': out of range, bound \(field.full)"))
            return .constant(false)
        }
        // Click compares the value under the mask: `ip[0:2] & 0x1c 59` is `& 0x1c == 0x18`.
        return Self.test(field.base, field.offset, field.length, op, value: (value & mask) << field.shift, mask: mask << field.shift, proto: field.proto)
    }

    mutating func parseIPField(_ field: String) throws(FilterSyntaxError) -> FilterExpression {
        switch field {
        case "vers": return try relation(Field(name: "ip vers", base: .network, offset: 0, length: 1, shift: 4, full: 0xF))
        case "hl": return try relation(Field(name: "ip hl", base: .network, offset: 0, length: 1, full: 0xF))
        case "id": return try relation(Field(name: "ip id", base: .network, offset: 4, length: 2, full: 0xFFFF))
        case "tos": return try relation(Field(name: "ip tos", base: .network, offset: 1, length: 1, full: 0xFF))
        case "dscp": return try relation(Field(name: "ip dscp", base: .network, offset: 1, length: 1, shift: 2, full: 0x3F))
        case "ttl": return try relation(Field(name: "ip ttl", base: .network, offset: 8, length: 1, full: 0xFF))
        case "len": return try relation(Field(name: "ip len", base: .network, offset: 2, length: 2, full: 0xFFFF))
        case "ect": return Self.test(.network, 1, 1, .ne, value: 0, mask: 0x03)
        case "ce": return Self.test(.network, 1, 1, .eq, value: 3, mask: 0x03)
        case "frag": return Self.test(.network, 6, 2, .ne, value: 0, mask: 0x3FFF)
        case "unfrag": return Self.test(.network, 6, 2, .eq, value: 0, mask: 0x3FFF)
        default:
            let op = parseOp() ?? .eq
            guard let t = take() else { throw error("expected protocol") }
            if t == "tcpudp" { return protoTest("tcpudp") }
            guard let v = FilterNames.protocols[t] ?? number(t) else { throw error("unknown protocol '\(t)'") }
            return try compare(Field(name: "proto", base: .network, offset: 9, length: 1, full: 0xFF), op, v, mask: nil)
        }
    }

    /// `ip[POS:LEN]`, `transp[POS]`, `tcp[...]`... followed by an optional mask and relation.
    mutating func parseBytes(_ token: String) throws(FilterSyntaxError) -> FilterExpression {
        guard let open = token.firstIndex(of: "["), token.hasSuffix("]") else { throw error("bad field '\(token)'") }
        let which = String(token[..<open])
        let inside = String(token[token.index(after: open)..<token.index(before: token.endIndex)]).filter { !$0.isWhitespace }
        // `[POS]`, `[POS:LEN]` or `[POS,LAST]`, as Click reads them.
        var pos = 0, length = 1
        func integer(_ text: Substring) -> Int? { IntegerValue.parse(String(text)).flatMap { Int(exactly: $0) } }
        if let colon = inside.firstIndex(of: ":"), let p = integer(inside[..<colon]), let l = integer(inside[inside.index(after: colon)...]) {
            pos = p; length = l
        } else if let comma = inside.firstIndex(of: ","), let p = integer(inside[..<comma]), let last = integer(inside[inside.index(after: comma)...]) {
            pos = p; length = last - p + 1
        } else if let p = integer(inside[...]) {
            pos = p
        } else {
            throw error("syntax error after '[', expected '[POS]' or '[POS:LEN]'")
        }
        // A bad field is noted and its relation read on, as Click goes on parsing.
        var problem: String? = nil
        if !(1...4).contains(length) {
            problem = "LEN in '[POS:LEN]' out of range, should be between 1 and 4"
        } else if pos < 0 || pos >= 65536 || pos / 4 != (pos + length - 1) / 4 {
            problem = "field [\(pos):\(length)] does not fit in a single word"
        }
        if let problem {
            notes.append((true, problem))
            notes.append((true, "specify header field or 'port'"))
            // Its relation is read but not checked (Click has no field to check it against).
            let noted = notes.count
            _ = try relation(Field(name: which + "[...]", base: .network, offset: 0, length: 4, full: .max))
            notes.removeSubrange(noted...)
            return .constant(false)
        }
        let proto: Int16 = which == "tcp" ? 6 : which == "udp" ? 17 : which == "icmp" ? 1 : -1
        let full: UInt32 = length == 4 ? 0xFFFF_FFFF : (1 << (8 * UInt32(length))) - 1
        return try relation(Field(name: (which == "transp" ? "ip" : which) + "[...]", base: which == "ip" ? .network : .transport,
                                  offset: pos, length: length, full: full, proto: proto))
    }

    mutating func value(_ t: String, _ q: Qualifiers) throws(FilterSyntaxError) -> FilterExpression {
        switch q.kind {
        case .port:
            guard let p = portNumber(t) else { throw error("bad port '\(t)'") }
            let proto: Int16 = q.proto == "tcp" ? 6 : q.proto == "udp" ? 17 : 256
            let name = [Direction.src: "src ", .dst: "dst ", .srcOrDst: "src or dst ", .srcAndDst: "src and dst "][q.direction, default: ""] + "port"
            // One comparison (and at most one warning) per primitive, applied to each side.
            let field = Field(name: name, base: .transport, offset: 0, length: 2, full: 0xFFFF, proto: proto)
            let src = try compare(field, q.op, p, mask: nil)
            guard case .test(var node) = src else { return src }
            node.offset = 2
            return directional(q.direction, src: src, dst: .test(node))
        case .proto:
            guard let v = FilterNames.protocols[t] ?? number(t) else { throw error("unknown protocol '\(t)'") }
            return Self.test(.network, 9, 1, q.op, value: v)
        case .host, .net:
            var prefix: IPv4Prefix
            if q.kind == .host {
                if let (a, _) = IPv4Address.parse(t) { prefix = IPv4Prefix(address: a, length: 32) }
                else if let a = context.addressNames.ipv4(t, context: context.elementName) { prefix = IPv4Prefix(address: a, length: 32) }
                else if let p = IPv4Prefix.parse(t) ?? context.addressNames.ipv4Prefix(t, context: context.elementName) { prefix = p }
                else { throw error("bad IP address '\(t)'") }
            } else {
                guard let p = IPv4Prefix.parse(t, allowBare: true) ?? context.addressNames.ipv4Prefix(t, context: context.elementName) else {
                    throw error("bad IP prefix '\(t)'")
                }
                prefix = IPv4Prefix(address: p.network, mask: p.mask)
            }
            // `net A mask M`, `host A mask M`: the mask replaces the prefix's.
            if accept("mask") {
                guard let t = take(), let (m, _) = IPv4Address.parse(t) else { throw error("'ip \(q.kind == .host ? "host" : "net")': bad mask") }
                prefix = IPv4Prefix(address: IPv4Address(prefix.address.value & m.value), mask: m.value)
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
