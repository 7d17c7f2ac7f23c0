import Testing

#if Xen
import Foundation
import Logging
import Messaging
import Synchronization
import VMHost
import VMInterface
import XenstoreTestDaemon

@testable import Agent

/// A stand-in for the hypervisor (none runs on these machines): a domain is a
/// `clickos-vm --xenstore` process in a network namespace of its own, talking to the tests'
/// xenstore daemon through the domain's socket (its rights, its relative paths), and its
/// vifs are veth pairs whose host ends carry the names the backend asks for, as netback's
/// would. Everything above it (the xen backend, the agent, the switch, the guest) is the
/// real code. A guest that dies is a domain gone, as with `on_crash = destroy`.
final class NamespaceDomains: XenDomainBuilder, @unchecked Sendable {
    struct Domain {
        var name: String
        var process: Process
        var namespace: String
    }
    let daemon: TestXenstored
    let store: XenstoreConnection
    let executable: String
    let ids: [UInt32]
    /// Guarded: the agent's thread creates and destroys, the test's looks.
    let running = Mutex<[UInt32: Domain]>([:])
    /// Domains created so far.
    let created = Atomic<Int>(0)

    init(daemon: TestXenstored, ids: [UInt32], executable: String) throws {
        self.daemon = daemon
        self.ids = ids
        self.executable = executable
        store = try XenstoreConnection(socketPath: daemon.socketPath)
    }

    func create(name: String, spec: VMSpec, interfaces: [String]) throws(VMError) -> UInt32 {
        guard let domid = ids.first(where: { id in running.withLock { $0[id] == nil } }) else { throw VMError("stand-in: every domain id is taken") }
        let ns = "cxg\(getpid())-\(domid)"
        shell("ip netns del \(ns) 2>/dev/null; ip netns add \(ns)")
        var guestPorts: [String] = []
        for (i, vif) in interfaces.enumerated() {
            // IPv6 off before the links come up: no router solicitations in the chain.
            shell("""
                ip link add \(vif) type veth peer name p\(i) netns \(ns) && echo 1 > /proc/sys/net/ipv6/conf/\(vif)/disable_ipv6 && \
                ip link set \(vif) up && ip netns exec \(ns) sh -c 'echo 1 > /proc/sys/net/ipv6/conf/p\(i)/disable_ipv6; ip link set p\(i) up'
                """)
            guestPorts.append("p\(i)")
        }
        do throws(XenstoreError) {
            try store.write("/local/domain/\(domid)/name", name)
            // Where libxl records each vif's name, for a toolstack that adopts the domain.
            for (i, vif) in interfaces.enumerated() { try store.write("/local/domain/0/backend/vif/\(domid)/\(i)/vifname", vif) }
        } catch {
            throw VMError(error.description)
        }
        created.add(1, ordering: .relaxed)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        p.arguments = ["netns", "exec", ns, executable, "--xenstore"] + (guestPorts.isEmpty ? [] : ["--interfaces", guestPorts.joined(separator: ",")])
        p.environment = ["XENSTORED_PATH": daemon.socketPath(domain: domid), "PATH": "/usr/sbin:/usr/bin:/bin"]
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do { try p.run() } catch { throw VMError("stand-in: \(error)") }
        running.withLock { $0[domid] = Domain(name: name, process: p, namespace: ns) }
        return domid
    }

    func destroy(_ domid: UInt32) throws(VMError) {
        guard let d = running.withLock({ $0.removeValue(forKey: domid) }) else { throw VMError("stand-in: no domain \(domid)") }
        // SIGKILL: children of the test runner's threads inherit a blocked SIGTERM.
        if d.process.isRunning { kill(d.process.processIdentifier, SIGKILL) }
        d.process.waitUntilExit()
        shell("ip netns del \(d.namespace) 2>/dev/null")
        try? store.remove("/local/domain/\(domid)/data/clickos")
        try? store.remove("/local/domain/0/backend/vif/\(domid)")
        try? store.write("/local/domain/\(domid)/name", "")
    }

    func domains() -> [(domid: UInt32, name: String)] {
        let dead = running.withLock { $0.filter { !$0.value.process.isRunning }.map(\.key) }
        for id in dead { try? destroy(id) }
        return running.withLock { $0.map { ($0.key, $0.value.name) }.sorted { $0.0 < $1.0 } }
    }

