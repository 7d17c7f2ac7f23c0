import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// FromIPSummaryDump and ToIPSummaryDump: the text trace format Click's own NAT and
/// analysis tests are written in.
@Suite struct IPSummaryDumpFormatTests {
    /// A scratch directory with the given files; removed by `done`.
    final class Scratch {
        let dir: String
        init(_ files: [String: String]) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("clickos-ipsum-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, text) in files { try text.write(toFile: path(name), atomically: true, encoding: .utf8) }
        }
        func path(_ name: String) -> String { "\(dir)/\(name)" }
        /// The data lines of a written dump (header lines starting with `!` dropped).
        func dataLines(_ name: String) throws -> [String] {
            try String(contentsOfFile: path(name), encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.hasPrefix("!") }
        }
        func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }
        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    func run(_ config: String) throws -> (Built, [String]) {
        let (b, chatter) = buildAndRun(config)
        _ = try #require(b.router, "\(b.log.text)")
        b.router?.cleanup()
        return (b, chatter)
    }

    @Test func roundTripKeepsEveryField() throws {
        let lines = [
            "1.000001 0 10.0.0.1 1234 10.0.0.2 80 T 1000 S \"\"",
            "1.500000 1 10.0.0.2 80 10.0.0.1 1234 T 5000 SA \"hi\\000there\"",
            "2.000000 0 10.0.0.1 5353 224.0.0.251 5353 U - - \"x y\"",
        ]
        let s = try Scratch(["in": "!data timestamp link src sport dst dport proto tcp_seq tcp_flags payload\n" + lines.joined(separator: "\n") + "\n"])
        let fields = "timestamp link src sport dst dport proto tcp_seq tcp_flags payload"
        let (b, _) = try run("FromIPSummaryDump(\(s.path("in")), STOP true) -> t :: ToIPSummaryDump(\(s.path("out")), FIELDS \(fields))")
        #expect(try s.dataLines("out") == lines)
        #expect(try b.router?.read("t.count") == "3")
        let header = try s.text("out").split(separator: "\n").prefix(2)
        #expect(header == ["!IPSummaryDump 1.3", "!data timestamp link ip_src sport ip_dst dport ip_proto tcp_seq tcp_flags payload"])
    }

    @Test func lengthsBeyondTheHeadersBecomeExtraLength() throws {
        let s = try Scratch(["in": "!data src dst proto len\n1.0.0.1 1.0.0.2 U 1500\n1.0.0.1 1.0.0.2 T 40\n"])
        _ = try run("FromIPSummaryDump(\(s.path("in")), STOP true) -> ToIPSummaryDump(\(s.path("out")), FIELDS len wire_len ip_capture_len payload_len udp_len)")
        #expect(try s.dataLines("out") == ["1500 1500 28 1472 1480", "40 40 40 0 -"])
    }

    @Test func checksumsAreSetOnRequest() throws {
        let s = try Scratch(["in": "!data src sport dst dport proto payload\n10.0.0.1 1 10.0.0.2 2 T \"abc\"\n10.0.0.1 1 10.0.0.2 2 U \"abcd\"\n"])
        let (b, _) = try run("""
            FromIPSummaryDump(\(s.path("in")), STOP true, CHECKSUM true) -> CheckIPHeader -> c :: IPClassifier(tcp, udp)
            c[0] -> CheckTCPHeader -> tcp :: Counter -> Discard; c[1] -> CheckUDPHeader -> udp :: Counter -> Discard
            """)
        #expect(try b.router?.read("tcp.count") == "1")
        #expect(try b.router?.read("udp.count") == "1")
        let (n, _) = try run("FromIPSummaryDump(\(s.path("in")), STOP true) -> CheckIPHeader -> ok :: Counter -> Discard")
        #expect(try n.router?.read("ok.count") == "0")
    }

    @Test func icmpNamesAndProtoHeader() throws {
        let s = try Scratch(["in": "!data src dst icmp_type icmp_flowid icmp_seq\n!proto I\n18.26.4.44 10.0.0.4 echo 7 1\n10.0.0.4 18.26.4.44 echo-reply 7 1\n"])
        _ = try run("FromIPSummaryDump(\(s.path("in")), STOP true, CHECKSUM true) -> CheckICMPHeader -> ToIPSummaryDump(\(s.path("out")), FIELDS src dst proto icmp_type_name icmp_type icmp_flowid icmp_seq sport)")
        #expect(try s.dataLines("out") == ["18.26.4.44 10.0.0.4 I echo 8 7 1 -", "10.0.0.4 18.26.4.44 I echo-reply 0 7 1 -"])
    }

