import Foundation
import Messaging
@testable import Planner
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An agent's side of the wire without VMs, for tests of the planner with many hosts: a
/// real DEALER socket that registers, beats, acknowledges desired states and reports every
/// VM of the latest one RUNNING (or nothing, with `reportRunning` off). `beating` off makes
/// the host fall silent, as a dead one does.
final class SimulatedAgent: Sendable {
    let name: String
    let client: MessageClient
    let register: Clickos_V1_Register
    let beating = Atomic<Bool>(true)
    let reportRunning = Atomic<Bool>(true)
    let registered = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    /// Every desired state received, in order (repeats included).
    let received = Mutex<[Clickos_V1_HostDesiredState]>([])
    let observed = Atomic<UInt64>(0)
    let notFound = Atomic<Int>(0)
    private let finished = Atomic<Bool>(false)

    init(endpoint: String, name: String, cores: UInt32 = 2, packetsPerCore: Double = 1e6, dataAddress: String = "",
         labels: [String: String] = [:], backends: [String] = ["process"], interval: Double = 0.1) throws {
        self.name = name
        client = try MessageClient(endpoint: endpoint, sender: name)
        var r = Clickos_V1_Register()
        r.hostName = name
        r.cores = cores
        r.packetsPerCore = packetsPerCore
        r.dataPlaneAddress = dataAddress
        r.labels = labels
        r.vmBackends = backends
        register = r
        let box = Unowned(self)
        Thread {
            box.agent?.loop(interval: interval)
            box.agent?.finished.store(true, ordering: .releasing)
        }.start()
    }

    /// The thread's reference back to the agent (set once, before the thread starts).
    final class Unowned: @unchecked Sendable {
        weak var agent: SimulatedAgent?
        init(_ agent: SimulatedAgent?) { self.agent = agent }
    }

    private func loop(interval: Double) {
        var registerID: UInt64 = 0
        var nextBeat = 0.0, nextRegister = 0.0
        while !stopping.load(ordering: .relaxed) {
            let now = Date().timeIntervalSince1970
            if !registered.load(ordering: .relaxed), now >= nextRegister {
                registerID = client.send(.register(register))
                nextRegister = now + 0.2
            }
            if registered.load(ordering: .relaxed), beating.load(ordering: .relaxed), now >= nextBeat {
                var h = Clickos_V1_Heartbeat()
                h.hostName = name
                h.observedGeneration = observed.load(ordering: .relaxed)
                client.send(.heartbeat(h))
                nextBeat = now + interval
            }
            for e in client.takeIncoming() {
                switch e.payload {
                case .ack where e.requestID == registerID:
                    registered.store(true, ordering: .relaxed)
                case .error(let err) where err.code == .notFound:
                    notFound.add(1, ordering: .relaxed)
                    registered.store(false, ordering: .relaxed)
                case .desiredState(let d):
                    received.withLock { $0.append(d) }
                    client.reply(to: e.requestID, .ack(Clickos_V1_Ack()))
                    guard beating.load(ordering: .relaxed) else { continue }
                    if reportRunning.load(ordering: .relaxed) { reportStatus(d) }
                default:
                    break
                }
            }
            usleep(5_000)
        }
    }

    /// Reports every VM of `d` RUNNING at its generation.
    func reportStatus(_ d: Clickos_V1_HostDesiredState) {
        observed.store(d.generation, ordering: .relaxed)
        var s = Clickos_V1_HostStatus()
        s.hostName = name
        s.observedGeneration = d.generation
        s.vms = d.vms.map { vm in
            var v = Clickos_V1_VMStatus()
            v.name = vm.name
            v.state = .running
            v.generation = d.generation
            return v
        }
        client.send(.hostStatus(s))
    }

    var latest: Clickos_V1_HostDesiredState? { received.withLock { $0.last } }
    var generations: [UInt64] { received.withLock { $0.map(\.generation) } }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1000) }
        client.close()
    }
}

/// A planner daemon in this process on an ipc endpoint, and a CLI-side client to it.
final class TestPlanner {
    let daemon: PlannerDaemon
    let cli: MessageClient
    let thread: Thread
    let dir: String

    init(dir: String, heartbeat: Double = 0.1, missedBeats: Double = 3, configure: (inout PlannerService.Options) -> Void = { _ in }) throws {
        self.dir = dir
        var c = PlannerDaemon.Configuration(listen: "ipc://\(dir)/planner.sock", database: dir + "/planner.db")
        c.options.heartbeatInterval = heartbeat
        c.options.missedBeats = missedBeats
        c.options.resendInterval = 0.3
        configure(&c.options)
        let daemon = try PlannerDaemon(c)
        self.daemon = daemon
        thread = Thread { daemon.run() }
        thread.start()
        cli = try MessageClient(endpoint: "ipc://\(dir)/planner.sock", sender: "cli:test")
    }

    var endpoint: String { "ipc://\(dir)/planner.sock" }

    func request(_ p: Envelope.OneOf_Payload) async throws -> Envelope.OneOf_Payload? {
        try await cli.request(p, timeout: 5, retries: 0).payload
    }

    func chains() async throws -> [Clickos_V1_ChainSummary] {
        guard case .listChainsReply(let r)? = try await request(.listChains(Clickos_V1_ListChainsRequest())) else { return [] }
        return r.chains
    }

    func hosts() async throws -> [Clickos_V1_HostSummary] {
        guard case .listHostsReply(let r)? = try await request(.listHosts(Clickos_V1_ListHostsRequest())) else { return [] }
        return r.hosts
    }

    func apply(_ chain: Clickos_V1_ChainSpec, dryRun: Bool = false) async throws -> Envelope.OneOf_Payload? {
        var a = Clickos_V1_ApplyChainRequest()
        a.chain = chain
        a.dryRun = dryRun
        return try await request(.applyChain(a))
    }

    func stop() {
        cli.close()
        daemon.stop()
        while !thread.isFinished { usleep(1000) }
    }
}

func scratchDirectory(_ name: String) -> String {
    let dir = "/tmp/cp-\(getpid())-\(name)"
    _ = system("rm -rf '\(dir)'")
    mkdir(dir, 0o755)
    return dir
}

/// Polls `condition` every 20 ms for up to `seconds` (a throw counts as false).
@discardableResult
func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async -> Bool {
    let deadline = Date().timeIntervalSince1970 + seconds
    while Date().timeIntervalSince1970 < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return (try? await condition()) == true
}

/// A chain of functions that forward both ways (inline Click).
func testChain(_ name: String, functions: [String], rate: String = "100kpps", scale: [String: Int] = [:], backends: [String: String] = [:]) throws -> Clickos_V1_ChainSpec {
    var yaml = """
        name: \(name)
        ingress: { interface: eth1, address: 10.1.0.1/24 }
        egress: { interface: eth2, address: 10.2.0.1/24 }
        rate: \(rate)
        functions:

        """
    for f in functions {
        yaml += "  - name: \(f)\n    click: \"FromDevice(0) -> Queue -> ToDevice(1); FromDevice(1) -> Queue -> ToDevice(0);\"\n"
        if let n = scale[f] { yaml += "    scale: { min: \(n), max: \(n) }\n" }
        if let b = backends[f] { yaml += "    backend: \(b)\n" }
    }
    return try ChainFile.parse(yaml: yaml, file: "\(name).yaml")
}
