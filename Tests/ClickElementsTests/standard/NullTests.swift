import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct NullTests {
    @Test func passesEveryPacketUnchangedPushAndPull() throws {
        let (out, _) = try sort([[1, 2], [3]], through: "Null")
        #expect(out[0] == [[1, 2], [3]])
        let b = build("inj :: Injector -> q :: Queue -> Null -> u :: Unqueue -> c :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[9]])
        let u = try #require(b.router?.element(named: "u"))
        while u.runTask(Task(element: u)) {}
        #expect(b.element("c", as: Collector.self)?.packets == [[9]])
    }
}