    /// The guest process's user and system time (all its threads).
    func cpuNanoseconds(_ domid: UInt32) -> UInt64? {
        guard let pid = running.withLock({ $0[domid]?.process.processIdentifier }),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return (user + system) * 1_000_000_000 / UInt64(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The guest process's resident memory.
    func memoryBytes(_ domid: UInt32) -> UInt64? {
        guard let pid = running.withLock({ $0[domid]?.process.processIdentifier }),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return (UInt64(line.filter(\.isNumber)) ?? 0) * 1024
    }

    func destroyAll() {
        for id in running.withLock({ Array($0.keys) }) { try? destroy(id) }
    }
}

/// An agent in this process on a thread of its own (its xen backend is made there: the
/// backend is not Sendable); `stop` is the agent's own, safe from any thread.
final class AgentThread: @unchecked Sendable {
    /// Written once on the agent's thread before `started` is set, read after.
    private var agent: Agent?
    private let started = Atomic<Bool>(false)
    private let failure = Mutex<String?>(nil)
    private let done = Atomic<Bool>(false)

    init(_ make: @escaping @Sendable () throws -> Agent) {
        Thread { [self] in
            do {
                let a = try make()
                agent = a
                started.store(true, ordering: .releasing)
                a.run()
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            done.store(true, ordering: .releasing)
        }.start()
    }

    var error: String? { failure.withLock { $0 } }

    func stop() {
        eventually(10) { started.load(ordering: .acquiring) || done.load(ordering: .acquiring) }
        if started.load(ordering: .acquiring) { agent?.stop() }
        eventually(10) { done.load(ordering: .acquiring) }
    }
}

/// The agent offering the xen backend: a chain whose middle two functions are Xen guests
/// (the stand-in above) between two process VMs. The host switch patches memif to vif and
/// vif to vif; frames cross all four; the guests' configurations are replaced through
/// xenstore, a bad one changes nothing, and a guest no longer wanted is destroyed.
@Suite("Xen agent", .serialized, .timeLimit(.minutes(5)))
struct XenAgentTests {
    static let fw = "FromDevice(0) -> cl :: Classifier(12/0800, -) -> c :: Counter -> Queue(1024) -> ToDevice(1);\ncl[1] -> Discard;\nFromDevice(1) -> Discard;"
    static let fw2 = "// version 2\n" + fw
    static let mon = "FromDevice(0) -> cl :: Classifier(12/0800, -) -> c :: Counter -> Queue(1024) -> ToDevice(1);\ncl[1] -> Discard;\nFromDevice(1) -> Discard;"
    static let sink = "FromDevice(0) -> cl :: Classifier(12/0800, -) -> c :: Counter -> Discard;\ncl[1] -> Discard;"

    static func chain(_ generation: UInt64, fw: String = fw, total: Int = 3000) -> Clickos_V1_HostDesiredState {
        var f = Desired.vm("fw", fw, ports: 2)
        f.backend = "xen"
        var m = Desired.vm("mon", mon, ports: 2)
        m.backend = "xen"
        return Desired.state("x1", generation, vms: [Desired.vm("src", AgentLifecycleTests.source(rate: 1500, total: total), ports: 1), f, m,
                                                     Desired.vm("sink", sink, ports: 1)],
                             links: [Desired.link("src-fw", "vm:src:0", "vm:fw:0"), Desired.link("fw-mon", "vm:fw:1", "vm:mon:0"),
                                     Desired.link("mon-sink", "vm:mon:1", "vm:sink:0")])
    }

    @Test func aChainRunsThroughXenGuests() throws {
        try #require(isRoot, "needs root: the stand-in's guests live in network namespaces with veth vifs, and the switch opens them with AF_PACKET")
        let dir = scratch("xen")
        let daemon = try TestXenstored(guests: [1, 2, 3])
        let domains = try NamespaceDomains(daemon: daemon, ids: [1, 2, 3], executable: buildDirectory + "/clickos-vm")
        let planner = try ScriptedPlanner(endpoint: "ipc://\(dir)/planner.sock")
        var c = AgentConfiguration()
        c.planner = "ipc://\(dir)/planner.sock"
        c.name = "x1"
        c.stateDirectory = dir + "/state"
        c.packetsPerCore = 1_000_000
        c.heartbeatInterval = 0.2
        c.telemetryInterval = 0.25
        c.vmExecutable = buildDirectory + "/clickos-vm"
        let configuration = c
        let socket = daemon.socketPath
        func startAgent() -> AgentThread {
            AgentThread {
                let store = try XenstoreConnection(socketPath: socket)
                return try Agent(configuration: configuration, log: Logger(label: "xen-agent"), xen: XenBackend(domains: domains, store: store))
            }
        }
        var agent = startAgent()
        defer {
            agent.stop()
            planner.server.stop()
            killVMs(under: dir)
            domains.destroyAll()
            daemon.stop()
            _ = shell("rm -rf '\(dir)'")
        }
        let control = ClickOSXenstoreControl(store: try XenstoreConnection(socketPath: daemon.socketPath))
        let state = dir + "/state"

        // It says it offers xen.
        #expect(eventually(10) { planner.registrations.last?.vmBackends == ["process", "xen"] }, "\(agent.error ?? "")")

        #expect(planner.push(Self.chain(1), to: "x1").map { if case .ack = $0.payload { true } else { false } } == true)
        let up = try #require(planner.waitStatus(30) { s in
            s.observedGeneration == 1 && s.vms.count == 5 && s.vms.allSatisfy { $0.state == .running }
        }, "\(planner.status.map { "\($0.vms) \($0.errors)" } ?? "no status")")
        let fwDomain = try #require(up.vms.first { $0.name == "fw" })
        let monDomain = try #require(up.vms.first { $0.name == "mon" })
        #expect(fwDomain.backend == "xen" && monDomain.backend == "xen")
        #expect(Set([fwDomain.pid, monDomain.pid]) == Set(domains.domains().map { Int32($0.domid) }))
        #expect(domains.domains().map(\.name).sorted() == ["clickos-fw", "clickos-mon"])
        // Every frame crosses memif -> vif, vif -> vif and vif -> memif.
        #expect(eventually(20) { AgentLifecycleTests.count(state, "sink") == 3000 }, "sink \(AgentLifecycleTests.count(state, "sink"))")
        #expect(try control.read(domain: UInt32(fwDomain.pid), router: 0, handler: "c.count") == "3000")
        // Telemetry counts the guests' ports from their vifs (no round trip to the guest).
        let counted = eventually(5) {
            guard let t = planner.telemetry.last, let fw = t.vms.first(where: { $0.vm == "fw" }), fw.ports.count == 2 else { return false }
            return fw.ports[0].rxPackets == 3000 && fw.ports[1].txPackets == 3000 && fw.ports.allSatisfy(\.linkUp) && fw.memoryBytes > 1 << 20
        }
        #expect(counted, "\(planner.telemetry.last?.vms.first { $0.vm == "fw" }.map { "\($0.ports)" } ?? "no telemetry")")
        #expect(try control.read(domain: UInt32(monDomain.pid), router: 0, handler: "c.count") == "3000")
        // src-fw and mon-sink are memif links to switch ports (fw-mon is vif to vif).
        #expect(up.links.map(\.name).sorted() == ["mon-sink", "src-fw"])
        #expect(planner.waitStatus(10) { $0.links.count == 2 && $0.links.allSatisfy(\.up) } != nil, "\(planner.status?.links ?? [])")

        // A new configuration for fw: replaced through xenstore in the same domain.
        #expect(planner.push(Self.chain(2, fw: Self.fw2), to: "x1") != nil)
        let swapped = try #require(planner.waitStatus(20) { $0.observedGeneration == 2 && $0.vms.first { $0.name == "fw" }?.generation == 2 })
        #expect(swapped.vms.first { $0.name == "fw" }?.pid == fwDomain.pid)
        #expect(try control.configuration(domain: UInt32(fwDomain.pid), router: 0).contains("// version 2"))

        // A bad one: refused with Click's words, and version 2 keeps running.
        let bad = Self.chain(3, fw: "FromDevice(0) -> Nonexistent -> ToDevice(1);")
        #expect(planner.push(bad, to: "x1") != nil)
        let refused = try #require(planner.waitStatus(20) { s in s.vms.first { $0.name == "fw" }?.reason.contains("Nonexistent") == true },
                                   "\(planner.status.map { "\($0.vms)" } ?? "")")
        #expect(refused.vms.first { $0.name == "fw" }?.reason.hasPrefix("hotconfig: ") == true)
        #expect(eventually(5) { (try? control.configuration(domain: UInt32(fwDomain.pid), router: 0).contains("// version 2")) == true })
        #expect(eventually(5) { (try? control.read(domain: UInt32(fwDomain.pid), router: 0, handler: "c.count")) != nil })

        // A new agent adopts the running guests (and the process VMs): nothing is created
        // again, and the guests' counters come from their vifs as the toolstack recorded them.
        agent.stop()
        let createdBefore = domains.created.load(ordering: .relaxed)
        let seen = planner.envelopes.count
        agent = startAgent()
        let adopted = try #require(planner.waitStatus(20, after: seen) { s in
            s.vms.first { $0.name == "fw" }?.pid == fwDomain.pid && s.vms.first { $0.name == "mon" }?.state == .running
        }, "\(planner.status.map { "\($0.vms)" } ?? "")")
        #expect(adopted.vms.first { $0.name == "mon" }?.pid == monDomain.pid)
        #expect(domains.created.load(ordering: .relaxed) == createdBefore)
        let telemetrySeen = planner.envelopes.count
        #expect(eventually(5) {
            Array(planner.envelopes.dropFirst(telemetrySeen)).contains { r in
                if case .telemetry(let t) = r.envelope.payload { t.vms.first { $0.vm == "mon" }?.ports.first?.rxPackets == 3000 } else { false }
            }
        })

        // A guest that cannot boot (its configuration refused) fails alone: the switch runs
        // without its vif, and the rest of the chain stays up.
        var withBroken = Self.chain(4, fw: Self.fw2)
        var broken = Desired.vm("broken", "FromDevice(0) -> Nonexistent;", ports: 1)
        broken.backend = "xen"
        withBroken.vms += [broken, Desired.vm("feed", "Idle -> ToDevice(0);", ports: 1)]
        withBroken.links.append(Desired.link("feed-broken", "vm:feed:0", "vm:broken:0"))
        #expect(planner.push(withBroken, to: "x1") != nil)
        let partial = try #require(planner.waitStatus(20) { s in
            s.vms.first { $0.name == "broken" }?.reason.contains("Nonexistent") == true && s.vms.first { $0.name == "_switch" }?.state == .running
                && s.vms.first { $0.name == "feed" }?.state == .running
        }, "\(planner.status.map { "\($0.vms) \($0.errors)" } ?? "")")
        #expect(partial.vms.first { $0.name == "broken" }?.state != .running)
        let switchConfig = AgentLifecycleTests.read(state, "_switch", "config") ?? ""
        #expect(switchConfig.contains(HostPlan.vifName("fw", 0)) && !switchConfig.contains(HostPlan.vifName("broken", 0)), "\(switchConfig)")
        #expect(planner.waitStatus(10) { s in s.links.first { $0.name == "src-fw" }?.up == true && s.links.first { $0.name == "mon-sink" }?.up == true } != nil)

        // No longer wanted: the domains are destroyed, their vifs gone.
        let plain = Desired.state("x1", 5, vms: [Desired.vm("sink", Self.sink, ports: 1)])
        #expect(planner.push(plain, to: "x1") != nil)
        #expect(planner.waitStatus(20) { $0.observedGeneration == 5 && $0.vms.map(\.name) == ["sink"] } != nil)
        #expect(domains.domains().isEmpty)
        #expect(!shell("ip -o link show").contains(HostPlan.vifName("fw", 0)))
    }
}
#else
/// Without the Xen trait the agent has no xen backend to offer.
@Suite("Xen agent")
struct XenAgentTests {
    @Test(.disabled("built without the Xen trait: `make xen-test` builds with --traits Xen and runs these"))
    func xenAgent() {}
}
#endif
