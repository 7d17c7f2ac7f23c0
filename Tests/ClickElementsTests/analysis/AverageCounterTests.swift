import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct AverageCounterTests {
    /// Click 2.1 prints the same counts for this configuration.
    @Test func countsPacketsAndBytesAndReports() throws {
        let (b, _) = buildAndRun("InfiniteSource(DATA \"abcdef\", LIMIT 100, STOP true) -> a :: AverageCounter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("a.count") == "100")
        #expect(try r.read("a.byte_count") == "600")
        try r.write("a.reset", "")
        #expect(try r.read("a.count") == "0")
    }
}
