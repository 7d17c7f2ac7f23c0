import Foundation
import Logging
import Messaging
import Synchronization

/// The planner's state machine (DESIGN §5-6), transport aside: it takes every envelope the
/// ROUTER socket receives (`handle`) and a tick a few times a second (`tick`), keeps the
/// chains, the host registry and the desired states in its store, places chains, and
/// pushes desired states to agents through `push`.
///
/// - Hosts: `Register` makes a host READY (or updates it); heartbeats keep it so; a host
///   that misses `missedBeats` heartbeat intervals is LOST and what ran there is placed
///   elsewhere. A host the planner does not know gets NOT_FOUND and registers again.
/// - Desired state: after each re-plan, every host whose state changed gets it with the
///   next generation (stored first, in one transaction, then sent); it is sent again every
///   `resendInterval` until the host's heartbeats report that generation.
/// - Re-planning: on apply and delete, a host's join or loss, and measured load that moved
///   more than `loadThreshold` from what the last plan used (at most every
///   `replanInterval`). Moves are make-before-break: when a re-plan adds VMs to a chain that
///   runs, the new VMs are booted first, with the links among themselves, their tunnels and
///   their links to the junction ports waiting for them (phase 1); traffic moves (the rest
///   of the new states) once the hosts report them RUNNING, or after `switchTimeout`
///   (phase 2).
/// - Restart: everything comes back from the store; the plan is what the stored desired
///   states run, so a restarted planner sends nothing new and no VM restarts.
public final class PlannerService: Sendable {
    /// Timings and thresholds.
    public struct Options: Sendable {
        public var heartbeatInterval = 1.0
        public var missedBeats = 3.0
        public var resendInterval = 2.0
        public var loadThreshold = 0.25
        public var replanInterval = 5.0
        public var switchTimeout = 10.0
        public var placement = Placement()
        public init() {}
    }

    /// A registered host and what the planner last heard from it.
    struct HostRecord {
        var registration: Clickos_V1_Register
        var health: Clickos_V1_HostSummary.Health
        var lastBeat: Double
        var lastBeatUnixMs: UInt64
        var peer: MessageServer.Peer?
        var observedGeneration: UInt64 = 0
        var status: Clickos_V1_HostStatus?
        var telemetry: Clickos_V1_Telemetry?
        var lastSent = 0.0
    }

    /// Phase 1 of a make-before-break move: the plan to switch to once these VMs run.
    struct Switchover {
        var plan: Plan
        var waitingFor: [String: Set<String>]
        var deadline: Double
        /// The hosts the move concerns (nil: all).
        var hosts: Set<String>?
    }

    struct State {
        var chains: [String: Clickos_V1_ChainSpec] = [:]
        var hosts: [String: HostRecord] = [:]
        var desired: [String: Clickos_V1_HostDesiredState] = [:]
        var plan = Plan()
        var switchover: Switchover?
        /// What the last plan used for each function's rate ("chain/function").
        var plannedRates: [String: Double] = [:]
        /// Each chain's load per host, in cores, as last placed, and their sum per host.
        var chainLoads: [String: [String: Double]] = [:]
        var totalLoad: [String: Double] = [:]
        /// The hosts as placement sees them, made again when a registration or a health
        /// changes (`hostsChanged`).
        var placementHosts: [String: PlacementHost] = [:]
        var hostsChanged = true
        /// VNIs of the cross-host links (by link name), kept while the links exist.
        var vnis: [String: UInt32] = [:]
        var lastReplan = 0.0
        var lastLoadCheck = 0.0
        var telemetryAsOf: UInt64 = 0
    }

    /// Counters for tests and metrics.
    public struct Counters: Sendable, Equatable {
        public var heartbeats = 0
        public var telemetry = 0
        public var statuses = 0
        public var replans = 0
        public var pushes = 0
        public var hostsLost = 0
    }

    let store: any PlannerStore
    let options: Options
    let log: Logger
    let state = Mutex(State())
    let counters = Mutex(Counters())
    /// How a desired state reaches an agent; set once the server exists. (A class: a
    /// closure read out of a `Mutex` through its `inout` gains a reabstraction thunk per
    /// access, measured to pile up into most of the planner's CPU.)
    final class Pusher: Sendable {
        let push: @Sendable (Clickos_V1_HostDesiredState, MessageServer.Peer) -> Void
        init(_ push: @escaping @Sendable (Clickos_V1_HostDesiredState, MessageServer.Peer) -> Void) { self.push = push }
    }
    let pusher = Mutex<Pusher?>(nil)
    public static let sender = "planner"

