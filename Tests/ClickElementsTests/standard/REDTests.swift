import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct REDTests {
    @Test func redDropsMoreAsTheQueueGrows() throws {
        let b = build("i :: Injector -> r :: RED(5, 20, 0.5) -> q :: Queue(1000) -> Discard(ACTIVE false)")
        let r = try #require(b.router, "\(b.log.text)")
        let inject = try #require(b.element("i", as: Injector.self))
        for _ in 0..<400 { inject.inject([[1]]) }
        let queued = Int(try r.read("q.length")) ?? -1
        let drops = Int(try r.read("r.drops")) ?? -1
        #expect(queued + drops == 400)
        // The queue grows past MIN_THRESH, then drops keep the average below MAX_THRESH plus
        // what the average lags behind.
        #expect(queued > 5 && queued < 60, "queued \(queued)")
        #expect(drops > 300)
        #expect(try r.read("r.queues") == "q")
        #expect(build("Idle -> RED(5, 2, 0.1) -> Queue -> Discard").log.text.contains("MAX_THRESH must be >= MIN_THRESH"))
        #expect(build("Idle -> RED(1, 2, 0.1) -> Discard").log.text.contains("no Queue downstream"))
    }
}
