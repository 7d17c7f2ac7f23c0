#if canImport(Glibc)
import Glibc
#endif
import Messaging
import Testing
import VMHost

/// A real `clickos-agent` driven by a scripted planner over real ZeroMQ: registration,
/// a three-VM chain carrying counted traffic, telemetry, idempotence, hot swap without
/// loss, removal, a bad configuration, supervision and adoption.
@Suite("Agent lifecycle", .serialized, .timeLimit(.minutes(5)))
struct AgentLifecycleTests {
    /// Sends `total` frames at `rate` per second out of port 0.
    static func source(rate: Int, total: Int) -> String {
        "gen :: RatedSource(DATA \\<\(Desired.udpFrameHex())>, RATE \(rate), LIMIT \(total), STOP false) -> sent :: Counter -> q :: Queue(4096) -> ToDevice(0);\nFromDevice(0) -> Discard;"
    }
    static let middle = "FromDevice(0) -> c :: Counter -> q :: Queue(4096) -> ToDevice(1);\nFromDevice(1) -> Discard;"
    static let middle2 = "// version 2\nFromDevice(0) -> c :: Counter -> Paint(3) -> q :: Queue(4096) -> ToDevice(1);\nFromDevice(1) -> Discard;"
    static let sink = "FromDevice(0) -> c :: Counter -> Discard;"

    static func chain(_ host: String, _ generation: UInt64, middle: String = middle, rate: Int = 2000, total: Int = 8000,
                      withSink: Bool = true) -> Clickos_V1_HostDesiredState {
        var vms = [Desired.vm("src", source(rate: rate, total: total), ports: 1), Desired.vm("mid", middle, ports: 2)]
        var links = [Desired.link("src-mid", "vm:src:0", "vm:mid:0")]
        if withSink {
            vms.append(Desired.vm("sink", sink, ports: 1))
            links.append(Desired.link("mid-sink", "vm:mid:1", "vm:sink:0"))
        }
        return Desired.state(host, generation, vms: vms, links: links)
    }

    /// Reads a VM's handler through its control socket (as the agent would).
    static func read(_ state: String, _ vm: String, _ handler: String) -> String? {
        guard let c = try? ControlClient(path: "\(state)/vms/\(vm)/run/control.sock", timeout: 2) else { return nil }
        defer { c.close() }
        return try? c.read(handler).trimmingSpaces
    }

    static func count(_ state: String, _ vm: String, _ handler: String = "c.count") -> Int { Int(read(state, vm, handler) ?? "") ?? -1 }

    static func pids(_ s: Clickos_V1_HostStatus) -> [String: Int32] {
        Dictionary(s.vms.map { ($0.name, $0.pid) }, uniquingKeysWith: { a, _ in a })
    }

    static func agentArguments(_ dir: String, host: String, planner: String) -> [String] {
        ["--planner", planner, "--name", host, "--state-dir", dir + "/state", "--packets-per-core", "1000000",
         "--heartbeat-interval", "0.2", "--telemetry-interval", "0.25"]
    }

