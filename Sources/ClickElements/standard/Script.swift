import ClickLanguage
import ClickRuntime

/// Script([TYPE TYPE,] INSTRUCTIONS...) — and DriverManager(INSTRUCTIONS...)
///
/// Runs a small program, one instruction per argument, to drive a configuration:
/// `set VAR TEXT` / `setq`, `init VAR TEXT`, `print TEXT` / `printn`, `read HANDLER [ARGS]`,
/// `write HANDLER [ARGS]`, `wait TIME`, `pause`, `wait_stop`, `label L`, `goto L [COND]`,
/// `loop`, `return`, `end`, `exit`, `stop`, `error [MSG]`. Text is expanded first:
/// `$VAR`, `${VAR}`, and `$(HANDLER ARGS)` calls a read handler, either another element's
/// (`$(c.count)`) or one of the script's own: `add sub mul div idiv mod rem min max neg abs
/// eq ne lt gt le ge not and or if first length now random unquote cat sprintf`.
///
/// TYPE ACTIVE (the default) starts at initialization; PASSIVE waits for its `run`
/// handler. DriverManager is a Script of TYPE DRIVER: stop events (sources' STOP, the
/// `stop` handler) advance it at `wait_stop` instead of stopping the router, and the
/// router stops when its script ends.
///
/// Ports: none. Handlers: `step`, `run`, `goto` (write); `$VAR` values through `get`
/// (read with a name) and `set` (write); the builtins, read with parameters: `add`, `sub`,
/// `mul`, `div`, `idiv`, `mod`, `rem`, `min`, `max`, `neg`, `abs`, `eq`, `ne`, `lt`, `gt`,
/// `le`, `ge`, `not`, `and`, `or`, `if`, `first`, `length`, `now`, `random`, `unquote`,
/// `cat`, `sprintf`.
public class Script: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.last }

    enum Kind { case active, passive, driver }
    var kind = Kind.active
    var instructions: [(op: String, text: String)] = []
    var variables: [String: String] = [:]
    var pc = 0
    var waitingForStop = false
    var pendingStops = 0
    var paused = false
    var timer: Timer?
    var steps = 0

    static let operations: Set<String> = ["set", "setq", "init", "print", "printn", "read", "readq", "write", "writeq", "wait", "pause",
                                          "wait_stop", "wait_step", "label", "goto", "loop", "return", "end", "exit", "stop", "error", "export"]

    func defaultKind() -> Kind { .active }

    public override func configure(_ args: inout Arguments) {
        kind = defaultKind()
        var list = args.remaining()
        if let first = list.first {
            let (word, rest) = ConfigText.firstWord(first)
            if word == "TYPE" {
                switch rest.uppercased() {
                case "ACTIVE": kind = .active
                case "PASSIVE": kind = .passive
                case "DRIVER": kind = .driver
                default: args.error("unknown type '\(rest)'", keyword: "TYPE")
                }
                list.removeFirst()
            }
        }
        instructions = []
        for (i, text) in list.enumerated() {
            let (op, rest) = ConfigText.firstWord(text)
            guard Self.operations.contains(op) else {
                args.error("instruction \(i + 1): unknown instruction '\(op)'")
                continue
            }
            if op == "init" {
                let (name, value) = ConfigText.firstWord(rest)
                variables[name] = expand(value)
            }
            instructions.append((op, rest))
        }
        for (i, ins) in instructions.enumerated() where ins.op == "goto" {
            let label = ConfigText.firstWord(ins.text).word
            if labelIndex(label) == nil && label != "exit" && label != "end" && label != "loop" {
                args.error("instruction \(i + 1): no such label '\(label)'")
            }
        }
    }

    func labelIndex(_ name: String) -> Int? {
        instructions.firstIndex { $0.op == "label" && ConfigText.firstWord($0.text).word == name }
    }

    public override func initialize() throws(ElementError) {
        timer = makeTimer()
        if kind == .driver {
            router.stopInterceptor = { [unowned self] in self.stopEvent() }
        }
        if kind != .passive { timer?.schedule(after: 0) }
    }

    public override func cleanup() { timer?.unschedule() }

    public override func runTimer(_ timer: Timer) { run() }

    /// A driver stop event: advances a DriverManager instead of stopping the router.
    func stopEvent() -> Bool {
        guard kind == .driver else { return false }
        if waitingForStop {
            waitingForStop = false
            timer?.schedule(after: 0)
        } else {
            pendingStops += 1
        }
        return true
    }

    func finish() {
        pc = instructions.count
        if kind == .driver {
            router.stopInterceptor = nil
            router.scheduler.stop()
        }
    }

    /// Runs instructions until one waits.
    func run() {
        paused = false
        var budget = 100_000
        while pc < instructions.count {
            budget -= 1
            if budget == 0 {
                router.chatter("\(landmark): \(declaration): too many steps without waiting")
                finish()
                return
            }
            let (op, raw) = instructions[pc]
            pc += 1
            switch op {
            case "set", "setq":
                let (name, value) = ConfigText.firstWord(raw)
                let v = expand(value)
                variables[name] = op == "setq" ? ConfigText.unquote(v) : v
            case "init", "label", "export":
                continue
            case "print", "printn":
                let errorsBefore = expansionErrors
                var text = expand(raw)
                if text.hasPrefix("\"") { text = ConfigText.unquote(text) }
                // As Click: no newline is added after an expansion that reported an error.
                let newline = op == "print" && expansionErrors == errorsBefore && !text.hasSuffix("\n")
                router.standardOutput(newline ? text + "\n" : text)
            case "read", "readq":
                let (handler, args) = ConfigText.firstWord(expand(raw))
                do {
                    let value = try router.read(handler, parameter: args)
                    router.standardOutput("\(handler):\n\(value)" + (value.hasSuffix("\n") ? "" : "\n"))
                } catch {
                    router.chatter("\(landmark): \(error.message)")
                }
            case "write", "writeq":
                let (handler, args) = ConfigText.firstWord(expand(raw))
                do {
                    try router.write(handler, op == "writeq" ? ConfigText.unquote(args) : args)
                } catch {
                    router.chatter("\(landmark): \(error.message)")
                }
                if router.replacement != nil { return }
            case "wait", "wait_time":
                let text = expand(raw)
                if text.isEmpty {
                    paused = true
                    return
                }
                guard case .value(let nanoseconds) = ValueType.timestamp.read(text, ValueContext()) else {
                    router.chatter("\(landmark): bad time '\(text)'")
                    continue
                }
                timer?.schedule(after: nanoseconds)
                return
            case "pause", "wait_step":
                paused = true
                return
            case "wait_stop":
                if pendingStops > 0 {
                    pendingStops -= 1
                    continue
                }
                waitingForStop = true
                if kind != .driver { router.chatter("\(landmark): wait_stop outside a DriverManager") }
                return
            case "goto":
                let (label, condition) = ConfigText.firstWord(raw)
                if !condition.isEmpty, !(BoolValue.parse(expand(condition).trimmingCharacters()) ?? false) { continue }
                if label == "exit" || label == "end" {
                    finish()
                    return
                }
                if label == "loop" {
                    pc = 0
                } else if let target = labelIndex(label) {
                    pc = target + 1
                }
            case "loop":
                pc = 0
            case "return", "end", "exit":
                finish()
                return
            case "stop":
                if kind == .driver {
                    finish()
                } else {
                    router.requestStop()
                }
                return
            case "error":
                router.chatter("\(landmark): \(expand(raw))")
                finish()
                router.scheduler.stop()
                return
            default:
                continue
            }
        }
        finish()
    }

    // MARK: Expansion

    /// How deep `$(...)` calls may nest in one expansion (each level is a recursion and a
    /// rescan of the text).
    static let maximumCallNesting = 100

    /// Expands `$VAR`, `${VAR}` and `$(HANDLER ARGS)` in `text`.
    func expand(_ text: String, depth: Int = 0) -> String {
        guard text.contains("$") else { return text }
        if depth > Self.maximumCallNesting {
            router.chatter("While executing '\(name) :: \(className)':\n  '$(...)' nested more than \(Self.maximumCallNesting) deep")
            expansionErrors += 1
            return ""
        }
        // Bytes, not Characters: a long text is scanned once per nesting level.
        let chars = Array(text.utf8)
        var out: [UInt8] = []
        func word(_ c: UInt8) -> Bool {
            (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) || c == 95 || c >= 0x80
        }
        func string(_ range: Range<Int>) -> String { String(decoding: chars[range], as: UTF8.self) }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == UInt8(ascii: "$"), i + 1 < chars.count else {
                out.append(c)
                i += 1
                continue
            }
            if chars[i + 1] == UInt8(ascii: "(") {
                var open = 1
                var j = i + 2
                while j < chars.count && open > 0 {
                    if chars[j] == UInt8(ascii: "(") { open += 1 } else if chars[j] == UInt8(ascii: ")") { open -= 1 }
                    j += 1
                }
                let inner = string((i + 2)..<(j - (open == 0 ? 1 : 0)))
                let errorsBefore = expansionErrors
                let argument = expand(inner, depth: depth + 1)
                // A call whose arguments failed to expand is not made (and the failure is
                // reported once, not once per level).
                if expansionErrors == errorsBefore { out += call(argument).utf8 }
                i = j
            } else if chars[i + 1] == UInt8(ascii: "{") {
                var j = i + 2
                while j < chars.count && chars[j] != UInt8(ascii: "}") { j += 1 }
                out += (variables[string((i + 2)..<min(j, chars.count))] ?? "").utf8
                i = j + 1
            } else {
                var j = i + 1
                while j < chars.count && word(chars[j]) { j += 1 }
                if j == i + 1 {
                    out.append(c)
                    i += 1
                } else {
                    out += (variables[string((i + 1)..<j)] ?? "").utf8
                    i = j
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Errors reported while expanding `$(...)` calls, so far.
    var expansionErrors = 0

    /// `$(NAME ARGS)`: a builtin or a read handler.
    func call(_ text: String) -> String {
        let (name, rest) = ConfigText.firstWord(text)
        switch checkedBuiltin(name, ConfigText.words(rest).map(ConfigText.unquote)) {
        case .value(let v)?: return v
        case .failure(let lines)?:
            // Click's words: the element as context, each error indented under it.
            router.chatter("While executing '\(self.name) :: \(className)':\n" + lines.map { "  " + $0 }.joined(separator: "\n"))
            expansionErrors += 1
            return ""
        case nil: break
        }
        do {
            return try router.read(name, parameter: rest).trimmingCharacters()
        } catch {
            router.chatter("\(landmark): \(error.message)")
            expansionErrors += 1
            return ""
        }
    }

    /// What a builtin with Click's argument checking gave: its value, or Click's error
    /// lines.
    enum BuiltinResult {
        case value(String)
        case failure([String])
    }

    /// `sprintf` and `random`, checked as Click checks them; the other builtins through
    /// `builtin` (nil when `name` is not one, or its arguments do not fit).
    func checkedBuiltin(_ name: String, _ a: [String]) -> BuiltinResult? {
        switch name {
        case "sprintf":
            guard let format = a.first, let s = ScriptSprintf.format(format, Array(a.dropFirst())) else { return .failure(["syntax error"]) }
            return .value(s)
        case "random":
            // Click: no argument, a random 32-bit number; otherwise N1 and N2, both
            // unsigned 32-bit and both required, and a number from N1 to N2.
            if a.isEmpty { return .value(String(UInt32.random(in: 0...UInt32.max, using: &router.random))) }
            var args = Arguments(a)
            let n1 = args.mandatory("N1", .unsignedInteger)
            let n2 = args.mandatory("N2", .unsignedInteger)
            let errors = args.finish()
            guard errors.isEmpty, let n1, let n2 else { return .failure(errors) }
            guard n1 <= n2 else { return .failure(["bad N"]) }
            return .value(String(Int.random(in: n1...n2, using: &router.random)))
        default:
            return builtin(name, a).map { .value($0) }
        }
    }

    func builtin(_ name: String, _ a: [String]) -> String? {
        func num(_ s: String) -> Double? { IntegerValue.parse(s).map(Double.init) ?? RealValue.parse(s) }
        func show(_ v: Double) -> String { formatNumber(v) }
        func fold(_ f: (Double, Double) -> Double) -> String? {
            let ns = a.compactMap(num)
            guard ns.count == a.count, let first = ns.first else { return nil }
            return show(ns.dropFirst().reduce(first, f))
        }
        func compare(_ f: (Double, Double) -> Bool) -> String? {
            guard a.count == 2 else { return nil }
            if let x = num(a[0]), let y = num(a[1]) { return f(x, y) ? "true" : "false" }
            return nil
        }
        switch name {
        case "add": return fold(+)
        case "sub": return fold(-)
        case "mul": return fold(*)
        case "div": return fold(/)
        case "idiv": return fold { ($0 / $1).rounded(.towardZero) }
        case "mod", "rem": return fold { $0.truncatingRemainder(dividingBy: $1) }
        case "min": return fold(Swift.min)
        case "max": return fold(Swift.max)
        case "neg": return a.count == 1 ? num(a[0]).map { show(-$0) } : nil
        case "abs": return a.count == 1 ? num(a[0]).map { show(Swift.abs($0)) } : nil
        case "eq": return a.count == 2 ? (num(a[0]).flatMap { x in num(a[1]).map { x == $0 } } ?? (a[0] == a[1]) ? "true" : "false") : nil
        case "ne": return a.count == 2 ? (num(a[0]).flatMap { x in num(a[1]).map { x != $0 } } ?? (a[0] != a[1]) ? "true" : "false") : nil
        case "lt": return compare(<)
        case "gt": return compare(>)
        case "le": return compare(<=)
        case "ge": return compare(>=)
        case "not": return a.count == 1 ? ((BoolValue.parse(a[0]) ?? false) ? "false" : "true") : nil
        case "and": return a.allSatisfy { BoolValue.parse($0) ?? false } ? "true" : "false"
        case "or": return a.contains { BoolValue.parse($0) ?? false } ? "true" : "false"
        case "if": return a.count == 3 ? ((BoolValue.parse(a[0]) ?? false) ? a[1] : a[2]) : nil
        case "first": return a.first ?? ""
        case "length": return String(a.joined(separator: " ").count)
        case "now": return formatTimestamp(router.clock.now())
        case "unquote": return a.joined(separator: " ")
        case "cat": return a.joined()
        default:
            return nil
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.write("step") { [unowned self] _ in
            if self.paused { self.run() }
        }
        h.write("run") { [unowned self] _ in
            self.pc = 0
            self.run()
        }
        h.write("goto") { [unowned self] (text: String) throws(ElementError) in
            guard let i = self.labelIndex(text.trimmingCharacters()) else { throw ElementError("no such label") }
            self.pc = i + 1
            self.run()
        }
        h.readWithParameter("get") { [unowned self] name in self.variables[name.trimmingCharacters()] ?? "" }
        h.write("set") { [unowned self] text in
            let (name, value) = ConfigText.firstWord(text)
            self.variables[name] = value
        }
        for name in ["add", "sub", "mul", "div", "idiv", "mod", "rem", "min", "max", "neg", "abs", "eq", "ne", "lt", "gt", "le", "ge",
                     "not", "and", "or", "if", "first", "length", "now", "random", "unquote", "cat", "sprintf"] {
            h.readWithParameter(name) { [unowned self] (text: String) throws(ElementError) in
                switch self.checkedBuiltin(name, ConfigText.words(text).map(ConfigText.unquote)) {
                case .value(let v)?: return v
                case .failure(let lines)?: throw ElementError(lines.joined(separator: "\n"))
                case nil: throw ElementError("bad arguments to '\(name)'")
                }
            }
        }
    }
}

public final class DriverManager: Script {
    override func defaultKind() -> Kind { .driver }
}
