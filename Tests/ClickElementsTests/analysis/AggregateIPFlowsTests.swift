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

    @Test func idleFlowsStartOver() throws {
        let s = try ScratchFiles(["in": "!data timestamp src sport dst dport proto\n1.0 1.0.0.1 1 1.0.0.2 2 U\n1.5 1.0.0.2 2 1.0.0.1 1 U\n3.0 1.0.0.1 1 1.0.0.2 2 U\n"])
        let (b, _) = buildAndRun("FromIPSummaryDump(\(s.path("in")), STOP true, TIMING true) -> AggregateIPFlows(UDP_TIMEOUT 1) -> ToIPSummaryDump(\(s.path("out")), FIELDS aggregate link)")
        b.router?.cleanup()
        #expect(try s.dataLines("out") == ["1 0", "1 1", "2 0"])
    }
}
