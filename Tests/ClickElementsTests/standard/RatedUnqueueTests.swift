import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RatedUnqueueTests {
    @Test func ratedUnqueuePacesAQueue() throws {
        let b = build("InfiniteSource(LIMIT 40) -> q :: Queue -> RatedUnqueue(20, BURST_SIZE 1) -> c :: Counter(COUNT_CALL 40 stop) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        #expect(try r.read("c.count") == "40")
        let elapsed = seconds(r, from: start)
        #expect(elapsed > 1.8 && elapsed < 2.3, "took \(elapsed) s")
    }
}