    /// Loads everything from `store`. Stored hosts keep their health and get a full
    /// liveness period from now to send a heartbeat.
    public init(store: any PlannerStore, options: Options = Options(), log: Logger = Logger(label: "clickos.planner")) throws {
        self.store = store
        self.options = options
        self.log = log
        let chains = try store.chains()
        let hosts = try store.hosts()
        let desired = try store.desired()
        let now = Self.now()
        state.withLock { s in
            for c in chains { s.chains[c.name] = c }
            for h in hosts {
                s.hosts[h.registration.hostName] = HostRecord(registration: h.registration, health: h.health, lastBeat: now,
                                                              lastBeatUnixMs: h.lastHeartbeatUnixMs)
            }
            for d in desired { s.desired[d.hostName] = d }
            s.plan = Plan(desired: desired, chains: chains)
            s.vnis = DesiredStateBuilder.vnis(in: desired)
            self.recordLoads(&s, plan: s.plan, only: nil)
            for (name, h) in s.hosts where h.registration.cores > 0 {
                s.plan.utilization[name] = s.chainLoads.values.reduce(0) { $0 + ($1[name] ?? 0) } / Double(h.registration.cores)
            }
            s.plan.unplaced = Dictionary(chains.filter { c in !s.plan.instances.contains { $0.chain == c.name } }.map { ($0.name, "not placed yet") },
                                         uniquingKeysWith: { a, _ in a })
            s.lastReplan = now
        }
        log.info("planner state loaded", metadata: ["chains": "\(chains.count)", "hosts": "\(hosts.count)", "desired": "\(desired.count)"])
    }

    /// Where pushes go (the ROUTER socket's `send`).
    public func setPusher(_ push: @escaping @Sendable (Clickos_V1_HostDesiredState, MessageServer.Peer) -> Void) {
        let p = Pusher(push)
        pusher.withLock { $0 = p }
    }

    public var statistics: Counters { counters.withLock { $0 } }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func unixMs() -> UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    // MARK: Messages

    /// Serves one envelope from `peer`; the reply (if any) goes back to it.
    public func handle(_ e: Envelope, peer: MessageServer.Peer) -> Envelope? {
        func reply(_ p: Envelope.OneOf_Payload) -> Envelope { EnvelopeCodec.make(sender: Self.sender, requestID: e.requestID, p) }
        func fail(_ code: WireError.Code, _ message: String) -> Envelope { EnvelopeCodec.error(code, message, requestID: e.requestID, from: Self.sender) }
        switch e.payload {
        case .register(let r):
            if let problem = Self.registrationProblem(r) {
                log.warning("registration refused", metadata: ["sender": .string(e.sender), "problem": .string(problem)])
                return fail(.invalidArgument, problem)
            }
            register(r, peer: peer)
            return reply(.ack(Clickos_V1_Ack()))
        case .heartbeat(let h):
            counters.withLock { $0.heartbeats += 1 }
            return heartbeat(h, peer: peer) ? nil : fail(.notFound, "host '\(h.hostName)' is not registered with this planner")
        case .telemetry(let t):
            counters.withLock { $0.telemetry += 1 }
            let known = state.withLock { s -> Bool in
                guard s.hosts[t.hostName] != nil else { return false }
                s.hosts[t.hostName]?.telemetry = t
                s.hosts[t.hostName]?.peer = peer
                s.telemetryAsOf = max(s.telemetryAsOf, t.endUnixNs)
                return true
            }
            return known ? nil : fail(.notFound, "host '\(t.hostName)' is not registered with this planner")
        case .hostStatus(let st):
            counters.withLock { $0.statuses += 1 }
            return status(st, peer: peer) ? nil : fail(.notFound, "host '\(st.hostName)' is not registered with this planner")
        case .ack:
            return nil
        case .error(let err):
            log.warning("an error came back", metadata: ["sender": .string(e.sender), "request": "\(e.requestID)", "code": "\(err.code)",
                                                        "message": .string(err.message)])
            return nil
        case .applyChain(let a):
            return apply(a, requestID: e.requestID, sender: e.sender)
        case .deleteChain(let d):
            return delete(d.chain, requestID: e.requestID, sender: e.sender)
        case .listChains:
            var r = Clickos_V1_ListChainsReply()
            r.chains = chainSummaries()
            return reply(.listChainsReply(r))
        case .listHosts:
            var r = Clickos_V1_ListHostsReply()
            r.hosts = hostSummaries()
            return reply(.listHostsReply(r))
        case .top(let t):
            return reply(.topReply(top(chain: t.chain)))
        case .plan(let p):
            return reply(.planReply(offlinePlan(p)))
        case .desiredState, .applyChainReply, .deleteChainReply, .listChainsReply, .listHostsReply, .topReply, .planReply:
            return fail(.unexpectedPayload, "the planner does not take \(Self.payloadName(e.payload)) messages")
        case nil:
            return fail(.missingPayload, "an envelope without a payload")
        }
    }

