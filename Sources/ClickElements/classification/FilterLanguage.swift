import ClickLanguage
import ClickRuntime

/// One test of the compiled filter program: `(FIELD & mask) OP value`, where FIELD is up to
/// four bytes at `offset` from the network header, the transport header or the MAC header.
/// `proto` restricts the test to a protocol (-1: any, 256: TCP or UDP); transport tests
/// apply to first fragments only. `yes`/`no` name the next node (>= 0) or a verdict
/// (-1 drop, -2 - k output k). A trivial struct, so the per-packet walk touches no Swift
/// object.
public struct FilterNode: Sendable, Equatable {
    public enum Base: UInt8, Sendable { case network, transport, mac, always }
    /// `oneOf`: the compiled form of a chain of `eq` tests on the same field, each failing
    /// into the next (`src host A or src host B or ...`, or rule after rule): `value`
    /// indexes a sorted table of (value, target); no entry means `no`.
    public enum Op: UInt8, Sendable { case eq, ne, lt, gt, le, ge, oneOf }
    public var base: Base
    public var offset: Int32
    public var length: UInt8
    public var op: Op
    public var mask: UInt32
    public var value: UInt32
    public var proto: Int16
    public var yes: Int32
    public var no: Int32
}

/// The IPFilter/IPClassifier expression language (`elements/ip/ipfilter.hh`): primitives
/// (`host`, `net`, `port`, `ip proto`, `ip vers|hl|id|tos|dscp|ttl|len|ect|ce|frag|unfrag`,
/// `tcp opt`, `tcp win`, `icmp type`, `ip[..]`, `transp[..]`, `tcp[..]`, `udp[..]`,
/// `icmp[..]`, `ether host`, `true`, `false`), with `src`/`dst`/`src or dst`/`src and dst`
/// qualifiers, `and or not` (`&& || !`), parentheses, `?:`, relations and masks,
/// abbreviations (a bare `tcp`, `syn`, address, prefix or port name), and qualifiers that
/// carry over (`src port 80 or 81`).
///
/// Chains of `and` and `or` are n-ary nodes, not nested pairs, so that a rule of 100,000
/// alternatives is a flat list: the tree is only as deep as the parentheses, `?:` and
/// `not`s written, and those are limited (`FilterParser.maximumDepth`).
public indirect enum FilterExpression: Sendable, Equatable {
    case test(FilterNode)
    case not(FilterExpression)
    /// Holds when every member holds.
    case all([FilterExpression])
    /// Holds when some member holds.
    case any([FilterExpression])
    case choice(FilterExpression, FilterExpression, FilterExpression)
    case constant(Bool)

    /// `a and b`.
    static func and(_ a: FilterExpression, _ b: FilterExpression) -> FilterExpression { .all([a, b]) }
    /// `a or b`.
    static func or(_ a: FilterExpression, _ b: FilterExpression) -> FilterExpression { .any([a, b]) }
}

public struct FilterSyntaxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

enum FilterNames {
    static let protocols: [String: UInt32] = ["icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17]
    static let ports: [String: UInt32] = [
        "echo": 7, "discard": 9, "daytime": 13, "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25,
        "time": 37, "domain": 53, "dns": 53, "bootps": 67, "bootpc": 68, "tftp": 69, "finger": 79, "www": 80,
        "http": 80, "pop3": 110, "auth": 113, "nntp": 119, "ntp": 123, "imap": 143, "snmp": 161, "snmp-trap": 162,
        "bgp": 179, "irc": 194, "ldap": 389, "https": 443, "syslog": 514, "rip": 520, "imaps": 993, "pop3s": 995,
    ]
    static let icmpTypes: [String: UInt32] = [
        "echo-reply": 0, "unreachable": 3, "sourcequench": 4, "redirect": 5, "echo": 8, "routeradvert": 9,
        "routersolicit": 10, "timeexceeded": 11, "time-exceeded": 11, "parameterproblem": 12, "timestamp": 13,
        "timestamp-reply": 14, "inforeq": 15, "inforeq-reply": 16, "maskreq": 17, "maskreq-reply": 18,
    ]
    static let tcpFlags: [String: UInt32] = ["fin": 1, "syn": 2, "rst": 4, "psh": 8, "ack": 16, "urg": 32]
}

/// Parses filter expressions into `FilterExpression`s.
struct FilterParser {
    enum Direction: Equatable { case none, src, dst, srcOrDst, srcAndDst }
    enum Kind: Equatable { case host, net, port, proto }

