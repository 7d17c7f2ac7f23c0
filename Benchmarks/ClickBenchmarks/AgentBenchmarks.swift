#if canImport(Glibc)
import Glibc
#endif
import Messaging
import PacketIO
import VMInterface
import VMHost
import Synchronization

// The agent's figures (issue 12): desired state to running and linked VMs, to the first
// packet through a chain, the agent's own CPU beside 100 idle VMs, and a VXLAN hop
// between two host switches against a direct memif link. A real release `clickos-agent`
// (beside this benchmark) driven by an in-process planner over ZeroMQ ipc.

/// The planner's side, for timing: acknowledges registrations, keeps statuses with the
/// time they arrived, pushes desired states.
final class BenchPlanner: Sendable {
    final class Shared: Sendable {
        let statuses = Mutex<[(Double, Clickos_V1_HostStatus)]>([])
        let peers = Mutex<[String: MessageServer.Peer]>([:])
    }
    let shared = Shared()
    let server: MessageServer
    private let nextID = Atomic<UInt64>(1)

    init(endpoint: String) throws {
        let shared = self.shared
        server = try MessageServer(endpoint: endpoint, peerHandler: { e, peer in
            shared.peers.withLock { $0[e.sender] = peer }
            switch e.payload {
            case .register: return EnvelopeCodec.make(sender: "planner", requestID: e.requestID, .ack(Clickos_V1_Ack()))
            case .hostStatus(let s): shared.statuses.withLock { $0.append((nowSeconds(), s)) }
            default: break
            }
            return nil
        })
    }

    func registered(_ host: String) -> Bool { shared.peers.withLock { $0[host] != nil } }

    /// Sends a desired state; returns when it went (monotonic seconds).
    func push(_ d: Clickos_V1_HostDesiredState, to host: String) -> Double {
        guard let peer = shared.peers.withLock({ $0[host] }) else { return 0 }
        let t = nowSeconds()
        server.send(EnvelopeCodec.make(sender: "planner", requestID: nextID.wrappingAdd(1, ordering: .relaxed).oldValue, .desiredState(d)), to: peer)
        return t
    }

    /// Waits for a status of `host` at generation `g` or later.
    func waitObserved(_ host: String, _ g: UInt64, seconds: Double = 120) -> Clickos_V1_HostStatus? {
        let deadline = nowSeconds() + seconds
        while nowSeconds() < deadline {
            if let s = shared.statuses.withLock({ $0.last { $0.1.hostName == host && $0.1.observedGeneration >= g } }) { return s.1 }
            usleep(500)
        }
        return nil
    }
}

/// A `clickos-agent` process of the benchmark.
final class BenchAgent {
    let pid: pid_t
    let state: String

    init(dir: String, host: String, planner: String, netns: String? = nil, extra: [String] = []) {
        state = "\(dir)/\(host)"
        let me = siblingVM()
        let agent = String(me[..<(me.lastIndex(of: "/") ?? me.endIndex)]) + "/clickos-agent"
        var argv = [agent, "--planner", planner, "--name", host, "--state-dir", state, "--packets-per-core", "1000000"] + extra
        if let netns { argv = ["/usr/bin/ip", "netns", "exec", netns] + argv }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 2, "\(dir)/\(host).log", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let cArgs = argv.map { strdup($0) } + [nil]
        var pid: pid_t = 0
        posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        for a in cArgs { free(a) }
        posix_spawn_file_actions_destroy(&actions)
        self.pid = pid
    }

    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// True when every port named has its link up (read from the VMs' stats pages).
    func linked(_ ports: [(String, Int)], pages: inout [String: StatsPage]) -> Bool {
        for (vm, port) in ports {
            if pages[vm] == nil { pages[vm] = try? StatsPage.open(path: "\(state)/vms/\(vm)/run/stats") }
            guard let page = pages[vm], port < page.portCount, page.counters(port: port)[.linkUp] != 0 else { return false }
        }
        return true
    }

    func received(_ vm: String, port: Int = 0, page: inout StatsPage?) -> UInt64 {
        if page == nil { page = try? StatsPage.open(path: "\(state)/vms/\(vm)/run/stats") }
        guard let page, port < page.portCount else { return 0 }
        return page.counters(port: port)[.receivedPackets]
    }

