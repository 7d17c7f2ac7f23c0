import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct TimedSourceTests {
    @Test func timedSourceEmitsOnePerInterval() throws {
        let b = build("TimedSource(0.25, LIMIT 4, STOP true) -> c :: Counter -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        let start = r.clock.now()
        r.run()
        #expect(try r.read("c.count") == "4")
        #expect(seconds(r, from: start) >= 1.0)
    }
}
