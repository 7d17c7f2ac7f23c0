import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct UnqueueTests {
    @Test func movesBurstPacketsPerRunAndCounts() throws {
        let b = build("inj :: Injector -> q :: Queue -> u :: Unqueue(BURST 2) -> c :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1], [2], [3]])
        let u = try #require(b.router?.element(named: "u"))
        #expect(u.runTask(Task(element: u)))
        #expect(b.element("c", as: Collector.self)?.packets == [[1], [2]])
        _ = u.runTask(Task(element: u))
        #expect(b.element("c", as: Collector.self)?.packets == [[1], [2], [3]])
        #expect(try b.router?.read("u.count") == "3")
    }

    @Test func anInactiveUnqueueMovesNothing() throws {
        let b = build("inj :: Injector -> q :: Queue -> u :: Unqueue(ACTIVE false) -> c :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1]])
        let u = try #require(b.router?.element(named: "u"))
        _ = u.runTask(Task(element: u))
        #expect(b.element("c", as: Collector.self)?.packets == [])
        #expect(try b.router?.read("q.length") == "1")
    }
}
