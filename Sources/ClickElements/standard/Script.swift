#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage
import ClickRuntime

/// Script([TYPE TYPE,] INSTRUCTIONS...) — and DriverManager(INSTRUCTIONS...)
///
/// Runs a small program, one instruction per argument, to drive a configuration:
/// `set VAR TEXT` / `setq`, `init VAR TEXT` / `initq`, `export VAR TEXT` / `exportq` (VAR
/// also becomes a handler), `print [>FILE|>>FILE] TEXT|HANDLER [ARGS]` / `printn` /
/// `printq` / `printnq` (a text starting with a letter, `@` or `_` is a read handler call,
/// as in Click), `read HANDLER [ARGS]` / `readq` (to standard error), `write HANDLER
/// [ARGS]` / `writeq`, `wait TIME` (also `wait_time`, `wait_for`), `pause`, `wait_stop`,
/// `label L`, `goto L [COND]`, `loop`, `return VALUE` / `returnq`, `end`, `exit`, `stop`,
/// `error [MSG]` / `errorq`. More than 1,000 jumps in one run stop the script ("too many
/// jumps, giving up"). Text is expanded first: `$VAR`, `${VAR}`, and `$(HANDLER ARGS)`
/// calls a read handler, either another element's (`$(c.count)`) or one of the script's
/// own: `add sub mul div idiv mod rem min max neg abs eq ne lt gt le ge not and or if first
/// length now random unquote cat kill sprintf htons htonl ntohs ntohl`. `$$` is the
/// process ID.
///
/// TYPE ACTIVE (the default) starts at initialization; PASSIVE waits for its `run`
/// handler. TYPE PACKET (the default when the script has ports) runs from the start for
/// each packet pushed into it, with `$input` the input port, and sends the packet to the
/// output its `return` names (0 after `end`; `exit` drops it). DriverManager is a Script
/// of TYPE DRIVER: stop events (sources' STOP, the `stop` handler) advance it at
/// `wait_stop` instead of stopping the router, and the router stops when its script ends.
/// TYPE SIGNAL SIGNO... runs the script from the start soon after the process gets one of
/// the signals (names ABRT ALRM HUP INT IO PIPE QUIT TERM TSTP USR1 USR2, or numbers below
/// 32); signals that arrive before it runs count once. A signal script that reaches its
/// end waits for its signals again; one that `exit`s does not, and the signal then has its
/// default effect (for INT and TERM, the driver's graceful stop). Several scripts may wait
/// for one signal: all run.
///
/// Ports: none, or any number of inputs and outputs for TYPE PACKET (agnostic).
/// Handlers: `step`, `run`, `goto` (write); `$VAR` values through `get`
/// (read with a name), `set` (write) and `shift` (read with a name: the first word, taken
/// off); the builtins, read with parameters: `add`, `sub`,
/// `mul`, `div`, `idiv`, `mod`, `rem`, `min`, `max`, `neg`, `abs`, `eq`, `ne`, `lt`, `gt`,
/// `le`, `ge`, `not`, `and`, `or`, `if`, `first`, `length`, `now`, `random`, `unquote`,
/// `cat` and `catq` (a file's contents, quoted for `catq`), `kill` (`SIGNO PID...`: sends
/// a signal), `sprintf`, `htons`, `htonl`,
/// `ntohs`, `ntohl`; `run` (read with arguments: runs the script with `$1`... set and
/// gives what it returned); each exported variable.
public class Script: Element, SignalHandling {
    public override var portCount: String { "-/-" }
    public override var processing: String { "ah/ah" }
    public override var configurePhase: Int { ConfigurePhase.last }

    enum Kind { case active, passive, driver, packet, signal }
    /// TYPE SIGNAL's signals.
    var signals: [Int32] = []
    /// Click's signal names (`TYPE SIGNAL`, the `kill` builtin); numbers work too.
    static let signalNames: [String: Int32] = [
        "ABRT": SIGABRT, "ALRM": SIGALRM, "HUP": SIGHUP, "INT": SIGINT, "IO": SIGIO, "PIPE": SIGPIPE,
        "QUIT": SIGQUIT, "TERM": SIGTERM, "TSTP": SIGTSTP, "USR1": SIGUSR1, "USR2": SIGUSR2,
    ]

