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
        #expect(build("Idle -> RED(5, 2, 0.1) -> Queue -> Discard").log.text.contains("MIN_THRESH must be <= MAX_THRESH"))
        #expect(build("Idle -> RED(1, 2, 0.1) -> Discard").log.text.contains("no nearby Queues"))
        #expect(build("Idle -> RED(1, 2, 0.1, QUEUES x) -> Queue -> Discard; Idle -> x :: Counter -> Discard").log.text.contains("'x' is not a Storage element"))
    }

    /// Pulled, RED watches the queues upstream of it (all of them, through a scheduler), as
    /// Click's does; GENTLE false drops every packet once the average passes MAX_THRESH.
    @Test func pulledREDWatchesTheQueuesUpstream() throws {
        let b = build("Idle -> a :: Queue -> [0] s :: RoundRobinSched; Idle -> b :: Queue -> [1] s; s -> r :: RED(1, 2, 0.1) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("r.queues") == "a\nb" || r.read("r.queues") == "b\na")
        let harsh = build("i :: Injector -> r :: RED(2, 4, 0.5, GENTLE false, STABILITY 0) -> q :: Queue(1000) -> Discard(ACTIVE false)")
        let inject = try #require(harsh.element("i", as: Injector.self), "\(harsh.log.text)")
        for _ in 0..<100 { inject.inject([[1]]) }
        #expect(try harsh.router?.read("q.length") == "5")  // with STABILITY 0 the average is the length
    }
}
