import ClickLanguage
import ClickRuntime

/// Classifier(PATTERN_1, ..., PATTERN_N)
///
/// Sends each packet to the output of the first pattern it matches; packets matching none
/// are dropped. A pattern is a space-separated list of clauses `OFFSET/VALUE[%MASK]`
/// (decimal offset, hex value with `?` for don't-care nibbles, optional hex mask of the
/// same length), each optionally prefixed by `!` to negate it; `-` matches everything.
/// A clause beyond the end of the packet does not match.
///
/// Ports: 1 input, N outputs (one per pattern), push.
///
/// Handlers: `program` (read): the compiled clauses, one per line.
public final class Classifier: Element {
    public override var className: String { "Classifier" }
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }

    /// One comparison of up to 8 bytes: `(load(offset) & mask) == value`, in memory order.
    struct Chunk {
        var offset: Int
        var width: Int
        var value: UInt64
        var mask: UInt64
    }

    struct Clause {
        var chunks: [Chunk]
        var negated: Bool
        var end: Int
    }

    struct Rule {
        var clauses: [Clause]
        var output: Int
    }

    var rules: [Rule] = []

    /// One rule of the compiled program: its chunks in `flat`, the packet length it needs,
    /// whether it is simple (no negated clause), and its output.
    struct RuleHeader {
        var start: Int
        var count: Int
        var needed: Int
        var simple: Bool
        var output: Int
    }
    /// The compiled program in plain memory: the per-packet loop touches no Swift array.
    var flat: UnsafeMutablePointer<Chunk>? = nil
    var headers: UnsafeMutablePointer<RuleHeader>? = nil
    var ruleCount = 0

    deinit {
        flat?.deallocate()
        headers?.deallocate()
    }

    public override func configure(_ args: inout Arguments) {
        let patterns = args.remaining()
        rules = []
        for (i, pattern) in patterns.enumerated() {
            guard let clauses = Self.parse(pattern) else {
                args.error("pattern \(i): parse error")
                continue
            }
            rules.append(Rule(clauses: clauses, output: i))
        }
        if patterns.count != noutputs && !patterns.isEmpty {
            args.error("need \(noutputs) arguments, one per output port")
        }
        compile()
    }

    /// Parses one pattern into clauses; nil on a syntax error.
    static func parse(_ pattern: String) -> [Clause]? {
        let words = ConfigText.words(pattern)
        if words == ["-"] || words.isEmpty && pattern.trimmingCharacters() == "-" { return [] }
        var clauses: [Clause] = []
        for var word in words {
            var negated = false
            if word.hasPrefix("!") {
                negated = true
                word.removeFirst()
            }
            guard let slash = word.firstIndex(of: "/"), let offset = Int(word[..<slash]), offset >= 0, offset < 65536 else { return nil }
            var rest = word[word.index(after: slash)...]
            var maskText: Substring? = nil
            if let percent = rest.firstIndex(of: "%") {
                maskText = rest[rest.index(after: percent)...]
                rest = rest[..<percent]
            }
            let valueDigits = Array(rest)
            guard !valueDigits.isEmpty, valueDigits.count % 2 == 0 else { return nil }
            if let maskText, maskText.count != valueDigits.count { return nil }
            let maskDigits = maskText.map(Array.init) ?? [Character](repeating: "f", count: valueDigits.count)
            var value: [UInt8] = []
            var mask: [UInt8] = []
            for k in stride(from: 0, to: valueDigits.count, by: 2) {
                var v: UInt8 = 0, m: UInt8 = 0
                for j in 0..<2 {
                    let c = valueDigits[k + j]
                    guard let md = maskDigits[k + j].hexDigitValue else { return nil }
                    if c == "?" {
                        v = v << 4
                        m = m << 4
                    } else {
                        guard let d = c.hexDigitValue else { return nil }
                        v = v << 4 | UInt8(d)
                        m = m << 4 | UInt8(md)
                    }
                }
                value.append(v & m)
                mask.append(m)
            }
            var chunks: [Chunk] = []
            var start = 0
            while start < value.count {
                let width = min(8, value.count - start)
                var v: UInt64 = 0, m: UInt64 = 0
                for j in 0..<width {
                    v |= UInt64(value[start + j]) << (8 * UInt64(j))
                    m |= UInt64(mask[start + j]) << (8 * UInt64(j))
                }
                chunks.append(Chunk(offset: offset + start, width: width, value: v, mask: m))
                start += width
            }
            clauses.append(Clause(chunks: chunks, negated: negated, end: offset + value.count))
        }
        return clauses
    }

    func compile() {
        flat?.deallocate()
        headers?.deallocate()
        var all: [Chunk] = []
        let h = UnsafeMutablePointer<RuleHeader>.allocate(capacity: max(rules.count, 1))
        for (r, rule) in rules.enumerated() {
            let simple = !rule.clauses.contains { $0.negated }
            let start = all.count
            if simple { for c in rule.clauses { all.append(contentsOf: c.chunks) } }
            let needed = rule.clauses.map(\.end).max() ?? 0
            (h + r).initialize(to: RuleHeader(start: start, count: all.count - start, needed: needed, simple: simple, output: rule.output))
        }
        let p = UnsafeMutablePointer<Chunk>.allocate(capacity: max(all.count, 1))
        for (i, c) in all.enumerated() { (p + i).initialize(to: c) }
        flat = p
        headers = h
        ruleCount = rules.count
    }

    @inline(__always) static func load(_ data: UnsafeMutableRawPointer, _ c: Chunk) -> UInt64 {
        switch c.width {
        case 8: return data.loadUnaligned(fromByteOffset: c.offset, as: UInt64.self)
        case 4: return UInt64(data.loadUnaligned(fromByteOffset: c.offset, as: UInt32.self))
        case 2: return UInt64(data.loadUnaligned(fromByteOffset: c.offset, as: UInt16.self))
        default:
            var v: UInt64 = 0
            for j in 0..<c.width { v |= UInt64(data.load(fromByteOffset: c.offset + j, as: UInt8.self)) << (8 * UInt64(j)) }
            return v
        }
    }

    @inline(__always) func classify(_ p: Packet) -> Int {
        let data = p.data
        let length = p.length
        guard let flat, let headers else { return -1 }
        for r in 0..<ruleCount {
            let range = headers[r]
            if range.simple {
                if range.needed > length && range.count > 0 { continue }
                var ok = true
                for k in range.start..<(range.start + range.count) {
                    let c = flat[k]
                    if Self.load(data, c) & c.mask != c.value {
                        ok = false
                        break
                    }
                }
                if ok { return range.output }
            } else {
                var ok = true
                for clause in rules[r].clauses {
                    var matched = clause.end <= length
                    if matched {
                        for c in clause.chunks where Self.load(data, c) & c.mask != c.value {
                            matched = false
                            break
                        }
                    }
                    if matched == clause.negated {
                        ok = false
                        break
                    }
                }
                if ok { return rules[r].output }
            }
        }
        return -1
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        dispatch(&batch) { classify($0) }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("program") { [unowned self] in
            var lines: [String] = []
            for rule in self.rules {
                let text = rule.clauses.isEmpty ? "-" : rule.clauses.map { c in
                    (c.negated ? "!" : "") + c.chunks.map { ch in
                        var v = "", m = ""
                        for j in 0..<ch.width {
                            v += hex2(UInt8(truncatingIfNeeded: ch.value >> (8 * UInt64(j))))
                            m += hex2(UInt8(truncatingIfNeeded: ch.mask >> (8 * UInt64(j))))
                        }
                        return "\(ch.offset)/\(v)%\(m)"
                    }.joined(separator: " ")
                }.joined(separator: " ")
                lines.append("\(text) -> \(rule.output)")
            }
            return lines.map { $0 + "\n" }.joined()
        }
    }
}

func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
