import Foundation
import Messaging
@testable import Planner
import Testing

/// The planner daemon in this process, on a real ROUTER socket, with simulated agents on
/// real DEALER sockets: registration, desired states with generations, links and tunnels,
/// liveness, restarts on the same database, make-before-break, load-driven scale-out, and
/// bad input.
@Suite("Planner service", .serialized, .timeLimit(.minutes(2)))
struct PlannerServiceTests {
    @Test func applyPlacesTheChainOnAHostAndDeleteRemovesIt() async throws {
        let dir = scratchDirectory("apply")
        let planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        let agent = try SimulatedAgent(endpoint: planner.endpoint, name: "h1")
        defer { agent.stop() }
        #expect(await eventually { try await planner.hosts().first?.health == .ready })

        guard case .applyChainReply(let reply)? = try await planner.apply(try testChain("web", functions: ["fw", "nat", "lb"])) else {
            Issue.record("no ApplyChainReply")
            return
        }
        #expect(reply.created && reply.placements.map(\.vm).sorted() == ["web-fw-0", "web-lb-0", "web-nat-0"])
        #expect(await eventually { agent.latest?.generation == 1 })
        let d = try #require(agent.latest)
        #expect(d.hostName == "h1" && d.vms.map(\.name) == ["web-fw-0", "web-nat-0", "web-lb-0"])
        #expect(d.vms.allSatisfy { $0.ports == 2 && $0.configuration.contains("FromDevice(0)") && $0.chain == "web" })
        #expect(d.links.map { "\($0.server) > \($0.client)" } == ["vm:web-fw-0:1 > vm:web-nat-0:0", "vm:web-nat-0:1 > vm:web-lb-0:0"])
        #expect(d.links.allSatisfy { $0.secret.count == 20 } && d.tunnels.isEmpty)
        #expect(d.edges.map { "\($0.side) \($0.interface) \($0.address) \($0.attach)" }
                == ["ingress eth1 10.1.0.1/24 vm:web-fw-0:0", "egress eth2 10.2.0.1/24 vm:web-lb-0:1"])
        #expect(await eventually { try await planner.chains().first?.phase == .running })
        let host = try #require(try await planner.hosts().first)
        #expect(host.vms == 3 && host.desiredGeneration == 1 && host.utilization > 0)
        #expect(await eventually { try await planner.hosts().first?.observedGeneration == 1 })

        // Applying the same chain again changes nothing: no new generation.
        guard case .applyChainReply(let again)? = try await planner.apply(try testChain("web", functions: ["fw", "nat", "lb"])) else { return }
        #expect(!again.created)
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(agent.generations.allSatisfy { $0 == 1 })

