import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// FTPPortMapper with TCPRewriter's sequence-number shifts; every expected line is Click
/// 2.1's output for the same configuration and trace.
@Suite struct FTPPortMapperTests {
    func run(_ config: String) throws -> (Built, [String]) {
        let (b, chatter) = buildAndRun(config)
        _ = try #require(b.router, "\(b.log.text)")
        return (b, chatter)
    }

    /// Click's TCPRewriter-01: a PORT command 12 bytes shorter after mapping; later
    /// segments move back 12, acknowledgements and SACK blocks forward 12.
    @Test func clicksTCPRewriter01() throws {
        let s = try ScratchFiles(["in": """
            !data src sport dst dport proto tcp_seq tcp_ack payload tcp_opt
            200.200.200.200 30 2.0.0.2 21 T 0 0 "x" .
            200.200.200.200 30 2.0.0.2 21 T 1 0 "PORT 200,200,200,200,200,200\\n" .
            200.200.200.200 30 2.0.0.2 21 T 30 0 "fubar\\n" .
            2.0.0.2 21 1.0.0.1 1024 T 0 0 "" .
            2.0.0.2 21 1.0.0.1 1024 T 0 1 "" .
            2.0.0.2 21 1.0.0.1 1024 T 0 18 "" .
            2.0.0.2 21 1.0.0.1 1024 T 0 0 "" sack1:18
            2.0.0.2 21 1.0.0.1 1024 T 0 0 "" sack1:10
            2.0.0.2 21 1.0.0.1 1024 T 0 0 "" sack1-10;sack1-18;sack18-20

            """])
        let (b, _) = try run("""
            IPRewriterPatterns(pat 1.0.0.1 1024-65535# - -)
            rw :: TCPRewriter(pattern pat 0 0)
            FromIPSummaryDump(\(s.path("in")), STOP true, CHECKSUM true)
                -> CheckIPHeader(VERBOSE true) -> CheckTCPHeader(VERBOSE true)
                -> FTPPortMapper(rw, rw, 0)
                -> [0]rw[0]
                -> CheckIPHeader(VERBOSE true) -> CheckTCPHeader(VERBOSE true)
                -> ToIPSummaryDump(\(s.path("out")), FIELDS src sport dst dport proto tcp_seq tcp_ack payload tcp_opt)
            """)
        b.router?.cleanup()
        #expect(try s.dataLines("out") == [
            "1.0.0.1 1024 2.0.0.2 21 T 0 0 \"x\" .",
            "1.0.0.1 1024 2.0.0.2 21 T 1 0 \"PORT 1,0,0,1,4,1\\n\" .",
            "1.0.0.1 1024 2.0.0.2 21 T 18 0 \"fubar\\n\" .",
            "2.0.0.2 21 200.200.200.200 30 T 0 0 \"\" .",
            "2.0.0.2 21 200.200.200.200 30 T 0 1 \"\" .",
            "2.0.0.2 21 200.200.200.200 30 T 0 30 \"\" .",
            "2.0.0.2 21 200.200.200.200 30 T 0 0 \"\" sack1-30",
            "2.0.0.2 21 200.200.200.200 30 T 0 0 \"\" sack1-10",
            "2.0.0.2 21 200.200.200.200 30 T 0 0 \"\" sack1-10;sack1-30;sack30-32",
        ])
    }

    /// A separate data rewriter; commands that grow, case-insensitive `port`, a command
    /// followed by another, and commands that do not parse (left alone); the table shows
    /// the total shift.
    @Test func growingCommandsAndDataRewriter() throws {
        let s = try ScratchFiles(["in": """
            !data src sport dst dport proto tcp_seq tcp_ack payload tcp_opt
            10.0.0.5 4000 2.0.0.2 21 T 100 0 "USER x\\r\\n" .
            10.0.0.5 4000 2.0.0.2 21 T 108 0 "port 10,0,0,5,0,21\\r\\n" .
            2.0.0.2 21 1.0.0.1 1024 T 0 128 "" .
            10.0.0.5 4000 2.0.0.2 21 T 128 0 "PORT  10,0,0,5,1,1\\nNOOP\\r\\n" .
            2.0.0.2 21 1.0.0.1 1024 T 0 152 "" sack100-128,sack130-152
            10.0.0.5 4000 2.0.0.2 21 T 152 0 "PORT 10,0,0,5,7,2090\\r\\n" .
            10.0.0.5 4000 2.0.0.2 21 T 174 0 "PORT 10,0,0,5,7\\r\\n" .
            10.0.0.5 4000 2.0.0.2 21 T 191 0 "PORT 10,0,0,5,300,1\\r\\n" .
            2.0.0.2 21 1.0.0.1 1024 T 0 212 "" nop;nop;ts1:2;sack100-212

            """])
        let (b, _) = try run("""
            IPRewriterPatterns(pat 1.0.0.1 1024-65535# - -)
            rw :: TCPRewriter(pattern pat 0 0)
            data :: IPRewriter(pattern 9.9.9.9 50000-59999# - - 0 1)
            FromIPSummaryDump(\(s.path("in")), STOP true, CHECKSUM true)
                -> CheckIPHeader(VERBOSE true) -> CheckTCPHeader(VERBOSE true)
                -> FTPPortMapper(rw, data, 0)
                -> [0]rw[0]
                -> CheckIPHeader(VERBOSE true) -> CheckTCPHeader(VERBOSE true)
                -> ToIPSummaryDump(\(s.path("out")), FIELDS src sport dst dport tcp_seq tcp_ack payload tcp_opt)
            Idle -> data -> Discard; data[1] -> Discard
            """)
        b.router?.cleanup()
        #expect(try s.dataLines("out") == [
            "1.0.0.1 1024 2.0.0.2 21 100 0 \"USER x\\r\\n\" .",
            "1.0.0.1 1024 2.0.0.2 21 108 0 \"port 9,9,9,9,195,80\\r\\n\" .",
            "2.0.0.2 21 10.0.0.5 4000 0 128 \"\" .",
            "1.0.0.1 1024 2.0.0.2 21 129 0 \"PORT  9,9,9,9,195,81\\nNOOP\\r\\n\" .",
            "2.0.0.2 21 10.0.0.5 4000 0 151 \"\" sack100-128;sack129-151",
            "1.0.0.1 1024 2.0.0.2 21 153 0 \"PORT 10,0,0,5,7,2090\\r\\n\" .",
            "1.0.0.1 1024 2.0.0.2 21 177 0 \"PORT 10,0,0,5,7\\r\\n\" .",
            "1.0.0.1 1024 2.0.0.2 21 194 0 \"PORT 10,0,0,5,300,1\\r\\n\" .",
            "2.0.0.2 21 10.0.0.5 4000 0 209 \"\" ts1:2;sack100-209",
        ])
        // Click lists the same two lines (in its hash table's order).
        let table = Set(try #require(try b.router?.read("rw.table")).split(separator: "\n").map(String.init))
        #expect(table == [
            "(2.0.0.2, 21, 1.0.0.1, 1024) => (2.0.0.2, 21, 10.0.0.5, 4000) [0 *0] i0 exp300",
            "(10.0.0.5, 4000, 2.0.0.2, 21) => (1.0.0.1, 1024, 2.0.0.2, 21) seq +3 [*0 0] i0 exp300",
        ])
        #expect(try b.router?.read("data.table_size") == "2")
    }

    @Test func configurationErrorsAsClicks() {
        for (config, message) in [
            ("rw :: UDPRewriter(drop); Idle -> FTPPortMapper(rw, rw, 0) -> rw -> Discard", "CONTROL_REWRITER: element type mismatch, expected TCPRewriter"),
            ("rw :: TCPRewriter(drop); Idle -> FTPPortMapper(rw, nope, 0) -> rw -> Discard", "DATA_REWRITER: does not name an element"),
            ("rw :: TCPRewriter(drop); Idle -> FTPPortMapper(rw, rw, 1) -> rw -> Discard", "DATA_REWRITER_INPUT out of range"),
            ("rw :: TCPRewriter(drop); Idle -> FTPPortMapper(rw, rw) -> rw -> Discard", "DATA_REWRITER_INPUT: required argument missing"),
        ] {
            let b = build(config)
            #expect(b.router == nil)
            #expect(b.log.text.contains(message), "\(b.log.text)")
        }
        let b = build("rw :: TCPRewriter(drop); Idle -> FTPPortMapper(rw, rw, 0) -> Discard; Idle -> rw -> Discard")
        #expect(b.router != nil)
        #expect(b.chatter.joined(separator: "\n").contains("warning: control packet rewriter 'rw :: TCPRewriter' is not downstream"), "\(b.chatter)")
        #expect(build("rw :: TCPRewriter(drop); Idle -> FTPPortMapper(rw, rw, 0) -> rw -> Discard").chatter.isEmpty)
    }
}
