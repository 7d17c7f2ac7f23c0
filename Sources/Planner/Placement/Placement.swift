/// A host as placement sees it: its cores, its measured per-core budget, labels, health.
public struct PlacementHost: Sendable, Equatable {
    public var name: String
    public var cores: Int
    /// Packets per second one core moves through the reference function.
    public var packetsPerCore: Double
    public var labels: [String: String] = [:]
    /// The VM backends the host's agent offers ("process", "xen"): a function goes only
    /// where its backend is.
    public var backends: Set<String> = ["process"]
    /// Hosts that are not ready (lost, draining) get nothing new and lose what they had.
    public var ready = true
    /// Cores already taken by instances this placement does not see (the other chains,
    /// when one chain is placed on its own); counted in the host's utilization.
    public var reserved = 0.0

    public init(name: String, cores: Int, packetsPerCore: Double, labels: [String: String] = [:], backends: Set<String> = ["process"], ready: Bool = true) {
        self.name = name
        self.cores = cores
        self.packetsPerCore = packetsPerCore
        self.labels = labels
        self.backends = backends
        self.ready = ready
    }
}

/// One function of a chain as placement sees it.
public struct PlacementFunction: Sendable, Equatable {
    public var name: String
    public var minInstances = 1
    public var maxInstances = 1
    public var host: String?
    public var labels: [String: String] = [:]
    /// The VM backend its instances need ("process" or "xen").
    public var backend = "process"
    /// The function's measured rate (all instances), when known; the chain's declared rate
    /// otherwise.
    public var measuredPps: Double?
    /// Its measured CPU cost per packet, when known; a host's reference cost otherwise.
    public var cpuNsPerPacket: Double?

    public init(name: String, minInstances: Int = 1, maxInstances: Int = 1, host: String? = nil, labels: [String: String] = [:], backend: String = "process") {
        self.name = name
        self.minInstances = minInstances
        self.maxInstances = maxInstances
        self.host = host
        self.labels = labels
        self.backend = backend
    }
}

/// A chain as placement sees it.
public struct PlacementChain: Sendable, Equatable {
    public var name: String
    public var declaredPps: Double
    public var lowLatency = false
    public var functions: [PlacementFunction]
    /// Pins of the edges: the first function goes where the ingress is pinned, the last
    /// where the egress is.
    public var ingressHost: String?
    public var egressHost: String?

    public init(name: String, declaredPps: Double, functions: [PlacementFunction], lowLatency: Bool = false) {
        self.name = name
        self.declaredPps = declaredPps
        self.functions = functions
        self.lowLatency = lowLatency
    }
}

/// Where one instance of one function runs.
public struct PlacedInstance: Sendable, Hashable, Comparable {
    public var chain: String
    public var function: String
    public var instance: Int
    public var host: String

    public init(chain: String, function: String, instance: Int, host: String) {
        self.chain = chain
        self.function = function
        self.instance = instance
        self.host = host
    }

    public static func < (a: Self, b: Self) -> Bool { (a.chain, a.function, a.instance) < (b.chain, b.function, b.instance) }
}

/// The result of placement.
public struct Plan: Sendable, Equatable {
    public var instances: [PlacedInstance] = []
    /// Chains that could not be placed, with the reason.
    public var unplaced: [String: String] = [:]
    /// Per host, the share of its budget used (0...1 of the whole host, headroom included).
    public var utilization: [String: Double] = [:]
    /// Functions that need more instances than their maximum to carry their rate.
    public var warnings: [String] = []

    public init() {}

    /// Each placed chain's functions, in chain order.
    public var functionOrder: [String: [String]] = [:]

    /// Hops between consecutive functions that cross hosts: for each pair of consecutive
    /// functions, the share of their instance pairs on different hosts (single instances
    /// count 0 or 1), summed over the chains.
    public var crossHostHops: Double {
        var hostsOf: [String: [String]] = [:]
        for p in instances { hostsOf["\(p.chain)/\(p.function)", default: []].append(p.host) }
        var hops = 0.0
        for (chain, functions) in functionOrder where functions.count > 1 {
            for i in 0..<(functions.count - 1) {
                let a = hostsOf["\(chain)/\(functions[i])"] ?? [], b = hostsOf["\(chain)/\(functions[i + 1])"] ?? []
                guard !a.isEmpty, !b.isEmpty else { continue }
                var apart = 0
                for x in a { for y in b where x != y { apart += 1 } }
                hops += Double(apart) / Double(a.count * b.count)
            }
        }
        return hops
    }

