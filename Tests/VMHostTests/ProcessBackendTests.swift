#if canImport(Glibc)
import Glibc
#endif
import ClickRuntime
import PacketIO
import VMInterface
import Testing

@testable import VMHost

/// Real `clickos-vm` processes booted by the process backend. As root (CI) they run in
/// their own namespaces as `nobody`, with cgroups; otherwise as plain children.
@Suite("process backend", .serialized, .timeLimit(.minutes(3)))
struct ProcessBackendTests {
    @Test func aVMBootsAnswersOnItsControlSocketAndStopsWithoutTrace() throws {
        let dir = scratchDirectory("control")
        let b = backend(dir)
        let vm = try b.boot(VMSpec(name: "ctl", configuration: "Idle -> c :: Counter -> Discard;\ns :: Script(TYPE PASSIVE, return 42);"))
        #expect(vm.state == .running)
        #expect(try b.read("ctl", handler: "c.count") == "0")
        #expect(try b.read("ctl", handler: "c.config") == "")
        #expect(try b.read("ctl", handler: "list").contains("c\n"))
        try b.write("ctl", handler: "c.reset", value: "")
        #expect(throws: VMError.self) { try b.read("ctl", handler: "nosuch.count") }
        do {
            _ = try b.read("ctl", handler: "nosuch.count")
        } catch {
            #expect(error.message.hasPrefix("510"), "Click's reply code for a missing element: \(error.message)")
        }
        // Click's protocol directly: CHECKREAD/CHECKWRITE and QUIT.
        let client = try ControlClient(path: vm.runDirectory + "/run/control.sock")
        #expect(try client.check("c.count", write: false))
        #expect(try !client.check("c.count", write: true))
        #expect(try client.command("LLRPC x").code == 501)
        #expect(try client.command("QUIT").code == 200)
        let page = try #require(b.statsPage("ctl"))
        #expect(page.state == .ready)
        try b.stop("ctl")
        #expect(access(vm.runDirectory, F_OK) != 0)
        #expect(kill(vm.pid, 0) != 0)
        if let cgroups = b.isolation.cgroups { #expect(!cgroups.exists(for: "ctl")) }
        removeTree(dir)
    }

    /// SIGTERM stops a saturated VM within a scheduler round, as it does an idle one: a
    /// source that never sleeps and a VM receiving at full rate from it both end with
    /// status 0 (graceful), not by the backend's SIGKILL fallback.
    @Test func busyVMsStopGracefullyOnSIGTERM() throws {
        let dir = scratchDirectory("busy")
        let b = backend(dir)
        defer {
            for name in ["busy-sink", "busy-source"] { try? b.stop(name, timeout: 0.5) }
            removeTree(dir)
        }
        // Polling ports: neither VM ever sleeps, however the two share the CPUs.
        var sinkPort = MemifConfiguration(role: .server, socketPath: dir + "/busy.sock")
        sinkPort.polling = true
        var sourcePort = MemifConfiguration(role: .client, socketPath: dir + "/busy.sock")
        sourcePort.polling = true
        var sink = VMSpec(name: "busy-sink", configuration: "FromDevice(0) -> c :: Counter -> Discard;")
        sink.ports = [0: sinkPort]
        var source = VMSpec(name: "busy-source", configuration: "InfiniteSource(LENGTH 64) -> ToDevice(0);")
        source.ports = [0: sourcePort]
        let sinkVM = try b.boot(sink)
        let sourceVM = try b.boot(source)
        var received = 0
        // Up to 10 s: under a loaded CI the two debug VMs share two cores with other tests.
        for _ in 0..<2000 where received < 100_000 {
            usleep(5000)
            received = Int(b.counters("busy-sink").first?.receivedPackets ?? 0)
        }
        #expect(received >= 100_000, "traffic flows before the stop: \(received)")
        for vm in [sinkVM, sourceVM] {
            let started = Self.now()
            kill(vm.pid, SIGTERM)
            var ended: [(name: String, exit: VMExit)] = []
            while ended.isEmpty && Self.now() - started < 3 {
                usleep(1000)
                ended = b.reap()
            }
            #expect(ended.first?.exit.status == 0 && ended.first?.exit.signal == nil, "\(vm.name): \(ended)")
            print("\(vm.name) stopped \(Int((Self.now() - started) * 1000)) ms after SIGTERM")
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    @Test func aBadConfigurationFailsTheBootWithClicksTextAndLeavesNothing() throws {
        let dir = scratchDirectory("bad")
        let b = backend(dir)
        var spec = VMSpec(name: "bad", configuration: "FromDevice(0) -> x :: Foo -> ToDevice(1);")
        spec.ports = [0: MemifConfiguration(role: .server, socketPath: dir + "/bad0.sock"),
                      1: MemifConfiguration(role: .server, socketPath: dir + "/bad1.sock")]
        do {
            _ = try b.boot(spec)
            Issue.record("the boot should have failed")
        } catch {
            #expect(error.message.contains("config.click:1: unknown element class 'Foo'"), "\(error.message)")
        }
        #expect(access(dir + "/run/vms/bad", F_OK) != 0)
        #expect(access(dir + "/bad0.sock", F_OK) != 0 && access(dir + "/bad1.sock", F_OK) != 0)
        if let cgroups = b.isolation.cgroups { #expect(!cgroups.exists(for: "bad")) }
        #expect(b.vms.isEmpty)
        // A syntax error says where.
        do {
            _ = try b.boot(VMSpec(name: "bad2", configuration: "Idle -> \n -> Discard;"))
            Issue.record("the boot should have failed")
        } catch {
            #expect(error.message.contains("config.click:2:"), "\(error.message)")
        }
        // A configuration that parses but cannot initialize: Click's closing line.
        do {
            _ = try b.boot(VMSpec(name: "bad4", configuration: "FromDevice(7) -> Discard;"))
            Issue.record("the boot should have failed")
        } catch {
            #expect(error.message.contains("VM port 7"), "\(error.message)")
            #expect(error.message.contains("Router could not be initialized!"))
        }
        #expect(access(dir + "/run/vms/bad4", F_OK) != 0)
        // A bad port specification too.
        var bad3 = VMSpec(name: "bad3", configuration: "Idle -> Discard;")
        bad3.ports = [0: MemifConfiguration(role: .client, socketPath: "")]
        #expect(throws: VMError.self) { try b.boot(bad3) }
        #expect(throws: VMError.self) { try b.boot(VMSpec(name: "../escape", configuration: "Idle -> Discard;")) }
        removeTree(dir)
    }

    @Test func aKilledVMIsReportedWithItsLastWords() throws {
        let dir = scratchDirectory("kill")
        let b = backend(dir)
        let vm = try b.boot(VMSpec(name: "victim", configuration: "Message(\"about to be killed\"); Idle -> Discard;"))
        #expect(b.reap().isEmpty)
        kill(vm.pid, SIGKILL)
        var ended: [(name: String, exit: VMExit)] = []
        for _ in 0..<500 where ended.isEmpty {
            ended = b.reap()
            usleep(2000)
        }
        #expect(ended.count == 1)
        #expect(ended.first?.name == "victim")
        #expect(ended.first?.exit.signal == SIGKILL)
        #expect(ended.first?.exit.lastErrors.contains { $0.contains("about to be killed") } == true)
        #expect(ended.first?.exit.description.contains("SIGKILL") == true)
        #expect(b.reap().isEmpty, "an exit is reported once")
        try b.stop("victim")
        removeTree(dir)
    }

    @Test func anotherBackendAdoptsARunningVM() throws {
        let dir = scratchDirectory("adopt")
        let first = backend(dir)
        let vm = try first.boot(VMSpec(name: "orphan", configuration: "Idle -> c :: Counter -> Discard;"))
        // A new backend over the same directory (an agent restarted) finds it and
        // controls it, reads its stats page, and notices when it dies.
        let second = backend(dir)
        let adopted = second.adopt()
        #expect(adopted.map(\.name) == ["orphan"])
        #expect(adopted.first?.pid == vm.pid && adopted.first?.bootedHere == false)
        #expect(try second.read("orphan", handler: "c.count") == "0")
        #expect(second.statsPage("orphan")?.state == .ready)
        kill(vm.pid, SIGKILL)
        var ended: [(name: String, exit: VMExit)] = []
        for _ in 0..<500 where ended.isEmpty {
            ended = second.reap()
            usleep(2000)
        }
        #expect(ended.first?.name == "orphan")
        #expect(ended.first?.exit.status == nil && ended.first?.exit.signal == nil)
        _ = first.reap()
        try second.stop("orphan")
        removeTree(dir)
    }

    @Test func aVMOutlivesTheProcessThatBootedItAndIsAdopted() throws {
        let dir = scratchDirectory("outlive")
        let config = dir + "/idle.click"
        _ = writeText(config, "Idle -> c :: Counter -> Discard;")
        let cli = vmExecutable.replacingSuffix("clickos-vm", with: "clickos")
        // `clickos vm boot` boots the VM and exits.
        let status = system("'\(cli)' vm boot lasting '\(config)' --run-dir '\(dir)/run' > '\(dir)/boot.out' 2>&1")
        #expect(status == 0, "\(readText(dir + "/boot.out") ?? "")")
        let b = backend(dir)
        let found = b.adopt()
        #expect(found.map(\.name) == ["lasting"])
        #expect(found.first?.state == .running)
        #expect(try b.read("lasting", handler: "c.count") == "0")
        // And `clickos vm list` (another process) sees it too.
        _ = system("'\(cli)' vm list --json --run-dir '\(dir)/run' > '\(dir)/list.out' 2>&1")
        #expect(readText(dir + "/list.out")?.contains("\"name\":\"lasting\"") == true)
        try b.stop("lasting")
        // Gone, or a zombie waiting for init (its booter is gone, so init reaps it).
        #expect(found.first.map { !isRunning($0.pid) } == true)
        removeTree(dir)
    }

    @Test func aVMHasNoNetworkOfItsOwn() throws {
        let dir = scratchDirectory("isolated")
        let b = backend(dir)
        guard b.isolation.namespaces else {
            // Namespaces need root; CI runs as root.
            print("skipped: namespaces need root (\(b.isolation.summary))")
            return
        }
        let vm = try b.boot(VMSpec(name: "island", configuration: "Idle -> Discard;"))
        let devices = readText("/proc/\(vm.pid)/net/dev") ?? ""
        let names = devices.split(separator: "\n").dropFirst(2).map { String($0.split(separator: ":")[0].filter { $0 != " " }) }
        #expect(names == ["lo"], "a VM's network namespace has only a loopback: \(names)")
        func link(_ path: String) -> [CChar] {
            var buffer = [CChar](repeating: 0, count: 256)
            let n = readlink(path, &buffer, 255)
            return Array(buffer.prefix(max(0, n)))
        }
        #expect(link("/proc/self/ns/net") != link("/proc/\(vm.pid)/ns/net"))
        // Each VM has a namespace of its own (the backend makes the next one ahead of time,
        // never shares one).
        let neighbour = try b.boot(VMSpec(name: "neighbour", configuration: "Idle -> Discard;"))
        #expect(link("/proc/\(neighbour.pid)/ns/net") != link("/proc/\(vm.pid)/ns/net"))
        #expect(link("/proc/\(neighbour.pid)/ns/net") != link("/proc/self/ns/net"))
        try b.stop("neighbour")
        // Its user is not root, and it is PID 1 of its own PID namespace.
        let status = readText("/proc/\(vm.pid)/status") ?? ""
        #expect(status.contains("Uid:\t2000"), "runs as a user of the jail's range: \(status)")
        #expect(status.contains("NSpid:\t\(vm.pid)\t1\n"), "PID 1 in its own PID namespace")
        #expect(link("/proc/self/ns/mnt") != link("/proc/\(vm.pid)/ns/mnt"), "its own mount namespace")
        // Its /proc is its PID namespace's: process 1 there is the VM itself, and the
        // host's processes (this test's among them) are not in it.
        #expect(readText("/proc/\(vm.pid)/root/proc/1/comm") == "clickos-vm\n")
        #expect(access("/proc/\(vm.pid)/root/proc/\(getpid())", F_OK) != 0 || getpid() == 1)
        try b.stop("island")
        // SIGTERM ends an idle VM gracefully, whenever it comes: right after boot (as PID 1
        // of its namespace it would ignore a signal it had no handler for yet) and while it
        // goes to sleep (a signal between its look at the stop flag and the sleep was lost
        // once, and the VM ran on until the SIGKILL fallback).
        for round in 0..<8 {
            let quick = try b.boot(VMSpec(name: "quick\(round)", configuration: "Idle -> Discard;"))
            if round % 2 == 1 { usleep(UInt32(200 * round)) }
            kill(quick.pid, SIGTERM)
            var ended: [(name: String, exit: VMExit)] = []
            for _ in 0..<1500 where ended.isEmpty {
                ended = b.reap()
                usleep(1000)
            }
            #expect(ended.first?.exit.status == 0 && ended.first?.exit.signal == nil, "round \(round): \(ended)")
            try b.stop("quick\(round)")
        }
        // Limits land in its cgroups.
        if let cgroups = b.isolation.cgroups, cgroups.version == 1 {
            var limited = VMSpec(name: "limited", configuration: "Idle -> Discard;")
            limited.memoryLimit = 64 << 20
            limited.cpuLimit = 0.5
            let l = try b.boot(limited)
            #expect(readText(cgroups.memoryRoot + "/limited/memory.limit_in_bytes") == "\(64 << 20)\n")
            #expect(readText(cgroups.cpuRoot + "/limited/cpu.cfs_quota_us") == "50000\n")
            #expect(readText(cgroups.memoryRoot + "/limited/cgroup.procs")?.contains("\(l.pid)") == true)
            try b.stop("limited")
            #expect(!cgroups.exists(for: "limited"))
        }
        // A host interface is out of its reach.
        do {
            _ = try b.boot(VMSpec(name: "reach", configuration: "FromDevice(eth0) -> Discard;"))
            Issue.record("a VM must not open a host interface")
        } catch {
            #expect(error.message.contains("eth0"), "\(error.message)")
        }
        removeTree(dir)
    }
}


extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}

/// True while `pid` runs (not gone, not a zombie).
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}
