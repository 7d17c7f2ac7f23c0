import ClickLanguage
import ClickRuntime

/// IPFilter(ACTION_1 PATTERN_1, ..., ACTION_N PATTERN_N)
///
/// Filters IP packets (network header annotation set, e.g. by CheckIPHeader) with rules
/// tried in order: the first whose PATTERN matches decides. ACTION is `allow` (output 0),
/// `deny` or `drop` (dropped), or an output number. A packet matching no rule is dropped.
/// `allow` alone allows everything; `deny all` denies everything. PATTERN uses the filter
/// language of `FilterExpression` (tcpdump-like).
///
/// Ports: 1 input, 1 or more outputs, push.
///
/// Handlers: `program` (read): the compiled decision program.
public final class IPFilter: Element {
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }
    let program = FilterProgram()

    public override func configure(_ args: inout Arguments) {
        var rules: [(FilterExpression, Int)] = []
        for (i, argument) in args.remaining().enumerated() {
            let (action, rest) = ConfigText.firstWord(argument)
            let verdict: Int
            switch action {
            case "allow": verdict = 0
            case "deny", "drop": verdict = -1
            default:
                // Click's words: a slot that is not a 32-bit integer is unknown; one that
                // is not an output is out of range (and the rule is not compiled).
                guard let n = IntegerValue.parse(action).flatMap({ Int32(exactly: $0) }) else {
                    args.error("pattern \(i): unknown slot ID '\(action)'")
                    continue
                }
                guard n >= 0 && Int(n) < noutputs else {
                    args.error("pattern \(i): slot '\(action)' out of range")
                    continue
                }
                verdict = Int(n)
            }
            var parser = FilterParser(rest, context: args.context)
            let parsed = Result { () throws(FilterSyntaxError) in try parser.parseAll() }
            report(parser, parsed, pattern: i, &args)
            if case .success(let e) = parsed { rules.append((e, verdict)) }
        }
        program.compile(rules)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        dispatch(&batch) { program.evaluate($0) }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("program") { [unowned self] in describe(self.program) }
    }
}

/// IPClassifier(PATTERN_1, ..., PATTERN_N)
///
/// Sends each IP packet to the output of the first PATTERN it matches (the IPFilter
/// language; `-` matches everything); packets matching none are dropped.
///
/// Ports: 1 input, N outputs, push. Handlers: `program` (read).
public final class IPClassifier: Element {
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }
    let program = FilterProgram()

    public override func configure(_ args: inout Arguments) {
        var rules: [(FilterExpression, Int)] = []
        let patterns = args.remaining()
        for (i, pattern) in patterns.enumerated() {
            var parser = FilterParser(pattern, context: args.context)
            let parsed = Result { () throws(FilterSyntaxError) in try parser.parseAll() }
            report(parser, parsed, pattern: i, &args)
            if case .success(let e) = parsed { rules.append((e, i)) }
        }
        if patterns.count != noutputs { args.error("need \(noutputs) arguments, one per output port") }
        program.compile(rules)
        if args.succeeded, let reachable = program.reachableOutputs {
            for i in 0..<noutputs where !reachable.contains(i) { args.warning("warning: output \(i) matches no packets") }
        }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        dispatch(&batch) { program.evaluate($0) }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("program") { [unowned self] in describe(self.program) }
    }
}

/// Reports a pattern's warnings and errors as Click words them (`pattern 2: ...`), in the
/// order Click finds them; any error fails the configuration.
func report(_ parser: FilterParser, _ parsed: Result<FilterExpression, FilterSyntaxError>, pattern i: Int, _ args: inout Arguments) {
    for note in parser.notes {
        if note.isError { args.error("pattern \(i): \(note.text)") } else { args.warning("pattern \(i): \(note.text)") }
    }
    if case .failure(let error) = parsed {
        for m in error.messages { args.error("pattern \(i): \(m)") }
    }
}

/// The decision program, one node per line: `index base[offset:length] & mask op value
/// -> yes / no` (verdicts print as `[k]` for output k and `[X]` for drop).
func describe(_ program: FilterProgram) -> String {
    func target(_ t: Int32) -> String { t >= 0 ? "\(t)" : (t == -1 ? "[X]" : "[\(-2 - t)]") }
    var lines = ["start -> \(target(program.entry))"]
    for i in 0..<program.count {
        let n = program.nodes[i]
        if n.op == .oneOf {
            let t = program.tables[Int(n.value)]
            let entries = (Int(t.start)..<Int(t.start + t.count)).map { "\(program.tableValues[$0]) -> \(target(program.tableTargets[$0]))" }
            lines.append("\(i) \(n.base)[\(n.offset):\(n.length)] & \(String(n.mask, radix: 16)) in {\(entries.joined(separator: ", "))} / \(target(n.no))")
        } else {
            lines.append("\(i) \(n.base)[\(n.offset):\(n.length)] & \(String(n.mask, radix: 16)) \(n.op) \(n.value) -> \(target(n.yes)) / \(target(n.no))")
        }
    }
    return lines.joined(separator: "\n") + "\n"
}