    /// Hosts that run at least one instance.
    public var hostsUsed: Int { Set(instances.map(\.host)).count }
}

/// Placement (DESIGN §6): pure and deterministic — the same hosts, chains and previous
/// plan give the same plan.
///
/// - Budget: a host offers `headroom` × cores; an instance needs rate × cost per packet,
///   the cost being the function's measured `cpu_ns_per_packet` or, until measured, the
///   host's reference cost (1 / `packets_per_core`); a low-latency instance polls and
///   takes a whole core.
/// - Instances: as many as the rate needs at `instanceCap` of a core each (a VM is one
///   thread), within the function's minimum and maximum; scaling in waits until the rate
///   fits in one instance fewer at `scaleInBelow` of a core each (hysteresis).
/// - Stability: what the previous plan placed stays where it is while its host is ready,
///   keeps its pins and labels and has room; only the rest is placed again (a host's loss
///   moves only what ran there; a scale-out adds instances and keeps the existing ones).
/// - Choice: the largest chains first; a chain on one host when one takes all of it;
///   otherwise, for each instance, the host of the previous function's instance (no
///   VXLAN hop), then the host that takes the longest run of the chain's next functions,
///   then hosts this chain uses, then any that fits. Among equals: hosts in use before
///   empty ones, the fullest first (packing leaves whole hosts free), then the empty host
///   that moves the most packets, then by name. A repair pass then moves one whole chain
///   off a host when that lets a split chain sit there whole.
/// - A chain is placed whole or not at all; one that does not fit is left out with why.
public struct Placement: Sendable {
    public var headroom = 0.8
    public var instanceCap = 0.8
    public var scaleInBelow = 0.5

    public init() {}

    struct FunctionKey: Hashable {
        var chain: String
        var function: String
    }

    /// One instance to place: its load on a given host, and where it may go.
    struct Need {
        var chain: Int
        var function: Int
        var instance: Int
        var load: (PlacementHost) -> Double
        var allowed: (PlacementHost) -> Bool
        var previousHost: String?
    }

