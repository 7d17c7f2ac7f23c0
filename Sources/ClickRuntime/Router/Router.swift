import ClickLanguage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A running Click configuration: its elements, their connections, one scheduler thread
/// and one packet pool. Built from a flat configuration with Click's checks and messages
/// (port counts, push/pull resolution, hookup completeness, configuration, initialization);
/// any error ends with "Router could not be initialized!".
public final class Router {
    public let flat: FlatConfiguration
    public private(set) var elements: [Element] = []
    public let scheduler: Scheduler
    public let pool: PacketPool
    /// AddressInfo names, filled while configuring.
    public var addressNames = AddressNames()
    /// ScheduleInfo's shares, filled while configuring: full element (or compound) name to
    /// a multiple of the default tickets in 1/1024ths.
    public var scheduleShares: [String: Int] = [:]
    /// While a write handler runs: the warnings it raises (see `write`); nil otherwise.
    public var writeWarnings: [String]?
    /// The random numbers elements draw (`RandomSeed` seeds it).
    public var random = RandomSource()
    /// Handlers per element index; `globalHandlers` are the router's own.
    public internal(set) var handlers: [HandlerSet] = []
    public internal(set) var globalHandlers = HandlerSet()
    /// Click's run count: stop events decrement it; at zero the driver stops.
    public private(set) var runCount = 1
    /// Text of the original configuration (`config` handler).
    public var configurationText: String
    /// Receives messages that elements print (Print, Message, Script) as Click's chatter.
    public var chatter: (String) -> Void = { _ in }
    /// Receives what Script's `print` and `printn` write, newlines included (Click prints
    /// it to standard output), flushed after every text as Click's Script flushes, so that
    /// it keeps its place among chatter when both go to one file.
    public var standardOutput: (String) -> Void = {
        print($0, terminator: "")
        fflush(nil)  // all C streams: stdout is a C global Swift 6 will not name here
    }
    /// Intercepts stop events (DriverManager): return true if handled.
    public var stopInterceptor: (() -> Bool)? = nil
    /// The elements waiting for signals (RouterSignals.swift), in registration order.
    var signalHandlers: [(signal: Int32, element: any SignalHandling)] = []
    /// What building this router used, kept for hot reconfiguration.
    public private(set) var registry = ElementRegistry()
    public var libraries: (any LibraryResolver)? = nil
    public var definitions: [(name: String, value: String)] = []
    /// What the router's thread serves besides its elements (a VM's ports); set before
    /// building so elements find them at initialization, and passed on by `hotconfig`.
    public private(set) var services: [any RouterService] = []
    /// Set by a successful `hotconfig` write: the router that takes over when this one's
    /// thread returns from `run()`.
    public private(set) var replacement: Router? = nil

    private init(flat: FlatConfiguration, configurationText: String, clock: RouterClock, pool: PacketPool) {
        self.flat = flat
        self.configurationText = configurationText
        self.scheduler = Scheduler(clock: clock)
        self.pool = pool
    }

    deinit {
        // Elements may hold packets (queues); they must go while the pool still exists.
        // Handlers go first because their closures may refer to elements.
        handlers.removeAll()
        globalHandlers = HandlerSet()
        elements.removeAll()
    }

    public var clock: RouterClock { scheduler.clock }

    /// What Click keeps in static variables (one copy per driver process, such as
    /// ICMPError's IP identifier counter): one copy per router here, made on first use and
    /// handed on to a hot-swapped successor.
    private var routerShared: [ObjectIdentifier: AnyObject] = [:]

    /// The router's one `T`, made by `make` the first time it is asked for.
    public func routerShared<T: AnyObject>(_ type: T.Type, make: () -> T) -> T {
        if let existing = routerShared[ObjectIdentifier(type)] as? T { return existing }
        let made = make()
        routerShared[ObjectIdentifier(type)] = made
        return made
    }

    /// The service of type `type` this router was built with, if any.
    public func service<S>(_ type: S.Type) -> S? {
        for s in services { if let found = s as? S { return found } }
        return nil
    }

    /// The element called `name`.
    public func element(named name: String) -> Element? {
        guard let i = flat.index(of: name) else { return nil }
        return elements[i]
    }

