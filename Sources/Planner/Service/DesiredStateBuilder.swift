import Messaging

/// Turns a plan into each host's desired state (DESIGN §4): one VM per function instance
/// (`<chain>-<function>-<instance>`), a memif link between consecutive functions on one
/// host, a pair of VXLAN tunnels (one VNI) between consecutive functions on two hosts, and
/// the chain's edges on the hosts of its first and last functions. A function that may run
/// as several instances (its maximum is above 1) gets a junction VM (`<chain>-hop<k>`) on each
/// side from the start: a `FlowJunction` spreads new flows over the instances and keeps each
/// flow, both ways, on its instance, so stateful functions (NAT, load balancers) see all of
/// a flow, and flows stay put when instances are added.
///
/// Deterministic: the same plan, chains and hosts give the same states; link secrets are
/// taken from the previous states where a link already existed, so an unchanged host gets
/// an identical state (and no new generation).
public struct DesiredStateBuilder: Sendable {
    /// Hosts as the builder needs them: where their tunnels end.
    public var dataAddresses: [String: String]
    /// The states the hosts have now (for link secrets), by host.
    public var previous: [String: Clickos_V1_HostDesiredState]

    public init(dataAddresses: [String: String], previous: [String: Clickos_V1_HostDesiredState]) {
        self.dataAddresses = dataAddresses
        self.previous = previous
    }

    /// One end of a hop: a VM port on a host, or the chain's edge.
    enum End: Equatable {
        case vm(host: String, name: String, port: Int)
        case edge(Clickos_V1_ChainEdge.Side)
    }

