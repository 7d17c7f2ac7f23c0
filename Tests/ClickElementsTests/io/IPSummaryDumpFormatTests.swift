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

    /// IP and TCP options in their text forms, read and written back, and payload digests;
    /// every expected line is Click 2.1's output for the same configuration and trace.
    @Test func optionsAndDigestsAsClickWritesThem() throws {
        let s = try ScratchFiles(["in": """
            !data src proto payload ip_opt tcp_opt ip_frag ip_fragoff
            1.0.0.1 T "hello" rr{1.2.3.4,^5.6.7.8}+2 mss1460;sackok;ts5:6;wscale7 . .
            1.0.0.1 U "hello" ts.ip{1.2.3.4=5,^6.7.8.9=!7}++3 - . .
            1.0.0.1 T "hellohello" nop;nop;148=1:2 sack1-2,sack3-4;99=5 F 0+
            1.0.0.1 T "frag" ts{1,2,^}+1 . f 16
            1.0.0.1 47 "gre" ts.preip{1.2.3.4=5,^6.7.8.9} nop;eol . .
            1.0.0.1 T "x" bogus mss99999 . .
            1.0.0.1 I "hello world" . - . .

            """])
        _ = try run("FromIPSummaryDump(\(s.path("in")), STOP true, CHECKSUM true) -> ToIPSummaryDump(\(s.path("out")), FIELDS proto payload payload_len payload_md5 payload_md5_hex ip_opt tcp_opt tcp_ntopt tcp_sack ip_hl tcp_off)")
        #expect(try s.dataLines("out") == [
            "T \"hello\" 5 DfeqQW7sQyxUX1zKqCrXsc 5d41402abc4b2a76b9719d911017c592 rr{1.2.3.4}+3 mss1460;sackok;ts5:6;wscale7 mss1460;sackok;wscale7 sackok 40 40",
            "U \"hello\" 5 DfeqQW7sQyxUX1zKqCrXsc 5d41402abc4b2a76b9719d911017c592 ts.ip{1.2.3.4=5}+1++3 - - - 40 -",
            "T \"hellohello\" 10 JqBmS6pTEub1MDDxOlcm8b 23b431acfeb41e15d466d75de822307c 148=1:2 sack1-2;sack3-4;99=5 sack1-2;sack3-4;99=5 sack1-2;sack3-4 28 44",
            "T \"frag\" 4 d9mddjmUNaLT1zO@vz5DHc 43cf0c43c2b82750b67586fe559677a1 ts{1,2}+1 - - - 36 -",
            "47 \"gre\" 3 sWev18voV1WgpuwpqmfqZc 124c54355f396f0d1b0f653d105340b3 ts.preip{1.2.3.4=5^6.7.8.9} - - - 40 -",
            "T \"x\" 1 Dsn5HzcJast9iBLtvW1zMc 9dd4e461268c8034f5c8564e155c67a6 . . . . 20 20",
            // The ICMP header is payload: the payload replaces it (and takes its checksum).
            "I \"he\\332\\235o world\" 11 todPHDH_gvoF1Bq2vIWerc 9333a46117fa46e57cf506d995081391 . - - - 20 -",
        ])
    }

    /// Options cut off by a short capture are unknown (`-`), as in Click's IPSummaryDump-01.
    @Test func truncatedOptionsAreMissing() throws {
        let s = try ScratchFiles(["in": "!data sport dport tcp_urp tcp_opt\n1 2 3 wscale10\n2 3 4 wscale10\n3 4 5 wscale10\n"])
        _ = try run("""
            FromIPSummaryDump(\(s.path("in")), STOP true, ZERO true) -> s :: RoundRobinSwitch -> t :: ToIPSummaryDump(\(s.path("out")), FIELDS sport dport tcp_urp tcp_opt)
            s[1] -> Truncate(41) -> t
            s[2] -> Truncate(23) -> t
            """)
        #expect(try s.dataLines("out") == ["1 2 3 wscale10", "2 3 4 -", "3 - - -"])
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
