import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct FromIPSummaryDumpTests {
    @Test func badLinesAreReportedOnceAndSkipped() throws {
        let s = try ScratchFiles(["in": "!data src dst\n1.0.0.1 1.0.0.2\nnot an address\nstill wrong\n1.0.0.3 1.0.0.4\n"])
        let (_, chatter) = try IPSummaryDumpFormatTests().run("FromIPSummaryDump(\(s.path("in")), STOP true) -> ToIPSummaryDump(\(s.path("out")))")
        #expect(try s.dataLines("out") == ["1.0.0.1 1.0.0.2", "1.0.0.3 1.0.0.4"])
        #expect(chatter == ["\(s.path("in")):3: bad format"])
    }

    @Test func timingReplaysAtTraceTimes() throws {
        let s = try ScratchFiles(["in": "!data timestamp src dst\n10.5 1.0.0.1 1.0.0.2\n11.0 1.0.0.1 1.0.0.2\n12.5 1.0.0.1 1.0.0.2\n"])
        let b = build("FromIPSummaryDump(\(s.path("in")), STOP true, TIMING true) -> c :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        let col = try #require(b.element("col", as: Collector.self) ?? b.element("c", as: Collector.self))
        let gaps = zip(col.arrivals.dropFirst(), col.arrivals).map { Double($0 - $1) / 1e9 }
        #expect(gaps.count == 2)
        #expect(abs(gaps[0] - 0.5) < 0.01 && abs(gaps[1] - 1.5) < 0.01, "\(gaps)")
        #expect(col.timestamps.map { $0 / 100_000_000 } == [105, 110, 125])
    }

    /// ip_len with a shorter payload: the header keeps ip_len and the rest is the
    /// EXTRA_LENGTH annotation (Click's Pad-01), so Pad restores the full length.
    @Test func ipLenBeyondThePayloadIsExtraLength() throws {
        let s = try ScratchFiles(["in": "!data ip_src ip_len payload\n1.0.0.1 50 \"HiFart\"\n1.0.0.2 - \"HiFart\"\n"])
        _ = try IPSummaryDumpFormatTests().run("""
            FromIPSummaryDump(\(s.path("in")), STOP true) -> t :: Tee -> to :: ToIPSummaryDump(\(s.path("out")), FIELDS ip_src ip_len ip_capture_len);
            t[1] -> Pad -> to
            """)
        #expect(try s.dataLines("out") == ["1.0.0.1 50 46", "1.0.0.1 50 50", "1.0.0.2 46 46", "1.0.0.2 46 46"])
    }
}