    /// The desired state of every host in `hosts` (generation 0: the caller numbers them),
    /// from the chains given (those with instances on these hosts, or all). `vnis` keeps
    /// each cross-host link's VNI (by link name) from one build to the next; new links get
    /// one that no other link has; with `prune`, links that are gone give theirs back.
    public func build(plan: Plan, chains: [Clickos_V1_ChainSpec], hosts: [String], vnis: inout [String: UInt32], prune: Bool = false) -> [String: Clickos_V1_HostDesiredState] {
        var states: [String: Clickos_V1_HostDesiredState] = [:]
        for h in hosts {
            var s = Clickos_V1_HostDesiredState()
            s.hostName = h
            states[h] = s
        }
        var secrets: [String: String] = [:]
        for s in previous.values { for l in s.links { secrets[l.name] = l.secret } }
        var byFunction: [String: [PlacedInstance]] = [:]
        let wanted = Set(chains.map(\.name))
        for p in plan.instances where wanted.contains(p.chain) { byFunction["\(p.chain)/\(p.function)", default: []].append(p) }
        var usedNames: Set<String> = []
        var usedVNIs = Set(vnis.values)
        var tunnelNames: Set<String> = []
        var pendingTunnels: [(name: String, a: End, b: End, polling: Bool)] = []

        for chain in chains.sorted(by: { $0.name < $1.name }) where plan.unplaced[chain.name] == nil {
            let columns = chain.functions.map { f in (byFunction["\(chain.name)/\(f.name)"] ?? []).sorted() }
            guard !columns.isEmpty, columns.allSatisfy({ !$0.isEmpty }) else { continue }
            func unique(_ base: String) -> String {
                var name = base.utf8.count <= 60 ? base : String(base.prefix(43)) + "-" + StableNames.hex16(StableNames.fnv1a(base))
                if usedNames.contains(name) { name = String(base.prefix(43)) + "-" + StableNames.hex16(StableNames.fnv1a(base + "/" + chain.name)) }
                usedNames.insert(name)
                return name
            }
            // The function instances' VMs.
            var vmNames: [[String]] = []
            for (fi, f) in chain.functions.enumerated() {
                var names: [String] = []
                for p in columns[fi] {
                    let name = unique("\(chain.name)-\(f.name)-\(p.instance)")
                    var vm = Clickos_V1_VMSpec()
                    vm.name = name
                    vm.chain = chain.name
                    vm.function = f.name
                    vm.instance = UInt32(p.instance)
                    vm.configuration = f.configuration
                    vm.defines = f.defines
                    vm.backend = f.backend
                    vm.memoryLimitBytes = f.memoryLimitBytes
                    vm.ports = 2
                    states[p.host]?.vms.append(vm)
                    names.append(name)
                }
                vmNames.append(names)
            }
            // The hops: ingress -> f0, f(k-1) -> f(k), f(last) -> egress. A side that may
            // have several instances (its function's maximum) meets the other through a
            // junction from the start, with a port for every instance it may have: adding an
            // instance then links a port that was waiting and hot-swaps the junction's active
            // count, and nothing that carries traffic restarts.
            var connections: [(End, End)] = []
            var junctionPorts: [(host: String, name: String, port: Int)] = []
            for hop in 0...chain.functions.count {
                let last = hop == chain.functions.count
                let left: [End] = hop == 0 ? [.edge(.ingress)]
                    : zip(columns[hop - 1], vmNames[hop - 1]).map { .vm(host: $0.host, name: $1, port: 1) }
                let right: [End] = last ? [.edge(.egress)]
                    : zip(columns[hop], vmNames[hop]).map { .vm(host: $0.host, name: $1, port: 0) }
                let leftPorts = hop == 0 ? 1 : max(Int(chain.functions[hop - 1].maxInstances), left.count)
                let rightPorts = last ? 1 : max(Int(chain.functions[hop].maxInstances), right.count)
                if leftPorts == 1 && rightPorts == 1 {
                    connections.append((left[0], right[0]))
                    continue
                }
                // On the host of instance 0 of the side that scales.
                guard case .vm(let host, _, _) = (rightPorts > 1 ? right[0] : left[0]) else { continue }
                let name = unique("\(chain.name)-hop\(hop)")
                var vm = Clickos_V1_VMSpec()
                vm.name = name
                vm.chain = chain.name
                vm.configuration = Self.junction(left: leftPorts, right: rightPorts, activeLeft: left.count, activeRight: right.count)
                vm.ports = UInt32(leftPorts + rightPorts)
                states[host]?.vms.append(vm)
                // Instances are numbered 0..<count: instance k meets port k of its side.
                for (i, l) in left.enumerated() { connections.append((l, .vm(host: host, name: name, port: i))) }
                for (j, r) in right.enumerated() { connections.append((.vm(host: host, name: name, port: leftPorts + j), r)) }
                for p in 0..<(leftPorts + rightPorts) { junctionPorts.append((host, name, p)) }
            }
            // A junction port's link is named after it and the junction is its server, whatever
            // is on the other end: its memif configuration never changes.
            let junctions = Set(junctionPorts.map(\.name))
            var linkedJunctionPorts: Set<String> = []
            for (a, b) in connections {
                switch (a, b) {
                case (.edge(let side), .vm(let host, let name, let port)), (.vm(let host, let name, let port), .edge(let side)):
                    let spec = side == .ingress ? chain.ingress : chain.egress
                    var e = Clickos_V1_ChainEdge()
                    e.chain = chain.name
                    e.side = side
                    e.interface = spec.interface
                    e.address = spec.address
                    e.gateway = spec.gateway
                    e.attach = "vm:\(name):\(port)"
                    states[host]?.edges.append(e)
                case (.vm(let ha, let na, let pa), .vm(let hb, let nb, let pb)):
                    if ha == hb {
                        // The junction end, when there is one, serves.
                        let (server, client) = junctions.contains(nb) ? ((nb, pb), (na, pa)) : ((na, pa), (nb, pb))
                        var l = Clickos_V1_LinkSpec()
                        l.name = "\(server.0).\(server.1)"
                        l.server = "vm:\(server.0):\(server.1)"
                        l.client = "vm:\(client.0):\(client.1)"
                        l.secret = secrets[l.name] ?? StableNames.randomSecret()
                        l.polling = chain.lowLatency
                        states[ha]?.links.append(l)
                        if junctions.contains(server.0) { linkedJunctionPorts.insert(l.name) }
                    } else {
                        pendingTunnels.append(("\(na).\(pa)", a, b, chain.lowLatency))
                    }
                case (.edge, .edge):
                    continue
                }
            }
            // Junction ports whose peer is on another host (a tunnel), the edge, or not there
            // yet: a link with no client on this host.
            for j in junctionPorts where !linkedJunctionPorts.contains("\(j.name).\(j.port)") {
                var l = Clickos_V1_LinkSpec()
                l.name = "\(j.name).\(j.port)"
                l.server = "vm:\(j.name):\(j.port)"
                l.secret = secrets[l.name] ?? StableNames.randomSecret()
                l.polling = chain.lowLatency
                states[j.host]?.links.append(l)
            }
        }
        // Tunnels last, in name order, so that VNIs do not depend on the chains' order.
        for t in pendingTunnels.sorted(by: { $0.name < $1.name }) {
            guard case .vm(let ha, let na, let pa) = t.a, case .vm(let hb, let nb, let pb) = t.b else { continue }
            tunnelNames.insert(t.name)
            let vni: UInt32
            if let known = vnis[t.name] {
                vni = known
            } else {
                var v = UInt32(truncatingIfNeeded: StableNames.fnv1a(t.name) % 0xFF_FFFE) + 1
                while usedVNIs.contains(v) { v = v % 0xFF_FFFF + 1 }
                usedVNIs.insert(v)
                vnis[t.name] = v
                vni = v
            }
            for (host, vm, port, remote) in [(ha, na, pa, hb), (hb, nb, pb, ha)] {
                var tunnel = Clickos_V1_TunnelSpec()
                tunnel.vni = vni
                tunnel.remoteAddress = dataAddresses[remote] ?? ""
                tunnel.localEnd = "vm:\(vm):\(port)"
                states[host]?.tunnels.append(tunnel)
            }
        }
        if prune { vnis = vnis.filter { tunnelNames.contains($0.key) } }
        for h in states.keys { states[h]?.tunnels.sort { $0.vni < $1.vni } }
        return states
    }

