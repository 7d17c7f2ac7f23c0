#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Messaging
import Testing

/// The planner binary (`clickos planner`) with real agents, driven by the `clickos` CLI:
/// apply -> VMs running -> `clickos top` shows rates; kill -9 of the planner and a restart
/// on the same database restart no VM; a host whose agent dies is LOST and its chain
/// moves; delete -> the VMs are gone. Also CURVE refusals (logged) and a Python client.
@Suite("Planner process", .serialized, .timeLimit(.minutes(5)))
struct PlannerProcessTests {
    /// The chain: a source sending 2,000 frames a second toward egress, and a counting sink.
    static func chainFile(_ dir: String) -> String {
        let path = dir + "/flow.yaml"
        let frame = Desired.udpFrameHex()
        let yaml = """
            name: flow
            ingress: { interface: eth1, address: 10.1.0.1/24 }
            egress: { interface: eth2, address: 10.2.0.1/24 }
            rate: 10kpps
            functions:
              - name: src
                click: "RatedSource(DATA \\\\<\(frame)>, RATE 2000) -> Queue -> ToDevice(1); FromDevice(0) -> Discard; FromDevice(1) -> Discard;"
              - name: sink
                click: "FromDevice(0) -> c :: Counter -> Discard; FromDevice(1) -> Discard;"

            """
        _ = FileManager.default.createFile(atPath: path, contents: Data(yaml.utf8))
        return path
    }

    /// Runs the CLI; returns its exit status and standard output (standard error after it).
    static func cli(_ args: String, planner: String, env: String = "") -> (Int32, String) {
        let out = shell("\(env) CLICKOS_PLANNER='\(planner)' '\(buildDirectory)/clickos' \(args) 2>&1; echo \"rc=$?\"")
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let rcLine = lines.last { $0.hasPrefix("rc=") } ?? "rc=-1"
        return (Int32(rcLine.dropFirst(3)) ?? -1, out)
    }

    static func json(_ text: String) -> [String: Any] {
        let start = text.firstIndex(of: "{") ?? text.startIndex
        let end = text.lastIndex(of: "}").map { text.index(after: $0) } ?? text.endIndex
        return (try? JSONSerialization.jsonObject(with: Data(text[start..<end].utf8))) as? [String: Any] ?? [:]
    }

    static func chains(_ planner: String) -> [[String: Any]] {
        json(cli("chains --json", planner: planner).1)["chains"] as? [[String: Any]] ?? []
    }

