import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct DiscardTests {
    @Test func discardCountsAndResets() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 7, STOP true) -> d :: Discard")
        let r = try #require(b.router)
        #expect(try r.read("d.count") == "7")
        try r.write("d.reset_counts", "")
        #expect(try r.read("d.count") == "0")
    }

    @Test func discardPullsInPullContext() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 4, STOP true) -> q :: Queue -> d :: Discard")
        #expect(try b.router?.read("d.count") == "4")
        #expect(try b.router?.read("q.length") == "0")
    }
}
