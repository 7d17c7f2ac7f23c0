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

    /// One test of the compiled decision program: does the packet hold VALUE under MASK in
    /// the WIDTH bytes at OFFSET? `yes` and `no` are the next test's index, or (negative)
    /// an outcome: output `-t - 2` (-1: drop). A packet too short for the bytes takes `no`.
    struct Test {
        var offset: Int
        var width: Int
        var mask: UInt64
        var value: UInt64
        var yes: Int32
        var no: Int32
    }
    /// The compiled program in plain memory: the per-packet loop touches no Swift array.
    var program: UnsafeMutablePointer<Test>? = nil
    var entry: Int32 = -1

    deinit {
        program?.deallocate()
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
        if args.succeeded, let reachable = reachableOutputs {
            for i in 0..<noutputs where !reachable.contains(i) { args.warning("warning: output \(i) matches no packets") }
        }
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
            // Bytes the mask ignores at either end are not tested at all, as in Click: a
            // packet too short for them still matches (`47/f0%00` holds for any packet).
            var start = mask.firstIndex { $0 != 0 } ?? value.count
            let stop = (mask.lastIndex { $0 != 0 } ?? -1) + 1
            var chunks: [Chunk] = []
            while start < stop {
                let width = min(8, stop - start)
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

    @inline(__always) static func outcome(_ output: Int) -> Int32 { Int32(-output - 2) }

    /// Compiles the rules into one decision program, as Click does: each rule's tests
    /// fall through to the next rule on failure; then every branch whose result a test
    /// already decided (the same bytes compared again) jumps past the repeated test, so
    /// `Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -)` reads the type field once.
    func compile() {
        var tests: [Test] = []
        // Which rule each test belongs to (for the reachability walk).
        var testRules: [Int] = []
        var fail = Self.outcome(-1)
        for (ruleIndex, rule) in rules.enumerated().reversed() {
            // The rule's clauses, last first, each continuing to `next` when it holds.
            var next = Self.outcome(rule.output)
            for clause in rule.clauses.reversed() {
                // A clause whose mask ignores every byte always holds: negated, the rule
                // can never match (Click: "output N matches no packets").
                if clause.chunks.isEmpty {
                    if clause.negated { next = fail }
                    continue
                }
                // A clause holds when all its chunks match; negated, when one does not.
                let holds = next, fails = fail
                var target = clause.negated ? fails : holds
                for chunk in clause.chunks.reversed() {
                    tests.append(Test(offset: chunk.offset, width: chunk.width, mask: chunk.mask, value: chunk.value,
                                      yes: target, no: clause.negated ? holds : fails))
                    testRules.append(ruleIndex)
                    target = Int32(tests.count - 1)
                }
                next = target
            }
            fail = next
        }
        let start = fail
        // Branch folding: after a test on some bytes, a later test on the same bytes (same
        // offset, width and mask) has a known answer.
        func sameBytes(_ a: Test, _ b: Test) -> Bool { a.offset == b.offset && a.width == b.width && a.mask == b.mask }
        for i in tests.indices {
            var t = tests[i].yes
            var steps = 0
            while t >= 0, steps < tests.count, sameBytes(tests[Int(t)], tests[i]) {
                t = tests[Int(t)].value == tests[i].value ? tests[Int(t)].yes : tests[Int(t)].no
                steps += 1
            }
            tests[i].yes = t
            t = tests[i].no
            steps = 0
            while t >= 0, steps < tests.count, sameBytes(tests[Int(t)], tests[i]), tests[Int(t)].value == tests[i].value {
                t = tests[Int(t)].no
                steps += 1
            }
            tests[i].no = t
        }
        reachableOutputs = Self.reachableOutputs(tests, rules: testRules, entry: start)
        program?.deallocate()
        let p = UnsafeMutablePointer<Test>.allocate(capacity: max(tests.count, 1))
        for (i, t) in tests.enumerated() { (p + i).initialize(to: t) }
        program = p
        entry = start
    }

    /// The outputs some packet can reach (Click's "output N matches no packets" warning):
    /// each path follows only the branches its earlier outcomes on the same bytes allow.
    /// nil when the program is too large to explore.
    var reachableOutputs: Set<Int>?

    static func reachableOutputs(_ tests: [Test], rules: [Int], entry: Int32, limit: Int = 100_000) -> Set<Int>? {
        /// One aligned 4-byte word of a test, as Click's programs compare them: the bytes
        /// `value` under `mask`, in memory order.
        struct Word: Equatable { var offset: Int; var mask: UInt32; var value: UInt32; var rule = 0 }
        func words(_ t: Test) -> [Word] {
            var out: [Word] = []
            for j in 0..<t.width {
                let m = UInt8(truncatingIfNeeded: t.mask >> (8 * UInt64(j)))
                guard m != 0 else { continue }
                let v = UInt8(truncatingIfNeeded: t.value >> (8 * UInt64(j)))
                let at = t.offset + j, base = at & ~3, shift = UInt32(8 * (at - base))
                if out.last?.offset != base { out.append(Word(offset: base, mask: 0, value: 0)) }
                out[out.count - 1].mask |= UInt32(m) << shift
                out[out.count - 1].value |= UInt32(v) << shift
            }
            return out
        }
        let split = tests.map(words)
        /// A path's knowledge: words known under a mask, and single words known not to be a value.
        struct Knowledge { var known: [Word] = []; var not: [Word] = [] }
        var found: Set<Int> = []
        var steps = 0
        var pending: [(Int32, Knowledge)] = [(entry, Knowledge())]
        while let (at, facts) = pending.popLast() {
            steps += 1
            if steps > limit { return nil }
            guard at >= 0 else {
                if at <= -2 { found.insert(Int(-at - 2)) }
                continue
            }
            let t = tests[Int(at)], rule = rules[Int(at)]
            let parts = split[Int(at)].map { var w = $0; w.rule = rule; return w }
            // Decided as far as Click's optimiser decides: a word an earlier rule's test
            // knows under a wider mask (this rule's, under the same mask) gives the answer;
            // a single word an earlier rule knows not to be this value says no.
            var outcome: Bool? = nil
            var allKnown = !parts.isEmpty
            for w in parts {
                if let k = facts.known.first(where: { $0.offset == w.offset && ($0.rule < rule ? w.mask & ~$0.mask == 0 : w.mask == $0.mask) }) {
                    if k.value & w.mask != w.value { outcome = false }
                } else {
                    allKnown = false
                }
            }
            if outcome == nil, parts.count == 1,
                facts.not.contains(where: { $0.rule < rule && $0.offset == parts[0].offset && $0.mask == parts[0].mask && $0.value == parts[0].value }) {
                outcome = false
            }
            if outcome == nil, allKnown { outcome = true }
            if let outcome {
                pending.append((outcome ? t.yes : t.no, facts))
                continue
            }
            var yes = facts, no = facts
            yes.known += parts
            if parts.count == 1 { no.not.append(parts[0]) }
            if yes.known.count > 32 { yes.known.removeFirst(yes.known.count - 32) }
            if no.not.count > 32 { no.not.removeFirst() }
            pending.append((t.no, no))
            pending.append((t.yes, yes))
        }
        return found
    }

    @inline(__always) static func load(_ data: UnsafeMutableRawPointer, _ c: Test) -> UInt64 {
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
        guard let program else { return -1 }
        var t = entry
        while t >= 0 {
            let test = program[Int(t)]
            t = test.offset + test.width <= length && Self.load(data, test) & test.mask == test.value ? test.yes : test.no
        }
        return Int(-t - 2)
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
