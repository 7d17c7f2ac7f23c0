#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Messaging
import Synchronization

// The planner daemon's figures (issue 13): its CPU with 1,000 simulated agents sending a
// heartbeat and a 10-VM telemetry each per second, and the time from `apply` to the
// desired states reaching the agents' sockets. The planner is the release `clickos
// planner` process; the agents are real DEALER sockets in this process (1,000 hosts over
// 10 sockets: the planner keeps a peer per host either way).

func benchmarkPlannerDaemon() {
    let me = CommandLine.arguments[0]
    let dir = "/tmp/clickos-bench-planner-\(getpid())"
    _ = system("rm -rf '\(dir)' && mkdir -p '\(dir)'")
    defer { _ = system("rm -rf '\(dir)'") }
    let binary = String(me[..<(me.lastIndex(of: "/") ?? me.endIndex)]) + "/clickos"
    guard access(binary, X_OK) == 0 else {
        report("planner: skipped: \(binary) is not built (make bench builds it)")
        return
    }
    let endpoint = "ipc://\(dir)/planner.sock"
    var pid: pid_t = 0
    let argv = [binary, "planner", "--listen", endpoint, "--db", dir + "/planner.db", "--log-level", "warning"]
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    guard posix_spawn(&pid, binary, nil, nil, cArgs, environ) == 0 else {
        report("planner: cannot start \(binary)")
        return
    }
    defer {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
    let hostCount = 1000, socketCount = 10
    guard let clients = try? (0..<socketCount).map({ try MessageClient(endpoint: endpoint, sender: "bench-\($0)") }),
          let cli = try? MessageClient(endpoint: endpoint, sender: "cli:bench") else {
        report("planner: cannot connect")
        return
    }
    defer {
        for c in clients { c.close() }
        cli.close()
    }
    func client(_ host: Int) -> MessageClient { clients[host % socketCount] }
    func name(_ host: Int) -> String { "host\(host)" }
    for h in 0..<hostCount {
        var r = Clickos_V1_Register()
        r.hostName = name(h)
        r.cores = 16
        r.packetsPerCore = 2e6
        r.dataPlaneAddress = "10.9.\(h / 250).\(h % 250 + 1)"
        r.vmBackends = ["process"]
        client(h).send(.register(r))
    }
    // The agents' clock: a heartbeat per host per second from now on (and, once
    // `withTelemetry` is set, a 10-VM telemetry), spread over the second.
    let beating = Atomic<Bool>(true), withTelemetry = Atomic<Bool>(false), seconds = Atomic<Int>(0)
    // The generation each host last got, reported back as reached (as agents do).
    let generations = Mutex([UInt64](repeating: 0, count: hostCount))
    func take(_ c: MessageClient, _ seen: (Clickos_V1_HostDesiredState) -> Void = { _ in }) {
        for e in c.takeIncoming() {
            guard case .desiredState(let d) = e.payload, let h = Int(d.hostName.dropFirst(4)), h >= 0, h < hostCount else { continue }
            generations.withLock { $0[h] = max($0[h], d.generation) }
            seen(d)
        }
    }
    // Idle rates: every report is taken in and looked at, none moves a chain (a
    // re-plan's cost is the placement figures' business).
    let reports = (0..<hostCount).map { h in
        sampleTelemetry(host: name(h), vms: 10, pps: 0) { v in ("c\((h * 10 + v) % 2000)", ["fw", "nat", "lb"][v % 3]) }
    }
    let beater = Thread {
        var s = 0
        while beating.load(ordering: .relaxed) {
            let start = Date().timeIntervalSince1970
            let telemetry = withTelemetry.load(ordering: .relaxed)
            for h in 0..<hostCount {
                var hb = Clickos_V1_Heartbeat()
                hb.hostName = "host\(h)"
                hb.observedGeneration = generations.withLock { $0[h] }
                clients[h % socketCount].send(.heartbeat(hb))
                if telemetry {
                    var t = reports[h]
                    t.startUnixNs = UInt64(s) * 1_000_000_000
                    t.endUnixNs = t.startUnixNs + 1_000_000_000
                    clients[h % socketCount].send(.telemetry(t))
                }
                if h % 50 == 49 { usleep(useconds_t(max(0, (start + Double(h + 1) / Double(hostCount) - Date().timeIntervalSince1970) * 1e6))) }
            }
            s += 1
            if telemetry { seconds.add(1, ordering: .relaxed) }
            let left = start + 1 - Date().timeIntervalSince1970
            if left > 0 { usleep(useconds_t(left * 1e6)) }
        }
    }
    beater.start()
    defer {
        beating.store(false, ordering: .relaxed)
        while !beater.isFinished { usleep(1000) }
    }
    // A CLI request, synchronously.
    func call(_ p: Envelope.OneOf_Payload) -> Envelope? {
        let box = BenchReply()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = try? await cli.request(p, timeout: 10, retries: 0)
            done.signal()
        }
        done.wait()
        return box.value
    }
    func chain(_ name: String) -> Clickos_V1_ChainSpec {
        var c = Clickos_V1_ChainSpec()
        c.name = name
        c.declaredPps = 200_000
        c.ingress.interface = "eth1"
        c.ingress.address = "10.1.0.1/24"
        c.egress.interface = "eth2"
        c.egress.address = "10.2.0.1/24"
        c.functions = ["fw", "nat", "lb"].map { f in
            var s = Clickos_V1_FunctionSpec()
            s.name = f
            s.configuration = "FromDevice(0) -> Queue -> ToDevice(1); FromDevice(1) -> Queue -> ToDevice(0);"
            s.minInstances = 1
            s.maxInstances = 4
            return s
        }
        return c
    }
    // Wait for the registrations, then give the hosts work: 2,000 chains (6,000 VMs).
    for _ in 0..<100 {
        if case .listHostsReply(let r)? = call(.listHosts(Clickos_V1_ListHostsRequest()))?.payload, r.hosts.count == hostCount { break }
        usleep(100_000)
    }
    for c in 0..<2000 {
        var a = Clickos_V1_ApplyChainRequest()
        a.chain = chain("c\(c)")
        _ = call(.applyChain(a))
    }
    for c in clients { take(c) }

    // Apply -> desired state at the agents' sockets, for a 3-function chain.
    var samples: [Double] = []
    for k in 0..<21 {
        var a = Clickos_V1_ApplyChainRequest()
        let chainName = "probe\(k)"
        a.chain = chain(chainName)
        let start = Date().timeIntervalSince1970
        let box = BenchReply()
        Task { box.value = try? await cli.request(.applyChain(a), timeout: 10, retries: 0) }
        var seen = false
        while !seen && Date().timeIntervalSince1970 - start < 5 {
            for c in clients { take(c) { d in if d.vms.contains(where: { $0.chain == chainName }) { seen = true } } }
            if !seen { usleep(50) }
        }
        if k > 0 { samples.append((Date().timeIntervalSince1970 - start) * 1000) }
        usleep(50_000)
    }
    samples.sort()
    report("planner: apply of a 3-function chain -> its desired state at the agent's socket, 1,000 hosts, 2,000 chains placed: median \(format3(samples[samples.count / 2])) ms (min \(format3(samples[0])), max \(format3(samples[samples.count - 1])), \(samples.count) runs)")

    // Intake: a heartbeat and a 10-VM telemetry per host per second. Warm-up (the first
    // measured rates trigger one re-plan), then three 10-second windows.
    withTelemetry.store(true, ordering: .relaxed)
    func drain(until n: Int) {
        while seconds.load(ordering: .relaxed) < n {
            for c in clients { take(c) }
            usleep(50_000)
        }
    }
    drain(until: 8)
    var shares: [Double] = []
    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
    for w in 0..<3 {
        let ticks = cpuTicks(of: pid)
        let start = Date().timeIntervalSince1970
        drain(until: 8 + (w + 1) * 10)
        let elapsed = Date().timeIntervalSince1970 - start
        shares.append(Double(cpuTicks(of: pid) - ticks) / hz / elapsed * 100)
    }
    shares.sort()
    report("planner: CPU with 1,000 agents, a heartbeat and a 10-VM telemetry each per second: median \(format3(shares[1]))% of a core (windows of 10 s: \(shares.map(format3).joined(separator: ", ")))")
}

/// A reply handed from a request's task to the benchmark's thread.
final class BenchReply: Sendable {
    private let box = Mutex<Envelope?>(nil)
    var value: Envelope? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}
