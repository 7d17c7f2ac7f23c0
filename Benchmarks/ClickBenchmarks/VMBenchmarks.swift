#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickRuntime
import PacketIO
import VMInterface
import VMHost

// The VM figures of issue 4: memif links between VM processes, chains of VMs, boot time,
// idle memory, density and per-hop latency. Real `clickos-vm` processes booted by the
// process backend (namespaces, nobody, cgroups when run as root).

/// The release `clickos-vm` next to this benchmark.
func siblingVM() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let me = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    return String(me[..<(me.lastIndex(of: "/") ?? me.endIndex)]) + "/clickos-vm"
}

func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[s.count / 2]
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * p))]
}

func f1(_ x: Double) -> String { String((x * 10).rounded() / 10) }
func f2(_ x: Double) -> String { String((x * 100).rounded() / 100) }

/// A scratch area for one benchmark: run directory and sockets.
final class VMBench {
    let dir: String
    let backend: ProcessBackend

    init(_ name: String, isolation: Isolation = .detect()) {
        dir = "/tmp/clickos-bench-\(getpid())-\(name)"
        _ = system("rm -rf '\(dir)'")
        mkdir(dir, 0o777)
        chmod(dir, 0o777)
        backend = ProcessBackend(root: dir + "/run", executable: siblingVM(), isolation: isolation)
        backend.bootTimeout = 30
    }

    func socket(_ name: String) -> String { dir + "/" + name + ".sock" }

    func boot(_ name: String, _ config: String, ports: [Int: MemifConfiguration] = [:], buffers: Int = 16_384, cpus: [Int]? = nil) -> VMInfo {
        var spec = VMSpec(name: name, configuration: config)
        spec.ports = ports
        spec.packetBuffers = buffers
        spec.cpus = cpus
        do {
            return try backend.boot(spec)
        } catch {
            report("boot \(name) failed: \(error.message)")
            exit(1)
        }
    }

    /// Packets per second received on `port` of `vm`, median over `windows` one-second
    /// windows after a one-second warm-up.
    func receiveRate(_ vm: String, port: Int = 0, windows: Int = 5) -> [Double] {
        func count() -> UInt64 { backend.counters(vm).first { $0.port == port }?.receivedPackets ?? 0 }
        usleep(1_000_000)
        var rates: [Double] = []
        for _ in 0..<windows {
            let c0 = count(), t0 = nowSeconds()
            usleep(1_000_000)
            rates.append(Double(count() - c0) / (nowSeconds() - t0))
        }
        return rates
    }

    func stopAll() {
        for vm in backend.vms { try? backend.stop(vm.name, timeout: 3) }
        _ = system("rm -rf '\(dir)'")
    }
}

let forwarder = "FromDevice(0) -> q :: Queue(1024) -> ToDevice(1);"
let source = "InfiniteSource(LENGTH 64, BURST 64) -> q :: Queue(4096) -> ToDevice(0);"
let sink = "FromDevice(0) -> c :: Counter -> Discard;"

func client(_ path: String) -> MemifConfiguration { MemifConfiguration(role: .client, socketPath: path) }
func server(_ path: String) -> MemifConfiguration { MemifConfiguration(role: .server, socketPath: path) }