        var del = Clickos_V1_DeleteChainRequest()
        del.chain = "web"
        guard case .deleteChainReply? = try await planner.request(.deleteChain(del)) else {
            Issue.record("no DeleteChainReply")
            return
        }
        #expect(await eventually { agent.latest?.generation == 2 })
        #expect(agent.latest?.vms.isEmpty == true && agent.latest?.links.isEmpty == true && agent.latest?.edges.isEmpty == true)
        #expect(try await planner.chains().isEmpty)
    }

    @Test func aXenFunctionGoesToAHostWhoseAgentOffersXen() async throws {
        let dir = scratchDirectory("xen")
        let planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        let a = try SimulatedAgent(endpoint: planner.endpoint, name: "a", cores: 8, dataAddress: "192.168.60.1")
        defer { a.stop() }
        #expect(await eventually { try await planner.hosts().count == 1 })
        // Only a process host: the chain waits, and says for what.
        let chain = try testChain("web", functions: ["fw", "nat"], backends: ["nat": "xen"])
        guard case .applyChainReply(let pending)? = try await planner.apply(chain) else {
            Issue.record("no ApplyChainReply")
            return
        }
        #expect(pending.placements.isEmpty)
        let waiting = await eventually { try await planner.chains().first?.message.contains("backend xen") == true }
        let chains = try await planner.chains()
        #expect(waiting, "\(chains)")
        // A host that offers xen comes: nat goes there, with its backend in the desired state.
        let x = try SimulatedAgent(endpoint: planner.endpoint, name: "x", cores: 2, dataAddress: "192.168.60.2", backends: ["process", "xen"])
        defer { x.stop() }
        #expect(await eventually { x.latest?.vms.contains { $0.name == "web-nat-0" } == true })
        #expect(x.latest?.vms.first { $0.name == "web-nat-0" }?.backend == "xen")
        #expect(a.latest?.vms.contains { $0.name == "web-nat-0" } != true)
    }

    @Test func consecutiveFunctionsOnTwoHostsGetATunnelPairAndScaledFunctionsJunctions() async throws {
        let dir = scratchDirectory("tunnels")
        let planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        // One core each at 1 Mpps and 80% headroom: 600 kpps of three functions do not fit on one.
        let a = try SimulatedAgent(endpoint: planner.endpoint, name: "a", cores: 1, dataAddress: "192.168.50.1")
        let b = try SimulatedAgent(endpoint: planner.endpoint, name: "b", cores: 1, dataAddress: "192.168.50.2")
        defer { a.stop(); b.stop() }
        #expect(await eventually { try await planner.hosts().filter { $0.health == .ready }.count == 2 })
        _ = try await planner.apply(try testChain("split", functions: ["f1", "f2", "f3"], rate: "300kpps"))
        #expect(await eventually { a.latest != nil && b.latest != nil })
        let states = [try #require(a.latest), try #require(b.latest)]
        let tunnels = states.flatMap { s in s.tunnels.map { (s.hostName, $0) } }
        #expect(tunnels.count == 2)
        if tunnels.count == 2 {
            #expect(tunnels[0].1.vni == tunnels[1].1.vni && tunnels[0].1.vni > 0)
            #expect(tunnels.allSatisfy { host, t in t.remoteAddress == (host == "a" ? "192.168.50.2" : "192.168.50.1") })
        }
        #expect(states.flatMap(\.vms).map(\.name).sorted() == ["split-f1-0", "split-f2-0", "split-f3-0"])

        // A function of two instances: junctions on both sides spread flows over them.
        _ = try await planner.apply(try testChain("wide", functions: ["x", "y"], rate: "10kpps", scale: ["y": 2]))
        #expect(await eventually { (a.latest?.vms ?? []).contains { $0.chain == "wide" } || (b.latest?.vms ?? []).contains { $0.chain == "wide" } })
        let vms = [a.latest, b.latest].compactMap { $0 }.flatMap(\.vms).filter { $0.chain == "wide" }
        #expect(vms.map(\.name).sorted() == ["wide-hop1", "wide-hop2", "wide-x-0", "wide-y-0", "wide-y-1"])
        let hop1 = try #require(vms.first { $0.name == "wide-hop1" })
        #expect(hop1.ports == 3 && hop1.configuration.contains("FlowJunction(LEFT 1, RIGHT 2, ACTIVE_LEFT 1, ACTIVE_RIGHT 2)") && hop1.function.isEmpty)
        // The junctions serve every link of theirs; the one to the egress edge has no client.
        let links = [a.latest, b.latest].compactMap { $0 }.flatMap(\.links).filter { $0.name.hasPrefix("wide") }.map { "\($0.name): \($0.server) > \($0.client)" }
        #expect(Set(links) == ["wide-hop1.0: vm:wide-hop1:0 > vm:wide-x-0:1", "wide-hop1.1: vm:wide-hop1:1 > vm:wide-y-0:0", "wide-hop1.2: vm:wide-hop1:2 > vm:wide-y-1:0",
                               "wide-hop2.0: vm:wide-hop2:0 > vm:wide-y-0:1", "wide-hop2.1: vm:wide-hop2:1 > vm:wide-y-1:1", "wide-hop2.2: vm:wide-hop2:2 > "])
        let egress = [a.latest, b.latest].compactMap { $0 }.flatMap(\.edges).filter { $0.chain == "wide" && $0.side == .egress }
        #expect(egress.map(\.attach) == ["vm:wide-hop2:2"])
    }

    @Test func aHostThatStopsBeatingIsLostAndItsChainsMove() async throws {
        let dir = scratchDirectory("lost")
        let planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        let a = try SimulatedAgent(endpoint: planner.endpoint, name: "a")
        #expect(await eventually { try await planner.hosts().count == 1 })
        let b = try SimulatedAgent(endpoint: planner.endpoint, name: "b", cores: 1)
        defer { a.stop(); b.stop() }
        #expect(await eventually { try await planner.hosts().filter { $0.health == .ready }.count == 2 })
        // The bigger host takes the chain.
        _ = try await planner.apply(try testChain("c", functions: ["p", "q"]))
        #expect(await eventually { a.latest?.vms.count == 2 })
        #expect(b.latest == nil)
        a.beating.store(false, ordering: .relaxed)
        #expect(await eventually(5) { try await planner.hosts().first { $0.name == "a" }?.health == .lost })
        #expect(await eventually { b.latest?.vms.map(\.name) == ["c-p-0", "c-q-0"] })
        #expect(planner.daemon.service.statistics.hostsLost == 1)
        #expect(await eventually { try await planner.chains().first?.phase == .running })
        #expect(try await planner.chains().first?.placements.allSatisfy { $0.host == "b" } == true)
        // The lost host comes back: it gets an empty state, the chain stays where it is.
        a.beating.store(true, ordering: .relaxed)
        #expect(await eventually { try await planner.hosts().first { $0.name == "a" }?.health == .ready })
        #expect(await eventually { a.latest?.vms.isEmpty == true && (a.latest?.generation ?? 0) >= 2 })
        #expect(b.latest?.vms.count == 2)
    }

    @Test func aRestartedPlannerKeepsEveryChainAndSendsNothingNew() async throws {
        let dir = scratchDirectory("restart")
        var planner = try TestPlanner(dir: dir)
        let agent = try SimulatedAgent(endpoint: planner.endpoint, name: "h1")
        defer { agent.stop() }
        #expect(await eventually { try await planner.hosts().count == 1 })
        _ = try await planner.apply(try testChain("one", functions: ["a", "b"]))
        _ = try await planner.apply(try testChain("two", functions: ["c"]))
        #expect(await eventually { try await planner.chains().allSatisfy { $0.phase == .running } && agent.observed.load(ordering: .relaxed) == 2 })
        let before = try #require(agent.latest)
        planner.stop()
        planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        let chains = try await planner.chains()
        #expect(chains.map(\.name) == ["one", "two"])
        #expect(chains.flatMap(\.placements).map(\.vm).sorted() == ["one-a-0", "one-b-0", "two-c-0"])
        // The agent's heartbeats reach the new planner; it knows the host from its database.
        #expect(await eventually { try await planner.hosts().first?.observedGeneration == 2 })
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(agent.generations.max() == 2)
        #expect(agent.latest == before)
        #expect(agent.notFound.load(ordering: .relaxed) == 0)
        #expect(try await planner.hosts().first?.health == .ready)
    }

    @Test func movesAreMakeBeforeBreak() async throws {
        let dir = scratchDirectory("mbb")
        let planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        let agent = try SimulatedAgent(endpoint: planner.endpoint, name: "h1", cores: 4)
        defer { agent.stop() }
        #expect(await eventually { try await planner.hosts().count == 1 })
        _ = try await planner.apply(try testChain("m", functions: ["a", "b"]))
        #expect(await eventually { agent.latest?.generation == 1 })
        // Hold back the status so the planner must wait for the new VM.
        agent.reportRunning.store(false, ordering: .relaxed)
        _ = try await planner.apply(try testChain("m", functions: ["a", "b"], scale: ["b": 2]))
        #expect(await eventually { agent.latest?.generation == 2 })
        let warm = try #require(agent.latest)
        // Phase 1: the new instance and the junctions boot, linked among themselves;
        // traffic still flows a -> b-0 -> egress.
        #expect(warm.vms.map(\.name) == ["m-a-0", "m-b-0", "m-b-1", "m-hop1", "m-hop2"])
        #expect(warm.links.first { $0.name == "m-a-0.1" }?.client == "vm:m-b-0:0")
        #expect(warm.links.contains { $0.server == "vm:m-hop1:2" && $0.client == "vm:m-b-1:0" })
        #expect(!warm.links.contains { $0.client == "vm:m-b-0:0" && $0.name != "m-a-0.1" })
        #expect(warm.edges.first { $0.side == .egress }?.attach == "vm:m-b-0:1")
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(agent.generations.max() == 2)
        // The new VM runs: traffic moves through the junctions.
        agent.reportStatus(warm)
        #expect(await eventually { agent.latest?.generation == 3 })
        #expect(Set(agent.latest?.vms.map(\.name) ?? []) == ["m-a-0", "m-b-0", "m-b-1", "m-hop1", "m-hop2"])
        #expect(agent.latest?.links.contains { $0.server == "vm:m-hop1:0" && $0.client == "vm:m-a-0:1" } == true)
        #expect(agent.latest?.edges.first { $0.side == .egress }?.attach == "vm:m-hop2:2")
    }

    @Test func measuredLoadScalesAFunctionOutAndKeepsItsInstance() async throws {
        let dir = scratchDirectory("scale")
        let planner = try TestPlanner(dir: dir) { $0.replanInterval = 0.2 }
        defer { planner.stop() }
        let agent = try SimulatedAgent(endpoint: planner.endpoint, name: "h1", cores: 8)
        defer { agent.stop() }
        #expect(await eventually { try await planner.hosts().count == 1 })
        var chain = try testChain("s", functions: ["f"], rate: "10kpps")
        chain.functions[0].maxInstances = 4
        _ = try await planner.apply(chain)
        // A function that may scale has its junctions from the start, with a port for each
        // instance it may have.
        #expect(await eventually { agent.latest?.vms.map(\.name) == ["s-f-0", "s-hop0", "s-hop1"] })
        let before = try #require(agent.latest)
        #expect(before.vms.first { $0.name == "s-hop0" }?.ports == 5)
        #expect(before.links.filter { $0.client.isEmpty }.map(\.name).sorted() == ["s-hop0.0", "s-hop0.2", "s-hop0.3", "s-hop0.4", "s-hop1.1", "s-hop1.2", "s-hop1.3", "s-hop1.4"])
        // 1.5 Mpps measured at 1 Mpps per core: 1.5 cores, two instances of at most 0.8.
        var t = Clickos_V1_Telemetry()
        t.hostName = "h1"
        var vm = Clickos_V1_VMTelemetry()
        vm.vm = "s-f-0"
        vm.chain = "s"
        vm.function = "f"
        var port = Clickos_V1_PortTelemetry()
        port.rxPps = 1.5e6
        vm.ports = [port]
        t.vms = [vm]
        agent.client.send(.telemetry(t))
        #expect(await eventually { (agent.latest?.vms.filter { $0.function == "f" }.count ?? 0) == 2 })
        #expect(await eventually { agent.latest?.vms.first { $0.name == "s-hop0" }?.configuration.contains("ACTIVE_RIGHT 2") == true })
        let after = try #require(agent.latest)
        #expect(Set(after.vms.map(\.name)) == ["s-f-0", "s-f-1", "s-hop0", "s-hop1"])
        // Nothing that carried traffic restarts: the junctions' ports and every link they had
        // keep their names, servers and secrets; the ports that waited for instance 1 have it.
        for name in ["s-f-0", "s-hop0", "s-hop1"] {
            let (b, a) = (before.vms.first { $0.name == name }, after.vms.first { $0.name == name })
            #expect(b?.ports == a?.ports && b?.defines == a?.defines, "\(name)")
        }
        for l in before.links {
            let now = after.links.first { $0.name == l.name }
            #expect(now?.server == l.server && now?.secret == l.secret, "\(l.name)")
            if !l.client.isEmpty { #expect(now?.client == l.client, "\(l.name)") }
        }
        #expect(after.links.first { $0.name == "s-hop0.2" }?.client == "vm:s-f-1:0")
        #expect(after.links.first { $0.name == "s-hop1.1" }?.client == "vm:s-f-1:1")
        #expect(after.vms.first { $0.name == "s-hop1" }?.configuration.contains("ACTIVE_LEFT 2, ACTIVE_RIGHT 1") == true)
        guard case .topReply(let top)? = try await planner.request(.top(Clickos_V1_TopRequest())) else { return }
        #expect(top.vms.map(\.vm) == ["s-f-0"] && top.vms.first?.ports.first?.rxPps == 1.5e6)
    }

    @Test func badInputIsRefusedWithWhereAndWhatAndChangesNothing() async throws {
        let dir = scratchDirectory("bad")
        let planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        var chain = try testChain("bad", functions: ["ok", "broken"])
        chain.functions[1].configuration = "FromDevice(0) -> NoSuchElement -> ToDevice(1);"
        guard case .error(let e)? = try await planner.apply(chain) else {
            Issue.record("a bad chain was taken")
            return
        }
        #expect(e.code == .invalidArgument)
        #expect(e.message.contains("bad.yaml: functions[1].config: broken.click:1: "), "\(e.message)")
        #expect(e.message.contains("NoSuchElement"))
        #expect(try await planner.chains().isEmpty)

        chain = try testChain("good", functions: ["a"])
        chain.functions[0].defines["BAD NAME"] = "x"
        chain.ingress.address = "10.1.0.1"
        guard case .error(let e2)? = try await planner.apply(chain) else { return }
        #expect(e2.message.contains("ingress.address") && e2.message.contains("functions[0].define"), "\(e2.message)")

        var hb = Clickos_V1_Heartbeat()
        hb.hostName = "stranger"
        guard case .error(let e3)? = try await planner.request(.heartbeat(hb)) else { return }
        #expect(e3.code == .notFound)

        var r = Clickos_V1_Register()
        r.hostName = "zero"
        guard case .error(let e4)? = try await planner.request(.register(r)) else { return }
        #expect(e4.code == .invalidArgument && e4.message.contains("register.cores"))

        guard case .error(let e5)? = try await planner.request(.desiredState(Clickos_V1_HostDesiredState())) else { return }
        #expect(e5.code == .unexpectedPayload)

        var del = Clickos_V1_DeleteChainRequest()
        del.chain = "nothing"
        guard case .error(let e6)? = try await planner.request(.deleteChain(del)) else { return }
        #expect(e6.code == .notFound && e6.message.contains("nothing"))
        #expect(try await planner.hosts().isEmpty)
    }

    @Test func aDryRunPlansAndStoresNothing() async throws {
        let dir = scratchDirectory("dry")
        let planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        let agent = try SimulatedAgent(endpoint: planner.endpoint, name: "h1")
        defer { agent.stop() }
        #expect(await eventually { try await planner.hosts().count == 1 })
        guard case .applyChainReply(let r)? = try await planner.apply(try testChain("d", functions: ["a"]), dryRun: true) else { return }
        #expect(r.created && r.placements.map(\.host) == ["h1"])
        // Too big for the host: pending, with the reason.
        guard case .applyChainReply(let big)? = try await planner.apply(try testChain("huge", functions: ["a"], rate: "50Mpps"), dryRun: true) else { return }
        #expect(big.placements.isEmpty && big.warnings.contains { $0.hasPrefix("PENDING: ") })
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(try await planner.chains().isEmpty && agent.latest == nil)
    }

    @Test func chainsAppliedOneByOneNeverOvercommitAHostEvenAfterARestart() async throws {
        let dir = scratchDirectory("fill")
        var planner = try TestPlanner(dir: dir)
        // One core each at 1 Mpps: 0.8 of a core (800 kpps) to give; 300 kpps chains, two a host.
        let a = try SimulatedAgent(endpoint: planner.endpoint, name: "a", cores: 1)
        let b = try SimulatedAgent(endpoint: planner.endpoint, name: "b", cores: 1)
        defer { a.stop(); b.stop() }
        #expect(await eventually { try await planner.hosts().filter { $0.health == .ready }.count == 2 })
        for k in 0..<3 { _ = try await planner.apply(try testChain("c\(k)", functions: ["f"], rate: "300kpps")) }
        planner.stop()
        planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        _ = try await planner.apply(try testChain("c3", functions: ["f"], rate: "300kpps"))
        guard case .applyChainReply(let last)? = try await planner.apply(try testChain("c4", functions: ["f"], rate: "300kpps")) else { return }
        #expect(last.placements.isEmpty && last.warnings.contains { $0.hasPrefix("PENDING") }, "\(last)")
        let chains = try await planner.chains()
        #expect(chains.filter { $0.phase == .pending }.map(\.name) == ["c4"])
        let perHost = Dictionary(grouping: chains.flatMap(\.placements), by: \.host).mapValues(\.count)
        #expect(perHost == ["a": 2, "b": 2])
        let hosts = try await planner.hosts()
        #expect(hosts.allSatisfy { abs($0.utilization - 0.6) < 1e-6 }, "\(hosts.map(\.utilization))")
    }

    @Test func fortyHostsTakeSixtyChainsAndFiveLostHostsGiveThemUp() async throws {
        let dir = scratchDirectory("many")
        let planner = try TestPlanner(dir: dir)
        defer { planner.stop() }
        // 2 cores at 1 Mpps each: 1.6 M packets a second to give per host.
        let agents = try (0..<40).map { try SimulatedAgent(endpoint: planner.endpoint, name: "h\($0)", dataAddress: "10.9.0.\($0 + 1)") }
        defer { for a in agents { a.stop() } }
        #expect(await eventually(20) { try await planner.hosts().filter { $0.health == .ready }.count == 40 })
        for k in 0..<60 { _ = try await planner.apply(try testChain("c\(k)", functions: ["a", "b", "c"], rate: "200kpps")) }
        #expect(await eventually(20) { try await planner.chains().allSatisfy { $0.phase == .running } })
        let vms = agents.flatMap { $0.latest?.vms ?? [] }
        #expect(vms.count == 180 && Set(vms.map(\.name)).count == 180)
        #expect(try await planner.hosts().allSatisfy { $0.utilization <= 0.8 + 1e-9 })
        // Five hosts fall silent: what ran there moves; nothing lands on them.
        let silent = agents.prefix(5).filter { !($0.latest?.vms.isEmpty ?? true) }.map(\.name)
        for a in agents.prefix(5) { a.beating.store(false, ordering: .relaxed) }
        #expect(await eventually(20) {
            let chains = try await planner.chains()
            return chains.allSatisfy { $0.phase == .running } && !chains.flatMap(\.placements).contains { p in agents.prefix(5).contains { $0.name == p.host } }
        })
        let hosts = try await planner.hosts()
        #expect(hosts.filter { $0.health == .lost }.map(\.name).sorted() == agents.prefix(5).map(\.name).sorted())
        #expect(hosts.allSatisfy { $0.utilization <= 0.8 + 1e-9 })
        let moved = agents.dropFirst(5).flatMap { $0.latest?.vms ?? [] }
        #expect(moved.count == 180, "\(silent) lost")
    }
}
