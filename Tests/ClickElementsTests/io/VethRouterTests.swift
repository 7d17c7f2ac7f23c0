import Foundation
import Testing

/// Benchmarks/ip-router.click (Click's IP router with ARP, FromDevice/ToDevice on AF_PACKET)
/// in a network namespace between a client and a server namespace joined by veth pairs,
/// carrying an HTTP download that must arrive byte for byte: with the veth ends' offloads
/// as Linux sets them up (the server's kernel hands the router large TCP segments with
/// unfinished checksums, which FromDevice must cut and finish, or with GSO true pass on
/// whole for ToDevice to hand back to the kernel) and with them turned off.
/// Needs root, iproute2, ethtool and python3 (CI runs as root; elsewhere skipped, saying why).
@Suite(.serialized) struct VethRouterTests {
    static var canRun: Bool {
        canMakeNamespaces && ["/usr/sbin/ethtool", "/sbin/ethtool"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The three namespaces and their veth pairs; `close()` removes them.
    struct Topology {
        let prefix: String
        var client: String { "\(prefix)c" }
        var router: String { "\(prefix)r" }
        var server: String { "\(prefix)s" }

        init(offloads: Bool, tag: String) throws {
            prefix = "cvr\(getpid() % 100_000)\(tag)"
            let (c, r, s) = (client, router, server)
            var commands = [["ip", "netns", "add", c], ["ip", "netns", "add", r], ["ip", "netns", "add", s],
                            ["ip", "link", "add", "c0", "netns", c, "type", "veth", "peer", "name", "r0", "netns", r],
                            ["ip", "link", "add", "s0", "netns", s, "type", "veth", "peer", "name", "r1", "netns", r]]
            for (ns, dev) in [(c, "c0"), (r, "r0"), (r, "r1"), (s, "s0")] {
                commands.append(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.\(dev).disable_ipv6=1"])
                commands.append(["ip", "-n", ns, "link", "set", dev, "up"])
                if !offloads { commands.append(["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off", "rx", "off"]) }
            }
            commands += [["ip", "-n", c, "link", "set", "lo", "up"], ["ip", "-n", s, "link", "set", "lo", "up"],
                         ["ip", "-n", c, "addr", "add", "10.1.0.2/24", "dev", "c0"], ["ip", "-n", c, "route", "add", "default", "via", "10.1.0.1"],
                         ["ip", "-n", s, "addr", "add", "10.2.0.2/24", "dev", "s0"], ["ip", "-n", s, "route", "add", "default", "via", "10.2.0.1"]]
            close()
            for command in commands {
                let (status, output) = try runCommand(command)
                if status != 0 {
                    close()
                    throw TopologyError(text: "\(command.joined(separator: " ")): \(output)")
                }
            }
        }

        func close() {
            for ns in [client, router, server] { _ = try? runCommand(["ip", "netns", "del", ns]) }
        }

        func mac(_ device: String) throws -> String {
            let (_, text) = try runCommand(["ip", "netns", "exec", router, "cat", "/sys/class/net/\(device)/address"])
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    struct TopologyError: Error, CustomStringConvertible { let text: String; var description: String { text } }

    static func start(_ arguments: [String], output: Pipe? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = output ?? FileHandle.nullDevice
        p.standardError = output ?? FileHandle.nullDevice
        try p.run()
        return p
    }

    /// How the router meets large segments: offloads as Linux sets them, with FromDevice
    /// cutting large segments or (GSO true) passing them on whole; or offloads off.
    enum Mode: String, CaseIterable, CustomTestStringConvertible {
        case offloadsOn = "on", largeSegmentsWhole = "gso", offloadsOff = "off"
        var testDescription: String { rawValue }
        var offloads: Bool { self != .offloadsOff }
    }

    @Test(.enabled(if: VethRouterTests.canRun, "needs root, iproute2 and ethtool for network namespaces and veth offload settings"),
          arguments: Mode.allCases)
    func anHTTPDownloadCrossesTheRouterWhole(mode: Mode) throws {
        let offloads = mode.offloads
        let net = try Topology(offloads: offloads, tag: mode.rawValue)
        defer { net.close() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("veth-router-\(net.prefix)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // 4 MB that do not compress: a TCP stream of many windows and large segments.
        var generator = SystemRandomNumberGenerator()
        let blob = Data((0..<(4 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try blob.write(to: directory.appendingPathComponent("blob"))
        let template = try String(contentsOf: repositoryRoot.appendingPathComponent("Benchmarks/ip-router.click"), encoding: .utf8)
        var configuration = template.replacingOccurrences(of: "R0_MAC", with: try net.mac("r0"))
            .replacingOccurrences(of: "R1_MAC", with: try net.mac("r1"))
        if mode == .largeSegmentsWhole {
            configuration = configuration.replacingOccurrences(of: "FromDevice(r0)", with: "FromDevice(r0, GSO true)")
                .replacingOccurrences(of: "FromDevice(r1)", with: "FromDevice(r1, GSO true)")
        }
        let configPath = directory.appendingPathComponent("router.click").path
        try configuration.write(toFile: configPath, atomically: true, encoding: .utf8)

        let serverOutput = Pipe()
        // http.server's own main looks its address up in DNS, which here goes through the
        // router to nowhere; this server skips that.
        let serve = """
            import functools, http.server, socketserver
            class Server(http.server.ThreadingHTTPServer):
                def server_bind(self):
                    socketserver.TCPServer.server_bind(self)
                    self.server_name, self.server_port = '10.2.0.2', 8080
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory='\(directory.path)')
            Server(('10.2.0.2', 8080), handler).serve_forever()
            """
        let server = try Self.start(["ip", "netns", "exec", net.server, "python3", "-c", serve], output: serverOutput)
        // SIGKILL: a child of a test thread inherits its blocked SIGTERM.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let routerOutput = Pipe()
        let router = try Self.start(["ip", "netns", "exec", net.router, clickosVMBinary, configPath,
                                     "-h", "fd0.offloads", "-h", "fd1.offloads", "-h", "fd1.count", "-h", "td0.segments_sent",
                                     "-h", "td0.drops"], output: routerOutput)
        var forwarding = false
        for _ in 0..<100 where !forwarding {
            forwarding = (try runCommand(["ip", "netns", "exec", net.client, "ping", "-c", "1", "-W", "0.2", "10.2.0.2"])).0 == 0
        }
        #expect(forwarding, "a ping crosses the router")

        let fetch = """
            import hashlib, sys, time, urllib.request
            for attempt in range(50):
                try:
                    data = urllib.request.urlopen('http://10.2.0.2:8080/blob', timeout=20).read(); break
                except OSError as e:
                    error = e; time.sleep(0.1)
            else:
                sys.exit(f'no answer from the server: {error}')
            print(len(data), hashlib.sha256(data).hexdigest())
            """
        let (status, fetched) = try runCommand(["ip", "netns", "exec", net.client, "python3", "-c", fetch])
        router.interrupt()
        let report = String(decoding: routerOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        router.waitUntilExit()

        if status != 0 {
            kill(server.processIdentifier, SIGKILL)
            Issue.record("the server said: \(String(decoding: serverOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
        #expect(status == 0, "\(fetched)")
        let digest = SHA256Digest.hex(of: blob)
        #expect(fetched.trimmingCharacters(in: .whitespacesAndNewlines) == "\(blob.count) \(digest)",
                "the download arrives byte for byte; router said: \(report)")
        // The server's side: what the kernel handed FromDevice(r1).
        let serverSide = Self.counts(in: report, after: "fd1.offloads:")
        #expect(serverSide["dropped"] == 0, "\(report)")
        let sentWhole = Self.counts(in: report, after: "td0.segments_sent:", unnamed: "sent")["sent"]
        if mode == .largeSegmentsWhole {
            #expect((serverSide["segments_passed"] ?? 0) > 0, "large segments arrived and went on whole: \(report)")
            #expect(sentWhole == serverSide["segments_passed"], "ToDevice(r0) sent every one whole: \(report)")
            #expect(serverSide["segments_cut"] == 0, "none cut while large buffers were free: \(report)")
            #expect(Self.counts(in: report, after: "td0.drops:", unnamed: "drops")["drops"] == 0, "\(report)")
        } else if offloads {
            #expect((serverSide["segments_cut"] ?? 0) > 0, "large segments arrived and were cut: \(report)")
            #expect((serverSide["packets_from_segments"] ?? 0) > (serverSide["segments_cut"] ?? 0), "\(report)")
            #expect(serverSide["segments_passed"] == 0 && sentWhole == 0, "without GSO true none goes whole: \(report)")
        } else {
            #expect(serverSide["segments_cut"] == 0, "no large segments with offloads off: \(report)")
            #expect(serverSide["checksums_finished"] == 0, "no unfinished checksums with offloads off: \(report)")
        }
    }

    /// The `name value` lines of one `-h` handler's output in the driver's report (a
    /// handler that prints one number gives it under `unnamed`).
    static func counts(in report: String, after header: String, unnamed: String? = nil) -> [String: Int] {
        var counts: [String: Int] = [:]
        var inside = false
        for line in report.split(separator: "\n") {
            if line.hasPrefix(header) { inside = true; continue }
            guard inside else { continue }
            let words = line.split(separator: " ")
            if let unnamed, words.count == 1, let value = Int(words[0]) {
                counts[unnamed] = value
                break
            }
            guard words.count == 2, let value = Int(words[1]) else { break }
            counts[String(words[0])] = value
        }
        return counts
    }
}

/// SHA-256 of test data, through sha256sum (coreutils), as hex.
enum SHA256Digest {
    static func hex(of data: Data) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        guard (try? p.run()) != nil else { return "" }
        input.fileHandleForWriting.write(data)
        try? input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return String(text.prefix { $0 != " " })
    }
}
