import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RoundRobinIPMapperTests {
    /// New flows take the patterns in turn, a known flow keeps its own: the destinations Click
    /// 2.1 chooses for the same trace.
    @Test func clickAgreesNewFlowsTakeThePatternsInTurn() throws {
        let s = try ScratchFiles(["in": """
            !data src sport dst dport proto
            10.0.0.1 1000 10.0.0.2 53 U
            10.0.0.1 1001 10.0.0.2 53 U
            10.0.0.1 1002 10.0.0.2 53 U
            10.0.0.3 1000 10.0.0.2 53 U
            10.0.0.1 1000 10.0.0.2 53 U

            """])
        _ = try IPSummaryDumpFormatTests().run("""
            FromIPSummaryDump(\(s.path("in")), STOP true) -> rw :: IPRewriter(m, drop);
            m :: RoundRobinIPMapper(- - 1.0.0.1 80 0 1, - - 1.0.0.2 80 0 1);
            rw[0] -> ToIPSummaryDump(\(s.path("out")), FIELDS src sport dst dport) -> Discard; rw[1] -> Discard; Idle -> [1] rw
            """)
        #expect(try s.dataLines("out") == [
            "10.0.0.1 1000 1.0.0.1 80", "10.0.0.1 1001 1.0.0.2 80", "10.0.0.1 1002 1.0.0.1 80",
            "10.0.0.3 1000 1.0.0.2 80", "10.0.0.1 1000 1.0.0.1 80",
        ])
    }
}
