#if canImport(Glibc)
import Glibc
#endif
import Messaging
import Planner
import Foundation
import Testing

let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Chain files: the shipped ones read and check; every kind of mistake is reported with its
/// file, line, column and field, Click's own errors carried through with the function named.
@Suite("Chain files")
struct ChainFileTests {
    @Test func everyShippedChainFileChecks() throws {
        var names: [String] = []
        for file in ["web", "dns", "cgnat"] {
            let chain = try ChainFile.load(path: "\(repositoryRoot)/chains/\(file).yaml")
            names.append(chain.name)
            #expect(chain.source.hasSuffix("chains/\(file).yaml"))
            #expect(chain.functions.allSatisfy { !$0.configuration.isEmpty && $0.minInstances >= 1 && $0.maxInstances >= $0.minInstances })
        }
        #expect(names == ["web", "dns", "cgnat"])
        let web = try ChainFile.load(path: "\(repositoryRoot)/chains/web.yaml")
        #expect(web.functions.map(\.name) == ["firewall", "nat", "lb"])
        #expect(web.ingress.interface == "eth1" && web.ingress.address == "10.1.0.1/24" && web.egress.address == "10.2.0.1/24")
        #expect(web.declaredPps == 200_000 && !web.lowLatency)
        #expect(web.functions[2].maxInstances == 4 && web.functions[1].defines["PUBLIC"] == "10.2.0.1")
        #expect(web.functions[0].configuration.contains("FilterDirection"))
        let cgnat = try ChainFile.load(path: "\(repositoryRoot)/chains/cgnat.yaml")
        #expect(cgnat.lowLatency && cgnat.declaredPps == 2_000_000 && cgnat.functions[0].labels == ["zone": "a"])
        #expect(cgnat.egress.gateway == "198.51.100.254" && cgnat.functions[1].configuration.contains("up :: Counter"))
    }

    static func problems(_ text: String, file: String = "\(repositoryRoot)/chains/test.yaml") -> [String] {
        do {
            _ = try ChainFile.parse(yaml: text, file: file)
            return []
        } catch {
            return error.problems
        }
    }

    @Test(arguments: [
        ("name: web\nrate: 1k\nfunctions: []\n", "test.yaml:1:1: ingress: missing"),
        ("name: Web\n", "test.yaml:1:7: name: 'Web'"),
        ("name: w\ningress: {interface: e, address: 10.1.0.1}\n", "test.yaml:2:34: ingress.address: '10.1.0.1': expected an IPv4 address with a prefix length"),
        ("name: w\ncolour: red\n", "test.yaml:2:1: colour: unknown key"),
        ("name: w\nrate: lots\n", "test.yaml:2:7: rate: 'lots': expected packets per second"),
        ("name: w\nfunctions:\n  - name: a\n    click: \"Idle -> Discard;\"\n  - name: a\n    click: \"Idle -> Discard;\"\n", "test.yaml:5:11: functions[1].name: 'a' is used twice"),
        ("name: w\nfunctions:\n  - name: a\n    config: nothere.click\n", "test.yaml:4:13: functions[0].config: nothere.click: cannot read it"),
        ("name: w\nfunctions:\n  - name: a\n", "test.yaml:3:5: functions[0]: needs config: FILE or click: TEXT"),
        ("name: w\nfunctions:\n  - name: a\n    click: |\n      Idle -> Discard;\n      FromDevice(0) -> NoSuchThing -> ToDevice(1);\n", "test.yaml:4:12: functions[0].click: \(repositoryRoot)/chains/test.yaml:6: undeclared element 'NoSuchThing'"),
        ("name: w\nfunctions:\n  - name: a\n    click: \"FromDevice(2) -> ToDevice(1);\"\n", "FromDevice(2): a chain function reaches the network only through its ports"),
        ("name: w\nfunctions:\n  - name: fw\n    config: functions/firewall.click\n    define: { ALLOW: \"tcp dst port 80 or\" }\n",
         "test.yaml:4:13: functions[0].config: functions/firewall.click:18: While configuring 'forward/filter :: IPFilter':"),
        ("name: w\nfunctions:\n  - name: q\n    click: \"Idle -> Queue(-5) -> Discard;\"\n", "While configuring 'Queue@2 :: Queue': CAPACITY: "),
        ("name: w\nfunctions:\n  - name: q\n    click: \"Idle -> Idle -> Discard;\"\n    scale: { min: 3, max: 2 }\n", "test.yaml:5:27: functions[0].scale.max: expected an integer from 3 (min) to 1024"),
        ("name: w\nfunctions:\n  - name: q\n    click: \"Idle -> Discard;\"\n    memory: 1KB\n", "functions[0].memory: '1KB': expected a size of at least 4MB"),
        ("name: w\nfunctions:\n  - name: q\n    click: \"Idle -> Discard;\"\n    define: { 9X: y }\n", "functions[0].define: '9X' is not a Click variable name"),
        ("name: [w\n", "not YAML"),
    ])
    func mistakesAreReportedWhereTheyAre(text: String, expected: String) {
        let found = Self.problems(text)
        #expect(found.contains { $0.contains(expected) }, "\(found) has no \(expected)")
    }

