#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The wire contract from C: `deploy/xen/c-client` (protoc-c from proto/clickos.proto,
/// libprotobuf-c, libzmq) registers a host with a real planner, heartbeats, and lists hosts
/// and chains; a refused registration comes back with the planner's own words.
@Suite struct ProtobufCClientTests {
    static let repository: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// Runs a command; its status and what it printed (both streams).
    static func run(_ command: String) -> (status: Int32, output: String) {
        let marker = "__status="
        let out = shell("\(command) 2>&1; echo \(marker)$?")
        guard let at = out.range(of: marker, options: .backwards) else { return (-1, out) }
        return (Int32(out[at.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1, String(out[..<at.lowerBound]))
    }

    @Test func aCClientRegistersAndListsThroughTheRealPlanner() throws {
        let dir = scratch("c-client")
        let built = Self.run("make -s -C '\(Self.repository)/deploy/xen/c-client' OUT='\(dir)'")
        try #require(built.status == 0, "building the C client: \(built.output)")
        let planner = PlannerProcessTests.planner(dir)
        defer { _ = planner.stop(SIGKILL) }
        let client = "\(dir)/clickos-client ipc://\(dir)/planner.sock"
        var registered = Self.run("\(client) register xen-dom0 4 2500000")
        for _ in 0..<50 where registered.status != 0 {  // the planner may still be starting
            usleep(100_000)
            registered = Self.run("\(client) register xen-dom0 4 2500000")
        }
        #expect(registered.status == 0, "\(registered.output)\nplanner: \(planner.log)")
        #expect(registered.output == "registered xen-dom0 (4 cores, 2500000 packets/s per core)\nheartbeat sent for xen-dom0\n")

        let hosts = Self.run("\(client) hosts")
        #expect(hosts.status == 0)
        #expect(hosts.output == "hosts: 1\nhost xen-dom0 cores 4 packets_per_core 2500000 vms 0 backends xen\n")
        // The Swift CLI sees the same host the C client registered.
        let cli = Self.run("\(buildDirectory)/clickos hosts --planner ipc://\(dir)/planner.sock")
        #expect(cli.output.contains("xen-dom0"), "\(cli.output)")
        #expect(cli.output.split(separator: "\n").first { $0.hasPrefix("xen-dom0") }?.hasSuffix(" xen") == true, "\(cli.output)")

        let chains = Self.run("\(client) chains")
        #expect(chains.status == 0)
        #expect(chains.output == "chains: 0\n")

        let refused = Self.run("\(client) register 'bad name!'")
        #expect(refused.status == 1)
        #expect(refused.output == "clickos-client: the planner refused: register.host_name: 'bad name!': use 1 to 64 letters, digits, '-', '_' or '.'\n")
    }

    @Test func overCURVEOnlyAnAuthorizedKeyIsAnswered() throws {
        let dir = scratch("c-client-curve")
        defer { _ = shell("rm -rf '\(dir)'") }
        let built = Self.run("make -s -C '\(Self.repository)/deploy/xen/c-client' OUT='\(dir)'")
        try #require(built.status == 0, "building the C client: \(built.output)")
        let keygen = "'\(buildDirectory)/clickos' keygen"
        shell("mkdir -p '\(dir)/keys/authorized' && \(keygen) planner --dir '\(dir)/keys' && \(keygen) dom0 --dir '\(dir)' && \(keygen) mallory --dir '\(dir)' && cp '\(dir)/dom0.pub' '\(dir)/keys/authorized/'")
        let planner = AgentProcess(["planner", "--listen", "tcp://127.0.0.1:0", "--db", dir + "/planner.db", "--keys", dir + "/keys"],
                                   log: dir + "/planner.log", executable: "clickos")
        defer { _ = planner.stop(SIGKILL) }
        #expect(eventually(5) { planner.log.contains("planner listening") }, "\(planner.log)")
        let line = planner.log.split(separator: "\n").first { $0.contains("planner listening") } ?? ""
        let endpoint = line.split(separator: " ").first { $0.hasPrefix("endpoint=tcp://") }.map { String($0.dropFirst(9)) } ?? ""
        let client = "\(dir)/clickos-client"
        let curve = "--planner-key '\(dir)/keys/planner.pub'"
        let good = Self.run("\(client) --key '\(dir)/dom0.key' \(curve) \(endpoint) register xen-dom0 8 2000000")
        #expect(good.status == 0 && good.output.hasPrefix("registered xen-dom0 (8 cores"), "\(good.output)\nplanner: \(planner.log)")
        // The Swift CLI over CURVE (with dom0's key here) sees the host.
        let cli = Self.run("\(buildDirectory)/clickos hosts --planner \(endpoint) --key '\(dir)/dom0.key' \(curve)")
        #expect(cli.output.contains("xen-dom0"), "\(cli.output)")
        // An unknown key, or none: no answer.
        let bad = Self.run("\(client) --key '\(dir)/mallory.key' \(curve) \(endpoint) hosts")
        #expect(bad.status == 1 && bad.output == "clickos-client: no reply from the planner within 5 s\n", "\(bad.output)")
        #expect(Self.run("\(client) \(endpoint) hosts").status == 1)
        // Half a CURVE setting, or a broken key file: refused before connecting.
        let half = Self.run("\(client) --key '\(dir)/dom0.key' \(endpoint) hosts")
        #expect(half.status == 2 && half.output.contains("--key and --planner-key go together"), "\(half.output)")
        shell("echo 'public = \"short\"' > '\(dir)/broken.key'")
        let broken = Self.run("\(client) --key '\(dir)/broken.key' \(curve) \(endpoint) hosts")
        #expect(broken.status == 1 && broken.output.contains("broken.key: no public key"), "\(broken.output)")
    }
}
