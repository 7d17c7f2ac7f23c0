#if canImport(Glibc)
import Glibc
#endif
import Messaging
import Testing

/// Network namespaces made for one test and removed after it.
final class Namespaces {
    let prefix: String
    private(set) var names: [String] = []

    init(_ tag: String) {
        prefix = "ca\(getpid() % 100_000)\(tag)"
    }

    func add(_ short: String) -> String {
        let name = prefix + short
        shell("ip netns del \(name) 2>/dev/null; ip netns add \(name) && ip -n \(name) link set lo up")
        names.append(name)
        return name
    }

    /// Runs `command` in namespace `ns` and returns its output.
    @discardableResult
    func run(_ ns: String, _ command: String) -> String { shell("ip netns exec \(ns) bash -c '\(command)' 2>&1") }

    /// A veth pair between two namespaces, up, with optional addresses.
    func veth(_ a: String, _ aName: String, _ aAddress: String?, _ b: String, _ bName: String, _ bAddress: String?, mtu: Int = 1600) {
        shell("ip link add \(aName) netns \(a) mtu \(mtu) type veth peer name \(bName) netns \(b) mtu \(mtu)")
        for (ns, name, address) in [(a, aName, aAddress), (b, bName, bAddress)] {
            if let address { shell("ip -n \(ns) addr add \(address) dev \(name)") }
            shell("ip -n \(ns) link set \(name) up")
        }
    }

    func removeAll() {
        for n in names {
            // The namespace's processes first (agents and the host switch run there).
            shell("ip netns pids \(n) 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del \(n) 2>/dev/null")
        }
    }
}

/// Hosts as network namespaces on one machine, each with a real agent: a chain whose
/// hop crosses hosts over VXLAN; interoperability with Linux's own `vxlan` device; chain
/// edges with ARP between a client and a server network.
@Suite("Agents in network namespaces", .serialized, .timeLimit(.minutes(5)))
struct NetworkTests {
    static func canRun() -> Bool {
        guard isRoot, system("ip netns add ca-probe-\(getpid()) 2>/dev/null && ip netns del ca-probe-\(getpid())") == 0 else {
            print("skipped: needs root and network namespaces (CI runs it as root)")
            return false
        }
        return true
    }

    static func agent(_ ns: String, _ dir: String, host: String, planner: String, data: String?, interfaces: [String]) -> AgentProcess {
        var args = ["--planner", planner, "--name", host, "--state-dir", "\(dir)/\(host)", "--packets-per-core", "1000000",
                    "--heartbeat-interval", "0.2", "--telemetry-interval", "0.25"]
        if let data { args += ["--data-address", data] }
        for i in interfaces { args += ["--interface", i] }
        return AgentProcess(args, log: "\(dir)/\(host).log", netns: ns)
    }

    static func tunnel(_ vni: UInt32, remote: String, local: String) -> Clickos_V1_TunnelSpec {
        var t = Clickos_V1_TunnelSpec()
        t.vni = vni
        t.remoteAddress = remote
        t.localEnd = local
        return t
    }

