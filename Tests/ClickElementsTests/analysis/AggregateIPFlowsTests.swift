import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// AggregateIPFlows, checked through summary dumps.
@Suite struct AggregateIPFlowsTests {
    @Test func numbersFlowsAndPaintsDirections() throws {
        let s = try ScratchFiles(["in": """
            !data src sport dst dport proto
            10.0.0.1 1000 10.0.0.2 80 T
            10.0.0.2 80 10.0.0.1 1000 T
            10.0.0.3 5 10.0.0.4 53 U
            10.0.0.1 1000 10.0.0.2 80 T
            10.0.0.1 - 10.0.0.2 - I

            """])
        let (b, _) = buildAndRun("FromIPSummaryDump(\(s.path("in")), STOP true) -> a :: AggregateIPFlows -> ToIPSummaryDump(\(s.path("out")), FIELDS aggregate link src sport) ; a [1] -> o :: Counter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        r.cleanup()
        #expect(try s.dataLines("out") == ["1 0 10.0.0.1 1000", "1 1 10.0.0.2 80", "2 0 10.0.0.3 5", "1 0 10.0.0.1 1000"])
        #expect(try r.read("o.count") == "1")
        #expect(try r.read("a.count") == "2")
    }

    /// Click's AggregateIPFlows-01: later fragments arriving before their first fragment
    /// are held, in order, and learn their flow from it (by IP ID); `clear` lets them out.
    /// A later fragment whose first never comes is dropped; pulled, FRAGMENTS true is refused.
    @Test func fragmentsLearnTheirFlowInOrder() throws {
        let s = try ScratchFiles(["in": """
            !data src sport dst dport proto ip_id ip_fragoff ip_len
            18.26.4.44 30 10.0.0.4 40 U 1 0 100
            18.26.4.44 41 18.26.4.44 30 U 4 0 100
            18.26.4.44 41 18.26.4.44 30 U 5 24 80
            18.26.4.44 30 18.26.4.44 41 U 6 24 84
            18.26.4.44 41 18.26.4.44 30 U 5 0+ 24
            18.26.4.44 41 18.26.4.44 30 U 7 24 50

            """])
        let (b, _) = buildAndRun("""
            FromIPSummaryDump(\(s.path("in")), STOP true, ZERO true) -> SetTimestamp -> a :: AggregateIPFlows
                -> ToIPSummaryDump(\(s.path("out")), FIELDS aggregate link ip_len ip_id);
            DriverManager(pause, write a.clear, stop)
            """)
        try #require(b.router, "\(b.log.text)").cleanup()
        #expect(try s.dataLines("out") == ["1 0 100 1", "2 0 100 4", "2 0 80 5", "2 0 24 5"])
        #expect(build("Idle -> Queue -> AggregateIPFlows(FRAGMENTS true) -> Discard").log.text
            .contains("'FRAGMENTS true' is incompatible with pull"))
    }

    @Test func idleFlowsStartOver() throws {
        let s = try ScratchFiles(["in": "!data timestamp src sport dst dport proto\n1.0 1.0.0.1 1 1.0.0.2 2 U\n1.5 1.0.0.2 2 1.0.0.1 1 U\n3.0 1.0.0.1 1 1.0.0.2 2 U\n"])
        let (b, _) = buildAndRun("FromIPSummaryDump(\(s.path("in")), STOP true, TIMING true) -> AggregateIPFlows(UDP_TIMEOUT 1) -> ToIPSummaryDump(\(s.path("out")), FIELDS aggregate link)")
        b.router?.cleanup()
        #expect(try s.dataLines("out") == ["1 0", "1 1", "2 0"])
    }
}