    /// What a bare value after `or`/`and` inherits from the previous primitive.
    struct Qualifiers: Equatable {
        var direction = Direction.none
        var proto: String? = nil
        var kind: Kind? = nil
        var op = FilterNode.Op.eq
    }

    var tokens: [String]
    var position = 0
    var last = Qualifiers()
    let context: ValueContext

    init(_ text: String, context: ValueContext) {
        self.context = context
        tokens = FilterParser.tokenize(text)
    }

    static func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        let chars = Array(text)
        var i = 0
        func flush() {
            if !current.isEmpty { out.append(current) }
            current = ""
        }
        while i < chars.count {
            let c = chars[i]
            let next = i + 1 < chars.count ? chars[i + 1] : " "
            if c.isWhitespace {
                flush()
            } else if "()[]?".contains(c) {
                flush()
                out.append(String(c))
            } else if c == ":" && (current.isEmpty || next.isWhitespace) {
                // `:` separates `?:` branches (with spaces); inside `ip[9:1]` or an IPv6 or
                // Ethernet address it stays part of the word.
                flush()
                out.append(":")
            } else if (c == "&" && next == "&") || (c == "|" && next == "|") || (c == "=" && next == "=") || (c == "!" && next == "=")
                || (c == "<" && next == "=") || (c == ">" && next == "=")
            {
                flush()
                out.append(String([c, next]))
                i += 1
            } else if "!<>&=".contains(c) {
                flush()
                out.append(String(c))
            } else {
                current.append(c)
            }
            i += 1
        }
        flush()
        // Brackets with their contents form one token: `ip[9:1]`.
        var merged: [String] = []
        var k = 0
        while k < out.count {
            if out[k] == "[", let last = merged.last, ["ip", "transp", "tcp", "udp", "icmp"].contains(last) {
                var inner = ""
                k += 1
                while k < out.count && out[k] != "]" {
                    inner += out[k]
                    k += 1
                }
                merged[merged.count - 1] = last + "[" + inner + "]"
            } else {
                merged.append(out[k])
            }
            k += 1
        }
        return merged
    }

    var atEnd: Bool { position >= tokens.count }
    func peek(_ offset: Int = 0) -> String? { position + offset < tokens.count ? tokens[position + offset] : nil }

    mutating func take() -> String? {
        guard position < tokens.count else { return nil }
        position += 1
        return tokens[position - 1]
    }

    mutating func accept(_ words: String...) -> Bool {
        if let t = peek(), words.contains(t) {
            position += 1
            return true
        }
        return false
    }

    func error(_ message: String) -> FilterSyntaxError { FilterSyntaxError(message: message) }

    mutating func parseAll() throws(FilterSyntaxError) -> FilterExpression {
        if tokens.isEmpty || tokens == ["-"] || tokens == ["any"] || tokens == ["all"] { return .constant(true) }
        let e = try parseExpression()
        if let t = peek() { throw error("garbage after expression at '\(t)'") }
        return e
    }

    /// How deep parentheses and `?:` may nest: the parser and the compiler recurse once
    /// per level, and a configuration must not be able to exhaust a thread's stack.
    static let maximumDepth = 200
    var depth = 0