    @Test func aChainHopCrossesHostsOverVXLANBothWays() throws {
        guard Self.canRun() else { return }
        let dir = scratch("vxlan")
        let ns = Namespaces("x")
        defer {
            killVMs(under: dir)
            ns.removeAll()
            _ = shell("rm -rf '\(dir)'")
        }
        let a = ns.add("a"), b = ns.add("b")
        ns.veth(a, "ua", "192.168.77.1/24", b, "ub", "192.168.77.2/24")
        let endpoint = "ipc://\(dir)/planner.sock"
        let planner = try ScriptedPlanner(endpoint: endpoint)
        defer { planner.server.stop() }
        let agentA = Self.agent(a, dir, host: "ha", planner: endpoint, data: "192.168.77.1", interfaces: ["ua"])
        let agentB = Self.agent(b, dir, host: "hb", planner: endpoint, data: "192.168.77.2", interfaces: ["ub"])
        defer {
            agentA.stop()
            agentB.stop()
        }
        #expect(eventually(10) { Set(planner.registrations.map(\.hostName)) == ["ha", "hb"] }, "\(agentA.log)\n\(agentB.log)")
        #expect(planner.registrations.first { $0.hostName == "ha" }?.dataPlaneAddress == "192.168.77.1")
        #expect(planner.registrations.first { $0.hostName == "ha" }?.interfaces.map(\.name) == ["ua"])

        // Host A: a source sending to its port 0, counting what comes back; host B: a VM
        // that sends every frame back. The hop between them is VNI 100.
        let source = "RatedSource(DATA \\<\(Desired.udpFrameHex())>, RATE 1000, LIMIT -1, STOP false) -> sent :: Counter -> Queue -> ToDevice(0);\nFromDevice(0) -> back :: Counter -> Discard;"
        let echo = "FromDevice(0) -> c :: Counter -> Queue -> ToDevice(0);"
        _ = planner.push(Desired.state("ha", 1, vms: [Desired.vm("src", source, ports: 1)],
                                       tunnels: [Self.tunnel(100, remote: "192.168.77.2", local: "vm:src:0")]), to: "ha")
        _ = planner.push(Desired.state("hb", 1, vms: [Desired.vm("echo", echo, ports: 1)],
                                       tunnels: [Self.tunnel(100, remote: "192.168.77.1", local: "vm:echo:0")]), to: "hb")
        let sa = try #require(planner.waitStatus { $0.hostName == "ha" && $0.observedGeneration == 1 }, "\(agentA.log)")
        #expect(sa.vms.map(\.name).sorted() == ["_switch", "src"] && sa.tunnels.first?.up == true, "\(sa)")
        #expect(planner.waitStatus { $0.hostName == "hb" && $0.observedGeneration == 1 } != nil, "\(agentB.log)")
        let stateA = "\(dir)/ha", stateB = "\(dir)/hb"
        #expect(eventually(10) { AgentLifecycleTests.count(stateB, "echo") > 200 }, "nothing crossed to B: \(agentA.log)\n\(agentB.log)")
        #expect(eventually(10) { AgentLifecycleTests.count(stateA, "src", "back.count") > 200 }, "nothing came back to A")
        #expect(AgentLifecycleTests.count(stateB, "_switch", "vxlan_decap.count") > 200)
        // On the wire: UDP 4789 with a VXLAN header for VNI 100 (0x000064).
        let capture = ns.run(b, "timeout 2 tcpdump -c 3 -nn -x -i ub udp dst port 4789 2>/dev/null")
        #expect(capture.contains("UDP") || capture.contains("4789"), "\(capture)")
        #expect(capture.contains("VXLAN, flags [I] (0x08), vni 100"), "no VXLAN header for VNI 100 in: \(capture)")
    }