    static func signalNumber(_ word: String) -> Int32? {
        if let n = Int32(word) { return n >= 0 && n < 32 ? n : nil }
        return signalNames[word]
    }
    /// How the last run ended: `return`ed (the `_` variable holds the value), reached an
    /// `end` (explicit or the implicit one after the last instruction), or `exit`ed.
    enum Ending { case returned, ended, exited }
    var ending = Ending.ended
    /// Jumps in one run before Click gives up.
    static let maximumJumps = 1000
    var kind = Kind.active
    var instructions: [(op: String, text: String)] = []
    var variables: [String: String] = [:]
    var pc = 0
    var waitingForStop = false
    /// Stop events still awaited by the current `wait_stop`.
    var stopsAwaited = 0
    var pendingStops = 0
    var paused = false
    var timer: Timer?
    var steps = 0

    static let operations: Set<String> = ["set", "setq", "init", "initq", "print", "printn", "printq", "printnq", "read", "readq",
                                          "write", "writeq", "wait", "wait_time", "wait_for", "pause", "wait_stop", "wait_step",
                                          "label", "goto", "loop", "return", "returnq", "end", "exit", "stop", "error", "errorq",
                                          "export", "exportq"]

    func defaultKind() -> Kind { .active }

    public override func configure(_ args: inout Arguments) {
        kind = defaultKind()
        var list = args.remaining()
        var typed = false
        if let first = list.first {
            let (word, rest) = ConfigText.firstWord(first)
            if word == "TYPE" {
                typed = true
                let typeWords = ConfigText.words(rest)
                switch typeWords.first?.uppercased() == "SIGNAL" ? "SIGNAL" : rest.uppercased() {
                case "SIGNAL":
                    kind = .signal
                    signals = typeWords.dropFirst().compactMap(Self.signalNumber)
                    if signals.isEmpty || signals.count != typeWords.count - 1 { args.error("bad signal number") }
                case "ACTIVE": kind = .active
                case "PASSIVE": kind = .passive
                case "DRIVER": kind = .driver
                case "PACKET", "PUSH": kind = .packet
                default: args.error("bad TYPE")
                }
                list.removeFirst()
            }
        }
        // As Click: without a TYPE, a script with ports is a PACKET script.
        if !typed && kind == .active && (ninputs > 0 || noutputs > 0) { kind = .packet }
        if kind == .packet && ninputs == 0 { args.error("PACKET script must have inputs") }
        if kind != .packet && (ninputs > 0 || noutputs > 0) { args.error("ports allowed only on PACKET scripts") }
        instructions = []
        for (i, text) in list.enumerated() {
            let (op, rest) = ConfigText.firstWord(text)
            guard Self.operations.contains(op) else {
                args.error("instruction \(i + 1): unknown instruction '\(op)'")
                continue
            }
            if op == "init" || op == "initq" || op == "export" || op == "exportq" {
                let (name, value) = ConfigText.firstWord(rest)
                variables[name] = op.hasSuffix("q") ? ConfigText.unquote(expand(value)) : expand(value)
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
        if kind == .driver, let timer {
            // Click's driver manager takes its first steps before any task runs.
            router.scheduler.runFirst(timer)
        } else if kind == .signal {
            for signal in signals where !router.addSignalHandler(signal, self) {
                throw ElementError("cannot catch signal \(signal)")
            }
        } else if kind != .passive && kind != .packet {
            timer?.schedule(after: 0)
        }
    }

    /// TYPE SIGNAL: the script runs from the start; once it reaches its end (not `exit`
    /// or `return`) it waits for its signals again, as Click's.
    public func handleSignal(_ signal: Int32) {
        pc = 0
        run()
    }

    /// After a run: a signal script that ended listens again.
    func rearmSignals() {
        guard kind == .signal, pc >= instructions.count, ending == .ended else { return }
        for signal in signals { router.addSignalHandler(signal, self) }
    }

    /// A PACKET script runs from the start for each packet, with `$input` the input port;
    /// the packet leaves on the output its `return` names (0 after `end`), or is dropped.
    public override func push(port: Int, _ batch: inout PacketBatch) {
        for i in 0..<batch.count {
            let p = batch[i]
            variables["input"] = String(port)
            pc = 0
            runInContext()
            let out: Int
            switch ending {
            case .returned: out = Int(variables["_"]?.trimmingCharacters() ?? "") ?? -1
            case .ended: out = 0
            case .exited: out = -1
            }
            if out >= 0 && out < noutputs { output(out, single: p) } else { p.kill() }
        }
        batch.count = 0
    }

    /// A handler named without an element: the script's own when it has one (Click's
    /// HandlerCall resolves names in the calling element first), else a global one.
    func qualified(_ handler: String) -> String {
        if !handler.contains("."), router.handlers.indices.contains(index), router.handlers[index][handler] != nil {
            return "\(name).\(handler)"
        }
        return handler
    }

    public override func cleanup() { timer?.unschedule() }

    public override func runTimer(_ timer: Timer) { runInContext() }

    /// Whether the current run reports under Click's `While executing 'SCRIPT':` (runs from
    /// the timer and per packet; not runs from a handler call), and whether that line went.
    var executingContext = false
    var contextShown = false

    /// Runs the script with its messages under `While executing`, as Click's Script (its
    /// DriverManager reports without it).
    func runInContext() {
        executingContext = kind != .driver
        contextShown = false
        defer { executingContext = false }
        run()
    }

    /// A message of a handler call the script made.
    func report(_ message: String) {
        guard executingContext else { return router.chatter(message) }
        let indented = message.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        router.chatter(contextShown ? indented : "While executing '\(declaration)':\n" + indented)
        contextShown = true
    }

    /// A driver stop event: advances a DriverManager instead of stopping the router.
    func stopEvent() -> Bool {
        guard kind == .driver else { return false }
        if waitingForStop {
            stopsAwaited -= 1
            if stopsAwaited <= 0 {
                waitingForStop = false
                timer?.schedule(after: 0)
                // As Click's driver: the next step comes before any other task runs.
                router.scheduler.endTaskBatch()
            }
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

    /// How Click's Script reports a handler call that failed: a missing element or
    /// handler in one line, a handler's own error under `While calling`.
    func handlerFailure(_ handler: String, _ args: String, _ error: HandlerError, write: Bool) -> String {
        switch error.kind {
        case .noElement: return error.message
        case .noHandler, .permissionDenied: return "no '\(handler)' \(write ? "write" : "read") handler"
        default: return "While calling '\(handler)\(args.isEmpty ? "" : " " + args)':\n  \(error.message)"
        }
    }

    /// `wait_stop [N]`: in a DriverManager, pausing waits for the next stop event (N of
    /// them), as Click's. True when the script must wait; false when stops already came.
    func awaitStops(_ raw: String) -> Bool {
        let wanted = max(1, Int(expand(raw).trimmingCharacters()) ?? 1)
        if pendingStops >= wanted {
            pendingStops -= wanted
            return false
        }
        stopsAwaited = wanted - pendingStops
        pendingStops = 0
        waitingForStop = true
        if kind != .driver { router.chatter("\(landmark): wait_stop outside a DriverManager") }
        return true
    }

    /// Runs instructions until one waits.
    func run() {
        paused = false
        ending = .ended
        defer { rearmSignals() }
        var budget = 100_000
        var jumps = 0
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
            case "init", "initq", "label", "export", "exportq":
                continue
            case "print", "printn", "printq", "printnq":
                printInstruction(op, raw)
            case "read", "readq":
                let (handler, args) = ConfigText.firstWord(expand(raw))
                do {
                    let value = try router.read(qualified(handler), parameter: op == "readq" ? ConfigText.unquote(args) : args)
                    // Click reports it on standard error, through its error handler.
                    router.chatter("\(qualified(handler)):\n\(value)")
                } catch {
                    report(handlerFailure(handler, args, error, write: false))
                }
            case "write", "writeq":
                let (handler, args) = ConfigText.firstWord(expand(raw))
                let value = op == "writeq" ? ConfigText.unquote(args) : args
                do {
                    writeStatus = 0
                    let warnings = try router.write(qualified(handler), value)
                    if !warnings.isEmpty {
                        report("While calling '\(handler)\(value.isEmpty ? "" : " " + value)':\n" + warnings.map { "  " + $0 }.joined(separator: "\n"))
                    }
                } catch {
                    // Click's handlers fail with -EINVAL.
                    writeStatus = -22
                    report(handlerFailure(handler, args, error, write: true))
                }
                if router.replacement != nil { return }
            case "wait", "wait_time", "wait_for":
                let text = expand(raw)
                if text.isEmpty {
                    // A bare `wait` is Click's wait_step: a stop event in a DriverManager.
                    if kind == .driver {
                        if awaitStops(raw) { return }
                        continue
                    }
                    paused = true
                    return
                }
                guard case .value(let nanoseconds) = ValueType.timestamp.read(text, ValueContext()) else {
                    router.chatter("\(landmark): bad time '\(text)'")
                    continue
                }
                timer?.schedule(after: nanoseconds)
                return
            case "pause" where kind != .driver, "wait_step" where kind != .driver:
                paused = true
                return
            case "wait_stop", "pause", "wait_step":
                if awaitStops(raw) { return }
            case "goto":
                jumps += 1
                if jumps > Self.maximumJumps {
                    router.chatter("\(declaration): too many jumps, giving up")
                    finish()
                    return
                }
                let (label, condition) = ConfigText.firstWord(raw)
                if !condition.isEmpty, !(BoolValue.parse(expand(condition).trimmingCharacters()) ?? false) { continue }
                if label == "exit" || label == "end" {
                    ending = label == "exit" ? .exited : .ended
                    finish()
                    return
                }
                if label == "loop" {
                    pc = 0
                } else if let target = labelIndex(label) {
                    pc = target + 1
                }
            case "loop":
                jumps += 1
                if jumps > Self.maximumJumps {
                    router.chatter("\(declaration): too many jumps, giving up")
                    finish()
                    return
                }
                pc = 0
            case "return", "returnq":
                let value = expand(raw)
                variables["_"] = op == "returnq" ? ConfigText.unquote(value) : value
                ending = .returned
                finish()
                return
            case "end", "exit":
                ending = op == "exit" ? .exited : .ended
                finish()
                return
            case "stop":
                if kind == .driver {
                    finish()
                } else {
                    router.requestStop()
                }
                return
            case "error", "errorq":
                let message = op == "errorq" ? ConfigText.unquote(expand(raw)) : expand(raw)
                router.chatter("\(landmark): \(message)")
                finish()
                router.scheduler.stop()
                return
            default:
                continue
            }
        }
        finish()
    }

    /// `print`, `printn`, `printq`, `printnq`, as Click: an optional `>FILE` or `>>FILE`
    /// first; then a text starting with a letter, `@` or `_` is a read handler call whose
    /// value is printed (its parameters unquoted for the q forms), and anything else is
    /// printed unquoted. `print` adds a newline unless the text ends with one or an error
    /// was reported.
    func printInstruction(_ op: String, _ raw: String) {
        var text = raw
        var file: String? = nil
        var append = false
        if text.hasPrefix(">") {
            append = text.hasPrefix(">>")
            let (name, rest) = ConfigText.firstWord(String(text.dropFirst(append ? 2 : 1)))
            if name != "-" { file = name }
            text = rest
        }
        let errorsBefore = expansionErrors
        var result = ""
        if let first = text.utf8.first, (first | 0x20 >= 97 && first | 0x20 <= 122) || first == UInt8(ascii: "@") || first == UInt8(ascii: "_") {
            let (handler, args) = ConfigText.firstWord(expand(text))
            do {
                result = try router.read(qualified(handler), parameter: op.hasSuffix("q") ? ConfigText.unquote(args) : args)
            } catch {
                report(handlerFailure(handler, args, error, write: false))
                expansionErrors += 1
            }
        } else {
            // As Click: expansions are quoted, then the whole text is unquoted, so quotes
            // written in the text go and what an expansion gave stays as it was.
            result = ConfigText.unquote(expand(text, quoting: true))
        }
        if (op == "print" || op == "printq") && expansionErrors == errorsBefore && !result.hasSuffix("\n") { result += "\n" }
        if let file {
            guard let f = fopen(file, append ? "ab" : "wb") else {
                router.chatter("\(landmark): \(file): \(String(cString: strerror(errno)))")
                return
            }
            let bytes = Array(result.utf8)
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
        } else {
            router.standardOutput(result)
        }
    }

    // MARK: Expansion

    /// How deep `$(...)` calls may nest in one expansion (each level is a recursion and a
    /// rescan of the text).
    static let maximumCallNesting = 100

    /// Expands `$VAR`, `${VAR}` and `$(HANDLER ARGS)` in `text`.
    func expand(_ text: String, depth: Int = 0, quoting: Bool = false) -> String {
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
                if expansionErrors == errorsBefore { out += (quoting ? ConfigText.quote(call(argument)) : call(argument)).utf8 }
                i = j
            } else if chars[i + 1] == UInt8(ascii: "{") {
                var j = i + 2
                while j < chars.count && chars[j] != UInt8(ascii: "}") { j += 1 }
                let value = variableValue(string((i + 2)..<min(j, chars.count)))
                out += (quoting ? ConfigText.quote(value) : value).utf8
                i = j + 1
            } else if chars[i + 1] == UInt8(ascii: "#") || chars[i + 1] == UInt8(ascii: "?") || chars[i + 1] == UInt8(ascii: "$") {
                let value = variableValue(string((i + 1)..<(i + 2)))
                out += (quoting ? ConfigText.quote(value) : value).utf8
                i += 2
            } else {
                var j = i + 1
                while j < chars.count && word(chars[j]) { j += 1 }
                if j == i + 1 {
                    out.append(c)
                    i += 1
                } else {
                    let value = variableValue(string((i + 1)..<j))
                    out += (quoting ? ConfigText.quote(value) : value).utf8
                    i = j
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A variable's value as Click's Script finds it: the script's own variables first,
    /// then `$args` (the words `run` was given), `$1`... (one of them), `$#` (how many),
    /// `$?` (the last write's status), `$0` (the handler that ran the script).
    func variableValue(_ name: String) -> String {
        if let v = variables[name] { return v }
        switch name {
        case "args": return runArgs
        case "#": return String(ConfigText.words(runArgs).count)
        case "?": return String(writeStatus)
        case "$": return String(getpid())
        case "0": return runHandlerName
        default:
            guard let n = Int(name), n > 0 else { return "" }
            let words = ConfigText.words(runArgs)
            return n <= words.count ? words[n - 1] : ""
        }
    }

    /// What `run` was given, for `$args`, `$1`... and `$#`.
    var runArgs = ""
    /// The handler that ran the script (`run`), for `$0`.
    var runHandlerName = ""
    /// The status of the last `write`: 0, or -22 (EINVAL) when it failed; `$?`.
    var writeStatus = 0

    /// Errors reported while expanding `$(...)` calls, so far.
    var expansionErrors = 0

    /// `$(NAME ARGS)`: a builtin or a read handler.
    func call(_ text: String) -> String {
        let (name, rest) = ConfigText.firstWord(text)
        if name == "length" { return String(rest.utf8.count) }
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
            // As Click, the value as the handler gives it, without its final newline.
            var value = try router.read(qualified(name), parameter: rest)
            if value.hasSuffix("\n") { value.removeLast() }
            return value
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
            if a.isEmpty { return .value(String(router.random.clickRandom())) }
            var args = Arguments(a)
            let n1 = args.mandatory("N1", .unsignedInteger)
            let n2 = args.mandatory("N2", .unsignedInteger)
            let errors = args.finish()
            guard errors.isEmpty, let n1, let n2 else { return .failure(errors) }
            guard n1 <= n2 else { return .failure(["bad N"]) }
            return .value(String(router.random.clickRandom(UInt32(n1), UInt32(n2))))
        case "kill":
            // `kill SIGNO PID...`: sends a signal, as Click's userlevel Script.
            guard let word = a.first, let signal = Self.signalNumber(word) else { return .failure(["bad SIGNO"]) }
            for text in a.dropFirst() {
                guard let pid = Int32(text) else { return .failure(["bad PID"]) }
                if Glibc.kill(pid, signal) != 0 {
                    return .failure(["kill(\(pid), \(signal)): \(String(cString: strerror(errno)))"])
                }
            }
            return .value("")
        case "cat", "catq":
            // A file's contents (quoted for catq), as Click's userlevel Script.
            guard a.count == 1 else { return .failure(["bad FILE"]) }
            guard let f = fopen(a[0], "r") else { return .failure(["\(a[0]): \(String(cString: strerror(errno)))"]) }
            defer { fclose(f) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buffer, 1, buffer.count, f)
                if n <= 0 { break }
                bytes += buffer[0..<n]
            }
            return .value(name == "catq" ? ConfigText.quote(bytes: bytes) : String(decoding: bytes, as: UTF8.self))
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
        case "now": return formatTimestamp(routerNow())
        case "unquote": return a.joined(separator: " ")
        case "htons", "ntohs":
            guard a.count == 1, let v = UInt16(a[0]) else { return nil }
            return String(v.byteSwapped)
        case "htonl", "ntohl":
            guard a.count == 1, let v = UInt32(a[0]) else { return nil }
            return String(v.byteSwapped)
        default:
            return nil
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.write("step") { [unowned self] _ in
            if self.paused { self.run() }
        }
        // Written, `run` starts the script; read with arguments, it runs it with $1, $2...
        // set to them and gives what it returned.
        h.write("run") { [unowned self] text in
            self.runArgs = text
            self.runHandlerName = "\(self.name).run"
            self.pc = 0
            self.run()
            self.runHandlerName = ""
        }
        h.readWithParameter("run") { [unowned self] text in
            self.runArgs = text
            self.runHandlerName = "\(self.name).run"
            self.pc = 0
            self.run()
            self.runHandlerName = ""
            return self.ending == .returned ? self.variables["_"] ?? "" : ""
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
        // `shift VAR`: the first word of VAR, which loses it.
        h.readWithParameter("shift") { [unowned self] text in
            let name = text.trimmingCharacters()
            let (first, rest) = ConfigText.firstWord(self.variables[name] ?? "")
            self.variables[name] = rest
            return first
        }
        // `export VAR` makes VAR a read/write handler of the script.
        for (op, text) in instructions where op == "export" || op == "exportq" {
            let variable = ConfigText.firstWord(text).word
            h.readWrite(variable, read: { [unowned self] in self.variables[variable] ?? "" },
                        write: { [unowned self] (t: String) throws(ElementError) in self.variables[variable] = t })
        }
        h.readWithParameter("length") { text in String(text.utf8.count) }
        for name in ["add", "sub", "mul", "div", "idiv", "mod", "rem", "min", "max", "neg", "abs", "eq", "ne", "lt", "gt", "le", "ge",
                     "not", "and", "or", "if", "first", "now", "random", "unquote", "cat", "catq", "kill", "sprintf", "htons", "htonl", "ntohs", "ntohl"] {
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