/// The `memif` group. The host moves this guest's two vCPUs between sharing a core's
/// caches and not (see `cacheLineRoundTrip`), and a link between them runs about three
/// times slower in the far placement; each run prints the placement measured just before
/// it, and the summary gives the medians of each placement seen.
func benchmarkMemifLinks(runs: Int = 3) {
    for (label, senderRole) in [("client -> server", MemifConfiguration.Role.client), ("server -> client", .server)] {
        var near: [Double] = [], far: [Double] = []
        for run in 1...runs {
            let roundTrip = cacheLineRoundTrip()
            let b = VMBench("memif")
            let path = b.socket("link")
            let senderPort = senderRole == .client ? client(path) : server(path)
            let receiverPort = senderRole == .client ? server(path) : client(path)
            // One core each, as DPDK's own pair is measured.
            if senderRole == .server {
                _ = b.boot("tx", source, ports: [0: senderPort], cpus: [0])
                _ = b.boot("rx", sink, ports: [0: receiverPort], cpus: [1])
            } else {
                _ = b.boot("rx", sink, ports: [0: receiverPort], cpus: [1])
                _ = b.boot("tx", source, ports: [0: senderPort], cpus: [0])
            }
            let rates = b.receiveRate("rx")
            b.stopAll()
            let after = cacheLineRoundTrip()
            report("memif link between two VM processes, 64 B, \(label), run \(run): median \(f2(median(rates) / 1e6)) Mpps (min \(f2((rates.min() ?? 0) / 1e6)), max \(f2((rates.max() ?? 0) / 1e6)), \(rates.count) one-second windows); vCPUs before: \(placement(roundTrip)), after: \(placement(after))")
            // A run counts for a placement only when the vCPUs were there before and after.
            if roundTrip < 150 && after < 150 { near.append(median(rates)) }
            if roundTrip >= 150 && after >= 150 { far.append(median(rates)) }
        }
        let nearText = near.isEmpty ? "no run" : "\(f2(median(near) / 1e6)) Mpps (\(near.count) run\(near.count == 1 ? "" : "s"))"
        let farText = far.isEmpty ? "no run" : "\(f2(median(far) / 1e6)) Mpps (\(far.count) run\(far.count == 1 ? "" : "s"))"
        report("memif link, \(label): vCPUs near: \(nearText); far: \(farText)")
    }
}

/// The `chain` group.
func benchmarkChains() {
    report("chains: vCPUs \(placement(cacheLineRoundTrip())) at the start")
    for n in [1, 2, 4, 8] {
        for offered in [0, 1_000_000] {
            let b = VMBench("chain")
            let gen = offered == 0 ? source : "RatedSource(LENGTH 64, RATE \(offered), LIMIT -1) -> q :: Queue(4096) -> ToDevice(0);"
            _ = b.boot("sink", sink, ports: [0: server(b.socket("l\(n)"))])
            for k in stride(from: n, through: 1, by: -1) {
                _ = b.boot("f\(k)", forwarder, ports: [0: server(b.socket("l\(k - 1)")), 1: client(b.socket("l\(k)"))])
            }
            _ = b.boot("gen", gen, ports: [0: client(b.socket("l0"))])
            let rates = b.receiveRate("sink", windows: 3)
            let what = offered == 0 ? "as fast as it goes" : "offered \(offered / 1_000_000) Mpps"
            report("chain of \(n) forwarding VM\(n == 1 ? "" : "s") (+ source and sink VMs), 64 B, \(what): median \(f2(median(rates) / 1e6)) Mpps delivered (min \(f2((rates.min() ?? 0) / 1e6)))")
            b.stopAll()
        }
    }
}

