import ClickLanguage
import ClickRuntime

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
    /// What Click reports about the expression and goes on parsing after, in order:
    /// warnings (`warning: relation '> 300' is always false (range 0-255)`) and errors in
    /// a primitive's value (`'ip hl': out of range, bound 15`).
    var notes: [(isError: Bool, text: String)] = []

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
}
