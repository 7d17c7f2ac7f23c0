import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct AggregateCounterTests {
    /// Click's AggregateCounter-01 and its file forms: counts per aggregate in increasing
    /// order, as text, IP addresses and fractions.
    @Test func countsPerAggregateAndWritesFiles() throws {
        let s = try ScratchFiles(["in": "!data aggregate\n1\n1\n0\n0\n0\n2\n3\n2\n"])
        let (b, _) = buildAndRun("""
            FromIPSummaryDump(\(s.path("in")), STOP true, ZERO true) -> a :: AggregateCounter -> Discard;
            DriverManager(pause, write a.write_text_file \(s.path("text")), write a.write_ip_file \(s.path("ip")),
                          write a.write_pdf_file \(s.path("pdf")), write a.write_file \(s.path("bin")), stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try s.text("text") == "!IPAggregate 1.0\n!num_nonzero 4\n0 3\n1 2\n2 2\n3 1\n")
        #expect(try s.dataLines("ip") == ["0.0.0.0 3", "0.0.0.1 2", "0.0.0.2 2", "0.0.0.3 1"])
        #expect(try s.dataLines("pdf") == ["0 0.375", "1 0.25", "2 0.25", "3 0.125"])
        let binary = try #require(FileManager.default.contents(atPath: s.path("bin")))
        #expect(binary.count == "!IPAggregate 1.0\n!num_nonzero 4\n!packed_le\n".utf8.count + 32)
        #expect(Array(binary.suffix(8)) == [3, 0, 0, 0, 1, 0, 0, 0])
        #expect(try r.read("a.nagg") == "4")
        #expect(try r.read("a.count") == "8")
    }

    /// AGGREGATE_STOP: the third aggregate stops the driver at once (a DriverManager's next
    /// step runs before the source sends another packet, as in Click); frozen counters
    /// count only aggregates they have; bad keyword mixes are refused.
    @Test func stopsFreezesAndRefuses() throws {
        let s = try ScratchFiles(["in": "!data aggregate\n1\n1\n0\n0\n0\n2\n3\n2\n"])
        let (b, _) = buildAndRun("""
            FromIPSummaryDump(\(s.path("in")), STOP true, ZERO true) -> a :: AggregateCounter(AGGREGATE_STOP 2) -> c :: Counter -> Discard;
            DriverManager(pause, stop)
            """)
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("c.count") == "6")
        #expect(try r.read("a.nagg") == "2")
        #expect(try r.read("a.active") == "false")
        let (frozen, _) = buildAndRun("FromIPSummaryDump(\(s.path("in")), STOP true) -> a :: AggregateCounter(COUNT_FREEZE 3) -> Discard")
        #expect(try frozen.router?.read("a.count") == "5")   // 1 1 0, then the two 0s; 2 and 3 are new
        #expect(try frozen.router?.read("a.freeze") == "true")
        #expect(build("Idle -> AggregateCounter(AGGREGATE_STOP 1, AGGREGATE_FREEZE 2) -> Discard").log.text
            .contains("'AGGREGATE_FREEZE', 'AGGREGATE_STOP', and 'AGGREGATE_CALL' are mutually exclusive"))
        #expect(build("Idle -> AggregateCounter(COUNT_CALL x y) -> Discard").log.text.contains("COUNT_CALL first word should be unsigned (count)"))
    }
}