/// The `boot` group.
func benchmarkBoot() {
    let full = Isolation.detect()
    var noSeccomp = full.jail
    noSeccomp?.seccomp = false
    let variants = [full, Isolation(namespaces: full.namespaces, jail: full.jail, cgroups: nil),
                    Isolation(namespaces: full.namespaces, jail: noSeccomp, cgroups: nil),
                    Isolation(namespaces: full.namespaces, jail: nil, cgroups: nil), .none]
    for isolation in variants where isolation == .none || isolation.namespaces {
        let b = VMBench("boot", isolation: isolation)
        let edges = MemifPortSet()
        let pool = PacketPool(capacity: 1024)
        let storage = BatchStorage()
        _ = try? edges.add(server(b.socket("in")), number: 0)
        _ = try? edges.add(server(b.socket("out")), number: 1)
        let frame = [UInt8](repeating: 0xAB, count: 64)
        var toReady: [Double] = []
        var toPacket: [Double] = []
        var toSpawn: [Double] = []
        for i in 0..<23 {
            let t0 = nowSeconds()
            let vm = b.boot("b\(i)", "FromDevice(0) -> ToDevice(1);", ports: [0: client(b.socket("in")), 1: client(b.socket("out"))], buffers: 256)
            let tReady = nowSeconds()
            let spawnMicroseconds = Double(b.backend.lastSpawnMicroseconds)
            var sent = false
            var arrived = false
            while !arrived && nowSeconds() - t0 < 5 {
                edges.poll(timeout: 0)
                if !sent, let inPort = edges.memifPort(0), inPort.isConnected, edges.memifPort(1)?.isConnected == true {
                    var batch = storage.batch()
                    batch.append(pool.make(frame)!)
                    sent = inPort.transmit(batch, from: 0) == 1
                    batch.killAll()
                }
                if let outPort = edges.memifPort(1) {
                    var batch = storage.batch()
                    if outPort.receive(into: &batch, pool: pool) > 0 { arrived = true }
                    batch.killAll()
                }
            }
            let t1 = nowSeconds()
            if i >= 3 {  // the first boots warm the page cache
                toReady.append((tReady - t0) * 1000)
                toPacket.append((t1 - t0) * 1000)
                toSpawn.append(spawnMicroseconds / 1000)
            }
            try? b.backend.stop(vm.name, timeout: 2)
            // Wait until the edges see the VM gone, so the next one connects afresh.
            while (edges.memifPort(0)?.isConnected ?? false) || (edges.memifPort(1)?.isConnected ?? false) { edges.poll(timeout: 1) }
        }
        let how = !isolation.namespaces ? "as a plain child process"
            : isolation.jail == nil ? "in new namespaces, no jail, no cgroups"
            : isolation.jail?.seccomp == false ? "in new namespaces and its jail without seccomp, no cgroups"
            : isolation.cgroups == nil ? "in new namespaces and its jail, no cgroups" : "in new namespaces and its jail, with cgroups"
        report("VM boot \(how), spawn to ready: p50 \(f2(median(toReady))) ms (min \(f2(toReady.min() ?? 0)), p90 \(f2(percentile(toReady, 0.9))), \(toReady.count) boots)")
        report("VM boot \(how), spawn to first forwarded packet: p50 \(f2(median(toPacket))) ms (min \(f2(toPacket.min() ?? 0)), p90 \(f2(percentile(toPacket, 0.9))))")
        report("VM boot \(how), clone to exec (namespaces, cgroups, jail): p50 \(f2(median(toSpawn))) ms (min \(f2(toSpawn.min() ?? 0)))")
        edges.close()
        b.stopAll()
    }
}

/// Pss_Anon, Private_Dirty, Private_Clean and Rss of a process, in kB, from smaps_rollup.
func memory(of pid: Int32) -> [String: Int] {
    guard let f = fopen("/proc/\(pid)/smaps_rollup", "r") else { return [:] }
    defer { fclose(f) }
    var out: [String: Int] = [:]
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let parts = text.split(separator: " ")
        if parts.count >= 2, let v = Int(parts[1]) { out[String(parts[0].dropLast())] = v }
    }
    return out
}

/// utime + stime of a process, in clock ticks.
func cpuTicks(of pid: Int32) -> Int {
    guard let f = fopen("/proc/\(pid)/stat", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 1024)
    guard fgets(&line, 1024, f) != nil else { return 0 }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return 0 }
    let fields = text[text.index(after: close)...].split(separator: " ")
    return fields.count > 12 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
}

/// The `memory` group.
func benchmarkMemory() {
    let b = VMBench("memory")
    // An idle forwarding VM with both ports up, between two links to an idle peer.
    let vm = b.boot("idle", "FromDevice(0) -> q0 :: Queue(1024) -> ToDevice(1); FromDevice(1) -> q1 :: Queue(1024) -> ToDevice(0);",
                    ports: [0: server(b.socket("a")), 1: server(b.socket("b"))])
    let peer = b.boot("peer", "FromDevice(0) -> ToDevice(1); FromDevice(1) -> ToDevice(0);",
                      ports: [0: client(b.socket("a")), 1: client(b.socket("b"))])
    usleep(500_000)
    for (name, info) in [("idle VM with two memif ports up (server role) and a 16,384-packet pool", vm), ("idle VM with two memif ports up (client role: it allocates the shared memory)", peer)] {
        let m = memory(of: info.pid)
        report("private memory of an \(name): Pss_Anon \(m["Pss_Anon"] ?? -1) kB, Private_Dirty \(m["Private_Dirty"] ?? -1) kB, Rss \(m["Rss"] ?? -1) kB, Pss \(m["Pss"] ?? -1) kB, Pss_Shmem \(m["Pss_Shmem"] ?? -1) kB")
    }
    b.stopAll()
}