    @Test func ratesAndSizes() {
        #expect(ChainFile.rate("200kpps") == 200_000 && ChainFile.rate("1.5Mpps") == 1_500_000 && ChainFile.rate("50000") == 50_000)
        #expect(ChainFile.rate("2 M") == 2_000_000 && ChainFile.rate("-1") == nil && ChainFile.rate("fast") == nil && ChainFile.rate("1e400") == nil)
        #expect(ChainFile.bytes("64MB") == 64_000_000 && ChainFile.bytes("1GiB") == 1 << 30 && ChainFile.bytes("512k") == 512 << 10 && ChainFile.bytes("x") == nil)
    }

    @Test func theCLIChecksEveryShippedFileAndFailsABadOne() throws {
        let clickos = buildDirectory + "/clickos"
        guard access(clickos, X_OK) == 0 else {
            Issue.record("clickos is not built (make unit-tests builds it)")
            return
        }
        #expect(system("cd '\(repositoryRoot)' && '\(clickos)' check chains/*.yaml > /dev/null") == 0)
        let bad = "/tmp/clickos-check-\(getpid()).yaml"
        if let f = fopen(bad, "w") {
            fputs("name: w\nfunctions:\n  - name: q\n    click: \"Idle -> Nope;\"\n", f)
            fclose(f)
        }
        defer { unlink(bad) }
        let status = system("'\(clickos)' check '\(bad)' 2> '\(bad).err'")
        #expect(status != 0 && (status >> 8) == 1)
        let err = String(decoding: (try? readAll(bad + ".err")) ?? [], as: UTF8.self)
        unlink(bad + ".err")
        #expect(err.contains("\(bad):4:12: functions[0].click:") && err.contains("Nope"), "\(err)")
    }
}

let buildDirectory: String = {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let exe = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    return String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
}()

func readAll(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "r") else { return [] }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

/// `clickos plan` offline: the shipped chains on the sample hosts.
@Suite("clickos plan")
struct PlanCommandTests {
    @Test func theShippedChainsArePlacedOnTheSampleHosts() throws {
        let clickos = buildDirectory + "/clickos"
        guard access(clickos, X_OK) == 0 else {
            Issue.record("clickos is not built (make unit-tests builds it)")
            return
        }
        let out = "/tmp/clickos-plan-\(getpid()).json"
        defer { unlink(out) }
        #expect(system("cd '\(repositoryRoot)' && '\(clickos)' plan --json --hosts deploy/hosts.yaml chains/web.yaml chains/dns.yaml chains/cgnat.yaml > '\(out)'") == 0)
        let text = String(decoding: try readAll(out), as: UTF8.self)
        for key in ["\"placements\"", "\"utilization\"", "\"unplaced\" : {\n\n  }", "\"cross_host_hops\" : 0", "\"hosts_used\""] {
            #expect(text.contains(key), "no \(key) in \(text)")
        }
        // web's three functions share one host; cgnat's NAT sits in zone a (its label):
        // server1 or server2, never server3.
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let placements = (object?["placements"] as? [[String: Any]]) ?? []
        func hosts(_ chain: String, _ function: String? = nil) -> Set<String> {
            Set(placements.filter { $0["chain"] as? String == chain && (function == nil || $0["function"] as? String == function) }.compactMap { $0["host"] as? String })
        }
        #expect(placements.count == 6)
        #expect(hosts("web").count == 1, "\(placements)")
        #expect(!hosts("cgnat", "nat").isEmpty && !hosts("cgnat", "nat").contains("server3"), "\(placements)")
        // A bad hosts file is refused with where and what.
        let bad = "/tmp/clickos-hosts-\(getpid()).yaml"
        defer { unlink(bad) }
        if let f = fopen(bad, "w") {
            fputs("hosts:\n  - { name: a, cores: 0, packets_per_core: 1M }\n  - { name: b, cores: 2, packets_per_core: 1M, backends: [kvm] }\n", f)
            fclose(f)
        }
        let status = system("'\(clickos)' plan --hosts '\(bad)' '\(repositoryRoot)/chains/web.yaml' 2> '\(bad).err'")
        #expect(status >> 8 == 1)
        let err = String(decoding: try readAll(bad + ".err"), as: UTF8.self)
        unlink(bad + ".err")
        #expect(err.contains("\(bad):2:") && err.contains("cores: expected an integer from 1 to 4096"), "\(err)")
        #expect(err.contains("\(bad):3:") && err.contains("hosts[1].backends: expected a list of process, xen"), "\(err)")
    }
}