    public func place(hosts: [PlacementHost], chains: [PlacementChain], previous: Plan = Plan()) -> Plan {
        let hosts = hosts.sorted { $0.name < $1.name }
        let chains = chains.sorted { $0.name < $1.name }
        let byName = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let capacity: [String: Double] = Dictionary(hosts.map { ($0.name, $0.ready ? max(0, Double($0.cores) * headroom - $0.reserved) : 0) },
                                                    uniquingKeysWith: { a, _ in a })
        var free = capacity
        var plan = Plan()
        // The previous plan by chain and function (no string building per instance).
        var previousHosts: [FunctionKey: [Int: String]] = [:]
        for p in previous.instances { previousHosts[FunctionKey(chain: p.chain, function: p.function), default: [:]][p.instance] = p.host }
        // Instance counts use one reference host's cost (the first by name, ready or not:
        // a host's loss must not change how many instances other chains have).
        let reference = hosts.first { $0.packetsPerCore > 0 } ?? PlacementHost(name: "", cores: 1, packetsPerCore: 1e6)

        // What each chain needs: instances per function (with hysteresis), their loads.
        var needs: [[[Need]]] = []
        for (ci, chain) in chains.enumerated() {
            var perFunction: [[Need]] = []
            for (fi, function) in chain.functions.enumerated() {
                let rate = function.measuredPps ?? chain.declaredPps
                func cores(_ h: PlacementHost) -> Double { Self.cores(rate: rate, function: function, on: h) }
                let need = cores(reference)
                var count = max(function.minInstances, Int((need / instanceCap).rounded(.up)))
                let was = previousHosts[FunctionKey(chain: chain.name, function: function.name)]
                if let before = was?.count, before > count {
                    // Scale in only when one instance fewer would each run below `scaleInBelow`.
                    if before > 1 && need / Double(before - 1) >= scaleInBelow { count = before }
                }
                if count > function.maxInstances {
                    plan.warnings.append("\(chain.name)/\(function.name): \(Int(rate)) pps needs \(count) instances; at most \(function.maxInstances) allowed")
                    count = function.maxInstances
                }
                count = max(1, count)
                let low = chain.lowLatency
                let n = Double(count)
                let last = chain.functions.count - 1
                let allowed: (PlacementHost) -> Bool = { h in
                    guard h.ready else { return false }
                    if let pin = function.host, pin != h.name { return false }
                    if fi == 0, let pin = chain.ingressHost, pin != h.name { return false }
                    if fi == last, let pin = chain.egressHost, pin != h.name { return false }
                    if !h.backends.contains(function.backend) { return false }
                    return function.labels.allSatisfy { h.labels[$0.key] == $0.value }
                }
                perFunction.append((0..<count).map { k in
                    Need(chain: ci, function: fi, instance: k, load: { h in Self.instanceLoad(cores(h), instances: n, lowLatency: low) }, allowed: allowed,
                         previousHost: was?[k])
                })
            }
            needs.append(perFunction)
        }

        // Keep what the previous plan placed, where it still may be and fits.
        var kept: [[[String?]]] = needs.map { $0.map { $0.map { _ in nil } } }
        var keptLoad: [[String: Double]] = Array(repeating: [:], count: chains.count)
        for (ci, perFunction) in needs.enumerated() {
            for (fi, list) in perFunction.enumerated() {
                for need in list {
                    guard let was = need.previousHost, let h = byName[was], need.allowed(h) else { continue }
                    let l = need.load(h)
                    guard (free[was] ?? 0) >= l - 1e-9 else { continue }
                    free[was, default: 0] -= l
                    keptLoad[ci][was, default: 0] += l
                    kept[ci][fi][need.instance] = was
                }
            }
        }

        let position = Dictionary(hosts.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var freeByIndex = hosts.map { free[$0.name] ?? 0 }
        let capacityByIndex = hosts.map { capacity[$0.name] ?? 0 }
        let readyByIndex = hosts.map(\.ready)
        let processByIndex = hosts.map { $0.backends.contains("process") }
        let packetsByIndex = hosts.map(\.packetsPerCore)

        // Place the rest, the largest chains first (best fit decreasing packs hosts
        // tighter), each whole or not at all.
        let size = needs.map { $0.joined().reduce(0) { $0 + $1.load(reference) } }
        let order = chains.indices.sorted { a, b in size[a] != size[b] ? size[a] > size[b] : chains[a].name < chains[b].name }
        for ci in order {
            let chain = chains[ci]
            var taken: [String: Double] = [:]
            var placed: [PlacedInstance] = []
            var hostsOfFunction: [[String]] = []
            var failure: String?
            let all = Array(needs[ci].joined())
            // A chain with nothing kept goes to one host if one takes all of it: no hop.
            // (One pass over plain arrays: this runs for every chain on every host.)
            var whole: String?
            let unconstrained = !chain.lowLatency && chain.ingressHost == nil && chain.egressHost == nil
                && chain.functions.allSatisfy { $0.host == nil && $0.labels.isEmpty && $0.backend == "process" }
            if unconstrained && kept[ci].allSatisfy({ $0.allSatisfy { $0 == nil } }) {
                // The common case in closed form: the chain needs a + b / packets_per_core
                // cores on a host (a: functions with a measured cost, b: the rest's rates).
                var a = 0.0, b = 0.0
                for f in chain.functions {
                    let rate = f.measuredPps ?? chain.declaredPps
                    if let ns = f.cpuNsPerPacket { a += rate * ns / 1e9 } else { b += rate }
                }
                var best = (2, 0.0, 0)
                for i in 0..<hosts.count where readyByIndex[i] && processByIndex[i] && freeByIndex[i] > 1e-9 {
                    let total = a + b / max(packetsByIndex[i], 1)
                    guard total <= freeByIndex[i] + 1e-9 else { continue }
                    let left = freeByIndex[i]
                    let r = left >= capacityByIndex[i] - 1e-12 ? (1, -left * max(packetsByIndex[i], 1), i) : (0, left, i)
                    if r < best { best = r }
                }
                if best.0 < 2 { whole = hosts[best.2].name }
            } else if kept[ci].allSatisfy({ $0.allSatisfy { $0 == nil } }) {
                var best: (Int, Double, String)?
                for (i, h) in hosts.enumerated() where h.ready && freeByIndex[i] > 1e-9 {
                    var total = 0.0
                    var ok = true
                    for need in all {
                        guard need.allowed(h) else {
                            ok = false
                            break
                        }
                        total += need.load(h)
                        if total > freeByIndex[i] + 1e-9 {
                            ok = false
                            break
                        }
                    }
                    guard ok else { continue }
                    let left = freeByIndex[i]
                    let r = left >= capacityByIndex[i] - 1e-12 ? (1, -left * max(h.packetsPerCore, 1), h.name) : (0, left, h.name)
                    if best.map({ r < $0 }) ?? true {
                        best = r
                        whole = h.name
                    }
                }
            }
            for (fi, list) in needs[ci].enumerated() {
                var hostsHere: [String] = []
                for need in list {
                    func fits(_ h: PlacementHost) -> Bool { (free[h.name] ?? 0) - (taken[h.name] ?? 0) >= need.load(h) - 1e-9 }
                    var choice: String? = kept[ci][fi][need.instance] ?? whole
                    if choice == nil, fi > 0, !hostsOfFunction[fi - 1].isEmpty {
                        let neighbour = hostsOfFunction[fi - 1][need.instance % hostsOfFunction[fi - 1].count]
                        if let h = byName[neighbour], need.allowed(h), fits(h) { choice = neighbour }
                    }
                    if choice == nil {
                        // A hop is unavoidable here: the host that takes the longest run of
                        // the chain's next functions (fewest further hops), best ranked on ties.
                        func run(_ h: PlacementHost) -> Int {
                            var left = (free[h.name] ?? 0) - (taken[h.name] ?? 0), count = 0
                            for later in needs[ci][fi...] {
                                let l = later.reduce(0) { $0 + $1.load(h) }
                                guard later.allSatisfy({ $0.allowed(h) }), l <= left + 1e-9 else { break }
                                left -= l
                                count += 1
                            }
                            return count
                        }
                        let candidates = hosts.filter { need.allowed($0) && fits($0) }.map { ($0, run($0)) }.filter { $0.1 > 0 }
                        if let best = candidates.map(\.1).max() {
                            choice = candidates.filter { $0.1 == best }.map(\.0).min { rank($0, free, taken, capacity) < rank($1, free, taken, capacity) }?.name
                        }
                    }
                    if choice == nil {
                        let used = Set(placed.map(\.host))
                        choice = hosts.filter { used.contains($0.name) && need.allowed($0) && fits($0) }.min { rank($0, free, taken, capacity) < rank($1, free, taken, capacity) }?.name
                    }
                    if choice == nil {
                        choice = hosts.filter { need.allowed($0) && fits($0) }.min { rank($0, free, taken, capacity) < rank($1, free, taken, capacity) }?.name
                    }
                    guard let host = choice else {
                        let f = chain.functions[fi]
                        failure = "no ready host has room for \(f.name) (\(format1(need.load(reference))) cores\(f.host.map { " on \($0)" } ?? "")\(f.backend == "process" ? "" : ", backend \(f.backend)")\(f.labels.isEmpty ? "" : ", labels " + f.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")))"
                        break
                    }
                    if kept[ci][fi][need.instance] == nil, let h = byName[host] { taken[host, default: 0] += need.load(h) }
                    placed.append(PlacedInstance(chain: chain.name, function: chain.functions[fi].name, instance: need.instance, host: host))
                    hostsHere.append(host)
                }
                if failure != nil { break }
                hostsOfFunction.append(hostsHere)
            }
            if let failure {
                plan.unplaced[chain.name] = failure
                for (h, l) in keptLoad[ci] {
                    free[h, default: 0] += l
                    if let i = position[h] { freeByIndex[i] += l }
                }
                continue
            }
            for (h, t) in taken {
                free[h, default: 0] -= t
                if let i = position[h] { freeByIndex[i] -= t }
            }
            plan.instances += placed
            plan.functionOrder[chain.name] = chain.functions.map(\.name)
        }
        repairSplitChains(&plan, needs: needs, kept: kept, chains: chains, hosts: hosts, free: &free, capacity: capacity)
        plan.instances.sort()
        for h in hosts {
            let total = Double(h.cores)
            let capacity = h.ready ? total * headroom : 0
            plan.utilization[h.name] = total > 0 ? (capacity - (free[h.name] ?? 0)) / total : 0
        }
        return plan
    }

    /// Cores a function's rate takes on a host: its measured cost per packet, or the host's
    /// reference cost until measured.
    static func cores(rate: Double, function: PlacementFunction, on h: PlacementHost) -> Double {
        rate * (function.cpuNsPerPacket ?? (h.packetsPerCore > 0 ? 1e9 / h.packetsPerCore : 1e9)) / 1e9
    }

    /// One of `instances` instances' share; a low-latency instance polls and takes a core.
    static func instanceLoad(_ cores: Double, instances n: Double, lowLatency: Bool) -> Double {
        lowLatency ? max(1, cores / n) : cores / n
    }

    /// The cores each host gives `chain` in `plan` (what placing it took).
    public func load(of chain: PlacementChain, in plan: Plan, hosts: [String: PlacementHost]) -> [String: Double] {
        var counts: [String: Int] = [:]
        for p in plan.instances where p.chain == chain.name { counts[p.function, default: 0] += 1 }
        var out: [String: Double] = [:]
        for p in plan.instances where p.chain == chain.name {
            guard let h = hosts[p.host], let f = chain.functions.first(where: { $0.name == p.function }) else { continue }
            let rate = f.measuredPps ?? chain.declaredPps
            out[p.host, default: 0] += Self.instanceLoad(Self.cores(rate: rate, function: f, on: h), instances: Double(counts[p.function] ?? 1),
                                                        lowLatency: chain.lowLatency)
        }
        return out
    }

    /// A chain that had to be split (a hop, or several) often fits whole on a host once
    /// one other chain that sits whole there moves to another host where it fits whole:
    /// tried for each split chain placed in this pass (kept instances never move).
    private func repairSplitChains(_ plan: inout Plan, needs: [[[Need]]], kept: [[[String?]]], chains: [PlacementChain], hosts: [PlacementHost],
                                   free: inout [String: Double], capacity: [String: Double]) {
        let index = Dictionary(chains.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        func movable(_ ci: Int) -> Bool { kept[ci].allSatisfy { $0.allSatisfy { $0 == nil } } }
        func load(_ ci: Int, on h: PlacementHost) -> Double { needs[ci].joined().reduce(0) { $0 + $1.load(h) } }
        func allowed(_ ci: Int, on h: PlacementHost) -> Bool { needs[ci].joined().allSatisfy { $0.allowed(h) } }
        var hostsOf: [String: Set<String>] = [:]
        for p in plan.instances { hostsOf[p.chain, default: []].insert(p.host) }
        let byName = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func move(_ chain: String, _ ci: Int, to host: String) {
            for p in plan.instances where p.chain == chain {
                guard let h = byName[p.host], let need = needs[ci].joined().first(where: { chains[ci].functions[$0.function].name == p.function && $0.instance == p.instance }) else { continue }
                free[p.host, default: 0] += need.load(h)
            }
            plan.instances = plan.instances.map { p in
                var q = p
                if p.chain == chain { q.host = host }
                return q
            }
            if let h = byName[host] { free[host, default: 0] -= load(ci, on: h) }
            hostsOf[chain] = [host]
        }
        for chain in chains.map(\.name) where (hostsOf[chain]?.count ?? 0) > 1 {
            guard let ci = index[chain], movable(ci) else { continue }
            var repaired = false
            for h in hosts where allowed(ci, on: h) && !repaired {
                // Room c would have on h: what is free, plus what c itself holds there.
                let own = plan.instances.filter { $0.chain == chain && $0.host == h.name }.reduce(0.0) { sum, p in
                    sum + (needs[ci].joined().first { chains[ci].functions[$0.function].name == p.function && $0.instance == p.instance }?.load(h) ?? 0)
                }
                let deficit = load(ci, on: h) - (free[h.name] ?? 0) - own
                if deficit <= 1e-9 {
                    move(chain, ci, to: h.name)
                    repaired = true
                    break
                }
                // One chain sitting whole on h that can go whole elsewhere, the smallest first.
                let residents = hostsOf.filter { $0.value == [h.name] && $0.key != chain }.keys.compactMap { name in index[name].map { (name, $0) } }
                    .filter { movable($0.1) && load($0.1, on: h) >= deficit - 1e-9 }
                    .sorted { (load($0.1, on: h), $0.0) < (load($1.1, on: h), $1.0) }
                for (other, oi) in residents {
                    let target = hosts.first { t in
                        t.name != h.name && !(hostsOf[chain] ?? []).contains(t.name) && allowed(oi, on: t) && (free[t.name] ?? 0) >= load(oi, on: t) - 1e-9
                    }
                    guard let target else { continue }
                    move(other, oi, to: target.name)
                    move(chain, ci, to: h.name)
                    repaired = true
                    break
                }
            }
        }
    }

    /// The order hosts are tried in: hosts already in use first, the fullest first (best
    /// fit); then empty hosts, the one that moves the most packets first (fewer hosts
    /// opened); by name on ties.
    private func rank(_ h: PlacementHost, _ free: [String: Double], _ taken: [String: Double], _ capacity: [String: Double]) -> (Int, Double, String) {
        let left = (free[h.name] ?? 0) - (taken[h.name] ?? 0)
        let empty = left >= (capacity[h.name] ?? 0) - 1e-12
        // An empty host's size is what it moves: cores times packets per core.
        return empty ? (1, -left * max(h.packetsPerCore, 1), h.name) : (0, left, h.name)
    }
}

func format1(_ x: Double) -> Double { (x * 10).rounded() / 10 }