    // MARK: Building

    /// Builds and initializes a router. Errors go to `log`; nil when it could not be
    /// initialized.
    public static func build(
        _ flat: FlatConfiguration, configurationText: String = "", registry: ElementRegistry,
        simulatedTime: Bool = false, poolCapacity: Int = 16_384, services: [any RouterService] = [],
        log: DiagnosticLog, chatter: @escaping (String) -> Void = { _ in }
    ) -> Router? {
        build(flat, configurationText: configurationText, registry: registry, clock: RouterClock(simulated: simulatedTime),
              pool: PacketPool(capacity: poolCapacity), services: services, log: log, chatter: chatter)
    }

    static func build(
        _ flat: FlatConfiguration, configurationText: String, registry: ElementRegistry, clock: RouterClock,
        pool: PacketPool, services: [any RouterService], log: DiagnosticLog, chatter: @escaping (String) -> Void
    ) -> Router? {
        let router = Router(flat: flat, configurationText: configurationText, clock: clock, pool: pool)
        router.chatter = chatter
        router.services = services
        router.registry = registry
        let before = log.errorCount
        router.create(registry: registry, log: log)
        // As Click: hookup checks first, and elements are configured only when they pass.
        if log.errorCount == before {
            let connected = router.connect(log: log)
            if connected { router.configure(log: log) }
        }
        if log.errorCount == before { router.addHandlers() }
        if log.errorCount == before {
            router.initialize(log: log)
            router.addTaskHandlers()
        }
        if log.errorCount > before {
            log.error("Router could not be initialized!", at: nil)
            router.cleanup()
            return nil
        }
        return router
    }

    /// Checks a configuration as `build` would, up to and not including initialization:
    /// every element class known, every connection and port count, push and pull, every
    /// element's configuration string. Nothing is opened or started. Errors go to `log`;
    /// true when there were none.
    public static func check(_ flat: FlatConfiguration, registry: ElementRegistry, log: DiagnosticLog) -> Bool {
        let router = Router(flat: flat, configurationText: "", clock: RouterClock(simulated: true), pool: PacketPool(capacity: 1))
        router.registry = registry
        let before = log.errorCount
        router.create(registry: registry, log: log)
        if log.errorCount == before, router.connect(log: log) { router.configure(log: log) }
        router.cleanup()
        return log.errorCount == before
    }

    private func create(registry: ElementRegistry, log: DiagnosticLog) {
        for (i, e) in flat.elements.enumerated() {
            guard let element = registry.make(e.className) else {
                log.error("unknown element class '\(e.className)'", at: e.landmark)
                continue
            }
            element.name = e.name
            element.index = i
            element.landmark = e.landmark
            element.configuration = e.configuration
            element.router = self
            elements.append(element)
        }
    }

