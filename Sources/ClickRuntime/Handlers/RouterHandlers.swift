import ClickLanguage

/// Why a handler call failed, with Click's ControlSocket reply code.
public struct HandlerError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        case noElement, noHandler, permissionDenied, failed
    }
    public var kind: Kind
    public var message: String
    public var description: String { message }

    /// ControlSocket reply codes (`elements/userlevel/controlsocket.hh`).
    public var replyCode: Int {
        switch kind {
        case .noElement: return 511
        case .noHandler: return 511
        case .permissionDenied: return 530
        case .failed: return 520
        }
    }
}

extension Router {
    static let version = "2.1.0-clickos-swift"

    /// Click's task handlers (`scheduled`, `tickets`, `home_thread`) for every element
    /// that made a task while initializing, unless it has its own.
    func addTaskHandlers() {
        for e in elements {
            guard let task = e.firstTask, handlers[e.index]["scheduled"] == nil else { continue }
            handlers[e.index].boolean("scheduled", get: { [unowned task] in task.isScheduled })
            // One thread; the task's share of it, as Click's stride scheduler counts.
            handlers[e.index].integer("tickets", get: { [unowned task] in task.tickets }, set: { [unowned task] n in task.setTickets(n) })
            handlers[e.index].read("home_thread") { "0" }
        }
    }

    func addHandlers() {
        handlers = elements.map { [unowned self] e in
            var set = HandlerSet()
            set.read("name") { [unowned e] in e.name }
            set.read("class") { [unowned e] in e.className }
            if e.canLiveReconfigure {
                set.readWrite("config", read: { [unowned e] in e.configuration }, write: { [unowned self, unowned e] (text: String) throws(ElementError) in
                    try self.reconfigure(e, with: text)
                })
            } else {
                set.read("config") { [unowned e] in e.normalizedConfiguration ?? e.configuration }
            }
            set.read("ports") { [unowned self, unowned e] in self.portsDescription(e) }
            set.read("handlers") { [unowned self, unowned e] in
                self.handlers[e.index].handlers.map { "\($0.name)\t\($0.flags)\n" }.joined()
            }
            e.addHandlers(&set)
            return set
        }
        var g = HandlerSet()
        g.read("version") { Router.version }
        g.read("driver") { "userlevel" }
        // As Click's: the text given, or the flat configuration when there is none or the
        // configuration says `require(compact_config)`.
        g.read("config") { [unowned self] in
            let compact = self.flat.requirements.contains { $0.type == "compact_config" && $0.value.isEmpty }
            return self.configurationText.isEmpty || compact ? self.flat.unparse() : self.configurationText
        }
        g.read("flatconfig") { [unowned self] in self.flat.unparse() }
        g.read("list") { [unowned self] in "\(self.elements.count)\n" + self.elements.map { $0.name + "\n" }.joined() }
        g.read("classes") { [unowned self] in
            Set(self.elements.map(\.className)).sorted().map { $0 + "\n" }.joined()
        }
        g.read("requirements") { [unowned self] in
            self.flat.requirements.map { ($0.value.isEmpty ? $0.type : $0.value) + "\n" }.joined()
        }
        g.read("handlers") { [unowned self] in self.globalHandlers.handlers.map { "\($0.name)\t\($0.flags)\n" }.joined() }
        g.write("hotconfig") { [unowned self] (text: String) throws(ElementError) in
            do throws(ConfigurationError) {
                _ = try self.hotswap(text)
            } catch {
                throw ElementError(error.diagnostics.map { $0.description }.joined(separator: "\n"))
            }
        }
        // Click's userlevel time warp: a speed factor, or `nowait` (idle waits skipped).
        g.read("timewarp") { [unowned self] in
            let clock = self.scheduler.clock
            return clock.isSimulated ? "simulation" : clock.noWait ? "nowait"
                : clock.speed == clock.speed.rounded() && abs(clock.speed) < 1e15 ? String(Int64(clock.speed)) : String(clock.speed)
        }
        if !scheduler.clock.isSimulated {
            g.write("timewarp") { [unowned self] (text: String) throws(ElementError) in
                let t = text.trimmingCharacters()
                if t == "nowait" {
                    self.scheduler.clock.setWarp(speed: 1, noWait: true)
                    return
                }
                guard let factor = Double(t), factor.isFinite else { throw ElementError("expected double") }
                guard factor > 0 else { throw ElementError("timefactor must be > 0") }
                self.scheduler.clock.setWarp(speed: factor, noWait: false)
            }
        }
        g.write("stop") { [unowned self] (text: String) throws(ElementError) in
            let n = IntegerValue.parse(text.trimmingCharacters()).map(Int.init) ?? 1
            self.requestStop(max(n, 1))
        }
        globalHandlers = g
    }