    mutating func parseExpression() throws(FilterSyntaxError) -> FilterExpression {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maximumDepth {
            throw error("expression nested too deeply (more than \(Self.maximumDepth) levels of parentheses or '?:')")
        }
        let condition = try parseOr()
        if accept("?") {
            let a = try parseExpression()
            guard accept(":") else { throw error("missing ':' in '?:' expression") }
            let b = try parseExpression()
            return .choice(condition, a, b)
        }
        return condition
    }

    mutating func parseOr() throws(FilterSyntaxError) -> FilterExpression {
        var terms = [try parseAnd()]
        while accept("or", "||") { terms.append(try parseAnd()) }
        return terms.count == 1 ? terms[0] : .any(terms)
    }

    mutating func parseAnd() throws(FilterSyntaxError) -> FilterExpression {
        var terms = [try parseNot()]
        while true {
            if accept("and", "&&") {
                terms.append(try parseNot())
            } else if let t = peek(), ![")", "or", "||", "?", ":"].contains(t) {
                // Juxtaposed terms mean "and".
                terms.append(try parseNot())
            } else {
                return terms.count == 1 ? terms[0] : .all(terms)
            }
        }
    }

    mutating func parseNot() throws(FilterSyntaxError) -> FilterExpression {
        // A chain of negations is counted, not recursed into.
        var negations = 0
        while accept("not", "!") { negations += 1 }
        if negations > 0 {
            let e = try parseNot()
            return negations % 2 == 1 ? .not(e) : e
        }
        if accept("(") {
            let e = try parseExpression()
            guard accept(")") else { throw error("missing ')'") }
            return e
        }
        return try parsePrimitive()
    }

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
        return FilterNames.ports[text]
    }

    func isValueToken(_ t: String) -> Bool {
        if number(t) != nil || IPv4Address.parse(t) != nil || IPv4Prefix.parse(t) != nil || FilterNames.ports[t] != nil { return true }
        return context.addressNames.ipv4(t, context: context.elementName) != nil || context.addressNames.ipv4Prefix(t, context: context.elementName) != nil
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
            if accept("frag") { return Self.test(.network, 6, 2, .ne, value: 0, mask: 0x3FFF) }
            if accept("unfrag") { return Self.test(.network, 6, 2, .eq, value: 0, mask: 0x3FFF) }
            if let t = peek(), isValueToken(t) || parseOpPeek() {
                if last.kind != nil { q = last } else {
                    q.kind = IPv4Prefix.parse(t) != nil ? .net : (IPv4Address.parse(t) != nil ? .host : (FilterNames.ports[t] != nil ? .port : .host))
                    if q.kind == .host, context.addressNames.ipv4(t, context: context.elementName) == nil, context.addressNames.ipv4Prefix(t, context: context.elementName) != nil { q.kind = .net }
                }
            } else {
                throw error("unknown term '\(first)'")
            }
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

/// A filter program compiled from expressions: a decision graph of `FilterNode`s in plain
/// memory, walked once per packet.
final class FilterProgram {
    private(set) var nodes: UnsafeMutablePointer<FilterNode>
    private(set) var count = 0
    private var capacity = 0
    /// Where evaluation starts: a node index, or a verdict (see `FilterNode`).
    private(set) var entry: Int32 = -1

    /// The `oneOf` tables: per table its first entry and entry count in `tableValues` and
    /// `tableTargets` (values sorted ascending).
    private(set) var tables: UnsafeMutablePointer<(start: Int32, count: Int32)>
    private(set) var tableValues: UnsafeMutablePointer<UInt32>
    private(set) var tableTargets: UnsafeMutablePointer<Int32>
    /// Chains of at least this many equality tests become a `oneOf` table.
    static let tableThreshold = 4

    init() {
        nodes = .allocate(capacity: 1)
        capacity = 1
        tables = .allocate(capacity: 1)
        tableValues = .allocate(capacity: 1)
        tableTargets = .allocate(capacity: 1)
    }

    deinit {
        nodes.deallocate()
        tables.deallocate()
        tableValues.deallocate()
        tableTargets.deallocate()
    }

    /// Turns every chain of `tableThreshold` or more `eq` tests on the same field, each
    /// failing into the next, into one `oneOf` node: a binary search instead of a test per
    /// value. The chain's other nodes stay for any other paths into them.
    static func buildTables(_ list: inout [FilterNode]) -> (tables: [(Int32, Int32)], values: [UInt32], targets: [Int32]) {
        func sameField(_ a: FilterNode, _ b: FilterNode) -> Bool {
            a.base == b.base && a.offset == b.offset && a.length == b.length && a.mask == b.mask && a.proto == b.proto
        }
        var tables: [(Int32, Int32)] = []
        var values: [UInt32] = []
        var targets: [Int32] = []
        func chain(from i: Int) -> (members: [Int], exit: Int32) {
            var members = [i]
            var j = list[i].no
            while j >= 0, Int(j) < list.count, members.count <= list.count, list[Int(j)].op == .eq, sameField(list[Int(j)], list[i]) {
                members.append(Int(j))
                j = list[Int(j)].no
            }
            return (members, j)
        }
        // Longest chains first, so that each is converted at its head.
        let candidates = list.indices.filter { list[$0].op == .eq && list[$0].base != .always }
        // Chain lengths, each from its successor's (the chain relation never loops: the
        // program's edges go to earlier-emitted nodes or outcomes).
        var lengths: [Int: Int] = [:]
        func length(_ i: Int) -> Int {
            if let l = lengths[i] { return l }
            var l = 1
            let j = Int(list[i].no)
            if j >= 0, j < list.count, j != i, list[j].op == .eq, sameField(list[j], list[i]) { l += length(j) }
            lengths[i] = l
            return l
        }
        for i in candidates { _ = length(i) }   // ascending: successors first, shallow recursion
        var inChain = [Bool](repeating: false, count: list.count)
        for i in candidates.sorted(by: { lengths[$0, default: 0] > lengths[$1, default: 0] }) where !inChain[i] && list[i].op == .eq {
            let (chain, j) = chain(from: i)
            guard chain.count >= tableThreshold else { continue }
            for k in chain { inChain[k] = true }
            // The first test of a value wins, as in the chain.
            var entries: [UInt32: Int32] = [:]
            for k in chain where entries[list[k].value] == nil { entries[list[k].value] = list[k].yes }
            let sorted = entries.sorted { $0.key < $1.key }
            tables.append((Int32(values.count), Int32(sorted.count)))
            values.append(contentsOf: sorted.map(\.key))
            targets.append(contentsOf: sorted.map(\.value))
            list[i].op = .oneOf
            list[i].value = UInt32(tables.count - 1)
            list[i].yes = -1
            list[i].no = j
        }
        return (tables, values, targets)
    }

    /// Compiles rules in order: the first whose expression holds gives the verdict
    /// (-1 drop, k >= 0 output k); no match drops.
    func compile(_ rules: [(FilterExpression, Int)]) {
        var list: [FilterNode] = []
        var next: Int32 = -1
        for (expression, verdict) in rules.reversed() {
            let target: Int32 = verdict < 0 ? -1 : -2 - Int32(verdict)
            next = emit(expression, yes: target, no: next, into: &list)
        }
        let (t, v, g) = Self.buildTables(&list)
        nodes.deallocate()
        capacity = max(list.count, 1)
        nodes = .allocate(capacity: capacity)
        for (i, n) in list.enumerated() { (nodes + i).initialize(to: n) }
        count = list.count
        entry = next
        tables.deallocate()
        tableValues.deallocate()
        tableTargets.deallocate()
        tables = .allocate(capacity: max(t.count, 1))
        for (i, e) in t.enumerated() { (tables + i).initialize(to: (start: e.0, count: e.1)) }
        tableValues = .allocate(capacity: max(v.count, 1))
        for (i, x) in v.enumerated() { (tableValues + i).initialize(to: x) }
        tableTargets = .allocate(capacity: max(g.count, 1))
        for (i, x) in g.enumerated() { (tableTargets + i).initialize(to: x) }
    }

    private func emit(_ e: FilterExpression, yes: Int32, no: Int32, into list: inout [FilterNode]) -> Int32 {
        switch e {
        case .constant(let b): return b ? yes : no
        case .test(var n):
            n.yes = yes
            n.no = no
            list.append(n)
            return Int32(list.count - 1)
        case .not(let a): return emit(a, yes: no, no: yes, into: &list)
        case .all(let terms):
            var next = yes
            for t in terms.reversed() { next = emit(t, yes: next, no: no, into: &list) }
            return next
        case .any(let terms):
            var next = no
            for t in terms.reversed() { next = emit(t, yes: yes, no: next, into: &list) }
            return next
        case .choice(let c, let a, let b):
            let ya = emit(a, yes: yes, no: no, into: &list)
            let yb = emit(b, yes: yes, no: no, into: &list)
            return emit(c, yes: ya, no: yb, into: &list)
        }
    }

    /// The verdict for `p`: -1 drop, k >= 0 output k.
    @inline(__always) func evaluate(_ p: Packet) -> Int {
        var at = entry
        // The three bases and how many bytes each has; -1 when absent.
        var ip = UnsafeMutableRawPointer(bitPattern: 1).unsafelyUnwrapped
        var ipLength = -1
        var transport = ip
        var transportLength = -1
        var proto: Int16 = -2
        if let header = p.networkHeader, p.networkLength >= 20 {
            ip = header
            ipLength = p.networkLength
            proto = Int16(header.load(fromByteOffset: 9, as: UInt8.self))
            let firstFragment = UInt16(bigEndian: header.loadUnaligned(fromByteOffset: 6, as: UInt16.self)) & 0x1FFF == 0
            if firstFragment, let t = p.transportHeader, let offset = p.transportHeaderOffset {
                transport = t
                transportLength = p.length - offset
            }
        }
        var mac = ip
        var macLength = -1
        if let m = p.macHeader, let o = p.macHeaderOffset {
            mac = m
            macLength = p.length - o
        }
        let nodes = self.nodes
        while at >= 0 {
            let n = nodes[Int(at)]
            let base: UnsafeMutableRawPointer
            var available: Int
            switch n.base {
            case .network:
                base = ip
                available = ipLength
            case .transport:
                base = transport
                available = transportLength
                if n.proto == 256 {
                    if proto != 6 && proto != 17 { available = -1 }
                } else if n.proto >= 0 && proto != n.proto {
                    available = -1
                }
            case .mac:
                base = mac
                available = macLength
            case .always:
                at = n.yes
                continue
            }
            let offset = Int(n.offset)
            var result = false
            if offset + Int(n.length) <= available {
                let v: UInt32
                switch n.length {
                case 1: v = UInt32(base.load(fromByteOffset: offset, as: UInt8.self))
                case 2: v = UInt32(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                case 4: v = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                default:
                    var w: UInt32 = 0
                    for k in 0..<Int(n.length) { w = w << 8 | UInt32(base.load(fromByteOffset: offset + k, as: UInt8.self)) }
                    v = w
                }
                let m = v & n.mask
                switch n.op {
                case .oneOf:
                    let table = tables[Int(n.value)]
                    var lo = Int(table.start), hi = Int(table.start + table.count) - 1
                    while lo <= hi {
                        let mid = (lo + hi) >> 1
                        let x = tableValues[mid]
                        if x == m {
                            at = tableTargets[mid]
                            break
                        }
                        if x < m { lo = mid + 1 } else { hi = mid - 1 }
                    }
                    if lo <= hi { continue }
                    result = false
                case .eq: result = m == n.value
                case .ne: result = m != n.value
                case .lt: result = m < n.value
                case .gt: result = m > n.value
                case .le: result = m <= n.value
                case .ge: result = m >= n.value
                }
            }
            at = result ? n.yes : n.no
        }
        return at == -1 ? -1 : Int(-2 - at)
    }
}
