import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RatedSourceTests {
    @Test func ratedSourceKeepsItsRate() throws {
        let b = build("s :: RatedSource(RATE 100, LIMIT 50, STOP true) -> c :: Counter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        #expect(try r.read("c.count") == "50")
        let elapsed = seconds(r, from: start)
        #expect(elapsed > 0.45 && elapsed < 0.6, "took \(elapsed) s")
    }

    @Test func badRates() {
        #expect(build("RatedSource(RATE -1) -> Discard").log.errorMessages.contains("  RATE: invalid number"))
        #expect(build("TimedSource(0) -> Discard").log.errorMessages.contains("  INTERVAL: must be positive"))
    }
}
