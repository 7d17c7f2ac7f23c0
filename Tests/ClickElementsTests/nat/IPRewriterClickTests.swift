import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// IPRewriter behaviour checked against Click 2.1 itself: each configuration is one of
/// Click's own tests (test/IPRewriter in kohler/click), and the expected lines are what
/// Click printed for it.
@Suite struct IPRewriterClickTests {
    /// IPRewriter-09: two rewriters share one MAPPING_CAPACITY of 3 flows. New flows
    /// beyond it are refused while every flow is guaranteed; once f1's 5-second guarantee
    /// runs out, a new flow evicts it.
    @Test func sharedCapacityGuaranteesAndEviction() throws {
        let s = try ScratchFiles([
            "in": """
            !proto T
            !data timestamp link src sport dst dport tcp_seq
            .1 0 53.1.1.1 1 2.115.2.2 2 1
            .2 1 2.115.2.2 2 1.0.0.2 1024 2
            .3 2 53.1.1.1 1 2.115.2.2 2 3
            .4 2 53.1.1.2 1 2.115.2.2 2 4
            .5 2 53.1.1.3 1 2.115.2.2 2 5
            .6 1 2.115.2.2 2 1.0.0.2 1024 6
            .7 3 2.115.2.2 2 1.0.0.3 1024 7
            .8 3 2.115.2.2 2 1.0.0.3 1025 8
            .9 3 2.115.2.2 2 1.0.0.3 1026 9
            5.65 0 53.1.1.4 1 2.115.2.2 2 10
            5.66 0 53.1.1.5 1 2.115.2.2 2 11
            6.1 1 2.115.2.2 2 1.0.0.2 1024 12
            6.2 3 2.115.2.2 2 1.0.0.3 1024 13
            6.3 3 2.115.2.2 2 1.0.0.3 1025 14
            6.4 3 2.115.2.2 2 1.0.0.3 1026 15
            6.5 1 2.115.2.2 2 1.0.0.2 1025 16
            6.6 1 2.115.2.2 2 1.0.0.2 1026 17

            """,
        ])
        _ = try run("""
            rw1 :: IPRewriter(pattern 1.0.0.2 1024-65534# - - 0 1, drop, MAPPING_CAPACITY rw2);
            rw2 :: IPRewriter(pattern 1.0.0.3 1024-65534# - - 0 1, drop, MAPPING_CAPACITY 3);
            FromIPSummaryDump(\(s.path("in")), TIMING true, STOP true) -> ps :: PaintSwitch;
            td :: ToIPSummaryDump(\(s.path("out")), FIELDS link src sport dst dport tcp_seq);
            ps[0] -> [0]rw1[0] -> Paint(0) -> td;
            ps[1] -> [1]rw1[1] -> Paint(1) -> td;
            ps[2] -> [0]rw2[0] -> Paint(2) -> td;
            ps[3] -> [1]rw2[1] -> Paint(3) -> td;
            """)
        #expect(try s.dataLines("out") == [
            "0 1.0.0.2 1024 2.115.2.2 2 1", "1 2.115.2.2 2 53.1.1.1 1 2", "2 1.0.0.3 1024 2.115.2.2 2 3",
            "2 1.0.0.3 1025 2.115.2.2 2 4", "1 2.115.2.2 2 53.1.1.1 1 6", "3 2.115.2.2 2 53.1.1.1 1 7",
            "3 2.115.2.2 2 53.1.1.2 1 8", "0 1.0.0.2 1025 2.115.2.2 2 10", "3 2.115.2.2 2 53.1.1.1 1 13",
            "3 2.115.2.2 2 53.1.1.2 1 14", "1 2.115.2.2 2 53.1.1.4 1 16",
        ])
    }

    /// IPRewriter-02: patterns print as Click prints them, and bad ones are refused in its
    /// words, one line per input spec.
    @Test func patternTextAndErrors() throws {
        let b = build("""
            i :: Idle
            rw :: IPRewriter(pattern 1.0.0.1 1 - - 0 1, pattern 1.0.0.1 1-65535 - - 0 1, pattern 1.0.0.1 - - - 0 1)
            i -> [0]rw i[1] -> [1]rw i[2] -> [2]rw
            rw[0] -> i rw[1] -> i
            """)
        #expect(try b.router?.read("rw.patterns") == "1.0.0.1 1 - -\n1.0.0.1 1-65535 - -\n1.0.0.1 - - -\n")
        let bad = build("""
            i :: Idle
            rw :: IPAddrRewriter(pattern 1.0.0.1 1x - - 0 1, pattern 1.0.0.0 0-255 - - 0 1, pattern 1.0.0.0 456-19 - - 0 1, pattern 1.0.0.0 456-65536 - - 0 1)
            i -> [0]rw i[1] -> [1]rw i[2] -> [2]rw i[3] -> [3]rw
            rw[0] -> i rw[1] -> i
            """)
        #expect(bad.router == nil)
        #expect(bad.log.text.contains("  input spec 0: bad source port\n  input spec 2: bad source port\n  input spec 3: bad source port"), "\(bad.log.text)")
    }

    /// UDPRewriter-11: with RandomSeed(1), a random port is the one Click draws (55226),
    /// because the router's random numbers are the C library's, as Click's.
    @Test func seededPortChoiceIsClicks() throws {
        let s = try ScratchFiles([
            "in": """
            !proto T
            !data direction src sport dst dport tcp_seq
            > 10.0.0.1 1024 1.0.0.2 20 1
            > 10.0.0.2 1024 1.0.0.2 30 2
            > 10.0.0.3 1024 1.0.0.2 20 3

            """,
        ])
        _ = try run("""
            RandomSeed(1)
            rw1 :: UDPRewriter(pattern 1.0.0.2 1024-65534 - - 0 1, drop);
            FromIPSummaryDump(\(s.path("in")), TIMING true, STOP true) -> ps :: PaintSwitch -> [0]rw1[0] -> Paint(0)
                -> td :: ToIPSummaryDump(\(s.path("out")), FIELDS direction src sport dst dport tcp_seq);
            ps[1] -> [1]rw1[1] -> Paint(1) -> td;
            """)
        #expect(try s.dataLines("out") == ["> 1.0.0.2 1024 1.0.0.2 20 1", "> 1.0.0.2 1024 1.0.0.2 30 2", "> 1.0.0.2 55226 1.0.0.2 20 3"])
    }

    /// Found by scripts/click-differential.py: UDPRewriter keeps one table for TCP and UDP
    /// (Click's flow IDs have no protocol), so a UDP packet on a TCP flow's ports takes
    /// that flow's mapping, and a TCP flow's port is taken for UDP too. Click 2.1 printed
    /// these lines.
    @Test func udpRewriterSharesOneTableBetweenProtocols() throws {
        let s = try ScratchFiles([
            "in": "!data proto src sport dst dport\nT 10.0.0.1 1000 18.26.4.10 53\nU 10.0.0.2 1000 18.26.4.10 53\nU 10.0.0.1 1000 18.26.4.10 53\n",
        ])
        _ = try run("""
            FromIPSummaryDump(\(s.path("in")), STOP true) -> UDPRewriter(pattern 1.0.0.1 50000-50001# - - 0 0)
                -> ToIPSummaryDump(\(s.path("out")), FIELDS proto src sport dst dport)
            """)
        #expect(try s.dataLines("out") == ["T 1.0.0.1 50000 18.26.4.10 53", "U 1.0.0.1 50001 18.26.4.10 53", "U 1.0.0.1 50000 18.26.4.10 53"])
    }

    /// IPRewriter-10 (part): the table and lookups, after a pattern write replaced input 0's
    /// flows.
    @Test func tableLookupAndPatternWrite() throws {
        let b = build("""
            rw1 :: IPRewriter(pattern 1.0.0.2 1024-65534# - - 0 1, pattern 1.0.0.3 1024-65534# - - 0 1, drop);
            Idle -> [0]rw1[0] -> Discard; Idle -> [1]rw1[1] -> Discard; Idle -> [2]rw1
            """)
        let r = try #require(b.router, "\(b.log.text)")
        try r.write("rw1.pattern0", "pattern 1.0.0.4 1024-65534# - - 0 1")
        #expect(try r.read("rw1.patterns") == "1.0.0.4 1024-65534 - -\n1.0.0.3 1024-65534 - -\n<drop>\n")
        #expect(try r.read("rw1.tcp_lookup", parameter: "1.0.0.2 1024 1.0.0.3 1025") == "")
    }

    func run(_ config: String) throws -> (Built, [String]) {
        let (b, chatter) = buildAndRun(config)
        _ = try #require(b.router, "\(b.log.text)")
        b.router?.cleanup()
        return (b, chatter)
    }
}