    @Test func aScriptedPlannerDrivesTheAgentThroughAChainsLife() throws {
        let dir = scratch("life")
        defer { _ = shell("rm -rf '\(dir)'") }
        let planner = try ScriptedPlanner(endpoint: "ipc://\(dir)/planner.sock")
        defer { planner.server.stop() }
        let agent = AgentProcess(Self.agentArguments(dir, host: "h1", planner: "ipc://\(dir)/planner.sock"), log: dir + "/agent.log")
        defer {
            agent.stop()
            killVMs(under: dir)
        }
        let state = dir + "/state"

        // Registration, then heartbeats.
        #expect(eventually(10) { !planner.registrations.isEmpty }, "no Register: \(agent.log)")
        let r = try #require(planner.registrations.first)
        #expect(r.hostName == "h1" && r.cores >= 1 && r.memoryBytes > 0 && r.vmBackends == ["process"] && r.packetsPerCore == 1_000_000)
        #expect(eventually(5) { planner.all { if case .heartbeat = $0.payload { 1 } else { nil } }.count >= 2 })

        // Generation 1: three VMs in a chain, traffic counted through all of them.
        let ack = planner.push(Self.chain("h1", 1), to: "h1")
        #expect(ack.map { if case .ack = $0.payload { true } else { false } } == true, "\(String(describing: ack)) \(agent.log)")
        let s1 = try #require(planner.waitStatus { $0.observedGeneration == 1 }, "never reached generation 1: \(agent.log)")
        #expect(s1.vms.count == 3 && s1.vms.allSatisfy { $0.state == .running && $0.pid > 0 }, "\(s1)")
        #expect(s1.links.count == 2 && s1.errors.isEmpty, "\(s1)")
        #expect(eventually(10) { Self.count(state, "sink") > 200 }, "no traffic reached the sink: \(agent.log)")
        #expect(Self.count(state, "mid") > 0)
        // Telemetry with rates and a CPU cost per packet for the middle VM.
        #expect(eventually(5) {
            planner.telemetry.contains { t in
                t.vms.contains { $0.vm == "mid" && $0.ports.contains { $0.port == 0 && $0.rxPps > 100 && $0.linkUp } && $0.cpuNsPerPacket > 0 }
            }
        }, "telemetry: \(planner.telemetry.last.map { "\($0)" } ?? "none")")
        let pids1 = Self.pids(s1)

        // The same generation again: acknowledged, nothing restarted.
        let again = planner.push(Self.chain("h1", 1), to: "h1")
        #expect(again.map { if case .ack = $0.payload { true } else { false } } == true)
        usleep(300_000)
        #expect(Self.pids(try #require(planner.status)) == pids1)
        // An older generation is refused by name.
        let older = planner.push(Self.chain("h1", 0 + 1).withGeneration(0), to: "h1")
        #expect(older.map { if case .error = $0.payload { true } else { false } } == true)

        // Generation 2 changes the middle VM's configuration: hot-swapped, same processes,
        // its counter kept, and not a packet lost (the source stops at 8000).
        let before = Self.count(state, "mid")
        let mark = planner.envelopes.count
        #expect(planner.push(Self.chain("h1", 2, middle: Self.middle2), to: "h1").map { if case .ack = $0.payload { true } else { false } } == true)
        let s2 = try #require(planner.waitStatus(after: mark) { $0.observedGeneration == 2 }, "never reached generation 2: \(agent.log)")
        #expect(Self.pids(s2) == pids1, "a VM restarted: \(s2)")
        #expect(Self.count(state, "mid") >= before, "the counter was reset by the hot swap")
        #expect(Self.read(state, "mid", "config")?.contains("Paint(3)") == true)
        #expect(eventually(15) { Self.count(state, "src", "sent.count") == 8000 && Self.count(state, "sink") == 8000 },
                "lost packets: sent \(Self.count(state, "src", "sent.count")), received \(Self.count(state, "sink"))")

        // Generation 3 removes the sink and its link.
        let mark3 = planner.envelopes.count
        _ = planner.push(Self.chain("h1", 3, middle: Self.middle2, withSink: false), to: "h1")
        let s3 = try #require(planner.waitStatus(after: mark3) { $0.observedGeneration == 3 }, "never reached generation 3: \(planner.status.map { "\($0)" } ?? "") \(agent.log)")
        #expect(s3.vms.map(\.name).sorted() == ["mid", "src"] && s3.links.map(\.name) == ["src-mid"], "\(s3)")
        #expect(access(state + "/vms/sink", F_OK) != 0 && access(state + "/links/mid-sink", F_OK) != 0)
        #expect(kill(pids1["sink"] ?? 0, 0) != 0, "the sink's process is still there")
        // The source is untouched; the middle VM restarts, for its port 1 lost its link
        // (ports are fixed when a VM boots) and is now a port of its own, down.
        #expect(Self.pids(s3)["src"] == pids1["src"] && Self.pids(s3)["mid"] != pids1["mid"])
        #expect(eventually(5) {
            planner.telemetry.last?.vms.first { $0.vm == "mid" }.map { vm in vm.ports.contains { $0.port == 0 && $0.linkUp } && vm.ports.contains { $0.port == 1 && !$0.linkUp } } == true
        }, "mid's ports: \(planner.telemetry.last.map { "\($0)" } ?? "")")

        // Generation 4 has a broken configuration for the middle VM: reported with Click's
        // words, nothing else changes, the generation is not reached.
        let mark4 = planner.envelopes.count
        _ = planner.push(Self.chain("h1", 4, middle: "FromDevice(0) -> NoSuchElement -> ToDevice(1);", withSink: false), to: "h1")
        let s4 = try #require(planner.waitStatus(after: mark4) { !$0.errors.isEmpty })
        #expect(s4.observedGeneration == 3)
        #expect(s4.errors.contains { $0.contains("VM mid") && $0.contains("NoSuchElement") }, "\(s4.errors)")
        #expect(Self.pids(s4) == Self.pids(s3))
        #expect(Self.read(state, "mid", "config")?.contains("Paint(3)") == true, "the old configuration must keep running")
        #expect(agent.alive)
    }

    @Test func aKilledAgentsVMsAreAdoptedWithoutLossAndKilledVMsAreRebooted() throws {
        let dir = scratch("supervise")
        defer { _ = shell("rm -rf '\(dir)'") }
        let endpoint = "ipc://\(dir)/planner.sock"
        let planner = try ScriptedPlanner(endpoint: endpoint)
        defer { planner.server.stop() }
        var agent = AgentProcess(Self.agentArguments(dir, host: "h2", planner: endpoint), log: dir + "/agent.log")
        defer {
            agent.stop()
            killVMs(under: dir)
        }
        let state = dir + "/state"
        #expect(eventually(10) { !planner.registrations.isEmpty }, "\(agent.log)")
        _ = planner.push(Self.chain("h2", 1, rate: 3000, total: 9000), to: "h2")
        let s1 = try #require(planner.waitStatus { $0.observedGeneration == 1 && $0.vms.count == 3 }, "\(agent.log)")
        let pids = Self.pids(s1)
        #expect(eventually(10) { Self.count(state, "sink") > 300 })

        // kill -9 the agent while traffic flows: the VMs go on forwarding without it.
        _ = agent.stop(SIGKILL)
        let whileAway = Self.count(state, "sink")
        #expect(eventually(5) { Self.count(state, "sink") > whileAway + 600 }, "traffic stopped with the agent")
        // A new agent adopts every VM (the same processes) and boots nothing.
        let mark = planner.envelopes.count
        agent = AgentProcess(Self.agentArguments(dir, host: "h2", planner: endpoint), log: dir + "/agent2.log")
        let s2 = try #require(planner.waitStatus(after: mark) { $0.observedGeneration == 1 }, "\(agent.log)")
        #expect(Self.pids(s2) == pids, "\(s2)")
        #expect(agent.log.contains("adopted VM"))
        #expect(!agent.log.contains("booted VM"), "the new agent booted something: \(agent.log)")
        // Not a packet lost across the handover: all 9000 arrive.
        #expect(eventually(10) { Self.count(state, "src", "sent.count") == 9000 && Self.count(state, "sink") == 9000 },
                "sent \(Self.count(state, "src", "sent.count")), received \(Self.count(state, "sink"))")

        // Traffic again; then kill -9 the middle VM: rebooted (a new process) and
        // forwarding again.
        let control = try ControlClient(path: "\(state)/vms/src/run/control.sock")
        try control.write("gen.reset", "")
        control.close()
        #expect(eventually(5) { Self.count(state, "sink") > 9300 })
        let mark2 = planner.envelopes.count
        kill(pids["mid"] ?? 0, SIGKILL)
        let s3 = try #require(planner.waitStatus(after: mark2) { s in s.vms.contains { $0.name == "mid" && $0.state == .running && $0.pid != pids["mid"] } },
                              "not rebooted: \(agent.log)")
        #expect((Self.pids(s3)["mid"] ?? 0) > 0)
        #expect(Self.pids(s3)["src"] == pids["src"] && Self.pids(s3)["sink"] == pids["sink"])
        let sinkBefore = Self.count(state, "sink")
        #expect(eventually(10) { Self.count(state, "sink") > sinkBefore + 300 }, "no traffic after the reboot")
        // (An adopted VM is not the new agent's child: how it ended is not the agent's to
        // read, only that it did.)
        #expect(agent.log.contains("VM ended; rebooting") && agent.log.contains("vm=mid"))
    }

    @Test func aRestartedPlannerIsRegisteredWithAgain() throws {
        let dir = scratch("replanner")
        defer { _ = shell("rm -rf '\(dir)'") }
        let endpoint = "ipc://\(dir)/planner.sock"
        var planner = try ScriptedPlanner(endpoint: endpoint)
        let agent = AgentProcess(Self.agentArguments(dir, host: "h3", planner: endpoint), log: dir + "/agent.log")
        defer { agent.stop() }
        #expect(eventually(10) { planner.registrations.count == 1 })
        planner.server.stop()
        // A new planner that knows nothing: it answers heartbeats with NOT_FOUND.
        planner = try ScriptedPlanner(endpoint: endpoint)
        defer { planner.server.stop() }
        #expect(eventually(15) { !planner.registrations.isEmpty }, "no new Register: \(agent.log)")
        #expect(planner.registrations.first?.hostName == "h3")
    }
}