    /// PIDs of the VMs an agent's state directory records.
    static func vmPIDs(_ state: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in shell("grep -H '^pid=' '\(state)'/vms/*/vm.record 2>/dev/null").split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let vm = parts[0].split(separator: "/").dropLast().last.map(String.init) ?? ""
            out[vm] = String(parts[1].dropFirst(4))
        }
        return out
    }

    static func planner(_ dir: String, extra: [String] = []) -> AgentProcess {
        AgentProcess(["planner", "--listen", "ipc://\(dir)/planner.sock", "--db", dir + "/planner.db", "--heartbeat-interval", "0.2"] + extra,
                     log: dir + "/planner.log", executable: "clickos")
    }

    @Test func theCLIDrivesThePlannerAndRealAgents() throws {
        guard NetworkTests.canRun() else { return }
        let dir = scratch("planner-proc")
        let ns = Namespaces("pp")
        let endpoint = "ipc://\(dir)/planner.sock"
        var planner = Self.planner(dir)
        var agents: [String: AgentProcess] = [:]
        defer {
            planner.stop(SIGKILL)
            for a in agents.values { a.stop(SIGKILL) }
            killVMs(under: dir)
            ns.removeAll()
            _ = shell("rm -rf '\(dir)'")
        }
        // Two hosts, each a namespace with the chain's edge interfaces.
        for host in ["h1", "h2"] {
            let n = ns.add(host)
            // (veth pairs: this kernel may lack the dummy driver)
            ns.run(n, "for i in eth1 eth2; do ip link add $i type veth peer name $i-peer && ip link set $i up && ip link set $i-peer up; done")
            agents[host] = NetworkTests.agent(n, dir, host: host, planner: endpoint, data: nil, interfaces: ["eth1", "eth2"])
        }
        #expect(eventually(15) { (Self.json(Self.cli("hosts --json", planner: endpoint).1)["hosts"] as? [[String: Any]])?.count == 2 },
                "\(planner.log)")

        let file = Self.chainFile(dir)
        let (rc, out) = Self.cli("apply '\(file)'", planner: endpoint)
        #expect(rc == 0 && out.contains("chain flow created") && out.contains("flow-src-0"), "\(out)")
        #expect(eventually(20) { Self.chains(endpoint).first?["phase"] as? String == "RUNNING" }, "\(Self.cli("chains", planner: endpoint).1)")
        let placements = Self.chains(endpoint).first?["placements"] as? [[String: Any]] ?? []
        let host = placements.first?["host"] as? String ?? ""
        #expect(Set(placements.compactMap { $0["host"] as? String }) == [host], "both functions on one host")
        // Live rates: the sink receives the source's 2,000 frames a second.
        #expect(eventually(10) {
            let top = Self.json(Self.cli("top --json flow", planner: endpoint).1)["vms"] as? [[String: Any]] ?? []
            let sink = top.first { $0["function"] as? String == "sink" }
            let rx = (sink?["ports"] as? [[String: Any]])?.compactMap { $0["rx_pps"] as? Double }.reduce(0, +) ?? 0
            return rx > 1000
        }, "\(Self.cli("top --once", planner: endpoint).1)")
        let table = Self.cli("top --once", planner: endpoint).1
        #expect(table.contains("RX PPS") && table.contains("flow-sink-0"), "\(table)")

        // kill -9 the planner, start it again on the same database: nothing restarts.
        let before = Self.vmPIDs("\(dir)/\(host)")
        #expect(before.keys.sorted() == ["_switch", "flow-sink-0", "flow-src-0"], "\(before)")
        planner.stop(SIGKILL)
        planner = Self.planner(dir)
        #expect(eventually(10) { Self.chains(endpoint).first?["phase"] as? String == "RUNNING" }, "\(planner.log)")
        #expect(eventually(10) {
            let hosts = Self.json(Self.cli("hosts --json", planner: endpoint).1)["hosts"] as? [[String: Any]] ?? []
            return hosts.count == 2 && hosts.allSatisfy { $0["health"] as? String == "READY" }
        })
        usleep(1_000_000)
        #expect(Self.vmPIDs("\(dir)/\(host)") == before)
        #expect(Self.vmPIDs("\(dir)/\(host)").values.allSatisfy { kill(pid_t($0) ?? 0, 0) == 0 })

        // The host's agent dies: the host is LOST and the chain moves to the other one.
        let other = host == "h1" ? "h2" : "h1"
        agents[host]?.stop(SIGKILL)
        killVMs(under: "\(dir)/\(host)")
        #expect(eventually(15) {
            let c = Self.chains(endpoint).first
            let hosts = Set((c?["placements"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String })
            return c?["phase"] as? String == "RUNNING" && hosts == [other]
        }, "\(Self.cli("chains", planner: endpoint).1)\n\(planner.log)")
        let hostsTable = Self.cli("hosts", planner: endpoint).1
        #expect(hostsTable.contains("LOST"), "\(hostsTable)")
        #expect(planner.log.contains("host lost"))

        // Delete: the VMs stop.
        let running = Self.vmPIDs("\(dir)/\(other)")
        #expect(Self.cli("delete flow", planner: endpoint).0 == 0)
        #expect(eventually(10) { running.filter { $0.key != "_switch" }.values.allSatisfy { kill(pid_t($0) ?? 0, 0) != 0 } })
        #expect(Self.chains(endpoint).isEmpty)
        // Errors: one line, exit status 1.
        let (badRC, bad) = Self.cli("delete nothing", planner: endpoint)
        #expect(badRC == 1 && bad.contains("clickos delete: no chain 'nothing'"), "\(bad)")
    }

    @Test func aCLIWithoutAnAuthorizedKeyIsRefusedAndTheRefusalLogged() throws {
        let dir = scratch("planner-curve")
        defer { _ = shell("rm -rf '\(dir)'") }
        let keygen = "'\(buildDirectory)/clickos' keygen"
        shell("mkdir -p '\(dir)/keys/authorized' && \(keygen) planner --dir '\(dir)/keys' && \(keygen) alice --dir '\(dir)' && \(keygen) mallory --dir '\(dir)' && cp '\(dir)/alice.pub' '\(dir)/keys/authorized/'")
        let planner = AgentProcess(["planner", "--listen", "tcp://127.0.0.1:0", "--db", dir + "/planner.db", "--keys", dir + "/keys"],
                                   log: dir + "/planner.log", executable: "clickos")
        defer { planner.stop() }
        #expect(eventually(5) { planner.log.contains("planner listening") }, "\(planner.log)")
        // The bound port is in the log.
        let line = planner.log.split(separator: "\n").first { $0.contains("planner listening") } ?? ""
        let endpoint = line.split(separator: " ").first { $0.hasPrefix("endpoint=tcp://") }.map { String($0.dropFirst(9)) } ?? ""
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"), "\(line)")
        let good = Self.cli("hosts --key '\(dir)/alice.key' --planner-key '\(dir)/keys/planner.pub'", planner: endpoint)
        #expect(good.0 == 0 && good.1.contains("HOST"), "\(good.1)")
        let bad = Self.cli("hosts --timeout 1 --key '\(dir)/mallory.key' --planner-key '\(dir)/keys/planner.pub'", planner: endpoint)
        #expect(bad.0 == 1 && bad.1.contains("no answer from the planner"), "\(bad.1)")
        let mallory = readText(dir + "/mallory.pub").split(separator: "\"").dropFirst().first.map(String.init) ?? "?"
        #expect(eventually(5) { planner.log.contains("refused a CURVE client") && planner.log.contains(mallory) }, "\(planner.log)")
        // Without keys at all: also no answer.
        #expect(Self.cli("hosts --timeout 1", planner: endpoint).0 == 1)
        // And a planner without keys will not listen on a public address.
        let open = AgentProcess(["planner", "--listen", "tcp://0.0.0.0:0", "--db", dir + "/open.db"], log: dir + "/open.log", executable: "clickos")
        var status: Int32 = 0
        #expect(eventually(5) { waitpid(open.pid, &status, WNOHANG) == open.pid })
        #expect(readText(dir + "/open.log").contains("CURVE"), "\(readText(dir + "/open.log"))")
    }

    static let pythonClient = """
        import sys, zmq
        sys.path.insert(0, sys.argv[2])
        import clickos_pb2 as pb
        ctx = zmq.Context()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.RCVTIMEO, 5000)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(sys.argv[1])
        def call(e):
            s.send(e.SerializeToString())
            r = pb.Envelope()
            r.ParseFromString(s.recv())
            assert r.request_id == e.request_id, r
            return r
        r = call(pb.Envelope(version=1, sender="cli:python", request_id=1, list_chains=pb.ListChainsRequest()))
        assert r.WhichOneof("payload") == "list_chains_reply" and len(r.list_chains_reply.chains) == 0, r
        a = pb.Envelope(version=1, sender="cli:python", request_id=2)
        c = a.apply_chain.chain
        c.name = "py"
        c.declared_pps = 1000
        c.ingress.interface = "eth1"; c.ingress.address = "10.1.0.1/24"
        c.egress.interface = "eth2"; c.egress.address = "10.2.0.1/24"
        f = c.functions.add(name="fw", min_instances=1, max_instances=1)
        f.configuration = "FromDevice(0) -> Queue -> ToDevice(1); FromDevice(1) -> Queue -> ToDevice(0);"
        r = call(a)
        assert r.WhichOneof("payload") == "apply_chain_reply" and r.apply_chain_reply.created, r
        assert any(w.startswith("PENDING") for w in r.apply_chain_reply.warnings), r
        f.configuration = "FromDevice(0) -> Nope -> ToDevice(1);"
        a.request_id = 3
        r = call(a)
        assert r.WhichOneof("payload") == "error" and r.error.code == pb.Error.INVALID_ARGUMENT and "functions[0].config" in r.error.message, r
        r = call(pb.Envelope(version=1, sender="cli:python", request_id=4, list_chains=pb.ListChainsRequest()))
        chains = r.list_chains_reply.chains
        assert [x.name for x in chains] == ["py"] and chains[0].phase == pb.ChainSummary.PENDING, r
        assert "fw" in chains[0].message or chains[0].message, r
        s.send(b"\\x01\\x02garbage")
        r = pb.Envelope(); r.ParseFromString(s.recv())
        assert r.WhichOneof("payload") == "error" and r.error.code == pb.Error.MALFORMED, r
        print("OK")
        """

    @Test func aPythonClientListsAndAppliesChains() throws {
        guard system("\(PythonPlannerTests.python) -c 'import zmq, google.protobuf' 2>/dev/null") == 0, system("command -v protoc >/dev/null") == 0 else {
            print("skipped: needs python3-zmq, python3-protobuf and protoc (scripts/install-deps.sh installs them)")
            return
        }
        let dir = scratch("planner-py")
        defer { _ = shell("rm -rf '\(dir)'") }
        #expect(system("protoc --python_out='\(dir)' -I '\(repositoryRoot)/proto' '\(repositoryRoot)/proto/clickos.proto'") == 0)
        _ = FileManager.default.createFile(atPath: dir + "/client.py", contents: Data(Self.pythonClient.utf8))
        let planner = Self.planner(dir)
        defer { planner.stop() }
        #expect(eventually(5) { planner.log.contains("planner listening") })
        let out = shell("\(PythonPlannerTests.python) '\(dir)/client.py' 'ipc://\(dir)/planner.sock' '\(dir)' 2>&1")
        #expect(out.contains("OK"), "\(out)\n\(planner.log)")
        #expect(Self.cli("chains", planner: "ipc://\(dir)/planner.sock").1.contains("PENDING"))
    }
}