    /// Port counts, processing resolution and hookup checks, then the connection tables.
    /// Returns false when the graph cannot even be wired (bad port numbers or specs).
    private func connect(log: DiagnosticLog) -> Bool {
        let n = elements.count
        var inputsUsed = [Int](repeating: 0, count: n)
        var outputsUsed = [Int](repeating: 0, count: n)
        for c in flat.connections {
            inputsUsed[c.to] = max(inputsUsed[c.to], c.toPort + 1)
            outputsUsed[c.from] = max(outputsUsed[c.from], c.fromPort + 1)
        }
        var ok = true
        for (i, e) in elements.enumerated() {
            guard let spec = PortCountSpecification(e.portCount) else {
                log.error("'\(e.declaration)': bad port count specification '\(e.portCount)'", at: e.landmark)
                ok = false
                continue
            }
            let counts = spec.resolve(inputsUsed: inputsUsed[i], outputsUsed: outputsUsed[i])
            e.ninputs = counts.inputs
            e.noutputs = counts.outputs
        }
        for c in flat.connections {
            let from = elements[c.from], to = elements[c.to]
            if c.fromPort >= from.noutputs {
                log.error("'\(from.declaration)' has no output \(c.fromPort)", at: from.landmark)
                ok = false
            }
            if c.toPort >= to.ninputs {
                log.error("'\(to.declaration)' has no input \(c.toPort)", at: to.landmark)
                ok = false
            }
        }
        guard ok else { return false }

        // Push/pull resolution (Router::check_push_and_pull).
        var inputs: [[DeclaredProcessing]] = []
        var outputs: [[DeclaredProcessing]] = []
        for e in elements {
            let d = declaredProcessing(e.processing, inputs: e.ninputs, outputs: e.noutputs)
            inputs.append(d.inputs)
            outputs.append(d.outputs)
        }
        var changed = true
        var reported = Set<String>()
        func conflict(_ message: String, _ e: Element) {
            if reported.insert(message).inserted { log.error(message, at: e.landmark) }
        }
        while changed {
            changed = false
            for c in flat.connections {
                let pf = outputs[c.from][c.fromPort], pt = inputs[c.to][c.toPort]
                if pt == .agnostic && pf != .agnostic {
                    inputs[c.to][c.toPort] = pf
                    changed = true
                } else if pf == .agnostic && pt != .agnostic {
                    outputs[c.from][c.fromPort] = pt
                    changed = true
                } else if pf != pt {
                    let from = elements[c.from], to = elements[c.to]
                    conflict("'\(from.declaration)' \(pf == .push ? "push" : "pull") output \(c.fromPort) connected to '\(to.declaration)' \(pt == .push ? "push" : "pull") input \(c.toPort)", from)
                }
            }
            // Inside agnostic elements: an input and the outputs its flow code reaches agree.
            for (i, e) in elements.enumerated() {
                for ip in 0..<e.ninputs {
                    for op in 0..<e.noutputs where flowReaches(e.flowCode, input: ip, output: op) {
                        let declIn = declaredProcessing(e.processing, inputs: e.ninputs, outputs: e.noutputs)
                        guard declIn.inputs[ip] == .agnostic && declIn.outputs[op] == .agnostic else { continue }
                        let a = inputs[i][ip], b = outputs[i][op]
                        if a != .agnostic && b == .agnostic {
                            outputs[i][op] = a
                            changed = true
                        } else if b != .agnostic && a == .agnostic {
                            inputs[i][ip] = b
                            changed = true
                        } else if a != b && a != .agnostic && b != .agnostic {
                            conflict("agnostic '\(e.declaration)' in mixed context: \(a == .push ? "push" : "pull") input \(ip), \(b == .push ? "push" : "pull") output \(op)", e)
                        }
                    }
                }
            }
        }
        for (i, e) in elements.enumerated() {
            e.inputProcessing = inputs[i].map { $0 == .pull ? .pull : .push }
            e.outputProcessing = outputs[i].map { $0 == .pull ? .pull : .push }
        }

        // Hookup completeness (Router::check_hookup_completeness). Click configures no
        // element when it fails, so neither do we.
        let errorsBeforeCompleteness = log.errorCount
        var outgoing = [[Int]](repeating: [], count: n)
        var incoming = [[Int]](repeating: [], count: n)
        for (k, c) in flat.connections.enumerated() {
            outgoing[c.from].append(k)
            incoming[c.to].append(k)
        }
        for (i, e) in elements.enumerated() {
            for p in 0..<e.ninputs {
                let uses = incoming[i].filter { flat.connections[$0].toPort == p }.count
                if uses == 0 {
                    log.error("'\(e.declaration)' input \(p) unused", at: e.landmark)
                } else if uses > 1 && e.inputProcessing[p] == .pull {
                    log.error("illegal reuse of '\(e.declaration)' pull input \(p)", at: e.landmark)
                }
            }
            for p in 0..<e.noutputs {
                let uses = outgoing[i].filter { flat.connections[$0].fromPort == p }.count
                if uses == 0 {
                    log.error("'\(e.declaration)' output \(p) unused", at: e.landmark)
                } else if uses > 1 && e.outputProcessing[p] == .push {
                    log.error("illegal reuse of '\(e.declaration)' push output \(p)", at: e.landmark)
                }
            }
        }

        // Connection tables: push outputs know their target, pull inputs their source.
        for e in elements {
            if e.noutputs > 0 { e.outputTargets = .allocate(capacity: e.noutputs) }
            if e.ninputs > 0 { e.inputSources = .allocate(capacity: e.ninputs) }
        }
        // The tables were allocated just above for every element with ports, and every
        // connection names a port in range (checked earlier), so the unwraps hold.
        for c in flat.connections {
            let from = elements[c.from], to = elements[c.to]
            if from.outputProcessing[c.fromPort] == .push {
                (from.outputTargets! + c.fromPort).initialize(to: PortTarget(element: .passUnretained(to), port: c.toPort))
            }
            if to.inputProcessing[c.toPort] == .pull {
                (to.inputSources! + c.toPort).initialize(to: PortTarget(element: .passUnretained(from), port: c.fromPort))
            }
        }
        return log.errorCount == errorsBeforeCompleteness
    }

