import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct PullTeeTests {
    /// PullTee pulls from its input for output 0 and pushes a copy out of the others.
    @Test func thePulledPacketIsCopiedToThePushOutputs() throws {
        let b = build("inj :: Injector -> q :: Queue -> t :: PullTee(3); t[0] -> u :: Unqueue -> a :: Collector; t[1] -> c1 :: Collector; t[2] -> c2 :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[1, 2], [3]])
        let u = try #require(b.router?.element(named: "u"))
        while u.runTask(Task(element: u)) {}
        #expect(b.element("a", as: Collector.self)?.packets == [[1, 2], [3]])
        #expect(b.element("c1", as: Collector.self)?.packets == [[1, 2], [3]])
        #expect(b.element("c2", as: Collector.self)?.packets == [[1, 2], [3]])
    }
}