    @Test func linuxVXLANAndTheHostSwitchUnderstandEachOther() throws {
        guard Self.canRun() else { return }
        let dir = scratch("linuxvx")
        let ns = Namespaces("l")
        defer {
            killVMs(under: dir)
            ns.removeAll()
            _ = shell("rm -rf '\(dir)'")
        }
        let a = ns.add("a"), l = ns.add("l")
        ns.veth(a, "ua", "192.168.78.1/24", l, "ul", "192.168.78.3/24")
        // Linux's own VXLAN endpoint, VNI 200, with an address on the overlay.
        ns.run(l, "ip link add vx0 address 02:00:00:00:c8:02 type vxlan id 200 remote 192.168.78.1 local 192.168.78.3 dstport 4789 dev ul && ip addr add 10.200.0.2/24 dev vx0 && ip link set vx0 up")
        let endpoint = "ipc://\(dir)/planner.sock"
        let planner = try ScriptedPlanner(endpoint: endpoint)
        defer { planner.server.stop() }
        let agentA = Self.agent(a, dir, host: "ha", planner: endpoint, data: "192.168.78.1", interfaces: ["ua"])
        defer { agentA.stop() }
        #expect(eventually(10) { !planner.registrations.isEmpty }, "\(agentA.log)")
        // A VM on the overlay as 10.200.0.1: it pings Linux's 10.200.0.2 and answers
        // Linux's ARP. Linux replying proves it decapsulated our frames; its ARP requests and
        // echo replies reaching the VM prove we decapsulated its.
        let pinger = """
            ping :: ICMPPingSource(10.200.0.1, 10.200.0.2, INTERVAL 0.02, VERBOSE false);
            out :: Queue(1024) -> ToDevice(0);
            ping -> EtherEncap(0x0800, 02:00:00:00:c8:01, 02:00:00:00:c8:02) -> out;
            FromDevice(0) -> cls :: Classifier(12/0806 20/0001, 12/0800 23/01 34/00, -);
            cls[0] -> arps :: Counter -> ARPResponder(10.200.0.1 02:00:00:00:c8:01) -> out;
            cls[1] -> replies :: Counter -> Strip(14) -> CheckIPHeader -> [0] ping;
            cls[2] -> Discard;
            """
        _ = planner.push(Desired.state("ha", 1, vms: [Desired.vm("pinger", pinger, ports: 1)],
                                       tunnels: [Self.tunnel(200, remote: "192.168.78.3", local: "vm:pinger:0")]), to: "ha")
        #expect(planner.waitStatus { $0.observedGeneration == 1 } != nil, "\(agentA.log)")
        let state = "\(dir)/ha"
        #expect(eventually(10) { AgentLifecycleTests.count(state, "pinger", "replies.count") > 10 },
                "no echo replies from Linux: arps \(AgentLifecycleTests.count(state, "pinger", "arps.count")), vx0: \(ns.run(l, "ip -s link show vx0"))\n\(agentA.log)")
        #expect(AgentLifecycleTests.count(state, "pinger", "arps.count") >= 1, "Linux's ARP request never arrived")
        let stats = ns.run(l, "cat /sys/class/net/vx0/statistics/rx_packets")
        #expect((Int(stats.trimmingSpaces) ?? 0) > 10, "vx0 received \(stats)")
    }

    @Test func chainEdgesAnswerARPAndRouteBetweenClientAndServer() throws {
        guard Self.canRun() else { return }
        let dir = scratch("edges")
        let ns = Namespaces("e")
        defer {
            killVMs(under: dir)
            ns.removeAll()
            _ = shell("rm -rf '\(dir)'")
        }
        let h = ns.add("h"), c = ns.add("c"), s = ns.add("s")
        ns.veth(c, "c0", "10.1.0.2/24", h, "e1", nil, mtu: 1500)
        ns.veth(s, "s0", "10.2.0.2/24", h, "e2", nil, mtu: 1500)
        ns.run(c, "ip route add default via 10.1.0.1")
        ns.run(s, "ip route add default via 10.2.0.1")
        let endpoint = "ipc://\(dir)/planner.sock"
        let planner = try ScriptedPlanner(endpoint: endpoint)
        defer { planner.server.stop() }
        let agent = Self.agent(h, dir, host: "he", planner: endpoint, data: nil, interfaces: ["e1", "e2"])
        defer { agent.stop() }
        #expect(eventually(10) { !planner.registrations.isEmpty }, "\(agent.log)")
        var ingress = Clickos_V1_ChainEdge()
        ingress.chain = "web"
        ingress.side = .ingress
        ingress.interface = "e1"
        ingress.address = "10.1.0.1/24"
        ingress.attach = "vm:fw:0"
        var egress = ingress
        egress.side = .egress
        egress.interface = "e2"
        egress.address = "10.2.0.1/24"
        egress.attach = "vm:fw:1"
        let firewall = readText(repositoryRoot + "/chains/functions/firewall.click")
        _ = planner.push(Desired.state("he", 1, vms: [Desired.vm("fw", firewall, ports: 2, chain: "web", function: "firewall")], edges: [ingress, egress]), to: "he")
        let st = try #require(planner.waitStatus { $0.observedGeneration == 1 }, "\(agent.log)")
        #expect(st.errors.isEmpty && st.vms.count == 2, "\(st)")
        // Real pings from the client namespace to the server, through the firewall VM.
        let out = ns.run(c, "ping -c 5 -i 0.2 -W 2 10.2.0.2")
        #expect(out.contains(" 0% packet loss") || out.contains(" 20% packet loss"), "ping through the chain: \(out)\n\(agent.log)")
        // The client resolved the ingress edge to the switch's own address, not the NIC's.
        let neighbour = ns.run(c, "ip neigh show 10.1.0.1")
        #expect(neighbour.contains("02:c1:"), "\(neighbour)")
        #expect(AgentLifecycleTests.count("\(dir)/he", "fw", "forward/passed.count") >= 4)
        #expect(AgentLifecycleTests.count("\(dir)/he", "fw", "reverse/passed.count") >= 4)
        // The firewall's rule holds: UDP to port 9 is not allowed and never reaches the
        // server, while a ping sent after it does (the capture works).
        let capture = "/tmp/\(ns.prefix)-capture"
        ns.run(s, "timeout 8 tcpdump -l -nn -i s0 \\(udp port 9 or icmp\\) > \(capture) 2> \(capture).err &")
        // Send only once tcpdump listens (its start took over 0.5 s under CI's load).
        #expect(eventually(5) { readText(capture + ".err").contains("listening on") })
        ns.run(c, "for i in 1 2 3; do echo x > /dev/udp/10.2.0.2/9; done; ping -c 1 -W 2 10.2.0.2 >/dev/null")
        eventually(5) { readText(capture).contains("ICMP echo request") }
        let seen = readText(capture)
        #expect(seen.contains("ICMP echo request"), "the capture saw nothing: \(seen)")
        #expect(!seen.contains("UDP"), "a denied packet crossed: \(seen)")
        _ = shell("rm -f \(capture) \(capture).err")
    }
}
