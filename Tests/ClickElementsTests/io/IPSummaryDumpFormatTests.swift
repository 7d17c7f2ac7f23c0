import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// FromIPSummaryDump and ToIPSummaryDump: the text trace format Click's own NAT and
/// analysis tests are written in.
@Suite struct IPSummaryDumpFormatTests {
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
        let s = try ScratchFiles(["in": "!data timestamp link src sport dst dport proto tcp_seq tcp_flags payload\n" + lines.joined(separator: "\n") + "\n"])
        let fields = "timestamp link src sport dst dport proto tcp_seq tcp_flags payload"
        let (b, _) = try run("FromIPSummaryDump(\(s.path("in")), STOP true) -> t :: ToIPSummaryDump(\(s.path("out")), FIELDS \(fields))")
        #expect(try s.dataLines("out") == lines)
        #expect(try b.router?.read("t.count") == "3")
        let header = try s.text("out").split(separator: "\n").prefix(2)
        #expect(header == ["!IPSummaryDump 1.3", "!data timestamp link ip_src sport ip_dst dport ip_proto tcp_seq tcp_flags payload"])
    }

    @Test func icmpNamesAndProtoHeader() throws {
        let s = try ScratchFiles(["in": "!data src dst icmp_type icmp_flowid icmp_seq\n!proto I\n18.26.4.44 10.0.0.4 echo 7 1\n10.0.0.4 18.26.4.44 echo-reply 7 1\n"])
        _ = try run("FromIPSummaryDump(\(s.path("in")), STOP true, CHECKSUM true) -> CheckICMPHeader -> ToIPSummaryDump(\(s.path("out")), FIELDS src dst proto icmp_type_name icmp_type icmp_flowid icmp_seq sport)")
        #expect(try s.dataLines("out") == ["18.26.4.44 10.0.0.4 I echo 8 7 1 -", "10.0.0.4 18.26.4.44 I echo-reply 0 7 1 -"])
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

    /// The NAT both ways, written as Click's rewriter tests are: a pattern that maps
    /// outgoing flows to 1.0.0.1 and ports from 1024, replies mapped back.
    @Test func rewriterThroughSummaryDumps() throws {
        let s = try ScratchFiles([
            "out": "!data src sport dst dport proto\n192.168.1.10 3000 8.8.8.8 53 U\n192.168.1.10 3000 8.8.8.8 53 U\n192.168.1.11 3000 8.8.4.4 53 U\n",
            "back": "!data src sport dst dport proto\n8.8.8.8 53 1.0.0.1 1024 U\n8.8.4.4 53 1.0.0.1 1025 U\n8.8.4.4 53 1.0.0.1 1026 U\n",
        ])
        _ = try run("""
            rw :: UDPRewriter(pattern 1.0.0.1 1024-65535# - - 0 1, drop)
            FromIPSummaryDump(\(s.path("out")), STOP true) -> [0] rw [0] -> ToIPSummaryDump(\(s.path("o1")), FIELDS src sport dst dport proto)
            back :: FromIPSummaryDump(\(s.path("back")), STOP true, ACTIVE false) -> [1] rw [1] -> ToIPSummaryDump(\(s.path("o2")), FIELDS src sport dst dport proto)
            // The replies start once every outgoing packet went: each source sends one
            // packet per task run, as Click's, so two running at once interleave.
            DriverManager(pause, write back.active true, pause)
            """)
        #expect(try s.dataLines("o1") == ["1.0.0.1 1024 8.8.8.8 53 U", "1.0.0.1 1024 8.8.8.8 53 U", "1.0.0.1 1025 8.8.4.4 53 U"])
        // The third reply matches no mapping and is dropped.
        #expect(try s.dataLines("o2") == ["8.8.8.8 53 192.168.1.10 3000 U", "8.8.4.4 53 192.168.1.11 3000 U"])
    }
}