    /// The elements by configure phase, in the order Click's driver sorts them (its
    /// `click_qsort`, which is not stable: the order within a phase is Click's too).
    private var configureOrder: [Element] {
        var order = Array(elements.indices)
        let phases = elements.map(\.configurePhase)
        ClickSort.sort(&order) { phases[$0] - phases[$1] }
        return order.map { elements[$0] }
    }

    private func configure(log: DiagnosticLog) {
        for e in configureOrder {
            var args = Arguments(configuration: e.configuration, context: ValueContext(elementName: e.name, addressNames: addressNames))
            e.configure(&args)
            let errors = args.finish()
            if !errors.isEmpty {
                log.error("While configuring '\(e.declaration)':", at: e.landmark)
                for message in args.messages { log.error("  " + message, at: nil) }
            } else if !args.warnings.isEmpty {
                log.message("While configuring '\(e.declaration)':", at: e.landmark)
                for message in args.messages { log.message("  " + message, at: nil) }
            }
        }
    }

    private func initialize(log: DiagnosticLog) {
        for e in configureOrder {
            do {
                try e.initialize()
            } catch {
                log.error("While initializing '\(e.declaration)':", at: e.landmark)
                log.error("  " + error.message, at: nil)
            }
        }
    }

    /// Stops every element (tasks, timers, files) and drops what they hold.
    public func cleanup() {
        for e in elements.reversed() { e.cleanup() }
        removeSignalHandlers()
    }

    // MARK: Running

    /// Runs the router's thread until a stop event.
    public func run() {
        for s in services { s.attach(to: scheduler) }
        scheduler.run()
        for s in services.reversed() { s.detach(from: scheduler) }
    }

    /// A driver stop event (a source's `STOP true`, Script's `stop`, the `stop` handler).
    public func requestStop(_ count: Int = 1) {
        if let stopInterceptor, stopInterceptor() { return }
        runCount -= count
        if runCount <= 0 { scheduler.stop() }
    }

    // MARK: Hot reconfiguration

    /// Builds the configuration `text` as this router's successor: same clock, same packet
    /// pool, and every element whose name and class are unchanged takes over its
    /// predecessor's state (queued packets, counters, tables). On any error nothing
    /// changes and the errors are thrown. On success this router stops and `replacement`
    /// is the new one, ready to run; the caller cleans this one up once `run()` returns.
    public func hotswap(_ text: String) throws(ConfigurationError) -> Router {
        let log = DiagnosticLog()
        let newFlat = ClickConfiguration.flatten(text, file: "config", definitions: definitions,
                                                 knownClasses: registry.classNames, libraries: libraries, log: log)
        guard !log.hasErrors,
            let next = Router.build(newFlat, configurationText: text, registry: registry, clock: clock, pool: pool,
                                   services: services, log: log, chatter: chatter)
        else { throw ConfigurationError(log.diagnostics) }
        next.libraries = libraries
        next.definitions = definitions
        next.routerShared = routerShared
        next.standardOutput = standardOutput
        for e in next.elements {
            if let old = element(named: e.name), old.className == e.className { e.takeState(from: old) }
        }
        // This router is not cleaned up here: the write may come from inside its packet
        // path (a Script called by a Counter's COUNT_CALL), with elements still on the
        // stack. It stops after the current task round; whoever runs it cleans it up when
        // `run()` returns, then runs `replacement`.
        replacement = next
        scheduler.stop()
        return next
    }

    /// Lets the router run again after a stop (DriverManager continuing its script).
    public func continueRunning() {
        runCount = 1
        scheduler.resume()
    }
}