    /// Click's `ports` handler text.
    func portsDescription(_ e: Element) -> String {
        var s = "\(e.ninputs) input\(e.ninputs == 1 ? "" : "s")\n"
        for p in 0..<e.ninputs {
            s += (e.inputProcessing[p] == .pull ? "pull" : "push") + "\t-\t"
            let sources = flat.connections.filter { $0.to == e.index && $0.toPort == p }
            s += sources.map { "\(elements[$0.from].name) [\($0.fromPort)]" }.joined(separator: ", ") + "\n"
        }
        s += "\(e.noutputs) output\(e.noutputs == 1 ? "" : "s")\n"
        for p in 0..<e.noutputs {
            s += (e.outputProcessing[p] == .push ? "push" : "pull") + "\t-\t"
            let targets = flat.connections.filter { $0.from == e.index && $0.fromPort == p }
            s += targets.map { "[\($0.toPort)] \(elements[$0.to].name)" }.joined(separator: ", ") + "\n"
        }
        return s
    }

    /// Live reconfiguration of one element through its `config` handler.
    func reconfigure(_ e: Element, with text: String) throws(ElementError) {
        var args = Arguments(configuration: text, context: ValueContext(elementName: e.name, addressNames: addressNames))
        e.configure(&args)
        let errors = args.finish()
        if !errors.isEmpty { throw ElementError(errors.joined(separator: "\n")) }
        e.configuration = text
    }

    /// Finds `element.handler` (or a global `handler`).
    public func handler(_ fullName: String) throws(HandlerError) -> (element: Element?, handler: Handler) {
        var search = fullName.startIndex
        while let dot = fullName[search...].firstIndex(of: ".") {
            let elementName = String(fullName[..<dot])
            let handlerName = String(fullName[fullName.index(after: dot)...])
            if let e = element(named: elementName) {
                guard let h = handlers[e.index][handlerName] else {
                    throw HandlerError(kind: .noHandler, message: "no '\(handlerName)' handler for element '\(elementName)'")
                }
                return (e, h)
            }
            search = fullName.index(after: dot)
        }
        if let h = globalHandlers[fullName] { return (nil, h) }
        if let dot = fullName.firstIndex(of: ".") {
            throw HandlerError(kind: .noElement, message: "no element named '\(fullName[..<dot])'")
        }
        throw HandlerError(kind: .noHandler, message: "no '\(fullName)' handler")
    }

    /// Calls a read handler, with an optional parameter.
    public func read(_ fullName: String, parameter: String = "") throws(HandlerError) -> String {
        let (_, h) = try handler(fullName)
        guard let read = h.read else { throw HandlerError(kind: .permissionDenied, message: "handler '\(fullName)' is write-only") }
        do {
            return try read(parameter)
        } catch {
            throw HandlerError(kind: .failed, message: error.message)
        }
    }

    /// Calls a write handler; returns the warnings it raised (a live reconfiguration's),
    /// for the caller to report as Click reports them, under the call.
    @discardableResult
    public func write(_ fullName: String, _ value: String) throws(HandlerError) -> [String] {
        let (_, h) = try handler(fullName)
        guard let write = h.write else { throw HandlerError(kind: .permissionDenied, message: "handler '\(fullName)' is read-only") }
        let outer = writeWarnings
        writeWarnings = []
        defer { writeWarnings = outer }
        do {
            try write(value)
        } catch {
            throw HandlerError(kind: .failed, message: error.message)
        }
        return writeWarnings ?? []
    }
}