extension Clickos_V1_HostDesiredState {
    func withGeneration(_ g: UInt64) -> Self {
        var copy = self
        copy.generation = g
        return copy
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" { s.removeLast() }
        return String(s)
    }
}

/// With keys, the agent speaks CURVE to the planner: an agent whose key the planner lists
/// registers; one whose key it does not list never gets through.
@Suite("Agent with CURVE", .serialized, .timeLimit(.minutes(2)))
struct AgentCurveTests {
    @Test func onlyAnAuthorizedAgentRegisters() throws {
        let dir = scratch("curve")
        defer { _ = shell("rm -rf '\(dir)'") }
        for sub in ["planner", "good", "bad"] { mkdir("\(dir)/\(sub)", 0o700) }
        let plannerKeys = try CurveKeyFiles.generate(name: "planner", in: "\(dir)/planner")
        let good = try CurveKeyFiles.generate(name: "agent", in: "\(dir)/good")
        _ = try CurveKeyFiles.generate(name: "agent", in: "\(dir)/bad")
        let port = 30_000 + Int(getpid() % 20_000)
        let endpoint = "tcp://127.0.0.1:\(port)"
        let planner = try ScriptedPlanner(endpoint: endpoint, security: .init(keys: plannerKeys, authorized: [good.publicKey]))
        defer { planner.server.stop() }
        func start(_ host: String, _ keys: String) -> AgentProcess {
            AgentProcess(["--planner", endpoint, "--name", host, "--state-dir", "\(dir)/\(host)", "--packets-per-core", "1000",
                          "--keys", "\(dir)/\(keys)", "--planner-key", "\(dir)/planner/planner.pub", "--heartbeat-interval", "0.2"],
                         log: "\(dir)/\(host).log")
        }
        let intruder = start("intruder", "bad")
        defer { intruder.stop() }
        let agent = start("trusted", "good")
        defer { agent.stop() }
        #expect(eventually(10) { planner.registrations.contains { $0.hostName == "trusted" } }, "\(agent.log)")
        usleep(1_000_000)
        #expect(!planner.envelopes.contains { $0.envelope.sender == "intruder" }, "an unlisted key got through")
        #expect(intruder.alive && planner.server.statistics.refusedClients >= 1)
    }
}