    static func payloadName(_ p: Envelope.OneOf_Payload?) -> String {
        guard let p else { return "empty" }
        let text = "\(p)"
        return String(text.prefix { $0 != "(" })
    }

    static func registrationProblem(_ r: Clickos_V1_Register) -> String? {
        let name = r.hostName
        guard !name.isEmpty, name.utf8.count <= 64, !name.hasPrefix("_"),
              name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 45 || $0 == 46 || $0 == 95 })
        else { return "register.host_name: '\(name)': use 1 to 64 letters, digits, '-', '_' or '.'" }
        guard r.cores >= 1, r.cores <= 4096 else { return "register.cores: \(r.cores) is out of range (1-4096)" }
        guard r.packetsPerCore.isFinite, r.packetsPerCore > 0, r.packetsPerCore < 1e10 else {
            return "register.packets_per_core: \(r.packetsPerCore) is out of range"
        }
        if !r.dataPlaneAddress.isEmpty && !ChainFile.Reader.validAddress(r.dataPlaneAddress) {
            return "register.data_plane_address: '\(r.dataPlaneAddress)' is not an IPv4 address"
        }
        return nil
    }

    private func register(_ r: Clickos_V1_Register, peer: MessageServer.Peer) {
        let now = Self.now(), ms = Self.unixMs()
        let (changed, desired) = state.withLock { s -> (Bool, Clickos_V1_HostDesiredState?) in
            let before = s.hosts[r.hostName]
            var record = before ?? HostRecord(registration: r, health: .ready, lastBeat: now, lastBeatUnixMs: ms)
            let changed = before == nil || before?.health != .ready || before?.registration.cores != r.cores
                || before?.registration.packetsPerCore != r.packetsPerCore || before?.registration.labels != r.labels
                || before?.registration.dataPlaneAddress != r.dataPlaneAddress
            record.registration = r
            record.health = .ready
            record.lastBeat = now
            record.lastBeatUnixMs = ms
            record.peer = peer
            record.lastSent = 0
            s.hosts[r.hostName] = record
            s.hostsChanged = true
            return (changed, s.desired[r.hostName])
        }
        do {
            try store.putHost(StoredHost(registration: r, health: .ready, lastHeartbeatUnixMs: ms))
        } catch {
            log.error("cannot store a host", metadata: ["host": .string(r.hostName), "error": "\(error)"])
        }
        log.info("host registered", metadata: ["host": .string(r.hostName), "cores": "\(r.cores)", "packets_per_core": "\(Int(r.packetsPerCore))",
                                               "data_address": .string(r.dataPlaneAddress)])
        if changed {
            replan(reason: "host \(r.hostName) joined")
        } else if let desired {
            send(desired, to: r.hostName)
        }
    }

    /// False when the host is unknown.
    private func heartbeat(_ h: Clickos_V1_Heartbeat, peer: MessageServer.Peer) -> Bool {
        let now = Self.now()
        let outcome = state.withLock { s -> Bool? in
            guard var record = s.hosts[h.hostName] else { return nil }
            let wasLost = record.health != .ready
            record.lastBeat = now
            record.lastBeatUnixMs = Self.unixMs()
            record.observedGeneration = h.observedGeneration
            record.peer = peer
            record.health = .ready
            s.hosts[h.hostName] = record
            if wasLost { s.hostsChanged = true }
            return wasLost
        }
        guard let wasLost = outcome else { return false }
        if wasLost {
            log.info("host is back", metadata: ["host": .string(h.hostName)])
            storeHealth(h.hostName)
            replan(reason: "host \(h.hostName) came back")
        }
        return true
    }

    private func status(_ st: Clickos_V1_HostStatus, peer: MessageServer.Peer) -> Bool {
        let known = state.withLock { s -> Bool in
            guard s.hosts[st.hostName] != nil else { return false }
            s.hosts[st.hostName]?.status = st
            s.hosts[st.hostName]?.observedGeneration = st.observedGeneration
            s.hosts[st.hostName]?.peer = peer
            return true
        }
        if known { advanceSwitchover() }
        return known
    }

    private func apply(_ request: Clickos_V1_ApplyChainRequest, requestID: UInt64, sender: String) -> Envelope {
        let chain = request.chain
        let problems = ChainFile.validate(chain)
        if !problems.isEmpty {
            log.warning("chain refused", metadata: ["chain": .string(chain.name), "sender": .string(sender), "problems": .string(problems.joined(separator: "; "))])
            return EnvelopeCodec.error(.invalidArgument, problems.joined(separator: "\n"), requestID: requestID, from: Self.sender)
        }
        var reply = Clickos_V1_ApplyChainReply()
        reply.chain = chain.name
        if request.dryRun {
            let plan = state.withLock { s -> (Plan, Bool) in
                var copy = s
                copy.chains[chain.name] = chain
                let plan = self.placeOne(&copy, chain.name)?.0 ?? self.place(&copy, chains: Array(copy.chains.values))
                return (plan, s.chains[chain.name] == nil)
            }
            reply.created = plan.1
            fill(&reply, chain: chain.name, plan: plan.0)
            return EnvelopeCodec.make(sender: Self.sender, requestID: requestID, .applyChainReply(reply))
        }
        let existed = state.withLock { s in s.chains[chain.name] != nil }
        do {
            try store.putChain(chain)
        } catch {
            return EnvelopeCodec.error(.internal, "cannot store chain '\(chain.name)': \(error)", requestID: requestID, from: Self.sender)
        }
        state.withLock { $0.chains[chain.name] = chain }
        log.info(existed ? "chain updated" : "chain applied", metadata: ["chain": .string(chain.name), "sender": .string(sender),
                                                                         "functions": "\(chain.functions.count)"])
        let plan = replan(reason: "chain \(chain.name) applied", only: chain.name)
        reply.created = !existed
        fill(&reply, chain: chain.name, plan: plan)
        return EnvelopeCodec.make(sender: Self.sender, requestID: requestID, .applyChainReply(reply))
    }

    private func fill(_ reply: inout Clickos_V1_ApplyChainReply, chain: String, plan: Plan) {
        let order = Dictionary((plan.functionOrder[chain] ?? []).enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        reply.placements = plan.instances.filter { $0.chain == chain }
            .sorted { (order[$0.function] ?? 0, $0.instance) < (order[$1.function] ?? 0, $1.instance) }
            .map { placement($0) }
        if let why = plan.unplaced[chain] { reply.warnings.append("PENDING: \(why)") }
        reply.warnings += plan.warnings.filter { $0.hasPrefix(chain + "/") }
    }

    private func placement(_ p: PlacedInstance, states: [String: [String: Clickos_V1_VMStatus.State]] = [:]) -> Clickos_V1_Placement {
        var out = Clickos_V1_Placement()
        out.function = p.function
        out.instance = UInt32(p.instance)
        out.host = p.host
        out.vm = "\(p.chain)-\(p.function)-\(p.instance)"
        out.state = states[p.host]?[out.vm] ?? .unknown
        return out
    }

    private func delete(_ name: String, requestID: UInt64, sender: String) -> Envelope {
        guard state.withLock({ $0.chains[name] != nil }) else {
            return EnvelopeCodec.error(.notFound, "no chain '\(name)'", requestID: requestID, from: Self.sender)
        }
        do {
            _ = try store.deleteChain(name)
        } catch {
            return EnvelopeCodec.error(.internal, "cannot delete chain '\(name)': \(error)", requestID: requestID, from: Self.sender)
        }
        state.withLock { _ = $0.chains.removeValue(forKey: name) }
        log.info("chain deleted", metadata: ["chain": .string(name), "sender": .string(sender)])
        replan(reason: "chain \(name) deleted", only: name)
        var r = Clickos_V1_DeleteChainReply()
        r.chain = name
        return EnvelopeCodec.make(sender: Self.sender, requestID: requestID, .deleteChainReply(r))
    }

    // MARK: Placement and desired states

    /// Placement's inputs from the state: ready hosts, chains with measured rates.
    private func place(_ s: inout State, chains: [Clickos_V1_ChainSpec]) -> Plan {
        let measured = Self.measured(s)
        let hosts = Array(placementHosts(&s).values)
        let placementChains = chains.map { placementChain(s, $0, measured: measured) }
        return options.placement.place(hosts: hosts, chains: placementChains, previous: s.switchover?.plan ?? s.plan)
    }

    /// Each function's measured rate (packets in, both ports, all instances) and CPU cost
    /// per packet, from the hosts' last telemetry; functions without traffic are left out.
    static func measured(_ s: State, chain: String? = nil, on hosts: Set<String>? = nil) -> [String: (pps: Double, nsPerPacket: Double?)] {
        var rate: [String: Double] = [:], cpu: [String: Double] = [:]
        let hosts = hosts ?? chain.map { c in Set(s.plan.instances.filter { $0.chain == c }.map(\.host)) }
        for (name, h) in s.hosts where h.health == .ready && hosts?.contains(name) != false {
            guard let t = h.telemetry else { continue }
            for vm in t.vms where !vm.function.isEmpty && s.chains[vm.chain] != nil && (chain == nil || vm.chain == chain) {
                let key = vm.chain + "/" + vm.function
                var pps = 0.0
                for p in vm.ports { pps += p.rxPps }
                rate[key, default: 0] += pps
                if vm.cpuNsPerPacket > 0 { cpu[key, default: 0] += vm.cpuNsPerPacket * pps }
            }
        }
        var out: [String: (pps: Double, nsPerPacket: Double?)] = [:]
        for (k, pps) in rate where pps > 0 {
            out[k] = (pps: pps, nsPerPacket: cpu[k].map { $0 / pps })
        }
        return out
    }

    /// Places every chain again (or, with `only`, that one chain on what the others leave:
    /// they keep their places anyway) and sends the hosts whose desired state changed.
    @discardableResult
    func replan(reason: String, only chain: String? = nil) -> Plan {
        counters.withLock { $0.replans += 1 }
        var sends: [Clickos_V1_HostDesiredState] = []
        let plan = state.withLock { s -> Plan in
            let (plan, affected) = chain.flatMap { self.placeOne(&s, $0) } ?? (self.place(&s, chains: Array(s.chains.values)), nil)
            if affected == nil {
                s.lastReplan = Self.now()
                s.plannedRates = Self.measured(s).mapValues(\.pps)
            }
            self.recordLoads(&s, plan: plan, only: chain)
            // Make-before-break: a chain that runs and gets new VMs boots them first.
            let oldInstances = chain.map { c in s.plan.instances.filter { $0.chain == c } } ?? s.plan.instances
            let newInstances = chain.map { c in plan.instances.filter { $0.chain == c } } ?? plan.instances
            let before = Set(oldInstances)
            let running = Set(oldInstances.map(\.chain))
            let added = newInstances.filter { !before.contains($0) && running.contains($0.chain) }
            if !added.isEmpty {
                let warm = self.warmStates(&s, target: plan, added: added, hosts: affected)
                s.switchover = Switchover(plan: plan, waitingFor: Dictionary(grouping: added, by: \.host).mapValues { Set($0.map { "\($0.chain)-\($0.function)-\($0.instance)" }) },
                                          deadline: Self.now() + options.switchTimeout, hosts: affected)
                sends = self.commit(&s, warm)
                log.info("re-plan: new VMs boot before traffic moves", metadata: ["reason": .string(reason), "new": "\(added.count)"])
            } else {
                s.switchover = nil
                s.plan = plan
                sends = self.commit(&s, self.build(&s, plan: plan, hosts: affected))
                log.info("re-plan", metadata: ["reason": .string(reason), "instances": "\(plan.instances.count)", "pending": "\(plan.unplaced.count)",
                                               "hosts_changed": "\(sends.count)"])
            }
            return plan
        }
        for d in sends { send(d, to: d.hostName) }
        return plan
    }

    /// The plan with `name` placed again on the room the other chains leave (or removed,
    /// when it is gone), and the hosts it ran on or runs on now. Nil when a whole re-plan
    /// is due (a move is under way).
    private func placeOne(_ s: inout State, _ name: String) -> (Plan, Set<String>?)? {
        guard s.switchover == nil else { return nil }
        var plan = s.plan
        // The instances are sorted by chain: the chain's are one run of them.
        let start = plan.instances.firstIndex(chainAtLeast: name)
        var end = start
        while end < plan.instances.count && plan.instances[end].chain == name { end += 1 }
        let old = Array(plan.instances[start..<end])
        plan.instances.removeSubrange(start..<end)
        plan.unplaced[name] = nil
        plan.functionOrder[name] = nil
        plan.warnings.removeAll { $0.hasPrefix(name + "/") }
        var reserved = s.totalLoad
        for (h, l) in s.chainLoads[name] ?? [:] { reserved[h, default: 0] -= l }
        var affected = Set(old.map(\.host))
        var added = Plan()
        if let spec = s.chains[name] {
            let hosts = placementHosts(&s).values.map { h -> PlacementHost in
                var h = h
                h.reserved = max(0, reserved[h.name] ?? 0)
                return h
            }
            var previous = Plan()
            previous.instances = old
            let measured = Self.measured(s, chain: name, on: Set(old.map(\.host)))
            added = options.placement.place(hosts: hosts, chains: [placementChain(s, spec, measured: measured)], previous: previous)
            plan.instances.insert(contentsOf: added.instances.sorted(), at: start)
            plan.unplaced.merge(added.unplaced) { a, _ in a }
            plan.functionOrder.merge(added.functionOrder) { a, _ in a }
            plan.warnings += added.warnings
            affected.formUnion(added.instances.map(\.host))
        }
        // Placing on reserved hosts counts the reservations in the utilization.
        for (name, h) in s.hosts {
            let total = Double(h.registration.cores)
            plan.utilization[name] = added.utilization[name] ?? (total > 0 ? (reserved[name] ?? 0) / total : 0)
        }
        return (plan, affected)
    }

    /// The hosts as placement sees them (ready or not), kept until one changes.
    private func placementHosts(_ s: inout State) -> [String: PlacementHost] {
        if s.hostsChanged {
            s.placementHosts = s.hosts.mapValues { PlacementHost($0.registration, ready: $0.health == .ready) }
            s.hostsChanged = false
        }
        return s.placementHosts
    }

    /// Keeps each chain's load per host (what `placeOne` reserves for the others).
    private func recordLoads(_ s: inout State, plan: Plan, only chain: String?) {
        let hosts = placementHosts(&s)
        let names = chain.map { [$0] } ?? Array(s.chains.keys)
        if chain == nil {
            s.chainLoads = [:]
            s.totalLoad = [:]
        }
        for name in names {
            for (h, l) in s.chainLoads[name] ?? [:] { s.totalLoad[h, default: 0] -= l }
            guard let spec = s.chains[name] else {
                s.chainLoads[name] = nil
                continue
            }
            let loads = options.placement.load(of: placementChain(s, spec), in: plan, hosts: hosts)
            s.chainLoads[name] = loads
            for (h, l) in loads { s.totalLoad[h, default: 0] += l }
        }
    }

    /// A chain as placement sees it, with its functions' measured rates.
    private func placementChain(_ s: State, _ spec: Clickos_V1_ChainSpec, measured: [String: (pps: Double, nsPerPacket: Double?)]? = nil) -> PlacementChain {
        let m = measured ?? Self.measured(s, chain: spec.name)
        var pc = PlacementChain(spec)
        for i in pc.functions.indices {
            if let v = m["\(spec.name)/\(pc.functions[i].name)"] {
                pc.functions[i].measuredPps = v.pps
                pc.functions[i].cpuNsPerPacket = v.nsPerPacket
            }
        }
        return pc
    }

    /// The desired states of `hosts` (all when nil) for `plan`; link secrets and VNIs
    /// carry over from the states the hosts have.
    private func build(_ s: inout State, plan: Plan, hosts: Set<String>?) -> [String: Clickos_V1_HostDesiredState] {
        let targets = hosts.map(Array.init) ?? Array(s.hosts.keys)
        let previous = hosts.map { set in
            Dictionary(set.compactMap { h in s.desired[h].map { (h, $0) } }, uniquingKeysWith: { a, _ in a })
        } ?? s.desired
        // The chains with an instance on one of the hosts.
        let chains: [Clickos_V1_ChainSpec]
        if let hosts {
            let names = Set(plan.instances.filter { hosts.contains($0.host) }.map(\.chain))
            chains = names.compactMap { s.chains[$0] }
        } else {
            chains = Array(s.chains.values)
        }
        let builder = DesiredStateBuilder(dataAddresses: s.hosts.mapValues(\.registration.dataPlaneAddress), previous: previous)
        return builder.build(plan: plan, chains: chains, hosts: targets, vnis: &s.vnis, prune: hosts == nil)
    }

    /// Phase 1: the hosts' current states plus the new VMs of `target`, with the links and
    /// tunnels whose every VM end is new.
    private func warmStates(_ s: inout State, target: Plan, added: [PlacedInstance], hosts: Set<String>?) -> [String: Clickos_V1_HostDesiredState] {
        let targetStates = build(&s, plan: target, hosts: hosts)
        let addedChains = Set(added.map(\.chain))
        var out: [String: Clickos_V1_HostDesiredState] = [:]
        for (host, t) in targetStates {
            var w = s.desired[host] ?? Clickos_V1_HostDesiredState()
            w.hostName = host
            let existing = Set(w.vms.map(\.name))
            let fresh = Set(t.vms.filter { !existing.contains($0.name) && addedChains.contains($0.chain) }.map(\.name))
            func isFresh(_ end: String) -> Bool { end.split(separator: ":").count == 3 && fresh.contains(String(end.split(separator: ":")[1])) }
            // Junction ports waiting for an instance (a link with no client yet) take theirs now.
            let waiting = Set(w.links.filter { $0.client.isEmpty }.map(\.server))
            w.vms += t.vms.filter { fresh.contains($0.name) }
            for l in t.links where isFresh(l.client) && (isFresh(l.server) || waiting.contains(l.server)) {
                w.links.removeAll { $0.name == l.name }
                w.links.append(l)
            }
            let vnis = Set(w.tunnels.map(\.vni))
            w.tunnels += t.tunnels.filter { (isFresh($0.localEnd) || waiting.contains($0.localEnd)) && !vnis.contains($0.vni) }
            out[host] = w
        }
        return out
    }

    /// Gives each changed state the next generation, stores them together, and returns
    /// them to send.
    private func commit(_ s: inout State, _ states: [String: Clickos_V1_HostDesiredState]) -> [Clickos_V1_HostDesiredState] {
        var changed: [Clickos_V1_HostDesiredState] = []
        for host in states.keys.sorted() {
            guard var d = states[host] else { continue }
            let current = s.desired[host]
            d.generation = current?.generation ?? 0
            if let current, current == d { continue }
            if current == nil && d.vms.isEmpty { continue }
            d.generation += 1
            changed.append(d)
        }
        guard !changed.isEmpty else { return [] }
        do {
            try store.putDesired(changed)
        } catch {
            log.error("cannot store desired states; not sending them", metadata: ["error": "\(error)"])
            return []
        }
        for d in changed { s.desired[d.hostName] = d }
        return changed
    }

    private func send(_ d: Clickos_V1_HostDesiredState, to host: String) {
        let peer = state.withLock { s -> MessageServer.Peer? in
            guard let r = s.hosts[host], r.health == .ready, let peer = r.peer else { return nil }
            s.hosts[host]?.lastSent = Self.now()
            return peer
        }
        guard let peer, let pusher = pusher.withLock({ $0 }) else { return }
        counters.withLock { $0.pushes += 1 }
        pusher.push(d, peer)
    }

    /// Phase 2 once the new VMs run (or the wait timed out).
    private func advanceSwitchover() {
        var sends: [Clickos_V1_HostDesiredState] = []
        state.withLock { s in
            guard let sw = s.switchover else { return }
            let ready = sw.waitingFor.allSatisfy { host, names in
                let running = Set((s.hosts[host]?.status?.vms ?? []).filter { $0.state == .running }.map(\.name))
                return names.isSubset(of: running) || s.hosts[host]?.health != .ready
            }
            guard ready || Self.now() >= sw.deadline else { return }
            s.switchover = nil
            s.plan = sw.plan
            sends = commit(&s, build(&s, plan: sw.plan, hosts: sw.hosts))
            log.info(ready ? "new VMs run; traffic moves" : "new VMs did not all start in time; traffic moves anyway",
                     metadata: ["hosts_changed": "\(sends.count)"])
        }
        for d in sends { send(d, to: d.hostName) }
    }

    // MARK: Time

    /// Liveness, resends, switchovers and load-driven re-plans; call a few times a second.
    public func tick() {
        let now = Self.now()
        let limit = options.heartbeatInterval * options.missedBeats
        let lost = state.withLock { s -> [String] in
            var lost: [String] = []
            for (name, h) in s.hosts where h.health == .ready && now - h.lastBeat > limit {
                s.hosts[name]?.health = .lost
                s.hostsChanged = true
                lost.append(name)
            }
            return lost.sorted()
        }
        for name in lost {
            counters.withLock { $0.hostsLost += 1 }
            log.warning("host lost: no heartbeat", metadata: ["host": .string(name), "seconds": "\(limit)"])
            storeHealth(name)
        }
        if !lost.isEmpty { replan(reason: "lost \(lost.joined(separator: ", "))") }
        advanceSwitchover()
        // Desired states not yet reached are sent again; so is the state of a host that has
        // not reported its status to this planner (after a restart): the agent answers a
        // generation it has with its status.
        let resend = state.withLock { s in
            s.hosts.compactMap { name, h -> Clickos_V1_HostDesiredState? in
                guard h.health == .ready, h.peer != nil, let d = s.desired[name], h.observedGeneration < d.generation || h.status == nil,
                      now - h.lastSent >= options.resendInterval else { return nil }
                return d
            }
        }
        for d in resend { send(d, to: d.hostName) }
        // Measured load that moved.
        let moved = state.withLock { s -> Bool in
            guard now - s.lastReplan >= options.replanInterval, now - s.lastLoadCheck >= 1 else { return false }
            s.lastLoadCheck = now
            let m = Self.measured(s)
            for (key, value) in m {
                let before = s.plannedRates[key] ?? 0
                if abs(value.pps - before) > options.loadThreshold * max(before, 1) { return true }
            }
            return s.plannedRates.keys.contains { m[$0] == nil }
        }
        if moved { replan(reason: "measured load changed by more than \(Int(options.loadThreshold * 100))%") }
    }

    private func storeHealth(_ host: String) {
        guard let h = state.withLock({ $0.hosts[host] }) else { return }
        do {
            try store.putHost(StoredHost(registration: h.registration, health: h.health, lastHeartbeatUnixMs: h.lastBeatUnixMs))
        } catch {
            log.error("cannot store a host's health", metadata: ["host": .string(host), "error": "\(error)"])
        }
    }

    // MARK: Views

    func chainSummaries() -> [Clickos_V1_ChainSummary] {
        state.withLock { s in
            let states = s.hosts.mapValues { h in
                Dictionary((h.status?.vms ?? []).map { ($0.name, $0.state) }, uniquingKeysWith: { a, _ in a })
            }
            var rates: [String: Double] = [:]
            for h in s.hosts.values where h.health == .ready {
                for vm in h.telemetry?.vms ?? [] where vm.function == s.chains[vm.chain]?.functions.first?.name {
                    rates[vm.chain, default: 0] += vm.ports.first?.rxPps ?? 0
                }
            }
            return s.chains.keys.sorted().compactMap { name -> Clickos_V1_ChainSummary? in
                guard let c = s.chains[name] else { return nil }
                var out = Clickos_V1_ChainSummary()
                out.name = name
                out.declaredPps = c.declaredPps
                out.measuredPps = rates[name] ?? 0
                let order = Dictionary(c.functions.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
                out.placements = s.plan.instances.filter { $0.chain == name }
                    .sorted { (order[$0.function] ?? 0, $0.instance) < (order[$1.function] ?? 0, $1.instance) }
                    .map { placement($0, states: states) }
                // What the chain's hosts report they cannot do for it (an edge's interface
                // missing, a configuration that fails to boot).
                let vmNames = Set(out.placements.map(\.vm))
                let problems = Set(out.placements.map(\.host)).sorted().flatMap { host in
                    (s.hosts[host]?.status?.errors ?? []).filter { e in
                        e.contains("edge \(name) ") || vmNames.contains { e.contains("VM \($0):") || e.contains("'\($0)'") }
                    }.map { "\(host): \($0)" }
                }
                out.generation = out.placements.map { s.desired[$0.host]?.generation ?? 0 }.max() ?? 0
                if let why = s.plan.unplaced[name] {
                    out.phase = .pending
                    out.message = why
                } else if !problems.isEmpty || out.placements.contains(where: { s.hosts[$0.host]?.health != .ready || $0.state == .failed || $0.state == .exited }) {
                    out.phase = .degraded
                    let down = out.placements.filter { $0.state == .failed || $0.state == .exited || s.hosts[$0.host]?.health != .ready }
                    out.message = (down.map { "\($0.vm) \(s.hosts[$0.host]?.health == .ready ? "\($0.state)" : "on a lost host")" } + problems)
                        .joined(separator: "; ")
                } else if out.placements.allSatisfy({ $0.state == .running }) {
                    out.phase = .running
                } else {
                    out.phase = .placing
                }
                return out
            }
        }
    }

    func hostSummaries() -> [Clickos_V1_HostSummary] {
        state.withLock { s in
            s.hosts.keys.sorted().compactMap { name -> Clickos_V1_HostSummary? in
                guard let h = s.hosts[name] else { return nil }
                var out = Clickos_V1_HostSummary()
                out.name = name
                out.health = h.health
                out.cores = h.registration.cores
                out.packetsPerCore = h.registration.packetsPerCore
                out.utilization = s.plan.utilization[name] ?? 0
                out.vms = UInt32(s.desired[name]?.vms.count ?? 0)
                out.desiredGeneration = s.desired[name]?.generation ?? 0
                out.observedGeneration = h.observedGeneration
                out.lastHeartbeatUnixMs = h.lastBeatUnixMs
                out.dataPlaneAddress = h.registration.dataPlaneAddress
                out.vmBackends = h.registration.vmBackends.isEmpty ? ["process"] : h.registration.vmBackends.sorted()
                return out
            }
        }
    }

    func top(chain: String) -> Clickos_V1_TopReply {
        state.withLock { s in
            var r = Clickos_V1_TopReply()
            r.asOfUnixNs = s.telemetryAsOf
            for name in s.hosts.keys.sorted() {
                guard let h = s.hosts[name], h.health == .ready else { continue }
                r.vms += (h.telemetry?.vms ?? []).filter { !$0.chain.isEmpty && (chain.isEmpty || $0.chain == chain) }
            }
            // Chain by chain, in chain order (junctions, with no function, after).
            func position(_ v: Clickos_V1_VMTelemetry) -> Int {
                s.chains[v.chain]?.functions.firstIndex { $0.name == v.function } ?? Int.max
            }
            r.vms.sort { ($0.chain, position($0), $0.instance, $0.vm) < ($1.chain, position($1), $1.instance, $1.vm) }
            return r
        }
    }

    func offlinePlan(_ p: Clickos_V1_PlanRequest) -> Clickos_V1_PlanReply {
        let plan = options.placement.place(hosts: p.hosts.map { PlacementHost($0) }, chains: p.chains.map { PlacementChain($0) })
        var r = Clickos_V1_PlanReply()
        r.placements = plan.instances.map { placement($0) }
        r.utilization = plan.utilization
        r.unplaced = plan.unplaced.keys.sorted().map { "\($0): \(plan.unplaced[$0] ?? "")" }
        return r
    }
}

extension [PlacedInstance] {
    /// In instances sorted by chain, the first whose chain is `name` or after it (binary
    /// search).
    func firstIndex(chainAtLeast name: String) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid].chain < name { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
