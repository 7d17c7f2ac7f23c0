import ArgumentParser
import VMInterface
import VMHost

#if canImport(Glibc)
import Glibc
#endif

/// `clickos demo`: a firewall -> NAT -> load balancer chain of VMs on this host, wired by
/// memif, with a traffic generator VM at the client side and a server VM that answers at
/// the other; prints each VM's live packet rates from the stats pages, then stops it all.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Boot a firewall -> NAT -> load-balancer chain of VMs, push traffic through it, show live rates.")

    @Option(help: "How long to run, in seconds.") var seconds: Int = 8
    @Option(help: "Packets per second the client generates (each answered by the server).") var rate: Int = 200_000
    @Option(help: "Directory holding the chain functions.") var functions: String = "chains/functions"
    @OptionGroup var host: HostOptions

    /// The generator: four client flows toward the VIP's web port, rate-limited; counts
    /// the answers that come back.
    static func generator(rate: Int) -> String {
        let flows = (0..<4).map { k -> String in
            let frame = tcpSyn(src: [10, 1, 0, UInt8(2 + k)], dst: [10, 2, 0, 100], sport: UInt16(40_000 + k), dport: 80)
            let hex = frame.map { String($0, radix: 16).leftPadded(2) }.joined()
            return "RatedSource(DATA \\<\(hex)>, RATE \(max(1, rate / 4)), LIMIT -1, STOP false) -> out;"
        }
        return """
            // The client side: four web flows, and a counter of the answers.
            out :: Queue(4096) -> ToDevice(0);
            \(flows.joined(separator: "\n"))
            FromDevice(0) -> answers :: Counter -> Discard;
            """
    }

    /// The server side: every packet is answered (addresses and ports swapped).
    static let server = """
        // The server side: answer every IP packet to its sender.
        FromDevice(0) -> requests :: Counter -> c :: Classifier(12/0800, -);
        c [0] -> Strip(14) -> CheckIPHeader -> IPMirror -> SetIPChecksum -> Unstrip(14) -> q :: Queue(4096) -> ToDevice(0);
        c [1] -> Discard;
        """

    func run() throws {
        let b = host.backend()
        let dir = host.runDirectory + "/demo"
        mkdir(host.runDirectory, 0o755)
        mkdir(dir, 0o777)
        chmod(dir, 0o777)
        let names = ["client", "firewall", "nat", "lb", "server"]
        for n in names where b.info(n) != nil { try? b.stop(n, timeout: 2) }
        func link(_ k: Int) -> (MemifConfiguration, MemifConfiguration) {
            let path = dir + "/link\(k).sock"
            return (MemifConfiguration(role: .server, socketPath: path), MemifConfiguration(role: .client, socketPath: path))
        }
        let links = (0..<4).map(link)
        var specs: [VMSpec] = []
        var client = VMSpec(name: "client", configuration: Self.generator(rate: rate))
        client.ports = [0: links[0].0]
        specs.append(client)
        for (i, (name, file)) in [("firewall", "firewall.click"), ("nat", "nat.click"), ("lb", "lb.click")].enumerated() {
            var spec = VMSpec(name: name, configuration: try readFile(functions + "/" + file))
            spec.ports = [0: links[i].1, 1: links[i + 1].0]
            specs.append(spec)
        }
        var server = VMSpec(name: "server", configuration: Self.server)
        server.ports = [0: links[3].1]
        specs.append(server)

        print("Booting \(names.joined(separator: " -> ")) (\(b.isolation.summary))")
        defer {
            for n in names.reversed() { try? b.stop(n, timeout: 2) }
            rmdir(dir)
        }
        for spec in specs {
            let start = ContinuousClock.now
            do {
                let vm = try b.boot(spec)
                print("  \(vm.name.padding(9)) pid \(String(vm.pid).padding(8)) ready in \(String(format1(secondsSince(start) * 1e3))) ms")
            } catch {
                printError("\(spec.name): \(error.message)")
                throw ExitCode(1)
            }
        }
        print("\nLive packet rates (kpps) from each VM's stats page; port 0 faces the client, port 1 the server:")
        print("  " + "second".padding(8) + names.map { $0.padding(20) }.joined())
        print("  " + "".padding(8) + names.map { _ in "rx0/tx0  rx1/tx1".padding(20) }.joined())
        var previous = names.map { b.counters($0) }
        var last = ContinuousClock.now
        for second in 1...max(1, seconds) {
            usleep(1_000_000)
            let elapsed = secondsSince(last)
            last = ContinuousClock.now
            let current = names.map { b.counters($0) }
            var row = "  " + String(second).padding(8)
            for (i, ports) in current.enumerated() {
                var cells: [String] = []
                for p in ports {
                    let before = previous[i].first { $0.port == p.port }
                    let rx = Double(p.receivedPackets - (before?.receivedPackets ?? 0)) / elapsed / 1000
                    let tx = Double(p.sentPackets - (before?.sentPackets ?? 0)) / elapsed / 1000
                    cells.append("\(format0(rx))/\(format0(tx))")
                }
                row += cells.joined(separator: " ").padding(20)
            }
            print(row)
            previous = current
        }
        let answers = (try? b.read("client", handler: "answers.count")) ?? "?"
        let requests = (try? b.read("server", handler: "requests.count")) ?? "?"
        let passed = (try? b.read("firewall", handler: "forward/passed.count")) ?? "?"
        let flows = (try? b.read("nat", handler: "nat.table_size")) ?? "?"
        print("\nThe server received \(requests) requests; the client got \(answers) answers back through the same VMs.")
        print("Firewall passed \(passed) forward packets; the NAT holds \(flows.trimmingNewline()) flows.")
        for (name, exit) in b.reap() { printError("VM \(name) \(exit)") }
    }
}

func tcpSyn(src: [UInt8], dst: [UInt8], sport: UInt16, dport: UInt16) -> [UInt8] {
    func sum(_ bytes: [UInt8], _ initial: UInt32 = 0) -> UInt16 {
        var s = initial
        var i = 0
        while i + 1 < bytes.count {
            s += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { s += UInt32(bytes[i]) << 8 }
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        return ~UInt16(s)
    }
    var tcp: [UInt8] = [UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF), 0, 0, 0, 1, 0, 0, 0, 0,
                        0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 6)
    var pseudo: UInt32 = 6 + UInt32(tcp.count)
    for k in stride(from: 0, to: 4, by: 2) {
        pseudo += UInt32(src[k]) << 8 | UInt32(src[k + 1])
        pseudo += UInt32(dst[k]) << 8 | UInt32(dst[k + 1])
    }
    let c = sum(tcp, pseudo)
    tcp[16] = UInt8(c >> 8)
    tcp[17] = UInt8(c & 0xFF)
    let total = UInt16(20 + tcp.count)
    var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0, 0, 64, 6, 0, 0] + src + dst
    let ic = sum(ip)
    ip[10] = UInt8(ic >> 8)
    ip[11] = UInt8(ic & 0xFF)
    return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00] + ip + tcp
}

/// Seconds elapsed since `start` on the monotonic clock.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func format0(_ x: Double) -> String { String(Int(x.rounded())) }
func format1(_ x: Double) -> String { String(Double(Int((x * 10).rounded())) / 10) }

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
    func trimmingNewline() -> String { hasSuffix("\n") ? String(dropLast()) : self }
}