    @Test func badLinesAreReportedOnceAndSkipped() throws {
        let s = try Scratch(["in": "!data src dst\n1.0.0.1 1.0.0.2\nnot an address\nstill wrong\n1.0.0.3 1.0.0.4\n"])
        let (_, chatter) = try run("FromIPSummaryDump(\(s.path("in")), STOP true) -> ToIPSummaryDump(\(s.path("out")))")
        #expect(try s.dataLines("out") == ["1.0.0.1 1.0.0.2", "1.0.0.3 1.0.0.4"])
        #expect(chatter == ["\(s.path("in")):3: bad format"])
    }

    @Test func configurationErrors() {
        let bad = build("Idle -> ToIPSummaryDump(/dev/null, FIELDS src bogus)")
        #expect(bad.router == nil)
        #expect(bad.log.text.contains("FIELDS: unknown content type 'bogus'"), "\(bad.log.text)")
        let missing = build("FromIPSummaryDump(/nonexistent/trace) -> Discard")
        #expect(missing.router == nil)
        #expect(missing.log.text.contains("/nonexistent/trace: No such file or directory"), "\(missing.log.text)")
        #expect(build("FromIPSummaryDump(/nonexistent/trace, ALLOW_NONEXISTENT true, STOP true) -> Discard").router != nil)
    }

    @Test func timingReplaysAtTraceTimes() throws {
        let s = try Scratch(["in": "!data timestamp src dst\n10.5 1.0.0.1 1.0.0.2\n11.0 1.0.0.1 1.0.0.2\n12.5 1.0.0.1 1.0.0.2\n"])
        let b = build("FromIPSummaryDump(\(s.path("in")), STOP true, TIMING true) -> c :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        let col = try #require(b.element("col", as: Collector.self) ?? b.element("c", as: Collector.self))
        let gaps = zip(col.arrivals.dropFirst(), col.arrivals).map { Double($0 - $1) / 1e9 }
        #expect(gaps.count == 2)
        #expect(abs(gaps[0] - 0.5) < 0.01 && abs(gaps[1] - 1.5) < 0.01, "\(gaps)")
        #expect(col.timestamps.map { $0 / 100_000_000 } == [105, 110, 125])
    }

    /// The NAT both ways, written as Click's rewriter tests are: a pattern that maps
    /// outgoing flows to 1.0.0.1 and ports from 1024, replies mapped back.
    @Test func rewriterThroughSummaryDumps() throws {
        let s = try Scratch([
            "out": "!data src sport dst dport proto\n192.168.1.10 3000 8.8.8.8 53 U\n192.168.1.10 3000 8.8.8.8 53 U\n192.168.1.11 3000 8.8.4.4 53 U\n",
            "back": "!data src sport dst dport proto\n8.8.8.8 53 1.0.0.1 1024 U\n8.8.4.4 53 1.0.0.1 1025 U\n8.8.4.4 53 1.0.0.1 1026 U\n",
        ])
        _ = try run("""
            rw :: UDPRewriter(pattern 1.0.0.1 1024-65535# - - 0 1, drop)
            FromIPSummaryDump(\(s.path("out")), STOP true) -> [0] rw [0] -> ToIPSummaryDump(\(s.path("o1")), FIELDS src sport dst dport proto)
            FromIPSummaryDump(\(s.path("back")), STOP true) -> [1] rw [1] -> ToIPSummaryDump(\(s.path("o2")), FIELDS src sport dst dport proto)
            """)
        #expect(try s.dataLines("o1") == ["1.0.0.1 1024 8.8.8.8 53 U", "1.0.0.1 1024 8.8.8.8 53 U", "1.0.0.1 1025 8.8.4.4 53 U"])
        // The third reply matches no mapping and is dropped.
        #expect(try s.dataLines("o2") == ["8.8.8.8 53 192.168.1.10 3000 U", "8.8.4.4 53 192.168.1.11 3000 U"])
    }
}
