#if canImport(Glibc)
import Glibc
#endif
import Messaging
import Testing

/// Nonsense from the planner gets an `Error` that names the field, or an error in the
/// host's status; the agent never crashes and nothing else changes.
@Suite("Agent bad input", .serialized, .timeLimit(.minutes(3)))
struct BadInputTests {
    static let forward = "FromDevice(0) -> Queue -> ToDevice(0);"

    @Test func nonsenseDesiredStatesAreRefusedByFieldAndChangeNothing() throws {
        let dir = scratch("bad")
        defer { _ = shell("rm -rf '\(dir)'") }
        let endpoint = "ipc://\(dir)/planner.sock"
        let planner = try ScriptedPlanner(endpoint: endpoint)
        defer { planner.server.stop() }
        let agent = AgentProcess(AgentLifecycleTests.agentArguments(dir, host: "hb", planner: endpoint), log: dir + "/agent.log")
        defer {
            agent.stop()
            killVMs(under: dir)
        }
        #expect(eventually(10) { !planner.registrations.isEmpty }, "\(agent.log)")
        _ = planner.push(Desired.state("hb", 1, vms: [Desired.vm("a", Self.forward, ports: 1)]), to: "hb")
        let good = try #require(planner.waitStatus { $0.observedGeneration == 1 }, "\(agent.log)")
        let pid = good.vms.first?.pid ?? 0

        func vm(_ name: String, ports: UInt32 = 1, backend: String = "") -> Clickos_V1_VMSpec {
            var v = Desired.vm(name, Self.forward, ports: ports)
            v.backend = backend
            return v
        }
        var tunnel = Clickos_V1_TunnelSpec()
        tunnel.vni = 0
        tunnel.remoteAddress = "not-an-address"
        tunnel.localEnd = "vm:a:0"
        var edge = Clickos_V1_ChainEdge()
        edge.chain = "c"
        edge.interface = "eth0"
        edge.address = "10.1.0.1"
        edge.attach = "vm:a:0"
        var defined = vm("a")
        defined.defines = ["1BAD": "x"]
        let cases: [(Clickos_V1_HostDesiredState, String)] = [
            (Desired.state("hb", 2, vms: [vm("a", backend: "kvm")]), "vms[0].backend: unknown backend 'kvm'"),
            (Desired.state("hb", 2, vms: [vm("a", ports: 99)]), "vms[0].ports: 99 is out of range"),
            (Desired.state("hb", 2, vms: [vm("a")], links: [Desired.link("l", "vm:a:0", "vm:ghost:0")]), "links[0].client: 'vm:ghost:0': no VM 'ghost'"),
            (Desired.state("hb", 2, vms: [vm("a"), vm("a")]), "vms[1].name: duplicate VM name 'a'"),
            (Desired.state("hb", 2, vms: [vm("a")], links: [Desired.link("l", "switch:0", "")]), "links[0]: a link with no client must have a VM port as its server"),
            (Desired.state("other", 2, vms: [vm("a")]), "host_name: desired state for host 'other'"),
            (Desired.state("hb", 2, vms: [vm("a")], tunnels: [tunnel]), "tunnels[0].vni: 0 is out of range"),
            (Desired.state("hb", 2, vms: [vm("a")], tunnels: [tunnel]), "tunnels[0].remote_address: 'not-an-address'"),
            (Desired.state("hb", 2, vms: [vm("a")], edges: [edge]), "edges[0].address: '10.1.0.1' is not an IPv4 address with a prefix length"),
            (Desired.state("hb", 2, vms: [vm("a")], links: [Desired.link("l", "vm:a:5", "switch:1")]), "'vm:a:5': VM 'a' has 1 port"),
            (Desired.state("hb", 2, vms: [vm("../etc")]), "vms[0].name: '../etc'"),
            (Desired.state("hb", 2, vms: [vm("a"), vm("b")], links: [Desired.link("l", "vm:a:0", "vm:b:0"), Desired.link("m", "vm:a:0", "vm:b:0")]),
             "'vm:a:0' is already used by link 'l'"),
            (Desired.state("hb", 2, vms: [defined]), "'1BAD' is not a Click variable name"),
        ]
        for (d, words) in cases {
            let answer = try #require(planner.push(d, to: "hb"), "no answer for \(words): \(agent.log)")
            guard case .error(let e) = answer.payload else {
                Issue.record("accepted nonsense (\(words)): \(answer)")
                continue
            }
            #expect(e.code == .invalidArgument && e.message.contains(words), "\(e.message) does not say \(words)")
        }
        // A payload an agent does not take.
        var heartbeat = Clickos_V1_Heartbeat()
        heartbeat.hostName = "planner?"
        let odd = EnvelopeCodec.make(sender: "planner", requestID: 4242, .heartbeat(heartbeat))
        planner.sendRaw(odd, to: "hb")
        #expect(eventually(5) {
            planner.envelopes.contains { $0.envelope.requestID == 4242 && { if case .error(let e) = $0.envelope.payload { e.code == .unexpectedPayload } else { false } }($0) }
        })

        // A backend this host does not have is an error in the status; the rest applies.
        let mark = planner.envelopes.count
        let answer = planner.push(Desired.state("hb", 3, vms: [vm("a"), vm("x", backend: "xen")]), to: "hb")
        #expect(answer.map { if case .ack = $0.payload { true } else { false } } == true)
        let s = try #require(planner.waitStatus(after: mark) { !$0.errors.isEmpty })
        #expect(s.errors.contains { $0.contains("VM x") && $0.contains("backend 'xen' is not available") }, "\(s.errors)")
        #expect(s.vms.first { $0.name == "x" }?.state == .failed && s.vms.first { $0.name == "a" }?.pid == pid)
        #expect(s.observedGeneration == 1)
        #expect(agent.alive, "the agent died: \(agent.log)")
    }
}
