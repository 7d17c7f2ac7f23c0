import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RatedSplitterTests {
    @Test func ratedSplitterCapsOutputZero() throws {
        let b = build("InfiniteSource(LIMIT 100, BURST 100, STOP true) -> s :: RatedSplitter(10) => (-> a :: Counter -> Discard), (-> o :: Counter -> Discard)")
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        let a = Int(try r.read("a.count")) ?? -1
        #expect(a >= 1 && a <= 2)
        #expect(try r.read("o.count") == String(100 - a))
    }
}