    /// A junction's Click configuration: ports 0..<left face the previous function's
    /// instances (or the ingress), the next `right` ports the next function's (or the
    /// egress); new flows use the first `activeLeft` and `activeRight` of them, and every
    /// flow stays with its instance both ways (`FlowJunction`).
    static func junction(left: Int, right: Int, activeLeft: Int, activeRight: Int) -> String {
        var text = "// A junction made by the planner: flows spread over \(activeLeft) of \(left) x \(activeRight) of \(right) instances.\n"
        text += "j :: FlowJunction(LEFT \(left), RIGHT \(right), ACTIVE_LEFT \(activeLeft), ACTIVE_RIGHT \(activeRight));\n"
        for p in 0..<(left + right) {
            text += "FromDevice(\(p)) -> [\(p)]j[\(p)] -> Queue(1024) -> ToDevice(\(p));\n"
        }
        return text
    }
}

extension DesiredStateBuilder {
    /// The VNIs that desired states give their cross-host links (by link name: the left
    /// end's `VM.PORT`; the right end's name is recorded too and never names a link).
    public static func vnis(in desired: [Clickos_V1_HostDesiredState]) -> [String: UInt32] {
        var out: [String: UInt32] = [:]
        for s in desired {
            for t in s.tunnels {
                let parts = t.localEnd.split(separator: ":")
                if parts.count == 3 { out["\(parts[1]).\(parts[2])"] = t.vni }
            }
        }
        return out
    }
}

extension Plan {
    /// The plan that a set of desired states carries out: each function instance's VM
    /// where it runs (junctions are the builder's, not the plan's). A restarted planner
    /// starts from this, so it moves nothing that runs.
    public init(desired: [Clickos_V1_HostDesiredState], chains: [Clickos_V1_ChainSpec]) {
        self.init()
        for s in desired {
            for vm in s.vms where !vm.function.isEmpty {
                instances.append(PlacedInstance(chain: vm.chain, function: vm.function, instance: Int(vm.instance), host: s.hostName))
            }
        }
        instances.sort()
        for c in chains { functionOrder[c.name] = c.functions.map(\.name) }
    }
}