    /// The agent's user and system CPU time, in seconds.
    var cpuSeconds: Double {
        guard let f = fopen("/proc/\(pid)/stat", "r") else { return 0 }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 1024)
        guard fgets(&buffer, 1024, f) != nil else { return 0 }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // utime and stime are fields 14 and 15; fields[0] is field 3.
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

func desiredState(_ host: String, _ g: UInt64, vms: [(String, String, UInt32)], links: [(String, String, String)],
                  tunnels: [Clickos_V1_TunnelSpec] = []) -> Clickos_V1_HostDesiredState {
    var d = Clickos_V1_HostDesiredState()
    d.hostName = host
    d.generation = g
    for (name, config, ports) in vms {
        var v = Clickos_V1_VMSpec()
        v.name = name
        v.configuration = config
        v.ports = ports
        v.packetBuffers = 2048
        d.vms.append(v)
    }
    for (name, s, c) in links {
        var l = Clickos_V1_LinkSpec()
        l.name = name
        l.server = s
        l.client = c
        l.secret = "k" + name
        d.links.append(l)
    }
    d.tunnels = tunnels
    return d
}

/// Kills the VMs agents left under `dir` (they outlive their agents by design).
func killAgentVMs(under dir: String) {
    _ = system("find '\(dir)' -path '*/vms/*/vm.record' -exec sed -n 's/^pid=//p' {} + 2>/dev/null | xargs -r kill -9 2>/dev/null")
}

func readLog(_ path: String) -> String {
    guard let f = fopen(path, "r") else { return "" }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

let twoWay = "FromDevice(0) -> Queue(256) -> ToDevice(1); FromDevice(1) -> Queue(256) -> ToDevice(0);"

func benchmarkAgent() {
    let dir = "/tmp/clickos-bench-\(getpid())-agent"
    _ = system("rm -rf '\(dir)'; mkdir -p '\(dir)'")
    defer {
        killAgentVMs(under: dir)
        _ = system("rm -rf '\(dir)'")
    }
    let endpoint = "ipc://\(dir)/planner.sock"
    guard let planner = try? BenchPlanner(endpoint: endpoint) else { return report("agent: cannot bind the planner") }
    defer { planner.server.stop() }
    let agent = BenchAgent(dir: dir, host: "bench", planner: endpoint)
    defer { agent.stop() }
    let t0 = nowSeconds()
    while !planner.registered("bench") && nowSeconds() < t0 + 20 { usleep(1000) }
    var generation: UInt64 = 0

    // Desired state -> every VM running and every link up: a line of N VMs.
    for (n, runs) in [(1, 7), (10, 5), (100, 3)] {
        var samples: [Double] = []
        for _ in 0..<runs {
            generation += 1
            let vms = (0..<n).map { ("v\($0)", twoWay, UInt32(2)) }
            let links = (0..<max(0, n - 1)).map { ("l\($0)", "vm:v\($0):1", "vm:v\($0 + 1):0") }
            let linkedPorts = (0..<max(0, n - 1)).flatMap { [("v\($0)", 1), ("v\($0 + 1)", 0)] }
            let sent = planner.push(desiredState("bench", generation, vms: vms, links: links), to: "bench")
            guard planner.waitObserved("bench", generation) != nil else { return report("agent: generation \(generation) never reached") }
            var pages: [String: StatsPage] = [:]
            while !agent.linked(linkedPorts, pages: &pages) { usleep(200) }
            samples.append((nowSeconds() - sent) * 1000)
            if n == 100 && samples.count == runs { break }
            generation += 1
            _ = planner.push(desiredState("bench", generation, vms: [], links: []), to: "bench")
            _ = planner.waitObserved("bench", generation)
        }
        // The agent's own account of its last pass (its log's `reconciled ... ms=`).
        let passLine = readLog("\(dir)/bench.log").split(separator: "\n").last { $0.contains("booted=\(n) ") }
        let passMs = passLine.flatMap { $0.split(separator: " ").first { $0.hasPrefix("ms=") } }.map { String($0.dropFirst(3)) } ?? "?"
        report("agent: desired state -> \(n) VMs running and linked (last pass \(passMs) ms in the agent): median \(f1(median(samples))) ms, \(f2(median(samples) / Double(n))) ms per VM (min \(f1(samples.min() ?? 0)), max \(f1(samples.max() ?? 0)), \(runs) runs)")
    }

    // The same 100 VMs and links booted straight through the backend (no agent, no
    // messages), one after another and overlapped, in the same run: what the agent adds.
    let bare = VMBench("agent-bare")
    for (label, overlapped) in [("one after another", false), ("overlapped, 8 in flight", true)] {
        var specs: [VMSpec] = []
        for k in 0..<100 {
            var spec = VMSpec(name: "v\(k)", configuration: twoWay)
            spec.packetBuffers = 2048
            for (port, role) in [(0, MemifConfiguration.Role.client), (1, .server)] {
                let link = role == .server ? k : k - 1
                guard link >= 0 && link < 99, let d = try? bare.backend.makeLinkDirectory("l\(link)") else {
                    if let d = try? bare.backend.makeLinkDirectory("open\(k)-\(port)") { spec.ports[port] = MemifConfiguration(role: .server, socketPath: d + "/memif.sock") }
                    continue
                }
                spec.ports[port] = MemifConfiguration(role: role, socketPath: d + "/memif.sock")
            }
            specs.append(spec)
        }
        let t = nowSeconds()
        if overlapped {
            for r in bare.backend.boot(specs) { if case .failure(let e) = r { report("bare boot failed: \(e.message)") } }
        } else {
            for spec in specs { _ = try? bare.backend.boot(spec) }
        }
        let ms = (nowSeconds() - t) * 1000
        report("agent: the same 100 VMs booted straight through the backend, \(label): \(f1(ms)) ms, \(f2(ms / 100)) ms per VM")
        for vm in bare.backend.vms { try? bare.backend.stop(vm.name, timeout: 2) }
    }
    bare.stopAll()

    // The agent's own CPU beside the 100 idle VMs just booted, telemetry at 1 Hz.
    let c0 = agent.cpuSeconds, w0 = nowSeconds()
    usleep(10_000_000)
    let share = (agent.cpuSeconds - c0) / (nowSeconds() - w0) * 100
    report("agent: own CPU with 100 idle VMs, telemetry and heartbeats at 1 Hz: \(f2(share))% of a core (10 s)")

    // Desired state -> first packet through a 3-VM chain (source, forwarder, sink).
    var firsts: [Double] = []
    for _ in 0..<7 {
        generation += 1
        _ = planner.push(desiredState("bench", generation, vms: [], links: []), to: "bench")
        _ = planner.waitObserved("bench", generation)
        generation += 1
        let d = desiredState("bench", generation, vms: [("src", "InfiniteSource(LENGTH 64, BURST 1) -> RatedUnqueue(100000) -> ToDevice(0) ; FromDevice(0) -> Discard;", 1), ("fwd", twoWay, 2), ("dst", "FromDevice(0) -> Discard;", 1)],
                             links: [("a", "vm:src:0", "vm:fwd:0"), ("b", "vm:fwd:1", "vm:dst:0")])
        let sent = planner.push(d, to: "bench")
        var page: StatsPage?
        let deadline = sent + 30
        while agent.received("dst", page: &page) == 0 && nowSeconds() < deadline { usleep(100) }
        firsts.append((nowSeconds() - sent) * 1000)
    }
    report("agent: desired state -> first packet through a 3-VM chain: median \(f1(median(firsts))) ms (min \(f1(firsts.min() ?? 0)), max \(f1(firsts.max() ?? 0)), 7 runs)")
}

/// A VXLAN hop between two host switches (two agents in network namespaces joined by a
/// veth pair) against a direct memif link, the same source and sink, alternating.
func benchmarkVXLAN(runs: Int = 3) {
    guard geteuid() == 0, system("ip netns add cb-probe 2>/dev/null && ip netns del cb-probe") == 0 else {
        return report("vxlan: skipped (needs root and network namespaces)")
    }
    let dir = "/tmp/clickos-bench-\(getpid())-vxlan"
    let (a, b) = ("cb\(getpid())a", "cb\(getpid())b")
    _ = system("rm -rf '\(dir)'; mkdir -p '\(dir)'; ip netns add \(a); ip netns add \(b); ip -n \(a) link set lo up; ip -n \(b) link set lo up")
    _ = system("ip link add ua netns \(a) mtu 1600 type veth peer name ub netns \(b) mtu 1600")
    _ = system("ip -n \(a) addr add 192.168.79.1/24 dev ua; ip -n \(b) addr add 192.168.79.2/24 dev ub; ip -n \(a) link set ua up; ip -n \(b) link set ub up")
    defer {
        killAgentVMs(under: dir)
        _ = system("for n in \(a) \(b); do ip netns pids $n | xargs -r kill -9; ip netns del $n; done 2>/dev/null; rm -rf '\(dir)'")
    }
    let endpoint = "ipc://\(dir)/planner.sock"
    guard let planner = try? BenchPlanner(endpoint: endpoint) else { return report("vxlan: cannot bind the planner") }
    defer { planner.server.stop() }
    let agentA = BenchAgent(dir: dir, host: "ha", planner: endpoint, netns: a, extra: ["--data-address", "192.168.79.1", "--interface", "ua"])
    let agentB = BenchAgent(dir: dir, host: "hb", planner: endpoint, netns: b, extra: ["--data-address", "192.168.79.2", "--interface", "ub"])
    defer {
        agentA.stop()
        agentB.stop()
    }
    let t0 = nowSeconds()
    while !(planner.registered("ha") && planner.registered("hb")) && nowSeconds() < t0 + 20 { usleep(1000) }
    let src = "InfiniteSource(LENGTH 64, BURST 32) -> q :: Queue(4096) -> ToDevice(0); FromDevice(0) -> Discard;"
    let dst = "FromDevice(0) -> Discard;"
    func tunnel(_ remote: String, _ local: String) -> Clickos_V1_TunnelSpec {
        var t = Clickos_V1_TunnelSpec()
        t.vni = 4242
        t.remoteAddress = remote
        t.localEnd = local
        return t
    }
    var generation: UInt64 = 0
    var vxlan: [Double] = [], memif: [Double] = []
    func rate(_ agent: BenchAgent) -> Double {
        var page: StatsPage?
        usleep(1_000_000)
        var rates: [Double] = []
        for _ in 0..<3 {
            let c0 = agent.received("dst", page: &page), t0 = nowSeconds()
            usleep(1_000_000)
            rates.append(Double(agent.received("dst", page: &page) - c0) / (nowSeconds() - t0))
        }
        return median(rates)
    }
    for _ in 0..<runs {
        generation += 1
        _ = planner.push(desiredState("ha", generation, vms: [("src", src, 1)], links: [], tunnels: [tunnel("192.168.79.2", "vm:src:0")]), to: "ha")
        _ = planner.push(desiredState("hb", generation, vms: [("dst", dst, 1)], links: [], tunnels: [tunnel("192.168.79.1", "vm:dst:0")]), to: "hb")
        _ = planner.waitObserved("ha", generation)
        _ = planner.waitObserved("hb", generation)
        vxlan.append(rate(agentB))
        generation += 1
        _ = planner.push(desiredState("hb", generation, vms: [], links: []), to: "hb")
        _ = planner.push(desiredState("ha", generation, vms: [("src", src, 1), ("dst", dst, 1)], links: [("l", "vm:src:0", "vm:dst:0")]), to: "ha")
        _ = planner.waitObserved("ha", generation)
        memif.append(rate(agentA))
        generation += 1
        _ = planner.push(desiredState("ha", generation, vms: [], links: []), to: "ha")
        _ = planner.waitObserved("ha", generation)
    }
    report("vxlan: one hop between two host switches (AF_PACKET on veth, 64-byte frames): median \(f1(median(vxlan) / 1e6)) Mpps (\(vxlan.map { f2($0 / 1e6) }.joined(separator: ", ")))")
    report("vxlan: the same source and sink on one direct memif link: median \(f1(median(memif) / 1e6)) Mpps (\(memif.map { f2($0 / 1e6) }.joined(separator: ", "))); VXLAN/memif = \(f2(median(vxlan) / max(1, median(memif))))")
}