/// The `density` group.
func benchmarkDensity() {
    let count = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 1000 : 1000
    let b = VMBench("density")
    let t0 = nowSeconds()
    var pids: [Int32] = []
    for i in 0..<count {
        let vm = b.boot("d\(i)", "FromDevice(0) -> c :: Counter -> ToDevice(0);", ports: [0: server(b.socket("d\(i)"))], buffers: 512)
        pids.append(vm.pid)
    }
    let booted = nowSeconds() - t0
    usleep(1_000_000)
    let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    let before = pids.map(cpuTicks)
    let w0 = nowSeconds()
    usleep(5_000_000)
    let window = nowSeconds() - w0
    let after = pids.map(cpuTicks)
    let cpu = Double(zip(before, after).map { $1 - $0 }.reduce(0, +)) / ticksPerSecond / window
    let pss = pids.map { memory(of: $0)["Pss"] ?? 0 }.reduce(0, +)
    let anon = pids.map { memory(of: $0)["Pss_Anon"] ?? 0 }.reduce(0, +)
    var load = [Double](repeating: 0, count: 3)
    getloadavg(&load, 3)
    report("\(count) idle VMs on this host at once (one memif port each): booted in \(f1(booted)) s (\(f2(booted / Double(count) * 1000)) ms each, one after another); total CPU over \(f1(window)) s: \(f2(cpu * 100)) % of one core; total Pss \(pss / 1024) MB (Pss_Anon \(anon / 1024) MB)")
    let s0 = nowSeconds()
    b.stopAll()
    report("  stopping all \(count): \(f1(nowSeconds() - s0)) s")
}

/// The `latency` group.
func benchmarkLatency() {
    // The platform's floor first: an eventfd round trip to a thread asleep on the other
    // vCPU, with the same 1 ms of quiet between packets, and with none (the sleeper
    // barely gets to sleep).
    report("floor: eventfd round trip to a thread asleep on the other vCPU, 1 ms apart: p50 \(f1(idleWakeRoundTrip())) us; back to back: p50 \(f1(idleWakeRoundTrip(gapMicroseconds: 0))) us")
    for (hops, polling) in [(1, false), (3, false), (1, true)] {
        let b = VMBench("latency", isolation: getenv("BENCH_NO_ISOLATION") != nil ? .none : .detect())
        let edges = MemifPortSet()
        let pool = PacketPool(capacity: 1024)
        let storage = BatchStorage()
        _ = try? edges.add(server(b.socket("h0")), number: 0)
        _ = try? edges.add(server(b.socket("h\(hops)")), number: 1)
        for k in 1...hops {
            let inPath = b.socket("h\(k - 1)"), outPath = b.socket("h\(k)")
            var ports: [Int: MemifConfiguration] = [0: client(inPath), 1: k == hops ? client(outPath) : server(outPath)]
            if polling {
                ports[0]?.polling = true
                ports[1]?.polling = true
            }
            // The VMs on CPU 1, this measuring process (which spins) on CPU 0: sharing a
            // core with a spinner would measure the kernel's time slices instead.
            _ = b.boot("hop\(k)", "FromDevice(0) -> ToDevice(1);", ports: ports, buffers: 256, cpus: [1])
        }
        _ = clickos_pin_thread(0)
        while !(edges.memifPort(0)?.isConnected ?? false) || !(edges.memifPort(1)?.isConnected ?? false) { edges.poll(timeout: 1) }
        usleep(200_000)
        var samples: [Double] = []
        let frame = [UInt8](repeating: 0x5A, count: 64)
        for i in 0..<2200 {
            var batch = storage.batch()
            batch.append(pool.make(frame)!)
            let t0 = nowSeconds()
            _ = edges.memifPort(0)!.transmit(batch, from: 0)
            batch.killAll()
            var got = false
            while !got && nowSeconds() - t0 < 1 {
                var rx = storage.batch()
                got = edges.memifPort(1)!.receive(into: &rx, pool: pool) > 0
                rx.killAll()
            }
            if i >= 200 { samples.append((nowSeconds() - t0) * 1e6) }
            usleep(1000)  // light load: 1,000 packets a second, the VMs sleep in between
        }
        let mode = polling ? "ports in poll mode (VMs spin)" : "interrupt mode, VMs asleep in between"
        report("latency through \(hops) VM\(hops == 1 ? "" : "s") (one packet per ms, \(mode)), 64 B: p50 \(f1(median(samples))) us, p99 \(f1(percentile(samples, 0.99))) us; per VM p50 \(f1(median(samples) / Double(hops))) us")
        edges.close()
        b.stopAll()
    }
}
